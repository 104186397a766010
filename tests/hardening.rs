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
        "From: Fay <fay@customer.test>\nTo: support@example.test\nSubject: Fwd: broken\n\n\u{212A}\u{212A}\u{212A}\u{212A} ---------- Forwarded message ---------\nFrom: Carol <carol@customer.test>\n\nit broke\n",
    );
    let r = Smtp::send_mail(&d.smtp, "fay@customer.test", &["support@example.test"], &kelvin);
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
    assert!(subjects.contains(&"Fwd: broken") && subjects.contains(&"FW: x"), "{subjects:?}");
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

fn with_smarthost(addr: &str, extra: &str) -> String {
    format!("{MAIL_CONFIG}\n[outgoing]\nsmarthost = \"{addr}\"\nretry_secs = [1]\n{extra}\n")
}

/// Mail with an agent's From but no signed token is kept as an unverified
/// internal note, mailed to nobody, and the agent is told; a forged forward
/// opens no ticket for the "victim". A real answer to a notification (signed
/// token) is the agent's public reply.
#[tokio::test]
async fn forged_agent_mail_is_only_a_claim() {
    use common::capture::Capture;
    let (cap, _h) = Capture::start_on("127.0.0.1:0").await;
    let d = MailDesk::start_with_config(&with_smarthost(&cap.addr, "notify_ack = false\nnotify_new_ticket = true\n"));
    let m = crlf(
        "From: Kim <kim@customer.test>\nTo: support@example.test\nSubject: Invoice\nMessage-ID: <inv1@customer.test>\n\nWrong total.\n",
    );
    assert_eq!(Smtp::send_mail(&d.smtp, "kim@customer.test", &["support@example.test"], &m).0, 250);
    let alerts = cap.wait(2).await;
    let alert_id = alerts.iter().find(|m| m.rcpt_to == ["agent@example.test"]).unwrap().header("Message-ID").unwrap();

    // Phishing in the desk's name: From: the agent, from any host.
    let forged = crlf(
        "From: Bob Agent <agent@example.test>\nTo: support@example.test\nSubject: Re: [TKT-000001] Invoice\n\nPlease pay to IBAN XX00 EVIL.\n",
    );
    assert_eq!(Smtp::send_mail(&d.smtp, "agent@example.test", &["support@example.test"], &forged).0, 250);
    d.settle().await;
    let t = d.ticket("TKT-000001").await;
    let entries = t["entries"].as_array().unwrap();
    let note = entries.iter().find(|e| e["body"].as_str().unwrap().contains("IBAN")).unwrap();
    assert_eq!(note["kind"], "note");
    assert!(note["body"].as_str().unwrap().starts_with("[unverified: claims to be Bob Agent <agent@example.test>]"));
    // Bob hears of it; Kim gets nothing.
    let mails = cap.wait(3).await;
    assert!(mails.iter().any(|m| m.rcpt_to == ["agent@example.test"] && m.data.contains("without proof")), "agent told");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(!cap.all().iter().any(|m| m.rcpt_to.contains(&"kim@customer.test".to_string())), "nothing to the customer");

    // A forged forward opens no ticket for the victim.
    let fwd = crlf(
        "From: Bob Agent <agent@example.test>\nTo: support@example.test\nSubject: Fwd: your account\n\n---------- Forwarded message ---------\nFrom: Victim <victim@customer.test>\n\nhello\n",
    );
    assert_eq!(Smtp::send_mail(&d.smtp, "agent@example.test", &["support@example.test"], &fwd).0, 250);
    d.settle().await;
    assert_eq!(d.all_tickets().await.len(), 1);
    assert!(junk_page(&d).await.contains("unverified: claims to be agent agent@example.test"));

    // The real Bob answers the notification: his public reply reaches Kim.
    let real = crlf(&format!(
        "From: Bob Agent <agent@example.test>\nTo: support@example.test\nSubject: Re: [TKT-000001] Invoice\nIn-Reply-To: {alert_id}\n\nCorrected invoice attached soon.\n"
    ));
    assert_eq!(Smtp::send_mail(&d.smtp, "agent@example.test", &["support@example.test"], &real).0, 250);
    d.settle().await;
    let t = d.ticket("TKT-000001").await;
    assert!(t["entries"].as_array().unwrap().iter().any(|e| e["kind"] == "reply" && e["body"] == "Corrected invoice attached soon."));
    let mut got = false;
    for _ in 0..100 {
        if cap.all().iter().any(|m| m.rcpt_to == ["kim@customer.test"] && m.data.contains("Corrected invoice")) {
            got = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(got, "the verified reply is mailed to the customer");
}

/// Deep cursors are refused with 400 instead of aborting the process.
#[tokio::test]
async fn absurd_cursors_are_refused() {
    let d = MailDesk::start();
    let (st, body) = d.api.call("GET", "/tickets?q=printer&cursor=100000000000", None).await;
    assert_eq!(st, 400, "{body}");
    assert_eq!(body["field"], "cursor");
    let (st, _) = d.api.call("GET", "/tickets?cursor=100000000000", None).await;
    assert_eq!(st, 400);
    let (st, _) = d.api.call("GET", "/tickets?q=printer&cursor=18446744073709551615", None).await;
    assert_eq!(st, 400);
    // The server is still there, and sane cursors work.
    let (st, _) = d.api.call("GET", "/tickets?q=printer&cursor=50", None).await;
    assert_eq!(st, 200);
    let mut b = Browser::logged_in(&d.server.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(b.get("/search?q=printer&page=99999999999").await.status, 200);
    assert_eq!(b.get("/tickets?page=99999999999999").await.status, 200);
}

/// Peak resident memory of a process, in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|n| n.parse().ok()).unwrap_or(0)
}

/// Wrong passwords from one address lock that address out of that account,
/// not the real user at theirs; concurrent guesses all count; a burst of
/// 150 concurrent logins keeps memory flat (argon2 checks are capped).
#[tokio::test]
async fn login_throttling_is_per_account_and_address() {
    let (_dir, s) = desk_with_admin();
    let mut attacker = Browser::from_ip(&s.base, "127.0.0.2");
    attacker.get("/login").await;
    for _ in 0..5 {
        let r = attacker.post("/login", &[("email", ADMIN_EMAIL), ("password", "wrong password!"), ("next", "/tickets")]).await;
        assert_eq!(r.status, 401);
    }
    let r = attacker.post("/login", &[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD), ("next", "/tickets")]).await;
    assert_eq!(r.status, 429, "the attacker's address is throttled, even with the right password");
    // The real admin, at their own address, logs in.
    let mut real = Browser::from_ip(&s.base, "127.0.0.3");
    let r = real.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(r.status, 303, "the real user is not locked out: {}", r.body);

    // 20 concurrent wrong guesses from a fresh address: at most 5 are checked.
    let mut handles = Vec::new();
    for _ in 0..20 {
        let base = s.base.clone();
        handles.push(tokio::spawn(async move {
            let mut b = Browser::from_ip(&base, "127.0.0.4");
            b.get("/login").await;
            b.post("/login", &[("email", ADMIN_EMAIL), ("password", "another wrong one"), ("next", "/")]).await.status
        }));
    }
    let mut checked = 0;
    for h in handles {
        let st = h.await.unwrap();
        assert!(st == 401 || st == 429, "{st}");
        checked += usize::from(st == 401);
    }
    assert!(checked <= 5, "{checked} concurrent guesses were checked");

    // 150 concurrent logins from many addresses: memory stays flat.
    let before = peak_rss_kib(s.pid());
    let mut handles = Vec::new();
    for i in 0..150 {
        let base = s.base.clone();
        handles.push(tokio::spawn(async move {
            let mut b = Browser::from_ip(&base, &format!("127.0.{}.{}", 10 + i / 200, 1 + i % 200));
            b.get("/login").await;
            b.post("/login", &[("email", "nobody@example.test"), ("password", "guess guess guess"), ("next", "/")]).await.status
        }));
    }
    for h in handles {
        let st = h.await.unwrap();
        assert!(st == 401 || st == 429, "{st}");
    }
    let after = peak_rss_kib(s.pid());
    assert!(before > 0 && after > 0);
    // Uncapped, 150 argon2 checks at ~19 MiB each would need ~2.8 GiB.
    assert!(after.saturating_sub(before) < 200 * 1024, "peak RSS grew by {} KiB", after - before);
}
