//! What the agent areas' HTML handlers share: the app frame for the agent,
//! the refusal page with a way back, form-field helpers and safe redirects.

use axum::body::Bytes;
use axum::response::{IntoResponse, Response};
use maud::{Markup, PreEscaped, html};

use super::ui::{self, Frame, page};
use super::{Agent, AppState, WebError, status_of};
use crate::desk::DeskError;

pub fn frame<'a>(st: &'a AppState, a: &'a Agent, title: String, area: &'a str) -> Frame<'a> {
    let cfg = st.desk.config();
    let may_create = st.desk.may(&a.person, crate::domain::roles::Permission::Create);
    Frame { desk_name: cfg.desk.name.clone(), title, user: Some(&a.person), csrf: &a.csrf, area, may_create }
}

/// Where to go after logging in: a path on this site only. Browsers drop tab,
/// CR and LF inside URLs and read `\\` as `/`, so `/\t/evil.test` and `/\\evil.test`
/// would leave the site; the path is normalised the same way before it is
/// checked, and anything but plain printable ASCII is refused.
pub fn safe_next(next: Option<&str>) -> String {
    let fallback = || "/tickets".to_string();
    let Some(n) = next else { return fallback() };
    let n: String = n
        .trim_matches(|c: char| c.is_ascii_control() || c == ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .map(|c| if c == '\\' { '/' } else { c })
        .collect();
    let printable = n.bytes().all(|b| (0x21..0x7f).contains(&b));
    if printable && n.starts_with('/') && !n.starts_with("//") { n } else { fallback() }
}

/// A refusal page in the app frame: the reason (400/403/409 …) and a way
/// back. Not-found and storage errors keep their own pages.
pub fn refusal(st: &AppState, a: &Agent, e: DeskError, title: &str, area: &str, back: (&str, &str)) -> WebError {
    if matches!(e, DeskError::NotFound | DeskError::Store(_)) {
        return e.into();
    }
    let msg = match &e {
        DeskError::Invalid { message, .. } => crate::i18n::dynamic(message),
        other => super::error::desk_message(other),
    };
    let (href, label) = back;
    let body = html! {
        div.narrow-page {
            (ui::notice("error", &msg))
            p { a href=(href) { (label) } }
        }
    };
    (status_of(&e), page(&frame(st, a, title.into(), area), body)).into_response().into()
}

/// A translated sentence with pieces of markup in it: the text is escaped,
/// then each `{name}` of `parts` becomes its markup (a `<code>`, a `<time>`),
/// so a translation may move them. Fill plain values first with `tr!`.
pub fn with_markup(text: &str, parts: &[(&str, Markup)]) -> Markup {
    let mut out = html! { (text) }.into_string();
    for (name, piece) in parts {
        out = out.replace(&format!("{{{name}}}"), &piece.0);
    }
    PreEscaped(out)
}

/// `with_markup` where every piece is a `<code>` of the given text.
pub fn with_code(text: &str, codes: &[(&str, &str)]) -> Markup {
    let parts: Vec<(&str, Markup)> = codes.iter().map(|(name, code)| (*name, html! { code { (code) } })).collect();
    with_markup(text, &parts)
}

/// Form fields, with repeated keys (the bulk form's `id` boxes) kept.
pub fn fields(body: &Bytes) -> Vec<(String, String)> {
    form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

pub fn field<'a>(f: &'a [(String, String)], key: &str) -> &'a str {
    f.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).unwrap_or("")
}

/// `Some` for a present, non-blank form value.
pub fn nonempty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// A redirect to a path on this site.
pub fn to(path: &str) -> Response {
    axum::response::Redirect::to(path).into_response()
}
