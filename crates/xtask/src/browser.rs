//! The `cargo xtask test` steps that run in headless Chromium: the bindings and the package
//! are tested in a real browser, not only in Node, because that is where they ship.
//!
//! Both use Debian's `chromium` and `chromium-driver`, which [`ensure_chromium`] installs with
//! apt-get when missing; nothing here downloads a browser (docs/design.md §8). Each step proves
//! it ran in Chromium rather than trusting its configuration: the wasm-bindgen tests are built with
//! `CARDSYNC_WASM_TEST_HOST=chromium` and one of them asserts the user agent is HeadlessChrome;
//! the package test asserts the same of its page and prints the user agent.

use std::path::{Path, PathBuf};

use crate::cmd::Cmd;
use crate::error::Result;
use crate::{apt, toolchain, tools};

/// Debian's Chromium (a launcher script that runs `/usr/lib/chromium/chromium`).
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// Debian's chromedriver, the same Chromium version (package `chromium-driver`).
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Installs Debian's Chromium and chromedriver when missing (as root; otherwise fails with
/// the `apt-get` command to run).
pub fn ensure_chromium() -> Result<()> {
    apt::ensure(&[
        apt::Program {
            path: CHROMIUM,
            package: "chromium",
        },
        apt::Program {
            path: CHROMEDRIVER,
            package: "chromium-driver",
        },
    ])
}

/// The wasm-bindgen tests of `bindings/wasm` in headless Chromium: the same test binary as
/// the Node run, switched to the browser by `WASM_BINDGEN_USE_BROWSER`.
/// `wasm-bindgen-test-runner` serves it, starts chromedriver and passes the browser options
/// of `bindings/wasm/webdriver.json` (the binary, and flags as in `pkg/test/browser/chromium.js`;
/// the runner adds `headless`, `no-sandbox` and `disable-dev-shm-usage` itself).
pub fn wasm_test(root: &Path) -> Result<()> {
    ensure_chromium()?;
    let runner = test_runner(root)?;
    let webdriver_json = root.join("bindings").join("wasm").join("webdriver.json");
    wasm_bindgen_tests(root, &runner, "chromium")
        .env("WASM_BINDGEN_USE_BROWSER", "1")
        .env("CHROMEDRIVER", CHROMEDRIVER)
        .env(
            "WASM_BINDGEN_TEST_WEBDRIVER_JSON",
            &webdriver_json.to_string_lossy(),
        )
        // Shows the user agent the host test logs, as evidence in the CI log.
        .args(["--", "--nocapture"])
        .run()
}

/// The wasm-bindgen tests in Node, the runner's default host.
pub fn wasm_test_node(root: &Path) -> Result<()> {
    let runner = test_runner(root)?;
    wasm_bindgen_tests(root, &runner, "node").run()
}

/// `wasm-bindgen-test-runner`, installed with wasm-bindgen-cli at the locked version (and the
/// wasm32 target the tests are built for).
fn test_runner(root: &Path) -> Result<PathBuf> {
    toolchain::ensure_wasm_target(root)?;
    let wasm_bindgen = tools::ensure_wasm_bindgen(root)?;
    Ok(wasm_bindgen.with_file_name("wasm-bindgen-test-runner"))
}

/// `cargo test` of the bindings for wasm32, run by `runner`, built for `host` (which the
/// host test checks; changing it rebuilds only the bindings crate).
fn wasm_bindgen_tests(root: &Path, runner: &Path, host: &str) -> Cmd {
    Cmd::cargo(root)
        .args(["test", "--locked", "-p", "cardsync-wasm"])
        .args(["--target", "wasm32-unknown-unknown"])
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
            &runner.to_string_lossy(),
        )
        .env("CARDSYNC_WASM_TEST_HOST", host)
}

/// The package's browser tests (`pkg/test/browser/*.test.js`): Playwright drives Chromium
/// through a page served from `pkg/`, on the release build.
pub fn pkg_test(root: &Path) -> Result<()> {
    ensure_chromium()?;
    let pkg = root.join("pkg");
    tools::ensure_npm_deps(&pkg)?;
    let tests = tools::test_files(&pkg.join("test").join("browser"))?;
    // The first-screen tests sync through a real server (built here too, so that the step
    // runs alone: `cargo xtask test --step pkg-browser`).
    let server = crate::server::build(root, false)?;
    Cmd::new("node", &pkg)
        .env("CARDSYNC_SERVER_BIN", &server.to_string_lossy())
        .args(["--test"])
        .args(&tests)
        .run()
}
