// Cards of every field kind, relationships, sequences, undo and export, through the public
// entry point `cardsync` as a user imports it.

import assert from "node:assert/strict";
import { test } from "node:test";
import { CardDoc, CardsyncError, init, newId } from "cardsync";
import { makeDoc, schema, throwsCode } from "./helpers.js";

test("init resolves in Node, where the module is ready at import", async () => {
  await init();
  assert.match(newId(), /^[0-9a-hjkmnp-tv-z]{26}$/);
  assert.notEqual(newId(), newId());
});

test("every field kind is written and read back as plain values", () => {
  const doc = makeDoc(1, "ada");
  const card = doc.createCard("task", { title: "Ship it", status: "todo", estimate: 3, body: "Hello" });
  doc.setField(card, "urgent", true);
  doc.setField(card, "note", "free-form");
  doc.insertText(card, "body", 5, " world", { bold: true });
  doc.deleteText(card, "body", 0, 1);
  doc.insertText(card, "body", 0, "h");
  doc.formatText(card, "body", 0, 5, { italic: true });
  doc.increment(card, "votes", 5);
  doc.increment(card, "votes", -2);
  doc.raiseMax(card, "progress", 0.5);
  doc.raiseMax(card, "progress", 0.25);
  doc.addToSet(card, "tags", "b");
  doc.addToSet(card, "tags", "a");
  doc.addToSet(card, "tags", "c");
  doc.removeFromSet(card, "tags", "c");
  doc.setField(card, "status", "doing");

  const read = doc.card(card);
  assert.equal(read.id, card);
  assert.equal(read.kind, "task");
  assert.equal(read.deleted, false);
  assert.equal(read.created.by, "ada");
  assert.equal(typeof read.modified.at, "number");
  assert.deepEqual(read.fields, {
    title: "Ship it",
    status: "doing",
    estimate: 3,
    urgent: true,
    note: "free-form",
    body: "hello world",
    votes: 3,
    progress: 0.5,
    tags: ["a", "b"],
  });
  assert.deepEqual(doc.textRuns(card, "body"), [
    { text: "hello", attributes: { italic: true } },
    { text: " world", attributes: { bold: true } },
  ]);
  assert.deepEqual(doc.cards("task").map((c) => c.id), [card]);
  assert.deepEqual(doc.cards("person"), []);
  assert.equal(doc.schemaVersion, 1);
  assert.deepEqual(doc.schema.cards.task.fields.title, {
    kind: "register",
    value_type: "string",
    required: true,
  });
});

test("refused writes throw a CardsyncError with a stable code and change nothing", () => {
  const doc = makeDoc(2);
  const card = doc.createCard("task", { title: "A", status: "todo" });
  const before = doc.exportJson();
  throwsCode(() => doc.setField(newId(), "title", "x"), "unknown_card");
  throwsCode(() => doc.setField(card, "status", "done"), "invalid_transition");
  throwsCode(() => doc.setField(card, "estimate", "three"), "schema_violation");
  throwsCode(() => doc.setField(card, "nope", 1), "schema_violation");
  throwsCode(() => doc.setField(card, "title", null), "schema_violation");
  throwsCode(() => doc.increment(card, "title", 1), "schema_violation");
  throwsCode(() => doc.createCard("task", {}), "schema_violation");
  throwsCode(() => doc.createCard("ghost", { title: "x" }), "schema_violation");
  throwsCode(() => doc.createCard("task", { title: "again" }, card), "card_exists");
  throwsCode(() => doc.insertText(card, "body", 99, "x"), "out_of_range");
  throwsCode(() => doc.restoreCard(card), "card_not_deleted");
  throwsCode(() => doc.apply([{ op: "set_field", card, field: "title", value: "ok" }, { op: "delete_card", card: newId() }]), "unknown_card");
  assert.equal(doc.exportJson(), before, "a refused batch applied nothing");
});

test("malformed arguments are invalid_argument or invalid_id errors, never traps", () => {
  const doc = makeDoc(3);
  const card = doc.createCard("task", { title: "A" });
  throwsCode(() => doc.setField("not an id", "title", "x"), "invalid_id");
  // Objects and arrays are values only of composite registers (`FieldDef.composite`).
  throwsCode(() => doc.setField(card, "note", { nested: true }), "schema_violation");
  throwsCode(() => doc.setField(card, "note", [1]), "schema_violation");
  throwsCode(() => doc.setField(card, "note", 10n), "invalid_argument");
  throwsCode(() => doc.setField(card, "estimate", NaN), "schema_violation");
  throwsCode(() => doc.insertText(card, "body", -1, "x"), "invalid_argument");
  throwsCode(() => doc.insertText(card, "body", 0.5, "x"), "invalid_argument");
  throwsCode(() => doc.increment(card, "votes", 2 ** 60), "invalid_argument");
  throwsCode(() => doc.increment(card, "votes", 1.5), "invalid_argument");
  throwsCode(() => doc.insertText(card, "body", 0, "x", { size: Infinity }), "invalid_argument");
  throwsCode(() => doc.apply([{ op: "explode" }]), "invalid_argument");
  throwsCode(() => doc.apply("nope"), "invalid_argument");
  throwsCode(() => doc.link(card, "assigned", card, { weight: {} }), "schema_violation");
  throwsCode(() => new CardDoc({ version: "one" }), "invalid_argument");
  throwsCode(() => new CardDoc(schema, { clientId: 2 ** 60 }), "invalid_client_id");
  throwsCode(() => new CardDoc(schema, { clientId: -1 }), "invalid_client_id");
  throwsCode(() => new CardDoc(schema, { colour: "red" }), "invalid_argument");
  throwsCode(
    () => new CardDoc({ version: 1, cards: { t: { fields: { $x: { kind: "text" } } } } }),
    "invalid_schema",
  );
  assert.throws(() => doc.subscribe("not a function"), CardsyncError);
  assert.equal(doc.card(card).fields.title, "A", "the document still works");
});

test("relationships: link, read, hide with a deleted card, restore, unlink", () => {
  const doc = makeDoc(4);
  const task = doc.createCard("task", { title: "T" });
  const other = doc.createCard("task", { title: "U" });
  const ada = doc.createCard("person", { name: "Ada" });
  doc.link(task, "assigned", ada, { role: "owner" });
  doc.link(task, "blocks", other);
  throwsCode(() => doc.link(ada, "assigned", task), "schema_violation");
  throwsCode(() => doc.link(task, "likes", ada), "schema_violation");
  assert.deepEqual(doc.relationship(task, "assigned", ada), {
    from: task,
    kind: "assigned",
    to: ada,
    properties: { role: "owner" },
  });
  assert.equal(doc.outgoing(task).length, 2);
  assert.deepEqual(doc.incoming(ada).map((r) => r.from), [task]);
  doc.deleteCard(ada);
  assert.equal(doc.relationship(task, "assigned", ada), undefined);
  assert.equal(doc.isVisible(ada), false);
  assert.deepEqual(doc.integrityReport(), {
    dangling: [{ key: `${task}:assigned:${ada}`, from: null, to: "deleted" }],
  });
  doc.restoreCard(ada);
  assert.equal(doc.relationships().length, 2);
  doc.unlink(task, "blocks", other);
  throwsCode(() => doc.unlink(task, "blocks", other), "unknown_relationship");
  assert.deepEqual(doc.relationships().map((r) => r.kind), ["assigned"]);
});

test("sequences: insert, move, remove, hidden deleted cards", () => {
  const doc = makeDoc(5);
  const column = doc.createSequence();
  const [a, b, c] = ["a", "b", "c"].map((title) => doc.createCard("task", { title }));
  doc.insertIntoSequence(column, a, 0);
  doc.insertIntoSequence(column, b, 1);
  doc.insertIntoSequence(column, c, 99);
  assert.deepEqual(doc.sequence(column), [a, b, c]);
  doc.moveInSequence(column, c, 0);
  assert.deepEqual(doc.sequence(column), [c, a, b]);
  throwsCode(() => doc.insertIntoSequence(column, a, 0), "already_in_sequence");
  throwsCode(() => doc.moveInSequence(newId(), a, 0), "unknown_sequence");
  doc.deleteCard(a);
  assert.deepEqual(doc.sequence(column), [c, b]);
  doc.removeFromSequence(column, b);
  throwsCode(() => doc.removeFromSequence(column, b), "not_in_sequence");
  assert.deepEqual(doc.sequence(column), [c]);
  assert.deepEqual(doc.sequenceIds(), [column]);
  assert.equal(doc.sequence(newId()), undefined);
});

test("undo and redo step over whole local writes; a batch is one step", () => {
  const doc = makeDoc(6);
  assert.equal(doc.canUndo, false);
  const card = doc.createCard("task", { title: "A" });
  doc.apply([
    { op: "set_field", card, field: "title", value: "B" },
    { op: "increment", card, field: "votes", by: 2 },
  ]);
  assert.equal(doc.canUndo, true);
  assert.equal(doc.undo(), true);
  assert.deepEqual([doc.card(card).fields.title, doc.card(card).fields.votes], ["A", 0]);
  assert.equal(doc.canRedo, true);
  assert.equal(doc.redo(), true);
  assert.deepEqual([doc.card(card).fields.title, doc.card(card).fields.votes], ["B", 2]);
  doc.clearUndoHistory();
  assert.equal(doc.undo(), false);
  const plain = new CardDoc(schema, { clientId: 66, undo: false });
  plain.createCard("task", { title: "A" });
  assert.equal(plain.canUndo, false);
});

test("export() is plain data equal to exportJson(), and snapshots load", () => {
  const doc = makeDoc(7);
  const column = doc.createSequence();
  const card = doc.createCard("task", { title: "A", body: "text" });
  doc.insertIntoSequence(column, card, 0);
  const exported = doc.export();
  assert.deepEqual(exported, JSON.parse(doc.exportJson()));
  assert.deepEqual(Object.keys(exported.cards), [card]);
  assert.deepEqual(exported.sequences, { [column]: [card] });
  const v1 = CardDoc.loadV1(schema, doc.snapshotV1(), { clientId: 70 });
  const v2 = CardDoc.loadV2(schema, doc.snapshotV2(), { clientId: 71 });
  assert.deepEqual(v1.export(), exported);
  assert.deepEqual(v2.export(), exported);
  assert.equal(v1.clientId, 70);
  assert.ok(doc.snapshotV1() instanceof Uint8Array);
});

test("free() and [Symbol.dispose]() release the document; later use is an error, not a trap", () => {
  const doc = makeDoc(8);
  doc.createCard("task", { title: "A" });
  doc.free();
  assert.throws(() => doc.cards(), Error);
  const disposed = makeDoc(9);
  disposed[Symbol.dispose]();
  assert.throws(() => disposed.cards(), Error);
});
