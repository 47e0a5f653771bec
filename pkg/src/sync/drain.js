// The drain rule, the one way `SyncClient` drives its sans-IO `SyncMachine`: after every
// input (a call of the app, a socket event, the timer, a finished store write), carry out
// every action the machine asks for and forward every report, until nothing moves; then arm
// the one timer at `machine.nextTimeout()` and let the client publish its status.
//
// Why a file of its own: every other part feeds the machine through `input` (or `run`) and
// none polls it, so the order of inputs, actions and reports is decided here and nowhere
// else. It also holds the vocabulary of actions (`carryOut`): each kind is routed by name,
// and a kind nobody handles is an error here rather than a guess somewhere else.

import { CardsyncError } from "../error.js";

/** @typedef {import("../../dist/wasm/cardsync_wasm.js").SyncMachine} SyncMachine */
/** @typedef {import("../../dist/wasm/cardsync_wasm.js").SyncAction} SyncAction */
/** @typedef {import("../../dist/wasm/cardsync_wasm.js").SyncReport} SyncReport */
/** @typedef {import("../../dist/wasm/cardsync_wasm.js").PersistOp} PersistOp */

/**
 * Where each action goes: socket actions to the sockets, persist ops to the persist queue.
 * @typedef {object} ActionHandlers
 * @property {(socket: number) => void} open
 * @property {(socket: number, frame: Uint8Array) => void} send
 * @property {(socket: number, reason: string) => void} close
 * @property {(op: PersistOp) => void} persist
 */

/**
 * Carries out one action of the machine through `handlers`: the socket kinds by id, and every
 * store write as one tagged kind, `persist`, carrying its `PersistOp` (which the store checks
 * kind by kind). Any other kind throws a `CardsyncError` with code
 * `invalid_argument` (this driver and the wasm are from different builds) and reaches no
 * handler: it is never taken for a store write.
 * @param {SyncAction} action
 * @param {ActionHandlers} handlers
 */
export function carryOut(action, handlers) {
  switch (action?.kind) {
    case "open":
      handlers.open(action.socket);
      break;
    case "send":
      handlers.send(action.socket, action.frame);
      break;
    case "close":
      handlers.close(action.socket, action.reason);
      break;
    case "persist":
      handlers.persist(action.op);
      break;
    default:
      throw new CardsyncError(
        "invalid_argument",
        `SyncClient: unknown action kind ${JSON.stringify(action?.kind)} from the SyncMachine`,
      );
  }
}

/** Runs the drain rule for one machine. */
export class Drain {
  /** @type {SyncMachine} */
  #machine;
  /** @type {ActionHandlers} */
  #actions;
  /** @type {(report: SyncReport) => void} */
  #report;
  /** @type {() => void} */
  #settled;
  /** @type {() => boolean} */
  #closed;
  #draining = false;
  #again = false;
  #wakeQueued = false;
  #timer = undefined;

  /**
   * Installs itself as the machine's wake callback.
   * @param {SyncMachine} machine
   * @param {object} hooks
   * @param {ActionHandlers} hooks.actions where the machine's actions go
   * @param {(report: SyncReport) => void} hooks.report receives every report
   * @param {() => void} hooks.settled called after each drain, once the timer is armed
   * @param {() => boolean} hooks.closed whether the client is closed: then nothing runs
   */
  constructor(machine, { actions, report, settled, closed }) {
    this.#machine = machine;
    this.#actions = actions;
    this.#report = report;
    this.#settled = settled;
    this.#closed = closed;
    // The machine wakes its driver from inside its own calls (a local edit): drain right
    // after, once however many wakes came.
    machine.setWake(() => {
      if (this.#wakeQueued) return;
      this.#wakeQueued = true;
      queueMicrotask(() => {
        this.#wakeQueued = false;
        this.run();
      });
    });
  }

  /**
   * Feeds one input to the machine, unless the client is closed, and drains.
   * @param {() => void} feed
   */
  input(feed) {
    if (this.#closed()) return;
    feed();
    this.run();
  }

  /**
   * Actions, then reports, until nothing moves; then the timer and the status. Called while
   * it runs (an action fed the machine an input), it only makes the running drain go again.
   */
  run() {
    if (this.#closed()) return;
    if (this.#draining) {
      this.#again = true;
      return;
    }
    this.#draining = true;
    try {
      do {
        this.#again = false;
        for (const action of this.#machine.pollActions()) carryOut(action, this.#actions);
        for (const report of this.#machine.pollReports()) this.#report(report);
      } while (this.#again);
    } finally {
      this.#draining = false;
    }
    this.#arm();
    this.#settled();
  }

  /** Clears the timer (the client is closing). */
  stop() {
    clearTimeout(this.#timer);
  }

  #arm() {
    clearTimeout(this.#timer);
    const due = this.#machine.nextTimeout();
    if (due === undefined) return;
    this.#timer = setTimeout(
      () => this.input(() => this.#machine.timeout()),
      Math.max(0, due - Date.now()),
    );
  }
}
