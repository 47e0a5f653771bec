// Types of the live queries (`query.js`).

import type { Card, CardDoc, Value } from "../dist/wasm/cardsync_wasm.js";

/**
 * Which cards a live query holds: of `kind` (every kind when absent), with the field values of
 * `where` (equality; `null` matches a field never written), ordered by `orderBy` (card id order
 * when absent, and between equal values; `null` first, then booleans, numbers, strings, then
 * composites, all equal). Text fields compare as their plain text, counters and max fields as
 * numbers; sets cannot be named.
 */
export interface Query {
  kind?: string;
  where?: Record<string, Value>;
  orderBy?: { field: string; descending?: boolean };
}

/** What one change did to a live query's result: card ids that entered, left, or changed in it. */
export interface QueryDelta {
  added: string[];
  removed: string[];
  updated: string[];
}

/**
 * The cards matching a query, in its order, kept current as the document changes (local
 * writes, remote updates, undo, rollbacks) at the cost of the cards each change touched.
 */
export declare class LiveQuery {
  private constructor();
  /** The matching card ids, in the query's order. */
  ids(): string[];
  /** How many cards match. */
  readonly size: number;
  /** The matching cards, read now, in the query's order. */
  cards(): (Card | undefined)[];
  /** Called after each change that altered the result; returns the function that unsubscribes. */
  subscribe(listener: (delta: QueryDelta) => void): () => void;
  /** Stops following the document. */
  free(): void;
}

/**
 * A live query over `doc`. Throws a `CardsyncError`: `schema_violation` for a kind or field
 * the schema does not declare, `invalid_argument` for a malformed query or a set field.
 */
export declare function liveQuery(doc: CardDoc, query: Query): LiveQuery;
