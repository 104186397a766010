//! The open database handle: read and write transactions, the change feed,
//! and recovery from I/O failures.
//!
//! After an I/O error (a full disk, say) redb refuses every later write until
//! the database is opened again. The store notes the failure (shown in
//! `/healthz`; writes meanwhile fail, so SMTP answers 451 and HTTP 503) and,
//! at most once a second, checks whether the disk takes data again (a probe
//! file); only then does it reopen the database — until then the old handle
//! keeps serving reads. When space returns the desk carries on without a
//! restart.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use redb::{Database, ReadableDatabase};

use super::SpoolEntry;
use super::feed::{Change, Feed, Topic, Waiter};
use super::spool::SpoolLog;
use super::{DB_FILE, DEFAULT_CACHE_BYTES, Read, Result, StoreError, Write, migrate};

/// The last I/O failure and when recovery was last tried.
struct Failure {
    message: String,
    last_try: Instant,
}

/// One open redb file that reopens itself after I/O failures.
pub(crate) struct Handle {
    db: RwLock<Option<Arc<Database>>>,
    path: PathBuf,
    cache_bytes: usize,
    failure: Mutex<Option<Failure>>,
    /// Whether opening it upgraded its file format (then compacted at start).
    pub(crate) upgraded: bool,
    /// Runs inside every write transaction just before it commits (the
    /// desk's webhooks); set once at start.
    precommit: std::sync::OnceLock<Precommit>,
    /// Mail sources read lately (`store::sourced`), shared by its reads.
    sources: Arc<super::sourced::SourceCache>,
}

/// Free pages below which a running desk does not compact its database.
const COMPACT_MIN_FREE: u64 = 8 << 20;

/// The largest database a running desk compacts (about 10 s here, well
/// inside the systemd watchdog's 30 s for a store read); a larger one is
/// left to `frontdesk compact` with the server stopped.
const COMPACT_MAX_RUNNING: u64 = 1 << 30;

/// A hook run inside each write transaction before commit.
pub type Precommit = Box<dyn Fn(&mut Write) -> Result<()> + Send + Sync>;

/// The open store: the main database and the spool log beside it.
pub struct Store {
    pub(super) main: Handle,
    pub(super) spool: SpoolLog,
    /// What each committed transaction changed: the one wake-up source of
    /// live views, the indexer, the mail worker and the outbox.
    feed: Feed,
}

/// Whether an error means redb needs reopening (I/O failed underneath it).
fn is_io(e: &StoreError) -> bool {
    match e {
        StoreError::Io(_) => true,
        StoreError::Db(e) => {
            matches!(
                e.as_ref(),
                redb::Error::Io(_) | redb::Error::PreviousIo | redb::Error::DatabaseAlreadyOpen | redb::Error::Corrupted(_)
            ) || {
                let t = e.to_string();
                t.contains("I/O") || t.contains("previous io") || t.contains("Previous I/O")
            }
        }
        _ => false,
    }
}

thread_local! {
    static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` with panics on this thread kept off stderr (they are caught and
/// reported by the caller). A panic hook that knows about this is installed
/// once; every other panic goes to the hook that was there before.
fn quiet_panics<T>(f: impl FnOnce() -> T) -> T {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(|q| q.get()) {
                previous(info);
            }
        }));
    });
    QUIET.with(|q| q.set(true));
    let out = f();
    QUIET.with(|q| q.set(false));
    out
}

/// Whether the database could grow again: a probe file next to it gets 64 KiB
/// written at the database's current length (sparse below that) and synced.
/// That fails both on a full disk and under a file-size limit the database
/// file has reached, where a small file would still pass.
fn disk_takes_data(db_path: &Path) -> std::io::Result<()> {
    use std::io::{Seek, Write};
    let probe = db_path.with_extension("probe");
    let at = std::fs::metadata(db_path).map(|m| m.len()).unwrap_or(0);
    let written = (|| {
        let mut f = std::fs::File::create(&probe)?;
        f.seek(std::io::SeekFrom::Start(at))?;
        f.write_all(&[0u8; 64 * 1024])?;
        f.sync_all()
    })();
    let _ = std::fs::remove_file(&probe);
    written
}

/// Opens the database file, and whether its file format was upgraded. redb
/// asserts on some damaged files (a truncated one, say): that panic becomes a
/// clear error instead of a crash.
fn open_db(path: &Path, cache_bytes: usize) -> Result<(Database, bool)> {
    // A tool that checks whether a desk runs (`doctor`, `backup`) holds the
    // lock for a moment: wait that out, not a desk that runs.
    let started = Instant::now();
    let mut upgraded = false;
    let opened = loop {
        match crate::jobs::guard(|| redb::Builder::new().set_cache_size(cache_bytes).create(path)) {
            Ok(Err(redb::DatabaseError::DatabaseAlreadyOpen)) if started.elapsed() < Duration::from_secs(2) => {
                std::thread::sleep(Duration::from_millis(50))
            }
            // A file of redb 2 (frontdesk before schema 14): converted once.
            Ok(Err(redb::DatabaseError::UpgradeRequired(2))) if !upgraded => {
                match crate::jobs::guard(|| super::fileformat::upgrade_v2(path, cache_bytes)) {
                    Ok(done) => done?,
                    Err(panic) => return Err(StoreError::Damaged { path: path.display().to_string(), detail: panic }),
                }
                upgraded = true;
            }
            other => break other,
        }
    };
    match opened {
        Ok(Ok(db)) => {
            // The last step of an upgrade (and of one a crash cut short).
            upgraded |= super::fileformat::finish(&db)?;
            Ok((db, upgraded))
        }
        Ok(Err(redb::DatabaseError::DatabaseAlreadyOpen)) => Err(StoreError::Locked(path.display().to_string())),
        Ok(Err(redb::DatabaseError::Storage(redb::StorageError::Corrupted(detail)))) => {
            if detail.starts_with("Expected file format version") {
                // A later redb's format: a newer release wrote it.
                return Err(StoreError::Io(std::io::Error::other(format!(
                    "{} was written by a newer frontdesk ({detail}): run that release",
                    path.display()
                ))));
            }
            Err(StoreError::Damaged { path: path.display().to_string(), detail })
        }
        Ok(Err(e)) => Err(e.into()),
        Err(panic) => Err(StoreError::Damaged { path: path.display().to_string(), detail: panic }),
    }
}

/// A lock a panicking thread left behind.
fn poisoned() -> StoreError {
    StoreError::Corrupt { table: "-", detail: "store lock poisoned".into() }
}

impl Handle {
    /// Opens (or creates) one database file.
    pub(crate) fn open(path: PathBuf, cache_bytes: usize) -> Result<Handle> {
        // At start the panic of a damaged file is reported as an error; keep
        // its raw text off the terminal (this thread only, see `quiet_panics`).
        let (db, upgraded) = quiet_panics(|| open_db(&path, cache_bytes))?;
        Ok(Handle {
            db: RwLock::new(Some(Arc::new(db))),
            upgraded,
            path,
            cache_bytes,
            failure: Mutex::new(None),
            precommit: std::sync::OnceLock::new(),
            sources: Arc::default(),
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Gives the file's free pages back to the file system (redb's
    /// compaction: used pages move to the front, the file is cut). Needs the
    /// database to itself: no transaction may be open. Returns the file's
    /// length before and after.
    pub(crate) fn compact(&self) -> Result<(u64, u64)> {
        let before = std::fs::metadata(&self.path)?.len();
        let mut slot = self.db.write().map_err(|_| poisoned())?;
        let Some(shared) = slot.take() else {
            return Err(StoreError::Io(std::io::Error::other("the database is closed")));
        };
        let mut db = match Arc::try_unwrap(shared) {
            Ok(db) => db,
            Err(shared) => {
                *slot = Some(shared);
                return Err(StoreError::Io(std::io::Error::other("the database is in use; compaction needs it to itself")));
            }
        };
        let done = quiet_panics(|| crate::jobs::guard(|| db.compact(redb::CompactionMode::Maximum)));
        match done {
            Ok(Ok(_)) => *slot = Some(Arc::new(db)),
            Ok(Err(e)) => {
                *slot = Some(Arc::new(db));
                return Err(StoreError::Db(Box::new(e.into())));
            }
            Err(panic) => {
                // redb gave up half-way: the handle is not trusted again; the
                // file is opened afresh (its last commit is what counts).
                drop(db);
                *slot = Some(Arc::new(quiet_panics(|| open_db(&self.path, self.cache_bytes))?.0));
                return Err(StoreError::Damaged { path: self.path.display().to_string(), detail: panic });
            }
        }
        Ok((before, std::fs::metadata(&self.path)?.len()))
    }

    /// The database as it is open now (migrations at start use it directly).
    pub(crate) fn db(&self) -> Result<Arc<Database>> {
        let slot = self.db.read().map_err(|_| poisoned())?;
        slot.clone()
            .ok_or_else(|| StoreError::Io(std::io::Error::other(self.io_failure().unwrap_or_else(|| "the database is closed".into()))))
    }

    pub(crate) fn read(&self) -> Result<Read> {
        if self.io_failure().is_some() {
            self.recover();
        }
        Ok(Read { tx: self.db()?.begin_read()?, sources: self.sources.clone() })
    }

    /// Why writes fail at the moment (an I/O error not yet recovered from).
    pub(crate) fn io_failure(&self) -> Option<String> {
        self.failure.lock().ok().and_then(|f| f.as_ref().map(|f| f.message.clone()))
    }

    /// Notes an error of this database: an I/O failure refuses writes until
    /// recovery (callers note errors their own transaction bodies returned).
    pub(crate) fn note(&self, e: &StoreError) {
        if is_io(e)
            && let Ok(mut f) = self.failure.lock()
            && f.is_none()
        {
            tracing::error!("storage failure in {}, writes refused until it clears: {e}", self.path.display());
            *f = Some(Failure { message: format!("storage failure: {e}"), last_try: Instant::now() });
        }
    }

    /// After an I/O failure: reopens the database (at most once a second).
    fn recover(&self) {
        {
            let Ok(mut f) = self.failure.lock() else { return };
            match f.as_mut() {
                Some(f) if f.last_try.elapsed() >= Duration::from_secs(1) => f.last_try = Instant::now(),
                _ => return,
            }
        }
        // While the disk still refuses data, keep the old handle: reads go on
        // working (read-only desk) and only writes fail.
        if let Err(e) = disk_takes_data(&self.path) {
            tracing::warn!("storage still failing: {e}");
            return;
        }
        let Ok(mut slot) = self.db.write() else { return };
        // The old handle must be gone before the file can be opened again
        // (it holds the file lock); short read transactions may still hold it.
        *slot = None;
        let started = Instant::now();
        let reopened = loop {
            match open_db(&self.path, self.cache_bytes).and_then(|(db, _)| {
                // A write proves the disk takes data again.
                let tx = db.begin_write()?;
                tx.commit()?;
                Ok(db)
            }) {
                Ok(db) => break Ok(db),
                Err(StoreError::Locked(_)) if started.elapsed() < Duration::from_millis(500) => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                Err(e) => break Err(e),
            }
        };
        match reopened {
            Ok(db) => {
                *slot = Some(Arc::new(db));
                if let Ok(mut f) = self.failure.lock() {
                    *f = None;
                }
                tracing::info!("storage recovered: {} is open again", self.path.display());
            }
            Err(e) => tracing::warn!("storage still failing: {e}"),
        }
    }

    /// Runs `f` in one write transaction and commits it if `f` returns Ok;
    /// returns its result and what it changed.
    pub(crate) fn write_with<T, E: From<StoreError>>(
        &self,
        durability: redb::Durability,
        f: impl FnOnce(&mut Write) -> std::result::Result<T, E>,
    ) -> std::result::Result<(T, Change), E> {
        if self.io_failure().is_some() {
            self.recover();
        }
        let begun = self.db().and_then(|db| Ok(db.begin_write()?));
        let mut tx = begun.inspect_err(|e| self.note(e))?;
        // Refused only for savepoints and shared files, neither used here.
        tx.set_durability(durability).map_err(|e| StoreError::from(redb::Error::from(e)))?;
        let hook = self.precommit.get();
        let mut w = Write {
            tx,
            touched: Vec::new(),
            outbox: false,
            fresh_blobs: Vec::new(),
            released_blobs: Vec::new(),
            packer: Default::default(),
            record: hook.is_some(),
            appended: Default::default(),
        };
        let out = f(&mut w)?;
        if let Some(hook) = hook {
            hook(&mut w).inspect_err(|e| self.note(e))?;
        }
        w.enqueue_touched().inspect_err(|e| self.note(e))?;
        w.drop_unreferenced_blobs().inspect_err(|e| self.note(e))?;
        let committed: Result<()> = w.tx.commit().map_err(StoreError::from);
        committed.inspect_err(|e| self.note(e))?;
        let mut tickets = w.touched;
        tickets.sort_unstable();
        tickets.dedup();
        Ok((out, Change { tickets, outbox: w.outbox, spool: false }))
    }
}

impl Store {
    /// Opens (or creates) the database in `dir` with the default page cache,
    /// migrating an older schema.
    pub fn open(dir: &Path) -> Result<Store> {
        Self::open_with_cache(dir, DEFAULT_CACHE_BYTES)
    }

    /// Compacts the main database and the spool log (`frontdesk compact`, and
    /// at start when much of a file is free); the lengths before and after,
    /// both files together.
    pub fn compact(&self) -> Result<(u64, u64)> {
        let (a, b) = self.main.compact()?;
        let (c, d) = self.spool.handle().compact()?;
        Ok((a + c, b + d))
    }

    /// Compacts the main database while the desk runs, when at least
    /// `percent` of its file (and at least `COMPACT_MIN_FREE`) is free pages:
    /// the hourly housekeeping. The desk's reads and writes wait meanwhile
    /// (mail is still accepted: the spool log is another file); a
    /// transaction still open makes it give up until the next time. The
    /// lengths before and after, or `None` when not worth it (or `percent`
    /// is 0).
    pub fn compact_when_free(&self, percent: u64) -> Result<Option<(u64, u64)>> {
        if percent == 0 {
            return Ok(None);
        }
        // On the disk: the tail redb grew the file by and has not written
        // yet is a hole, which takes no space and needs no compaction.
        let file = super::stats::file_totals(&self.main)?;
        let free = file.disk_bytes.saturating_sub(file.allocated_bytes);
        if free < COMPACT_MIN_FREE || free * 100 < file.disk_bytes * percent.min(100) {
            return Ok(None);
        }
        if file.disk_bytes > COMPACT_MAX_RUNNING {
            tracing::info!(
                "{:.0} MiB of the database are free pages: stop the desk and run `frontdesk compact` to give them back",
                free as f64 / 1048576.0
            );
            return Ok(None);
        }
        self.main.compact().map(Some)
    }

    /// Like `open`, with the page cache capped at `cache_bytes` (memory use).
    pub fn open_with_cache(dir: &Path, cache_bytes: usize) -> Result<Store> {
        // A new data dir is private to the desk's user: it holds mail and keys.
        std::os::unix::fs::DirBuilderExt::mode(std::fs::DirBuilder::new().recursive(true), 0o700).create(dir)?;
        migrate::refuse_newer(dir)?;
        let main = Handle::open(dir.join(DB_FILE), cache_bytes)?;
        migrate::run(main.db()?.as_ref())?;
        let converted = super::recompress::run(main.db()?.as_ref())? + super::sourced::convert(main.db()?.as_ref())?;
        if converted > 0 || main.upgraded {
            // The conversion left the old forms' pages free (and redb 2 left
            // its leaves half full): pack and give them back now, while
            // nothing else has the database open.
            let started = std::time::Instant::now();
            match main.compact() {
                Ok((before, after)) => tracing::info!(
                    "gave back the space the conversion freed: {:.1} MiB → {:.1} MiB in {:.1} s",
                    before as f64 / 1048576.0,
                    after as f64 / 1048576.0,
                    started.elapsed().as_secs_f64()
                ),
                Err(e) => tracing::warn!("could not compact the database after the conversion: {e}"),
            }
        }
        let spool = SpoolLog::open(dir, &main)?;
        // An empty spool log gives back the space a burst made it grow to
        // (cheap: it holds nothing); a failure here only costs disk space.
        if spool.is_empty()?
            && let Err(e) = spool.handle().compact()
        {
            tracing::warn!("could not compact the spool log: {e}");
        }
        Ok(Store { main, spool, feed: Feed::default() })
    }

    pub fn read(&self) -> Result<Read> {
        self.main.read()
    }

    /// The log of accepted mail waiting to become tickets.
    pub fn spool(&self) -> &SpoolLog {
        &self.spool
    }

    /// Durably adds accepted messages to the spool log (one commit, one
    /// fsync) and wakes the mail worker; returns their spool ids.
    pub fn put_spool(&self, items: &[(&SpoolEntry, &[u8])]) -> Result<Vec<crate::domain::SpoolId>> {
        let ids = self.spool.put_batch(items)?;
        self.publish_spool();
        Ok(ids)
    }

    /// Wakes whoever waits on the spool (the mail worker).
    pub(crate) fn publish_spool(&self) {
        self.feed.publish(Change { spool: true, ..Change::default() });
    }

    /// Why writes fail at the moment (an I/O error not yet recovered from, in
    /// the database or the spool log).
    pub fn io_failure(&self) -> Option<String> {
        self.main.io_failure().or_else(|| self.spool.io_failure())
    }

    /// Runs `f` in one write transaction; commits (durably) only if it returns Ok.
    pub fn write<T, E: From<StoreError>>(&self, f: impl FnOnce(&mut Write) -> std::result::Result<T, E>) -> std::result::Result<T, E> {
        self.write_with(redb::Durability::Immediate, f)
    }

    /// Like `write` but without fsync (the next durable commit persists it):
    /// for bulk loading (bench) and for what a crash may lose (read marks).
    pub fn write_fast<T, E: From<StoreError>>(&self, f: impl FnOnce(&mut Write) -> std::result::Result<T, E>) -> std::result::Result<T, E> {
        self.write_with(redb::Durability::None, f)
    }

    fn write_with<T, E: From<StoreError>>(
        &self,
        durability: redb::Durability,
        f: impl FnOnce(&mut Write) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let (out, change) = self.main.write_with(durability, f)?;
        self.feed.publish(change);
        Ok(out)
    }

    /// Installs the hook every write transaction runs before it commits
    /// (once; a second call is ignored).
    pub fn set_precommit(&self, hook: Precommit) {
        let _ = self.main.precommit.set(hook);
    }

    /// Subscribes to what each commit changes from now on.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Change> {
        self.feed.subscribe()
    }

    /// A blocking waiter on one topic of the change feed (worker threads).
    pub fn waiter(&self, topic: Topic) -> Waiter<'_> {
        self.feed.waiter(topic)
    }

    /// Ends every waiter's wait (shutdown).
    pub fn close_feed(&self) {
        self.feed.close();
    }
}
