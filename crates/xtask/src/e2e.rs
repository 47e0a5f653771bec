//! The demo board: its build (`vite build` of `demo/` against the npm package in `pkg/`) and
//! its end-to-end tests in headless Chromium against a real `cardsync-server`.

use std::path::{Path, PathBuf};

use crate::cmd::Cmd;
use crate::error::Result;
use crate::tools;

/// Installs the demo's npm packages when needed and builds it into `demo/dist`; returns that
/// directory. Expects the package's wasm in `pkg/dist/wasm` (`cargo xtask wasm`).
pub fn build_board(root: &Path) -> Result<PathBuf> {
    let demo = root.join("demo");
    tools::ensure_npm_deps(&demo)?;
    let vite = demo
        .join("node_modules")
        .join("vite")
        .join("bin")
        .join("vite.js");
    Cmd::new("node", &demo)
        .args([vite.as_os_str()])
        .args(["build"])
        .run()?;
    Ok(demo.join("dist"))
}

/// The end-to-end tests (`demo/test/*.test.js`): two users converging, one card dragged into
/// two columns at once, the WIP limit's refusal, conflict markers resolved from the card,
/// offline edits across a reload and a browser restart, a viewer's rollback, a server crash,
/// status transitions, a hidden page's slower heartbeat, two tabs sharing one outbox,
/// IndexedDB write failures. The server runs with the demo's config (`demo/server.toml`).
pub fn test(root: &Path) -> Result<()> {
    build_board(root)?;
    let server = crate::server::build(root, false)?;
    let demo = root.join("demo");
    let tests = tools::test_files(&demo.join("test"))?;
    Cmd::new("node", &demo)
        .args(["--test", "--test-concurrency=1"])
        .args(&tests)
        .env("CARDSYNC_SERVER_BIN", &server.to_string_lossy())
        .run()
}
