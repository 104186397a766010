//! The desk's health for `/healthz`: the store answers, every supervised
//! worker runs, and accepted mail does not wait in the spool too long.

use serde_json::json;

use super::Desk;
use crate::domain::TicketId;
use crate::jobs::WorkerStatus;

/// One health report.
#[derive(Debug)]
pub struct Health {
    /// `None` when the store answers; else why not.
    pub store_error: Option<String>,
    pub spool_depth: u64,
    /// Age of the oldest spooled message, in seconds (0 when the spool is empty).
    pub spool_oldest_secs: u64,
    pub spool_limit_secs: u64,
    pub workers: Vec<WorkerStatus>,
    /// Scheduled backups: the directory and the last outcome (`None` when
    /// `[backup] dir` is not set).
    pub backup: Option<(String, super::backup::BackupStatus)>,
    /// The IMAP fetchers, and the names of those failing for longer than
    /// `IMAP_FAILING_SECS`.
    pub imap: Vec<super::intake::ImapStatus>,
    pub imap_down: Vec<String>,
}

/// An IMAP mailbox failing this long makes the desk unhealthy (mail is not
/// arriving); shorter spells are a server's hiccup.
pub const IMAP_FAILING_SECS: i64 = 600;

impl Health {
    pub fn down(&self) -> Vec<&'static str> {
        self.workers.iter().filter(|w| !w.running).map(|w| w.name).collect()
    }

    /// Healthy: store answers, no worker down, spool fresh.
    pub fn ok(&self) -> bool {
        self.store_error.is_none() && self.down().is_empty() && self.spool_oldest_secs <= self.spool_limit_secs && self.imap_down.is_empty()
    }

    pub fn to_json(&self) -> String {
        let mut problems = Vec::new();
        if let Some(e) = &self.store_error {
            problems.push(format!("store: {e}"));
        }
        for w in self.down() {
            problems.push(format!("worker {w} is down"));
        }
        if self.spool_oldest_secs > self.spool_limit_secs {
            problems.push(format!(
                "the oldest spooled message waits {} s (limit {} s): mail is not becoming tickets",
                self.spool_oldest_secs, self.spool_limit_secs
            ));
        }
        for m in &self.imap_down {
            problems.push(format!("IMAP mailbox {m} has failed for over {} minutes", IMAP_FAILING_SECS / 60));
        }
        let workers: Vec<_> = self
            .workers
            .iter()
            .map(|w| json!({"name": w.name, "running": w.running, "restarts": w.restarts, "last_panic": w.last_panic}))
            .collect();
        json!({
            "status": if problems.is_empty() { "ok" } else { "unhealthy" },
            "problems": problems,
            "spool": {"depth": self.spool_depth, "oldest_age_secs": self.spool_oldest_secs, "limit_secs": self.spool_limit_secs},
            "workers": workers,
            "imap": self.imap.iter().map(|m| json!({
                "name": m.name,
                "state": m.state,
                "fetched": m.fetched,
                "last_ok_at": m.last_ok_at.map(|t| t.rfc3339()),
                "failing_since": m.failing_since.map(|t| t.rfc3339()),
                "last_error": m.last_error,
            })).collect::<Vec<_>>(),
            "backup": self.backup.as_ref().map(|(dir, b)| json!({
                "dir": dir,
                "last_ok_at": b.last_ok_at.map(|t| t.rfc3339()),
                "last_file": b.last_file,
                "last_bytes": b.last_bytes,
                "last_error": b.last_error,
                "last_error_at": b.last_error_at.map(|t| t.rfc3339()),
            })),
        })
        .to_string()
    }
}

impl Desk {
    /// Whether the store answers a read (the watchdog's test; a write
    /// failure such as a full disk is not one).
    pub fn store_reads(&self) -> std::result::Result<(), String> {
        self.store.read().and_then(|r| r.meta("schema_version")).map(|_| ()).map_err(|e| e.to_string())
    }

    /// Gathers the health report (reads the store: call off the async runtime).
    pub fn health(&self) -> Health {
        let now = self.now();
        let (mut store_error, mut depth, mut oldest) = (None, 0, 0);
        // One snapshot: the schema read proves the store answers.
        match self.store.read().and_then(|r| r.meta("schema_version")) {
            Ok(_) => {
                let spool = self.store.spool();
                depth = spool.len().unwrap_or(0);
                if let Ok(Some(t)) = spool.oldest() {
                    oldest = ((now.0 - t.0).max(0) / 1000) as u64;
                }
            }
            Err(e) => store_error = Some(e.to_string()),
        }
        if let Some(e) = self.store.io_failure() {
            store_error = Some(e);
        }
        let imap = self.imap.all();
        let imap_down = imap
            .iter()
            .filter(|m| m.failing_since.is_some_and(|t| now.0 - t.0 > IMAP_FAILING_SECS * 1000))
            .map(|m| m.name.clone())
            .collect();
        Health {
            imap,
            imap_down,
            store_error,
            spool_depth: depth,
            spool_oldest_secs: oldest,
            spool_limit_secs: self.config().server.health_spool_age_secs,
            workers: if self.jobs.stopping() { Vec::new() } else { self.jobs.status() },
            backup: Some(self.config().backup.dir.trim().to_string()).filter(|d| !d.is_empty()).map(|d| (d, self.backup_status())),
        }
    }
}

/// The queue depths `/metrics` reports; zero where the store cannot answer.
#[derive(Debug, Default, Clone, Copy)]
pub struct Gauges {
    pub spool_depth: u64,
    /// Seconds the oldest spooled message has waited.
    pub spool_oldest_secs: u64,
    pub outbox_due: u64,
    pub outbox_queued: u64,
    /// Seconds the oldest mail in the outbox has waited.
    pub outbox_oldest_secs: u64,
    pub index_queue: u64,
    /// Seconds since the last good backup (None: none since start).
    pub backup_age_secs: Option<u64>,
    /// Supervised workers not running.
    pub workers_down: u64,
}

impl Desk {
    /// Current queue depths (reads the store).
    pub fn gauges(&self) -> Gauges {
        let spool_depth = self.store.spool().len().unwrap_or(0);
        let read = self.store.read();
        let (outbox_due, outbox_queued) = read.as_ref().ok().and_then(|r| r.outbox_counts(self.now()).ok()).unwrap_or((0, 0));
        let index_queue = read.as_ref().ok().and_then(|r| r.index_queue_len().ok()).unwrap_or(0);
        let now = self.now();
        let age = |t: crate::domain::Timestamp| ((now.0 - t.0).max(0) / 1000) as u64;
        let outbox_oldest_secs = read.as_ref().ok().and_then(|r| r.outbox_oldest().ok().flatten()).map_or(0, age);
        let spool_oldest_secs = self.store.spool().oldest().ok().flatten().map_or(0, age);
        let backup_age_secs = self.backup_status().last_ok_at.map(age);
        let workers_down = self.jobs.status().iter().filter(|w| !w.running).count() as u64;
        Gauges { spool_depth, spool_oldest_secs, outbox_due, outbox_queued, outbox_oldest_secs, index_queue, backup_age_secs, workers_down }
    }

    /// Shutdown: every worker is told to stop and every wait on the change
    /// feed ends.
    pub fn stop(&self) {
        self.jobs.stop();
        self.store.close_feed();
    }

    /// The store's change feed: tickets touched and outbox rows queued, after
    /// each commit.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<crate::store::Change> {
        self.store.subscribe()
    }

    /// Of `ids`, the references of the tickets `viewer` may see (live updates).
    pub fn visible_references(&self, viewer: &crate::domain::Person, ids: Vec<u64>) -> Vec<String> {
        match self.store.read() {
            Ok(r) => ids
                .into_iter()
                .filter(|id| r.ticket(TicketId(*id)).ok().flatten().is_some_and(|t| viewer.can_see(&t)))
                .map(|id| self.reference(TicketId(id)))
                .collect(),
            Err(_) => Vec::new(),
        }
    }
}
