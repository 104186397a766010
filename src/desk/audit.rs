//! The audit log from the desk's side: who did what, appended in the same
//! transaction as the change it records (a failed login, which changes
//! nothing, commits its entry alone); read by admins only, with filters;
//! dropped after `audit.keep_days`. Nothing edits or deletes an entry.

use super::{Desk, DeskError, Result};
use crate::domain::audit::{AuditEntry, AuditEvent, AuditFilter};
use crate::domain::{AuditId, Person, Timestamp};
use crate::store::Write;

/// Who acted.
#[derive(Debug, Clone, Copy)]
pub enum Actor<'a> {
    Agent(&'a Person),
    /// The machine's operator (`frontdesk user add`, `token create`, …).
    CommandLine,
    /// The desk's own time rules (Trash purge, the log's own pruning).
    System,
    /// The first-run link that creates the first admin.
    SetupLink,
    /// Single sign-on creating an agent (`sso.auto_create`).
    SingleSignOn,
}

impl<'a> Actor<'a> {
    /// An agent, or the command line where there is none (`actor` None).
    pub fn of(actor: Option<&'a Person>) -> Actor<'a> {
        actor.map_or(Actor::CommandLine, Actor::Agent)
    }
}

thread_local! {
    /// The client address of the request this thread works for (set by the
    /// web layer around blocking desk work); entries that name no address
    /// take it.
    static CLIENT: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// Runs `f` with `ip` as the client address its audit entries record.
pub fn with_client<T>(ip: &str, f: impl FnOnce() -> T) -> T {
    let before = CLIENT.with(|c| c.replace(ip.to_string()));
    let out = f();
    CLIENT.with(|c| *c.borrow_mut() = before);
    out
}

/// Entries dropped per transaction when the log is pruned.
const PRUNE_BATCH: usize = 5_000;

/// Appends an entry inside a write transaction.
pub(crate) fn append(w: &mut Write, at: Timestamp, who: Actor<'_>, ip: &str, event: AuditEvent) -> Result<()> {
    let (actor, actor_label) = match who {
        Actor::Agent(p) => (Some(p.id), p.email.clone()),
        Actor::CommandLine => (None, "command line".to_string()),
        Actor::System => (None, "system".to_string()),
        Actor::SetupLink => (None, "setup link".to_string()),
        Actor::SingleSignOn => (None, "single sign-on".to_string()),
    };
    let ip = if ip.is_empty() { CLIENT.with(|c| c.borrow().clone()) } else { ip.to_string() };
    w.append_audit(&AuditEntry { at, actor, actor_label, ip, event })?;
    Ok(())
}

impl Desk {
    /// Records an event in a commit of its own (events that change nothing
    /// else: a failed login, an export).
    pub fn record_audit(&self, who: Actor<'_>, ip: &str, event: AuditEvent) -> Result<()> {
        let now = self.now();
        self.store.write(|w| append(w, now, who, ip, event))
    }

    /// Entries for an admin: up to `limit` matching `filter`, newest first,
    /// older than the id `before`. Anyone else: not found.
    pub fn audit_log(
        &self,
        actor: &Person,
        filter: &AuditFilter,
        before: Option<AuditId>,
        limit: usize,
    ) -> Result<Vec<(AuditId, AuditEntry)>> {
        if !actor.is_admin() {
            return Err(DeskError::NotFound);
        }
        Ok(self.store.read()?.audit_entries(filter, before, limit)?)
    }

    /// Drops entries older than `audit.keep_days`; how many.
    pub fn prune_audit(&self) -> Result<usize> {
        let cutoff = Timestamp(self.now().0 - i64::from(self.config().audit.keep_days) * 86_400_000);
        let mut total = 0;
        loop {
            let n = self.store.write(|w| w.drop_audit_before(cutoff, PRUNE_BATCH).map_err(DeskError::from))?;
            total += n;
            if n < PRUNE_BATCH {
                return Ok(total);
            }
        }
    }
}

impl Desk {
    /// At start: the config's sections (`[security]`, `[[role]]` …) compared
    /// with those of the last start; a difference is in the audit log as
    /// "started with a changed config", naming the sections only (values may
    /// be secrets). The first start records nothing.
    pub fn record_config(&self) -> Result<()> {
        let table = toml::Value::try_from(self.config().as_ref())
            .map_err(|e| super::DeskError::Conflict(crate::tr!("the config cannot be read back: {error}", error = e)))?;
        let mut digests: Vec<(String, String)> = match table {
            toml::Value::Table(t) => t.iter().map(|(k, v)| (k.clone(), crate::store::sha256_hex(v.to_string().as_bytes()))).collect(),
            _ => Vec::new(),
        };
        digests.sort();
        let text: String = digests.iter().map(|(k, d)| format!("{k}={d}\n")).collect();
        let now = self.now();
        self.store.write(|w| {
            let Some(before) = w.replace_key(CONFIG_DIGESTS, text.as_bytes())? else { return Ok(()) };
            let before = String::from_utf8_lossy(&before).into_owned();
            let old: Vec<(&str, &str)> = before.lines().filter_map(|l| l.split_once('=')).collect();
            let mut sections: Vec<String> = digests
                .iter()
                .filter(|(k, d)| !old.iter().any(|(ok, od)| ok == k && od == d))
                .map(|(k, _)| k.clone())
                .chain(old.iter().filter(|(ok, _)| !digests.iter().any(|(k, _)| k == ok)).map(|(k, _)| k.to_string()))
                .collect();
            sections.dedup();
            if sections.is_empty() {
                return Ok(());
            }
            append(w, now, Actor::System, "", AuditEvent::ConfigChanged { sections })
        })
    }
}

/// The keys-table entry with the last start's config section digests.
const CONFIG_DIGESTS: &str = "config.sections";
