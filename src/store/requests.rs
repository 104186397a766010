//! Requests from the help page's form that wait for their sender to confirm
//! the address (kept by the hash of the mailed token, a day at most).

use redb::{ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use super::{Result, Write, codec, sha256_hex};
use crate::domain::Timestamp;

/// Hash of the confirmation token → the request.
pub(crate) const PENDING_REQUESTS: TableDefinition<&str, &[u8]> = TableDefinition::new("pending_requests");

/// A request as the form sent it, files and all.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingRequest {
    pub name: String,
    pub email: String,
    pub subject: String,
    pub body: String,
    pub department: String,
    /// (file name, content type, bytes).
    pub files: Vec<(String, String, Vec<u8>)>,
    pub at: Timestamp,
}

impl Write {
    /// Keeps a request until its token is used; requests older than
    /// `older_than` go at the same time.
    pub fn put_pending_request(&mut self, token: &str, r: &PendingRequest, older_than: Timestamp) -> Result<()> {
        let mut t = self.tx.open_table(PENDING_REQUESTS)?;
        let mut stale = Vec::new();
        for row in t.iter()? {
            let (k, v) = row?;
            let old: PendingRequest = codec::decode(v.value(), "pending_requests")?;
            if old.at.0 < older_than.0 {
                stale.push(k.value().to_string());
            }
        }
        for k in stale {
            t.remove(k.as_str())?;
        }
        t.insert(sha256_hex(token.as_bytes()).as_str(), codec::encode(r).as_slice())?;
        Ok(())
    }

    /// Takes the request of a token (it works once).
    pub fn take_pending_request(&mut self, token: &str) -> Result<Option<PendingRequest>> {
        let mut t = self.tx.open_table(PENDING_REQUESTS)?;
        let found = t.remove(sha256_hex(token.as_bytes()).as_str())?.map(|v| codec::decode(v.value(), "pending_requests")).transpose()?;
        Ok(found)
    }
}

pub(crate) fn create_tables(tx: &redb::WriteTransaction) -> Result<()> {
    tx.open_table(PENDING_REQUESTS)?;
    Ok(())
}
