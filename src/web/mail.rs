//! Mail in the agent UI: attachment downloads and previews, the raw source of a
//! message ("view original"), its sanitized HTML, and the Junk list.
//!
//! Untrusted content stays inert (promise 5): downloads are `attachment` with
//! `nosniff`; only raster images are ever shown inline; HTML is sanitized and
//! served in a sandbox with no scripts and no remote loads.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use super::views::{self, Frame, csrf_field, page};
use super::{Agent, AppState, PageError};
use crate::desk::DeskError;

fn fail(st: &AppState, e: DeskError) -> Response {
    PageError(e).render(&st.desk.config.desk.name)
}

fn ticket_id(st: &AppState, reference: &str) -> Result<u64, Response> {
    st.desk.parse_reference(reference).ok_or_else(|| fail(st, DeskError::NotFound))
}

/// Image types a browser may render inline from us (never SVG: it can script).
pub fn previewable(content_type: &str) -> bool {
    matches!(content_type, "image/png" | "image/jpeg" | "image/gif" | "image/webp")
}

fn disposition(kind: &str, filename: &str) -> String {
    let ascii: String = filename.chars().map(|c| if c.is_ascii_alphanumeric() || ".-_ ()".contains(c) { c } else { '_' }).collect();
    let encoded = percent_encoding::utf8_percent_encode(filename, percent_encoding::NON_ALPHANUMERIC);
    format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct InlineQuery {
    inline: Option<String>,
}

pub async fn attachment(
    State(st): State<AppState>,
    a: Agent,
    Path((reference, seq, idx)): Path<(String, u32, usize)>,
    Query(q): Query<InlineQuery>,
) -> Response {
    let id = match ticket_id(&st, &reference) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let (att, data) = match st.desk.attachment(&a.person, id, seq, idx) {
        Ok(x) => x,
        Err(e) => return fail(&st, e),
    };
    let inline = q.inline.is_some() && previewable(&att.content_type);
    let ctype = if inline { att.content_type.clone() } else { "application/octet-stream".to_string() };
    let mut res = data.into_response();
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&ctype) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&disposition(if inline { "inline" } else { "attachment" }, &att.filename)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=3600"));
    res
}

/// The raw message as text (headers and all), never rendered.
fn raw_text(bytes: Vec<u8>) -> Response {
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let mut res = text.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("inline"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    res
}

pub async fn source(State(st): State<AppState>, a: Agent, Path((reference, seq)): Path<(String, u32)>) -> Response {
    let id = match ticket_id(&st, &reference) {
        Ok(id) => id,
        Err(r) => return r,
    };
    match st.desk.entry_mail(&a.person, id, seq).and_then(|m| st.desk.blob(&m.raw_blob)) {
        Ok(raw) => raw_text(raw),
        Err(e) => fail(&st, e),
    }
}

pub async fn html_body(State(st): State<AppState>, a: Agent, Path((reference, seq)): Path<(String, u32)>) -> Response {
    let id = match ticket_id(&st, &reference) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let meta = match st.desk.entry_mail(&a.person, id, seq) {
        Ok(m) => m,
        Err(e) => return fail(&st, e),
    };
    let Some(blob) = meta.html_blob.as_deref() else { return fail(&st, DeskError::NotFound) };
    let mut html = match st.desk.blob(blob) {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(e) => return fail(&st, e),
    };
    // Inline images: cid: links point at the stored attachments. The
    // Content-IDs come from the sender, so the result is sanitized again:
    // whatever a rewrite produced, no attribute or script survives it.
    for (cid, idx) in &meta.cids {
        let url = format!("/tickets/{}/attachments/{seq}/{idx}?inline=1", st.desk.reference(id));
        html = html.replace(&format!("cid:{cid}"), &url);
    }
    if !meta.cids.is_empty() {
        html = crate::mail::inbound::sanitize_html(&html);
    }
    let doc = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><base target=\"_blank\"></head><body style=\"font-family:system-ui,sans-serif;font-size:14px;margin:8px\">{html}</body></html>"
    );
    let mut res = doc.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    // No scripts, no remote images (no tracking pixels), only our own inline images.
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; frame-ancestors 'self'; sandbox allow-popups allow-popups-to-escape-sandbox"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("SAMEORIGIN"));
    res
}

pub async fn junk_page(State(st): State<AppState>, a: Agent) -> Response {
    let items = match st.desk.junk(&a.person, 500) {
        Ok(x) => x,
        Err(e) => return fail(&st, e),
    };
    let now = st.desk.now();
    let body = html! {
        div.narrow-page.wide-ok {
            h1 { "Junk mail" }
            p.muted { "Bounces, auto-replies and mail without a usable sender. They never create tickets or get automatic answers. If one is real, turn it into a ticket." }
            @if items.is_empty() {
                (views::empty("No junk mail."))
            } @else {
                table.tickets {
                    thead { tr { th { "From" } th { "Subject" } th.hide-sm { "Why" } th.hide-sm { "Received" } th { "" } } }
                    tbody {
                        @for j in &items {
                            tr {
                                td { (j.from) }
                                td.subject { a href=(format!("/junk/{}/source", j.id)) { @if j.subject.is_empty() { "(no subject)" } @else { (j.subject) } } }
                                td.hide-sm.muted { (j.reason) }
                                td.hide-sm.nowrap title=(j.received_at.rfc3339()) { (j.received_at.ago(now)) }
                                td.actions {
                                    form method="post" action=(format!("/junk/{}/ticket", j.id)) {
                                        (csrf_field(&a.csrf))
                                        button type="submit" { "Make ticket" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    let f = Frame { desk_name: &st.desk.config.desk.name, title: "Junk mail".into(), user: Some(&a.person), csrf: &a.csrf, area: "junk" };
    page(&f, body).into_response()
}

pub async fn junk_source(State(st): State<AppState>, a: Agent, Path(id): Path<u64>) -> Response {
    match st.desk.junk_item(&a.person, id).and_then(|j| st.desk.blob(&j.raw_blob)) {
        Ok(raw) => raw_text(raw),
        Err(e) => fail(&st, e),
    }
}

pub async fn junk_to_ticket(State(st): State<AppState>, a: Agent, Path(id): Path<u64>) -> Response {
    match st.desk.junk_to_ticket(&a.person, id) {
        Ok(t) => Redirect::to(&format!("/tickets/{}?done=created", st.desk.reference(t))).into_response(),
        Err(e) => fail(&st, e),
    }
}
