//! Middleware every request passes: the session cookie resolved to an
//! `Agent`, CSRF on every state-changing browser request, security headers;
//! and the cookie helpers.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{Agent, AppState, PRE_COOKIE, SESSION_COOKIE, WebError};
use crate::desk::auth::SessionFound;
use crate::desk::{Desk, DeskError};

pub async fn security_headers(req: Request, next: Next) -> Response {
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
    let secure = if desk.config().secure_cookies() { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}")
}

/// Resolves the session cookie for every request and enforces CSRF on every
/// state-changing browser request (the API uses bearer tokens instead).
pub async fn session_layer(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let ip = req.extensions().get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip().to_string()).unwrap_or_default();
    crate::web::ui::CLIENT_IP.scope(ip, session_layer_inner(st, req, next)).await
}

async fn session_layer_inner(st: AppState, req: Request, next: Next) -> Response {
    let desk = st.desk.clone();
    let (mut parts, body) = req.into_parts();
    let mut agent = None;
    if let Some(token) = cookie(&parts.headers, SESSION_COOKIE) {
        // Read only on the runtime; the once-a-minute refresh (or ending an
        // idle session) commits, on the blocking pool.
        let found = match desk.session_unchanged(token) {
            Ok(Some(SessionFound::Live(person, s))) => Ok(Some((*person, s))),
            Ok(Some(SessionFound::No)) => Ok(None),
            Ok(None) => {
                let t = token.to_string();
                crate::web::blocking(&desk, move |d| d.session(&t)).await
            }
            Err(e) => Err(e),
        };
        match found {
            Ok(Some((person, s))) => agent = Some(Agent { person, csrf: s.csrf, token: token.to_string() }),
            Ok(None) => {}
            Err(e) => return WebError::from(e).into_response(),
        }
    }
    let unsafe_method = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
    // The API uses bearer tokens; one-click unsubscribe (RFC 8058) is posted by
    // mail providers and authorized by the signature in its URL.
    // The help widget's requests come from other sites, carry no cookie and
    // act as no one (the mailed link proves the address).
    let exempt = parts.uri.path().starts_with("/api/") || parts.uri.path().starts_with("/u/") || parts.uri.path() == "/help/widget";
    let body = if unsafe_method && !exempt {
        let expected = match &agent {
            Some(a) => Some(a.csrf.clone()),
            None => cookie(&parts.headers, PRE_COOKIE).map(str::to_string),
        };
        let bytes = match to_bytes(body, usize::MAX).await {
            Ok(b) => b,
            Err(_) => {
                return WebError::from(DeskError::TooLarge {
                    field: "request",
                    limit: format!("{} bytes", desk.config().limits.request_max_bytes),
                })
                .into_response();
            }
        };
        // Multipart forms (uploads) carry the token in the URL.
        let given = form_urlencoded_field(&bytes, "_csrf")
            .or_else(|| parts.headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).map(str::to_string))
            .or_else(|| parts.uri.query().and_then(|q| form_urlencoded_field(q.as_bytes(), "_csrf")));
        let ok = matches!((&expected, &given), (Some(e), Some(g)) if !e.is_empty() && constant_time_eq(e.as_bytes(), g.as_bytes()));
        if !ok {
            // Said as a page that keeps what was written.
            let ct = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
            return super::expired::page(&desk.config().desk.name, parts.uri.path(), &ct, &bytes).await;
        }
        Body::from(bytes)
    } else {
        body
    };
    if let Some(a) = agent {
        // A desk that requires a second factor sends an agent without one to
        // enrol before anything else (reads only when the rule is on).
        if desk.config().security.require_2fa != crate::config::TwoFactorRule::Off && !enrolment_path(parts.uri.path()) {
            match desk.must_enrol(&a.person) {
                Ok(true) => return axum::response::Redirect::to("/settings/2fa").into_response(),
                Ok(false) => {}
                Err(e) => return WebError::from(e).into_response(),
            }
        }
        // The agent's time zone for every date this request shows: their
        // profile's, else their browser's (the `fd_tz` cookie app.js sets).
        // Their language likewise: the profile's, else the browser's (set
        // already by `language_layer`); never for the API, which stays English.
        let profile = desk.profile(&a.person).ok();
        let api = parts.uri.path().starts_with("/api/");
        if let Some(lang) = profile.as_ref().and_then(|p| crate::i18n::Lang::parse(&p.language)).filter(|_| !api) {
            crate::i18n::set_current(lang);
        }
        let tz = match profile {
            Some(p) if !p.time_zone.is_empty() => jiff::tz::TimeZone::get(&p.time_zone).ok(),
            _ => browser_zone(&parts.headers),
        };
        parts.extensions.insert(a);
        return crate::web::ui::VIEWER_TZ.scope(tz, next.run(Request::from_parts(parts, body))).await;
    }
    next.run(Request::from_parts(parts, body)).await
}

/// Serves each request in the language its browser asks for
/// (`Accept-Language`, else English; the API is always English); `session_layer` switches to a signed-in
/// agent's own choice. Outermost but for the headers, so error pages speak
/// the same language.
pub async fn language_layer(req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let lang = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(crate::i18n::Lang::from_accept_language)
        .filter(|_| !api)
        .unwrap_or(crate::i18n::Lang::En);
    crate::i18n::LANG.scope(std::cell::Cell::new(lang), next.run(req)).await
}

/// Paths an agent who must enrol may still reach.
fn enrolment_path(path: &str) -> bool {
    path.starts_with("/settings/2fa")
        || path == "/logout"
        || path.starts_with("/assets/")
        || path == "/healthz"
        || path.starts_with("/api/")
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

/// The time zone the browser reported (cookie `fd_tz`, an IANA name), if
/// it is one this build knows.
fn browser_zone(headers: &axum::http::HeaderMap) -> Option<jiff::tz::TimeZone> {
    let cookies = headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';'));
    let raw = cookies.filter_map(|c| c.trim().strip_prefix("fd_tz=")).next()?;
    let name = percent_encoding::percent_decode_str(raw).decode_utf8().ok()?;
    let plausible = name.len() <= 64 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"/_+-".contains(&b));
    if plausible { jiff::tz::TimeZone::get(&name).ok() } else { None }
}
