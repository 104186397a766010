//! Who was @mentioned where: (agent, ticket) → when last, for the
//! agent's Mentions view.

use redb::{ReadableTable, TableDefinition};

use super::{Read, Result, Write};
use crate::domain::{PersonId, TicketId, Timestamp};

/// (agent id, ticket id) → the last mention's time (ms).
pub(crate) const MENTIONS: TableDefinition<(u64, u64), i64> = TableDefinition::new("mentions");

impl Read {
    /// The tickets `agent` was mentioned on, latest mention first.
    pub fn mentions(&self, agent: PersonId, max: usize) -> Result<Vec<(TicketId, Timestamp)>> {
        let t = self.tx.open_table(MENTIONS)?;
        let mut out = Vec::new();
        for row in t.range((agent.0, 0)..=(agent.0, u64::MAX))? {
            let (k, v) = row?;
            out.push((TicketId(k.value().1), Timestamp(v.value())));
        }
        out.sort_by_key(|(_, at)| std::cmp::Reverse(*at));
        out.truncate(max);
        Ok(out)
    }
}

impl Read {
    /// How many tickets `agent` was mentioned on, counting up to `cap`.
    pub fn mention_count(&self, agent: PersonId, cap: usize) -> Result<usize> {
        Ok(self.tx.open_table(MENTIONS)?.range((agent.0, 0)..=(agent.0, u64::MAX))?.take(cap).count())
    }
}

impl Write {
    pub fn add_mention(&mut self, agent: PersonId, ticket: TicketId, at: Timestamp) -> Result<()> {
        self.tx.open_table(MENTIONS)?.insert((agent.0, ticket.0), at.0)?;
        Ok(())
    }
}
