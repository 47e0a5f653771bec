//! Timing and heap measurement: warm-up, repeated samples, median and minimum.
//!
//! Why not criterion for the table: one run must produce one comparable figure per cell for
//! four libraries and eight workloads, some of which take seconds per sample; a fixed number
//! of samples with an untimed setup each is predictable in total time (what `--quick` needs)
//! and the median plus the minimum says enough about noise on a shared 2-core machine.
//! Setup (building the document a workload starts from) is never timed.
//!
//! A sample is the running thread's CPU time (its `/proc/thread-self/schedstat`), not wall
//! time: the machine the table is made on is shared with builds, and wall time there read up
//! to ten times the CPU time a write took (docs/design.md §8). The workloads are single
//! threaded, so the thread's time is the whole cost. Where the file cannot be read (not
//! Linux), the wall clock stands in.

use std::alloc::System;
use std::hint::black_box;
use std::time::Instant;

use stats_alloc::{Region, StatsAlloc};

use crate::error::Result;

/// How many times to run each timed routine, within a time budget per cell.
#[derive(Clone, Copy, Debug)]
pub struct Samples {
    /// Untimed runs first (caches, allocator, lazy statics).
    pub warm_up: usize,
    /// Timed runs.
    pub timed: usize,
    /// Seconds a cell may take (setup excluded): once spent, no further run starts if one
    /// timed sample exists. Runs longer than [`LONG_RUN`] count as timed even when they were
    /// meant as warm-up: seconds-long runs need no warming. This is what keeps `--quick`
    /// bounded when one library is orders of magnitude slower on a workload.
    pub budget: f64,
}

/// Seconds after which a run needs no warm-up before it.
pub const LONG_RUN: f64 = 2.0;

/// Median and minimum of a cell's samples, in the unit the workload reports.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Timing {
    /// The median sample.
    pub median: f64,
    /// The fastest sample.
    pub min: f64,
}

impl Timing {
    /// The summary of `values` (not empty).
    pub fn of(mut values: Vec<f64>) -> Self {
        values.sort_by(f64::total_cmp);
        let mid = values.len() / 2;
        let median = if values.is_empty() {
            f64::NAN
        } else if values.len() % 2 == 1 {
            values[mid]
        } else {
            (values[mid - 1] + values[mid]) / 2.0
        };
        Self {
            median,
            min: values.first().copied().unwrap_or(f64::NAN),
        }
    }

    /// Both figures divided by `by` (seconds per run to seconds per operation).
    pub fn per(self, by: f64) -> Self {
        Self {
            median: self.median / by,
            min: self.min / by,
        }
    }
}

/// CPU seconds the calling thread has run, if the system says.
fn thread_cpu() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(nanos as f64 / 1e9)
}

/// Runs `setup` then times `routine` on its output, `samples.warm_up + samples.timed` times
/// or until the budget is spent; returns the timed runs' summary and the last run's result.
pub fn time<S, R>(
    samples: Samples,
    mut setup: impl FnMut() -> Result<S>,
    mut routine: impl FnMut(S) -> Result<R>,
) -> Result<(Timing, R)> {
    let mut seconds = Vec::with_capacity(samples.timed);
    let (mut spent, mut run) = (0.0, 0);
    let wanted = samples.timed.max(1);
    loop {
        let input = setup()?;
        let (start, cpu_start) = (Instant::now(), thread_cpu());
        let output = black_box(routine(black_box(input))?);
        let elapsed = start.elapsed().as_secs_f64();
        let cpu = thread_cpu()
            .zip(cpu_start)
            .map_or(elapsed, |(end, start)| end - start);
        spent += elapsed;
        if run >= samples.warm_up || elapsed > LONG_RUN {
            seconds.push(cpu);
        }
        run += 1;
        if seconds.len() >= wanted || (!seconds.is_empty() && spent > samples.budget) {
            return Ok((Timing::of(seconds), output));
        }
    }
}

/// Counts live heap bytes when the binary installed the counting allocator; reports nothing
/// otherwise (tests), so memory cells stay empty rather than wrong.
#[derive(Clone, Copy, Debug, Default)]
pub struct HeapMeter(Option<&'static StatsAlloc<System>>);

impl HeapMeter {
    /// A meter reading `alloc`, which must be the global allocator.
    pub fn new(alloc: &'static StatsAlloc<System>) -> Self {
        Self(Some(alloc))
    }

    /// Runs `f` and returns its output with the heap bytes still allocated afterwards that
    /// it allocated (what the value it returns keeps alive).
    pub fn retained<R>(&self, f: impl FnOnce() -> Result<R>) -> Result<(R, Option<usize>)> {
        let Some(alloc) = self.0 else {
            return Ok((f()?, None));
        };
        let region = Region::new(alloc);
        let output = f()?;
        let stats = region.change();
        // stats_alloc already books a reallocation's growth (or shrinkage) in
        // `bytes_allocated` (`bytes_deallocated`); `bytes_reallocated` repeats it.
        let live = stats
            .bytes_allocated
            .saturating_sub(stats.bytes_deallocated);
        Ok((output, Some(live)))
    }
}
