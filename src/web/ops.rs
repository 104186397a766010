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

/// Counts every request by status class and times it (`/metrics`).
pub async fn count_requests(req: Request, next: axum::middleware::Next) -> Response {
    let started = std::time::Instant::now();
    let res = next.run(req).await;
    let m = &crate::metrics::METRICS;
    m.http_latency.observe(started.elapsed());
    let class = match res.status().as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    };
    m.http_requests.add(&[class]);
    res
}

/// Who may read `/metrics`: loopback clients, and others that present the
/// configured token (16 characters at least) as a bearer token.
fn metrics_allowed(ip: std::net::IpAddr, token: &str, headers: &axum::http::HeaderMap) -> bool {
    if ip.is_loopback() {
        return true;
    }
    let given = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).unwrap_or("");
    token.trim().len() >= 16 && super::guard::constant_time_eq(token.trim().as_bytes(), given.trim().as_bytes())
}

/// Plain-text metrics (Prometheus exposition format): loopback clients, and
/// others with `server.metrics_token`.
async fn metrics(
    State(st): State<AppState>,
    axum::extract::ConnectInfo(addr): axum::extract::ConnectInfo<std::net::SocketAddr>,
    headers: axum::http::HeaderMap,
) -> Response {
    if !metrics_allowed(addr.ip(), &st.desk.config().server.metrics_token, &headers) {
        return WebError::not_found().into_response();
    }
    use std::fmt::Write;
    use std::sync::atomic::Ordering::Relaxed;
    let s = &st.mail_stats;
    let m = &crate::metrics::METRICS;
    let (n, p50, p99) = s.percentiles();
    let g = {
        let desk = st.desk.clone();
        tokio::task::spawn_blocking(move || desk.gauges()).await.unwrap_or_default()
    };
    let mut out = String::with_capacity(4096);
    let mut one = |name: &str, kind: &str, help: &str, value: String| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}");
    };
    one("frontdesk_smtp_sessions_total", "counter", "SMTP connections accepted.", m.smtp_sessions.load(Relaxed).to_string());
    one("frontdesk_smtp_accepted_total", "counter", "Messages accepted (250 after DATA).", s.accepted.load(Relaxed).to_string());
    one(
        "frontdesk_mail_processed_total",
        "counter",
        "Accepted messages turned into tickets, replies or junk.",
        s.processed.load(Relaxed).to_string(),
    );
    one("frontdesk_spool_depth", "gauge", "Accepted messages waiting to be processed.", g.spool_depth.to_string());
    one("frontdesk_spool_oldest_age_seconds", "gauge", "How long the oldest spooled message has waited.", g.spool_oldest_secs.to_string());
    one("frontdesk_outbox_due", "gauge", "Outgoing mails due for an attempt now.", g.outbox_due.to_string());
    one("frontdesk_outbox_queued", "gauge", "Outgoing mails queued (due now or later).", g.outbox_queued.to_string());
    one(
        "frontdesk_outbox_oldest_age_seconds",
        "gauge",
        "How long the oldest mail in the outbox has waited.",
        g.outbox_oldest_secs.to_string(),
    );
    one("frontdesk_index_queue", "gauge", "Tickets waiting for the search index (index lag).", g.index_queue.to_string());
    one("frontdesk_workers_down", "gauge", "Supervised workers not running.", g.workers_down.to_string());
    one("frontdesk_resident_memory_bytes", "gauge", "The server's resident memory.", crate::metrics::rss_bytes().to_string());
    if let Some(age) = g.backup_age_secs {
        one("frontdesk_backup_age_seconds", "gauge", "Seconds since the last good backup.", age.to_string());
    }
    let _ = writeln!(
        out,
        "# HELP frontdesk_accept_to_ticket_ms Accept-to-ticket latency of recent messages.\n# TYPE frontdesk_accept_to_ticket_ms summary\n\
         frontdesk_accept_to_ticket_ms{{quantile=\"0.5\"}} {p50}\nfrontdesk_accept_to_ticket_ms{{quantile=\"0.99\"}} {p99}\nfrontdesk_accept_to_ticket_ms_count {n}"
    );
    m.accept_to_ticket.write(&mut out, "frontdesk_accept_to_ticket_seconds", "Accept-to-ticket latency.");
    m.http_requests.write(&mut out, "frontdesk_http_requests_total", "HTTP requests by status class.", &["class"]);
    m.http_latency.write(&mut out, "frontdesk_http_request_duration_seconds", "HTTP request latency (until the response head).");
    m.smtp_replies.write(&mut out, "frontdesk_smtp_replies_total", "SMTP replies sent, by code.", &["code"]);
    m.dns.write(&mut out, "frontdesk_dns_lookups_total", "DNS lookups by record type and outcome.", &["type", "outcome"]);
    m.mail_auth.write(&mut out, "frontdesk_mail_auth_results_total", "Sender authentication results.", &["method", "result"]);
    m.imap.write(
        &mut out,
        "frontdesk_imap_total",
        "IMAP fetching: messages fetched and connection errors, by mailbox.",
        &["mailbox", "outcome"],
    );
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}

pub async fn not_found(req: Request) -> WebError {
    if req.uri().path().starts_with("/api/") {
        return WebError::new(StatusCode::NOT_FOUND, "Not found", "no such endpoint");
    }
    WebError::not_found()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_are_for_loopback_and_token_holders() {
        let mut h = axum::http::HeaderMap::new();
        let (lo, far) = ("127.0.0.1".parse().unwrap(), "10.0.0.5".parse().unwrap());
        let token = "0123456789abcdefXYZ";
        assert!(metrics_allowed(lo, "", &h));
        assert!(!metrics_allowed(far, "", &h), "no token configured: loopback only");
        assert!(!metrics_allowed(far, token, &h), "no token given");
        h.insert(header::AUTHORIZATION, "Bearer wrong-token-of-length".parse().unwrap());
        assert!(!metrics_allowed(far, token, &h));
        h.insert(header::AUTHORIZATION, format!("Bearer {token}").parse().unwrap());
        assert!(metrics_allowed(far, token, &h));
        assert!(!metrics_allowed(far, "", &h), "an empty configured token never matches");
        h.insert(header::AUTHORIZATION, "Bearer short".parse().unwrap());
        assert!(!metrics_allowed(far, "short", &h), "short tokens are refused");
    }
}
