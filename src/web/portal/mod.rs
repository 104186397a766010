//! The requester's view: a read-only page of their ticket's public thread and
//! status, reached by the signed, expiring link in the desk's mail, with a box
//! to reply. No login; the link is the key, and it never shows internal notes.

use axum::Form;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::html;
use serde::Deserialize;

use crate::desk::DeskError;
use crate::domain::PersonId;
use crate::web::ui;
use crate::web::{AppState, PRE_COOKIE, WebError, blocking, cookie, set_cookie};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/t/{reference}", get(view))
        .route("/t/{reference}/reply", post(reply))
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
}

/// A link that is expired, forged or points at nothing.
fn gone() -> Response {
    WebError::new(
        StatusCode::NOT_FOUND,
        "This link is not valid any more",
        "Links to a ticket work for a few days. Reply to any of our emails about it and the next answer brings a fresh link.",
    )
    .into_response()
}

pub async fn view(State(st): State<AppState>, headers: HeaderMap, Path(reference): Path<String>, Query(q): Query<LinkQuery>) -> Response {
    let Some(id) = st.desk.parse_reference(&reference) else { return gone() };
    let (t, entries) = match st.desk.portal_view(id, q.p.map(PersonId), q.e, &q.s) {
        Ok(x) => x,
        Err(DeskError::NotFound) => return gone(),
        Err(e) => return WebError::from(e).into_response(),
    };
    let pre = match cookie(&headers, PRE_COOKIE).filter(|v| v.len() == 64) {
        Some(v) => v.to_string(),
        None => match crate::desk::auth::random_token() {
            Ok(t) => t,
            Err(e) => return WebError::from(e).into_response(),
        },
    };
    let r = st.desk.reference(id);
    let body = html! {
        div.card.portal {
            div.brand.big { span.logo { "fd" } span { (st.desk.config().desk.name) } }
            p.muted { "Ticket " (r) }
            h1 { (t.subject) }
            p { "Status: " (ui::ticket_status(&st.desk.config(), &t)) }
            @if q.done.is_some() { (ui::notice("ok", "Thank you, your reply was added.")) }
            @for (who, e) in &entries {
                article.entry.reply {
                    header { span.who { (who) } span.muted { (crate::web::ui::when_at(e.created_at)) } }
                    (ui::text_block(&e.body))
                }
            }
            @if t.is_closed() {
                p.muted { "This ticket is closed. Write to us by email to open a new one." }
            } @else {
                form.replybox method="post" action=(format!("/t/{r}/reply")) {
                    input type="hidden" name="_csrf" value=(pre);
                    @if let Some(p) = q.p { input type="hidden" name="p" value=(p); }
                    input type="hidden" name="e" value=(q.e);
                    input type="hidden" name="s" value=(q.s);
                    textarea name="body" rows="5" required placeholder="Write your reply…" {}
                    div.reply-actions { button.primary type="submit" { "Send reply" } }
                }
            }
        }
    };
    let page = ui::card_page(&format!("{r} {}", t.subject), &st.desk.config().desk.name, body);
    ([(header::SET_COOKIE, set_cookie(&st.desk, PRE_COOKIE, &pre, 3600))], page).into_response()
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ReplyForm {
    p: Option<u64>,
    e: i64,
    s: String,
    body: String,
}

pub async fn reply(State(st): State<AppState>, Path(reference): Path<String>, Form(f): Form<ReplyForm>) -> Response {
    let Some(id) = st.desk.parse_reference(&reference) else { return gone() };
    let (p, e, s, body) = (f.p.map(PersonId), f.e, f.s.clone(), f.body.clone());
    match blocking(&st.desk, move |d| d.portal_reply(id, p, e, &s, &body)).await {
        Ok(_) => {
            let p = f.p.map(|p| format!("p={p}&")).unwrap_or_default();
            let s: String = f.s.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
            Redirect::to(&format!("/t/{}?{p}e={}&s={s}&done=1", st.desk.reference(id), f.e)).into_response()
        }
        Err(DeskError::NotFound) => gone(),
        Err(e) => WebError::from(e).into_response(),
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
    let Some(id) = st.desk.parse_reference(&reference) else { return gone() };
    if !st.desk.verify(&crate::desk::notify::unsubscribe_claim(id.0, person), &q.s) {
        return gone();
    }
    let body = html! {
        form.card.narrow.login method="post" action=(format!("/u/{reference}/{person}?s={}", q.s)) {
            h1 { "Stop mail about " (reference) "?" }
            p { "You were copied on this conversation. You will get no more mail about it." }
            button.primary type="submit" { "Unsubscribe" }
        }
    };
    ui::card_page("Unsubscribe", &st.desk.config().desk.name, body).into_response()
}

/// One-click unsubscribe (RFC 8058): the signed link is the authorization.
pub async fn unsubscribe(
    State(st): State<AppState>,
    Path((reference, person)): Path<(String, u64)>,
    Query(q): Query<UnsubQuery>,
) -> Response {
    let Some(id) = st.desk.parse_reference(&reference) else { return gone() };
    let sig = q.s.clone();
    match blocking(&st.desk, move |d| d.unsubscribe(id, PersonId(person), &sig)).await {
        Ok(email) => {
            let body = html! { div.card.narrow { h1 { "Unsubscribed" } p { (email) " will get no more mail about " (reference) "." } } };
            ui::card_page("Unsubscribed", &st.desk.config().desk.name, body).into_response()
        }
        Err(DeskError::NotFound) => gone(),
        Err(e) => WebError::from(e).into_response(),
    }
}
