// The client's view: a plain copy of what a board shows, kept current from the live doc's
// change events and flushed to the view cache (view-cache.js) off the hot path.
//
// Why a file of its own: the view has one job with three moments. At open, before the CRDT
// loads, it turns the cache's `head` record into the first screen (`firstView`). Once the
// doc is live it reconciles the cache with the doc (`LiveView.open`): sequences and boards
// are re-read from the doc, and the cached cards are kept only when the cache's tag (the
// state vector and the delete set it was built from) is exactly the doc's; otherwise every
// card is re-read, so a card deleted while the page was away never shows once the doc is
// live. After that each change batch costs the cards and lists it names, and a flush
// (debounced after changes, and when the page is hidden) writes only what changed. A write
// never waits for the view: the outbox and the confirmed doc stay the truth, and a failed
// flush only makes the next start slower (docs/design.md §4, "The view cache").

import { HEAD, ViewCache } from "./view-cache.js";

/** @typedef {import("../../dist/wasm/cardsync_wasm.js").CardDoc} CardDoc */
/** @typedef {import("../../dist/wasm/cardsync_wasm.js").BoardView} BoardView */
/** @typedef {import("../../dist/wasm/cardsync_wasm.js").ChangeBatch} ChangeBatch */
/** @typedef {import("../../dist/wasm/cardsync_wasm.js").FieldValue} FieldValue */
/** @typedef {{ id: string, kind: string, fields: { [name: string]: FieldValue } }} ViewCard */
/**
 * The first screen as cached: the first `HEAD` places of every sequence and column, and
 * their cards (the whole lists cost a structured clone of every id before the first paint).
 * @typedef {{ sequences: { [id: string]: string[] }, boards: { [id: string]: BoardView },
 *   cards: ViewCard[] }} Head
 */
/** @typedef {{ stateVector: Uint8Array, deleteSet: Uint8Array }} ViewTag */
/**
 * @typedef {{ cards: { [id: string]: ViewCard }, sequences: { [id: string]: string[] },
 *   boards: { [id: string]: BoardView }, complete: boolean, live: boolean }} View
 */
/**
 * @typedef {{ cards: string[], removed: string[], sequences: string[], boards: string[] }} ViewChange
 */

/** How long a flush waits after the last change. */
const FLUSH_AFTER_MS = 500;

/**
 * The first screen from a cache's `head` record: plain objects, `complete` false (only the
 * cards of the first places of each list), `live` false.
 * @param {Head} head
 * @returns {View}
 */
export function firstView(head) {
  /** @type {{ [id: string]: ViewCard }} */
  const cards = {};
  for (const card of head.cards) cards[card.id] = card;
  return { cards, sequences: { ...head.sequences }, boards: { ...head.boards }, complete: false, live: false };
}

/**
 * Opens the view cache of the client `options` open (unless `viewCache: false`, or where
 * there is no IndexedDB) and shows its first screen through `options.onView`, then lets the
 * page paint before the caller loads the CRDT. Returns the cache and the read of every
 * cached card (already under way), or `null` when there is no cache.
 * @param {{ url: string, name?: string, viewCache?: boolean, onView?: (view: View) => void }} options
 * @returns {Promise<{ cache: ViewCache, cached: Promise<{ cards: ViewCard[], tag: ViewTag | undefined } | null> } | null>}
 */
export async function showFirstScreen({ url, name, viewCache = true, onView }) {
  if (!viewCache || typeof indexedDB === "undefined") return null;
  // Beside the outbox's database (adoption.js names it `cardsync:<name or url>`).
  const cache = await ViewCache.open(`cardsync:${name ?? url}:view`);
  if (!cache) return null;
  const head = await cache.head().catch(() => undefined);
  const cached = cache.all().catch(() => null);
  if (head && onView) {
    try {
      onView(firstView(head));
    } catch (error) {
      if (typeof globalThis.reportError === "function") globalThis.reportError(error);
    }
    await painted();
  }
  return { cache, cached };
}

/** Resolves after the next frame is painted (or 100 ms, for a page that paints none). */
function painted() {
  const frame = globalThis.requestAnimationFrame;
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 100);
    if (typeof frame !== "function") return;
    frame(() =>
      setTimeout(() => {
        clearTimeout(timer);
        resolve();
      }, 0),
    );
  });
}

/** The view of a live doc, kept current and flushed to the cache. */
export class LiveView {
  #doc;
  /** @type {import("./view-cache.js").ViewCache} */
  #cache;
  /** @type {(change: ViewChange) => void} */
  #changed;
  /** Text (rich-text) fields by card kind: left out of the view. */
  #text;
  /** @type {Map<string, ViewCard>} */
  #cards = new Map();
  /** @type {Map<string, string[]>} */
  #sequences = new Map();
  /** @type {Map<string, BoardView>} */
  #boards = new Map();
  /** Cards, sequences and boards changed since they were last read from the doc. */
  #staleCards = new Set();
  #staleSequences = new Set();
  #staleBoards = new Set();
  /** @type {View | undefined} */
  #snapshot;
  /** Cards to put and to delete at the next flush; `#replace` rewrites them all. */
  #put = new Set();
  #removed = new Set();
  #replace = false;
  #dirty = false;
  #timer;
  /** @type {Promise<void>} */
  #flushing = Promise.resolve();
  #unsubscribe;
  #detach = () => {};

  /**
   * @param {CardDoc} doc
   * @param {import("./view-cache.js").ViewCache} cache
   * @param {(change: ViewChange) => void} changed
   */
  constructor(doc, cache, changed) {
    this.#doc = doc;
    this.#cache = cache;
    this.#changed = changed;
    this.#text = textFields(doc.schema);
  }

  /**
   * The view of `doc`, reconciled with what `cache` held (`cached`: its cards and tag, or
   * `null`), and subscribed to the doc's changes. Call it before the doc can change.
   * @param {CardDoc} doc
   * @param {import("./view-cache.js").ViewCache} cache
   * @param {{ cards: ViewCard[], tag: ViewTag | undefined } | null} cached
   * @param {(change: ViewChange) => void} changed
   */
  static open(doc, cache, cached, changed) {
    const view = new LiveView(doc, cache, changed);
    view.#reconcile(cached);
    view.#unsubscribe = doc.subscribe((batch) => view.#apply(batch));
    view.#detach = onPageHide(() => view.flush());
    return view;
  }

  /**
   * The view as plain objects: the same object until the next change (treat it as read-only),
   * then a new one.
   * @returns {View}
   */
  snapshot() {
    if (this.#snapshot) return this.#snapshot;
    this.#settle();
    this.#snapshot = {
      cards: Object.fromEntries(this.#cards),
      sequences: Object.fromEntries(this.#sequences),
      boards: Object.fromEntries(this.#boards),
      complete: true,
      live: true,
    };
    return this.#snapshot;
  }

  /** Writes what changed since the last flush (resolves when written, never rejects). */
  flush() {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    // In order, each built when its turn comes: after a failed write, the next one knows.
    this.#flushing = this.#flushing.then(() => this.#write());
    return this.#flushing;
  }

  async #write() {
    if (!this.#dirty) return;
    this.#dirty = false;
    this.#settle();
    const flush = {
      replace: this.#replace,
      put: [...(this.#replace ? this.#cards.keys() : this.#put)].flatMap((id) => this.#cards.get(id) ?? []),
      removed: this.#replace ? [] : [...this.#removed],
      head: this.#head(),
      tag: tagOf(this.#doc),
    };
    this.#replace = false;
    this.#put.clear();
    this.#removed.clear();
    try {
      await this.#cache.write(flush);
    } catch {
      // The old tag stays, but the next flush would write a new tag beside only its own
      // changes: it rewrites every card instead.
      this.#replace = true;
      this.#dirty = true;
    }
  }

  /**
   * Stops following the doc and writes what is left; then closes the cache and frees this
   * view's handle of the doc (`SyncMachine.doc` hands out a new one on each read).
   */
  async close() {
    this.#unsubscribe?.();
    this.#detach();
    await this.flush();
    this.#cache.close();
    this.#doc.free();
  }

  /** @param {{ cards: ViewCard[], tag: ViewTag | undefined } | null} cached */
  #reconcile(cached) {
    const doc = this.#doc;
    for (const id of doc.sequenceIds()) this.#sequences.set(id, doc.sequence(id) ?? []);
    for (const id of doc.boardIds()) {
      const board = doc.board(id);
      if (board) this.#boards.set(id, board);
    }
    if (cached && cached.tag && sameTag(cached.tag, tagOf(doc))) {
      for (const card of cached.cards) this.#cards.set(card.id, card);
    } else {
      for (const card of doc.cards()) this.#cards.set(card.id, this.#display(card));
      this.#replace = true;
    }
    // The lists and the head are written again in any case: they may differ without the tag.
    this.#dirty = true;
    this.#schedule();
  }

  /** @param {ChangeBatch} batch */
  #apply(batch) {
    const cards = new Set();
    const sequences = new Set();
    const boards = new Set();
    for (const event of batch.events) {
      switch (event.type) {
        case "card_created":
        case "card_deleted":
        case "card_restored":
          cards.add(event.card);
          break;
        case "field_changed": {
          const kind = this.#cards.get(event.card)?.kind;
          if (kind === undefined || !this.#text.get(kind)?.has(event.field)) cards.add(event.card);
          break;
        }
        case "sequence_changed":
          sequences.add(event.sequence);
          break;
        case "board_changed":
          boards.add(event.board);
          break;
        default:
          break;
      }
    }
    if (cards.size + sequences.size + boards.size === 0) return;
    // Only which cards are visible is decided here (a cheap call); what they show is read
    // when someone asks (`snapshot`) or at the flush, once for any number of writes.
    const removed = [];
    const changed = [];
    for (const id of cards) {
      if (this.#doc.isVisible(id)) {
        this.#staleCards.add(id);
        this.#removed.delete(id);
        this.#put.add(id);
        changed.push(id);
      } else if (this.#cards.delete(id) || this.#staleCards.has(id)) {
        this.#staleCards.delete(id);
        this.#put.delete(id);
        this.#removed.add(id);
        removed.push(id);
      }
    }
    for (const id of sequences) this.#staleSequences.add(id);
    for (const id of boards) this.#staleBoards.add(id);
    this.#snapshot = undefined;
    this.#dirty = true;
    this.#schedule();
    this.#changed({ cards: changed, removed, sequences: [...sequences], boards: [...boards] });
  }

  /** Reads what changed since the last read from the doc. */
  #settle() {
    const doc = this.#doc;
    for (const id of this.#staleCards) {
      const card = doc.card(id);
      if (card && !card.deleted) this.#cards.set(id, this.#display(card));
      else this.#cards.delete(id);
    }
    for (const id of this.#staleSequences) {
      const order = doc.sequence(id);
      if (order) this.#sequences.set(id, order);
      else this.#sequences.delete(id);
    }
    for (const id of this.#staleBoards) {
      const board = doc.board(id);
      if (board) this.#boards.set(id, board);
      else this.#boards.delete(id);
    }
    this.#staleCards.clear();
    this.#staleSequences.clear();
    this.#staleBoards.clear();
  }

  /** A card without its rich-text fields and stamps. */
  #display({ id, kind, fields }) {
    const text = this.#text.get(kind);
    /** @type {{ [name: string]: FieldValue }} */
    const shown = {};
    for (const [name, value] of Object.entries(fields)) if (!text?.has(name)) shown[name] = value;
    return { id, kind, fields: shown };
  }

  /** @returns {Head} */
  #head() {
    const ids = new Set();
    const lists = [...this.#sequences.values(), ...[...this.#boards.values()].flatMap((b) => b.columns.map((c) => c.cards))];
    for (const list of lists) for (const id of list.slice(0, HEAD)) ids.add(id);
    const first = (list) => list.slice(0, HEAD);
    return {
      sequences: Object.fromEntries([...this.#sequences].map(([id, list]) => [id, first(list)])),
      boards: Object.fromEntries(
        [...this.#boards].map(([id, board]) => [
          id,
          { ...board, columns: board.columns.map((column) => ({ ...column, cards: first(column.cards) })) },
        ]),
      ),
      cards: [...ids].flatMap((id) => this.#cards.get(id) ?? []),
    };
  }

  #schedule() {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.flush(), FLUSH_AFTER_MS);
  }
}

/**
 * The state a view is built from: the state vector and the delete set (a diff against the
 * doc's own state vector carries no blocks, only the delete set). Deletes that add no block
 * (a card leaving a sequence, an item leaving a set) change the second and not the first.
 * @param {CardDoc} doc
 * @returns {ViewTag}
 */
export function tagOf(doc) {
  const stateVector = doc.stateVector();
  return { stateVector, deleteSet: doc.diffV1(stateVector) };
}

/** @param {ViewTag} a @param {ViewTag} b */
function sameTag(a, b) {
  return sameBytes(a.stateVector, b.stateVector) && sameBytes(a.deleteSet, b.deleteSet);
}

/** @param {Uint8Array} a @param {Uint8Array} b */
function sameBytes(a, b) {
  if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array) || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** @param {import("../../dist/wasm/cardsync_wasm.js").Schema} schema */
function textFields(schema) {
  /** @type {Map<string, Set<string>>} */
  const text = new Map();
  for (const [kind, { fields }] of Object.entries(schema.cards ?? {})) {
    text.set(kind, new Set(Object.entries(fields).filter(([, def]) => def.kind === "text").map(([name]) => name)));
  }
  return text;
}

/** Calls `flush` when the page is hidden or left; returns the function that stops. */
function onPageHide(flush) {
  const page = globalThis.window;
  if (typeof page === "undefined" || typeof page.addEventListener !== "function") return () => {};
  const onVisibility = () => {
    if (page.document.visibilityState === "hidden") flush();
  };
  page.addEventListener("pagehide", flush);
  page.document.addEventListener("visibilitychange", onVisibility);
  return () => {
    page.removeEventListener("pagehide", flush);
    page.document.removeEventListener("visibilitychange", onVisibility);
  };
}
