//! Making sure the tools and packages the checks need are present, installing them if not.
//!
//! xtask installs what the project needs itself instead of trusting the machine: CI starts from
//! a fresh clone, and a developer's `node_modules` goes stale when the lockfile changes. Each
//! `ensure_*` function is cheap when there is nothing to do, so every run can call it.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::cmd::Cmd;
use crate::error::{Error, Result};

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
    let here = crate::paths::workspace_root();
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

/// The `*.test.js` files directly in `dir`, sorted; an error if there are none, so a renamed
/// directory cannot turn a test step into one that runs nothing.
pub fn test_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut tests: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::new(format!("cannot list {}: {e}", dir.display())))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.to_string_lossy().ends_with(".test.js"))
        .collect();
    tests.sort();
    if tests.is_empty() {
        return Err(Error::new(format!(
            "{} has no *.test.js files",
            dir.display()
        )));
    }
    Ok(tests)
}

/// The modification time of `path`, or `None` if it does not exist or cannot be read.
fn modified(path: &Path) -> Option<SystemTime> {
    path.metadata().and_then(|meta| meta.modified()).ok()
}

/// The `wasm-bindgen` CLI at exactly the version of the `wasm-bindgen` crate in Cargo.lock
/// (the CLI refuses other versions' output), installed with `cargo install` when missing.
/// Returns the program to run.
///
/// Per docs/design.md §8 the install is *not* `--locked`: one of the CLI's locked dependencies is
/// missing from the registry mirror. It compiles for about 7 minutes, so it is skipped
/// whenever a matching binary exists, in `$CARGO_HOME/bin` or on `PATH`.
pub fn ensure_wasm_bindgen(root: &Path) -> Result<PathBuf> {
    let version = locked_version(root, "wasm-bindgen")?;
    let installed = cargo_bin_dir().join("wasm-bindgen");
    for candidate in [installed.clone(), PathBuf::from("wasm-bindgen")] {
        if reported_version(&candidate).as_deref() == Some(version.as_str()) {
            eprintln!("{} is version {version}", candidate.display());
            return Ok(candidate);
        }
    }
    eprintln!("wasm-bindgen {version} is not installed; installing it (about 7 minutes)");
    Cmd::cargo(root)
        .args(["install", "wasm-bindgen-cli", "--version"])
        .args([format!("={version}")])
        .run()?;
    match reported_version(&installed) {
        Some(found) if found == version => Ok(installed),
        found => Err(Error::new(format!(
            "after `cargo install`, {} reports version {found:?}, not {version}",
            installed.display()
        ))),
    }
}

/// The version of `package` that Cargo.lock pins (the first entry of that name).
pub fn locked_version(root: &Path, package: &str) -> Result<String> {
    let path = root.join("Cargo.lock");
    let lock = std::fs::read_to_string(&path)
        .map_err(|e| Error::new(format!("cannot read {}: {e}", path.display())))?;
    let name_line = format!("name = \"{package}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == name_line
            && let Some(version) = lines.next().and_then(|l| l.strip_prefix("version = \""))
        {
            return Ok(version.trim_end_matches('"').to_owned());
        }
    }
    Err(Error::new(format!(
        "Cargo.lock has no `{package}`; is bindings/wasm a workspace member?"
    )))
}

/// Where `cargo install` puts binaries: `$CARGO_HOME/bin`, by default `~/.cargo/bin`.
fn cargo_bin_dir() -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
        .unwrap_or_default();
    home.join("bin")
}

/// The version a `wasm-bindgen --version` prints (`wasm-bindgen 0.2.130`), or `None` if the
/// program is missing or prints something else. A quiet probe, so not a [`Cmd`].
fn reported_version(program: &Path) -> Option<String> {
    let output = std::process::Command::new(program)
        .arg("--version")
        .output()
        .ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    let version = text.split_whitespace().nth(1)?;
    Some(version.to_owned())
}
