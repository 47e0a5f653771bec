// SyncClient against a real cardsync-server over real WebSockets on 127.0.0.1 (the `ws`
// package stands in for the browser's WebSocket in Node). The browser runs the same client
// with IndexedDB in test/browser/.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { MemoryStore, SyncClient } from "cardsync";
import { WebSocket } from "ws";
import { schema } from "./fixtures.js";
import { startServer } from "./sync-server.js";

let server;
before(async () => {
  server = await startServer();
});
after(() => server?.stop());

let docs = 0;
const freshDoc = () => `sync-test-${process.pid}-${++docs}`;

function open(doc, options = {}) {
  return SyncClient.open({
    url: server.url(doc),
    schema,
    token: server.token(doc, options.role ?? "editor"),
    actor: options.actor ?? "tester",
    WebSocket,
    store: options.store ?? new MemoryStore(),
    online: options.online ?? true,
    // Short backoff so the restart test reconnects quickly.
    connection: { backoffBase: 50, backoffCap: 200 },
  });
}

/** Resolves when `predicate(client)` holds, checked after every status change and doc change. */
function until(client, predicate, what, timeoutMs = 10_000) {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!predicate(client)) return;
      clearTimeout(timer);
      offStatus();
      offDoc();
      resolve();
    };
    const timer = setTimeout(() => {
      offStatus();
      offDoc();
      reject(new Error(`timed out waiting for ${what}; status ${JSON.stringify(client.status)}`));
    }, timeoutMs);
    const offStatus = client.on("status", check);
    const offDoc = client.doc.subscribe(check);
    check();
  });
}

test("two clients converge through the server, every batch acked", async () => {
  const doc = freshDoc();
  const [a, b] = await Promise.all([open(doc, { actor: "a" }), open(doc, { actor: "b" })]);
  await Promise.all([a.whenSynced(), b.whenSynced()]);

  const column = a.doc.createSequence();
  const card = a.doc.createCard("task", { title: "From A", body: "Hello" });
  a.doc.insertIntoSequence(column, card, 0);
  await until(b, (c) => c.doc.sequence(column)?.length === 1, "B to see A's card");
  b.doc.insertText(card, "body", 5, " world");
  b.doc.increment(card, "votes", 2);
  await until(a, (c) => c.doc.card(card)?.fields.votes === 2, "A to see B's edits");
  await Promise.all([a.whenSynced(), b.whenSynced()]);

  assert.deepEqual(a.doc.export(), b.doc.export());
  assert.equal(a.doc.card(card).fields.body, "Hello world");
  assert.equal(a.status.pending, 0);
  assert.notEqual(a.status.lastAckAt, null, "acks arrived");
  assert.equal(a.status.serverAcks, true);
  await Promise.all([a.close(), b.close()]);
});

test("status goes connecting, syncing, online, and offline on stop", async () => {
  const doc = freshDoc();
  const client = await open(doc, { online: false });
  assert.equal(client.status.status, "offline");
  const states = [];
  client.on("connection", (r) => states.push(r.to.kind));
  client.start();
  await client.whenSynced();
  client.stop();
  assert.deepEqual(states, ["connecting", "syncing", "online", "offline"]);
  assert.equal(client.status.status, "offline");
  await client.close();
});

test("a failed connection reports its cause as its TypeScript type says", { timeout: 30_000 }, async () => {
  // Nobody listens on port 9 (discard): the socket fails at once.
  const client = await SyncClient.open({
    url: "ws://127.0.0.1:9/rooms/nowhere",
    schema,
    token: "t",
    actor: "tester",
    WebSocket,
    store: new MemoryStore(),
    connection: { backoffBase: 50, backoffCap: 200 },
  });
  const cause = await new Promise((resolve) => {
    client.on("connection", (r) => {
      if (r.to.kind === "backoff") resolve(r.cause);
    });
  });
  // `ConnectionCause` says `{ kind: "failed"; failure: Failure }`: both tags, nested.
  assert.equal(cause.kind, "failed", JSON.stringify(cause));
  assert.ok(["socket_error", "socket_closed"].includes(cause.failure.kind), JSON.stringify(cause));
  await client.close();
});

test("edits made offline survive a reload and land exactly once", async () => {
  const doc = freshDoc();
  const store = new MemoryStore();
  const offline = await open(doc, { store, online: false });
  const card = offline.doc.createCard("task", { title: "Offline" });
  offline.doc.increment(card, "votes", 1);
  offline.doc.increment(card, "votes", 1);
  await until(offline, (c) => c.status.pending >= 1, "the outbox to hold the edits");
  await offline.close();
  assert.ok((await store.load()).outbox.length >= 1, "the outbox is in the store");

  // "Reload": a new client on the same store, online this time.
  const reloaded = await open(doc, { store });
  assert.equal(reloaded.doc.card(card)?.fields.votes, 2, "restored from the store before sync");
  await reloaded.whenSynced();
  assert.equal((await store.load()).outbox.length, 0, "acked batches left the store");

  const observer = await open(doc);
  await observer.whenSynced();
  assert.equal(observer.doc.card(card)?.fields.votes, 2, "sent once: the counter is 2, not 4");
  assert.equal(observer.doc.cards("task").length, 1);
  await Promise.all([reloaded.close(), observer.close()]);
});

test("a viewer's edit is rejected and rolled back, with the code", async () => {
  const doc = freshDoc();
  const store = new MemoryStore();
  const viewer = await open(doc, { role: "viewer", store });
  await viewer.whenSynced();
  const rejected = new Promise((resolve) => viewer.on("rejected", resolve));
  const card = viewer.doc.createCard("task", { title: "Not allowed" });
  assert.ok(viewer.doc.card(card), "optimistic: visible at once");
  const report = await rejected;
  assert.equal(report.code, "forbidden");
  assert.equal(report.vanished[0].op, "create_card");
  assert.equal(viewer.doc.card(card), undefined, "rolled back");
  assert.equal(viewer.status.lastRejection?.code, "forbidden");
  assert.equal(viewer.status.pending, 0);
  // The rollback went on under a fresh client id and the store remembers the retired one, so
  // no restart draws it again (the server refuses anything more from it).
  const { retired } = await store.load();
  assert.equal(retired.length, 1);
  assert.ok(Number.isSafeInteger(retired[0]) && retired[0] > 0, `retired ${retired}`);
  await viewer.close();
});

test("the server is killed and restarted while clients edit, and they converge", async () => {
  const doc = freshDoc();
  const [a, b] = await Promise.all([open(doc, { actor: "a" }), open(doc, { actor: "b" })]);
  await Promise.all([a.whenSynced(), b.whenSynced()]);
  const card = a.doc.createCard("task", { title: "Survivor" });
  await a.whenSynced();

  await until(b, (c) => c.doc.card(card) !== undefined, "B to have the card");
  // Edits before, while and after the server is down: half of them while both see it gone.
  const edit = () => {
    a.doc.increment(card, "votes", 1);
    b.doc.increment(card, "votes", 1);
  };
  for (let i = 0; i < 5; i++) edit();
  const restarting = server.restart();
  await Promise.all([a, b].map((c) => until(c, (c) => c.status.status !== "online", "the outage to show")));
  for (let i = 0; i < 10; i++) edit();
  await restarting;
  for (let i = 0; i < 5; i++) edit();
  await Promise.all([a.whenSynced(15_000), b.whenSynced(15_000)]);
  await until(a, (c) => c.doc.card(card)?.fields.votes === 40, "A to count 40");
  await until(b, (c) => c.doc.card(card)?.fields.votes === 40, "B to count 40");
  assert.deepEqual(a.doc.export(), b.doc.export());
  await Promise.all([a.close(), b.close()]);
});

test("whenSynced right after a write waits for the write's ack", async () => {
  const doc = freshDoc();
  const client = await open(doc);
  await client.whenSynced();
  let acked = 0;
  client.on("acked", () => (acked += 1));
  client.doc.createCard("task", { title: "acked before whenSynced resolves" });
  await client.whenSynced();
  assert.equal(acked, 1);
  assert.equal(client.status.pending, 0);
  await client.close();
});
