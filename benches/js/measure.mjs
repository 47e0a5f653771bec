// Timing for the Node runner: warm-up, repeated samples, median and minimum, a time budget
// per cell (the same rules as benches/src/measure.rs, so native and JS rows read alike).

import { performance } from "node:perf_hooks";

/** Seconds after which a run needs no warm-up before it. */
const LONG_RUN = 2;

/**
 * Runs `setup()` then times `routine(input)`, `warmUp + timed` times or until `budget`
 * seconds are spent; returns `{ median, min }` in seconds and the last run's result.
 */
export function time({ warmUp, timed, budget }, setup, routine) {
  const seconds = [];
  let spent = 0;
  for (let run = 0; ; run++) {
    const input = setup();
    const start = performance.now();
    const output = routine(input);
    const elapsed = (performance.now() - start) / 1000;
    spent += elapsed;
    if (run >= warmUp || elapsed > LONG_RUN) seconds.push(elapsed);
    if (seconds.length >= Math.max(timed, 1) || (seconds.length > 0 && spent > budget)) {
      seconds.sort((a, b) => a - b);
      const mid = seconds.length >> 1;
      const median = seconds.length % 2 ? seconds[mid] : (seconds[mid - 1] + seconds[mid]) / 2;
      return { timing: { median, min: seconds[0] }, output };
    }
  }
}

/** A timing scaled: seconds per run to `unit` per operation. */
export function per({ median, min }, factor) {
  return { median: median * factor, min: min * factor };
}

/** A one-off figure (a size) as a cell. */
export function value(v) {
  return { median: v, min: v };
}
