//! Network simulation of several server nodes over one log (docs/design.md §12): the
//! single-node simulation of `sync_sim.rs` (its workload, network, disks, client crashes and
//! invariants, all in `cardsync_tests::net`) with two or three nodes, each driving its own
//! `Room` of the document over one shared log with compare-and-append and leases, the way the
//! server on PostgreSQL does. Clients start spread over the nodes and move between them; nodes
//! crash (torn: an append committed that the room never heard of) and pause past their lease.
//! Racing state-machine moves from clients of different nodes are judged against one order:
//! the node whose append lost rebuilds its room and judges the batch again.
//!
//! After every schedule the network heals, everyone reconnects and the system runs until
//! quiescent; then `Net::check` asserts, with the log as the truth:
//! - every node's room and every client's local doc equal the document the log holds, and
//!   every client's confirmed doc equals its local;
//! - every acked batch's clocks are in the log, right after every node crash or fencing and
//!   at the end;
//! - card creations that a rollback reported vanished, or that a client crash lost before
//!   they were stored, exist on no node and no client; acked ones are in the log;
//! - a rollback only takes the rejected batch and what cannot be replayed without it;
//! - every stored operation ends acked or rejected with an event, across restarts;
//! - each counter equals the sum of its acked increments;
//! - on every board of every replica, each visible placed card shows in exactly one column.
//!
//! 256 cases by default; `CARDSYNC_SLOW=1` (`cargo xtask test --slow`) runs 10,000.

use cardsync_tests::cases;
use cardsync_tests::net::Net;
use cardsync_tests::net::cluster::{ClusterStep, cluster_step};
use proptest::prelude::*;
use proptest::strategy::ValueTree;

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::Direct("proptest-regressions/cluster_sim.txt"),
        )),
        ..ProptestConfig::default()
    })]

    #[test]
    fn nodes_over_one_log_and_sessions_agree_after_failures(
        clients in 2usize..=5,
        nodes in 2usize..=3,
        seed in any::<u64>(),
        compact_after in prop_oneof![Just(64usize), 2usize..6],
        steps in proptest::collection::vec(cluster_step(), 1..250),
    ) {
        let mut net = run(clients, nodes, seed, compact_after, &steps);
        prop_assert!(net.settled, "the system never became quiescent");
        if let Err(violation) = net.check() {
            prop_assert!(false, "{}", violation);
        }
    }
}

/// Runs a schedule, then heals and settles; prints a trace with `CARDSYNC_SIM_TRACE` set.
fn run(
    clients: usize,
    nodes: usize,
    seed: u64,
    compact_after: usize,
    steps: &[ClusterStep],
) -> Net {
    let mut net = Net::cluster(clients, nodes, seed, compact_after);
    // For triage: `CARDSYNC_SIM_TRACE=1 PROPTEST_MAX_SHRINK_ITERS=0` replays the saved case.
    net.trace = std::env::var_os("CARDSYNC_SIM_TRACE").is_some();
    for s in steps {
        net.run_cluster(s);
    }
    net.settle();
    net
}

/// The schedules must exercise what a cluster adds: lost races (rebuilds), catch-up from the
/// log, fencing, node crashes, clients moving, and cross-node state-machine races and board
/// placements the room refuses. (Counts only: the invariants are the property's job.)
#[test]
fn schedules_exercise_races_catch_up_and_fencing() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut totals = cardsync_tests::net::Stats::default();
    let (mut acks, mut vanished, mut codes) = (0, 0, std::collections::BTreeMap::new());
    for case in 0..48u64 {
        let steps: Vec<ClusterStep> = proptest::collection::vec(cluster_step(), 100..250)
            .new_tree(&mut runner)
            .expect("strategy")
            .current();
        let net = run(4, 2, case, 64, &steps);
        let s = &net.stats;
        totals.batches += s.batches;
        totals.crashes += s.crashes;
        totals.rebuilds += s.rebuilds;
        totals.fenced += s.fenced;
        totals.caught_up += s.caught_up;
        totals.switches += s.switches;
        totals.placements += s.placements;
        vanished += net.track.placements_vanished;
        acks += net.track.acks();
        for (code, n) in &net.track.rejections {
            *codes.entry(*code).or_insert(0) += n;
        }
    }
    let t = &totals;
    eprintln!(
        "batches {} acks {acks} crashes {} rebuilds {} fenced {} caught up {} switches {} \
         placements {} (rolled back {vanished}) {codes:?}",
        t.batches, t.crashes, t.rebuilds, t.fenced, t.caught_up, t.switches, t.placements
    );
    assert!(acks > 1_000, "only {acks} acks");
    assert!(t.rebuilds > 25, "only {} rebuilds", t.rebuilds);
    assert!(
        t.caught_up > 1_000,
        "only {} entries caught up",
        t.caught_up
    );
    assert!(t.fenced > 5, "only {} fenced", t.fenced);
    assert!(t.crashes > 50, "only {} crashes", t.crashes);
    assert!(t.switches > 50, "only {} switches", t.switches);
    assert!(t.placements > 100, "only {} placements", t.placements);
    assert!(
        vanished > 0,
        "no placement into a removed column rolled back"
    );
    assert!(
        codes.get("invalid_transition").is_some_and(|&n| n >= 2),
        "{codes:?}"
    );
}

/// Found by the two-node simulation: a client moves to a node that has peers but has not yet
/// heard of the client's last acked batch (the bus is late or lost it). The node judged the
/// client's next batch against its stale replica, saw a hole in the client's clocks, and
/// rejected a valid batch (`depends_on_rejected`); when the first node appended the same batch
/// meanwhile, a batch reported rejected was in the log. A node now catches up with the log
/// whenever a peer connects, before judging its batches (`room_task.rs`, mirrored in
/// `net/node.rs`).
#[test]
fn a_client_moving_to_a_node_behind_the_log_is_not_rejected() {
    use cardsync_tests::net::{Action, Step};
    // Client 0 (admin) on node 0; client 1 (editor) on node 1, so node 1 has a peer; client 2
    // (viewer) on node 0. Node 1 hears nothing from the bus; its first head check is at 1 s.
    let mut net = Net::cluster(3, 2, 7, 64);
    net.deafen(1);
    let create = || Step::Local {
        client: 0,
        action: Action::Create {
            place: None,
            vote: true,
        },
    };
    net.run(&Step::Advance { ms: 100 });
    net.run(&create());
    net.run(&Step::Advance { ms: 400 });
    assert_eq!(net.track.acks(), 1, "the first card is acked by node 0");
    net.run(&create());
    net.run_cluster(&ClusterStep::Switch { client: 0, node: 1 });
    net.run(&Step::Advance { ms: 400 });
    net.settle();
    assert!(net.settled);
    assert!(
        net.track.rejections.is_empty(),
        "{:?}",
        net.track.rejections
    );
    net.check().unwrap();
}
