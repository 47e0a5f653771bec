//! Convergence properties: random card, relationship and sequence programs on 3–5 replicas,
//! delivered out of order, duplicated and partitioned, always end in identical documents that
//! satisfy the model's invariants (see `cardsync_tests::Sim::check`).
//!
//! 256 cases by default; `CARDSYNC_SLOW=1` (`cargo xtask test --slow`) runs 10,000.

use cardsync_tests::{Sim, Step, cases, step, step_with_undo};
use proptest::prelude::*;
use proptest::strategy::ValueTree;

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::Direct("proptest-regressions/convergence.txt"),
        )),
        ..ProptestConfig::default()
    })]

    #[test]
    fn replicas_converge(replicas in 3usize..=5, steps in proptest::collection::vec(step(), 1..150)) {
        run(replicas, &steps)?;
    }

    /// With undo in the mix: convergence and structure still hold; exact counter sums are not
    /// modelled (yrs decides which stack items an undo can still take back).
    #[test]
    fn replicas_converge_with_undo(replicas in 3usize..=5, steps in proptest::collection::vec(step_with_undo(), 1..150)) {
        run(replicas, &steps)?;
    }
}

fn run(replicas: usize, steps: &[Step]) -> Result<(), TestCaseError> {
    let mut sim = Sim::new(replicas);
    for s in steps {
        sim.run(s);
    }
    sim.heal();
    if let Err(violation) = sim.check() {
        prop_assert!(false, "{}", violation);
    }
    Ok(())
}

/// The generator must produce programs that mostly apply; a simulator where every op is
/// refused would "converge" trivially.
#[test]
fn programs_mostly_apply() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let (mut applied, mut refused) = (0, 0);
    for _ in 0..64 {
        let steps: Vec<Step> = proptest::collection::vec(step(), 40..80)
            .new_tree(&mut runner)
            .expect("strategy")
            .current();
        let mut sim = Sim::new(3);
        for s in &steps {
            sim.run(s);
        }
        applied += sim.applied;
        refused += sim.refused;
    }
    assert!(
        applied > 3 * refused,
        "applied {applied}, refused {refused}"
    );
    assert!(applied > 500, "applied only {applied}");
}
