//! Satisfaction ratings, one record per ticket (the latest answer).

use redb::{ReadableTable, TableDefinition};

use super::{Read, Result, Write, codec};
use crate::domain::TicketId;
use crate::domain::rating::Rating;

/// Ticket id → its rating.
pub(crate) const RATINGS: TableDefinition<u64, &[u8]> = TableDefinition::new("ratings");

macro_rules! rating_reads {
    () => {
        /// A ticket's rating, if its requester gave one.
        pub fn rating(&self, ticket: TicketId) -> Result<Option<Rating>> {
            let t = self.tx.open_table(RATINGS)?;
            t.get(ticket.0)?.map(|v| codec::decode(v.value(), "ratings")).transpose()
        }
    };
}

impl Read {
    rating_reads!();
}

impl Write {
    rating_reads!();

    pub fn put_rating(&mut self, ticket: TicketId, rating: &Rating) -> Result<()> {
        self.tx.open_table(RATINGS)?.insert(ticket.0, codec::encode(rating).as_slice())?;
        Ok(())
    }
}

impl Write {
    /// A purged ticket's rating goes with it.
    pub(crate) fn forget_rating(&mut self, ticket: TicketId) -> Result<()> {
        self.tx.open_table(RATINGS)?.remove(ticket.0)?;
        Ok(())
    }
}

pub(crate) fn create_tables(tx: &redb::WriteTransaction) -> Result<()> {
    tx.open_table(RATINGS)?;
    Ok(())
}
