//! Operations endpoints: `/healthz` for probes and `/metrics` (loopback only)
//! for Prometheus; the fallback for unknown paths.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use super::{AppState, WebError};

pub fn routes() -> Router<AppState> {
    Router::new().route("/", get(|| async { Redirect::to("/tickets") })).route("/healthz", get(healthz)).route("/metrics", get(metrics))
}

/// Liveness and intake: the store answers, every worker runs, and mail does
/// not wait in the spool longer than `server.health_spool_age_secs`.
async fn healthz(State(st): State<AppState>) -> Response {
    let desk = st.desk.clone();
    let report = tokio::task::spawn_blocking(move || desk.health()).await;
    match report {
        Ok(h) => {
            let code = if h.ok() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
            let mut json = h.to_json();
            // What HTTPS serves, and why ACME or a reload failed (the desk
            // still serves the last good certificate, so this is no 503).
            if let Some(tls) = &st.tls
                && let Ok(serde_json::Value::Object(mut o)) = serde_json::from_str::<serde_json::Value>(&json)
            {
                o.insert("tls".into(), tls.health());
                json = serde_json::Value::Object(o).to_string();
            }
            (code, [(header::CONTENT_TYPE, "application/json")], json).into_response()
        }
        Err(e) => WebError::new(StatusCode::SERVICE_UNAVAILABLE, "Unhealthy", format!("health check failed: {e}")).into_response(),
    }
}

/// Plain-text metrics (Prometheus exposition format), for loopback clients only.
async fn metrics(
    State(st): State<AppState>,
    axum::extract::ConnectInfo(addr): axum::extract::ConnectInfo<std::net::SocketAddr>,
) -> Response {
    if !addr.ip().is_loopback() {
        return WebError::not_found().into_response();
    }
    use std::sync::atomic::Ordering::Relaxed;
    let s = &st.mail_stats;
    let (n, p50, p99) = s.percentiles();
    let g = {
        let desk = st.desk.clone();
        tokio::task::spawn_blocking(move || desk.gauges()).await.unwrap_or_default()
    };
    let (spool, due, queued, index_queue) = (g.spool_depth, g.outbox_due, g.outbox_queued, g.index_queue);
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

pub async fn not_found(req: Request) -> WebError {
    if req.uri().path().starts_with("/api/") {
        return WebError::new(StatusCode::NOT_FOUND, "Not found", "no such endpoint");
    }
    WebError::not_found()
}
