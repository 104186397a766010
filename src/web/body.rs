//! Request bodies: size limits, a deadline, and uploads spooled to disk.
//!
//! Nothing large is held for a stranger. A body may exceed
//! `limits.request_max_bytes` only on the reply routes, only for a logged-in
//! agent whose CSRF token (in the URL, as multipart forms send it) checks out,
//! or a customer whose ticket link (in the URL) is valid, *before* a byte of
//! the body is read; such uploads are written to a file in
//! the data directory as they arrive (not kept in memory), at most
//! `limits.concurrent_uploads` at once. Every body must arrive within
//! `limits.body_timeout_secs`, so slow senders cannot hold connections and
//! memory open.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{AppState, SESSION_COOKIE, WebError, cookie};
use crate::tr;

/// How much of an oversized body is read and thrown away so the client gets to
/// see the 413 instead of a connection reset; beyond this the connection closes.
const DRAIN_MAX: usize = 4 * 1024 * 1024;

/// Uploads in progress, shared by all requests.
#[derive(Clone)]
pub struct Uploads(Arc<tokio::sync::Semaphore>);

impl Uploads {
    pub fn new(n: usize) -> Uploads {
        Uploads(Arc::new(tokio::sync::Semaphore::new(n.max(1))))
    }
}

/// (The API is served in English: its wording stays as it was.)
fn too_large(limit: usize, key: &str) -> Response {
    let msg = tr!("the request is larger than the limit of {limit} bytes (limits.{key})", limit = limit, key = key);
    WebError::new(StatusCode::PAYLOAD_TOO_LARGE, tr!("Too large"), msg).into_response()
}

fn plain(code: StatusCode, msg: &str) -> Response {
    WebError::new(code, tr!("Not accepted"), msg).into_response()
}

/// Whether the request is an upload that may be large: an agent's reply
/// (a live session and its CSRF token in the URL), or a customer's reply
/// on their ticket page (the ticket link, valid now, in the URL).
fn trusted_upload(st: &AppState, req: &Request) -> bool {
    let path = req.uri().path();
    if let Some(reference) = path.strip_prefix("/t/").and_then(|p| p.strip_suffix("/reply")) {
        let query = req.uri().query().unwrap_or("").as_bytes();
        let field = |k: &str| super::guard::form_urlencoded_field(query, k);
        let (Some(id), Some(e), Some(s)) = (st.desk.parse_reference(reference), field("e").and_then(|e| e.parse().ok()), field("s")) else {
            return false;
        };
        let person = field("p").and_then(|p| p.parse().ok()).map(crate::domain::PersonId);
        return st.desk.portal_link_valid(id, person, e, &s);
    }
    if ANON_UPLOAD_PATHS.contains(&path) {
        // A page of a site the widget may not serve uploads nothing.
        if crate::web::portal::origin_refused(st, req.headers()) {
            return false;
        }
        // The help page's form: its stamp (signed when the form was drawn)
        // lets its files through while the client is under its request
        // count; the request itself is checked after.
        let query = req.uri().query().unwrap_or("").as_bytes();
        let stamp = super::guard::form_urlencoded_field(query, "stamp").unwrap_or_default();
        let client =
            req.extensions().get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip().to_string()).unwrap_or_default();
        return st.desk.config().portal.web_requests && st.desk.request_stamp_fresh(&stamp) && st.desk.request_allowed(&client);
    }
    // Agents' upload forms: a reply, the people import, a knowledge base article.
    let article = path == "/kb/new" || path.strip_prefix("/kb/").is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()));
    if !((path.starts_with("/tickets/") && path.ends_with("/reply")) || path == "/people/import" || article) {
        return false;
    }
    let Some(token) = cookie(req.headers(), SESSION_COOKIE) else { return false };
    // A read only: nothing is written (no fsync) before the body is accepted.
    let Some(csrf) = st.desk.session_csrf(token) else { return false };
    let given = req.uri().query().and_then(|q| super::guard::form_urlencoded_field(q.as_bytes(), "_csrf"));
    given.is_some_and(|g| !csrf.is_empty() && super::guard::constant_time_eq(g.as_bytes(), csrf.as_bytes()))
}

/// The paths strangers upload to (the help page's request form and the widget's).
const ANON_UPLOAD_PATHS: [&str; 2] = ["/help/request", "/help/widget"];

/// Uploads from strangers at once (the help page's form).
pub const ANON_UPLOADS: usize = 2;

/// The body limit middleware (see the module doc).
pub async fn limit_body(State(st): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(req.method(), &Method::GET | &Method::HEAD | &Method::OPTIONS) {
        return next.run(req).await;
    }
    let limits = &st.desk.config().limits;
    let deadline = Duration::from_secs(limits.body_timeout_secs);
    if trusted_upload(&st, &req) {
        // Strangers' uploads (the help page's form) have a pool of their own:
        // they never take an agent's place.
        let pool = if ANON_UPLOAD_PATHS.contains(&req.uri().path()) { &st.anon_uploads } else { &st.uploads };
        let Ok(_permit) = pool.0.clone().try_acquire_owned() else {
            return plain(StatusCode::SERVICE_UNAVAILABLE, tr!("too many uploads in progress; try again in a moment"));
        };
        let limit = limits.upload_max_bytes.max(limits.request_max_bytes);
        let (parts, body) = req.into_parts();
        return match tokio::time::timeout(deadline, spool_to_file(&st, body, limit)).await {
            Err(_) => plain(StatusCode::REQUEST_TIMEOUT, tr!("the upload did not arrive in time (limits.body_timeout_secs)")),
            Ok(Err(Spool::TooLarge)) => too_large(limit, "upload_max_bytes"),
            Ok(Err(Spool::Failed(e))) => {
                tracing::error!("cannot spool an upload: {e}");
                plain(StatusCode::SERVICE_UNAVAILABLE, tr!("the upload could not be stored; try again"))
            }
            Ok(Ok(body)) => next.run(Request::from_parts(parts, body)).await,
        };
    }
    let limit = limits.request_max_bytes;
    let (parts, body) = req.into_parts();
    match tokio::time::timeout(deadline, buffer(body, limit)).await {
        Err(_) => plain(StatusCode::REQUEST_TIMEOUT, tr!("the request body did not arrive in time (limits.body_timeout_secs)")),
        Ok(None) => plain(StatusCode::BAD_REQUEST, tr!("the request body could not be read")),
        Ok(Some(Err(()))) => too_large(limit, "request_max_bytes"),
        Ok(Some(Ok(buf))) => next.run(Request::from_parts(parts, Body::from(buf))).await,
    }
}

/// Reads a body into memory up to `limit`; `Some(Err(()))` when larger (the
/// rest is drained a little so the client sees the answer).
async fn buffer(mut body: Body, limit: usize) -> Option<Result<Vec<u8>, ()>> {
    let mut buf = Vec::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let data = frame.ok()?.into_data().unwrap_or_default();
        seen += data.len();
        if seen <= limit {
            buf.extend_from_slice(&data);
        } else if seen > limit.saturating_add(DRAIN_MAX) {
            break;
        }
    }
    Some(if seen > limit { Err(()) } else { Ok(buf) })
}

enum Spool {
    TooLarge,
    Failed(std::io::Error),
}

/// Writes an upload to a file under `<data-dir>/tmp` as it arrives and gives
/// back a body that streams from that file (already unlinked, so nothing is
/// left behind whatever happens next).
async fn spool_to_file(st: &AppState, mut body: Body, limit: usize) -> Result<Body, Spool> {
    let dir = st.desk.config().server.data_dir.join("tmp");
    tokio::fs::create_dir_all(&dir).await.map_err(Spool::Failed)?;
    let name = crate::desk::auth::random_token().map_err(|e| Spool::Failed(std::io::Error::other(e.to_string())))?;
    let path = dir.join(format!("upload-{}", name.get(..24).unwrap_or(&name)));
    let mut file = tokio::fs::File::create(&path).await.map_err(Spool::Failed)?;
    let reader = tokio::fs::File::open(&path).await;
    let _ = tokio::fs::remove_file(&path).await;
    let reader = reader.map_err(Spool::Failed)?;
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else { return Err(Spool::Failed(std::io::Error::other("the body could not be read"))) };
        let data = frame.into_data().unwrap_or_default();
        seen += data.len();
        if seen > limit {
            return Err(Spool::TooLarge);
        }
        file.write_all(&data).await.map_err(Spool::Failed)?;
    }
    file.flush().await.map_err(Spool::Failed)?;
    drop(file);
    let stream = futures_util::stream::unfold(Some(reader), |state| async move {
        let mut reader = state?;
        let mut chunk = vec![0u8; 64 * 1024];
        match reader.read(&mut chunk).await {
            Ok(0) => None,
            Ok(n) => {
                chunk.truncate(n);
                Some((Ok::<_, std::io::Error>(axum::body::Bytes::from(chunk)), Some(reader)))
            }
            Err(e) => Some((Err(e), None)),
        }
    });
    Ok(Body::from_stream(stream))
}

/// A file of a form: (file name, content type, bytes).
pub type Upload = (String, String, Vec<u8>);

/// A form's fields and the files of its `files` fields, from a plain
/// (urlencoded) or a multipart body (empty files are left out).
pub async fn fields_and_files(st: &AppState, req: Request) -> Result<(Vec<(String, String)>, Vec<Upload>), String> {
    use axum::extract::FromRequest;
    let multipart = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !multipart {
        let axum::Form(fields) = axum::Form::<Vec<(String, String)>>::from_request(req, st).await.map_err(|e| e.body_text())?;
        return Ok((fields, Vec::new()));
    }
    let mut mp = axum::extract::Multipart::from_request(req, st).await.map_err(|e| e.body_text())?;
    let (mut fields, mut files) = (Vec::new(), Vec::new());
    while let Some(field) = mp.next_field().await.map_err(|e| e.body_text())? {
        let name = field.name().unwrap_or("").to_string();
        if name == "files" {
            let filename = field.file_name().unwrap_or("attachment").to_string();
            let ctype = field.content_type().unwrap_or("application/octet-stream").to_string();
            let data = field.bytes().await.map_err(|e| e.body_text())?;
            if !data.is_empty() {
                files.push((filename, ctype, data.to_vec()));
            }
        } else {
            let value = field.text().await.map_err(|e| e.body_text())?;
            fields.push((name, value));
        }
    }
    Ok((fields, files))
}
