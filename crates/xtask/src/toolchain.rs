//! The parts of the Rust toolchain the checks need beyond the compiler: the wasm32 target and
//! the `rustfmt` and `clippy` components, added through rustup when missing.
//!
//! Why xtask does this itself: rustup installs what `rust-toolchain.toml` lists only when it
//! installs the toolchain. A machine that already had the pinned toolchain (installed with the
//! minimal profile, say) keeps it without the wasm32 target, and with `RUSTUP_AUTO_INSTALL=0`
//! nothing adds it: the first wasm build then fails with "can't find crate for `core`". Each
//! check below costs one `rustc`/`cargo` call when there is nothing to do.

use std::path::Path;
use std::process::Command;

use crate::cmd::Cmd;
use crate::error::{Error, Result};

/// The target of the npm package's wasm.
pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// Adds the wasm32 target to the active toolchain unless its standard library is present.
pub fn ensure_wasm_target(root: &Path) -> Result<()> {
    if target_installed(root, WASM_TARGET) {
        return Ok(());
    }
    eprintln!("the {WASM_TARGET} target is not installed; adding it with rustup");
    rustup(root, &["target", "add", WASM_TARGET])?;
    if target_installed(root, WASM_TARGET) {
        Ok(())
    } else {
        Err(Error::new(format!(
            "`rustup target add {WASM_TARGET}` ran, yet rustc still has no standard library \
             for {WASM_TARGET}"
        )))
    }
}

/// Adds `rustfmt` and `clippy` to the active toolchain when `cargo fmt` or `cargo clippy`
/// does not answer.
pub fn ensure_components(root: &Path) -> Result<()> {
    for (component, subcommand) in [("rustfmt", "fmt"), ("clippy", "clippy")] {
        if !answers(root, &[subcommand, "--version"]) {
            eprintln!("`cargo {subcommand}` is missing; adding the {component} component");
            rustup(root, &["component", "add", component])?;
        }
    }
    Ok(())
}

/// Whether `rustc` has a standard library for `target`: its target libdir holds `libcore`.
fn target_installed(root: &Path, target: &str) -> bool {
    let Ok(output) = Command::new("rustc")
        .args(["--print", "target-libdir", "--target", target])
        .current_dir(root)
        .output()
    else {
        return false;
    };
    let dir = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries
            .filter_map(std::result::Result::ok)
            .any(|entry| entry.file_name().to_string_lossy().starts_with("libcore-"))
    })
}

/// Whether `cargo ARGS` exits 0 (run quietly: only a probe).
fn answers(root: &Path, args: &[&str]) -> bool {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    Command::new(cargo)
        .args(args)
        .current_dir(root)
        .output()
        .is_ok_and(|output| output.status.success())
}

/// `rustup ARGS` in the workspace, so it acts on the toolchain `rust-toolchain.toml` pins.
fn rustup(root: &Path, args: &[&str]) -> Result<()> {
    Cmd::new("rustup", root).args(args).run().map_err(|error| {
        Error::new(format!(
            "{error}\nrustup is needed to add toolchain parts; without it run `rustup {}` \
             by hand or install the part another way",
            args.join(" ")
        ))
    })
}
