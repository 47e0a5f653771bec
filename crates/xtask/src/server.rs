//! The `cardsync-server` binary, built for the steps that run it: the package's sync tests,
//! the browser end-to-end tests and the demo.

use std::path::{Path, PathBuf};

use crate::Result;
use crate::cmd::Cmd;

/// Builds `cardsync-server` (debug, or release for the demo) and returns its path.
pub fn build(root: &Path, release: bool) -> Result<PathBuf> {
    let mut cmd =
        Cmd::cargo(root).args(["build", "-p", "cardsync-server", "--bin", "cardsync-server"]);
    if release {
        cmd = cmd.args(["--release"]);
    }
    cmd.run()?;
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let profile = if release { "release" } else { "debug" };
    Ok(target
        .join(profile)
        .join(format!("cardsync-server{}", std::env::consts::EXE_SUFFIX)))
}

/// Cargo's target directory: `CARGO_TARGET_DIR`, else `target/` in the workspace.
pub fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from)
}
