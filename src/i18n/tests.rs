//! Catalog completeness (every UI text of the source has its German, every
//! German entry is used, placeholders match) and the formatting rules.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use super::format::{decimal_in, num_in};
use super::{Catalogs, DE, Lang, fill, text, with_lang};

/// String literals that follow `marker` in `src`: the first `count` of each
/// call (`tr!(` → 1, `trn!(` → 2, skipping the count expression).
fn literals_after(src: &str, marker: &str, count: usize, out: &mut BTreeSet<String>) {
    let mut from = 0;
    while let Some(at) = src[from..].find(marker).map(|i| i + from) {
        from = at + marker.len();
        let before = src[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
            continue;
        }
        let mut rest = &src[from..];
        for _ in 0..count {
            let Some(q) = rest.find('"') else { break };
            let Some((lit, tail)) = read_literal(&rest[q + 1..]) else { break };
            out.insert(lit);
            rest = tail;
        }
    }
}

/// Reads a Rust/JS string literal's content up to its closing quote.
fn read_literal(s: &str) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, &s[i + 1..])),
            '\\' => match chars.next()?.1 {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                '\n' => {
                    // A continued Rust string: skip the next line's indent.
                    let rest = &s[i + 2..];
                    let skip = rest.len() - rest.trim_start().len();
                    for _ in 0..rest[..skip].chars().count() {
                        chars.next();
                    }
                }
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
    None
}

fn walk(dir: &Path, ext: &str, files: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, ext, files);
        } else if p.extension().is_some_and(|x| x == ext) {
            files.push(p);
        }
    }
}

/// Every text the source asks to translate.
fn wanted() -> (BTreeSet<String>, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    walk(&root.join("src"), "rs", &mut files);
    let mut keys = BTreeSet::new();
    let mut all = String::new();
    for f in &files {
        let src = std::fs::read_to_string(f).unwrap_or_default();
        if f.ends_with("i18n/mod.rs") || f.ends_with("i18n/tests.rs") {
            continue;
        }
        literals_after(&src, "tr!(", 1, &mut keys);
        literals_after(&src, "trn!(", 2, &mut keys);
        literals_after(&src, "i18n::label(", 1, &mut keys);
        if f.ends_with("domain/thread.rs") || f.ends_with("domain/audit.rs") {
            // The thread's and the audit log's lines: `describe_in`'s `t("…")` templates.
            literals_after(&src, "t(", 1, &mut keys);
        }
        all.push_str(&src);
    }
    let js = scripts(root);
    literals_after(&js, "T(", 1, &mut keys);
    all.push_str(&js);
    (keys, all)
}

fn placeholders(s: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = s;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) if after[..close].chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && close > 0 => {
                out.insert(after[..close].to_string());
                rest = &after[close + 1..];
            }
            _ => rest = after,
        }
    }
    out
}

#[test]
fn german_is_complete() {
    let (keys, _) = wanted();
    assert!(keys.len() > 50, "the scan found only {} texts", keys.len());
    let missing: Vec<_> = keys.iter().filter(|k| !DE.contains_key(k.as_str())).collect();
    assert!(
        missing.is_empty(),
        "{} texts without German (add them to locales/de/):\n{}",
        missing.len(),
        missing.iter().map(|k| format!("{k:?} = \"\"")).collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn every_german_entry_is_used_and_keeps_its_placeholders() {
    let (keys, all) = wanted();
    let mut unused = Vec::new();
    for (en, de) in DE.iter() {
        let quoted = format!("{:?}", en);
        if !keys.contains(en) && !all.contains(&quoted) {
            unused.push(en.clone());
        }
        assert_eq!(placeholders(en), placeholders(de), "placeholders differ: {en:?} → {de:?}");
        assert!(!de.trim().is_empty(), "empty German for {en:?}");
    }
    unused.sort();
    assert!(unused.is_empty(), "German entries no source uses:\n{}", unused.join("\n"));
}

/// The browser's texts travel in `js.toml` alone (`js_catalog`).
#[test]
fn script_texts_are_in_the_script_catalog() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let js = scripts(root);
    let mut keys = BTreeSet::new();
    literals_after(&js, "T(", 1, &mut keys);
    let file = std::fs::read_to_string(root.join("locales/de/js.toml")).unwrap_or_default();
    let map: HashMap<String, String> = toml::from_str(&file).unwrap_or_default();
    let missing: Vec<_> = keys.iter().filter(|k| !map.contains_key(k.as_str())).collect();
    assert!(missing.is_empty(), "script texts missing from locales/de/js.toml: {missing:?}");
}

/// Every script the pages load (their `T("…")` texts share `js.toml`).
fn scripts(root: &Path) -> String {
    ["app.js", "help.js", "widget.js"]
        .iter()
        .map(|f| std::fs::read_to_string(root.join("assets").join(f)).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Files of one language agree where they share an entry, and each parses.
#[test]
fn catalog_files_parse_and_agree() {
    let mut seen: HashMap<String, (String, String)> = HashMap::new();
    for name in Catalogs::iter().filter(|n| n.ends_with(".toml")) {
        let Some(file) = Catalogs::get(&name) else { continue };
        let map: HashMap<String, String> = match toml::from_str(&String::from_utf8_lossy(&file.data)) {
            Ok(m) => m,
            Err(e) => panic!("{name}: {e}"),
        };
        let lang = name.split('/').next().unwrap_or("").to_string();
        for (k, v) in map {
            if let Some((other, v0)) = seen.get(&format!("{lang}:{k}")) {
                assert_eq!(v0, &v, "{k:?} is {v0:?} in {other} but {v:?} in {name}");
            }
            seen.insert(format!("{lang}:{k}"), (name.to_string(), v));
        }
    }
}

/// Every label of the enums the web UI shows through `dynamic(x.label())`
/// has its German (`locales/de/labels.toml`).
#[test]
fn enum_labels_have_german() {
    use crate::domain::report::{AGES, GroupBy};
    use crate::domain::roles::{BuiltinRole, Permission};
    use crate::domain::sla::SlaTarget;
    use crate::domain::{Channel, Priority, Status};
    use crate::store::{DirectorySort, Sort};
    let mut labels: Vec<&str> = Vec::new();
    labels.extend(Status::ALL.iter().map(|s| s.label()));
    labels.extend(Priority::ALL.iter().map(|p| p.label()));
    labels.extend(Channel::ALL.iter().map(|c| c.label()));
    labels.extend(Permission::ALL.iter().map(|p| p.label()));
    labels.extend(BuiltinRole::ALL.iter().map(|r| r.label()));
    labels.extend(SlaTarget::ALL.iter().map(|t| t.label()));
    labels.extend(GroupBy::ALL.iter().map(|g| g.label()));
    labels.extend(AGES.iter().map(|(l, _)| *l));
    labels.extend(Sort::ALL.iter().map(|s| s.label()));
    labels.extend(DirectorySort::ALL.iter().map(|d| d.label()));
    labels.extend(crate::domain::rating::Score::ALL.iter().map(|s| s.label()));
    labels.extend(Status::ALL.iter().map(|s| s.customer_label()));
    labels.extend(crate::domain::MailKind::FOR_AGENTS.iter().map(|k| k.setting_label()));
    let missing: Vec<&str> = labels.into_iter().filter(|l| !DE.contains_key(*l)).collect();
    assert!(missing.is_empty(), "enum labels without German (add them to locales/de/labels.toml): {missing:?}");
}

#[test]
fn accept_language_picks_by_weight() {
    assert_eq!(Lang::from_accept_language("de-DE,de;q=0.9,en;q=0.8"), Some(Lang::De));
    assert_eq!(Lang::from_accept_language("fr-FR, en;q=0.5, de;q=0.7"), Some(Lang::De));
    assert_eq!(Lang::from_accept_language("en-US,en;q=0.9"), Some(Lang::En));
    assert_eq!(Lang::from_accept_language("fr, es"), None);
    assert_eq!(Lang::from_accept_language("de;q=0, en"), Some(Lang::En));
    assert_eq!(Lang::from_accept_language(""), None);
    assert_eq!(Lang::from_accept_language(";;;,q=,de;q=abc"), Some(Lang::De));
}

#[test]
fn numbers_by_language() {
    assert_eq!(num_in(Lang::En, 1_234_567), "1,234,567");
    assert_eq!(num_in(Lang::De, 1_234_567), "1.234.567");
    assert_eq!(num_in(Lang::De, -1000), "-1.000");
    assert_eq!(num_in(Lang::En, 999), "999");
    assert_eq!(num_in(Lang::En, i64::MIN), "-9,223,372,036,854,775,808");
    assert_eq!(decimal_in(Lang::De, 1234.5, 1), "1.234,5");
    assert_eq!(decimal_in(Lang::En, 1234.5, 1), "1,234.5");
    assert_eq!(decimal_in(Lang::En, -0.04, 1), "0.0");
    assert_eq!(decimal_in(Lang::De, 3.0, 0), "3");
}

#[test]
fn fill_replaces_only_named_placeholders() {
    assert_eq!(fill("{n} of {total}", &[("n", &3), ("total", &"10")]), "3 of 10");
    assert_eq!(fill("{x} {unknown} {", &[("x", &1)]), "1 {unknown} {");
    assert_eq!(fill("{}", &[]), "{}");
    assert_eq!(fill("äö{a}ü", &[("a", &"ß")]), "äößü");
}

#[test]
fn text_follows_the_current_language() {
    let de = with_lang(Lang::De, || text("Save"));
    assert_eq!(de, "Speichern");
    assert_eq!(text("Save"), "Save");
    assert_eq!(with_lang(Lang::De, || crate::trn!(1, "{n} person", "{n} people")), "1 Person");
    assert_eq!(with_lang(Lang::De, || crate::trn!(1234, "{n} person", "{n} people")), "1.234 Personen");
}

proptest::proptest! {
    #[test]
    fn fill_never_panics(template in ".{0,64}", value in ".{0,16}") {
        let _ = fill(&template, &[("n", &value)]);
        let _ = Lang::from_accept_language(&template);
    }
}
