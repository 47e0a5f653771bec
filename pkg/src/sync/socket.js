// The WebSockets the `SyncMachine` asks for: one per `open` action, binary frames, and each
// socket's events fed back to the machine under the id the machine gave it.
//
// Why a file of its own: sockets live on their own clock. Their events arrive at any time
// and must each become one machine input followed by a drain, and a close is not done when
// it is asked for: `SyncClient.close` waits (bounded) for the handshakes still under way.

/** @typedef {import("../../dist/wasm/cardsync_wasm.js").SyncMachine} SyncMachine */

/** The open sockets of one client, by the machine's socket id. */
export class Sockets {
  /** @type {Map<number, WebSocket>} */
  #sockets = new Map();
  /** Sockets asked to close whose close has not completed yet. */
  #closing = new Set();
  #url;
  #WebSocket;
  /** @type {SyncMachine} */
  #machine;
  /** @type {(feed: () => void) => void} */
  #input;

  /**
   * @param {object} options
   * @param {string} options.url the room's URL
   * @param {new (url: string) => WebSocket} options.WebSocket the constructor to use
   * @param {SyncMachine} options.machine receives the sockets' events
   * @param {(feed: () => void) => void} options.input feeds the machine one input and drains
   */
  constructor({ url, WebSocket, machine, input }) {
    this.#url = url;
    this.#WebSocket = WebSocket;
    this.#machine = machine;
    this.#input = input;
  }

  /** Opens socket `id`; a constructor that throws is a socket error. @param {number} id */
  open(id) {
    let socket;
    try {
      socket = new this.#WebSocket(this.#url);
    } catch {
      this.#input(() => this.#machine.socketError(id));
      return;
    }
    socket.binaryType = "arraybuffer";
    this.#sockets.set(id, socket);
    const input = this.#input;
    socket.onopen = () => input(() => this.#machine.socketOpened(id));
    socket.onmessage = (event) =>
      input(() => {
        if (!(event.data instanceof ArrayBuffer)) return;
        try {
          this.#machine.frame(id, new Uint8Array(event.data));
        } catch {
          // A frame that does not decode: the machine dropped the socket and will reconnect.
        }
      });
    socket.onerror = () => input(() => this.#machine.socketError(id));
    socket.onclose = (event) =>
      input(() => {
        this.#sockets.delete(id);
        this.#machine.socketClosed(id, event.code);
      });
  }

  /** @param {number} id @param {Uint8Array} frame */
  send(id, frame) {
    this.#sockets.get(id)?.send(frame);
  }

  /**
   * Closes socket `id`, the reason cut to what a close frame holds.
   * @param {number} id
   * @param {string} reason
   */
  close(id, reason) {
    const socket = this.#sockets.get(id);
    this.#sockets.delete(id);
    if (!socket) return;
    const closed = new Promise((resolve) => {
      if (socket.readyState === 3) resolve();
      else socket.addEventListener("close", () => resolve(), { once: true });
    });
    this.#closing.add(closed);
    closed.then(() => this.#closing.delete(closed));
    socket.close(1000, reason.slice(0, 100));
  }

  /** Resolves once every close asked for so far has completed. */
  closed() {
    return Promise.all(this.#closing);
  }
}
