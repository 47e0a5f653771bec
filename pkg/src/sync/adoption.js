// Which store a client writes its outbox to, and the hand-over between tabs.
//
// The outbox of a document lives in IndexedDB under a Web Lock named after its database.
// The tab holding the lock owns the outbox; another tab of the same document keeps its
// outbox in memory (`status.durable` is false) rather than corrupt the owner's, and waits
// for the lock: when the owner closes, it adopts what the owner left (`SyncMachine.adopt`)
// and writes everything to IndexedDB from then on.
//
// Why a file of its own: this is the only code that knows about Web Locks and about opening
// IndexedDB, and its one decision (own, follow, or fall back to memory) is made once at open
// and once more at takeover; the client only swaps the store it is handed.

import { IndexedDbStore } from "./idb-store.js";
import { MemoryStore } from "./memory-store.js";

/** @typedef {import("../../dist/wasm/cardsync_wasm.js").Persisted} Persisted */
/** @typedef {import("../../dist/wasm/cardsync_wasm.js").PersistOp} PersistOp */
/**
 * A store (`OutboxStore` of the types): `IndexedDbStore`, `MemoryStore` or the app's own.
 * @typedef {{ load(): Promise<Persisted>, apply(ops: PersistOp[]): Promise<void>,
 *   close(): void }} OutboxStore
 */
/** @typedef {{ store: OutboxStore, release: () => void }} Owned */

/**
 * The store: the one given; else IndexedDB under the document's Web Lock when this tab can
 * take it; else memory, with `takeover` waiting for the lock (see the module docs).
 * @param {{ store?: OutboxStore, name?: string, url: string }} options
 * @returns {Promise<{ store: OutboxStore, durable: boolean, release: () => void,
 *   takeover?: { owned: Promise<Owned | null>, cancel: () => void } }>}
 */
export async function openStore({ store, name, url }) {
  const memory = { store: new MemoryStore(), durable: false, release: () => {} };
  if (store) return { store, durable: !(store instanceof MemoryStore), release: () => {} };
  if (typeof indexedDB === "undefined") {
    // Node (or a worker without IndexedDB): nothing would survive the process. Say so, once
    // per client, beside `status.durable` being false; pass `store: await FileStore.open(path)`.
    console.warn(
      `cardsync: no IndexedDB here, so the outbox of ${name ?? url} is kept in memory only ` +
        "(status.durable is false); pass store: await FileStore.open(path) to keep it",
    );
    return memory;
  }
  const dbName = `cardsync:${name ?? url}`;
  const locks = globalThis.navigator?.locks;
  if (!locks) return idb(dbName, () => {});
  const release = await lock(locks, dbName, { ifAvailable: true });
  if (release) return idb(dbName, release);
  const abort = new AbortController();
  const owned = lock(locks, dbName, { signal: abort.signal }).then(async (release) => {
    try {
      return { store: await IndexedDbStore.open(dbName), release };
    } catch {
      release();
      return null;
    }
  }, () => null);
  return { ...memory, takeover: { owned, cancel: () => abort.abort() } };
}

/**
 * This tab now owns the document's store: loads what the last owner left there and hands it
 * to `client.take`; or, when the client closed meanwhile or the load failed (reported to
 * `client.failed`), closes the store and releases the lock.
 * @param {Owned} owned
 * @param {object} client
 * @param {() => boolean} client.closed
 * @param {(error: unknown) => void} client.failed
 * @param {(store: OutboxStore, release: () => void, persisted: Persisted) => void} client.take
 */
export async function adopt({ store, release }, client) {
  let persisted;
  try {
    persisted = client.closed() ? undefined : await store.load();
  } catch (error) {
    client.failed(error);
  }
  if (client.closed() || persisted === undefined) {
    store.close();
    release();
    return;
  }
  client.take(store, release, persisted);
}

/** IndexedDB, or memory when it cannot open (private mode, a blocked upgrade). */
async function idb(dbName, release) {
  try {
    return { store: await IndexedDbStore.open(dbName), durable: true, release };
  } catch {
    release();
    return { store: new MemoryStore(), durable: false, release: () => {} };
  }
}

/**
 * Requests the Web Lock `name`; resolves to its release once held, or `null` when
 * `ifAvailable` found it taken. Rejects when the request is aborted.
 */
function lock(locks, name, options) {
  return new Promise((resolve, reject) => {
    locks
      .request(name, options, (held) => {
        if (!held) {
          resolve(null);
          return undefined;
        }
        return new Promise((release) => resolve(release));
      })
      .catch(reject);
  });
}
