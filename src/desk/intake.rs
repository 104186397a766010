//! Intake from the desk's side: accepted mail into the spool log (durable
//! before the 250), and what the mail worker reads and drops there. The
//! worker itself (parse, isolate, batch) is `mail/worker`; turning a message
//! into a ticket is `desk/mail`.

use super::{Desk, Result};
use crate::store::{SpoolEntry, Topic, Waiter};

impl Desk {
    /// Durably adds accepted messages to the spool log (one commit, one
    /// fsync) and wakes the mail worker; returns their spool ids.
    pub fn spool_mail(&self, items: &[(&SpoolEntry, &[u8])]) -> Result<Vec<u64>> {
        Ok(self.store.put_spool(items)?)
    }

    /// The oldest `max` spool ids waiting to become tickets.
    pub fn spooled(&self, max: usize) -> Result<Vec<u64>> {
        Ok(self.store.spool().ids(max)?)
    }

    /// One spooled message: its envelope and raw bytes.
    pub fn spooled_mail(&self, id: u64) -> Result<Option<(SpoolEntry, Vec<u8>)>> {
        Ok(self.store.spool().entry(id)?)
    }

    /// Drops processed messages from the spool log (their ticket
    /// transactions marked them done).
    pub fn drop_spooled(&self, ids: &[u64]) -> Result<()> {
        Ok(self.store.spool().remove(ids)?)
    }

    /// Forgets done marks whose spool entries are gone; how many.
    pub fn prune_spool_marks(&self) -> Result<usize> {
        Ok(self.store.prune_spool_marks()?)
    }

    /// Wakes on every spool commit (the change feed's `Topic::Spool`).
    pub fn spool_waiter(&self) -> Waiter<'_> {
        self.store.waiter(Topic::Spool)
    }
}
