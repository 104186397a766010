//! The desk inside the test process: `app::start` on a runtime and thread of
//! its own (so a test's blocking calls never stall it), configured the way the
//! command line would, and stopped gracefully so its data dir can be opened
//! again.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use frontdesk::clock::{SharedClock, SystemClock};
use frontdesk::config::Config;

/// The config `frontdesk --data-dir DIR --http 127.0.0.1:0 --smtp 127.0.0.1:0
/// <extra> serve` would run with (`extra`: `--config`, `--smtp`, `--http`,
/// `--no-outgoing`). The environment is not read: a test sets what it needs.
/// A config without an `[outgoing]` section sends nothing, and one without a
/// `[dns]` section verifies no sender (no test may reach past loopback, not
/// even by a DNS lookup).
pub fn config(dir: &Path, extra: &[&str]) -> Config {
    let mut file: Option<PathBuf> = None;
    let (mut http, mut smtp, mut outgoing) = ("127.0.0.1:0".to_string(), "127.0.0.1:0".to_string(), true);
    let mut https = None;
    let mut args = extra.iter();
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{arg} needs a value")).to_string();
        match *arg {
            "--config" => file = Some(PathBuf::from(value())),
            "--http" => http = value(),
            "--smtp" => smtp = value(),
            "--https" => https = Some(value()),
            "--no-outgoing" => outgoing = false,
            other => panic!("the in-process desk does not take {other:?}; use Server::spawn_with"),
        }
    }
    let mut cfg = Config::load_effective(file.as_deref(), std::iter::empty()).unwrap_or_else(|e| panic!("config: {e}"));
    let text = file.as_deref().map(|f| std::fs::read_to_string(f).unwrap_or_default()).unwrap_or_default();
    if !text.contains("[outgoing]") {
        outgoing = false;
    }
    cfg.server.data_dir = dir.to_path_buf();
    cfg.server.http = http;
    cfg.smtp.listen = smtp;
    if let Some(h) = https {
        cfg.server.https = h;
    }
    if !outgoing {
        cfg.outgoing.enabled = false;
    }
    // Sender authentication asks DNS for every mail: only a config that names
    // its (test) resolver in `[dns]` verifies.
    if !text.contains("[dns]") {
        cfg.mail_auth.verify = false;
    }
    cfg
}

/// A desk serving on loopback inside this process.
pub struct Desk {
    pub http: SocketAddr,
    pub smtp: Option<SocketAddr>,
    pub https: Option<SocketAddr>,
    /// The HTTPS certificates (tests poke `recheck` after moving the clock).
    pub tls: Option<Arc<frontdesk::tls::Certs>>,
    pub setup_token: Option<String>,
    stop: tokio::sync::oneshot::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Desk {
    pub fn start(dir: &Path, extra: &[&str]) -> Desk {
        Self::start_clocked(dir, extra, Arc::new(SystemClock))
    }

    /// Like `start`, on the given clock.
    pub fn start_clocked(dir: &Path, extra: &[&str], clock: SharedClock) -> Desk {
        let cfg = Arc::new(config(dir, extra));
        let (ready_tx, ready) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("desk".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
                rt.block_on(async move {
                    match frontdesk::app::start(cfg, clock).await {
                        Ok(running) => {
                            let _ = ready_tx.send(Ok((
                                running.http,
                                running.smtp,
                                running.https,
                                running.tls.clone(),
                                running.setup_token.clone(),
                            )));
                            let _ = stopped.await;
                            if tokio::time::timeout(Duration::from_secs(30), running.stop()).await.is_err() {
                                eprintln!("the in-process desk did not stop within 30 s");
                            }
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(format!("{e:#}")));
                        }
                    }
                });
                rt.shutdown_timeout(Duration::from_secs(5));
            })
            .expect("desk thread");
        let (http, smtp, https, tls, setup_token) = match ready.recv_timeout(Duration::from_secs(30)) {
            Ok(Ok(addrs)) => addrs,
            Ok(Err(e)) => panic!("the desk did not start: {e}"),
            Err(_) => panic!("the desk did not start within 30 s"),
        };
        Desk { http, smtp, https, tls, setup_token, stop, thread }
    }

    /// Graceful stop; returns once the data dir is closed.
    pub fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}
