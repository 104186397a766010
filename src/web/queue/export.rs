//! CSV export of any queue view or search (same filters as the list), streamed
//! page by page so a large view never sits in memory, with a field picker.

use axum::body::Body;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::list::{QueueParams, build_query};
use crate::desk::DeskError;
use crate::domain::{PersonId, TicketId};
use crate::tr;
use crate::web::{Agent, AppState, WebError};

/// Every exportable column: (name in `fields=`, header).
pub const FIELDS: &[(&str, &str)] = &[
    ("ref", "Reference"),
    ("subject", "Subject"),
    ("status", "Status"),
    ("priority", "Priority"),
    ("category", "Category"),
    ("department", "Department"),
    ("channel", "Channel"),
    ("requester_name", "Requester"),
    ("requester_email", "Requester email"),
    ("assignee", "Assignee"),
    ("created", "Created"),
    ("updated", "Updated"),
    ("due", "Due"),
    ("tags", "Tags"),
    ("time_spent", "Time spent (min)"),
];

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ExportParams {
    #[serde(flatten)]
    queue: QueueParams,
    fields: Option<String>,
    /// A search (the search box grammar) instead of queue filters.
    q: Option<String>,
}

/// Where the rows come from: a queue query walked page by page, or the ids a
/// search matched (ids only in memory; tickets are loaded a page at a time).
#[derive(Clone)]
enum Source {
    Queue(crate::store::TicketQuery),
    Ids(std::sync::Arc<Vec<TicketId>>, usize),
}

pub(crate) use crate::domain::csv::cell;

const PAGE: usize = 500;

pub async fn csv(
    State(st): State<AppState>,
    ConnectInfo(addr): ConnectInfo<std::net::SocketAddr>,
    uri: axum::http::Uri,
    a: Agent,
    Query(p): Query<ExportParams>,
) -> Response {
    if let Err(e) = st.desk.require(&a.person, crate::domain::roles::Permission::Export) {
        return WebError::from(e).into_response();
    }
    // Columns: (name, header); custom fields are `field.<name>`.
    let every: Vec<(String, String)> = FIELDS
        .iter()
        .map(|(k, h)| (k.to_string(), h.to_string()))
        .chain(st.desk.config().field.iter().map(|f| (format!("field.{}", f.name), f.label().to_string())))
        .collect();
    let fields: Vec<(String, String)> = match p.fields.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
        None => every,
        Some(list) => {
            let mut out = Vec::new();
            for f in list.split(',').map(str::trim) {
                match every.iter().find(|(k, _)| k == f) {
                    Some(col) => out.push(col.clone()),
                    None => {
                        let known: Vec<&str> = every.iter().map(|(k, _)| k.as_str()).collect();
                        let message = tr!("{name} is not a field; use {fields}", name = format!("{f:?}"), fields = known.join(", "));
                        let e = DeskError::Invalid { field: "fields", message };
                        return WebError::from(e).into_response();
                    }
                }
            }
            out
        }
    };
    let agents = match st.desk.agents() {
        Ok(a) => a,
        Err(e) => return WebError::from(e).into_response(),
    };
    let source = match p.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        Some(q) => match st.desk.search_ids(&a.person, q, 10_000_000) {
            Ok(ids) => Source::Ids(std::sync::Arc::new(ids), 0),
            Err(e) => return WebError::from(e).into_response(),
        },
        None => {
            let mut query = match build_query(&st, &a.person, &p.queue, |s| {
                s.parse::<u64>().ok().filter(|id| agents.iter().any(|g| g.id == PersonId(*id)))
            }) {
                Ok(q) => q,
                Err(e) => return WebError::from(e).into_response(),
            };
            query.limit = PAGE;
            query.offset = 0;
            Source::Queue(query)
        }
    };
    // Taking data out of the desk is in the audit log (committed before the
    // first row is sent).
    let filter = uri.query().unwrap_or("").chars().take(500).collect::<String>();
    let (actor, ip) = (a.person.clone(), addr.ip().to_string());
    let event = crate::domain::audit::AuditEvent::DataExported { what: "tickets as CSV".into(), filter };
    if let Err(e) = crate::web::blocking(&st.desk, move |d| d.record_audit(crate::desk::audit::Actor::Agent(&actor), &ip, event)).await {
        return WebError::from(e).into_response();
    }
    let header_line = fields.iter().map(|(_, h)| cell(h)).collect::<Vec<_>>().join(",") + "\r\n";
    let desk = st.desk.clone();
    let person = a.person.clone();
    // State: (next query or None when done, header still to send).
    let stream = futures_util::stream::unfold((Some(source), Some(header_line)), move |(q, head)| {
        let (desk, person, fields) = (desk.clone(), person.clone(), fields.clone());
        async move {
            if let Some(h) = head {
                return Some((Ok::<_, std::io::Error>(h.into_bytes()), (q, None)));
            }
            let q = q?;
            let fetched = match &q {
                Source::Queue(query) => desk.queue(&person, query.clone()),
                Source::Ids(ids, at) => {
                    let end = (*at + PAGE).min(ids.len());
                    desk.tickets_by_ids(&person, &ids[*at..end]).map(|(t, p)| (t, end < ids.len(), p))
                }
            };
            let (tickets, more, people) = match fetched {
                Ok(x) => x,
                Err(e) => return Some((Err(std::io::Error::other(e.to_string())), (None, None))),
            };
            let ids: Vec<crate::domain::TicketId> = tickets.iter().map(|t| t.id).collect();
            let totals = match desk.time_totals(&ids) {
                Ok(t) => t,
                Err(e) => return Some((Err(std::io::Error::other(e.to_string())), (None, None))),
            };
            let name = |id: Option<PersonId>| id.and_then(|i| people.get(&i)).map(|p| p.display()).unwrap_or_default();
            let email = |id: PersonId| people.get(&id).map(|p| p.email.clone()).unwrap_or_default();
            let mut out = String::new();
            for t in &tickets {
                let row: Vec<String> = fields
                    .iter()
                    .map(|(f, _)| match f.as_str() {
                        "ref" => desk.reference(t.id),
                        "subject" => t.subject.clone(),
                        "status" => desk.config().status_name(t),
                        "priority" => t.priority.label().to_string(),
                        "category" => t.category.clone(),
                        "department" => t.department.clone(),
                        "channel" => t.channel.label().to_string(),
                        "requester_name" => name(Some(t.requester)),
                        "requester_email" => email(t.requester),
                        "assignee" => name(t.assignee),
                        "created" => t.created_at.rfc3339(),
                        "updated" => t.updated_at.rfc3339(),
                        "due" => t.due.map(|d| d.to_string()).unwrap_or_default(),
                        "tags" => t.tags.join(" "),
                        "time_spent" => totals.get(&t.id).map(|m| m.to_string()).unwrap_or_default(),
                        other => other.strip_prefix("field.").and_then(|n| t.field(n)).unwrap_or_default().to_string(),
                    })
                    .map(|v| cell(&v))
                    .collect();
                out.push_str(&row.join(","));
                out.push_str("\r\n");
            }
            let next = more.then(|| match q {
                Source::Queue(mut n) => {
                    n.offset += PAGE;
                    Source::Queue(n)
                }
                Source::Ids(ids, at) => Source::Ids(ids, at + PAGE),
            });
            if tickets.is_empty() && next.is_none() {
                return None;
            }
            Some((Ok(out.into_bytes()), (next, None)))
        }
    });
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8"), (header::CONTENT_DISPOSITION, "attachment; filename=\"tickets.csv\"")],
        Body::from_stream(stream),
    )
        .into_response()
}
