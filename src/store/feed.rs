//! The change feed: what each commit changed, the one wake-up source of every
//! worker. Async code (live pages, the outbox sender) subscribes to a
//! broadcast of `Change`s; worker threads (the mail worker, the indexer) hold
//! a `Waiter` on one `Topic` and block until a commit touches it, a timeout
//! passes, or the feed closes at shutdown. Waiters count commits, so a commit
//! between two waits is never missed.

use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// What one committed transaction changed (see `Feed::subscribe`).
#[derive(Debug, Clone, Default)]
pub struct Change {
    /// Tickets changed, sorted, without repeats.
    pub tickets: Vec<u64>,
    /// Outgoing mail was queued or rescheduled.
    pub outbox: bool,
    /// Accepted mail was added to the spool log (never broadcast: only
    /// waiters on `Topic::Spool` hear of it, so a burst of mail does not
    /// crowd the live pages' feed).
    pub spool: bool,
}

/// What a waiter waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    Tickets,
    Outbox,
    Spool,
}

/// How a wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Woke {
    Changed,
    TimedOut,
    /// The feed is closed (shutdown): stop waiting.
    Closed,
}

#[derive(Default)]
struct Counts {
    tickets: u64,
    outbox: u64,
    spool: u64,
    closed: bool,
}

impl Counts {
    fn of(&self, t: Topic) -> u64 {
        match t {
            Topic::Tickets => self.tickets,
            Topic::Outbox => self.outbox,
            Topic::Spool => self.spool,
        }
    }
}

pub struct Feed {
    tx: tokio::sync::broadcast::Sender<Change>,
    counts: Mutex<Counts>,
    cv: Condvar,
}

impl Default for Feed {
    fn default() -> Self {
        Feed { tx: tokio::sync::broadcast::channel(256).0, counts: Mutex::default(), cv: Condvar::new() }
    }
}

impl Feed {
    /// Announces one commit's change.
    pub fn publish(&self, c: Change) {
        if let Ok(mut n) = self.counts.lock() {
            n.tickets += u64::from(!c.tickets.is_empty());
            n.outbox += u64::from(c.outbox);
            n.spool += u64::from(c.spool);
        }
        self.cv.notify_all();
        if !c.tickets.is_empty() || c.outbox {
            // Nobody listening is fine.
            let _ = self.tx.send(c);
        }
    }

    /// Every ticket or outbox change from now on (async subscribers).
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Change> {
        self.tx.subscribe()
    }

    /// A blocking waiter on `topic`, counting from now.
    pub fn waiter(&self, topic: Topic) -> Waiter<'_> {
        let seen = self.counts.lock().map(|n| n.of(topic)).unwrap_or(0);
        Waiter { feed: self, topic, seen }
    }

    /// Ends every wait for good (shutdown).
    pub fn close(&self) {
        if let Ok(mut n) = self.counts.lock() {
            n.closed = true;
        }
        self.cv.notify_all();
    }
}

/// Waits on one topic of the feed from a plain thread.
pub struct Waiter<'a> {
    feed: &'a Feed,
    topic: Topic,
    seen: u64,
}

impl Waiter<'_> {
    /// Blocks until a commit touched the topic since the last wait, `timeout`
    /// passed, or the feed closed.
    pub fn wait(&mut self, timeout: Duration) -> Woke {
        let Ok(guard) = self.feed.counts.lock() else { return Woke::Closed };
        let (topic, seen) = (self.topic, self.seen);
        let waited = self.feed.cv.wait_timeout_while(guard, timeout, |n| !n.closed && n.of(topic) == seen);
        let Ok((n, _)) = waited else { return Woke::Closed };
        if n.closed {
            return Woke::Closed;
        }
        let now = n.of(topic);
        if now == seen {
            return Woke::TimedOut;
        }
        self.seen = now;
        Woke::Changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_commit_between_waits_is_not_missed_and_close_ends_waits() {
        let feed = Feed::default();
        let mut w = feed.waiter(Topic::Spool);
        assert_eq!(w.wait(Duration::from_millis(10)), Woke::TimedOut);
        feed.publish(Change { spool: true, ..Change::default() });
        feed.publish(Change { tickets: vec![1], ..Change::default() });
        assert_eq!(w.wait(Duration::from_secs(5)), Woke::Changed);
        assert_eq!(w.wait(Duration::from_millis(10)), Woke::TimedOut, "one wake per change, not per wait");
        let mut t = feed.waiter(Topic::Tickets);
        assert_eq!(t.wait(Duration::from_millis(10)), Woke::TimedOut, "counts from when the waiter was made");
        std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(Duration::from_millis(50));
                feed.close();
            });
            assert_eq!(w.wait(Duration::from_secs(30)), Woke::Closed);
        });
    }

    #[test]
    fn spool_changes_are_not_broadcast() {
        let feed = Feed::default();
        let mut rx = feed.subscribe();
        feed.publish(Change { spool: true, ..Change::default() });
        feed.publish(Change { outbox: true, ..Change::default() });
        let got = rx.try_recv().expect("the outbox change is broadcast");
        assert!(got.outbox && !got.spool);
        assert!(rx.try_recv().is_err());
    }
}
