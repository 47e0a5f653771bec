//! `cargo xtask bench [--quick|--full]`: the side-by-side benchmarks, one results table.
//!
//! Three steps, each a program of its own so it can be rerun by hand:
//! 1. the native runner (`benches/src/bin/cardsync-bench.rs`, release build) measures
//!    cardsync, raw yrs, automerge and loro on K1–K8, one process per workload, and writes
//!    JSON;
//! 2. the Node runners: `benches/js/run.mjs` measures the npm package next to yjs, loro-crdt
//!    and @automerge/automerge on the document workloads (each workload and peer in a fresh
//!    Node process, main-thread CPU time beside wall time; docs/design.md §8), and `benches/js/e1.mjs` measures E1,
//!    the end-to-end latency through the release `cardsync-server` next to a stock
//!    y-websocket pair; both write JSON of the same shape;
//! 3. E2, server load: the ignored measurement `cardsync-server/tests/load.rs` in release,
//!    with 100 and with 1,000 native clients, writing its figures as rows (`LOAD_OUT`);
//!    then the scale-out rows ([`crate::bench_nodes`]): E2 on SQLite, PostgreSQL and two
//!    nodes with CPU per acked batch, and E1 across two nodes;
//! 4. `cardsync-bench render` merges them into `benches/results/latest.md` and `latest.json`.
//!
//! The intermediate JSON goes under the target directory; only the rendered pair is meant to
//! be committed. Nothing here asserts timings: CI builds and smoke-tests the harness
//! (`cargo test -p cardsync-benches`) and never runs this.

use std::path::{Path, PathBuf};

use crate::cmd::Cmd;
use crate::error::Result;
use crate::tools;

/// How big a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Smaller sizes and 3 samples: about ten minutes on two cores.
    Quick,
    /// The full sizes and 7 samples.
    Full,
}

impl Mode {
    fn flag(self) -> &'static str {
        match self {
            Mode::Quick => "--quick",
            Mode::Full => "--full",
        }
    }
}

/// Runs the native benchmarks, the Node runner when present, and renders the table.
pub fn run(mode: Mode) -> Result<()> {
    let root = crate::paths::workspace_root();
    let scratch = crate::paths::target_dir(&root).join("bench");
    crate::paths::create_dir(&scratch)?;
    let sha = git_sha(&root);
    // One process per workload: nothing a workload allocated stays in the heap of the next.
    let mut inputs = Vec::new();
    for workload in WORKLOADS {
        let native = scratch.join(format!("native-{workload}.json"));
        bench_bin(&root)
            .args([
                "run",
                mode.flag(),
                "--only",
                workload,
                "--git-sha",
                &sha,
                "--out",
            ])
            .args([&native])
            .run()?;
        inputs.push(native);
    }
    inputs.extend(run_js(&root, &scratch, mode)?);
    inputs.extend(run_e2(&root, &scratch, mode)?);
    inputs.extend(crate::bench_nodes::run(&root, &scratch, mode, &sha)?);
    let date = Cmd::new("date", &root)
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    render(&root, inputs, Some(&date))
}

/// `cargo xtask bench --nodes`: only the scale-out rows, rendered over the last run's
/// `latest.json` (the renderer replaces its rows and notes of the same case).
pub fn run_nodes(mode: Mode) -> Result<()> {
    let root = crate::paths::workspace_root();
    let scratch = crate::paths::target_dir(&root).join("bench");
    crate::paths::create_dir(&scratch)?;
    let last = scratch.join("last.json");
    copy(&root.join("benches/results/latest.json"), &last)?;
    let mut inputs = vec![last];
    inputs.extend(crate::bench_nodes::run(
        &root,
        &scratch,
        mode,
        &git_sha(&root),
    )?);
    // The header keeps the last full run's commit and date; the new rows' notes name theirs.
    render(&root, inputs, None)
}

/// The commit measured, short.
fn git_sha(root: &Path) -> String {
    Cmd::new("git", root)
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

/// Merges the runs' JSON files into `benches/results/latest.md` and `latest.json`; `date`
/// replaces the first input's end date when given.
fn render(root: &Path, inputs: Vec<PathBuf>, date: Option<&str>) -> Result<()> {
    let results = root.join("benches/results");
    crate::paths::create_dir(&results)?;
    let mut cmd = bench_bin(root).args(["render"]);
    if let Some(date) = date {
        cmd = cmd.args(["--date", date]);
    }
    cmd.args(["--md"])
        .args([
            results.join("latest.md"),
            PathBuf::from("--json"),
            results.join("latest.json"),
        ])
        .args(inputs)
        .run()
}

/// The native runner's workloads, each run in a process of its own.
const WORKLOADS: [&str; 8] = ["K1", "K2", "K3", "K4", "K5", "K6", "K7", "K8"];

/// `cargo run --release` of the native runner, so the build is always current.
fn bench_bin(root: &Path) -> Cmd {
    Cmd::cargo(root).args([
        "run",
        "--quiet",
        "--release",
        "-p",
        "cardsync-benches",
        "--bin",
        "cardsync-bench",
        "--",
    ])
}

/// The Node runners in `benches/js` and the JSON file each writes (`cargo xtask bench`, and
/// the tiny smoke pass of `cargo xtask test`).
pub const NODE_RUNNERS: [(&str, &str); 2] = [("run.mjs", "js.json"), ("e1.mjs", "e1.json")];

/// The Node runners; returns the JSON files they wrote. They need the npm package with a
/// release wasm, their own `node_modules`, and (E1) the release server.
///
/// The release wasm is built (`cargo xtask wasm --release`: minutes on two cores) and the
/// package is copied at once to a private folder the runners load (`CARDSYNC_PKG`): other
/// tasks rebuild `pkg/dist/wasm` as a debug build while they test, and that must not be what
/// the table measures.
fn run_js(root: &Path, scratch: &Path, mode: Mode) -> Result<Vec<PathBuf>> {
    let dir = root.join("benches/js");
    tools::ensure_npm_deps(&dir)?;
    crate::wasm::run(crate::wasm::Options { release: true })?;
    let staged = scratch.join("pkg");
    copy_dir(&root.join("pkg/src"), &staged.join("src"))?;
    copy_dir(&root.join("pkg/dist/wasm"), &staged.join("dist/wasm"))?;
    copy(&root.join("pkg/package.json"), &staged.join("package.json"))?;
    let server = crate::server::build(root, true)?;
    let mut outputs = Vec::new();
    for (runner, out) in NODE_RUNNERS {
        let out = scratch.join(out);
        Cmd::new("node", &dir)
            .env("CARDSYNC_PKG", &staged.to_string_lossy())
            .env("CARDSYNC_SERVER_BIN", &server.to_string_lossy())
            .args([runner, mode.flag(), "--out"])
            .args([&out])
            .run()?;
        outputs.push(out);
    }
    Ok(outputs)
}

/// E2: the server under 100 and 1,000 clients (rooms of 10), each submitting its batches at
/// once; returns the JSON files written.
fn run_e2(root: &Path, scratch: &Path, mode: Mode) -> Result<Vec<PathBuf>> {
    let batches = match mode {
        Mode::Quick => "20",
        Mode::Full => "100",
    };
    let mut outputs = Vec::new();
    for clients in ["100", "1000"] {
        let out = scratch.join(format!("e2-{clients}.json"));
        Cmd::cargo(root)
            .args(["test", "--release", "--locked", "-p", "cardsync-server"])
            .args(["--test", "load", "--", "--ignored", "--nocapture"])
            .env("LOAD_CLIENTS", clients)
            .env("LOAD_BATCHES", batches)
            .env("LOAD_OUT", &out.to_string_lossy())
            .run()?;
        outputs.push(out);
    }
    Ok(outputs)
}

fn copy(from: &Path, to: &Path) -> Result<()> {
    std::fs::copy(from, to).map(drop).map_err(|e| {
        crate::error::Error::new(format!(
            "cannot copy {} to {}: {e}",
            from.display(),
            to.display()
        ))
    })
}

/// Copies a folder tree (files and folders only).
fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    let fail = |e: std::io::Error| {
        crate::error::Error::new(format!("cannot copy {}: {e}", from.display()))
    };
    std::fs::create_dir_all(to).map_err(fail)?;
    for entry in std::fs::read_dir(from).map_err(fail)? {
        let entry = entry.map_err(fail)?;
        let target = to.join(entry.file_name());
        if entry.file_type().map_err(fail)?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            copy(&entry.path(), &target)?;
        }
    }
    Ok(())
}
