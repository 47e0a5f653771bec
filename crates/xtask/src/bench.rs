//! `cargo xtask bench`: will run the side-by-side benchmarks (criterion and the Node runner).
//!
//! The benchmarks do not exist yet, so this says so and succeeds: scripts and docs can already
//! name the command.

/// Prints that the benchmarks are not available yet.
pub fn run() -> crate::Result<()> {
    println!("cargo xtask bench: the benchmarks are not yet available (issue: benchmarks)");
    Ok(())
}
