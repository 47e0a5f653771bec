// Types of `SyncClient`, the WebSocket and store driver of `SyncMachine`.

import type {
  BoardView,
  CardDoc,
  Conflict,
  ConnectionConfig,
  Persisted,
  PersistOp,
  Schema,
  SessionConfig,
  SyncReport,
  FieldValue,
} from "../../dist/wasm/cardsync_wasm.js";
import type { Presence } from "./presence.js";

/** A card as the view shows it: every field but rich-text (`text`) fields; no stamps. */
export interface ViewCard {
  id: string;
  kind: string;
  fields: { [name: string]: FieldValue };
}

/**
 * What a board shows, as plain objects: visible cards, each sequence's order, each board's
 * columns with their cards. From the view cache before the doc is live (`onView`), then kept
 * from the live doc (`SyncClient.view()`).
 */
export interface View {
  /** Visible cards by id; before the doc is live, only those of the first 50 places of each list. */
  cards: { [id: string]: ViewCard };
  sequences: { [id: string]: string[] };
  boards: { [id: string]: BoardView };
  /** Whether `cards` holds every visible card (false for the cached first screen). */
  complete: boolean;
  /** Whether it was read from the live doc (false for the cached first screen). */
  live: boolean;
}

/** What one change batch changed in the view (the "view" event). */
export interface ViewChange {
  /** Cards created, restored or whose shown fields changed. */
  cards: string[];
  /** Cards no longer visible (deleted, or rolled back). */
  removed: string[];
  sequences: string[];
  boards: string[];
}

/** Where a client keeps its outbox and confirmed state (`IndexedDbStore`, `MemoryStore`). */
export interface OutboxStore {
  /** Everything stored, oldest first. */
  load(): Promise<Persisted>;
  /** Carries out persist ops in order, all or none. */
  apply(ops: PersistOp[]): Promise<void>;
  /** Releases the store. */
  close(): void;
}

/** The WebSocket constructor to use (the browser's, or e.g. the `ws` package's in Node). */
export type WebSocketConstructor = new (url: string) => WebSocket;

/** Options of `SyncClient.open`. */
export interface SyncClientOptions {
  /** The room's URL, e.g. `ws://localhost:4455/rooms/board`. */
  url: string;
  /** The document schema (the same the server validates against). */
  schema: Schema;
  /**
   * The bearer token (`cardsync-server token --doc board --role editor`), or a callback
   * (sync or async) the client calls before each connection and when the server refuses the
   * token (e.g. `"token expired"`). A callback that throws or gives no token, or gives the
   * refused token again, leaves the status `unauthorized` with the reason, and the client
   * offline (no reconnect loop) until `setToken()` or `start()`; no edit is lost meanwhile.
   */
  token?: string | (() => string | Promise<string>);
  /** The actor written into the stamps of local writes. */
  actor?: string;
  /**
   * The store. Default: IndexedDB (database `cardsync:<name>`) when this tab can own the
   * document's outbox, else memory (`status.durable` is then false).
   */
  store?: OutboxStore;
  /** Names the document's IndexedDB database and Web Lock; default: the URL. */
  name?: string;
  /** Connect at once (default true); `false` starts offline until `start()`. */
  online?: boolean;
  /** Default: `globalThis.WebSocket`. */
  WebSocket?: WebSocketConstructor;
  session?: SessionConfig;
  connection?: ConnectionConfig;
  /**
   * Keep a view cache in IndexedDB (database `cardsync:<name>:view`) for a first screen
   * before the CRDT loads (default true where there is IndexedDB).
   */
  viewCache?: boolean;
  /**
   * Called once during `open`, before the CRDT loads, with the cached first screen (when
   * there is one); `open` lets the page paint before it loads the CRDT. Once `open`
   * resolves, read `view()`: it is reconciled with the live doc (a card deleted meanwhile
   * is gone from it).
   */
  onView?: (view: View) => void;
}

/** What a UI shows about sync. Times are `Date.now()` milliseconds. */
export interface ClientStatus {
  /** The connection: `backoff` waits until `nextRetryAt` before trying again. */
  status: "offline" | "connecting" | "syncing" | "online" | "backoff" | "unauthorized";
  /** Why the server refused the token (or none could be had); `null` otherwise. */
  unauthorized: string | null;
  nextRetryAt: number | null;
  /** Local changes the server has not acked yet. */
  pending: number;
  /** Age of the oldest of them. */
  oldestPendingMs: number | null;
  /** When the last ack arrived. */
  lastAckAt: number | null;
  /** The last rejected (and rolled back) change. */
  lastRejection: { code: string; reason: string; at: number } | null;
  /** Smoothed round-trip time to the server. */
  rttMs: number | null;
  /** Why the last connection attempt failed, e.g. `"socket_closed"`. */
  lastFailure: string | null;
  /** Whether the server acks changes (false behind a stock y-websocket server). */
  serverAcks: boolean;
  /** The store's last failure while edits wait to be written; `null` when healthy. */
  storeError: string | null;
  /** Whether the outbox survives a reload (IndexedDB owned by this tab). */
  durable: boolean;
}

type ReportOf<T extends SyncReport["type"]> = Extract<SyncReport, { type: T }>;

/** Event types of `SyncClient.on` and what their listeners receive. */
export interface SyncClientEvents {
  status: ClientStatus;
  acked: ReportOf<"acked">;
  rejected: ReportOf<"rejected">;
  conflict: ReportOf<"conflict">;
  connection: ReportOf<"connection">;
  auth_denied: ReportOf<"auth_denied">;
  welcome: ReportOf<"welcome">;
  awareness: ReportOf<"awareness">;
  store_error: { message: string };
  view: ViewChange;
}

/**
 * A synced document: an optimistic local doc whose writes go into a durable outbox, are
 * sent over a WebSocket, and are acked by the server or rejected and rolled back.
 */
export declare class SyncClient {
  private constructor();
  /** Loads the outbox from the store and connects (unless `online: false`). */
  static open(options: SyncClientOptions): Promise<SyncClient>;
  /** The local doc: read and write it like any `CardDoc`. */
  readonly doc: CardDoc;
  /** The current status. */
  readonly status: ClientStatus;
  /** Who else has this document open, and this tab's own entry (`presence.set(…)`). */
  readonly presence: Presence;

  /**
   * The view kept from the live doc (`complete` and `live` true), or `undefined` without a
   * view cache (no IndexedDB, or `viewCache: false`). The same object until the next change
   * (treat it as read-only); after one, a new object that re-reads only what changed.
   */
  view(): View | undefined;
  /** Calls `listener` on each event of `type`; returns the function that stops it. */
  on<K extends keyof SyncClientEvents>(
    type: K,
    listener: (event: SyncClientEvents[K]) => void,
  ): () => void;
  /** Supplies a token; after an `unauthorized` status the client connects again at once. */
  setToken(token: string): void;
  /** Connects (again). */
  start(): void;
  /** Disconnects and stays offline; edits keep queueing. */
  stop(): void;
  /**
   * The open conflicts, oldest first, of `card` or of every card: clashes the "conflict"
   * event reported whose field nobody has written since. Writing the field (the value to
   * keep, on this replica or any other) resolves one. In memory: a reload forgets them.
   */
  conflicts(card?: string): Conflict[];
  /** Resolves once online with nothing pending; rejects after `timeoutMs` (default 10 s). */
  whenSynced(timeoutMs?: number): Promise<void>;
  /** Disconnects, finishes store writes, releases everything. */
  close(): Promise<void>;
}
