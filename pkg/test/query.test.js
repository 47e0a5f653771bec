// Live queries (`liveQuery`) in Node against the release package: the result and its deltas
// follow local writes, deletes, restores and remote updates; bad queries throw typed errors.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { CardDoc, liveQuery, MemoryStore, SyncClient } from "cardsync";
import { WebSocket } from "ws";
import { makeDoc, rng, sync, throwsCode } from "./helpers.js";
import { schema } from "./fixtures.js";
import { startServer } from "./sync-server.js";

let server;
before(async () => {
  server = await startServer();
});
after(() => server?.stop());

/** What a full scan finds: `query`'s answer computed the slow way, for comparison. */
function scan(doc, query) {
  const rank = (v) => (v === null ? 0 : typeof v === "boolean" ? 1 : typeof v === "number" ? 2 : 3);
  const value = (card, field) => card.fields[field] ?? null;
  const found = doc
    .cards(query.kind)
    .filter((c) => Object.entries(query.where ?? {}).every(([f, v]) => value(c, f) === v))
    .map((c) => ({ id: c.id, key: query.orderBy ? value(c, query.orderBy.field) : null }));
  const sign = query.orderBy?.descending ? -1 : 1;
  found.sort((a, b) => {
    const byRank = rank(a.key) - rank(b.key);
    const byValue = byRank !== 0 ? byRank : a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
    return byValue * sign || (a.id < b.id ? -1 : 1);
  });
  return found.map((f) => f.id);
}

test("a live query follows writes, deletes and remote updates, in order", () => {
  const doc = new CardDoc(schema, { clientId: 1, actor: "ada" });
  const open = liveQuery(doc, { kind: "task", where: { urgent: false }, orderBy: { field: "title" } });
  const deltas = [];
  const unsubscribe = open.subscribe((delta) => deltas.push(delta));
  const b = doc.createCard("task", { title: "b", urgent: false });
  const a = doc.createCard("task", { title: "a", urgent: false });
  const c = doc.createCard("task", { title: "c", urgent: true });
  assert.deepEqual(open.ids(), [a, b]);
  assert.equal(open.size, 2);
  assert.deepEqual(open.cards().map((card) => card.fields.title), ["a", "b"]);
  assert.deepEqual(deltas, [
    { added: [b], removed: [], updated: [] },
    { added: [a], removed: [], updated: [] },
  ], "a card outside the result makes no delta");
  doc.setField(a, "title", "z");
  assert.deepEqual(open.ids(), [b, a], "reordered");
  assert.deepEqual(deltas.at(-1), { added: [], removed: [], updated: [a] });
  doc.setField(c, "urgent", false);
  doc.deleteCard(b);
  assert.deepEqual(open.ids(), [c, a]);
  assert.deepEqual(deltas.at(-1), { added: [], removed: [b], updated: [] });
  doc.restoreCard(b);
  assert.deepEqual(open.ids(), [b, c, a]);

  // A remote replica's writes reach the query through the update.
  const other = new CardDoc(schema, { clientId: 2, actor: "bo" });
  other.applyUpdateV1(doc.snapshotV1());
  other.setField(b, "urgent", true);
  doc.applyUpdateV1(other.snapshotV1());
  assert.deepEqual(open.ids(), [c, a]);
  assert.deepEqual(deltas.at(-1), { added: [], removed: [b], updated: [] });

  unsubscribe();
  doc.setField(c, "urgent", true);
  assert.deepEqual(open.ids(), [a], "the query stays live without subscribers");
  assert.deepEqual(deltas.at(-1), { added: [], removed: [b], updated: [] });
  open.free();
  doc.setField(a, "urgent", true);
  assert.deepEqual(open.ids(), [a], "a freed query no longer follows the document");
  other.free();
  doc.free();
});

test("a query naming what the schema lacks throws a typed error", () => {
  const doc = new CardDoc(schema, { clientId: 3 });
  for (const [query, code] of [
    [{ kind: "nope" }, "schema_violation"],
    [{ where: { nope: 1 } }, "schema_violation"],
    [{ orderBy: { field: "nope" } }, "schema_violation"],
    [{ where: { tags: "a" } }, "invalid_argument"],
    [{ wher: {} }, "invalid_argument"],
    [null, "invalid_argument"],
  ]) {
    throwsCode(() => liveQuery(doc, query), code);
  }
  doc.free();
});

test("random local writes, undo and remote updates: live queries equal a fresh scan", () => {
  const queries = [
    { kind: "task", where: { urgent: true }, orderBy: { field: "estimate", descending: true } },
    { where: { status: "doing" }, orderBy: { field: "title" } },
    { kind: "task" },
  ];
  for (let seed = 1; seed <= 20; seed++) {
    const random = rng(seed);
    const pick = (n) => Math.floor(random() * n);
    const [a, b] = [makeDoc(10 + seed * 2), makeDoc(11 + seed * 2)];
    const lives = queries.map((q) => liveQuery(a, q));
    const ids = [];
    for (let step = 0; step < 60; step++) {
      const doc = pick(2) === 0 ? a : b;
      const card = ids[pick(ids.length + 1)];
      try {
        switch (pick(7)) {
          case 0:
            ids.push(doc.createCard("task", { title: `t${pick(5)}`, urgent: pick(2) === 0, estimate: pick(4) }));
            break;
          case 1:
            if (card) doc.setField(card, "urgent", pick(2) === 0);
            break;
          case 2:
            if (card) doc.setField(card, "estimate", pick(4));
            break;
          case 3:
            if (card) doc.setField(card, "status", ["todo", "doing", "done"][pick(3)]);
            break;
          case 4:
            if (card) doc[pick(2) === 0 ? "deleteCard" : "restoreCard"](card);
            break;
          case 5:
            doc.undo();
            break;
          default:
            sync(a, b);
            sync(b, a);
        }
      } catch (error) {
        // Writes the rules refuse (a bad transition, a deleted card) change nothing.
        assert.ok(error.code, String(error));
      }
      for (const live of lives) {
        assert.deepEqual(live.ids(), scan(a, queries[lives.indexOf(live)]), `seed ${seed} step ${step}`);
      }
    }
    for (const live of lives) live.free();
    a.free();
    b.free();
  }
});

test("a rejected write leaves the live query when it rolls back", async () => {
  const doc = `query-test-${process.pid}`;
  const viewer = await SyncClient.open({
    url: server.url(doc),
    schema,
    token: server.token(doc, "viewer"),
    actor: "viewer",
    WebSocket,
    store: new MemoryStore(),
  });
  await viewer.whenSynced();
  const live = liveQuery(viewer.doc, { kind: "task" });
  const deltas = [];
  live.subscribe((delta) => deltas.push(delta));
  const rejected = new Promise((resolve) => viewer.on("rejected", resolve));
  const card = viewer.doc.createCard("task", { title: "Not allowed" });
  assert.deepEqual(live.ids(), [card], "optimistic: in the result at once");
  await rejected;
  assert.deepEqual(live.ids(), [], "rolled back out of it");
  assert.deepEqual(deltas, [
    { added: [card], removed: [], updated: [] },
    { added: [], removed: [card], updated: [] },
  ]);
  live.free();
  await viewer.close();
});
