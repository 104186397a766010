//! Wires store, desk, clock and the HTTP server together; starts and stops them.

pub mod systemd;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;

use crate::clock::{SharedClock, SystemClock};
use crate::config::Config;
use crate::desk::Desk;
use crate::store::Store;

/// Opens the data directory and builds the desk.
pub fn open_desk(cfg: Arc<Config>, clock: SharedClock) -> anyhow::Result<Arc<Desk>> {
    let dir = &cfg.server.data_dir;
    let store = Store::open_with_cache(dir, cfg.server.cache_mib * 1024 * 1024)
        .with_context(|| format!("cannot open the data directory {}", dir.display()))?;
    Ok(Desk::new(store, cfg, clock))
}

/// `frontdesk serve`: runs until Ctrl-C or SIGTERM; on SIGHUP it reads the
/// config again with `reread` and applies it (`Desk::reload`).
pub async fn serve(cfg: Arc<Config>, source: String, reread: impl Fn() -> Result<Config, String>) -> anyhow::Result<()> {
    // A file-size limit (RLIMIT_FSIZE, e.g. systemd's LimitFSIZE) reached while
    // writing must be an I/O error the store recovers from, not SIGXFSZ
    // killing the process: take the signal over (it is then only counted).
    #[cfg(unix)]
    let _xfsz = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::from_raw(25))
        .map_err(|e| tracing::warn!("cannot take over SIGXFSZ: {e}"))
        .ok();
    let mut running = start(cfg, Arc::new(SystemClock)).await?;
    running.desk.reloads.offer(source);
    let desk = running.desk.clone();
    systemd::notify("READY=1");
    systemd::start_watchdog(running.desk.clone());
    // The HTTP server ends only after the stop, unless it fails: then the
    // process must not stay up without its web UI.
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    #[cfg(unix)]
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .map_err(|e| tracing::warn!("cannot listen for SIGHUP (config reload): {e}"))
        .ok();
    let failed = loop {
        #[cfg(unix)]
        let hup = async {
            match hangup.as_mut() {
                Some(h) => h.recv().await,
                None => std::future::pending().await,
            }
        };
        #[cfg(not(unix))]
        let hup = std::future::pending::<Option<()>>();
        tokio::select! {
            _ = &mut shutdown => break None,
            r = &mut running.http_task => break Some(r),
            _ = hup => {
                systemd::notify(&systemd::reloading());
                reload(&running.desk, reread());
                systemd::notify("READY=1");
            }
            _ = desk.reloads.wanted() => {
                systemd::notify(&systemd::reloading());
                reload(&running.desk, reread());
                systemd::notify("READY=1");
            }
        }
    };
    say(format_args!("frontdesk: stopping"));
    systemd::notify("STOPPING=1");
    running.desk.stop();
    if let Some(r) = failed {
        let why = match r {
            Ok(Ok(())) => "the HTTP server stopped".to_string(),
            Ok(Err(e)) => format!("the HTTP server failed: {e}"),
            Err(e) => format!("the HTTP server task failed: {e}"),
        };
        if let Some(task) = running.smtp_task {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(15), task).await;
        }
        anyhow::bail!("{why}");
    }
    running.stop().await;
    say(format_args!("frontdesk: stopped"));
    Ok(())
}

/// Applies a config read again (SIGHUP, or the admin's Reload button), or
/// keeps the running one; says which (and keeps it for the Settings page).
pub fn reload(desk: &Desk, read: Result<Config, String>) {
    let (said, ok) = match read.and_then(|c| desk.reload(c)) {
        Ok(r) if r.need_restart.is_empty() => ("config reloaded".to_string(), true),
        Ok(r) => (format!("config reloaded; changes to [{}] take effect at the next restart", r.need_restart.join("], [")), true),
        Err(e) => (format!("config reload refused, the running config stays: {e}"), false),
    };
    say(format_args!("frontdesk: {said}"));
    desk.reloads.record(desk.now(), said, ok);
}

/// A desk serving HTTP (and SMTP when enabled) inside this process.
pub struct Running {
    pub desk: Arc<Desk>,
    /// Where the web UI and API listen (the real port when `server.http` asked for port 0).
    pub http: SocketAddr,
    pub smtp: Option<SocketAddr>,
    /// Where HTTPS listens, when `server.https` is set.
    pub https: Option<SocketAddr>,
    /// The certificates HTTPS serves (tests poke `recheck` after moving the clock).
    pub tls: Option<Arc<crate::tls::Certs>>,
    /// The first admin's one-time setup token, when there is no admin yet.
    pub setup_token: Option<String>,
    http_task: tokio::task::JoinHandle<std::io::Result<()>>,
    https_task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    smtp_task: Option<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Graceful shutdown: workers are told to stop and the change feed
    /// closes, HTTP stops accepting and finishes open requests, SMTP
    /// transactions in flight finish (15 s at most), then the worker threads
    /// finish their batch and return (10 s at most), so the data directory is
    /// closed when this returns.
    pub async fn stop(self) {
        self.desk.stop();
        let _ = self.http_task.await;
        if let Some(task) = self.https_task {
            let _ = task.await;
        }
        if let Some(task) = self.smtp_task {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(15), task).await;
        }
        let jobs = self.desk.jobs.clone();
        drop(self.desk);
        let left = tokio::task::spawn_blocking(move || jobs.join(std::time::Duration::from_secs(10))).await.unwrap_or_default();
        if !left.is_empty() {
            tracing::warn!("workers still running at shutdown: {}", left.join(", "));
        }
    }
}

/// Opens the data directory, binds every listener, starts the workers and
/// serves on the current runtime; `clock` is the one source of "now" (the
/// tests pass a `ManualClock`).
pub async fn start(cfg: Arc<Config>, clock: SharedClock) -> anyhow::Result<Running> {
    let desk = open_desk(cfg.clone(), clock)?;
    // Agents are created after the first start: a trigger naming one that
    // does not exist yet logs its failures on the tickets meanwhile.
    if let Err(e) = desk.check_trigger_agents(&cfg) {
        tracing::warn!("{e}");
    }
    let mut inherited = systemd::Inherited::from_env();
    let listener = inherited.listen(&cfg.server.http, "server.http").await?;
    let addr = listener.local_addr()?;
    // Bind every listener before announcing anything, so a port conflict is an
    // error at start, not a half-running server.
    let smtp_listener = if cfg.smtp.enabled { Some(inherited.listen(&cfg.smtp.listen, "smtp.listen").await?) } else { None };
    // Checked here, not in the file: `--https` may give the address.
    if cfg.acme.enabled && !cfg.https_on() {
        anyhow::bail!("acme.enabled needs server.https (or --https): the address HTTPS listens on");
    }
    let https_listener = if cfg.https_on() { Some(inherited.listen(&cfg.server.https, "server.https").await?) } else { None };
    inherited.warn_unused();
    let certs = match &https_listener {
        Some(_) => {
            let c = cfg.clone();
            let first = tokio::task::spawn_blocking(move || crate::tls::initial(&c)).await??;
            Some(crate::tls::Certs::new(first))
        }
        None => None,
    };
    say(format_args!("frontdesk: web UI and API on http://{addr} (data in {})", cfg.server.data_dir.display()));
    let https_addr = match (&https_listener, &certs) {
        (Some(l), Some(certs)) => {
            let bound = l.local_addr()?;
            say(format_args!("frontdesk: HTTPS on https://{bound} with {}", announce(&cfg, &certs.current().info)));
            Some(bound)
        }
        _ => None,
    };
    let mut setup_token = None;
    // With HTTPS on, the one-time link must not cross the network in clear.
    let ui = match https_addr {
        Some(b) => format!("https://{b}"),
        None => format!("http://{addr}"),
    };
    if !desk.has_admin()? {
        let token = crate::desk::auth::random_token()?;
        let exe = std::env::current_exe().ok().map(|p| p.display().to_string()).unwrap_or_else(|| "frontdesk".into());
        say(format_args!(
            "frontdesk: first run: there is no admin yet. Create one in the browser with this one-time link:\n\n    \
             {ui}/setup?token={token}\n\n\
             or stop the server (Ctrl-C) and run:\n\n    \
             {exe} --data-dir {} user add --email you@example.com --name \"Your Name\" --role admin --password-stdin",
            cfg.server.data_dir.display()
        ));
        setup_token = Some(token);
    }
    let (index, rebuild) = crate::search::SearchIndex::open(&cfg.server.data_dir, 15 << 20).context("cannot open the search index")?;
    let index = Arc::new(index);
    let _ = desk.search.set(index.clone());
    if rebuild {
        say(format_args!("frontdesk: building the search index in the background (search shows its progress)"));
    }
    crate::desk::indexer::start_indexer(desk.clone(), index, rebuild);
    match desk.apply_config_orgs() {
        Ok(0) => {}
        Ok(n) => tracing::info!("{n} organizations made from [[organization]]"),
        Err(e) => tracing::error!("cannot apply [[organization]]: {e}"),
    }
    let kb = crate::search::kb::KbIndex::open(&cfg.server.data_dir).context("cannot open the knowledge base index")?;
    let _ = desk.kb.index.set(Arc::new(kb));
    match desk.kb_sync_index() {
        Ok(Some(n)) => tracing::info!("knowledge base index rebuilt: {n} articles"),
        Ok(None) => {}
        Err(e) => tracing::error!("cannot rebuild the knowledge base index: {e}"),
    }
    if let Err(e) = desk.resume_jobs() {
        tracing::error!("cannot resume bulk jobs: {e}");
    }
    if let Err(e) = desk.record_config() {
        tracing::warn!("cannot compare the config with the last start's: {e}");
    }
    // Trash is purged, the audit log pruned, articles' views written and the
    // database compacted when much of it is free, once at start and then
    // every hour.
    let purger = desk.clone();
    desk.jobs.task("trash-purge", move || {
        let purger = purger.clone();
        async move {
            while !purger.jobs.stopping() {
                let d = purger.clone();
                let housekeeping = move || (d.purge_trash(), d.prune_audit(), d.write_article_views(), d.compact_when_free());
                match tokio::task::spawn_blocking(housekeeping).await {
                    Ok((trash, audit, views, compacted)) => {
                        match compacted {
                            Ok(Some((before, after))) => tracing::info!(
                                "compacted the database: {:.1} MiB → {:.1} MiB",
                                before as f64 / 1048576.0,
                                after as f64 / 1048576.0
                            ),
                            Ok(None) => {}
                            Err(e) => tracing::info!("the database was not compacted this hour: {e}"),
                        }
                        if let Err(e) = views {
                            tracing::warn!("the knowledge base's view counts were not written: {e}");
                        }
                        match trash {
                            Ok(n) if n > 0 => tracing::info!("purged {n} tickets from Trash"),
                            Err(e) => tracing::error!("purging Trash failed: {e}"),
                            _ => {}
                        }
                        match audit {
                            Ok(n) if n > 0 => tracing::info!("dropped {n} audit log entries older than audit.keep_days"),
                            Err(e) => tracing::error!("pruning the audit log failed: {e}"),
                            _ => {}
                        }
                    }
                    Err(e) => tracing::error!("the hourly housekeeping task failed: {e}"),
                }
                tokio::select! {
                    _ = tokio::time::sleep(std::time::Duration::from_secs(3600)) => {}
                    _ = purger.jobs.stopped() => {}
                }
            }
        }
    });
    desk.prepare_backups();
    // `frontdesk backup` reaches the running server here.
    if let Err(e) = crate::control::start(desk.clone()) {
        tracing::warn!("no control socket (`frontdesk backup` will not reach this server): {e:#}");
    }
    // Scheduled backups ([backup]): looked at every minute on the desk's clock.
    let backer = desk.clone();
    desk.jobs.task("scheduled-backup", move || {
        let backer = backer.clone();
        async move {
            while !backer.jobs.stopping() {
                let d = backer.clone();
                if let Err(e) = tokio::task::spawn_blocking(move || d.run_scheduled_backup()).await {
                    tracing::error!("the scheduled backup task failed: {e}");
                }
                tokio::select! {
                    _ = tokio::time::sleep(std::time::Duration::from_secs(60)) => {}
                    _ = backer.jobs.stopped() => {}
                }
            }
        }
    });
    // The time rules (snooze wake-ups, auto-close, pending reminders).
    let timer = desk.clone();
    desk.jobs.task("time-rules", move || {
        let timer = timer.clone();
        async move {
            while !timer.jobs.stopping() {
                let d = timer.clone();
                match tokio::task::spawn_blocking(move || d.run_timers()).await {
                    Ok(Ok(r)) if r != Default::default() => tracing::info!("time rules: {r:?}"),
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => tracing::error!("the time rules failed: {e}"),
                    Err(e) => tracing::error!("the time rules task failed: {e}"),
                }
                tokio::select! {
                    _ = tokio::time::sleep(crate::desk::timers::TICK) => {}
                    _ = timer.jobs.stopped() => {}
                }
            }
        }
    });
    // One resolver for everything that asks DNS; DKIM keys made on first start.
    let dns = crate::mail::dns::Dns::from_config(&cfg).map_err(anyhow::Error::msg)?;
    let lookup = dns.lookup();
    let signer = if cfg.mail_auth.sign && cfg.outgoing.enabled {
        let c = cfg.clone();
        let s = tokio::task::spawn_blocking(move || crate::mail::dkim::Signer::load(&c)).await?.map_err(anyhow::Error::msg)?;
        Some(Arc::new(s))
    } else {
        None
    };
    let verifier = cfg.mail_auth.verify.then(|| Arc::new(crate::mail::auth::Verifier::new(&cfg, dns.clone())));
    let screen =
        (!cfg.mail_auth.dnsbl.is_empty() || cfg.mail_auth.greylist).then(|| Arc::new(crate::mail::screen::Screen::new(&cfg, dns.clone())));
    let rspamd = crate::mail::rspamd::Rspamd::new(&cfg).map(|r| Arc::new(r.with_resolver(dns.clone())));
    if let Some(r) = rspamd.as_ref().filter(|r| r.learns()) {
        crate::mail::rspamd::start_trainer(desk.clone(), r.clone());
    }
    // Mailboxes fetched over IMAP ([[imap]]) feed the same spool.
    crate::mail::imap::start(desk.clone(), dns.clone());
    crate::web::webhooks::start(desk.clone(), dns.clone());
    crate::mail::outbound::start(desk.clone(), crate::mail::outbound::Mailer { dns, signer });
    let stats = Arc::new(crate::mail::worker::MailStats::default());
    let spooler = crate::mail::spool::Spooler::start(desk.clone());
    // Mail left in the spool by the previous run is processed first.
    crate::mail::worker::start(desk.clone(), stats.clone());
    let (mut smtp_task, mut smtp_addr) = (None, None);
    if let Some(smtp_listener) = smtp_listener {
        let tls = match crate::mail::tls::server_config(&cfg, certs.clone()) {
            Ok(t) => Some(t),
            Err(e) => {
                tracing::warn!("STARTTLS disabled: {e:#}");
                None
            }
        };
        let bound = smtp_listener.local_addr()?;
        smtp_addr = Some(bound);
        let mailboxes: Vec<&str> = cfg.mailbox.iter().map(|m| m.address.as_str()).collect();
        say(format_args!(
            "frontdesk: mail (SMTP{}) on smtp://{bound} for {}",
            if tls.is_some() { ", STARTTLS" } else { "" },
            if mailboxes.is_empty() { "no mailbox yet: add [[mailbox]] to the config".to_string() } else { mailboxes.join(", ") }
        ));
        let checks = crate::mail::smtp::Checks { verifier, screen, rspamd, allow: desk.allow_list.clone() };
        let server = crate::mail::smtp::Server::new(desk.shared_config(), spooler.clone(), tls, stats.clone(), checks);
        smtp_task = Some(tokio::spawn(server.run(smtp_listener)));
    }
    let sso = crate::web::sso::Sso::from_config(&cfg, lookup.clone())?;
    let app = crate::web::router(desk.clone(), setup_token.clone(), stats, certs.clone(), sso);
    let mut https_task = None;
    let mut http_app = app.clone();
    if let (Some(l), Some(certs), Some(bound)) = (https_listener, certs.clone(), https_addr) {
        if !cfg.server.tls_cert.is_empty() {
            crate::tls::watch_files(certs.clone(), cfg.clone(), desk.jobs.clone(), std::time::Duration::from_secs(2));
        }
        if cfg.acme.enabled {
            crate::tls::acme::start(certs.clone(), cfg.clone(), desk.jobs.clone(), desk.clock.clone(), lookup.clone());
        }
        if cfg.server.redirect_http {
            http_app = crate::web::https::over_plain_http(http_app, &cfg.server.public_url, bound.port());
        }
        let https_app = crate::web::https::over_https(app, cfg.server.hsts_max_age_secs);
        let stop = desk.clone();
        let listener =
            crate::tls::listener::TlsListener::start(l, crate::tls::https_config(certs)?, async move { stop.jobs.stopped().await })?;
        let stopping = desk.clone();
        https_task = Some(tokio::spawn(async move {
            use axum::serve::ListenerExt;
            axum::serve(listener.tap_io(|_| {}), https_app.into_make_service_with_connect_info::<SocketAddr>())
                .with_graceful_shutdown(async move { stopping.jobs.stopped().await })
                .await
        }));
    }
    let app = http_app;
    let stopping = desk.clone();
    let http_task = tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(async move { stopping.jobs.stopped().await })
            .await
    });
    Ok(Running { desk, http: addr, smtp: smtp_addr, https: https_addr, tls: certs, setup_token, http_task, https_task, smtp_task })
}

/// The start-up line's account of the HTTPS certificate.
fn announce(cfg: &Config, c: &crate::tls::CertInfo) -> String {
    use crate::tls::Source;
    match c.source {
        Source::Files => format!("the certificate of server.tls_cert for {} (reloaded when the file changes)", c.names.join(", ")),
        Source::Acme => {
            format!("ACME's certificate for {}, valid until {}", c.names.join(", "), crate::domain::Timestamp(c.not_after).short())
        }
        Source::SelfSigned => format!(
            "a self-signed certificate for {}{}\n    SHA-256 fingerprint {}\n    \
             to trust it in Chromium: --ignore-certificate-errors-spki-list={}",
            c.names.join(", "),
            if cfg.acme.enabled { " until ACME's certificate arrives" } else { "" },
            c.sha256,
            c.spki_sha256
        ),
    }
}

/// Prints an operator message on stdout; a closed stdout (the parent went away)
/// is not a reason to crash.
fn say(args: std::fmt::Arguments) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_fmt(args);
    let _ = out.write_all(b"\n");
    let _ = out.flush();
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
