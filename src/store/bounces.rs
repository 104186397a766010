//! Delivery failures reported back by mail (DSNs, RFC 3464): addresses that
//! bounced hard. The desk stops copying them on conversations until they
//! write again; the Outbox lists them.

use redb::{ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use super::{Read, Result, Write, codec};
use crate::domain::Timestamp;

/// Lower-case address → `Bounced`: its last hard bounce.
pub(crate) const BOUNCED: TableDefinition<&str, &[u8]> = TableDefinition::new("bounced");

/// An address's last hard bounce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bounced {
    pub at: Timestamp,
    pub reason: String,
}

impl Read {
    /// Every address that bounced hard, the latest first, at most `max`.
    pub fn bounced_all(&self, max: usize) -> Result<Vec<(String, Bounced)>> {
        let t = self.tx.open_table(BOUNCED)?;
        let mut out = Vec::new();
        for row in t.iter()? {
            let (k, v) = row?;
            out.push((k.value().to_string(), codec::decode::<Bounced>(v.value(), "bounced")?));
        }
        out.sort_by_key(|(_, b)| std::cmp::Reverse(b.at));
        out.truncate(max);
        Ok(out)
    }

    /// The last hard bounce of an address, while it stands.
    pub fn bounced(&self, email: &str) -> Result<Option<Bounced>> {
        bounced_in(&self.tx.open_table(BOUNCED)?, email)
    }
}

fn bounced_in(t: &impl ReadableTable<&'static str, &'static [u8]>, email: &str) -> Result<Option<Bounced>> {
    t.get(email.to_lowercase().as_str())?.map(|v| codec::decode(v.value(), "bounced")).transpose()
}

impl Write {
    /// Records a hard bounce of `email`.
    pub fn set_bounced(&mut self, email: &str, b: &Bounced) -> Result<()> {
        self.tx.open_table(BOUNCED)?.insert(email.to_lowercase().as_str(), codec::encode(b).as_slice())?;
        Ok(())
    }

    /// The last hard bounce of an address, while it stands.
    pub fn bounced(&self, email: &str) -> Result<Option<Bounced>> {
        bounced_in(&self.tx.open_table(BOUNCED)?, email)
    }

    /// Mail came from `email`: it lives; true when it had bounced.
    pub fn clear_bounced(&mut self, email: &str) -> Result<bool> {
        Ok(self.tx.open_table(BOUNCED)?.remove(email.to_lowercase().as_str())?.is_some())
    }
}
