// Types of `client.presence` (presence.js): publishing this tab's presence and reading others'.

/** A selection in a field's text: character offsets (`anchor === head` for a caret). */
export interface PresenceCursor {
  anchor: number;
  head: number;
}

/** What this tab publishes with `presence.set`. */
export interface PresenceState {
  /** Who: a display name or user id (non-empty). */
  user: string;
  /** A CSS color for this user's marker. */
  color?: string | null;
  /** The card being edited, if any. */
  card?: string | null;
  /** The field of that card. */
  field?: string | null;
  /** Where in the field's text. */
  cursor?: PresenceCursor | null;
}

/** A JSON value, as another peer's raw state may hold anything (stock Yjs apps included). */
export type PresenceJson =
  | null
  | boolean
  | number
  | string
  | PresenceJson[]
  | { [key: string]: PresenceJson };

/**
 * Another peer's entry: the typed fields where its state has them (`null` where not; a stock
 * Yjs app's `user: { name, color }` is read as `user` and `color`), and the state as it came.
 */
export interface PresencePeer {
  /** Its awareness client id (one per tab and document). */
  readonly clientId: number;
  readonly user: string | null;
  readonly color: string | null;
  readonly card: string | null;
  readonly field: string | null;
  readonly cursor: PresenceCursor | null;
  readonly state: PresenceJson;
}

/** Client ids whose entries appeared, changed or went away. */
export interface PresenceChange {
  added: number[];
  updated: number[];
  removed: number[];
}

/**
 * One document's presence over its sync client's connection (y-protocols awareness, so stock
 * y-websocket peers see it too). An entry of another peer that is not renewed within 30 s is
 * removed; the local entry is renewed every 15 s, sent again on reconnect, and withdrawn on
 * `close()` and page hide.
 */
export declare class Presence {
  private constructor();
  /** This tab's awareness client id. */
  readonly clientId: number;
  /** The local state, or `null` when none is published. */
  readonly local: Readonly<PresenceState> | null;
  /**
   * Publishes this tab's state (at most one message per 50 ms goes out; the latest wins).
   * Throws a `CardsyncError` `invalid_argument` for an unknown key, a wrong type, or JSON
   * over 8,000 bytes.
   */
  set(state: PresenceState): void;
  /** Withdraws this tab's state: the others see it removed. */
  clear(): void;
  /** The other peers, by client id; the same array until something changes. */
  others(): readonly PresencePeer[];
  /** Calls `listener` on each change of `others()`; returns the function that stops it. */
  on(type: "change", listener: (change: PresenceChange) => void): () => void;
}
