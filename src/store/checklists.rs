//! Ticket checklists: one record per ticket holding its items (a checklist
//! is short and read whole), and the queue's "2/5" read for a page of
//! tickets at once.

use std::collections::HashMap;

use redb::{ReadableTable, TableDefinition};

use super::{Read, Result, Write, codec};
use crate::domain::TicketId;
use crate::domain::checklist::{ChecklistItem, progress};

/// Ticket id → its items.
pub(crate) const CHECKLISTS: TableDefinition<u64, &[u8]> = TableDefinition::new("checklists");

fn read_in(t: &impl ReadableTable<u64, &'static [u8]>, ticket: TicketId) -> Result<Vec<ChecklistItem>> {
    t.get(ticket.0)?.map(|v| codec::decode(v.value(), "checklists")).transpose().map(Option::unwrap_or_default)
}

impl Read {
    /// A ticket's checklist (empty when it has none).
    pub fn checklist(&self, ticket: TicketId) -> Result<Vec<ChecklistItem>> {
        read_in(&self.tx.open_table(CHECKLISTS)?, ticket)
    }

    /// (done, total) of each of these tickets that has a checklist.
    pub fn checklist_progress(&self, tickets: &[TicketId]) -> Result<HashMap<TicketId, (usize, usize)>> {
        let t = self.tx.open_table(CHECKLISTS)?;
        let mut out = HashMap::new();
        for id in tickets {
            let items = read_in(&t, *id)?;
            if !items.is_empty() {
                out.insert(*id, progress(&items));
            }
        }
        Ok(out)
    }
}

impl Write {
    pub fn checklist(&self, ticket: TicketId) -> Result<Vec<ChecklistItem>> {
        read_in(&self.tx.open_table(CHECKLISTS)?, ticket)
    }

    /// Stores a ticket's items (none: the record goes).
    pub fn put_checklist(&mut self, ticket: TicketId, items: &[ChecklistItem]) -> Result<()> {
        self.touched.push(ticket.0);
        let mut t = self.tx.open_table(CHECKLISTS)?;
        if items.is_empty() {
            t.remove(ticket.0)?;
        } else {
            t.insert(ticket.0, codec::encode(&items.to_vec()).as_slice())?;
        }
        Ok(())
    }
}

/// The table, created at open.
pub(crate) fn create_tables(tx: &redb::WriteTransaction) -> Result<()> {
    tx.open_table(CHECKLISTS)?;
    Ok(())
}
