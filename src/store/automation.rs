//! What triggers keep between runs: whose turn a round-robin assignment is,
//! which status spell a time trigger already fired for, and which agents
//! were seen in the web UI lately (for "least open among agents online").

use redb::{ReadableTable, TableDefinition};

use super::{Result, SESSIONS, Session, Write, codec};
use crate::domain::{PersonId, TicketId, Timestamp};

/// (ticket id, trigger name) → the `since` of the status spell it fired for.
pub(crate) const TRIGGER_FIRED: TableDefinition<(u64, &str), i64> = TableDefinition::new("trigger_fired");
/// Round-robin pool (trigger name) → the person last given a ticket.
pub(crate) const ROUND_ROBIN: TableDefinition<&str, u64> = TableDefinition::new("round_robin");

impl Write {
    /// The status spell (its start) a time trigger last fired for on a ticket.
    pub fn trigger_fired(&self, id: TicketId, trigger: &str) -> Result<Option<Timestamp>> {
        Ok(self.tx.open_table(TRIGGER_FIRED)?.get((id.0, trigger))?.map(|v| Timestamp(v.value())))
    }

    pub fn set_trigger_fired(&mut self, id: TicketId, trigger: &str, since: Timestamp) -> Result<()> {
        self.tx.open_table(TRIGGER_FIRED)?.insert((id.0, trigger), since.0)?;
        Ok(())
    }

    /// Who got the last ticket of a round-robin pool.
    pub fn round_robin_last(&self, pool: &str) -> Result<Option<PersonId>> {
        Ok(self.tx.open_table(ROUND_ROBIN)?.get(pool)?.map(|v| PersonId(v.value())))
    }

    pub fn set_round_robin_last(&mut self, pool: &str, person: PersonId) -> Result<()> {
        self.tx.open_table(ROUND_ROBIN)?.insert(pool, person.0)?;
        Ok(())
    }

    /// People with a session used since `since` (sessions are few: one per
    /// signed-in browser).
    pub fn seen_since(&self, since: Timestamp) -> Result<Vec<PersonId>> {
        let mut out = Vec::new();
        for row in self.tx.open_table(SESSIONS)?.iter()? {
            let s: Session = codec::decode(row?.1.value(), "sessions")?;
            if s.last_seen >= since && !out.contains(&s.person) {
                out.push(s.person);
            }
        }
        Ok(out)
    }
}

/// The tables, created at open.
pub(crate) fn create_tables(tx: &redb::WriteTransaction) -> Result<()> {
    tx.open_table(TRIGGER_FIRED)?;
    tx.open_table(ROUND_ROBIN)?;
    Ok(())
}
