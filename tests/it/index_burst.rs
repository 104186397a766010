//! Indexing under a mail burst is clean: tickets created and updated at once
//! (new mail, then delivery records of the mail sent about it) never make
//! tantivy cancel a merge whose segments a commit dropped ("couldn't find
//! segment in SegmentManager"), and every ticket is searchable afterwards.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::capture::Capture;
use crate::common::smtp::Smtp;
use crate::common::*;

#[tokio::test]
async fn a_burst_indexes_without_cancelled_merges() {
    let (cap, _h) = Capture::start_on("127.0.0.1:0").await;
    let dir = tempdir();
    let cfg = dir.path().join("frontdesk.toml");
    std::fs::write(&cfg, format!("{MAIL_CONFIG}\n[outgoing]\nsmarthost = \"{}\"\nretry_secs = [1]\n", cap.addr)).unwrap();
    let cfg = cfg.to_str().unwrap().to_string();
    assert_eq!(
        cli(
            dir.path(),
            &["--config", &cfg, "user", "add", "--email", ADMIN_EMAIL, "--name", "A", "--role", "admin", "--password-stdin"],
            Some("correct horse battery\n")
        )
        .0,
        0
    );
    let token = cli(dir.path(), &["--config", &cfg, "token", "create", "--email", ADMIN_EMAIL, "--name", "t"], None).1.trim().to_string();
    let mut child = Command::new(BIN)
        .arg("--data-dir")
        .arg(dir.path())
        .args(["--config", &cfg, "--http", "127.0.0.1:0", "--smtp", "127.0.0.1:0", "serve"])
        .env("FRONTDESK_LOG", "warn")
        // No sender verification: it would ask the system's DNS (past loopback).
        .env("FRONTDESK_MAIL_AUTH__VERIFY", "false")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    while !seen.contains("smtp://") {
        let n = out.read(&mut buf).unwrap();
        assert!(n > 0, "server exited: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    let http = seen.split("http://").nth(1).and_then(|s| s.split_whitespace().next()).unwrap().to_string();
    let smtp = seen.split("smtp://").nth(1).and_then(|s| s.split_whitespace().next()).unwrap().to_string();
    let mut senders = Vec::new();
    for c in 0..4 {
        let smtp = smtp.clone();
        senders.push(std::thread::spawn(move || {
            let (mut s, _) = Smtp::connect(&smtp);
            s.cmd("EHLO burst.example.org");
            for i in 0..100 {
                let msg = format!("From: c{c}x{i}@customer.test\r\nSubject: burst {c} {i} walrus\r\n\r\nbody\r\n");
                assert_eq!(s.transaction(&format!("c{c}x{i}@customer.test"), &["support@example.test"], msg.as_bytes()).0, 250);
            }
        }));
    }
    for s in senders {
        s.join().unwrap();
    }
    let api = Api::new(&format!("http://{http}"), &token);
    let mut total = 0;
    for _ in 0..600 {
        total = api.call("GET", "/tickets?q=walrus&limit=1", None).await.1["total"].as_u64().unwrap_or(0);
        if total == 400 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(total, 400, "every ticket of the burst is searchable");
    // Let the delivery records (ticket updates) of the mail sent be indexed too.
    cap.wait(400).await;
    let mut idle = false;
    for _ in 0..400 {
        let m = reqwest::get(format!("http://{http}/metrics")).await.unwrap().text().await.unwrap();
        if metric(&m, "frontdesk_outbox_due") == 0 && metric(&m, "frontdesk_index_queue") == 0 {
            idle = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(idle, "the outbox and the indexer never went idle");
    let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("couldn't find segment"), "{stderr}");
    assert!(!stderr.contains("ERROR"), "{stderr}");
}
