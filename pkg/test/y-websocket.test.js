// Interop with stock y-websocket, both ways, over real WebSockets on 127.0.0.1:
// - a stock `y-websocket` client (WebsocketProvider) syncs with a cardsync-server room;
// - the cardsync SyncClient falls back gracefully behind a stock `@y/websocket-server`:
//   edits go out as plain updates, the status says the server does not ack, and the
//   heartbeat (a sync step 1 there) confirms what the server holds.

import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import { after, test } from "node:test";
import { docs, setupWSConnection } from "@y/websocket-server/utils";
import { CardDoc, MemoryStore, SyncClient } from "cardsync";
import { WebSocket, WebSocketServer } from "ws";
import { WebsocketProvider } from "y-websocket";
import * as Y from "yjs";
import { schema } from "./fixtures.js";
import { startServer } from "./sync-server.js";
import { until } from "./until.js";

const cleanup = [];
after(async () => {
  for (const step of cleanup.reverse()) await step();
});

const open = (url, extra = {}) =>
  SyncClient.open({
    url,
    schema,
    WebSocket,
    store: new MemoryStore(),
    connection: { heartbeatInterval: 200, backoffBase: 50, backoffCap: 200 },
    ...extra,
  });

test("a stock y-websocket client syncs with a cardsync-server room, both ways", async () => {
  const server = await startServer();
  cleanup.push(() => server.stop());
  const room = "stock-client";
  const client = await open(server.url(room), { token: server.token(room) });
  cleanup.push(() => client.close());
  await client.whenSynced();
  const card = client.doc.createCard("task", { title: "From cardsync" });
  await client.whenSynced();

  const ydoc = new Y.Doc();
  const provider = new WebsocketProvider(`${server.origin}/rooms`, room, ydoc, {
    WebSocketPolyfill: WebSocket,
    params: { token: server.token(room) },
  });
  // Destroying the Y.Doc also stops its awareness timer.
  cleanup.push(() => {
    provider.destroy();
    ydoc.destroy();
  });
  await until(() => ydoc.getMap("cards").has(card), "the stock client to receive the card");

  // A write through the stock client: a valid cardsync update applied to its Y.Doc.
  const peer = new CardDoc(schema, { clientId: 77, actor: "stock" });
  peer.applyUpdateV1(Y.encodeStateAsUpdate(ydoc));
  const other = peer.createCard("task", { title: "Via y-websocket" });
  Y.applyUpdate(ydoc, peer.diffV1(Y.encodeStateVector(ydoc)));
  await until(() => client.doc.card(other) !== undefined, "cardsync to receive the stock write");
  assert.equal(client.doc.card(other).fields.title, "Via y-websocket");
  peer.free();
});

test("SyncClient behind a stock y-websocket server: plain updates, no acks, heartbeat confirms", async () => {
  const http = createServer();
  const wss = new WebSocketServer({ server: http });
  wss.on("connection", (socket, request) => setupWSConnection(socket, request));
  http.listen(0, "127.0.0.1");
  await once(http, "listening");
  cleanup.push(() => new Promise((resolve) => {
    for (const socket of wss.clients) socket.terminate();
    for (const doc of docs.values()) doc.destroy();
    wss.close();
    http.close(() => resolve());
  }));
  const url = `ws://127.0.0.1:${http.address().port}/stock-server`;
  const [a, b] = [await open(url, { actor: "a" }), await open(url, { actor: "b" })];
  cleanup.push(() => a.close(), () => b.close());
  await until(() => a.status.status === "online" && b.status.status === "online", "both online");
  assert.equal(a.status.serverAcks, false, "the status says the server does not ack");

  const card = a.doc.createCard("task", { title: "Through a stock server" });
  await until(() => b.doc.card(card) !== undefined, "B to receive A's card");
  b.doc.increment(card, "votes", 3);
  await until(() => a.doc.card(card)?.fields.votes === 3, "A to receive B's edit");
  assert.deepEqual(a.doc.export(), b.doc.export());

  // The heartbeat's sync step 1 shows the server holds everything: nothing stays pending.
  await until(() => a.status.pending === 0 && b.status.pending === 0, "implicit acks");
  // No reconnect loop: well past the heartbeat's dead-socket bound (2 missed × 200 ms), the
  // answered heartbeats kept the first connection.
  const failures = [];
  a.on("connection", (change) => failures.push(change.cause.kind));
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.deepEqual(failures, [], "no connection changes while the heartbeat is answered");
  assert.equal(a.status.status, "online");
  assert.equal(a.status.lastFailure, null);
});
