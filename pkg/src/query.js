// Live queries: the cards of a kind with given field values, in an order, kept current from
// the document's change events at the cost of the cards each change touched.
//
// The semantics are the core's (`cardsync_core::Query` and `LiveQuery`,
// crates/cardsync-core/src/query.rs and live_query.rs), and the tests check both against a
// fresh scan. The JavaScript side is not a binding of that code on purpose: as wasm it cost
// 8.6 KB gzipped (measured: 331,023 bytes against 322,457 without), and the package sits at
// its size budget (docs/design.md §11). Here it is a few hundred bytes over the reads the
// package already has: a change batch names its cards, `doc.card(id)` reads one.

import { CardsyncError } from "./error.js";

/** Sorts `null` first, then booleans, numbers, strings, composites (as the core does). */
function rank(value) {
  if (value === null) return 0;
  switch (typeof value) {
    case "boolean":
      return 1;
    case "number":
      return 2;
    case "string":
      return 3;
    default:
      return 4;
  }
}

function compareValues(a, b) {
  const [ra, rb] = [rank(a), rank(b)];
  if (ra !== rb) return ra - rb;
  if (ra === 0 || ra === 4) return 0; // nulls, and composites, are all equal
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Deep equality of plain values (key order ignored). */
function same(a, b) {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const [ka, kb] = [Object.keys(a), Object.keys(b)];
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && same(a[k], b[k]));
}

/** Refuses what the core's `Query::check` refuses, with the same codes. */
function check(schema, query) {
  if (query === null || typeof query !== "object") {
    throw new CardsyncError("invalid_argument", "query: expected an object");
  }
  for (const key of Object.keys(query)) {
    if (!["kind", "where", "orderBy"].includes(key)) {
      throw new CardsyncError("invalid_argument", `query: unknown field ${JSON.stringify(key)}`);
    }
  }
  const kinds = query.kind === undefined ? Object.values(schema.cards) : [schema.cards[query.kind]];
  if (kinds[0] === undefined) {
    throw new CardsyncError("schema_violation", `unknown card kind ${JSON.stringify(query.kind)}`);
  }
  const named = Object.keys(query.where ?? {});
  if (query.orderBy !== undefined) named.push(query.orderBy.field);
  for (const field of named) {
    const defs = kinds.map((k) => k.fields[field]).filter((d) => d !== undefined);
    if (defs.length === 0) {
      throw new CardsyncError("schema_violation", `no card kind declares field ${JSON.stringify(field)}`);
    }
    if (defs.some((d) => d.kind === "set")) {
      throw new CardsyncError("invalid_argument", `field ${JSON.stringify(field)} is a set, which a query cannot compare or order`);
    }
  }
}

/**
 * The cards matching a query, in its order, kept current as the document changes (local
 * writes, remote updates, undo, rollbacks). Make one with `liveQuery(doc, query)`; call
 * `free()` when done, which stops it following the document.
 */
export class LiveQuery {
  #doc;
  #query;
  /** card id → its sort value, for the cards that match */
  #members = new Map();
  /** `{ value, id }` in the query's order */
  #order = [];
  #listeners = new Set();
  #unsubscribe;

  constructor(doc, query) {
    check(doc.schema, query);
    this.#doc = doc;
    this.#query = query;
    for (const card of doc.cards(query.kind)) this.#reevaluate(card.id, card, null);
    this.#unsubscribe = doc.subscribe((batch) => this.#update(batch));
  }

  /** The matching card ids, in the query's order. */
  ids() {
    return this.#order.map((entry) => entry.id);
  }

  /** How many cards match. */
  get size() {
    return this.#members.size;
  }

  /** The matching cards, read now, in the query's order. */
  cards() {
    return this.ids().map((id) => this.#doc.card(id));
  }

  /**
   * Calls `listener` with `{ added, removed, updated }` (card ids) after each change that
   * altered the result. Returns the function that unsubscribes.
   */
  subscribe(listener) {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Stops following the document. */
  free() {
    this.#unsubscribe();
    this.#listeners.clear();
  }

  #update(batch) {
    const delta = { added: [], removed: [], updated: [] };
    const seen = new Set();
    for (const event of batch.events) {
      const id = event.card;
      if (id === undefined || seen.has(id)) continue;
      seen.add(id);
      this.#reevaluate(id, this.#doc.card(id), delta);
    }
    if (delta.added.length + delta.removed.length + delta.updated.length === 0) return;
    for (const listener of [...this.#listeners]) listener(delta);
  }

  /** Where `card` sorts if it matches, or `undefined`. */
  #evaluate(card) {
    const query = this.#query;
    if (card === undefined || card.deleted) return undefined;
    if (query.kind !== undefined && card.kind !== query.kind) return undefined;
    const value = (field) => card.fields[field] ?? null;
    for (const [field, wanted] of Object.entries(query.where ?? {})) {
      if (!same(value(field), wanted)) return undefined;
    }
    return query.orderBy === undefined ? null : value(query.orderBy.field);
  }

  #compare(a, b) {
    const order = this.#query.orderBy;
    const byValue = compareValues(a.value, b.value) * (order?.descending ? -1 : 1);
    return byValue !== 0 ? byValue : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  }

  /** The index of `entry` in the order, or where it would go (binary search). */
  #place(entry) {
    let [lo, hi] = [0, this.#order.length];
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#compare(this.#order[mid], entry) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #reevaluate(id, card, delta) {
    const value = this.#evaluate(card);
    const was = this.#members.has(id);
    if (was) {
      this.#order.splice(this.#place({ value: this.#members.get(id), id }), 1);
      this.#members.delete(id);
    }
    if (value !== undefined) {
      const entry = { value, id };
      this.#order.splice(this.#place(entry), 0, entry);
      this.#members.set(id, value);
    }
    if (delta === null) return;
    if (was && value === undefined) delta.removed.push(id);
    else if (!was && value !== undefined) delta.added.push(id);
    else if (was) delta.updated.push(id);
  }
}

/** A live query over `doc` (see `LiveQuery`). */
export function liveQuery(doc, query) {
  return new LiveQuery(doc, query);
}
