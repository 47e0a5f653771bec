//! The `cardsync-server` binary, built for the steps that run it: the package's sync tests,
//! the browser end-to-end tests and the demo.

use std::path::{Path, PathBuf};

use crate::cmd::Cmd;
use crate::error::Result;

/// Builds `cardsync-server` (debug, or release for the demo) and returns its path.
pub fn build(root: &Path, release: bool) -> Result<PathBuf> {
    let mut cmd =
        Cmd::cargo(root).args(["build", "-p", "cardsync-server", "--bin", "cardsync-server"]);
    if release {
        cmd = cmd.args(["--release"]);
    }
    cmd.run()?;
    let profile = if release { "release" } else { "debug" };
    Ok(crate::paths::target_dir(root)
        .join(profile)
        .join(format!("cardsync-server{}", std::env::consts::EXE_SUFFIX)))
}
