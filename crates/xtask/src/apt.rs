//! Debian packages the checks need (Chromium and its driver for the browser tests, PostgreSQL
//! for the store tests), installed with apt-get when missing.
//!
//! Why here and not in `.ci/run`: a developer's first `cargo xtask test` on a fresh machine
//! must pass as CI's does, so the one place that knows what the checks need is xtask. apt-get
//! needs root; as another user xtask stops with the one command to run instead of failing
//! later in a browser test.

use std::path::Path;
use std::process::Command;

use crate::cmd::Cmd;
use crate::error::{Error, Result};

/// A program the checks run and the Debian package that provides it.
#[derive(Debug, Clone, Copy)]
pub struct Program {
    /// Where Debian installs it.
    pub path: &'static str,
    /// The package that installs it.
    pub package: &'static str,
}

/// PostgreSQL's server binaries: the store tests start a throwaway cluster with `initdb` and
/// `pg_ctl` from here (`crates/cardsync-server/tests/common/pg.rs`). Debian 12's `postgresql`
/// installs version 15.
pub const POSTGRESQL: Program = Program {
    path: "/usr/lib/postgresql/15/bin/pg_ctl",
    package: "postgresql",
};

/// Installs the packages of the `programs` that are missing: with apt-get as root, otherwise
/// an error naming the command to run.
pub fn ensure(programs: &[Program]) -> Result<()> {
    let missing: Vec<&str> = programs
        .iter()
        .filter(|program| !Path::new(program.path).exists())
        .map(|program| program.package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let packages = missing.join(" ");
    if !is_root() {
        return Err(Error::new(format!(
            "{packages} missing; install with `sudo apt-get update && sudo apt-get install -y \
             {packages}` and run again"
        )));
    }
    eprintln!("{packages} missing; installing with apt-get");
    let here = crate::paths::workspace_root();
    Cmd::new("apt-get", &here)
        .args(["update", "-q"])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .run()?;
    Cmd::new("apt-get", &here)
        .args(["install", "-y", "-q"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .run()?;
    match programs
        .iter()
        .find(|program| !Path::new(program.path).exists())
    {
        Some(program) => Err(Error::new(format!(
            "after installing {}, {} is still missing",
            program.package, program.path
        ))),
        None => Ok(()),
    }
}

/// Whether this process runs as root (`id -u` prints 0).
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
}
