// An outbox store in a file, for Node: the outbox and the confirmed state survive the process
// (a crash, `kill -9`, a restart), as IndexedDB's do in a browser. Without it a Node app's
// edits lived only in memory.
//
// The file is an append-only log of lines, one `apply` each: `{"ops":[...]}`, written and
// `fdatasync`ed before `apply` resolves, so a persist op counts as done (and its batch may be
// sent) only once it is on disk. A crash can tear only the last line, which no caller was
// told had been stored; `open` drops it (and truncates the file back). Every so often the log
// is folded into one `{"snapshot":{...}}` line, written to a temporary file, synced and
// renamed over the log (then the directory synced), so the file stays the size of the state.
// Bytes travel as base64 (`{"$b64": "..."}`). Node only: the `node:fs` import happens in
// `open`, so browsers can load this module and never call it.

import { CardsyncError } from "../error.js";
import { applyOp } from "./memory-store.js";

/** @typedef {import("../../dist/wasm/cardsync_wasm.js").Persisted} Persisted */
/** @typedef {import("../../dist/wasm/cardsync_wasm.js").PersistOp} PersistOp */

/** Lines after which the log is folded into a snapshot. */
const FOLD_AFTER = 1000;

const replacer = (_key, value) =>
  value instanceof Uint8Array
    ? { $b64: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64") }
    : value;

const reviver = (_key, value) =>
  value !== null && typeof value === "object" && typeof value.$b64 === "string"
    ? new Uint8Array(Buffer.from(value.$b64, "base64"))
    : value;

/** The outbox and confirmed state in one file (see the module comment). */
export class FileStore {
  #fs;
  #path;
  #handle;
  /** @type {Required<Persisted>} */
  #state;
  #lines;

  /** Use `FileStore.open`. */
  constructor(fs, path, handle, state, lines) {
    this.#fs = fs;
    this.#path = path;
    this.#handle = handle;
    this.#state = state;
    this.#lines = lines;
  }

  /**
   * Opens (creating if needed) the store at `path`, replaying its log.
   * @param {string} path
   * @returns {Promise<FileStore>}
   */
  static async open(path) {
    if (typeof process === "undefined" || !process.versions?.node) {
      throw new CardsyncError("invalid_argument", "FileStore needs Node.js; browsers use IndexedDbStore");
    }
    const fs = await import("node:fs/promises");
    const handle = await fs.open(path, "a+");
    try {
      const text = (await handle.readFile()).toString("utf8");
      const state = { confirmed: [], outbox: [], retired: [] };
      let good = 0;
      let lines = 0;
      let at = 0;
      while (at < text.length) {
        const end = text.indexOf("\n", at);
        if (end === -1) break; // a torn last line: never confirmed to anyone
        const line = text.slice(at, end);
        let entry;
        try {
          entry = JSON.parse(line, reviver);
        } catch {
          throw new CardsyncError("decode_error", `FileStore ${path}: damaged line ${lines + 1}`);
        }
        if (entry.snapshot) {
          state.confirmed = entry.snapshot.confirmed;
          state.outbox = entry.snapshot.outbox;
          state.retired = entry.snapshot.retired ?? [];
        } else {
          for (const op of entry.ops) applyOp(state, op);
        }
        at = end + 1;
        good = Buffer.byteLength(text.slice(0, at), "utf8");
        lines += 1;
      }
      if (good < Buffer.byteLength(text, "utf8")) {
        await handle.truncate(good);
        await handle.sync();
      }
      return new FileStore(fs, path, handle, state, lines);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** What the store holds. @returns {Promise<Persisted>} */
  async load() {
    const s = this.#state;
    return { confirmed: [...s.confirmed], outbox: [...s.outbox], retired: [...s.retired] };
  }

  /**
   * Carries out persist ops, in order, all or none: one line, on disk before this resolves.
   * @param {PersistOp[]} ops
   */
  async apply(ops) {
    const next = await this.load();
    for (const op of ops) applyOp(next, op);
    await this.#handle.write(`${JSON.stringify({ ops }, replacer)}\n`);
    await this.#handle.datasync();
    this.#state = next;
    this.#lines += 1;
    if (this.#lines >= FOLD_AFTER) await this.#fold();
  }

  /** Closes the file. */
  close() {
    this.#handle.close().catch(() => {});
  }

  /** Rewrites the log as one snapshot line: temporary file, sync, rename, sync the directory. */
  async #fold() {
    const fs = this.#fs;
    const tmp = `${this.#path}.tmp`;
    const out = await fs.open(tmp, "w");
    try {
      await out.write(`${JSON.stringify({ snapshot: this.#state }, replacer)}\n`);
      await out.sync();
    } finally {
      await out.close();
    }
    await fs.rename(tmp, this.#path);
    const { dirname } = await import("node:path");
    const dir = await fs.open(dirname(this.#path), "r");
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
    await this.#handle.close();
    this.#handle = await fs.open(this.#path, "a+");
    this.#lines = 1;
  }
}
