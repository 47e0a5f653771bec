// MuxClient: many documents over one WebSocket to a real cardsync-server's `/ws` on 127.0.0.1
// (docs/design.md §6, "Many rooms over one socket"). Each `open(doc, token)` is a `SyncClient`
// with the API of one that has a socket of its own; the server's `/metrics.json` counts the
// sockets.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { MemoryStore, MuxClient } from "cardsync";
import { WebSocket } from "ws";
import { schema } from "./fixtures.js";
import { startServer } from "./sync-server.js";

let server;
before(async () => {
  server = await startServer();
});
after(() => server?.stop());

const docName = (i) => `mux-test-${process.pid}-${i}`;

function mux() {
  return new MuxClient({
    url: `${server.origin}/ws`,
    WebSocket,
    schema,
    actor: "tester",
    store: new MemoryStore(),
    connection: { backoffBase: 50, backoffCap: 200 },
  });
}

async function connections() {
  const response = await fetch(`${server.http}/metrics.json`);
  return (await response.json()).connections;
}

function until(predicate, what, timeoutMs = 10_000) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const check = async () => {
      if (await predicate()) return resolve();
      if (Date.now() - started > timeoutMs) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(check, 20);
    };
    check();
  });
}

test("several documents over one socket: writes acked, a viewer rejected alone, a room left", async () => {
  const shared = mux();
  const docs = [0, 1, 2, 3, 4].map(docName);
  const clients = await Promise.all(
    docs.map((doc, i) =>
      shared.open(doc, server.token(doc, i === 2 ? "viewer" : "editor"), { store: new MemoryStore() }),
    ),
  );
  await Promise.all(clients.map((c) => c.whenSynced()));
  assert.equal(await connections(), 1, "five documents, one WebSocket");

  const rejected = new Promise((resolve) => clients[2].on("rejected", resolve));
  const cards = clients.map((c, i) => c.doc.createCard("task", { title: `card ${i}` }));
  const report = await rejected;
  assert.equal(report.code, "forbidden");
  assert.equal(clients[2].doc.card(cards[2]), undefined, "the viewer's card rolled back");
  await Promise.all(clients.filter((_, i) => i !== 2).map((c) => c.whenSynced()));
  for (const [i, c] of clients.entries()) {
    if (i === 2) continue;
    assert.equal(c.status.status, "online");
    assert.notEqual(c.status.lastAckAt, null, `document ${i} acked`);
    assert.equal(c.status.lastRejection, null, `document ${i} not rejected`);
  }

  // A second shared connection sees the first one's cards, document by document.
  const other = mux();
  const readers = await Promise.all(
    [0, 1].map((i) => other.open(docs[i], server.token(docs[i], "viewer"), { store: new MemoryStore() })),
  );
  for (const [i, reader] of readers.entries()) {
    await until(() => reader.doc.card(cards[i])?.fields.title === `card ${i}`, `document ${i} on the other socket`);
  }
  // Live edits travel too.
  clients[0].doc.increment(cards[0], "votes", 3);
  await until(() => readers[0].doc.card(cards[0])?.fields.votes === 3, "a live edit");
  await until(async () => (await connections()) === 2, "two sockets in all");

  // Leave one document: the others carry on over the same socket.
  await clients[1].close();
  clients[3].doc.increment(cards[3], "votes", 1);
  await clients[3].whenSynced();
  assert.equal(clients[3].status.status, "online");
  assert.equal(await connections(), 2);

  for (const [i, c] of clients.entries()) if (i !== 1) await c.close();
  for (const r of readers) await r.close();
  shared.close();
  other.close();
  await until(async () => (await connections()) === 0, "the sockets to close");
});

test("a bad token refuses one document, not the socket", async () => {
  const shared = mux();
  const good = await shared.open(docName(10), server.token(docName(10)), { store: new MemoryStore() });
  await good.whenSynced();
  const bad = await shared.open(docName(11), "not-a-token", { store: new MemoryStore() });
  const denied = await new Promise((resolve) => bad.on("auth_denied", resolve));
  assert.match(JSON.stringify(denied), /invalid token/);
  good.doc.createCard("task", { title: "still here" });
  await good.whenSynced();
  assert.equal(good.status.status, "online");
  await bad.close();
  await good.close();
  shared.close();
});
