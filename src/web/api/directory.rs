//! API v1: who and what a ticket can be given — agents, teams, statuses and
//! custom fields (read only; scope `tickets:read`).

use axum::extract::{Query, State};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::spec::{Endpoint, PAGED, Verb, ep};
use super::{Paging, paged};
use crate::web::{ApiUser, AppState, WebResult, blocking};

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        ep(Verb::Get, "/agents", "Active agents and admins", "AgentPage", agents).query(PAGED),
        ep(Verb::Get, "/teams", "The desk's teams and their members", "TeamList", teams),
        ep(Verb::Get, "/statuses", "Every status a ticket can have: the built-in ones and the desk's own", "StatusList", statuses),
        ep(Verb::Get, "/fields", "The desk's custom fields", "FieldList", fields),
    ]
}

async fn agents(State(st): State<AppState>, ApiUser(me): ApiUser, Query(p): Query<Paging>) -> WebResult {
    let (offset, limit) = p.window(100_000)?;
    let all = blocking(&st.desk, move |d| {
        if !me.is_staff() {
            return Err(crate::desk::DeskError::NotFound);
        }
        d.agents()
    })
    .await?;
    let (page, next) = paged(all, offset, limit);
    let list: Vec<Value> = page
        .iter()
        .map(|p| {
            json!({"id": p.id, "name": p.name, "email": p.email, "role": st.desk.role_label(p), "active": p.active,
                   "departments": p.departments, "teams": p.teams})
        })
        .collect();
    Ok(axum::Json(json!({"agents": list, "next": next})).into_response())
}

async fn teams(State(st): State<AppState>, ApiUser(me): ApiUser) -> WebResult {
    let staff = blocking(&st.desk, move |d| {
        if !me.is_staff() {
            return Err(crate::desk::DeskError::NotFound);
        }
        d.agents()
    })
    .await?;
    let list: Vec<Value> = st
        .desk
        .config()
        .team
        .iter()
        .map(|t| {
            let members: Vec<&str> =
                staff.iter().filter(|p| p.teams.iter().any(|x| x.eq_ignore_ascii_case(&t.name))).map(|p| p.email.as_str()).collect();
            json!({"name": t.name, "departments": t.departments, "members": members})
        })
        .collect();
    Ok(axum::Json(json!({"teams": list})).into_response())
}

async fn fields(State(st): State<AppState>, ApiUser(_me): ApiUser) -> WebResult {
    let list: Vec<Value> = st
        .desk
        .config()
        .field
        .iter()
        .map(|f| {
            json!({"name": f.name, "label": f.label(), "kind": f.kind.key(), "options": f.options, "departments": f.departments,
                   "required_to_resolve": f.required_to_resolve})
        })
        .collect();
    Ok(axum::Json(json!({"fields": list})).into_response())
}

async fn statuses(State(st): State<AppState>, ApiUser(_me): ApiUser) -> WebResult {
    let cfg = &st.desk.config();
    let list: Vec<Value> = cfg
        .status_choices()
        .iter()
        .map(|c| {
            let colour = c.custom.as_deref().and_then(|n| cfg.custom_status(n)).map(|s| s.colour.clone()).filter(|c| !c.is_empty());
            json!({"value": crate::web::ui::status_value(c), "name": crate::web::ui::status_label(c), "base": c.base.key(),
                   "colour": colour, "custom": c.custom.is_some()})
        })
        .collect();
    Ok(axum::Json(json!({"statuses": list})).into_response())
}
