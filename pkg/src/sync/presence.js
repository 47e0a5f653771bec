// Presence: who else has a document open, and where they are in it (`client.presence`).
//
// Why a part of its own: presence is not document state. It is never stored, acked or
// rolled back; it lives as long as a connection and is kept alive by renewal. The server
// relays it and remembers only the latest entry per peer (docs/design.md §10, "Stock
// y-websocket interop and presence"), so the client keeps the rules of y-protocols'
// `Awareness`, which stock y-websocket peers follow too:
//
// - each tab is an awareness client id with a clock; an entry wins over one with a lower
//   clock, and the state `null` removes it;
// - the local entry is sent again on every (re)connection, and renewed every 15 s while it
//   does not change, so a peer that joined late or lost an update catches up;
// - an entry of another peer not renewed within 30 s is removed here, whatever the server
//   does: a tab that died without a close frame leaves no ghost longer than that (the
//   server removes it sooner when the socket closes, §6);
// - on `close()` and on page hide the local entry goes out as `null` at once.
//
// Sending is coalesced to one message per 50 ms (the latest state wins), inside the
// server's per-peer awareness rate (`room.awareness_rate`), so a cursor moved on every key
// press never costs more.

import { CardsyncError } from "../error.js";
import { awarenessMessage, decodeUpdate, encodeUpdate } from "./awareness_codec.js";

/** An entry of another peer not renewed within this long is removed (y-protocols' value). */
export const TIMEOUT_MS = 30_000;
/** Largest local state, as JSON bytes (the server's default `room.max_awareness_bytes`, less framing). */
export const MAX_STATE_BYTES = 8_000;
/** Least time between two sends of the local entry. */
export const SEND_INTERVAL_MS = 50;

const FIELDS = new Set(["user", "color", "card", "field", "cursor"]);
const utf8 = new TextEncoder();

/** A random 32-bit awareness client id, as Yjs draws its own. */
function randomClientId() {
  return globalThis.crypto.getRandomValues(new Uint32Array(1))[0];
}

function invalid(message) {
  return new CardsyncError("invalid_argument", `presence.set: ${message}`);
}

const optional = (value, check) => value === undefined || value === null || check(value);
const isOffset = (n) => Number.isSafeInteger(n) && n >= 0;

/** Checks the typed shape of a local state; returns its JSON text. */
function checkState(state) {
  if (state === null || typeof state !== "object" || Array.isArray(state)) {
    throw invalid("the state must be an object { user, color, card, field, cursor }");
  }
  for (const key of Object.keys(state)) {
    if (!FIELDS.has(key)) throw invalid(`unknown key ${JSON.stringify(key)}`);
  }
  if (typeof state.user !== "string" || state.user === "") throw invalid("user must be a non-empty string");
  if (!optional(state.color, (c) => typeof c === "string")) throw invalid("color must be a string");
  if (!optional(state.card, (c) => typeof c === "string")) throw invalid("card must be a string or null");
  if (!optional(state.field, (f) => typeof f === "string")) throw invalid("field must be a string or null");
  const cursorOk = (c) => typeof c === "object" && isOffset(c.anchor) && isOffset(c.head);
  if (!optional(state.cursor, cursorOk)) throw invalid("cursor must be { anchor, head } offsets or null");
  const json = JSON.stringify(state);
  const bytes = utf8.encode(json).length;
  if (bytes > MAX_STATE_BYTES) throw invalid(`the state is ${bytes} bytes of JSON, over ${MAX_STATE_BYTES}`);
  return json;
}

const text = (v) => (typeof v === "string" ? v : null);

/**
 * Another peer's entry as the app reads it: the typed fields where the state has them (a
 * stock Yjs app's `user: { name, color }` is read too), and the state as it came.
 */
function peerOf(clientId, state) {
  const raw = state !== null && typeof state === "object" ? state : {};
  const user = raw.user !== null && typeof raw.user === "object" ? raw.user : {};
  const c = raw.cursor;
  const cursor =
    c !== null && typeof c === "object" && isOffset(c.anchor) && isOffset(c.head)
      ? { anchor: c.anchor, head: c.head }
      : null;
  return Object.freeze({
    clientId,
    user: text(raw.user) ?? text(user.name),
    color: text(raw.color) ?? text(user.color),
    card: text(raw.card),
    field: text(raw.field),
    cursor,
    state,
  });
}

/** One document's presence: the local entry and everyone else's. */
export class Presence {
  #clientId;
  #clock = 0;
  /** The local state's JSON text, or `null`. */
  #local = null;
  #localState = null;
  /** When the local entry last went out (or was last set while offline). */
  #renewedAt = 0;
  #sentAt = -Infinity;
  #sendTimer = undefined;
  #tick;
  /** Other peers: client id → { clock, state, json, seen }. */
  #others = new Map();
  /** Last clock per client id, kept after an entry expires (y-protocols keeps it too). */
  #clocks = new Map();
  #listeners = new Set();
  /** @type {ReadonlyArray<object> | null} `others()` until the next change */
  #view = null;
  #transmit;
  #now;
  #timeoutMs;

  constructor({ transmit, now = Date.now, timeoutMs = TIMEOUT_MS, clientId = randomClientId() }) {
    this.#transmit = transmit;
    this.#now = now;
    this.#timeoutMs = timeoutMs;
    this.#clientId = clientId;
    this.#tick = setInterval(() => this.#check(), Math.max(10, Math.floor(timeoutMs / 10)));
    this.#tick.unref?.();
  }

  /**
   * A presence and the hooks its driver (`SyncClient`) calls: frames in, connection
   * changes, page hide, close. Kept off the public object so an app cannot fake them.
   */
  static create(options) {
    const presence = new Presence(options);
    return {
      presence,
      driver: {
        receive: (update) => presence.#receive(update),
        connected: () => presence.#send(),
        disconnected: () => presence.#dropOthers(),
        hidden: (hidden) => (hidden ? presence.#sendRemoval() : presence.#send()),
        close: () => presence.#close(),
      },
    };
  }

  /** This tab's awareness client id. */
  get clientId() {
    return this.#clientId;
  }

  /** The local state, or `null` when none is published. */
  get local() {
    return this.#localState;
  }

  /**
   * Publishes the local state (`{ user, color, card, field, cursor }`); the latest of
   * several quick calls goes out, at most one message per 50 ms.
   */
  set(state) {
    const json = checkState(state);
    this.#local = json;
    this.#localState = Object.freeze(JSON.parse(json));
    this.#schedule();
  }

  /** Withdraws the local state: the others see this tab's entry removed. */
  clear() {
    if (this.#local === null) return;
    this.#local = null;
    this.#localState = null;
    clearTimeout(this.#sendTimer);
    this.#sendTimer = undefined;
    this.#sendRemoval();
  }

  /** The other peers' entries, ordered by client id; the same array until something changes. */
  others() {
    if (this.#view === null) {
      const ids = [...this.#others.keys()].sort((a, b) => a - b);
      this.#view = Object.freeze(ids.map((id) => this.#others.get(id).peer));
    }
    return this.#view;
  }

  /** Calls `listener({ added, updated, removed })` (client ids) on each change of `others()`. */
  on(type, listener) {
    if (type !== "change") throw new CardsyncError("invalid_argument", `presence.on: unknown event ${type}`);
    const entry = { listener };
    this.#listeners.add(entry);
    return () => this.#listeners.delete(entry);
  }

  #schedule() {
    const wait = this.#sentAt + SEND_INTERVAL_MS - this.#now();
    if (wait <= 0) {
      this.#send();
      return;
    }
    if (this.#sendTimer !== undefined) return;
    this.#sendTimer = setTimeout(() => {
      this.#sendTimer = undefined;
      this.#send();
    }, wait);
  }

  /** Sends the local entry with a new clock (if there is one and a socket to send it on). */
  #send() {
    if (this.#local === null) return;
    this.#clock += 1;
    this.#renewedAt = this.#now();
    this.#sentAt = this.#renewedAt;
    this.#transmit(this.#frame(this.#local));
  }

  #sendRemoval() {
    this.#clock += 1;
    this.#transmit(this.#frame("null"));
  }

  #frame(json) {
    return awarenessMessage(encodeUpdate([{ clientId: this.#clientId, clock: this.#clock, json }]));
  }

  /** An awareness update from the server: apply it as y-protocols does. */
  #receive(update) {
    let entries;
    try {
      entries = decodeUpdate(update);
    } catch {
      return; // Not ours to judge: a malformed entry from another peer changes nothing.
    }
    const now = this.#now();
    const change = { added: [], updated: [], removed: [] };
    for (const { clientId, clock, state } of entries) {
      if (clientId === this.#clientId) {
        // Someone said this tab is gone (its old socket's removal): say it is here.
        if (clock >= this.#clock && this.#local !== null) {
          this.#clock = clock;
          this.#send();
        }
        continue;
      }
      const known = this.#clocks.get(clientId) ?? 0;
      const entry = this.#others.get(clientId);
      if (!(known < clock || (known === clock && state === null && entry))) continue;
      this.#clocks.set(clientId, clock);
      if (state === null) {
        if (entry && this.#others.delete(clientId)) change.removed.push(clientId);
        continue;
      }
      const json = JSON.stringify(state);
      if (!entry) change.added.push(clientId);
      else if (entry.json !== json) change.updated.push(clientId);
      const peer = entry?.json === json ? entry.peer : peerOf(clientId, state);
      this.#others.set(clientId, { json, peer, seen: now });
    }
    this.#emit(change);
  }

  /** The connection dropped: nobody's entry is known to be current any more. */
  #dropOthers() {
    const removed = [...this.#others.keys()];
    this.#others.clear();
    // Forget their clocks too: the server's snapshot on the next connection brings the same
    // clocks back, and must count as news.
    this.#clocks.clear();
    this.#emit({ added: [], updated: [], removed });
  }

  /** Every tenth of the timeout: renew the local entry, expire the others'. */
  #check() {
    const now = this.#now();
    if (this.#local !== null && now - this.#renewedAt >= this.#timeoutMs / 2) this.#send();
    const removed = [];
    for (const [clientId, entry] of this.#others) {
      if (now - entry.seen >= this.#timeoutMs) {
        this.#others.delete(clientId);
        removed.push(clientId);
      }
    }
    this.#emit({ added: [], updated: [], removed });
  }

  #close() {
    clearInterval(this.#tick);
    clearTimeout(this.#sendTimer);
    if (this.#local !== null) this.#sendRemoval();
    this.#local = null;
    this.#localState = null;
    this.#dropOthers();
    this.#listeners.clear();
  }

  #emit(change) {
    if (change.added.length + change.updated.length + change.removed.length === 0) return;
    this.#view = null;
    for (const { listener } of [...this.#listeners]) {
      try {
        listener(change);
      } catch (error) {
        if (typeof globalThis.reportError === "function") globalThis.reportError(error);
        else queueMicrotask(() => { throw error; });
      }
    }
  }
}
