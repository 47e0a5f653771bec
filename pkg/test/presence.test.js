// Presence (`client.presence`) between cardsync clients through a real cardsync-server on
// 127.0.0.1, over sockets of their own and over one multiplexed `/ws` connection: set,
// others, change events, re-sent after a reconnect, withdrawn on close; bad states refused;
// and the y-protocols rules of one `Presence` (renewal, expiry of entries not renewed,
// clocks) on a fake clock-free transport.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { MemoryStore, MuxClient, SyncClient } from "cardsync";
import { WebSocket } from "ws";
import { awarenessMessage, decodeUpdate, encodeUpdate } from "../src/sync/awareness_codec.js";
import { Presence } from "../src/sync/presence.js";
import { schema } from "./fixtures.js";
import { throwsCode } from "./helpers.js";
import { startServer } from "./sync-server.js";
import { until } from "./until.js";

let server;
before(async () => {
  server = await startServer();
});
after(() => server?.stop());

const fast = { heartbeatInterval: 200, backoffBase: 50, backoffCap: 200 };
const open = (doc, actor) =>
  SyncClient.open({
    url: server.url(doc),
    token: server.token(doc),
    schema,
    actor,
    WebSocket,
    store: new MemoryStore(),
    connection: fast,
  });

const users = (client) => client.presence.others().map((peer) => peer.user);

test("two clients see each other's presence, its changes, and its removal on close", async () => {
  const doc = `presence-${process.pid}-pair`;
  const [a, b] = [await open(doc, "ada"), await open(doc, "bob")];
  await Promise.all([a.whenSynced(), b.whenSynced()]);
  const changes = [];
  b.presence.on("change", (change) => changes.push(change));

  a.presence.set({ user: "ada", color: "#e91e63", card: "c1", field: "title", cursor: { anchor: 2, head: 5 } });
  b.presence.set({ user: "bob" });
  await until(() => b.presence.others().length === 1 && a.presence.others().length === 1, "both to see the other");
  const [seen] = b.presence.others();
  assert.equal(seen.clientId, a.presence.clientId);
  assert.deepEqual(
    { user: seen.user, color: seen.color, card: seen.card, field: seen.field, cursor: seen.cursor },
    { user: "ada", color: "#e91e63", card: "c1", field: "title", cursor: { anchor: 2, head: 5 } },
  );
  assert.deepEqual(users(a), ["bob"]);
  assert.deepEqual(changes[0], { added: [a.presence.clientId], updated: [], removed: [] });
  const view = b.presence.others();
  assert.equal(b.presence.others(), view, "the same array until something changes");

  // Quick successive sets: the latest state arrives.
  for (let i = 0; i < 20; i++) a.presence.set({ user: "ada", card: `c${i}` });
  await until(() => b.presence.others()[0]?.card === "c19", "the latest card");
  assert.ok(changes.some((c) => c.updated.includes(a.presence.clientId)), "an `updated` change");
  assert.notEqual(b.presence.others(), view);

  // Withdrawn, then set again.
  a.presence.clear();
  await until(() => b.presence.others().length === 0, "A's entry withdrawn");
  a.presence.set({ user: "ada", card: "back" });
  await until(() => b.presence.others()[0]?.card === "back", "A's entry back");

  // close() withdraws at once (the removal goes ahead of the close frame).
  await a.close();
  await until(() => b.presence.others().length === 0, "A's entry gone after close", 2_000);
  assert.ok(changes.at(-1).removed.includes(a.presence.clientId));
  await b.close();
});

test("after the server restarts, the local entry is sent again and everyone's comes back", async () => {
  const doc = `presence-${process.pid}-restart`;
  const [a, b] = [await open(doc, "ada"), await open(doc, "bob")];
  a.presence.set({ user: "ada", card: "k" });
  b.presence.set({ user: "bob" });
  await until(() => users(b).includes("ada") && users(a).includes("bob"), "both present");
  const dropped = new Promise((resolve) => {
    const off = b.presence.on("change", (change) => {
      if (change.removed.length > 0) {
        off();
        resolve();
      }
    });
  });
  await server.restart();
  // The dropped connection takes everyone else's entry with it...
  await dropped;
  // ...and the reconnection brings it back, with nothing set again by the app.
  await until(() => users(b).includes("ada") && users(a).includes("bob"), "both present again");
  await Promise.all([a.close(), b.close()]);
});

test("documents of one multiplexed connection each have their own presence", async () => {
  const mux = () =>
    new MuxClient({ url: `${server.origin}/ws`, WebSocket, schema, store: new MemoryStore(), connection: fast });
  const [one, two] = [mux(), mux()];
  const [d1, d2] = [`presence-${process.pid}-mux1`, `presence-${process.pid}-mux2`];
  const a1 = await one.open(d1, server.token(d1), { actor: "ada" });
  const a2 = await one.open(d2, server.token(d2), { actor: "ada" });
  const b1 = await two.open(d1, server.token(d1), { actor: "bob" });
  const b2 = await two.open(d2, server.token(d2), { actor: "bob" });
  a1.presence.set({ user: "ada", card: "on-board-1" });
  a2.presence.set({ user: "ada", card: "on-board-2" });
  await until(() => b1.presence.others().length === 1 && b2.presence.others().length === 1, "ada on both");
  assert.equal(b1.presence.others()[0].card, "on-board-1");
  assert.equal(b2.presence.others()[0].card, "on-board-2");
  await a1.close();
  await until(() => b1.presence.others().length === 0, "ada gone from board 1");
  assert.equal(b2.presence.others().length, 1, "and still on board 2");
  for (const client of [a2, b1, b2]) await client.close();
  one.close();
  two.close();
});

test("presence.set refuses what is not the typed shape, with invalid_argument", async () => {
  const doc = `presence-${process.pid}-shape`;
  const client = await open(doc, "ada");
  const set = (state) => () => client.presence.set(state);
  throwsCode(set(null), "invalid_argument");
  throwsCode(set({ color: "red" }), "invalid_argument");
  throwsCode(set({ user: "" }), "invalid_argument");
  throwsCode(set({ user: "ada", avatar: "x" }), "invalid_argument");
  throwsCode(set({ user: "ada", card: 3 }), "invalid_argument");
  throwsCode(set({ user: "ada", cursor: { anchor: -1, head: 0 } }), "invalid_argument");
  throwsCode(set({ user: "x".repeat(9_000) }), "invalid_argument");
  throwsCode(() => client.presence.on("nope", () => {}), "invalid_argument");
  assert.equal(client.presence.local, null, "nothing was published");
  client.presence.set({ user: "ada", card: null, cursor: null });
  assert.deepEqual(client.presence.local, { user: "ada", card: null, cursor: null });
  await client.close();
});

/** A presence on a recording transport; `connected` says whether frames go out. */
function recorded(options = {}) {
  const sent = [];
  const { presence, driver } = Presence.create({
    transmit: (frame) => sent.push(frame),
    ...options,
  });
  // Each frame is one awareness message: type 1, then the update.
  const entries = () =>
    sent.splice(0).map((frame) => {
      assert.equal(frame[0], 1, "an awareness message");
      return decodeUpdate(frame.subarray(2));
    });
  return { presence, driver, entries };
}

const update = (clientId, clock, state) =>
  encodeUpdate([{ clientId, clock, json: JSON.stringify(state) }]);

test("an entry not renewed within the timeout is removed; the local one is renewed at half of it", async () => {
  const { presence, driver, entries } = recorded({ timeoutMs: 300, clientId: 5 });
  presence.set({ user: "me" });
  driver.receive(update(9, 1, { user: "ghost" }));
  assert.deepEqual(presence.others().map((p) => p.user), ["ghost"]);
  const removed = new Promise((resolve) => presence.on("change", resolve));
  const started = Date.now();
  const change = await removed;
  const took = Date.now() - started;
  assert.deepEqual(change, { added: [], updated: [], removed: [9] });
  // Checked every tenth of the timeout: gone within timeout + a check (+ timer slack).
  assert.ok(took >= 250 && took < 1_000, `removed after ${took} ms`);
  assert.equal(presence.others().length, 0);
  // The local entry went out at set, then was renewed with higher clocks meanwhile.
  const clocks = entries().map(([entry]) => entry.clock);
  assert.ok(clocks.length >= 2, `renewed: ${clocks}`);
  assert.deepEqual(clocks, [...clocks].sort((x, y) => x - y));
  driver.close();
});

test("y-protocols clock rules: older entries lose, a removal wins at equal clock, own removal is answered", () => {
  const { presence, driver, entries } = recorded({ clientId: 5 });
  driver.receive(update(9, 3, { user: "new" }));
  driver.receive(update(9, 2, { user: "old" }));
  assert.equal(presence.others()[0].user, "new");
  driver.receive(update(9, 3, null));
  assert.equal(presence.others().length, 0, "a removal at the same clock wins");
  driver.receive(update(9, 3, { user: "again" }));
  assert.equal(presence.others().length, 0, "a state at an applied clock does not");
  // A stock app's `user: { name, color }` reads as user and color.
  driver.receive(update(11, 1, { user: { name: "stock", color: "#123456" }, cursor: "bad" }));
  const [stock] = presence.others();
  assert.deepEqual([stock.user, stock.color, stock.cursor], ["stock", "#123456", null]);
  // Malformed bytes change nothing.
  driver.receive(new Uint8Array([1, 7]));
  assert.equal(presence.others().length, 1);
  // Somebody removed this tab's entry (an old socket's removal): it says it is here.
  presence.set({ user: "me" });
  entries();
  driver.receive(update(5, 40, null));
  const [[again]] = entries();
  assert.equal(again.clock, 41);
  assert.deepEqual(again.state, { user: "me" });
  // The connection drops: every other entry goes, and a snapshot with the same clocks is news.
  driver.disconnected();
  assert.equal(presence.others().length, 0);
  driver.receive(update(11, 1, { user: "stock" }));
  assert.equal(presence.others().length, 1);
  // Close: a removal of the local entry goes out.
  driver.close();
  const [[gone]] = entries();
  assert.deepEqual([gone.clientId, gone.state], [5, null]);
});

test("page hide withdraws the local entry at once, and showing the page again restores it", () => {
  const { presence, driver, entries } = recorded({ clientId: 5 });
  presence.set({ user: "me", card: "c" });
  entries();
  driver.hidden(true);
  const [[gone]] = entries();
  assert.deepEqual([gone.clientId, gone.state], [5, null]);
  assert.deepEqual(presence.local, { user: "me", card: "c" }, "kept for when the page comes back");
  driver.hidden(false);
  const [[back]] = entries();
  assert.deepEqual(back.state, { user: "me", card: "c" });
  assert.ok(back.clock > gone.clock);
  driver.close();
});

test("the awareness message is varuint 1 and the update as a varuint8array", () => {
  const body = encodeUpdate([{ clientId: 300, clock: 2 ** 40, json: '{"user":"é"}' }]);
  const frame = awarenessMessage(body);
  assert.deepEqual([...frame.subarray(0, 2)], [1, body.length]);
  assert.deepEqual(decodeUpdate(frame.subarray(2)), [{ clientId: 300, clock: 2 ** 40, state: { user: "é" } }]);
  assert.throws(() => decodeUpdate(new Uint8Array([1, 1, 1, 5, 0x7b])), /truncated/);
  assert.throws(() => decodeUpdate(new Uint8Array([0, 0])), /trailing/);
});
