//! Pages and actions of the agent workflow: bulk jobs with progress, Trash,
//! merge and link, subject edits with a reason, and the print view and PDF.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

use super::agent::{fail, frame};
use super::views::{self, csrf_field, page};
use super::{Agent, AppState};
use crate::desk::{DeskError, TicketView};

type PageResult = Result<Response, Response>;

/// Form fields, with repeated keys (the bulk form's `id` boxes) kept.
fn fields(body: &Bytes) -> Vec<(String, String)> {
    form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

fn field<'a>(f: &'a [(String, String)], key: &str) -> &'a str {
    f.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).unwrap_or("")
}

fn reference_id(st: &AppState, reference: &str) -> Result<u64, Response> {
    st.desk.parse_reference(reference).ok_or_else(|| fail(st, DeskError::NotFound))
}

fn back(st: &AppState, id: u64, done: &str) -> Response {
    Redirect::to(&format!("/tickets/{}?done={done}", st.desk.reference(id))).into_response()
}

/// A refusal page: the reason (400/403/409 …) and a way back. Not-found and
/// storage errors keep their own pages.
pub(crate) fn refusal(st: &AppState, a: &Agent, e: DeskError, title: &str, area: &str, back: (&str, &str)) -> Response {
    if matches!(e, DeskError::NotFound | DeskError::Store(_)) {
        return fail(st, e);
    }
    let msg = match &e {
        DeskError::Invalid { message, .. } => message.clone(),
        other => other.to_string(),
    };
    let (href, label) = back;
    let body = html! {
        div.narrow-page {
            (views::notice("error", &msg))
            p { a href=(href) { (label) } }
        }
    };
    (super::status_of(&e), page(&frame(st, a, title.into(), area), body)).into_response()
}

/// A refusal shown on the ticket it concerns.
fn refused(st: &AppState, a: &Agent, id: u64, e: DeskError) -> Response {
    let r = st.desk.reference(id);
    refusal(st, a, e, "Not done", "queue", (&format!("/tickets/{r}"), &format!("Back to {r}")))
}

// ---------------------------------------------------------------- bulk jobs

/// Starts a bulk job on the ticked tickets, or on every ticket matching the
/// list's search when "all matching" is ticked.
pub async fn bulk(State(st): State<AppState>, a: Agent, body: Bytes) -> PageResult {
    let f = fields(&body);
    let ids: Vec<u64> = if field(&f, "all") == "1" {
        st.desk.search_ids(&a.person, field(&f, "all_query"), 1_000_000).map_err(|e| fail(&st, e))?
    } else {
        f.iter().filter(|(k, _)| k == "id").filter_map(|(_, v)| v.parse().ok()).collect()
    };
    match st.desk.start_job(&a.person, field(&f, "action"), field(&f, "value"), ids) {
        Ok(id) => Ok(Redirect::to(&format!("/jobs/{id}")).into_response()),
        Err(e) => Err(refusal(&st, &a, e, "Bulk action", "queue", ("javascript:history.back()", "Back"))),
    }
}

/// A job's progress; refreshes itself until the job is done.
pub async fn job_page(State(st): State<AppState>, a: Agent, Path(id): Path<u64>) -> PageResult {
    let job = st.desk.job(&a.person, id).map_err(|e| fail(&st, e))?;
    let total = job.tickets.len();
    let pct = (job.done * 100).checked_div(total).unwrap_or(100);
    let changed = job.done - job.failed.len();
    let running = job.finished_at.is_none();
    let body = html! {
        div.narrow-page {
            @if running { meta http-equiv="refresh" content="1"; }
            div.crumbs { a href="/tickets" { "Queue" } " / bulk action" }
            h1 { "Bulk action: " (job.action) }
            progress max=(total) value=(job.done) aria-label="Progress" {}
            p #jobstate data-done=(job.done) data-total=(total) data-finished=(if running { "0" } else { "1" }) {
                @if running { "Working: " (job.done) " of " (total) " tickets (" (pct) "%)…" }
                @else { "Done: " (changed) " of " (total) " tickets changed" @if !job.failed.is_empty() { ", " (job.failed.len()) " refused (below)" } "." }
            }
            @if !running || job.done > 0 {
                p.muted { "Every ticket before the current position was handled; the rest are untouched. Each step is saved with its tickets, so a stopped server continues the job when it starts again." }
            }
            @if !job.failed.is_empty() {
                h2 { "Refused" }
                table.tickets {
                    thead { tr { th { "Ticket" } th { "Why" } } }
                    tbody {
                        @for (t, why) in &job.failed {
                            @let r = st.desk.reference(*t);
                            tr { td.ref { a href=(format!("/tickets/{r}")) { (r) } } td { (why) } }
                        }
                    }
                }
            }
            p { a.button href="/tickets" { "Back to the queue" } }
        }
    };
    Ok(page(&frame(&st, &a, format!("Bulk: {}", job.action), "queue"), body).into_response())
}

// ---------------------------------------------------------------- Trash

pub async fn trash_page(State(st): State<AppState>, a: Agent) -> PageResult {
    let items = st.desk.trash(&a.person, 500).map_err(|e| fail(&st, e))?;
    let days = st.desk.config.workflow.trash_days;
    let body = html! {
        div.queue-layout {
            (super::agent::sidebar(&st, &a, "trash").map_err(|e| fail(&st, e))?)
            section.queue {
                div.queue-head { h1 { "Trash" } }
                p.muted { "Tickets here are out of every queue and search. They are purged for good " (days) " days after they were trashed." @if a.person.is_admin() { " Restore one to bring it back." } }
                @if items.is_empty() { (views::empty("Trash is empty.")) } @else {
                    table.tickets {
                        thead { tr { th { "Ticket" } th { "Subject" } th { "Trashed" } th { "Purged" } th {} } }
                        tbody {
                            @for (t, at) in &items {
                                @let r = st.desk.reference(t.id);
                                tr.row data-href=(format!("/tickets/{r}")) {
                                    td.ref { a href=(format!("/tickets/{r}")) { (r) } }
                                    td.subject { (t.subject) }
                                    td.nowrap { (at.short()) }
                                    td.nowrap { (crate::domain::Timestamp(at.0 + days as i64 * 86_400_000).short()) }
                                    td { @if a.person.is_admin() {
                                        form.inline method="post" action=(format!("/tickets/{r}/trash")) { (csrf_field(&a.csrf)) input type="hidden" name="on" value="0"; button type="submit" { "Restore" } }
                                    } }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(page(&frame(&st, &a, "Trash".into(), "queue"), body).into_response())
}

pub async fn set_trash(State(st): State<AppState>, a: Agent, Path(reference): Path<String>, body: Bytes) -> PageResult {
    let id = reference_id(&st, &reference)?;
    let on = field(&fields(&body), "on") != "0";
    match st.desk.set_trashed(&a.person, id, on) {
        Ok(()) => Ok(back(&st, id, if on { "trashed" } else { "restored" })),
        Err(e) => Err(refused(&st, &a, id, e)),
    }
}

// ---------------------------------------------------------------- merge, link, subject

pub async fn merge(State(st): State<AppState>, a: Agent, Path(reference): Path<String>, body: Bytes) -> PageResult {
    let id = reference_id(&st, &reference)?;
    let f = fields(&body);
    let Some(into) = st.desk.parse_reference(field(&f, "into")) else {
        return Err(refused(
            &st,
            &a,
            id,
            DeskError::Invalid { field: "into", message: "type the reference of the ticket to merge into".into() },
        ));
    };
    match st.desk.merge(&a.person, id, into) {
        Ok(t) => Ok(back(&st, t.id, "merged")),
        Err(e) => Err(refused(&st, &a, id, e)),
    }
}

pub async fn link(State(st): State<AppState>, a: Agent, Path(reference): Path<String>, body: Bytes) -> PageResult {
    let id = reference_id(&st, &reference)?;
    let f = fields(&body);
    let Some(other) = st.desk.parse_reference(field(&f, "other")) else {
        return Err(refused(
            &st,
            &a,
            id,
            DeskError::Invalid { field: "other", message: "type the reference of the related ticket".into() },
        ));
    };
    match st.desk.set_link(&a.person, id, other, field(&f, "on") != "0") {
        Ok(()) => Ok(back(&st, id, "linked")),
        Err(e) => Err(refused(&st, &a, id, e)),
    }
}

pub async fn subject(State(st): State<AppState>, a: Agent, Path(reference): Path<String>, body: Bytes) -> PageResult {
    let id = reference_id(&st, &reference)?;
    let f = fields(&body);
    let patch = crate::desk::TicketPatch { subject: Some(field(&f, "subject").to_string()), ..Default::default() };
    match st.desk.update_ticket_because(&a.person, id, patch, field(&f, "reason")) {
        Ok(_) => Ok(back(&st, id, "saved")),
        Err(e) => Err(refused(&st, &a, id, e)),
    }
}

/// The side-panel box with related tickets, merge, Trash and print links.
pub fn related_box(st: &AppState, a: &Agent, v: &TicketView) -> Markup {
    let r = st.desk.reference(v.ticket.id);
    html! {
        div.infobox.related {
            h3 { "Related tickets" }
            @for (other, subject) in &v.links {
                @let o = st.desk.reference(*other);
                form.inline.linkrow method="post" action=(format!("/tickets/{r}/link")) {
                    (csrf_field(&a.csrf))
                    input type="hidden" name="other" value=(o);
                    input type="hidden" name="on" value="0";
                    a href=(format!("/tickets/{o}")) { (o) } " " span.muted { (subject) }
                    button.linkish type="submit" title="Unlink" aria-label=(format!("Unlink {o}")) { "×" }
                }
            }
            form.inline method="post" action=(format!("/tickets/{r}/link")) {
                (csrf_field(&a.csrf))
                input type="text" name="other" placeholder="TKT-000123" aria-label="Reference to link" size="11" required;
                button type="submit" { "Link" }
            }
            @if !v.ticket.is_closed() && v.trashed_at.is_none() {
                details {
                    summary { "Merge into another ticket…" }
                    form.inline method="post" action=(format!("/tickets/{r}/merge")) {
                        (csrf_field(&a.csrf))
                        input type="text" name="into" placeholder="TKT-000123" aria-label="Merge into reference" size="11" required;
                        button type="submit" { "Merge" }
                    }
                    p.muted.small { "This ticket's thread moves into the other one; its reference will redirect there." }
                }
            }
            p.small {
                a href=(format!("/tickets/{r}/print")) target="_blank" { "Print view" } " · "
                a href=(format!("/tickets/{r}/pdf")) { "PDF" }
            }
            @if a.person.is_admin() && v.trashed_at.is_none() {
                form.inline method="post" action=(format!("/tickets/{r}/trash")) {
                    (csrf_field(&a.csrf))
                    input type="hidden" name="on" value="1";
                    button.danger type="submit" { "Move to Trash" }
                }
            }
        }
    }
}

// ---------------------------------------------------------------- print and PDF

/// A clean printable page: header fields and the whole thread, notes marked.
pub async fn print(State(st): State<AppState>, a: Agent, Path(reference): Path<String>) -> PageResult {
    let id = reference_id(&st, &reference)?;
    let v = st.desk.ticket_view(&a.person, id).map_err(|e| fail(&st, e))?;
    let doc = crate::desk::print::document(&st.desk, &v);
    let body = html! {
        (maud::DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { (doc.title) }
                link rel="stylesheet" href="/assets/app.css";
            }
            body.print {
                h1 { (doc.title) }
                dl.fields.printmeta { @for (k, val) in &doc.fields { dt { (k) } dd { (val) } } }
                @for e in &doc.entries {
                    section class=(format!("print-entry {}", e.kind)) {
                        h2 { (e.heading) }
                        div.textbody { (e.text) }
                    }
                }
                p.muted.noprint { a href="javascript:window.print()" { "Print" } }
            }
        }
    };
    Ok(body.into_response())
}

/// The same document as a PDF made by the server.
pub async fn pdf(State(st): State<AppState>, a: Agent, Path(reference): Path<String>) -> PageResult {
    let id = reference_id(&st, &reference)?;
    let v = st.desk.ticket_view(&a.person, id).map_err(|e| fail(&st, e))?;
    let doc = crate::desk::print::document(&st.desk, &v);
    let bytes = crate::desk::print::pdf(&doc);
    let name = format!("attachment; filename=\"{}.pdf\"", st.desk.reference(id));
    Ok((StatusCode::OK, [(header::CONTENT_TYPE, "application/pdf".to_string()), (header::CONTENT_DISPOSITION, name)], bytes)
        .into_response())
}
