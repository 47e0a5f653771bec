// Tokens that expire (docs/design.md §6, "Tokens that expire"), against a real
// cardsync-server on 127.0.0.1: a `token` callback refreshes a refused token without losing
// an edit; a refresh that fails shows `unauthorized` with the reason and makes no reconnect
// loop (the WebSocket constructions are counted); `setToken` resumes, and the edit lands.

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
const freshDoc = () => `token-test-${process.pid}-${++docs}`;

/** Opens `doc` offline with `token` (a string or a callback); counts connection attempts. */
async function open(doc, token) {
  const counter = { attempts: 0 };
  class Counting extends WebSocket {
    constructor(...args) {
      super(...args);
      counter.attempts += 1;
    }
  }
  const client = await SyncClient.open({
    url: server.url(doc),
    schema,
    token,
    actor: "tester",
    WebSocket: Counting,
    store: new MemoryStore(),
    online: false,
    connection: { backoffBase: 50, backoffCap: 200 },
  });
  return { client, counter };
}

function until(client, predicate, what, timeoutMs = 10_000) {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!predicate(client.status)) return;
      clearTimeout(timer);
      off();
      resolve();
    };
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out waiting for ${what}; status ${JSON.stringify(client.status)}`));
    }, timeoutMs);
    const off = client.on("status", check);
    check();
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

test("an expired token is refreshed through the callback, and the edit waiting lands", async () => {
  const doc = freshDoc();
  const tokens = [server.token(doc, "editor", 0), server.token(doc)];
  let calls = 0;
  const { client, counter } = await open(doc, async () => tokens[Math.min(calls++, 1)]);
  const card = client.doc.createCard("task", { title: "made before the refresh" });
  const denied = new Promise((resolve) => client.on("auth_denied", resolve));
  client.start();
  assert.equal((await denied).reason, "token expired");
  await client.whenSynced();
  assert.equal(calls, 2, "asked on connect, and again when the server refused");
  assert.equal(counter.attempts, 2, "one refused connection, one accepted");
  assert.equal(client.status.unauthorized, null);
  assert.notEqual(client.status.lastAckAt, null, "the edit was acked");

  const { client: reader } = await open(doc, server.token(doc, "viewer"));
  reader.start();
  await reader.whenSynced();
  assert.equal(reader.doc.card(card)?.fields.title, "made before the refresh");
  await Promise.all([client.close(), reader.close()]);
});

test("a refused refresh shows unauthorized with the reason, and no reconnect loop", async () => {
  const doc = freshDoc();
  const expired = server.token(doc, "editor", 0);
  let calls = 0;
  const { client, counter } = await open(doc, () => {
    calls += 1;
    if (calls === 1) return expired;
    throw new Error("signed out");
  });
  const card = client.doc.createCard("task", { title: "kept" });
  client.start();
  await until(client, (s) => s.status === "unauthorized", "unauthorized");
  assert.equal(client.status.unauthorized, "signed out");
  // A loop would have retried many times by now (the backoff is 50 to 200 ms).
  await sleep(1500);
  assert.equal(counter.attempts, 1);
  assert.equal(calls, 2);
  assert.equal(client.status.status, "unauthorized");
  assert.equal(client.status.pending, 1, "the edit waits in the outbox");

  // The app supplies a token: the client connects at once and the edit lands.
  client.setToken(server.token(doc));
  await client.whenSynced();
  assert.equal(counter.attempts, 2);
  assert.equal(client.status.pending, 0);
  assert.ok(client.doc.card(card));
  await client.close();
});

test("a static token the server refuses is not retried forever", async () => {
  const doc = freshDoc();
  const { client, counter } = await open(doc, server.token(doc, "editor", 0));
  client.start();
  await until(client, (s) => s.status === "unauthorized", "unauthorized");
  assert.equal(client.status.unauthorized, "token expired");
  await sleep(1000);
  assert.equal(counter.attempts, 1);
  client.setToken(server.token(doc));
  await client.whenSynced();
  assert.equal(counter.attempts, 2);
  await client.close();
});
