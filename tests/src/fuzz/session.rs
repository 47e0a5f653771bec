//! The sync-session target: the network simulation of `tests/sync_sim.rs` ([`crate::net`])
//! driven by libFuzzer's bytes instead of proptest's strategies.
//!
//! One room and 2–5 client sessions; the input spells a schedule of local edits (some of which
//! the room rejects: a viewer's writes, an admin-only field, racing state-machine moves), time,
//! connects, dropped connections with frames in flight, partitions, and client and server
//! crashes with torn writes. Then the network heals and everything runs until quiescent. The
//! promises are the simulation's, checked by the same code (`Net::check` and its tracker):
//! every client's local and confirmed docs equal the server's; an acked operation is on the
//! server for good, also right after a server crash; a rejected one is rolled back and exists
//! nowhere, and a rollback takes only the rejected batch and what cannot replay without it;
//! every stored operation ends acked or rejected, across restarts; each counter equals the sum
//! of its acked increments (every increment has a unique amount, so a lost or duplicated
//! operation shows). And the system must become quiescent at all.

use arbitrary::{Arbitrary, Unstructured};

use crate::net::{Net, Step};

/// The most steps one input runs: enough for crashes between edits and their acks, few
/// enough that an input costs milliseconds.
const MAX_STEPS: usize = 96;

/// Runs the schedule `data` spells, then heals and settles; returns the simulation unchecked.
pub fn simulate(data: &[u8]) -> Net {
    let mut input = Unstructured::new(data);
    let clients = 2 + usize::from(u8::arbitrary(&mut input).unwrap_or(0) % 4);
    let seed = u64::arbitrary(&mut input).unwrap_or(0);
    // As `sync_sim`: the default compaction threshold, or an outbox compacted almost always.
    let compact_after = match u8::arbitrary(&mut input).unwrap_or(0) % 5 {
        0 => 64,
        n => 1 + usize::from(n),
    };
    let mut net = Net::new(clients, seed, compact_after);
    for _ in 0..MAX_STEPS {
        match Step::arbitrary(&mut input) {
            Ok(step) => net.run(&step),
            Err(_) => break,
        }
        if input.is_empty() {
            break;
        }
    }
    net.settle();
    net
}

/// The target: the simulation's checks must pass.
pub(super) fn run(data: &[u8]) {
    let mut net = simulate(data);
    assert!(net.settled, "the system never became quiescent");
    if let Err(violation) = net.check() {
        panic!("the sync protocol broke a promise: {violation}");
    }
}
