//! The web side of HTTPS: ACME's HTTP-01 answers, plain HTTP redirected to
//! HTTPS (except /healthz and those answers), and Strict-Transport-Security
//! on every HTTPS response.

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::{AppState, WebError};
use crate::tr;

pub const CHALLENGE_PREFIX: &str = "/.well-known/acme-challenge/";

pub fn routes() -> Router<AppState> {
    Router::new().route("/.well-known/acme-challenge/{token}", get(http01))
}

/// `GET /.well-known/acme-challenge/{token}`: the key authorization while
/// ACME waits for it, else 404.
async fn http01(State(st): State<AppState>, Path(token): Path<String>) -> Response {
    match st.tls.as_ref().and_then(|t| t.http_token(&token)) {
        Some(answer) => ([(header::CONTENT_TYPE, "application/octet-stream")], answer).into_response(),
        None => WebError::not_found().into_response(),
    }
}

/// The app as HTTPS serves it: with HSTS when `server.hsts_max_age_secs` > 0.
pub fn over_https(app: Router, hsts_max_age_secs: u64) -> Router {
    if hsts_max_age_secs == 0 {
        return app;
    }
    let value = HeaderValue::from_str(&format!("max-age={hsts_max_age_secs}")).unwrap_or(HeaderValue::from_static("max-age=31536000"));
    app.layer(middleware::from_fn(move |req: Request, next: Next| {
        let value = value.clone();
        async move {
            let mut res = next.run(req).await;
            res.headers_mut().insert(header::STRICT_TRANSPORT_SECURITY, value);
            res
        }
    }))
}

/// Where plain HTTP sends people: the public URL's origin when it is https,
/// else the host they asked for on the HTTPS port.
#[derive(Clone)]
struct Target {
    public_origin: Option<String>,
    https_port: u16,
}

/// The app as plain HTTP serves it while HTTPS is on: a 308 to the same path
/// over HTTPS, except /healthz and ACME's HTTP-01 answers.
pub fn over_plain_http(app: Router, public_url: &str, https_port: u16) -> Router {
    let public_origin = public_url.strip_prefix("https://").map(|rest| format!("https://{}", rest.split('/').next().unwrap_or(rest)));
    let target = Target { public_origin, https_port };
    app.layer(middleware::from_fn_with_state(target, redirect))
}

async fn redirect(State(t): State<Target>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path == "/healthz" || path.starts_with(CHALLENGE_PREFIX) {
        return next.run(req).await;
    }
    let path_and_query = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let origin = match &t.public_origin {
        Some(o) => o.clone(),
        None => {
            let host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok()).and_then(host_only);
            let Some(host) = host else {
                return WebError::new(
                    StatusCode::BAD_REQUEST,
                    tr!("Bad request"),
                    tr!("This desk is served over HTTPS; the request named no host."),
                )
                .into_response();
            };
            if t.https_port == 443 { format!("https://{host}") } else { format!("https://{host}:{}", t.https_port) }
        }
    };
    let location = format!("{origin}{path_and_query}");
    match HeaderValue::from_str(&location) {
        Ok(v) => (StatusCode::PERMANENT_REDIRECT, [(header::LOCATION, v)]).into_response(),
        Err(_) => WebError::new(StatusCode::BAD_REQUEST, tr!("Bad request"), tr!("This desk is served over HTTPS.")).into_response(),
    }
}

/// The host of a Host header without its port, when it is a plausible host
/// name or IP literal (anything else is refused rather than echoed).
fn host_only(h: &str) -> Option<String> {
    let host = match h.strip_prefix('[') {
        Some(v6) => format!("[{}]", v6.split(']').next()?),
        None => h.rsplit_once(':').map(|(a, _)| a).unwrap_or(h).to_string(),
    };
    let ok = !host.is_empty()
        && host.len() <= 255
        && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'));
    ok.then_some(host)
}

#[cfg(test)]
mod tests {
    use super::host_only;

    #[test]
    fn host_headers_lose_their_port_and_odd_ones_are_refused() {
        assert_eq!(host_only("desk.test:8080").as_deref(), Some("desk.test"));
        assert_eq!(host_only("desk.test").as_deref(), Some("desk.test"));
        assert_eq!(host_only("[::1]:80").as_deref(), Some("[::1]"));
        assert_eq!(host_only("evil.test/x"), None);
        assert_eq!(host_only("a b"), None);
        assert_eq!(host_only(""), None);
    }
}
