//! The time rules, run on the desk's clock: snoozed tickets wake up (Open
//! again, the assignee or department told), Resolved tickets close after
//! `workflow.auto_close_days`, Pending ones remind their requester once
//! after `pending_reminder_days` and resolve after `pending_resolve_days`.
//! Each finds its tickets through an index (`store::timers`), never a scan
//! of the tickets; `run_timers` is called by a background task every
//! `TICK`, and directly by tests that move the clock.

use super::notify::Notice;
use super::{Desk, DeskError, Result, invalid};
use crate::domain::{Event, Status, Ticket, Timestamp};
use crate::store::Write;

/// How often the background task runs the rules.
pub const TICK: std::time::Duration = std::time::Duration::from_secs(30);
/// Most tickets one rule moves in one transaction.
const BATCH: usize = 200;
const DAY_MS: i64 = 86_400_000;

/// What one run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TimerReport {
    pub woken: usize,
    pub closed: usize,
    pub reminded: usize,
    pub resolved: usize,
    /// SLA warnings and breaches raised, and priorities aged.
    pub alarms: usize,
    /// Time triggers fired.
    pub triggered: usize,
}

impl Desk {
    /// Checks a snooze time asked for at `now`.
    pub(crate) fn check_snooze(&self, until: Timestamp, now: Timestamp) -> Result<()> {
        let max = self.config().workflow.snooze_max_days as i64 * DAY_MS;
        if until.0 <= now.0 {
            return Err(invalid("snooze_until", "must be in the future"));
        }
        if until.0 - now.0 > max {
            return Err(invalid(
                "snooze_until",
                crate::tr!("is more than {days} days away", days = self.config().workflow.snooze_max_days),
            ));
        }
        Ok(())
    }

    /// Moves `t` to `to` as the system, with `why` in the log.
    fn system_status(&self, w: &mut Write, t: &Ticket, to: Status, why: String, now: Timestamp) -> Result<Ticket> {
        let mut next = t.clone();
        next.status = to;
        next.custom_status = None;
        next.updated_at = now;
        let changed = Event::StatusChanged { from: self.config().status_name(t), to: to.label().into() };
        w.append_entry(&mut Self::event(t.id, None, Event::Because { event: Box::new(changed), reason: why }, now))?;
        w.put_ticket(Some(t), &next)?;
        Ok(next)
    }

    /// The tickets a rule may move: in `status` since before `cutoff`, out
    /// of Trash, at most `BATCH`. Rows of tickets gone or moved on are
    /// dropped from the index as they are met; trashed ones are passed over
    /// (a restored ticket is due again).
    pub(super) fn due_in_status(w: &mut Write, status: Status, cutoff: Timestamp) -> Result<Vec<(Ticket, Timestamp)>> {
        let mut out = Vec::new();
        for (id, since) in w.in_status_before(status, cutoff, 20 * BATCH)? {
            if out.len() >= BATCH {
                break;
            }
            match w.ticket(id)? {
                Some(t) if t.status == status && w.status_since(id)? == Some(since) => {
                    if w.trashed_at(id)?.is_none() {
                        out.push((t, since));
                    }
                }
                _ => w.drop_since_row(status, since, id)?,
            }
        }
        Ok(out)
    }

    /// Runs every time rule once.
    pub fn run_timers(&self) -> Result<TimerReport> {
        let now = self.now();
        let woken = self.store.write(|w| {
            let mut n = 0;
            for id in w.snooze_due(now, BATCH)? {
                let until = w.snoozed_until(id)?.unwrap_or(now);
                let t = match w.ticket(id)? {
                    // In Trash: it wakes once restored (the row stays).
                    Some(_) if w.trashed_at(id)?.is_some() => continue,
                    Some(t) if t.status == Status::Snoozed => t,
                    _ => {
                        w.clear_snooze(id)?;
                        continue;
                    }
                };
                let t = self.system_status(w, &t, Status::Open, format!("the snooze until {} ended", until.short()), now)?;
                self.notify(w, &t, None, Notice::SnoozeEnded { until }, now)?;
                n += 1;
            }
            Ok::<_, DeskError>(n)
        })?;
        let mut report = TimerReport { woken, ..Default::default() };
        let wf = &self.config().workflow;
        if wf.auto_close_days > 0 {
            let days = wf.auto_close_days;
            report.closed = self.store.write(|w| {
                let mut n = 0;
                for (t, _) in Self::due_in_status(w, Status::Resolved, Timestamp(now.0 - days as i64 * DAY_MS))? {
                    self.system_status(w, &t, Status::Closed, format!("resolved {days} days ago with no answer since"), now)?;
                    n += 1;
                }
                Ok::<_, DeskError>(n)
            })?;
        }
        if wf.pending_resolve_days > 0 {
            let days = wf.pending_resolve_days;
            report.resolved = self.store.write(|w| {
                let mut n = 0;
                for (t, _) in Self::due_in_status(w, Status::Pending, Timestamp(now.0 - days as i64 * DAY_MS))? {
                    // A ticket that needs a field before it is resolved waits for an agent.
                    let mut resolved = t.clone();
                    resolved.status = Status::Resolved;
                    if self.check_required_fields(t.status, &resolved).is_err() {
                        continue;
                    }
                    let t = self.system_status(w, &t, Status::Resolved, format!("pending {days} days with no answer"), now)?;
                    self.notify(w, &t, None, Notice::Resolved, now)?;
                    n += 1;
                }
                Ok::<_, DeskError>(n)
            })?;
        }
        if wf.pending_reminder_days > 0 {
            let cutoff = Timestamp(now.0 - wf.pending_reminder_days as i64 * DAY_MS);
            report.reminded = self.store.write(|w| {
                let mut n = 0;
                // Those reminded already stay in the range until they move on.
                for (t, since) in Self::due_in_status(w, Status::Pending, cutoff)? {
                    if w.reminded(t.id, since)? {
                        continue;
                    }
                    self.notify(w, &t, None, Notice::PendingReminder, now)?;
                    w.set_reminded(t.id, since)?;
                    w.append_entry(&mut Self::event(t.id, None, Event::ReminderSent, now))?;
                    n += 1;
                }
                Ok::<_, DeskError>(n)
            })?;
        }
        report.alarms = self.run_clocks()?;
        report.triggered = self.run_time_triggers()?;
        Ok(report)
    }
}
