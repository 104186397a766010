//! @mentions in internal notes: each agent a note names (and who may see
//! the ticket) is recorded for their Mentions view and told by mail; never
//! the note's author.

use super::notify::Notice;
use super::{Desk, Result};
use std::collections::HashMap;

use crate::domain::{Person, PersonId, ThreadEntry, Ticket, Timestamp, mentions};
use crate::store::Write;

impl Desk {
    /// Records and notifies the agents `note` mentions.
    pub(super) fn mention_in(&self, w: &mut Write, t: &Ticket, note: &ThreadEntry, author: &Person, now: Timestamp) -> Result<Vec<Person>> {
        let handles = mentions::handles(&note.body);
        if handles.is_empty() {
            return Ok(Vec::new());
        }
        let agents: Vec<Person> = w.staff()?.into_iter().filter(|p| p.active).collect();
        let mut named: Vec<Person> = Vec::new();
        for h in &handles {
            if let Some(p) = mentions::resolve(h, &agents)
                && p.id != author.id
                && !named.iter().any(|n| n.id == p.id)
                && self.in_force(p.clone()).can_see(t)
            {
                named.push(p.clone());
            }
        }
        for p in &named {
            w.add_mention(p.id, t.id, now)?;
            self.notify(w, t, Some(author), Notice::Mention { to: p, entry: note }, now)?;
        }
        Ok(named)
    }

    /// How many tickets `actor` was mentioned on (up to 99; tickets they can
    /// no longer see are counted too), for the sidebar.
    pub fn mention_count(&self, actor: &Person) -> Result<usize> {
        Ok(self.store.read()?.mention_count(actor.id, 99)?)
    }

    /// The tickets `actor` was mentioned on (that they may still see, out
    /// of Trash), latest mention first, and the people they name.
    pub fn mentioned(&self, actor: &Person, max: usize) -> Result<(Vec<Ticket>, HashMap<PersonId, Person>)> {
        let mut ids = Vec::new();
        {
            let r = self.store.read()?;
            for (id, _) in r.mentions(actor.id, max)? {
                if r.trashed_at(id)?.is_none() {
                    ids.push(id);
                }
            }
        }
        self.tickets_by_ids(actor, &ids)
    }
}
