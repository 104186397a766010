//! Webhooks (issue 17 part 14) through the real server: ticket events are
//! POSTed to a receiver the test runs, signed (checked here with ring's
//! HMAC, not the desk's code), retried after the receiver was down, each
//! event of the set delivered; a webhook aimed at a private address without
//! `allow_private` never calls it and says why on the admin page.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::smtp::Smtp;
use crate::common::*;
use serde_json::{Value, json};

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Got {
    path: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Got {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// A minimal HTTP/1.1 receiver answering `status` to everything.
async fn receiver(status: Arc<AtomicU16>) -> (String, Arc<Mutex<Vec<Got>>>) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let got = Arc::new(Mutex::new(Vec::new()));
    let g = got.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = l.accept().await else { return };
            let (g, status) = (g.clone(), status.clone());
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let (head, body_start) = loop {
                    let n = s.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break (String::from_utf8_lossy(&buf[..i]).to_string(), i + 4);
                    }
                };
                let mut lines = head.split("\r\n");
                let path = lines.next().unwrap_or("").split(' ').nth(1).unwrap_or("").to_string();
                let headers: Vec<(String, String)> =
                    lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect();
                let len: usize =
                    headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("content-length")).and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
                while buf.len() < body_start + len {
                    let n = s.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                let body = String::from_utf8_lossy(&buf[body_start..]).to_string();
                g.lock().unwrap().push(Got { path, headers, body });
                let code = status.load(Ordering::SeqCst);
                let _ = s.write_all(format!("HTTP/1.1 {code} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").as_bytes()).await;
            });
        }
    });
    (addr, got)
}

async fn wait_for(got: &Arc<Mutex<Vec<Got>>>, what: &str, f: impl Fn(&[Got]) -> bool) -> Vec<Got> {
    for _ in 0..300 {
        let all = got.lock().unwrap().clone();
        if f(&all) {
            return all;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{what}: {:#?}", got.lock().unwrap());
}

fn hmac_hex(key: &[u8], msg: &[u8]) -> String {
    let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
    ring::hmac::sign(&k, msg).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn ticket_events_are_delivered_signed_and_retried() {
    let status = Arc::new(AtomicU16::new(503));
    let (addr, got) = receiver(status.clone()).await;
    let dir = tempdir();
    let secret_file = dir.path().join("hook.secret");
    std::fs::write(&secret_file, "s3cret-for-tests\n").unwrap();
    let d = MailDesk::start_with_config(&format!(
        "{MAIL_CONFIG}\n[[webhook]]\nname = \"crm\"\nurl = \"http://{addr}/hook?src=desk\"\nsecret_file = \"{}\"\nallow_private = true\nretry_secs = [1]\n\n\
         [[webhook]]\nname = \"blocked\"\nurl = \"http://{addr}/blocked\"\nevents = [\"ticket.created\"]\n",
        secret_file.display()
    ));
    let m = "From: Kim <kim@customer.test>\r\nTo: support@example.test\r\nSubject: VPN down\r\n\r\nThe VPN is down since 9.\r\n";
    assert_eq!(Smtp::send_mail(&d.smtp, "kim@customer.test", &["support@example.test"], m.as_bytes()).0, 250);
    // The receiver is down first: the delivery is retried, then succeeds.
    wait_for(&got, "a first attempt", |g| !g.is_empty()).await;
    status.store(200, Ordering::SeqCst);
    let all = wait_for(&got, "the retry", |g| g.len() >= 2).await;
    assert_eq!(all[0].header("X-Frontdesk-Delivery"), all[1].header("X-Frontdesk-Delivery"), "the same delivery again");
    let first = &all[1];
    assert_eq!(first.path, "/hook?src=desk");
    assert_eq!(first.header("X-Frontdesk-Event"), Some("ticket.created"));
    assert_eq!(first.header("Content-Type"), Some("application/json"));
    let ts = first.header("X-Frontdesk-Timestamp").expect("timestamp");
    let want = format!("sha256={}", hmac_hex(b"s3cret-for-tests", format!("{ts}.{}", first.body).as_bytes()));
    assert_eq!(first.header("X-Frontdesk-Signature"), Some(want.as_str()), "signature over timestamp.body");
    let p = first.json();
    assert_eq!(p["event"], "ticket.created");
    assert_eq!(p["ticket"]["ref"], "TKT-000001");
    assert_eq!(p["ticket"]["requester"]["email"], "kim@customer.test");
    assert!(p["entry"]["text"].as_str().unwrap().contains("The VPN is down since 9."), "{p:#}");

    // Each kind of change is its event.
    d.api.call("POST", "/tickets/TKT-000001/entries", Some(json!({"body": "Rebooting the gateway."}))).await;
    d.api.call("POST", "/tickets/TKT-000001/entries", Some(json!({"body": "Gateway logs full.", "internal": true}))).await;
    d.api.call("PATCH", "/tickets/TKT-000001", Some(json!({"priority": "high"}))).await;
    d.api.call("PATCH", "/tickets/TKT-000001", Some(json!({"status": "resolved"}))).await;
    let events = |g: &[Got]| g.iter().filter_map(|x| x.header("X-Frontdesk-Event").map(str::to_string)).collect::<Vec<_>>();
    let all = wait_for(&got, "every event", |g| {
        let e = events(g);
        ["ticket.note", "ticket.updated", "ticket.status_changed"].iter().all(|k| e.iter().any(|x| x == k))
    })
    .await;
    let replied: Vec<Value> = all.iter().filter(|g| g.header("X-Frontdesk-Event") == Some("ticket.replied")).map(|g| g.json()).collect();
    assert!(replied.iter().any(|p| p["entry"]["text"].as_str().unwrap_or("").contains("Rebooting the gateway.")), "{replied:#?}");
    let note = all.iter().find(|g| g.header("X-Frontdesk-Event") == Some("ticket.note")).unwrap().json();
    assert_eq!(note["entry"]["kind"], "note");
    let statuses: Vec<Value> = all
        .iter()
        .filter(|g| g.header("X-Frontdesk-Event") == Some("ticket.status_changed"))
        .map(|g| g.json()["ticket"]["status"].clone())
        .collect();
    assert!(statuses.contains(&json!("pending")), "the reply made it pending: {statuses:?}");
    let all = wait_for(&got, "resolved", |g| g.iter().any(|x| x.body.contains("\"status\":\"resolved\""))).await;

    // The private address was never called for "blocked"; the admin sees why.
    assert!(!all.iter().any(|g| g.path.starts_with("/blocked")), "{all:#?}");
    let mut b = Browser::logged_in(&d.server.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let page = b.get_until("/admin/webhooks", |p| p.contains("loopback or private address")).await.body;
    assert!(page.contains("delivered") && page.contains("answered 503"), "{page}");
    // Agents do not see the page.
    let mut bob = Browser::logged_in(&d.server.base, "agent@example.test", "bob's long password").await;
    assert_ne!(bob.get("/admin/webhooks").await.status, 200);
}

#[test]
fn a_webhook_with_an_unknown_event_is_a_config_error() {
    let dir = tempdir();
    let cfg = dir.path().join("frontdesk.toml");
    std::fs::write(&cfg, "[[webhook]]\nname = \"x\"\nurl = \"https://hooks.example.com/x\"\nevents = [\"ticket.exploded\"]\n").unwrap();
    let (code, _, err) = cli(dir.path(), &["--config", cfg.to_str().unwrap(), "check-config"], None);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("events") && err.contains("ticket.exploded"), "{err}");
}
