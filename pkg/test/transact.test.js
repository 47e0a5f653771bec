// `transact(fn)`: the typed calls made inside `fn` applied as one transaction (issue 21: no
// op of a batch goes through JSON), and documents that build events only once listened to.

import assert from "node:assert/strict";
import { test } from "node:test";
import { newId } from "cardsync";
import { makeDoc, throwsCode } from "./helpers.js";

test("transact applies the typed writes of fn as one transaction: one batch, one undo step", () => {
  const doc = makeDoc(71);
  const batches = [];
  doc.subscribe((batch) => batches.push(batch));
  const card = newId();
  doc.transact(() => {
    doc.createCard("task", { title: "A", status: "todo", estimate: 3, note: null }, card);
    doc.insertText(card, "body", 0, "Hello", { bold: true });
    doc.increment(card, "votes", 2);
    doc.addToSet(card, "tags", "x");
    assert.equal(doc.card(card), undefined, "inside fn, reads see the document as it was");
  });
  const read = doc.card(card);
  assert.deepEqual(
    [read.fields.title, read.fields.estimate, read.fields.body, read.fields.votes, read.fields.tags],
    ["A", 3, "Hello", 2, ["x"]],
  );
  assert.equal(batches.length, 1, "one event batch");
  assert.equal(doc.undo(), true);
  assert.equal(doc.card(card), undefined, "one undo step took all of it");
});

test("a refused op makes transact throw after fn, with nothing applied; so does a throwing fn", () => {
  const doc = makeDoc(72);
  const card = doc.createCard("task", { title: "A", status: "todo" });
  const before = doc.exportJson();
  throwsCode(
    () =>
      doc.transact(() => {
        doc.setField(card, "title", "B");
        doc.setField(card, "status", "done");
      }),
    "invalid_transition",
  );
  assert.equal(doc.exportJson(), before);
  assert.throws(
    () =>
      doc.transact(() => {
        doc.setField(card, "title", "C");
        throw new RangeError("changed my mind");
      }),
    RangeError,
  );
  assert.equal(doc.exportJson(), before);
  throwsCode(() => doc.transact(() => doc.setField("not an id", "title", "x")), "invalid_id");
  assert.equal(doc.exportJson(), before);
});

test("inside transact: undo and updates are refused, a nested transact joins the outer one", () => {
  const doc = makeDoc(73);
  const card = doc.createCard("task", { title: "A" });
  throwsCode(() => doc.transact(() => doc.undo()), "reentrant_call");
  assert.equal(doc.card(card).fields.title, "A");
  doc.transact(() => {
    doc.setField(card, "title", "B");
    doc.transact(() => doc.setField(card, "note", "n"));
  });
  assert.deepEqual([doc.card(card).fields.title, doc.card(card).fields.note], ["B", "n"]);
  assert.equal(doc.undo(), true);
  assert.deepEqual([doc.card(card).fields.title, doc.card(card).fields.note], ["A", undefined]);
});

test("fields and attributes read without JSON refuse what the JSON path refused", () => {
  const doc = makeDoc(74);
  throwsCode(() => doc.createCard("task", { title: "A", estimate: NaN }), "invalid_argument");
  // An object is a composite value (issue 19): refused by the field's schema, not as an argument.
  throwsCode(() => doc.createCard("task", { title: "A", note: { nested: true } }), "schema_violation");
  throwsCode(() => doc.createCard("task", ["A"]), "invalid_argument");
  throwsCode(() => doc.createCard("task", { title: 1 }), "schema_violation");
  const card = doc.createCard("task", { title: "A", note: undefined });
  assert.equal(doc.card(card).fields.note, undefined, "an undefined property is left out, as JSON leaves it out");
  throwsCode(() => doc.insertText(card, "body", 0, "x", { size: -Infinity }), "invalid_argument");
  assert.ok(!(doc.card(card).fields.body ?? "").includes("x"));
});

test("a document builds no events before its first listener and delivers every one after", () => {
  const doc = makeDoc(75);
  const card = doc.createCard("task", { title: "A" });
  const batches = [];
  doc.subscribe((batch) => batches.push(batch));
  assert.deepEqual(batches, [], "nothing from before the subscription");
  doc.setField(card, "title", "B");
  assert.deepEqual(batches, [{ origin: "local", events: [{ type: "field_changed", card, field: "title" }] }]);
});
