//! The store's side of a backup: both database files copied as of one
//! instant while the desk runs.
//!
//! Holding a write transaction on a redb file keeps every writer out while
//! its committed state (all commits are durable) sits whole in the file, so a
//! byte copy then is a database as of that commit (redb repairs its
//! allocator state when the copy is first opened). The spool log is locked
//! first and the main database second, and both stay locked until the spool
//! copy is done: the two copies agree on which accepted mail is already a
//! ticket (its done mark) and which still waits, so no message is lost or
//! made a ticket twice. The spool is released before the main file is copied,
//! so SMTP accepts again within the spool's copy time; ticket writes wait
//! for the main file's copy (a local copy, at disk speed, before compression).

use std::path::{Path, PathBuf};

use redb::ReadableTableMetadata;

use super::{ENTRIES, PEOPLE, Result, Store, TICKETS};

/// What a snapshot holds: its files and what the desk had then.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// (name in the data dir, the copy's path)
    pub files: Vec<(String, PathBuf)>,
    pub tickets: u64,
    pub entries: u64,
    pub people: u64,
    pub spooled: u64,
    pub schema_version: u64,
}

impl Store {
    /// Tickets, thread entries and people stored now.
    pub fn counts(&self) -> Result<(u64, u64, u64)> {
        let r = self.read()?;
        Ok((r.tx.open_table(TICKETS)?.len()?, r.tx.open_table(ENTRIES)?.len()?, r.tx.open_table(PEOPLE)?.len()?))
    }

    /// Copies the spool log and the main database into `into` (a directory
    /// on the same disk; it must exist) as of one instant (see the module doc).
    pub fn snapshot(&self, into: &Path) -> Result<Snapshot> {
        let spool = self.spool.handle();
        let spool_db = spool.db()?;
        let main_db = self.main.db()?;
        let spool_lock = spool_db.begin_write()?;
        let main_lock = main_db.begin_write()?;
        let mut snap = Snapshot::default();
        (snap.tickets, snap.entries, snap.people) = self.counts()?;
        snap.schema_version = self.read()?.meta("schema_version")?;
        snap.spooled = self.spool.len()?;
        let copy = |from: &Path, name: &str| -> Result<(String, PathBuf)> {
            let to = into.join(name);
            std::fs::copy(from, &to)?;
            Ok((name.to_string(), to))
        };
        snap.files.push(copy(spool.path(), super::spool::SPOOL_FILE)?);
        spool_lock.abort()?;
        snap.files.push(copy(self.main.path(), super::DB_FILE)?);
        main_lock.abort()?;
        Ok(snap)
    }
}
