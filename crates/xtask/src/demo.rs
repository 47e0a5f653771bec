//! `cargo xtask demo`: will start the native sync server and open clients against it.
//!
//! The server does not exist yet, so this says so and succeeds: scripts and docs can already
//! name the command.

/// Prints that the demo is not available yet.
pub fn run() -> crate::Result<()> {
    println!("cargo xtask demo: the sync server is not yet available (issue: native sync server)");
    Ok(())
}
