//! Every document the repository cites is in the repository.
//!
//! Why: a clone is all a reader has. A comment that says "see DESIGN.md §5" when no such file is
//! in the tree, or a test that reads inputs from a folder beside the checkout, works on the
//! machine it was written on and nowhere else. So the checks here fail on:
//! - a tracked file that names the folder beside the checkout (`..` + `/shared`);
//! - a cited document that resolves to no tracked file: a `*.md` path with a folder in it, or a
//!   bare name of the kind projects cite (`DESIGN.md`, `README.md`, …), looked up from the
//!   citing file's folder, its parents and the root;
//! - a citation of the design document by a section number it does not have;
//! - a relative link in a markdown file to a file or folder the repository does not have (a
//!   moved module leaves the design document pointing at nothing otherwise).
//!
//! This file itself is left out of the last two checks: its examples name documents on purpose.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::OnceLock;

use super::{project_files, workspace_root};

/// The design document that code comments cite by section.
const DESIGN: &str = "docs/design.md";

/// Bare document names that are citations wherever they appear; any other `*.md` name without
/// a folder (`latest.md`, an output file in a usage line) is taken for a file name, not a
/// citation.
const CITED_NAMES: &[&str] = &[
    "README.md",
    "DESIGN.md",
    "ARCHITECTURE.md",
    "CONTRIBUTING.md",
    "CHANGELOG.md",
];

/// Text files whose citations are checked (by extension), plus `.ci/run`.
const CHECKED_EXTENSIONS: &[&str] = &["rs", "js", "mjs", "ts", "toml", "md", "sh", "json", "yml"];

/// Files that are not ours to word: lockfiles and vendored or generated text.
fn skipped(path: &str) -> bool {
    path.ends_with("package-lock.json")
        || path.ends_with("Cargo.lock")
        || path.contains("node_modules")
        || path.contains("pkg/dist")
}

/// The tracked files (and untracked ones git does not ignore), listed once for every check here.
fn tracked() -> &'static BTreeSet<String> {
    static TRACKED: OnceLock<BTreeSet<String>> = OnceLock::new();
    TRACKED.get_or_init(|| project_files().into_iter().collect())
}

/// The checked text files with their contents, read once for every check here.
fn checked_files() -> &'static [(String, String)] {
    static FILES: OnceLock<Vec<(String, String)>> = OnceLock::new();
    FILES.get_or_init(|| {
        let root = workspace_root();
        tracked()
            .iter()
            .filter(|path| {
                let ext = Path::new(path).extension().and_then(|ext| ext.to_str());
                (ext.is_some_and(|ext| CHECKED_EXTENSIONS.contains(&ext)) || *path == ".ci/run")
                    && !skipped(path)
            })
            .filter_map(|path| {
                // Tracked but deleted in the work tree, or not text: nothing to check.
                let text = std::fs::read_to_string(root.join(path)).ok()?;
                Some((path.clone(), text))
            })
            .collect()
    })
}

#[test]
fn nothing_reads_outside_the_repository() {
    let needle = concat!("..", "/shared");
    let files = checked_files();
    assert!(
        files
            .iter()
            .any(|(path, _)| path.ends_with("tidy/citations.rs")),
        "the file list does not contain this check; is `git ls-files` working?"
    );
    let offenders: Vec<String> = files
        .iter()
        .flat_map(|(path, text)| {
            text.lines()
                .enumerate()
                .filter(|(_, line)| line.contains(needle))
                .map(move |(index, _)| format!("{path}:{}", index + 1))
        })
        .collect();
    assert!(
        offenders.is_empty(),
        "these lines name `{needle}`, which a clone does not have; commit what they read into \
         the repository:\n  {}",
        offenders.join("\n  ")
    );
}

/// Every `(file, line number, cited text)` that `pick` finds in the checked files whose path
/// `wanted` accepts.
fn citations(
    wanted: fn(&str) -> bool,
    pick: for<'a> fn(&'a str) -> Vec<&'a str>,
) -> Vec<(String, usize, String)> {
    let mut found = Vec::new();
    for (path, text) in checked_files().iter().filter(|(path, _)| wanted(path)) {
        for (index, line) in text.lines().enumerate() {
            for cited in pick(line) {
                found.push((path.clone(), index + 1, cited.to_owned()));
            }
        }
    }
    found
}

/// Every checked file but this one, whose examples name documents on purpose.
fn not_this_file(path: &str) -> bool {
    !path.ends_with("tidy/citations.rs")
}

#[test]
fn every_cited_document_exists() {
    let tracked = tracked();
    let offenders: Vec<String> = citations(not_this_file, md_paths)
        .into_iter()
        .filter(|(path, _, cited)| !resolves(tracked, path, cited))
        .map(|(path, line, cited)| format!("{path}:{line}: `{cited}`"))
        .collect();
    assert!(
        offenders.is_empty(),
        "these lines cite documents the repository does not contain (cite {DESIGN} or \
         another tracked file instead):\n  {}",
        offenders.join("\n  ")
    );
}

#[test]
fn every_design_citation_names_a_section() {
    let design = std::fs::read_to_string(workspace_root().join(DESIGN))
        .unwrap_or_else(|error| panic!("cannot read {DESIGN}: {error}"));
    let sections = sections(&design);
    assert!(
        sections.len() >= 10,
        "{DESIGN} has {} numbered sections (`## N. Title`); is the heading format changed?",
        sections.len()
    );
    let cited = citations(not_this_file, design_sections);
    assert!(
        cited.len() > 10,
        "found only {} citations of {DESIGN}",
        cited.len()
    );
    let offenders: Vec<String> = cited
        .into_iter()
        .filter(|(_, _, section)| !sections.contains(section.as_str()))
        .map(|(path, line, section)| format!("{path}:{line}: §{section}"))
        .collect();
    assert!(
        offenders.is_empty(),
        "these lines cite sections {DESIGN} does not have:\n  {}",
        offenders.join("\n  ")
    );
}

#[test]
fn every_relative_markdown_link_resolves() {
    let tracked = tracked();
    let links = citations(|path| path.ends_with(".md"), link_targets);
    assert!(
        links.len() > 20,
        "found only {} relative markdown links",
        links.len()
    );
    let offenders: Vec<String> = links
        .into_iter()
        .filter(|(path, _, target)| {
            let joined = Path::new(path)
                .parent()
                .and_then(|dir| normalize(&dir.join(target)));
            !joined.as_deref().is_some_and(|joined| {
                tracked.contains(joined)
                    || tracked
                        .iter()
                        .any(|file| file.starts_with(&format!("{joined}/")))
            })
        })
        .map(|(path, line, target)| format!("{path}:{line}: ({target})"))
        .collect();
    assert!(
        offenders.is_empty(),
        "these markdown links point at nothing in the repository:\n  {}",
        offenders.join("\n  ")
    );
}

/// The relative targets of a line's markdown links `[text](target)`, without any `#anchor`;
/// web and mail addresses and pure anchors are left out.
fn link_targets(line: &str) -> Vec<&str> {
    line.match_indices("](")
        .filter_map(|(at, _)| {
            let rest = &line[at + 2..];
            let target = &rest[..rest.find(')')?];
            let target = target.split('#').next().unwrap_or_default();
            let external = target.contains("://") || target.starts_with("mailto:");
            (!target.is_empty() && !external && !target.contains(' ')).then_some(target)
        })
        .collect()
}

/// The numbers of the `## N. Title` headings of a markdown document.
fn sections(markdown: &str) -> BTreeSet<&str> {
    markdown
        .lines()
        .filter_map(|line| line.strip_prefix("## "))
        .filter_map(|heading| heading.split_once(". "))
        .map(|(number, _)| number)
        .filter(|number| !number.is_empty() && number.chars().all(|c| c.is_ascii_digit()))
        .collect()
}

/// The section numbers a line cites as `docs/design.md §N` (also `§N, §M` and `§N–§M` lists
/// following it).
fn design_sections(line: &str) -> Vec<&str> {
    let mut found = Vec::new();
    for (at, _) in line.match_indices(DESIGN) {
        let mut rest = line[at + DESIGN.len()..].trim_start();
        while let Some(after) = rest.strip_prefix('§') {
            let end = after
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(after.len());
            if end == 0 {
                break;
            }
            found.push(&after[..end]);
            rest = after[end..].trim_start_matches([',', ' ', '–', '-', '/']);
            rest = rest.strip_prefix("and ").unwrap_or(rest);
        }
    }
    found
}

/// The documents a line cites: `*.md` paths with a folder, and the [`CITED_NAMES`], leaving
/// out web addresses.
fn md_paths(line: &str) -> Vec<&str> {
    let is_path_char = |c: char| c.is_ascii_alphanumeric() || "_./-".contains(c);
    let mut found = Vec::new();
    for (at, _) in line.match_indices(".md") {
        let end = at + 3;
        if line[end..].chars().next().is_some_and(is_path_char) {
            continue; // `.mdx`, `.md.bak`, …
        }
        let start = line[..at]
            .char_indices()
            .rev()
            .take_while(|&(_, c)| is_path_char(c))
            .last()
            .map_or(at, |(index, _)| index);
        let token = &line[start..end];
        let web = line[..start].ends_with(':') || token.starts_with("//") || token.contains("www.");
        let cited = token.contains('/') || CITED_NAMES.contains(&token);
        if cited && !web {
            found.push(token);
        }
    }
    found
}

/// Whether `cited`, named in the file `from`, is a tracked file: relative to the folder of
/// `from` or of one of its parents (a bare `README.md` names the nearest one), or to the root.
fn resolves(tracked: &BTreeSet<String>, from: &str, cited: &str) -> bool {
    let mut dir = Path::new(from).parent();
    while let Some(folder) = dir {
        let joined = normalize(&folder.join(cited));
        if joined.as_deref().is_some_and(|path| tracked.contains(path)) {
            return true;
        }
        dir = folder.parent();
    }
    false
}

/// `a/b/../c/./d` as `a/c/d`; `None` when it climbs out of the root.
fn normalize(path: &Path) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.iter().map(|part| part.to_str().unwrap_or_default()) {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    Some(parts.join("/"))
}

#[test]
fn the_parsers_read_what_comments_write() {
    assert_eq!(
        design_sections("see docs/design.md §2, §7 and docs/design.md §10."),
        ["2", "7", "10"]
    );
    assert_eq!(design_sections("(docs/design.md §5: persist)"), ["5"]);
    assert!(design_sections("docs/design.md has no section here").is_empty());
    assert_eq!(
        md_paths("see [x](../pkg/README.md) and DESIGN.md, not https://a.b/c/README.md"),
        ["../pkg/README.md", "DESIGN.md"]
    );
    assert_eq!(
        link_targets("[a](../x.rs) [b](https://c.d/e) [f](#g) [h](y/z.md#i)"),
        ["../x.rs", "y/z.md"]
    );
    assert!(md_paths("cargo-bench render --md latest.md --json FILE.json").is_empty());
    let tracked: BTreeSet<String> = ["README.md", "pkg/README.md", "docs/design.md"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    assert!(resolves(&tracked, "pkg/src/a.js", "README.md"));
    assert!(resolves(&tracked, "crates/x/src/a.rs", "docs/design.md"));
    assert!(resolves(&tracked, "docs/design.md", "../pkg/README.md"));
    assert!(!resolves(&tracked, "crates/x/src/a.rs", "DESIGN.md"));
    assert!(!resolves(&tracked, "README.md", "../outside.md"));
    let headings = "# T\n## 1. One\n## 12. Twelve\n### 3. Not a section\n## Notes\n";
    assert_eq!(sections(headings), ["1", "12"].into_iter().collect());
}
