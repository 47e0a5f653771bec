// The Node runner of the side-by-side benchmarks: the cardsync npm package (wasm) next to
// yjs, loro-crdt and @automerge/automerge, on the native runner's workloads K1–K8. Run by
// `cargo xtask bench` after the native runner; writes JSON of the native report's shape,
// which `cardsync-bench render` merges into the table.
//
// Every (workload, peer) cell runs in a fresh Node process, and timed cells report the main
// thread's CPU time with wall time beside it (measure.mjs says why: in one process, wasm
// memory made V8's collector inflate later cells 5–8×, docs/design.md §8).
//
//   node run.mjs [--quick|--full] [--only K1,K5] [--peers cardsync-wasm,yjs] --out FILE.json
//   node --expose-gc run.mjs --cell K PEER [--quick|--full|--tiny]  (internal: one cell, JSON on stdout)
//   node --expose-gc run.mjs --heap PEER N     (internal: one fresh process per memory cell)

import { execFileSync } from "node:child_process";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { Automerge } from "./peers/automerge.mjs";
import { Cardsync } from "./peers/cardsync.mjs";
import { Loro } from "./peers/loro.mjs";
import { Yjs } from "./peers/yjs.mjs";
import { WORKLOADS } from "./workloads.mjs";

const PEERS = [Cardsync, Yjs, Automerge, Loro];
const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

if (args[0] === "--heap") {
  // Memory of one document of N cards in a fresh process: RSS after minus before, after GC,
  // so wasm linear memory (cardsync, loro, automerge) counts like the JS heap does.
  const P = PEERS.find((p) => p.NAME === args[1]);
  const n = Number(args[2]);
  P.create(1).free(); // load the wasm module before the baseline
  globalThis.gc?.();
  const before = process.memoryUsage().rss;
  const doc = P.create(1);
  for (let i = 0; i < n; i++) doc.createCard(i);
  globalThis.gc?.();
  const after = process.memoryUsage().rss;
  process.stdout.write(String(after - before));
  doc.free();
  process.exit(0);
}

const quick = args.includes("--quick");
const mode = args.includes("--tiny") ? "--tiny" : quick ? "--quick" : "--full";
// --tiny: every code path in seconds (a check of the runner, figures meaningless).
const tiny = args.includes("--tiny");
const out = flag("--out");
if (!out && args[0] !== "--cell") {
  console.error("usage: node run.mjs [--quick|--full] --out FILE.json");
  process.exit(2);
}
const traces = process.env.CARDSYNC_TRACES ?? fileURLToPath(new URL("../data/editing-traces", import.meta.url));
const ctx = {
  sizes: tiny
    ? { k1: [20], k2: { cards: 20, writes: 50 }, k3: 1_200, k4: { cards: 30, moves: 30 }, k5: 500, k6: [30], k7: 20, k8: 20 }
    : quick
    ? { k1: [1_000], k2: { cards: 1_000, writes: 5_000 }, k3: 1_200, k4: { cards: 1_000, moves: 1_000 }, k5: 20_000, k6: [1_000, 10_000], k7: 10_000, k8: 1_000 }
    : { k1: [1_000, 10_000, 100_000], k2: { cards: 10_000, writes: 100_000 }, k3: 10_000, k4: { cards: 10_000, moves: 10_000 }, k5: undefined, k6: [1_000, 10_000, 50_000], k7: 100_000, k8: 10_000 },
  samples: tiny ? { warmUp: 0, timed: 1, budget: 0 } : quick ? { warmUp: 1, timed: 3, budget: 5 } : { warmUp: 1, timed: 7, budget: 60 },
  trace: `${traces}/automerge-paper.json.gz`,
  progress: (line) => console.error(`  ${line}`),
};

function heapOf(name, n) {
  try {
    const bytes = execFileSync(process.execPath, ["--expose-gc", fileURLToPath(import.meta.url), "--heap", name, String(n)], { encoding: "utf8" });
    return Number(bytes);
  } catch {
    return undefined;
  }
}

// Which wasm the package loads: a debug build is 20× larger and many times slower.
function wasmKind() {
  const dir = process.env.CARDSYNC_PKG ?? fileURLToPath(new URL("node_modules/cardsync", import.meta.url));
  const bytes = statSync(`${dir}/dist/wasm/cardsync_wasm_bg.wasm`).size;
  return `wasm ${Math.round(bytes / 1024)} KiB, ${bytes > 2_000_000 ? "DEBUG build" : "release build"}`;
}

if (args[0] === "--cell") {
  // One workload on one peer; its figures as JSON on stdout (progress goes to stderr).
  const P = PEERS.find((p) => p.NAME === args[2]);
  const figures = WORKLOADS[args[1]].cell(ctx, P, heapOf);
  process.stdout.write(JSON.stringify(figures));
  process.exit(0);
}

/** One cell in a fresh process (with `gc` exposed: each sample starts after a collection). */
function cell(workload, P) {
  try {
    const text = execFileSync(process.execPath, ["--expose-gc", fileURLToPath(import.meta.url), "--cell", workload, P.NAME, mode], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
      maxBuffer: 64 << 20,
    });
    return JSON.parse(text);
  } catch (error) {
    console.error(`  JS ${workload} ${P.NAME} failed: ${error.message}`);
    return undefined;
  }
}

const only = flag("--only")?.split(",") ?? Object.keys(WORKLOADS);
const wanted = flag("--peers")?.split(",");
const peers = wanted ? PEERS.filter((P) => wanted.includes(P.NAME)) : PEERS;
const started = performance.now();
const rows = only.flatMap((k) => WORKLOADS[k].rows(ctx, peers, peers.map((P) => cell(k, P))));
// The other threads' CPU beside the main thread's, over every timed cell: the GC noise.
const helperShare = rows
  .flatMap((r) => Object.entries(r.cells).map(([peer, c]) => [r, peer, c]))
  .filter(([, , c]) => c.helpers && c.median > 0)
  .map(([r, peer, c]) => [c.helpers.median / c.median, `${r.workload} ${peer} "${r.case}"`])
  .sort((a, b) => b[0] - a[0]);
for (const r of rows) for (const c of Object.values(r.cells)) delete c.helpers;
// Versions from the installed packages' manifests (some packages do not export package.json).
const pkg = (name) => {
  const dir = name === "cardsync" && process.env.CARDSYNC_PKG ? process.env.CARDSYNC_PKG : fileURLToPath(new URL(`node_modules/${name}`, import.meta.url));
  return JSON.parse(readFileSync(`${dir}/package.json`, "utf8")).version;
};
const report = {
  machine: {
    cpu: os.cpus()[0]?.model ?? "unknown cpu",
    cores: os.cpus().length,
    git_sha: "",
    mode: tiny ? "tiny" : quick ? "quick" : "full",
    versions: {
      node: process.version,
      "cardsync-wasm": `${pkg("cardsync")} (${wasmKind()})`,
      yjs: pkg("yjs"),
      "automerge-js": pkg("@automerge/automerge"),
      "loro-crdt": pkg("loro-crdt"),
    },
    seconds: (performance.now() - started) / 1000,
    date: "",
  },
  peers: peers.map((p) => p.NAME),
  rows,
  notes: [
    `JS (Node ${process.version}): the release wasm of the npm package (\`cargo xtask wasm --release\`). Each (workload, peer) cell runs in a fresh Node process (\`--expose-gc\`), ${ctx.samples.warmUp} warm-up and ${ctx.samples.timed} timed samples per cell within ${ctx.samples.budget} s, a forced collection before each sample (untimed), every untimed run's output freed. Timed JS rows are the main thread's CPU time (its /proc schedstat), which leaves out other work on the shared machine and V8's helper threads; the row after each, "(wall time)", is the wall clock of the same samples. The helper threads (concurrent GC marking and sweeping, background compilation) used ${helperShare.length ? `at most ${(helperShare[0][0] * 100).toFixed(0)}% of the main thread's CPU time in a cell (${helperShare[0][1]}), median ${(helperShare[helperShare.length >> 1][0] * 100).toFixed(0)}%` : "no measurable CPU"}. Memory is the RSS growth of a fresh process building the document (after GC), so wasm linear memory counts. JS K3's neighbour lists are compared as sorted card indexes (the ids are random, as in every JS workload, and differ from process to process), across the JS peers, not with the native rows. ${quick ? "Quick JS sizes (automerge-js takes minutes at the native quick sizes): K1 1k, K2 5k writes over 1k cards, K3 1200 cards (native quick: 2k; five distinct link strides need over 1009 cards), K4 1k moves in 1k cards, K5 first 20k patches, K6 1k/10k, K7 10k cards, K8 1k clients." : ""}`,
    "JS K7 builds its document in one transaction (building 100k cards one at a time in automerge-js takes minutes); the native K7 builds one transaction per card.",
  ],
};
writeFileSync(out, JSON.stringify(report, null, 2));
console.log(`wrote ${out}`);
