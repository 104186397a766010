//! Intake from the desk's side: accepted mail into the spool log (durable
//! before the 250), and what the mail worker reads and drops there. The
//! worker itself (parse, isolate, batch) is `mail/worker`; turning a message
//! into a ticket is `desk/mail`. Mail fetched over IMAP comes in here too,
//! with its mailbox's mark in the same commit, and its fetchers report how
//! they fare on the `ImapBoard` (shown in `/healthz`).

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::Serialize;

use super::{Desk, Result};
use crate::domain::{SpoolId, Timestamp};
use crate::store::imap::ImapMark;
use crate::store::{SpoolEntry, Topic, Waiter};

/// What an IMAP fetcher is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ImapState {
    Connecting,
    /// Logged in, waiting for the server's IDLE news.
    Idle,
    /// Logged in, looking every `poll_secs` (no IDLE).
    Polling,
    /// The last try failed; it tries again with back-off.
    Failing,
}

/// One IMAP mailbox's fetcher, as `/healthz` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ImapStatus {
    pub name: String,
    pub state: ImapState,
    pub fetched: u64,
    pub last_ok_at: Option<Timestamp>,
    pub failing_since: Option<Timestamp>,
    pub last_error: Option<String>,
}

/// The fetchers' reports, by mailbox name.
#[derive(Debug, Default)]
pub struct ImapBoard(Mutex<BTreeMap<String, ImapStatus>>);

impl ImapBoard {
    /// Records `name`'s state now; an error starts (or continues) its
    /// failing spell, anything else ends it.
    pub fn report(&self, name: &str, state: ImapState, now: Timestamp, fetched: u64, error: Option<String>) {
        let Ok(mut m) = self.0.lock() else { return };
        let s = m.entry(name.to_string()).or_insert_with(|| ImapStatus {
            name: name.to_string(),
            state,
            fetched: 0,
            last_ok_at: None,
            failing_since: None,
            last_error: None,
        });
        s.state = state;
        s.fetched += fetched;
        if error.is_some() {
            s.failing_since.get_or_insert(now);
            s.last_error = error;
        } else if state != ImapState::Connecting {
            s.failing_since = None;
            s.last_error = None;
            s.last_ok_at = Some(now);
        }
    }

    pub fn all(&self) -> Vec<ImapStatus> {
        self.0.lock().map(|m| m.values().cloned().collect()).unwrap_or_default()
    }
}

impl Desk {
    /// Durably adds accepted messages to the spool log (one commit, one
    /// fsync) and wakes the mail worker; returns their spool ids.
    pub fn spool_mail(&self, items: &[(&SpoolEntry, &[u8])]) -> Result<Vec<SpoolId>> {
        Ok(self.store.put_spool(items)?)
    }

    /// Durably adds messages fetched from an IMAP mailbox with its new mark
    /// (one commit) and wakes the mail worker.
    pub fn spool_fetched(&self, items: &[(&SpoolEntry, &[u8])], key: &str, mark: &ImapMark) -> Result<Vec<SpoolId>> {
        Ok(self.store.put_spool_fetched(items, key, mark)?)
    }

    /// Where fetching the IMAP mailbox `key` stands.
    pub fn imap_mark(&self, key: &str) -> Result<Option<ImapMark>> {
        Ok(self.store.spool().imap_mark(key)?)
    }

    /// Whether a message with this Message-ID is on a ticket already.
    pub fn knows_message_id(&self, id: &str) -> Result<bool> {
        Ok(self.store.read()?.message_ticket(id)?.is_some())
    }

    /// The oldest `max` spool ids waiting to become tickets.
    pub fn spooled(&self, max: usize) -> Result<Vec<SpoolId>> {
        Ok(self.store.spool().ids(max)?)
    }

    /// One spooled message: its envelope and raw bytes.
    pub fn spooled_mail(&self, id: SpoolId) -> Result<Option<(SpoolEntry, Vec<u8>)>> {
        Ok(self.store.spool().entry(id)?)
    }

    /// Drops processed messages from the spool log (their ticket
    /// transactions marked them done).
    pub fn drop_spooled(&self, ids: &[SpoolId]) -> Result<()> {
        Ok(self.store.spool().remove(ids)?)
    }

    /// Forgets done marks whose spool entries are gone; how many.
    pub fn prune_spool_marks(&self) -> Result<usize> {
        Ok(self.store.prune_spool_marks()?)
    }

    /// Wakes on every spool commit (the change feed's `Topic::Spool`).
    pub fn spool_waiter(&self) -> Waiter<'_> {
        self.store.waiter(Topic::Spool)
    }
}
