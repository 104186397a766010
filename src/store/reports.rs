//! The report facts (`domain::report::Fact`), one per ticket, kept in the
//! same commit as the ticket (`refresh_facts`, from the desk's pre-commit
//! hook, so no write path can forget it) in three orders a report reads as
//! ranges — by creation, by resolution, and the unresolved ones — so a
//! report never scans tickets or threads. Trashed and merged-away tickets
//! have no facts. Values are a small fixed binary layout, read without
//! copying the strings.

use redb::{ReadableTable, TableDefinition, WriteTransaction};

use super::{Read, Result, StoreError, Write};
use crate::domain::report::{Fact, SlaOutcome};
use crate::domain::sla::{Clock, SlaTarget};
use crate::domain::{Channel, EntryKind, PersonId, Priority, Status, ThreadEntry, TicketId, Timestamp};

/// A table of facts in an order: (time, ticket) → fact.
type Ordered = TableDefinition<'static, (i64, u64), &'static [u8]>;

/// Ticket → its fact (the one the others copy).
pub(crate) const FACTS: TableDefinition<u64, &[u8]> = TableDefinition::new("report_facts");
/// (created, ticket) → fact.
pub(crate) const FACTS_CREATED: Ordered = TableDefinition::new("report_created");
/// (resolved, ticket) → fact, for resolved and closed tickets.
pub(crate) const FACTS_RESOLVED: Ordered = TableDefinition::new("report_resolved");
/// (created, ticket) → fact, for tickets not resolved.
pub(crate) const FACTS_OPEN: Ordered = TableDefinition::new("report_open");

const VERSION: u8 = 1;
const NONE: i64 = i64::MIN;
const FIXED: usize = 53;

/// Which order of facts to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactSet {
    /// Created in the range.
    Created,
    /// Resolved in the range.
    Resolved,
    /// Not resolved (the range is not used).
    Open,
}

fn encode(f: &Fact) -> Vec<u8> {
    let opt = |t: Option<i64>| t.unwrap_or(NONE).to_le_bytes();
    let mut out = Vec::with_capacity(FIXED + 4 + f.department.len() + f.category.len());
    out.push(VERSION);
    out.extend(f.created_at.0.to_le_bytes());
    out.extend(opt(f.first_response_at.map(|t| t.0)));
    out.extend(opt(f.resolved_at.map(|t| t.0)));
    out.extend(opt(f.first_response_business));
    out.extend(opt(f.resolution_business));
    out.extend(f.assignee.map_or(0, |p| p.0).to_le_bytes());
    out.extend([f.channel.index(), f.priority.index(), f.sla_first.index(), f.sla_resolution.index()]);
    for s in [f.department, f.category] {
        // Names come from the config (short); a longer one is cut at a char.
        let mut end = s.len().min(u16::MAX as usize);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        out.extend((end as u16).to_le_bytes());
        out.extend(&s.as_bytes()[..end]);
    }
    out
}

fn corrupt(ticket: u64) -> StoreError {
    StoreError::Corrupt { table: "report_facts", detail: format!("fact of ticket {ticket}") }
}

fn decode(ticket: u64, b: &[u8]) -> Result<Fact<'_>> {
    let bad = || corrupt(ticket);
    if b.len() < FIXED || b[0] != VERSION {
        return Err(bad());
    }
    let i64_at = |at: usize| -> Result<i64> { Ok(i64::from_le_bytes(b.get(at..at + 8).and_then(|s| s.try_into().ok()).ok_or_else(bad)?)) };
    let opt = |at: usize| -> Result<Option<i64>> { Ok(Some(i64_at(at)?).filter(|v| *v != NONE)) };
    let str_at = |at: usize| -> Result<(&str, usize)> {
        let len = u16::from_le_bytes([*b.get(at).ok_or_else(bad)?, *b.get(at + 1).ok_or_else(bad)?]) as usize;
        let s = b.get(at + 2..at + 2 + len).and_then(|s| std::str::from_utf8(s).ok()).ok_or_else(bad)?;
        Ok((s, at + 2 + len))
    };
    let (department, next) = str_at(FIXED)?;
    let (category, _) = str_at(next)?;
    Ok(Fact {
        ticket: TicketId(ticket),
        created_at: Timestamp(i64_at(1)?),
        first_response_at: opt(9)?.map(Timestamp),
        resolved_at: opt(17)?.map(Timestamp),
        first_response_business: opt(25)?,
        resolution_business: opt(33)?,
        assignee: Some(i64_at(41)? as u64).filter(|a| *a != 0).map(PersonId),
        channel: Channel::from_index(b[49]).ok_or_else(bad)?,
        priority: Priority::from_index(b[50]).ok_or_else(bad)?,
        sla_first: SlaOutcome::from_index(b[51]).ok_or_else(bad)?,
        sla_resolution: SlaOutcome::from_index(b[52]).ok_or_else(bad)?,
        department,
        category,
    })
}

/// Where a fact sits beside the creation order: resolved or open.
fn placed(f: &Fact) -> (Ordered, (i64, u64)) {
    match f.resolved_at {
        Some(at) => (FACTS_RESOLVED, (at.0, f.ticket.0)),
        None => (FACTS_OPEN, (f.created_at.0, f.ticket.0)),
    }
}

fn outcome(c: Option<&Clock>) -> SlaOutcome {
    match c {
        None => SlaOutcome::None,
        Some(c) if c.breached_at.is_some() => SlaOutcome::Breached,
        // Met with more business time spent than allowed, before the timer
        // got to raise the breach.
        Some(c) if c.met_at.is_some() && c.spent > c.budget => SlaOutcome::Breached,
        Some(c) if c.met_at.is_some() => SlaOutcome::Met,
        Some(_) => SlaOutcome::Running,
    }
}

impl Read {
    /// Calls `each` with every fact of `set` in `from..to` (by creation or
    /// resolution; `Open` reads them all), in that order.
    pub fn scan_facts(&self, set: FactSet, from: Timestamp, to: Timestamp, mut each: impl FnMut(&Fact)) -> Result<()> {
        let (table, range) = match set {
            FactSet::Created => (FACTS_CREATED, (from.0, 0)..(to.0, 0)),
            FactSet::Resolved => (FACTS_RESOLVED, (from.0, 0)..(to.0, 0)),
            FactSet::Open => (FACTS_OPEN, (i64::MIN, 0)..(i64::MAX, u64::MAX)),
        };
        for row in self.tx.open_table(table)?.range(range)? {
            let (k, v) = row?;
            each(&decode(k.value().1, v.value())?);
        }
        Ok(())
    }

    /// How many tickets have facts.
    pub fn fact_count(&self) -> Result<u64> {
        use redb::ReadableTableMetadata;
        Ok(self.tx.open_table(FACTS)?.len()?)
    }
}

impl Write {
    /// A `Write` over a bare transaction (the migration's), with nothing to
    /// announce.
    fn bare(tx: WriteTransaction) -> Write {
        Write {
            tx,
            touched: Vec::new(),
            outbox: false,
            fresh_blobs: Vec::new(),
            released_blobs: Vec::new(),
            packer: Default::default(),
            record: false,
            appended: Default::default(),
        }
    }

    /// Brings the facts of every ticket this transaction touched up to date;
    /// `entries` and `created`: what it appended and created (for the
    /// first response).
    pub fn refresh_facts(&mut self, entries: &[ThreadEntry], created: &[TicketId]) -> Result<()> {
        let mut ids = self.touched.clone();
        ids.sort_unstable();
        ids.dedup();
        for id in ids.into_iter().map(TicketId) {
            let mut replied: Option<Timestamp> = None;
            for e in entries.iter().filter(|e| e.ticket == id) {
                if let Some(at) = self.staff_reply(e)? {
                    replied = Some(replied.map_or(at, |r| r.min(at)));
                }
            }
            self.refresh_fact(id, replied, created.contains(&id))?;
        }
        Ok(())
    }

    /// When `e` was written, if it is a public reply by staff (by role: a
    /// since deactivated agent's answer still counts).
    fn staff_reply(&self, e: &ThreadEntry) -> Result<Option<Timestamp>> {
        if e.kind != EntryKind::Reply {
            return Ok(None);
        }
        let Some(a) = e.author else { return Ok(None) };
        Ok(self.person(a)?.filter(|p| p.role.is_staff()).map(|_| e.created_at))
    }

    /// The first public reply by staff on a ticket, from its thread.
    fn first_staff_reply(&self, id: TicketId) -> Result<Option<Timestamp>> {
        for e in self.entries(id)? {
            if let Some(at) = self.staff_reply(&e)? {
                return Ok(Some(at));
            }
        }
        Ok(None)
    }

    /// Removes a fact's rows from the creation order and from the resolved
    /// or unresolved one.
    fn unplace(&mut self, f: &Fact) -> Result<()> {
        self.tx.open_table(FACTS_CREATED)?.remove((f.created_at.0, f.ticket.0))?;
        let (set, key) = placed(f);
        self.tx.open_table(set)?.remove(key)?;
        Ok(())
    }

    /// Drops a ticket's fact and every row of it, so the next refresh
    /// rebuilds it from the thread (a merge rewrote the thread; an
    /// unreadable record, whose rows are then found by scanning).
    pub(crate) fn forget_fact(&mut self, id: TicketId) -> Result<()> {
        let bytes: Option<Vec<u8>> = self.tx.open_table(FACTS)?.remove(id.0)?.map(|v| v.value().to_vec());
        if let Some(f) = bytes.as_deref().and_then(|b| decode(id.0, b).ok()) {
            return self.unplace(&f);
        }
        if bytes.is_none() {
            return Ok(());
        }
        for set in [FACTS_CREATED, FACTS_RESOLVED, FACTS_OPEN] {
            let mut t = self.tx.open_table(set)?;
            let mut keys = Vec::new();
            for row in t.iter()? {
                let k = row?.0.value();
                if k.1 == id.0 {
                    keys.push(k);
                }
            }
            for k in keys {
                t.remove(k)?;
            }
        }
        Ok(())
    }

    /// Recomputes one ticket's fact; `replied`: a staff reply of this
    /// commit; `created_now`: the ticket is new in it (no older thread).
    fn refresh_fact(&mut self, id: TicketId, replied: Option<Timestamp>, created_now: bool) -> Result<()> {
        let mut old_bytes: Option<Vec<u8>> = self.tx.open_table(FACTS)?.get(id.0)?.map(|v| v.value().to_vec());
        if old_bytes.as_deref().is_some_and(|b| decode(id.0, b).is_err()) {
            // Unreadable: rebuilt from the thread, its rows found by id.
            tracing::warn!(ticket = id.0, "an unreadable report fact is rebuilt");
            self.forget_fact(id)?;
            old_bytes = None;
        }
        let old = old_bytes.as_deref().map(|b| decode(id.0, b)).transpose()?;
        let ticket = match self.ticket(id)? {
            Some(t) if self.trashed_at(id)?.is_none() && self.survivor(id)? == id => Some(t),
            _ => None,
        };
        let new = match &ticket {
            None => None,
            Some(t) => {
                let first_response_at = match &old {
                    Some(o) => o.first_response_at.or(replied),
                    None if created_now => replied,
                    None => self.first_staff_reply(id)?,
                };
                let resolved_at = if matches!(t.status, Status::Resolved | Status::Closed) {
                    match old.as_ref().and_then(|o| o.resolved_at) {
                        Some(at) => Some(at),
                        None => Some(self.status_since(id)?.unwrap_or(t.updated_at)),
                    }
                } else {
                    None
                };
                let clocks = self.clocks(id)?;
                let sla = clocks.as_ref().and_then(|c| c.sla.as_ref());
                let clock = |target| sla.and_then(|s| s.clock(target));
                let spent = |target| clock(target).filter(|c| c.met_at.is_some()).map(|c| c.spent);
                let fact = Fact {
                    ticket: id,
                    created_at: t.created_at,
                    first_response_at,
                    resolved_at,
                    first_response_business: spent(SlaTarget::FirstResponse),
                    resolution_business: spent(SlaTarget::Resolution),
                    assignee: t.assignee,
                    channel: t.channel,
                    priority: t.priority,
                    sla_first: outcome(clock(SlaTarget::FirstResponse)),
                    sla_resolution: outcome(clock(SlaTarget::Resolution)),
                    department: &t.department,
                    category: &t.category,
                };
                Some((encode(&fact), fact.created_at, placed(&fact)))
            }
        };
        if new.as_ref().map(|n| &n.0) == old_bytes.as_ref() {
            return Ok(());
        }
        if let Some(o) = &old {
            self.unplace(o)?;
        }
        let Some((bytes, created, (set, key))) = new else {
            self.tx.open_table(FACTS)?.remove(id.0)?;
            return Ok(());
        };
        self.tx.open_table(FACTS)?.insert(id.0, bytes.as_slice())?;
        self.tx.open_table(FACTS_CREATED)?.insert((created.0, id.0), bytes.as_slice())?;
        self.tx.open_table(set)?.insert(key, bytes.as_slice())?;
        Ok(())
    }
}

/// The tables, created at open.
pub(crate) fn create_tables(tx: &WriteTransaction) -> Result<()> {
    tx.open_table(FACTS)?;
    tx.open_table(FACTS_CREATED)?;
    tx.open_table(FACTS_RESOLVED)?;
    tx.open_table(FACTS_OPEN)?;
    Ok(())
}

/// Schema 11: the facts of every ticket of an older data directory, from
/// its thread (the first staff reply), its status and when it entered it
/// (a closed ticket counts as resolved when it was closed), and its clocks.
pub(crate) fn fill(tx: WriteTransaction) -> Result<WriteTransaction> {
    let ids: Vec<u64> = {
        let t = tx.open_table(super::TICKETS)?;
        let mut ids = Vec::new();
        for row in t.iter()? {
            ids.push(row?.0.value());
        }
        ids
    };
    let mut w = Write::bare(tx);
    for id in ids {
        w.refresh_fact(TicketId(id), None, false)?;
    }
    Ok(w.tx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_met_late_is_breached() {
        let clock = |spent: i64, met: Option<i64>, breached: Option<i64>| Clock {
            budget: 100,
            spent,
            running_since: None,
            due: None,
            warn_at: None,
            met_at: met.map(Timestamp),
            warned: false,
            breached_at: breached.map(Timestamp),
        };
        // (business time spent, met at, breach raised at); 100 allowed.
        assert_eq!(outcome(Some(&clock(100, Some(5), None))), SlaOutcome::Met, "just in time");
        assert_eq!(outcome(Some(&clock(101, Some(5), None))), SlaOutcome::Breached, "late, before the timer raised it");
        assert_eq!(outcome(Some(&clock(150, Some(5), Some(4)))), SlaOutcome::Breached);
        assert_eq!(outcome(Some(&clock(20, None, None))), SlaOutcome::Running);
        assert_eq!(outcome(None), SlaOutcome::None);
    }

    #[test]
    fn facts_round_trip() {
        let f = Fact {
            ticket: TicketId(7),
            created_at: Timestamp(-5),
            first_response_at: Some(Timestamp(10)),
            resolved_at: None,
            first_response_business: Some(0),
            resolution_business: None,
            assignee: Some(PersonId(3)),
            channel: Channel::Web,
            priority: Priority::Urgent,
            sla_first: SlaOutcome::Breached,
            sla_resolution: SlaOutcome::Running,
            department: "Support – 二",
            category: "",
        };
        let b = encode(&f);
        assert_eq!(decode(7, &b).unwrap(), f);
        for cut in 0..b.len() {
            assert!(decode(7, &b[..cut]).is_err(), "cut at {cut}");
        }
        let mut bad = b.clone();
        bad[49] = 99;
        assert!(decode(7, &bad).is_err());
    }
}
