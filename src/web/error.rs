//! One error type for every handler and middleware: `WebError`.
//!
//! A handler returns `Result<Response, WebError>` and uses `?` on desk calls.
//! `WebError::into_response` only sets the status and leaves an `ErrorInfo`
//! in the response's extensions; the `render_errors` middleware then draws it
//! in the shape the caller reads: JSON `{"error", "field"}` under `/api/`, the
//! desk's error page everywhere else. So the title and wording of every error
//! live here, once, and a handler never picks a renderer.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;

use super::AppState;
use super::ui;
use crate::desk::DeskError;
use crate::i18n::dynamic;
use crate::tr;

/// Why a request was not served.
#[derive(Debug)]
pub enum WebError {
    /// A refusal or failure from the desk: its status and message.
    Desk(DeskError),
    /// A status with a title and text of the caller's own (an expired link,
    /// an expired form, a slow upload).
    Message { status: StatusCode, title: &'static str, message: String, field: Option<String> },
    /// The API's 401, with `WWW-Authenticate: Bearer`.
    Unauthorized(&'static str),
    /// A browser page without a session: to the login page, then back.
    Login { next: String },
    /// A finished answer drawn by the handler (a form shown again with the
    /// error and the user's draft kept).
    Page(Box<Response>),
}

impl WebError {
    pub fn new(status: StatusCode, title: &'static str, message: impl Into<String>) -> WebError {
        WebError::Message { status, title, message: message.into(), field: None }
    }

    /// Names the form or JSON field at fault (API clients read it).
    pub fn with_field(self, name: &str) -> WebError {
        match self {
            WebError::Message { status, title, message, .. } => WebError::Message { status, title, message, field: Some(name.to_string()) },
            other => other,
        }
    }

    pub fn not_found() -> WebError {
        WebError::Desk(DeskError::NotFound)
    }

    pub fn invalid(field: &'static str, message: impl Into<String>) -> WebError {
        WebError::Desk(DeskError::Invalid { field, message: message.into() })
    }

    pub fn status(&self) -> StatusCode {
        match self {
            WebError::Desk(e) => status_of(e),
            WebError::Message { status, .. } => *status,
            WebError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            WebError::Login { .. } => StatusCode::SEE_OTHER,
            WebError::Page(r) => r.status(),
        }
    }
}

impl From<DeskError> for WebError {
    fn from(e: DeskError) -> Self {
        WebError::Desk(e)
    }
}

impl From<Response> for WebError {
    fn from(r: Response) -> Self {
        WebError::Page(Box::new(r))
    }
}

/// The HTTP status of a desk error.
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

/// What `render_errors` draws: left in the extensions of an empty response.
#[derive(Clone, Debug)]
pub struct ErrorInfo {
    pub title: String,
    pub message: String,
    /// The form or JSON field at fault, for API clients.
    pub field: Option<String>,
    /// The API's shorter wording, where it differs from the page's (API
    /// clients may match on it: "not found", "storage temporarily
    /// unavailable; nothing was changed").
    pub api_message: Option<&'static str>,
}

impl ErrorInfo {
    /// Title and text of a desk error in the request's language. The API is
    /// always served in English, where every text below is exactly the
    /// English the API has always answered with (`DeskError`'s `Display`, or
    /// `api_message`).
    fn of_desk(e: &DeskError) -> ErrorInfo {
        let status = status_of(e);
        let api_message = match e {
            DeskError::NotFound => Some("not found"),
            DeskError::Store(_) => Some("storage temporarily unavailable; nothing was changed"),
            _ => None,
        };
        if let DeskError::Store(inner) = e {
            tracing::error!("store error: {inner}");
        }
        let (title, field) = match e {
            DeskError::NotFound => (tr!("Not found").to_string(), None),
            DeskError::Store(_) => (tr!("Temporarily unavailable").to_string(), None),
            DeskError::Invalid { field, .. } => (tr!("Bad request").to_string(), Some(field.to_string())),
            DeskError::TooLarge { field, .. } => (tr!("Too large").to_string(), Some(field.to_string())),
            _ => (status_title(status), None),
        };
        ErrorInfo { title, message: desk_message(e), field, api_message }
    }
}

/// The reason phrase of a status, as the error page's title.
fn status_title(status: StatusCode) -> String {
    match status {
        StatusCode::BAD_REQUEST => tr!("Bad request").to_string(),
        StatusCode::UNAUTHORIZED => tr!("Unauthorized").to_string(),
        StatusCode::FORBIDDEN => tr!("Forbidden").to_string(),
        StatusCode::NOT_FOUND => tr!("Not found").to_string(),
        StatusCode::CONFLICT => tr!("Conflict").to_string(),
        StatusCode::PAYLOAD_TOO_LARGE => tr!("Too large").to_string(),
        StatusCode::TOO_MANY_REQUESTS => tr!("Too Many Requests").to_string(),
        StatusCode::SERVICE_UNAVAILABLE => tr!("Temporarily unavailable").to_string(),
        other => other.canonical_reason().map_or_else(|| tr!("Error").to_string(), dynamic),
    }
}

/// A desk error's text as a page shows it, in the request's language: the
/// desk's fixed sentences through the catalog (`i18n::dynamic`). In English
/// it is the error's `Display` (what the API answers), but for "not found"
/// and storage errors, which have a page sentence of their own.
pub fn desk_message(e: &DeskError) -> String {
    match e {
        DeskError::NotFound => tr!("There is nothing here, or you do not have access to it.").to_string(),
        DeskError::Store(_) => tr!("The desk could not read or write its data. Nothing was changed; try again.").to_string(),
        DeskError::Invalid { field, message } => format!("{}: {}", dynamic(field), dynamic(message)),
        DeskError::TooLarge { field, limit } => {
            tr!("{field} is too large (limit {limit})", field = dynamic(field), limit = limit_text(limit))
        }
        DeskError::Conflict(message) | DeskError::Forbidden(message) => dynamic(message),
        DeskError::BadCredentials => tr!("wrong email or password").to_string(),
        DeskError::RateLimited { retry_after_secs } => {
            tr!("too many failed logins; try again in {secs} seconds", secs = retry_after_secs)
        }
    }
}

/// A size limit as the desk words it (`1048576 bytes`, `200 characters`,
/// `20 tags`, `10 files at once`), in the request's language.
fn limit_text(limit: &str) -> String {
    let Some((n, unit)) = limit.split_once(' ') else { return dynamic(limit) };
    let Some(n) = n.parse::<u64>().ok().filter(|v| v.to_string() == n) else { return dynamic(limit) };
    match unit {
        "bytes" => tr!("{n} bytes", n = n),
        "characters" => tr!("{n} characters", n = n),
        "tags" => tr!("{n} tags", n = n),
        "files at once" => tr!("{n} files at once", n = n),
        _ => dynamic(limit),
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let status = self.status();
        let retry_after = match &self {
            WebError::Desk(DeskError::RateLimited { retry_after_secs }) => Some(*retry_after_secs),
            _ => None,
        };
        let info = match self {
            WebError::Page(r) => return *r,
            WebError::Login { next } => {
                let enc = percent_encoding::utf8_percent_encode(&next, percent_encoding::NON_ALPHANUMERIC).to_string();
                return Redirect::to(&format!("/login?next={enc}")).into_response();
            }
            WebError::Desk(e) => ErrorInfo::of_desk(&e),
            // Callers pass `tr!` texts; a plain English one is still
            // translated when the catalog has it (the API stays English).
            WebError::Message { title, message, field, .. } => {
                ErrorInfo { title: dynamic(title), message: dynamic(&message), field, api_message: None }
            }
            WebError::Unauthorized(m) => {
                let mut r = status.into_response();
                r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"frontdesk\""));
                r.extensions_mut().insert(ErrorInfo {
                    title: tr!("Unauthorized").into(),
                    message: m.into(),
                    field: None,
                    api_message: None,
                });
                return r;
            }
        };
        let mut r = status.into_response();
        r.extensions_mut().insert(info);
        if let Some(secs) = retry_after {
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        r
    }
}

/// Draws every `ErrorInfo` left by a handler or an inner middleware: JSON for
/// the API, the desk's error page for browsers.
pub async fn render_errors(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let mut res = next.run(req).await;
    let Some(info) = res.extensions_mut().remove::<ErrorInfo>() else { return res };
    let status = res.status();
    let mut out = if api {
        let mut body = json!({ "error": info.api_message.map_or(info.message, str::to_string) });
        if let Some(f) = info.field {
            body["field"] = json!(f);
        }
        (status, axum::Json(body)).into_response()
    } else {
        (status, ui::error_page(&st.desk.config().desk.name, status.as_u16(), &info.title, &info.message)).into_response()
    };
    for (k, v) in res.headers() {
        if k != header::CONTENT_TYPE && k != header::CONTENT_LENGTH {
            out.headers_mut().append(k.clone(), v.clone());
        }
    }
    out
}
