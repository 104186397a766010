//! UI languages: the message catalogs, the language of the request being
//! served, and per-language numbers and dates.
//!
//! English text is the key (`tr!("Save")`), as gettext does: the English UI
//! needs no catalog and a missing translation falls back to readable English.
//! Each other language is a set of TOML files under `locales/<code>/`
//! (`"English" = "Deutsch"`), embedded in the binary and merged at first use.
//! Placeholders are `{name}`, filled after the lookup, so a translation may
//! move them (`tr!("{n} of {total}", n = a, total = b)`).
//!
//! The language is chosen per request (`web::guard`): an agent's profile
//! setting, else the browser's `Accept-Language`. It lives in a task-local
//! (`LANG`) so templates ask `tr!` without passing it down; outside a request
//! (mail, logs, the API) it is English. `tests`: every `tr!`, `trn!` and
//! `label` text in the source has a German entry, and no entry is unused.

pub mod format;

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::LazyLock;

/// A language of the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    En,
    De,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::De];

    /// BCP 47 code, for `<html lang>` and the profile setting.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
        }
    }

    /// The language's own name, for the picker.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::De => "Deutsch",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        Lang::ALL.into_iter().find(|l| l.code().eq_ignore_ascii_case(code.trim()))
    }

    /// The first language of an `Accept-Language` header this desk speaks,
    /// by the client's weights (`de-AT;q=0.9, en;q=0.8` → German).
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut wanted: Vec<(u16, usize, Lang)> = Vec::new();
        for (i, item) in header.split(',').take(32).enumerate() {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or("").trim();
            let primary = tag.split(['-', '_']).next().unwrap_or("");
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .filter_map(|v| v.trim().parse::<f32>().ok())
                .next()
                .unwrap_or(1.0)
                .clamp(0.0, 1.0);
            if let Some(lang) = Lang::parse(primary).filter(|_| q > 0.0) {
                wanted.push(((q * 1000.0) as u16, i, lang));
            }
        }
        wanted.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        wanted.first().map(|w| w.2)
    }

    fn catalog(self) -> Option<&'static HashMap<String, String>> {
        match self {
            Lang::En => None,
            Lang::De => Some(&DE),
        }
    }
}

tokio::task_local! {
    /// The language of the request being served. A cell, so the session
    /// layer can set the agent's own once it knows who they are.
    pub static LANG: Cell<Lang>;
}

/// The current request's language (English outside a request).
pub fn current() -> Lang {
    LANG.try_with(Cell::get).unwrap_or(Lang::En)
}

/// Sets the language for the rest of this request (no-op outside one).
pub fn set_current(lang: Lang) {
    let _ = LANG.try_with(|c| c.set(lang));
}

/// Runs `f` in `lang` (for work moved off the request's task).
pub fn with_lang<T>(lang: Lang, f: impl FnOnce() -> T) -> T {
    LANG.sync_scope(Cell::new(lang), f)
}

#[derive(rust_embed::RustEmbed)]
#[folder = "locales/"]
struct Catalogs;

static DE: LazyLock<HashMap<String, String>> = LazyLock::new(|| load("de"));
static DE_JS: LazyLock<String> = LazyLock::new(|| js_json("de"));

/// The browser script's texts in the current language, as JSON for a
/// `<script type="application/json">` (`None` in English): only
/// `locales/<code>/js.toml`, so pages carry no more than app.js asks for.
pub fn js_catalog() -> Option<&'static str> {
    match current() {
        Lang::En => None,
        Lang::De => Some(DE_JS.as_str()),
    }
}

fn js_json(code: &str) -> String {
    let map = Catalogs::get(&format!("{code}/js.toml"))
        .and_then(|f| toml::from_str::<HashMap<String, String>>(&String::from_utf8_lossy(&f.data)).ok())
        .unwrap_or_default();
    // `</` may not appear inside a script element.
    serde_json::to_string(&map).unwrap_or_else(|_| "{}".into()).replace("</", "<\\/")
}

/// Merges every `locales/<code>/*.toml`. A file that does not parse is
/// logged and skipped (the tests keep every shipped file valid).
fn load(code: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let prefix = format!("{code}/");
    let mut names: Vec<_> = Catalogs::iter().filter(|n| n.starts_with(&prefix) && n.ends_with(".toml")).collect();
    names.sort();
    for name in names {
        let Some(file) = Catalogs::get(&name) else { continue };
        let text = String::from_utf8_lossy(&file.data);
        match toml::from_str::<HashMap<String, String>>(&text) {
            Ok(map) => out.extend(map),
            Err(e) => tracing::error!("catalog {name}: {e}"),
        }
    }
    out
}

/// `text` in `lang`: its translation, else the English itself.
pub fn text_in(lang: Lang, text: &'static str) -> &'static str {
    match lang.catalog().and_then(|c| c.get(text)) {
        Some(t) => t.as_str(),
        None => text,
    }
}

/// `text` in the current language.
pub fn text(text: &'static str) -> &'static str {
    text_in(current(), text)
}

/// A text known only at run time (a desk error's fixed sentence, an enum's
/// label): its translation when the catalog has one, else as given.
pub fn dynamic(text: &str) -> String {
    match current().catalog().and_then(|c| c.get(text)) {
        Some(t) => t.clone(),
        None => text.to_string(),
    }
}

/// Fills `{name}` placeholders of a translated template.
pub fn fill(template: &str, args: &[(&str, &dyn std::fmt::Display)]) -> String {
    crate::domain::template::fill(template, args)
}

/// `tr!("Save")` is the current language's `&'static str`;
/// `tr!("{n} open", n = count)` fills placeholders into a `String`.
#[macro_export]
macro_rules! tr {
    ($s:literal) => {
        $crate::i18n::text($s)
    };
    ($s:literal, $($k:ident = $v:expr),+ $(,)?) => {
        $crate::i18n::fill($crate::i18n::text($s), &[$((stringify!($k), &$v as &dyn std::fmt::Display)),+])
    };
}

/// `trn!(count, "{n} ticket", "{n} tickets")`: the form for `count` (English
/// and German share the one/other rule), `{n}` the count as the language
/// writes numbers; more placeholders may follow.
#[macro_export]
macro_rules! trn {
    ($count:expr, $one:literal, $other:literal $(, $k:ident = $v:expr)* $(,)?) => {{
        let count = $count;
        let template = if count == 1 { $crate::i18n::text($one) } else { $crate::i18n::text($other) };
        let n = $crate::i18n::format::num(count as i64);
        $crate::i18n::fill(template, &[("n", &n as &dyn std::fmt::Display) $(, (stringify!($k), &$v as &dyn std::fmt::Display))*])
    }};
}

#[cfg(test)]
mod tests;
