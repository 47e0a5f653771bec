// Replicas exchange diffs and converge, including concurrent sequence moves that must leave
// every card exactly once.

import assert from "node:assert/strict";
import { test } from "node:test";
import { CardDoc, mergeUpdatesV1, mergeUpdatesV2 } from "cardsync";
import { makeDoc, rng, schema, sync } from "./helpers.js";

test("two docs edit apart, exchange v1 and v2 diffs, and converge", () => {
  const alice = makeDoc(11, "alice");
  const bob = makeDoc(12, "bob");
  const card = alice.createCard("task", { title: "Shared", status: "todo", body: "abc" });
  sync(alice, bob);

  alice.increment(card, "votes", 1);
  bob.increment(card, "votes", 2);
  alice.addToSet(card, "tags", "x");
  bob.addToSet(card, "tags", "y");
  bob.removeFromSet(card, "tags", "x"); // bob has not seen alice's "x": her add wins
  alice.insertText(card, "body", 0, "A");
  bob.insertText(card, "body", 3, "B");
  alice.raiseMax(card, "progress", 2);
  bob.raiseMax(card, "progress", 5);
  bob.setField(card, "status", "doing");

  sync(alice, bob, "v2");
  sync(bob, alice, "v1");
  assert.deepEqual(alice.export(), bob.export());
  const fields = alice.card(card).fields;
  assert.equal(fields.votes, 3);
  assert.deepEqual(fields.tags, ["x", "y"]);
  assert.equal(fields.body, "AabcB");
  assert.equal(fields.progress, 5);
  assert.equal(fields.status, "doing");
});

test("concurrent moves in a sequence converge without duplicates (200 seeded rounds)", () => {
  const replicas = [makeDoc(21), makeDoc(22), makeDoc(23)];
  const [first] = replicas;
  const column = first.createSequence();
  const cards = [];
  for (let i = 0; i < 8; i++) {
    const card = first.createCard("task", { title: `c${i}` });
    first.insertIntoSequence(column, card, i);
    cards.push(card);
  }
  for (const other of replicas.slice(1)) sync(first, other);

  const random = rng(42);
  const pick = (n) => Math.floor(random() * n);
  for (let round = 0; round < 200; round++) {
    // Every replica moves a card (often the same one) before hearing from the others.
    for (const doc of replicas) {
      const card = cards[pick(3)];
      doc.moveInSequence(column, card, pick(cards.length));
    }
    if (round % 5 === 4 || round === 199) {
      for (const from of replicas) for (const to of replicas) if (from !== to) sync(from, to, round % 2 ? "v1" : "v2");
      const order = first.sequence(column);
      assert.equal(new Set(order).size, cards.length, `round ${round}: duplicates in ${order}`);
      assert.deepEqual([...order].sort(), [...cards].sort());
      for (const doc of replicas) assert.deepEqual(doc.sequence(column), order);
    }
  }
  assert.deepEqual(replicas[1].export(), first.export());
});

test("merged updates and loaded snapshots reproduce the document", () => {
  const doc = makeDoc(31);
  const v1 = [];
  const v2 = [];
  for (let i = 0; i < 5; i++) {
    const sv = doc.stateVector();
    doc.createCard("task", { title: `t${i}` });
    v1.push(doc.diffV1(sv));
    v2.push(doc.diffV2(sv));
  }
  const fromV1 = CardDoc.loadV1(schema, mergeUpdatesV1(v1), { clientId: 32 });
  const fromV2 = CardDoc.loadV2(schema, mergeUpdatesV2(v2), { clientId: 33 });
  assert.deepEqual(fromV1.export(), doc.export());
  assert.deepEqual(fromV2.export(), doc.export());
  // Out of order: the late predecessor is kept pending, then integrated.
  const late = makeDoc(34);
  late.applyUpdateV1(v1[4]);
  late.applyUpdateV1(mergeUpdatesV1(v1.slice(0, 4)));
  assert.deepEqual(late.export(), doc.export());
});
