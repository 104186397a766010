//! The durable spool with group commit (DESIGN promise 1).
//!
//! SMTP sessions hand a finished message to the `Spooler` and wait. One thread
//! takes every message waiting at that moment, writes them all in one
//! transaction of the spool log (`store::spool`, a file of its own, so this
//! never waits for ticket work) and commits it durably (fsync) once; only then is each session
//! told its message is safe and allowed to answer 250. Sessions that finish DATA
//! at the same time therefore share one fsync.

use std::sync::Arc;
use std::sync::mpsc;

use tokio::sync::oneshot;

use crate::desk::Desk;
use crate::domain::SpoolId;
use crate::store::SpoolEntry;

/// Most messages or bytes folded into one commit.
const MAX_BATCH: usize = 256;
const MAX_BATCH_BYTES: usize = 64 * 1024 * 1024;

struct Job {
    entry: SpoolEntry,
    raw: Vec<u8>,
    done: oneshot::Sender<Result<SpoolId, String>>,
}

/// Hands messages to the group-commit thread.
#[derive(Clone)]
pub struct Spooler {
    tx: mpsc::Sender<Job>,
    /// The process's workers (SMTP sessions watch them for shutdown).
    pub jobs: Arc<crate::jobs::Jobs>,
}

impl Spooler {
    /// Starts the commit thread (a supervised job).
    pub fn start(desk: Arc<Desk>) -> Spooler {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = std::sync::Mutex::new(rx);
        let jobs = desk.jobs.clone();
        let supervisor = jobs.clone();
        supervisor.thread("spool-commit", move || {
            // A panic while holding the receiver poisons the lock; the restarted
            // body takes it over all the same.
            let rx = rx.lock().unwrap_or_else(|p| p.into_inner());
            while let Ok(first) = rx.recv() {
                let mut batch = vec![first];
                let mut bytes = batch[0].raw.len();
                while batch.len() < MAX_BATCH && bytes < MAX_BATCH_BYTES {
                    match rx.try_recv() {
                        Ok(j) => {
                            bytes += j.raw.len();
                            batch.push(j);
                        }
                        Err(_) => break,
                    }
                }
                let result = crate::jobs::guard_result(|| {
                    let items: Vec<(&SpoolEntry, &[u8])> = batch.iter().map(|j| (&j.entry, j.raw.as_slice())).collect();
                    desk.spool_mail(&items)
                });
                match result {
                    Ok(ids) => {
                        // The commit woke the mail worker (the change feed).
                        for (j, id) in batch.into_iter().zip(ids) {
                            let _ = j.done.send(Ok(id));
                        }
                    }
                    Err(e) => {
                        tracing::error!("spool commit failed: {e}");
                        for j in batch {
                            let _ = j.done.send(Err(e.clone()));
                        }
                    }
                }
            }
        });
        Spooler { tx, jobs }
    }

    /// Durably stores one message; returns its spool id once it is on disk.
    pub async fn put(&self, entry: SpoolEntry, raw: Vec<u8>) -> Result<SpoolId, String> {
        let (done, wait) = oneshot::channel();
        self.tx.send(Job { entry, raw, done }).map_err(|_| "the spool is not running".to_string())?;
        wait.await.map_err(|_| "the spool stopped".to_string())?
    }
}
