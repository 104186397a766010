//! JSON API v1 with bearer tokens. Same permissions as the UI (enforced in
//! `desk`); errors are `WebError`s, drawn as JSON `{"error": "...", "field": "..."}`
//! with a 4xx code by `web::error`.

mod checklist;
mod directory;
mod orgs;
mod people;
mod recipients;
mod schemas;
pub mod spec;
mod workflow;

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::desk::{NewTicket, TicketPatch, TicketView};
use crate::domain::time::Date;
use crate::domain::{Channel, Person, PersonId, Priority, Ticket, TicketId};
use crate::web::queue::list::{QueueParams, build_query};
use crate::web::{ApiUser, AppState, WebError, WebResult, run_as};
use spec::{Endpoint, Verb, ep};

pub fn routes() -> Router<AppState> {
    spec::router(endpoints())
}

/// Every endpoint of the API (the router and the OpenAPI document).
pub fn endpoints() -> Vec<Endpoint> {
    const LIST: &[(&str, &str)] = &[
        ("status", "open, pending, in_progress, on_hold, resolved, closed, active or all"),
        ("assignee", "me, none or an agent's address"),
        ("priority", "urgent, high, medium or low"),
        ("category", "A category"),
        ("department", "A department"),
        ("team", "A team"),
        ("sort", "updated, created or priority"),
        ("q", "A search in the search box grammar (ranked; the filters above are then ignored)"),
        ("cursor", "The `next` of the previous page"),
        ("limit", "Tickets per page (1-500)"),
    ];
    let mut out = vec![
        ep(Verb::Get, "/tickets", "List or search tickets", "TicketPage", list).query(LIST),
        ep(Verb::Post, "/tickets", "Open a ticket for a requester", "TicketView", create).json("NewTicket").status(201),
        ep(Verb::Get, "/tickets/{reference}", "A ticket with its thread", "TicketView", show),
        ep(Verb::Patch, "/tickets/{reference}", "Change a ticket's fields", "TicketView", patch).json("TicketPatch"),
        ep(Verb::Post, "/tickets/{reference}/entries", "Reply or add an internal note (with attachments)", "TicketView", add_entry)
            .json("NewEntry")
            .status(201),
    ];
    out.extend(checklist::endpoints());
    out.extend(recipients::endpoints());
    out.extend(people::endpoints());
    out.extend(workflow::endpoints());
    out.extend(directory::endpoints());
    out.extend(orgs::endpoints());
    out
}

/// Paging parameters of a listing.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct Paging {
    cursor: Option<String>,
    /// Text, parsed in `window`: flattened into another query struct, serde
    /// hands every value over as a string.
    limit: Option<String>,
}

impl Paging {
    /// (offset, limit) of the page asked for, at most `max` deep.
    fn window(&self, max: usize) -> Result<(usize, usize), WebError> {
        Ok((parse_cursor(self.cursor.as_deref(), max)?, self.limit()?.unwrap_or(100).clamp(1, 500)))
    }

    /// The `limit` asked for, if any.
    fn limit(&self) -> Result<Option<usize>, WebError> {
        match self.limit.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
            None => Ok(None),
            Some(l) => l.parse::<usize>().map(Some).map_err(|_| WebError::invalid("limit", format!("{l:?} is not a number of items"))),
        }
    }
}

/// One page of `items` (loaded up to `offset + limit + 1`) and its `next`.
fn paged<T>(items: Vec<T>, offset: usize, limit: usize) -> (Vec<T>, Value) {
    let more = items.len() > offset + limit;
    let page: Vec<T> = items.into_iter().skip(offset).take(limit).collect();
    (page, if more { Value::String((offset + limit).to_string()) } else { Value::Null })
}

fn person_json(p: Option<&Person>) -> Value {
    match p {
        Some(p) => json!({ "name": p.name, "email": p.email }),
        None => Value::Null,
    }
}

fn ticket_json(st: &AppState, t: &Ticket, people: &HashMap<PersonId, Person>) -> Value {
    json!({
        "ref": st.desk.reference(t.id),
        "id": t.id,
        "subject": t.subject,
        "status": t.status.key(),
        "status_name": st.desk.config().status_name(t),
        "custom_status": st.desk.config().custom_status(t.custom_status.as_deref().unwrap_or("")).filter(|c| c.base() == t.status).map(|c| c.name.clone()),
        "priority": t.priority.key(),
        "category": t.category,
        "department": t.department,
        "channel": t.channel.key(),
        "assignee": person_json(t.assignee.and_then(|a| people.get(&a))),
        "team": t.team,
        "requester": person_json(people.get(&t.requester)),
        "due": t.due.map(|d| d.to_string()),
        "tags": t.tags,
        "fields": t.fields.iter().map(|(n, v)| (n.clone(), Value::String(v.clone()))).collect::<Map<String, Value>>(),
        "created_at": t.created_at.rfc3339(),
        "updated_at": t.updated_at.rfc3339(),
        "url": format!("{}/tickets/{}", st.desk.config().server.public_url.trim_end_matches('/'), st.desk.reference(t.id)),
    })
}

fn view_json(st: &AppState, v: &TicketView) -> Value {
    let mut t = ticket_json(st, &v.ticket, &v.people);
    let files =
        format!("{}/api/v1/tickets/{}/entries", st.desk.config().server.public_url.trim_end_matches('/'), st.desk.reference(v.ticket.id));
    let entries: Vec<Value> = v
        .entries
        .iter()
        .map(|e| {
            json!({
                "seq": e.seq,
                "kind": e.kind.key(),
                "author": person_json(e.author.and_then(|a| v.people.get(&a))),
                "body": e.text(),
                "created_at": e.created_at.rfc3339(),
                "time_spent": v.time_spent.iter().find(|(s, _, _)| *s == e.seq).map(|(_, _, m)| *m),
                "attachments": e.attachments.iter().enumerate().map(|(i, a)| json!({
                    "filename": a.filename, "size": a.size, "content_type": a.content_type,
                    "url": format!("{files}/{}/attachments/{i}", e.seq),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    t["entries"] = Value::Array(entries);
    t["collaborators"] = v.collaborators.iter().map(|p| person_json(Some(p))).collect();
    t["links"] = v.links.iter().map(|(id, _)| Value::String(st.desk.reference(*id))).collect();
    t["trashed_at"] = v.trashed_at.map(|at| Value::String(at.rfc3339())).unwrap_or(Value::Null);
    t["snoozed_until"] = v.snoozed_until.map(|at| Value::String(at.rfc3339())).unwrap_or(Value::Null);
    // The requester's satisfaction rating (an unreadable one reads as none).
    t["rating"] = match st.desk.rating(v.ticket.id) {
        Ok(Some(r)) => json!({"score": r.score.key(), "comment": r.comment, "at": r.at.rfc3339()}),
        _ => Value::Null,
    };
    t["sla"] = v.sla.as_ref().map(|s| crate::desk::sla::sla_json(&st.desk.config(), s, st.desk.now())).unwrap_or(Value::Null);
    let (total, by) = v.time_by_agent();
    t["time_spent"] = json!(total);
    t["time_by_agent"] = by.iter().map(|(p, m)| json!({"agent": person_json(v.people.get(p)), "minutes": m})).collect();
    t["checklist"] = v
        .checklist
        .iter()
        .map(|i| {
            json!({
                "id": i.id,
                "text": i.text,
                "done": i.done,
                "assignee": person_json(i.assignee.and_then(|a| v.people.get(&a))),
                "due": i.due.map(|d| d.to_string()),
            })
        })
        .collect();
    t
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ListParams {
    status: Option<String>,
    assignee: Option<String>,
    priority: Option<String>,
    category: Option<String>,
    department: Option<String>,
    team: Option<String>,
    sort: Option<String>,
    cursor: Option<String>,
    limit: Option<usize>,
    /// A search in the search box grammar; ranked results instead of filters.
    q: Option<String>,
}

/// A page cursor (an offset this API returned), at most `max` deep.
fn parse_cursor(cursor: Option<&str>, max: usize) -> Result<usize, WebError> {
    match cursor {
        None | Some("") => Ok(0),
        Some(c) => match c.parse::<usize>() {
            Ok(n) if n <= max => Ok(n),
            Ok(_) => Err(WebError::invalid("cursor", "is deeper than this listing goes; narrow the query")),
            Err(_) => Err(WebError::invalid("cursor", "is not a cursor this API returned")),
        },
    }
}

/// `GET /tickets?q=…`: the search box over the API (a reference finds that ticket).
fn search(st: &AppState, me: &Person, text: &str, cursor: Option<&str>, limit: Option<usize>) -> Response {
    use crate::desk::workflow::SearchOutcome;
    let limit = limit.unwrap_or(st.desk.config().limits.page_size).clamp(1, 500);
    let offset = match parse_cursor(cursor, crate::desk::workflow::MAX_SEARCH_OFFSET) {
        Ok(n) => n,
        Err(r) => return r.into_response(),
    };
    match st.desk.search(me, text, offset, limit) {
        Ok(SearchOutcome::Jump(id)) => match st.desk.tickets_by_ids(me, &[TicketId(id)]) {
            Ok((tickets, people)) => {
                let list: Vec<Value> = tickets.iter().map(|t| ticket_json(st, t, &people)).collect();
                axum::Json(json!({ "tickets": list, "total": list.len(), "next": Value::Null })).into_response()
            }
            Err(e) => WebError::from(e).into_response(),
        },
        Ok(SearchOutcome::Invalid(e)) => {
            let body =
                json!({ "error": e.message, "field": "q", "at": e.start, "token": text.get(e.start..e.end.min(text.len())).unwrap_or("") });
            (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
        }
        Ok(SearchOutcome::Results(r)) => {
            let list: Vec<Value> = r
                .hits
                .iter()
                .map(|(t, snippet)| {
                    let mut v = ticket_json(st, t, &r.people);
                    if let (Some(s), Some(o)) = (snippet, v.as_object_mut()) {
                        o.insert("snippet".into(), Value::String(s.clone()));
                    }
                    v
                })
                .collect();
            let next = if offset + limit < r.total { Value::String((offset + limit).to_string()) } else { Value::Null };
            axum::Json(json!({ "tickets": list, "total": r.total, "next": next })).into_response()
        }
        Err(e) => WebError::from(e).into_response(),
    }
}

async fn list(
    State(st): State<AppState>,
    ApiUser(me): ApiUser,
    q: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(p)) = q else { return WebError::invalid("query", "malformed query string").into_response() };
    if let Some(text) = p.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        return search(&st, &me, text, p.cursor.as_deref(), p.limit);
    }
    let qp = QueueParams {
        cols: None,
        status: p.status.clone(),
        assignee: p.assignee.clone(),
        priority: p.priority,
        category: p.category,
        department: p.department,
        team: p.team,
        sort: p.sort,
        page: None,
        bulk: None,
    };
    let resolve = |s: &str| st.desk.agent_by_email(s).ok().flatten().map(|p| p.id.0);
    let mut query = match build_query(&st, &me, &qp, resolve) {
        Ok(q) => q,
        Err(e) => return WebError::from(e).into_response(),
    };
    // The API lists every status unless asked (the UI defaults to active ones).
    if p.status.as_deref().map(str::trim).unwrap_or("").is_empty() {
        query.statuses.clear();
    }
    let max = 500;
    query.limit = p.limit.unwrap_or(st.desk.config().limits.page_size).clamp(1, max);
    query.offset = match parse_cursor(p.cursor.as_deref(), crate::desk::workflow::MAX_QUEUE_OFFSET) {
        Ok(n) => n,
        Err(r) => return r.into_response(),
    };
    let (offset, limit) = (query.offset, query.limit);
    match st.desk.queue(&me, query) {
        Ok((tickets, more, people)) => {
            let list: Vec<Value> = tickets.iter().map(|t| ticket_json(&st, t, &people)).collect();
            let next = if more { Value::String((offset + limit).to_string()) } else { Value::Null };
            axum::Json(json!({ "tickets": list, "next": next })).into_response()
        }
        Err(e) => WebError::from(e).into_response(),
    }
}

type Body = Result<Bytes, axum::extract::rejection::BytesRejection>;

/// The request's JSON object body.
fn body_object(st: &AppState, body: Body) -> Result<Map<String, Value>, WebError> {
    let Ok(body) = body else {
        let limit = st.desk.config().limits.request_max_bytes;
        return Err(WebError::new(StatusCode::PAYLOAD_TOO_LARGE, "Too large", format!("request body is larger than {limit} bytes")));
    };
    object(&body)
}

/// Parses a JSON object body; a clear 400 otherwise.
fn object(body: &Bytes) -> Result<Map<String, Value>, WebError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(WebError::invalid("body", "must be a JSON object")),
        Err(e) => Err(WebError::invalid("body", format!("is not valid JSON: {e}"))),
    }
}

fn check_keys(m: &Map<String, Value>, allowed: &[&str]) -> Result<(), WebError> {
    match m.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => {
            Err(WebError::new(StatusCode::BAD_REQUEST, "Bad request", format!("unknown field {k:?}; known fields: {}", allowed.join(", ")))
                .with_field(k))
        }
        None => Ok(()),
    }
}

fn opt_str<'a>(m: &'a Map<String, Value>, key: &'static str) -> Result<Option<&'a str>, WebError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(WebError::invalid(key, "must be a string")),
    }
}

/// `attachments`: `[{"filename", "content_type", "data": base64}]`.
fn uploads(m: &Map<String, Value>) -> Result<Vec<(String, String, Vec<u8>)>, WebError> {
    use base64::Engine;
    let Some(list) = m.get("attachments") else { return Ok(Vec::new()) };
    let bad = || WebError::invalid("attachments", "must be a list of {\"filename\", \"content_type\", \"data\" (base64)}");
    let mut out = Vec::new();
    for a in list.as_array().ok_or_else(bad)? {
        let a = a.as_object().ok_or_else(bad)?;
        check_keys(a, &["filename", "content_type", "data"])?;
        let name = opt_str(a, "filename")?.filter(|n| !n.trim().is_empty()).ok_or_else(bad)?;
        // Only `type/subtype` of token characters reaches a mail header.
        let token = |s: &str| !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b));
        let ctype = match opt_str(a, "content_type")?.map(str::trim) {
            Some(c) if c.split_once('/').is_some_and(|(t, s)| token(t) && token(s)) => c,
            _ => "application/octet-stream",
        };
        let data = base64::engine::general_purpose::STANDARD
            .decode(opt_str(a, "data")?.ok_or_else(bad)?)
            .map_err(|e| WebError::invalid("attachments", format!("{name}: data is not base64 ({e})")))?;
        out.push((name.to_string(), ctype.to_string(), data));
    }
    Ok(out)
}

/// `fields`: `{name: value}` — a string, number, boolean, list of strings
/// (a multi-select) or null (clears it).
fn fields_of(m: &Map<String, Value>) -> Result<Vec<(String, Vec<String>)>, WebError> {
    let Some(v) = m.get("fields") else { return Ok(Vec::new()) };
    let bad =
        |name: &str| WebError::invalid("fields", format!("{name}: a value is a string, number, true/false, a list of strings or null"));
    let obj = v.as_object().ok_or_else(|| WebError::invalid("fields", "must be an object of field name → value"))?;
    obj.iter()
        .map(|(name, v)| {
            let values = match v {
                Value::Null => Vec::new(),
                Value::String(s) => vec![s.clone()],
                Value::Number(n) => vec![n.to_string()],
                Value::Bool(b) => vec![if *b { "yes" } else { "no" }.to_string()],
                Value::Array(a) => a.iter().map(|x| x.as_str().map(str::to_string).ok_or_else(|| bad(name))).collect::<Result<_, _>>()?,
                Value::Object(_) => return Err(bad(name)),
            };
            Ok((name.clone(), values))
        })
        .collect()
}

fn opt_bool(m: &Map<String, Value>, key: &'static str) -> Result<Option<bool>, WebError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(WebError::invalid(key, "must be true or false")),
    }
}

/// `status`: a built-in state or one of the desk's `[[status]]` names.
fn status_of(st: &AppState, m: &Map<String, Value>) -> Result<Option<crate::config::StatusChoice>, WebError> {
    match opt_str(m, "status")? {
        None => Ok(None),
        Some(s) => st.desk.config().status_choice(s).map(Some).ok_or_else(|| {
            let custom: String = st.desk.config().status.iter().map(|c| format!(", {:?}", c.name)).collect();
            let hint = format!("{STATUSES}{custom}");
            WebError::invalid("status", format!("{s:?} is not valid; use {hint}"))
        }),
    }
}

fn parse_enum<T>(m: &Map<String, Value>, key: &'static str, parse: fn(&str) -> Option<T>, hint: &str) -> Result<Option<T>, WebError> {
    match opt_str(m, key)? {
        None => Ok(None),
        Some(s) => parse(s).map(Some).ok_or_else(|| WebError::invalid(key, format!("{s:?} is not valid; use {hint}"))),
    }
}

const STATUSES: &str = "open, pending, in_progress, on_hold, resolved, closed";
const PRIORITIES: &str = "urgent, high, medium, low";

fn tags_of(m: &Map<String, Value>) -> Result<Option<Vec<String>>, WebError> {
    match m.get("tags") {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(Vec::new())),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().map(str::to_string).ok_or_else(|| WebError::invalid("tags", "must be a list of strings")))
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(WebError::invalid("tags", "must be a list of strings")),
    }
}

fn due_of(m: &Map<String, Value>) -> Result<Option<Option<Date>>, WebError> {
    match m.get("due") {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(s)) => {
            Date::parse(s).map(|d| Some(Some(d))).ok_or_else(|| WebError::invalid("due", format!("{s:?} is not a date like 2026-12-31")))
        }
        Some(_) => Err(WebError::invalid("due", "must be a date string like 2026-12-31 or null")),
    }
}

async fn create(State(st): State<AppState>, ApiUser(me): ApiUser, body: Body) -> WebResult {
    {
        let m = body_object(&st, body)?;
        check_keys(
            &m,
            &[
                "subject",
                "body",
                "requester",
                "channel",
                "priority",
                "category",
                "department",
                "assignee",
                "due",
                "tags",
                "notify_requester",
                "fields",
            ],
        )?;
        let (rname, remail) = match m.get("requester") {
            Some(Value::Object(r)) => (
                r.get("name").and_then(Value::as_str).unwrap_or("").to_string(),
                r.get("email").and_then(Value::as_str).unwrap_or("").to_string(),
            ),
            Some(Value::String(e)) => (String::new(), e.clone()),
            _ => return Err(WebError::invalid("requester", "is required: {\"name\": \"…\", \"email\": \"…\"}")),
        };
        let assignee = match opt_str(&m, "assignee")? {
            None => None,
            Some(e) => Some(
                st.desk.agent_by_email(e)?.map(|p| p.id).ok_or_else(|| WebError::invalid("assignee", format!("{e:?} is not an agent")))?,
            ),
        };
        let new = NewTicket {
            subject: opt_str(&m, "subject")?.unwrap_or("").to_string(),
            body: opt_str(&m, "body")?.unwrap_or("").to_string(),
            requester_name: rname,
            requester_email: remail,
            channel: parse_enum(&m, "channel", Channel::parse, "email, web, phone, chat, internal")?.or(Some(Channel::Web)),
            priority: parse_enum(&m, "priority", Priority::parse, PRIORITIES)?,
            category: opt_str(&m, "category")?.map(str::to_string),
            department: opt_str(&m, "department")?.map(str::to_string),
            assignee,
            due: due_of(&m)?.flatten(),
            tags: tags_of(&m)?.unwrap_or_default(),
            notify_requester: opt_bool(&m, "notify_requester")?,
            fields: fields_of(&m)?,
        };
        let t = run_as(&st.desk, &me, move |d, me| d.create_ticket(me, new)).await?;
        let v = st.desk.ticket_view(&me, t.id)?;
        Ok((
            StatusCode::CREATED,
            [(header::LOCATION, format!("/api/v1/tickets/{}", st.desk.reference(t.id)))],
            axum::Json(view_json(&st, &v)),
        )
            .into_response())
    }
}

fn find(st: &AppState, me: &Person, reference: &str) -> Result<TicketView, WebError> {
    let id = st.desk.parse_reference(reference).ok_or_else(WebError::not_found)?;
    Ok(st.desk.ticket_view(me, id)?)
}

async fn show(State(st): State<AppState>, ApiUser(me): ApiUser, Path(reference): Path<String>) -> WebResult {
    let v = find(&st, &me, &reference)?;
    Ok(axum::Json(view_json(&st, &v)).into_response())
}

async fn add_entry(State(st): State<AppState>, ApiUser(me): ApiUser, Path(reference): Path<String>, body: Body) -> WebResult {
    {
        let m = body_object(&st, body)?;
        check_keys(&m, &["body", "internal", "status", "mail", "attachments", "time_spent"])?;
        let v = find(&st, &me, &reference)?;
        let (internal, mail) = (opt_bool(&m, "internal")?.unwrap_or(false), opt_bool(&m, "mail")?.unwrap_or(true));
        let status = status_of(&st, &m)?;
        let body = opt_str(&m, "body")?.unwrap_or("").to_string();
        let (status, custom_status) = match status {
            Some(c) => (Some(c.base), c.custom),
            None => (None, None),
        };
        let files = uploads(&m)?;
        let minutes = match m.get("time_spent") {
            None | Some(Value::Null) => 0,
            Some(Value::Number(n)) => {
                n.as_u64().and_then(|n| u32::try_from(n).ok()).ok_or_else(|| WebError::invalid("time_spent", "must be whole minutes"))?
            }
            Some(_) => return Err(WebError::invalid("time_spent", "must be whole minutes")),
        };
        let (id, e) = (v.ticket.id, crate::desk::NewEntry { body, internal, status, custom_status, files, mail, minutes });
        run_as(&st.desk, &me, move |d, me| d.post_entry(me, id, e)).await?;
        let v = st.desk.ticket_view(&me, v.ticket.id)?;
        Ok((StatusCode::CREATED, axum::Json(view_json(&st, &v))).into_response())
    }
}

async fn patch(State(st): State<AppState>, ApiUser(me): ApiUser, Path(reference): Path<String>, body: Body) -> WebResult {
    {
        let m = body_object(&st, body)?;
        check_keys(
            &m,
            &["subject", "status", "priority", "category", "department", "assignee", "due", "tags", "team", "fields", "snooze_until"],
        )?;
        let v = find(&st, &me, &reference)?;
        let assignee = match m.get("assignee") {
            None => None,
            Some(Value::Null) => Some(None),
            Some(Value::String(e)) if e.is_empty() => Some(None),
            Some(Value::String(e)) => Some(Some(
                st.desk.agent_by_email(e)?.map(|p| p.id).ok_or_else(|| WebError::invalid("assignee", format!("{e:?} is not an agent")))?,
            )),
            Some(_) => return Err(WebError::invalid("assignee", "must be an agent's email or null")),
        };
        let status = status_of(&st, &m)?;
        let p = TicketPatch {
            subject: opt_str(&m, "subject")?.map(str::to_string),
            status: status.as_ref().map(|s| s.base),
            custom_status: status.and_then(|s| s.custom),
            priority: parse_enum(&m, "priority", Priority::parse, PRIORITIES)?,
            category: opt_str(&m, "category")?.map(str::to_string),
            department: opt_str(&m, "department")?.map(str::to_string),
            assignee,
            due: due_of(&m)?,
            tags: tags_of(&m)?,
            team: match m.get("team") {
                None => None,
                Some(Value::Null) => Some(None),
                Some(Value::String(t)) => Some(Some(t.clone())),
                Some(_) => return Err(WebError::invalid("team", "must be a team's name or null")),
            },
            fields: fields_of(&m)?,
            snooze_until: match opt_str(&m, "snooze_until")? {
                Some(s) => Some(
                    crate::web::ticket::snooze::parse_instant(s, None)
                        .ok_or_else(|| WebError::invalid("snooze_until", format!("{s:?} is not a time like 2026-12-31T09:00:00Z")))?,
                ),
                None => None,
            },
        };
        let id = v.ticket.id;
        run_as(&st.desk, &me, move |d, me| d.update_ticket(me, id, p)).await?;
        let v = st.desk.ticket_view(&me, v.ticket.id)?;
        Ok(axum::Json(view_json(&st, &v)).into_response())
    }
}
