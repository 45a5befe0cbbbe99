//! The modules of session-core form layers, without import circles (issue 18): this test reads
//! `src/`, finds every reference from one top-level module to another (`crate::x`, grouped
//! `use crate::{a, b::c}`, `super::x` reaching the crate root, `$crate::x` in macros, and paths
//! through the crate root's re-exports such as `crate::Key`), leaving out `#[cfg(test)]` items
//! and files, comments and doc comments, and fails
//!
//! - naming the circle, with the file and line of each step, when the graph has one;
//! - naming the reference, when a module uses one of a layer above it in the crate docs' list
//!   (the `//! N. a, b, c` lines under "Layers" in `src/lib.rs`), or a module is missing there.
//!
//! The test is a plain tokenizer, not a Rust parser: enough for `use` trees and paths, and fast.

use std::{
    collections::{BTreeMap, BTreeSet, VecDeque},
    fs,
    path::{Path, PathBuf},
};

/// One token of Rust source: what the walk below needs (identifiers and punctuation), with its
/// line. Comments, strings, character literals and numbers are dropped.
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    /// `::`
    Path,
    Punct(char),
}

fn tokenize(src: &str) -> Vec<(Tok, usize)> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '/' && at(i + 1) == '/' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            loop {
                if i >= chars.len() {
                    break;
                }
                if chars[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    line += usize::from(chars[i] == '\n');
                    i += 1;
                }
            }
        } else if c == 'r'
            && (at(i + 1) == '"' || (at(i + 1) == '#' && matches!(at(i + 2), '"' | '#')))
            || c == 'b' && at(i + 1) == 'r' && matches!(at(i + 2), '"' | '#')
        {
            // Raw string: r"..", r#".."#, br"..".
            i += if c == 'b' { 2 } else { 1 };
            let mut hashes = 0;
            while at(i) == '#' {
                hashes += 1;
                i += 1;
            }
            i += 1; // the opening quote
            loop {
                if i >= chars.len() {
                    break;
                }
                if chars[i] == '"' && (1..=hashes).all(|k| at(i + k) == '#') {
                    i += 1 + hashes;
                    break;
                }
                line += usize::from(chars[i] == '\n');
                i += 1;
            }
        } else if c == '"' || (c == 'b' && at(i + 1) == '"') {
            i += if c == 'b' { 2 } else { 1 };
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                line += usize::from(at(i) == '\n');
                i += 1;
            }
            i += 1;
        } else if c == '\'' {
            // A character literal ('x', '\n', '\u{..}') or a lifetime ('a, which is skipped too).
            if at(i + 1) == '\\' {
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if at(i + 2) == '\'' {
                i += 3;
            } else {
                i += 1;
            }
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push((Tok::Ident(chars[start..i].iter().collect()), line));
        } else if c.is_ascii_digit() {
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
        } else if c == ':' && at(i + 1) == ':' {
            out.push((Tok::Path, line));
            i += 2;
        } else {
            out.push((Tok::Punct(c), line));
            i += 1;
        }
    }
    out
}

fn is_ident(tok: Option<&(Tok, usize)>, name: &str) -> bool {
    matches!(tok, Some((Tok::Ident(s), _)) if s == name)
}

fn is_punct(tok: Option<&(Tok, usize)>, c: char) -> bool {
    matches!(tok, Some((Tok::Punct(p), _)) if *p == c)
}

/// Index just past the group opened at `toks[i]` (`{`, `(` or `[`).
fn skip_group(toks: &[(Tok, usize)], mut i: usize) -> usize {
    let mut depth = 0i32;
    while i < toks.len() {
        match toks[i].0 {
            Tok::Punct('{' | '(' | '[') => depth += 1,
            Tok::Punct('}' | ')' | ']') => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    i
}

/// The first segment of every path of the use tree (or path) starting at `toks[i]`, after a
/// `crate::` or a `super::` reaching the root: `a` for `a::b`, `a` and `b` for `{a, b::c}`.
fn first_segments(toks: &[(Tok, usize)], i: usize) -> Vec<(String, usize)> {
    match toks.get(i) {
        Some((Tok::Ident(name), line)) => vec![(name.clone(), *line)],
        Some((Tok::Punct('{'), _)) => {
            let end = skip_group(toks, i);
            let mut found = Vec::new();
            let (mut j, mut depth, mut start) = (i + 1, 0, true);
            while j < end - 1 {
                match &toks[j].0 {
                    Tok::Punct('{') => depth += 1,
                    Tok::Punct('}') => depth -= 1,
                    Tok::Punct(',') if depth == 0 => {
                        start = true;
                        j += 1;
                        continue;
                    }
                    Tok::Ident(name) if start && depth == 0 => {
                        found.push((name.clone(), toks[j].1));
                    }
                    _ => {}
                }
                start = false;
                j += 1;
            }
            found
        }
        _ => Vec::new(),
    }
}

/// The file a `mod name;` declared in `file` lives in.
fn child_file(file: &Path, name: &str) -> [PathBuf; 2] {
    let stem = file.file_stem().unwrap().to_str().unwrap();
    let dir = if matches!(stem, "mod" | "lib") {
        file.parent().unwrap().to_path_buf()
    } else {
        file.with_extension("")
    };
    [
        dir.join(format!("{name}.rs")),
        dir.join(name).join("mod.rs"),
    ]
}

/// A reference from one top-level module to another, where it was seen.
#[derive(Debug, Clone)]
struct Site {
    file: String,
    line: usize,
}

struct Scan {
    /// `#[cfg(test)] mod x;` files, left out.
    test_files: BTreeSet<PathBuf>,
    /// Raw references: (file, depth of the file's module, name reached at the crate root, line).
    refs: Vec<(PathBuf, String, usize)>,
}

/// Walks one file's tokens: drops `#[cfg(test)]` items, follows inline `mod x { .. }` nesting for
/// `super::`, and records every name reached at the crate root.
fn scan_file(file: &Path, depth: usize, scan: &mut Scan) {
    let src = fs::read_to_string(file).unwrap();
    let toks = tokenize(&src);
    // Brace depths at which inline modules opened, innermost last.
    let mut mods: Vec<i32> = Vec::new();
    let mut braces = 0i32;
    let mut pending_mod = false;
    let mut i = 0;
    while i < toks.len() {
        let tok = &toks[i].0;
        // `#[cfg(test)]` (exactly): skip the attributes after it and the item they mark.
        if is_punct(toks.get(i), '#')
            && is_punct(toks.get(i + 1), '[')
            && is_ident(toks.get(i + 2), "cfg")
            && is_punct(toks.get(i + 3), '(')
            && is_ident(toks.get(i + 4), "test")
            && is_punct(toks.get(i + 5), ')')
            && is_punct(toks.get(i + 6), ']')
        {
            let mut j = i + 7;
            while is_punct(toks.get(j), '#') {
                j = skip_group(&toks, j + 1);
            }
            let item_start = j;
            while j < toks.len() {
                match toks[j].0 {
                    Tok::Punct('(' | '[') => j = skip_group(&toks, j),
                    Tok::Punct(';') => {
                        j += 1;
                        break;
                    }
                    Tok::Punct('{') => {
                        j = skip_group(&toks, j);
                        break;
                    }
                    _ => j += 1,
                }
            }
            // `#[cfg(test)] mod name;`: its file is test code too.
            let item: Vec<&Tok> = toks[item_start..j].iter().map(|(t, _)| t).collect();
            if let [.., Tok::Ident(m), Tok::Ident(name), Tok::Punct(';')] = item.as_slice() {
                if m == "mod" {
                    scan.test_files.extend(child_file(file, name));
                }
            }
            i = j;
            continue;
        }
        match tok {
            Tok::Ident(kw)
                if kw == "mod"
                    && matches!(toks.get(i + 1), Some((Tok::Ident(_), _)))
                    && is_punct(toks.get(i + 2), '{') =>
            {
                pending_mod = true;
            }
            Tok::Punct('{') => {
                braces += 1;
                if pending_mod {
                    mods.push(braces);
                    pending_mod = false;
                }
            }
            Tok::Punct('}') => {
                if mods.last() == Some(&braces) {
                    mods.pop();
                }
                braces -= 1;
            }
            Tok::Ident(kw)
                if kw == "crate" && toks.get(i + 1).map(|t| &t.0) == Some(&Tok::Path) =>
            {
                for (name, line) in first_segments(&toks, i + 2) {
                    scan.refs.push((file.to_path_buf(), name, line));
                }
            }
            Tok::Ident(kw) if kw == "super" && !is_ident(toks.get(i.wrapping_sub(2)), "super") => {
                let mut ups = 0;
                let mut j = i;
                while is_ident(toks.get(j), "super")
                    && toks.get(j + 1).map(|t| &t.0) == Some(&Tok::Path)
                {
                    ups += 1;
                    j += 2;
                }
                if ups == 0 {
                    // `pub(super)`
                    i += 1;
                    continue;
                }
                if ups == depth + mods.len() {
                    for (name, line) in first_segments(&toks, j) {
                        scan.refs.push((file.to_path_buf(), name, line));
                    }
                }
                i = j;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
}

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rs_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to (`None` for the crate root), and its module depth.
fn module_of(src: &Path, file: &Path) -> (Option<String>, usize) {
    let rel = file.strip_prefix(src).unwrap();
    let parts: Vec<&str> = rel.iter().map(|p| p.to_str().unwrap()).collect();
    let top = parts[0].trim_end_matches(".rs");
    let top = match top {
        "lib" => return (None, 0),
        "private" => "__private",
        other => other,
    };
    let depth = parts.len() - usize::from(parts.last() == Some(&"mod.rs"));
    (Some(top.to_string()), depth)
}

/// The leaves of the use tree at `toks[i]` (the name each is known by, and the first segment of
/// its path, or `first` when it has none of its own), and the index after the tree.
fn use_leaves(
    toks: &[(Tok, usize)],
    mut i: usize,
    mut first: Option<String>,
) -> (Vec<(String, String)>, usize) {
    let mut leaves = Vec::new();
    loop {
        match toks.get(i).map(|t| &t.0) {
            Some(Tok::Ident(name)) if toks.get(i + 1).map(|t| &t.0) == Some(&Tok::Path) => {
                first = first.or(Some(name.clone()));
                i += 2;
            }
            Some(Tok::Ident(name)) => {
                let module = first.unwrap_or(name.clone());
                if is_ident(toks.get(i + 1), "as") {
                    if let Some((Tok::Ident(alias), _)) = toks.get(i + 2) {
                        leaves.push((alias.clone(), module));
                    }
                    return (leaves, i + 3);
                }
                leaves.push((name.clone(), module));
                return (leaves, i + 1);
            }
            Some(Tok::Punct('{')) => {
                i += 1;
                while !is_punct(toks.get(i), '}') && i < toks.len() {
                    let (inner, next) = use_leaves(toks, i, first.clone());
                    leaves.extend(inner);
                    i = next;
                    if is_punct(toks.get(i), ',') {
                        i += 1;
                    }
                }
                return (leaves, i + 1);
            }
            _ => return (leaves, i + 1),
        }
    }
}

/// The names the crate root re-exports (`pub use crate::{key::Key, ..}`), to the module each
/// comes from: `crate::Key` is a reference to `key`.
fn root_reexports(lib: &str) -> BTreeMap<String, String> {
    let toks = tokenize(lib);
    let mut map = BTreeMap::new();
    for i in 0..toks.len() {
        if is_ident(toks.get(i), "use")
            && is_ident(toks.get(i + 1), "crate")
            && toks.get(i + 2).map(|t| &t.0) == Some(&Tok::Path)
        {
            // A leaf without a path of its own (the prelude's `crate::{Key, ..}`) names the root.
            let leaves = use_leaves(&toks, i + 3, None).0;
            map.extend(leaves.into_iter().filter(|(leaf, module)| leaf != module));
        }
    }
    map
}

type Graph = BTreeMap<String, BTreeMap<String, Site>>;

/// The top-level module graph of the crate in `src`.
fn module_graph(src: &Path) -> (BTreeSet<String>, Graph) {
    let mut files = Vec::new();
    rs_files(src, &mut files);
    files.sort();
    let mut modules = BTreeSet::new();
    for file in &files {
        if let (Some(module), _) = module_of(src, file) {
            modules.insert(module);
        }
    }
    let mut scan = Scan {
        test_files: BTreeSet::new(),
        refs: Vec::new(),
    };
    // Files declaring `#[cfg(test)] mod x;` come before x's file in this order (x.rs, then x/..).
    for file in &files {
        if scan.test_files.contains(file) {
            continue;
        }
        let (_, depth) = module_of(src, file);
        scan_file(file, depth, &mut scan);
    }
    let reexports = root_reexports(&fs::read_to_string(src.join("lib.rs")).unwrap());
    let mut graph = Graph::new();
    for (file, name, line) in scan.refs {
        if scan.test_files.contains(&file) {
            continue;
        }
        let Some(from) = module_of(src, &file).0 else {
            continue;
        };
        let to = if modules.contains(&name) {
            name
        } else if let Some(module) = reexports.get(&name) {
            module.clone()
        } else {
            continue; // a macro re-exported from session-macros, or a crate-root item
        };
        if to != from {
            let site = Site {
                file: file.strip_prefix(src).unwrap().display().to_string(),
                line,
            };
            graph.entry(from).or_default().entry(to).or_insert(site);
        }
    }
    (modules, graph)
}

fn describe_cycle(cycle: &[String], graph: &Graph) -> String {
    let steps: Vec<String> = cycle
        .windows(2)
        .map(|w| {
            let site = &graph[&w[0]][&w[1]];
            format!("  {} -> {} ({}:{})", w[0], w[1], site.file, site.line)
        })
        .collect();
    format!(
        "import circle {}:\n{}",
        cycle.join(" -> "),
        steps.join("\n")
    )
}

/// A circle through `start`, if there is one: the shortest way back, `start` first and last.
fn cycle_through(start: &str, graph: &Graph) -> Option<Vec<String>> {
    let mut parent: BTreeMap<String, String> = BTreeMap::new();
    let mut queue = VecDeque::from([start.to_string()]);
    while let Some(m) = queue.pop_front() {
        for next in graph.get(&m).into_iter().flat_map(|e| e.keys()) {
            if next == start {
                let mut path = vec![m.clone()];
                while let Some(p) = parent.get(path.last().unwrap()) {
                    path.push(p.clone());
                }
                path.reverse();
                path.push(start.to_string());
                return Some(path);
            }
            if !parent.contains_key(next) {
                parent.insert(next.clone(), m.clone());
                queue.push_back(next.clone());
            }
        }
    }
    None
}

/// The modules that reach each other (strongly connected, more than one module).
fn circles(modules: &BTreeSet<String>, graph: &Graph) -> Vec<BTreeSet<String>> {
    let reach = |m: &String| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![m.clone()];
        while let Some(x) = todo.pop() {
            for y in graph.get(&x).into_iter().flat_map(|e| e.keys()) {
                if seen.insert(y.clone()) {
                    todo.push(y.clone());
                }
            }
        }
        seen
    };
    let reaches: BTreeMap<&String, BTreeSet<String>> =
        modules.iter().map(|m| (m, reach(m))).collect();
    let mut found: Vec<BTreeSet<String>> = Vec::new();
    for m in modules {
        if found.iter().any(|c| c.contains(m)) {
            continue;
        }
        let circle: BTreeSet<String> = reaches[m]
            .iter()
            .filter(|n| reaches[*n].contains(m))
            .cloned()
            .collect();
        if circle.len() > 1 {
            found.push(circle);
        }
    }
    found
}

/// One layer of the crate docs' list.
#[derive(Debug, Default)]
struct Layer {
    modules: Vec<String>,
    /// Marked "import circle": its modules may still use each other (a circle not broken yet).
    circle: bool,
}

/// The layers the crate docs list, bottom first: the `//! N. a, b, c: what they are` items after
/// the `//! # Layers` heading of `src/lib.rs` (module names before the colon, in backticks or
/// bare; an item may wrap onto indented lines). An item whose text says "import circle" is a
/// group of modules still in one circle.
fn documented_layers(lib: &str) -> Vec<Layer> {
    let mut texts: Vec<String> = Vec::new();
    let mut inside = false;
    for line in lib.lines() {
        let Some(doc) = line.strip_prefix("//!") else {
            if inside {
                break;
            }
            continue;
        };
        let trimmed = doc.trim();
        if trimmed.trim_start_matches('#').trim() == "Layers" {
            inside = true;
            continue;
        }
        if !inside {
            continue;
        }
        let numbered = trimmed
            .split_once(". ")
            .filter(|(n, _)| n.parse::<usize>().is_ok())
            .map(|(_, rest)| rest);
        match numbered {
            Some(rest) => texts.push(rest.to_string()),
            None if !texts.is_empty() && doc.starts_with("    ") => {
                let last = texts.last_mut().unwrap();
                last.push(' ');
                last.push_str(trimmed);
            }
            None if !texts.is_empty() => break,
            None => {}
        }
    }
    texts
        .iter()
        .map(|text| {
            let (names, what) = text.split_once(':').unwrap_or((text, ""));
            Layer {
                modules: names
                    .split(',')
                    .map(|n| n.trim().trim_matches(|c| "[]`".contains(c)).to_string())
                    .filter(|n| !n.is_empty())
                    .collect(),
                circle: what.contains("import circle"),
            }
        })
        .collect()
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Fails naming a circle, unless it is exactly the one the crate docs still list (so that list
/// shrinks as circles are broken, and cannot grow unnoticed).
fn check_circles(src: &Path) -> Result<(), String> {
    let (modules, graph) = module_graph(src);
    let layers = documented_layers(&fs::read_to_string(src.join("lib.rs")).unwrap());
    let known: BTreeSet<String> = layers
        .iter()
        .filter(|l| l.circle)
        .flat_map(|l| l.modules.clone())
        .collect();
    let found = circles(&modules, &graph);
    for circle in &found {
        if *circle == known {
            continue;
        }
        let start = circle
            .iter()
            .find(|m| !known.contains(*m))
            .unwrap_or_else(|| circle.first().unwrap());
        let cycle = cycle_through(start, &graph).unwrap();
        return Err(describe_cycle(&cycle, &graph));
    }
    if !known.is_empty() && !found.contains(&known) {
        return Err(format!(
            "the crate docs list the import circle {known:?}, but the circles are now {found:?}: \
             list each module in its layer"
        ));
    }
    Ok(())
}

/// Fails naming each reference from a module to one in its own layer or above (except within
/// the circle the docs still list), and each module missing from the docs' layers.
fn check_layers(src: &Path) -> Result<(), String> {
    let (modules, graph) = module_graph(src);
    let layers = documented_layers(&fs::read_to_string(src.join("lib.rs")).unwrap());
    if layers.is_empty() {
        return Err("src/lib.rs lists no layers (`//! # Layers`, then `//! 1. a, b: ..`)".into());
    }
    let mut layer_of = BTreeMap::new();
    for (n, layer) in layers.iter().enumerate() {
        for name in &layer.modules {
            if !modules.contains(name) {
                return Err(format!("the crate docs list `{name}`, which is no module"));
            }
            if layer_of
                .insert(name.clone(), (n + 1, layer.circle))
                .is_some()
            {
                return Err(format!("the crate docs list `{name}` twice"));
            }
        }
    }
    let missing: Vec<&String> = modules
        .iter()
        .filter(|m| !layer_of.contains_key(*m))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "modules missing in the crate docs' layers: {missing:?}"
        ));
    }
    let mut wrong = Vec::new();
    for (from, edges) in &graph {
        for (to, site) in edges {
            let ((lf, circle), (lt, _)) = (layer_of[from], layer_of[to]);
            if lt > lf || (lt == lf && !circle) {
                wrong.push(format!(
                    "  {from} (layer {lf}) uses {to} (layer {lt}) at {}:{}",
                    site.file, site.line
                ));
            }
        }
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "modules using their own layer or one above:\n{}",
            wrong.join("\n")
        ))
    }
}

#[test]
fn modules_have_no_import_circle() {
    if let Err(e) = check_circles(&src_dir()) {
        panic!("{e}");
    }
}

#[test]
fn modules_only_use_layers_below_as_the_crate_docs_list_them() {
    if let Err(e) = check_layers(&src_dir()) {
        panic!("{e}");
    }
}

/// The scanner and both checks on a small crate in a temporary directory: grouped, nested,
/// `super::` and re-exported references are seen, none in tests, comments or strings; a
/// circle, a reference upward and an undocumented circle each fail, naming what is wrong.
#[test]
fn the_checks_find_references_circles_and_wrong_layers() {
    let dir = std::env::temp_dir().join(format!("session-core-layers-{}", std::process::id()));
    let src = dir.join("src");
    fs::create_dir_all(src.join("b")).unwrap();
    fs::create_dir_all(src.join("c")).unwrap();
    let lib = "//! # Layers\n//!\n//! 1. `d`: bottom\n//! 2. b, c: middle,\n//!    wrapped\n//! 3. a: top\n\
               mod a; mod b; mod c; mod d;\npub use crate::{d::{D, E as F}};\n";
    fs::write(src.join("lib.rs"), lib).unwrap();
    fs::write(
        src.join("a.rs"),
        "use crate::{b::{X, Y}, c};\n/// crate::d in a doc\n// crate::d\nconst S: &str = \"crate::d\";\n\
         #[cfg(test)]\nmod tests { use crate::d; use super::super::d; }\n",
    )
    .unwrap();
    fs::write(
        src.join("b.rs"),
        "fn f() -> crate::F { g() }\n#[cfg(test)]\nmod t;\n",
    )
    .unwrap();
    fs::write(src.join("b/t.rs"), "use crate::a;\n").unwrap();
    fs::write(
        src.join("c.rs"),
        "mod inner;\nmod x { fn g() { super::super::d::h(); } }\n",
    )
    .unwrap();
    fs::write(
        src.join("c/inner.rs"),
        "fn g() { super::super::d::h(); super::k(); }\n",
    )
    .unwrap();
    fs::write(src.join("d.rs"), "pub struct D; pub struct E;\n").unwrap();

    let (modules, graph) = module_graph(&src);
    let edges: Vec<(&str, &str)> = graph
        .iter()
        .flat_map(|(from, to)| to.keys().map(move |t| (from.as_str(), t.as_str())))
        .collect();
    assert_eq!(edges, [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")]);
    assert!(circles(&modules, &graph).is_empty());
    assert_eq!(check_circles(&src), Ok(()));
    assert_eq!(check_layers(&src), Ok(()));

    // c -> b: within one layer.
    fs::write(src.join("c/inner.rs"), "fn g() { super::super::b::h(); }\n").unwrap();
    let same_layer = check_layers(&src);
    // d -> a closes a -> b -> d -> a.
    fs::write(
        src.join("d.rs"),
        "pub struct D; pub struct E;\nfn f() { $crate::a::g() }\n",
    )
    .unwrap();
    let circle = check_circles(&src);
    let upward = check_layers(&src);
    // The same circle, documented as one: accepted, and the layer check lets it be.
    let circle_lib = "//! # Layers\n//!\n//! 1. a, b, c, d: still one import circle\n\
                      mod a; mod b; mod c; mod d;\npub use crate::{d::{D, E as F}};\n";
    fs::write(src.join("lib.rs"), circle_lib).unwrap();
    let documented = (check_circles(&src), check_layers(&src));
    fs::remove_dir_all(&dir).unwrap();

    assert_eq!(same_layer, Err("modules using their own layer or one above:\n  c (layer 2) uses b (layer 2) at c/inner.rs:1".into()));
    let circle = circle.unwrap_err();
    assert!(
        circle.starts_with("import circle a -> b -> d -> a:"),
        "{circle}"
    );
    assert!(circle.contains("d -> a (d.rs:2)"), "{circle}");
    assert!(upward
        .unwrap_err()
        .contains("d (layer 1) uses a (layer 3) at d.rs:2"));
    assert_eq!(documented.0, Ok(()));
    assert_eq!(documented.1, Ok(()));
}
