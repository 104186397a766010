//! Config reload (`SIGHUP`, `systemctl reload`): a new config is checked as
//! `check-config` checks it (the file, templates, canned responses) and, if
//! sound, put in place for every later request, mail and timer tick without
//! dropping a connection. Sections read once at start (listeners, TLS, DNS,
//! mail authentication, the spam engine, ACME, SSO) keep their running values
//! until the next restart, and the log says which of them changed.
//!
//! Also the store's pre-commit hook, which reads the config now: webhooks
//! and SLA clocks follow each commit.

use std::collections::HashMap;
use std::sync::Arc;

use super::Desk;
use super::templates::Templates;
use crate::config::Config;
use crate::store::{Precommit, Write};

/// The mail templates of one config: the desk's and each mailbox's own.
pub struct TemplateSet {
    pub desk: Templates,
    pub mailboxes: HashMap<String, Templates>,
}

impl TemplateSet {
    /// The templates at start. `check-config` reports template errors; a desk
    /// that starts anyway falls back to the built-in templates rather than
    /// failing to send.
    pub(super) fn of_started(cfg: &Config) -> TemplateSet {
        let desk = Templates::load(&cfg.outgoing.template_dir).unwrap_or_else(|e| {
            tracing::error!("{e}; using the built-in templates");
            Templates::builtin()
        });
        let mailboxes = Templates::of_mailboxes(cfg).unwrap_or_else(|e| {
            tracing::error!("{e}; mailboxes use the desk's templates");
            Default::default()
        });
        TemplateSet { desk, mailboxes }
    }
}

/// What `check-config` checks beyond the file itself: every template (the
/// desk's, each mailbox's, signatures) and every canned response renders.
/// The error names the key at fault.
pub fn check_rendering(cfg: &Config) -> Result<(), String> {
    Templates::check_config(cfg).map_err(|(key, e)| format!("{key}: {e}"))?;
    for c in &cfg.canned {
        Templates::render_str(&c.name, &c.text, &super::templates::sample()).map_err(|e| format!("canned {:?}: {e}", c.name))?;
    }
    Ok(())
}

/// The sections a running server read once at start.
const AT_START: [&str; 8] = ["server", "smtp", "dns", "mail_auth", "rspamd", "acme", "sso", "imap"];

/// What a reload did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reloaded {
    /// Sections whose new values wait for a restart.
    pub need_restart: Vec<&'static str>,
}

/// Reloads asked for from the web (the admin's Settings page): the serving
/// loop (`app::serve`, which can read the config file again) offers them,
/// and each outcome is kept for the page to show.
#[derive(Default)]
pub struct ReloadControl {
    /// Where the running config came from (a file, or the defaults).
    source: std::sync::Mutex<String>,
    offered: std::sync::atomic::AtomicBool,
    wanted: tokio::sync::Notify,
    /// The last reload: when, what it said, and whether it took.
    last: std::sync::Mutex<Option<(crate::domain::Timestamp, String, bool)>>,
    /// How many reloads were done since start.
    done: std::sync::atomic::AtomicU64,
}

impl ReloadControl {
    /// The serving loop can reload the config read from `source`.
    pub fn offer(&self, source: String) {
        *self.source.lock().unwrap_or_else(|p| p.into_inner()) = source;
        self.offered.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Where the config came from; empty when not known (an embedded desk).
    pub fn source(&self) -> String {
        self.source.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn offered(&self) -> bool {
        self.offered.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Asks the serving loop for a reload; false when nothing can do one.
    pub fn request(&self) -> bool {
        if self.offered() {
            self.wanted.notify_one();
        }
        self.offered()
    }

    /// Resolves when a reload was asked for.
    pub async fn wanted(&self) {
        self.wanted.notified().await
    }

    pub fn record(&self, at: crate::domain::Timestamp, said: String, ok: bool) {
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Some((at, said, ok));
        self.done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    /// How many reloads were done since start.
    pub fn done(&self) -> u64 {
        self.done.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn last(&self) -> Option<(crate::domain::Timestamp, String, bool)> {
        self.last.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl Desk {
    /// Puts `new` in place (checked by the caller with `Config::load…`),
    /// after its templates and canned responses render; on any error the
    /// running config stays.
    pub fn reload(&self, mut new: Config) -> Result<Reloaded, String> {
        check_rendering(&new)?;
        self.check_trigger_agents(&new)?;
        let templates = TemplateSet {
            desk: Templates::load(&new.outgoing.template_dir).map_err(|e| format!("outgoing.template_dir: {e}"))?,
            mailboxes: Templates::of_mailboxes(&new).map_err(|e| format!("mailbox templates: {e}"))?,
        };
        let old = self.config();
        let section = |c: &Config, name: &str| toml::Table::try_from(c).ok().and_then(|mut t| t.remove(name));
        let need_restart: Vec<&'static str> = AT_START.into_iter().filter(|s| section(&old, s) != section(&new, s)).collect();
        new.server = old.server.clone();
        new.smtp = old.smtp.clone();
        new.dns = old.dns.clone();
        new.mail_auth = old.mail_auth.clone();
        new.rspamd = old.rspamd.clone();
        new.acme = old.acme.clone();
        new.sso = old.sso.clone();
        new.imap = old.imap.clone();
        *self.templates.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(templates);
        self.shared.replace(Arc::new(new));
        if let Err(e) = self.apply_config_orgs() {
            tracing::error!("cannot apply [[organization]]: {e}");
        }
        // The audit log names the sections that changed, as at a start.
        if let Err(e) = self.record_config() {
            tracing::warn!("cannot record the reloaded config in the audit log: {e}");
        }
        Ok(Reloaded { need_restart })
    }

    /// The templates of the config now.
    pub(super) fn template_set(&self) -> Arc<TemplateSet> {
        self.templates.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// The hook the store runs before each commit, with the config now:
/// triggers first (their own changes join the commit but set no trigger
/// off), then the SLA clocks, report facts and webhooks of everything the
/// commit did.
pub(super) fn precommit(desk: std::sync::Weak<Desk>) -> Precommit {
    Box::new(move |w: &mut Write| {
        let Some(desk) = desk.upgrade() else { return Ok(()) };
        if desk.importing() {
            // Old mail: history, not work to be timed or acted on (but
            // counted in reports).
            let appended = w.take_appended();
            return w.refresh_facts(&appended.entries, &appended.created);
        }
        let cfg = desk.config();
        let now = desk.now();
        let mut appended = w.take_appended();
        desk.run_triggers(&cfg, w, &appended, now)?;
        let more = w.take_appended();
        appended.created.extend(more.created);
        appended.entries.extend(more.entries);
        super::sla::follow_commit(&cfg, w, &appended, now)?;
        w.refresh_facts(&appended.entries, &appended.created)?;
        super::webhooks::on_commit(&cfg, w, &appended)
    })
}
