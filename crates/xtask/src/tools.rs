//! Making sure the tools and packages the checks need are present, installing them if not.
//!
//! xtask installs what the project needs itself instead of trusting the machine: CI starts from
//! a fresh clone, and a developer's `node_modules` goes stale when the lockfile changes. Each
//! `ensure_*` function is cheap when there is nothing to do, so every run can call it.

use std::path::Path;
use std::time::SystemTime;

use crate::cmd::Cmd;
use crate::{Error, Result};

/// Runs `npm ci` in `dir` unless its `node_modules` is at least as new as its
/// `package-lock.json`.
///
/// `npm ci` installs exactly what the lockfile says (the `yjs` version the interop tests were
/// written against) and recreates `node_modules`, which makes it newer than the lockfile until
/// the lockfile changes again.
pub fn ensure_npm_deps(dir: &Path) -> Result<()> {
    let lockfile = dir.join("package-lock.json");
    let lock_time = modified(&lockfile).ok_or_else(|| {
        Error::new(format!(
            "{} is missing; run `npm install` in {} and commit the lockfile",
            lockfile.display(),
            dir.display()
        ))
    })?;
    let node_modules = dir.join("node_modules");
    match modified(&node_modules) {
        Some(installed) if installed >= lock_time => {
            eprintln!(
                "{} is up to date with package-lock.json; skipping `npm ci`",
                node_modules.display()
            );
            return Ok(());
        }
        Some(_) => eprintln!("{} is older than package-lock.json", node_modules.display()),
        None => eprintln!("{} is missing", node_modules.display()),
    }
    ensure_node()?;
    Cmd::new("npm", dir)
        .args(["ci", "--no-audit", "--no-fund"])
        .run()
}

/// Fails with a clear message when `node` or `npm` is not installed; prints their versions
/// otherwise, which also puts them in the CI log.
pub fn ensure_node() -> Result<()> {
    let here = crate::workspace_root();
    for program in ["node", "npm"] {
        Cmd::new(program, &here)
            .args(["--version"])
            .run()
            .map_err(|error| {
                Error::new(format!(
                    "{error}\n`{program}` is needed for the JS interop tests (node 20 or newer)"
                ))
            })?;
    }
    Ok(())
}

/// The modification time of `path`, or `None` if it does not exist or cannot be read.
fn modified(path: &Path) -> Option<SystemTime> {
    path.metadata().and_then(|meta| meta.modified()).ok()
}
