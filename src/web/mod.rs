//! The HTTP side: router, middleware (session, CSRF, security headers, limits)
//! and one module per area. Knows nothing of redb; it calls `desk`.

// Handlers return `Result<_, Response>`: the error is the finished HTTP answer.
// A Response is 128 bytes; boxing it on every error path buys nothing here.
#![allow(clippy::result_large_err)]

pub mod admin;
pub mod agent;
pub mod api;
pub mod assets;
pub mod body;
pub mod export;
pub mod live;
pub mod login;
pub mod mail;
pub mod new_ticket;
pub mod people;
pub mod portal;
pub mod search;
pub mod table;
pub mod views;
pub mod workflow;

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{DefaultBodyLimit, FromRequestParts, OptionalFromRequestParts, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header, request::Parts};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::desk::{Desk, DeskError};
use crate::domain::Person;

pub const SESSION_COOKIE: &str = "fd_session";
/// Pre-login CSRF cookie (double-submit) for the login form.
pub const PRE_COOKIE: &str = "fd_pre";

#[derive(Clone)]
pub struct AppState {
    pub desk: Arc<Desk>,
    /// One-time token for creating the first admin in the browser; `None` once
    /// an admin exists at start.
    pub setup_token: Option<Arc<String>>,
    pub mail_stats: Arc<crate::mail::worker::MailStats>,
    /// Who has which ticket open, and whether they are writing a reply.
    pub presence: Arc<live::Presence>,
    /// Agents' uploads in progress (capped).
    pub uploads: body::Uploads,
}

/// The logged-in agent, resolved once per request by the session middleware.
#[derive(Clone)]
pub struct Agent {
    pub person: Person,
    pub csrf: String,
    pub token: String,
}

pub fn router(desk: Arc<Desk>, setup_token: Option<String>, mail_stats: Arc<crate::mail::worker::MailStats>) -> Router {
    let uploads = body::Uploads::new(desk.config.limits.concurrent_uploads);
    let state = AppState { desk, setup_token: setup_token.map(Arc::new), mail_stats, presence: Arc::default(), uploads };
    Router::new()
        .route("/", get(|| async { Redirect::to("/tickets") }))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/login", get(login::login_page).post(login::login_submit))
        .route("/logout", post(login::logout))
        .route("/setup", get(login::setup_page).post(login::setup_submit))
        .route("/go", get(people::jump))
        .route("/events", get(live::events))
        .route("/search", get(search::search_page))
        .route("/search/saved", post(search::save))
        .route("/tickets/bulk", post(workflow::bulk))
        .route("/jobs/{id}", get(workflow::job_page))
        .route("/trash", get(workflow::trash_page))
        .route("/tickets/{reference}/trash", post(workflow::set_trash))
        .route("/tickets/{reference}/merge", post(workflow::merge))
        .route("/tickets/{reference}/link", post(workflow::link))
        .route("/tickets/{reference}/subject", post(workflow::subject))
        .route("/tickets/{reference}/print", get(workflow::print))
        .route("/tickets/{reference}/presence", post(live::presence))
        .route("/tickets/{reference}/pdf", get(workflow::pdf))
        .route("/tickets", get(agent::queue).post(new_ticket::create_ticket))
        .route("/tickets/new", get(new_ticket::new_ticket_page))
        .route("/tickets/following", get(agent::following))
        .route("/tickets/{reference}/follow", post(agent::follow))
        .route("/tickets.csv", get(export::csv))
        .route("/tickets/{reference}", get(agent::ticket_page))
        .route("/tickets/{reference}/reply", post(agent::reply))
        .route("/tickets/{reference}/canned/{idx}", get(agent::canned))
        .route("/tickets/{reference}/update", post(agent::update))
        .route("/tickets/{reference}/attachments/{seq}/{idx}", get(mail::attachment))
        .route("/tickets/{reference}/entries/{seq}/source", get(mail::source))
        .route("/tickets/{reference}/entries/{seq}/html", get(mail::html_body))
        .route("/t/{reference}", get(portal::view))
        .route("/t/{reference}/reply", post(portal::reply))
        .route("/u/{reference}/{person}", get(portal::unsubscribe_page).post(portal::unsubscribe))
        .route("/junk", get(mail::junk_page))
        .route("/junk/{id}/source", get(mail::junk_source))
        .route("/junk/{id}/ticket", post(mail::junk_to_ticket))
        .route("/requesters/{id}", get(people::requester_page).post(people::update_person))
        .route("/requesters/{id}/merge", post(people::merge_person))
        .route("/people", get(people::people))
        .route("/admin/agents", get(admin::agents_page).post(admin::add_agent))
        .route("/admin/agents/{id}/active", post(admin::set_active))
        .route("/admin/agents/{id}/password", post(admin::reset_password))
        .route("/admin/agents/{id}/edit", post(admin::edit_agent))
        .route("/settings", get(admin::settings_page).post(admin::save_settings))
        .route("/settings/canned", post(admin::save_canned))
        .route("/settings/tokens/{id}/revoke", post(admin::revoke_token))
        .route("/admin/outbox", get(admin::outbox_page))
        .route("/admin/outbox/test", post(admin::outbox_test))
        .route("/admin/outbox/{id}/retry", post(admin::outbox_retry))
        .route("/admin/outbox/{id}/discard", post(admin::outbox_discard))
        .route("/assets/{*path}", get(assets::serve))
        .nest("/api/v1", api::router())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), session_layer))
        .layer(middleware::from_fn_with_state(state.clone(), body::limit_body))
        .layer(DefaultBodyLimit::disable())
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

/// Runs blocking desk work (store commits with fsync, template rendering,
/// password hashing) on the blocking pool instead of the async runtime.
pub async fn blocking<T: Send + 'static>(
    desk: &Arc<Desk>,
    f: impl FnOnce(&Desk) -> Result<T, DeskError> + Send + 'static,
) -> Result<T, DeskError> {
    let desk = desk.clone();
    tokio::task::spawn_blocking(move || f(&desk)).await.unwrap_or_else(|_| Err(DeskError::Conflict("the request was interrupted".into())))
}

/// Liveness and intake: the store answers, every worker runs, and mail does
/// not wait in the spool longer than `server.health_spool_age_secs`.
async fn healthz(State(st): State<AppState>) -> Response {
    let desk = st.desk.clone();
    let report = tokio::task::spawn_blocking(move || desk.health()).await;
    match report {
        Ok(h) => {
            let code = if h.ok() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
            (code, [(header::CONTENT_TYPE, "application/json")], h.to_json()).into_response()
        }
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("health check failed: {e}\n")).into_response(),
    }
}

/// Plain-text metrics (Prometheus exposition format), for loopback clients only.
async fn metrics(
    State(st): State<AppState>,
    axum::extract::ConnectInfo(addr): axum::extract::ConnectInfo<std::net::SocketAddr>,
) -> Response {
    if !addr.ip().is_loopback() {
        return PageError(DeskError::NotFound).render(&st.desk.config.desk.name);
    }
    use std::sync::atomic::Ordering::Relaxed;
    let s = &st.mail_stats;
    let (n, p50, p99) = s.percentiles();
    let spool = st.desk.store.spool().len().unwrap_or(0);
    let read = st.desk.store.read();
    let (due, queued) = read.as_ref().ok().and_then(|r| r.outbox_counts(st.desk.now()).ok()).unwrap_or((0, 0));
    let index_queue = read.as_ref().ok().and_then(|r| r.index_queue_len().ok()).unwrap_or(0);
    let body = format!(
        "# TYPE frontdesk_smtp_accepted_total counter\nfrontdesk_smtp_accepted_total {}\n\
         # TYPE frontdesk_mail_processed_total counter\nfrontdesk_mail_processed_total {}\n\
         # TYPE frontdesk_spool_depth gauge\nfrontdesk_spool_depth {spool}\n\
         # TYPE frontdesk_accept_to_ticket_ms summary\n\
         frontdesk_accept_to_ticket_ms{{quantile=\"0.5\"}} {p50}\nfrontdesk_accept_to_ticket_ms{{quantile=\"0.99\"}} {p99}\nfrontdesk_accept_to_ticket_ms_count {n}\n\
         # TYPE frontdesk_outbox_due gauge\nfrontdesk_outbox_due {due}\n\
         # TYPE frontdesk_outbox_queued gauge\nfrontdesk_outbox_queued {queued}\n\
         # TYPE frontdesk_index_queue gauge\nfrontdesk_index_queue {index_queue}\n",
        s.accepted.load(Relaxed),
        s.processed.load(Relaxed),
    );
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

async fn not_found(State(st): State<AppState>, req: Request) -> Response {
    if req.uri().path().starts_with("/api/") {
        return api::error(StatusCode::NOT_FOUND, "no such endpoint", None);
    }
    PageError(DeskError::NotFound).render(&st.desk.config.desk.name)
}

async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    // Handlers that serve untrusted content set their own, stricter policy.
    if !h.contains_key(header::X_FRAME_OPTIONS) {
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    h.entry(header::CONTENT_SECURITY_POLICY).or_insert(
        HeaderValue::from_static("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// Reads one cookie from the request headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|kv| {
        let (k, v) = kv.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

/// A `Set-Cookie` value with the desk's flags.
pub fn set_cookie(desk: &Desk, name: &str, value: &str, max_age_secs: i64) -> String {
    let secure = if desk.config.secure_cookies() { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}")
}

/// Resolves the session cookie for every request and enforces CSRF on every
/// state-changing browser request (the API uses bearer tokens instead).
async fn session_layer(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let desk = st.desk.clone();
    let (mut parts, body) = req.into_parts();
    let mut agent = None;
    if let Some(token) = cookie(&parts.headers, SESSION_COOKIE) {
        match desk.session(token) {
            Ok(Some((person, s))) => agent = Some(Agent { person, csrf: s.csrf, token: token.to_string() }),
            Ok(None) => {}
            Err(e) => return PageError(e).render(&desk.config.desk.name),
        }
    }
    let unsafe_method = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
    // The API uses bearer tokens; one-click unsubscribe (RFC 8058) is posted by
    // mail providers and authorized by the signature in its URL.
    let exempt = parts.uri.path().starts_with("/api/") || parts.uri.path().starts_with("/u/");
    let body = if unsafe_method && !exempt {
        let expected = match &agent {
            Some(a) => Some(a.csrf.clone()),
            None => cookie(&parts.headers, PRE_COOKIE).map(str::to_string),
        };
        let bytes = match to_bytes(body, usize::MAX).await {
            Ok(b) => b,
            Err(_) => {
                return PageError(DeskError::TooLarge {
                    field: "request",
                    limit: format!("{} bytes", desk.config.limits.request_max_bytes),
                })
                .render(&desk.config.desk.name);
            }
        };
        // Multipart forms (uploads) carry the token in the URL.
        let given = form_urlencoded_field(&bytes, "_csrf")
            .or_else(|| parts.headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).map(str::to_string))
            .or_else(|| parts.uri.query().and_then(|q| form_urlencoded_field(q.as_bytes(), "_csrf")));
        let ok = matches!((&expected, &given), (Some(e), Some(g)) if !e.is_empty() && constant_time_eq(e.as_bytes(), g.as_bytes()));
        if !ok {
            let page = views::error_page(
                &desk.config.desk.name,
                403,
                "This form has expired",
                "The form was missing its security token or came from another site. Go back, reload the page and try again.",
            );
            return (StatusCode::FORBIDDEN, page).into_response();
        }
        Body::from(bytes)
    } else {
        body
    };
    if let Some(a) = agent {
        parts.extensions.insert(a);
    }
    next.run(Request::from_parts(parts, body)).await
}

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Finds one field of an `application/x-www-form-urlencoded` body.
pub(crate) fn form_urlencoded_field(body: &[u8], name: &str) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    text.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == name).then(|| percent_encoding::percent_decode_str(&v.replace('+', " ")).decode_utf8_lossy().into_owned())
    })
}

/// Extracting `Agent` in a page handler: not logged in → redirect to login.
impl FromRequestParts<AppState> for Agent {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, _st: &AppState) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Agent>() {
            Some(a) => Ok(a.clone()),
            None => {
                let next = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/tickets");
                let enc = percent_encoding::utf8_percent_encode(next, percent_encoding::NON_ALPHANUMERIC).to_string();
                Err(Redirect::to(&format!("/login?next={enc}")).into_response())
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

/// A desk error shown as an HTML page with the right status.
pub struct PageError(pub DeskError);

impl From<DeskError> for PageError {
    fn from(e: DeskError) -> Self {
        PageError(e)
    }
}

pub fn status_of(e: &DeskError) -> StatusCode {
    match e {
        DeskError::NotFound => StatusCode::NOT_FOUND,
        DeskError::Invalid { .. } => StatusCode::BAD_REQUEST,
        DeskError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        DeskError::Conflict(_) => StatusCode::CONFLICT,
        DeskError::Forbidden(_) => StatusCode::FORBIDDEN,
        DeskError::BadCredentials => StatusCode::UNAUTHORIZED,
        DeskError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        DeskError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

impl PageError {
    pub fn render(&self, desk_name: &str) -> Response {
        let status = status_of(&self.0);
        let (title, msg) = match &self.0 {
            DeskError::NotFound => ("Not found".to_string(), "There is nothing here, or you do not have access to it.".to_string()),
            DeskError::Store(e) => {
                tracing::error!("store error: {e}");
                (
                    "Temporarily unavailable".to_string(),
                    "The desk could not read or write its data. Nothing was changed; try again.".to_string(),
                )
            }
            other => (status.canonical_reason().unwrap_or("Error").to_string(), other.to_string()),
        };
        (status, views::error_page(desk_name, status.as_u16(), &title, &msg)).into_response()
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        // The desk name is not at hand here; handlers that can, call `render`.
        self.render("frontdesk")
    }
}
