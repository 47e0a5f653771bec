// Browser-measured propagation latency: an edit in tab A until its render in tab B.
//
//   cargo xtask demo   # once (Ctrl-C it): builds demo/dist with the release wasm and
//                      # target/release/cardsync-server
//   CARDSYNC_SERVER_BIN=target/release/cardsync-server node demo/test/latency.js [edits]
//
// Two browser contexts in headless Chromium on the board, through a real cardsync-server on
// 127.0.0.1. A renames one card `edits` times (default 1000), one rename at a time; B records
// when its board finished rendering each new title. Both timestamps are taken in the pages
// (`performance.timeOrigin + performance.now()`, one machine, one clock), so the Playwright
// round trips that pace the loop are not in the figures. Not a test: it asserts nothing
// about speed and is not run by `cargo xtask test`.
//
// It also splits each sample in three, from the pages' sockets (wrapped before the board
// loads): A's edit until A's socket sends (local write, outbox persisted to IndexedDB),
// that send until B's socket receives the last frame before the render (server, network),
// and that frame until B's render (apply, events, DOM).

import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { startServer } from "../../pkg/test/sync-server.js";
import { schema } from "../src/schema.js";

const edits = Number(process.argv[2] ?? 1000);
const server = await startServer({ schema, staticDir: fileURLToPath(new URL("../dist", import.meta.url)) });
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
try {
  const open = async (name) => {
    const page = await (await browser.newContext()).newPage();
    await page.addInitScript(() => {
      const now = () => performance.timeOrigin + performance.now();
      const times = (window.socketTimes = { sent: [], received: [] });
      window.WebSocket = class extends WebSocket {
        constructor(...args) {
          super(...args);
          this.addEventListener("message", () => times.received.push(now()));
        }
        send(data) {
          times.sent.push(now());
          super.send(data);
        }
      };
    });
    await page.goto(`${server.http}/?doc=latency&name=${name}&token=${server.token("latency")}`);
    await page.waitForFunction(() => window.cardsyncDemo?.client.status.status === "online");
    return page;
  };
  const [a, b] = [await open("A"), await open("B")];
  const card = await a.evaluate(() => window.cardsyncDemo.board.add("todo", "edit-start"));
  await b.evaluate((card) => {
    window.rendered = new Map();
    const board = document.querySelector("#board");
    board.addEventListener("rendered", () => {
      const title = window.cardsyncDemo.doc.card(card)?.fields.title;
      if (typeof title === "string" && !window.rendered.has(title)) {
        window.rendered.set(title, performance.timeOrigin + performance.now());
      }
    });
  }, card);
  const samples = [];
  const parts = { persist: [], relay: [], render: [] };
  for (let i = 0; i < edits; i++) {
    const title = `edit-${i}`;
    const sent = await a.evaluate(
      ([card, title]) => {
        const t = performance.timeOrigin + performance.now();
        window.cardsyncDemo.board.rename(card, title);
        return t;
      },
      [card, title],
    );
    const seen = await (await b.waitForFunction((title) => window.rendered.get(title), title, { polling: "raf" })).jsonValue();
    samples.push(seen - sent);
    const sentAt = await a.evaluate((t) => window.socketTimes.sent.find((s) => s >= t), sent);
    const receivedAt = await b.evaluate((t) => window.socketTimes.received.findLast((r) => r <= t), seen);
    parts.persist.push(sentAt - sent);
    parts.relay.push(receivedAt - sentAt);
    parts.render.push(seen - receivedAt);
  }
  const at = (list, q) => {
    const sorted = [...list].sort((x, y) => x - y);
    return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))].toFixed(2);
  };
  console.log(`edit in tab A -> render in tab B, ${samples.length} edits (ms): p50 ${at(samples, 0.5)}, p99 ${at(samples, 0.99)}, max ${at(samples, 1)}`);
  for (const [name, list] of Object.entries(parts)) console.log(`  ${name.padEnd(8)} p50 ${at(list, 0.5)}, p99 ${at(list, 0.99)}`);
} finally {
  await browser.close();
  await server.stop();
}
