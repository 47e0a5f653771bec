// `SyncClient`: the browser (and Node) driver of the sans-IO `SyncMachine`.
//
// Everything that decides is in Rust (`SyncMachine`, shared with the native client): when
// to connect, back off and ping, what to send, persist and roll back. The driver only does
// the I/O it asks for, and this file exists to compose the parts that do it, each in its
// own file, and to give the app one object: the doc, the status, the events, start, stop
// and close. The parts, each depending on none of the others:
//
// - drain.js: the drain rule. After every input, carry out every action, forward every
//   report, arm the one timer at `machine.nextTimeout()`.
// - socket.js: one WebSocket per `open` action, binary frames, its events fed back by id.
// - persist_queue.js: persist ops written in order, batched into one store transaction, and
//   confirmed only when it completes; a failed write is kept, shown and retried.
// - page_life.js: `online`/`offline` and `visibilitychange` (slower heartbeat when hidden).
// - adoption.js: the outbox in IndexedDB under a Web Lock, and its takeover by a second tab.
// - open_conflicts.js: the conflict reports nobody has resolved yet (`conflicts()`).
// - presence.js: the local awareness entry and the others', sent on the open socket.
// - view.js, view-cache.js: the first screen from IndexedDB before the CRDT loads
//   (`onView`), then the view kept from the live doc (`view()`, the "view" event).

import { SyncMachine } from "../../dist/wasm/cardsync_wasm.js";
import { adopt, openStore } from "./adoption.js";
import { Drain } from "./drain.js";
import { OpenConflicts } from "./open_conflicts.js";
import { attachPageLife } from "./page_life.js";
import { PersistQueue } from "./persist_queue.js";
import { Presence } from "./presence.js";
import { Sockets } from "./socket.js";
import { clientStatus, sameStatus } from "./status.js";
import { LiveView, showFirstScreen } from "./view.js";

export class SyncClient {
  /** @type {SyncMachine} */
  #machine;
  #doc;
  /** @type {Drain} */
  #drain;
  /** @type {Sockets} */
  #sockets;
  /** @type {PersistQueue} */
  #queue;
  /** @type {Map<string, Set<Function>>} */
  #listeners = new Map();
  /** @type {OpenConflicts} */
  #conflicts;
  #storeError = null;
  #durable;
  #status;
  #closed = false;
  #release;
  #detach = () => {};
  #stopWaiting = () => {};
  /** The app's token callback, if `options.token` is one (sync or async). */
  #tokenSource;
  /** The token last sent, and whether it was fetched for the connection about to open. */
  #token;
  #fresh = false;
  /** The presence, and the hooks this driver calls on it. */
  #presence;
  #presenceDriver;
  /** The socket last opened, and the one presence goes out on (syncing or online). */
  #opened;
  #live;
  /** @type {LiveView | undefined} */
  #view;

  /** Use `SyncClient.open`. */
  constructor(machine, store, url, WebSocketImpl, durable, release, tokenSource) {
    this.#machine = machine;
    this.#tokenSource = tokenSource;
    this.#doc = machine.doc;
    this.#conflicts = new OpenConflicts(this.#doc);
    this.#durable = durable;
    this.#release = release;
    this.#status = this.#computeStatus();
    const closed = () => this.#closed;
    this.#sockets = new Sockets({
      url,
      WebSocket: WebSocketImpl,
      machine,
      input: (feed) => this.#drain.input(feed),
    });
    this.#queue = new PersistQueue(store, {
      written: (seq) => {
        this.#storeError = null;
        this.#drain.input(() => machine.persisted(seq));
      },
      failed: (error) => {
        this.#storeError = message(error);
        this.#emit("store_error", { message: this.#storeError });
        this.#publishStatus();
      },
      closed,
    });
    const sockets = this.#sockets;
    const queue = this.#queue;
    ({ presence: this.#presence, driver: this.#presenceDriver } = Presence.create({
      transmit: (frame) => this.#live !== undefined && sockets.send(this.#live, frame),
    }));
    this.#drain = new Drain(machine, {
      actions: {
        open: (id) => this.#open(id),
        send: (id, frame) => sockets.send(id, frame),
        close: (id, reason) => sockets.close(id, reason),
        persist: (op) => queue.push(op),
      },
      report: (report) => {
        if (report.type === "conflict") this.#conflicts.report(report.conflict);
        if (report.type === "awareness") this.#presenceDriver.receive(report.update);
        if (report.type === "connection") this.#connectionChanged(report.to.kind);
        this.#emit(report.type, report);
        if (report.type === "auth_denied" && this.#tokenSource) this.#refresh(report.reason);
      },
      settled: () => this.#publishStatus(),
      closed,
    });
  }

  /**
   * Opens a synced document: loads its outbox and confirmed state from the store, and
   * connects to `url` unless `online` is false.
   * @param {object} options
   */
  static async open(options) {
    const { url, schema, online = true, WebSocket: WebSocketImpl = globalThis.WebSocket } = options;
    if (typeof url !== "string") throw new TypeError("SyncClient.open: url must be a string");
    if (typeof WebSocketImpl !== "function") {
      throw new TypeError("SyncClient.open: no WebSocket here; pass options.WebSocket");
    }
    // The first screen (from the view cache) first: opening the outbox's store meanwhile
    // would compete with it for IndexedDB, and the CRDT load that follows takes far longer.
    const screen = await showFirstScreen(options);
    const { store, durable, release, takeover } = await openStore(options);
    let machine;
    let client;
    let view;
    try {
      const persisted = await store.load();
      machine = new SyncMachine(schema, machineOptions(options), persisted);
      if (screen) view = LiveView.open(machine.doc, screen.cache, await screen.cached, (change) => client.#emit("view", change));
    } catch (error) {
      takeover?.cancel();
      machine?.free();
      screen?.cache.close();
      store.close();
      release();
      throw error;
    }
    const tokenSource = typeof options.token === "function" ? options.token : undefined;
    client = new SyncClient(machine, store, url, WebSocketImpl, durable, release, tokenSource);
    client.#view = view;
    if (takeover) {
      client.#stopWaiting = takeover.cancel;
      takeover.owned.then((owned) => owned && client.#adopt(owned));
    }
    client.#detach = attachPageLife({
      network: (online) => {
        machine.setNetwork(online);
        client.#drain.run();
      },
      hidden: (hidden) => {
        machine.setHidden(hidden);
        client.#drain.run();
      },
      leaving: (leaving) => client.#presenceDriver.hidden(leaving),
    });
    if (online) machine.start();
    client.#drain.run();
    return client;
  }

  /** The local doc: read and write it like any `CardDoc`; writes are synced. */
  get doc() {
    return this.#doc;
  }

  /**
   * Who else has this document open, and this tab's own entry: `presence.set({ user, color,
   * card, field, cursor })`, `presence.others()`, `presence.on("change", …)`.
   */
  get presence() {
    return this.#presence;
  }

  /**
   * The view (plain objects: visible cards without rich-text fields, sequences, boards),
   * kept from the live doc; `undefined` without a view cache (no IndexedDB, `viewCache: false`).
   */
  view() {
    return this.#view?.snapshot();
  }

  /** The current status (a fresh plain object). */
  get status() {
    return this.#computeStatus();
  }

  /**
   * Listens to `type`: "status", "acked", "rejected", "conflict", "connection",
   * "auth_denied", "welcome", "store_error", "awareness", "view". Returns the unsubscribe function.
   */
  on(type, listener) {
    let set = this.#listeners.get(type);
    if (!set) this.#listeners.set(type, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  /**
   * Supplies a token (after an `unauthorized` status, or ahead of the next connection): the
   * client connects again at once if the server had refused the last one.
   * @param {string} token
   */
  setToken(token) {
    this.#token = token;
    // The next connection uses it, without asking the callback first.
    this.#fresh = true;
    this.#machine.setToken(token);
    this.#drain.run();
  }

  /** Connects (again): the opposite of `stop()`. */
  start() {
    this.#machine.start();
    this.#drain.run();
  }

  /** Disconnects and stays offline; edits keep queueing in the outbox. */
  stop() {
    this.#machine.stop();
    this.#drain.run();
  }

  /**
   * The open conflicts (of `card`, or all): reported clashes whose field nobody has written
   * since. Resolve one by writing the value to keep (`doc.setField`); see open_conflicts.js.
   * @param {string} [card]
   */
  conflicts(card) {
    return this.#conflicts.list(card);
  }

  /** Resolves once every edit made so far is acked (or rejected), or rejects on timeout. */
  whenSynced(timeoutMs = 10_000) {
    return this.#until((s) => s.pending === 0 && s.status === "online", timeoutMs);
  }

  /**
   * Disconnects (waiting up to a second for the socket's close handshake), writes what
   * waits for the store, and releases the store and the doc (`doc` is unusable after).
   */
  async close() {
    if (this.#closed) return;
    // The others see this tab's entry go at once, ahead of the close frame.
    this.#presenceDriver.close();
    this.#machine.stop();
    this.#drain.run();
    this.#closed = true;
    let waited;
    await Promise.race([
      this.#sockets.closed(),
      new Promise((resolve) => (waited = setTimeout(resolve, 1000))),
    ]);
    clearTimeout(waited);
    this.#detach();
    this.#conflicts.detach();
    this.#drain.stop();
    this.#queue.stop();
    this.#stopWaiting();
    // Edits made up to now reach the store, even those queued behind a running write.
    await this.#queue.flush();
    const unsaved = this.#queue.length;
    await this.#view?.close();
    this.#queue.store.close();
    this.#release();
    this.#doc.free();
    this.#machine.free();
    if (unsaved > 0) {
      throw new Error(`SyncClient.close: ${unsaved} changes could not be stored: ${this.#storeError}`);
    }
  }

  /**
   * The machine asks for a socket. With a token callback, the callback is asked first (on
   * every connection, unless it was just asked after a refusal), and the socket opens with
   * its answer; no answer (an error, or no token) is `unauthorized`, and no socket opens.
   */
  #open(id) {
    this.#opened = id;
    if (!this.#tokenSource || this.#fresh) {
      this.#fresh = false;
      this.#sockets.open(id);
      return;
    }
    this.#fetchToken().then(
      (token) => {
        if (this.#closed) return;
        this.#token = token;
        this.#machine.setToken(token);
        this.#sockets.open(id);
        this.#drain.run();
      },
      (error) => this.#drain.input(() => this.#machine.tokenRefused(message(error))),
    );
  }

  /**
   * The server refused the token: ask the callback for a new one. The same token again, an
   * error or no token leaves the status `unauthorized` with the reason, and the client
   * offline (no reconnect loop) until `setToken` or `start`.
   */
  #refresh(reason) {
    const refused = this.#token;
    this.#fetchToken().then(
      (token) => {
        if (token === refused) {
          this.#drain.input(() => this.#machine.tokenRefused(reason));
          return;
        }
        this.#token = token;
        this.#fresh = true;
        this.#drain.input(() => this.#machine.setToken(token));
      },
      (error) => this.#drain.input(() => this.#machine.tokenRefused(message(error))),
    );
  }

  /** The callback's token (awaited), or a rejection when it gives none. */
  async #fetchToken() {
    const token = await this.#tokenSource();
    if (typeof token !== "string" || token === "") throw new Error("no token from the token callback");
    return token;
  }

  /**
   * Presence goes out on a socket once it says hello (syncing) and until it drops; each new
   * socket gets the local entry again, and a dropped one takes everyone else's with it.
   */
  #connectionChanged(state) {
    if (state === "syncing" || state === "online") {
      if (this.#live === this.#opened) return;
      this.#live = this.#opened;
      this.#presenceDriver.connected();
    } else if (this.#live !== undefined) {
      this.#live = undefined;
      this.#presenceDriver.disconnected();
    }
  }

  /** This tab now owns the document's store: adopt what the last owner left there. */
  #adopt(owned) {
    return adopt(owned, {
      closed: () => this.#closed,
      failed: (error) => {
        this.#storeError = message(error);
        this.#publishStatus();
      },
      take: (store, release, persisted) => {
        // What waits for the memory store is superseded by what adoption issues.
        const memory = this.#queue.store;
        this.#queue.replace(store);
        memory.close();
        this.#release = release;
        this.#durable = true;
        this.#machine.adopt(persisted);
        this.#drain.run();
      },
    });
  }

  #until(done, timeoutMs) {
    // The status as of now: the last published one predates a write made since (the client
    // publishes once its drain has run), so `whenSynced()` right after a write would resolve.
    if (done(this.#computeStatus())) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`not synced within ${timeoutMs} ms: ${JSON.stringify(this.#status)}`));
      }, timeoutMs);
      const off = this.on("status", (status) => {
        if (!done(status)) return;
        clearTimeout(timer);
        off();
        resolve();
      });
    });
  }

  #emit(type, value) {
    for (const listener of [...(this.#listeners.get(type) ?? [])]) {
      try {
        listener(value);
      } catch (error) {
        if (typeof globalThis.reportError === "function") globalThis.reportError(error);
        else queueMicrotask(() => { throw error; });
      }
    }
  }

  #computeStatus() {
    return clientStatus(this.#machine.status(), {
      storeError: this.#storeError,
      durable: this.#durable,
    });
  }

  #publishStatus() {
    const next = this.#computeStatus();
    if (sameStatus(next, this.#status)) return;
    this.#status = next;
    this.#emit("status", { ...next });
  }
}

/** A store failure as the status shows it. */
function message(error) {
  return String(error?.message ?? error);
}

function machineOptions({ token, actor, session, connection }) {
  const options = {};
  if (typeof token === "string") options.token = token;
  if (actor !== undefined) options.actor = actor;
  if (session !== undefined) options.session = session;
  if (connection !== undefined) options.connection = connection;
  return options;
}
