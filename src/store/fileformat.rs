//! Brings a database file written by redb 2 (file format v2: every frontdesk
//! before schema 14) to the format redb 5 reads, once, when it is opened.
//!
//! Two things changed under the same table names. The file format (v2 → v3),
//! which redb 2.6's own `upgrade` converts in place; and how redb encodes a
//! tuple holding a variable-width field (`(&str, u32)`, say), which redb 5
//! refuses to read in the old encoding (`TableTypeMismatch`). So the upgrade
//! runs in three steps, each one commit, safe to repeat after a crash:
//!
//! 1. with redb 2: every table with such a tuple is copied row by row into a
//!    byte table `<name>@v2` (each side postcard-encoded) and dropped;
//! 2. redb 2.6 converts the file to format v3;
//! 3. with redb 5: each `<name>@v2` table is read back into `<name>` in
//!    today's encoding and dropped.
//!
//! A crash between 1 and 2 leaves a v2 file whose tuple tables are already
//! copied (step 1 finds nothing left to copy); between 2 and 3, a v3 file
//! with `@v2` tables, which step 3 finishes at every open until none is left.
//! Step 1 also marks the file as schema 14 (keeping the schema it found in
//! `FOUND` for the migration), so an older release, which could read the
//! converted file, refuses it instead of running without those tables.

use std::path::Path;

use redb::{ReadableDatabase, ReadableTable, TableHandle};

use super::{Result, StoreError};

/// The suffix of a table's copy between the steps.
const SUFFIX: &str = "@v2";

/// The `meta` key that keeps the schema a file format upgrade found, until
/// the migration has run from it.
pub(super) const FOUND: &str = "fileformat.found_schema";

/// The schema that brought redb 5's file format.
const FORMAT_SCHEMA: u64 = 14;

/// An error of redb 2 or of the copy, naming the file.
fn failed(path: &Path, e: impl std::fmt::Display) -> StoreError {
    StoreError::Io(std::io::Error::other(format!("upgrading the file format of {}: {e}", path.display())))
}

/// Every table whose key or value is a tuple with a variable-width field:
/// its name and its Rust types, the same under redb 2 and redb 5. One line
/// here for each such table a schema ever had.
macro_rules! tuple_tables {
    ($($name:literal: $k:ty => $v:ty;)+) => {
        /// Step 1: copies each such table of the open redb 2 transaction into
        /// its byte table and drops it; the number of rows copied.
        fn copy_out(tx: &redb2::WriteTransaction, names: &[String]) -> std::result::Result<u64, String> {
            let mut rows = 0;
            $(if names.iter().any(|n| n == $name) {
                let def: redb2::TableDefinition<$k, $v> = redb2::TableDefinition::new($name);
                let out: redb2::TableDefinition<&[u8], &[u8]> = redb2::TableDefinition::new(concat!($name, "@v2"));
                {
                    use redb2::ReadableTable;
                    let from = tx.open_table(def).map_err(|e| e.to_string())?;
                    let mut to = tx.open_table(out).map_err(|e| e.to_string())?;
                    for row in from.iter().map_err(|e| e.to_string())? {
                        let (k, v) = row.map_err(|e| e.to_string())?;
                        let k = postcard::to_allocvec(&k.value()).map_err(|e| e.to_string())?;
                        let v = postcard::to_allocvec(&v.value()).map_err(|e| e.to_string())?;
                        to.insert(k.as_slice(), v.as_slice()).map_err(|e| e.to_string())?;
                        rows += 1;
                    }
                }
                tx.delete_table(def).map_err(|e| e.to_string())?;
            })+
            Ok(rows)
        }

        /// Step 3: reads each byte table left by step 1 back into its table
        /// and drops it; the number of rows.
        fn copy_in(tx: &redb::WriteTransaction, names: &[String]) -> Result<u64> {
            let mut rows = 0;
            $(if names.iter().any(|n| n == concat!($name, "@v2")) {
                let from_def: redb::TableDefinition<&[u8], &[u8]> = redb::TableDefinition::new(concat!($name, "@v2"));
                let def: redb::TableDefinition<$k, $v> = redb::TableDefinition::new($name);
                {
                    let from = tx.open_table(from_def)?;
                    let mut to = tx.open_table(def)?;
                    for row in from.iter()? {
                        let (k, v) = row?;
                        let corrupt = |e: postcard::Error| StoreError::Corrupt { table: $name, detail: format!("upgrading its encoding: {e}") };
                        let key: $k = postcard::from_bytes(k.value()).map_err(corrupt)?;
                        let value: $v = postcard::from_bytes(v.value()).map_err(corrupt)?;
                        to.insert(key, value)?;
                        rows += 1;
                    }
                }
                tx.delete_table(from_def)?;
            })+
            Ok(rows)
        }
    };
}

tuple_tables! {
    "trigger_fired": (u64, &str) => i64;
    "pending_by_time": (i64, &str) => ();
    "blob_chunks": (&str, u32) => &[u8];
    "idx_department": (&str, i64, u64) => ();
    "idx_team": (&str, i64, u64) => ();
    "saved_searches": (u64, &str) => &str;
    "personal_canned": (u64, &str) => &str;
    "pack_contents": (u64, u32) => (&str, u32);
}

/// Opens a redb 2 file with the desk's page cache (redb 2's default is 1 GiB).
fn open_v2(path: &Path, cache_bytes: usize) -> Result<redb2::Database> {
    redb2::Builder::new().set_cache_size(cache_bytes).open(path).map_err(|e| match e {
        redb2::DatabaseError::DatabaseAlreadyOpen => StoreError::Locked(path.display().to_string()),
        e => failed(path, e),
    })
}

/// Step 1's mark: the file says schema 14, and `FOUND` keeps what it said.
fn mark(tx: &redb2::WriteTransaction) -> std::result::Result<(), String> {
    use redb2::ReadableTable;
    let def: redb2::TableDefinition<&str, u64> = redb2::TableDefinition::new("meta");
    let mut meta = tx.open_table(def).map_err(|e| e.to_string())?;
    let found = meta.get("schema_version").map_err(|e| e.to_string())?.map(|v| v.value());
    let kept = meta.get(FOUND).map_err(|e| e.to_string())?.is_some();
    if let Some(v) = found.filter(|v| *v < FORMAT_SCHEMA) {
        if !kept {
            meta.insert(FOUND, v).map_err(|e| e.to_string())?;
        }
        meta.insert("schema_version", FORMAT_SCHEMA).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Steps 1 and 2 on the redb 2 file at `path` (it must not be open).
pub(super) fn upgrade_v2(path: &Path, cache_bytes: usize) -> Result<()> {
    let started = std::time::Instant::now();
    let mut db = open_v2(path, cache_bytes)?;
    let tx = db.begin_write().map_err(|e| failed(path, e))?;
    let names: Vec<String> = {
        use redb2::TableHandle;
        tx.list_tables().map_err(|e| failed(path, e))?.map(|t| t.name().to_string()).collect()
    };
    let rows = copy_out(&tx, &names).map_err(|e| failed(path, e))?;
    mark(&tx).map_err(|e| failed(path, e))?;
    tx.commit().map_err(|e| failed(path, e))?;
    db.upgrade().map_err(|e| failed(path, e))?;
    drop(db);
    tracing::info!(
        "upgraded {} to redb's file format v3 ({rows} rows re-encoded) in {:.1} s",
        path.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `migrate::plan` for a redb 2 file, read with redb 2 (nothing is changed).
pub(super) fn plan_v2(path: &Path) -> Result<super::migrate::Plan> {
    use redb2::ReadableTableMetadata;
    let db = open_v2(path, 4 << 20)?;
    let tx = db.begin_read().map_err(|e| failed(path, e))?;
    let meta: redb2::TableDefinition<&str, u64> = redb2::TableDefinition::new("meta");
    let (found, pending) = match tx.open_table(meta) {
        Ok(m) => {
            let get = |key: &str| m.get(key).map(|v| v.map(|v| v.value())).map_err(|e| failed(path, e));
            (get(FOUND)?.or(get("schema_version")?), get(super::recompress::PENDING)?.is_some_and(|v| v != 0))
        }
        Err(redb2::TableError::TableDoesNotExist(_)) => (None, false),
        Err(e) => return Err(failed(path, e)),
    };
    let tickets: redb2::TableDefinition<u64, &[u8]> = redb2::TableDefinition::new("tickets");
    let tickets = match tx.open_table(tickets) {
        Ok(t) => t.len().map_err(|e| failed(path, e))?,
        Err(redb2::TableError::TableDoesNotExist(_)) => 0,
        Err(e) => return Err(failed(path, e)),
    };
    super::migrate::plan_of(found, pending, tickets)
}

/// Step 3, at every open: finishes what an upgrade left (nothing, almost
/// always: one look at the table list). Whether it re-encoded any row.
pub(super) fn finish(db: &redb::Database) -> Result<bool> {
    let names: Vec<String> = {
        let r = db.begin_read()?;
        r.list_tables()?.map(|t| t.name().to_string()).filter(|n| n.ends_with(SUFFIX)).collect()
    };
    if names.is_empty() {
        return Ok(false);
    }
    let tx = db.begin_write()?;
    let rows = copy_in(&tx, &names)?;
    tx.commit()?;
    tracing::info!("re-encoded {rows} rows of {} tables in redb 5's encoding", names.len());
    Ok(rows > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{ENTRIES, IDX_DEPARTMENT, IDX_TEAM, META, Store};

    /// A data dir of redb 2 at schema 13 with a row in every re-encoded table
    /// (and a fixed-width one, which redb reads unchanged), with the steps up
    /// to `done` already run, as a crash after that step leaves it.
    fn write_v2(dir: &Path, done: u8) {
        let db = redb2::Database::create(dir.join(crate::store::DB_FILE)).unwrap();
        let tx = db.begin_write().unwrap();
        macro_rules! put {
            ($name:literal, $k:ty => $v:ty, $key:expr, $value:expr) => {{
                let def: redb2::TableDefinition<$k, $v> = redb2::TableDefinition::new($name);
                tx.open_table(def).unwrap().insert($key, $value).unwrap();
            }};
        }
        put!("meta", &str => u64, "schema_version", 13);
        put!("entries", (u64, u32) => &[u8], (7, 2), b"entry".as_slice());
        put!("trigger_fired", (u64, &str) => i64, (7, "escalate"), -5);
        put!("pending_by_time", (i64, &str) => (), (1_700_000_000, "token"), ());
        put!("blob_chunks", (&str, u32) => &[u8], ("ab12", 3), b"chunk".as_slice());
        put!("idx_department", (&str, i64, u64) => (), ("Support", 42, 7), ());
        put!("idx_team", (&str, i64, u64) => (), ("Night shift", -1, 9), ());
        put!("saved_searches", (u64, &str) => &str, (3, "mine"), "status:open");
        put!("personal_canned", (u64, &str) => &str, (3, "thanks"), "Thank you — ünïcode");
        put!("pack_contents", (u64, u32) => (&str, u32), (1, 512), ("ab12", 77));
        if done >= 1 {
            let names: Vec<String> = {
                use redb2::TableHandle;
                tx.list_tables().unwrap().map(|t| t.name().to_string()).collect()
            };
            assert_eq!(copy_out(&tx, &names).unwrap(), 8);
            mark(&tx).unwrap();
        }
        tx.commit().unwrap();
        drop(db);
        if done >= 2 {
            let mut db = redb2::Database::open(dir.join(crate::store::DB_FILE)).unwrap();
            assert!(db.upgrade().unwrap());
            // The release before reads the converted file: it finds a
            // schema it does not know, and refuses it.
            let r = db.begin_read().unwrap();
            let meta = r.open_table(redb2::TableDefinition::<&str, u64>::new("meta")).unwrap();
            assert_eq!(meta.get("schema_version").unwrap().unwrap().value(), 14);
            assert_eq!(meta.get(FOUND).unwrap().unwrap().value(), 13);
        }
    }

    fn check(store: &Store) {
        let db = store.main.db().unwrap();
        let r = db.begin_read().unwrap();
        assert_eq!(r.open_table(META).unwrap().get("schema_version").unwrap().unwrap().value(), crate::store::SCHEMA_VERSION);
        assert_eq!(r.open_table(ENTRIES).unwrap().get((7, 2)).unwrap().unwrap().value(), b"entry");
        assert_eq!(r.open_table(super::super::automation::TRIGGER_FIRED).unwrap().get((7, "escalate")).unwrap().unwrap().value(), -5);
        assert!(r.open_table(super::super::requests::PENDING_BY_TIME).unwrap().get((1_700_000_000, "token")).unwrap().is_some());
        assert_eq!(r.open_table(super::super::BLOB_CHUNKS).unwrap().get(("ab12", 3)).unwrap().unwrap().value(), b"chunk");
        assert!(r.open_table(IDX_DEPARTMENT).unwrap().get(("Support", 42, 7)).unwrap().is_some());
        assert!(r.open_table(IDX_TEAM).unwrap().get(("Night shift", -1, 9)).unwrap().is_some());
        assert_eq!(r.open_table(super::super::workflow::SAVED_SEARCHES).unwrap().get((3, "mine")).unwrap().unwrap().value(), "status:open");
        assert_eq!(
            r.open_table(super::super::workflow::PERSONAL_CANNED).unwrap().get((3, "thanks")).unwrap().unwrap().value(),
            "Thank you — ünïcode"
        );
        assert_eq!(r.open_table(super::super::packs::PACK_CONTENTS).unwrap().get((1, 512)).unwrap().unwrap().value(), ("ab12", 77));
        let left: Vec<String> = r.list_tables().unwrap().map(|t| t.name().to_string()).filter(|n| n.ends_with(SUFFIX)).collect();
        assert!(left.is_empty(), "copies left: {left:?}");
    }

    #[test]
    fn a_redb2_file_is_upgraded_and_every_tuple_table_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        write_v2(dir.path(), 0);
        let store = Store::open(dir.path()).unwrap();
        assert!(store.main.upgraded);
        check(&store);
        drop(store);
        // Opened again: nothing more to do, the rows are still there.
        let store = Store::open(dir.path()).unwrap();
        assert!(!store.main.upgraded);
        check(&store);
    }

    #[test]
    fn an_upgrade_cut_short_after_either_step_finishes_at_the_next_open() {
        for done in [1, 2] {
            let dir = tempfile::tempdir().unwrap();
            write_v2(dir.path(), done);
            let store = Store::open(dir.path()).unwrap();
            assert!(store.main.upgraded, "after step {done}");
            check(&store);
        }
    }
}
