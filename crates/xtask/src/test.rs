//! `cargo xtask test`: everything CI checks, in the order that fails fastest.
//!
//! The checks are a plain list of [`Step`]s so that later ones (wasm build, npm package tests,
//! fuzz-corpus replay) are one more entry in [`steps`]. Cheap checks come first: formatting fails
//! in a second, clippy before the long test build. The run stops at the first failing step and
//! always ends with a per-step timing summary, so a slow CI run shows where the time went.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::cmd::Cmd;
use crate::error::{Error, Result};
use crate::{apt, browser, fuzz as fuzzing, toolchain, tools, wasm};

/// What the caller of `cargo xtask test` asked for.
#[derive(Debug, Clone)]
pub struct Options {
    /// Run the property tests with many more cases (`CARDSYNC_SLOW=1`).
    pub slow: bool,
    /// Run only these steps (by name, in the usual order); all of them when empty.
    pub only: Vec<String>,
}

/// What every step gets: where the workspace is and what was asked for.
struct Context {
    root: PathBuf,
    options: Options,
}

/// One named check. `run` echoes and runs its commands and fails on the first that fails.
struct Step {
    name: &'static str,
    run: fn(&Context) -> Result<()>,
}

/// The checks, in order. Append new steps here.
fn steps() -> Vec<Step> {
    vec![
        step("tools", tools_step),
        step("fmt", fmt),
        step("clippy", clippy),
        step("test", cargo_test),
        step("doc", doc),
        step("wasm", wasm_build),
        step("size", size),
        step("pkg-test", pkg_test),
        step("bench-js", bench_js),
        step("pkg-browser", pkg_browser),
        step("e2e", e2e),
        step("wasm-test", wasm_test),
        step("wasm-test-browser", wasm_test_browser),
        step("fuzz", fuzz),
    ]
}

const fn step(name: &'static str, run: fn(&Context) -> Result<()>) -> Step {
    Step { name, run }
}

/// Everything the later steps need, installed when missing, so that a fresh machine with only
/// rustup, node and npm passes (each later step also ensures its own part, cheaply, so that
/// `--step X` works alone):
/// - the `rustfmt` and `clippy` components and the wasm32 target;
/// - the npm packages: the Rust interop tests run `node` scripts in `tests/js` against the
///   real `yjs`; the npm package's tests need its dev dependencies (`yjs`, `typescript`,
///   `binaryen`'s wasm-opt, `playwright-core` for the browser tests and `vite` for the bundler
///   smoke test); the demo board needs `vite` and `playwright-core`; the bench runners need
///   the peers they measure;
/// - wasm-bindgen-cli at the locked version (about 7 minutes to compile, once);
/// - Debian's Chromium and chromedriver for the browser tests, and PostgreSQL for the store
///   tests (apt-get, as root).
fn tools_step(cx: &Context) -> Result<()> {
    Cmd::new("rustc", &cx.root).args(["--version"]).run()?;
    tools::ensure_node()?;
    toolchain::ensure_components(&cx.root)?;
    toolchain::ensure_wasm_target(&cx.root)?;
    for dir in ["tests/js", "pkg", "demo", "benches/js"] {
        tools::ensure_npm_deps(&cx.root.join(dir))?;
    }
    tools::ensure_wasm_bindgen(&cx.root)?;
    apt::ensure(&[apt::POSTGRESQL])?;
    browser::ensure_chromium()
}

fn fmt(cx: &Context) -> Result<()> {
    toolchain::ensure_components(&cx.root)?;
    Cmd::cargo(&cx.root).args(["fmt", "--all", "--check"]).run()
}

/// Clippy on the host, then on the bindings for wasm32, where their wasm-bindgen tests (and
/// anything else behind `cfg(target_arch = "wasm32")`) are compiled.
fn clippy(cx: &Context) -> Result<()> {
    toolchain::ensure_components(&cx.root)?;
    toolchain::ensure_wasm_target(&cx.root)?;
    Cmd::cargo(&cx.root)
        .args(["clippy", "--workspace", "--all-targets", "--locked"])
        .args(["--", "-D", "warnings"])
        .run()?;
    Cmd::cargo(&cx.root)
        .args(["clippy", "-p", "cardsync-wasm", "--all-targets", "--locked"])
        .args(["--target", "wasm32-unknown-unknown", "--", "-D", "warnings"])
        .run()
}

/// Unit, integration and doc tests, including the `tidy` test in this crate.
fn cargo_test(cx: &Context) -> Result<()> {
    // The store tests start a throwaway PostgreSQL cluster of their own.
    apt::ensure(&[apt::POSTGRESQL])?;
    // The Yjs interop tests run node scripts against the real `yjs` in tests/js.
    tools::ensure_npm_deps(&cx.root.join("tests").join("js"))?;
    let cmd = Cmd::cargo(&cx.root).args(["test", "--workspace", "--locked"]);
    let cmd = if cx.options.slow {
        cmd.env("CARDSYNC_SLOW", "1")
    } else {
        cmd
    };
    cmd.run()
}

/// Broken intra-doc links and malformed docs fail the build, like warnings in clippy.
fn doc(cx: &Context) -> Result<()> {
    Cmd::cargo(&cx.root)
        .args(["doc", "--workspace", "--no-deps", "--locked"])
        .env("RUSTDOCFLAGS", "-D warnings")
        .run()
}

/// Every libFuzzer target, time-boxed (skipped with a notice when nightly is missing; the
/// corpus replay in `test` runs either way).
fn fuzz(cx: &Context) -> Result<()> {
    let options = fuzzing::Options {
        target: None,
        ci: true,
        secs: fuzzing::CI_SECS,
    };
    fuzzing::run(&cx.root, &options)
}

/// The npm package as published: release profile and wasm-opt.
fn wasm_build(cx: &Context) -> Result<()> {
    wasm::build(&cx.root, wasm::Options { release: true }).map(drop)
}

fn size(cx: &Context) -> Result<()> {
    wasm::check_size(&cx.root)
}

/// The package's JS tests through its public entry point (`node --test`), including the
/// `npm pack` smoke test of the tarball as installed and the sync client against a real
/// `cardsync-server`, then its type declarations compiled
/// against a strict TypeScript consumer.
fn pkg_test(cx: &Context) -> Result<()> {
    let pkg = cx.root.join("pkg");
    tools::ensure_npm_deps(&pkg)?;
    let tests = tools::test_files(&pkg.join("test"))?;
    let server = crate::server::build(&cx.root, false)?;
    Cmd::new("node", &pkg)
        .args(["--test"])
        .args(&tests)
        .env("CARDSYNC_SERVER_BIN", &server.to_string_lossy())
        .run()?;
    let tsc = pkg
        .join("node_modules")
        .join("typescript")
        .join("bin")
        .join("tsc");
    Cmd::new("node", &pkg)
        .args([tsc.as_os_str()])
        .args(["-p", "test/tsconfig.json"])
        .run()
}

/// The Node benchmark runners (`benches/js`, run by `cargo xtask bench`) at tiny sizes,
/// against the debug package and server: the figures mean nothing, but every workload and
/// both E1 pairs run, so the runners cannot rot unnoticed. No timing is asserted.
fn bench_js(cx: &Context) -> Result<()> {
    let dir = cx.root.join("benches").join("js");
    tools::ensure_npm_deps(&dir)?;
    let server = crate::server::build(&cx.root, false)?;
    let scratch = crate::paths::target_dir(&cx.root).join("bench-smoke");
    crate::paths::create_dir(&scratch)?;
    for (runner, out) in crate::bench::NODE_RUNNERS {
        Cmd::new("node", &dir)
            .env("CARDSYNC_SERVER_BIN", &server.to_string_lossy())
            .args([runner, "--tiny", "--out"])
            .args([scratch.join(out)])
            .run()?;
    }
    Ok(())
}

/// The same package in a real Chromium page (Playwright), through its browser entry point.
fn pkg_browser(cx: &Context) -> Result<()> {
    browser::pkg_test(&cx.root)
}

/// The demo board end to end in headless Chromium against a real server.
fn e2e(cx: &Context) -> Result<()> {
    browser::ensure_chromium()?;
    crate::e2e::test(&cx.root)
}

/// The Rust-side tests of the bindings, compiled to wasm and run in Node by
/// `wasm-bindgen-test-runner` (installed with wasm-bindgen-cli, same version).
fn wasm_test(cx: &Context) -> Result<()> {
    browser::wasm_test_node(&cx.root)
}

/// The same wasm-bindgen tests in headless Chromium through chromedriver.
fn wasm_test_browser(cx: &Context) -> Result<()> {
    browser::wasm_test(&cx.root)
}

/// Runs every step in order, stopping at the first failure, then prints the timing summary.
pub fn run(options: Options) -> Result<()> {
    let cx = Context {
        root: crate::paths::workspace_root(),
        options,
    };
    let mut steps = steps();
    if let Some(unknown) = cx
        .options
        .only
        .iter()
        .find(|name| !steps.iter().any(|step| step.name == name.as_str()))
    {
        let names: Vec<&str> = steps.iter().map(|step| step.name).collect();
        return Err(Error::new(format!(
            "no step `{unknown}`; the steps are {}",
            names.join(", ")
        )));
    }
    if !cx.options.only.is_empty() {
        steps.retain(|step| cx.options.only.iter().any(|name| name == step.name));
    }
    let mut timings: Vec<(&'static str, Duration)> = Vec::new();
    let mut failure = None;
    for step in &steps {
        eprintln!("\n==> cargo xtask test: {}", step.name);
        let started = Instant::now();
        let result = (step.run)(&cx);
        timings.push((step.name, started.elapsed()));
        if let Err(error) = result {
            failure = Some((step.name, error));
            break;
        }
    }
    print_summary(&steps, &timings, failure.as_ref().map(|(name, _)| *name));
    match failure {
        None => Ok(()),
        Some((name, error)) => Err(Error::new(format!("step `{name}` failed: {error}"))),
    }
}

fn print_summary(steps: &[Step], timings: &[(&str, Duration)], failed: Option<&str>) {
    println!("\ncargo xtask test: summary");
    for step in steps {
        match timings.iter().find(|(name, _)| *name == step.name) {
            Some((name, took)) => {
                let status = if failed == Some(*name) {
                    "FAILED"
                } else {
                    "ok"
                };
                println!("  {name:<18} {:>8.1}s  {status}", took.as_secs_f64());
            }
            None => println!("  {:<18} {:>9}  not run", step.name, "-"),
        }
    }
    let total: Duration = timings.iter().map(|(_, took)| *took).sum();
    println!("  {:<18} {:>8.1}s", "total", total.as_secs_f64());
}
