//! The shape of the code, checked: no cycles between top-level modules of
//! `src/` (each module's `crate::<module>` references form a DAG), and no
//! source file over 800 lines. See ARCHITECTURE.md.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Top-level module → the top-level modules its code names.
fn graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let modules: BTreeSet<String> = files
        .iter()
        .filter_map(|f| {
            let rel = f.strip_prefix(src).ok()?;
            let first = rel.components().next()?.as_os_str().to_string_lossy().to_string();
            Some(first.trim_end_matches(".rs").to_string())
        })
        // `bin/` holds other crates (the benchmarks): their `crate::` is their own.
        .filter(|m| m != "lib" && m != "main" && m != "bin")
        .collect();
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &files {
        let rel = f.strip_prefix(src).unwrap();
        let me = rel.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_string();
        if me == "lib" || me == "main" || me == "bin" {
            continue;
        }
        let text = std::fs::read_to_string(f).unwrap();
        let top_level_file = rel.components().count() == 1;
        let entry = g.entry(me.clone()).or_default();
        for (i, _) in text.match_indices("crate::") {
            let name: String = text[i + 7..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if modules.contains(&name) && name != me {
                entry.insert(name);
            }
        }
        // In a top-level file, `super::x` names the crate root's module x.
        if top_level_file {
            for (i, _) in text.match_indices("super::") {
                let name: String = text[i + 7..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                if modules.contains(&name) && name != me {
                    entry.insert(name);
                }
            }
        }
    }
    g
}

fn find_cycle(g: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(n: &str, g: &BTreeMap<String, BTreeSet<String>>, path: &mut Vec<String>, done: &mut BTreeSet<String>) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == n) {
            let mut c = path[i..].to_vec();
            c.push(n.to_string());
            return Some(c);
        }
        if done.contains(n) {
            return None;
        }
        path.push(n.to_string());
        for m in g.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, g, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for n in g.keys() {
        if let Some(c) = visit(n, g, &mut Vec::new(), &mut done) {
            return Some(c);
        }
    }
    None
}

#[test]
fn no_cycles_between_top_level_modules() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let g = graph(&src);
    assert!(g.get("domain").is_some_and(|d| d.is_empty()), "domain/ imports nothing above it: {:?}", g.get("domain"));
    assert!(g.get("store").is_some_and(|d| d.iter().all(|m| m == "domain" || m == "jobs")), "store/: {:?}", g.get("store"));
    if let Some(c) = find_cycle(&g) {
        panic!("cycle between top-level modules: {}", c.join(" → "));
    }
    // The check itself finds a cycle when there is one.
    let mut bad = g.clone();
    bad.entry("domain".into()).or_default().insert("desk".into());
    assert!(find_cycle(&bad).is_some());
}

#[test]
fn no_source_file_over_800_lines() {
    let mut files = Vec::new();
    rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let n = std::fs::read_to_string(f).ok()?.lines().count();
            (n > 800).then(|| format!("{} ({n} lines)", f.display()))
        })
        .collect();
    assert!(long.is_empty(), "over 800 lines: {long:?}");
}

#[test]
fn the_store_is_private_to_the_desk() {
    // Outside `desk/` (and `store/` itself) the application reaches data only
    // through the desk's methods; `store_for_tests` is for tests and benches.
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let offenders: Vec<String> = files
        .iter()
        .filter(|f| {
            let rel = f.strip_prefix(&src).unwrap();
            let top = rel.components().next().unwrap().as_os_str().to_string_lossy().to_string();
            !matches!(top.as_str(), "desk" | "store" | "bin")
        })
        .filter(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            text.contains("store_for_tests") || text.contains("desk.store.")
        })
        .map(|f| f.display().to_string())
        .collect();
    assert!(offenders.is_empty(), "reach the store through desk methods: {offenders:?}");
}
