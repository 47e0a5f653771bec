//! The results table: rows of cells, one column per peer, written as JSON and Markdown.
//!
//! Every number cell carries the median and the minimum of its samples; the Markdown shows the
//! median and, for every peer other than cardsync, its ratio to cardsync's median (above 1 is
//! more time or bytes than cardsync). Check cells (duplicates after concurrent moves, whether
//! an edge survived) are text. Rows from the Node runner use the same shape, so
//! `cardsync-bench render` merges both into one file.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::measure::Timing;

/// One cell's value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Cell {
    /// A measured figure.
    Number {
        /// Median over the samples (or the one value of a size).
        median: f64,
        /// Minimum over the samples.
        min: f64,
    },
    /// A check or a note ("0 duplicates", "present").
    Text(String),
}

impl Cell {
    /// A one-off figure (a size), median and minimum alike.
    pub fn value(v: f64) -> Self {
        Cell::Number { median: v, min: v }
    }

    fn median(&self) -> Option<f64> {
        match self {
            Cell::Number { median, .. } => Some(*median),
            Cell::Text(_) => None,
        }
    }
}

impl From<Timing> for Cell {
    fn from(t: Timing) -> Self {
        Cell::Number {
            median: t.median,
            min: t.min,
        }
    }
}

/// One measured quantity of one workload, across peers.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Row {
    /// K1..K8 (with `js:` in front for the Node runner's rows).
    pub workload: String,
    /// What was done, e.g. "create 10k cards, txn per card".
    pub case: String,
    /// The unit of the cells, e.g. "µs/card".
    pub unit: String,
    /// Cells by peer name.
    pub cells: BTreeMap<String, Cell>,
}

/// Where and with what a run happened.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Machine {
    /// CPU model from /proc/cpuinfo.
    pub cpu: String,
    /// Logical cores.
    pub cores: usize,
    /// Git commit of the measured tree.
    pub git_sha: String,
    /// `quick` or `full`.
    pub mode: String,
    /// Library versions, by peer.
    pub versions: BTreeMap<String, String>,
    /// Wall time of the whole run, seconds.
    pub seconds: f64,
    /// When the run ended (UTC, as `date -u` prints it), if known.
    pub date: String,
}

/// A whole run.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Report {
    /// The machine and versions.
    pub machine: Machine,
    /// The column order.
    pub peers: Vec<String>,
    /// Every row, in workload order.
    pub rows: Vec<Row>,
    /// Notes on how a workload is modelled or what a quick run shrank.
    pub notes: Vec<String>,
}

impl Report {
    /// Adds a row.
    pub fn push(
        &mut self,
        workload: &str,
        case: impl Into<String>,
        unit: &str,
        cells: Vec<(&str, Cell)>,
    ) {
        self.rows.push(Row {
            workload: workload.to_owned(),
            case: case.into(),
            unit: unit.to_owned(),
            cells: cells
                .into_iter()
                .map(|(peer, cell)| (peer.to_owned(), cell))
                .collect(),
        });
    }

    /// Appends another run's rows and notes (the Node runner's), with its peers as columns.
    pub fn merge(&mut self, other: Report) {
        for peer in other.peers {
            if !self.peers.contains(&peer) {
                self.peers.push(peer);
            }
        }
        for (peer, version) in other.machine.versions {
            self.machine.versions.entry(peer).or_insert(version);
        }
        self.machine.seconds += other.machine.seconds;
        // A later run's row replaces an earlier one of the same workload and case, in place
        // (`cargo xtask bench --nodes` renders its rows over the last full run's).
        for row in other.rows {
            match self
                .rows
                .iter_mut()
                .find(|r| r.workload == row.workload && r.case == row.case)
            {
                Some(earlier) => *earlier = row,
                None => self.rows.push(row),
            }
        }
        // Runs of one runner (one per workload) repeat the same notes; a note whose heading
        // (the text before its first ": ") matches an earlier one replaces it.
        for note in other.notes {
            match self
                .notes
                .iter_mut()
                .find(|n| note_heading(n) == note_heading(&note))
            {
                Some(earlier) => *earlier = note,
                None => self.notes.push(note),
            }
        }
    }

    /// The Markdown table: one section per workload, a column per peer, ratios to cardsync.
    pub fn markdown(&self) -> String {
        let m = &self.machine;
        let mut out = String::new();
        let _ = writeln!(out, "# cardsync benchmarks ({} run)\n", m.mode);
        let _ = writeln!(
            out,
            "Machine: {} ({} cores). Git: `{}`. Run took {:.0} s{}.\n",
            m.cpu,
            m.cores,
            m.git_sha,
            m.seconds,
            if m.date.is_empty() {
                String::new()
            } else {
                format!(", ended {}", m.date)
            }
        );
        let versions: Vec<String> = m
            .versions
            .iter()
            .map(|(peer, v)| format!("{peer} {v}"))
            .collect();
        let _ = writeln!(out, "Versions: {}.\n", versions.join(", "));
        let _ = writeln!(
            out,
            "Each cell is the median of the timed samples; `(×r)` is the ratio to cardsync's \
             median in the same row (above 1: more time or bytes than cardsync). The JSON \
             beside this file has the minimum too. Setup is never timed.\n"
        );
        let mut workloads: Vec<&str> = Vec::new();
        for row in &self.rows {
            if !workloads.contains(&row.workload.as_str()) {
                workloads.push(&row.workload);
            }
        }
        for workload in workloads {
            let rows: Vec<&Row> = self
                .rows
                .iter()
                .filter(|r| r.workload == workload)
                .collect();
            let peers: Vec<&String> = self
                .peers
                .iter()
                .filter(|p| rows.iter().any(|r| r.cells.contains_key(*p)))
                .collect();
            let _ = writeln!(out, "## {workload}\n");
            let _ = write!(out, "| case | unit |");
            for p in &peers {
                let _ = write!(out, " {p} |");
            }
            let _ = write!(out, "\n| --- | --- |");
            for _ in &peers {
                let _ = write!(out, " ---: |");
            }
            out.push('\n');
            for row in rows {
                let base = row
                    .cells
                    .iter()
                    .find(|(p, _)| p.starts_with("cardsync"))
                    .and_then(|(_, c)| c.median());
                let _ = write!(out, "| {} | {} |", row.case, row.unit);
                for p in &peers {
                    let text = match row.cells.get(*p) {
                        None => "–".to_owned(),
                        Some(Cell::Text(t)) => t.clone(),
                        Some(Cell::Number { median, .. }) => {
                            let ratio = match base {
                                Some(b) if !p.starts_with("cardsync") && b > 0.0 => {
                                    format!(" (×{})", fmt(median / b))
                                }
                                _ => String::new(),
                            };
                            format!("{}{ratio}", fmt(*median))
                        }
                    };
                    let _ = write!(out, " {text} |");
                }
                out.push('\n');
            }
            out.push('\n');
        }
        if !self.notes.is_empty() {
            let _ = writeln!(out, "## Notes\n");
            for note in &self.notes {
                let _ = writeln!(out, "- {note}");
            }
        }
        out
    }
}

/// A note's heading: the text before its first `": "`, or all of it.
fn note_heading(note: &str) -> &str {
    note.split_once(": ").map_or(note, |(heading, _)| heading)
}

/// Three significant digits, no exponent for the ranges that occur.
pub fn fmt(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".to_owned();
    }
    let a = v.abs();
    if a >= 1000.0 {
        format!("{v:.0}")
    } else if a >= 100.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else if a >= 0.01 {
        format!("{v:.3}")
    } else if a == 0.0 {
        "0".to_owned()
    } else {
        format!("{v:.2e}")
    }
}
