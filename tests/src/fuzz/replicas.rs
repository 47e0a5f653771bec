//! The multi-replica target: the convergence simulator driven by libFuzzer's bytes instead of
//! proptest's strategies.
//!
//! Same simulator, same promises as `tests/convergence.rs` (identical exports, no card twice
//! in a sequence, no visible dangling edge, exact counter sums and maxima), but coverage-guided:
//! libFuzzer keeps the schedules that reach new code in the core and in yrs.

use arbitrary::{Arbitrary, Unstructured};

use crate::{Sim, Step};

/// The most steps one input runs: enough for deep interleavings, few enough for thousands of
/// executions per second.
const MAX_STEPS: usize = 128;

/// 2–4 replicas run the schedule `data` spells, then heal; the simulator's checks must pass.
pub(super) fn run(data: &[u8]) {
    let mut input = Unstructured::new(data);
    let replicas = 2 + usize::from(u8::arbitrary(&mut input).unwrap_or(0) % 3);
    let mut sim = Sim::new(replicas);
    for _ in 0..MAX_STEPS {
        match Step::arbitrary(&mut input) {
            Ok(step) => sim.run(&step),
            Err(_) => break,
        }
        if input.is_empty() {
            break;
        }
    }
    sim.heal();
    if let Err(violation) = sim.check() {
        panic!("replicas broke a promise: {violation}");
    }
}
