//! Where things are: the workspace root and the target directory every step builds into.
//!
//! Its own module for the same reason as [`crate::error`]: every subcommand needs it, and none
//! should import `main.rs` to get it.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The workspace root, found from this crate's own location (`crates/xtask`), so that
/// `cargo xtask` works the same from any directory inside the repository.
pub fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .ancestors()
        .nth(2)
        .map(PathBuf::from)
        .unwrap_or(manifest_dir)
}

/// Where cargo builds: `CARGO_TARGET_DIR` when set, `target/` in the workspace otherwise.
pub fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from)
}

/// Creates `dir` and its parents if missing, failing with a message that names it.
pub fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::new(format!("cannot create {}: {e}", dir.display())))
}
