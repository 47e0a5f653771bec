// Types of `MuxClient` (mux.js): many documents over one connection.

import type { SyncClient, SyncClientOptions, WebSocketConstructor } from "./client.js";

/** Options of `new MuxClient`: the endpoint, and defaults for every `open`. */
export interface MuxClientOptions extends Partial<Omit<SyncClientOptions, "url" | "token">> {
  /** The server's multiplexed endpoint, e.g. `ws://127.0.0.1:4455/ws`. */
  url: string;
  /** The WebSocket constructor (default: the global one; in Node, pass `ws`'s). */
  WebSocket?: WebSocketConstructor;
}

/** One WebSocket to `/ws`, shared by many documents (docs/design.md §6). */
export declare class MuxClient {
  constructor(options: MuxClientOptions);
  /** Opens `doc` with `token` over the shared connection; the same API as `SyncClient.open`. */
  open(
    doc: string,
    token: string,
    options?: Partial<Omit<SyncClientOptions, "url" | "token" | "WebSocket">>,
  ): Promise<SyncClient>;
  /** Closes the shared connection; every document's socket closes with it. */
  close(): void;
}
