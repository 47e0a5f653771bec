//! Import cycles between the source files of each crate.
//!
//! **Why.** Two files that import from each other are one concept spread over two places:
//! neither can be read, tested or moved without the other, and a cycle only grows, because
//! every new definition can go in any of its files. The core was one 27-file cycle before it
//! was untangled. This check keeps every crate's file graph close to a layering: no cycle at
//! all in [`ACYCLIC_CRATES`], and none of more than [`MAX_CYCLE_FILES`] files anywhere else,
//! except the cycles of [`KNOWN_CYCLES`], which may shrink but not grow.
//!
//! **What counts as an import** of file A by file B: a `use` or a path in B's code that starts
//! with `crate::`, `super::`, `self::`, a child module's name or a name a `use` brought in, and
//! that resolves to an item of A. Re-exports are followed to the file that defines the item, so
//! a `lib.rs` or `mod.rs` that declares its children and re-exports them is a facade, not a
//! member of every cycle; but a child that uses something *defined* in its parent's `mod.rs`,
//! while the parent uses the child, is a cycle. Declaring a module (`mod x;`) is not an import.
//! Comments, doc links and string literals are not read, and test code is skipped
//! (`#[cfg(test)]` items, `tests` modules, `tests.rs` files, `tests/` directories): tests may
//! reach anywhere. An item brought in by a glob (`use x::*`) counts as an import of x.
//!
//! `cargo test -p xtask --test tidy -- imports --nocapture` prints every crate's summary.

mod import_graph;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use import_graph::Graph;

/// Crates whose files form no import cycle at all.
const ACYCLIC_CRATES: &[&str] = &["cardsync-core"];
/// The most files an import cycle may have in any other crate.
const MAX_CYCLE_FILES: usize = 2;
/// Larger cycles that predate this check, in crates not yet untangled: each may lose files or
/// vanish (then the check asks to shrink or drop its entry here), but none may gain a file, and
/// no other may appear.
const KNOWN_CYCLES: &[(&str, &[&str])] = &[
    (
        "cardsync-sync",
        &[
            "src/room/batches.rs",
            "src/room/mod.rs",
            "src/room/settle.rs",
        ],
    ),
    (
        "cardsync-server",
        &["src/conn.rs", "src/room_task.rs", "src/rooms.rs"],
    ),
    (
        "cardsync-tests",
        &[
            "src/fuzz/decode.rs",
            "src/fuzz/mod.rs",
            "src/fuzz/protocol.rs",
            "src/fuzz/seeds.rs",
        ],
    ),
    (
        "cardsync-benches",
        &[
            "src/machine.rs",
            "src/workloads/k1.rs",
            "src/workloads/k2.rs",
            "src/workloads/k3.rs",
            "src/workloads/k4.rs",
            "src/workloads/k5.rs",
            "src/workloads/k6.rs",
            "src/workloads/k7.rs",
            "src/workloads/k8.rs",
            "src/workloads/mod.rs",
        ],
    ),
];

#[test]
fn no_import_cycles() {
    let crates = workspace_crates();
    assert!(
        crates.iter().any(|(name, _)| name == "cardsync-core"),
        "`cargo metadata` lists no cardsync-core with a src/ directory"
    );
    let mut summary = Vec::new();
    let mut problems = Vec::new();
    for (name, dir) in &crates {
        let files = load(dir);
        let graph = Graph::of(&files).unwrap_or_else(|error| panic!("{name}: {error}"));
        let cycles = graph.cycles();
        let bar = if ACYCLIC_CRATES.contains(&name.as_str()) {
            1
        } else {
            MAX_CYCLE_FILES
        };
        let largest = cycles.first().map_or(1, Vec::len);
        let sizes: Vec<String> = cycles.iter().map(|c| c.len().to_string()).collect();
        let mut line = format!(
            "{name:<18} {:>3} files, {:>3} import edges, {} cycle(s) [{}], largest {largest} file(s)",
            graph.files.len(),
            graph.edge_count(),
            cycles.len(),
            sizes.join(", "),
        );
        if let Some(cycle) = cycles.first() {
            line.push_str(&format!(": {}", shown(cycle)));
        }
        let known: Vec<&[&str]> = KNOWN_CYCLES
            .iter()
            .filter(|(krate, _)| krate == name)
            .map(|(_, files)| *files)
            .collect();
        line.push_str(&match bar {
            1 => " [bar: no cycle".to_owned(),
            _ => format!(" [bar: at most {bar} files"),
        });
        for files in &known {
            line.push_str(&format!(", known cycle of {} tolerated", files.len()));
        }
        line.push(']');
        summary.push(line);
        problems.extend(judge(name, &graph, &cycles, bar, &known));
    }
    eprintln!(
        "import graph per crate (src/, test code skipped):\n  {}",
        summary.join("\n  ")
    );
    assert!(
        problems.is_empty(),
        "import cycles: move the shared definitions down into a file of their own, so that \
         imports point one way (see the module docs of crates/xtask/tests/tidy/imports.rs):\n\n{}",
        problems.join("\n\n")
    );
}

/// What is wrong with a crate's `cycles` (largest first): a cycle of more than `bar` files that
/// is not within one of the `known` ones, and a known one that no longer exists as listed.
fn judge(
    name: &str,
    graph: &Graph,
    cycles: &[Vec<PathBuf>],
    bar: usize,
    known: &[&[&str]],
) -> Vec<String> {
    let within = |cycle: &[PathBuf], files: &[&str]| {
        cycle
            .iter()
            .all(|f| files.iter().any(|k| f == Path::new(k)))
    };
    let mut problems = Vec::new();
    for cycle in cycles.iter().filter(|cycle| cycle.len() > bar) {
        if !known.iter().any(|files| within(cycle, files)) {
            problems.push(format!(
                "{name}: {} files import each other (at most {bar} allowed in a cycle):\n{}",
                cycle.len(),
                graph.explain(cycle)
            ));
        }
    }
    for files in known {
        if !cycles
            .iter()
            .any(|c| c.len() == files.len() && within(c, files))
        {
            problems.push(format!(
                "{name}: the known cycle of {} files ({}) shrank or is gone; shrink or drop \
                 its entry in KNOWN_CYCLES so that it cannot grow back",
                files.len(),
                files.join(", ")
            ));
        }
    }
    problems
}

/// Shows files as a comma-separated list.
fn shown(files: &[PathBuf]) -> String {
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    names.join(", ")
}

/// `(package name, directory)` of every workspace member that has a `src/`, in name order.
fn workspace_crates() -> Vec<(String, PathBuf)> {
    let mut crates: Vec<(String, PathBuf)> = super::workspace_packages()
        .iter()
        .filter_map(|package| {
            let name = package["name"].as_str()?.to_owned();
            let dir = Path::new(package["manifest_path"].as_str()?).parent()?;
            dir.join("src").is_dir().then(|| (name, dir.to_owned()))
        })
        .collect();
    crates.sort();
    crates
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

/// Every `.rs` file under `dir/src`, by its path relative to `dir`.
fn load(dir: &Path) -> BTreeMap<PathBuf, String> {
    fn walk(dir: &Path, base: &Path, out: &mut BTreeMap<PathBuf, String>) {
        let entries = std::fs::read_dir(dir)
            .unwrap_or_else(|error| panic!("cannot list {}: {error}", dir.display()));
        for entry in entries {
            let path = entry.expect("cannot read a directory entry").path();
            if path.is_dir() {
                walk(&path, base, out);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                let relative = path.strip_prefix(base).expect("under its base").to_owned();
                out.insert(relative, read(&path));
            }
        }
    }
    let mut files = BTreeMap::new();
    walk(&dir.join("src"), dir, &mut files);
    files
}

// ---------------------------------------------------------------------------------------------
// The check's own tests, on made-up crates.

#[cfg(test)]
fn crate_of(files: &[(&str, &str)]) -> Graph {
    let files = files
        .iter()
        .map(|(path, text)| (PathBuf::from(path), (*text).to_owned()))
        .collect();
    Graph::of(&files).unwrap()
}

#[cfg(test)]
fn cycle_files(graph: &Graph) -> Vec<Vec<String>> {
    let cycles = graph.cycles();
    let shown = |c: &Vec<PathBuf>| c.iter().map(|f| f.display().to_string()).collect();
    cycles.iter().map(shown).collect()
}

#[test]
fn imports_a_facade_is_no_cycle_but_a_parent_definition_is() {
    let facade = crate_of(&[
        (
            "src/lib.rs",
            "mod a; mod b; pub use a::A; pub use b::{B, self};",
        ),
        ("src/a.rs", "pub struct A; fn f() -> crate::B { todo!() }"),
        (
            "src/b.rs",
            "pub struct B; use crate::b as me; fn g() -> me::B { B }",
        ),
    ]);
    assert_eq!(cycle_files(&facade), Vec::<Vec<String>>::new());
    assert!(facade.edges[Path::new("src/a.rs")].contains_key(Path::new("src/b.rs")));
    let parent = crate_of(&[
        ("src/lib.rs", "mod m;"),
        (
            "src/m/mod.rs",
            "mod child; pub struct Shared; use child::Thing;",
        ),
        ("src/m/child.rs", "use super::{Shared}; pub struct Thing;"),
    ]);
    assert_eq!(cycle_files(&parent), [["src/m/child.rs", "src/m/mod.rs"]]);
}

#[test]
fn imports_code_paths_count_but_comments_strings_and_tests_do_not() {
    let graph = crate_of(&[
        ("src/lib.rs", "pub mod x; pub mod y; pub mod z;"),
        (
            "src/x.rs",
            r##"//! [`crate::y::Y`] in a doc link
                /* crate::y::Y */ const S: &str = "crate::y::Y"; const R: &str = r#"crate::y"#;
                fn f<'a>(c: char) -> bool { c == '"' || c == '\'' }
                fn g() -> usize { crate::z::helper() }
                #[cfg(test)] mod tests { use crate::y::Y; }
                #[cfg(test)] use crate::y::Y;
                mod inner { use super::super::y::Y; }"##,
        ),
        ("src/y.rs", "pub struct Y; fn h() { crate::x::g(); }"),
        ("src/z.rs", "pub fn helper() -> usize { 1 }"),
    ]);
    let from_x = &graph.edges[Path::new("src/x.rs")];
    assert!(from_x.contains_key(Path::new("src/z.rs")));
    assert!(
        from_x.contains_key(Path::new("src/y.rs")),
        "the inline module's use"
    );
    assert_eq!(from_x.len(), 2);
    assert_eq!(cycle_files(&graph), [["src/x.rs", "src/y.rs"]]);
}

#[test]
fn imports_test_files_are_skipped_and_missing_files_reported() {
    let graph = crate_of(&[
        ("src/main.rs", "mod a; #[cfg(test)] mod checks;"),
        ("src/a.rs", "pub struct A;"),
        ("src/checks.rs", "use crate::a::A;"),
        ("src/a/tests.rs", "use crate::a::A;"),
    ]);
    assert_eq!(graph.files.len(), 2);
    let missing = [(PathBuf::from("src/lib.rs"), "mod gone;".to_owned())];
    assert!(Graph::of(&missing.into_iter().collect()).is_err());
}

#[test]
fn imports_known_cycles_may_shrink_but_not_grow() {
    let three = crate_of(&[
        ("src/lib.rs", "mod a; mod b; mod c;"),
        ("src/a.rs", "use crate::b::B; pub struct A;"),
        ("src/b.rs", "use crate::c::C; pub struct B;"),
        ("src/c.rs", "use crate::a::A; pub struct C;"),
    ]);
    let cycles = three.cycles();
    let judged = |known: &[&[&str]]| judge("x", &three, &cycles, 2, known);
    assert_eq!(
        judged(&[&["src/c.rs", "src/a.rs", "src/b.rs"]]),
        Vec::<String>::new()
    );
    let grown = judged(&[&["src/a.rs", "src/b.rs"]]);
    assert_eq!(
        grown.len(),
        2,
        "a new 3-file cycle, and a known one gone: {grown:?}"
    );
    assert!(grown[0].contains("src/c.rs → src/a.rs"), "{}", grown[0]);
    let shrunk = judged(&[&["src/a.rs", "src/b.rs", "src/c.rs", "src/d.rs"]]);
    assert_eq!(shrunk.len(), 1);
    assert!(shrunk[0].contains("shrank"), "{}", shrunk[0]);
    assert_eq!(
        judge("x", &three, &cycles, 1, &[]).len(),
        1,
        "acyclic: any cycle fails"
    );
}
