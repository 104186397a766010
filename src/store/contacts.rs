//! People's phone numbers (a table of their own, so the person record keeps
//! its shape): one number per person, as the agent or the import wrote it.

use redb::{ReadableTable, TableDefinition};

use super::{Read, Result, Write};
use crate::domain::PersonId;

/// Person id → phone number.
pub(crate) const PERSON_PHONES: TableDefinition<u64, &str> = TableDefinition::new("person_phones");

macro_rules! contact_reads {
    () => {
        /// A person's phone number (empty when none).
        pub fn person_phone(&self, person: PersonId) -> Result<String> {
            let t = self.tx.open_table(PERSON_PHONES)?;
            Ok(t.get(person.0)?.map(|v| v.value().to_string()).unwrap_or_default())
        }
    };
}

impl Read {
    contact_reads!();
}

impl Write {
    contact_reads!();

    /// Sets (or, empty, clears) a person's phone number.
    pub fn set_person_phone(&mut self, person: PersonId, phone: &str) -> Result<()> {
        let mut t = self.tx.open_table(PERSON_PHONES)?;
        if phone.trim().is_empty() {
            t.remove(person.0)?;
        } else {
            t.insert(person.0, phone.trim())?;
        }
        Ok(())
    }
}

pub(crate) fn create_tables(tx: &redb::WriteTransaction) -> Result<()> {
    tx.open_table(PERSON_PHONES)?;
    Ok(())
}
