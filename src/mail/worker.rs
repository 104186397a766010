//! The worker that turns spooled mail into tickets. On start it drains what a
//! previous run left in the spool; then it wakes on every spool commit.
//! Each message is processed by `Desk::receive_mail`, which marks the spool
//! id done in the same transaction that creates or updates the ticket; the
//! worker then drops the entry from the spool log (`store::spool`).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::desk::Desk;
use crate::desk::mail::MailOutcome;
use crate::domain::SpoolId;
use crate::jobs::{guard, guard_result};
use crate::mail::inbound::{self, ParsedMail};
use crate::store::{SpoolEntry, Woke};

/// Accept→ticket latencies (ms) of recent messages, for `/metrics` and benches.
#[derive(Default)]
pub struct MailStats {
    pub latencies_ms: Mutex<VecDeque<u64>>,
    pub processed: std::sync::atomic::AtomicU64,
    pub accepted: std::sync::atomic::AtomicU64,
    pub rejected: std::sync::atomic::AtomicU64,
}

const LATENCY_SAMPLES: usize = 100_000;

impl MailStats {
    fn record(&self, ms: u64) {
        if let Ok(mut l) = self.latencies_ms.lock() {
            if l.len() >= LATENCY_SAMPLES {
                l.pop_front();
            }
            l.push_back(ms);
        }
        crate::metrics::METRICS.accept_to_ticket.observe(std::time::Duration::from_millis(ms));
        self.processed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// (count, p50, p99) of the recorded accept→ticket latencies.
    pub fn percentiles(&self) -> (usize, u64, u64) {
        let mut v: Vec<u64> = self.latencies_ms.lock().map(|l| l.iter().copied().collect()).unwrap_or_default();
        if v.is_empty() {
            return (0, 0, 0);
        }
        v.sort_unstable();
        let at = |p: f64| v[(((v.len() - 1) as f64) * p).round() as usize];
        (v.len(), at(0.5), at(0.99))
    }
}

/// Processes everything in the spool now; returns how many were handled.
pub fn drain(desk: &Desk, stats: &MailStats) -> usize {
    let (mut n, mut removed_since_prune) = (0, 0);
    loop {
        let ids = match desk.spooled(256) {
            Ok(ids) => ids,
            Err(e) => {
                tracing::error!("cannot read the spool: {e}");
                return n;
            }
        };
        if ids.is_empty() || removed_since_prune >= PRUNE_EVERY {
            if removed_since_prune > 0 {
                match desk.prune_spool_marks() {
                    Ok(_) => removed_since_prune = 0,
                    Err(e) => tracing::warn!("cannot prune spool marks: {e}"),
                }
            }
            if ids.is_empty() {
                return n;
            }
        }
        n += ids.len();
        for chunk in ids.chunks(BATCH) {
            let finished = process_batch(desk, stats, chunk);
            injected_crash();
            // The ticket transaction marked these done; dropping them from the
            // log may fail or be cut short by a crash: the marks keep them from
            // becoming tickets twice.
            match desk.drop_spooled(&finished) {
                Ok(()) => removed_since_prune += finished.len(),
                Err(e) => {
                    // The spool log cannot be written (a full disk, say): back
                    // off instead of processing the same mail again at once;
                    // the caller's wait retries later.
                    tracing::error!("cannot drop processed mail from the spool (kept, done marks hold): {e}");
                    std::thread::sleep(Duration::from_millis(500));
                    return n;
                }
            }
        }
        if desk.jobs.stopping() {
            return n;
        }
    }
}

/// Done marks are pruned when the spool is empty, or after this many removals.
const PRUNE_EVERY: usize = 8192;

/// Messages turned into tickets per write transaction when mail queues up.
const BATCH: usize = 128;

/// Debug builds only (the tests): a subject holding the text of
/// `FRONTDESK_FAULT_PANIC_SUBJECT` panics the processing of that message, and
/// one holding `FRONTDESK_FAULT_STALL_SUBJECT` holds the worker for 3 s, so
/// tests can prove isolation and the health report.
#[cfg(debug_assertions)]
fn injected_fault(m: &ParsedMail) {
    let hit = |var: &str| std::env::var(var).ok().filter(|v| !v.is_empty() && m.subject.contains(v.as_str()));
    if let Some(marker) = hit("FRONTDESK_FAULT_STALL_SUBJECT") {
        tracing::warn!("injected stall for {marker}");
        std::thread::sleep(Duration::from_secs(3));
    }
    if let Some(marker) = hit("FRONTDESK_FAULT_PANIC_SUBJECT") {
        panic!("injected fault for {marker}");
    }
}
#[cfg(not(debug_assertions))]
fn injected_fault(_: &ParsedMail) {}

/// Debug builds only (the tests): `FRONTDESK_FAULT_CRASH_BEFORE_SPOOL_DROP=1`
/// aborts the process after a ticket transaction committed and before its
/// spool entries are dropped, to prove exactly-once across the two files.
#[cfg(debug_assertions)]
fn injected_crash() {
    if std::env::var("FRONTDESK_FAULT_CRASH_BEFORE_SPOOL_DROP").is_ok_and(|v| v == "1") {
        eprintln!("frontdesk: injected crash before dropping spool entries");
        std::process::abort();
    }
}
#[cfg(not(debug_assertions))]
fn injected_crash() {}

/// Debug builds only (the tests): `FRONTDESK_FAULT_PANIC_WORKER=1` panics the
/// worker itself once, outside any message, to prove the supervisor.
#[cfg(debug_assertions)]
fn worker_fault() {
    static ONCE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if std::env::var("FRONTDESK_FAULT_PANIC_WORKER").is_ok_and(|v| v == "1") && !ONCE.swap(true, std::sync::atomic::Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(300));
        panic!("injected worker fault");
    }
}
#[cfg(not(debug_assertions))]
fn worker_fault() {}

/// Parses a spooled message; a panic becomes an error with its message.
fn parse_guarded(desk: &Desk, entry: &SpoolEntry, raw: &[u8]) -> Result<ParsedMail, String> {
    guard(|| {
        let mut m = inbound::parse(raw, &entry.mail_from, desk.config().limits.attachment_max_bytes);
        m.auth = crate::domain::auth::MailAuth::read(raw, &desk.config().smtp.hostname);
        m.spam = crate::domain::verdict::SpamVerdict::read(raw);
        injected_fault(&m);
        m
    })
}

/// Processes spooled messages in one transaction when it can, one by one when
/// that fails; returns the ids that are done with (to drop from the spool).
fn process_batch(desk: &Desk, stats: &MailStats, ids: &[SpoolId]) -> Vec<SpoolId> {
    if ids.len() == 1 {
        return process_one(desk, stats, ids[0]).then_some(ids[0]).into_iter().collect();
    }
    let mut finished = Vec::with_capacity(ids.len());
    let mut batch = Vec::with_capacity(ids.len());
    for &id in ids {
        match desk.spooled_mail(id) {
            Ok(Some((entry, raw))) => match parse_guarded(desk, &entry, &raw) {
                Ok(parsed) => batch.push((id, entry, raw, parsed)),
                Err(panic) => {
                    if to_junk(desk, stats, id, &entry, &raw, &ParsedMail::default(), &format!("processing panicked: {panic}")) {
                        finished.push(id);
                    }
                }
            },
            Ok(None) => {}
            Err(e) => tracing::error!(spool = id.0, "cannot read spooled message: {e}"),
        }
    }
    match guard_result(|| desk.receive_mail_batch(&batch)) {
        Ok(outcomes) => {
            let now = desk.now().0;
            for ((id, entry, _, _), outcome) in batch.iter().zip(outcomes) {
                let ms = (now - entry.received_at.0).max(0) as u64;
                if outcome != MailOutcome::AlreadyDone {
                    stats.record(ms);
                }
                tracing::debug!(spool = id.0, ?outcome, latency_ms = ms, "mail processed");
                finished.push(*id);
            }
        }
        Err(why) => {
            tracing::warn!("batch of {} failed ({why}); processing one by one", batch.len());
            for (id, ..) in &batch {
                if process_one(desk, stats, *id) {
                    finished.push(*id);
                }
            }
        }
    }
    finished
}

/// Moves a message to Junk; true when it is done with (moved now or before).
fn to_junk(desk: &Desk, stats: &MailStats, id: SpoolId, entry: &SpoolEntry, raw: &[u8], parsed: &ParsedMail, reason: &str) -> bool {
    tracing::error!(spool = id.0, "mail cannot be processed, moving it to Junk: {reason}");
    match desk.spool_to_junk(id, entry, raw, parsed, reason) {
        Ok(Some(_)) => {
            stats.record((desk.now().0 - entry.received_at.0).max(0) as u64);
            true
        }
        Ok(None) => true,
        Err(e2) => {
            tracing::error!(spool = id.0, "cannot move it to Junk either, will retry: {e2}");
            false
        }
    }
}

/// Processes one spooled message; true when it is done with (a ticket, Junk,
/// or processed before), false when it stays in the spool for a retry.
fn process_one(desk: &Desk, stats: &MailStats, id: SpoolId) -> bool {
    let loaded = desk.spooled_mail(id);
    let (entry, raw) = match loaded {
        Ok(Some(x)) => x,
        Ok(None) => return false,
        Err(e) => {
            tracing::error!(spool = id.0, "cannot read spooled message: {e}");
            return false;
        }
    };
    let parsed = match parse_guarded(desk, &entry, &raw) {
        Ok(p) => p,
        Err(panic) => return to_junk(desk, stats, id, &entry, &raw, &ParsedMail::default(), &format!("processing panicked: {panic}")),
    };
    match guard(|| desk.receive_mail(id, &entry, &raw, &parsed)) {
        Ok(Ok(outcome)) => {
            let ms = (desk.now().0 - entry.received_at.0).max(0) as u64;
            if outcome != MailOutcome::AlreadyDone {
                stats.record(ms);
            }
            tracing::debug!(spool = id.0, ?outcome, latency_ms = ms, "mail processed");
            true
        }
        // Storage trouble is temporary: the message stays in the spool and is
        // retried. Anything else would fail again: it goes to Junk with the reason.
        Ok(Err(e @ crate::desk::DeskError::Store(_))) => {
            tracing::error!(spool = id.0, "mail processing failed, will retry: {e}");
            std::thread::sleep(Duration::from_millis(200));
            false
        }
        Ok(Err(e)) => to_junk(desk, stats, id, &entry, &raw, &parsed, &e.to_string()),
        Err(panic) => to_junk(desk, stats, id, &entry, &raw, &parsed, &format!("processing panicked: {panic}")),
    }
}

/// Runs the worker as a supervised job until shutdown: a panic outside one
/// message's processing restarts it (and it drains the spool again).
pub fn start(desk: Arc<Desk>, stats: Arc<MailStats>) {
    let jobs = desk.jobs.clone();
    jobs.thread("mail-worker", move || {
        worker_fault();
        // Counting from before the first drain: mail spooled meanwhile wakes the loop.
        let mut spooled = desk.spool_waiter();
        let left = drain(&desk, &stats);
        if left > 0 {
            tracing::info!("processed {left} message(s) left in the spool");
        }
        while !desk.jobs.stopping() {
            // Wake on a spool commit, or every few seconds to retry failures.
            if spooled.wait(RETRY_EVERY) == Woke::Closed {
                return;
            }
            drain(&desk, &stats);
        }
    });
}

/// How often mail that failed for a passing reason (storage) is retried.
const RETRY_EVERY: Duration = Duration::from_secs(5);
