//! People's phone numbers (a table of their own, so the person record keeps
//! its shape): one number per person, as the agent or the import wrote it;
//! and the customers' sign-in state: mailed links already used (each works
//! once; kept until it would have expired) and when a customer last signed
//! out (sessions from before are over).

use redb::{ReadableTable, TableDefinition};

use super::{Read, Result, Write};
use crate::domain::PersonId;

/// Person id → phone number.
pub(crate) const PERSON_PHONES: TableDefinition<u64, &str> = TableDefinition::new("person_phones");
/// Signature of a used sign-in link → when it expires (seconds).
pub(crate) const USED_LINKS: TableDefinition<&str, i64> = TableDefinition::new("used_links");
/// Person id → when they last signed out (seconds).
pub(crate) const SIGNED_OUT: TableDefinition<u64, i64> = TableDefinition::new("signed_out");

macro_rules! contact_reads {
    () => {
        /// A person's phone number (empty when none).
        pub fn person_phone(&self, person: PersonId) -> Result<String> {
            let t = self.tx.open_table(PERSON_PHONES)?;
            Ok(t.get(person.0)?.map(|v| v.value().to_string()).unwrap_or_default())
        }

        /// Whether a sign-in link (by its signature) was used.
        pub fn link_used(&self, sig: &str) -> Result<bool> {
            Ok(self.tx.open_table(USED_LINKS)?.get(sig)?.is_some())
        }

        /// When a customer last signed out (seconds; 0: never).
        pub fn signed_out_at(&self, person: PersonId) -> Result<i64> {
            Ok(self.tx.open_table(SIGNED_OUT)?.get(person.0)?.map(|v| v.value()).unwrap_or(0))
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

impl Write {
    /// Marks a sign-in link used; `false` when it was already. Links past
    /// their expiry (`now`, seconds) are forgotten at the same time.
    pub fn use_link(&mut self, sig: &str, expires: i64, now: i64) -> Result<bool> {
        let mut t = self.tx.open_table(USED_LINKS)?;
        if t.get(sig)?.is_some() {
            return Ok(false);
        }
        let stale: Vec<String> =
            t.iter()?.filter_map(|row| row.ok()).filter(|(_, v)| v.value() < now).map(|(k, _)| k.value().to_string()).collect();
        for k in stale {
            t.remove(k.as_str())?;
        }
        t.insert(sig, expires)?;
        Ok(true)
    }

    /// A customer signed out at `now` (seconds): their sessions end.
    pub fn sign_out_customer(&mut self, person: PersonId, now: i64) -> Result<()> {
        self.tx.open_table(SIGNED_OUT)?.insert(person.0, now)?;
        Ok(())
    }
}

pub(crate) fn create_tables(tx: &redb::WriteTransaction) -> Result<()> {
    tx.open_table(USED_LINKS)?;
    tx.open_table(SIGNED_OUT)?;
    tx.open_table(PERSON_PHONES)?;
    Ok(())
}
