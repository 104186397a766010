//! The checklist box on the ticket page: items with a tick box, assignee
//! and due date; add, tick, re-plan and remove (each a logged change).

use axum::body::Bytes;
use axum::extract::{Path, State};
use maud::{Markup, html};

use super::actions::{back, refused};
use crate::desk::checklist::ItemChange;
use crate::desk::{DeskError, TicketView};
use crate::domain::checklist::{ChecklistItem, progress};
use crate::domain::roles::Permission;
use crate::domain::time::Date;
use crate::domain::{ChecklistItemId, Person, PersonId};
use crate::tr;
use crate::web::pages::{field, fields};
use crate::web::ui::csrf_field;
use crate::web::{Agent, AppState, TicketPath, WebResult, run_as};

/// The panel's checklist box.
pub fn checklist_box(st: &AppState, a: &Agent, v: &TicketView, items: &[ChecklistItem], agents: &[Person]) -> Markup {
    let r = st.desk.reference(v.ticket.id);
    let may = !v.ticket.is_closed() && st.desk.may(&a.person, Permission::Edit);
    let (done, total) = progress(items);
    let name = |id: Option<PersonId>| id.and_then(|i| agents.iter().find(|p| p.id == i)).map(|p| p.display());
    let workers: Vec<&Person> = agents.iter().filter(|p| p.active && p.works_in(&v.ticket.department)).collect();
    html! {
        div.infobox.checklist {
            h2.sub { (tr!("Checklist")) @if total > 0 { " " span.muted { (done) "/" (total) } } }
            @for it in items {
                div.item.done[it.done] {
                    @if may {
                        form.inline method="post" action=(format!("/tickets/{r}/checklist/{}", it.id)) {
                            (csrf_field(&a.csrf))
                            input type="hidden" name="done" value=(if it.done { "0" } else { "1" });
                            button.tick type="submit" aria-label=(if it.done { tr!("Untick {item}", item = it.text) } else { tr!("Tick {item}", item = it.text) }) { @if it.done { "☑" } @else { "☐" } }
                        }
                    } @else {
                        span.tick { @if it.done { "☑" } @else { "☐" } }
                    }
                    span.text { (it.text) }
                    @if it.assignee.is_some() || it.due.is_some() {
                        span.muted.meta {
                            @if let Some(n) = name(it.assignee) { (n) }
                            @if let Some(d) = it.due { " · " (tr!("due {date}", date = d)) }
                        }
                    }
                    @if may {
                        details.people-edit {
                            summary { (tr!("Edit")) }
                            form.inline method="post" action=(format!("/tickets/{r}/checklist/{}", it.id)) {
                                (csrf_field(&a.csrf))
                                select name="assignee" aria-label=(tr!("Assignee")) {
                                    option value="" { (tr!("Nobody")) }
                                    @for p in &workers { option value=(p.id) selected[it.assignee == Some(p.id)] { (p.display()) } }
                                }
                                input type="date" name="due" value=(it.due.map(|d| d.to_string()).unwrap_or_default()) aria-label=(tr!("Due date"));
                                button type="submit" { (tr!("Save")) }
                            }
                            form.inline method="post" action=(format!("/tickets/{r}/checklist/{}/remove", it.id)) {
                                (csrf_field(&a.csrf))
                                button.linkish type="submit" { (tr!("Remove item")) }
                            }
                        }
                    }
                }
            }
            @if may {
                form.inline.additem method="post" action=(format!("/tickets/{r}/checklist")) {
                    (csrf_field(&a.csrf))
                    input type="text" name="text" placeholder=(tr!("Add an item…")) aria-label=(tr!("New checklist item")) required maxlength="300";
                    button type="submit" { (tr!("Add")) }
                }
            }
        }
    }
}

/// `assignee` and `due` of a form: absent = unchanged, empty = cleared.
fn plan(f: &[(String, String)]) -> Result<ItemChange, DeskError> {
    let has = |k: &str| f.iter().any(|(n, _)| n == k);
    let assignee = if has("assignee") {
        let v = field(f, "assignee").trim();
        Some(if v.is_empty() {
            None
        } else {
            Some(PersonId(v.parse().map_err(|_| DeskError::Invalid {
                field: "assignee",
                message: tr!("{value} is not an agent", value = format!("{v:?}")),
            })?))
        })
    } else {
        None
    };
    let due = if has("due") {
        let v = field(f, "due").trim();
        Some(if v.is_empty() {
            None
        } else {
            Some(Date::parse(v).ok_or_else(|| DeskError::Invalid {
                field: "due",
                message: tr!("{value} is not a date (YYYY-MM-DD)", value = format!("{v:?}")),
            })?)
        })
    } else {
        None
    };
    let done = match field(f, "done") {
        "1" => Some(true),
        "0" => Some(false),
        _ => None,
    };
    Ok(ItemChange { done, assignee, due })
}

pub async fn add(State(st): State<AppState>, a: Agent, t: TicketPath, body: Bytes) -> WebResult {
    let id = t.id;
    let f = fields(&body);
    let text = field(&f, "text").to_string();
    let change = plan(&f).map_err(|e| refused(&st, &a, id, e))?;
    let (assignee, due) = (change.assignee.flatten(), change.due.flatten());
    match run_as(&st.desk, &a.person, move |d, me| d.add_checklist_item(me, id, &text, assignee, due)).await {
        Ok(_) => Ok(back(&st, id, "saved")),
        Err(e) => Err(refused(&st, &a, id, e)),
    }
}

pub async fn change(
    State(st): State<AppState>,
    a: Agent,
    t: TicketPath,
    Path((_, item)): Path<(String, ChecklistItemId)>,
    body: Bytes,
) -> WebResult {
    let id = t.id;
    let change = plan(&fields(&body)).map_err(|e| refused(&st, &a, id, e))?;
    match run_as(&st.desk, &a.person, move |d, me| d.change_checklist_item(me, id, item, change)).await {
        Ok(_) => Ok(back(&st, id, "saved")),
        Err(e) => Err(refused(&st, &a, id, e)),
    }
}

pub async fn remove(State(st): State<AppState>, a: Agent, t: TicketPath, Path((_, item)): Path<(String, ChecklistItemId)>) -> WebResult {
    let id = t.id;
    match run_as(&st.desk, &a.person, move |d, me| d.remove_checklist_item(me, id, item)).await {
        Ok(()) => Ok(back(&st, id, "saved")),
        Err(e) => Err(refused(&st, &a, id, e)),
    }
}
