//! Promise 1 under fire: many concurrent clients send, the server is killed
//! with SIGKILL mid-stream, restarted, and every message that got 250 is a
//! ticket exactly once (and nothing is a ticket twice). And the crash between
//! the ticket commit and dropping the entry from the spool log.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::smtp::Smtp;
use common::*;

#[tokio::test]
async fn sigkill_mid_stream_loses_and_duplicates_nothing() {
    let mut d = MailDesk::spawn();
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicUsize::new(0));
    let mut threads = Vec::new();
    for t in 0..16 {
        let (addr, acked, stop, sent) = (d.smtp.clone(), acked.clone(), stop.clone(), sent.clone());
        threads.push(std::thread::spawn(move || {
            let (mut c, g) = Smtp::connect(&addr);
            if g.0 != 220 || c.cmd("EHLO crash.example.org").0 != 250 {
                return;
            }
            for n in 0.. {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let subject = format!("crash-{t}-{n}");
                let body = format!("From: c{t}@customer.test\r\nTo: support@example.test\r\nSubject: {subject}\r\nMessage-ID: <{subject}@customer.test>\r\n\r\n{}\r\n", "payload line\r\n".repeat(20));
                sent.fetch_add(1, Ordering::SeqCst);
                let r = c.transaction(&format!("c{t}@customer.test"), &["support@example.test"], body.as_bytes());
                if r.0 == 250 {
                    acked.lock().unwrap().push(subject);
                } else {
                    // Killed: the connection is gone mid-transaction.
                    return;
                }
            }
        }));
    }
    // Let the stream run, then pull the plug while messages are in flight.
    while acked.lock().unwrap().len() < 300 {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    d.server.kill_hard();
    stop.store(true, Ordering::SeqCst);
    for t in threads {
        let _ = t.join();
    }
    let acked = acked.lock().unwrap().clone();
    let attempted = sent.load(Ordering::SeqCst);
    assert!(acked.len() >= 300);

    d.restart();
    d.settle().await;
    let tickets = d.all_tickets().await;
    let mut seen: HashMap<String, usize> = HashMap::new();
    for t in &tickets {
        *seen.entry(t["subject"].as_str().unwrap().to_string()).or_default() += 1;
    }
    let dupes: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(dupes.is_empty(), "duplicated tickets: {dupes:?}");
    let lost: Vec<_> = acked.iter().filter(|s| !seen.contains_key(*s)).collect();
    assert!(lost.is_empty(), "{} messages got 250 but are not tickets: {:?}", lost.len(), &lost[..lost.len().min(10)]);
    eprintln!(
        "crash: {attempted} attempted, {} acknowledged, {} tickets after restart (in-flight ones may or may not be)",
        acked.len(),
        tickets.len()
    );
    assert!(tickets.len() <= attempted);
}

/// The spool log and the database are two files: a crash after the ticket
/// transaction and before the spool entry is dropped must not make the
/// message a ticket twice after restart.
#[tokio::test]
async fn crash_between_ticket_commit_and_spool_drop_keeps_one_ticket() {
    let mut d = MailDesk::start_env(MAIL_CONFIG, "127.0.0.1:0", &[("FRONTDESK_FAULT_CRASH_BEFORE_SPOOL_DROP", "1")]);
    let (mut c, _) = Smtp::connect(&d.smtp);
    assert_eq!(c.cmd("EHLO crash.example.org").0, 250);
    let body = "From: once@customer.test\r\nTo: support@example.test\r\nSubject: exactly once across files\r\nMessage-ID: <once@customer.test>\r\n\r\nhello\r\n";
    assert_eq!(c.transaction("once@customer.test", &["support@example.test"], body.as_bytes()).0, 250);
    // The worker commits the ticket and then the injected fault aborts the process.
    assert!(d.server.wait_exit(std::time::Duration::from_secs(20)).is_some(), "the injected crash did not happen");
    assert!(d.dir.path().join("spool.redb").exists());

    d.restart();
    let metrics = d.settle().await;
    assert_eq!(metric(&metrics, "frontdesk_spool_depth"), 0, "the entry was not dropped after restart");
    let tickets = d.all_tickets().await;
    let same: Vec<_> = tickets.iter().filter(|t| t["subject"] == "exactly once across files").collect();
    assert_eq!(same.len(), 1, "{tickets:?}");
}
