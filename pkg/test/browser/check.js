// Assertions for the browser cases: `node:assert` does not exist in a page, and a test
// library would be one more dependency for five functions. A failed check throws an `Error`
// whose message Playwright hands back to the Node test that ran the case.

import { CardsyncError } from "cardsync";

/** Fails with `message` unless `condition` holds. */
export function ok(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
}

/** Fails unless `actual === expected`. */
export function equal(actual, expected, message = "") {
  ok(Object.is(actual, expected), `${message} expected ${show(expected)}, got ${show(actual)}`);
}

/** Structural equality of plain data (objects compare by keys regardless of their order). */
export function deepEqual(actual, expected, message = "") {
  ok(same(actual, expected), `${message} expected ${show(expected)}, got ${show(actual)}`);
}

/** Fails unless `fn` throws a `CardsyncError` with `code`; returns the error. */
export function throwsCode(fn, code) {
  let caught;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  ok(caught !== undefined, `expected a ${code} error, nothing was thrown`);
  ok(!(caught instanceof WebAssembly.RuntimeError), `trapped instead of ${code}: ${caught}`);
  ok(caught instanceof CardsyncError && caught instanceof Error, `not a CardsyncError: ${caught}`);
  equal(caught.name, "CardsyncError", "error.name:");
  equal(caught.code, code, `${caught.message}:`);
  return caught;
}

function same(a, b) {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => Object.hasOwn(b, key) && same(a[key], b[key]));
}

function show(value) {
  return typeof value === "string" ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
}
