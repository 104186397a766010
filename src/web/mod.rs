//! The HTTP side: the router, the middleware (`guard`: session, CSRF,
//! security headers; `body`: limits; `error`: rendering of every error) and
//! one folder per area, each with its `routes()`. Knows nothing of redb; it
//! calls `desk`, blocking work through `blocking`.

pub mod admin;
pub mod api;
pub mod body;
pub mod error;
pub mod expired;
pub mod extract;
pub mod guard;
pub mod https;
pub mod junk;
pub mod kb;
pub mod live;
pub mod ops;
pub mod pages;
pub mod people;
pub mod portal;
pub mod queue;
pub mod reports;
pub mod session;
pub mod sso;
pub mod ticket;
pub mod ui;
pub mod webhooks;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;

pub use error::{WebError, status_of};
pub use extract::{Admin, Agent, ApiUser, TicketPath};
pub use guard::{cookie, set_cookie};

use crate::desk::{Desk, DeskError};

pub const SESSION_COOKIE: &str = "fd_session";
/// Pre-login CSRF cookie (double-submit) for the login form.
pub const PRE_COOKIE: &str = "fd_pre";

/// What a handler returns: a page or redirect, or why not.
pub type WebResult = Result<axum::response::Response, WebError>;

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
    /// Strangers' uploads in progress (the help page's form; a few).
    pub anon_uploads: body::Uploads,
    /// The HTTPS certificates, when HTTPS is on (ACME's HTTP-01 answers, /healthz).
    pub tls: Option<Arc<crate::tls::Certs>>,
    /// Single sign-on, when `[sso]` is on.
    pub sso: Option<Arc<sso::Sso>>,
}

pub fn router(
    desk: Arc<Desk>,
    setup_token: Option<String>,
    mail_stats: Arc<crate::mail::worker::MailStats>,
    tls: Option<Arc<crate::tls::Certs>>,
    sso: Option<Arc<sso::Sso>>,
) -> Router {
    let uploads = body::Uploads::new(desk.config().limits.concurrent_uploads);
    let anon_uploads = body::Uploads::new(body::ANON_UPLOADS);
    let state =
        AppState { desk, setup_token: setup_token.map(Arc::new), mail_stats, presence: Arc::default(), uploads, anon_uploads, tls, sso };
    Router::new()
        .merge(ops::routes())
        .merge(https::routes())
        .merge(session::routes())
        .merge(sso::routes())
        .merge(queue::routes())
        .merge(ticket::routes())
        .merge(live::routes())
        .merge(people::routes())
        .merge(kb::routes())
        .merge(junk::routes())
        .merge(reports::routes())
        .merge(admin::routes())
        .merge(portal::routes())
        .merge(ui::assets::routes())
        .nest("/api/v1", api::routes())
        .fallback(ops::not_found)
        .layer(middleware::from_fn_with_state(state.clone(), guard::session_layer))
        .layer(middleware::from_fn_with_state(state.clone(), body::limit_body))
        .layer(middleware::from_fn_with_state(state.clone(), error::render_errors))
        .layer(middleware::from_fn(guard::language_layer))
        .layer(DefaultBodyLimit::disable())
        .layer(middleware::from_fn(guard::security_headers))
        .layer(middleware::from_fn(ops::count_requests))
        .with_state(state)
}

/// Runs a desk command as `actor` on the blocking pool (see `blocking`).
pub async fn run_as<T: Send + 'static>(
    desk: &Arc<Desk>,
    actor: &crate::domain::Person,
    f: impl FnOnce(&Desk, &crate::domain::Person) -> Result<T, DeskError> + Send + 'static,
) -> Result<T, DeskError> {
    let actor = actor.clone();
    blocking(desk, move |d| f(d, &actor)).await
}

/// Runs `f` on the blocking pool with the request's context: its
/// language, the viewer's time zone and the client address (also for the
/// audit log). `None` when `f` panicked.
async fn on_pool<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let lang = crate::i18n::current();
    let tz = ui::VIEWER_TZ.try_with(|t| t.clone()).ok().flatten();
    let ip = ui::CLIENT_IP.try_with(|c| c.clone()).unwrap_or_default();
    tokio::task::spawn_blocking(move || {
        let audit = ip.clone();
        ui::VIEWER_TZ
            .sync_scope(tz, || ui::CLIENT_IP.sync_scope(ip, || crate::i18n::with_lang(lang, || crate::desk::audit::with_client(&audit, f))))
    })
    .await
    .ok()
}

/// What a request whose work panicked answers.
fn interrupted() -> DeskError {
    DeskError::Conflict("the request was interrupted".into())
}

/// Builds a page (its store reads and its markup) on the blocking pool, so
/// a long read never holds one of the runtime's workers. For pages that
/// scan (the people directory counts tickets over an index) or search; the
/// queue and ticket pages read a page's rows by key and stay on the
/// runtime: measured, the hand-off added 0.05–0.1 ms to their ~0.9 ms p50.
pub async fn off_runtime(f: impl FnOnce() -> WebResult + Send + 'static) -> WebResult {
    on_pool(f).await.unwrap_or_else(|| Err(interrupted().into()))
}

/// Runs blocking desk work (store commits with fsync, template rendering,
/// password hashing) on the blocking pool instead of the async runtime.
pub async fn blocking<T: Send + 'static>(
    desk: &Arc<Desk>,
    f: impl FnOnce(&Arc<Desk>) -> Result<T, DeskError> + Send + 'static,
) -> Result<T, DeskError> {
    let desk = desk.clone();
    on_pool(move || f(&desk)).await.unwrap_or_else(|| Err(interrupted()))
}
