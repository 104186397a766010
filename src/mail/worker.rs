//! The worker that turns spooled mail into tickets. On start it drains what a
//! previous run left in the spool; then it wakes on every spool commit.
//! Each message is processed by `Desk::receive_mail`, which deletes the spool
//! entry in the same transaction that creates or updates the ticket.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::spool::Wake;

use crate::desk::Desk;
use crate::desk::mail::MailOutcome;
use crate::mail::inbound;

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
    let mut n = 0;
    loop {
        let ids = match desk.store.read().and_then(|r| r.spool_ids(256)) {
            Ok(ids) => ids,
            Err(e) => {
                tracing::error!("cannot read the spool: {e}");
                return n;
            }
        };
        if ids.is_empty() {
            return n;
        }
        n += ids.len();
        for chunk in ids.chunks(BATCH) {
            process_batch(desk, stats, chunk);
        }
    }
}

/// Messages turned into tickets per write transaction when mail queues up.
const BATCH: usize = 128;

fn process_batch(desk: &Desk, stats: &MailStats, ids: &[u64]) {
    if ids.len() == 1 {
        return process_one(desk, stats, ids[0]);
    }
    let mut batch = Vec::with_capacity(ids.len());
    for &id in ids {
        match desk.store.read().and_then(|r| r.spool_entry(id)) {
            Ok(Some((entry, raw))) => {
                let parsed = inbound::parse(&raw, &entry.mail_from, desk.config.limits.attachment_max_bytes);
                batch.push((id, entry, raw, parsed));
            }
            Ok(None) => {}
            Err(e) => tracing::error!(spool = id, "cannot read spooled message: {e}"),
        }
    }
    match desk.receive_mail_batch(&batch) {
        Ok(outcomes) => {
            let now = desk.now().0;
            for ((id, entry, _, _), outcome) in batch.iter().zip(outcomes) {
                let ms = (now - entry.received_at.0).max(0) as u64;
                if outcome != MailOutcome::AlreadyDone {
                    stats.record(ms);
                }
                tracing::debug!(spool = id, ?outcome, latency_ms = ms, "mail processed");
            }
        }
        Err(e) => {
            tracing::warn!("batch of {} failed ({e}); processing one by one", batch.len());
            for (id, ..) in &batch {
                process_one(desk, stats, *id);
            }
        }
    }
}

fn process_one(desk: &Desk, stats: &MailStats, id: u64) {
    let loaded = desk.store.read().and_then(|r| r.spool_entry(id));
    let (entry, raw) = match loaded {
        Ok(Some(x)) => x,
        Ok(None) => return,
        Err(e) => {
            tracing::error!(spool = id, "cannot read spooled message: {e}");
            return;
        }
    };
    let parsed = inbound::parse(&raw, &entry.mail_from, desk.config.limits.attachment_max_bytes);
    match desk.receive_mail(id, &entry, &raw, &parsed) {
        Ok(outcome) => {
            let ms = (desk.now().0 - entry.received_at.0).max(0) as u64;
            if outcome != MailOutcome::AlreadyDone {
                stats.record(ms);
            }
            tracing::debug!(spool = id, ?outcome, latency_ms = ms, "mail processed");
        }
        // Storage trouble is temporary: the message stays in the spool and is
        // retried. Anything else would fail again: it goes to Junk with the reason.
        Err(e @ crate::desk::DeskError::Store(_)) => {
            tracing::error!(spool = id, "mail processing failed, will retry: {e}");
            std::thread::sleep(Duration::from_millis(200));
        }
        Err(e) => {
            tracing::error!(spool = id, "mail cannot be processed, moving it to Junk: {e}");
            if let Err(e2) = desk.spool_to_junk(id, &entry, &raw, &parsed, &e.to_string()) {
                tracing::error!(spool = id, "cannot move it to Junk either, will retry: {e2}");
            }
        }
    }
}

/// Runs the worker on a blocking thread until the process ends.
pub fn start(desk: Arc<Desk>, stats: Arc<MailStats>, wake: Arc<Wake>) {
    std::thread::Builder::new()
        .name("mail-worker".into())
        .spawn(move || {
            let left = drain(&desk, &stats);
            if left > 0 {
                tracing::info!("processed {left} message(s) left in the spool by the previous run");
            }
            loop {
                // Wake on a commit, or every few seconds to retry failures.
                wake.wait(Duration::from_secs(5));
                drain(&desk, &stats);
            }
        })
        .map_err(|e| tracing::error!("cannot start the mail worker: {e}"))
        .ok();
}
