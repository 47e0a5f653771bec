// The actions of SyncMachine as SyncClient carries them out (pkg/src/sync/drain.js): each
// kind goes to its part by name, the persist ops to the store, and an action of any other
// kind is a CardsyncError, never a store write.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { MemoryStore, SyncClient, SyncMachine } from "cardsync";
import { carryOut } from "../src/sync/drain.js";
import { schema } from "./fixtures.js";
import { throwsCode } from "./helpers.js";

/** The kinds of a union type in the generated declarations, e.g. `PersistOp`. */
function kindsOf(type) {
  const declarations = readFileSync(new URL("../dist/wasm/cardsync_wasm.d.ts", import.meta.url), "utf8");
  const start = declarations.indexOf(`export type ${type} =`);
  assert.ok(start >= 0, `${type} is not in the generated declarations`);
  const union = declarations.slice(start, declarations.indexOf(";\n", start));
  return { kinds: [...union.matchAll(/kind: "([a-z_]+)"/g)].map((m) => m[1]), union };
}

/** Every persist op kind the wasm may issue, from its `PersistOp` type. */
const PERSIST_KINDS = kindsOf("PersistOp").kinds;

test("the actions are the socket kinds and one persist kind carrying a PersistOp, as the generated types say", () => {
  const { kinds, union } = kindsOf("SyncAction");
  assert.deepEqual(kinds, ["open", "send", "close", "persist"]);
  assert.match(union, /\{ kind: "persist"; op: PersistOp \}$/);
  assert.ok(PERSIST_KINDS.length >= 7 && PERSIST_KINDS.includes("put_batch"), `${PERSIST_KINDS}`);
});

/** Handlers that record what reached them. */
function recorder() {
  const calls = [];
  return {
    calls,
    handlers: {
      open: (socket) => calls.push(["open", socket]),
      send: (socket, frame) => calls.push(["send", socket, frame]),
      close: (socket, reason) => calls.push(["close", socket, reason]),
      persist: (op) => calls.push(["persist", op.kind, op.seq]),
    },
  };
}

test("each action kind reaches its handler: sockets by id, persist ops to the store", () => {
  const { calls, handlers } = recorder();
  const frame = new Uint8Array([1, 2]);
  carryOut({ kind: "open", socket: 1 }, handlers);
  carryOut({ kind: "send", socket: 1, frame }, handlers);
  carryOut({ kind: "close", socket: 1, reason: "stopped" }, handlers);
  PERSIST_KINDS.forEach((kind, seq) => carryOut({ kind: "persist", op: { kind, seq } }, handlers));
  assert.deepEqual(calls, [
    ["open", 1],
    ["send", 1, frame],
    ["close", 1, "stopped"],
    ...PERSIST_KINDS.map((kind, seq) => ["persist", kind, seq]),
  ]);
});

test("an action of an unknown kind is an invalid_argument error and reaches no handler", () => {
  const { calls, handlers } = recorder();
  for (const action of [
    { kind: "put_batch", seq: 1 },
    { kind: "delete_everything", seq: 2 },
    { kind: "PUT_BATCH", seq: 3 },
    { kind: "", seq: 4 },
    { seq: 5 },
  ]) {
    throwsCode(() => carryOut(action, handlers), "invalid_argument");
  }
  assert.throws(() => carryOut({ kind: "delete_everything" }, handlers), /unknown action kind "delete_everything"/);
  assert.deepEqual(calls, [], "nothing was written, opened or sent");
});

test("SyncClient: an unknown action from the machine throws and never reaches the store", async (t) => {
  const applied = [];
  class Recording extends MemoryStore {
    async apply(ops) {
      applied.push(...ops.map((op) => op.kind));
      return super.apply(ops);
    }
  }
  const store = new Recording();
  const client = await SyncClient.open({ url: "ws://x", schema, store, online: false, WebSocket: class {} });
  const pollActions = SyncMachine.prototype.pollActions;
  t.after(() => {
    SyncMachine.prototype.pollActions = pollActions;
  });
  let injected = [{ kind: "truncate_outbox", seq: 1_000 }];
  SyncMachine.prototype.pollActions = function () {
    const actions = pollActions.call(this);
    const extra = injected;
    injected = [];
    return [...actions, ...extra];
  };
  throwsCode(() => client.stop(), "invalid_argument");
  SyncMachine.prototype.pollActions = pollActions;

  // The client goes on: a real edit is stored, and the unknown action never was.
  client.doc.createCard("task", { title: "After" });
  await client.close();
  assert.ok(applied.includes("put_batch"), `the edit was stored: ${applied}`);
  assert.ok(!applied.includes("truncate_outbox"), `the unknown action reached the store: ${applied}`);
  assert.equal((await store.load()).outbox.length, 1);
});
