//! `cargo xtask fuzz [TARGET] [--secs N]` and the `fuzz` step of `cargo xtask test`: libFuzzer
//! runs of the targets in `fuzz/`.
//!
//! libFuzzer needs a nightly compiler; the project builds on stable. So: when the `nightly`
//! toolchain is installed, this installs `cargo-fuzz` at a pinned version if missing, writes
//! every target's seed corpus from real updates (`fuzz_seeds`, in the tests crate), builds the
//! targets (the multi-replica ones without a sanitizer: [`UNSANITIZED`]) and runs each for a
//! time box. When nightly is missing it says so and does
//! nothing else: the regression corpus and the seeds are replayed on stable by
//! `tests/fuzz_replay.rs` in the `test` step either way, so CI never runs blind.
//!
//! A crash leaves its input under `fuzz/artifacts/<target>/`. Keep it: move it to
//! `tests/fuzz-regressions/<target>/<what-it-caught>`, note it in that folder's README, and
//! fix the bug; the replay test then guards the fix on stable.

use std::ffi::OsString;
use std::path::Path;
use std::process::Command;

use crate::cmd::Cmd;
use crate::error::{Error, Result};

/// The targets, as named in `fuzz/Cargo.toml` and `cardsync_tests::fuzz::Target`.
pub const TARGETS: [&str; 8] = [
    "update_v1",
    "update_v2",
    "state_vector",
    "protocol",
    "room",
    "replicas",
    "schema",
    "session",
];

/// The targets `cargo xtask test` runs: all of them. A target with an unfixed finding (kept in
/// `tests/fuzz-open/`) leaves this list until the fix, so CI does not fail at random on a
/// known bug.
pub const CI_TARGETS: [&str; 8] = TARGETS;

/// The targets built and run without a sanitizer. They check protocol and convergence logic
/// across several documents and allocate a lot, which AddressSanitizer makes about six times
/// slower (`session`: 9 against 57 executions per second on the 2-core machine). Memory
/// safety on hostile bytes is the decode and wire targets' job, under AddressSanitizer (which
/// caught a heap-use-after-free in yrs through `update_v2`). The unsanitized build has its
/// own target directory, so neither build invalidates the other.
const UNSANITIZED: [&str; 2] = ["replicas", "session"];

/// The `cargo fuzz build`/`run` options for `target`: release, and its sanitizer.
fn flags(root: &Path, target: &str) -> Vec<OsString> {
    let mut flags: Vec<OsString> = vec!["-O".into()];
    if UNSANITIZED.contains(&target) {
        flags.extend(["-s".into(), "none".into(), "--target-dir".into()]);
        flags.push(
            crate::paths::target_dir(root)
                .join("fuzz-unsanitized")
                .into_os_string(),
        );
    }
    flags
}

/// The cargo-fuzz version CI installs (cargo-fuzz's own lockfile, not ours: `--locked`).
const CARGO_FUZZ_VERSION: &str = "0.13.1";

/// Seconds per target in `cargo xtask test`: 20 s for each of the [`CI_TARGETS`] keeps the
/// step under 3 minutes plus one nightly build, well inside CI's budget.
pub const CI_SECS: u32 = 20;

/// What to fuzz.
#[derive(Debug, Clone)]
pub struct Options {
    /// One target, or all of them.
    pub target: Option<String>,
    /// With no `target`: only [`CI_TARGETS`] instead of all.
    pub ci: bool,
    /// Time box per target.
    pub secs: u32,
}

/// Runs the fuzz targets; `Ok` with a notice when nightly is missing.
pub fn run(root: &Path, options: &Options) -> Result<()> {
    let targets: Vec<&str> = match &options.target {
        Some(name) => vec![
            TARGETS
                .into_iter()
                .find(|target| target == name)
                .ok_or_else(|| {
                    Error::new(format!(
                        "`{name}` is not a fuzz target; the targets are: {}",
                        TARGETS.join(", ")
                    ))
                })?,
        ],
        None if options.ci => CI_TARGETS.to_vec(),
        None => TARGETS.to_vec(),
    };
    if !nightly_installed() {
        eprintln!(
            "fuzz: the nightly toolchain is not installed, so libFuzzer cannot run here; the \
             seeds and tests/fuzz-regressions were replayed on stable by tests/fuzz_replay.rs"
        );
        return Ok(());
    }
    ensure_cargo_fuzz(root)?;
    let fuzz_dir = root.join("fuzz");
    let corpus = crate::paths::target_dir(root).join("fuzz-corpus");
    Cmd::cargo(root)
        .args([
            "run",
            "--locked",
            "--quiet",
            "-p",
            "cardsync-tests",
            "--bin",
            "fuzz_seeds",
        ])
        .args([corpus.as_os_str()])
        .run()?;
    // Builds with the options `fuzz run` uses below (so it rebuilds nothing): one for every
    // sanitized target, one per unsanitized target in its own directory.
    if targets.iter().any(|target| !UNSANITIZED.contains(target)) {
        Cmd::new("cargo", &fuzz_dir)
            .args(["+nightly", "fuzz", "build", "-O"])
            .run()?;
    }
    for target in targets.iter().filter(|target| UNSANITIZED.contains(target)) {
        Cmd::new("cargo", &fuzz_dir)
            .args(["+nightly", "fuzz", "build"])
            .args(flags(root, target))
            .args([*target])
            .run()?;
    }
    for target in targets {
        Cmd::new("cargo", &fuzz_dir)
            .args(["+nightly", "fuzz", "run"])
            .args(flags(root, target))
            .args([target])
            .args([corpus.join(target).as_os_str()])
            .args(["--", &format!("-max_total_time={}", options.secs)])
            // A decode bomb is a finding, not a reason to swap: cap memory and per-input time.
            .args(["-rss_limit_mb=2048", "-timeout=10", "-print_final_stats=1"])
            .run()
            .map_err(|error| {
                Error::new(format!(
                    "{error}\nfuzz target `{target}` found a failing input (see \
                     fuzz/artifacts/{target}/): move it to tests/fuzz-regressions/{target}/ \
                     with a name that says what it caught, then fix the bug"
                ))
            })?;
    }
    Ok(())
}

fn nightly_installed() -> bool {
    Command::new("rustup")
        .args(["run", "nightly", "rustc", "--version"])
        .output()
        .is_ok_and(|output| output.status.success())
}

fn ensure_cargo_fuzz(root: &Path) -> Result<()> {
    let installed = Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|output| {
            output.status.success()
                && String::from_utf8_lossy(&output.stdout).contains(CARGO_FUZZ_VERSION)
        });
    if installed {
        return Ok(());
    }
    Cmd::cargo(root)
        .args(["install", "--locked", "cargo-fuzz", "--version"])
        .args([format!("={CARGO_FUZZ_VERSION}")])
        .run()
}
