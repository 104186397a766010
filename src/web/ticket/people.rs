//! Who gets a ticket's mail, on its page: the reply box's To/Cc line, and
//! the side panel's requester (change it) and collaborators (add, remove).

use axum::body::Bytes;
use axum::extract::{Path, State};
use maud::{Markup, html};

use super::actions::{back, refused};
use crate::desk::TicketView;
use crate::desk::recipients::ReplyRecipients;
use crate::domain::roles::Permission;
use crate::domain::{Person, PersonId};
use crate::tr;
use crate::web::pages::{field, fields};
use crate::web::ui::csrf_field;
use crate::web::{Agent, AppState, WebResult, run_as};

fn names(people: &[Person]) -> String {
    let one = |p: &Person| if p.name.trim().is_empty() { p.email.clone() } else { format!("{} <{}>", p.name.trim(), p.email) };
    people.iter().map(one).collect::<Vec<_>>().join(", ")
}

/// The reply box's line saying who a public reply reaches, and its
/// "Email this reply" switch.
pub fn recipients_line(r: &ReplyRecipients) -> Markup {
    html! {
        div.recipients #recipients {
            @if r.to.is_empty() && r.cc.is_empty() {
                span.muted { (tr!("A public reply is mailed to nobody (no address to send to).")) }
            } @else {
                span.who { strong { (tr!("To:")) } " " (names(&r.to)) }
                @if !r.cc.is_empty() { " " span.who { strong { (tr!("Cc:")) } " " (names(&r.cc)) } }
            }
            @for (p, why) in &r.left_out { " " span.muted { (tr!("(not {address}: {why})", address = p.email, why = crate::i18n::dynamic(why))) } }
            " "
            input type="hidden" name="mail_shown" value="1";
            label.toggle title=(tr!("Untick to post the reply on the requester's ticket page without mailing it")) {
                input #mailit type="checkbox" name="mail" value="1" checked; " " (tr!("Email this reply"))
            }
        }
    }
}

/// The side panel's people: requester and collaborators, with the forms
/// for changing them when the role may.
pub fn people_box(st: &AppState, a: &Agent, v: &TicketView) -> Markup {
    let r = st.desk.reference(v.ticket.id);
    let open = !v.ticket.is_closed();
    let may_edit = open && st.desk.may(&a.person, Permission::Edit);
    let may_copy = open && st.desk.may(&a.person, Permission::Reply);
    html! {
        h3 { (tr!("Requester")) }
        @if let Some(p) = v.people.get(&v.ticket.requester) {
            p { a href=(format!("/requesters/{}", p.id)) { (p.display()) } @if p.display() != p.email { br; span.muted { (p.email) } } }
            (requester_context(st, a, v, p))
        }
        @if may_edit {
            details.people-edit {
                summary { (tr!("Change requester…")) }
                form.inline method="post" action=(format!("/tickets/{r}/requester")) {
                    (csrf_field(&a.csrf))
                    input type="email" name="email" placeholder="new@customer.example" aria-label=(tr!("New requester's address")) required;
                    button type="submit" { (tr!("Change")) }
                }
            }
        }
        @if !v.collaborators.is_empty() || may_copy {
            h3 { (tr!("Collaborators")) }
        }
        @for c in &v.collaborators {
            @if may_copy {
                form.linkrow method="post" action=(format!("/tickets/{r}/collaborators/{}/remove", c.id)) {
                    (csrf_field(&a.csrf))
                    span { a href=(format!("/requesters/{}", c.id)) { (c.display()) } @if c.display() != c.email { " " span.muted { (c.email) } } }
                    button.linkish type="submit" title=(tr!("Take off this ticket")) aria-label=(tr!("Remove {address}", address = c.email)) { "×" }
                }
            } @else {
                p { a href=(format!("/requesters/{}", c.id)) { (c.display()) } @if c.display() != c.email { br; span.muted { (c.email) } } }
            }
        }
        @if may_copy {
            form.inline method="post" action=(format!("/tickets/{r}/collaborators")) {
                (csrf_field(&a.csrf))
                input type="email" name="email" placeholder="cc@customer.example" aria-label=(tr!("Add a collaborator's address")) required;
                button type="submit" { (tr!("Add")) }
            }
        }
    }
}

pub async fn add_collaborator(State(st): State<AppState>, a: Agent, t: crate::web::TicketPath, body: Bytes) -> WebResult {
    let id = t.id;
    let f = fields(&body);
    let (email, name) = (field(&f, "email").to_string(), field(&f, "name").to_string());
    match run_as(&st.desk, &a.person, move |d, me| d.add_collaborator(me, id, &email, &name)).await {
        Ok(_) => Ok(back(&st, id, "saved")),
        Err(e) => Err(refused(&st, &a, id, e)),
    }
}

pub async fn remove_collaborator(
    State(st): State<AppState>,
    a: Agent,
    t: crate::web::TicketPath,
    Path((_, person)): Path<(String, u64)>,
) -> WebResult {
    let id = t.id;
    match run_as(&st.desk, &a.person, move |d, me| d.remove_collaborator(me, id, PersonId(person))).await {
        Ok(()) => Ok(back(&st, id, "saved")),
        Err(e) => Err(refused(&st, &a, id, e)),
    }
}

pub async fn change_requester(State(st): State<AppState>, a: Agent, t: crate::web::TicketPath, body: Bytes) -> WebResult {
    let id = t.id;
    let f = fields(&body);
    let (email, name) = (field(&f, "email").to_string(), field(&f, "name").to_string());
    match run_as(&st.desk, &a.person, move |d, me| d.change_requester(me, id, &email, &name)).await {
        Ok(_) => Ok(back(&st, id, "saved")),
        Err(e) => Err(refused(&st, &a, id, e)),
    }
}

/// Most of the requester's other open tickets the side panel lists.
const OTHERS: usize = 5;

/// What the agent should know about the requester while answering: their
/// organization, the agents' notes about them, and their other open tickets.
fn requester_context(st: &AppState, a: &Agent, v: &TicketView, p: &Person) -> Markup {
    let org = st.desk.org_names_of(&[p.id]).ok().and_then(|m| m.get(&p.id).cloned());
    let notes = st.desk.person_notes(&a.person, p.id).unwrap_or_default();
    let statuses = crate::domain::Status::ALL.iter().copied().filter(|s| s.is_active()).collect();
    let q = crate::store::TicketQuery { requester: Some(p.id.0), statuses, limit: OTHERS + 1, ..Default::default() };
    let others: Vec<crate::domain::Ticket> = st
        .desk
        .queue(&a.person, q)
        .map(|(t, _, _)| t)
        .unwrap_or_default()
        .into_iter()
        .filter(|t| t.id != v.ticket.id)
        .take(OTHERS)
        .collect();
    html! {
        @if let Some(o) = org { p.muted.small { (tr!("Organization: {name}", name = o)) } }
        @if !notes.trim().is_empty() {
            div.person-notes.small { strong { (tr!("Notes:")) } " " (crate::web::ui::text_block(&notes)) }
        }
        @if !others.is_empty() {
            h3 { (tr!("Their other open tickets")) }
            ul.other-tickets {
                @for t in &others {
                    @let r = st.desk.reference(t.id);
                    li { a href=(format!("/tickets/{r}")) { (r) } " " (t.subject) " " (crate::web::ui::ticket_status(&st.desk.config(), t)) }
                }
            }
            p.small { a href=(format!("/requesters/{}", p.id)) { (tr!("All their tickets →")) } }
        }
    }
}
