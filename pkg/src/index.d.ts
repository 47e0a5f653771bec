// The public types of `cardsync`. The classes, functions and data shapes are generated from the
// Rust bindings (with their doc comments) into dist/wasm/cardsync_wasm.d.ts; this file only
// picks the public ones and declares what the JS entry points add.

export {
  CardDoc,
  mergeUpdatesV1,
  mergeUpdatesV2,
  newId,
  SyncMachine,
} from "../dist/wasm/cardsync_wasm.js";
export { SyncClient } from "./sync/client.js";
export { MuxClient } from "./sync/mux.js";
export type {
  ClientStatus,
  OutboxStore,
  SyncClientEvents,
  SyncClientOptions,
  View,
  ViewCard,
  ViewChange,
  WebSocketConstructor,
} from "./sync/client.js";
export type {
  Presence,
  PresenceChange,
  PresenceCursor,
  PresenceJson,
  PresencePeer,
  PresenceState,
} from "./sync/presence.js";
export { FileStore, IndexedDbStore, MemoryStore } from "./sync/stores.js";
export { LiveQuery, liveQuery } from "./query.js";
export type { Query, QueryDelta } from "./query.js";
export type {
  Attributes,
  BatchId,
  BoardKind,
  BoardView,
  Card,
  CardKind,
  ChangeBatch,
  ChangeEvent,
  ChangeListener,
  ColumnView,
  Composite,
  Conflict,
  ConnectionCause,
  ConnectionConfig,
  ConnectionState,
  DanglingEdge,
  DanglingReason,
  DocExport,
  DocOptions,
  ErrorCode,
  Failure,
  FieldDef,
  FieldKind,
  FieldValue,
  IntegrityReport,
  Op,
  Origin,
  OutboxLimits,
  Persisted,
  PersistOp,
  Place,
  RejectCode,
  Relationship,
  RelationshipKind,
  Schema,
  SessionConfig,
  Shape,
  Stamp,
  StoredBatch,
  SyncAction,
  SyncOptions,
  SyncReport,
  SyncStatus,
  TextRun,
  Unsubscribe,
  Value,
  ValueType,
} from "../dist/wasm/cardsync_wasm.js";

import type { ErrorCode } from "../dist/wasm/cardsync_wasm.js";

/**
 * Every error cardsync throws: bad arguments, refused writes, malformed bytes. Branch on
 * `code`, which is stable; `message` is for people.
 */
export declare class CardsyncError extends Error {
  private constructor(code: ErrorCode, message: string);
  readonly name: "CardsyncError";
  /** What went wrong, e.g. `"decode_error"`, `"unknown_card"`, `"schema_violation"`. */
  readonly code: ErrorCode;
}

/**
 * Loads the wasm module. Browsers and bundlers: `await init()` once before anything else
 * (optionally passing the `.wasm` URL, bytes or compiled module). Node: optional, the module
 * is ready at import.
 */
export declare function init(
  wasm?: string | URL | ArrayBuffer | Uint8Array | WebAssembly.Module,
): Promise<void>;
