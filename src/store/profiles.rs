//! Agents' own settings (signature, time zone, language) and the one-time links that
//! set a password: a reset asked for on the login page, or the invitation
//! a new agent gets. Links are kept by the hash of their token.

use redb::{ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use super::{Read, Result, Write, codec, sha256_hex};
use crate::domain::{PersonId, Timestamp};

/// Person id → their profile.
pub(crate) const PROFILES: TableDefinition<u64, &[u8]> = TableDefinition::new("profiles");
/// Person id → their UI language code (`de`); absent = the browser's.
pub(crate) const LANGUAGES: TableDefinition<u64, &str> = TableDefinition::new("languages");
/// Hash of a link's token → the link.
pub(crate) const PASSWORD_LINKS: TableDefinition<&str, &[u8]> = TableDefinition::new("password_links");

/// What an agent sets for themself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// Appended to their public replies from the web UI and the API.
    pub signature: String,
    /// IANA time zone for every date they are shown; empty = UTC.
    pub time_zone: String,
    /// UI language code; empty = the browser's. Kept in its own table
    /// (`languages`), so the profile record keeps its shape.
    #[serde(skip)]
    pub language: String,
}

/// Why a password link was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LinkKind {
    Reset,
    Invite,
}

/// A one-time link that sets a password.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PasswordLink {
    pub person: PersonId,
    pub kind: LinkKind,
    pub until: Timestamp,
}

macro_rules! profile_reads {
    () => {
        pub fn profile(&self, person: PersonId) -> Result<Profile> {
            let t = self.tx.open_table(PROFILES)?;
            let mut p: Profile = t.get(person.0)?.map(|v| codec::decode(v.value(), "profiles")).transpose()?.unwrap_or_default();
            if let Some(l) = self.tx.open_table(LANGUAGES)?.get(person.0)? {
                p.language = l.value().to_string();
            }
            Ok(p)
        }

        pub fn password_link(&self, token: &str) -> Result<Option<PasswordLink>> {
            let t = self.tx.open_table(PASSWORD_LINKS)?;
            t.get(sha256_hex(token.as_bytes()).as_str())?.map(|v| codec::decode(v.value(), "password_links")).transpose()
        }
    };
}

impl Read {
    profile_reads!();
}

impl Write {
    profile_reads!();

    pub fn put_profile(&mut self, person: PersonId, p: &Profile) -> Result<()> {
        self.tx.open_table(PROFILES)?.insert(person.0, codec::encode(p).as_slice())?;
        let mut langs = self.tx.open_table(LANGUAGES)?;
        if p.language.is_empty() {
            langs.remove(person.0)?;
        } else {
            langs.insert(person.0, p.language.as_str())?;
        }
        Ok(())
    }

    /// Stores a link; earlier links of the same person go (only the newest works),
    /// and so do expired ones.
    pub fn put_password_link(&mut self, token: &str, link: &PasswordLink, now: Timestamp) -> Result<()> {
        let mut t = self.tx.open_table(PASSWORD_LINKS)?;
        let mut doomed = Vec::new();
        for row in t.iter()? {
            let (k, v) = row?;
            let l: PasswordLink = codec::decode(v.value(), "password_links")?;
            if l.person == link.person || l.until.0 <= now.0 {
                doomed.push(k.value().to_string());
            }
        }
        for k in doomed {
            t.remove(k.as_str())?;
        }
        t.insert(sha256_hex(token.as_bytes()).as_str(), codec::encode(link).as_slice())?;
        Ok(())
    }

    /// Uses up a link.
    pub fn delete_password_link(&mut self, token: &str) -> Result<()> {
        self.tx.open_table(PASSWORD_LINKS)?.remove(sha256_hex(token.as_bytes()).as_str())?;
        Ok(())
    }
}
