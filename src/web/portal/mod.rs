//! The requester's view: a read-only page of their ticket's public thread and
//! status, reached by the signed, expiring link in the desk's mail, with a box
//! to reply. No login; the link is the key, and it never shows internal notes.
//! `rating`: the satisfaction rating page of the resolved mail's links;
//! `help`: the help page, where customers sign in by a mailed link;
//! `request`: its request form; `kb`: the public knowledge base; `widget`:
//! the help widget other sites embed.

pub mod help;
mod kb;
mod rating;
mod request;
mod widget;

pub use widget::origin_refused;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::html;
use serde::Deserialize;

use crate::desk::DeskError;
use crate::domain::PersonId;
use crate::tr;
use crate::web::ui;
use crate::web::{AppState, PRE_COOKIE, WebError, blocking, cookie};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/t/{reference}", get(view))
        .route("/t/{reference}/reply", post(reply))
        .route("/t/{reference}/close", post(close))
        .route("/t/{reference}/rate", get(rating::page).post(rating::rate))
        .route("/help", get(help::home))
        .route("/help/link", post(help::request_link))
        .route("/help/in", get(help::sign_in_page).post(help::sign_in))
        .route("/help/tickets", get(help::tickets))
        .route("/help/out", post(help::sign_out))
        .route("/help/request", post(request::submit))
        .route("/help/confirm", get(request::confirm))
        .route("/help/brand.css", get(help::brand_css))
        .route("/help/logo", get(help::logo))
        .route("/help/suggest", get(kb::suggest).options(widget::preflight))
        .route("/help/widget", post(widget::submit).options(widget::preflight))
        .route("/help/widget/form", get(widget::form).options(widget::preflight))
        .route("/widget.js", get(widget::script))
        .route("/help/kb", get(kb::home))
        .route("/help/kb/search", get(kb::search))
        .route("/help/kb/category/{id}", get(kb::category))
        .route("/help/kb/{article}", get(kb::article))
        .route("/help/kb/{article}/feedback", post(kb::feedback))
        .route("/help/kb/{article}/files/{name}", get(kb::file))
        .route("/t/{reference}/files/{seq}/{idx}", get(file))
        .route("/u/{reference}/{person}", get(unsubscribe_page).post(unsubscribe))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LinkQuery {
    /// Whose link it is (absent: the requester's, as in older mail).
    p: Option<u64>,
    e: i64,
    s: String,
    done: Option<String>,
    /// Why the last reply was refused, and its text (kept for another
    /// try); set by the reply handler only, never from the address.
    #[serde(skip)]
    error: Option<String>,
    #[serde(skip)]
    body: Option<String>,
}

pub async fn view(State(st): State<AppState>, headers: HeaderMap, Path(reference): Path<String>, Query(q): Query<LinkQuery>) -> Response {
    let Some(id) = st.desk.parse_reference(&reference) else { return help::expired(&st) };
    render(&st, &headers, id, q, StatusCode::OK)
}

/// The ticket page of a link (`q`), with `status`.
fn render(st: &AppState, headers: &HeaderMap, id: crate::domain::TicketId, q: LinkQuery, status: StatusCode) -> Response {
    let (t, entries) = match st.desk.portal_view(id, q.p.map(PersonId), q.e, &q.s) {
        Ok(x) => x,
        Err(e) => return help::customer_error(st, e),
    };
    let pre = match pre_token(headers) {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    let r = st.desk.reference(id);
    let key = link_key(q.p, q.e, &q.s);
    let body = html! {
        p.muted { (tr!("Ticket {reference}", reference = r)) }
        h1 { (t.subject) }
        p { (tr!("Status:")) " " (ui::customer_status(&st.desk.config(), &t)) }
        @match q.done.as_deref() {
            Some("closed") => (ui::notice("ok", tr!("Your ticket is closed. Thank you!"))),
            Some(_) => (ui::notice("ok", tr!("Thank you, your reply was added."))),
            None => {}
        }
        @for (who, e) in &entries {
            article.entry.reply {
                header { span.who { (who) } span.muted { (crate::web::ui::when_at(e.created_at)) } }
                (ui::text_block(&e.body))
                @if !e.attachments.is_empty() {
                    ul.attachments aria-label=(tr!("Files")) {
                        @for (i, f) in e.attachments.iter().enumerate() {
                            li { a href=(format!("/t/{r}/files/{}/{i}?{key}", e.seq)) download=(f.filename) { (f.filename) } span.muted { " " (size(f.size)) } }
                        }
                    }
                }
            }
        }
        @if t.is_closed() {
            p.muted { (tr!("This ticket is closed. Write to us by email to open a new one.")) }
        } @else {
            form.replybox method="post" enctype="multipart/form-data" action=(format!("/t/{r}/reply?_csrf={pre}&{key}")) {
                input type="hidden" name="_csrf" value=(pre);
                @if let Some(p) = q.p { input type="hidden" name="p" value=(p); }
                input type="hidden" name="e" value=(q.e);
                input type="hidden" name="s" value=(q.s);
                @if let Some(err) = &q.error { (ui::notice("error", err)) }
                label for="portal-body" { (tr!("Your reply")) }
                textarea #portal-body name="body" rows="5" placeholder=(tr!("Write your reply…")) { (q.body.clone().unwrap_or_default()) }
                label { (tr!("Attach files")) " " span.muted { (tr!("(up to {size} each)", size = size(st.desk.config().limits.attachment_max_bytes))) }
                    input type="file" name="files" multiple;
                }
                div.reply-actions { button.primary type="submit" { (tr!("Send reply")) } }
            }
            form.inline.close-ticket method="post" action=(format!("/t/{r}/close")) {
                input type="hidden" name="_csrf" value=(pre);
                @if let Some(p) = q.p { input type="hidden" name="p" value=(p); }
                input type="hidden" name="e" value=(q.e);
                input type="hidden" name="s" value=(q.s);
                span.muted { (tr!("All sorted?")) " " }
                button type="submit" { (tr!("Close this ticket")) }
            }
        }
    };
    help::customer_page(st, &format!("{r} {}", t.subject), body, status, Some(&pre))
}

/// The visitor's form token (double-submit with the `fd_pre` cookie): the
/// one they have, else a new one.
fn pre_token(headers: &HeaderMap) -> Result<String, WebError> {
    match cookie(headers, PRE_COOKIE).filter(|v| v.len() == 64) {
        Some(v) => Ok(v.to_string()),
        None => crate::desk::auth::random_token().map_err(WebError::from),
    }
}

/// The query of a ticket link: whose it is, until when, its signature.
fn link_key(p: Option<u64>, e: i64, s: &str) -> String {
    let p = p.map(|p| format!("p={p}&")).unwrap_or_default();
    let s: String = s.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    format!("{p}e={e}&s={s}")
}

/// A size as people read it (numbers as the language writes them).
pub(crate) fn size(bytes: u64) -> String {
    use crate::i18n::format::{decimal, num};
    match bytes {
        0..=1023 => format!("{bytes} B"),
        1024..=1_048_575 => format!("{} KB", num(bytes.div_ceil(1024) as i64)),
        _ => format!("{} MB", decimal(bytes as f64 / 1_048_576.0, 1)),
    }
}

#[derive(Default)]
pub struct ReplyForm {
    p: Option<u64>,
    e: i64,
    s: String,
    body: String,
    files: Vec<crate::web::body::Upload>,
}

/// Reads the ticket page's reply: fields and files (a plain form too).
async fn read_reply(st: &AppState, req: axum::extract::Request) -> Result<ReplyForm, String> {
    let (fields, files) = crate::web::body::fields_and_files(st, req).await?;
    let mut f = ReplyForm { files, ..Default::default() };
    for (name, value) in fields {
        match name.as_str() {
            "p" => f.p = value.parse().ok(),
            "e" => f.e = value.parse().unwrap_or(0),
            "s" => f.s = value,
            "body" => f.body = value,
            _ => {}
        }
    }
    Ok(f)
}

pub async fn reply(State(st): State<AppState>, Path(reference): Path<String>, req: axum::extract::Request) -> Response {
    let Some(id) = st.desk.parse_reference(&reference) else { return help::expired(&st) };
    let headers = req.headers().clone();
    let mut f = match read_reply(&st, req).await {
        Ok(f) => f,
        Err(why) => return WebError::new(StatusCode::BAD_REQUEST, tr!("The reply could not be read"), &why).into_response(),
    };
    let key = link_key(f.p, f.e, &f.s);
    let (p, e, s, body, files) = (f.p.map(PersonId), f.e, f.s.clone(), f.body.clone(), std::mem::take(&mut f.files));
    match blocking(&st.desk, move |d| d.portal_reply(id, p, (e, &s), &body, files)).await {
        Ok(_) => Redirect::to(&format!("/t/{}?{key}&done=1", st.desk.reference(id))).into_response(),
        Err(DeskError::NotFound) => help::expired(&st),
        // Refused (too large, empty): the page again, the reason said and the text kept.
        Err(err @ (DeskError::TooLarge { .. } | DeskError::Invalid { .. })) => {
            let q =
                LinkQuery { p: f.p, e: f.e, s: f.s, done: None, error: Some(crate::web::error::desk_message(&err)), body: Some(f.body) };
            let status = if matches!(err, DeskError::TooLarge { .. }) { StatusCode::PAYLOAD_TOO_LARGE } else { StatusCode::BAD_REQUEST };
            render(&st, &headers, id, q, status)
        }
        Err(e) => WebError::from(e).into_response(),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CloseForm {
    p: Option<u64>,
    e: i64,
    s: String,
}

/// "Close this ticket" on the customer's page.
pub async fn close(State(st): State<AppState>, Path(reference): Path<String>, axum::Form(f): axum::Form<CloseForm>) -> Response {
    let Some(id) = st.desk.parse_reference(&reference) else { return help::expired(&st) };
    let key = link_key(f.p, f.e, &f.s);
    let (p, e, s) = (f.p.map(PersonId), f.e, f.s.clone());
    match blocking(&st.desk, move |d| d.portal_close(id, p, (e, &s))).await {
        Ok(()) => Redirect::to(&format!("/t/{}?{key}&done=closed", st.desk.reference(id))).into_response(),
        Err(e) => help::customer_error(&st, e),
    }
}

/// A file of a public reply, downloaded through the ticket link.
pub async fn file(
    State(st): State<AppState>,
    Path((reference, seq, idx)): Path<(String, u32, usize)>,
    Query(q): Query<LinkQuery>,
) -> Response {
    let Some(id) = st.desk.parse_reference(&reference) else { return help::expired(&st) };
    match st.desk.portal_attachment(id, q.p.map(PersonId), (q.e, &q.s), seq, idx) {
        Ok((att, data)) => {
            let mut res = data.into_response();
            let h = res.headers_mut();
            h.insert(header::CONTENT_TYPE, axum::http::HeaderValue::from_static("application/octet-stream"));
            if let Ok(v) = axum::http::HeaderValue::from_str(&crate::web::ticket::parts::disposition("attachment", &att.filename)) {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            h.insert(header::CONTENT_SECURITY_POLICY, axum::http::HeaderValue::from_static("default-src 'none'; sandbox"));
            res
        }
        Err(e) => help::customer_error(&st, e),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct UnsubQuery {
    s: String,
}

/// Unsubscribe page: a button, so link scanners that merely fetch it change nothing.
pub async fn unsubscribe_page(
    State(st): State<AppState>,
    Path((reference, person)): Path<(String, u64)>,
    Query(q): Query<UnsubQuery>,
) -> Response {
    let Some(id) = st.desk.parse_reference(&reference) else { return help::expired(&st) };
    if !st.desk.verify(&crate::desk::notify::unsubscribe_claim(id.0, person), &q.s) {
        return help::expired(&st);
    }
    let body = html! {
        form.card.narrow.login method="post" action=(format!("/u/{reference}/{person}?s={}", q.s)) {
            h1 { (tr!("Stop mail about {reference}?", reference = reference)) }
            p { (tr!("You were copied on this conversation. You will get no more mail about it.")) }
            button.primary type="submit" { (tr!("Unsubscribe")) }
        }
    };
    ui::card_page(tr!("Unsubscribe"), &st.desk.config().desk.name, body).into_response()
}

/// One-click unsubscribe (RFC 8058): the signed link is the authorization.
pub async fn unsubscribe(
    State(st): State<AppState>,
    Path((reference, person)): Path<(String, u64)>,
    Query(q): Query<UnsubQuery>,
) -> Response {
    let Some(id) = st.desk.parse_reference(&reference) else { return help::expired(&st) };
    let sig = q.s.clone();
    match blocking(&st.desk, move |d| d.unsubscribe(id, PersonId(person), &sig)).await {
        Ok(email) => {
            let body = html! { div.card.narrow { h1 { (tr!("Unsubscribed")) } p { (tr!("{email} will get no more mail about {reference}.", email = email, reference = reference)) } } };
            ui::card_page(tr!("Unsubscribed"), &st.desk.config().desk.name, body).into_response()
        }
        Err(e) => help::customer_error(&st, e),
    }
}
