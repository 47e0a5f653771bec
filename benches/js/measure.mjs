// Timing for the Node runner: warm-up, repeated samples, median and minimum, a time budget
// per cell (the same rules as benches/src/measure.rs, so native and JS rows read alike).
//
// Why CPU time and fresh processes (docs/design.md §8, "The Node benchmark GC trap"): wasm
// memory is external memory to V8, and in one long process it triggers full collections whose
// marking threads take both cores of a 2-core machine, so wall time read 5–8× too slow for the
// cells that ran late. Each cell now runs in a fresh process (`run.mjs --cell`), every sample
// starts after a forced collection (outside the timing), outputs of untimed runs are freed, and
// a sample records three clocks: wall time, the main thread's CPU time (what the operations
// cost; it leaves out other tasks on a shared machine and V8's helper threads), and the whole
// process's CPU time, whose excess over the main thread is V8's helper threads (concurrent
// marking and sweeping, background compilation): the GC noise, named.

import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";

/** Seconds after which a run needs no warm-up before it. */
const LONG_RUN = 2;

const SCHEDSTAT = `/proc/self/task/${process.pid}/schedstat`;

/** CPU seconds of the main thread (Linux: its schedstat; elsewhere the whole process). */
function mainThreadCpu() {
  try {
    return Number(readFileSync(SCHEDSTAT, "utf8").split(" ")[0]) / 1e9;
  } catch {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1e6;
  }
}

/** CPU seconds of the whole process, every thread. */
function processCpu() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** Frees what a run returned (a peer, or an array holding peers), if it can be freed. */
export function release(output) {
  if (Array.isArray(output)) output.forEach(release);
  else if (output && typeof output.free === "function") output.free();
}

function summary(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0] };
}

/**
 * Runs `setup()` then times `routine(input)`, `warmUp + timed` times or until `budget`
 * seconds are spent. Returns the last run's result (the caller frees it) and `timing`:
 * `{ median, min }` of the main thread's CPU seconds, with `wall` and `helpers` (the other
 * threads' CPU seconds) beside it. Every earlier run's output is freed.
 */
export function time({ warmUp, timed, budget }, setup, routine) {
  const cpu = [];
  const wall = [];
  const helpers = [];
  let spent = 0;
  for (let run = 0; ; run++) {
    const input = setup();
    globalThis.gc?.();
    const [w0, c0, p0] = [performance.now(), mainThreadCpu(), processCpu()];
    const output = routine(input);
    const [w1, c1, p1] = [performance.now(), mainThreadCpu(), processCpu()];
    const elapsed = (w1 - w0) / 1000;
    spent += elapsed;
    if (run >= warmUp || elapsed > LONG_RUN) {
      wall.push(elapsed);
      cpu.push(c1 - c0);
      helpers.push(Math.max(0, p1 - p0 - (c1 - c0)));
    }
    if (cpu.length >= Math.max(timed, 1) || (cpu.length > 0 && spent > budget)) {
      return { timing: { ...summary(cpu), wall: summary(wall), helpers: summary(helpers) }, output };
    }
    release(output);
  }
}

/** A timing scaled: seconds per run to `unit` per operation. */
export function per(timing, factor) {
  const scale = ({ median, min }) => ({ median: median * factor, min: min * factor });
  return { ...scale(timing), wall: scale(timing.wall), helpers: scale(timing.helpers) };
}

/** A one-off figure (a size) as a cell. */
export function value(v) {
  return { median: v, min: v };
}
