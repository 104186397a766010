//! Where the bytes of the database files go: redb's own per-table and
//! per-file figures, for `frontdesk-bench storage` and the admin's view of
//! the data dir.

use std::path::PathBuf;

use redb::{ReadableDatabase, ReadableTableMetadata, TableHandle};

use super::db::{Handle, Store};
use super::{DB_FILE, Result, SPOOL_FILE};

/// One table of one database file.
#[derive(Debug, Clone)]
pub struct TableUse {
    pub name: String,
    pub entries: u64,
    /// Key and value bytes as stored in leaf pages.
    pub stored_bytes: u64,
    /// Per-entry overhead in pages, and branch pages.
    pub metadata_bytes: u64,
    /// Bytes of the table's pages that hold nothing.
    pub fragmented_bytes: u64,
    /// Bytes of the table's pages (leaf and branch, used or not).
    pub page_bytes: u64,
}

/// One database file.
#[derive(Debug, Clone)]
pub struct FileUse {
    pub file: &'static str,
    pub path: PathBuf,
    /// The file's length.
    pub file_bytes: u64,
    /// What it takes on the disk: redb grows a file by doubling it, and the
    /// part not written yet is a hole that takes no space.
    pub disk_bytes: u64,
    /// Pages in use (tables, and redb's own system tables and free lists).
    pub allocated_bytes: u64,
    pub page_size: u64,
    /// Largest first.
    pub tables: Vec<TableUse>,
}

impl FileUse {
    /// Bytes of the file no page uses (freed pages, not yet given back).
    pub fn free_bytes(&self) -> u64 {
        self.file_bytes.saturating_sub(self.allocated_bytes)
    }
}

/// A file's length and pages in use, without its tables.
pub(super) fn file_totals(h: &Handle) -> Result<FileUse> {
    let db = h.db()?;
    let w = db.begin_write()?;
    let totals = w.stats()?;
    w.abort()?;
    let page_size = totals.page_size() as u64;
    let path = h.path().to_path_buf();
    let meta = std::fs::metadata(&path)?;
    #[cfg(unix)]
    let disk_bytes = std::os::unix::fs::MetadataExt::blocks(&meta) * 512;
    #[cfg(not(unix))]
    let disk_bytes = meta.len();
    Ok(FileUse {
        file: "",
        path,
        file_bytes: meta.len(),
        disk_bytes,
        allocated_bytes: totals.allocated_pages() * page_size,
        page_size,
        tables: Vec::new(),
    })
}

fn file_use(h: &Handle, file: &'static str) -> Result<FileUse> {
    let totals = file_totals(h)?;
    let db = h.db()?;
    let r = db.begin_read()?;
    let mut tables = Vec::new();
    for handle in r.list_tables()? {
        let name = handle.name().to_string();
        let t = r.open_untyped_table(handle)?;
        let s = t.stats()?;
        tables.push(TableUse {
            name,
            entries: t.len()?,
            stored_bytes: s.stored_bytes(),
            metadata_bytes: s.metadata_bytes(),
            fragmented_bytes: s.fragmented_bytes(),
            // What the table's pages hold, used or not: redb counts a leaf of
            // several pages (a large value) as one page.
            page_bytes: s.stored_bytes() + s.metadata_bytes() + s.fragmented_bytes(),
        });
    }
    tables.sort_by(|a, b| b.page_bytes.cmp(&a.page_bytes).then_with(|| a.name.cmp(&b.name)));
    Ok(FileUse { file, tables, ..totals })
}

impl Store {
    /// The main database and the spool log, table by table.
    pub fn storage_use(&self) -> Result<Vec<FileUse>> {
        Ok(vec![file_use(&self.main, DB_FILE)?, file_use(self.spool.handle(), SPOOL_FILE)?])
    }
}

#[cfg(test)]
mod tests {
    use redb::{ReadableDatabase, ReadableTable, TableDefinition};

    use super::super::Store;

    const SCRATCH: TableDefinition<u64, &[u8]> = TableDefinition::new("scratch");
    const KEEP: TableDefinition<u64, &[u8]> = TableDefinition::new("keep");

    /// The hourly compaction gives back what a deletion freed, only past its
    /// threshold, not under an open transaction, and keeps every row; the
    /// desk reads and writes as before afterwards.
    #[test]
    fn a_running_store_is_compacted_only_when_much_of_it_is_free() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let db = store.main.db().unwrap();
        let tx = db.begin_write().unwrap();
        {
            let mut t = tx.open_table(SCRATCH).unwrap();
            let mut x = 0x9e37_79b9_7f4a_7c15u64;
            for i in 0..3000u64 {
                let row: Vec<u8> = (0..8192)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        x as u8
                    })
                    .collect();
                t.insert(i, row.as_slice()).unwrap();
            }
            tx.open_table(KEEP).unwrap().insert(1, b"kept".as_slice()).unwrap();
        }
        tx.commit().unwrap();
        assert_eq!(store.compact_when_free(25).unwrap(), None, "nothing free yet");
        let tx = db.begin_write().unwrap();
        tx.delete_table(SCRATCH).unwrap();
        tx.commit().unwrap();
        // Twice: redb frees a transaction's pages in the next one.
        db.begin_write().unwrap().commit().unwrap();
        drop(db);
        assert_eq!(store.compact_when_free(0).unwrap(), None, "0 turns it off");
        {
            let _open = store.read().unwrap();
            assert!(store.compact_when_free(25).is_err(), "a transaction is open");
        }
        let (before, after) = store.compact_when_free(25).unwrap().expect("compacted");
        assert!(before > 24 << 20 && after < 4 << 20, "{before} → {after}");
        let db = store.main.db().unwrap();
        assert_eq!(db.begin_read().unwrap().open_table(KEEP).unwrap().get(1).unwrap().unwrap().value(), b"kept");
        drop(db);
        store.write(|w| w.set_meta("after", 1)).unwrap();
    }
}
