//! What the queue shows beside a ticket's fields (issue 18 part 3): when
//! each agent last opened each ticket (the unread marker), each agent's
//! chosen queue columns, and the tail of a ticket's thread — who acted
//! last, since when the customer waits, the latest message's text.

use redb::{ReadableTable, TableDefinition};

use super::{ENTRIES, Read, Result, Write};
use crate::domain::{EntryKind, PersonId, ThreadEntry, TicketId, Timestamp};

/// (agent, ticket) → when the agent last opened the ticket (ms).
pub(crate) const OPENED: TableDefinition<(u64, u64), i64> = TableDefinition::new("opened");
/// Agent → their queue columns (a comma list of column keys).
pub(crate) const QUEUE_COLUMNS: TableDefinition<u64, &str> = TableDefinition::new("queue_columns");

/// At most this many of a ticket's newest replies and notes are read for
/// its tail, among at most `TAIL_ROWS` entries of any kind.
const TAIL_SCAN: usize = 64;
const TAIL_ROWS: usize = 1024;

/// The newest messages of a thread, as the queue needs them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ThreadTail {
    /// The newest reply or note: who wrote it (None: the system) and what.
    pub latest: Option<ThreadEntry>,
    /// The newest public reply, and whether staff wrote it.
    pub last_reply: Option<(Timestamp, bool)>,
    /// The oldest customer reply not yet answered by a staff reply (within
    /// the entries read).
    pub waiting_since: Option<Timestamp>,
    /// The newest customer reply.
    pub last_customer: Option<Timestamp>,
}

impl Read {
    /// The tail of ticket `id`'s thread; `is_staff` tells agents from customers.
    pub fn thread_tail(&self, id: TicketId, is_staff: &dyn Fn(PersonId) -> bool) -> Result<ThreadTail> {
        let t = self.tx.open_table(ENTRIES)?;
        let mut tail = ThreadTail::default();
        let mut messages = 0;
        for row in t.range((id.0, 0)..=(id.0, u32::MAX))?.rev().take(TAIL_ROWS) {
            let (k, v) = row?;
            let e: ThreadEntry = self.entry_from(k.value(), v.value())?;
            if e.kind == EntryKind::Event {
                continue;
            }
            messages += 1;
            if messages > TAIL_SCAN {
                break;
            }
            // A reply without an author is the desk's own (a trigger's answer).
            let staff = e.author.is_none_or(is_staff);
            if e.kind == EntryKind::Reply {
                tail.last_reply.get_or_insert((e.created_at, staff));
                if staff {
                    // Everything older was answered: the tail ends here.
                    tail.latest.get_or_insert(e);
                    break;
                }
                tail.last_customer.get_or_insert(e.created_at);
                tail.waiting_since = Some(e.created_at);
            }
            tail.latest.get_or_insert(e);
        }
        Ok(tail)
    }

    /// When `agent` last opened each of `ids` (None: never).
    pub fn opened(&self, agent: PersonId, ids: &[TicketId]) -> Result<Vec<Option<Timestamp>>> {
        let t = self.tx.open_table(OPENED)?;
        ids.iter().map(|id| Ok(t.get((agent.0, id.0))?.map(|v| Timestamp(v.value())))).collect()
    }

    /// The queue columns `agent` chose, if any.
    pub fn queue_columns(&self, agent: PersonId) -> Result<Option<String>> {
        Ok(self.tx.open_table(QUEUE_COLUMNS)?.get(agent.0)?.map(|v| v.value().to_string()))
    }
}

impl Write {
    /// Records that `agent` opened ticket `id` at `at`.
    pub fn mark_opened(&mut self, agent: PersonId, id: TicketId, at: Timestamp) -> Result<()> {
        self.tx.open_table(OPENED)?.insert((agent.0, id.0), at.0)?;
        Ok(())
    }

    /// Keeps `agent`'s queue columns (empty: back to the defaults).
    pub fn set_queue_columns(&mut self, agent: PersonId, cols: &str) -> Result<()> {
        let mut t = self.tx.open_table(QUEUE_COLUMNS)?;
        if cols.is_empty() {
            t.remove(agent.0)?;
        } else {
            t.insert(agent.0, cols)?;
        }
        Ok(())
    }

    /// Forgets who opened ticket `id` (it is purged); `agents`: every staff id.
    pub fn forget_opened(&mut self, id: TicketId, agents: &[PersonId]) -> Result<()> {
        let mut t = self.tx.open_table(OPENED)?;
        for a in agents {
            t.remove((a.0, id.0))?;
        }
        Ok(())
    }
}
