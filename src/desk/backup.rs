//! Backups of the running desk: the store's snapshot (both database files as
//! of one instant), the keys under the data directory (DKIM, TLS, ACME) and
//! the effective config, written as one archive (`crate::backup`); the
//! scheduled backups of `[backup]` with their last result for `/healthz`
//! and the admin page.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;

use super::Desk;
use crate::backup::{Counts, FORMAT, Manifest, Writer, valid_name};
use crate::domain::Timestamp;

/// Key directories under the data dir that go into every backup.
const KEY_DIRS: [&str; 3] = ["dkim", "tls", "acme"];
/// Time between tries of a failing scheduled backup.
const RETRY_MS: i64 = 15 * 60_000;
/// Scheduled backups are named `frontdesk-YYYYMMDD-HHMMSS` + this.
pub const SUFFIX: &str = ".fdbackup";

/// A backup in `[backup] dir`: when it was taken, its path and size.
pub type BackupFile = (Timestamp, PathBuf, u64);

/// The last scheduled (or requested) backup's outcome.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BackupStatus {
    /// When the last good backup was taken, its file and size.
    pub last_ok_at: Option<Timestamp>,
    pub last_file: Option<String>,
    pub last_bytes: u64,
    pub last_secs: f64,
    /// The last failure (cleared by the next success).
    pub last_error: Option<String>,
    pub last_error_at: Option<Timestamp>,
}

/// Who is backing up now (one at a time) and how the last one went.
#[derive(Debug, Default)]
pub struct Backups {
    running: Mutex<()>,
    /// Held from "is one due?" to its outcome, so the schedule and an
    /// admin's "Back up now" never write the same file at once.
    turn: Mutex<()>,
    status: Mutex<BackupStatus>,
}

fn other(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

/// The regular files under `dir`, as (name relative to `base`, path, size).
fn files_under(base: &Path, dir: &Path, out: &mut Vec<(String, PathBuf, u64)>) -> std::io::Result<()> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for e in rd {
        let e = e?;
        // A key being written (`write_atomic`'s temporary) is not one yet.
        if e.path().extension().is_some_and(|x| x == "tmp") {
            continue;
        }
        // Links are followed: a key may be a link to where it is kept; one
        // replaced while we look is gone (its new file is listed too).
        let kind = match std::fs::metadata(e.path()) {
            Ok(m) => m.file_type(),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
            Err(err) => return Err(err),
        };
        let path = e.path();
        if kind.is_dir() {
            files_under(base, &path, out)?;
        } else if kind.is_file() {
            let name = path.strip_prefix(base).map_err(other)?.to_string_lossy().to_string();
            if valid_name(&name) {
                out.push((name, path.clone(), std::fs::metadata(&path)?.len()));
            } else {
                tracing::warn!("backup: left out {} (a name a backup cannot hold)", path.display());
            }
        }
    }
    Ok(())
}

impl Desk {
    /// Writes a backup of the desk to `out` while it runs; `progress` hears
    /// (bytes done, bytes in all). One backup at a time.
    pub fn write_backup(&self, out: &mut dyn Write, progress: &mut dyn FnMut(u64, u64)) -> std::io::Result<Manifest> {
        let _one = self.one_backup()?;
        self.write_backup_held(out, progress)
    }

    fn one_backup(&self) -> std::io::Result<std::sync::MutexGuard<'_, ()>> {
        self.backups.running.try_lock().map_err(|_| other("another backup is running; try again when it is done"))
    }

    /// `write_backup` with the one-at-a-time lock held by the caller.
    fn write_backup_held(&self, out: &mut dyn Write, progress: &mut dyn FnMut(u64, u64)) -> std::io::Result<Manifest> {
        let cfg = self.config();
        let data = &cfg.server.data_dir;
        let stamp = self.now();
        let tmp = data.join("tmp").join(format!("backup-{}-{}", std::process::id(), stamp.0));
        std::fs::create_dir_all(&tmp)?;
        let written = (|| {
            let snap = self.store.snapshot(&tmp).map_err(other)?;
            let mut files: Vec<(String, PathBuf, u64)> = Vec::new();
            for (name, path) in &snap.files {
                files.push((name.clone(), path.clone(), std::fs::metadata(path)?.len()));
            }
            for d in KEY_DIRS {
                files_under(data, &data.join(d), &mut files)?;
            }
            let config = cfg.to_toml().into_bytes();
            let total = files.iter().map(|f| f.2).sum::<u64>() + config.len() as u64;
            let mut w = Writer::new(std::io::BufWriter::with_capacity(1 << 20, out))?;
            for (name, path, size) in &files {
                let mut f = std::fs::File::open(path)?;
                w.add(name, &mut f, *size, &mut |done| progress(done, total))?;
            }
            w.add("config.toml", &mut config.as_slice(), config.len() as u64, &mut |done| progress(done, total))?;
            let head = Manifest {
                format: FORMAT,
                frontdesk: env!("CARGO_PKG_VERSION").to_string(),
                created_ms: stamp.0,
                schema_version: snap.schema_version,
                counts: Counts { tickets: snap.tickets, entries: snap.entries, people: snap.people, spooled: snap.spooled },
                files: Vec::new(),
            };
            let (buf, manifest) = w.finish(head)?;
            buf.into_inner().map_err(|e| e.into_error())?.flush()?;
            Ok(manifest)
        })();
        let _ = std::fs::remove_dir_all(&tmp);
        written
    }

    /// Writes a backup to the file `to` (through `to.partial`, synced, then
    /// renamed, so a file by that name is always whole).
    pub fn backup_to_file(&self, to: &Path, progress: &mut dyn FnMut(u64, u64)) -> std::io::Result<Manifest> {
        // Taken before the partial file is touched: a second backup to the
        // same name must not remove the first one's file under it.
        let _one = self.one_backup()?;
        let partial = PathBuf::from(format!("{}.partial", to.display()));
        let mut run = || -> std::io::Result<Manifest> {
            let mut f = crate::backup::create_private(&partial)?;
            let m = self.write_backup_held(&mut f, progress)?;
            f.sync_all()?;
            std::fs::rename(&partial, to)?;
            if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::File::open(dir)?.sync_all()?;
            }
            Ok(m)
        };
        run().inspect_err(|_| {
            let _ = std::fs::remove_file(&partial);
        })
    }

    /// What the desk holds now, as a backup counts it (spooled: waiting mail).
    pub fn counts(&self) -> std::io::Result<Counts> {
        let (tickets, entries, people) = self.store.counts().map_err(other)?;
        Ok(Counts { tickets, entries, people, spooled: self.store.spool().len().map_err(other)? })
    }

    /// At start: removes snapshot copies a killed backup left in
    /// `<data_dir>/tmp`, and takes the last good backup from `[backup] dir`.
    pub fn prepare_backups(&self) {
        let cfg = self.config();
        let tmp = cfg.server.data_dir.join("tmp");
        if let Ok(rd) = std::fs::read_dir(&tmp) {
            for e in rd.filter_map(|e| e.ok()).filter(|e| e.file_name().to_string_lossy().starts_with("backup-")) {
                match std::fs::remove_dir_all(e.path()) {
                    Ok(()) => tracing::info!("removed {} (left by an interrupted backup)", e.path().display()),
                    Err(err) => tracing::warn!("cannot remove {}: {err}", e.path().display()),
                }
            }
        }
        let dir = cfg.backup.dir.trim();
        if dir.is_empty() {
            return;
        }
        if let (Some((t, path)), Ok(mut status)) = (scheduled_in(Path::new(dir)).pop(), self.backups.status.lock())
            && status.last_ok_at.is_none()
        {
            status.last_ok_at = Some(t);
            status.last_bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            status.last_file = Some(path.display().to_string());
        }
    }

    /// The last backup's outcome.
    pub fn backup_status(&self) -> BackupStatus {
        self.backups.status.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Takes the scheduled backup when `[backup]` asks for one and the last
    /// good one is `every_hours` old (on the desk's clock), then keeps the
    /// newest `keep`; `None` when none was due. The last good one is found in
    /// the directory after a restart.
    pub fn run_scheduled_backup(&self) -> Option<Result<PathBuf, String>> {
        let cfg = self.config();
        let b = &cfg.backup;
        if b.dir.trim().is_empty() {
            return None;
        }
        let dir = PathBuf::from(b.dir.trim());
        let _turn = self.backups.turn.lock().unwrap_or_else(|p| p.into_inner());
        let now = self.now();
        // After a failure, a quarter of an hour before the next try: each try
        // pauses ticket writes for its snapshot.
        if self.backup_status().last_error_at.is_some_and(|t| now.0 - t.0 < RETRY_MS) {
            return None;
        }
        let last = self.backup_status().last_ok_at.or_else(|| scheduled_in(&dir).last().map(|(t, _)| *t));
        if last.is_some_and(|t| now.0 - t.0 < i64::from(b.every_hours) * 3_600_000) {
            return None;
        }
        Some(self.take_into(&dir, b.keep, now))
    }

    /// An admin's "Back up now": a backup into `[backup] dir` at once.
    pub fn backup_now(&self, actor: &crate::domain::Person) -> super::Result<PathBuf> {
        if !actor.is_admin() {
            return Err(super::DeskError::NotFound);
        }
        let cfg = self.config();
        let dir = cfg.backup.dir.trim();
        if dir.is_empty() {
            return Err(super::invalid("backup.dir", "no backup directory is configured ([backup] dir)"));
        }
        let _turn = self.backups.turn.lock().unwrap_or_else(|p| p.into_inner());
        self.take_into(Path::new(dir), cfg.backup.keep, self.now()).map_err(super::DeskError::Conflict)
    }

    /// The backups in `[backup] dir` (oldest first, with their sizes) and the
    /// last outcome, for admins.
    pub fn backups_overview(&self, actor: &crate::domain::Person) -> super::Result<(BackupStatus, Vec<BackupFile>)> {
        if !actor.is_admin() {
            return Err(super::DeskError::NotFound);
        }
        let dir = self.config().backup.dir.trim().to_string();
        let files = if dir.is_empty() { Vec::new() } else { scheduled_in(Path::new(&dir)) };
        let sized = files.into_iter().map(|(t, p)| (t, p.clone(), std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0))).collect();
        Ok((self.backup_status(), sized))
    }

    /// Writes `frontdesk-<stamp>.fdbackup` into `dir`, keeps the newest
    /// `keep` there and records the outcome.
    fn take_into(&self, dir: &Path, keep: u32, now: Timestamp) -> Result<PathBuf, String> {
        let started = std::time::Instant::now();
        let file = dir.join(format!("frontdesk-{}{SUFFIX}", file_stamp(now)));
        let made = {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
        };
        let result = made.and_then(|()| self.backup_to_file(&file, &mut |_, _| {}));
        let mut status = self.backups.status.lock().map_err(|_| "the backup status is unavailable".to_string())?;
        match result {
            Ok(_) => {
                let bytes = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
                status.last_ok_at = Some(now);
                status.last_file = Some(file.display().to_string());
                status.last_bytes = bytes;
                status.last_secs = started.elapsed().as_secs_f64();
                status.last_error = None;
                status.last_error_at = None;
                drop(status);
                let all = scheduled_in(dir);
                for (_, old) in all.iter().take(all.len().saturating_sub(keep as usize)) {
                    if let Err(e) = std::fs::remove_file(old) {
                        tracing::warn!("backup: cannot delete {}: {e}", old.display());
                    }
                }
                tracing::info!("backup: wrote {} ({bytes} bytes)", file.display());
                Ok(file)
            }
            Err(e) => {
                let msg = format!("cannot write {}: {e}", file.display());
                status.last_error = Some(msg.clone());
                status.last_error_at = Some(now);
                tracing::error!("backup: {msg}");
                Err(msg)
            }
        }
    }
}

/// `YYYYMMDD-HHMMSS` in UTC.
fn file_stamp(t: Timestamp) -> String {
    let digits: String = t.rfc3339().chars().filter(|c| c.is_ascii_digit()).collect();
    format!("{}-{}", digits.get(..8).unwrap_or_default(), digits.get(8..).unwrap_or_default())
}

/// The scheduled backups in `dir`, oldest first, with the time in their name.
pub fn scheduled_in(dir: &Path) -> Vec<(Timestamp, PathBuf)> {
    let Ok(rd) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut out: Vec<(Timestamp, PathBuf)> = rd
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let stamp = name.strip_prefix("frontdesk-")?.strip_suffix(SUFFIX)?.to_string();
            Some((parse_stamp(&stamp)?, e.path()))
        })
        .collect();
    out.sort();
    out
}

fn parse_stamp(s: &str) -> Option<Timestamp> {
    let (date, time) = s.split_once('-')?;
    if date.len() != 8 || time.len() != 6 || !date.bytes().chain(time.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let day = crate::domain::time::Date::parse(&format!("{}-{}-{}", date.get(..4)?, date.get(4..6)?, date.get(6..)?))?;
    let n = |s: &str| s.parse::<i64>().ok();
    let (h, m, sec) = (n(time.get(..2)?)?, n(time.get(2..4)?)?, n(time.get(4..)?)?);
    (h < 24 && m < 60 && sec < 60).then(|| Timestamp(day.start().0 + (h * 3600 + m * 60 + sec) * 1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_stamps_read_back() {
        for ms in [0i64, 1_764_806_400_000, 1_798_761_599_000] {
            let s = file_stamp(Timestamp(ms));
            assert_eq!(parse_stamp(&s), Some(Timestamp(ms)), "{s}");
        }
        assert_eq!(file_stamp(Timestamp(1_764_806_400_000)), "20251204-000000");
        assert_eq!(parse_stamp("2025-12-04"), None);
    }
}
