//! API v1: a ticket's checklist — add, tick or re-plan, remove (scope
//! `tickets:write`; the desk checks the role). Items are in the ticket's
//! JSON (`checklist`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{Map, Value};

use super::spec::{Endpoint, Verb, ep};
use super::{Body, body_object, check_keys, find, opt_str, view_json};
use crate::desk::checklist::ItemChange;
use crate::domain::time::Date;
use crate::domain::{ChecklistItemId, PersonId};
use crate::web::{ApiUser, AppState, WebError, WebResult, run_as};

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        ep(Verb::Post, "/tickets/{reference}/checklist", "Add a checklist item", "TicketView", add).json("NewChecklistItem").status(201),
        ep(Verb::Patch, "/tickets/{reference}/checklist/{item}", "Tick, untick or re-plan an item", "TicketView", change)
            .json("ChecklistChange"),
        ep(Verb::Delete, "/tickets/{reference}/checklist/{item}", "Remove an item", "TicketView", remove),
    ]
}

/// `assignee` (an agent's address, or null) and `due` (YYYY-MM-DD, or null).
fn plan(st: &AppState, m: &Map<String, Value>) -> Result<ItemChange, WebError> {
    let assignee = match m.get("assignee") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(e)) => {
            let p = st.desk.agent_by_email(e)?.ok_or_else(|| WebError::invalid("assignee", "is not an agent's address"))?;
            Some(Some(p.id))
        }
        Some(_) => return Err(WebError::invalid("assignee", "must be an address or null")),
    };
    let due = match m.get("due") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(d)) => Some(Some(Date::parse(d).ok_or_else(|| WebError::invalid("due", "must be YYYY-MM-DD"))?)),
        Some(_) => return Err(WebError::invalid("due", "must be YYYY-MM-DD or null")),
    };
    let done = match m.get("done") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => return Err(WebError::invalid("done", "must be true or false")),
    };
    Ok(ItemChange { done, assignee, due })
}

/// `POST /tickets/{ref}/checklist` `{"text", "assignee"?, "due"?}`.
async fn add(State(st): State<AppState>, ApiUser(me): ApiUser, Path(reference): Path<String>, body: Body) -> WebResult {
    let id = find(&st, &me, &reference)?.ticket.id;
    let m = body_object(&st, body)?;
    check_keys(&m, &["text", "assignee", "due"])?;
    let text = opt_str(&m, "text")?.unwrap_or("").to_string();
    let p = plan(&st, &m)?;
    let (assignee, due): (Option<PersonId>, Option<Date>) = (p.assignee.flatten(), p.due.flatten());
    run_as(&st.desk, &me, move |d, me| d.add_checklist_item(me, id, &text, assignee, due)).await?;
    let v = st.desk.ticket_view(&me, id)?;
    Ok((StatusCode::CREATED, axum::Json(view_json(&st, &v))).into_response())
}

/// `PATCH /tickets/{ref}/checklist/{item}` `{"done"?, "assignee"?, "due"?}`.
async fn change(
    State(st): State<AppState>,
    ApiUser(me): ApiUser,
    Path((reference, item)): Path<(String, ChecklistItemId)>,
    body: Body,
) -> WebResult {
    let id = find(&st, &me, &reference)?.ticket.id;
    let m = body_object(&st, body)?;
    check_keys(&m, &["done", "assignee", "due"])?;
    let change = plan(&st, &m)?;
    run_as(&st.desk, &me, move |d, me| d.change_checklist_item(me, id, item, change)).await?;
    let v = st.desk.ticket_view(&me, id)?;
    Ok(axum::Json(view_json(&st, &v)).into_response())
}

/// `DELETE /tickets/{ref}/checklist/{item}`.
async fn remove(State(st): State<AppState>, ApiUser(me): ApiUser, Path((reference, item)): Path<(String, ChecklistItemId)>) -> WebResult {
    let id = find(&st, &me, &reference)?.ticket.id;
    run_as(&st.desk, &me, move |d, me| d.remove_checklist_item(me, id, item)).await?;
    let v = st.desk.ticket_view(&me, id)?;
    Ok(axum::Json(view_json(&st, &v)).into_response())
}
