//! API v1: organizations (scopes `people:read` and `people:write`) — list
//! and search, create, read with their people, update, merge.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{Map, Value, json};

use super::spec::{Endpoint, Verb, ep};
use super::{Body, Paging, body_object, check_keys, opt_str, paged};
use crate::desk::orgs::{OrgInput, OrgView};
use crate::domain::OrgId;
use crate::domain::orgs::Organization;
use crate::web::{ApiUser, AppState, WebError, WebResult, blocking, run_as};

pub fn endpoints() -> Vec<Endpoint> {
    const SEARCH: &[(&str, &str)] = &[
        ("q", "Words of a name, or a domain (empty: all)"),
        ("cursor", "The `next` of the previous page"),
        ("limit", "Organizations per page (1-500)"),
    ];
    vec![
        ep(Verb::Get, "/organizations", "List or search organizations", "OrganizationPage", search).query(SEARCH),
        ep(Verb::Post, "/organizations", "Create an organization (its domains' people without one join it)", "Organization", create)
            .json("NewOrganization")
            .status(201),
        ep(Verb::Get, "/organizations/{id}", "One organization with its people", "Organization", one),
        ep(Verb::Patch, "/organizations/{id}", "Change an organization (what is left out stays)", "Organization", edit)
            .json("OrganizationPatch"),
        ep(Verb::Post, "/organizations/{id}/merge", "Merge an organization into another (`into`: its id)", "Organization", merge)
            .json("OrgMerge"),
    ]
}

pub(super) fn org_json(o: &Organization, size: usize) -> Value {
    json!({
        "id": o.id, "name": o.name, "domains": o.domains, "notes": o.notes, "shared": o.shared,
        "people_count": size, "created_at": o.created_at.rfc3339(),
    })
}

fn view_json(v: &OrgView) -> Value {
    let mut o = org_json(&v.org, v.size);
    o["people"] = v.people.iter().map(|p| json!({"id": p.id, "name": p.name, "email": p.email})).collect();
    o
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct SearchParams {
    q: String,
    #[serde(flatten)]
    paging: Paging,
}

async fn search(State(st): State<AppState>, ApiUser(p): ApiUser, Query(s): Query<SearchParams>) -> WebResult {
    let (offset, limit) = s.paging.window(100_000)?;
    let all = blocking(&st.desk, move |d| d.organizations(&p)).await?;
    let words: Vec<String> = s.q.split_whitespace().map(str::to_lowercase).collect();
    let found: Vec<(Organization, usize)> = all
        .into_iter()
        .filter(|(o, _)| {
            let name = o.name.to_lowercase();
            words.iter().all(|w| name.contains(w.as_str()) || o.domains.iter().any(|d| d == w.trim_start_matches('@')))
        })
        .collect();
    let (page, next) = paged(found, offset, limit);
    Ok(axum::Json(json!({ "organizations": page.iter().map(|(o, n)| org_json(o, *n)).collect::<Vec<_>>(), "next": next })).into_response())
}

/// The fields of a body over `base` (what is left out stays).
fn input(m: &Map<String, Value>, base: OrgInput) -> Result<OrgInput, WebError> {
    check_keys(m, &["name", "domains", "notes", "shared"])?;
    let mut out = base;
    if let Some(n) = opt_str(m, "name")? {
        out.name = n.to_string();
    }
    if let Some(n) = opt_str(m, "notes")? {
        out.notes = n.to_string();
    }
    match m.get("domains") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) => {
            out.domains = list
                .iter()
                .map(|d| d.as_str().map(str::to_string).ok_or_else(|| WebError::invalid("domains", "must be a list of domains")))
                .collect::<Result<_, _>>()?;
        }
        Some(_) => return Err(WebError::invalid("domains", "must be a list of domains")),
    }
    match m.get("shared") {
        None | Some(Value::Null) => {}
        Some(Value::Bool(b)) => out.shared = *b,
        Some(_) => return Err(WebError::invalid("shared", "must be true or false")),
    }
    Ok(out)
}

async fn create(State(st): State<AppState>, ApiUser(me): ApiUser, body: Body) -> WebResult {
    let m = body_object(&st, body)?;
    let new = input(&m, OrgInput::default())?;
    if new.name.trim().is_empty() {
        return Err(WebError::invalid("name", "is required"));
    }
    let o = run_as(&st.desk, &me, move |d, me| d.create_org(me, new)).await?;
    let v = st.desk.organization(&me, o.id)?;
    Ok((StatusCode::CREATED, axum::Json(view_json(&v))).into_response())
}

async fn one(State(st): State<AppState>, ApiUser(p): ApiUser, Path(id): Path<u64>) -> WebResult {
    let v = blocking(&st.desk, move |d| d.organization(&p, OrgId(id))).await?;
    Ok(axum::Json(view_json(&v)).into_response())
}

async fn edit(State(st): State<AppState>, ApiUser(me): ApiUser, Path(id): Path<u64>, body: Body) -> WebResult {
    let m = body_object(&st, body)?;
    let current = st.desk.organization(&me, OrgId(id))?.org;
    let base = OrgInput { name: current.name, domains: current.domains, notes: current.notes, shared: current.shared };
    let changed = input(&m, base)?;
    run_as(&st.desk, &me, move |d, me| d.update_org(me, OrgId(id), changed)).await?;
    Ok(axum::Json(view_json(&st.desk.organization(&me, OrgId(id))?)).into_response())
}

async fn merge(State(st): State<AppState>, ApiUser(me): ApiUser, Path(id): Path<u64>, body: Body) -> WebResult {
    let m = body_object(&st, body)?;
    check_keys(&m, &["into"])?;
    let into = m
        .get("into")
        .and_then(Value::as_u64)
        .ok_or_else(|| WebError::invalid("into", "is required: the id of the organization to keep"))?;
    let kept = run_as(&st.desk, &me, move |d, me| d.merge_orgs(me, OrgId(id), OrgId(into))).await?;
    Ok(axum::Json(view_json(&st.desk.organization(&me, kept.id)?)).into_response())
}
