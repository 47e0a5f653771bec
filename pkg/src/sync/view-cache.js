// The view cache in IndexedDB: what a first screen shows before the CRDT is live.
//
// A page that opens a 10k-card board must not wait for the whole document to load into yrs
// before it shows anything. The client keeps a plain copy of what a board shows (each visible
// card's display fields, every field but rich-text bodies; each sequence's order; each board's
// columns and their cards) in a database of its own, `<outbox database>:view`, and reads the
// first screen back from it at open (docs/design.md §4, "The view cache").
//
// Why a database of its own, not a fourth object store beside the outbox: the outbox's
// database and its version stay exactly as the crash-safety tests know them; a view write
// never shares a transaction (or a `versionchange` upgrade) with an outbox write, so it can
// never block or fail one; and a cache from an older layout is emptied, one that fails to
// read is ignored and rebuilt, without going near the outbox. The cache is never the truth: a write that fails is
// only a slower next start.
//
// Layout (object stores):
// - `cards`: one record per visible card, `{ id, kind, fields }`, keyed by id, so a flush
//   after an edit writes the cards it changed, not all of them;
// - `meta`: `head`, the first screen in one record (the first `HEAD` places of every sequence
//   and column, and their cards), read with one `get` at open; `tag`, the state the view was
//   built from (state vector and delete set, see view.js).

// 1: cards, meta.
const VERSION = 1;

/** How many cards of each sequence and column the `head` record carries. */
export const HEAD = 50;

/**
 * @template T
 * @param {IDBRequest<T>} request
 * @returns {Promise<T>}
 */
function done(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/** @param {IDBTransaction} tx @returns {Promise<void>} */
function committed(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error("IndexedDB transaction aborted"));
  });
}

/** The view cache of one document. */
export class ViewCache {
  /** @type {IDBDatabase} */
  #db;

  /** @param {IDBDatabase} db */
  constructor(db) {
    this.#db = db;
  }

  /**
   * Opens (creating if needed) the view database `name`; `null` where there is no IndexedDB
   * or it fails to open (the client then starts without a first screen, as before).
   * @param {string} name
   * @returns {Promise<ViewCache | null>}
   */
  static async open(name) {
    if (typeof indexedDB === "undefined") return null;
    try {
      const request = indexedDB.open(name, VERSION);
      request.onupgradeneeded = () => {
        const db = request.result;
        for (const store of [...db.objectStoreNames]) db.deleteObjectStore(store);
        db.createObjectStore("cards");
        db.createObjectStore("meta");
      };
      return new ViewCache(await done(request));
    } catch {
      return null;
    }
  }

  /**
   * The first screen: `{ sequences, boards, cards }` with the cards of the first `HEAD`
   * places of each, or `undefined` when nothing was cached yet.
   * @returns {Promise<import("./view.js").Head | undefined>}
   */
  async head() {
    const tx = this.#db.transaction("meta", "readonly");
    return done(tx.objectStore("meta").get("head"));
  }

  /**
   * Every cached card, and the tag of the state they were built from.
   * @returns {Promise<{ cards: import("./view.js").ViewCard[], tag: import("./view.js").ViewTag | undefined }>}
   */
  async all() {
    const tx = this.#db.transaction(["cards", "meta"], "readonly");
    const [cards, tag] = await Promise.all([
      done(tx.objectStore("cards").getAll()),
      done(tx.objectStore("meta").get("tag")),
    ]);
    return { cards, tag };
  }

  /**
   * Writes one flush in one transaction (relaxed durability: a lost flush is only a slower
   * start): the cards put and the ids removed, or every card when `replace`; the head; the tag.
   * @param {{ replace: boolean, put: import("./view.js").ViewCard[], removed: string[],
   *   head: import("./view.js").Head, tag: import("./view.js").ViewTag }} flush
   * @returns {Promise<void>}
   */
  async write({ replace, put, removed, head, tag }) {
    const tx = this.#db.transaction(["cards", "meta"], "readwrite", { durability: "relaxed" });
    const ending = committed(tx);
    const cards = tx.objectStore("cards");
    const meta = tx.objectStore("meta");
    if (replace) cards.clear();
    for (const id of removed) cards.delete(id);
    for (const card of put) cards.put(card, card.id);
    meta.put(head, "head");
    meta.put(tag, "tag");
    await ending;
  }

  /** Closes the database connection. */
  close() {
    this.#db.close();
  }
}
