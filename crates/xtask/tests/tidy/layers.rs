//! The shape of the workspace: which crate may depend on which, and every module says why.
//!
//! Why: the layering core ← sync ← drivers and bindings is what lets the core and the sync
//! engine run in a browser, a server and a test alike (docs/design.md §1). Cargo forbids only
//! cycles, not a new arrow that skips a floor (a client that pulls in the server, a core that
//! learns of the sync engine's types through a new crate), so each crate's floor is written
//! down here and checked against `cargo metadata`. And a module without a `//!` doc leaves its
//! reader to guess why it exists, the question the project's docs answer first (as
//! rust-analyzer's tidy requires of every module).

use std::collections::BTreeMap;
use std::path::Path;

use super::{project_files, workspace_packages, workspace_root};

/// Each product crate and the workspace crates it may depend on (normal dependencies). Test,
/// bench and automation crates sit on top and may use anything.
const FLOORS: &[(&str, &[&str])] = &[
    ("cardsync-core", &[]),
    ("cardsync-sync", &["cardsync-core"]),
    ("cardsync-server", &["cardsync-core", "cardsync-sync"]),
    ("cardsync-client", &["cardsync-core", "cardsync-sync"]),
    ("cardsync-wasm", &["cardsync-core", "cardsync-sync"]),
];

/// Crates above every floor: they may depend on any workspace crate, nothing depends on them.
const TOP: &[&str] = &["cardsync-tests", "cardsync-benches", "xtask"];

#[test]
fn each_crate_depends_only_on_the_floors_below_it() {
    let packages = workspace_packages();
    let members: Vec<&str> = packages
        .iter()
        .filter_map(|package| package["name"].as_str())
        .collect();
    let floors: BTreeMap<&str, &[&str]> = FLOORS.iter().copied().collect();
    let mut problems = Vec::new();
    for package in &packages {
        let name = package["name"].as_str().expect("package without a name");
        let normal_workspace_deps = package["dependencies"]
            .as_array()
            .expect("package without `dependencies`")
            .iter()
            .filter(|dep| dep["kind"].is_null())
            .filter_map(|dep| dep["name"].as_str())
            .filter(|dep| members.contains(dep));
        match floors.get(name) {
            Some(allowed) => problems.extend(
                normal_workspace_deps
                    .filter(|dep| !allowed.contains(dep))
                    .map(|dep| format!("{name} depends on {dep}, which is not below it")),
            ),
            None if TOP.contains(&name) => {}
            None => problems.push(format!(
                "{name} is in no floor: add it to FLOORS or TOP in crates/xtask/tests/tidy/layers.rs"
            )),
        }
        if TOP.contains(&name) {
            continue;
        }
        for top in TOP {
            if package["dependencies"]
                .as_array()
                .is_some_and(|deps| deps.iter().any(|dep| dep["name"] == *top))
            {
                problems.push(format!(
                    "{name} depends on {top}, which sits above everything"
                ));
            }
        }
    }
    assert!(
        floors.keys().all(|name| members.contains(name)),
        "FLOORS names a crate the workspace does not have: {:?} vs {members:?}",
        floors.keys()
    );
    assert!(
        problems.is_empty(),
        "the layering core ← sync ← drivers and bindings is broken (docs/design.md §1):\n  {}",
        problems.join("\n  ")
    );
}

/// The Rust files that make up a crate's modules: everything under a workspace crate's `src/`
/// and the fuzz targets.
fn module_files() -> Vec<String> {
    project_files()
        .into_iter()
        .filter(|path| {
            Path::new(path).extension().is_some_and(|ext| ext == "rs")
                && (path.contains("/src/") || path.starts_with("fuzz/"))
                && !path.contains("node_modules")
        })
        .collect()
}

#[test]
fn every_module_opens_with_a_doc_comment() {
    let root = workspace_root();
    let files = module_files();
    assert!(
        files
            .iter()
            .any(|path| path == "crates/cardsync-core/src/lib.rs"),
        "the module list does not contain the core's lib.rs; is `git ls-files` working?"
    );
    let offenders: Vec<&String> = files
        .iter()
        .filter(|path| {
            std::fs::read_to_string(root.join(path)).is_ok_and(|text| {
                !text
                    .lines()
                    .find(|line| !line.trim().is_empty())
                    .is_some_and(|line| line.starts_with("//!"))
            })
        })
        .collect();
    assert!(
        offenders.is_empty(),
        "these modules do not open with a `//!` doc that says why they exist:\n  {}",
        offenders
            .iter()
            .map(|path| path.as_str())
            .collect::<Vec<_>>()
            .join("\n  ")
    );
}
