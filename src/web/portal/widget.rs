//! The help widget (issue 15 part 2): `/widget.js` on any site of
//! `portal.widget_origins` shows a Help button and a request form (the
//! script keeps to a shadow root). It asks `/help/widget/form` for a fresh
//! form stamp, the departments and its texts in the visitor's language,
//! sends the request to `/help/widget` (the help page's rules: honeypot,
//! stamp, counts per client and address, the first request confirmed by
//! mail), and shows the suggestions of `/help/suggest`. Cross-origin reads
//! are allowed to the listed origins only (CORS); a request from a page of
//! any other origin is refused. The widget sends no cookies and the desk
//! reads none here, so a page cannot act as a visitor's session.

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::desk::DeskError;
use crate::desk::requests::RequestOutcome;
use crate::tr;
use crate::web::{AppState, blocking};

/// The page's origin when it is one the widget may serve: a listed one, or
/// the desk's own. `Ok(None)`: no Origin header (not a browser's page).
fn allowed_origin(st: &AppState, headers: &HeaderMap) -> Result<Option<String>, ()> {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else { return Ok(None) };
    let origin = crate::config::normalize_origin(origin).ok_or(())?;
    let cfg = st.desk.config();
    let own = crate::config::normalize_origin(cfg.server.public_url.split('/').take(3).collect::<Vec<_>>().join("/").as_str());
    let listed = cfg.portal.widget_origins.iter().filter_map(|o| crate::config::normalize_origin(o)).any(|o| o == origin);
    // The desk's own pages, by its public address or the one asked for.
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default().to_ascii_lowercase();
    let same = origin.split_once("://").is_some_and(|(_, h)| h == host);
    if listed || same || own.as_deref() == Some(origin.as_str()) { Ok(Some(origin)) } else { Err(()) }
}

/// Whether a request comes from a page of a site the widget may not serve
/// (no Origin header: not refused here).
pub fn origin_refused(st: &AppState, headers: &HeaderMap) -> bool {
    allowed_origin(st, headers).is_err()
}

/// `res` with the CORS headers that let `origin` read it.
fn with_cors(mut res: Response, origin: Option<String>) -> Response {
    let h = res.headers_mut();
    h.insert(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(v) = origin.and_then(|o| HeaderValue::from_str(&o).ok()) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
    }
    res
}

fn refused_origin() -> Response {
    (StatusCode::FORBIDDEN, axum::Json(json!({"ok": false, "error": tr!("This site may not show the help widget.")}))).into_response()
}

/// `OPTIONS /help/widget*`, `/help/suggest`: the preflight of a listed origin.
pub async fn preflight(State(st): State<AppState>, headers: HeaderMap) -> Response {
    match allowed_origin(&st, &headers) {
        Ok(origin) => {
            let mut res = with_cors(StatusCode::NO_CONTENT.into_response(), origin);
            let h = res.headers_mut();
            h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST"));
            h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("Content-Type, Accept"));
            h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
            res
        }
        Err(()) => refused_origin(),
    }
}

/// `GET /widget.js`.
pub async fn script() -> Response {
    let mut res = crate::web::ui::assets::serve(axum::extract::Path("widget.js".to_string())).await;
    // Any site may load the script; what it may do is decided by the desk.
    res.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    res
}

/// `GET /help/widget/form`: a fresh stamp, the departments to choose from,
/// whether there are articles to suggest, and the widget's texts.
pub async fn form(State(st): State<AppState>, headers: HeaderMap) -> Response {
    let origin = match allowed_origin(&st, &headers) {
        Ok(o) => o,
        Err(()) => return refused_origin(),
    };
    let cfg = st.desk.config();
    if !cfg.portal.web_requests {
        return with_cors((StatusCode::NOT_FOUND, axum::Json(json!({"ok": false}))).into_response(), origin);
    }
    let stamp = match st.desk.request_stamp() {
        Ok(s) => s,
        Err(e) => return with_cors(error_json(&e), origin),
    };
    let texts: serde_json::Value = crate::i18n::js_catalog().and_then(|t| serde_json::from_str(t).ok()).unwrap_or(json!({}));
    let departments = if cfg.desk.departments.len() > 1 && cfg.topic.is_empty() { cfg.desk.departments.clone() } else { Vec::new() };
    // Help topics with the fields each asks (sent as `field.<topic number>.<name>`).
    let topics: Vec<serde_json::Value> = cfg
        .topic
        .iter()
        .map(|t| {
            let fields: Vec<serde_json::Value> = cfg
                .topic_fields(t)
                .iter()
                .map(|f| json!({"name": f.name, "label": f.label(), "kind": f.kind.key(), "options": f.options}))
                .collect();
            json!({"name": t.name, "fields": fields})
        })
        .collect();
    let body = json!({
        "ok": true,
        "stamp": stamp,
        "desk": cfg.desk.name,
        "departments": departments,
        "topics": topics,
        "suggest": st.desk.has_public_articles(),
        "max_file_bytes": cfg.limits.attachment_max_bytes,
        "texts": texts,
    });
    let mut res = axum::Json(body).into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    with_cors(res, origin)
}

fn error_json(e: &DeskError) -> Response {
    let status = match e {
        DeskError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        DeskError::Conflict(_) => StatusCode::CONFLICT,
        DeskError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        DeskError::Invalid { .. } => StatusCode::BAD_REQUEST,
        DeskError::NotFound => StatusCode::NOT_FOUND,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    (status, axum::Json(json!({"ok": false, "error": crate::web::error::desk_message(e)}))).into_response()
}

/// `POST /help/widget?stamp=…`: a request from the widget (multipart, with
/// files), answered in JSON.
pub async fn submit(
    State(st): State<AppState>,
    ConnectInfo(addr): ConnectInfo<std::net::SocketAddr>,
    req: axum::extract::Request,
) -> Response {
    let origin = match allowed_origin(&st, req.headers()) {
        Ok(o) => o,
        Err(()) => return refused_origin(),
    };
    let query_stamp = req.uri().query().and_then(|q| crate::web::guard::form_urlencoded_field(q.as_bytes(), "stamp")).unwrap_or_default();
    let r = match super::request::read(&st, req).await {
        // The stamp rides in the address (it lets the files through the body limit).
        Ok(r) if r.stamp.is_empty() => crate::desk::requests::WebRequest { stamp: query_stamp, ..r },
        Ok(r) => r,
        Err(why) => return with_cors((StatusCode::BAD_REQUEST, axum::Json(json!({"ok": false, "error": why}))).into_response(), origin),
    };
    let email = r.email.clone();
    let ip = addr.ip().to_string();
    // The widget is never signed in: an address is proven by the mailed link.
    let res = match blocking(&st.desk, move |d| d.submit_request(r, &ip, None)).await {
        Ok(RequestOutcome::Opened(id)) => {
            let message = tr!(
                "Your request is ticket {reference}. We have sent a confirmation to {email}.",
                reference = st.desk.reference(id),
                email = email
            );
            axum::Json(json!({"ok": true, "message": message})).into_response()
        }
        Ok(RequestOutcome::Confirm | RequestOutcome::Dropped) => {
            let message = tr!("We have mailed a link to {email}. Open it to send your request; it works for a day.", email = email);
            axum::Json(json!({"ok": true, "message": message})).into_response()
        }
        Err(e) => error_json(&e),
    };
    with_cors(res, origin)
}

/// Adds the CORS headers to the suggestions for a listed origin (and
/// refuses other sites' pages).
pub fn suggest_cors(st: &AppState, headers: &HeaderMap, res: Response) -> Response {
    match allowed_origin(st, headers) {
        Ok(origin) => with_cors(res, origin),
        Err(()) => refused_origin(),
    }
}
