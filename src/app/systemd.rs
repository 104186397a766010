//! systemd integration: listening sockets handed over by socket activation
//! (`LISTEN_FDS`, so a restart or upgrade refuses no connection: systemd
//! holds the sockets and queues connections meanwhile), and `sd_notify`
//! (`READY=1` once serving, `STOPPING=1`, and `WATCHDOG=1` while the store
//! answers reads, so a wedged desk is restarted — a full disk is not that:
//! the store waits for space on its own). Without systemd all of it is
//! inert: sockets are bound as configured and nothing is sent.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use crate::desk::Desk;

/// Sockets systemd passed in (`LISTEN_FDS`), until the config claims them.
#[derive(Default)]
pub struct Inherited(Vec<std::net::TcpListener>);

impl Inherited {
    /// The TCP listeners of socket activation; none without it.
    pub fn from_env() -> Inherited {
        let mut fds = listenfd::ListenFd::from_env();
        let mut out = Vec::new();
        for i in 0..fds.len() {
            match fds.take_tcp_listener(i) {
                Ok(Some(l)) => out.push(l),
                Ok(None) => {}
                Err(e) => tracing::warn!("socket activation: descriptor {} is not a TCP listener: {e}", i + 3),
            }
        }
        if !out.is_empty() {
            tracing::info!("socket activation: {} listening socket(s) from systemd", out.len());
        }
        Inherited(out)
    }

    /// The listener for `addr` (`key` names the setting in errors): the
    /// inherited socket bound to that address, else a new one.
    pub async fn listen(&mut self, addr: &str, key: &str) -> anyhow::Result<tokio::net::TcpListener> {
        let wanted: Option<SocketAddr> = addr.parse().ok();
        let found = wanted.and_then(|w| self.0.iter().position(|l| l.local_addr().is_ok_and(|a| a == w)));
        if let Some(i) = found {
            let l = self.0.remove(i);
            l.set_nonblocking(true)?;
            return tokio::net::TcpListener::from_std(l)
                .with_context(|| format!("cannot use the socket systemd passed for {addr} ({key})"));
        }
        tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr} ({key})"))
    }

    /// Sockets no setting claimed (logged: the unit and the config disagree).
    pub fn warn_unused(&self) {
        for l in &self.0 {
            if let Ok(a) = l.local_addr() {
                tracing::warn!(
                    "socket activation: systemd passed a socket on {a} that no setting names (server.http, server.https, smtp.listen)"
                );
            }
        }
    }
}

/// Sends `state` to systemd's notification socket (`NOTIFY_SOCKET`), if any.
pub fn notify(state: &str) {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else { return };
    let sent = (|| -> std::io::Result<()> {
        let sock = std::os::unix::net::UnixDatagram::unbound()?;
        let bytes = path.as_encoded_bytes();
        if let Some(name) = bytes.strip_prefix(b"@") {
            use std::os::linux::net::SocketAddrExt;
            let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
            sock.send_to_addr(state.as_bytes(), &addr)?;
        } else {
            sock.send_to(state.as_bytes(), &path)?;
        }
        Ok(())
    })();
    if let Err(e) = sent {
        tracing::warn!("cannot notify systemd ({state:?}): {e}");
    }
}

/// `RELOADING=1` with the monotonic time systemd wants beside it.
pub fn reloading() -> String {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    format!("RELOADING=1\nMONOTONIC_USEC={}", t.tv_sec as u64 * 1_000_000 + t.tv_nsec as u64 / 1000)
}

/// The watchdog interval systemd asks for (`WATCHDOG_USEC`, for this process).
fn watchdog_interval() -> Option<Duration> {
    if let Some(pid) = std::env::var("WATCHDOG_PID").ok().and_then(|p| p.parse::<u32>().ok())
        && pid != std::process::id()
    {
        return None;
    }
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok().filter(|u| *u > 0)?;
    Some(Duration::from_micros(usec))
}

/// Pings systemd's watchdog at half its interval while the store answers
/// within that half; a desk whose store hangs or fails stops pinging and is
/// restarted by systemd.
pub fn start_watchdog(desk: Arc<Desk>) {
    let Some(every) = watchdog_interval() else { return };
    let half = every / 2;
    let me = desk.clone();
    desk.jobs.task("systemd-watchdog", move || {
        let desk = me.clone();
        async move {
            while !desk.jobs.stopping() {
                let d = desk.clone();
                // A read, not the write health: a full disk leaves the desk
                // serving reads and refusing writes until space returns,
                // which a restart would not mend.
                let check = tokio::task::spawn_blocking(move || d.store_reads());
                match tokio::time::timeout(half, check).await {
                    Ok(Ok(Ok(()))) => notify("WATCHDOG=1"),
                    Ok(Ok(Err(e))) => tracing::error!("watchdog: the store cannot be read ({e}); not pinging systemd"),
                    _ => tracing::error!("watchdog: the store did not answer within {half:?}; not pinging systemd"),
                }
                tokio::select! {
                    _ = tokio::time::sleep(half) => {}
                    _ = desk.jobs.stopped() => {}
                }
            }
        }
    });
}
