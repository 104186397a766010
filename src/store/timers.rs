//! What the time rules need without scans: when each ticket entered its
//! status (`status_since`, and an index by status and time, kept by
//! `put_ticket`), snoozed tickets by wake-up time, and which Pending spell
//! of a ticket its requester was already reminded of.

use redb::{ReadableTable, TableDefinition};

use super::{Read, Result, Write};
use crate::domain::{Status, Ticket, TicketId, Timestamp};

/// Ticket id → (status index, since ms).
pub(crate) const STATUS_SINCE: TableDefinition<u64, (u8, i64)> = TableDefinition::new("status_since");
/// (status index, since ms, ticket id): tickets by how long they have been in a status.
pub(crate) const IDX_SINCE: TableDefinition<(u8, i64, u64), ()> = TableDefinition::new("idx_status_since");
/// Ticket id → until ms, for snoozed tickets.
pub(crate) const SNOOZED: TableDefinition<u64, i64> = TableDefinition::new("snoozed");
/// (until ms, ticket id): snoozed tickets by wake-up time.
pub(crate) const SNOOZE_DUE: TableDefinition<(i64, u64), ()> = TableDefinition::new("snooze_due");
/// Ticket id → the `since` of the Pending spell its requester was reminded of.
pub(crate) const REMINDED: TableDefinition<u64, i64> = TableDefinition::new("pending_reminded");

fn until_in(t: &impl ReadableTable<u64, i64>, id: TicketId) -> Result<Option<Timestamp>> {
    Ok(t.get(id.0)?.map(|v| Timestamp(v.value())))
}

impl Read {
    /// When a snoozed ticket wakes up.
    pub fn snoozed_until(&self, id: TicketId) -> Result<Option<Timestamp>> {
        until_in(&self.tx.open_table(SNOOZED)?, id)
    }
}

impl Write {
    /// When a snoozed ticket wakes up.
    pub fn snoozed_until(&self, id: TicketId) -> Result<Option<Timestamp>> {
        until_in(&self.tx.open_table(SNOOZED)?, id)
    }

    /// Keeps `status_since` and its index when a ticket is written: a new
    /// ticket or a new status starts its spell at `updated_at`.
    pub(super) fn track_status(&mut self, old: Option<&Ticket>, new: &Ticket) -> Result<()> {
        if old.is_some_and(|o| o.status == new.status) {
            return Ok(());
        }
        let mut since = self.tx.open_table(STATUS_SINCE)?;
        let mut idx = self.tx.open_table(IDX_SINCE)?;
        if let Some((s, at)) = since.get(new.id.0)?.map(|v| v.value()) {
            idx.remove((s, at, new.id.0))?;
        }
        let entry = (new.status.index(), new.updated_at.0);
        since.insert(new.id.0, entry)?;
        idx.insert((entry.0, entry.1, new.id.0), ())?;
        drop((since, idx));
        if old.is_some_and(|o| o.status == Status::Snoozed) {
            self.clear_snooze(new.id)?;
        }
        Ok(())
    }

    /// Tickets in `status` since before `cutoff`, oldest first, at most `max`:
    /// (id, since).
    pub fn in_status_before(&self, status: Status, cutoff: Timestamp, max: usize) -> Result<Vec<(TicketId, Timestamp)>> {
        let idx = self.tx.open_table(IDX_SINCE)?;
        let s = status.index();
        let mut out = Vec::new();
        for row in idx.range((s, i64::MIN, 0)..(s, cutoff.0, 0))? {
            let (k, _) = row?;
            let (_, at, id) = k.value();
            out.push((TicketId(id), Timestamp(at)));
            if out.len() >= max {
                break;
            }
        }
        Ok(out)
    }

    /// Forgets an index row whose ticket has gone or moved on.
    pub fn drop_since_row(&mut self, status: Status, since: Timestamp, id: TicketId) -> Result<()> {
        self.tx.open_table(IDX_SINCE)?.remove((status.index(), since.0, id.0))?;
        Ok(())
    }

    /// When `id` entered its present status.
    pub fn status_since(&self, id: TicketId) -> Result<Option<Timestamp>> {
        Ok(self.tx.open_table(STATUS_SINCE)?.get(id.0)?.map(|v| Timestamp(v.value().1)))
    }

    pub fn set_snooze(&mut self, id: TicketId, until: Timestamp) -> Result<()> {
        self.clear_snooze(id)?;
        self.tx.open_table(SNOOZED)?.insert(id.0, until.0)?;
        self.tx.open_table(SNOOZE_DUE)?.insert((until.0, id.0), ())?;
        Ok(())
    }

    pub fn clear_snooze(&mut self, id: TicketId) -> Result<()> {
        let old = self.tx.open_table(SNOOZED)?.remove(id.0)?.map(|v| v.value());
        if let Some(until) = old {
            self.tx.open_table(SNOOZE_DUE)?.remove((until, id.0))?;
        }
        Ok(())
    }

    /// Snoozed tickets due at `now`, earliest first, at most `max`.
    pub fn snooze_due(&self, now: Timestamp, max: usize) -> Result<Vec<TicketId>> {
        let t = self.tx.open_table(SNOOZE_DUE)?;
        let mut out = Vec::new();
        for row in t.range((i64::MIN, 0)..=(now.0, u64::MAX))? {
            out.push(TicketId(row?.0.value().1));
            if out.len() >= max {
                break;
            }
        }
        Ok(out)
    }

    /// Whether the requester was reminded of the Pending spell that began at `since`.
    pub fn reminded(&self, id: TicketId, since: Timestamp) -> Result<bool> {
        Ok(self.tx.open_table(REMINDED)?.get(id.0)?.is_some_and(|v| v.value() == since.0))
    }

    pub fn set_reminded(&mut self, id: TicketId, since: Timestamp) -> Result<()> {
        self.tx.open_table(REMINDED)?.insert(id.0, since.0)?;
        Ok(())
    }
}

/// Sets right each `status_since` row that is missing or whose status is
/// not its ticket's, the spell counting from the ticket's last update: all
/// of them for a data directory from before schema 10, and before schema 15
/// those of tickets changed in Trash (which kept their old row). Returns how
/// many.
pub(crate) fn resync_since(tx: &redb::WriteTransaction) -> Result<u64> {
    let tickets = tx.open_table(super::TICKETS)?;
    let mut since = tx.open_table(STATUS_SINCE)?;
    let mut idx = tx.open_table(IDX_SINCE)?;
    let mut n = 0;
    for row in tickets.iter()? {
        let (k, v) = row?;
        let t = super::codec::decode_ticket(v.value())?;
        let had = since.get(k.value())?.map(|v| v.value());
        if had.is_some_and(|(s, _)| s == t.status.index()) {
            continue;
        }
        if let Some((s, at)) = had {
            idx.remove((s, at, k.value()))?;
        }
        since.insert(k.value(), (t.status.index(), t.updated_at.0))?;
        idx.insert((t.status.index(), t.updated_at.0, k.value()), ())?;
        n += 1;
    }
    Ok(n)
}
