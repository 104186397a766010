//! Live updates: a mail that arrives over SMTP is announced on an open event
//! stream (SSE) at once, and only to agents who may see the ticket.

use std::time::{Duration, Instant};

use crate::common::smtp::Smtp;
use crate::common::*;

async fn open_stream(base: &str, cookies: &str) -> reqwest::Response {
    let res = reqwest::Client::new().get(format!("{base}/events")).header("cookie", cookies).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    res
}

async fn wait_for(res: &mut reqwest::Response, needle: &str, within: Duration) -> Option<Duration> {
    let start = Instant::now();
    let mut seen = String::new();
    while start.elapsed() < within {
        match tokio::time::timeout(within.saturating_sub(start.elapsed()), res.chunk()).await {
            Ok(Ok(Some(c))) => {
                seen.push_str(&String::from_utf8_lossy(&c));
                if seen.contains(needle) {
                    return Some(start.elapsed());
                }
            }
            _ => return None,
        }
    }
    None
}

#[tokio::test]
async fn new_mail_is_announced_on_the_event_stream() {
    let d = MailDesk::start();
    let admin = Browser::logged_in(&d.server.base, ADMIN_EMAIL, "correct horse battery").await;
    let cookies = admin.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
    let mut stream = open_stream(&d.server.base, &cookies).await;
    // Unauthenticated: no stream.
    let anon = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(d.server.url("/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status(), 303);
    let m = b"From: Sam <sam@customer.test>\r\nTo: support@example.test\r\nSubject: Live arrival\r\n\r\nhello\r\n";
    let sent = Instant::now();
    assert_eq!(Smtp::send_mail(&d.smtp, "sam@customer.test", &["support@example.test"], m).0, 250);
    let acked = sent.elapsed();
    let waited = wait_for(&mut stream, "TKT-000001", Duration::from_secs(5)).await.expect("event for the new ticket");
    eprintln!("live: SMTP 250 after {acked:?}; event on the open stream {:?} after the 250", waited.saturating_sub(acked));
    assert!(waited < Duration::from_secs(2));
}

#[tokio::test]
async fn agents_only_hear_about_tickets_they_may_see() {
    let d = MailDesk::start();
    // Sal works in Sales only.
    let mut admin = Browser::logged_in(&d.server.base, ADMIN_EMAIL, "correct horse battery").await;
    invite_agent(
        &mut admin,
        &[("name", "Sal"), ("email", "sal@agents.test"), ("role", "agent"), ("departments", "Sales")],
        "sal's long password",
    )
    .await;
    let sal = Browser::logged_in(&d.server.base, "sal@agents.test", "sal's long password").await;
    let cookies = sal.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
    let mut stream = open_stream(&d.server.base, &cookies).await;
    let support = b"From: a@customer.test\r\nTo: support@example.test\r\nSubject: for support\r\n\r\nx\r\n";
    assert_eq!(Smtp::send_mail(&d.smtp, "a@customer.test", &["support@example.test"], support).0, 250);
    let sales = b"From: b@customer.test\r\nTo: sales@example.test\r\nSubject: for sales\r\n\r\nx\r\n";
    assert_eq!(Smtp::send_mail(&d.smtp, "b@customer.test", &["sales@example.test"], sales).0, 250);
    // The Sales ticket is TKT-000002; the Support one (000001) is never named to Sal.
    let mut seen = String::new();
    let start = Instant::now();
    while !seen.contains("TKT-000002") && start.elapsed() < Duration::from_secs(5) {
        if let Ok(Ok(Some(c))) = tokio::time::timeout(Duration::from_secs(5), stream.chunk()).await {
            seen.push_str(&String::from_utf8_lossy(&c));
        }
    }
    assert!(seen.contains("TKT-000002"), "{seen}");
    assert!(!seen.contains("TKT-000001"), "{seen}");
}
