// E1 of the side-by-side benchmarks: end-to-end latency over a loopback WebSocket through a
// server, from a local op on client A to the change event on client B, next to a stock
// y-websocket client and server pair carrying the same edits in the same run.
//
//   CARDSYNC_SERVER_BIN=target/release/cardsync-server node e1.mjs [--quick|--tiny] --out FILE.json
//
// cardsync: two `SyncClient`s of the npm package (release wasm, `ws` sockets, in-memory
// outboxes) against the real `cardsync-server` binary, which validates each batch and makes it
// durable in SQLite (`synchronous = FULL`, one fsync per group commit) before it acks and
// relays it. y-websocket: two `WebsocketProvider`s against `@y/websocket-server` in its own
// Node process, which relays at once and keeps nothing on disk. Each side renames one card (a
// register write / a `Y.Map` set) once per edit, one edit at a time: A writes, B's change
// event stops the clock. Both clients share this process, so there is one clock.

import { spawn } from "node:child_process";
import { once } from "node:events";
import { writeFileSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import { WebSocket } from "ws";
import { WebsocketProvider } from "y-websocket";
import * as Y from "yjs";
import { startServer } from "../../pkg/test/sync-server.js";

const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const out = flag("--out");
if (!out) {
  console.error("usage: node e1.mjs [--quick|--tiny] --out FILE.json");
  process.exit(2);
}
const mode = args.includes("--tiny") ? "tiny" : args.includes("--quick") ? "quick" : "full";
const EDITS = { tiny: 20, quick: 500, full: 2_000 }[mode];
const WARM_UP = mode === "tiny" ? 2 : 50;
// Under the server's default batch rate (50/s after a burst of 100) with room to spare.
const PACE_MS = 25;

const entry = process.env.CARDSYNC_PKG ? pathToFileURL(`${process.env.CARDSYNC_PKG}/src/node.js`).href : "cardsync";
const { MemoryStore, SyncClient } = await import(entry);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Times `edits` writes through `write(i)`, each until `seen(i)` resolves. */
async function measure(write, seen) {
  const samples = [];
  for (let i = 0; i < WARM_UP + EDITS; i++) {
    const arrived = seen(i);
    const start = performance.now();
    write(i);
    await arrived;
    if (i >= WARM_UP) samples.push(performance.now() - start);
    await sleep(PACE_MS);
  }
  return samples.sort((x, y) => x - y);
}

/** Resolves with the first call of `subscribe`'s listener for which `check()` holds. */
function whenever(subscribe, check, what) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`E1: timed out waiting for ${what}`));
    }, 10_000);
    const off = subscribe(() => {
      if (!check()) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

async function cardsync() {
  const { schema } = await import("../../pkg/test/fixtures.js");
  const server = await startServer();
  try {
    const doc = "e1";
    const open = (actor) =>
      SyncClient.open({ url: server.url(doc), schema, token: server.token(doc), actor, WebSocket, store: new MemoryStore() });
    const [a, b] = [await open("a"), await open("b")];
    await Promise.all([a.whenSynced(), b.whenSynced()]);
    const card = a.doc.createCard("task", { title: "start" });
    await whenever((f) => b.doc.subscribe(f), () => b.doc.card(card) !== undefined, "B to see the card");
    const samples = await measure(
      (i) => a.doc.setField(card, "title", `edit-${i}`),
      (i) => whenever((f) => b.doc.subscribe(f), () => b.doc.card(card)?.fields.title === `edit-${i}`, `edit ${i} on B`),
    );
    await Promise.all([a.close(), b.close()]);
    return samples;
  } finally {
    await server.stop();
  }
}

async function freePort() {
  const probe = createServer().listen(0, "127.0.0.1");
  await once(probe, "listening");
  const { port } = probe.address();
  probe.close();
  await once(probe, "close");
  return port;
}

async function yWebsocket() {
  const port = await freePort();
  const bin = fileURLToPath(import.meta.resolve("@y/websocket-server/package.json")).replace(/package\.json$/, "src/server.js");
  const child = spawn(process.execPath, [bin], { env: { ...process.env, HOST: "127.0.0.1", PORT: String(port) }, stdio: ["ignore", "pipe", "inherit"] });
  try {
    await once(createInterface({ input: child.stdout }), "line");
    const open = () => {
      const doc = new Y.Doc();
      const provider = new WebsocketProvider(`ws://127.0.0.1:${port}`, "e1", doc, { WebSocketPolyfill: WebSocket });
      return { doc, provider, card: doc.getMap("card") };
    };
    const [a, b] = [open(), open()];
    const synced = (p) => (p.synced ? Promise.resolve() : once(p, "sync"));
    await Promise.all([synced(a.provider), synced(b.provider)]);
    const observe = (f) => {
      b.card.observe(f);
      return () => b.card.unobserve(f);
    };
    const samples = await measure(
      (i) => a.card.set("title", `edit-${i}`),
      (i) => whenever(observe, () => b.card.get("title") === `edit-${i}`, `edit ${i} on B`),
    );
    for (const side of [a, b]) {
      side.provider.destroy();
      side.doc.destroy();
    }
    return samples;
  } finally {
    child.kill("SIGKILL");
  }
}

const started = performance.now();
const results = { "cardsync-wasm": await cardsync(), "y-websocket": await yWebsocket() };
const at = (samples, q) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
const rows = [
  ["p50", 0.5],
  ["p99", 0.99],
  ["p999", 0.999],
].map(([name, q]) => ({
  workload: "E1",
  case: `A op -> B event over loopback, ${name} of ${EDITS} edits`,
  unit: "ms",
  cells: Object.fromEntries(Object.entries(results).map(([peer, samples]) => [peer, { median: at(samples, q), min: samples[0] }])),
}));
const report = {
  machine: {
    cpu: os.cpus()[0]?.model ?? "unknown cpu",
    cores: os.cpus().length,
    git_sha: "",
    mode,
    versions: { "y-websocket": "3.0.0 client, @y/websocket-server 0.1.1" },
    seconds: (performance.now() - started) / 1000,
    date: "",
  },
  peers: Object.keys(results),
  rows,
  notes: [
    `E1 (Node ${process.version}, one process for both clients): cardsync is the npm package's SyncClient against the cardsync-server binary, which validates each batch and commits it to SQLite with synchronous=FULL before relaying it; y-websocket is the stock client against @y/websocket-server in its own Node process, relaying at once with no storage. ${EDITS} edits after ${WARM_UP} warm-up ones, one at a time, ${PACE_MS} ms apart; each cell is that percentile, not a median of samples. The native client's figure is the ignored test \`cargo test -p cardsync-server --release --test latency -- --ignored --nocapture\`.`,
  ],
};
writeFileSync(out, JSON.stringify(report, null, 2));
console.log(`wrote ${out}`);
