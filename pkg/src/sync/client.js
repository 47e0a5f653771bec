// `SyncClient`: the browser (and Node) driver of the sans-IO `SyncMachine`.
//
// Everything that decides is in Rust (`SyncMachine`, shared with the native client): when
// to connect, back off and ping, what to send, persist and roll back. This file only does
// the I/O it asks for and follows the drain rule: after every input, carry out every
// action and forward every report.
//
// - WebSocket: one per `open` action, binary frames, its events fed back by socket id.
// - Timer: one `setTimeout` at `machine.nextTimeout()`.
// - Store: persist ops are written in order, batched into one store transaction, and
//   confirmed only when it completes. A failed write leaves them unconfirmed, so the
//   batches are not sent and stay in memory; the status shows the error and the write is
//   retried. Nothing is dropped silently.
// - Page life: `online`/`offline` events and `visibilitychange` (slower heartbeat when
//   hidden).
// - Tabs: the outbox of a document lives in IndexedDB under a Web Lock. The tab holding it
//   owns the outbox; another tab of the same document keeps its outbox in memory
//   (`status.durable` is false) rather than corrupt the owner's, and waits for the lock:
//   when the owner closes, it adopts what the owner left (`SyncMachine.adopt`) and writes
//   everything to IndexedDB from then on.

import { SyncMachine } from "../../dist/wasm/cardsync_wasm.js";
import { IndexedDbStore } from "./idb-store.js";
import { MemoryStore } from "./memory-store.js";
import { clientStatus, sameStatus } from "./status.js";

const STORE_RETRY_MS = 2000;

export class SyncClient {
  /** @type {SyncMachine} */
  #machine;
  #doc;
  #store;
  #url;
  #WebSocket;
  /** @type {Map<number, WebSocket>} */
  #sockets = new Map();
  /** Sockets asked to close whose close has not completed yet. */
  #closing = new Set();
  /** @type {Map<string, Set<Function>>} */
  #listeners = new Map();
  #persistQueue = [];
  /** The running write of the persist queue, if any. */
  #flushing = undefined;
  #storeError = null;
  #durable;
  #timer = undefined;
  #storeTimer = undefined;
  #draining = false;
  #again = false;
  #wakeQueued = false;
  #status;
  #closed = false;
  #release;
  #detach = () => {};
  #stopWaiting = () => {};

  /** Use `SyncClient.open`. */
  constructor(machine, store, url, WebSocketImpl, durable, release) {
    this.#machine = machine;
    this.#doc = machine.doc;
    this.#store = store;
    this.#url = url;
    this.#WebSocket = WebSocketImpl;
    this.#durable = durable;
    this.#release = release;
    this.#status = this.#computeStatus();
    machine.setWake(() => {
      if (this.#wakeQueued) return;
      this.#wakeQueued = true;
      queueMicrotask(() => {
        this.#wakeQueued = false;
        this.#drain();
      });
    });
  }

  /**
   * Opens a synced document: loads its outbox and confirmed state from the store, and
   * connects to `url` unless `online` is false.
   * @param {object} options
   */
  static async open(options) {
    const { url, schema, online = true, WebSocket: WebSocketImpl = globalThis.WebSocket } = options;
    if (typeof url !== "string") throw new TypeError("SyncClient.open: url must be a string");
    if (typeof WebSocketImpl !== "function") {
      throw new TypeError("SyncClient.open: no WebSocket here; pass options.WebSocket");
    }
    const { store, durable, release, takeover } = await openStore(options);
    let machine;
    try {
      const persisted = await store.load();
      machine = new SyncMachine(schema, machineOptions(options), persisted);
    } catch (error) {
      takeover?.cancel();
      store.close();
      release();
      throw error;
    }
    const client = new SyncClient(machine, store, url, WebSocketImpl, durable, release);
    if (takeover) {
      client.#stopWaiting = takeover.cancel;
      takeover.owned.then((owned) => owned && client.#adopt(owned));
    }
    client.#attachPage();
    if (online) machine.start();
    client.#drain();
    return client;
  }

  /** The local doc: read and write it like any `CardDoc`; writes are synced. */
  get doc() {
    return this.#doc;
  }

  /** The current status (a fresh plain object). */
  get status() {
    return this.#computeStatus();
  }

  /**
   * Listens to `type`: "status", "acked", "rejected", "conflict", "connection",
   * "auth_denied", "welcome", "store_error", "awareness". Returns the unsubscribe function.
   */
  on(type, listener) {
    let set = this.#listeners.get(type);
    if (!set) this.#listeners.set(type, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Connects (again): the opposite of `stop()`. */
  start() {
    this.#machine.start();
    this.#drain();
  }

  /** Disconnects and stays offline; edits keep queueing in the outbox. */
  stop() {
    this.#machine.stop();
    this.#drain();
  }

  /** Resolves once every edit made so far is acked (or rejected), or rejects on timeout. */
  whenSynced(timeoutMs = 10_000) {
    return this.#until((s) => s.pending === 0 && s.status === "online", timeoutMs);
  }

  /**
   * Disconnects (waiting up to a second for the socket's close handshake), writes what
   * waits for the store, and releases the store and the doc (`doc` is unusable after).
   */
  async close() {
    if (this.#closed) return;
    this.#machine.stop();
    this.#drain();
    this.#closed = true;
    let waited;
    await Promise.race([
      Promise.all(this.#closing),
      new Promise((resolve) => (waited = setTimeout(resolve, 1000))),
    ]);
    clearTimeout(waited);
    this.#detach();
    clearTimeout(this.#timer);
    clearTimeout(this.#storeTimer);
    this.#stopWaiting();
    // Edits made up to now reach the store, even those queued behind a running write.
    await this.#flush();
    const unsaved = this.#persistQueue.length;
    this.#store.close();
    this.#release();
    this.#doc.free();
    this.#machine.free();
    if (unsaved > 0) {
      throw new Error(`SyncClient.close: ${unsaved} changes could not be stored: ${this.#storeError}`);
    }
  }

  /** This tab now owns the document's store: adopt what the last owner left there. */
  async #adopt({ store, release }) {
    let persisted;
    try {
      persisted = this.#closed ? undefined : await store.load();
    } catch (error) {
      this.#storeError = String(error?.message ?? error);
      this.#publishStatus();
    }
    if (this.#closed || persisted === undefined) {
      store.close();
      release();
      return;
    }
    // What waits for the memory store is superseded by what adoption issues.
    this.#persistQueue = [];
    this.#store.close();
    this.#store = store;
    this.#release = release;
    this.#durable = true;
    this.#machine.adopt(persisted);
    this.#drain();
  }

  #until(done, timeoutMs) {
    if (done(this.#status)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`not synced within ${timeoutMs} ms: ${JSON.stringify(this.#status)}`));
      }, timeoutMs);
      const off = this.on("status", (status) => {
        if (!done(status)) return;
        clearTimeout(timer);
        off();
        resolve();
      });
    });
  }

  #emit(type, value) {
    for (const listener of [...(this.#listeners.get(type) ?? [])]) {
      try {
        listener(value);
      } catch (error) {
        if (typeof globalThis.reportError === "function") globalThis.reportError(error);
        else queueMicrotask(() => { throw error; });
      }
    }
  }

  /** The drain rule: actions, then reports, until nothing moves; then timer and status. */
  #drain() {
    if (this.#closed) return;
    if (this.#draining) {
      this.#again = true;
      return;
    }
    this.#draining = true;
    try {
      do {
        this.#again = false;
        for (const action of this.#machine.pollActions()) this.#act(action);
        for (const report of this.#machine.pollReports()) this.#emit(report.type, report);
      } while (this.#again);
    } finally {
      this.#draining = false;
    }
    this.#arm();
    this.#publishStatus();
  }

  #act(action) {
    switch (action.kind) {
      case "open":
        this.#open(action.socket);
        break;
      case "send":
        this.#sockets.get(action.socket)?.send(action.frame);
        break;
      case "close": {
        const socket = this.#sockets.get(action.socket);
        this.#sockets.delete(action.socket);
        if (socket) this.#close(socket, action.reason);
        break;
      }
      default:
        this.#persistQueue.push(action);
        this.#flush();
    }
  }

  #close(socket, reason) {
    const closed = new Promise((resolve) => {
      if (socket.readyState === 3) resolve();
      else socket.addEventListener("close", () => resolve(), { once: true });
    });
    this.#closing.add(closed);
    closed.then(() => this.#closing.delete(closed));
    socket.close(1000, reason.slice(0, 100));
  }

  #open(id) {
    let socket;
    try {
      socket = new this.#WebSocket(this.#url);
    } catch {
      this.#machine.socketError(id);
      this.#again = true;
      return;
    }
    socket.binaryType = "arraybuffer";
    this.#sockets.set(id, socket);
    const input = (f) => {
      if (this.#closed) return;
      f();
      this.#drain();
    };
    socket.onopen = () => input(() => this.#machine.socketOpened(id));
    socket.onmessage = (event) =>
      input(() => {
        if (!(event.data instanceof ArrayBuffer)) return;
        try {
          this.#machine.frame(id, new Uint8Array(event.data));
        } catch {
          // A frame that does not decode: the machine dropped the socket and will reconnect.
        }
      });
    socket.onerror = () => input(() => this.#machine.socketError(id));
    socket.onclose = (event) =>
      input(() => {
        this.#sockets.delete(id);
        this.#machine.socketClosed(id, event.code);
      });
  }

  /**
   * Writes the queued persist ops, one store transaction per group, confirming each group to
   * the machine; resolves once the queue is empty or a write failed (then retried later).
   */
  #flush() {
    if (!this.#flushing && this.#persistQueue.length > 0) this.#flushing = this.#writeQueued();
    return this.#flushing ?? Promise.resolve();
  }

  async #writeQueued() {
    while (this.#persistQueue.length > 0) {
      const ops = this.#persistQueue;
      this.#persistQueue = [];
      try {
        await this.#store.apply(ops);
      } catch (error) {
        // Keep the ops, in order, ahead of anything queued since; retry later.
        this.#persistQueue = ops.concat(this.#persistQueue);
        this.#flushing = undefined;
        this.#storeError = String(error?.message ?? error);
        this.#emit("store_error", { message: this.#storeError });
        this.#publishStatus();
        clearTimeout(this.#storeTimer);
        if (!this.#closed) this.#storeTimer = setTimeout(() => this.#flush(), STORE_RETRY_MS);
        return;
      }
      this.#storeError = null;
      if (!this.#closed) {
        this.#machine.persisted(ops[ops.length - 1].seq);
        this.#drain();
      }
    }
    // In the same synchronous run as the empty check: no op can be queued in between.
    this.#flushing = undefined;
  }

  #arm() {
    clearTimeout(this.#timer);
    const due = this.#machine.nextTimeout();
    if (due === undefined) return;
    this.#timer = setTimeout(() => {
      if (this.#closed) return;
      this.#machine.timeout();
      this.#drain();
    }, Math.max(0, due - Date.now()));
  }

  #computeStatus() {
    return clientStatus(this.#machine.status(), {
      storeError: this.#storeError,
      durable: this.#durable,
    });
  }

  #publishStatus() {
    const next = this.#computeStatus();
    if (sameStatus(next, this.#status)) return;
    this.#status = next;
    this.#emit("status", { ...next });
  }

  #attachPage() {
    if (typeof window === "undefined" || typeof window.addEventListener !== "function") return;
    const { navigator, document } = window;
    const network = () => {
      this.#machine.setNetwork(navigator.onLine !== false);
      this.#drain();
    };
    const visibility = () => {
      this.#machine.setHidden(document.visibilityState === "hidden");
      this.#drain();
    };
    window.addEventListener("online", network);
    window.addEventListener("offline", network);
    document.addEventListener("visibilitychange", visibility);
    if (navigator.onLine === false) network();
    if (document.visibilityState === "hidden") visibility();
    this.#detach = () => {
      window.removeEventListener("online", network);
      window.removeEventListener("offline", network);
      document.removeEventListener("visibilitychange", visibility);
    };
  }
}

function machineOptions({ token, actor, session, connection }) {
  const options = {};
  if (token !== undefined) options.token = token;
  if (actor !== undefined) options.actor = actor;
  if (session !== undefined) options.session = session;
  if (connection !== undefined) options.connection = connection;
  return options;
}

/**
 * The store: the one given; else IndexedDB under the document's Web Lock when this tab can
 * take it; else memory, with `takeover` waiting for the lock (see the module docs).
 */
async function openStore({ store, name, url }) {
  const memory = { store: new MemoryStore(), durable: false, release: () => {} };
  if (store) return { store, durable: !(store instanceof MemoryStore), release: () => {} };
  if (typeof indexedDB === "undefined") return memory;
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
