//! Tidy checks: rules about the repository itself, run by `cargo test --workspace`.
//!
//! Each rule is an ordinary `#[test]` (after rust-analyzer), so it fails in the same run, with
//! the same report, as a broken unit test, and there is no separate lint script to forget. Each
//! failure names the offending file, line or crate and the rule it breaks.

#[path = "tidy/citations.rs"]
mod citations;
#[path = "tidy/imports.rs"]
mod imports;
#[path = "tidy/layers.rs"]
mod layers;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The sans-IO crates: they must know nothing of async runtimes, wasm, clocks or RNGs
/// (docs/design.md §2, §7).
const SANS_IO_CRATES: &[&str] = &["cardsync-core", "cardsync-sync"];

/// Crates a sans-IO crate must not reach, directly or through any dependency other than `yrs`.
const FORBIDDEN_DEPENDENCIES: &[&str] = &[
    "tokio",
    "async-std",
    "smol",
    "wasm-bindgen",
    "js-sys",
    "web-sys",
    "rand",
    "rand_core",
    "getrandom",
    "fastrand",
    "chrono",
    "time",
];

/// Crates a sans-IO crate must not reach by any path at all, `yrs` included.
const FORBIDDEN_EVEN_THROUGH_YRS: &[&str] = &["tokio", "async-std", "smol"];

/// Source text that reads a clock or an RNG. Comments may mention them.
const FORBIDDEN_SOURCE_TEXT: &[&str] = &[
    "SystemTime",
    "UNIX_EPOCH",
    "Instant::now",
    "thread_rng",
    "OsRng",
    "rand::",
    "getrandom",
];

const MAX_LINES: usize = 800;
const LENGTH_CHECKED_EXTENSIONS: &[&str] = &["rs", "ts", "js", "mjs"];

#[test]
fn core_has_no_runtime_dependencies() {
    let mut problems = Vec::new();
    for krate in SANS_IO_CRATES {
        // `yrs` is the one audited exception: it uses `fastrand`, which on wasm32 reaches
        // `wasm-bindgen` through `getrandom`. It is pinned exactly, so this cannot change silently;
        // everything else the crate depends on is checked on every target.
        let without_yrs = dependency_names(&[
            "tree", "-p", krate, "-e", "normal", "--target", "all", "--prefix", "none", "--prune",
            "yrs", "--locked",
        ]);
        assert!(
            without_yrs.contains(*krate),
            "`cargo tree -p {krate}` did not list {krate} itself; is the tidy test parsing it right?"
        );
        for name in &without_yrs {
            if FORBIDDEN_DEPENDENCIES.contains(&name.as_str()) {
                problems.push(format!(
                    "{krate} depends on `{name}` (see `cargo tree -p {krate} --target all -i {name}`)"
                ));
            }
        }
        let everything = dependency_names(&[
            "tree", "-p", krate, "-e", "normal", "--target", "all", "--prefix", "none", "--locked",
        ]);
        for name in &everything {
            if FORBIDDEN_EVEN_THROUGH_YRS.contains(&name.as_str()) {
                problems.push(format!("{krate} depends on the async runtime `{name}`"));
            }
        }
        problems.extend(forbidden_source_text(krate));
    }
    assert!(
        problems.is_empty(),
        "the sans-IO crates must not read clocks or RNGs or pull in runtimes/wasm \
         (docs/design.md §7):\n  {}",
        problems.join("\n  ")
    );
}

#[test]
fn no_source_file_is_too_long() {
    let files = project_files();
    let checked: Vec<&String> = files
        .iter()
        .filter(|path| {
            let ext = Path::new(path).extension().and_then(|ext| ext.to_str());
            ext.is_some_and(|ext| LENGTH_CHECKED_EXTENSIONS.contains(&ext))
                && !path.contains("node_modules")
                && !path.contains("pkg/dist")
                && !path.contains("generated")
        })
        .collect();
    assert!(
        checked.iter().any(|path| path.ends_with("tests/tidy.rs")),
        "the file list does not even contain this test; is `git ls-files` working?"
    );
    let root = workspace_root();
    let mut offenders = Vec::new();
    for path in checked {
        let bytes = match std::fs::read(root.join(path)) {
            Ok(bytes) => bytes,
            // Tracked but deleted in the work tree: nothing left to measure.
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
            Err(error) => panic!("cannot read {path}: {error}"),
        };
        let lines = bytes.iter().filter(|&&byte| byte == b'\n').count();
        if lines > MAX_LINES {
            offenders.push(format!("{path}: {lines} lines"));
        }
    }
    assert!(
        offenders.is_empty(),
        "files longer than {MAX_LINES} lines; split them by concept (docs/design.md §7):\n  {}",
        offenders.join("\n  ")
    );
}

/// The workspace's packages as `cargo metadata` describes them (checked to include xtask).
fn workspace_packages() -> Vec<serde_json::Value> {
    let metadata = cargo(&["metadata", "--no-deps", "--format-version", "1"]);
    let mut metadata: serde_json::Value =
        serde_json::from_str(&metadata).expect("`cargo metadata` printed invalid JSON");
    let serde_json::Value::Array(packages) = metadata["packages"].take() else {
        panic!("`cargo metadata` has no `packages` array");
    };
    assert!(
        packages.iter().any(|package| package["name"] == "xtask"),
        "`cargo metadata` did not list the xtask crate itself"
    );
    packages
}

#[test]
fn every_crate_uses_workspace_lints() {
    let mut offenders = Vec::new();
    for package in &workspace_packages() {
        let manifest = package["manifest_path"]
            .as_str()
            .expect("package without `manifest_path`");
        let text = std::fs::read_to_string(manifest)
            .unwrap_or_else(|error| panic!("cannot read {manifest}: {error}"));
        if !uses_workspace_lints(&text) {
            offenders.push(manifest.to_owned());
        }
    }
    assert!(
        offenders.is_empty(),
        "these crates do not have `[lints] workspace = true`:\n  {}",
        offenders.join("\n  ")
    );
}

/// Whether a `Cargo.toml` inherits the workspace lints, in any of the three TOML spellings.
fn uses_workspace_lints(manifest: &str) -> bool {
    let mut in_lints_table = false;
    for line in manifest.lines() {
        let line: String = line
            .split('#')
            .next()
            .unwrap_or_default()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if line.starts_with('[') {
            in_lints_table = line == "[lints]";
        } else if (in_lints_table && line == "workspace=true")
            || line == "lints.workspace=true"
            || line == "lints={workspace=true}"
        {
            return true;
        }
    }
    false
}

#[test]
fn uses_workspace_lints_reads_each_spelling() {
    assert!(uses_workspace_lints(
        "[package]\n[lints]\nworkspace = true\n"
    ));
    assert!(uses_workspace_lints("lints.workspace = true\n"));
    assert!(uses_workspace_lints("lints = { workspace = true }\n"));
    assert!(!uses_workspace_lints("[package]\nworkspace = true\n"));
    assert!(!uses_workspace_lints("[lints]\n# workspace = true\n"));
    assert!(!uses_workspace_lints("[lints.rust]\nworkspace = true\n"));
}

/// Lines of a crate's `src/**/*.rs` that contain [`FORBIDDEN_SOURCE_TEXT`] outside comments.
fn forbidden_source_text(krate: &str) -> Vec<String> {
    let root = workspace_root();
    let src = root.join("crates").join(krate).join("src");
    let mut files = Vec::new();
    collect_rust_files(&src, &mut files);
    assert!(
        !files.is_empty(),
        "no .rs files found under {}",
        src.display()
    );
    let mut problems = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|error| panic!("cannot read {}: {error}", file.display()));
        let shown = file.strip_prefix(&root).unwrap_or(&file).display();
        for (index, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            for needle in FORBIDDEN_SOURCE_TEXT {
                if contains_word(code, needle) {
                    problems.push(format!("{shown}:{}: uses `{needle}`", index + 1));
                }
            }
        }
    }
    problems
}

fn collect_rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("cannot list {}: {error}", dir.display()));
    for entry in entries {
        let path = entry.expect("cannot read a directory entry").path();
        if path.is_dir() {
            collect_rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

/// `needle` in `haystack`, not as the tail of a longer identifier (`operand::` is not `rand::`).
fn contains_word(haystack: &str, needle: &str) -> bool {
    haystack.match_indices(needle).any(|(at, _)| {
        !haystack[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

#[test]
fn contains_word_skips_longer_identifiers() {
    assert!(contains_word("let x = rand::random();", "rand::"));
    assert!(contains_word("std::time::Instant::now()", "Instant::now"));
    assert!(!contains_word("use operand::Thing;", "rand::"));
    assert!(!contains_word("MySystemTime", "SystemTime"));
}

/// Files git tracks plus untracked files it does not ignore, relative to the workspace root.
fn project_files() -> Vec<String> {
    let output =
        run(Command::new("git").args(["ls-files", "--cached", "--others", "--exclude-standard"]));
    output.lines().map(str::to_owned).collect()
}

/// Crate names (first word of each line) from a `cargo tree --prefix none` run.
fn dependency_names(args: &[&str]) -> BTreeSet<String> {
    cargo(args)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

/// Runs the cargo that runs this test (`CARGO`), falling back to `cargo` on PATH.
fn cargo(args: &[&str]) -> String {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    run(Command::new(cargo).args(args))
}

/// Runs a command in the workspace root and returns its stdout; panics with its stderr if it
/// fails, since a tidy check that cannot look must not pass.
fn run(command: &mut Command) -> String {
    let shown = format!("{command:?}");
    let output = command
        .current_dir(workspace_root())
        .output()
        .unwrap_or_else(|error| panic!("cannot run {shown}: {error}"));
    assert!(
        output.status.success(),
        "{shown} failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap_or_else(|_| panic!("{shown} printed invalid UTF-8"))
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}
