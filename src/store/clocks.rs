//! The SLA clocks and urgency aging of each ticket (`domain::sla::Clocks`),
//! with two indexes kept beside them so that no rule scans tickets: when the
//! timer must look at a ticket next (`clock_wake`), and the earliest due
//! time of its running SLA targets (`sla_due`, the "Due soon" and "SLA
//! breaching" views).

use redb::{ReadableTable, TableDefinition};

use super::{Read, Result, Write, codec};
use crate::domain::sla::Clocks;
use crate::domain::{TicketId, Timestamp};

/// Ticket id → its clocks.
pub(crate) const CLOCKS: TableDefinition<u64, &[u8]> = TableDefinition::new("clocks");
/// (when, ticket id): the next time the timer looks at a ticket.
pub(crate) const CLOCK_WAKE: TableDefinition<(i64, u64), ()> = TableDefinition::new("clock_wake");
/// (due, ticket id): the earliest due time of a ticket's running SLA targets.
pub(crate) const SLA_DUE: TableDefinition<(i64, u64), ()> = TableDefinition::new("sla_due");

fn clocks_in(t: &impl ReadableTable<u64, &'static [u8]>, id: TicketId) -> Result<Option<Clocks>> {
    t.get(id.0)?.map(|v| codec::decode(v.value(), "clocks")).transpose()
}

fn range(t: &impl ReadableTable<(i64, u64), ()>, from: i64, to: i64, max: usize) -> Result<Vec<(TicketId, Timestamp)>> {
    let mut out = Vec::new();
    for row in t.range((from, 0)..=(to, u64::MAX))? {
        let (at, id) = row?.0.value();
        out.push((TicketId(id), Timestamp(at)));
        if out.len() >= max {
            break;
        }
    }
    Ok(out)
}

impl Read {
    /// A ticket's clocks (none: no SLA and no aging wait).
    pub fn clocks(&self, id: TicketId) -> Result<Option<Clocks>> {
        clocks_in(&self.tx.open_table(CLOCKS)?, id)
    }

    /// Tickets whose earliest running SLA target is due in `from..=to`,
    /// soonest first, at most `max`: (id, due).
    pub fn sla_due_between(&self, from: Timestamp, to: Timestamp, max: usize) -> Result<Vec<(TicketId, Timestamp)>> {
        range(&self.tx.open_table(SLA_DUE)?, from.0, to.0, max)
    }

    /// How many tickets have a running SLA target due in `from..=to`.
    pub fn sla_due_count(&self, from: Timestamp, to: Timestamp) -> Result<usize> {
        Ok(self.tx.open_table(SLA_DUE)?.range((from.0, 0)..=(to.0, u64::MAX))?.count())
    }
}

impl Write {
    pub fn clocks(&self, id: TicketId) -> Result<Option<Clocks>> {
        clocks_in(&self.tx.open_table(CLOCKS)?, id)
    }

    /// Stores a ticket's clocks (`None` or empty ones: removed) and keeps
    /// both indexes in step; `old` is what `clocks` returned.
    pub fn put_clocks(&mut self, id: TicketId, old: Option<&Clocks>, new: Option<&Clocks>) -> Result<()> {
        let new = new.filter(|c| **c != Clocks::default());
        let mut wake = self.tx.open_table(CLOCK_WAKE)?;
        let mut due = self.tx.open_table(SLA_DUE)?;
        if let Some(o) = old {
            if let Some(at) = o.wake() {
                wake.remove((at.0, id.0))?;
            }
            if let Some(at) = o.due() {
                due.remove((at.0, id.0))?;
            }
        }
        let mut t = self.tx.open_table(CLOCKS)?;
        match new {
            Some(n) => {
                t.insert(id.0, codec::encode(n).as_slice())?;
                if let Some(at) = n.wake() {
                    wake.insert((at.0, id.0), ())?;
                }
                if let Some(at) = n.due() {
                    due.insert((at.0, id.0), ())?;
                }
            }
            None => {
                t.remove(id.0)?;
            }
        }
        Ok(())
    }

    /// Tickets the timer must look at by `now`, earliest first, at most `max`.
    pub fn clocks_waking(&self, now: Timestamp, max: usize) -> Result<Vec<(TicketId, Timestamp)>> {
        range(&self.tx.open_table(CLOCK_WAKE)?, i64::MIN, now.0, max)
    }

    /// Forgets a wake row whose ticket has gone (its clocks go with it).
    pub fn drop_clocks(&mut self, id: TicketId, at: Timestamp) -> Result<()> {
        self.tx.open_table(CLOCK_WAKE)?.remove((at.0, id.0))?;
        let old = self.clocks(id)?;
        self.put_clocks(id, old.as_ref(), None)
    }
}

/// The tables, created at open.
pub(crate) fn create_tables(tx: &redb::WriteTransaction) -> Result<()> {
    tx.open_table(CLOCKS)?;
    tx.open_table(CLOCK_WAKE)?;
    tx.open_table(SLA_DUE)?;
    Ok(())
}
