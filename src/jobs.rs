//! Background workers: one place that starts them, restarts them when they
//! panic (logged, with a short back-off), reports their state to `/healthz`,
//! and asks them to stop on shutdown.
//!
//! A worker is a function run in a loop on its own thread. It returns when it
//! has nothing more to do (its channel closed, or `stopping()` says so); a
//! panic inside it is caught here, logged, counted, and the function is
//! started again, so a worker never silently stops.

use std::any::Any;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The state of one supervised worker.
#[derive(Debug)]
pub struct Worker {
    pub name: &'static str,
    running: AtomicBool,
    restarts: AtomicU64,
    last_panic: Mutex<Option<String>>,
}

impl Worker {
    fn failed(&self, msg: String) {
        self.running.store(false, Ordering::SeqCst);
        self.restarts.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut l) = self.last_panic.lock() {
            *l = Some(msg);
        }
    }
}

/// What `/healthz` shows of a worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerStatus {
    pub name: &'static str,
    pub running: bool,
    pub restarts: u64,
    pub last_panic: Option<String>,
}

/// Every supervised worker of the process.
#[derive(Debug)]
pub struct Jobs {
    workers: Mutex<Vec<Arc<Worker>>>,
    stop: AtomicBool,
    /// The worker threads, joined at shutdown.
    threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
    /// Wakes async waiters (event streams, SMTP sessions) at shutdown.
    stop_tx: tokio::sync::watch::Sender<bool>,
}

impl Default for Jobs {
    fn default() -> Self {
        Jobs {
            workers: Mutex::default(),
            stop: AtomicBool::new(false),
            threads: Mutex::default(),
            stop_tx: tokio::sync::watch::Sender::new(false),
        }
    }
}

/// The text of a panic payload.
pub fn panic_message(p: &(dyn Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-text payload".into()
    }
}

/// Runs `f`, turning a panic into an error with its message.
pub fn guard<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|p| panic_message(p.as_ref()))
}

/// Runs a fallible `f`; an error or a panic becomes the error text (a panic
/// as "panic: …").
pub fn guard_result<T, E: std::fmt::Display>(f: impl FnOnce() -> Result<T, E>) -> Result<T, String> {
    match guard(f) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(e.to_string()),
        Err(panic) => Err(format!("panic: {panic}")),
    }
}

impl Jobs {
    /// Starts `body` on a named thread and keeps it running: a panic is logged
    /// and the body starts again after a back-off (1 s, doubling to 30 s).
    /// The thread ends when `body` returns normally.
    pub fn thread(self: &Arc<Self>, name: &'static str, body: impl Fn() + Send + 'static) {
        let worker = self.register(name);
        let registered = worker.clone();
        let jobs = self.clone();
        let spawned = std::thread::Builder::new().name(name.into()).spawn(move || {
            let mut backoff = Duration::from_secs(1);
            loop {
                match guard(&body) {
                    Ok(()) => break,
                    Err(msg) => {
                        tracing::error!(worker = name, "worker panicked, restarting in {backoff:?}: {msg}");
                        worker.failed(msg);
                        if jobs.stopping() {
                            break;
                        }
                        std::thread::sleep(backoff);
                        backoff = (backoff * 2).min(Duration::from_secs(30));
                        worker.running.store(true, Ordering::SeqCst);
                    }
                }
            }
            worker.running.store(false, Ordering::SeqCst);
        });
        match spawned {
            Ok(handle) => {
                if let Ok(mut t) = self.threads.lock() {
                    t.push(handle);
                }
            }
            Err(e) => {
                tracing::error!(worker = name, "cannot start the worker thread: {e}");
                registered.running.store(false, Ordering::SeqCst);
            }
        }
    }

    /// Starts an async worker on the runtime and keeps it running the same way:
    /// a panicked task is logged and started again after a back-off.
    pub fn task<F, Fut>(self: &Arc<Self>, name: &'static str, make: F)
    where
        F: Fn() -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let worker = self.register(name);
        let jobs = self.clone();
        tokio::spawn(async move {
            let mut backoff = Duration::from_secs(1);
            loop {
                match tokio::spawn(make()).await {
                    Err(e) if e.is_panic() => {
                        let msg = panic_message(e.into_panic().as_ref());
                        tracing::error!(worker = name, "worker panicked, restarting in {backoff:?}: {msg}");
                        worker.failed(msg);
                        if jobs.stopping() {
                            break;
                        }
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(30));
                        worker.running.store(true, Ordering::SeqCst);
                    }
                    _ => break,
                }
            }
            worker.running.store(false, Ordering::SeqCst);
        });
    }

    fn register(&self, name: &'static str) -> Arc<Worker> {
        let worker = Arc::new(Worker { name, running: AtomicBool::new(true), restarts: AtomicU64::new(0), last_panic: Mutex::new(None) });
        if let Ok(mut w) = self.workers.lock() {
            w.push(worker.clone());
        }
        worker
    }

    /// Asks every worker to finish what it is doing and return.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.stop_tx.send_replace(true);
    }

    /// Waits, at most `limit` in all, for every worker thread to return (call
    /// after `stop`); the names of those still running then.
    pub fn join(&self, limit: Duration) -> Vec<String> {
        let deadline = std::time::Instant::now() + limit;
        let handles = self.threads.lock().map(|mut t| std::mem::take(&mut *t)).unwrap_or_default();
        let mut left = Vec::new();
        for handle in handles {
            while !handle.is_finished() && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            if handle.is_finished() {
                let _ = handle.join();
            } else {
                left.push(handle.thread().name().unwrap_or("worker").to_string());
            }
        }
        left
    }

    /// Resolves once shutdown was asked for.
    pub async fn stopped(&self) {
        let mut rx = self.stop_tx.subscribe();
        let _ = rx.wait_for(|stop| *stop).await;
    }

    /// Whether shutdown was asked for.
    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    pub fn status(&self) -> Vec<WorkerStatus> {
        let Ok(w) = self.workers.lock() else { return Vec::new() };
        w.iter()
            .map(|w| WorkerStatus {
                name: w.name,
                running: w.running.load(Ordering::SeqCst),
                restarts: w.restarts.load(Ordering::SeqCst),
                last_panic: w.last_panic.lock().ok().and_then(|l| l.clone()),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_worker_is_restarted() {
        let jobs = Arc::new(Jobs::default());
        let runs = Arc::new(AtomicU64::new(0));
        let r = runs.clone();
        jobs.thread("test-worker", move || {
            if r.fetch_add(1, Ordering::SeqCst) == 0 {
                panic!("first run fails");
            }
        });
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while runs.load(Ordering::SeqCst) < 2 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(runs.load(Ordering::SeqCst), 2, "restarted after the panic");
        let s = &jobs.status()[0];
        assert_eq!(s.restarts, 1);
        assert_eq!(s.last_panic.as_deref(), Some("first run fails"));
        assert_eq!(guard(|| 7), Ok(7));
        assert_eq!(guard_result(|| Err::<(), _>("no")), Err("no".to_string()));
        assert_eq!(guard_result(|| -> Result<(), String> { panic!("boom") }), Err("panic: boom".to_string()));
    }
}
