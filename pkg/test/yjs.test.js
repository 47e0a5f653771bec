// A stock Yjs document reads what cardsync writes: the data model stays plain Yjs
// (docs/design.md §3), in both update encodings.

import assert from "node:assert/strict";
import { test } from "node:test";
import * as Y from "yjs";
import { makeDoc } from "./helpers.js";

function ours() {
  const doc = makeDoc(41, "ada");
  const card = doc.createCard("task", { title: "From wasm", status: "todo", body: "Hello" });
  doc.insertText(card, "body", 5, " Yjs", { bold: true });
  doc.increment(card, "votes", 4);
  doc.addToSet(card, "tags", "interop");
  const column = doc.createSequence();
  doc.insertIntoSequence(column, card, 0);
  return { doc, card };
}

function checkCard(ydoc, card) {
  const cards = ydoc.getMap("cards");
  assert.ok(cards.has(card), "the card is a key of the root map `cards`");
  const map = cards.get(card);
  assert.ok(map instanceof Y.Map);
  assert.equal(map.get("title"), "From wasm");
  assert.equal(map.get("status"), "todo");
  const body = map.get("body");
  assert.ok(body instanceof Y.Text);
  assert.equal(body.toString(), "Hello Yjs");
  assert.deepEqual(body.toDelta(), [
    { insert: "Hello" },
    { insert: " Yjs", attributes: { bold: true } },
  ]);
  const votes = map.get("votes");
  assert.ok(votes instanceof Y.Map);
  assert.equal([...votes.values()].reduce((a, b) => a + b, 0), 4);
}

test("Y.applyUpdate reads a v1 snapshot", () => {
  const { doc, card } = ours();
  const ydoc = new Y.Doc();
  Y.applyUpdate(ydoc, doc.snapshotV1());
  checkCard(ydoc, card);
  assert.equal(ydoc.getMap("meta").get("schema_version"), 1);
});

test("Y.applyUpdateV2 reads a v2 diff, and Yjs' state vector drives our diff", () => {
  const { doc, card } = ours();
  const ydoc = new Y.Doc();
  Y.applyUpdateV2(ydoc, doc.diffV2(Y.encodeStateVector(ydoc)));
  checkCard(ydoc, card);
  // Yjs edits the text; its update comes back and we read it.
  const yBody = ydoc.getMap("cards").get(card).get("body");
  const sv = Y.encodeStateVector(ydoc);
  yBody.insert(0, ">> ");
  doc.applyUpdateV1(Y.encodeStateAsUpdate(ydoc, doc.stateVector()));
  assert.equal(doc.card(card).fields.body, ">> Hello Yjs");
  // And an incremental diff of ours against Yjs' state vector applies cleanly.
  doc.increment(card, "votes", 1);
  Y.applyUpdate(ydoc, doc.diffV1(sv));
  const votes = ydoc.getMap("cards").get(card).get("votes");
  assert.equal([...votes.values()].reduce((a, b) => a + b, 0), 5);
});
