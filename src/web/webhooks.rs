//! Webhook deliveries over HTTP(S), from the durable queue (`desk::webhooks`):
//! each POST is signed (HMAC-SHA256 of `timestamp.body`), sent to an
//! address checked first and then pinned (a host resolving to loopback or a
//! private network is refused unless the webhook allows it, and no second
//! lookup can swap the address), never following redirects; its outcome is
//! logged and a failure retried with back-off. Also the admin's page.

use crate::mail::dns::Dns;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::IntoResponse;
use bytes::Bytes;
use http_body_util::Full;
use hyper::Request;
use hyper_util::rt::TokioIo;
use maud::html;

use crate::config::WebhookConfig;
use crate::desk::Desk;
use crate::desk::webhooks::Attempt;
use crate::domain::webhook::{is_private, signature};
use crate::store::webhooks::Delivery;
use crate::tr;
use crate::web::pages::frame;
use crate::web::ui::page as draw;
use crate::web::{Admin, AppState, WebResult};

/// One attempt may take this long, connection included.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15);

/// Where a URL points: scheme, host (for Host and SNI), port, path.
struct Target {
    https: bool,
    host: String,
    port: u16,
    path: String,
}

fn target(url: &str) -> Result<Target, String> {
    let uri: hyper::Uri = url.parse().map_err(|e| format!("bad URL: {e}"))?;
    let https = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => return Err("the URL must be http:// or https://".into()),
    };
    let host = uri.host().ok_or("the URL has no host")?.trim_start_matches('[').trim_end_matches(']').to_string();
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    let path = uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into());
    Ok(Target { https, host, port, path })
}

/// The address to call: the first the host resolves to that the webhook
/// may reach.
async fn address(dns: &Dns, hook: &WebhookConfig, t: &Target) -> Result<SocketAddr, Attempt> {
    let found: Vec<SocketAddr> = dns
        .socket_addrs(&t.host, t.port)
        .await
        .map_err(|e| Attempt::Failed { status: None, why: format!("cannot resolve {}: {e}", t.host) })?;
    match found.iter().find(|a| hook.allow_private || !is_private(a.ip())) {
        Some(a) => Ok(*a),
        None if found.is_empty() => Err(Attempt::Failed { status: None, why: format!("{} has no address", t.host) }),
        None => Err(Attempt::Refused {
            status: None,
            why: format!("{} is a loopback or private address; set allow_private = true on this webhook to allow it", t.host),
        }),
    }
}

/// Sends one delivery and says what came of it.
pub async fn post(dns: &Dns, hook: &WebhookConfig, d: &Delivery, now_secs: i64) -> Attempt {
    match tokio::time::timeout(ATTEMPT_TIMEOUT, post_inner(dns, hook, d, now_secs)).await {
        Ok(a) => a,
        Err(_) => Attempt::Failed { status: None, why: format!("no answer within {} s", ATTEMPT_TIMEOUT.as_secs()) },
    }
}

async fn post_inner(dns: &Dns, hook: &WebhookConfig, d: &Delivery, now_secs: i64) -> Attempt {
    let t = match target(&hook.url) {
        Ok(t) => t,
        Err(why) => return Attempt::Refused { status: None, why },
    };
    let addr = match address(dns, hook, &t).await {
        Ok(a) => a,
        Err(a) => return a,
    };
    let secret = match hook.secret() {
        Ok(s) => s,
        Err(e) => return Attempt::Failed { status: None, why: format!("cannot read the secret file: {e}") },
    };
    let tcp = match tokio::net::TcpStream::connect(addr).await {
        Ok(s) => s,
        Err(e) => return Attempt::Failed { status: None, why: format!("cannot connect to {addr}: {e}") },
    };
    let body = Bytes::from(d.payload.clone());
    let mut req = Request::post(t.path.as_str())
        .header(hyper::header::HOST, if [80, 443].contains(&t.port) { t.host.clone() } else { format!("{}:{}", t.host, t.port) })
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .header(hyper::header::USER_AGENT, concat!("frontdesk/", env!("CARGO_PKG_VERSION")))
        .header("X-Frontdesk-Event", d.event.as_str())
        .header("X-Frontdesk-Delivery", d.id.to_string())
        .header("X-Frontdesk-Timestamp", now_secs.to_string());
    if !secret.is_empty() {
        req = req.header("X-Frontdesk-Signature", signature(&secret, now_secs, &body));
    }
    let req = match req.body(Full::new(body)) {
        Ok(r) => r,
        Err(e) => return Attempt::Refused { status: None, why: format!("cannot build the request: {e}") },
    };
    let status = if t.https {
        let connector = match crate::tls::client::connector("") {
            Ok(c) => c,
            Err(e) => return Attempt::Failed { status: None, why: e },
        };
        let name = match rustls::pki_types::ServerName::try_from(t.host.clone()) {
            Ok(n) => n,
            Err(e) => return Attempt::Refused { status: None, why: format!("{}: {e}", t.host) },
        };
        match connector.connect(name, tcp).await {
            Ok(tls) => send(tls, req).await,
            Err(e) => Err(format!("TLS with {}: {e}", t.host)),
        }
    } else {
        send(tcp, req).await
    };
    match status {
        Ok(s) if (200..300).contains(&s) => Attempt::Delivered { status: s },
        Ok(410) => Attempt::Refused { status: Some(410), why: "the receiver answered 410 Gone".into() },
        Ok(s) if (300..400).contains(&s) => Attempt::Failed { status: Some(s), why: format!("answered {s}; redirects are not followed") },
        Ok(s) => Attempt::Failed { status: Some(s), why: format!("answered {s}") },
        Err(why) => Attempt::Failed { status: None, why },
    }
}

/// One HTTP/1.1 exchange on an open connection; the response status.
async fn send<S>(io: S, req: Request<Full<Bytes>>) -> Result<u16, String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io)).await.map_err(|e| format!("HTTP: {e}"))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let res = sender.send_request(req).await.map_err(|e| format!("HTTP: {e}"))?;
    Ok(res.status().as_u16())
}

/// Delivers what is due; how many were tried.
async fn run_once(desk: &Arc<Desk>, dns: &Dns) -> usize {
    let due = match desk.webhooks_due(32) {
        Ok(d) => d,
        Err(e) => {
            tracing::error!("cannot read the webhook queue: {e}");
            return 0;
        }
    };
    for d in &due {
        let attempt = match desk.config().webhook(&d.webhook) {
            Some(hook) => post(dns, hook, d, desk.now().0 / 1000).await,
            None => Attempt::Refused { status: None, why: "the webhook is no longer configured".into() },
        };
        let (desk, d) = (desk.clone(), d.clone());
        let settled = tokio::task::spawn_blocking(move || desk.settle_webhook(&d, attempt)).await;
        if let Ok(Err(e)) | Err(e) = settled.map_err(|e| crate::desk::DeskError::Conflict(e.to_string())) {
            tracing::error!("cannot record a webhook delivery: {e}");
        }
    }
    due.len()
}

/// The supervised delivery task (only when webhooks are configured).
pub fn start(desk: Arc<Desk>, dns: Arc<Dns>) {
    if desk.config().webhook.is_empty() {
        return;
    }
    let jobs = desk.jobs.clone();
    jobs.task("webhooks", move || {
        let (desk, dns) = (desk.clone(), dns.clone());
        async move {
            while !desk.jobs.stopping() {
                if run_once(&desk, &dns).await > 0 {
                    continue;
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                    _ = desk.jobs.stopped() => {}
                }
            }
        }
    });
}

/// `/admin/webhooks`: the configured webhooks, what waits, what happened.
pub async fn page(State(st): State<AppState>, Admin(a): Admin) -> WebResult {
    let (queue, log) = st.desk.webhook_status(&a.person)?;
    let body = html! {
      div.narrow-page.wide-ok {
        h1 { (tr!("Webhooks")) }
        @if st.desk.config().webhook.is_empty() {
            p.muted { (tr!("No [[webhook]] is configured.")) }
        }
        table.list {
            thead { tr { th { (tr!("Name")) } th { (tr!("URL")) } th { (tr!("Events")) } th { (tr!("Private address")) } } }
            tbody {
                @for h in &st.desk.config().webhook {
                    tr { td { (h.name) } td.wrap { (h.url) } td { @if h.events.is_empty() { (tr!("all")) } @else { (h.events.join(", ")) } } td { @if h.allow_private { (tr!("allowed")) } @else { (tr!("refused")) } } }
                }
            }
        }
        h2 { (tr!("Waiting ({n})", n = crate::i18n::format::num(queue.len() as i64))) }
        table.list {
            thead { tr { th { (tr!("Webhook")) } th { (tr!("Event")) } th { (tr!("Attempts")) } th { (tr!("Next attempt")) } th { (tr!("Last error")) } } }
            tbody {
                @for d in &queue {
                    tr { td { (d.webhook) } td { (d.event) } td { (d.attempts) } td { (crate::web::ui::when_at(d.next_attempt)) } td.wrap { (d.last_error) } }
                }
            }
        }
        h2 { (tr!("Recent deliveries")) }
        table.list {
            thead { tr { th { (tr!("When")) } th { (tr!("Webhook")) } th { (tr!("Event")) } th { (tr!("Status")) } th { (tr!("Outcome")) } } }
            tbody {
                @for l in &log {
                    tr {
                        td { (crate::web::ui::when_at(l.at)) } td { (l.webhook) } td { (l.event) }
                        td { @if let Some(s) = l.status { (s) } @else { "—" } }
                        td.wrap { (l.outcome) }
                    }
                }
            }
        }
      }
    };
    let f = frame(&st, &a, tr!("Webhooks").into(), "outbox");
    Ok(draw(&f, body).into_response())
}
