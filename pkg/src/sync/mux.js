// `MuxClient`: many documents over one WebSocket to the server's multiplexed endpoint (`/ws`,
// docs/design.md §6, "Many rooms over one socket"). `mux.open(doc, token)` returns a
// `SyncClient` for that document, with the same API as one that has a socket of its own.
//
// How, without touching the client: a `SyncClient` takes a WebSocket constructor, and opens
// one socket per `open` action of its `SyncMachine`. Here each of those sockets is a *room*
// of the shared connection (`RoomSocket`, WebSocket-shaped): constructing it joins the
// document under a fresh room id, `send` puts the room id in front, `close` leaves, and the
// server's error frame for the room is the socket's close, with the code a socket of its own
// would have closed with. So the machine, its backoff and its outbox work as they do on a
// socket of their own; a refused token or a dropped room touches one document, and only the
// shared connection dropping closes every room at once. The shared connection opens when the
// first room needs it and reconnects when a room asks again after it dropped.

import { SyncClient } from "./client.js";
import { decodeFrame, joinFrame, leaveFrame, messageFrame } from "./mux_frame.js";

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 3;

/** The largest message reassembled from pieces (the Rust client's bound too). */
const MAX_MESSAGE = 64 << 20;

export class MuxClient {
  #url;
  #WebSocket;
  #defaults;
  /** @type {WebSocket | undefined} */
  #socket;
  /** @type {Map<number, RoomSocket>} */
  #rooms = new Map();
  /** @type {Map<number, Uint8Array[]>} pieces of a fragmented message, per room */
  #pieces = new Map();
  #nextRoom = 1;

  /**
   * @param {object} options
   * @param {string} options.url the multiplexed endpoint, e.g. `ws://127.0.0.1:4455/ws`
   * @param {object} [options.WebSocket] the WebSocket constructor (default: the global one)
   * @param {object} [options.*] every other option is a default of `open` (schema, store, …)
   */
  constructor({ url, WebSocket: WebSocketImpl = globalThis.WebSocket, ...defaults }) {
    if (typeof url !== "string") throw new TypeError("MuxClient: url must be a string");
    if (typeof WebSocketImpl !== "function") {
      throw new TypeError("MuxClient: no WebSocket here; pass options.WebSocket");
    }
    this.#url = url;
    this.#WebSocket = WebSocketImpl;
    this.#defaults = defaults;
  }

  /**
   * Opens document `doc` with `token` over the shared connection: a `SyncClient`.
   * @param {string} doc
   * @param {string} token
   * @param {object} [options] as `SyncClient.open`'s, over the constructor's defaults
   */
  open(doc, token, options = {}) {
    if (typeof doc !== "string") throw new TypeError("MuxClient.open: doc must be a string");
    const mux = this;
    class Socket extends RoomSocket {
      constructor() {
        super(mux, doc);
      }
    }
    return SyncClient.open({
      ...this.#defaults,
      ...options,
      token,
      url: `${this.#url}#${doc}`,
      WebSocket: Socket,
    });
  }

  /** Closes the shared connection (every room's socket closes with it). */
  close() {
    this.#socket?.close(1000, "closed by the client");
  }

  /** Called by a new RoomSocket: its room id, and the join once the connection is open. */
  join(room) {
    const id = this.#nextRoom++;
    this.#rooms.set(id, room);
    const socket = this.#connection();
    if (socket.readyState === OPEN) this.#joined(socket, id, room);
    return id;
  }

  /** A room's message. */
  send(id, message) {
    if (this.#socket?.readyState === OPEN && this.#rooms.has(id)) {
      this.#socket.send(messageFrame(id, message));
    }
  }

  /** A room's close: leave it. */
  leave(id) {
    if (!this.#rooms.delete(id)) return;
    this.#pieces.delete(id);
    if (this.#socket?.readyState === OPEN) this.#socket.send(leaveFrame(id));
  }

  #joined(socket, id, room) {
    socket.send(joinFrame(id, room.doc));
    room.opened();
  }

  #connection() {
    const current = this.#socket;
    if (current && (current.readyState === CONNECTING || current.readyState === OPEN)) {
      return current;
    }
    const socket = new this.#WebSocket(this.#url);
    socket.binaryType = "arraybuffer";
    this.#socket = socket;
    socket.onopen = () => {
      for (const [id, room] of this.#rooms) {
        if (room.readyState === CONNECTING) this.#joined(socket, id, room);
      }
    };
    socket.onmessage = (event) => {
      if (event.data instanceof ArrayBuffer) this.#frame(new Uint8Array(event.data));
    };
    socket.onclose = (event) => {
      if (this.#socket === socket) this.#socket = undefined;
      const rooms = [...this.#rooms.values()];
      this.#rooms.clear();
      this.#pieces.clear();
      for (const room of rooms) room.closed(event.code ?? 1006, event.reason ?? "");
    };
    socket.onerror = () => {};
    return socket;
  }

  #frame(bytes) {
    let frame;
    try {
      frame = decodeFrame(bytes);
    } catch (error) {
      console.warn(`cardsync MuxClient: ${error.message}`);
      return;
    }
    const room = this.#rooms.get(frame.room);
    if (frame.kind === "fragment") {
      const pieces = this.#pieces.get(frame.room) ?? [];
      pieces.push(frame.body.slice());
      const size = pieces.reduce((n, p) => n + p.length, 0);
      if (size > MAX_MESSAGE) this.#pieces.delete(frame.room);
      else this.#pieces.set(frame.room, pieces);
    } else if (frame.kind === "message") {
      const pieces = this.#pieces.get(frame.room);
      this.#pieces.delete(frame.room);
      const whole = pieces ? join([...pieces, frame.body]) : frame.body;
      room?.message(whole);
    } else {
      this.#rooms.delete(frame.room);
      this.#pieces.delete(frame.room);
      room?.closed(frame.closeCode, `${frame.code}: ${frame.reason}`);
    }
  }
}

function join(pieces) {
  const out = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const piece of pieces) {
    out.set(piece, at);
    at += piece.length;
  }
  return out;
}

/**
 * One room of a `MuxClient`, shaped like the WebSocket that `SyncClient`'s sockets use:
 * `binaryType`, `readyState`, `onopen`/`onmessage`/`onerror`/`onclose`, `send`, `close`, and
 * `addEventListener("close")`. Events are delivered from a microtask, as a socket's would be
 * from the event loop, never inside the call that caused them.
 */
class RoomSocket {
  binaryType = "arraybuffer";
  readyState = CONNECTING;
  onopen = null;
  onmessage = null;
  onerror = null;
  onclose = null;
  #mux;
  #id;
  /** @type {Set<Function>} */
  #closeListeners = new Set();

  constructor(mux, doc) {
    this.doc = doc;
    this.#mux = mux;
    this.#id = mux.join(this);
  }

  send(message) {
    if (this.readyState === OPEN) this.#mux.send(this.#id, message);
  }

  close() {
    if (this.readyState === CLOSED) return;
    this.#mux.leave(this.#id);
    this.closed(1000, "closed by the client");
  }

  addEventListener(type, listener) {
    if (type === "close") this.#closeListeners.add(listener);
  }

  /** The shared connection joined the room. */
  opened() {
    if (this.readyState !== CONNECTING) return;
    this.readyState = OPEN;
    queueMicrotask(() => this.onopen?.({ type: "open" }));
  }

  /** A whole message arrived for the room. */
  message(bytes) {
    if (this.readyState !== OPEN) return;
    const data = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    queueMicrotask(() => this.onmessage?.({ type: "message", data }));
  }

  /** The room is gone (left, an error frame, or the shared connection closed). */
  closed(code, reason) {
    if (this.readyState === CLOSED) return;
    const wasConnecting = this.readyState === CONNECTING;
    this.readyState = CLOSED;
    queueMicrotask(() => {
      if (wasConnecting) this.onerror?.({ type: "error" });
      const event = { type: "close", code, reason, wasClean: code === 1000 };
      this.onclose?.(event);
      for (const listener of this.#closeListeners) listener(event);
    });
  }
}
