//! Time agents record with their replies and notes: the limit, each
//! ticket's total by agent for its page and the API, and totals for a page
//! of tickets (the CSV export).

use std::collections::HashMap;

use super::{Desk, Result, TicketView};
use crate::domain::{PersonId, TicketId};

/// Most minutes one reply or note may record (a week of work).
pub const MAX_MINUTES: u32 = 7 * 24 * 60;

impl TicketView {
    /// Minutes recorded in all, and by agent (most first).
    pub fn time_by_agent(&self) -> (u64, Vec<(PersonId, u64)>) {
        let mut by: Vec<(PersonId, u64)> = Vec::new();
        for (_, who, m) in &self.time_spent {
            match by.iter_mut().find(|(p, _)| p == who) {
                Some((_, n)) => *n += *m as u64,
                None => by.push((*who, *m as u64)),
            }
        }
        by.sort_by_key(|(_, m)| std::cmp::Reverse(*m));
        (by.iter().map(|(_, m)| m).sum(), by)
    }
}

impl Desk {
    /// Total minutes recorded on each of these tickets (absent: none); the
    /// caller has checked the actor may see them.
    pub fn time_totals(&self, tickets: &[TicketId]) -> Result<HashMap<TicketId, u64>> {
        Ok(self.store.read()?.time_totals(tickets)?)
    }
}
