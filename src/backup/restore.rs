//! Restoring an archive into a data directory: refused while a desk runs
//! there, and into a directory that holds anything unless told to replace
//! it; every file is staged first and moved into place only once the whole
//! archive checked out, so a bad archive changes nothing.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{BadArchive, Item, Manifest, path_in, read};

/// Why a restore did not happen.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error("the backup is damaged: {0}")]
    Bad(#[from] BadArchive),
    #[error("{0}")]
    Refused(String),
    #[error("{what}: {source}")]
    Io { what: String, source: std::io::Error },
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> RestoreError {
    let what = what.into();
    move |source| RestoreError::Io { what, source }
}

/// The top-level names a restore replaces (the search index goes too: it
/// belongs to the data being replaced and is rebuilt at the next start).
const REPLACED: [&str; 7] = ["frontdesk.redb", "spool.redb", "config.toml", "dkim", "tls", "acme", "search"];

/// Whether a desk holds the database in `dir` open now (redb locks it).
pub fn in_use(dir: &Path) -> bool {
    matches!(hold(dir), Err(Held::ByAnother))
}

enum Held {
    ByAnother,
    Missing,
}

/// A lock on a desk's database that keeps a desk from opening it.
#[allow(dead_code)] // held for its lock, never read
enum Lock {
    /// redb 5 locks byte ranges: a read-only open holds them.
    Redb(redb::ReadOnlyDatabase),
    /// What redb 2 (a desk before schema 14) locked: the whole file.
    File(std::fs::File),
}

/// The database file of `dir`, locked as redb locks it, so no desk opens it
/// while the lock is held.
fn hold(dir: &Path) -> Result<Lock, Held> {
    let path = dir.join("frontdesk.redb");
    if !path.exists() {
        return Err(Held::Missing);
    }
    match redb::ReadOnlyDatabase::open(&path) {
        Ok(db) => return Ok(Lock::Redb(db)),
        Err(redb::DatabaseError::DatabaseAlreadyOpen) => return Err(Held::ByAnother),
        // A file of redb 2, or one a read-only open refuses (not closed
        // cleanly, damaged): the whole-file lock redb 2 takes.
        Err(_) => {}
    }
    let f = std::fs::OpenOptions::new().read(true).write(true).open(&path).map_err(|_| Held::Missing)?;
    match f.try_lock() {
        Ok(()) => Ok(Lock::File(f)),
        Err(std::fs::TryLockError::WouldBlock) => Err(Held::ByAnother),
        Err(std::fs::TryLockError::Error(_)) => Err(Held::Missing),
    }
}

/// Restores `from` into `dir`. With `replace`, a directory that holds a
/// stopped desk's data is replaced (its database, spool, keys, config and
/// search index); without it only a missing or empty directory is used.
pub fn restore(from: &Path, dir: &Path, replace: bool, progress: &mut dyn FnMut(u64)) -> Result<Manifest, RestoreError> {
    // Held until the new files are in place: a desk starting meanwhile
    // finds the database locked instead of files changing under it.
    let _held = match hold(dir) {
        Err(Held::ByAnother) => {
            return Err(RestoreError::Refused(format!("a desk is running with {} (its database is locked): stop it first", dir.display())));
        }
        Ok(f) => Some(f),
        Err(Held::Missing) => None,
    };
    let staging = dir.join(".restore-staging");
    let occupied: Vec<String> = match std::fs::read_dir(dir) {
        Ok(rd) => {
            rd.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().to_string()).filter(|n| n != ".restore-staging").collect()
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(io(format!("cannot read {}", dir.display()))(e)),
    };
    if !occupied.is_empty() && !replace {
        let mut shown = occupied.clone();
        shown.sort();
        shown.truncate(5);
        return Err(RestoreError::Refused(format!(
            "{} is not empty (it holds {}); restore into an empty directory, or pass --force to replace the desk's data there",
            dir.display(),
            shown.join(", ")
        )));
    }
    let _ = std::fs::remove_dir_all(&staging);
    private_dir(&staging).map_err(io(format!("cannot create {}", staging.display())))?;
    let manifest = stage(from, &staging, progress);
    let manifest = match manifest {
        Ok(m) => m,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e);
        }
    };
    for name in REPLACED {
        let p = dir.join(name);
        let gone = if p.is_dir() { std::fs::remove_dir_all(&p) } else { std::fs::remove_file(&p) };
        match gone {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(format!("cannot replace {}", p.display()))(e)),
        }
    }
    let tops: std::collections::BTreeSet<&str> = manifest.files.iter().filter_map(|f| f.name.split('/').next()).collect();
    for top in tops {
        std::fs::rename(staging.join(top), dir.join(top)).map_err(io(format!("cannot move {top} into {}", dir.display())))?;
    }
    std::fs::remove_dir_all(&staging).map_err(io(format!("cannot remove {}", staging.display())))?;
    Ok(manifest)
}

/// Reads the whole archive into `staging`, each file synced.
fn stage(from: &Path, staging: &Path, progress: &mut dyn FnMut(u64)) -> Result<Manifest, RestoreError> {
    let f = std::fs::File::open(from).map_err(io(format!("cannot open {}", from.display())))?;
    let mut r = std::io::BufReader::with_capacity(1 << 20, f);
    let mut current: Option<(PathBuf, std::io::BufWriter<std::fs::File>)> = None;
    let mut done = 0u64;
    let finish = |c: Option<(PathBuf, std::io::BufWriter<std::fs::File>)>| -> std::io::Result<()> {
        if let Some((_, w)) = c {
            w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        }
        Ok(())
    };
    let manifest = read(&mut r, &mut |item| {
        match item {
            Item::File { name, .. } => {
                finish(current.take())?;
                let p = path_in(staging, name);
                if let Some(parent) = p.parent() {
                    private_dir(parent)?;
                }
                let file = {
                    use std::os::unix::fs::OpenOptionsExt;
                    std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&p)?
                };
                current = Some((p, std::io::BufWriter::with_capacity(1 << 20, file)));
            }
            Item::Data(d) => {
                if let Some((_, w)) = current.as_mut() {
                    w.write_all(d)?;
                }
                done += d.len() as u64;
                progress(done);
            }
        }
        Ok(())
    })?;
    finish(current.take()).map_err(io("cannot write the last file"))?;
    Ok(manifest)
}

/// A directory (and its parents) created readable by the desk's user only.
fn private_dir(p: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(p)
}
