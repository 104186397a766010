//! Two-factor records: an agent's TOTP secret (pending until confirmed),
//! the hashes of their unused recovery codes and the last TOTP step used;
//! and the browsers they chose to trust, by the hash of the cookie's token.

use redb::{ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use super::{Read, Result, Write, codec, sha256_hex};
use crate::domain::{PersonId, Timestamp};

/// Person id → their two-factor record.
pub(crate) const TWO_FACTOR: TableDefinition<u64, &[u8]> = TableDefinition::new("two_factor");
/// Hash of a trusted browser's token → (person, until, ms).
pub(crate) const TRUSTED_BROWSERS: TableDefinition<&str, (u64, i64)> = TableDefinition::new("trusted_browsers");

/// An agent's second factor.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TwoFactor {
    /// The TOTP secret (raw bytes).
    pub secret: Vec<u8>,
    /// False while enrolment waits for the first code.
    pub enabled: bool,
    pub created_at: Timestamp,
    /// SHA-256 (hex) of each recovery code not used yet.
    pub recovery: Vec<String>,
    /// The last TOTP step accepted (a code works once).
    pub last_step: u64,
}

impl Read {
    /// Whether the agent has a confirmed second factor (pages ask this when 2FA is required).
    pub fn has_two_factor(&self, person: PersonId) -> Result<bool> {
        Ok(self.two_factor(person)?.is_some_and(|t| t.enabled))
    }
}

macro_rules! two_factor_reads {
    () => {
        pub fn two_factor(&self, person: PersonId) -> Result<Option<TwoFactor>> {
            let t = self.tx.open_table(TWO_FACTOR)?;
            t.get(person.0)?.map(|v| codec::decode(v.value(), "two_factor")).transpose()
        }

        /// The person a trusted-browser token belongs to, while it lasts.
        pub fn trusted_browser(&self, token: &str, now: Timestamp) -> Result<Option<PersonId>> {
            let t = self.tx.open_table(TRUSTED_BROWSERS)?;
            Ok(t.get(sha256_hex(token.as_bytes()).as_str())?
                .map(|v| v.value())
                .filter(|(_, until)| *until > now.0)
                .map(|(p, _)| PersonId(p)))
        }
    };
}

impl Read {
    two_factor_reads!();
}

impl Write {
    two_factor_reads!();

    pub fn put_two_factor(&mut self, person: PersonId, t: &TwoFactor) -> Result<()> {
        self.tx.open_table(TWO_FACTOR)?.insert(person.0, codec::encode(t).as_slice())?;
        Ok(())
    }

    /// Removes an agent's second factor and every browser they trusted.
    pub fn delete_two_factor(&mut self, person: PersonId) -> Result<()> {
        self.tx.open_table(TWO_FACTOR)?.remove(person.0)?;
        self.forget_trusted_browsers(person)
    }

    /// Forgets every browser the agent trusted (their password changed).
    pub fn forget_trusted_browsers(&mut self, person: PersonId) -> Result<()> {
        let mut t = self.tx.open_table(TRUSTED_BROWSERS)?;
        let doomed: Vec<String> =
            t.iter()?.filter_map(|r| r.ok()).filter(|(_, v)| v.value().0 == person.0).map(|(k, _)| k.value().to_string()).collect();
        for k in doomed {
            t.remove(k.as_str())?;
        }
        Ok(())
    }

    /// Trusts a browser (by its token) for `person` until `until`; drops expired ones.
    pub fn trust_browser(&mut self, token: &str, person: PersonId, until: Timestamp, now: Timestamp) -> Result<()> {
        let mut t = self.tx.open_table(TRUSTED_BROWSERS)?;
        let expired: Vec<String> =
            t.iter()?.filter_map(|r| r.ok()).filter(|(_, v)| v.value().1 <= now.0).map(|(k, _)| k.value().to_string()).collect();
        for k in expired {
            t.remove(k.as_str())?;
        }
        t.insert(sha256_hex(token.as_bytes()).as_str(), (person.0, until.0))?;
        Ok(())
    }
}
