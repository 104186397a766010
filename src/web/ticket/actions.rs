//! Actions on one ticket from its side panel: Trash, merge, link, subject
//! edits with a reason; the related-tickets box; the print view and PDF.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use crate::desk::{DeskError, TicketView};
use crate::domain::TicketId;
use crate::domain::roles::Permission;
use crate::tr;
use crate::web::pages::{field, fields, refusal, to};
use crate::web::ui::csrf_field;
use crate::web::{Agent, AppState, TicketPath, WebError, WebResult, run_as};

pub(super) fn back(st: &AppState, id: TicketId, done: &str) -> Response {
    to(&format!("/tickets/{}?done={done}", st.desk.reference(id)))
}

/// A refusal shown on the ticket it concerns.
pub(super) fn refused(st: &AppState, a: &Agent, id: TicketId, e: DeskError) -> WebError {
    let r = st.desk.reference(id);
    refusal(st, a, e, tr!("Not done"), "queue", (&format!("/tickets/{r}"), &tr!("Back to {r}", r = r)))
}

/// The other ticket a form names in `key`; a refusal on this one when it is
/// no reference.
fn other_ticket(
    st: &AppState,
    a: &Agent,
    id: TicketId,
    f: &[(String, String)],
    key: &'static str,
    hint: &str,
) -> Result<TicketId, WebError> {
    st.desk.parse_reference(field(f, key)).ok_or_else(|| refused(st, a, id, DeskError::Invalid { field: key, message: hint.into() }))
}

pub async fn set_trash(State(st): State<AppState>, a: Agent, t: TicketPath, body: Bytes) -> WebResult {
    let id = t.id;
    let on = field(&fields(&body), "on") != "0";
    match run_as(&st.desk, &a.person, move |d, me| d.set_trashed(me, id, on)).await {
        Ok(()) => Ok(back(&st, id, if on { "trashed" } else { "restored" })),
        Err(e) => Err(refused(&st, &a, id, e)),
    }
}

/// "Junk and ban sender" from the ticket page (admins).
pub async fn junk(State(st): State<AppState>, a: Agent, t: TicketPath) -> WebResult {
    let id = t.id;
    match run_as(&st.desk, &a.person, move |d, me| d.junk_ticket(me, id)).await {
        Ok(()) => Ok(back(&st, id, "junked")),
        Err(e) => Err(refused(&st, &a, id, e)),
    }
}

pub async fn merge(State(st): State<AppState>, a: Agent, t: TicketPath, body: Bytes) -> WebResult {
    let id = t.id;
    let f = fields(&body);
    let into = other_ticket(&st, &a, id, &f, "into", tr!("type the reference of the ticket to merge into"))?;
    match run_as(&st.desk, &a.person, move |d, me| d.merge(me, id, into)).await {
        Ok(t) => Ok(back(&st, t.id, "merged")),
        Err(e) => Err(refused(&st, &a, id, e)),
    }
}

pub async fn link(State(st): State<AppState>, a: Agent, t: TicketPath, body: Bytes) -> WebResult {
    let id = t.id;
    let f = fields(&body);
    let other = other_ticket(&st, &a, id, &f, "other", tr!("type the reference of the related ticket"))?;
    let on = field(&f, "on") != "0";
    match run_as(&st.desk, &a.person, move |d, me| d.set_link(me, id, other, on)).await {
        Ok(()) => Ok(back(&st, id, "linked")),
        Err(e) => Err(refused(&st, &a, id, e)),
    }
}

pub async fn subject(State(st): State<AppState>, a: Agent, t: TicketPath, body: Bytes) -> WebResult {
    let id = t.id;
    let f = fields(&body);
    let patch = crate::desk::TicketPatch { subject: Some(field(&f, "subject").to_string()), ..Default::default() };
    let reason = field(&f, "reason").to_string();
    match run_as(&st.desk, &a.person, move |d, me| d.update_ticket_because(me, id, patch, &reason)).await {
        Ok(_) => Ok(back(&st, id, "saved")),
        Err(e) => Err(refused(&st, &a, id, e)),
    }
}

/// The side-panel box with related tickets, merge, Trash and print links.
pub fn related_box(st: &AppState, a: &Agent, v: &TicketView) -> Markup {
    let r = st.desk.reference(v.ticket.id);
    let may_link = st.desk.may(&a.person, Permission::Edit);
    html! {
        div.infobox.related {
            h3 { (tr!("Related tickets")) }
            @for (other, subject) in &v.links {
                @let o = st.desk.reference(*other);
                @if may_link {
                    form.inline.linkrow method="post" action=(format!("/tickets/{r}/link")) {
                        (csrf_field(&a.csrf))
                        input type="hidden" name="other" value=(o);
                        input type="hidden" name="on" value="0";
                        a href=(format!("/tickets/{o}")) { (o) } " " span.muted { (subject) }
                        button.linkish type="submit" title=(tr!("Unlink")) aria-label=(tr!("Unlink {reference}", reference = o)) { "×" }
                    }
                } @else {
                    p.linkrow { a href=(format!("/tickets/{o}")) { (o) } " " span.muted { (subject) } }
                }
            }
            @if may_link {
                form.inline method="post" action=(format!("/tickets/{r}/link")) {
                    (csrf_field(&a.csrf))
                    input type="text" name="other" placeholder="TKT-000123" aria-label=(tr!("Reference to link")) size="11" required;
                    button type="submit" { (tr!("Link")) }
                }
            }
            @if !v.ticket.is_closed() && v.trashed_at.is_none() && st.desk.may(&a.person, Permission::Merge) {
                details {
                    summary { (tr!("Merge into another ticket…")) }
                    form.inline method="post" action=(format!("/tickets/{r}/merge")) data-confirm=(tr!("Merge {r} into the ticket you named? Its thread moves there and cannot be split again.", r = r)) {
                        (csrf_field(&a.csrf))
                        input type="text" name="into" placeholder="TKT-000123" aria-label=(tr!("Merge into reference")) size="11" required;
                        button type="submit" { (tr!("Merge")) }
                    }
                    p.muted.small { (tr!("This ticket's thread moves into the other one; its reference will redirect there.")) }
                }
            }
            p.small {
                a href=(format!("/tickets/{r}/print")) target="_blank" { (tr!("Print view")) } " · "
                a href=(format!("/tickets/{r}/pdf")) { "PDF" }
            }
            @if st.desk.may(&a.person, Permission::Delete) && v.trashed_at.is_none() {
                form.inline method="post" action=(format!("/tickets/{r}/trash")) {
                    (csrf_field(&a.csrf))
                    input type="hidden" name="on" value="1";
                    button.danger type="submit" { (tr!("Move to Trash")) }
                }
                form.inline method="post" action=(format!("/tickets/{r}/junk")) data-confirm=(tr!("Move this ticket to Trash and ban the requester's address? Their future mail goes to Junk.")) {
                    (csrf_field(&a.csrf))
                    button.danger type="submit" title=(tr!("Trash it, ban the requester's address and teach the spam engine")) { (tr!("Junk and ban sender")) }
                }
            }
        }
    }
}

/// A clean printable page: header fields and the whole thread, notes marked.
pub async fn print(State(st): State<AppState>, a: Agent, t: TicketPath) -> WebResult {
    let id = t.id;
    let v = st.desk.ticket_view(&a.person, id)?;
    let doc = crate::desk::print::document(&st.desk, &v);
    let body = html! {
        (maud::DOCTYPE)
        html lang=(crate::i18n::current().code()) {
            head {
                meta charset="utf-8";
                title { (doc.title) }
                link rel="stylesheet" href="/assets/app.css";
            }
            body.print { main {
                h1 { (doc.title) }
                dl.fields.printmeta { @for (k, val) in &doc.fields { dt { (k) } dd { (val) } } }
                @for e in &doc.entries {
                    section class=(format!("print-entry {}", e.kind)) {
                        h2 { (e.heading) }
                        div.textbody { (e.text) }
                    }
                }
                p.muted.noprint { a href="javascript:window.print()" { (tr!("Print")) } }
            } }
        }
    };
    Ok(body.into_response())
}

/// The same document as a PDF made by the server.
pub async fn pdf(State(st): State<AppState>, a: Agent, t: TicketPath) -> WebResult {
    let id = t.id;
    let v = st.desk.ticket_view(&a.person, id)?;
    let doc = crate::desk::print::document(&st.desk, &v);
    // Laying out a long thread and subsetting fonts is CPU work: off the runtime.
    let lang = crate::i18n::current();
    let bytes = tokio::task::spawn_blocking(move || crate::i18n::with_lang(lang, || crate::desk::print::pdf(&doc)))
        .await
        .map_err(|_| crate::web::WebError::not_found())?;
    let name = format!("attachment; filename=\"{}.pdf\"", st.desk.reference(id));
    Ok((StatusCode::OK, [(header::CONTENT_TYPE, "application/pdf".to_string()), (header::CONTENT_DISPOSITION, name)], bytes)
        .into_response())
}
