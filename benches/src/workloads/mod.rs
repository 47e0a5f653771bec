//! The workloads K1–K8, one file each, run against every peer.
//!
//! Each workload measures every peer with the same actions ([`crate::adapter::Peer`]) and
//! adds its rows to the [`Report`]. Sizes come from [`Sizes`]: `full` is the reference size of
//! the results table, `quick` shrinks the slow ones so a run fits in about ten minutes on two
//! cores, and `tiny` is what the smoke test runs (figures meaningless, agreement checked).

pub mod k1;
pub mod k2;
pub mod k3;
pub mod k4;
pub mod k4_board;
pub mod k5;
pub mod k6;
pub mod k7;
pub mod k8;

use std::path::PathBuf;

use crate::measure::{HeapMeter, Samples};
use crate::report::{Cell, Report};

/// Workload sizes for one run.
#[derive(Clone, Debug)]
pub struct Sizes {
    /// K1 card counts.
    pub k1_cards: Vec<usize>,
    /// K2 card count and number of field writes.
    pub k2_cards: usize,
    /// K2 writes.
    pub k2_writes: usize,
    /// K3 card count (5 links each; above 1009 so the link strides stay distinct).
    pub k3_cards: usize,
    /// K4 sequence length and number of random moves.
    pub k4_cards: usize,
    /// K4 moves.
    pub k4_moves: usize,
    /// K5: patches of the trace to replay (`None`: all of them).
    pub k5_patches: Option<usize>,
    /// K6 outbox lengths.
    pub k6_runs: Vec<usize>,
    /// K7 card count.
    pub k7_cards: usize,
    /// Peers K7 leaves out (a quick run skips automerge: building and loading 100k cards takes
    /// it minutes).
    pub k7_skip: Vec<&'static str>,
    /// K8 client count.
    pub k8_clients: usize,
}

impl Sizes {
    /// The full sizes (the table's reference).
    pub fn full() -> Self {
        Self {
            k1_cards: vec![1_000, 10_000, 100_000],
            k2_cards: 10_000,
            k2_writes: 100_000,
            k3_cards: 10_000,
            k4_cards: 10_000,
            k4_moves: 10_000,
            k5_patches: None,
            k6_runs: vec![1_000, 10_000, 50_000],
            k7_cards: 100_000,
            k7_skip: Vec::new(),
            k8_clients: 10_000,
        }
    }

    /// Smaller where a workload is slow; see [`Sizes::shrunk`] for what changed.
    pub fn quick() -> Self {
        Self {
            k1_cards: vec![1_000, 10_000],
            k2_cards: 10_000,
            k2_writes: 20_000,
            k3_cards: 2_000,
            k4_cards: 10_000,
            k4_moves: 2_000,
            k5_patches: Some(30_000),
            k6_runs: vec![1_000, 10_000, 50_000],
            k7_cards: 100_000,
            k7_skip: vec!["automerge"],
            k8_clients: 2_000,
        }
    }

    /// For the smoke test: every code path, tiny.
    pub fn tiny() -> Self {
        Self {
            k1_cards: vec![20],
            k2_cards: 20,
            k2_writes: 50,
            k3_cards: 1_200,
            k4_cards: 30,
            k4_moves: 30,
            k5_patches: Some(2_000),
            k6_runs: vec![30],
            k7_cards: 20,
            k7_skip: Vec::new(),
            k8_clients: 20,
        }
    }

    /// A note listing what differs from the full sizes.
    pub fn shrunk(&self) -> Option<String> {
        let full = Self::full();
        let mut diffs = Vec::new();
        if self.k1_cards != full.k1_cards {
            diffs.push(format!("K1 sizes {:?}", self.k1_cards));
        }
        if (self.k2_cards, self.k2_writes) != (full.k2_cards, full.k2_writes) {
            diffs.push(format!(
                "K2 {} writes over {} cards",
                self.k2_writes, self.k2_cards
            ));
        }
        if self.k3_cards != full.k3_cards {
            diffs.push(format!("K3 {} cards", self.k3_cards));
        }
        if (self.k4_cards, self.k4_moves) != (full.k4_cards, full.k4_moves) {
            diffs.push(format!(
                "K4 {} moves in {} cards",
                self.k4_moves, self.k4_cards
            ));
        }
        if let Some(n) = self.k5_patches {
            diffs.push(format!("K5 first {n} patches"));
        }
        if self.k6_runs != full.k6_runs {
            diffs.push(format!("K6 runs {:?}", self.k6_runs));
        }
        if self.k7_cards != full.k7_cards {
            diffs.push(format!("K7 {} cards", self.k7_cards));
        }
        if !self.k7_skip.is_empty() {
            diffs.push(format!("K7 without {}", self.k7_skip.join(", ")));
        }
        if self.k8_clients != full.k8_clients {
            diffs.push(format!("K8 {} clients", self.k8_clients));
        }
        (!diffs.is_empty()).then(|| format!("Smaller than the full sizes: {}.", diffs.join("; ")))
    }
}

/// Everything a workload needs: sizes, sample counts, the heap meter and the report to fill.
pub struct Ctx {
    /// Sizes.
    pub sizes: Sizes,
    /// Samples for each timed cell.
    pub samples: Samples,
    /// Reads live heap bytes (empty in tests).
    pub heap: HeapMeter,
    /// Where the editing traces are.
    pub traces: PathBuf,
    /// The table being filled.
    pub report: Report,
    /// Print progress to stderr.
    pub verbose: bool,
}

impl Ctx {
    /// Prints a progress line when verbose.
    pub fn progress(&self, line: impl AsRef<str>) {
        if self.verbose {
            eprintln!("  {}", line.as_ref());
        }
    }

    /// Adds a row from per-peer figures, taking each cell with `cell`.
    pub fn row<F>(
        &mut self,
        workload: &str,
        case: impl Into<String>,
        unit: &str,
        figures: &[(&'static str, F)],
        cell: impl Fn(&F) -> Option<Cell>,
    ) {
        let cells = figures
            .iter()
            .filter_map(|(peer, f)| cell(f).map(|c| (*peer, c)))
            .collect();
        self.report.push(workload, case, unit, cells);
    }
}

/// `f::<P>(args…)` for every peer, in column order, as `(name, figures)` pairs.
macro_rules! each_peer {
    ($f:ident ( $($arg:expr),* )) => {{
        use $crate::adapter::Peer as _;
        use $crate::peers::{Am, Cardsync, Loro, Yrs};
        vec![
            (Cardsync::NAME, $f::<Cardsync>($($arg),*)?),
            (Yrs::NAME, $f::<Yrs>($($arg),*)?),
            (Am::NAME, $f::<Am>($($arg),*)?),
            (Loro::NAME, $f::<Loro>($($arg),*)?),
        ]
    }};
}
pub(crate) use each_peer;

/// One workload's entry point.
pub type Workload = fn(&mut Ctx) -> crate::error::Result<()>;

/// The workloads by name, in order.
pub const ALL: [(&str, Workload); 8] = [
    ("K1", k1::run),
    ("K2", k2::run),
    ("K3", k3::run),
    ("K4", k4::run),
    ("K5", k5::run),
    ("K6", k6::run),
    ("K7", k7::run),
    ("K8", k8::run),
];

/// Runs every workload in order, or only those named in `only` (e.g. `["K6", "K7"]`).
pub fn run_all(ctx: &mut Ctx) -> crate::error::Result<()> {
    run_only(ctx, &[])
}

/// Runs the workloads named in `only` (all when empty), in order.
pub fn run_only(ctx: &mut Ctx, only: &[String]) -> crate::error::Result<()> {
    ctx.report.peers = crate::machine::PEERS.map(str::to_owned).to_vec();
    for (name, run) in ALL {
        if only.is_empty() || only.iter().any(|o| o == name) {
            run(ctx)?;
        }
    }
    Ok(())
}

/// `n` written short: 1k, 10k, 100k.
pub fn short(n: usize) -> String {
    if n >= 1000 && n.is_multiple_of(1000) {
        format!("{}k", n / 1000)
    } else {
        n.to_string()
    }
}

/// A figure as a number cell.
pub fn num(v: f64) -> Option<Cell> {
    Some(Cell::value(v))
}
