// The persist queue: the machine's persist ops on their way to the store, in order.
//
// Why a file of its own: a store write is asynchronous and may fail (quota, a connection the
// browser closed), and the machine must not send a batch before it is stored. So ops queue
// here while a write runs, everything queued is written as one store transaction, and only a
// completed write is confirmed to the machine (`written`, with the last op's `seq`). A failed
// write keeps its ops, ahead of anything queued since, reports the failure (`failed`) and is
// retried after a pause: nothing is dropped silently.

/** @typedef {import("../../dist/wasm/cardsync_wasm.js").PersistOp} PersistOp */
/** @typedef {import("../../dist/wasm/cardsync_wasm.js").Persisted} Persisted */
/**
 * A store (`OutboxStore` of the types): `IndexedDbStore`, `MemoryStore` or the app's own.
 * @typedef {{ load(): Promise<Persisted>, apply(ops: PersistOp[]): Promise<void>,
 *   close(): void }} OutboxStore
 */

/** The pause before a failed store write is tried again. */
const RETRY_MS = 2000;

/** Writes persist ops to a store, in order, retrying failed writes. */
export class PersistQueue {
  /** @type {OutboxStore} */
  #store;
  /** @type {PersistOp[]} */
  #ops = [];
  /** The running write, if any. @type {Promise<void> | undefined} */
  #flushing = undefined;
  #timer = undefined;
  #hooks;
  #retryMs;

  /**
   * @param {OutboxStore} store
   * @param {object} hooks
   * @param {(seq: number) => void} hooks.written a write completed, up to and with `seq`
   * @param {(error: unknown) => void} hooks.failed a write failed; it will be retried
   * @param {() => boolean} hooks.closed whether the client is closed: then no retry is set
   * @param {number} [retryMs] the pause before a retry
   */
  constructor(store, hooks, retryMs = RETRY_MS) {
    this.#store = store;
    this.#hooks = hooks;
    this.#retryMs = retryMs;
  }

  /** The store written to. */
  get store() {
    return this.#store;
  }

  /** How many ops wait to be written. */
  get length() {
    return this.#ops.length;
  }

  /** Queues `op` and starts a write unless one runs. @param {PersistOp} op */
  push(op) {
    this.#ops.push(op);
    this.flush();
  }

  /**
   * Writes the queued ops, one store transaction per group, confirming each group; resolves
   * once the queue is empty or a write failed (then retried later).
   * @returns {Promise<void>}
   */
  flush() {
    if (!this.#flushing && this.#ops.length > 0) this.#flushing = this.#write();
    return this.#flushing ?? Promise.resolve();
  }

  /**
   * Writes to `store` from now on, dropping what waits for the old one (a write under way
   * finishes there).
   * @param {OutboxStore} store
   */
  replace(store) {
    this.#ops = [];
    this.#store = store;
  }

  /** Cancels a pending retry (the client is closing). */
  stop() {
    clearTimeout(this.#timer);
  }

  async #write() {
    while (this.#ops.length > 0) {
      const ops = this.#ops;
      this.#ops = [];
      try {
        await this.#store.apply(ops);
      } catch (error) {
        // Keep the ops, in order, ahead of anything queued since; retry later.
        this.#ops = ops.concat(this.#ops);
        this.#flushing = undefined;
        this.#hooks.failed(error);
        clearTimeout(this.#timer);
        if (!this.#hooks.closed()) this.#timer = setTimeout(() => this.flush(), this.#retryMs);
        return;
      }
      this.#hooks.written(/** @type {PersistOp} */ (ops[ops.length - 1]).seq);
    }
    // In the same synchronous run as the empty check: no op can be queued in between.
    this.#flushing = undefined;
  }
}
