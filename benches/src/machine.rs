//! What the table says about the run: machine, versions, and how each workload is modelled.
//!
//! The versions are the exact pins of the root `Cargo.toml` (a test keeps them in step), so
//! a results file names what it measured.

use std::collections::BTreeMap;

use crate::measure::Samples;
use crate::report::Machine;
use crate::workloads::Sizes;

/// Native columns, in order.
pub const PEERS: [&str; 4] = ["cardsync", "yrs", "automerge", "loro"];

/// Library versions measured by the native runner.
pub const VERSIONS: [(&str, &str); 4] = [
    ("cardsync", env!("CARGO_PKG_VERSION")),
    ("yrs", "0.28.1"),
    ("automerge", "0.12.0"),
    ("loro", "1.17.1"),
];

/// The machine of this run.
pub fn describe(mode: &str, git_sha: String) -> Machine {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown cpu".to_owned());
    Machine {
        cpu,
        cores: std::thread::available_parallelism().map_or(1, usize::from),
        git_sha,
        mode: mode.to_owned(),
        versions: VERSIONS
            .iter()
            .map(|(p, v)| ((*p).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>(),
        seconds: 0.0,
        date: String::new(),
    }
}

/// The notes under the table: sample counts, shrunk sizes, and how each peer models things.
pub fn notes(sizes: &Sizes, samples: Samples) -> Vec<String> {
    let mut notes = vec![format!(
        "Native: {} warm-up and {} timed samples per cell, fewer once a cell has spent {} s \
         (runs over 2 s count as timed without warm-up); K1's per-card row uses the heap build \
         as its warm-up; K3's neighbour query times batches of up to 100 queries. Release \
         build, single thread, the thread's CPU time (/proc/thread-self/schedstat: the \
         machine is shared with builds), one process per workload (`cargo xtask bench` runs the runner \
         once per `--only Kn`), so no workload's allocations are left in the heap another one \
         runs in; within a workload cardsync's cells run first.",
        samples.warm_up, samples.timed, samples.budget
    )];
    notes.extend(sizes.shrunk());
    notes.extend([
        "One transaction per user action everywhere (cardsync `apply`/convenience call, yrs \
         `transact_mut`, automerge `transaction().commit()`, loro `commit()`); batched rows \
         put every action in one transaction."
            .to_owned(),
        "Cards: the same eight fields and 500-char body in each library's idiom: yrs stores \
         cardsync's exact layout (the overhead floor); automerge and loro use nested \
         maps, a text, a native counter (automerge Counter, LoroCounter) and maps for max and \
         set. Delete is a soft-delete flag in all four."
            .to_owned(),
        "Relationships: cardsync keeps outgoing/incoming indexes; the others scan one \
         `from|kind|to`-keyed map (their idiom without a secondary index)."
            .to_owned(),
        "Sequences: cardsync moves by order key; loro uses LoroMovableList::mov (native); yrs \
         (no move since 0.27) and automerge (no list move) delete and re-insert, so concurrent \
         moves of one card duplicate it."
            .to_owned(),
        "K4 boards: cardsync places the card on its board (`place_card`: column and order key \
         are one last-writer-wins value, so a card stays in one column); yrs, automerge and \
         loro keep one list per column (loro a LoroMovableList per column, whose `mov` works \
         within one list only) and move a card across columns by a delete plus an insert, so \
         concurrent moves of one card into two columns duplicate it."
            .to_owned(),
        "K6 compaction: cardsync `Outbox::compact` on the batches a session makes; the others \
         apply the queued updates to a scratch doc loaded from the confirmed state and encode \
         what is new once (no doc-less merge is the floor for them; docs/design.md §4). Versions in \
         K6/K8: yrs state vector, automerge heads (32 B per head), loro version vector."
            .to_owned(),
        "Live heap: bytes allocated and not freed while building the document, counted by a \
         wrapping global allocator (stats_alloc), divided by the card count."
            .to_owned(),
    ]);
    notes
}
