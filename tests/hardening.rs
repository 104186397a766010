//! Regression tests for the outside review (issue 10), each through the real
//! server: SMTP over TCP, HTTP. Every test here failed on the code before the fix.

mod common;

use std::time::Duration;

use common::smtp::Smtp;
use common::*;

fn crlf(s: &str) -> Vec<u8> {
    s.replace("\r\n", "\n").replace('\n', "\r\n").into_bytes()
}

async fn healthz(d: &MailDesk) -> (u16, serde_json::Value) {
    let r = reqwest::get(d.server.url("/healthz")).await.unwrap();
    let code = r.status().as_u16();
    (code, r.json().await.unwrap())
}

async fn junk_page(d: &MailDesk) -> String {
    let mut b = Browser::logged_in(&d.server.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    b.get("/junk").await.body
}

/// The mail that killed the worker for good: a forward whose body changes byte
/// length when lower-cased. It becomes a ticket, and so does the next mail.
#[tokio::test]
async fn case_folding_forward_does_not_stop_intake() {
    let d = MailDesk::start();
    let kelvin = crlf(
        "From: Agent <agent@example.test>\nTo: support@example.test\nSubject: Fwd: broken\n\n\u{212A}\u{212A}\u{212A}\u{212A} ---------- Forwarded message ---------\nFrom: Carol <carol@customer.test>\n\nit broke\n",
    );
    let r = Smtp::send_mail(&d.smtp, "agent@example.test", &["support@example.test"], &kelvin);
    assert_eq!(r.0, 250, "{}", r.1);
    let dotted = crlf(
        "From: Dan <dan@customer.test>\nTo: support@example.test\nSubject: FW: x\n\nOriginal Message\nFrom: \u{130}\u{130}\u{130}\u{130}\u{130}\u{130} <x> <\n> <y@z.test\n",
    );
    let r = Smtp::send_mail(&d.smtp, "dan@customer.test", &["support@example.test"], &dotted);
    assert_eq!(r.0, 250, "{}", r.1);
    let normal = crlf("From: Eve <eve@customer.test>\nTo: support@example.test\nSubject: after the poison\n\nstill working?\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "eve@customer.test", &["support@example.test"], &normal).0, 250);
    let all = d.wait_tickets(3).await;
    let subjects: Vec<&str> = all.iter().filter_map(|t| t["subject"].as_str()).collect();
    assert!(subjects.contains(&"after the poison"), "{subjects:?}");
    // The agent's forward is the customer's ticket, found despite the Kelvin signs.
    let fwd = all.iter().find(|t| t["subject"] == "broken").expect("forward became a ticket");
    assert_eq!(fwd["requester"]["email"], "carol@customer.test");
    let (code, h) = healthz(&d).await;
    assert_eq!(code, 200, "{h}");
}

/// A message whose processing panics goes to Junk with the reason (the raw
/// source kept) and the next message is processed.
#[tokio::test]
async fn a_panicking_message_goes_to_junk_and_intake_continues() {
    let d = MailDesk::start_env(MAIL_CONFIG, "127.0.0.1:0", &[("FRONTDESK_FAULT_PANIC_SUBJECT", "POISON-PILL")]);
    let bad = crlf("From: Mallory <m@evil.test>\nTo: support@example.test\nSubject: POISON-PILL here\n\nboom\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "m@evil.test", &["support@example.test"], &bad).0, 250);
    let good = crlf("From: Eve <eve@customer.test>\nTo: support@example.test\nSubject: an honest question\n\nhello\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "eve@customer.test", &["support@example.test"], &good).0, 250);
    let all = d.wait_tickets(1).await;
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["subject"], "an honest question");
    d.settle().await;
    let junk = junk_page(&d).await;
    assert!(junk.contains("processing panicked"), "{junk}");
    assert!(junk.contains("POISON-PILL"), "{junk}");
    // After a restart nothing is left to kill the worker again.
    let (code, h) = healthz(&d).await;
    assert_eq!(code, 200, "{h}");
    assert_eq!(h["spool"]["depth"], 0);
}

/// `/healthz` reports the intake and answers 503 while mail waits too long.
#[tokio::test]
async fn healthz_reports_a_stuck_intake() {
    let config = MAIL_CONFIG.replace("[desk]", "[server]\nhealth_spool_age_secs = 1\n\n[desk]");
    let d = MailDesk::start_env(&config, "127.0.0.1:0", &[("FRONTDESK_FAULT_STALL_SUBJECT", "SLOW-ONE")]);
    let (code, h) = healthz(&d).await;
    assert_eq!(code, 200, "{h}");
    assert!(h["workers"].as_array().unwrap().iter().any(|w| w["name"] == "mail-worker" && w["running"] == true), "{h}");
    let slow = crlf("From: Eve <eve@customer.test>\nTo: support@example.test\nSubject: SLOW-ONE\n\nhello\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "eve@customer.test", &["support@example.test"], &slow).0, 250);
    let next = crlf("From: Eve <eve@customer.test>\nTo: support@example.test\nSubject: waiting behind\n\nhello\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "eve@customer.test", &["support@example.test"], &next).0, 250);
    let mut saw_503 = false;
    for _ in 0..60 {
        let (code, h) = healthz(&d).await;
        if code == 503 {
            assert!(h["spool"]["depth"].as_u64().unwrap() >= 1, "{h}");
            assert!(h["problems"][0].as_str().unwrap().contains("oldest spooled message"), "{h}");
            saw_503 = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(saw_503, "healthz never reported the stuck spool");
    d.wait_tickets(2).await;
    d.settle().await;
    let (code, h) = healthz(&d).await;
    assert_eq!(code, 200, "{h}");
}
