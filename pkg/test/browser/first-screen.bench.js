// The first-screen benchmark (issue 21): a warm IndexedDB holding a 10k-card board (8 fields,
// 500-char bodies; one sequence of every card and a 4-column kanban board), and 20 page loads,
// each timed in headless Chromium from the `SyncClient.open` call to the first 50 cards of
// each sequence and column in the DOM, and to the CRDT being live, with the main thread's
// long tasks (over 50 ms, `PerformanceObserver` "longtask") between the two.
//
//   cd pkg && node test/browser/first-screen.bench.js [--cards 10000] [--loads 20] [--stale]
//
// `--stale` deletes the cache's tag before each load, so the reconciliation re-reads every
// card from the doc (the path after a crash before a flush, or a delete the cache missed).
//
// Not a test (no `.test.js`): it takes a minute and asserts nothing. It needs the release
// wasm (`cargo xtask wasm --release`). Figures: benches/results/latest.md, "First screen".

import { parseArgs } from "node:util";
import { launch } from "./chromium.js";
import { PKG, testPage } from "./page.js";
import { serve } from "./server.js";

const { values } = parseArgs({
  options: {
    cards: { type: "string", default: "10000" },
    loads: { type: "string", default: "20" },
    stale: { type: "boolean", default: false },
  },
});
const count = Number(values.cards);
const loads = Number(values.loads);

const http = await serve(PKG, { index: await testPage("/test/browser/screen-bench.js") });
const browser = await launch();
const { page } = browser;
try {
  const load = async () => {
    await page.goto(`${http.url}/`);
    await page.waitForFunction(() => window.cardsync !== undefined, null, { timeout: 60_000 });
    const error = await page.evaluate(() => window.cardsync.error);
    if (error) throw new Error(error);
  };
  const run = (name, arg) => page.evaluate(([name, arg]) => window.cardsync.run(name, arg), [name, arg]);
  await load();
  const seeded = await run("seed", { name: "bench", count, bodyLen: 500, columns: 4 });
  console.log(`seeded ${seeded.cards} cards, confirmed update ${seeded.updateBytes} bytes, bare CardDoc.loadV1 ${seeded.loadV1Ms.toFixed(0)} ms`);
  const results = [];
  for (let i = 0; i < loads; i++) {
    await load();
    const r = await run("load", { name: "bench", stale: values.stale });
    results.push(r);
    console.log(
      `load ${i + 1}: first screen ${r.firstScreen.toFixed(1)} ms (${r.shown} cards), live ${r.live.toFixed(1)} ms, ` +
        `tag ${r.fastPath ? "matched" : "differed"} (${r.tagMs.toFixed(1)} ms), lists ${r.listsMs.toFixed(1)} ms, long tasks ${JSON.stringify(r.longTasks)}`,
    );
  }
  const p = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
  const first = results.map((r) => r.firstScreen);
  const live = results.map((r) => r.live);
  const longest = results.map((r) => Math.max(0, ...r.longTasks));
  console.log(`Chromium ${browser.version}, ${loads} loads of ${count} cards`);
  console.log(`first screen: p50 ${p(first, 0.5).toFixed(1)} ms, p90 ${p(first, 0.9).toFixed(1)} ms`);
  console.log(`CRDT live:    p50 ${p(live, 0.5).toFixed(1)} ms, p90 ${p(live, 0.9).toFixed(1)} ms`);
  console.log(`longest long task per load: p50 ${p(longest, 0.5)} ms, max ${Math.max(...longest)} ms`);
} finally {
  await browser.close();
  await http.close();
}
