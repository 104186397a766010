//! API v1: who gets a ticket's mail — collaborators added and removed, the
//! requester changed (scope `tickets:write`; the desk checks the role).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;

use super::spec::{Endpoint, Verb, ep};
use super::{Body, body_object, check_keys, find, opt_str, view_json};
use crate::web::{ApiUser, AppState, WebError, WebResult, run_as};

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        ep(Verb::Post, "/tickets/{reference}/collaborators", "Copy someone on the conversation", "TicketView", add).json("Who").status(201),
        ep(Verb::Delete, "/tickets/{reference}/collaborators/{email}", "Take a collaborator off", "TicketView", remove),
        ep(Verb::Put, "/tickets/{reference}/requester", "Make someone else the requester", "TicketView", requester).json("Who"),
    ]
}

/// `{"email": …, "name": …}` of a request body.
fn who(st: &AppState, body: Body) -> Result<(String, String), WebError> {
    let m = body_object(st, body)?;
    check_keys(&m, &["email", "name"])?;
    let email = opt_str(&m, "email")?.ok_or_else(|| WebError::invalid("email", "is required"))?.to_string();
    Ok((email, opt_str(&m, "name")?.unwrap_or("").to_string()))
}

/// `POST /tickets/{ref}/collaborators`: copy someone on the conversation.
async fn add(State(st): State<AppState>, ApiUser(me): ApiUser, Path(reference): Path<String>, body: Body) -> WebResult {
    let id = find(&st, &me, &reference)?.ticket.id;
    let (email, name) = who(&st, body)?;
    run_as(&st.desk, &me, move |d, me| d.add_collaborator(me, id, &email, &name)).await?;
    let v = st.desk.ticket_view(&me, id)?;
    Ok((StatusCode::CREATED, axum::Json(view_json(&st, &v))).into_response())
}

/// `DELETE /tickets/{ref}/collaborators/{email}`.
async fn remove(State(st): State<AppState>, ApiUser(me): ApiUser, Path((reference, email)): Path<(String, String)>) -> WebResult {
    let v = find(&st, &me, &reference)?;
    let id = v.ticket.id;
    let person =
        v.collaborators.iter().find(|p| p.email.eq_ignore_ascii_case(email.trim())).map(|p| p.id).ok_or_else(WebError::not_found)?;
    run_as(&st.desk, &me, move |d, me| d.remove_collaborator(me, id, person)).await?;
    let v = st.desk.ticket_view(&me, id)?;
    Ok(axum::Json(view_json(&st, &v)).into_response())
}

/// `PUT /tickets/{ref}/requester`: make someone else the requester.
async fn requester(State(st): State<AppState>, ApiUser(me): ApiUser, Path(reference): Path<String>, body: Body) -> WebResult {
    let id = find(&st, &me, &reference)?.ticket.id;
    let (email, name) = who(&st, body)?;
    run_as(&st.desk, &me, move |d, me| d.change_requester(me, id, &email, &name)).await?;
    let v = st.desk.ticket_view(&me, id)?;
    Ok(axum::Json(view_json(&st, &v)).into_response())
}
