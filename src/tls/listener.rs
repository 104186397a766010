//! The HTTPS listener axum serves from: TCP connections are accepted at once
//! and their TLS handshakes run side by side, each within a deadline and with
//! a cap on how many may be in progress (in all, and from one address), so a
//! client that stalls its handshakes holds up nobody. ACME's TLS-ALPN-01 probes end after the handshake.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use super::ACME_TLS_ALPN;

/// Longest a TLS handshake may take.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Most handshakes in progress at once; more connections wait to be accepted.
pub const MAX_HANDSHAKES: usize = 256;
/// Most handshakes in progress from one address; more are closed at once, so
/// one client cannot hold every slot.
pub const MAX_HANDSHAKES_PER_IP: usize = 32;

/// Handshakes in progress per client address.
#[derive(Default)]
struct PerIp(std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>);

/// One handshake's place in `PerIp`, given back when it ends.
struct Held(Arc<PerIp>, std::net::IpAddr);

impl PerIp {
    fn take(self: &Arc<Self>, ip: std::net::IpAddr) -> Option<Held> {
        let mut m = self.0.lock().ok()?;
        let n = m.entry(ip).or_insert(0);
        if *n >= MAX_HANDSHAKES_PER_IP {
            return None;
        }
        *n += 1;
        Some(Held(self.clone(), ip))
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Ok(mut m) = self.0.0.lock()
            && let Some(n) = m.get_mut(&self.1)
        {
            *n -= 1;
            if *n == 0 {
                m.remove(&self.1);
            }
        }
    }
}

/// Finished TLS connections, in the order their handshakes completed.
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    /// Starts accepting on `tcp`; stops when `stop` resolves or the listener
    /// is dropped.
    pub fn start(
        tcp: TcpListener,
        config: Arc<rustls::ServerConfig>,
        stop: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<Self> {
        let local = tcp.local_addr()?;
        let (tx, ready) = mpsc::channel(64);
        let acceptor = TlsAcceptor::from(config);
        let slots = Arc::new(Semaphore::new(MAX_HANDSHAKES));
        let per_ip = Arc::new(PerIp::default());
        tokio::spawn(async move {
            tokio::pin!(stop);
            loop {
                let permit = tokio::select! {
                    p = slots.clone().acquire_owned() => p,
                    _ = &mut stop => break,
                };
                let Ok(permit) = permit else { break };
                let (tcp, peer) = tokio::select! {
                    r = tcp.accept() => match r {
                        Ok(c) => c,
                        Err(e) => {
                            // Out of file descriptors and the like: wait, do not spin.
                            tracing::warn!("HTTPS accept failed: {e}");
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            continue;
                        }
                    },
                    _ = &mut stop => break,
                    _ = tx.closed() => break,
                };
                let Some(held) = per_ip.take(peer.ip()) else {
                    tracing::debug!("HTTPS: {} has {MAX_HANDSHAKES_PER_IP} handshakes in progress; closing another", peer.ip());
                    continue;
                };
                let (acceptor, tx) = (acceptor.clone(), tx.clone());
                tokio::spawn(async move {
                    let _permit = permit;
                    let _held = held;
                    let _ = tcp.set_nodelay(true);
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                        Ok(Ok(tls)) => {
                            if tls.get_ref().1.alpn_protocol() == Some(ACME_TLS_ALPN) {
                                // The CA saw the challenge certificate; nothing more to say.
                                return;
                            }
                            let _ = tx.send((tls, peer)).await;
                        }
                        Ok(Err(e)) => tracing::debug!("TLS handshake with {peer} failed: {e}"),
                        Err(_) => tracing::debug!("TLS handshake with {peer} timed out"),
                    }
                });
            }
        });
        Ok(TlsListener { ready, local })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(c) => c,
            // The accept loop ended (shutdown): no more connections.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}
