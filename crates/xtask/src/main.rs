//! `cargo xtask`: every build, check and demo of cardsync is one Rust command.
//!
//! Why Rust and not shell scripts or npm scripts: the same code runs on a developer machine and in
//! CI, a failing step says which command failed and why, and there is no chain of scripts to
//! keep in sync (docs/design.md §7, after rust-analyzer). On a fresh machine with only rustup,
//! node and npm, each command installs what it needs ([`toolchain`], [`tools`], [`apt`]), so
//! `.ci/run` only calls `cargo xtask test`.
//!
//! Each subcommand lives in its own module; [`cmd`] is the one place that runs external programs.

#![allow(
    clippy::print_stdout,
    reason = "xtask is a command-line tool: its reports are meant for stdout"
)]

mod apt;
mod bench;
mod bench_nodes;
mod browser;
mod cluster;
mod cmd;
mod demo;
mod e2e;
mod error;
mod fuzz;
mod paths;
mod pg;
mod server;
mod test;
mod toolchain;
mod tools;
mod wasm;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use paths::workspace_root;

/// Automation for the cardsync workspace.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The subcommands; each maps to one module.
#[derive(Debug, Subcommand)]
enum Command {
    /// Run every check CI runs: fmt, clippy, tests (with doctests), docs, the wasm build and
    /// its size, and the package and wasm tests in Node and in headless Chromium.
    Test {
        /// Run the property tests with at least 10,000 cases each (sets `CARDSYNC_SLOW=1`).
        #[arg(long)]
        slow: bool,
        /// Run only this step (repeatable), e.g. `--step pkg-browser`; steps it depends on
        /// (such as `wasm` before the package tests) are not run for it.
        #[arg(long = "step", value_name = "STEP")]
        steps: Vec<String>,
    },
    /// Serve the demo board: the sync server with its SQLite store at http://127.0.0.1:4455/.
    Demo {
        /// Two nodes (127.0.0.1:4455 and :4456) on a throwaway PostgreSQL instead, with links
        /// that put two users on different nodes; Ctrl-C removes the database.
        #[arg(long)]
        cluster: bool,
    },
    /// Run the side-by-side benchmarks (cardsync, yrs, automerge, loro; K1–K8) and write
    /// benches/results/latest.md and latest.json.
    Bench {
        /// Smaller sizes and fewer samples: about ten minutes on two cores.
        #[arg(long, conflicts_with = "full")]
        quick: bool,
        /// The full sizes and 7 samples per cell (the default).
        #[arg(long)]
        full: bool,
        /// Only the scale-out rows (E2 on SQLite, PostgreSQL and two nodes; E1 across nodes),
        /// rendered over the last run's benches/results/latest.json.
        #[arg(long)]
        nodes: bool,
    },
    /// Build the npm package's wasm into pkg/dist/wasm (cargo build, wasm-bindgen, wasm-opt).
    Wasm {
        /// Optimize for size as published (wasm-release profile and wasm-opt).
        #[arg(long)]
        release: bool,
    },
    /// Build the release wasm and fail if its gzipped size is over the budget.
    Size,
    /// Run the libFuzzer targets (nightly): all of them, or one, for a time box each.
    Fuzz {
        /// One target (update_v1, update_v2, state_vector, protocol, room, replicas, schema).
        target: Option<String>,
        /// Seconds per target.
        #[arg(long, default_value_t = 60)]
        secs: u32,
    },
    /// Install what the checks need when missing: toolchain parts, npm packages,
    /// wasm-bindgen-cli, Chromium (what the `tools` step of `cargo xtask test` does).
    Tools,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Test { slow, steps } => test::run(test::Options { slow, only: steps }),
        Command::Demo { cluster } => demo::run(cluster),
        Command::Bench {
            quick,
            full: _,
            nodes,
        } => {
            let mode = if quick {
                bench::Mode::Quick
            } else {
                bench::Mode::Full
            };
            if nodes {
                bench::run_nodes(mode)
            } else {
                bench::run(mode)
            }
        }
        Command::Wasm { release } => wasm::run(wasm::Options { release }),
        Command::Size => wasm::size(),
        Command::Fuzz { target, secs } => fuzz::run(
            &workspace_root(),
            &fuzz::Options {
                target,
                ci: false,
                secs,
            },
        ),
        Command::Tools => test::run(test::Options {
            slow: false,
            only: vec!["tools".to_owned()],
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("cargo xtask: error: {error}");
            ExitCode::FAILURE
        }
    }
}
