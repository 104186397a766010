//! Reply drafts on the desk (issue 18 part 1): the reply box saves what the
//! agent writes every few seconds; the ticket page gives it back (after a
//! new sign-in, or a reply held because another agent answered first).
//! Posting on the ticket ends the draft (`post_entry`, same commit).

use super::{Desk, DeskError, Result};
use crate::domain::{EntryKind, Person, TicketId, Timestamp};
use crate::store::Draft;

impl Desk {
    /// Keeps what `actor` is writing on ticket `id` (an empty text removes
    /// the draft); returns when it was saved, or `None` when it was dropped
    /// as older than the actor's own last post.
    /// `seen`: the last entry of the page the text was written on; a save
    /// from a page older than the actor's own last post on the ticket (one
    /// still on its way when the reply was sent) is dropped.
    pub fn save_draft(&self, actor: &Person, id: TicketId, body: &str, internal: bool, seen: Option<u32>) -> Result<Option<Timestamp>> {
        if !actor.is_staff() {
            return Err(DeskError::NotFound);
        }
        let body = body.replace("\r\n", "\n");
        let max = self.config().limits.body_max_bytes;
        if body.len() > max {
            return Err(DeskError::TooLarge { field: "body", limit: format!("{max} bytes") });
        }
        let now = self.now();
        self.store.write(|w| {
            match w.ticket(id)? {
                Some(t) if actor.can_see(&t) => {}
                _ => return Err(DeskError::NotFound),
            }
            if let Some(seen) = seen
                && w.entries(id)?.iter().any(|e| e.seq > seen && e.author == Some(actor.id) && e.kind != EntryKind::Event)
            {
                return Ok(None);
            }
            w.put_draft(actor.id, id, &Draft { body, internal, saved_at: now })?;
            Ok(Some(now))
        })
    }

    /// `actor`'s draft on ticket `id`, if any.
    pub fn draft(&self, actor: &Person, id: TicketId) -> Result<Option<Draft>> {
        Ok(self.store.read()?.draft(actor.id, id)?)
    }
}
