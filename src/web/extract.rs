//! Extractors every area shares: the logged-in `Agent` (resolved once per
//! request by the session middleware), `Admin` (an agent with the admin role)
//! `TicketPath` (the `{reference}` of a ticket route, parsed) and `ApiUser`
//! (the agent behind an API bearer token).

use std::collections::HashMap;

use axum::extract::{FromRequestParts, OptionalFromRequestParts, Path};
use axum::http::request::Parts;

use super::{AppState, WebError};
use crate::desk::DeskError;
use crate::desk::tokens::TokenCheck;
use crate::domain::access::Scope;
use crate::domain::{Person, TicketId};

/// The logged-in agent.
#[derive(Clone)]
pub struct Agent {
    pub person: Person,
    pub csrf: String,
    pub token: String,
}

/// Not logged in → the login page, then back here.
impl FromRequestParts<AppState> for Agent {
    type Rejection = WebError;
    async fn from_request_parts(parts: &mut Parts, _st: &AppState) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Agent>() {
            Some(a) => Ok(a.clone()),
            None => {
                let next = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/tickets");
                Err(WebError::Login { next: next.to_string() })
            }
        }
    }
}

impl OptionalFromRequestParts<AppState> for Agent {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _st: &AppState) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<Agent>().cloned())
    }
}

/// An agent with the admin role; any other agent gets 404 (admin pages do
/// not show that they exist). The desk checks the role again in every admin
/// command.
#[derive(Clone)]
pub struct Admin(pub Agent);

impl FromRequestParts<AppState> for Admin {
    type Rejection = WebError;
    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let a = <Agent as FromRequestParts<AppState>>::from_request_parts(parts, st).await?;
        if !a.person.is_admin() {
            return Err(DeskError::NotFound.into());
        }
        Ok(Admin(a))
    }
}

/// The ticket named by a route's `{reference}`; 404 when it is no reference.
#[derive(Clone, Debug)]
pub struct TicketPath {
    pub id: TicketId,
    /// As typed in the URL (pages redirect to the canonical form).
    pub reference: String,
}

impl FromRequestParts<AppState> for TicketPath {
    type Rejection = WebError;
    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let Path(params) = <Path<HashMap<String, String>> as FromRequestParts<AppState>>::from_request_parts(parts, st)
            .await
            .map_err(|_| WebError::not_found())?;
        let reference = params.get("reference").cloned().unwrap_or_default();
        let id = st.desk.parse_reference(&reference).ok_or_else(WebError::not_found)?;
        Ok(TicketPath { id, reference })
    }
}

/// The agent behind `Authorization: Bearer …`, when the token admits this
/// request: 401 for no or an unknown token, 403 for one that is expired,
/// used from an address outside its allow-list or lacks the scope the route
/// needs (`scope_for`), 429 with Retry-After past its rate.
#[derive(Clone)]
pub struct ApiUser(pub Person);

/// The scope an API request needs: reading or changing tickets, reading
/// people, or the admin's routes.
pub fn scope_for(method: &axum::http::Method, path: &str) -> Scope {
    let read = matches!(*method, axum::http::Method::GET | axum::http::Method::HEAD);
    let path = path.trim_start_matches("/api/v1");
    // Raw mail skips the sender checks of SMTP: admins only.
    if path.starts_with("/admin") || path == "/mail" {
        Scope::Admin
    } else if path.starts_with("/people") || path.starts_with("/organizations") {
        if read { Scope::PeopleRead } else { Scope::PeopleWrite }
    } else if read {
        Scope::TicketsRead
    } else {
        Scope::TicketsWrite
    }
}

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = WebError;
    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .ok_or(WebError::Unauthorized("missing bearer token"))?;
        let client = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
        let path = parts
            .extensions
            .get::<axum::extract::OriginalUri>()
            .map(|u| u.path().to_string())
            .unwrap_or_else(|| parts.uri.path().to_string());
        let need = scope_for(&parts.method, &path);
        match st.desk.authenticate_token(token, client, need)? {
            TokenCheck::Admitted { person, touch } => {
                if touch {
                    let (token, desk) = (token.to_string(), st.desk.clone());
                    // Last use, written off the runtime; the request does not wait.
                    tokio::task::spawn_blocking(move || {
                        if let Err(e) = desk.touch_api_token(&token) {
                            tracing::warn!("could not record an API token's last use: {e}");
                        }
                    });
                }
                Ok(ApiUser(person))
            }
            TokenCheck::Unknown => Err(WebError::Unauthorized("invalid or revoked token")),
            TokenCheck::Refused(r) => Err(DeskError::Forbidden(r.to_string()).into()),
        }
    }
}
