// The parts of SyncClient (pkg/src/sync/: persist queue, page life, adoption, sockets) on
// their own, with fakes for the store, the page, Web Locks and WebSocket, plus the paths of
// the whole client that need no server: a store that fails, a WebSocket that cannot be
// built. The happy paths over real sockets are in sync.test.js, the browser-only ones
// (IndexedDB, two tabs, a hidden page) in demo/test/e2e.test.js.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { MemoryStore, SyncClient } from "cardsync";
import { adopt, openStore } from "../src/sync/adoption.js";
import { attachPageLife } from "../src/sync/page_life.js";
import { PersistQueue } from "../src/sync/persist_queue.js";
import { schema } from "./fixtures.js";
import { until } from "./until.js";

const batch = (seq) => ({ kind: "put_batch", seq, batch: { key: `1:${seq}`, meta: "{}", update: new Uint8Array() } });

/** A client that never connects, on `store`. */
const openOffline = (store) =>
  SyncClient.open({ url: "ws://127.0.0.1:9/none", schema, store, online: false, WebSocket: class {} });

/** A store whose `apply` fails while `failing` is true, recording every call. */
class FlakyStore extends MemoryStore {
  failing = true;
  calls = [];
  async apply(ops) {
    this.calls.push(ops.map((op) => op.seq));
    if (this.failing) throw new Error("quota exceeded");
    return super.apply(ops);
  }
}

test("persist queue: a failed write keeps its ops ahead of newer ones, reports, and retries", async () => {
  const store = new FlakyStore();
  const written = [];
  const failures = [];
  const queue = new PersistQueue(
    store,
    { written: (seq) => written.push(seq), failed: (error) => failures.push(error.message), closed: () => false },
    10,
  );
  queue.push(batch(1));
  queue.push(batch(2));
  await queue.flush();
  assert.deepEqual(failures, ["quota exceeded"]);
  assert.deepEqual(written, [], "nothing is confirmed before it is stored");
  assert.equal(queue.length, 2, "the failed ops wait, in memory");
  queue.push(batch(3));
  store.failing = false;
  await until(() => queue.length === 0 && written.length > 0, "the retry");
  await queue.flush();
  assert.deepEqual(store.calls[0], [1], "one write runs at a time; op 2 queued behind it");
  assert.deepEqual(store.calls.at(-1), [1, 2, 3], "the retry writes everything, in order, at once");
  assert.deepEqual(written, [3], "the write is confirmed by its last seq");
  assert.deepEqual((await store.load()).outbox.map((b) => b.key), ["1:1", "1:2", "1:3"]);
});

test("persist queue: no retry once closed, and replace() drops what waits for the old store", async () => {
  const store = new FlakyStore();
  const queue = new PersistQueue(store, { written() {}, failed() {}, closed: () => true }, 1);
  queue.push(batch(1));
  await queue.flush();
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(store.calls.length, 1, "not retried after close");
  const next = new MemoryStore();
  queue.replace(next);
  assert.equal(queue.length, 0);
  assert.equal(queue.store, next);
  queue.push(batch(2));
  await queue.flush();
  assert.equal((await next.load()).outbox.length, 1);
});

test("page life: network and visibility reach the hooks, at once when they start down", () => {
  const page = Object.assign(new EventTarget(), {
    navigator: { onLine: false },
    document: Object.assign(new EventTarget(), { visibilityState: "hidden" }),
  });
  const seen = [];
  const detach = attachPageLife(
    {
      network: (online) => seen.push(["network", online]),
      hidden: (hidden) => seen.push(["hidden", hidden]),
      leaving: (leaving) => seen.push(["leaving", leaving]),
    },
    page,
  );
  assert.deepEqual(seen.splice(0), [["network", false], ["hidden", true]]);
  page.navigator.onLine = true;
  page.dispatchEvent(new Event("online"));
  page.document.visibilityState = "visible";
  page.document.dispatchEvent(new Event("visibilitychange"));
  page.navigator.onLine = false;
  page.dispatchEvent(new Event("offline"));
  assert.deepEqual(seen.splice(0), [["network", true], ["hidden", false], ["network", false]]);
  // Leaving the page, and coming back from the back-forward cache (a plain pageshow is a load).
  page.dispatchEvent(new Event("pagehide"));
  page.dispatchEvent(Object.assign(new Event("pageshow"), { persisted: false }));
  page.dispatchEvent(Object.assign(new Event("pageshow"), { persisted: true }));
  assert.deepEqual(seen.splice(0), [["leaving", true], ["leaving", false]]);
  detach();
  page.dispatchEvent(new Event("pagehide"));
  page.dispatchEvent(new Event("online"));
  page.document.dispatchEvent(new Event("visibilitychange"));
  assert.deepEqual(seen, [], "detached");
  assert.equal(typeof attachPageLife({ network() {}, hidden() {} }, undefined), "function", "no page: nothing");
});

test("adoption: the new owner's store is handed over, or closed and released", async () => {
  const persisted = { confirmed: [], outbox: [], retired: [] };
  const owned = () => {
    const events = [];
    const store = {
      load: async () => persisted,
      apply: async () => {},
      close: () => events.push("close"),
    };
    return { events, owned: { store, release: () => events.push("release") } };
  };

  const taken = owned();
  await adopt(taken.owned, {
    closed: () => false,
    failed: () => assert.fail("no failure"),
    take: (store, release, loaded) => {
      assert.equal(store, taken.owned.store);
      assert.equal(loaded, persisted);
      release();
    },
  });
  assert.deepEqual(taken.events, ["release"], "handed over, not closed");

  const late = owned();
  await adopt(late.owned, { closed: () => true, failed() {}, take: () => assert.fail("closed") });
  assert.deepEqual(late.events, ["close", "release"]);

  const broken = owned();
  broken.owned.store.load = async () => {
    throw new Error("IndexedDB went away");
  };
  const failures = [];
  await adopt(broken.owned, {
    closed: () => false,
    failed: (error) => failures.push(error.message),
    take: () => assert.fail("nothing to take"),
  });
  assert.deepEqual(failures, ["IndexedDB went away"]);
  assert.deepEqual(broken.events, ["close", "release"]);
});

test("adoption: the store given is used; without IndexedDB it is memory", async () => {
  const given = { load: async () => ({}), apply: async () => {}, close() {} };
  assert.equal((await openStore({ store: given, url: "ws://x" })).durable, true);
  assert.equal((await openStore({ store: new MemoryStore(), url: "ws://x" })).durable, false);
  const fallback = await openStore({ url: "ws://x" });
  assert.ok(fallback.store instanceof MemoryStore);
  assert.equal(fallback.durable, false);
  assert.equal(fallback.takeover, undefined);
});

test("adoption: while another tab holds the lock, memory and a takeover that can be cancelled", async (t) => {
  const requests = [];
  const locks = {
    request(name, options, callback) {
      requests.push({ name, ifAvailable: options.ifAvailable === true });
      if (options.ifAvailable) return Promise.resolve(callback(null));
      return new Promise((_, reject) =>
        options.signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError"))),
      );
    },
  };
  const saved = Object.getOwnPropertyDescriptor(globalThis, "navigator");
  Object.defineProperty(globalThis, "navigator", { value: { locks }, configurable: true, writable: true });
  globalThis.indexedDB = {};
  t.after(() => {
    delete globalThis.indexedDB;
    if (saved) Object.defineProperty(globalThis, "navigator", saved);
    else delete globalThis.navigator;
  });
  const opened = await openStore({ name: "board", url: "ws://x" });
  assert.ok(opened.store instanceof MemoryStore);
  assert.equal(opened.durable, false);
  assert.deepEqual(requests, [
    { name: "cardsync:board", ifAvailable: true },
    { name: "cardsync:board", ifAvailable: false },
  ]);
  opened.takeover.cancel();
  assert.equal(await opened.takeover.owned, null, "a cancelled wait owns nothing");
});

test("SyncClient: a store that fails shows it, sends nothing, and recovers on retry", async () => {
  const store = new FlakyStore();
  const client = await openOffline(store);
  const errors = [];
  client.on("store_error", (event) => errors.push(event.message));
  client.doc.createCard("task", { title: "Kept" });
  await until(() => client.status.storeError !== null, "the store error to show");
  assert.equal(client.status.storeError, "quota exceeded");
  assert.deepEqual(errors, ["quota exceeded"]);
  assert.equal(client.status.pending, 1, "the edit waits in memory");
  store.failing = false;
  // The retry comes after STORE_RETRY_MS (2 s).
  await until(() => client.status.storeError === null, "the retry", 5000);
  assert.equal((await store.load()).outbox.length, 1, "stored once the store is back");
  await client.close();
});

test("SyncClient: close() reports the changes it could not store", async () => {
  const store = new FlakyStore();
  const client = await openOffline(store);
  client.doc.createCard("task", { title: "Lost?" });
  await until(() => client.status.storeError !== null, "the store error");
  await assert.rejects(client.close(), /SyncClient\.close: 1 changes could not be stored: quota exceeded/);
});

test("SyncClient: a WebSocket that cannot be built is a socket error, then backoff", async () => {
  let built = 0;
  class Refusing {
    constructor() {
      built++;
      throw new SyntaxError("bad URL");
    }
  }
  const client = await SyncClient.open({ url: "ws://x", schema, store: new MemoryStore(), WebSocket: Refusing });
  assert.equal(built, 1);
  assert.equal(client.status.status, "backoff");
  assert.equal(client.status.lastFailure, "socket_error");
  await client.close();
});

test("the parts depend on none of each other: only client.js composes them", () => {
  const parts = ["adoption.js", "drain.js", "page_life.js", "persist_queue.js", "presence.js", "socket.js"];
  // Static imports and JSDoc type imports alike.
  const imports = (file) => {
    const text = readFileSync(new URL(`../src/sync/${file}`, import.meta.url), "utf8");
    return [...text.matchAll(/(?:from\s+|import\()"([^"]+)"/g)].map((m) => m[1].replace(/^\.\//, ""));
  };
  assert.deepEqual(imports("client.js").filter((name) => parts.includes(name)).sort(), parts);
  for (const part of parts) {
    for (const name of imports(part)) {
      assert.ok(!parts.includes(name) && name !== "client.js", `${part} imports ${name}`);
    }
  }
});
