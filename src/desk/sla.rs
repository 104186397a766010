//! SLA clocks and urgency aging on the desk (issue 14 parts 1, 2, 6): every
//! commit's changes move the clocks of the tickets it touched (the store's
//! pre-commit hook calls `follow_commit`, so no write path can forget it),
//! and the timer (`run_clocks`, part of `run_timers`) raises the warnings,
//! breaches and priority raises that have come due — each once, logged on
//! the ticket by the policy's name and mailed to the policy's audience.
//! Due and warning times are stored with the ticket's clocks: a restart, a
//! reload or another clock source never moves them.

use super::notify::Notice;
use super::{Desk, DeskError, Result};
use crate::config::{Audience, Config};
use crate::domain::sla::{AgingRule, Alarm, Clocks, Happened, Policy, SlaState, SlaTarget};
use std::collections::HashMap;

use crate::domain::{EntryKind, Event, MailKind, Person, PersonId, Status, Ticket, TicketId, Timestamp};
use crate::store::{Appended, Write};

/// The two SLA views of the sidebar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlaView {
    Breaching,
    DueSoon,
}

/// Most tickets one timer run looks at in one transaction.
const BATCH: usize = 200;
const HOUR_MS: i64 = 3_600_000;

/// The urgency aging rule of `cfg`, if on.
fn aging_rule<'a>(cfg: &Config, cal: &'a crate::domain::calendar::Calendar) -> Option<AgingRule<'a>> {
    (cfg.workflow.aging_hours > 0).then(|| AgingRule { after: cfg.workflow.aging_hours as i64 * HOUR_MS, calendar: cal })
}

/// Follows the tickets a commit touched (the pre-commit hook).
pub(super) fn follow_commit(cfg: &Config, w: &mut Write, a: &Appended, now: Timestamp) -> crate::store::Result<()> {
    let aging_cal = cfg.calendar(&cfg.workflow.aging_calendar);
    let aging = aging_rule(cfg, &aging_cal);
    let by_ticket = by_ticket(a);
    let created_now: std::collections::HashSet<TicketId> = a.created.iter().copied().collect();
    for id in touched(a, &by_ticket) {
        let Some(t) = w.ticket(id)? else { continue };
        let old = w.clocks(id)?;
        if old.is_none() && cfg.sla.is_empty() && aging.is_none() {
            continue;
        }
        if w.trashed_at(id)?.is_some() {
            continue;
        }
        let created = created_now.contains(&id);
        let (mut agent_replied, mut customer_wrote) = (None, None);
        for e in by_ticket.get(&id).into_iter().flatten().filter(|e| e.kind == EntryKind::Reply) {
            let Some(author) = e.author else { continue };
            if w.person(author)?.is_some_and(|p| p.is_staff()) {
                agent_replied = agent_replied.or(Some(e.created_at));
            } else {
                customer_wrote = Some(e.created_at);
            }
        }
        let email = w.person(t.requester)?.map(|p| p.email).unwrap_or_default();
        let chosen = cfg.sla_for(&t, &email);
        let answered_before = match chosen {
            Some(_) if !created && old.as_ref().is_none_or(|c| c.sla.is_none()) => answered(w, id)?,
            _ => false,
        };
        let happened =
            Happened { now, created, created_at: t.created_at, agent_replied, customer_wrote, answered_before, status: t.status };
        let cal = chosen.map(|p| cfg.calendar(&p.calendar));
        let paused = |s: Status| chosen.is_some_and(|p| p.pauses_in(s));
        let policy = match (chosen, cal.as_ref()) {
            (Some(p), Some(cal)) => {
                Some(Policy { name: &p.name, targets: p.targets(), warn_percent: p.warn_percent, calendar: cal, paused: &paused })
            }
            _ => None,
        };
        let mut next = old.clone().unwrap_or_default();
        next.follow(policy.as_ref(), aging.as_ref(), &happened, t.priority);
        if old.as_ref() != Some(&next) {
            w.put_clocks(id, old.as_ref(), Some(&next))?;
        }
    }
    Ok(())
}

/// A commit's entries by ticket.
pub(super) fn by_ticket(a: &Appended) -> HashMap<TicketId, Vec<&crate::domain::ThreadEntry>> {
    let mut map: HashMap<TicketId, Vec<&crate::domain::ThreadEntry>> = HashMap::new();
    for e in &a.entries {
        map.entry(e.ticket).or_default().push(e);
    }
    map
}

/// The tickets a commit created or wrote entries on, in id order.
pub(super) fn touched<T>(a: &Appended, by_ticket: &HashMap<TicketId, T>) -> Vec<TicketId> {
    let mut ids: Vec<TicketId> = a.created.iter().chain(by_ticket.keys()).copied().collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Whether an agent ever replied publicly on the ticket.
fn answered(w: &Write, id: TicketId) -> crate::store::Result<bool> {
    for e in w.entries(id)?.iter().filter(|e| e.kind == EntryKind::Reply) {
        if let Some(a) = e.author
            && w.person(a)?.is_some_and(|p| p.is_staff())
        {
            return Ok(true);
        }
    }
    Ok(false)
}

impl Desk {
    /// Raises what has come due: SLA warnings and breaches (each once) and
    /// urgency aging. Returns how many alarms went off.
    pub fn run_clocks(&self) -> Result<usize> {
        let now = self.now();
        let cfg = self.config();
        let aging_cal = cfg.calendar(&cfg.workflow.aging_calendar);
        let aging = aging_rule(&cfg, &aging_cal);
        self.store.write(|w| {
            let mut n = 0;
            let mut looked = 0;
            for (id, at) in w.clocks_waking(now, 20 * BATCH)? {
                if looked >= BATCH {
                    break;
                }
                let Some(t) = w.ticket(id)? else {
                    w.drop_clocks(id, at)?;
                    continue;
                };
                // In Trash: passed over until restored.
                if w.trashed_at(id)?.is_some() {
                    continue;
                }
                looked += 1;
                let old = w.clocks(id)?;
                let mut next = old.clone().unwrap_or_default();
                let active = matches!(t.status, Status::Open | Status::InProgress);
                let alarms = next.wake_at(now, t.priority, aging.as_ref(), active);
                w.put_clocks(id, old.as_ref(), Some(&next))?;
                for alarm in alarms {
                    self.sound(w, &cfg, &t, next.sla.as_ref(), alarm, now)?;
                    n += 1;
                }
            }
            Ok::<_, DeskError>(n)
        })
    }

    /// Logs one alarm on the ticket and tells who the policy names.
    fn sound(&self, w: &mut Write, cfg: &Config, t: &Ticket, sla: Option<&SlaState>, alarm: Alarm, now: Timestamp) -> Result<()> {
        let policy = sla.map(|s| s.policy.clone()).unwrap_or_default();
        let audience = cfg.sla_named(&policy).map_or(Audience::AssigneeOrMembers, |p| p.notify);
        let (kind, event, what) = match alarm {
            Alarm::Warning { target, due } => (
                MailKind::SlaWarning,
                Event::SlaWarning { policy, target: target.label().into(), due: due.short() },
                format!("{} (due {} UTC)", target.label(), due.short()),
            ),
            Alarm::Breach { target, due } => (
                MailKind::SlaBreached,
                Event::SlaBreached { policy, target: target.label().into(), due: due.short() },
                format!("{} (due {} UTC)", target.label(), due.short()),
            ),
            Alarm::Aged { to } => {
                let mut raised = t.clone();
                raised.priority = to;
                raised.updated_at = now;
                let changed = Event::FieldChanged { field: "priority".into(), from: t.priority.label().into(), to: to.label().into() };
                let why = format!("no answer for {} business hours", cfg.workflow.aging_hours);
                w.append_entry(&mut Self::event(t.id, None, Event::Because { event: Box::new(changed), reason: why }, now))?;
                w.put_ticket(Some(t), &raised)?;
                return Ok(());
            }
        };
        w.append_entry(&mut Self::event(t.id, None, event, now))?;
        self.notify(w, t, None, Notice::Sla { kind, what, audience }, now)
    }

    /// A ticket's SLA (none: no policy covers it).
    pub fn sla_of(&self, id: TicketId) -> Result<Option<SlaState>> {
        Ok(self.store.read()?.clocks(id)?.and_then(|c| c.sla))
    }

    /// Business time left on a running target (negative: overdue).
    pub fn sla_left(&self, sla: &SlaState, target: SlaTarget) -> Option<i64> {
        let cfg = self.config();
        let cal = cfg.calendar(&cfg.sla_named(&sla.policy)?.calendar);
        sla.clock(target).filter(|c| c.met_at.is_none()).map(|c| c.left(self.now(), &cal))
    }

    /// The tickets of an SLA view the actor may see, soonest due first:
    /// overdue now ("SLA breaching"), or due within
    /// `workflow.due_soon_minutes` ("Due soon").
    pub fn sla_view(&self, actor: &Person, view: SlaView, max: usize) -> Result<(Vec<Ticket>, HashMap<PersonId, Person>)> {
        let now = self.now();
        let (from, to) = match view {
            SlaView::Breaching => (Timestamp(i64::MIN), now),
            SlaView::DueSoon => (Timestamp(now.0 + 1), Timestamp(now.0 + self.config().workflow.due_soon_minutes as i64 * 60_000)),
        };
        let mut ids = Vec::new();
        {
            let r = self.store.read()?;
            for (id, _) in r.sla_due_between(from, to, max)? {
                if r.trashed_at(id)?.is_none() {
                    ids.push(id);
                }
            }
        }
        self.tickets_by_ids(actor, &ids)
    }

    /// Clocks of many tickets at once (the queue's SLA column).
    pub fn clocks_of(&self, ids: &[TicketId]) -> Result<Vec<Option<Clocks>>> {
        let r = self.store.read()?;
        ids.iter().map(|id| Ok(r.clocks(*id)?)).collect()
    }
}

/// A ticket's SLA as the API and webhooks give it: the policy, each running
/// target's due time (RFC 3339; null once met, paused or absent), the
/// targets that fell due unmet, and every target's detail.
pub fn sla_json(cfg: &Config, sla: &SlaState, now: Timestamp) -> serde_json::Value {
    let cal = cfg.sla_named(&sla.policy).map(|p| cfg.calendar(&p.calendar));
    let due = |t: SlaTarget| sla.clock(t).and_then(|c| c.due.filter(|_| c.met_at.is_none())).map(|d| d.rfc3339());
    let at = |v: Option<Timestamp>| v.map(|d| d.rfc3339());
    let targets: Vec<serde_json::Value> = SlaTarget::ALL
        .into_iter()
        .filter_map(|t| sla.clock(t).map(|c| (t, c)))
        .map(|(t, c)| {
            let left = cal.as_ref().filter(|_| c.met_at.is_none()).map(|cal| c.left(now, cal) / 60_000);
            serde_json::json!({
                "target": t.key(),
                "minutes": c.budget / 60_000,
                "running": c.running(),
                "due": at(c.due),
                "business_minutes_left": left,
                "met_at": at(c.met_at),
                "breached_at": at(c.breached_at),
            })
        })
        .collect();
    serde_json::json!({
        "policy": sla.policy,
        "first_response_due": due(SlaTarget::FirstResponse),
        "next_response_due": due(SlaTarget::NextResponse),
        "resolution_due": due(SlaTarget::Resolution),
        "breached": sla.breached().iter().map(|t| t.key()).collect::<Vec<_>>(),
        "targets": targets,
    })
}
