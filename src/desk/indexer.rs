//! The indexer job: keeps the search index in step with the store. It lives
//! in `desk/` (it needs the desk's store and jobs) so `search/` depends only on
//! `store/` and `domain/`.

use std::sync::Arc;

use super::Desk;
use crate::search::SearchIndex;
use crate::store::{Topic, Woke};

/// Pause between index commits while mail waits in the spool.
const BACKLOG_PAUSE: std::time::Duration = std::time::Duration::from_millis(500);

/// Keeps the index in step with the store until shutdown: rebuilds first when
/// needed, then indexes whatever the queue holds after each commit that
/// touched tickets (the change feed), and every few seconds after a failure.
/// Runs on one dedicated thread: its allocations stay in one place instead of
/// spreading over the runtime's blocking pool.
pub fn start_indexer(desk: Arc<Desk>, index: Arc<SearchIndex>, rebuild: bool) {
    let rebuild = std::sync::atomic::AtomicBool::new(rebuild);
    let jobs = desk.jobs.clone();
    jobs.thread("indexer", move || {
        // Counting from before the rebuild: tickets changed meanwhile are indexed after it.
        let mut touched = desk.store.waiter(Topic::Tickets);
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
            if touched.wait(std::time::Duration::from_secs(5)) == Woke::Closed {
                return;
            }
        }
    });
}
