//! API v1 beyond tickets: people (scope `people:read`) and the audit log
//! (scope `admin`, admins only). The same walls as the UI apply.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::{Value, json};

use crate::domain::audit::AuditFilter;
use crate::domain::{Person, PersonId};
use crate::web::{ApiUser, AppState, WebResult, blocking};

pub fn routes() -> Router<AppState> {
    Router::new().route("/people", get(search)).route("/people/{id}", get(one)).route("/admin/audit", get(audit))
}

fn person_json(p: &Person) -> Value {
    json!({ "id": p.id, "name": p.name, "email": p.email, "role": p.role.key(), "active": p.active, "created_at": p.created_at.rfc3339() })
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct SearchParams {
    q: String,
}

/// `GET /api/v1/people?q=`: people whose name or address matches.
async fn search(State(st): State<AppState>, ApiUser(p): ApiUser, Query(s): Query<SearchParams>) -> WebResult {
    let found = blocking(&st.desk, move |d| d.search_people(&p, &s.q)).await?;
    Ok(axum::Json(json!({ "people": found.iter().map(person_json).collect::<Vec<_>>() })).into_response())
}

/// `GET /api/v1/people/{id}`.
async fn one(State(st): State<AppState>, ApiUser(p): ApiUser, Path(id): Path<u64>) -> WebResult {
    let found = blocking(&st.desk, move |d| d.person(&p, PersonId(id))).await?;
    Ok(axum::Json(person_json(&found)).into_response())
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct AuditParams {
    before: Option<u64>,
    limit: Option<usize>,
}

/// `GET /api/v1/admin/audit?before=&limit=`: entries newest first (at most 1,000).
async fn audit(State(st): State<AppState>, ApiUser(p): ApiUser, Query(a): Query<AuditParams>) -> WebResult {
    let limit = a.limit.unwrap_or(100).clamp(1, 1000);
    let rows = blocking(&st.desk, move |d| d.audit_log(&p, &AuditFilter::default(), a.before, limit)).await?;
    let entries: Vec<Value> = rows.iter().map(|(id, e)| crate::web::admin::audit::entry_json(*id, e)).collect();
    Ok(axum::Json(json!({ "entries": entries })).into_response())
}
