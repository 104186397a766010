//! The audit log for admins: newest first with filters (kind, words, dates),
//! 100 to a page with a link to older entries, and exports of the same
//! selection as CSV or JSON lines (each export is itself logged). There is
//! nothing here to edit or delete an entry.

use axum::Router;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use maud::{Markup, html};
use serde::Deserialize;

use crate::desk::DeskError;
use crate::desk::audit::Actor;
use crate::domain::AuditId;
use crate::domain::audit::{AuditEntry, AuditEvent, AuditFilter, AuditKind};
use crate::domain::time::Date;
use crate::tr;
use crate::web::pages::{frame, nonempty};
use crate::web::queue::export::cell;
use crate::web::ui::page;
use crate::web::{Admin, AppState, WebResult, blocking};

const PAGE: usize = 100;
/// Most entries one export holds.
const EXPORT_MAX: usize = 1_000_000;

pub fn routes() -> Router<AppState> {
    Router::new().route("/admin/audit", get(audit_page)).route("/admin/audit/export", get(export))
}

/// The admin pages' own links (the top bar stays short on phones).
pub fn admin_nav(current: &str) -> Markup {
    let link = |href: &str, label: &str| html! { a href=(href) class=(if href == current { "active" } else { "" }) { (label) } };
    html! { nav.subnav aria-label=(tr!("Admin")) { (link("/admin/agents", tr!("Agents"))) " " (link("/admin/tokens", tr!("API tokens"))) " " (link("/admin/audit", tr!("Audit log"))) " " (link("/admin/backups", tr!("Backups"))) " " (link("/admin/config", tr!("Settings"))) } }
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct AuditQuery {
    kind: Option<String>,
    q: Option<String>,
    from: Option<String>,
    to: Option<String>,
    before: Option<u64>,
    format: Option<String>,
}

impl AuditQuery {
    /// The filter, or the field at fault.
    fn filter(&self) -> Result<AuditFilter, DeskError> {
        let date = |field: &'static str, v: &Option<String>| -> Result<Option<Date>, DeskError> {
            match nonempty(v) {
                None => Ok(None),
                Some(s) => Date::parse(s)
                    .map(Some)
                    .ok_or_else(|| DeskError::Invalid { field, message: tr!("\"{value}\" is not a date (YYYY-MM-DD)", value = s) }),
            }
        };
        let kind = match nonempty(&self.kind) {
            None => None,
            Some(k) => Some(
                AuditKind::parse(k)
                    .ok_or_else(|| DeskError::Invalid { field: "kind", message: tr!("\"{value}\" is not a kind of event", value = k) })?,
            ),
        };
        Ok(AuditFilter {
            kind,
            text: self.q.clone().unwrap_or_default(),
            from: date("from", &self.from)?.map(|d| d.start()),
            // The whole last day.
            until: date("to", &self.to)?.map(|d| crate::domain::Timestamp(d.start().0 + 86_400_000)),
        })
    }

    /// The query string of the filter, for links and exports.
    fn params(&self) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [("kind", &self.kind), ("q", &self.q), ("from", &self.from), ("to", &self.to)] {
            if let Some(v) = nonempty(v) {
                out.append_pair(k, v);
            }
        }
        out.finish()
    }
}

async fn audit_page(State(st): State<AppState>, Admin(a): Admin, Query(q): Query<AuditQuery>) -> WebResult {
    let filter = q.filter()?;
    let (actor, f, before) = (a.person.clone(), filter.clone(), q.before.map(AuditId));
    let rows = blocking(&st.desk, move |d| d.audit_log(&actor, &f, before, PAGE)).await?;
    let params = q.params();
    let older = (rows.len() == PAGE).then(|| rows.last().map(|(id, _)| *id)).flatten();
    let body = html! {
        div.narrow-page.wide-ok {
            (admin_nav("/admin/audit"))
            h1 { (tr!("Audit log")) }
            p.muted { (tr!("Logins, agents and their roles, API tokens, exports and purges: who, when, from where. Kept {days} days (audit.keep_days); nobody can change an entry.", days = st.desk.config().audit.keep_days)) }
            form.card.filters method="get" action="/admin/audit" {
                div.row {
                    label { (tr!("Event")) select name="kind" {
                        option value="" { (tr!("Any")) }
                        @for k in AuditKind::ALL { option value=(k.key()) selected[filter.kind == Some(k)] { (k.key()) } }
                    } }
                    label { (tr!("Words")) input type="search" name="q" value=(q.q.clone().unwrap_or_default()) placeholder=(tr!("email, address, token id")); }
                    label { (tr!("From")) input type="date" name="from" value=(q.from.clone().unwrap_or_default()); }
                    label { (tr!("Until")) input type="date" name="to" value=(q.to.clone().unwrap_or_default()); }
                }
                div.actions {
                    button type="submit" { (tr!("Filter")) }
                    a href=(format!("/admin/audit/export?format=csv&{params}")) { (tr!("Export CSV")) } " · "
                    a href=(format!("/admin/audit/export?format=jsonl&{params}")) { (tr!("Export JSON lines")) }
                }
            }
            @if rows.is_empty() { p.muted { (tr!("No entries match.")) } }
            @else {
                div.scroll-x tabindex="0" role="region" aria-label=(tr!("Audit log")) { table.grid {
                    thead { tr { th { (tr!("When (UTC)")) } th { (tr!("Who")) } th { (tr!("From")) } th { (tr!("Event")) } th { (tr!("What")) } } }
                    tbody {
                        @for (_, e) in &rows {
                            tr {
                                td { (crate::web::ui::when_at(e.at)) }
                                td { (e.actor_label) }
                                td { (e.ip) }
                                td { code { (e.event.kind().key()) } }
                                td { (e.event.describe_in(&crate::i18n::text)) }
                            }
                        }
                    }
                } }
            }
            @if let Some(id) = older {
                p { a href=(format!("/admin/audit?before={id}&{params}")) { (tr!("Older entries →")) } }
            }
        }
    };
    Ok(page(&frame(&st, &a, tr!("Audit log").into(), "admin"), body).into_response())
}

/// One entry as a JSON object (the JSON lines export and the API).
pub fn entry_json(id: AuditId, e: &AuditEntry) -> serde_json::Value {
    serde_json::json!({
        "id": id,
        "at": e.at.rfc3339(),
        "actor": e.actor_label,
        "actor_id": e.actor,
        "ip": e.ip,
        "event": e.event.kind().key(),
        "text": e.event.describe(),
        "details": e.event,
    })
}

async fn export(
    State(st): State<AppState>,
    ConnectInfo(addr): ConnectInfo<std::net::SocketAddr>,
    Admin(a): Admin,
    Query(q): Query<AuditQuery>,
) -> WebResult {
    let filter = q.filter()?;
    let jsonl = match q.format.as_deref().unwrap_or("csv") {
        "csv" => false,
        "jsonl" => true,
        other => return Err(DeskError::Invalid { field: "format", message: tr!("\"{value}\": use csv or jsonl", value = other) }.into()),
    };
    let (actor, ip, params) = (a.person.clone(), addr.ip().to_string(), q.params());
    let rows = blocking(&st.desk, move |d| {
        let rows = d.audit_log(&actor, &filter, None, EXPORT_MAX)?;
        let what = if jsonl { "the audit log as JSON lines" } else { "the audit log as CSV" };
        d.record_audit(Actor::Agent(&actor), &ip, AuditEvent::DataExported { what: what.into(), filter: params })?;
        Ok(rows)
    })
    .await?;
    let mut out = String::new();
    if jsonl {
        for (id, e) in &rows {
            out.push_str(&entry_json(*id, e).to_string());
            out.push('\n');
        }
    } else {
        out.push_str("id,at,actor,ip,event,text\r\n");
        for (id, e) in &rows {
            let cells =
                [id.to_string(), e.at.rfc3339(), e.actor_label.clone(), e.ip.clone(), e.event.kind().key().to_string(), e.event.describe()];
            out.push_str(&cells.iter().map(|c| cell(c)).collect::<Vec<_>>().join(","));
            out.push_str("\r\n");
        }
    }
    let (kind, ext) = if jsonl { ("application/x-ndjson", "jsonl") } else { ("text/csv; charset=utf-8", "csv") };
    let disposition = format!("attachment; filename=\"audit-log.{ext}\"");
    Ok(([(header::CONTENT_TYPE, kind.to_string()), (header::CONTENT_DISPOSITION, disposition)], out).into_response())
}
