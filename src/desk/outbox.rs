//! The outbox from the desk's side: what is due, when the next retry falls
//! due, and recording each attempt's outcome (sent and refused recipients in
//! the ticket's log, temporary failures rescheduled with back-off). The SMTP
//! delivery itself is `mail/outbound`.

use super::{Desk, Result};
use crate::domain::{Event, OutMailId, Person, Timestamp};
use crate::store::{OutMail, Write};

/// What became of one recipient of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Delivered,
    /// Refused for good (5xx): recorded, never retried.
    Permanent(String),
    /// Try again later (4xx, no connection, …).
    Temporary(String),
}

/// Milliseconds to wait after `attempts` failed attempts (`outgoing.retry_secs`).
fn backoff(schedule: &[u64], attempts: u32) -> i64 {
    let i = (attempts as usize).saturating_sub(1).min(schedule.len().saturating_sub(1));
    schedule.get(i).copied().unwrap_or(60) as i64 * 1000
}

impl Desk {
    /// Up to `max` queued mails due now.
    pub fn outbox_due(&self, max: usize) -> Result<Vec<OutMail>> {
        Ok(self.store.read()?.outbox_due(self.now(), max)?)
    }

    /// The display names the desk knows for a mail's addresses (people and
    /// agents), for its To and Cc headers; unknown addresses are left out.
    pub fn display_names(&self, addresses: &[String]) -> Result<std::collections::HashMap<String, String>> {
        let r = self.store.read()?;
        let mut names = std::collections::HashMap::new();
        for a in addresses {
            if let Some(p) = r.person_by_email(&a.to_lowercase())?
                && !p.name.trim().is_empty()
                && !p.name.trim().eq_ignore_ascii_case(a)
            {
                names.insert(a.clone(), p.name);
            }
        }
        Ok(names)
    }

    /// When the next queued mail falls due, if any is queued.
    pub fn outbox_next_due(&self) -> Result<Option<Timestamp>> {
        Ok(self.store.read()?.outbox_next_due()?)
    }

    /// Records what happened to a batch of mails, in one transaction: sent
    /// and refused recipients go in the ticket's log, temporary failures
    /// are rescheduled with back-off until `outgoing.max_queue_hours`.
    pub fn settle_outbox(&self, done: Vec<(OutMail, Vec<(String, Delivery)>)>) -> Result<()> {
        let now = self.now();
        self.store.write(|w| {
            for (m, results) in done {
                self.settle_one(w, &m, results, now)?;
            }
            Ok(())
        })
    }

    fn settle_one(&self, w: &mut Write, m: &OutMail, results: Vec<(String, Delivery)>, now: Timestamp) -> Result<()> {
        {
            let Some(current) = w.outmail(m.id)? else { return Ok(()) };
            let mut next = current.clone();
            let (mut sent, mut refused, mut temp) = (Vec::new(), Vec::new(), Vec::new());
            for (r, o) in results {
                match o {
                    Delivery::Delivered => sent.push(r),
                    Delivery::Permanent(why) => refused.push((r, why)),
                    Delivery::Temporary(why) => temp.push((r, why)),
                }
            }
            next.pending.retain(|r| temp.iter().any(|(t, _)| t == r));
            next.attempts += 1;
            let mut events = Vec::new();
            if !sent.is_empty() {
                events.push(Event::MailSent { kind: m.kind.clone(), to: sent });
            }
            for (r, why) in refused {
                events.push(Event::MailFailed { kind: m.kind.clone(), to: vec![r], reason: why });
            }
            let expired = now.0 - m.created_at.0 > self.config().outgoing.max_queue_hours as i64 * 3_600_000;
            if let Some((_, why)) = temp.first() {
                next.last_error = why.clone();
                if expired {
                    next.failed = true;
                    events.push(Event::MailFailed {
                        kind: m.kind.clone(),
                        to: next.pending.clone(),
                        reason: format!(
                            "gave up after {} attempts over {} hours: {why}",
                            next.attempts,
                            self.config().outgoing.max_queue_hours
                        ),
                    });
                } else {
                    next.next_attempt = Timestamp(now.0 + backoff(&self.config().outgoing.retry_secs, next.attempts));
                    // Said on the ticket at the first failure, not after every retry.
                    if next.attempts == 1 {
                        events.push(Event::MailDelayed {
                            kind: m.kind.clone(),
                            to: next.pending.clone(),
                            reason: why.clone(),
                            retry_at: next.next_attempt,
                        });
                    }
                }
                w.put_outmail(Some(&current), &mut next)?;
            } else {
                w.delete_outmail(&current)?;
            }
            if let Some(t) = m.ticket {
                // The ticket may have been merged (or purged) since the mail was queued.
                let t = w.survivor(t)?;
                if w.ticket(t)?.is_some() {
                    for e in events {
                        w.append_entry(&mut Self::event(t, None, e, now))?;
                    }
                }
            }
            Ok(())
        }
    }
}

impl Desk {
    /// Queued and failed mail, newest first (admins only).
    pub fn outbox(&self, actor: &Person, max: usize) -> Result<Vec<OutMail>> {
        if !actor.is_admin() {
            return Err(super::DeskError::NotFound);
        }
        Ok(self.store.read()?.outbox_all(max)?)
    }

    /// Sends a queued or failed mail again now.
    pub fn outbox_retry(&self, actor: &Person, id: OutMailId) -> Result<()> {
        if !actor.is_admin() {
            return Err(super::DeskError::NotFound);
        }
        let now = self.now();
        self.store.write(|w| {
            let old = w.outmail(id)?.ok_or(super::DeskError::NotFound)?;
            let mut m = old.clone();
            m.failed = false;
            m.next_attempt = now;
            if m.pending.is_empty() {
                m.pending = m.to.iter().chain(&m.cc).cloned().collect();
            }
            // A retried mail gets a fresh queue lifetime.
            m.created_at = now;
            w.put_outmail(Some(&old), &mut m)?;
            Ok(())
        })
    }

    /// Drops a queued or failed mail; the ticket records it.
    pub fn outbox_discard(&self, actor: &Person, id: OutMailId) -> Result<()> {
        if !actor.is_admin() {
            return Err(super::DeskError::NotFound);
        }
        let now = self.now();
        self.store.write(|w| {
            let m = w.outmail(id)?.ok_or(super::DeskError::NotFound)?;
            w.delete_outmail(&m)?;
            if let Some(t) = m.ticket {
                let ev = crate::domain::Event::MailFailed {
                    kind: m.kind.clone(),
                    to: m.pending.clone(),
                    reason: format!("discarded by {}", actor.display()),
                };
                w.append_entry(&mut Self::event(t, Some(actor.id), ev, now))?;
            }
            Ok(())
        })
    }
}
