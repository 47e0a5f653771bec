// The Node runner of the side-by-side benchmarks: the cardsync npm package (wasm) next to
// yjs, loro-crdt and @automerge/automerge, on the native runner's workloads K1–K8. Run by
// `cargo xtask bench` after the native runner; writes JSON of the native report's shape,
// which `cardsync-bench render` merges into the table.
//
//   node run.mjs [--quick|--full] --out FILE.json
//   node --expose-gc run.mjs --heap PEER N     (internal: one fresh process per memory cell)

import { execFileSync } from "node:child_process";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { Automerge } from "./peers/automerge.mjs";
import { Cardsync } from "./peers/cardsync.mjs";
import { Loro } from "./peers/loro.mjs";
import { Yjs } from "./peers/yjs.mjs";
import { k1, k2, k3, k4, k5, k6, k7, k8 } from "./workloads.mjs";

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
// --tiny: every code path in seconds (a check of the runner, figures meaningless).
const tiny = args.includes("--tiny");
const out = flag("--out");
if (!out) {
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

const started = performance.now();
const rows = [...k1(ctx, PEERS, heapOf), ...k2(ctx, PEERS), ...k3(ctx, PEERS), ...k4(ctx, PEERS), ...k5(ctx, PEERS), ...k6(ctx, PEERS), ...k7(ctx, PEERS), ...k8(ctx, PEERS)];
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
  peers: PEERS.map((p) => p.NAME),
  rows,
  notes: [
    `JS (Node ${process.version}): the release wasm of the npm package (\`cargo xtask wasm --release\`); ${ctx.samples.warmUp} warm-up and ${ctx.samples.timed} timed samples per cell within ${ctx.samples.budget} s. Memory is the RSS growth of a fresh process building the document (after GC), so wasm linear memory counts. JS K3's neighbour lists hold the JS peers' own card ids (random, as in every JS workload), so they compare across the JS peers, not with the native rows. ${quick ? "Quick JS sizes (automerge-js takes minutes at the native quick sizes): K1 1k, K2 5k writes over 1k cards, K3 1200 cards (native quick: 2k; five distinct link strides need over 1009 cards), K4 1k moves in 1k cards, K5 first 20k patches, K6 1k/10k, K7 10k cards, K8 1k clients." : ""}`,
    "JS K7 builds its document in one transaction (building 100k cards one at a time in automerge-js takes minutes); the native K7 builds one transaction per card.",
  ],
};
writeFileSync(out, JSON.stringify(report, null, 2));
console.log(`wrote ${out}`);
