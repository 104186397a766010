//! Bulk jobs (started from the bulk bar, with a progress page) and the Trash
//! list.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use maud::html;

use crate::desk::DeskError;
use crate::domain::{BulkAction, JobId, TicketId};
use crate::i18n::format::num;
use crate::web::pages::{field, fields, frame, refusal, to};
use crate::web::ui::{self, csrf_field, page};
use crate::web::{Agent, AppState, WebResult};
use crate::{tr, trn};

/// Starts a bulk job on the ticked tickets, or on every ticket matching the
/// list's search when "all matching" is ticked.
pub async fn bulk(State(st): State<AppState>, a: Agent, body: Bytes) -> WebResult {
    let f = fields(&body);
    let ids: Vec<TicketId> = if field(&f, "all") == "1" {
        st.desk.search_ids(&a.person, field(&f, "all_query"), 1_000_000)?
    } else {
        f.iter().filter(|(k, _)| k == "id").filter_map(|(_, v)| v.parse().ok()).collect()
    };
    let back = ("javascript:history.back()", tr!("Back"));
    let action = BulkAction::parse(field(&f, "action"), field(&f, "value"))
        .map_err(|m| refusal(&st, &a, DeskError::Invalid { field: "action", message: m.into() }, tr!("Bulk action"), "queue", back))?;
    let (person, job) = (a.person.clone(), action.clone());
    // The list the bar was on (app.js fills `back`): the job returns there.
    let list = Some(field(&f, "back")).filter(|b| !b.is_empty()).map(|b| crate::web::pages::safe_next(Some(b)));
    match crate::web::blocking(&st.desk, move |d| d.start_job(&person, &job, ids)).await {
        Ok(id) => Ok(to(&match list {
            Some(l) => format!("/jobs/{id}?back={}", super::search::enc(&l)),
            None => format!("/jobs/{id}"),
        })),
        Err(e) => Err(refusal(&st, &a, e, tr!("Bulk action"), "queue", back)),
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct JobQuery {
    back: Option<String>,
}

/// `list` with `bulk=<job>` added: the list then says how the job went.
fn with_job(list: &str, id: JobId) -> String {
    let sep = if list.contains('?') { '&' } else { '?' };
    format!("{list}{sep}bulk={id}")
}

/// What a finished job did, for the list it returns to.
pub(crate) fn job_notice(st: &AppState, a: &Agent, id: Option<JobId>) -> Option<maud::Markup> {
    let job = st.desk.job(&a.person, id?).ok().filter(|j| j.finished_at.is_some())?;
    let changed = job.done - job.failed.len();
    Some(ui::notice(
        "ok",
        &tr!(
            "Bulk action “{action}”: {changed} of {total} tickets changed.",
            action = job.action,
            changed = num(changed as i64),
            total = num(job.tickets.len() as i64)
        ),
    ))
}

/// A job's progress; refreshes itself until the job is done, then returns
/// to the list it came from (unless some tickets were refused: they are
/// listed here).
pub async fn job_page(
    State(st): State<AppState>,
    a: Agent,
    Path(id): Path<JobId>,
    axum::extract::Query(q): axum::extract::Query<JobQuery>,
) -> WebResult {
    let job = st.desk.job(&a.person, id)?;
    let list = q.back.as_deref().filter(|b| !b.is_empty()).map(|b| crate::web::pages::safe_next(Some(b)));
    if let Some(l) = &list
        && job.finished_at.is_some()
        && job.failed.is_empty()
    {
        return Ok(to(&with_job(l, id)));
    }
    let total = job.tickets.len();
    let pct = (job.done * 100).checked_div(total).unwrap_or(100);
    let changed = job.done - job.failed.len();
    let running = job.finished_at.is_none();
    let body = html! {
        div.narrow-page {
            @if running { meta http-equiv="refresh" content="1"; }
            div.crumbs { a href="/tickets" { (tr!("Queue")) } " / " (tr!("bulk action")) }
            h1 { (tr!("Bulk action: {action}", action = job.action)) }
            progress max=(total) value=(job.done) aria-label=(tr!("Progress")) {}
            p #jobstate data-done=(job.done) data-total=(total) data-finished=(if running { "0" } else { "1" }) {
                @if running {
                    (tr!("Working: {done} of {total} tickets ({percent}%)…", done = num(job.done as i64), total = num(total as i64), percent = pct))
                } @else if job.failed.is_empty() {
                    (tr!("Done: {changed} of {total} tickets changed.", changed = num(changed as i64), total = num(total as i64)))
                } @else {
                    (tr!(
                        "Done: {changed} of {total} tickets changed, {refused} refused (below).",
                        changed = num(changed as i64),
                        total = num(total as i64),
                        refused = num(job.failed.len() as i64)
                    ))
                }
            }
            @if !running || job.done > 0 {
                p.muted { (tr!("Every ticket before the current position was handled; the rest are untouched. Each step is saved with its tickets, so a stopped server continues the job when it starts again.")) }
            }
            @if !job.failed.is_empty() {
                h2 { (tr!("Refused")) }
                table.tickets {
                    thead { tr { th { (tr!("Ticket")) } th { (tr!("Why")) } } }
                    tbody {
                        @for (t, why) in &job.failed {
                            @let r = st.desk.reference(*t);
                            // The refusal was written down by the job, in English.
                            tr { td.ref { a href=(format!("/tickets/{r}")) { (r) } } td lang="en" { (why) } }
                        }
                    }
                }
            }
            p { a.button href=(list.clone().unwrap_or_else(|| "/tickets".into())) { (tr!("Back to the list")) } }
        }
    };
    Ok(page(&frame(&st, &a, tr!("Bulk: {action}", action = job.action), "queue"), body).into_response())
}

// ---------------------------------------------------------------- Trash

pub async fn trash_page(State(st): State<AppState>, a: Agent) -> WebResult {
    let items = st.desk.trash(&a.person, 500)?;
    let days = st.desk.config().workflow.trash_days;
    let body = html! {
        div.queue-layout {
            (super::list::sidebar(&st, &a, "trash")?)
            section.queue {
                div.queue-head { h1 { (tr!("Trash")) } }
                p.muted {
                    (trn!(
                        days,
                        "Tickets here are out of every queue and search. They are purged for good {n} day after they were trashed.",
                        "Tickets here are out of every queue and search. They are purged for good {n} days after they were trashed."
                    ))
                    @if st.desk.may(&a.person, crate::domain::roles::Permission::Delete) { " " (tr!("Restore one to bring it back.")) }
                }
                @if items.is_empty() { (ui::empty(tr!("Trash is empty."))) } @else {
                    table.tickets {
                        thead { tr { th { (tr!("Ticket")) } th { (tr!("Subject")) } th { (tr!("Trashed")) } th { (tr!("Purged")) } th { span.sr-only { (tr!("Actions")) } } } }
                        tbody {
                            @for (t, at) in &items {
                                @let r = st.desk.reference(t.id);
                                tr.row data-href=(format!("/tickets/{r}")) {
                                    td.ref { a href=(format!("/tickets/{r}")) { (r) } }
                                    td.subject { (t.subject) }
                                    td.nowrap { (crate::web::ui::when_at(*at)) }
                                    td.nowrap { (crate::web::ui::when_at(crate::domain::Timestamp(at.0 + days as i64 * 86_400_000))) }
                                    td { @if st.desk.may(&a.person, crate::domain::roles::Permission::Delete) {
                                        form.inline method="post" action=(format!("/tickets/{r}/trash")) { (csrf_field(&a.csrf)) input type="hidden" name="on" value="0"; button type="submit" { (tr!("Restore")) } }
                                    } }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(page(&frame(&st, &a, tr!("Trash").into(), "queue"), body).into_response())
}
