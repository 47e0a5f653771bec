// The open conflicts of a `SyncClient`: its conflict reports that nobody has resolved yet.
//
// Why: the session reports a clash once (the "conflict" event: a remote write overwrote a
// register that a pending local batch also wrote, docs/design.md §5), and a UI that mounts
// later, or several components that show one card, need the list, not the event. A conflict
// is open until its field is written again, by anyone: the user picking a value (a normal
// write, `setField`), typing a new one, or another replica's write arriving. So a resolution
// anywhere closes it everywhere. The remote update that caused a report does not close it:
// the client delivers an update's changes before its reports. The list lives in memory (a
// reload forgets it); the durable conflict log of issue 19 is not built.

/** @typedef {import("../../dist/wasm/cardsync_wasm.js").Conflict} Conflict */
/** @typedef {import("../../dist/wasm/cardsync_wasm.js").CardDoc} CardDoc */

export class OpenConflicts {
  /** @type {Map<string, Conflict>} by `card/field`; the latest report of a field wins */
  #open = new Map();
  #unsubscribe;

  /** @param {CardDoc} doc the client's local doc, whose writes close conflicts */
  constructor(doc) {
    this.#unsubscribe = doc.subscribe(({ events }) => {
      for (const event of events) {
        if (event.type === "field_changed") this.#open.delete(key(event.card, event.field));
      }
    });
  }

  /** A conflict the session reported. @param {Conflict} conflict */
  report(conflict) {
    const k = key(conflict.card, conflict.field);
    this.#open.delete(k);
    this.#open.set(k, conflict);
  }

  /** The open conflicts, oldest report first, of one card or of all. @param {string} [card] */
  list(card) {
    const all = [...this.#open.values()];
    return card === undefined ? all : all.filter((c) => c.card === card);
  }

  /** Stops following the doc (the client is closing). */
  detach() {
    this.#unsubscribe();
  }
}

const key = (card, field) => `${card}/${field}`;
