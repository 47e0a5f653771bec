// Helpers of the Node package tests: documents, assertions and sync over the fixtures that
// fixtures.js shares with the browser tests.

import assert from "node:assert/strict";
import { CardDoc, CardsyncError } from "cardsync";
import { rng, schema } from "./fixtures.js";

export { schema, rng };

/** A document with a fixed client id (distinct per replica) and actor. */
export function makeDoc(clientId, actor = `actor-${clientId}`) {
  return new CardDoc(schema, { clientId, actor });
}

/** Asserts that `fn` throws a `CardsyncError` with `code`. */
export function throwsCode(fn, code) {
  assert.throws(fn, (error) => {
    assert.ok(error instanceof CardsyncError, `not a CardsyncError: ${error}`);
    assert.ok(error instanceof Error);
    assert.equal(error.name, "CardsyncError");
    assert.equal(error.code, code, error.message);
    return true;
  });
}

/** Sends what `from` has and `to` lacks, in the given encoding. */
export function sync(from, to, encoding = "v1") {
  if (encoding === "v1") {
    to.applyUpdateV1(from.diffV1(to.stateVector()));
  } else {
    to.applyUpdateV2(from.diffV2(to.stateVector()));
  }
}
