//! Where the fetching of each `[[imap]]` mailbox stands, kept in the spool
//! log beside the messages it fetched and written in the same transaction:
//! a message is in the spool exactly when its UID is at or below the mark,
//! so a crash or a dropped connection neither loses nor repeats one.

use redb::{ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use super::spool::SpoolLog;
use super::{Result, SpoolEntry, codec};
use crate::domain::SpoolId;

/// (spool log) mailbox key (`user@host/folder`) → its `ImapMark`.
pub(crate) const IMAP_MARKS: TableDefinition<&str, &[u8]> = TableDefinition::new("imap_marks");

/// One mailbox's position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ImapMark {
    /// The folder's UIDVALIDITY the UIDs below belong to.
    pub uidvalidity: u32,
    /// Every message up to this UID is taken (or was deliberately left).
    pub last_uid: u32,
    /// Up to this UID only unread messages are taken: the folder's old
    /// mail when the desk first looked (or when UIDVALIDITY changed).
    pub backlog_until: u32,
}

impl SpoolLog {
    /// Durably stores fetched messages and the mailbox's new mark in one
    /// commit; returns the messages' spool ids.
    pub fn put_fetched(&self, items: &[(&SpoolEntry, &[u8])], key: &str, mark: &ImapMark) -> Result<Vec<SpoolId>> {
        self.write(|w| {
            let ids = items.iter().map(|(e, raw)| w.put_spool(e, raw)).collect::<Result<Vec<SpoolId>>>()?;
            w.tx.open_table(IMAP_MARKS)?.insert(key, codec::encode(mark).as_slice())?;
            Ok(ids)
        })
    }

    /// The mailbox's mark, if it was ever fetched.
    pub fn imap_mark(&self, key: &str) -> Result<Option<ImapMark>> {
        let r = self.handle().read()?;
        let t = r.tx.open_table(IMAP_MARKS)?;
        let v = t.get(key)?;
        v.map(|v| codec::decode::<ImapMark>(v.value(), "imap_marks")).transpose()
    }
}

impl super::Store {
    /// `SpoolLog::put_fetched`, waking the mail worker when messages came.
    pub fn put_spool_fetched(&self, items: &[(&SpoolEntry, &[u8])], key: &str, mark: &ImapMark) -> Result<Vec<SpoolId>> {
        let ids = self.spool().put_fetched(items, key, mark)?;
        if !ids.is_empty() {
            self.publish_spool();
        }
        Ok(ids)
    }
}
