// FileStore: the Node outbox store survives `kill -9` between (and during) writes, with
// nothing lost or duplicated: a writer process increments a counter and is killed; every
// increment it reported durable is there after a restart, none twice, and the server ends
// up with exactly what the store held. Also: a torn last line is dropped, and a Node client
// given no store says that its outbox is in memory.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, appendFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, test } from "node:test";
import { FileStore, MemoryStore, SyncClient } from "cardsync";
import { WebSocket } from "ws";
import { schema } from "./fixtures.js";
import { startServer } from "./sync-server.js";

let server;
let dir;
before(async () => {
  server = await startServer();
  dir = mkdtempSync(join(tmpdir(), "cardsync-file-store-"));
});
after(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const batch = (key, byte) => ({ key, meta: "{}", update: new Uint8Array([byte, 1, 2]) });

test("apply, reopen, and a torn last line dropped", async () => {
  const path = join(dir, "unit.log");
  const store = await FileStore.open(path);
  await store.apply([{ kind: "put_batch", seq: 1, batch: batch("1:0", 7) }]);
  await store.apply([
    { kind: "append_confirmed", seq: 2, update: new Uint8Array([9]) },
    { kind: "put_batch", seq: 3, batch: batch("1:1", 8) },
  ]);
  store.close();
  // A crash mid-write leaves half a line.
  appendFileSync(path, '{"ops":[{"kind":"put_batch","seq":4,"ba');
  const reopened = await FileStore.open(path);
  const state = await reopened.load();
  assert.deepEqual(state.outbox.map((b) => b.key), ["1:0", "1:1"]);
  assert.deepEqual([...state.outbox[1].update], [8, 1, 2]);
  assert.deepEqual(state.confirmed.map((u) => [...u]), [[9]]);
  reopened.close();
  assert.ok(readFileSync(path, "utf8").endsWith("\n"), "the torn line is cut off");
});

/** Runs the writer on `path` until it reports `target` increments durable, then SIGKILLs it. */
async function writeAndKill(path, doc, target) {
  const child = spawn(process.execPath, ["test/file-store-writer.js", path, server.url(doc)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const seen = { card: undefined, durable: 0, started: 0 };
  const lines = createInterface({ input: child.stdout });
  lines.on("line", (line) => {
    const [word, value] = line.split(" ");
    if (word === "card") seen.card = value;
    if (word === "inc") seen.started = Number(value);
    if (word === "durable") {
      seen.durable = Number(value);
      if (seen.durable >= target) child.kill("SIGKILL");
    }
  });
  await Promise.all([once(child, "exit"), once(lines, "close")]);
  return seen;
}

async function votesOnServer(doc, card) {
  const reader = await SyncClient.open({
    url: server.url(doc),
    schema,
    token: server.token(doc, "viewer"),
    WebSocket,
    store: new MemoryStore(),
  });
  await reader.whenSynced();
  const votes = reader.doc.card(card)?.fields.votes;
  await reader.close();
  return votes;
}

test("a writer killed with SIGKILL loses and duplicates nothing", { timeout: 60_000 }, async () => {
  const doc = `file-store-${process.pid}`;
  const path = join(dir, "crash.log");
  const seen = await writeAndKill(path, doc, 25);
  assert.ok(seen.card, "the card was created");
  assert.ok(seen.durable >= 25);

  // Restart: everything reported durable is there, at most the one increment under way more.
  const reopen = async () =>
    SyncClient.open({
      url: server.url(doc),
      schema,
      token: server.token(doc),
      WebSocket,
      store: await FileStore.open(path),
    });
  let client = await reopen();
  const votes = client.doc.card(seen.card)?.fields.votes;
  assert.ok(votes >= seen.durable && votes <= seen.started, `${votes} not in [${seen.durable}, ${seen.started}]`);
  assert.equal(client.status.durable, true);
  await client.whenSynced();
  await client.close();
  assert.equal(await votesOnServer(doc, seen.card), votes, "the server got each increment once");

  // Restarted again after the acks: nothing is sent twice.
  client = await reopen();
  assert.equal(client.status.pending, 0);
  await client.whenSynced();
  await client.close();
  assert.equal(await votesOnServer(doc, seen.card), votes);
});

test("a Node client given no store says its outbox is in memory", async () => {
  const warnings = [];
  const warn = console.warn;
  console.warn = (message) => warnings.push(String(message));
  try {
    const client = await SyncClient.open({ url: server.url("nowhere"), schema, token: "t", WebSocket, online: false });
    assert.equal(client.status.durable, false);
    await client.close();
  } finally {
    console.warn = warn;
  }
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /in memory only/);
});
