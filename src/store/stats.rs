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

fn file_use(h: &Handle, file: &'static str) -> Result<FileUse> {
    let db = h.db()?;
    let w = db.begin_write()?;
    let totals = w.stats()?;
    w.abort()?;
    let page_size = totals.page_size() as u64;
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
    let path = h.path().to_path_buf();
    let meta = std::fs::metadata(&path)?;
    let file_bytes = meta.len();
    #[cfg(unix)]
    let disk_bytes = std::os::unix::fs::MetadataExt::blocks(&meta) * 512;
    #[cfg(not(unix))]
    let disk_bytes = file_bytes;
    Ok(FileUse { file, path, file_bytes, disk_bytes, allocated_bytes: totals.allocated_pages() * page_size, page_size, tables })
}

impl Store {
    /// The main database and the spool log, table by table.
    pub fn storage_use(&self) -> Result<Vec<FileUse>> {
        Ok(vec![file_use(&self.main, DB_FILE)?, file_use(self.spool.handle(), SPOOL_FILE)?])
    }
}
