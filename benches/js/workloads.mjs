// The JS workloads: the native runner's K1–K8 (see benches/src/workloads) on the npm packages,
// one transaction per action. Each is a pair: `cell(ctx, P)` measures one peer and returns
// plain JSON figures (run.mjs calls it in a fresh process per peer and workload), and
// `rows(ctx, peers, figures)` turns every peer's figures into rows of the native report's
// shape ({ workload, case, unit, cells: { peer: { median, min } | "text" } }).

import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { BOARD_COLUMNS, cardId, cardIndex } from "./card.mjs";
import { per, release, time, value } from "./measure.mjs";

const short = (n) => (n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : String(n));

/** SplitMix64 on BigInt, as benches/src/lib.rs `Rng`, so seeded choices match in kind. */
export class Rng {
  constructor(seed) {
    this.s = BigInt(seed);
  }
  next() {
    const M = (1n << 64n) - 1n;
    this.s = (this.s + 0x9e3779b97f4a7c15n) & M;
    let z = this.s;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M;
    return z ^ (z >> 31n);
  }
  below(n) {
    return Number(this.next() % BigInt(n));
  }
}

/**
 * Rows from every peer's figures. A timed cell holds main-thread CPU time (see measure.mjs);
 * its wall time follows in a row of its own, so both are in the table.
 */
function rows(workload, peers, figures, specs) {
  return specs.flatMap(([kase, unit, pick]) => {
    const cells = {};
    const walls = {};
    peers.forEach((P, k) => {
      const c = figures[k] === undefined ? undefined : pick(figures[k]);
      if (c === undefined) return;
      cells[P.NAME] = c.wall ? { median: c.median, min: c.min, helpers: c.helpers } : c;
      if (c.wall) walls[P.NAME] = c.wall;
    });
    const row = { workload: `JS ${workload}`, case: kase, unit, cells };
    if (Object.keys(walls).length === 0) return [row];
    return [row, { workload: `JS ${workload}`, case: `${kase} (wall time)`, unit, cells: walls }];
  });
}

function build(P, n) {
  const p = P.create(1);
  for (let i = 0; i < n; i++) p.createCard(i);
  return p;
}

function k1Cell(ctx, P, heapOf) {
  return ctx.sizes.k1.map((n) => {
    ctx.progress(`JS K1 ${P.NAME} ${short(n)}`);
    const { timing: perCard, output } = time(ctx.samples, () => null, () => build(P, n));
    const bytes = output.snapshot().length;
    output.free();
    const { timing: batched, output: last } = time(ctx.samples, () => P.create(1), (p) => {
      p.createCardsBatched(n);
      return p;
    });
    last.free();
    return { perCard: per(perCard, 1e6 / n), batched: per(batched, 1e6 / n), bytes, heap: heapOf(P.NAME, n) };
  });
}

function k1Rows(ctx, peers, perPeer) {
  const out = [];
  ctx.sizes.k1.forEach((n, s) => {
    const figures = perPeer.map((sizes) => sizes?.[s]);
    out.push(
      ...rows("K1", peers, figures, [
        [`create ${short(n)} cards, txn per card`, "µs/card", (f) => f.perCard],
        [`create ${short(n)} cards, one txn (batched)`, "µs/card", (f) => f.batched],
        [`${short(n)} cards: doc bytes (v1 / save / snapshot)`, "B/card", (f) => value(f.bytes / n)],
        [`${short(n)} cards: memory incl. wasm linear memory (RSS delta)`, "B/card", (f) => (f.heap === undefined ? undefined : value(f.heap / n))],
      ]),
    );
  });
  return out;
}

/**
 * The `perCard` targets of card `i` among `n` cards: fixed strides, as benches/src/lib.rs
 * `link_targets` (distinct while `n` exceeds the largest stride used).
 */
function linkTargets(i, n, perCard) {
  const STRIDES = [1, 7, 31, 127, 1009, 2003, 4001, 4999];
  if (!(perCard <= STRIDES.length && n > STRIDES[perCard - 1])) throw new Error(`linkTargets: ${n} cards, ${perCard} per card`);
  return STRIDES.slice(0, perCard).map((s) => (i + s) % n);
}

/** Fisher–Yates with `rng`, in place, as benches/src/lib.rs `shuffle`. */
function shuffle(items, rng) {
  for (let i = items.length - 1; i >= 1; i--) {
    const j = rng.below(i + 1);
    [items[i], items[j]] = [items[j], items[i]];
  }
}

function zipf(cards, count, seed) {
  const cdf = [];
  let total = 0;
  for (let k = 0; k < cards; k++) cdf.push((total += 1 / (k + 1)));
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => {
    const u = (Number(rng.next() >> 11n) / 2 ** 53) * total;
    let lo = 0;
    let hi = cards - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  });
}

function k2Cell(ctx, P) {
  const { cards, writes } = ctx.sizes.k2;
  const targets = zipf(cards, writes, 2);
  {
    ctx.progress(`JS K2 ${P.NAME}`);
    const base = build(P, cards);
    const snap = base.snapshot();
    base.free();
    const { timing, output } = time(ctx.samples, () => P.load(2, snap), (p) => {
      targets.forEach((card, w) => p.setField(card, w % 2 ? "priority" : "title", w));
      return p;
    });
    const after = output.snapshot().length;
    output.free();
    return { perWrite: per(timing, 1e6 / writes), growth: (after - snap.length) / writes };
  }
}

function k2Rows(ctx, peers, figures) {
  const { cards, writes } = ctx.sizes.k2;
  const kase = `${short(writes)} Zipf writes over ${short(cards)} cards`;
  return rows("K2", peers, figures, [
    [`${kase}, txn per write`, "µs/write", (f) => f.perWrite],
    [`${kase}: growth`, "B/write", (f) => value(f.growth)],
  ]);
}

/** K3: links per card. */
const PER_CARD = 5;
/** K3: the card whose neighbours are listed (its own id and most neighbours survive the deletes). */
const PROBE = 1;

/** K3: the cards deleted, a seeded 20% (benches/src/workloads/k3.rs `deleted`). */
function deleted(n) {
  const all = [];
  for (let i = 0; i < n; i++) if (i !== PROBE) all.push(i);
  shuffle(all, new Rng(3));
  return all.slice(0, Math.floor(n / 5));
}

/** K3: cards `0..n` with titles only and five links each, one transaction per action. */
function linked(P, n) {
  const p = P.create(1);
  for (let i = 0; i < n; i++) p.createSmallCard(i);
  for (let i = 0; i < n; i++) for (const t of linkTargets(i, n, PER_CARD)) p.link(i, t);
  return p;
}

/** K3: one replica unlinks an edge while another links it again; what the merge keeps. */
function concurrentRelink(P) {
  const base = P.create(1);
  base.createSmallCard(0);
  base.createSmallCard(1);
  base.link(0, 1);
  const snap = base.snapshot();
  base.free();
  const a = P.load(2, snap);
  const b = P.load(3, snap);
  a.unlink(0, 1);
  b.link(0, 1);
  const toA = b.diff(a.version());
  const toB = a.diff(b.version());
  a.apply(toA);
  b.apply(toB);
  const [inA, inB] = [a.hasLink(0, 1), b.hasLink(0, 1)];
  a.free();
  b.free();
  return inA && inB ? "re-added edge kept" : !inA && !inB ? "removal wins" : "DIVERGED";
}

/**
 * K3: relationships. Five links per card, delete 20% of the cards, list one card's
 * neighbours, and two replicas adding and removing the same edge at once (k3.rs).
 */
function k3Cell(ctx, P) {
  const n = ctx.sizes.k3;
  const gone = deleted(n);
  {
    ctx.progress(`JS K3 ${P.NAME} ${short(n)}`);
    const empty = P.create(1);
    for (let i = 0; i < n; i++) empty.createSmallCard(i);
    const cards = empty.snapshot();
    empty.free();
    // Each sample's document is freed (by `time`) before the next is loaded, outside the
    // timing. Loaded as client 2 (native: 1), as the other JS workloads load: Yjs renames a
    // client that finds its own id in a loaded update, with a warning.
    const fresh = (snap) => () => P.load(2, snap);
    const { timing: link, output: linkedPeer } = time(ctx.samples, fresh(cards), (p) => {
      for (let i = 0; i < n; i++) for (const t of linkTargets(i, n, PER_CARD)) p.link(i, t);
      return p;
    });
    linkedPeer.free();
    const built = linked(P, n);
    const links = built.snapshot();
    built.free();
    const { timing: del, output: peer } = time(ctx.samples, fresh(links), (p) => {
      for (const i of gone) p.deleteCard(i);
      return p;
    });
    const visible = peer.cardCount();
    if (visible !== n - gone.length) throw new Error(`JS K3 ${P.NAME}: ${n - gone.length} visible cards expected, found ${visible}`);
    // As many queries per sample as fit in ~20 ms (1 to 100): scans differ by 1000×.
    const start = performance.now();
    // As sorted card indexes: ids are random per process, and each peer runs in its own.
    const neighbours = peer.neighbours(PROBE).map(cardIndex).sort((a, b) => a - b);
    const once = (performance.now() - start) / 1000;
    const queries = Math.floor(Math.min(100, Math.max(1, 0.02 / Math.max(once, 1e-9))));
    const { timing: query } = time(
      { ...ctx.samples, warmUp: 1, timed: Math.max(ctx.samples.timed, 5) },
      () => null,
      () => {
        for (let q = 0; q < queries; q++) peer.neighbours(PROBE);
      },
    );
    peer.free();
    return {
      link: per(link, 1e6 / (n * PER_CARD)),
      del: per(del, 1e6 / gone.length),
      query: per(query, 1e6 / queries),
      neighbours,
      concurrent: concurrentRelink(P),
    };
  }
}

function k3Rows(ctx, peers, figures) {
  const s = short(ctx.sizes.k3);
  const reference = JSON.stringify(figures[0]?.neighbours ?? []);
  return rows("K3", peers, figures, [
    [`link ${s} cards × ${PER_CARD}, txn per link`, "µs/link", (f) => f.link],
    [`soft-delete 20% of ${s} linked cards, txn per card`, "µs/card", (f) => f.del],
    [`neighbours of one card after the deletes (${s} cards)`, "µs/query", (f) => f.query],
    ["neighbours listed (same as cardsync?)", "check", (f) => `${f.neighbours.length} (${JSON.stringify(f.neighbours) === reference ? "same" : "DIFFERENT"})`],
    ["concurrent unlink + re-link of one edge, merged", "check", (f) => f.concurrent],
  ]);
}

function moves(n, count, seed) {
  const rng = new Rng(seed);
  const order = Array.from({ length: n }, (_, i) => i);
  const list = [];
  for (let m = 0; m < count; m++) {
    const from = rng.below(n);
    const to = rng.below(n);
    const [card] = order.splice(from, 1);
    order.splice(to, 0, card);
    list.push([card, from, to]);
  }
  return { list, order };
}

function sequenceOf(P, n) {
  const p = P.create(1);
  for (let i = 0; i < n; i++) p.createSmallCard(i);
  p.createSequence();
  return p;
}

function concurrentMoves(P) {
  const N = 50;
  const base = sequenceOf(P, N);
  for (let i = 0; i < N; i++) base.append(i);
  const snap = base.snapshot();
  const a = P.load(2, snap);
  const b = P.load(3, snap);
  for (const [replica, seed] of [[a, 11], [b, 12]]) {
    const rng = new Rng(seed);
    const order = Array.from({ length: N }, (_, i) => i);
    for (let card = 0; card < 20; card++) {
      const from = order.indexOf(card);
      const to = rng.below(N);
      order.splice(from, 1);
      order.splice(to, 0, card);
      replica.moveCard(card, from, to);
    }
  }
  const toA = b.diff(a.version());
  const toB = a.diff(b.version());
  a.apply(toA);
  b.apply(toB);
  const sa = a.sequence();
  const sb = b.sequence();
  base.free();
  a.free();
  b.free();
  const dup = sa.length - new Set(sa).size;
  const lost = N - new Set(sa).size;
  return `${dup} dup, ${lost} lost, ${JSON.stringify(sa) === JSON.stringify(sb) ? "converged" : "DIVERGED"}`;
}

// K4's board rows (benches/src/workloads/k4_board.rs): a board of BOARD_COLUMNS columns,
// card i dealt to the end of column i % BOARD_COLUMNS, random moves into another column.
function dealt(n) {
  const board = Array.from({ length: BOARD_COLUMNS }, () => []);
  for (let i = 0; i < n; i++) board[i % BOARD_COLUMNS].push(i);
  return board;
}

// One random move of `board` into another column (of `card`, or of a uniformly random card),
// applied to it: [card, [fromColumn, fromIndex], [toColumn, toIndex]].
function boardMove(board, card, rng) {
  let from = 0;
  let at = 0;
  if (card === undefined) {
    const total = board.reduce((sum, c) => sum + c.length, 0);
    at = rng.below(Math.max(1, total));
    while (from + 1 < board.length && at >= board[from].length) {
      at -= board[from].length;
      from++;
    }
  } else {
    from = board.findIndex((c) => c.includes(card));
    at = board[from].indexOf(card);
  }
  const to = (from + 1 + rng.below(BOARD_COLUMNS - 1)) % BOARD_COLUMNS;
  const [moved] = board[from].splice(at, 1);
  const toIndex = rng.below(board[to].length + 1);
  board[to].splice(toIndex, 0, moved);
  return [moved, [from, at], [to, toIndex]];
}

function boardOf(P, n) {
  const p = P.create(1);
  for (let i = 0; i < n; i++) p.createSmallCard(i);
  p.createBoard();
  dealt(n).forEach((cards, column) => {
    for (const i of cards) p.addToColumn(i, column);
  });
  return p;
}

const boardIds = (board) => JSON.stringify(board.map((cards) => cards.map(cardId)));

function concurrentBoardMoves(P) {
  const N = 50;
  const base = boardOf(P, N);
  const snap = base.snapshot();
  const a = P.load(2, snap);
  const b = P.load(3, snap);
  for (const [replica, seed] of [[a, 21], [b, 22]]) {
    const rng = new Rng(seed);
    const board = dealt(N);
    for (let card = 0; card < 20; card++) replica.moveAcross(...boardMove(board, card, rng));
  }
  const toA = b.diff(a.version());
  const toB = a.diff(b.version());
  a.apply(toA);
  b.apply(toB);
  const ba = a.board();
  const bb = b.board();
  base.free();
  a.free();
  b.free();
  const all = ba.flat();
  const unique = new Set(all).size;
  return `${all.length - unique} dup, ${N - unique} lost, ${JSON.stringify(ba) === JSON.stringify(bb) ? "converged" : "DIVERGED"}`;
}

function k4BoardCell(ctx, P, n, count) {
  ctx.progress(`JS K4 board ${P.NAME}`);
  const rng = new Rng(44);
  const model = dealt(n);
  const list = [];
  for (let m = 0; m < count; m++) list.push(boardMove(model, undefined, rng));
  const start = boardOf(P, n);
  if (JSON.stringify(start.board()) !== boardIds(dealt(n))) throw new Error(`${P.NAME}: the dealt board differs`);
  const snap = start.snapshot();
  start.free();
  const { timing: move, output: moved } = time(ctx.samples, () => P.load(5, snap), (p) => {
    for (const [card, from, to] of list) p.moveAcross(card, from, to);
    return p;
  });
  const ok = JSON.stringify(moved.board()) === boardIds(model);
  moved.free();
  return { boardMove: per(move, 1e6 / Math.max(1, count)), boardOk: ok ? "yes" : "NO", boardConcurrent: concurrentBoardMoves(P) };
}

function k4Cell(ctx, P) {
  const { cards: n, moves: count } = ctx.sizes.k4;
  const plan = moves(n, count, 4);
  {
    ctx.progress(`JS K4 ${P.NAME}`);
    const empty = sequenceOf(P, n);
    const emptySnap = empty.snapshot();
    empty.free();
    const { timing: append, output: appended } = time(ctx.samples, () => P.load(2, emptySnap), (p) => {
      for (let i = 0; i < n; i++) p.append(i);
      return p;
    });
    const snap = appended.snapshot();
    const { timing: move, output: moved } = time(ctx.samples, () => P.load(4, snap), (p) => {
      for (const [card, from, to] of plan.list) p.moveCard(card, from, to);
      return p;
    });
    const ok = JSON.stringify(moved.sequence()) === JSON.stringify(plan.order.map(cardId));
    appended.free();
    moved.free();
    return {
      append: per(append, 1e6 / n),
      move: per(move, 1e6 / Math.max(1, count)),
      ok: ok ? "yes" : "NO",
      concurrent: concurrentMoves(P),
      ...k4BoardCell(ctx, P, n, count),
    };
  }
}

function k4Rows(ctx, peers, figures) {
  const { cards: n, moves: count } = ctx.sizes.k4;
  return rows("K4", peers, figures, [
    [`append ${short(n)} cards, txn per append`, "µs/append", (f) => f.append],
    [`${short(count)} random moves in ${short(n)} cards, txn per move`, "µs/move", (f) => f.move],
    ["order after the moves equals the model", "check", (f) => f.ok],
    ["2 replicas move the same 20 of 50 cards at once, merged", "check", (f) => f.concurrent],
    [`${short(count)} random cross-column moves on a board of ${short(n)} cards in ${BOARD_COLUMNS} columns, txn per move`, "µs/move", (f) => f.boardMove],
    ["board after the moves equals the model (each card in one column)", "check", (f) => f.boardOk],
    ["2 replicas move the same 20 of 50 board cards into other columns at once, merged", "check", (f) => f.boardConcurrent],
  ]);
}

function k5Patches(ctx) {
  const trace = JSON.parse(gunzipSync(readFileSync(ctx.trace)).toString("utf8"));
  const all = trace.txns.flatMap((t) => t.patches);
  const patches = all.slice(0, ctx.sizes.k5 ?? all.length);
  let expected = trace.endContent;
  if (patches.length < all.length) {
    // A prefix: the text a plain replay leaves (ASCII trace, so indexes are code points).
    expected = "";
    for (const [pos, del, ins] of patches) expected = expected.slice(0, pos) + ins + expected.slice(pos + del);
  }
  return { patches, expected };
}

function k5Cell(ctx, P) {
  const { patches, expected } = k5Patches(ctx);
  {
    ctx.progress(`JS K5 ${P.NAME} ${patches.length} patches`);
    const { timing, output } = time(
      ctx.samples,
      () => {
        const p = P.create(1);
        p.createSmallCard(0);
        return p;
      },
      (p) => {
        for (const [pos, del, ins] of patches) p.spliceBody(0, pos, del, ins);
        return p;
      },
    );
    const ok = output.body(0) === expected;
    const bytes = output.snapshot().length;
    output.free();
    return { total: per(timing, 1e3), perPatch: per(timing, 1e6 / patches.length), bytes, ok };
  }
}

function k5Rows(ctx, peers, figures) {
  const { patches } = k5Patches(ctx);
  const kase = `automerge-paper trace, ${patches.length} patches, txn per patch`;
  return rows("K5", peers, figures, [
    [`${kase}: total`, "ms", (f) => f.total],
    [`${kase}: per patch`, "µs/patch", (f) => f.perPatch],
    [`${kase}: doc bytes`, "KB", (f) => value(f.bytes / 1e3)],
    [`${kase}: final text matches`, "check", (f) => (f.ok ? "yes" : "NO")],
  ]);
}

function k6Cell(ctx, P) {
  return ctx.sizes.k6.map((n) => {
    {
      ctx.progress(`JS K6 ${P.NAME} ${short(n)}`);
      const base = P.create(1);
      base.createSmallCard(0);
      const snap = base.snapshot();
      base.free();
      const { timing, output } = time(
        ctx.samples,
        () => {
          const client = P.load(3, snap);
          for (let k = 0; k < n; k++) client.increment(0);
          return [client, P.load(2, snap)];
        },
        ([client, server]) => {
          const v = server.version();
          const d = client.diff(v);
          server.apply(d);
          client.free();
          return [server, v.length + d.length];
        },
      );
      const [server, wire] = output;
      const ok = server.votes(0) === n;
      server.free();
      return { sync: per(timing, 1e3), wire, ok };
    }
  });
}

function k6Rows(ctx, peers, perPeer) {
  const out = [];
  ctx.sizes.k6.forEach((n, s) => {
    const figures = perPeer.map((sizes) => sizes?.[s]);
    out.push(
      ...rows("K6", peers, figures, [
        [`${short(n)} offline txns: sync by state vector (version, diff, apply)`, "ms", (f) => f.sync],
        [`${short(n)} offline txns: sync bytes`, "B", (f) => value(f.wire)],
        [`${short(n)} offline txns: server counter right`, "check", (f) => (f.ok ? "yes" : "NO")],
      ]),
    );
  });
  return out;
}

function k7Cell(ctx, P) {
  const n = ctx.sizes.k7;
  {
    ctx.progress(`JS K7 ${P.NAME} ${short(n)}`);
    const p = P.create(1);
    p.createCardsBatched(n);
    const snap = p.snapshot();
    p.free();
    const { timing: first } = time(ctx.samples, () => null, () => {
      const q = P.load(2, snap);
      q.readCard(n >> 1);
      q.free();
    });
    const { timing: full } = time(ctx.samples, () => null, () => {
      const q = P.load(2, snap);
      q.materialize();
      q.free();
    });
    return { first: per(first, 1e3), full: per(full, 1e3), bytes: snap.length };
  }
}

function k7Rows(ctx, peers, figures) {
  const n = ctx.sizes.k7;
  return rows("K7", peers, figures, [
    [`cold load of ${short(n)} cards (built in one txn): first card read`, "ms", (f) => f.first],
    [`cold load of ${short(n)} cards: all cards materialized`, "ms", (f) => f.full],
    [`${short(n)} cards: bytes loaded`, "MB", (f) => value(f.bytes / 1e6)],
  ]);
}

/** K8: `n` client ids each increment one card's counter once; one replica applies them all. */
function k8Cell(ctx, P) {
  const n = ctx.sizes.k8;
  {
    ctx.progress(`JS K8 ${P.NAME} ${short(n)}`);
    const base = P.create(1);
    base.createSmallCard(0);
    const [snap, version] = [base.snapshot(), base.version()];
    base.free();
    const updates = Array.from({ length: n }, (_, c) => {
      const client = P.load(100 + c, snap);
      client.increment(0);
      const update = client.diff(version);
      client.free();
      return update;
    });
    const { timing, output } = time(ctx.samples, () => P.load(2, snap), (peer) => {
      for (const update of updates) peer.apply(update);
      return peer;
    });
    const votes = output.votes(0);
    if (votes !== n) throw new Error(`JS K8 ${P.NAME}: ${n} votes expected, found ${votes}`);
    const figure = { perApply: per(timing, 1e6 / n), version: output.version().length, bytes: output.snapshot().length };
    output.free();
    return figure;
  }
}

function k8Rows(ctx, peers, figures) {
  const n = ctx.sizes.k8;
  return rows("K8", peers, figures, [
    [`${short(n)} clients' updates applied, one at a time`, "µs/update", (f) => f.perApply],
    [`${short(n)} clients: version (state vector / heads / vv)`, "B", (f) => value(f.version)],
    [`${short(n)} clients: doc bytes`, "KB", (f) => value(f.bytes / 1e3)],
  ]);
}

/** Every workload: its cell (one peer, in a fresh process) and its rows (every peer's figures). */
export const WORKLOADS = {
  K1: { cell: k1Cell, rows: k1Rows },
  K2: { cell: k2Cell, rows: k2Rows },
  K3: { cell: k3Cell, rows: k3Rows },
  K4: { cell: k4Cell, rows: k4Rows },
  K5: { cell: k5Cell, rows: k5Rows },
  K6: { cell: k6Cell, rows: k6Rows },
  K7: { cell: k7Cell, rows: k7Rows },
  K8: { cell: k8Cell, rows: k8Rows },
};
