//! API v1: the work around tickets — attachments, merge, links, Trash,
//! Junk, saved views, the outbox (admins) and raw mail handed to the desk
//! (`POST /mail`, osTicket's remote piping over HTTP, into the same spool
//! as SMTP). The desk checks every role as it does for the UI.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::spec::{Endpoint, Output, PAGED, Verb, ep};
use super::{Body, Paging, body_object, check_keys, find, opt_str, paged, ticket_json, view_json};
use crate::domain::{JunkId, OutMailId, TicketId};
use crate::store::SpoolEntry;
use crate::web::{ApiUser, AppState, WebError, WebResult, blocking, run_as};

pub fn endpoints() -> Vec<Endpoint> {
    const RAW: &[(&str, &str)] = &[
        ("to", "The mailbox it is for (default: the first of Delivered-To, To, Cc that is one, else the first mailbox)"),
        ("from", "The envelope sender (default: the From address)"),
    ];
    vec![
        ep(Verb::Get, "/tickets/{reference}/entries/{seq}/attachments/{index}", "Download an attachment", "", attachment)
            .output(Output::Binary),
        ep(Verb::Post, "/tickets/{reference}/merge", "Merge this ticket into another (answers the survivor)", "TicketView", merge)
            .json("Merge"),
        ep(Verb::Post, "/tickets/{reference}/links", "Link a related ticket", "TicketView", link).json("Link"),
        ep(Verb::Delete, "/tickets/{reference}/links/{other}", "Unlink a related ticket", "TicketView", unlink),
        ep(Verb::Post, "/tickets/{reference}/trash", "Move a ticket to Trash", "TicketView", trash),
        ep(Verb::Delete, "/tickets/{reference}/trash", "Restore a ticket from Trash", "TicketView", restore),
        ep(Verb::Get, "/trash", "Tickets in Trash, newest first", "TrashPage", trashed).query(PAGED),
        ep(Verb::Get, "/junk", "Mail held in Junk, newest first", "JunkPage", junk).query(PAGED),
        ep(Verb::Post, "/junk/{id}/ticket", "Not junk: make the held mail a ticket", "TicketView", not_junk).status(201),
        ep(Verb::Get, "/views", "The views of the sidebar: shared ones and the caller's saved searches", "ViewList", views),
        ep(Verb::Get, "/views/{name}/tickets", "Run a view", "TicketPage", run_view).query(PAGED),
        ep(Verb::Get, "/admin/outbox", "Outgoing mail waiting or given up on (admins)", "OutboxPage", outbox).query(PAGED),
        ep(Verb::Post, "/admin/outbox/{id}/retry", "Try a mail again now (admins)", "", retry).status(204).output(Output::Empty),
        ep(Verb::Post, "/mail", "Hand the desk a raw RFC 5322 message, as if it came by SMTP (admins, scope admin)", "MailAccepted", mail)
            .raw("message/rfc822")
            .query(RAW)
            .status(202),
    ]
}

fn ticket_id(st: &AppState, reference: &str) -> Result<TicketId, WebError> {
    st.desk.parse_reference(reference).ok_or_else(WebError::not_found)
}

/// The survivor's view after a change to `id`.
fn answer(st: &AppState, me: &crate::domain::Person, id: TicketId) -> WebResult {
    let v = st.desk.ticket_view(me, st.desk.survivor(id)?)?;
    Ok(axum::Json(view_json(st, &v)).into_response())
}

async fn attachment(
    State(st): State<AppState>,
    ApiUser(me): ApiUser,
    Path((reference, seq, index)): Path<(String, u32, usize)>,
) -> WebResult {
    let id = ticket_id(&st, &reference)?;
    let (a, data) = blocking(&st.desk, move |d| d.attachment(&me, id, seq, index)).await?;
    let disposition = crate::web::ticket::parts::disposition("attachment", &a.filename);
    let headers = [
        (header::CONTENT_TYPE, "application/octet-stream".to_string()),
        (header::CONTENT_DISPOSITION, disposition),
        (header::HeaderName::from_static("x-content-type"), a.content_type.replace(['\r', '\n'], "")),
    ];
    Ok((headers, data).into_response())
}

/// `{"into": reference}`.
async fn merge(State(st): State<AppState>, ApiUser(me): ApiUser, Path(reference): Path<String>, body: Body) -> WebResult {
    let m = body_object(&st, body)?;
    check_keys(&m, &["into"])?;
    let from = find(&st, &me, &reference)?.ticket.id;
    let into = opt_str(&m, "into")?.ok_or_else(|| WebError::invalid("into", "is required: the reference to merge into"))?;
    let into = st.desk.parse_reference(into).ok_or_else(|| WebError::invalid("into", format!("{into:?} is not a ticket reference")))?;
    let kept = run_as(&st.desk, &me, move |d, me| d.merge(me, from, into)).await?;
    answer(&st, &me, kept.id)
}

async fn set_link(st: &AppState, me: crate::domain::Person, reference: &str, other: &str, on: bool) -> WebResult {
    let a = find(st, &me, reference)?.ticket.id;
    let b = st.desk.parse_reference(other).ok_or_else(|| WebError::invalid("ref", format!("{other:?} is not a ticket reference")))?;
    run_as(&st.desk, &me, move |d, me| d.set_link(me, a, b, on)).await?;
    answer(st, &me, a)
}

/// `{"ref": reference}`.
async fn link(State(st): State<AppState>, ApiUser(me): ApiUser, Path(reference): Path<String>, body: Body) -> WebResult {
    let m = body_object(&st, body)?;
    check_keys(&m, &["ref"])?;
    let other = opt_str(&m, "ref")?.ok_or_else(|| WebError::invalid("ref", "is required"))?.to_string();
    set_link(&st, me, &reference, &other, true).await
}

async fn unlink(State(st): State<AppState>, ApiUser(me): ApiUser, Path((reference, other)): Path<(String, String)>) -> WebResult {
    set_link(&st, me, &reference, &other, false).await
}

async fn trash(State(st): State<AppState>, ApiUser(me): ApiUser, Path(reference): Path<String>) -> WebResult {
    let id = ticket_id(&st, &reference)?;
    run_as(&st.desk, &me, move |d, me| d.set_trashed(me, id, true)).await?;
    answer(&st, &me, id)
}

async fn restore(State(st): State<AppState>, ApiUser(me): ApiUser, Path(reference): Path<String>) -> WebResult {
    let id = ticket_id(&st, &reference)?;
    run_as(&st.desk, &me, move |d, me| d.set_trashed(me, id, false)).await?;
    answer(&st, &me, id)
}

async fn trashed(State(st): State<AppState>, ApiUser(me): ApiUser, Query(p): Query<Paging>) -> WebResult {
    let (offset, limit) = p.window(10_000)?;
    let who = me.clone();
    let (list, people) = blocking(&st.desk, move |d| {
        let list = d.trash(&who, offset + limit + 1)?;
        let people = d.people_of(list.iter().map(|(t, _)| t))?;
        Ok((list, people))
    })
    .await?;
    let (page, next) = paged(list, offset, limit);
    let items: Vec<Value> =
        page.iter().map(|(t, at)| json!({"ticket": ticket_json(&st, t, &people), "trashed_at": at.rfc3339()})).collect();
    Ok(axum::Json(json!({"trashed": items, "next": next})).into_response())
}

async fn junk(State(st): State<AppState>, ApiUser(me): ApiUser, Query(p): Query<Paging>) -> WebResult {
    let (offset, limit) = p.window(10_000)?;
    let list = blocking(&st.desk, move |d| d.junk(&me, offset + limit + 1)).await?;
    let (page, next) = paged(list, offset, limit);
    let items: Vec<Value> = page
        .iter()
        .map(|j| {
            json!({"id": j.id, "received_at": j.received_at.rfc3339(), "from": j.from, "subject": j.subject, "reason": j.reason,
                   "mail_from": j.mail_from, "rcpt_to": j.rcpt_to})
        })
        .collect();
    Ok(axum::Json(json!({"junk": items, "next": next})).into_response())
}

async fn not_junk(State(st): State<AppState>, ApiUser(me): ApiUser, Path(id): Path<JunkId>) -> WebResult {
    let t = run_as(&st.desk, &me, move |d, me| d.junk_to_ticket(me, id)).await?;
    let v = st.desk.ticket_view(&me, t)?;
    Ok((StatusCode::CREATED, axum::Json(view_json(&st, &v))).into_response())
}

/// The views the caller sees: (name, query, columns, shared).
fn views_of(st: &AppState, me: &crate::domain::Person) -> Result<Vec<(String, String, String, bool)>, WebError> {
    let mut out: Vec<(String, String, String, bool)> =
        st.desk.config().view.iter().map(|v| (v.name.clone(), v.query.clone(), v.columns.clone(), true)).collect();
    out.extend(st.desk.saved_searches(me)?.into_iter().map(|(n, q, c)| (n, q, c, false)));
    Ok(out)
}

async fn views(State(st): State<AppState>, ApiUser(me): ApiUser) -> WebResult {
    let list: Vec<Value> = views_of(&st, &me)?
        .into_iter()
        .map(|(name, query, columns, shared)| json!({"name": name, "query": query, "columns": columns, "shared": shared}))
        .collect();
    Ok(axum::Json(json!({"views": list})).into_response())
}

async fn run_view(State(st): State<AppState>, ApiUser(me): ApiUser, Path(name): Path<String>, Query(p): Query<Paging>) -> WebResult {
    let query =
        views_of(&st, &me)?.into_iter().find(|v| v.0.eq_ignore_ascii_case(name.trim())).map(|v| v.1).ok_or_else(WebError::not_found)?;
    Ok(super::search(&st, &me, &query, p.cursor.as_deref(), p.limit()?))
}

async fn outbox(State(st): State<AppState>, ApiUser(me): ApiUser, Query(p): Query<Paging>) -> WebResult {
    let (offset, limit) = p.window(10_000)?;
    let list = blocking(&st.desk, move |d| d.outbox(&me, offset + limit + 1)).await?;
    let (page, next) = paged(list, offset, limit);
    let items: Vec<Value> = page
        .iter()
        .map(|m| {
            json!({
                "id": m.id, "ticket": m.ticket.map(|t| st.desk.reference(t)), "kind": m.kind, "from": m.from, "to": m.to, "cc": m.cc,
                "pending": m.pending, "subject": m.subject, "created_at": m.created_at.rfc3339(), "attempts": m.attempts,
                "next_attempt": m.next_attempt.rfc3339(), "failed": m.failed, "last_error": m.last_error,
            })
        })
        .collect();
    Ok(axum::Json(json!({"mails": items, "next": next})).into_response())
}

async fn retry(State(st): State<AppState>, ApiUser(me): ApiUser, Path(id): Path<OutMailId>) -> WebResult {
    run_as(&st.desk, &me, move |d, me| d.outbox_retry(me, id)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct Envelope {
    to: Option<String>,
    from: Option<String>,
}

/// `POST /mail`: the raw message goes into the spool like SMTP's, and the
/// mail worker makes it a ticket, a reply or Junk as it would any mail.
async fn mail(
    State(st): State<AppState>,
    ApiUser(me): ApiUser,
    Query(env): Query<Envelope>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> WebResult {
    // Mail handed over here skips SMTP's checks of its sender (no SPF,
    // DKIM or DMARC result): only an admin, with a token of the admin scope.
    if !me.is_admin() {
        return Err(WebError::new(StatusCode::FORBIDDEN, "Forbidden", "only admins hand the desk raw mail"));
    }
    let max = st.desk.config().smtp.max_message_size;
    let raw =
        body.map_err(|_| WebError::new(StatusCode::PAYLOAD_TOO_LARGE, "Too large", format!("the message is larger than {max} bytes")))?;
    if raw.len() > max {
        return Err(WebError::new(StatusCode::PAYLOAD_TOO_LARGE, "Too large", format!("the message is larger than {max} bytes")));
    }
    if !crate::mail::ingest::looks_like_mail(&raw) {
        return Err(WebError::invalid("body", "is not an RFC 5322 message (no header section)"));
    }
    let cfg = &st.desk.config();
    let rcpt = match env.to.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) if cfg.mailbox_for(t).is_some() => t.to_string(),
        Some(t) => return Err(WebError::invalid("to", format!("{t:?} is not one of the desk's mailboxes"))),
        None => crate::mail::ingest::recipient_of(cfg, &raw).ok_or_else(|| WebError::invalid("to", "no [[mailbox]] is configured"))?,
    };
    let mail_from = env.from.unwrap_or_else(|| crate::mail::ingest::sender_of(&raw));
    let now = st.desk.now();
    let raw = crate::mail::ingest::stamped(cfg, &format!("frontdesk API, token of {}", me.email), now, &raw);
    let entry =
        SpoolEntry { received_at: now, mail_from, rcpt_to: vec![rcpt], size: raw.len() as u64, source: format!("api {}", me.email) };
    let ids = blocking(&st.desk, move |d| d.spool_mail(&[(&entry, &raw)])).await?;
    let id = ids.first().copied().unwrap_or_default();
    Ok((StatusCode::ACCEPTED, axum::Json(json!({"spooled": id}))).into_response())
}
