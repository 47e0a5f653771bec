// Untrusted bytes: thousands of malformed updates and state vectors must each be refused with a
// `decode_error` CardsyncError, never trap the wasm instance (`RuntimeError: unreachable`)
// and never break the document for the calls after them.

import assert from "node:assert/strict";
import { test } from "node:test";
import { CardDoc, CardsyncError } from "cardsync";
import { malformedGenerators } from "./fixtures.js";
import { makeDoc, rng, schema } from "./helpers.js";

const ROUNDS = 1000; // per generator; four generators

function validUpdates() {
  const doc = makeDoc(51);
  const card = doc.createCard("task", { title: "seed", body: "some text" });
  doc.increment(card, "votes", 3);
  doc.addToSet(card, "tags", "t");
  const column = doc.createSequence();
  doc.insertIntoSequence(column, card, 0);
  return { v1: doc.snapshotV1(), v2: doc.snapshotV2() };
}

/** Calls `fn`; returns "ok" or the error code, and fails on anything but a CardsyncError. */
function outcome(fn) {
  try {
    fn();
    return "ok";
  } catch (error) {
    assert.ok(!(error instanceof WebAssembly.RuntimeError), `trapped: ${error}`);
    assert.ok(error instanceof CardsyncError, `not a CardsyncError: ${error}`);
    return error.code;
  }
}

test("decode bomb and truncations are decode errors, fast", () => {
  const doc = makeDoc(52);
  const bomb = new Uint8Array([0xab, 0x8e, 0xc5, 0x73, 0x76]);
  const started = performance.now();
  assert.equal(outcome(() => doc.applyUpdateV1(bomb)), "decode_error");
  assert.equal(outcome(() => doc.applyUpdateV2(bomb)), "decode_error");
  assert.ok(performance.now() - started < 1000, "the bomb is refused quickly");
  // A truncated varint is no state vector: an error, not an empty diff.
  for (const bytes of [[0xff], [], [1, 0x80]]) {
    assert.equal(outcome(() => doc.diffV1(new Uint8Array(bytes))), "decode_error", `diffV1([${bytes}])`);
    assert.equal(outcome(() => doc.diffV2(new Uint8Array(bytes))), "decode_error", `diffV2([${bytes}])`);
  }
  const { v1, v2 } = validUpdates();
  // Every proper prefix of a valid update: refused (a few tiny prefixes happen to be valid,
  // empty updates).
  for (const [method, bytes] of [["applyUpdateV1", v1], ["applyUpdateV2", v2]]) {
    const codes = [];
    for (let end = 0; end < bytes.length; end++) {
      codes.push(outcome(() => doc[method](bytes.subarray(0, end))));
    }
    const refused = codes.filter((code) => code === "decode_error").length;
    assert.ok(refused >= bytes.length - 4, `${method}: ${refused} of ${bytes.length} prefixes refused`);
    assert.deepEqual(new Set(codes.filter((code) => code !== "ok")), new Set(["decode_error"]));
  }
});

test(`${4 * ROUNDS} random and mutated inputs: decode_error or ok, never a trap`, () => {
  const generators = malformedGenerators(rng(7), validUpdates());
  const doc = makeDoc(53);
  const card = doc.createCard("task", { title: "survivor" });
  for (const [name, generate] of Object.entries(generators)) {
    const counts = {};
    for (let i = 0; i < ROUNDS; i++) {
      const [method, bytes] = generate();
      const code = outcome(() => doc[method](bytes));
      counts[code] = (counts[code] ?? 0) + 1;
      if (code !== "ok") assert.equal(code, "decode_error", `${name} #${i}`);
      // Random state vectors are often valid; they must never trap either.
      assert.match(outcome(() => doc.diffV1(bytes)), /^(ok|decode_error)$/, `${name} #${i} as a state vector`);
    }
    if (name.startsWith("random")) {
      assert.ok((counts.decode_error ?? 0) > ROUNDS * 0.9, `${name}: ${JSON.stringify(counts)}`);
    }
  }
  // Some mutations are well-formed updates that delete the survivor's entries (a delete set
  // naming our client): accepted, as any peer's delete is. Writing to it must not trap, and
  // the document must still take new writes.
  outcome(() => doc.setField(card, "title", "x")); // fails on a trap or a foreign error
  const fresh = doc.createCard("task", { title: "still writable" });
  assert.equal(doc.card(fresh).fields.title, "still writable");
  const reloaded = CardDoc.loadV1(schema, doc.snapshotV1(), { clientId: 54 });
  assert.equal(reloaded.card(fresh).fields.title, "still writable");
});
