// The first-screen cases, in the page: a board rendered from the view cache before the CRDT
// is live, then from the live doc (`first-screen.test.js` checks it, `first-screen.bench.js`
// times it). Like cases.js, each export of `cases` is an async function that throws on
// failure; they take one plain argument (URLs, tokens, ids) from the Node side.

import { init, MemoryStore, SyncClient } from "cardsync";
import { boardSchema as schema } from "../fixtures.js";
import { ok } from "./check.js";

await init();

/** How many cards of each list the board shows. */
const SHOWN = 50;

/** Renders the first `SHOWN` cards of every sequence and column of `view` into `#board`. */
export function render(view) {
  const board = document.getElementById("board");
  const lists = [
    ...Object.entries(view.sequences).map(([id, ids]) => [`sequence ${id}`, ids]),
    ...Object.values(view.boards).flatMap((b) => b.columns.map((c) => [`column ${c.name}`, c.cards])),
  ];
  const html = [];
  for (const [name, ids] of lists) {
    html.push(`<section data-list="${name}"><ol>`);
    for (const id of ids.slice(0, SHOWN)) {
      const card = view.cards[id];
      if (card) html.push(`<li data-id="${id}">${escape(String(card.fields.title ?? ""))}</li>`);
    }
    html.push("</ol></section>");
  }
  board.innerHTML = html.join("");
}

const escape = (text) => text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** The card ids the board shows, in order. */
const shownIds = () => [...document.querySelectorAll("#board li")].map((li) => li.dataset.id);

let client;

/** Opens the document `name` at `url`, rendering the first screen and every view change. */
async function open({ url, token, name, viewCache = true }) {
  document.getElementById("board").innerHTML = "";
  let first;
  client = await SyncClient.open({
    url,
    token,
    name,
    schema,
    viewCache,
    onView: (view) => {
      render(view);
      first = { shown: shownIds(), complete: view.complete, live: view.live };
    },
  });
  const live = client.view();
  if (live) {
    render(live);
    client.on("view", () => render(client.view()));
  }
  return {
    first,
    status: client.status.status,
    live: live ? shownIds() : undefined,
    liveCards: live ? Object.keys(live.cards).sort() : undefined,
    titles: live ? Object.fromEntries(Object.values(live.cards).map((card) => [card.id, card.fields.title])) : undefined,
  };
}

export const cases = {
  /** A board made online: a sequence and a board column of three cards, then closed. */
  async seed({ url, token, name }) {
    client = await SyncClient.open({ url, token, name, schema });
    const doc = client.doc;
    const sequence = doc.createSequence();
    const board = doc.createBoard("kanban");
    const column = doc.addColumn(board, "Todo", 0);
    const ids = ["x", "y", "z"].map((title, i) => {
      const card = doc.createCard("task", { title, body: `the long body of ${title}` });
      doc.insertIntoSequence(sequence, card, i);
      doc.placeCard(board, card, column, i);
      return card;
    });
    await client.whenSynced();
    await client.close();
    return { sequence, board, column, ids };
  },

  /** Another replica (no view cache, outbox in memory) deletes `remove` and adds card "w". */
  async remoteEdit({ url, token, sequence, remove }) {
    const other = await SyncClient.open({ url, token, name: "another-device", schema, store: new MemoryStore(), viewCache: false });
    await other.whenSynced();
    ok(other.doc.isVisible(remove), "the other replica has the card before deleting it");
    other.doc.deleteCard(remove);
    const added = other.doc.createCard("task", { title: "w" });
    other.doc.insertIntoSequence(sequence, added, 0);
    await other.whenSynced();
    await other.close();
    return added;
  },

  open,

  /** The open client deletes `remove` and retitles `retitle` here; then closes. */
  async editHere({ remove, retitle }) {
    client.doc.deleteCard(remove);
    client.doc.setField(retitle, "title", "renamed");
    await client.close();
  },

  /** Waits until the board shows `present` and not `absent` (after the client synced). */
  async reconciled({ present, absent }) {
    await client.whenSynced(15_000);
    const deadline = performance.now() + 5000;
    const done = () => client.view().cards[present] && shownIds().includes(present) && !shownIds().includes(absent);
    while (!done() && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    const view = client.view();
    ok(view.cards[present] && !view.cards[absent], `the view after sync: ${JSON.stringify(Object.keys(view.cards))}`);
    const shown = shownIds();
    ok(shown.includes(present) && !shown.includes(absent), `the board after sync: ${shown}`);
    return shown;
  },

  async close() {
    await client?.close();
    client = undefined;
  },
};
