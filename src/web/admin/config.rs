//! The admin's Settings page (issue 18 part 9): the configuration the desk
//! runs with — each `[section]` with its keys, values and what they do, the
//! `[[tables]]` as written, secrets hidden — where it was read from, and a
//! Reload button that does what `SIGHUP` does, with its outcome.

use axum::extract::{Query, State};
use axum::response::IntoResponse;
use maud::{Markup, html};
use serde::Deserialize;

use crate::config::Config;
use crate::tr;
use crate::web::pages::{frame, to, with_code, with_markup};
use crate::web::ui::{self, csrf_field, page};
use crate::web::{Admin, AppState, WebResult};

/// Keys whose values are never shown (secrets kept in the file itself).
fn secret(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    !k.ends_with("_file") && (k == "password" || k.contains("secret") || k.contains("token") || k.ends_with("_key"))
}

/// A value as the page shows it.
fn shown(key: &str, v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) if secret(key) && !s.is_empty() => tr!("(set, hidden)").to_string(),
        toml::Value::String(s) => format!("{s:?}"),
        toml::Value::Table(t) => {
            let parts: Vec<String> = t.iter().map(|(k, v)| format!("{k} = {}", shown(k, v))).collect();
            format!("{{ {} }}", parts.join(", "))
        }
        toml::Value::Array(a) => format!("[{}]", a.iter().map(|x| shown(key, x)).collect::<Vec<_>>().join(", ")),
        other => other.to_string(),
    }
}

/// One `[[table]]` entry's keys and values.
fn entry(t: &toml::Table) -> Markup {
    html! {
        dl.config-entry {
            @for (k, v) in t { dt { code { (k) } } dd { code { (shown(k, v)) } } }
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ConfigQuery {
    reloaded: Option<String>,
}

pub async fn config_page(State(st): State<AppState>, Admin(a): Admin, Query(q): Query<ConfigQuery>) -> WebResult {
    let cfg = st.desk.config();
    let values = toml::Table::try_from(&*cfg).unwrap_or_default();
    let reloads = &st.desk.reloads;
    let source = reloads.source();
    let last = reloads.last();
    let declared = Config::sections();
    let tables: Vec<(&String, &Vec<toml::Value>)> =
        values.iter().filter_map(|(k, v)| v.as_array().filter(|a| a.iter().all(|x| x.is_table())).map(|a| (k, a))).collect();
    let body = html! {
        div.narrow-page.wide-ok {
            (super::audit::admin_nav("/admin/config"))
            h1 { (tr!("Settings")) }
            @if q.reloaded.as_deref() == Some("0") {
                (ui::notice("warn", tr!("The reload is still running; open this page again to see its outcome.")))
            } @else if let (Some(_), Some((at, said, ok))) = (&q.reloaded, &last) {
                (ui::notice(if *ok { "ok" } else { "error" }, &format!("{} ({})", crate::i18n::dynamic(said), ui::when(*at))))
            }
            p.muted {
                @if source.is_empty() {
                    (tr!("The configuration the desk runs with: given to it at start, with FRONTDESK_* environment overrides and command-line flags applied. It is changed in the file, not here. Secrets are not shown."))
                } @else {
                    (with_code(tr!("The configuration the desk runs with: read from {file}, with FRONTDESK_* environment overrides and command-line flags applied. It is changed in the file, not here. Secrets are not shown."), &[("file", source.as_str())]))
                }
            }
            @if reloads.offered() {
                form.inline method="post" action="/admin/config/reload" {
                    (csrf_field(&a.csrf))
                    button type="submit" { (tr!("Reload the file")) }
                    " " span.muted { (tr!("Same as systemctl reload or SIGHUP: a file with an error changes nothing.")) }
                }
            }
            @if let Some((at, said, ok)) = last.as_ref().filter(|_| q.reloaded.is_none()) {
                p.muted {
                    (with_markup(&tr!("Last reload {when}: {outcome}", outcome = crate::i18n::dynamic(said)), &[("when", ui::when_at(*at))]))
                    @if !ok { " " (tr!("(refused)")) }
                }
            }
            nav.toc aria-label=(tr!("Sections")) {
                @for (name, _, _) in &declared { a href=(format!("#s-{name}")) { (name) } " " }
                @for (name, _) in &tables { a href=(format!("#t-{name}")) { "[[" (name) "]]" } " " }
            }
            @for (name, doc, keys) in &declared {
                section.config-section {
                    h2 id=(format!("s-{name}")) { "[" (name) "]" }
                    // The config file's own documentation: English, as in the file.
                    p.muted lang="en" { (doc.trim()) }
                    div.scroll-x tabindex="0" role="region" aria-label=(format!("[{name}]")) {
                        table.grid {
                            thead { tr { th { (tr!("Key")) } th { (tr!("Value")) } th.hide-sm { (tr!("What it does")) } } }
                            tbody {
                                @for k in keys.iter() {
                                    @let v = values.get(*name).and_then(|s| s.get(k.name));
                                    tr {
                                        td { code { (k.name) } }
                                        td { @match v { Some(v) => code { (shown(k.name, v)) }, None => span.muted { (tr!("not set")) } } }
                                        td.hide-sm.muted lang="en" { (k.doc.trim()) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @for (name, items) in &tables {
                section.config-section {
                    h2 id=(format!("t-{name}")) { "[[" (name) "]]" }
                    @if items.is_empty() { p.muted { (tr!("None.")) } }
                    @for item in items.iter() { @if let Some(t) = item.as_table() { (entry(t)) } }
                }
            }
        }
    };
    Ok(page(&frame(&st, &a, tr!("Settings").into(), "admin"), body).into_response())
}

/// Asks the serving loop to read the config file again; back to the page
/// with the outcome (or a word that this desk cannot reload from here).
pub async fn reload(State(st): State<AppState>, Admin(_a): Admin) -> WebResult {
    let reloads = &st.desk.reloads;
    let before = reloads.done();
    if !reloads.request() {
        return Err(crate::desk::DeskError::Conflict(
            tr!("this desk was not started by `frontdesk serve`: nothing can read its config file again").into(),
        )
        .into());
    }
    for _ in 0..200 {
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        if reloads.done() != before {
            return Ok(to("/admin/config?reloaded=1"));
        }
    }
    // Still reading templates after 5 s: the outcome shows when it is done.
    Ok(to("/admin/config?reloaded=0"))
}
