// Types of the outbox stores.

import type { Persisted, PersistOp } from "../../dist/wasm/cardsync_wasm.js";
import type { OutboxStore } from "./client.js";

/** The outbox in IndexedDB, one database per document, strict durability. */
export declare class IndexedDbStore implements OutboxStore {
  private constructor();
  /** Opens (creating if needed) the database `name`. */
  static open(name: string): Promise<IndexedDbStore>;
  load(): Promise<Persisted>;
  apply(ops: PersistOp[]): Promise<void>;
  close(): void;
}

/** The outbox in memory: nothing survives a reload. */
export declare class MemoryStore implements OutboxStore {
  load(): Promise<Persisted>;
  apply(ops: PersistOp[]): Promise<void>;
  close(): void;
}

/**
 * The outbox in a file, for Node: an append-only log, each `apply` synced to disk before it
 * resolves; survives a crash or `kill -9`.
 */
export declare class FileStore implements OutboxStore {
  private constructor();
  /** Opens (creating if needed) the store at `path`. */
  static open(path: string): Promise<FileStore>;
  load(): Promise<Persisted>;
  apply(ops: PersistOp[]): Promise<void>;
  close(): void;
}
