//! Fetching from an IMAP mailbox (issue 16 part 4) against a real Dovecot
//! the test starts: the first look takes only unread mail; new mail pushed
//! by IDLE becomes a ticket within seconds; taken mail is flagged \Seen or
//! moved; a restarted server is reconnected to; a changed UIDVALIDITY
//! duplicates nothing; a connection cut in the middle of a fetch loses and
//! duplicates nothing.

use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::dovecot::TestDovecot;
use crate::inprocess::InProcess;

fn message(id: &str, subject: &str, body: &str) -> String {
    format!(
        "Return-Path: <{id}@customer.test>\nFrom: Customer <{id}@customer.test>\nTo: support@example.test\nSubject: {subject}\n\
         Message-ID: <{id}@customer.test>\nDate: Mon, 30 Nov 2026 10:00:00 +0000\n\n{body}\n"
    )
}

fn ticket_of(d: &InProcess, id: &str) -> Option<frontdesk::domain::TicketId> {
    d.running.desk.store_for_tests().read().unwrap().message_ticket(&format!("{id}@customer.test")).unwrap()
}

fn tickets(d: &InProcess) -> u64 {
    d.running.desk.store_for_tests().counts().unwrap().0
}

/// Waits until `done` holds (at most `secs`); returns how long it took.
async fn until(d: &InProcess, secs: u64, what: &str, done: impl Fn() -> bool) -> Duration {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(secs), "{what}: not within {secs} s; fetchers: {:?}", d.running.desk.imap.all());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    start.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_mail_is_pushed_by_idle_flagged_seen_and_taken_once_across_restarts_and_a_new_uidvalidity() {
    let Some(mut imap) = TestDovecot::start() else { return };
    // Years of read mail, and one unread message, before the desk first looks.
    imap.deliver(&message("old-read", "Long done", "Read years ago."), true);
    imap.deliver(&message("waiting", "Printer offline", "Nobody has read this yet."), false);
    let d = InProcess::start_with(&imap.config("after = \"seen\"\npoll_secs = 60")).await;
    until(&d, 20, "the unread message becomes a ticket", || ticket_of(&d, "waiting").is_some()).await;
    assert!(ticket_of(&d, "old-read").is_none(), "the first look leaves read mail alone");

    // IDLE: a delivery shows up as a ticket within seconds, not at the next poll.
    let health: Value = reqwest::get(format!("{}/healthz", d.base)).await.unwrap().json().await.unwrap();
    let imap_health = &health["imap"][0];
    assert_eq!(imap_health["name"], format!("desk@127.0.0.1/INBOX"), "{health}");
    until(&d, 10, "the fetcher idles", || d.running.desk.imap.all().first().is_some_and(|m| format!("{:?}", m.state) == "Idle")).await;
    imap.deliver(&message("pushed", "VPN down", "Since this morning."), false);
    let took = until(&d, 5, "IDLE brings new mail", || ticket_of(&d, "pushed").is_some()).await;
    eprintln!("IDLE push: delivered to ticket in {} ms", took.as_millis());
    until(&d, 5, "taken mail is flagged seen", || imap.flags("").iter().filter(|f| f.contains('S')).count() == 3).await;
    assert_eq!(tickets(&d), 2);

    // The server restarts: the desk logs in again and goes on.
    tokio::task::block_in_place(|| imap.restart());
    imap.deliver(&message("after-restart", "Laptop", "Battery swollen."), false);
    until(&d, 30, "mail after a server restart", || ticket_of(&d, "after-restart").is_some()).await;
    assert_eq!(tickets(&d), 3);

    // A mailbox rebuild: new UIDVALIDITY, and a taken message unread again.
    // It is not taken twice (its Message-ID is on a ticket); new mail is.
    // (The server's stop and start block: off the runtime the desk shares.)
    tokio::task::block_in_place(|| {
        imap.stop();
        imap.mark_unread("pushed@customer.test");
        imap.renumber();
        imap.deliver(&message("after-rebuild", "Phone", "No dial tone."), false);
        imap.restart();
    });
    until(&d, 40, "mail after a new UIDVALIDITY", || ticket_of(&d, "after-rebuild").is_some()).await;
    until(&d, 5, "the known message is flagged seen again", || {
        imap.flags("").iter().all(|f| f.contains('S') || f.is_empty()) && imap.flags("").iter().filter(|f| f.contains('S')).count() == 5
    })
    .await;
    assert_eq!(tickets(&d), 4, "nothing was taken twice");
    assert!(ticket_of(&d, "old-read").is_none());
    let m = d.running.desk.imap.all();
    assert_eq!(m[0].fetched, 4, "{m:?}");
    let metrics = reqwest::get(format!("{}/metrics", d.base)).await.unwrap().text().await.unwrap();
    // (Counted per process: the other test's mailbox has the same name.)
    let fetched =
        metrics.lines().find_map(|l| l.strip_prefix("frontdesk_imap_total{mailbox=\"desk@127.0.0.1/INBOX\",outcome=\"fetched\"} "));
    assert!(fetched.and_then(|n| n.parse::<u64>().ok()).is_some_and(|n| n >= 4), "{metrics}");
}

/// A proxy to `upstream` that cuts its first connection once `cut_after`
/// bytes have come from the server; later connections pass untouched.
async fn cutting_proxy(upstream: u16, cut_after: usize) -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let conns = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = conns.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let server = tokio::net::TcpStream::connect(("127.0.0.1", upstream)).await.unwrap();
            let (mut cr, mut cw) = client.into_split();
            let (mut sr, mut sw) = server.into_split();
            tokio::spawn(async move {
                let _ = tokio::io::copy(&mut cr, &mut sw).await;
            });
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut sent = 0usize;
                while let Ok(k) = sr.read(&mut buf).await {
                    if k == 0 {
                        break;
                    }
                    let k = if n == 0 { k.min(cut_after.saturating_sub(sent)) } else { k };
                    if k == 0 || cw.write_all(&buf[..k]).await.is_err() {
                        break;
                    }
                    sent += k;
                }
                // Dropping both halves closes the connection to the desk.
            });
        }
    });
    (port, conns)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_cut_mid_fetch_loses_and_duplicates_nothing_and_taken_mail_is_moved() {
    let Some(imap) = TestDovecot::start() else { return };
    let big = "A log line that goes on and on.\n".repeat(8000); // ~256 KB
    for i in 0..4 {
        imap.deliver(&message(&format!("m{i}"), &format!("Case {i}"), if i == 1 { &big } else { "Short." }), false);
    }
    // The first connection dies in the middle of the big message.
    let (port, conns) = cutting_proxy(imap.port, 60_000).await;
    let config =
        imap.config("after = \"move\"\nmove_to = \"Processed\"").replace(&format!("port = {}", imap.port), &format!("port = {port}"));
    let d = InProcess::start_with(&config).await;
    until(&d, 30, "all four messages become tickets", || (0..4).all(|i| ticket_of(&d, &format!("m{i}")).is_some())).await;
    assert!(conns.load(std::sync::atomic::Ordering::SeqCst) >= 2, "the cut connection was made again");
    assert_eq!(tickets(&d), 4, "nothing twice");
    until(&d, 5, "taken mail is moved out of INBOX", || imap.flags("").is_empty() && imap.flags(".Processed").len() == 4).await;
    // New mail on the new connection is taken and moved too.
    imap.deliver(&message("m4", "Case 4", "Short."), false);
    until(&d, 10, "new mail after the cut", || ticket_of(&d, "m4").is_some()).await;
    until(&d, 5, "and moved", || imap.flags(".Processed").len() == 5).await;
    assert_eq!(tickets(&d), 5);
    // A message fetched twice would have joined its own ticket as a reply.
    let r = d.running.desk.store_for_tests().read().unwrap();
    let sizes: Vec<usize> = (0..5).map(|i| r.entries(ticket_of(&d, &format!("m{i}")).unwrap()).unwrap().len()).collect();
    assert!(sizes.iter().all(|n| *n == sizes[0]), "the same entries on every ticket: {sizes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_imap_brings_a_folder_in_threaded_read_only_once_and_through_a_cut_connection() {
    let Some(imap) = TestDovecot::start() else { return };
    // Three threads, each reply delivered before the message it answers.
    for i in 0..3 {
        imap.deliver(
            &format!(
                "From: Customer {i} <c{i}@old.test>\nTo: support@example.test\nSubject: Re: Old case {i}\n\
                 Message-ID: <reply{i}@old.test>\nIn-Reply-To: <first{i}@old.test>\nDate: Tue, 1 Dec 2015 15:00:00 +0000\n\n{}\n",
                "Still broken.\n".repeat(3000)
            ),
            true,
        );
    }
    for i in 0..3 {
        imap.deliver(
            &format!(
                "From: Customer {i} <c{i}@old.test>\nTo: support@example.test\nSubject: Old case {i}\n\
                 Message-ID: <first{i}@old.test>\nDate: Tue, 1 Dec 2015 09:00:00 +0000\n\nThe printer is broken.\n"
            ),
            i == 0,
        );
    }
    let flags_before = {
        let mut f = imap.flags("");
        f.sort();
        f
    };
    let dir = crate::common::tempdir();
    let data = dir.path().join("data");
    let config = dir.path().join("frontdesk.toml");
    std::fs::write(&config, crate::common::MAIL_CONFIG).unwrap();
    let c = config.to_str().unwrap().to_string();
    let pw = imap.password_file().display().to_string();
    // The import's first connection is cut while the replies' bodies come in.
    let (port, conns) = cutting_proxy(imap.port, 30_000).await;
    let imap_port = imap.port;
    let run = move |port: u16, extra: &'static [&'static str]| {
        let (c, pw, data) = (c.clone(), pw.clone(), data.clone());
        let port = port.to_string();
        let mut args = vec!["--config", &c, "import", "imap", "--host", "127.0.0.1", "--port", &port, "--security", "none"];
        args.extend(["--user", crate::common::dovecot::USER, "--password-file", &pw]);
        args.extend(extra);
        let out = crate::common::cli(&data, &args, None);
        (out.0, out.1, out.2)
    };
    let (code, out, err) = tokio::task::spawn_blocking({
        let run = run.clone();
        move || run(imap_port, &["--dry-run"])
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("6 messages") && out.contains("dry run"), "{out}");
    let (code, out, err) = tokio::task::spawn_blocking({
        let run = run.clone();
        move || run(port, &[])
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("imported 6 messages") && out.contains("3 new tickets, 3 replies"), "{out}\n{err}");
    assert!(
        conns.load(std::sync::atomic::Ordering::SeqCst) >= 2 && err.contains("connecting again"),
        "the cut connection was made again: {err}"
    );
    // Read-only: not one flag changed on the server.
    let mut flags_after = imap.flags("");
    flags_after.sort();
    assert_eq!(flags_before, flags_after);
    // A rerun takes nothing twice.
    let (code, out, _) = tokio::task::spawn_blocking(move || run(imap.port, &[])).await.unwrap();
    assert_eq!(code, 0);
    assert!(out.contains("0 new tickets, 0 replies") && out.contains("6 known already"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imap_over_tls_checks_the_certificate_against_the_ca_file() {
    let Some(imap) = TestDovecot::start_tls() else { return };
    imap.deliver(&message("over-tls", "Encrypted", "Hello."), false);
    let tls_port = imap.tls_port.unwrap();
    let base = imap
        .config("")
        .replace(&format!("port = {}", imap.port), &format!("port = {tls_port}"))
        .replace("security = \"none\"", "security = \"tls\"");
    // Without the CA the certificate is not trusted: nothing is fetched,
    // the fetcher says why.
    let d = InProcess::start_with(&base).await;
    until(&d, 20, "the untrusted certificate is reported", || {
        d.running.desk.imap.all().first().and_then(|m| m.last_error.clone()).is_some_and(|e| e.contains("TLS") || e.contains("certificate"))
    })
    .await;
    assert!(ticket_of(&d, "over-tls").is_none());
    d.running.stop().await;
    let d = InProcess::start_with(&format!("{base}ca_file = \"{}\"\n", imap.ca_file().display())).await;
    until(&d, 20, "mail over TLS", || ticket_of(&d, "over-tls").is_some()).await;
}
