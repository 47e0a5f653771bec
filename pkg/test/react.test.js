// The React hooks (`cardsync/react`) in a real React 19 render into a jsdom document: they
// re-render on the changes they read, not on unrelated ones.

import assert from "node:assert/strict";
import { test } from "node:test";
import { JSDOM } from "jsdom";
import { CardDoc, MemoryStore, SyncClient } from "cardsync";
import { schema } from "./fixtures.js";

const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
// Node 20 has no global `navigator`; later Nodes have one, which jsdom's must not replace.
globalThis.navigator ??= dom.window.navigator;
globalThis.IS_REACT_ACT_ENVIRONMENT = true;
const { act, createElement: h } = await import("react");
const { createRoot } = await import("react-dom/client");
const { useCard, usePresence, useQuery, useSequence, useSyncStatus } = await import("cardsync/react");
const { Presence } = await import("../src/sync/presence.js");
const { encodeUpdate } = await import("../src/sync/awareness_codec.js");

/** Renders `element` into a fresh container; returns the container and `unmount`. */
async function render(element) {
  const container = document.createElement("div");
  document.body.append(container);
  const root = createRoot(container);
  await act(async () => root.render(element));
  return { container, unmount: () => act(async () => root.unmount()) };
}

test("useCard re-renders on its card's changes only", async () => {
  const doc = new CardDoc(schema, { clientId: 1, actor: "ada" });
  const card = doc.createCard("task", { title: "First" });
  const other = doc.createCard("task", { title: "Other" });
  let renders = 0;
  const Title = () => {
    renders += 1;
    const read = useCard(doc, card);
    return h("span", null, read === undefined || read.deleted ? "gone" : read.fields.title);
  };
  // Count the hook's reads: an edit of another card must not even re-read this one.
  let reads = 0;
  const read = doc.card.bind(doc);
  doc.card = (id) => {
    reads += 1;
    return read(id);
  };
  const { container, unmount } = await render(h(Title));
  assert.equal(container.textContent, "First");
  const [rendersBefore, readsBefore] = [renders, reads];
  await act(async () => doc.setField(other, "title", "Unrelated"));
  assert.equal(renders, rendersBefore, "an edit of another card does not re-render");
  assert.equal(reads, readsBefore, "nor re-read the card");
  await act(async () => doc.setField(card, "title", "Second"));
  assert.equal(container.textContent, "Second");
  await act(async () => doc.deleteCard(card));
  assert.equal(container.textContent, "gone");
  await unmount();
  doc.free();
});

test("useQuery follows its result, and only it re-renders the list", async () => {
  const doc = new CardDoc(schema, { clientId: 4, actor: "ada" });
  const query = { kind: "task", where: { urgent: true }, orderBy: { field: "title" } };
  let renders = 0;
  const List = () => {
    renders += 1;
    const ids = useQuery(doc, query);
    return h("ol", null, ...ids.map((id) => h("li", { key: id }, doc.card(id)?.fields.title)));
  };
  const b = doc.createCard("task", { title: "b", urgent: true });
  const { container, unmount } = await render(h(List));
  assert.equal(container.textContent, "b");
  let a;
  await act(async () => {
    a = doc.createCard("task", { title: "a", urgent: true });
  });
  assert.equal(container.textContent, "ab");
  const before = renders;
  await act(async () => doc.createCard("task", { title: "calm", urgent: false }));
  await act(async () => doc.setField(a, "note", "outside the query's fields"));
  assert.equal(renders, before, "changes that leave the ids as they were re-render nothing");
  await act(async () => doc.setField(b, "urgent", false));
  assert.equal(container.textContent, "a");
  await unmount();
  doc.free();
});

test("useSequence follows inserts and moves", async () => {
  const doc = new CardDoc(schema, { clientId: 2 });
  const column = doc.createSequence();
  const [a, b] = [doc.createCard("task", { title: "a" }), doc.createCard("task", { title: "b" })];
  const List = () => h("ol", null, ...(useSequence(doc, column) ?? []).map((id) => h("li", { key: id }, doc.card(id)?.fields.title)));
  const { container, unmount } = await render(h(List));
  assert.equal(container.textContent, "");
  await act(async () => {
    doc.insertIntoSequence(column, a, 0);
    doc.insertIntoSequence(column, b, 1);
  });
  assert.equal(container.textContent, "ab");
  await act(async () => doc.moveInSequence(column, b, 0));
  assert.equal(container.textContent, "ba");
  await unmount();
  doc.free();
});

test("useSyncStatus re-renders on status changes of a real client", async () => {
  const client = await SyncClient.open({
    url: "ws://127.0.0.1:9/rooms/none",
    schema,
    store: new MemoryStore(),
    online: false,
    WebSocket: class {},
  });
  const Status = () => {
    const s = useSyncStatus(client);
    return h("p", null, `${s.status}:${s.pending}`);
  };
  const { container, unmount } = await render(h(Status));
  assert.equal(container.textContent, "offline:0");
  await act(async () => {
    client.doc.createCard("task", { title: "queued" });
    await new Promise((resolve) => setTimeout(resolve, 10));
  });
  assert.equal(container.textContent, "offline:1");
  await unmount();
  await client.close();
});

test("usePresence re-renders when another peer's entry appears, changes or goes", async () => {
  // A real `Presence`, fed awareness updates as its sync client would feed it.
  const { presence, driver } = Presence.create({ transmit: () => {} });
  const client = { presence };
  let renders = 0;
  const Who = () => {
    renders += 1;
    return h("span", null, usePresence(client).map((p) => `${p.user}@${p.card}`).join(","));
  };
  const update = (clock, state) => encodeUpdate([{ clientId: 9, clock, json: JSON.stringify(state) }]);
  const { container, unmount } = await render(h(Who));
  assert.equal(container.textContent, "");
  await act(async () => driver.receive(update(1, { user: "ada", card: "a" })));
  assert.equal(container.textContent, "ada@a");
  const before = renders;
  await act(async () => driver.receive(update(2, { user: "ada", card: "a" })));
  assert.equal(renders, before, "a renewal with the same state does not re-render");
  await act(async () => driver.receive(update(3, { user: "ada", card: "b" })));
  assert.equal(container.textContent, "ada@b");
  await act(async () => driver.receive(update(4, null)));
  assert.equal(container.textContent, "");
  await unmount();
  driver.close();
});
