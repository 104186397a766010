//! The spool log: accepted mail waiting to become tickets, in a redb file of
//! its own (`spool.redb`) beside the main database, so accepting a message
//! (group commit + fsync before 250) never waits behind ticket transactions
//! on the main database's single writer.
//!
//! Exactly once across the two files: the ticket transaction in the main
//! database marks the spool id it consumed (`SPOOL_DONE`); only after that
//! commit is the entry dropped from the log. A crash in between leaves the
//! entry and its mark: the worker sees the mark, skips the message and drops
//! the entry. Marks whose entries are gone are pruned later. Spool ids come
//! from the log's own counter and are never reused.

use std::path::Path;

use redb::{ReadableTable, ReadableTableMetadata, TableDefinition};

use super::db::Handle;
use super::{BLOB_CHUNK, Read, Result, SPOOL, SPOOL_CHUNKS, SpoolEntry, StoreError, Write, codec};
use crate::domain::SpoolId;

/// The spool log's file inside the data directory.
pub const SPOOL_FILE: &str = "spool.redb";

/// Page cache of the spool log: it holds only messages in flight.
const SPOOL_CACHE_BYTES: usize = 4 * 1024 * 1024;

/// (main database) spool id → (): the ticket transaction consumed it.
pub(crate) const SPOOL_DONE: TableDefinition<u64, ()> = TableDefinition::new("spool_done");

/// Marks pruned per pass.
const PRUNE_MAX: usize = 10_000;

/// The log of accepted mail (see the module doc).
pub struct SpoolLog {
    h: Handle,
}

impl SpoolLog {
    pub(crate) fn handle(&self) -> &Handle {
        &self.h
    }

    /// Opens (or creates) the log in `dir`; messages an older release left in
    /// the main database's spool move into it first (same ids).
    pub(crate) fn open(dir: &Path, main: &Handle) -> Result<SpoolLog> {
        let log = SpoolLog { h: Handle::open(dir.join(SPOOL_FILE), SPOOL_CACHE_BYTES)? };
        // Opening the tables in a write transaction creates them, so reads
        // never meet a missing table.
        log.write(|w| {
            w.tx.open_table(SPOOL)?;
            w.tx.open_table(SPOOL_CHUNKS)?;
            w.tx.open_table(super::META)?;
            w.tx.open_table(super::imap::IMAP_MARKS)?;
            Ok(())
        })?;
        log.adopt_legacy(main)?;
        log.ids_after_marks(main)?;
        Ok(log)
    }

    /// Moves the old in-database spool here: copied durably first, then
    /// deleted from the main database. A crash between the two copies again
    /// (same ids, same bytes); the done marks keep it exactly once.
    fn adopt_legacy(&self, main: &Handle) -> Result<()> {
        loop {
            let r = main.read()?;
            let ids = r.spool_ids(256)?;
            if ids.is_empty() {
                return Ok(());
            }
            let next = r.meta("next.spool")?;
            let mut items = Vec::with_capacity(ids.len());
            for &id in &ids {
                if let Some((e, raw)) = r.spool_entry(id)? {
                    items.push((id, e, raw));
                }
            }
            drop(r);
            self.write(|w| {
                for (id, e, raw) in &items {
                    w.put_spool_at(id.0, e, raw)?;
                }
                if w.meta("next.spool")? < next {
                    w.set_meta("next.spool", next)?;
                }
                Ok(())
            })?;
            main.write_with(redb::Durability::Immediate, |w| {
                for &id in &ids {
                    w.delete_spool(id)?;
                }
                Ok::<_, StoreError>(())
            })?;
            tracing::info!("moved {} message(s) from the database's spool to {SPOOL_FILE}", ids.len());
        }
    }

    /// New ids come after every id the main database knows (its done marks
    /// and the old in-database counter), even when this file is new (moved
    /// away, say): a stale mark must never match a new message.
    fn ids_after_marks(&self, main: &Handle) -> Result<()> {
        let r = main.read()?;
        let last_mark = r.tx.open_table(SPOOL_DONE)?.last()?.map(|(k, _)| k.value()).unwrap_or(0);
        let floor = r.meta("next.spool")?.max(last_mark + 1);
        drop(r);
        if self.h.read()?.meta("next.spool")? >= floor {
            return Ok(());
        }
        self.write(|w| w.set_meta("next.spool", floor))
    }

    /// One durable transaction on the log. Every error is noted, those of
    /// the body too (they are all storage errors here), so an I/O failure
    /// inside it refuses writes until recovery.
    pub(super) fn write<T>(&self, f: impl FnOnce(&mut Write) -> Result<T>) -> Result<T> {
        let (out, _) = self.h.write_with(redb::Durability::Immediate, f).inspect_err(|e| self.h.note(e))?;
        Ok(out)
    }

    /// Durably stores messages in one commit (one fsync); returns their ids.
    pub fn put_batch(&self, items: &[(&SpoolEntry, &[u8])]) -> Result<Vec<SpoolId>> {
        self.write(|w| items.iter().map(|(e, raw)| w.put_spool(e, raw)).collect())
    }

    /// Drops processed messages (their done marks are in the main database).
    pub fn remove(&self, ids: &[SpoolId]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        self.write(|w| {
            for &id in ids {
                w.delete_spool(id)?;
            }
            Ok(())
        })
    }

    /// Ids waiting, oldest first.
    pub fn ids(&self, max: usize) -> Result<Vec<SpoolId>> {
        self.h.read()?.spool_ids(max)
    }

    pub fn entry(&self, id: SpoolId) -> Result<Option<(SpoolEntry, Vec<u8>)>> {
        self.h.read()?.spool_entry(id)
    }

    pub fn len(&self) -> Result<u64> {
        self.h.read()?.spool_len()
    }

    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// When the oldest message still waiting was accepted.
    pub fn oldest(&self) -> Result<Option<crate::domain::Timestamp>> {
        self.h.read()?.spool_oldest()
    }

    pub(crate) fn io_failure(&self) -> Option<String> {
        self.h.io_failure()
    }

    /// Those of `ids` the log no longer holds (one snapshot for all).
    fn gone(&self, ids: Vec<SpoolId>) -> Result<Vec<SpoolId>> {
        let r = self.h.read()?;
        let t = r.tx.open_table(SPOOL)?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if t.get(id.0)?.is_none() {
                out.push(id);
            }
        }
        Ok(out)
    }
}

impl super::Store {
    /// Deletes done marks whose spool entries are gone (their removal is
    /// durable, so the mark is no longer needed); returns how many. Run by the
    /// mail worker, the only writer of marks and removals.
    pub fn prune_spool_marks(&self) -> Result<usize> {
        let gone = self.spool().gone(self.read()?.spool_done(PRUNE_MAX)?)?;
        if gone.is_empty() {
            return Ok(0);
        }
        self.write(|w| {
            let mut t = w.tx.open_table(SPOOL_DONE)?;
            for &id in &gone {
                t.remove(id.0)?;
            }
            Ok::<_, StoreError>(())
        })?;
        Ok(gone.len())
    }
}

impl Read {
    /// Spool ids waiting to be processed, oldest first.
    pub fn spool_ids(&self, max: usize) -> Result<Vec<SpoolId>> {
        Ok(self.first_keys(SPOOL, max)?.into_iter().map(SpoolId).collect())
    }

    /// The first `max` keys of a table keyed by id, in order.
    fn first_keys<V: redb::Value + 'static>(&self, table: TableDefinition<u64, V>, max: usize) -> Result<Vec<u64>> {
        let t = self.tx.open_table(table)?;
        let mut out = Vec::new();
        for row in t.iter()?.take(max) {
            out.push(row?.0.value());
        }
        Ok(out)
    }

    pub fn spool_entry(&self, id: SpoolId) -> Result<Option<(SpoolEntry, Vec<u8>)>> {
        let id = id.0;
        let t = self.tx.open_table(SPOOL)?;
        let Some(e) = t.get(id)?.map(|v| codec::decode::<SpoolEntry>(v.value(), "spool")).transpose()? else { return Ok(None) };
        let chunks = self.tx.open_table(SPOOL_CHUNKS)?;
        let mut raw = Vec::with_capacity(e.size as usize);
        for row in chunks.range((id, 0)..=(id, u32::MAX))? {
            raw.extend_from_slice(row?.1.value());
        }
        Ok(Some((e, raw)))
    }

    /// When the oldest message still in the spool was accepted.
    pub fn spool_oldest(&self) -> Result<Option<crate::domain::Timestamp>> {
        let t = self.tx.open_table(SPOOL)?;
        let Some(first) = t.first()? else { return Ok(None) };
        Ok(Some(codec::decode::<SpoolEntry>(first.1.value(), "spool")?.received_at))
    }

    pub fn spool_len(&self) -> Result<u64> {
        Ok(self.tx.open_table(SPOOL)?.len()?)
    }

    /// (main database) consumed spool ids, oldest first.
    pub fn spool_done(&self, max: usize) -> Result<Vec<SpoolId>> {
        Ok(self.first_keys(SPOOL_DONE, max)?.into_iter().map(SpoolId).collect())
    }
}

impl Write {
    /// Puts one accepted message in the spool of this transaction's file;
    /// returns its id. Mail goes through `SpoolLog::put_batch`; on the main
    /// database this only writes the schema-4 table (what migration tests
    /// need), which is moved to the log at the next open.
    pub fn put_spool(&mut self, entry: &SpoolEntry, raw: &[u8]) -> Result<SpoolId> {
        let id = self.next_id("spool")?;
        self.put_spool_at(id, entry, raw)?;
        Ok(SpoolId(id))
    }

    fn put_spool_at(&mut self, id: u64, entry: &SpoolEntry, raw: &[u8]) -> Result<()> {
        self.tx.open_table(SPOOL)?.insert(id, codec::encode(entry).as_slice())?;
        let mut chunks = self.tx.open_table(SPOOL_CHUNKS)?;
        for (i, c) in raw.chunks(BLOB_CHUNK).enumerate() {
            chunks.insert((id, i as u32), c)?;
        }
        Ok(())
    }

    pub(crate) fn delete_spool(&mut self, id: SpoolId) -> Result<bool> {
        let id = id.0;
        let existed = self.tx.open_table(SPOOL)?.remove(id)?.is_some();
        let mut chunks = self.tx.open_table(SPOOL_CHUNKS)?;
        let keys: Vec<(u64, u32)> =
            chunks.range((id, 0)..=(id, u32::MAX))?.map(|r| r.map(|(k, _)| k.value())).collect::<std::result::Result<_, _>>()?;
        for k in keys {
            chunks.remove(k)?;
        }
        Ok(existed)
    }

    /// (main database) Records that this transaction consumes spool entry
    /// `id`; false when an earlier one already did (a retry after a crash).
    pub fn mark_spool_done(&mut self, id: SpoolId) -> Result<bool> {
        Ok(self.tx.open_table(SPOOL_DONE)?.insert(id.0, ())?.is_none())
    }
}
