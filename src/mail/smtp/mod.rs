//! The inbound SMTP server (RFC 5321): an MX for the desk's support addresses.
//!
//! `mod.rs` accepts connections and enforces the connection limits; `session`
//! is the one state machine and its read loop; each protocol phase has its own
//! file (`ehlo`, `mail`, `rcpt`, `data`, `starttls`, `misc`). smtp-proto parses
//! commands and DATA/BDAT framing; the session, its limits and replies are ours.
//! Never an open relay: RCPT is accepted only for configured mailboxes.

mod data;
mod ehlo;
mod mail;
mod misc;
mod rcpt;
mod session;
mod starttls;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

use super::spool::Spooler;
use super::worker::MailStats;
use crate::config::{Config, SharedConfig};

/// Longest wait at shutdown for sessions in the middle of a transaction.
const DRAIN: std::time::Duration = std::time::Duration::from_secs(10);

/// Shared by all sessions.
pub struct Server {
    /// The desk's config now (mailboxes and policies follow a reload).
    shared: SharedConfig,
    pub spooler: Spooler,
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    pub stats: Arc<MailStats>,
    /// Who is sending, and what.
    pub checks: Checks,
    active: AtomicUsize,
    per_ip: Mutex<HashMap<IpAddr, usize>>,
    next_session: AtomicU64,
    /// Message bytes all sessions hold in memory now (`smtp.max_data_memory`).
    data_in_flight: AtomicUsize,
}

/// The checks on who is sending and what, each optional.
#[derive(Default, Clone)]
pub struct Checks {
    /// SPF/DKIM/DMARC at the end of DATA (`mail_auth.verify`).
    pub verifier: Option<Arc<super::auth::Verifier>>,
    /// DNSBL zones at connect and greylisting (`mail::screen`).
    pub screen: Option<Arc<super::screen::Screen>>,
    /// The spam engine at the end of DATA (`[rspamd]`).
    pub rspamd: Option<Arc<super::rspamd::Rspamd>>,
    /// Senders whose mail is never refused or held as spam.
    pub allow: Arc<crate::desk::junk::AllowList>,
}

/// Releases a connection slot when the session ends, however it ends.
struct Slot<'a> {
    srv: &'a Server,
    ip: IpAddr,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.srv.active.fetch_sub(1, Ordering::SeqCst);
        if let Ok(mut m) = self.srv.per_ip.lock()
            && let Some(n) = m.get_mut(&self.ip)
        {
            *n -= 1;
            if *n == 0 {
                m.remove(&self.ip);
            }
        }
    }
}

impl Server {
    /// The config now.
    pub fn config(&self) -> Arc<Config> {
        self.shared.get()
    }

    pub fn new(
        shared: SharedConfig,
        spooler: Spooler,
        tls: Option<Arc<rustls::ServerConfig>>,
        stats: Arc<MailStats>,
        checks: Checks,
    ) -> Arc<Server> {
        Arc::new(Server {
            shared,
            spooler,
            tls: tls.map(tokio_rustls::TlsAcceptor::from),
            stats,
            checks,
            active: AtomicUsize::new(0),
            per_ip: Mutex::new(HashMap::new()),
            next_session: AtomicU64::new(1),
            data_in_flight: AtomicUsize::new(0),
        })
    }

    /// Takes `n` bytes of the DATA budget if that many are left.
    fn reserve_data(&self, n: usize) -> bool {
        let max = self.config().smtp.max_data_memory;
        self.data_in_flight.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |cur| cur.checked_add(n).filter(|t| *t <= max)).is_ok()
    }

    fn release_data(&self, n: usize) {
        let _ = self.data_in_flight.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |cur| Some(cur.saturating_sub(n)));
    }

    /// Whether a message of `size` bytes (the MAIL FROM SIZE= hint) fits the
    /// DATA budget now.
    fn data_budget_has(&self, size: usize) -> bool {
        self.data_in_flight.load(Ordering::SeqCst).saturating_add(size) <= self.config().smtp.max_data_memory
    }

    /// Takes a connection slot, or says why not.
    fn admit(&self, ip: IpAddr) -> Result<Slot<'_>, &'static str> {
        let smtp = &self.config().smtp;
        let mut per_ip = self.per_ip.lock().map_err(|_| "server error")?;
        if self.active.load(Ordering::SeqCst) >= smtp.max_connections {
            return Err("421 4.7.0 Too many connections, try again later\r\n");
        }
        let n = per_ip.entry(ip).or_insert(0);
        if *n >= smtp.max_connections_per_ip && !self.config().trusted_relay(ip) {
            return Err("421 4.7.0 Too many connections from your address, try again later\r\n");
        }
        *n += 1;
        self.active.fetch_add(1, Ordering::SeqCst);
        Ok(Slot { srv: self, ip })
    }

    /// Accepts connections until shutdown; then waits (at most `DRAIN`) for
    /// the sessions still in a transaction to finish.
    pub async fn run(self: Arc<Self>, listener: TcpListener) {
        let jobs = self.spooler.jobs.clone();
        loop {
            let accepted = tokio::select! {
                a = listener.accept() => a,
                _ = jobs.stopped() => break,
            };
            let (mut stream, remote) = match accepted {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!("smtp accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            };
            let srv = self.clone();
            crate::metrics::METRICS.smtp_sessions.fetch_add(1, Ordering::Relaxed);
            tokio::spawn(async move {
                let slot = match srv.admit(remote.ip()) {
                    Ok(s) => s,
                    Err(reply) => {
                        crate::metrics::smtp_reply(reply);
                        let _ = stream.write_all(reply.as_bytes()).await;
                        let _ = stream.shutdown().await;
                        return;
                    }
                };
                let _ = stream.set_nodelay(true);
                srv.handle(stream, remote).await;
                drop(slot);
            });
        }
        drop(listener);
        let deadline = tokio::time::Instant::now() + DRAIN;
        while self.active.load(Ordering::SeqCst) > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Runs one plain session over any stream (fuzzing and tests): no greeting,
    /// no STARTTLS upgrade.
    #[doc(hidden)]
    pub async fn run_session<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(&self, stream: &mut S) {
        let mut s = session::Session::new(self, SocketAddr::from(([127, 0, 0, 1], 25)), 0);
        let _ = s.run(stream).await;
    }

    async fn handle(&self, mut stream: tokio::net::TcpStream, remote: SocketAddr) {
        let id = self.next_session.fetch_add(1, Ordering::Relaxed);
        let mut s = session::Session::new(self, remote, id);
        s.local = stream.local_addr().ok();
        if let Some(screen) = self.checks.screen.as_ref().filter(|_| !self.config().trusted_relay(remote.ip()))
            && let Some(zone) = screen.listed(remote.ip()).await
        {
            if zone.action == crate::config::ZoneAction::Reject {
                tracing::info!(%remote, zone = %zone.name, "refused: listed in a DNSBL");
                let refusal = format!("554 5.7.1 Service unavailable; client [{}] blocked using {}\r\n", remote.ip(), zone.name);
                crate::metrics::smtp_reply(&refusal);
                let _ = stream.write_all(refusal.as_bytes()).await;
                let _ = stream.shutdown().await;
                return;
            }
            s.dnsbl = Some(zone.name);
        }
        let greeting = format!("220 {} ESMTP frontdesk ready\r\n", self.config().smtp.hostname);
        crate::metrics::smtp_reply(&greeting);
        if stream.write_all(greeting.as_bytes()).await.is_err() {
            return;
        }
        match s.run(&mut stream).await {
            session::Next::StartTls => {
                let Some(acceptor) = self.tls.clone() else { return };
                match acceptor.accept(stream).await {
                    Ok(mut tls) => {
                        s.after_starttls();
                        let _ = s.run(&mut tls).await;
                        let _ = tls.shutdown().await;
                    }
                    Err(e) => tracing::debug!(%remote, "TLS handshake failed: {e}"),
                }
            }
            session::Next::Close => {
                let _ = stream.shutdown().await;
            }
        }
    }
}
