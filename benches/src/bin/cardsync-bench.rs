//! `cardsync-bench`: runs the side-by-side workloads and writes the results table.
//!
//! `cargo xtask bench` is the usual way in; it builds this in release, runs it, runs the Node
//! runner, and renders both into `benches/results/`. By hand:
//!
//! ```text
//! cardsync-bench run --quick --out native.json      # or --full
//! cardsync-bench render --md latest.md --json latest.json native.json [js.json]
//! ```

#![allow(
    clippy::print_stdout,
    reason = "a command-line tool: its output is meant for stdout"
)]

use std::alloc::System;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use cardsync_benches::measure::{HeapMeter, Samples};
use cardsync_benches::report::Report;
use cardsync_benches::workloads::{Ctx, Sizes, run_only};
use cardsync_benches::{machine, trace};
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

/// Counts allocations so K1 can report live heap per card.
#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const USAGE: &str = "usage: cardsync-bench run [--quick|--full] [--only K1,K5] --out FILE.json\n       \
                     cardsync-bench render --md FILE.md --json FILE.json IN.json...";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run(&args[1..]),
        Some("render") => render(&args[1..]),
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("cardsync-bench: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The value after `flag`, if present.
fn value(args: &[String], flag: &str) -> Option<String> {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

fn run(args: &[String]) -> Result<(), String> {
    let quick = args.iter().any(|a| a == "--quick");
    let tiny = args.iter().any(|a| a == "--tiny");
    let out = PathBuf::from(value(args, "--out").ok_or(USAGE)?);
    let (sizes, samples, mode) = if tiny {
        (
            Sizes::tiny(),
            Samples {
                warm_up: 0,
                timed: 1,
                budget: 1.0,
            },
            "tiny",
        )
    } else if quick {
        (
            Sizes::quick(),
            Samples {
                warm_up: 1,
                timed: 3,
                budget: 8.0,
            },
            "quick",
        )
    } else {
        (
            Sizes::full(),
            Samples {
                warm_up: 1,
                timed: 7,
                budget: 60.0,
            },
            "full",
        )
    };
    let started = Instant::now();
    let mut ctx = Ctx {
        sizes,
        samples,
        heap: HeapMeter::new(GLOBAL),
        traces: trace::traces_dir(),
        report: Report::default(),
        verbose: true,
    };
    let only: Vec<String> = value(args, "--only")
        .map(|list| list.split(',').map(str::to_owned).collect())
        .unwrap_or_default();
    run_only(&mut ctx, &only).map_err(|e| e.to_string())?;
    let mut report = ctx.report;
    report.machine = machine::describe(mode, value(args, "--git-sha").unwrap_or_default());
    report.machine.seconds = started.elapsed().as_secs_f64();
    report.notes = machine::notes(&ctx.sizes, samples);
    let json = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
    std::fs::write(&out, json).map_err(|e| format!("{}: {e}", out.display()))?;
    println!("wrote {}", out.display());
    Ok(())
}

fn render(args: &[String]) -> Result<(), String> {
    let md = PathBuf::from(value(args, "--md").ok_or(USAGE)?);
    let json = PathBuf::from(value(args, "--json").ok_or(USAGE)?);
    let mut inputs = args
        .iter()
        .enumerate()
        .filter(|(i, a)| !a.starts_with("--") && (*i == 0 || !args[i - 1].starts_with("--")))
        .map(|(_, a)| PathBuf::from(a));
    let read = |path: PathBuf| -> Result<Report, String> {
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    };
    let mut report = read(inputs.next().ok_or(USAGE)?)?;
    for more in inputs {
        report.merge(read(more)?);
    }
    // Without --date the first input's stays (a partial rerun over the last full run).
    if let Some(date) = value(args, "--date") {
        report.machine.date = date;
    }
    let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
    std::fs::write(&json, text).map_err(|e| format!("{}: {e}", json.display()))?;
    std::fs::write(&md, report.markdown()).map_err(|e| format!("{}: {e}", md.display()))?;
    println!("wrote {} and {}", md.display(), json.display());
    Ok(())
}
