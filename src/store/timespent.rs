//! Time agents spent on a ticket, as they recorded it with a reply or note:
//! one row per entry, and each ticket's total kept beside them (the queue and
//! exports read totals without summing).

use redb::{ReadableTable, TableDefinition};

use super::{Read, Result, Write};
use crate::domain::{PersonId, TicketId};

/// (ticket, entry seq) → (agent id, minutes).
pub(crate) const TIME_SPENT: TableDefinition<(u64, u32), (u64, u32)> = TableDefinition::new("time_spent");
/// Ticket → total minutes.
pub(crate) const TIME_TOTAL: TableDefinition<u64, u64> = TableDefinition::new("time_total");

/// One recorded spell of work: (entry seq, agent, minutes).
pub type Spell = (u32, PersonId, u32);

fn spells_in(t: &impl ReadableTable<(u64, u32), (u64, u32)>, ticket: TicketId) -> Result<Vec<Spell>> {
    let mut out = Vec::new();
    for row in t.range((ticket.0, 0)..=(ticket.0, u32::MAX))? {
        let (k, v) = row?;
        let (agent, minutes) = v.value();
        out.push((k.value().1, PersonId(agent), minutes));
    }
    Ok(out)
}

impl Read {
    /// The time recorded on a ticket, by entry.
    pub fn time_spent(&self, ticket: TicketId) -> Result<Vec<Spell>> {
        spells_in(&self.tx.open_table(TIME_SPENT)?, ticket)
    }

    /// Total minutes recorded on each of these tickets (absent: none).
    pub fn time_totals(&self, tickets: &[TicketId]) -> Result<std::collections::HashMap<TicketId, u64>> {
        let t = self.tx.open_table(TIME_TOTAL)?;
        let mut out = std::collections::HashMap::new();
        for id in tickets {
            if let Some(v) = t.get(id.0)? {
                out.insert(*id, v.value());
            }
        }
        Ok(out)
    }
}

impl Write {
    /// Records `minutes` of `agent`'s work with entry `seq` of `ticket`.
    pub fn record_time(&mut self, ticket: TicketId, seq: u32, agent: PersonId, minutes: u32) -> Result<()> {
        self.tx.open_table(TIME_SPENT)?.insert((ticket.0, seq), (agent.0, minutes))?;
        let mut totals = self.tx.open_table(TIME_TOTAL)?;
        let total = totals.get(ticket.0)?.map(|v| v.value()).unwrap_or(0) + minutes as u64;
        totals.insert(ticket.0, total)?;
        Ok(())
    }
}
