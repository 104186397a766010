//! What the queue shows of each ticket beyond its fields (issue 18 part 3):
//! who acted last, since when the customer waits for us, a one-line preview
//! of the latest message, and whether the customer wrote since this agent
//! last opened the ticket. Also each agent's remembered queue columns.

use std::collections::{HashMap, HashSet};

use super::{Desk, DeskError, Result};
use crate::domain::text::one_line;
use crate::domain::{EntryKind, Person, PersonId, Ticket, TicketId, Timestamp};

/// Characters of the latest message a queue row shows.
const PREVIEW_CHARS: usize = 140;
/// Longest column list an agent may keep.
const MAX_COLUMNS_LEN: usize = 256;

/// A queue row's activity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowFacts {
    /// The newest public reply: when, and whether staff wrote it.
    pub last_reply: Option<(Timestamp, bool)>,
    /// The oldest customer reply no agent has answered since.
    pub waiting_since: Option<Timestamp>,
    /// The latest reply or note in one line, and whether it is a note.
    pub preview: Option<(String, bool)>,
    /// The customer wrote since this agent last opened the (active) ticket.
    pub unread: bool,
}

impl Desk {
    /// The activity of each of `tickets` as `actor` sees it (one snapshot).
    pub fn queue_rows(&self, actor: &Person, tickets: &[Ticket]) -> Result<HashMap<TicketId, RowFacts>> {
        let r = self.store.read()?;
        let staff: HashSet<PersonId> = r.staff()?.into_iter().map(|p| p.id).collect();
        let is_staff = |p: PersonId| staff.contains(&p);
        let ids: Vec<TicketId> = tickets.iter().map(|t| t.id).collect();
        let opened = r.opened(actor.id, &ids)?;
        let mut out = HashMap::with_capacity(tickets.len());
        for (t, seen) in tickets.iter().zip(opened) {
            let tail = r.thread_tail(t.id, &is_staff)?;
            let preview = tail
                .latest
                .as_ref()
                .map(|e| (one_line(&e.text(), PREVIEW_CHARS), e.kind == EntryKind::Note))
                .filter(|(s, _)| !s.is_empty());
            out.insert(
                t.id,
                RowFacts {
                    last_reply: tail.last_reply,
                    waiting_since: tail.waiting_since,
                    preview,
                    // Only tickets still open are unread (an upgrade would
                    // otherwise mark every old answered-by-the-customer one).
                    unread: t.status.is_active() && tail.last_customer.is_some_and(|c| seen.is_none_or(|s| c > s)),
                },
            );
        }
        Ok(out)
    }

    /// Notes that `actor` opened ticket `id` now (its customer replies are
    /// read). Not fsynced: a crash may forget the last few.
    pub fn mark_opened(&self, actor: &Person, id: TicketId) -> Result<()> {
        if !actor.is_staff() {
            return Ok(());
        }
        let now = self.now();
        self.store.write_fast(|w| {
            w.mark_opened(actor.id, id, now)?;
            Ok::<_, DeskError>(())
        })
    }

    /// The queue columns `actor` chose last, if any.
    pub fn queue_columns(&self, actor: &Person) -> Result<Option<String>> {
        Ok(self.store.read()?.queue_columns(actor.id)?)
    }

    /// Remembers `actor`'s queue columns: a comma list of column keys
    /// (empty: the defaults again).
    pub fn set_queue_columns(&self, actor: &Person, cols: &str) -> Result<()> {
        if !actor.is_staff() {
            return Err(DeskError::NotFound);
        }
        if cols.len() > MAX_COLUMNS_LEN || !cols.bytes().all(|b| b.is_ascii_lowercase() || b == b',' || b == b'_') {
            return Err(DeskError::Invalid { field: "cols", message: "a comma list of column names".into() });
        }
        if self.store.read()?.queue_columns(actor.id)?.as_deref() == Some(cols) {
            return Ok(());
        }
        self.store.write(|w| {
            w.set_queue_columns(actor.id, cols)?;
            Ok::<_, DeskError>(())
        })
    }
}
