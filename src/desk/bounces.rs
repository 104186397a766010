//! Bounces that mean something: the failed recipients of a delivery report
//! (`domain::dsn`) become "bounced: …" on the ticket the mail was about and
//! and, for a hard bounce, in the Outbox's list of addresses that bounce:
//! the desk copies such an address on no conversation until it writes again.

use super::{Desk, Result};
use crate::domain::mail::ParsedMail;
use crate::domain::{Event, Ticket, Timestamp};
use crate::store::{Bounced, Write};

impl Desk {
    /// Records what a bounce reports; true when it reported anything (the
    /// bounce is then accounted for on the ticket, if there is one).
    pub(super) fn record_bounces(&self, w: &mut Write, target: Option<&Ticket>, m: &ParsedMail, now: Timestamp) -> Result<bool> {
        // Only a report about mail the desk sent counts (it names one of its
        // Message-IDs): anyone can write a "bounce" about any address.
        let failed: Vec<_> = m.bounces.iter().filter(|r| r.failed()).collect();
        if failed.is_empty() || target.is_none() {
            return Ok(false);
        }
        for r in &failed {
            let reason = r.reason();
            if r.hard() {
                w.set_bounced(&r.recipient, &Bounced { at: now, reason: reason.clone() })?;
            }
            if let Some(t) = target {
                let ev = Event::MailBounced { to: r.recipient.clone(), reason, hard: r.hard() };
                let mut e = Self::event(t.id, None, ev, now);
                w.append_entry(&mut e)?;
            }
        }
        Ok(true)
    }

    /// The addresses that bounced hard, the latest first (the Outbox).
    pub fn bounced_addresses(&self, actor: &crate::domain::Person, max: usize) -> Result<Vec<(String, Bounced)>> {
        if !actor.is_admin() {
            return Err(super::DeskError::NotFound);
        }
        Ok(self.store.read()?.bounced_all(max)?)
    }

    /// Whether the desk should leave `email` off a conversation's copies:
    /// it bounced hard and has not written since.
    pub(super) fn bouncing(&self, w: &Write, email: &str) -> Result<bool> {
        Ok(w.bounced(email)?.is_some())
    }
}
