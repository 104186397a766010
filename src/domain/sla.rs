//! SLA clocks and urgency aging of one ticket: each target (first response,
//! next response, resolution) is a clock of business time that runs, pauses
//! and stops as the ticket moves, with its due and warning instants kept
//! (stored, so they survive restarts and do not move when a clock or config
//! changes later). `Clocks::follow` turns what a commit did to a ticket into
//! clock changes; `Clocks::wake` is what the timer does when a warning or a
//! due time comes. Pure: calendars and policies come from the caller.

use serde::{Deserialize, Serialize};

use super::calendar::Calendar;
use super::ticket::{Priority, Status};
use super::time::Timestamp;

/// The three targets of a policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SlaTarget {
    FirstResponse,
    NextResponse,
    Resolution,
}

impl SlaTarget {
    pub const ALL: [SlaTarget; 3] = [SlaTarget::FirstResponse, SlaTarget::NextResponse, SlaTarget::Resolution];

    /// The stable name (API, search, config keys).
    pub fn key(self) -> &'static str {
        match self {
            SlaTarget::FirstResponse => "first_response",
            SlaTarget::NextResponse => "next_response",
            SlaTarget::Resolution => "resolution",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SlaTarget::FirstResponse => "first response",
            SlaTarget::NextResponse => "next response",
            SlaTarget::Resolution => "resolution",
        }
    }
}

/// One target's clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clock {
    /// Business milliseconds the target allows.
    pub budget: i64,
    /// Business milliseconds spent before the current run.
    pub spent: i64,
    /// Since when it runs; `None` while paused or stopped.
    pub running_since: Option<Timestamp>,
    /// When it falls due, while it runs.
    pub due: Option<Timestamp>,
    /// When the warning goes out, while it runs and has not warned.
    pub warn_at: Option<Timestamp>,
    /// When the target was met (the answer, or Resolved).
    pub met_at: Option<Timestamp>,
    pub warned: bool,
    /// When it fell due unmet.
    pub breached_at: Option<Timestamp>,
}

/// A policy's settings as the clocks need them.
pub struct Policy<'a> {
    pub name: &'a str,
    /// Budgets in business milliseconds, in `SlaTarget::ALL` order.
    pub targets: [Option<i64>; 3],
    pub warn_percent: u8,
    pub calendar: &'a Calendar,
    /// States in which the clocks stop.
    pub paused: &'a dyn Fn(Status) -> bool,
}

impl Clock {
    fn new(budget: i64) -> Clock {
        Clock { budget, spent: 0, running_since: None, due: None, warn_at: None, met_at: None, warned: false, breached_at: None }
    }

    pub fn running(&self) -> bool {
        self.running_since.is_some()
    }

    /// Business time left at `now` (negative once overdue).
    pub fn left(&self, now: Timestamp, cal: &Calendar) -> i64 {
        let run = self.running_since.map_or(0, |s| cal.between(s, now));
        self.budget - self.spent - run
    }

    fn schedule(&mut self, cal: &Calendar, warn_percent: u8) {
        match self.running_since {
            Some(since) => {
                self.due = Some(cal.add(since, self.budget - self.spent));
                let warn_spent = self.budget * warn_percent as i64 / 100;
                self.warn_at = (!self.warned).then(|| cal.add(since, warn_spent - self.spent));
            }
            None => {
                self.due = None;
                self.warn_at = None;
            }
        }
    }

    fn run(&mut self, now: Timestamp, cal: &Calendar, warn_percent: u8) {
        if self.running_since.is_none() && self.met_at.is_none() {
            self.running_since = Some(now);
            self.schedule(cal, warn_percent);
        }
    }

    fn pause(&mut self, now: Timestamp, cal: &Calendar) {
        if let Some(since) = self.running_since.take() {
            self.spent += cal.between(since, now);
            self.due = None;
            self.warn_at = None;
        }
    }

    fn meet(&mut self, now: Timestamp, cal: &Calendar) {
        if self.met_at.is_none() {
            self.pause(now, cal);
            self.met_at = Some(now);
        }
    }
}

/// What happened to a ticket in one commit, as the clocks see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Happened {
    pub now: Timestamp,
    /// Stored for the first time now.
    pub created: bool,
    pub created_at: Timestamp,
    /// The first public agent reply of the commit.
    pub agent_replied: Option<Timestamp>,
    /// The last customer message of the commit (the first one of a new
    /// ticket included).
    pub customer_wrote: Option<Timestamp>,
    /// Whether an agent ever replied publicly (for a ticket that comes
    /// under a policy late).
    pub answered_before: bool,
    pub status: Status,
}

/// Something the timer found due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alarm {
    Warning {
        target: SlaTarget,
        due: Timestamp,
    },
    Breach {
        target: SlaTarget,
        due: Timestamp,
    },
    /// Urgency aging raises the priority.
    Aged {
        to: Priority,
    },
}

/// The SLA of a ticket under a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaState {
    pub policy: String,
    /// In `SlaTarget::ALL` order.
    pub clocks: [Option<Clock>; 3],
}

/// Urgency aging of a ticket: how long the customer has waited for an answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Aging {
    /// Since when the customer waits for an agent's answer.
    pub waiting_since: Option<Timestamp>,
    /// Raises so far in this wait.
    pub raises: u8,
    /// When the next raise is due.
    pub next: Option<Timestamp>,
}

/// Every clock of a ticket (one stored record).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Clocks {
    pub sla: Option<SlaState>,
    pub aging: Aging,
}

/// Urgency aging's settings: business milliseconds a raise waits, on a calendar.
pub struct AgingRule<'a> {
    pub after: i64,
    pub calendar: &'a Calendar,
}

impl SlaState {
    pub fn clock(&self, target: SlaTarget) -> Option<&Clock> {
        self.clocks[target as usize].as_ref()
    }

    /// Targets that fell due unmet.
    pub fn breached(&self) -> Vec<SlaTarget> {
        SlaTarget::ALL.into_iter().filter(|t| self.clock(*t).is_some_and(|c| c.breached_at.is_some())).collect()
    }

    /// Whether a target is overdue and still unmet.
    pub fn breaching(&self) -> bool {
        self.clocks.iter().flatten().any(|c| c.breached_at.is_some() && c.met_at.is_none())
    }
}

impl Clocks {
    /// The earliest due time of a running clock: the ticket's place in the
    /// "Due soon" and "SLA breaching" views.
    pub fn due(&self) -> Option<Timestamp> {
        self.sla.as_ref()?.clocks.iter().flatten().filter_map(|c| c.due.filter(|_| c.met_at.is_none())).min()
    }

    /// When the timer must look at this ticket next.
    pub fn wake(&self) -> Option<Timestamp> {
        let sla = self.sla.iter().flat_map(|s| s.clocks.iter().flatten()).filter(|c| c.met_at.is_none()).flat_map(|c| {
            let warn = c.warn_at.filter(|_| !c.warned);
            let due = c.due.filter(|_| c.breached_at.is_none());
            [warn, due]
        });
        sla.chain([self.aging.next]).flatten().min()
    }

    /// Follows one commit's changes of a ticket under `policy` (none: the
    /// ticket has no SLA now) and `aging` (none: off).
    pub fn follow(&mut self, policy: Option<&Policy>, aging: Option<&AgingRule>, h: &Happened, priority: Priority) {
        self.follow_aging(aging, h, priority);
        let Some(p) = policy else {
            self.sla = None;
            return;
        };
        let cal = p.calendar;
        let fresh = self.sla.is_none();
        let s = self.sla.get_or_insert_with(|| SlaState { policy: p.name.to_string(), clocks: [None, None, None] });
        s.policy = p.name.to_string();
        for (i, target) in SlaTarget::ALL.into_iter().enumerate() {
            match (p.targets[i], s.clocks[i].as_mut()) {
                (None, _) => s.clocks[i] = None,
                (Some(b), Some(c)) if c.budget != b => {
                    // A new budget (priority or policy changed): the time
                    // already spent counts against it.
                    let running = c.running();
                    c.pause(h.now, cal);
                    c.budget = b;
                    if running {
                        c.run(h.now, cal, p.warn_percent);
                    }
                }
                (Some(_), Some(_)) => {}
                (Some(b), None) if target != SlaTarget::NextResponse && (fresh || h.created) => {
                    // Counted from creation, also for a ticket that comes
                    // under a policy later.
                    let mut c = Clock::new(b);
                    c.spent = cal.between(h.created_at, h.now);
                    if target == SlaTarget::FirstResponse && h.answered_before && !h.created {
                        c.met_at = Some(h.now);
                    }
                    s.clocks[i] = Some(c);
                }
                (Some(_), None) => {}
            }
        }
        let [first, next, resolution] = &mut s.clocks;
        if let Some(at) = h.agent_replied {
            for c in [first.as_mut(), next.as_mut()].into_iter().flatten() {
                c.meet(at, cal);
            }
        }
        let first_done = first.as_ref().is_none_or(|c| c.met_at.is_some());
        if let Some(at) = h.customer_wrote.filter(|_| !h.created && first_done)
            && let Some(budget) = p.targets[SlaTarget::NextResponse as usize]
            && next.as_ref().is_none_or(|c| c.met_at.is_some())
        {
            // A new wait for an answer: a fresh clock from this message.
            let mut c = Clock::new(budget);
            c.spent = cal.between(at, h.now);
            *next = Some(c);
        }
        let ended = matches!(h.status, Status::Resolved | Status::Closed);
        if let Some(r) = resolution.as_mut() {
            if ended {
                r.meet(h.now, cal);
            } else if r.met_at.is_some() {
                // Reopened: the resolution clock goes on from where it stopped.
                r.met_at = None;
            }
        }
        let stopped = ended || (p.paused)(h.status);
        for c in s.clocks.iter_mut().flatten() {
            if stopped {
                c.pause(h.now, cal);
            } else {
                c.run(h.now, cal, p.warn_percent);
            }
        }
    }

    fn follow_aging(&mut self, rule: Option<&AgingRule>, h: &Happened, priority: Priority) {
        let a = &mut self.aging;
        if h.agent_replied.is_some() {
            *a = Aging::default();
        }
        if let Some(at) = h.customer_wrote
            && a.waiting_since.is_none()
        {
            a.waiting_since = Some(at);
            a.raises = 0;
        }
        a.next = match (rule, a.waiting_since) {
            (Some(r), Some(since)) if matches!(h.status, Status::Open | Status::InProgress) && priority != Priority::Urgent => {
                Some(r.calendar.add(since, r.after.saturating_mul(a.raises as i64 + 1)))
            }
            _ => None,
        };
    }

    /// What is due at `now`, marked as done here (each warning and breach
    /// once). `priority` is the ticket's now; `active` whether aging still
    /// applies to it.
    pub fn wake_at(&mut self, now: Timestamp, priority: Priority, aging: Option<&AgingRule>, active: bool) -> Vec<Alarm> {
        let mut out = Vec::new();
        if let Some(s) = self.sla.as_mut() {
            for (i, c) in s.clocks.iter_mut().enumerate() {
                let Some(c) = c.as_mut().filter(|c| c.met_at.is_none()) else { continue };
                let target = SlaTarget::ALL[i];
                if let (Some(due), None) = (c.due, c.breached_at)
                    && due <= now
                {
                    c.breached_at = Some(due);
                    c.warned = true;
                    c.warn_at = None;
                    out.push(Alarm::Breach { target, due });
                } else if let (Some(w), false, Some(due)) = (c.warn_at, c.warned, c.due)
                    && w <= now
                {
                    c.warned = true;
                    c.warn_at = None;
                    out.push(Alarm::Warning { target, due });
                }
            }
        }
        if let Some(next) = self.aging.next.filter(|n| *n <= now) {
            let raised = match priority {
                Priority::Low => Some(Priority::Medium),
                Priority::Medium => Some(Priority::High),
                Priority::High => Some(Priority::Urgent),
                Priority::Urgent => None,
            };
            self.aging.next = None;
            if let (Some(to), true, Some(rule)) = (raised, active, aging) {
                self.aging.raises = self.aging.raises.saturating_add(1);
                out.push(Alarm::Aged { to });
                if to != Priority::Urgent
                    && let Some(since) = self.aging.waiting_since
                {
                    self.aging.next = Some(rule.calendar.add(since, rule.after.saturating_mul(self.aging.raises as i64 + 1)).max(next));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;
    const M: i64 = 60_000;

    fn pending(s: Status) -> bool {
        matches!(s, Status::Pending | Status::OnHold)
    }

    fn policy(cal: &Calendar) -> Policy<'_> {
        Policy { name: "Std", targets: [Some(H), Some(2 * H), Some(8 * H)], warn_percent: 75, calendar: cal, paused: &pending }
    }

    fn at(ms: i64) -> Timestamp {
        Timestamp(ms)
    }

    fn step(now: i64, status: Status) -> Happened {
        Happened {
            now: at(now),
            created: false,
            created_at: at(0),
            agent_replied: None,
            customer_wrote: None,
            answered_before: false,
            status,
        }
    }

    #[test]
    fn a_ticket_runs_pauses_and_meets_its_targets() {
        let cal = Calendar::always();
        let p = policy(&cal);
        let mut c = Clocks::default();
        c.follow(Some(&p), None, &Happened { created: true, customer_wrote: Some(at(0)), ..step(0, Status::Open) }, Priority::Medium);
        let s = c.sla.clone().unwrap();
        assert_eq!(s.clock(SlaTarget::FirstResponse).unwrap().due, Some(at(H)));
        assert_eq!(s.clock(SlaTarget::FirstResponse).unwrap().warn_at, Some(at(45 * M)));
        assert!(s.clock(SlaTarget::NextResponse).is_none(), "no next response before a later message");
        assert_eq!(c.wake(), Some(at(45 * M)));
        // The warning once, then the breach once.
        assert_eq!(
            c.wake_at(at(50 * M), Priority::Medium, None, true),
            vec![Alarm::Warning { target: SlaTarget::FirstResponse, due: at(H) }]
        );
        assert!(c.wake_at(at(55 * M), Priority::Medium, None, true).is_empty());
        assert_eq!(
            c.wake_at(at(H + 1), Priority::Medium, None, true),
            vec![Alarm::Breach { target: SlaTarget::FirstResponse, due: at(H) }]
        );
        assert!(c.wake_at(at(H + 2), Priority::Medium, None, true).is_empty());
        assert!(c.sla.as_ref().unwrap().breaching());
        // The agent answers at 1.5 h and sets Pending: the resolution clock stops.
        c.follow(Some(&p), None, &Happened { agent_replied: Some(at(90 * M)), ..step(90 * M, Status::Pending) }, Priority::Medium);
        let s = c.sla.clone().unwrap();
        assert_eq!(s.clock(SlaTarget::FirstResponse).unwrap().met_at, Some(at(90 * M)));
        assert!(!s.breaching());
        assert_eq!(s.breached(), vec![SlaTarget::FirstResponse]);
        let r = s.clock(SlaTarget::Resolution).unwrap();
        assert_eq!((r.spent, r.due), (90 * M, None));
        // The customer answers three hours later: Open, resolution resumes, a next-response clock starts.
        c.follow(Some(&p), None, &Happened { customer_wrote: Some(at(270 * M)), ..step(270 * M, Status::Open) }, Priority::Medium);
        let s = c.sla.clone().unwrap();
        assert_eq!(s.clock(SlaTarget::Resolution).unwrap().due, Some(at(270 * M + 8 * H - 90 * M)));
        assert_eq!(s.clock(SlaTarget::NextResponse).unwrap().due, Some(at(270 * M + 2 * H)));
        // Resolved: every clock stops; reopened, resolution goes on.
        c.follow(Some(&p), None, &step(300 * M, Status::Resolved), Priority::Medium);
        assert_eq!(c.due(), None);
        assert_eq!(c.wake(), None);
        c.follow(Some(&p), None, &step(400 * M, Status::Open), Priority::Medium);
        let r = c.sla.as_ref().unwrap().clock(SlaTarget::Resolution).unwrap().clone();
        assert_eq!((r.spent, r.met_at, r.due), (120 * M, None, Some(at(400 * M + 8 * H - 120 * M))));
    }

    #[test]
    fn a_new_budget_counts_the_time_spent() {
        let cal = Calendar::always();
        let mut c = Clocks::default();
        c.follow(Some(&policy(&cal)), None, &Happened { created: true, ..step(0, Status::Open) }, Priority::Medium);
        let urgent = Policy { name: "Urgent", targets: [Some(30 * M), None, Some(2 * H)], ..policy(&cal) };
        c.follow(Some(&urgent), None, &step(10 * M, Status::Open), Priority::Urgent);
        let s = c.sla.clone().unwrap();
        assert_eq!(s.policy, "Urgent");
        assert_eq!(s.clock(SlaTarget::FirstResponse).unwrap().due, Some(at(30 * M)));
        assert_eq!(s.clock(SlaTarget::Resolution).unwrap().due, Some(at(2 * H)));
        c.follow(None, None, &step(11 * M, Status::Open), Priority::Low);
        assert_eq!(c.sla, None);
    }

    #[test]
    fn aging_raises_one_step_per_period_until_urgent() {
        let cal = Calendar::always();
        let rule = AgingRule { after: 4 * H, calendar: &cal };
        let mut c = Clocks::default();
        c.follow(None, Some(&rule), &Happened { created: true, customer_wrote: Some(at(0)), ..step(0, Status::Open) }, Priority::Low);
        assert_eq!(c.wake(), Some(at(4 * H)));
        assert_eq!(c.wake_at(at(4 * H), Priority::Low, Some(&rule), true), vec![Alarm::Aged { to: Priority::Medium }]);
        assert_eq!(c.wake(), Some(at(8 * H)));
        assert_eq!(c.wake_at(at(8 * H), Priority::Medium, Some(&rule), true), vec![Alarm::Aged { to: Priority::High }]);
        assert_eq!(c.wake_at(at(12 * H), Priority::High, Some(&rule), true), vec![Alarm::Aged { to: Priority::Urgent }]);
        assert_eq!(c.wake(), None);
        // An answer ends the wait.
        let mut c = Clocks::default();
        c.follow(None, Some(&rule), &Happened { created: true, customer_wrote: Some(at(0)), ..step(0, Status::Open) }, Priority::Low);
        c.follow(None, Some(&rule), &Happened { agent_replied: Some(at(H)), ..step(H, Status::Pending) }, Priority::Low);
        assert_eq!(c.wake(), None);
    }
}
