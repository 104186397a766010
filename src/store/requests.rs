//! Requests from the help page's form that wait for their sender to confirm
//! the address (kept by the hash of the mailed token, a day at most).

use redb::{ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use super::{Result, Write, codec, sha256_hex};
use crate::domain::Timestamp;

/// Hash of the confirmation token → the request.
pub(crate) const PENDING_REQUESTS: TableDefinition<&str, &[u8]> = TableDefinition::new("pending_requests");
/// (when it came, hash) of each waiting request: pruning reads no request.
pub(crate) const PENDING_BY_TIME: TableDefinition<(i64, &str), ()> = TableDefinition::new("pending_by_time");
/// Hash → the request's help topic details (a table of their own, so the
/// request's record keeps its shape).
pub(crate) const PENDING_DETAILS: TableDefinition<&str, &[u8]> = TableDefinition::new("pending_details");

/// What a request's help topic added: its category and custom field values.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RequestDetails {
    /// Empty: the desk's default.
    pub category: String,
    pub fields: Vec<(String, Vec<String>)>,
}

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
    pub fn put_pending_request(&mut self, token: &str, r: &PendingRequest, details: &RequestDetails, older_than: Timestamp) -> Result<()> {
        let mut t = self.tx.open_table(PENDING_REQUESTS)?;
        let mut by_time = self.tx.open_table(PENDING_BY_TIME)?;
        let mut extra = self.tx.open_table(PENDING_DETAILS)?;
        let stale: Vec<(i64, String)> = by_time
            .range((i64::MIN, "")..(older_than.0, ""))?
            .map(|row| row.map(|(k, _)| (k.value().0, k.value().1.to_string())))
            .collect::<std::result::Result<_, _>>()?;
        for (at, hash) in stale {
            t.remove(hash.as_str())?;
            by_time.remove((at, hash.as_str()))?;
            extra.remove(hash.as_str())?;
        }
        let hash = sha256_hex(token.as_bytes());
        t.insert(hash.as_str(), codec::encode(r).as_slice())?;
        by_time.insert((r.at.0, hash.as_str()), ())?;
        if *details != RequestDetails::default() {
            extra.insert(hash.as_str(), codec::encode(details).as_slice())?;
        }
        Ok(())
    }

    /// Takes the request of a token (it works once).
    pub fn take_pending_request(&mut self, token: &str) -> Result<Option<(PendingRequest, RequestDetails)>> {
        let hash = sha256_hex(token.as_bytes());
        let mut t = self.tx.open_table(PENDING_REQUESTS)?;
        let found: Option<PendingRequest> = t.remove(hash.as_str())?.map(|v| codec::decode(v.value(), "pending_requests")).transpose()?;
        let Some(r) = found else { return Ok(None) };
        self.tx.open_table(PENDING_BY_TIME)?.remove((r.at.0, hash.as_str()))?;
        let details = self
            .tx
            .open_table(PENDING_DETAILS)?
            .remove(hash.as_str())?
            .map(|v| codec::decode(v.value(), "pending_details"))
            .transpose()?
            .unwrap_or_default();
        Ok(Some((r, details)))
    }
}

pub(crate) fn create_tables(tx: &redb::WriteTransaction) -> Result<()> {
    tx.open_table(PENDING_REQUESTS)?;
    tx.open_table(PENDING_BY_TIME)?;
    tx.open_table(PENDING_DETAILS)?;
    Ok(())
}
