// The browser's outbox store: IndexedDB, one database per document.
//
// Each `apply` is one `readwrite` transaction with `durability: "strict"`, so a batch the
// client confirms as persisted is on disk, and a batch of ops lands whole or not at all.
// Failures (quota, a connection the browser closed, private mode without IndexedDB) reject
// the promise; the client then shows a store error and keeps the edits unsent, never
// dropping them (what y-indexeddb users hit: y-indexeddb#28, yjs#650).
//
// Plain IndexedDB with a promise per request: the package stays free of runtime
// dependencies, and awaiting a request inside a transaction keeps it alive (microtasks).

/** @typedef {import("../../dist/wasm/cardsync_wasm.js").Persisted} Persisted */
/** @typedef {import("../../dist/wasm/cardsync_wasm.js").PersistOp} PersistOp */

// 1: outbox and confirmed; 2: retired client ids (kept, keyed by themselves).
const VERSION = 2;

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

/** The object stores, in the order `load` returns them. */
const STORES = ["outbox", "confirmed", "retired"];

/** Outbox and confirmed state in IndexedDB. */
export class IndexedDbStore {
  /** @type {IDBDatabase} */
  #db;

  /** @param {IDBDatabase} db */
  constructor(db) {
    this.#db = db;
  }

  /**
   * Opens (creating if needed) the database `name`, e.g. `cardsync:<document>`.
   * @param {string} name
   * @returns {Promise<IndexedDbStore>}
   */
  static async open(name) {
    if (typeof indexedDB === "undefined") throw new Error("IndexedDB is not available here");
    const request = indexedDB.open(name, VERSION);
    request.onupgradeneeded = (event) => {
      const db = request.result;
      if (event.oldVersion < 1) {
        const outbox = db.createObjectStore("outbox", { autoIncrement: true });
        outbox.createIndex("key", "key", { unique: true });
        db.createObjectStore("confirmed", { autoIncrement: true });
      }
      if (event.oldVersion < 2) db.createObjectStore("retired");
    };
    return new IndexedDbStore(await done(request));
  }

  /** What the store holds, oldest first. @returns {Promise<Persisted>} */
  async load() {
    const tx = this.#db.transaction(STORES, "readonly");
    const ending = committed(tx);
    const [outbox, confirmed, retired] = await Promise.all(STORES.map((name) => done(tx.objectStore(name).getAll())));
    await ending;
    return { confirmed, outbox: outbox.map(({ key, meta, update }) => ({ key, meta, update })), retired };
  }

  /**
   * Carries out persist ops in one transaction: all of them or none.
   * @param {PersistOp[]} ops
   * @returns {Promise<void>}
   */
  async apply(ops) {
    const tx = this.#db.transaction(STORES, "readwrite", {
      durability: "strict",
    });
    const ending = committed(tx);
    const [outbox, confirmed, retired] = STORES.map((name) => tx.objectStore(name));
    try {
      for (const op of ops) await applyOp(outbox, confirmed, retired, op);
    } catch (error) {
      try {
        tx.abort();
      } catch {
        // Already aborted by the failing request.
      }
      await ending.catch(() => {});
      throw error;
    }
    await ending;
  }

  /** Closes the database connection. */
  close() {
    this.#db.close();
  }
}

/**
 * @param {IDBObjectStore} outbox
 * @param {IDBObjectStore} confirmed
 * @param {IDBObjectStore} retired
 * @param {PersistOp} op
 */
async function applyOp(outbox, confirmed, retired, op) {
  switch (op.kind) {
    case "put_batch":
      await done(outbox.add(op.batch));
      break;
    case "replace_last": {
      const last = await done(outbox.openCursor(null, "prev"));
      if (last) await done(last.delete());
      await done(outbox.add(op.batch));
      break;
    }
    case "remove_batches":
      for (const key of op.keys) {
        const pos = await done(outbox.index("key").getKey(key));
        if (pos !== undefined) await done(outbox.delete(pos));
      }
      break;
    case "replace_all":
      await done(outbox.clear());
      for (const batch of op.batches) await done(outbox.add(batch));
      break;
    case "append_confirmed":
      await done(confirmed.add(op.update));
      break;
    case "compact_confirmed":
      await done(confirmed.clear());
      await done(confirmed.add(op.update));
      break;
    case "retire_clients":
      for (const client of op.clients) await done(retired.put(client, client));
      break;
    default:
      throw new TypeError(`unknown persist op ${/** @type {{kind: string}} */ (op).kind}`);
  }
}
