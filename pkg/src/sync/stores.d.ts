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
