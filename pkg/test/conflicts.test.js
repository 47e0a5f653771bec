// Open conflicts (`SyncClient.conflicts`, `useConflicts`) between two real clients of a real
// cardsync-server on 127.0.0.1: a clash is listed on the client whose pending write met the
// other one, and a write of the field, here or on the other client, resolves it. The hook
// renders with React 19 into a jsdom document.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { JSDOM } from "jsdom";
import { MemoryStore, SyncClient } from "cardsync";
import { WebSocket } from "ws";
import { schema } from "./fixtures.js";
import { startServer } from "./sync-server.js";
import { until } from "./until.js";

const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
globalThis.navigator ??= dom.window.navigator;
globalThis.IS_REACT_ACT_ENVIRONMENT = true;
const { act, createElement: h } = await import("react");
const { createRoot } = await import("react-dom/client");
const { useConflicts } = await import("cardsync/react");

let server;
before(async () => {
  server = await startServer();
});
after(() => server?.stop());

let docs = 0;
const freshDoc = () => `conflicts-test-${process.pid}-${++docs}`;

const open = (doc, actor) =>
  SyncClient.open({
    url: server.url(doc),
    schema,
    token: server.token(doc),
    actor,
    WebSocket,
    store: new MemoryStore(),
    connection: { backoffBase: 50, backoffCap: 200 },
  });

/** Resolves when a remote write of `card`'s title reaches `client` (even of the same value). */
function titleArrives(client, card) {
  return new Promise((resolve) => {
    const off = client.doc.subscribe(({ origin, events }) => {
      if (origin !== "remote") return;
      if (!events.some((e) => e.type === "field_changed" && e.card === card && e.field === "title")) return;
      off();
      resolve();
    });
  });
}

/** Two clients of a fresh document, both holding one card. */
async function pair() {
  const doc = freshDoc();
  const [a, b] = await Promise.all([open(doc, "ada"), open(doc, "bob")]);
  const card = a.doc.createCard("task", { title: "Original" });
  await a.whenSynced();
  await until(() => b.doc.card(card) !== undefined, "the card at b");
  return { a, b, card };
}

/**
 * Both set the title offline; `first` is synced (acked) before `second` comes back, so
 * `second`'s write is still pending when `first`'s reaches it.
 */
async function clash(first, second, card, [one, two]) {
  first.stop();
  second.stop();
  first.doc.setField(card, "title", one);
  second.doc.setField(card, "title", two);
  first.start();
  await first.whenSynced();
  second.start();
  await second.whenSynced();
  await until(() => second.conflicts().length > 0, "the clash reported");
  await until(() => first.doc.card(card).fields.title === second.doc.card(card).fields.title, "one title");
}

test("a clash is open on the client whose write met the other, until the field is written again", async () => {
  const { a, b, card } = await pair();
  await clash(a, b, card, ["By Ada", "By Bob"]);
  const winner = b.doc.card(card).fields.title;
  assert.deepEqual(b.conflicts(), [{ card, field: "title", local: "By Bob", remote: "By Ada", winner }]);
  assert.deepEqual(b.conflicts(card), b.conflicts());
  assert.deepEqual(b.conflicts("00000000000000000000000000"), []);
  assert.deepEqual(a.conflicts(), [], "the first writer was acked before the clash: nothing to resolve");

  // Keep mine: a normal write, which closes it at once and reaches the other client (the
  // write arrives even when the document held that value already).
  const keptAtAda = titleArrives(a, card);
  b.doc.setField(card, "title", "By Bob");
  assert.deepEqual(b.conflicts(), []);
  await b.whenSynced();
  await keptAtAda;
  assert.equal(a.doc.card(card).fields.title, "By Bob");
  assert.deepEqual(a.conflicts(), []);

  // A write of the field on the other client resolves it too.
  await clash(a, b, card, ["Again by Ada", "Again by Bob"]);
  assert.equal(b.conflicts().length, 1);
  const settledAtBob = titleArrives(b, card);
  a.doc.setField(card, "title", "Settled by Ada");
  await a.whenSynced();
  await settledAtBob;
  assert.equal(b.doc.card(card).fields.title, "Settled by Ada");
  assert.deepEqual(b.conflicts(), []);
  // An unrelated write leaves an open conflict open.
  await clash(b, a, card, ["Third by Bob", "Third by Ada"]);
  a.doc.setField(card, "estimate", 3);
  assert.equal(a.conflicts(card).length, 1);
  await Promise.all([a.close(), b.close()]);
});

test("useConflicts re-renders when a conflict is reported and when it is resolved", async () => {
  const { a, b, card } = await pair();
  const seen = [];
  const Marker = () => {
    const open = useConflicts(b, card);
    seen.push(open.length);
    return h("span", null, open.map((c) => `${c.field}: ${c.local} / ${c.remote}`).join(", "));
  };
  const container = document.createElement("div");
  document.body.append(container);
  const root = createRoot(container);
  await act(async () => root.render(h(Marker)));
  assert.equal(container.textContent, "");

  await act(() => clash(a, b, card, ["By Ada", "By Bob"]));
  assert.equal(container.textContent, "title: By Bob / By Ada");
  const renders = seen.length;
  await act(async () => b.doc.setField(card, "estimate", 2));
  assert.equal(seen.length, renders, "an unrelated write re-reads but does not re-render");
  await act(async () => b.doc.setField(card, "title", "By Ada"));
  assert.equal(container.textContent, "");
  await act(async () => root.unmount());
  await Promise.all([a.close(), b.close()]);
});
