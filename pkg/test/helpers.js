// Shared fixtures of the package tests: a schema with every field kind, and assertions.

import assert from "node:assert/strict";
import { CardDoc, CardsyncError } from "cardsync";

/** @type {import("cardsync").Schema} */
export const schema = {
  version: 1,
  cards: {
    task: {
      fields: {
        title: { kind: "register", value_type: "string", required: true },
        status: {
          kind: "register",
          value_type: "string",
          transitions: { todo: ["doing"], doing: ["done", "todo"], done: [] },
        },
        estimate: { kind: "register", value_type: "number" },
        urgent: { kind: "register", value_type: "bool" },
        note: { kind: "register" },
        body: { kind: "text" },
        votes: { kind: "counter" },
        progress: { kind: "max" },
        tags: { kind: "set" },
      },
    },
    person: { fields: { name: { kind: "register", value_type: "string" } } },
  },
  relationships: {
    assigned: { from: ["task"], to: ["person"] },
    blocks: { from: ["task"], to: ["task"] },
  },
};

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

/** A small deterministic PRNG (mulberry32), so failures reproduce. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
