//! The file-level import graph of one crate, for [`super`]'s check: a small lexer and parser
//! of just enough Rust to find module declarations, `use` trees and paths in code, and the
//! resolution of those paths to the files that define what they name.
//!
//! **Why a parser of its own.** The tidy checks run with the standard library only, and what
//! they need is narrow: which file names which. Comments, string literals and test code are
//! skipped before anything is read, so a doc link or a test never counts as an import.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

// ---------------------------------------------------------------------------------------------
// Tokens: identifiers, `::` and punctuation, without comments, literals' contents or lifetimes.

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Ident(String),
    /// A string literal (its contents are never read as code).
    Str,
    PathSep,
    Punct(char),
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    line: usize,
}

fn lex(text: &str) -> Vec<Token> {
    let c: Vec<char> = text.chars().collect();
    let at = |i: usize| c.get(i).copied().unwrap_or('\0');
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    let mut push = |tok, line| out.push(Token { tok, line });
    while i < c.len() {
        let start_line = line;
        match (c[i], at(i + 1)) {
            ('\n', _) => {
                line += 1;
                i += 1;
            }
            (ch, _) if ch.is_whitespace() => i += 1,
            ('/', '/') => {
                while i < c.len() && c[i] != '\n' {
                    i += 1;
                }
            }
            ('/', '*') => {
                let mut depth = 0;
                loop {
                    match (at(i), at(i + 1)) {
                        ('\0', _) => break,
                        ('/', '*') => (depth, i) = (depth + 1, i + 2),
                        ('*', '/') => {
                            (depth, i) = (depth - 1, i + 2);
                            if depth == 0 {
                                break;
                            }
                        }
                        (ch, _) => {
                            line += usize::from(ch == '\n');
                            i += 1;
                        }
                    }
                }
            }
            ('"', _) => {
                i = string_end(&c, i + 1, None, &mut line);
                push(Tok::Str, start_line);
            }
            ('\'', next) => {
                // A char literal ('x', '\n', '\u{1f}'), or else a lifetime or label.
                if next == '\\' {
                    i += 3;
                    while i < c.len() && c[i] != '\'' {
                        i += 1;
                    }
                    i += 1;
                } else if at(i + 2) == '\'' {
                    i += 3;
                } else {
                    i += 1;
                    while at(i).is_alphanumeric() || at(i) == '_' {
                        i += 1;
                    }
                }
            }
            (ch, _) if ch.is_alphabetic() || ch == '_' => {
                let start = i;
                while at(i).is_alphanumeric() || at(i) == '_' {
                    i += 1;
                }
                let word: String = c[start..i].iter().collect();
                let raw = matches!(word.as_str(), "r" | "br" | "cr");
                if matches!(word.as_str(), "b" | "c" | "r" | "br" | "cr") && at(i) == '"' {
                    i = string_end(&c, i + 1, raw.then_some(0), &mut line);
                    push(Tok::Str, start_line);
                } else if raw && at(i) == '#' && matches!(at(i + 1), '#' | '"') {
                    let hashes = c[i..].iter().take_while(|&&ch| ch == '#').count();
                    i = string_end(&c, i + hashes + 1, Some(hashes), &mut line);
                    push(Tok::Str, start_line);
                } else if word == "b" && at(i) == '\'' {
                    i += if at(i + 1) == '\\' { 4 } else { 3 };
                    while i < c.len() && c[i - 1] != '\'' {
                        i += 1;
                    }
                } else if word == "r" && at(i) == '#' {
                    let start = i + 1;
                    i = start;
                    while at(i).is_alphanumeric() || at(i) == '_' {
                        i += 1;
                    }
                    push(Tok::Ident(c[start..i].iter().collect()), start_line);
                } else {
                    push(Tok::Ident(word), start_line);
                }
            }
            (ch, _) if ch.is_ascii_digit() => {
                while at(i).is_alphanumeric() || at(i) == '_' {
                    i += 1;
                }
            }
            (':', ':') => {
                push(Tok::PathSep, line);
                i += 2;
            }
            (ch, _) => {
                push(Tok::Punct(ch), line);
                i += 1;
            }
        }
    }
    out
}

/// The index after a string literal whose contents start at `i` (`raw`: a raw string's
/// number of `#`s).
fn string_end(c: &[char], mut i: usize, raw: Option<usize>, line: &mut usize) -> usize {
    let hashes = raw.unwrap_or(0);
    while i < c.len() {
        match c[i] {
            '\\' if raw.is_none() => {
                *line += usize::from(c.get(i + 1) == Some(&'\n'));
                i += 2;
                continue;
            }
            '"' if c[i + 1..]
                .iter()
                .take(hashes)
                .filter(|&&ch| ch == '#')
                .count()
                == hashes =>
            {
                return i + 1 + hashes;
            }
            '\n' => *line += 1,
            _ => {}
        }
        i += 1;
    }
    i
}

// ---------------------------------------------------------------------------------------------
// One file: its module declarations, `use`s and paths, with the inline module each is in.

#[derive(Debug, Default)]
struct Parsed {
    /// `mod name;` declarations: (inline module path, name, test only).
    mods: Vec<(Vec<String>, String, bool)>,
    /// Inline modules (`mod name { … }`), not test ones.
    inline: Vec<Vec<String>>,
    /// Paths the file names: `use` leaves and paths in code.
    refs: Vec<Ref>,
}

#[derive(Clone, Debug)]
struct Ref {
    /// The inline module it is written in, relative to the file's module.
    inline: Vec<String>,
    path: Vec<String>,
    line: usize,
    /// For a `use` leaf: the name it binds (`None`: a glob). `None` for a path in code too.
    binds: Option<String>,
    is_use: bool,
}

fn ident(token: Option<&Token>) -> Option<&str> {
    match token.map(|t| &t.tok) {
        Some(Tok::Ident(name)) => Some(name),
        _ => None,
    }
}

fn is(token: Option<&Token>, punct: char) -> bool {
    token.is_some_and(|t| t.tok == Tok::Punct(punct))
}

fn parse(text: &str) -> Parsed {
    let toks = lex(text);
    let mut parsed = Parsed::default();
    let mut inline: Vec<(usize, String)> = Vec::new();
    let (mut i, mut depth, mut test_item) = (0, 0usize, false);
    let here = |inline: &[(usize, String)]| -> Vec<String> {
        inline.iter().map(|(_, n)| n.clone()).collect()
    };
    while i < toks.len() {
        let next = toks.get(i + 1);
        match &toks[i].tok {
            Tok::Punct('#') => {
                let open = if is(next, '!') { i + 2 } else { i + 1 };
                if !is(toks.get(open), '[') {
                    i += 1;
                    continue;
                }
                let close = closing(&toks, open);
                let attr: Vec<&Tok> = toks[open + 1..close].iter().map(|t| &t.tok).collect();
                let word = |w: &str| Tok::Ident(w.to_owned());
                if attr
                    == [
                        &word("cfg"),
                        &Tok::Punct('('),
                        &word("test"),
                        &Tok::Punct(')'),
                    ]
                {
                    test_item = true;
                }
                assert!(
                    attr.first() != Some(&&word("path")),
                    "#[path] on line {} is not supported by the import check",
                    toks[i].line
                );
                i = close + 1;
            }
            _ if test_item => {
                let mut k = i;
                if ident(toks.get(k)) == Some("pub") {
                    k += 1;
                    if is(toks.get(k), '(') {
                        k = closing(&toks, k) + 1;
                    }
                }
                if ident(toks.get(k)) == Some("mod")
                    && let Some(name) = ident(toks.get(k + 1))
                    && is(toks.get(k + 2), ';')
                {
                    parsed.mods.push((here(&inline), name.to_owned(), true));
                }
                i = item_end(&toks, i);
                test_item = false;
            }
            Tok::Punct('{') => {
                depth += 1;
                i += 1;
            }
            Tok::Punct('}') => {
                if inline.last().is_some_and(|(d, _)| *d == depth) {
                    inline.pop();
                }
                depth = depth.saturating_sub(1);
                i += 1;
            }
            Tok::Ident(word) if word == "mod" && ident(next).is_some() => {
                let name = ident(next).unwrap_or_default().to_owned();
                if is(toks.get(i + 2), ';') {
                    let test = name == "tests";
                    parsed.mods.push((here(&inline), name, test));
                    i += 3;
                } else if name == "tests" {
                    i = item_end(&toks, i);
                } else {
                    depth += 1;
                    inline.push((depth, name));
                    parsed.inline.push(here(&inline));
                    i += 3;
                }
            }
            Tok::Ident(word) if word == "use" => {
                let mut leaves = Vec::new();
                i = use_tree(&toks, i + 1, &[], &mut leaves);
                for (path, binds, line) in leaves {
                    let (inline, is_use) = (here(&inline), true);
                    parsed.refs.push(Ref {
                        inline,
                        path,
                        line,
                        binds,
                        is_use,
                    });
                }
            }
            Tok::Ident(first)
                if next.is_some_and(|t| t.tok == Tok::PathSep)
                    && !(i > 0 && matches!(toks[i - 1].tok, Tok::PathSep | Tok::Punct('$'))) =>
            {
                let mut path = vec![first.clone()];
                let mut j = i + 1;
                while toks.get(j).is_some_and(|t| t.tok == Tok::PathSep)
                    && let Some(segment) = ident(toks.get(j + 1))
                {
                    path.push(segment.to_owned());
                    j += 2;
                }
                if path.len() > 1 {
                    let (inline, line, binds) = (here(&inline), toks[i].line, None);
                    parsed.refs.push(Ref {
                        inline,
                        path,
                        line,
                        binds,
                        is_use: false,
                    });
                }
                i = j;
            }
            _ => i += 1,
        }
    }
    parsed
}

/// The index of the bracket closing the one at `open`.
fn closing(toks: &[Token], open: usize) -> usize {
    let mut depth = 0usize;
    for (j, token) in toks.iter().enumerate().skip(open) {
        match token.tok {
            Tok::Punct('(' | '[' | '{') => depth += 1,
            Tok::Punct(')' | ']' | '}') => {
                depth -= 1;
                if depth == 0 {
                    return j;
                }
            }
            _ => {}
        }
    }
    toks.len()
}

/// The index after the item starting at `start`: after its `;` or its closing brace.
fn item_end(toks: &[Token], start: usize) -> usize {
    let mut depth = 0usize;
    for (j, token) in toks.iter().enumerate().skip(start) {
        match token.tok {
            Tok::Punct('(' | '[' | '{') => depth += 1,
            Tok::Punct(')' | ']') => depth = depth.saturating_sub(1),
            Tok::Punct('}') => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return j + 1;
                }
            }
            Tok::Punct(';') if depth == 0 => return j + 1,
            _ => {}
        }
    }
    toks.len()
}

/// Parses one use tree at `i` into `(path, bound name or None for a glob, line)` leaves.
fn use_tree(
    toks: &[Token],
    mut i: usize,
    prefix: &[String],
    out: &mut Vec<(Vec<String>, Option<String>, usize)>,
) -> usize {
    let mut path = prefix.to_vec();
    if toks.get(i).is_some_and(|t| t.tok == Tok::PathSep) {
        i += 1;
    }
    while let Some(token) = toks.get(i) {
        match &token.tok {
            Tok::Ident(segment) => {
                path.push(segment.clone());
                i += 1;
                if toks.get(i).is_some_and(|t| t.tok == Tok::PathSep) {
                    i += 1;
                    continue;
                }
                if path.last().is_some_and(|s| s == "self") {
                    path.pop();
                }
                let mut binds = path.last().cloned();
                if ident(toks.get(i)) == Some("as") {
                    binds = ident(toks.get(i + 1)).map(str::to_owned);
                    i += 2;
                }
                out.push((path, binds, token.line));
                break;
            }
            Tok::Punct('*') => {
                out.push((path, None, token.line));
                i += 1;
                break;
            }
            Tok::Punct('{') => {
                i += 1;
                while toks.get(i).is_some_and(|t| t.tok != Tok::Punct('}')) {
                    i = use_tree(toks, i, &path, out);
                    if is(toks.get(i), ',') {
                        i += 1;
                    }
                }
                i += 1;
                break;
            }
            _ => break,
        }
    }
    // The end of the whole `use` statement, for the caller at the top level.
    if prefix.is_empty() && is(toks.get(i), ';') {
        i += 1;
    }
    i
}

// ---------------------------------------------------------------------------------------------
// A crate's module tree, and the file graph it implies.

#[derive(Debug, Default)]
struct Module {
    file: PathBuf,
    parent: Option<usize>,
    children: BTreeMap<String, usize>,
    /// Names `use` binds here, with the path as written here.
    uses: HashMap<String, Vec<String>>,
}

/// The files of one crate and which of them import which.
#[derive(Debug, Default)]
pub(super) struct Graph {
    pub(super) files: BTreeSet<PathBuf>,
    /// `from → to → evidence`: each line of `from` naming `to`, with the path it names there.
    pub(super) edges: BTreeMap<PathBuf, BTreeMap<PathBuf, BTreeSet<(usize, String)>>>,
}

impl Graph {
    /// The graph of a crate given as `src/…` paths → text.
    pub(super) fn of(files: &BTreeMap<PathBuf, String>) -> Result<Graph, String> {
        let roots = files.keys().filter(|path| {
            let bin = Path::new("src/bin");
            let in_bin = path.parent() == Some(bin)
                || (path.parent().and_then(Path::parent) == Some(bin) && path.ends_with("main.rs"));
            in_bin || *path == Path::new("src/lib.rs") || *path == Path::new("src/main.rs")
        });
        let mut graph = Graph::default();
        let mut test_paths = Vec::new();
        for root in roots {
            let mut modules = vec![Module {
                file: root.clone(),
                ..Module::default()
            }];
            let mut refs = Vec::new();
            let mut queue = vec![0];
            while let Some(id) = queue.pop() {
                let file = modules[id].file.clone();
                graph.files.insert(file.clone());
                let parsed = parse(&files[&file]);
                let base = module_dir(&file, id == 0);
                let mut ids = HashMap::from([(Vec::new(), id)]);
                for inline in &parsed.inline {
                    let parent = ids[&inline[..inline.len() - 1]];
                    let name = inline.last().cloned().unwrap_or_default();
                    let child = add(&mut modules, parent, name, file.clone());
                    ids.insert(inline.clone(), child);
                }
                for (inline, name, test) in &parsed.mods {
                    let dir = inline.iter().fold(base.clone(), |dir, m| dir.join(m));
                    let candidates = [
                        dir.join(format!("{name}.rs")),
                        dir.join(name).join("mod.rs"),
                    ];
                    if *test {
                        test_paths.extend(candidates);
                        test_paths.push(dir.join(name));
                        continue;
                    }
                    let Some(child_file) = candidates.iter().find(|c| files.contains_key(*c))
                    else {
                        return Err(format!("{}: no file for `mod {name}`", file.display()));
                    };
                    let parent = ids.get(inline).copied().unwrap_or(id);
                    let child = add(&mut modules, parent, name.clone(), child_file.clone());
                    queue.push(child);
                }
                for r in parsed.refs {
                    let module = ids.get(&r.inline).copied().unwrap_or(id);
                    if let (true, Some(name)) = (r.is_use, &r.binds) {
                        modules[module].uses.insert(name.clone(), r.path.clone());
                    }
                    refs.push((module, r));
                }
            }
            for (module, r) in refs {
                let Some(target) = resolve(&modules, module, &r.path, 0) else {
                    continue;
                };
                let (from, to) = (&modules[module].file, &modules[target].file);
                if from != to {
                    let evidence = (r.line, r.path.join("::"));
                    let targets = graph.edges.entry(from.clone()).or_default();
                    targets.entry(to.clone()).or_default().insert(evidence);
                }
            }
        }
        let unplaced: Vec<String> = files
            .keys()
            .filter(|path| !graph.files.contains(*path))
            .filter(|path| !is_test_path(path, &test_paths))
            .map(|path| path.display().to_string())
            .collect();
        if !unplaced.is_empty() {
            return Err(format!("files in no module tree: {}", unplaced.join(", ")));
        }
        Ok(graph)
    }

    pub(super) fn edge_count(&self) -> usize {
        self.edges.values().map(BTreeMap::len).sum()
    }

    /// Strongly connected components of more than one file, largest first.
    pub(super) fn cycles(&self) -> Vec<Vec<PathBuf>> {
        let nodes: Vec<&PathBuf> = self.files.iter().collect();
        let index: HashMap<&PathBuf, usize> =
            nodes.iter().enumerate().map(|(i, n)| (*n, i)).collect();
        let successors: Vec<Vec<usize>> = nodes
            .iter()
            .map(|n| {
                let targets = self.edges.get(*n).into_iter().flat_map(BTreeMap::keys);
                targets.filter_map(|t| index.get(t).copied()).collect()
            })
            .collect();
        let mut components: Vec<Vec<PathBuf>> = strongly_connected(&successors)
            .into_iter()
            .filter(|c| c.len() > 1)
            .map(|c| {
                let mut files: Vec<PathBuf> = c.into_iter().map(|i| nodes[i].clone()).collect();
                files.sort();
                files
            })
            .collect();
        components.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        components
    }

    /// The imports inside one cycle, one per line.
    pub(super) fn explain(&self, cycle: &[PathBuf]) -> String {
        let mut lines = Vec::new();
        for from in cycle {
            for (to, evidence) in self.edges.get(from).into_iter().flatten() {
                if cycle.contains(to) {
                    let (line, path) = evidence.iter().next().cloned().unwrap_or_default();
                    let first = format!("{line}: {path}");
                    let more = evidence.len() - 1;
                    let more = if more > 0 {
                        format!(" (+{more} more)")
                    } else {
                        String::new()
                    };
                    lines.push(format!(
                        "    {} → {}   line {first}{more}",
                        from.display(),
                        to.display()
                    ));
                }
            }
        }
        lines.join("\n")
    }
}

fn add(modules: &mut Vec<Module>, parent: usize, name: String, file: PathBuf) -> usize {
    let id = modules.len();
    modules.push(Module {
        file,
        parent: Some(parent),
        ..Module::default()
    });
    modules[parent].children.insert(name, id);
    id
}

/// Where the files of the modules `file` declares live (a crate root's: beside it).
fn module_dir(file: &Path, crate_root: bool) -> PathBuf {
    let dir = file.parent().unwrap_or(Path::new("")).to_owned();
    match file.file_stem().and_then(|s| s.to_str()) {
        _ if crate_root => dir,
        Some("mod") | None => dir,
        Some(stem) => dir.join(stem),
    }
}

fn is_test_path(path: &Path, test_paths: &[PathBuf]) -> bool {
    path.file_name().is_some_and(|name| name == "tests.rs")
        || path.components().any(|c| c.as_os_str() == "tests")
        || test_paths.iter().any(|test| path.starts_with(test))
}

/// The module `path` (written in module `from`) names an item of; `None` for other crates.
fn resolve(modules: &[Module], from: usize, path: &[String], hops: usize) -> Option<usize> {
    if hops > 16 {
        return None;
    }
    let (first, rest) = path.split_first()?;
    let mut at = match first.as_str() {
        "crate" => 0,
        "self" => from,
        "super" => modules[from].parent?,
        name if modules[from].children.contains_key(name) => modules[from].children[name],
        name => {
            let used = modules[from].uses.get(name)?;
            let whole: Vec<String> = used.iter().chain(rest).cloned().collect();
            return resolve(modules, from, &whole, hops + 1);
        }
    };
    for (i, segment) in rest.iter().enumerate() {
        if segment == "super" {
            at = modules[at].parent?;
        } else if let Some(&child) = modules[at].children.get(segment) {
            at = child;
        } else if let Some(used) = modules[at].uses.get(segment) {
            // Imported or re-exported there: on to where it is defined.
            let whole: Vec<String> = used.iter().chain(&rest[i + 1..]).cloned().collect();
            return resolve(modules, at, &whole, hops + 1);
        } else {
            break;
        }
    }
    Some(at)
}

/// Tarjan's strongly connected components of a graph given as successor lists.
fn strongly_connected(successors: &[Vec<usize>]) -> Vec<Vec<usize>> {
    struct State<'a> {
        successors: &'a [Vec<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        components: Vec<Vec<usize>>,
    }
    fn visit(s: &mut State<'_>, v: usize) {
        s.index[v] = Some(s.next);
        s.low[v] = s.next;
        s.next += 1;
        s.stack.push(v);
        s.on_stack[v] = true;
        for &w in &s.successors[v] {
            match s.index[w] {
                None => {
                    visit(s, w);
                    s.low[v] = s.low[v].min(s.low[w]);
                }
                Some(index) if s.on_stack[w] => s.low[v] = s.low[v].min(index),
                Some(_) => {}
            }
        }
        if Some(s.low[v]) == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack[w] = false;
                component.push(w);
                if w == v {
                    break;
                }
            }
            s.components.push(component);
        }
    }
    let n = successors.len();
    let mut state = State {
        successors,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        components: Vec::new(),
    };
    for v in 0..n {
        if state.index[v].is_none() {
            visit(&mut state, v);
        }
    }
    state.components
}
