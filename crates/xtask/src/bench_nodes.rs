//! The scale-out part of `cargo xtask bench` (issue 18, docs/design.md §12): E2 on one node on
//! SQLite, one node on PostgreSQL and two nodes on one PostgreSQL, with the server's and
//! PostgreSQL's CPU per acked batch, and E1 from a client of node 1 to a client of node 2.
//!
//! Both are ignored measurements among the server's tests (`load_nodes.rs`,
//! `latency_nodes.rs`), so they start their throwaway PostgreSQL exactly as the multi-node
//! tests do (`tests/common/pg.rs`); here they are run in release with their output files.
//! `cargo xtask bench --nodes` runs only these and renders the page again over the last run's
//! `latest.json`, whose rows and notes of the same case they replace.

use std::path::{Path, PathBuf};

use crate::bench::Mode;
use crate::cmd::Cmd;
use crate::error::Result;

/// Runs both measurements; returns the JSON files they wrote. `sha` names the commit in the
/// notes, so a page that mixes runs says which rows came from which.
pub fn run(root: &Path, scratch: &Path, mode: Mode, sha: &str) -> Result<Vec<PathBuf>> {
    crate::apt::ensure(&[crate::apt::POSTGRESQL])?;
    let (batches, ops) = match mode {
        Mode::Quick => ("50", "200"),
        Mode::Full => ("100", "500"),
    };
    let e2 = scratch.join("e2-nodes.json");
    test(root, "load_nodes")
        .env("LOAD_CLIENTS", "100")
        .env("LOAD_BATCHES", batches)
        .env("LOAD_GIT_SHA", sha)
        .env("LOAD_OUT", &e2.to_string_lossy())
        .run()?;
    let e1 = scratch.join("e1-nodes.json");
    test(root, "latency_nodes")
        .env("LATENCY_OPS", ops)
        .env("LATENCY_GIT_SHA", sha)
        .env("LATENCY_OUT", &e1.to_string_lossy())
        .run()?;
    Ok(vec![e1, e2])
}

/// `cargo test --release` of one of the server's ignored measurements.
fn test(root: &Path, name: &str) -> Cmd {
    Cmd::cargo(root)
        .args(["test", "--release", "--locked", "-p", "cardsync-server"])
        .args(["--test", name, "--", "--ignored", "--nocapture"])
}
