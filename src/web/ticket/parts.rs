//! Mail on the ticket page: attachment downloads and previews, the raw source
//! of a message ("view original") and its sanitized HTML.
//!
//! Untrusted content stays inert (promise 5): downloads are `attachment` with
//! `nosniff`; only raster images are ever shown inline; HTML is sanitized and
//! served in a sandbox with no scripts and no remote loads.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde::Deserialize;

use crate::web::{Agent, AppState, TicketPath, WebResult};

/// Image types a browser may render inline from us (never SVG: it can script).
/// Largest picture put inside a message's formatted view, and the most of
/// them one message shows that way.
const INLINE_MAX: usize = 2 << 20;
const INLINE_TOTAL: usize = 12 << 20;

pub fn previewable(content_type: &str) -> bool {
    matches!(content_type, "image/png" | "image/jpeg" | "image/gif" | "image/webp")
}

pub(crate) fn disposition(kind: &str, filename: &str) -> String {
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
    t: TicketPath,
    Path((_, seq, idx)): Path<(String, u32, usize)>,
    Query(q): Query<InlineQuery>,
) -> WebResult {
    let (att, data) = st.desk.attachment(&a.person, t.id, seq, idx)?;
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
    Ok(res)
}

/// The formatted (HTML) view of entry `seq`, its inline pictures put in.
/// Each cid: link becomes the picture itself (a data: URL): the frame is
/// sandboxed (an opaque origin that sends no session cookie), so a link to
/// the attachment would get the login page. Pictures of an allowed type are
/// inlined while the bytes they add (each use counted: a sender may repeat
/// one cid many times) stay within INLINE_MAX each and INLINE_TOTAL in
/// all; others stay links. The Content-IDs come from the sender, so the
/// result is sanitized again: whatever a rewrite produced, no attribute or
/// script survives it.
fn formatted(
    d: &crate::desk::Desk,
    who: &crate::domain::Person,
    id: crate::domain::TicketId,
    reference: &str,
    seq: u32,
) -> Result<String, crate::desk::DeskError> {
    let meta = d.entry_mail(who, id, seq)?;
    let blob = meta.html_blob.as_deref().ok_or(crate::desk::DeskError::NotFound)?;
    let mut html = String::from_utf8_lossy(&d.blob(blob)?).into_owned();
    if meta.cids.is_empty() {
        return Ok(html);
    }
    let view = d.ticket_view(who, id)?;
    let files = view.entries.iter().find(|e| e.seq == seq).map(|e| e.attachments.clone()).unwrap_or_default();
    let mut budget = INLINE_TOTAL;
    for (cid, idx) in &meta.cids {
        let needle = format!("cid:{cid}");
        let uses = html.matches(&needle).count();
        if uses == 0 {
            continue;
        }
        let inlined = files.get(*idx).and_then(|att| {
            // Base64 grows the bytes by a third, for every use.
            let cost = (att.size as usize).div_ceil(3).saturating_mul(4).saturating_mul(uses);
            if !previewable(&att.content_type) || att.size as usize > INLINE_MAX || cost > budget {
                return None;
            }
            let data = d.blob(&att.blob).ok()?;
            budget -= cost;
            Some(format!("data:{};base64,{}", att.content_type, base64::engine::general_purpose::STANDARD.encode(&data)))
        });
        let url = inlined.unwrap_or_else(|| format!("/tickets/{reference}/attachments/{seq}/{idx}?inline=1"));
        html = html.replace(&needle, &url);
    }
    Ok(crate::mail::inbound::sanitize_html(&html))
}

/// The raw message as text (headers and all), never rendered.
pub fn raw_text(bytes: Vec<u8>) -> Response {
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let mut res = text.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("inline"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    res
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SourceQuery {
    download: Option<String>,
}

/// The message as received: as text to read, or (`?download=1`) the exact
/// bytes as an `.eml` file for a mail program.
pub async fn source(
    State(st): State<AppState>,
    a: Agent,
    t: TicketPath,
    Path((_, seq)): Path<(String, u32)>,
    Query(q): Query<SourceQuery>,
) -> WebResult {
    let raw = st.desk.entry_mail(&a.person, t.id, seq).and_then(|m| st.desk.blob(&m.raw_blob))?;
    if q.download.is_none() {
        return Ok(raw_text(raw));
    }
    let mut res = raw.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("message/rfc822"));
    if let Ok(v) = HeaderValue::from_str(&disposition("attachment", &format!("{}-{seq}.eml", st.desk.reference(t.id)))) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    Ok(res)
}

pub async fn html_body(State(st): State<AppState>, a: Agent, t: TicketPath, Path((_, seq)): Path<(String, u32)>) -> WebResult {
    let id = t.id;
    let reference = st.desk.reference(id);
    let html = crate::web::run_as(&st.desk, &a.person, move |d, who| formatted(d, who, id, &reference, seq)).await?;
    let doc = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><base target=\"_blank\"></head><body style=\"font-family:system-ui,sans-serif;font-size:14px;margin:8px\">{html}</body></html>"
    );
    let mut res = doc.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    // No scripts, no remote images (no tracking pixels), only our own inline images.
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; frame-ancestors 'self'; sandbox allow-popups allow-popups-to-escape-sandbox"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("SAMEORIGIN"));
    Ok(res)
}
