//! Reports (issue 16 part 6): the facts a report is made of, one per ticket
//! (kept by the store in the same commit as the ticket, `store::reports`),
//! and the pure aggregation of a date range of them into counts per day or
//! week, the backlog by age, first-response and resolution times (p50/p90,
//! calendar and business time) and SLA compliance, overall and per agent,
//! department, channel or category.
//!
//! What each number means (the page says the same):
//! - *created*: tickets created in the range;
//! - *resolved*: tickets whose latest resolution (Resolved or Closed) falls
//!   in the range and that are still resolved — a reopened ticket counts
//!   again when it is resolved again;
//! - *first response*: from creation to the first public agent reply, for
//!   the tickets created in the range; *resolution*: from creation to the
//!   resolution, for the tickets resolved in the range;
//! - *business time*: what the ticket's SLA clock counted (its calendar, no
//!   time in paused states), for tickets under a policy;
//! - *SLA compliance*: of the targets decided (met or breached), the share
//!   met in time — first response for the tickets created in the range,
//!   resolution for the tickets resolved in it;
//! - *backlog*: tickets not resolved now, by age since creation.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::ids::{PersonId, TicketId};
use super::ticket::{Channel, Priority};
use super::time::Timestamp;

/// What became of one SLA target of a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlaOutcome {
    /// No policy or no such target.
    None,
    /// Running or paused, not yet decided.
    Running,
    /// Met before its due time.
    Met,
    /// Fell due unmet (whether or not it was met later).
    Breached,
}

impl SlaOutcome {
    pub const ALL: [SlaOutcome; 4] = [SlaOutcome::None, SlaOutcome::Running, SlaOutcome::Met, SlaOutcome::Breached];

    pub fn index(self) -> u8 {
        self as u8
    }

    pub fn from_index(i: u8) -> Option<SlaOutcome> {
        Self::ALL.get(i as usize).copied()
    }
}

/// One ticket as reports see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact<'a> {
    pub ticket: TicketId,
    pub created_at: Timestamp,
    pub first_response_at: Option<Timestamp>,
    /// When it was last resolved, while it stays resolved or closed.
    pub resolved_at: Option<Timestamp>,
    /// Business milliseconds to the first response (SLA clock), once met.
    pub first_response_business: Option<i64>,
    /// Business milliseconds to the resolution (SLA clock), once met.
    pub resolution_business: Option<i64>,
    pub assignee: Option<PersonId>,
    pub channel: Channel,
    pub priority: Priority,
    pub sla_first: SlaOutcome,
    pub sla_resolution: SlaOutcome,
    pub department: &'a str,
    pub category: &'a str,
}

/// Buckets of the created/resolved chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grain {
    Day,
    Week,
}

impl Grain {
    pub fn key(self) -> &'static str {
        match self {
            Grain::Day => "day",
            Grain::Week => "week",
        }
    }

    pub fn parse(s: &str) -> Option<Grain> {
        match s.trim() {
            "day" => Some(Grain::Day),
            "week" => Some(Grain::Week),
            _ => None,
        }
    }
}

/// The dimension of the breakdown table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Agent,
    Department,
    Channel,
    Category,
}

impl GroupBy {
    pub const ALL: [GroupBy; 4] = [GroupBy::Agent, GroupBy::Department, GroupBy::Channel, GroupBy::Category];

    pub fn key(self) -> &'static str {
        match self {
            GroupBy::Agent => "agent",
            GroupBy::Department => "department",
            GroupBy::Channel => "channel",
            GroupBy::Category => "category",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            GroupBy::Agent => "Agent",
            GroupBy::Department => "Department",
            GroupBy::Channel => "Channel",
            GroupBy::Category => "Category",
        }
    }

    pub fn parse(s: &str) -> Option<GroupBy> {
        Self::ALL.into_iter().find(|g| g.key() == s.trim())
    }
}

/// Whose tickets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentFilter {
    Unassigned,
    Agent(PersonId),
}

/// Which tickets a report counts, and how it groups them.
#[derive(Debug, Clone)]
pub struct Filter {
    /// Start of the range (inclusive).
    pub from: Timestamp,
    /// End of the range (exclusive).
    pub to: Timestamp,
    pub department: Option<String>,
    pub agent: Option<AgentFilter>,
    pub channel: Option<Channel>,
    pub category: Option<String>,
    /// The viewer's departments when they are limited to some.
    pub walls: Option<Vec<String>>,
    pub group_by: GroupBy,
}

impl Filter {
    /// Whether a fact passes the dimension filters (not the range).
    pub fn admits(&self, f: &Fact) -> bool {
        let eq = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
        self.department.as_deref().is_none_or(|d| eq(d, f.department))
            && self.category.as_deref().is_none_or(|c| eq(c, f.category))
            && self.channel.is_none_or(|c| c == f.channel)
            && self.agent.is_none_or(|a| match a {
                AgentFilter::Unassigned => f.assignee.is_none(),
                AgentFilter::Agent(p) => f.assignee == Some(p),
            })
            && self.walls.as_ref().is_none_or(|w| w.iter().any(|d| eq(d, f.department)))
    }
}

/// The ages of the backlog chart: (label, up to this many hours; the last
/// has no end).
pub const AGES: [(&str, i64); 5] =
    [("under 1 day", 24), ("1–3 days", 72), ("3–7 days", 168), ("1–4 weeks", 672), ("over 4 weeks", i64::MAX)];

const HOUR_MS: i64 = 3_600_000;

/// A hasher for the breakdown's agent ids (small integers, from the store,
/// not chosen by outsiders): one multiply instead of SipHash per fact.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(5) ^ *b as u64).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

/// The key of a breakdown row.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GroupKey {
    Unassigned,
    Agent(PersonId),
    Named(String),
}

/// p50 and p90 of a set of durations (milliseconds).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Times {
    pub count: usize,
    pub p50: Option<i64>,
    pub p90: Option<i64>,
}

impl Times {
    /// Nearest-rank percentiles (the p-th is the smallest value with at
    /// least p % of the values at or below it).
    pub fn of(mut v: Vec<i64>) -> Times {
        let n = v.len();
        if n == 0 {
            return Times::default();
        }
        let rank = |p: usize| (n * p).div_ceil(100).max(1) - 1;
        // Linear-time selection: the p90 first, then the p50 below it.
        let (below, p90, _) = v.select_nth_unstable(rank(90));
        let p90 = *p90;
        let p50 = if rank(50) < below.len() { *below.select_nth_unstable(rank(50)).1 } else { p90 };
        Times { count: n, p50: Some(p50), p90: Some(p90) }
    }
}

/// Met and breached targets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Compliance {
    pub met: u64,
    pub breached: u64,
}

impl Compliance {
    fn add(&mut self, o: SlaOutcome) {
        match o {
            SlaOutcome::Met => self.met += 1,
            SlaOutcome::Breached => self.breached += 1,
            SlaOutcome::None | SlaOutcome::Running => {}
        }
    }

    /// Per cent met, when any target was decided.
    pub fn percent(&self) -> Option<f64> {
        let n = self.met + self.breached;
        (n > 0).then(|| self.met as f64 * 100.0 / n as f64)
    }
}

/// One row of the breakdown.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupRow {
    pub key: GroupKey,
    pub created: u64,
    pub resolved: u64,
    pub open: u64,
    pub first_response: Times,
    pub resolution: Times,
    pub sla: Compliance,
}

/// A finished report.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Per bucket start: (created, resolved).
    pub buckets: Vec<(Timestamp, u64, u64)>,
    /// Tickets per `AGES` entry.
    pub backlog: [u64; AGES.len()],
    pub created: u64,
    pub resolved: u64,
    pub open: u64,
    /// Tickets created in the range still without a first response.
    pub unanswered: u64,
    pub first_response: Times,
    pub first_response_business: Times,
    pub resolution: Times,
    pub resolution_business: Times,
    pub sla_first: Compliance,
    pub sla_resolution: Compliance,
    /// Most created first.
    pub groups: Vec<GroupRow>,
}

#[derive(Default)]
struct Acc {
    created: u64,
    resolved: u64,
    open: u64,
    first: Vec<i64>,
    resolution: Vec<i64>,
    sla: Compliance,
}

impl Acc {
    fn add(&mut self, o: Acc) {
        self.created += o.created;
        self.resolved += o.resolved;
        self.open += o.open;
        self.first.extend(o.first);
        self.resolution.extend(o.resolution);
        self.sla.met += o.sla.met;
        self.sla.breached += o.sla.breached;
    }
}

/// Folds the three streams of facts into a report: `created` with the
/// facts created in the range, `resolved` with those resolved in it, `open`
/// with the unresolved ones. Facts outside the filter are passed over here.
pub struct Aggregator {
    filter: Filter,
    /// Bucket starts, ascending; the first is `filter.from`.
    starts: Vec<Timestamp>,
    now: Timestamp,
    counts: Vec<(u64, u64)>,
    backlog: [u64; AGES.len()],
    first: Vec<i64>,
    first_business: Vec<i64>,
    resolution: Vec<i64>,
    resolution_business: Vec<i64>,
    sla_first: Compliance,
    sla_resolution: Compliance,
    unanswered: u64,
    by_agent: IdMap<Option<PersonId>, Acc>,
    /// Named rows, and where each name's row is.
    named: Vec<(String, Acc)>,
    by_name: HashMap<String, usize>,
}

impl Aggregator {
    /// `starts`: the bucket boundaries (ascending, the first at or before
    /// `filter.from`); `now` dates the backlog.
    pub fn new(filter: Filter, starts: Vec<Timestamp>, now: Timestamp) -> Aggregator {
        let counts = vec![(0, 0); starts.len()];
        Aggregator {
            filter,
            starts,
            now,
            counts,
            backlog: [0; AGES.len()],
            first: Vec::new(),
            first_business: Vec::new(),
            resolution: Vec::new(),
            resolution_business: Vec::new(),
            sla_first: Compliance::default(),
            sla_resolution: Compliance::default(),
            unanswered: 0,
            by_agent: IdMap::default(),
            named: Vec::new(),
            by_name: HashMap::new(),
        }
    }

    pub fn filter(&self) -> &Filter {
        &self.filter
    }

    fn bucket(&self, at: Timestamp) -> Option<usize> {
        if at < self.filter.from || at >= self.filter.to {
            return None;
        }
        self.starts.partition_point(|s| *s <= at).checked_sub(1)
    }

    /// The breakdown row of a fact (a name is copied only for a new row).
    fn group(&mut self, f: &Fact) -> &mut Acc {
        let name = match self.filter.group_by {
            GroupBy::Agent => return self.by_agent.entry(f.assignee).or_default(),
            GroupBy::Department => f.department,
            GroupBy::Channel => f.channel.label(),
            GroupBy::Category => f.category,
        };
        let i = match self.by_name.get(name) {
            Some(i) => *i,
            None => {
                self.named.push((name.to_string(), Acc::default()));
                self.by_name.insert(name.to_string(), self.named.len() - 1);
                self.named.len() - 1
            }
        };
        &mut self.named[i].1
    }

    /// A fact created in the range.
    pub fn created(&mut self, f: &Fact) {
        let Some(b) = self.bucket(f.created_at).filter(|_| self.filter.admits(f)) else { return };
        self.counts[b].0 += 1;
        let took = f.first_response_at.map(|r| (r.0 - f.created_at.0).max(0));
        match took {
            Some(ms) => self.first.push(ms),
            None => self.unanswered += 1,
        }
        if let Some(ms) = f.first_response_business {
            self.first_business.push(ms);
        }
        self.sla_first.add(f.sla_first);
        let g = self.group(f);
        g.created += 1;
        if let Some(ms) = took {
            g.first.push(ms);
        }
        g.sla.add(f.sla_first);
    }

    /// A fact resolved in the range.
    pub fn resolved(&mut self, f: &Fact) {
        let Some(at) = f.resolved_at else { return };
        let Some(b) = self.bucket(at).filter(|_| self.filter.admits(f)) else { return };
        self.counts[b].1 += 1;
        let took = (at.0 - f.created_at.0).max(0);
        self.resolution.push(took);
        if let Some(ms) = f.resolution_business {
            self.resolution_business.push(ms);
        }
        self.sla_resolution.add(f.sla_resolution);
        let g = self.group(f);
        g.resolved += 1;
        g.resolution.push(took);
        g.sla.add(f.sla_resolution);
    }

    /// A fact not resolved now.
    pub fn open(&mut self, f: &Fact) {
        if f.resolved_at.is_some() || !self.filter.admits(f) {
            return;
        }
        let hours = (self.now.0 - f.created_at.0).max(0) / HOUR_MS;
        let i = AGES.iter().position(|(_, upto)| hours < *upto).unwrap_or(AGES.len() - 1);
        self.backlog[i] += 1;
        self.group(f).open += 1;
    }

    /// Adds what another aggregator of the same filter and buckets counted
    /// (the scans run on two threads).
    pub fn absorb(&mut self, o: Aggregator) {
        for (a, b) in self.counts.iter_mut().zip(&o.counts) {
            a.0 += b.0;
            a.1 += b.1;
        }
        for (a, b) in self.backlog.iter_mut().zip(o.backlog) {
            *a += b;
        }
        self.first.extend(o.first);
        self.first_business.extend(o.first_business);
        self.resolution.extend(o.resolution);
        self.resolution_business.extend(o.resolution_business);
        self.unanswered += o.unanswered;
        for (x, y) in [(&mut self.sla_first, o.sla_first), (&mut self.sla_resolution, o.sla_resolution)] {
            x.met += y.met;
            x.breached += y.breached;
        }
        for (k, acc) in o.by_agent {
            self.by_agent.entry(k).or_default().add(acc);
        }
        for (name, acc) in o.named {
            let i = match self.by_name.get(name.as_str()) {
                Some(i) => *i,
                None => {
                    self.named.push((name.clone(), Acc::default()));
                    self.by_name.insert(name, self.named.len() - 1);
                    self.named.len() - 1
                }
            };
            self.named[i].1.add(acc);
        }
    }

    pub fn finish(self) -> Report {
        let buckets = self.starts.iter().zip(&self.counts).map(|(s, (c, r))| (*s, *c, *r)).collect();
        let created = self.counts.iter().map(|c| c.0).sum();
        let resolved = self.counts.iter().map(|c| c.1).sum();
        let agents = self.by_agent.into_iter().map(|(a, acc)| (a.map_or(GroupKey::Unassigned, GroupKey::Agent), acc));
        let names = self.named.into_iter().map(|(n, acc)| (GroupKey::Named(n), acc));
        let mut groups: Vec<GroupRow> = agents
            .chain(names)
            .map(|(key, a)| GroupRow {
                key,
                created: a.created,
                resolved: a.resolved,
                open: a.open,
                first_response: Times::of(a.first),
                resolution: Times::of(a.resolution),
                sla: a.sla,
            })
            .collect();
        groups.sort_by(|a, b| b.created.cmp(&a.created).then(b.open.cmp(&a.open)).then_with(|| a.key.cmp(&b.key)));
        Report {
            buckets,
            backlog: self.backlog,
            created,
            resolved,
            open: self.backlog.iter().sum(),
            unanswered: self.unanswered,
            first_response: Times::of(self.first),
            first_response_business: Times::of(self.first_business),
            resolution: Times::of(self.resolution),
            resolution_business: Times::of(self.resolution_business),
            sla_first: self.sla_first,
            sla_resolution: self.sla_resolution,
            groups,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = HOUR_MS;
    const D: i64 = 24 * H;

    fn fact(id: u64, created: i64) -> Fact<'static> {
        Fact {
            ticket: TicketId(id),
            created_at: Timestamp(created),
            first_response_at: None,
            resolved_at: None,
            first_response_business: None,
            resolution_business: None,
            assignee: None,
            channel: Channel::Email,
            priority: Priority::Medium,
            sla_first: SlaOutcome::None,
            sla_resolution: SlaOutcome::None,
            department: "Support",
            category: "General",
        }
    }

    fn filter() -> Filter {
        Filter {
            from: Timestamp(0),
            to: Timestamp(2 * D),
            department: None,
            agent: None,
            channel: None,
            category: None,
            walls: None,
            group_by: GroupBy::Agent,
        }
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        assert_eq!(Times::of(vec![]), Times { count: 0, p50: None, p90: None });
        assert_eq!(Times::of(vec![7]), Times { count: 1, p50: Some(7), p90: Some(7) });
        let t = Times::of((1..=10).rev().collect());
        assert_eq!((t.p50, t.p90), (Some(5), Some(9)));
        let t = Times::of(vec![1, 2, 3]);
        assert_eq!((t.p50, t.p90), (Some(2), Some(3)));
    }

    #[test]
    fn a_small_desk_adds_up() {
        let mut a = Aggregator::new(filter(), vec![Timestamp(0), Timestamp(D)], Timestamp(10 * D));
        let mut x = fact(1, H);
        x.first_response_at = Some(Timestamp(3 * H));
        x.resolved_at = Some(Timestamp(D + H));
        x.assignee = Some(PersonId(5));
        x.sla_first = SlaOutcome::Met;
        x.sla_resolution = SlaOutcome::Breached;
        x.first_response_business = Some(H);
        let mut y = fact(2, D + 2 * H);
        y.department = "Billing";
        let z = fact(3, 3 * D); // after the range
        for f in [&x, &y, &z] {
            a.created(f);
            a.resolved(f);
            a.open(f);
        }
        let r = a.finish();
        assert_eq!(r.buckets, vec![(Timestamp(0), 1, 0), (Timestamp(D), 1, 1)]);
        assert_eq!((r.created, r.resolved, r.open, r.unanswered), (2, 1, 2, 1));
        assert_eq!(r.first_response, Times { count: 1, p50: Some(2 * H), p90: Some(2 * H) });
        assert_eq!(r.first_response_business.p50, Some(H));
        assert_eq!(r.resolution.p50, Some(D));
        assert_eq!((r.sla_first, r.sla_resolution), (Compliance { met: 1, breached: 0 }, Compliance { met: 0, breached: 1 }));
        // y is 8 days old, z 7 days: both in "1–4 weeks".
        assert_eq!(r.backlog, [0, 0, 0, 2, 0]);
        assert_eq!(r.groups.len(), 2);
        assert_eq!(r.groups[0].key, GroupKey::Unassigned);
        assert_eq!((r.groups[0].created, r.groups[0].open), (1, 2));
        assert_eq!(r.groups[1].key, GroupKey::Agent(PersonId(5)));
        assert_eq!(r.groups[1].sla, Compliance { met: 1, breached: 1 });
    }

    #[test]
    fn filters_and_walls_keep_facts_out() {
        let mut f = filter();
        f.walls = Some(vec!["billing".into()]);
        let mut a = Aggregator::new(f.clone(), vec![Timestamp(0)], Timestamp(D));
        a.created(&fact(1, H));
        let mut b = fact(2, H);
        b.department = "Billing";
        a.created(&b);
        assert_eq!(a.finish().created, 1);
        f.walls = None;
        f.agent = Some(AgentFilter::Agent(PersonId(9)));
        assert!(!f.admits(&fact(1, 0)));
        f.agent = Some(AgentFilter::Unassigned);
        assert!(f.admits(&fact(1, 0)));
        f.channel = Some(Channel::Web);
        assert!(!f.admits(&fact(1, 0)));
    }
}
