//! The sender allow-list: addresses and whole domains (`@partner.example`)
//! whose mail the spam checks never hold in Junk (`domain::verdict`).

use redb::{ReadableTable, TableDefinition};

use super::{Read, Result, Write};
use crate::domain::Timestamp;

/// Allow-list entry (lower-case address or `@domain`) → when it was added.
pub(crate) const ALLOWED: TableDefinition<&str, i64> = TableDefinition::new("allowed_senders");

impl Read {
    /// Every entry with when it was added, in order.
    pub fn allowed_senders(&self) -> Result<Vec<(String, Timestamp)>> {
        let t = self.tx.open_table(ALLOWED)?;
        let mut out = Vec::new();
        for row in t.iter()? {
            let (k, v) = row?;
            out.push((k.value().to_string(), Timestamp(v.value())));
        }
        Ok(out)
    }
}

impl Write {
    /// Adds an entry (as `domain::verdict::allow_entry` made it).
    pub fn allow_sender(&mut self, entry: &str, at: Timestamp) -> Result<()> {
        self.tx.open_table(ALLOWED)?.insert(entry, at.0)?;
        Ok(())
    }

    /// Removes an entry; whether there was one.
    pub fn disallow_sender(&mut self, entry: &str) -> Result<bool> {
        Ok(self.tx.open_table(ALLOWED)?.remove(entry)?.is_some())
    }
}
