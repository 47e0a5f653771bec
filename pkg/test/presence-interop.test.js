// Presence interop with stock Yjs, both ways, over real WebSockets on 127.0.0.1 (real
// `yjs`, `y-protocols` and `y-websocket` from npm, as in y-websocket.test.js):
// - a stock `y-websocket` client and a cardsync SyncClient in one cardsync-server room see
//   each other's presence, and each other's removal;
// - cardsync clients behind a stock `@y/websocket-server` see each other and a stock peer;
// - the encoding: y-protocols reads what presence writes, and presence reads y-protocols'.

import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import { after, test } from "node:test";
import { docs, setupWSConnection } from "@y/websocket-server/utils";
import { MemoryStore, SyncClient } from "cardsync";
import { WebSocket, WebSocketServer } from "ws";
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate } from "y-protocols/awareness";
import { WebsocketProvider } from "y-websocket";
import * as Y from "yjs";
import { decodeUpdate, encodeUpdate } from "../src/sync/awareness_codec.js";
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

/** A stock y-websocket client of `room` at `serverUrl`. */
function stockPeer(serverUrl, room, params = {}) {
  const ydoc = new Y.Doc();
  const provider = new WebsocketProvider(serverUrl, room, ydoc, { WebSocketPolyfill: WebSocket, params });
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    provider.destroy();
    ydoc.destroy();
  };
  cleanup.push(stop);
  return { provider, awareness: provider.awareness, stop };
}

test("a stock y-websocket client and a cardsync client in one room see each other's presence", async () => {
  const server = await startServer();
  cleanup.push(() => server.stop());
  const room = "presence-stock";
  const client = await open(server.url(room), { token: server.token(room) });
  cleanup.push(() => client.close());
  const stock = stockPeer(`${server.origin}/rooms`, room, { token: server.token(room) });
  stock.awareness.setLocalState({ user: { name: "stock", color: "#0000ff" }, cursor: null });
  client.presence.set({ user: "ada", color: "#e91e63", card: "c1", field: "title" });

  await until(() => client.presence.others().some((p) => p.user === "stock"), "cardsync to see the stock peer");
  const [peer] = client.presence.others();
  assert.equal(peer.clientId, stock.awareness.clientID);
  assert.equal(peer.color, "#0000ff");
  assert.deepEqual(peer.state, { user: { name: "stock", color: "#0000ff" }, cursor: null });
  await until(
    () => stock.awareness.getStates().get(client.presence.clientId)?.user === "ada",
    "the stock peer to see cardsync's entry",
  );
  assert.deepEqual(stock.awareness.getStates().get(client.presence.clientId), {
    user: "ada",
    color: "#e91e63",
    card: "c1",
    field: "title",
  });

  // Changes travel both ways.
  client.presence.set({ user: "ada", card: "c2" });
  await until(() => stock.awareness.getStates().get(client.presence.clientId)?.card === "c2", "the stock peer to see c2");
  stock.awareness.setLocalStateField("cursor", { anchor: 1, head: 1 });
  await until(() => client.presence.others()[0]?.cursor?.head === 1, "cardsync to see the stock cursor");

  // cardsync withdraws: the stock peer's awareness drops the entry.
  client.presence.clear();
  await until(() => !stock.awareness.getStates().has(client.presence.clientId), "the stock peer to drop it");
  // The stock peer leaves (its provider sends a null state and closes): gone in cardsync.
  stock.stop();
  await until(() => client.presence.others().length === 0, "cardsync to drop the stock peer", 2_000);
});

test("cardsync clients behind a stock @y/websocket-server see each other and a stock peer", async () => {
  const http = createServer();
  const wss = new WebSocketServer({ server: http });
  wss.on("connection", (socket, request) => setupWSConnection(socket, request));
  http.listen(0, "127.0.0.1");
  await once(http, "listening");
  cleanup.push(
    () =>
      new Promise((resolve) => {
        for (const socket of wss.clients) socket.terminate();
        for (const doc of docs.values()) doc.destroy();
        wss.close();
        http.close(() => resolve());
      }),
  );
  const origin = `ws://127.0.0.1:${http.address().port}`;
  const [a, b] = [await open(`${origin}/stock-presence`), await open(`${origin}/stock-presence`)];
  cleanup.push(() => a.close(), () => b.close());
  const stock = stockPeer(origin, "stock-presence");
  stock.awareness.setLocalState({ user: { name: "stock" } });
  a.presence.set({ user: "ada", card: "x" });
  b.presence.set({ user: "bob" });
  const names = (client) => client.presence.others().map((p) => p.user).sort();
  await until(() => names(a).join() === "bob,stock" && names(b).join() === "ada,stock", "everyone present");
  await until(() => stock.awareness.getStates().size === 3, "the stock peer to see both");
  await a.close();
  await until(() => names(b).join() === "stock", "A gone for B after its close");
});

test("y-protocols decodes what presence encodes, and the other way round", () => {
  const ydoc = new Y.Doc();
  const awareness = new Awareness(ydoc);
  awareness.setLocalState({ user: { name: "yjs" }, n: 1.5, text: "ü ✓" });
  const fromYjs = encodeAwarenessUpdate(awareness, [ydoc.clientID]);
  assert.deepEqual(decodeUpdate(fromYjs), [
    { clientId: ydoc.clientID, clock: awareness.meta.get(ydoc.clientID).clock, state: awareness.getLocalState() },
  ]);

  const other = new Awareness(new Y.Doc());
  const ours = encodeUpdate([
    { clientId: 4_000_000_000, clock: 7, json: JSON.stringify({ user: "ada", card: "é" }) },
    { clientId: 12, clock: 3, json: "null" },
  ]);
  applyAwarenessUpdate(other, ours, "test");
  assert.deepEqual(other.getStates().get(4_000_000_000), { user: "ada", card: "é" });
  assert.equal(other.meta.get(4_000_000_000).clock, 7);
  assert.equal(other.getStates().has(12), false);
  awareness.destroy();
  other.destroy();
  ydoc.destroy();
});
