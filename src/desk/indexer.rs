//! The indexer job: keeps the search index in step with the store. It lives
//! in `desk/` (it needs the desk's store and jobs) so `search/` depends only on
//! `store/` and `domain/`.

use std::sync::Arc;

use super::Desk;
use crate::search::SearchIndex;

/// Pause between index commits while mail waits in the spool.
const BACKLOG_PAUSE: std::time::Duration = std::time::Duration::from_millis(500);

/// Keeps the index in step with the store until the store's change stream ends:
/// rebuilds first when needed, then indexes whatever the queue holds after each
/// commit (and once a second, to pick up anything a missed wake-up left).
/// Runs on one dedicated thread: its allocations stay in one place instead of
/// spreading over the runtime's blocking pool.
pub fn start_indexer(desk: Arc<Desk>, index: Arc<SearchIndex>, rebuild: bool) {
    let (wake_tx, wake_rx) = std::sync::mpsc::sync_channel::<()>(1);
    let mut changes = desk.store.subscribe();
    tokio::spawn(async move {
        loop {
            match changes.recv().await {
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                // Only outgoing mail changed: nothing to index.
                Ok(c) if c.tickets.is_empty() => {}
                // A full channel already holds a wake-up: nothing is lost.
                _ => {
                    if let Err(std::sync::mpsc::TrySendError::Disconnected(_)) = wake_tx.try_send(()) {
                        return;
                    }
                }
            }
        }
    });
    let wake_rx = std::sync::Mutex::new(wake_rx);
    let rebuild = std::sync::atomic::AtomicBool::new(rebuild);
    let jobs = desk.jobs.clone();
    jobs.thread("indexer", move || {
        let wake_rx = wake_rx.lock().unwrap_or_else(|p| p.into_inner());
        if rebuild.swap(false, std::sync::atomic::Ordering::SeqCst) {
            let started = std::time::Instant::now();
            match index.rebuild(&desk.store, |_, _, _| {}) {
                Ok(n) => tracing::info!("search index built: {n} thread entries in {:.1} s", started.elapsed().as_secs_f64()),
                Err(e) => tracing::error!("building the search index failed: {e}"),
            }
        }
        while !desk.jobs.stopping() {
            match index.drain_queue(&desk.store) {
                Ok(0) => {}
                Ok(_) => {
                    // While mail waits in the spool, tickets come first: the
                    // indexer shares the CPU with the mail worker, and fewer,
                    // larger index commits cost less in all. Search lags by
                    // up to BACKLOG_PAUSE more per batch of the index queue meanwhile.
                    if !desk.jobs.stopping() && desk.store.spool().len().unwrap_or(0) > 0 {
                        std::thread::sleep(BACKLOG_PAUSE);
                    }
                    continue;
                }
                Err(e) => {
                    tracing::error!("indexing failed (will retry): {e}");
                    std::thread::sleep(std::time::Duration::from_secs(2));
                }
            }
            if let Err(std::sync::mpsc::RecvTimeoutError::Disconnected) = wake_rx.recv_timeout(std::time::Duration::from_secs(1)) {
                return;
            }
        }
    });
}
