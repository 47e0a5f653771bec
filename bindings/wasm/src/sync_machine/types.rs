//! The TypeScript shapes of the sync machine's options, actions, reports and status, so the
//! `.d.ts` has no `any`. They mirror the serde shapes of `cardsync_sync` (camelCase fields, snake_case tags,
//! durations and instants in milliseconds, `null` for absent values).

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** Bounds of the outbox: past them local writes throw `outbox_full`. */
export interface OutboxLimits {
  maxBatches: number;
  maxBytes: number;
  /** Largest batch offline compaction builds. */
  compactMaxBytes: number;
}

/** Settings of the sync session; every field is optional. */
export interface SessionConfig {
  outbox?: OutboxLimits;
  /** How many conflicts the log keeps. */
  conflictLog?: number;
  /** Compact the outbox while offline once this many batches wait. */
  compactAfter?: number;
  /** Largest frame accepted from the server, in bytes. */
  maxFrame?: number;
  /** Compact the persisted confirmed state after this many appended updates. */
  confirmedLog?: number;
  /** First wait before resending a rate-limited batch, in ms (doubles per refusal). */
  retryBaseMs?: number;
  /** Longest such wait, in ms. */
  retryCapMs?: number;
}

/** Backoff, heartbeat and timeouts, in milliseconds; every field is optional. */
export interface ConnectionConfig {
  backoffBase?: number;
  backoffCap?: number;
  backoffMultiplier?: number;
  /** Symmetric jitter as a fraction of the delay, 0 to 1. */
  backoffJitter?: number;
  heartbeatInterval?: number;
  heartbeatIntervalHidden?: number;
  missedPongsBeforeDead?: number;
  connectTimeout?: number;
  syncTimeout?: number;
}

/** Options of `SyncMachine` (and `SyncClient`). */
export interface SyncOptions {
  /** The bearer token sent in the hello (`cardsync-server token` makes one). */
  token?: string;
  /** The actor written into the stamps of local writes. */
  actor?: string;
  session?: SessionConfig;
  connection?: ConnectionConfig;
}

/** An outbox batch as a store keeps it: `meta` is its JSON without the update. */
export interface StoredBatch {
  /** `"client:seq"`, unique per batch. */
  key: string;
  meta: string;
  update: Uint8Array;
}

/**
 * What a store loads back: confirmed updates and outbox batches, oldest first, and the client
 * ids a rollback retired (absent in stores written before they were kept).
 */
export interface Persisted {
  confirmed: Uint8Array[];
  outbox: StoredBatch[];
  retired?: number[];
}

/** One change to persisted state; carry them out in order, then confirm `seq`. */
export type PersistOp =
  | { kind: "put_batch"; seq: number; batch: StoredBatch }
  | { kind: "replace_last"; seq: number; batch: StoredBatch }
  | { kind: "remove_batches"; seq: number; keys: string[] }
  | { kind: "replace_all"; seq: number; batches: StoredBatch[] }
  | { kind: "append_confirmed"; seq: number; update: Uint8Array }
  | { kind: "compact_confirmed"; seq: number; update: Uint8Array }
  | { kind: "retire_clients"; seq: number; clients: number[] };

/** What the machine asks its driver to do. */
export type SyncAction =
  | { kind: "open"; socket: number }
  | { kind: "send"; socket: number; frame: Uint8Array }
  | { kind: "close"; socket: number; reason: string }
  | { kind: "persist"; op: PersistOp };

/** Why a connection attempt or connection failed. */
export type Failure =
  | { kind: "socket_error" }
  | { kind: "socket_closed"; code: number }
  | { kind: "connect_timeout" }
  | { kind: "sync_timeout" }
  | { kind: "heartbeat_timeout" };

/** The connection's state; `retryAt` is in `Date.now()` milliseconds. */
export type ConnectionState =
  | { kind: "offline" }
  | { kind: "connecting" }
  | { kind: "syncing" }
  | { kind: "online" }
  | { kind: "backoff"; retryAt: number };

/** What moved the connection to a new state. */
export type ConnectionCause =
  | { kind: "started" }
  | { kind: "stopped" }
  | { kind: "network_offline" }
  | { kind: "network_online" }
  | { kind: "socket_opened" }
  | { kind: "synced" }
  | { kind: "retry_due" }
  | { kind: "failed"; failure: Failure };

/** Why the server refused a batch. */
export type RejectCode =
  | "malformed"
  | "schema_violation"
  | "invalid_transition"
  | "forbidden"
  | "too_large"
  | "depends_on_rejected"
  | "rate_limited"
  | "rejected_by_validator";

/** Two writers set the same field concurrently; `winner` is what the document holds. */
export interface Conflict {
  card: string;
  field: string;
  local: Value;
  remote: Value;
  winner: Value;
}

/** What the machine reports, besides document changes (those go to `doc.subscribe`). */
export type SyncReport =
  | { type: "acked"; batches: string[] }
  | { type: "rejected"; batch: string; code: RejectCode; reason: string; vanished: Op[] }
  | { type: "conflict"; conflict: Conflict }
  | { type: "auth_denied"; reason: string }
  | { type: "welcome"; version: number; role: string }
  | { type: "connection"; from: ConnectionState; to: ConnectionState; cause: ConnectionCause }
  | { type: "awareness"; update: Uint8Array };

/** A batch id: the client id that made it and its number there. */
export interface BatchId {
  client: number;
  seq: number;
}

/** The machine's status: the connection's and the session's. Times in `Date.now()` ms. */
export interface SyncStatus {
  connection: {
    state: ConnectionState;
    wanted: boolean;
    networkOnline: boolean;
    hidden: boolean;
    nextRetryAt: number | null;
    consecutiveFailures: number;
    lastFailure: Failure | null;
    socket: number | null;
    onlineSince: number | null;
    /** Smoothed round-trip time, in ms. */
    rtt: { srtt: number; rttvar: number; latest: number; samples: number } | null;
    lastPongAt: number | null;
    lastReceivedAt: number | null;
  };
  session: {
    /** Batches not yet acked. */
    pending: number;
    oldestPendingMs: number | null;
    lastAck: [BatchId, number] | null;
    lastRejection: { batch: BatchId; code: RejectCode; reason: string; at: number } | null;
    /** Whether the server acks batches (`false` behind a stock y-websocket server). */
    serverAcks: boolean;
    nextRetry: number | null;
  };
  /** Why the server refused the token (or none could be had), until a new one comes; the
   * machine stays offline meanwhile. */
  unauthorized: string | null;
}
"#;

#[wasm_bindgen]
extern "C" {
    /// `SyncOptions` in TypeScript.
    #[wasm_bindgen(typescript_type = "SyncOptions")]
    pub type JsSyncOptions;
    /// `Persisted` in TypeScript.
    #[wasm_bindgen(typescript_type = "Persisted")]
    pub type JsPersisted;
    /// `SyncAction` in TypeScript.
    #[wasm_bindgen(typescript_type = "SyncAction")]
    pub type JsSyncAction;
    /// `SyncReport` in TypeScript.
    #[wasm_bindgen(typescript_type = "SyncReport")]
    pub type JsSyncReport;
    /// `SyncStatus` in TypeScript.
    #[wasm_bindgen(typescript_type = "SyncStatus")]
    pub type JsSyncStatus;
}
