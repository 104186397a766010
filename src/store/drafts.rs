//! Reply drafts (issue 18 part 1): what an agent is writing on a ticket,
//! saved from the reply box every few seconds, so a session that ends or a
//! held reply loses nothing. One per (agent, ticket); gone when the agent
//! posts on that ticket.

use redb::{ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use super::{Read, Result, Write, codec};
use crate::domain::{PersonId, TicketId, Timestamp};

/// (agent, ticket) → their draft.
pub(crate) const DRAFTS: TableDefinition<(u64, u64), &[u8]> = TableDefinition::new("drafts");

/// A reply or note being written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    pub body: String,
    /// An internal note rather than a reply.
    pub internal: bool,
    pub saved_at: Timestamp,
}

impl Read {
    pub fn draft(&self, agent: PersonId, ticket: TicketId) -> Result<Option<Draft>> {
        self.tx.open_table(DRAFTS)?.get((agent.0, ticket.0))?.map(|v| codec::decode(v.value(), "drafts")).transpose()
    }
}

impl Write {
    /// Keeps a draft (an empty one is removed).
    pub fn put_draft(&mut self, agent: PersonId, ticket: TicketId, d: &Draft) -> Result<()> {
        let mut t = self.tx.open_table(DRAFTS)?;
        if d.body.trim().is_empty() {
            t.remove((agent.0, ticket.0))?;
        } else {
            t.insert((agent.0, ticket.0), codec::encode(d).as_slice())?;
        }
        Ok(())
    }

    pub fn delete_draft(&mut self, agent: PersonId, ticket: TicketId) -> Result<()> {
        self.tx.open_table(DRAFTS)?.remove((agent.0, ticket.0))?;
        Ok(())
    }
}
