//! The module structure, checked: reads every `crate::` path in `src/` and asserts the rules
//! ARCHITECTURE.md states. `cargo test -p app architecture` runs it.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::{Path, PathBuf},
};

/// One folder per capability. `shell` composes them and is imported by nothing.
const FEATURES: [&str; 11] = [
    "account",
    "admin",
    "browse",
    "connections",
    "grants",
    "notices",
    "objects",
    "search",
    "shares",
    "transfers",
    "zip",
];

/// Each top-level module and, for every module it names through `crate::`, the rest of each
/// such path (`crate::browse::ssr::x` gives `browse` → {`ssr::x`}).
type Graph = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every file under `root` whose name ends in one of `endings`, relative to `root`; folders
/// named in `skip` (installed packages, build output) are not entered.
fn files_under(root: &Path, endings: &[&str], skip: &[&str]) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![root.to_owned()];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                if !skip.contains(&name.as_str()) {
                    dirs.push(path);
                }
            } else if endings.iter().any(|e| name.ends_with(e)) {
                files.push(path.strip_prefix(root).unwrap().to_owned());
            }
        }
    }
    files
}

/// Every `.rs` file under `src/`, relative to it.
fn rust_files() -> Vec<PathBuf> {
    files_under(&src(), &[".rs"], &[])
}

fn graph() -> Graph {
    let mut graph = Graph::new();
    for relative in rust_files() {
        let first = relative.components().next().unwrap().as_os_str();
        let module = first.to_str().unwrap().trim_end_matches(".rs").to_owned();
        if module == "lib" || module == "architecture" {
            continue;
        }
        let uses = graph.entry(module.clone()).or_default();
        for (target, rest) in crate_paths(&fs::read_to_string(src().join(&relative)).unwrap()) {
            if target != module {
                uses.entry(target).or_default().insert(rest);
            }
        }
    }
    graph
}

/// Every `crate::a::…` path in `source` as `(a, …)`, including each path of a
/// `use crate::{a::b, c::{d, e}}` group (the rest is empty when the path stops at `a`).
fn crate_paths(source: &str) -> Vec<(String, String)> {
    paths_under(source, "crate::")
}

/// The same for the paths that start with `root` (`crate::`, `super::`).
fn paths_under(source: &str, root: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut rest = source;
    while let Some(at) = rest.find(root) {
        rest = &rest[at + root.len()..];
        match rest.strip_prefix('{') {
            Some(group) => {
                let mut depth = 1;
                let mut item = String::new();
                for c in group.chars() {
                    match c {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        _ => {}
                    }
                    if depth == 0 || (c == ',' && depth == 1) {
                        found.extend(split_path(&item));
                        item.clear();
                        if depth == 0 {
                            break;
                        }
                    } else {
                        item.push(c);
                    }
                }
            }
            None => found.extend(split_path(rest)),
        }
    }
    found
}

fn split_path(path: &str) -> Option<(String, String)> {
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let first = ident(path);
    if first.is_empty() || first == "self" {
        return None;
    }
    let after = path.trim_start()[first.len()..].strip_prefix("::");
    let rest: String = after
        .unwrap_or_default()
        .chars()
        .take_while(|c| c.is_alphanumeric() || "_:{}, ".contains(*c))
        .collect();
    Some((first, rest.trim().to_owned()))
}

#[test]
fn shared_modules_import_no_feature() {
    for (module, uses) in graph() {
        if FEATURES.contains(&module.as_str()) || module == "shell" {
            continue;
        }
        for target in uses.keys() {
            assert!(
                !FEATURES.contains(&target.as_str()) && target != "shell",
                "shared module `{module}` imports `{target}`: move what it needs into shared code"
            );
        }
    }
}

#[test]
fn no_feature_imports_another_features_server_code() {
    for (module, uses) in graph() {
        for (target, items) in &uses {
            if FEATURES.contains(&target.as_str()) {
                let names_ssr = items
                    .iter()
                    .flat_map(|rest| rest.split(|c: char| !c.is_alphanumeric() && c != '_'))
                    .any(|segment| segment == "ssr");
                assert!(
                    !names_ssr,
                    "`{module}` imports `{target}::ssr`: shared server code belongs in `aws` (or \
                     another shared module)"
                );
            }
        }
    }
}

/// Which modules each module imports.
type Edges = BTreeMap<String, BTreeSet<String>>;

/// Panics naming the first cycle found in `edges` (depth-first: a module met again while still on
/// the path closes one).
fn assert_no_cycle(edges: &Edges) {
    fn visit(edges: &Edges, module: &str, path: &mut Vec<String>, done: &mut BTreeSet<String>) {
        if let Some(at) = path.iter().position(|m| m == module) {
            panic!("cycle: {} -> {module}", path[at..].join(" -> "));
        }
        if !done.insert(module.to_owned()) {
            return;
        }
        path.push(module.to_owned());
        for target in edges.get(module).into_iter().flatten() {
            visit(edges, target, path, done);
        }
        path.pop();
    }
    let mut done = BTreeSet::new();
    for module in edges.keys() {
        visit(edges, module, &mut Vec::new(), &mut done);
    }
}

#[test]
fn no_cycle_between_feature_folders() {
    // Shared modules import no feature (above), so a cycle between features can only run
    // through features: look at that part of the graph.
    let edges: Edges = graph()
        .into_iter()
        .filter(|(module, _)| FEATURES.contains(&module.as_str()))
        .map(|(module, uses)| {
            let features = uses
                .into_keys()
                .filter(|target| FEATURES.contains(&target.as_str()))
                .collect();
            (module, features)
        })
        .collect();
    assert_no_cycle(&edges);
}

#[test]
fn no_cycle_between_the_files_of_a_folder() {
    // A file names a sibling through `super::sibling::…`; the folder's `mod.rs` declares them
    // all and is left out, as are the top-level modules (they have no siblings but features).
    let mut folders: BTreeMap<PathBuf, BTreeSet<String>> = BTreeMap::new();
    for relative in rust_files() {
        let stem = relative.file_stem().unwrap().to_str().unwrap().to_owned();
        let folder = relative.parent().unwrap().to_owned();
        if !folder.as_os_str().is_empty() {
            folders.entry(folder).or_default().insert(stem);
        }
    }
    let mut edges = Edges::new();
    for (folder, stems) in &folders {
        for stem in stems.iter().filter(|stem| *stem != "mod") {
            let path = src().join(folder).join(format!("{stem}.rs"));
            // Code only: a doc comment may name a sibling (`[super::folder]`) without importing it.
            let code: String = fs::read_to_string(path)
                .unwrap()
                .lines()
                .map(|line| line.split("//").next().unwrap_or_default())
                .collect::<Vec<_>>()
                .join("\n");
            let name = |stem: &str| format!("{}/{stem}", folder.display());
            let siblings = paths_under(&code, "super::")
                .into_iter()
                .filter(|(target, _)| target != stem && target != "mod" && stems.contains(target))
                .map(|(target, _)| name(&target));
            edges.entry(name(stem)).or_default().extend(siblings);
        }
    }
    assert!(
        edges.contains_key("admin/users"),
        "the walk reads the folders"
    );
    assert_no_cycle(&edges);
}

#[test]
fn the_parser_reads_nested_use_groups() {
    let paths = crate_paths(
        "use crate::{aws::{access::Target, s3_failure}, error::AppError, location};\n\
         let x = crate::browse::ssr::f(crate::objects::{ssr::g});",
    );
    let names: Vec<(&str, &str)> = paths
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("aws", "{access::Target, s3_failure}"),
            ("error", "AppError"),
            ("location", ""),
            ("browse", "ssr::f"),
            ("objects", "{ssr::g}")
        ]
    );
}

/// A file longer than this is split by job before it grows further: one reads a file whole.
const MAX_LINES: usize = 500;

#[test]
fn no_file_over_500_lines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let code = [".rs", ".py", ".sh", ".ts", ".js", ".mjs", ".css"];
    let skip = ["node_modules", "test-results", "playwright-report"];
    let mut checked = 0;
    let mut long = Vec::new();
    for folder in ["app", "server", "scripts", "end2end", "style", ".ci"] {
        for file in files_under(&root.join(folder), &code, &skip) {
            let path = root.join(folder).join(&file);
            let lines = fs::read_to_string(&path).unwrap().lines().count();
            checked += 1;
            if lines > MAX_LINES {
                long.push(format!("{folder}/{} has {lines} lines", file.display()));
            }
        }
    }
    assert!(
        checked > 100,
        "the walk reads the project ({checked} files)"
    );
    assert!(long.is_empty(), "split these by job: {long:#?}");
}
