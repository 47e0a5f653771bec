// An outbox store in memory: for Node, tests, and pages that must not persist. It applies
// persist ops exactly as the IndexedDB store does, so the two can be swapped freely.

/** @typedef {import("../../dist/wasm/cardsync_wasm.js").Persisted} Persisted */
/** @typedef {import("../../dist/wasm/cardsync_wasm.js").PersistOp} PersistOp */

/** Keeps the outbox and the confirmed updates in memory; nothing survives a reload. */
export class MemoryStore {
  /** @type {Required<Persisted>} */
  #state = { confirmed: [], outbox: [], retired: [] };

  /** What the store holds. @returns {Promise<Persisted>} */
  async load() {
    return copy(this.#state);
  }

  /**
   * Carries out persist ops, in order, all or none.
   * @param {PersistOp[]} ops
   * @returns {Promise<void>}
   */
  async apply(ops) {
    const next = copy(this.#state);
    for (const op of ops) applyOp(next, op);
    this.#state = next;
  }

  /** Nothing to release. */
  close() {}
}

/** @param {Required<Persisted>} state @returns {Required<Persisted>} */
function copy(state) {
  return { confirmed: [...state.confirmed], outbox: [...state.outbox], retired: [...state.retired] };
}

/**
 * One persist op on an in-memory picture of the stored state.
 * @param {Required<Persisted>} state
 * @param {PersistOp} op
 */
export function applyOp(state, op) {
  switch (op.kind) {
    case "put_batch":
      state.outbox.push(op.batch);
      break;
    case "replace_last":
      state.outbox.splice(Math.max(0, state.outbox.length - 1), 1, op.batch);
      break;
    case "remove_batches": {
      const gone = new Set(op.keys);
      state.outbox = state.outbox.filter((b) => !gone.has(b.key));
      break;
    }
    case "replace_all":
      state.outbox = [...op.batches];
      break;
    case "append_confirmed":
      state.confirmed.push(op.update);
      break;
    case "compact_confirmed":
      state.confirmed = [op.update];
      break;
    case "retire_clients":
      for (const client of op.clients) if (!state.retired.includes(client)) state.retired.push(client);
      break;
    default:
      throw new TypeError(`unknown persist op ${/** @type {{kind: string}} */ (op).kind}`);
  }
}
