//! API v1 beyond tickets: people (scopes `people:read` and `people:write`)
//! — search, add, edit, merge — and the audit log (scope `admin`, admins
//! only). The same walls as the UI apply.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::spec::{Endpoint, PAGED, Verb, ep};
use super::{Body, Paging, body_object, check_keys, opt_str, paged};
use crate::domain::audit::AuditFilter;
use crate::domain::{AuditId, Person, PersonId};
use crate::web::{ApiUser, AppState, WebError, WebResult, blocking, run_as};

pub fn endpoints() -> Vec<Endpoint> {
    const SEARCH: &[(&str, &str)] = &[
        ("q", "Words of a name or an address (empty: the most recent)"),
        ("cursor", "The `next` of the previous page"),
        ("limit", "People per page (1-500)"),
    ];
    vec![
        ep(Verb::Get, "/people", "Search people", "PersonPage", search).query(SEARCH),
        ep(Verb::Post, "/people", "Add a contact (answers 200 with the one the desk has)", "Person", add).json("NewPerson").status(201),
        ep(Verb::Get, "/people/{id}", "One person, with the agents' notes", "Person", one),
        ep(Verb::Patch, "/people/{id}", "Change a person's name, notes or organization (its name; null: none)", "Person", edit)
            .json("PersonPatch"),
        ep(Verb::Post, "/people/{id}/merge", "Merge a requester into another (by address)", "Person", merge).json("Merge"),
        ep(Verb::Get, "/admin/audit", "The audit log, newest first", "AuditPage", audit).query(PAGED),
    ]
}

fn person_json(p: &Person) -> Value {
    json!({ "id": p.id, "name": p.name, "email": p.email, "role": p.role.key(), "active": p.active, "created_at": p.created_at.rfc3339() })
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct SearchParams {
    q: String,
    #[serde(flatten)]
    paging: Paging,
}

/// `GET /api/v1/people?q=`: people whose name or address matches (at most
/// 100 in all).
async fn search(State(st): State<AppState>, ApiUser(p): ApiUser, Query(s): Query<SearchParams>) -> WebResult {
    let (offset, limit) = s.paging.window(100)?;
    let found = blocking(&st.desk, move |d| d.search_people(&p, &s.q)).await?;
    let (page, next) = paged(found, offset, limit);
    Ok(axum::Json(json!({ "people": page.iter().map(person_json).collect::<Vec<_>>(), "next": next })).into_response())
}

/// `GET /api/v1/people/{id}`.
async fn one(State(st): State<AppState>, ApiUser(p): ApiUser, Path(id): Path<u64>) -> WebResult {
    let (found, notes) = blocking(&st.desk, move |d| Ok((d.person(&p, PersonId(id))?, d.person_notes(&p, PersonId(id))?))).await?;
    let mut v = person_json(&found);
    v["notes"] = Value::String(notes);
    v["organization"] = st.desk.org_of_person(found.id)?.map(|o| Value::String(o.name)).unwrap_or(Value::Null);
    Ok(axum::Json(v).into_response())
}

/// `POST /api/v1/people`: `{"email", "name"}`.
async fn add(State(st): State<AppState>, ApiUser(me): ApiUser, body: Body) -> WebResult {
    let m = body_object(&st, body)?;
    check_keys(&m, &["email", "name"])?;
    let email = opt_str(&m, "email")?.ok_or_else(|| WebError::invalid("email", "is required"))?.to_string();
    let name = opt_str(&m, "name")?.unwrap_or("").to_string();
    let (p, created) = run_as(&st.desk, &me, move |d, me| d.add_person(me, &email, &name)).await?;
    let code = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((code, axum::Json(person_json(&p))).into_response())
}

/// `PATCH /api/v1/people/{id}`: `{"name", "notes"}` (what is left out stays).
async fn edit(State(st): State<AppState>, ApiUser(me): ApiUser, Path(id): Path<u64>, body: Body) -> WebResult {
    let m = body_object(&st, body)?;
    check_keys(&m, &["name", "notes", "organization"])?;
    let id = PersonId(id);
    let current = st.desk.person(&me, id)?;
    if m.contains_key("organization") {
        let org = match opt_str(&m, "organization")? {
            None => None,
            Some(name) => Some(
                st.desk
                    .org_named(name)?
                    .ok_or_else(|| WebError::invalid("organization", format!("no organization is called {name:?}")))?
                    .id,
            ),
        };
        run_as(&st.desk, &me, move |d, me| d.set_person_org(me, id, org)).await?;
    }
    let name = opt_str(&m, "name")?.map(str::to_string).unwrap_or(current.name);
    let notes = match opt_str(&m, "notes")? {
        Some(n) => n.to_string(),
        None => st.desk.person_notes(&me, id)?,
    };
    let p = run_as(&st.desk, &me, move |d, me| d.update_person(me, id, &name, &notes)).await?;
    let mut v = person_json(&p);
    v["organization"] = st.desk.org_of_person(p.id)?.map(|o| Value::String(o.name)).unwrap_or(Value::Null);
    Ok(axum::Json(v).into_response())
}

/// `POST /api/v1/people/{id}/merge`: `{"into": address}`; answers the one kept.
async fn merge(State(st): State<AppState>, ApiUser(me): ApiUser, Path(id): Path<u64>, body: Body) -> WebResult {
    let m = body_object(&st, body)?;
    check_keys(&m, &["into"])?;
    let into = opt_str(&m, "into")?.ok_or_else(|| WebError::invalid("into", "is required: the address of the person to keep"))?.to_string();
    let p = run_as(&st.desk, &me, move |d, me| d.merge_people(me, PersonId(id), &into)).await?;
    Ok(axum::Json(person_json(&p)).into_response())
}

/// `GET /api/v1/admin/audit?cursor=&limit=`: entries newest first.
async fn audit(State(st): State<AppState>, ApiUser(p): ApiUser, Query(a): Query<Paging>) -> WebResult {
    // The cursor is the id below which the next page starts.
    let before = match a.cursor.as_deref() {
        None | Some("") => None,
        Some(c) => Some(c.parse::<AuditId>().map_err(|_| WebError::invalid("cursor", "is not a cursor this API returned"))?),
    };
    let limit = a.limit()?.unwrap_or(100).clamp(1, 1000);
    let rows = blocking(&st.desk, move |d| d.audit_log(&p, &AuditFilter::default(), before, limit)).await?;
    let entries: Vec<Value> = rows.iter().map(|(id, e)| crate::web::admin::audit::entry_json(*id, e)).collect();
    let next = match rows.last() {
        Some((id, _)) if rows.len() == limit && id.0 > 1 => Value::String(id.to_string()),
        _ => Value::Null,
    };
    Ok(axum::Json(json!({ "entries": entries, "next": next })).into_response())
}
