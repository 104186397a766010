//! SMTP findings of the outside review (issue 10), each over real TCP:
//! absolute command deadlines, the server-wide DATA memory budget, RFC 3030
//! and RFC 5321 details, junk-command counting for relays, connection limits
//! that let a front MTA in, and rate-limited bounce events.

use std::io::Read;
use std::time::{Duration, Instant};

use crate::common::capture::Capture;
use crate::common::smtp::Smtp;
use crate::common::*;

fn crlf(s: &str) -> Vec<u8> {
    s.replace("\r\n", "\n").replace('\n', "\r\n").into_bytes()
}

fn config(extra_smtp: &str) -> String {
    MAIL_CONFIG.replace("[smtp]\n", &format!("[smtp]\n{extra_smtp}\n"))
}

/// Trickling one byte at a time does not keep a command alive.
#[tokio::test]
async fn trickling_bytes_hit_an_absolute_deadline() {
    let d = MailDesk::start_with_config(&config("command_timeout_secs = 2"));
    let (mut c, g) = Smtp::connect(&d.smtp);
    assert_eq!(g.0, 220);
    let started = Instant::now();
    let mut closed = false;
    for b in b"EHLO trickle.example.org".iter().cycle().take(40) {
        c.send(&[*b]);
        std::thread::sleep(Duration::from_millis(250));
        if started.elapsed() > Duration::from_secs(3) {
            let r = c.reply();
            assert!(r.0 == 421 || r.0 == 0, "{r:?}");
            closed = true;
            break;
        }
    }
    assert!(closed, "the trickling session was never cut off");
    assert!(started.elapsed() < Duration::from_secs(8));
}

/// All sessions together hold at most smtp.max_data_memory bytes; a message
/// over the budget gets 452 4.3.1 and goes through when retried.
#[tokio::test]
async fn data_memory_is_budgeted_across_sessions() {
    let d = MailDesk::start_with_config(&config("max_data_memory = 200000"));
    let (mut a, _) = Smtp::connect(&d.smtp);
    a.cmd("EHLO a.example.org");
    assert_eq!(a.cmd("MAIL FROM:<a@customer.test>").0, 250);
    assert_eq!(a.cmd("RCPT TO:<support@example.test>").0, 250);
    assert_eq!(a.cmd("DATA").0, 354);
    let line = format!("{}\r\n", "x".repeat(998));
    let head = b"From: a@customer.test\r\nSubject: big one\r\n\r\n";
    a.send(head);
    for _ in 0..150 {
        a.send(line.as_bytes());
    }
    std::thread::sleep(Duration::from_millis(300));
    // Session B's message does not fit next to A's 150 KB.
    let (mut b, _) = Smtp::connect(&d.smtp);
    b.cmd("EHLO b.example.org");
    let mut msg = b"From: b@customer.test\r\nSubject: second\r\n\r\n".to_vec();
    for _ in 0..100 {
        msg.extend_from_slice(line.as_bytes());
    }
    let r = b.transaction("b@customer.test", &["support@example.test"], &msg);
    assert_eq!(r.0, 452, "{r:?}");
    assert!(r.1.contains("4.3.1"));
    // SIZE= says up front that it will not fit.
    let r = b.cmd("MAIL FROM:<b@customer.test> SIZE=150000");
    assert_eq!(r.0, 452, "{r:?}");
    a.send(b".\r\n");
    assert_eq!(a.reply().0, 250);
    // Budget back: the retry is accepted.
    assert_eq!(b.transaction("b@customer.test", &["support@example.test"], &msg).0, 250);
    d.wait_tickets(2).await;
}

#[tokio::test]
async fn rfc_details_bdat_size_postmaster() {
    let (cap, _h) = Capture::start_on("127.0.0.1:0").await;
    let d = MailDesk::start_with_config(&format!("{MAIL_CONFIG}\n[outgoing]\nsmarthost = \"{}\"\nretry_secs = [1]\n", cap.addr));
    let (mut c, _) = Smtp::connect(&d.smtp);
    c.cmd("EHLO x.example.org");
    // RFC 3030: DATA after a BDAT without LAST is refused.
    assert_eq!(c.cmd("MAIL FROM:<a@customer.test>").0, 250);
    assert_eq!(c.cmd("RCPT TO:<support@example.test>").0, 250);
    c.send(b"BDAT 5\r\nhello");
    assert_eq!(c.reply().0, 250);
    assert_eq!(c.cmd("DATA").0, 503);
    assert_eq!(c.cmd("RSET").0, 250);
    // SIZE= beyond u64 is refused.
    let r = c.cmd("MAIL FROM:<a@customer.test> SIZE=99999999999999999999999999");
    assert!(r.0 == 552 || r.0 == 501, "{r:?}");
    // A BDAT chunk larger than any message: refused, connection closed.
    assert_eq!(c.cmd("MAIL FROM:<a@customer.test>").0, 250);
    assert_eq!(c.cmd("RCPT TO:<support@example.test>").0, 250);
    let r = c.cmd("BDAT 99999999999999999999");
    assert!(r.0 == 552 || r.0 == 501, "{r:?}");
    let r = c.cmd("BDAT 300000");
    assert_eq!(r.0, 552, "{r:?}");
    assert_eq!(c.reply().0, 421, "and the connection closes");
    // RFC 5321 4.5.1: postmaster is accepted, bare or at our domain, and the
    // admins get it.
    let (mut c, _) = Smtp::connect(&d.smtp);
    c.cmd("EHLO x.example.org");
    assert_eq!(c.cmd("MAIL FROM:<ops@customer.test>").0, 250);
    let r = c.cmd("RCPT TO:<postmaster>");
    assert_eq!(r.0, 250, "{r:?}");
    assert_eq!(c.cmd("RCPT TO:<Postmaster@example.test>").0, 250);
    assert_eq!(c.cmd("RCPT TO:<postmaster@elsewhere.test>").0, 550, "never a relay");
    assert_eq!(c.cmd("DATA").0, 354);
    c.send(&Smtp::data_bytes(b"From: ops@customer.test\r\nSubject: your MX rejects us\r\n\r\nPlease look.\r\n"));
    assert_eq!(c.reply().0, 250);
    let mut found = false;
    for _ in 0..100 {
        found = cap.all().iter().any(|m| m.rcpt_to == [ADMIN_EMAIL] && m.data.contains("your MX rejects us"));
        if found {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(found, "the admin got the postmaster mail");
    assert!(d.all_tickets().await.is_empty(), "postmaster mail is no ticket");
}

/// Only junk commands count toward smtp.max_commands: a relay delivers many
/// messages over one connection; NOOP spam is still cut off.
#[tokio::test]
async fn a_relay_delivers_many_messages_on_one_connection() {
    let d = MailDesk::start_with_config(&config("max_commands = 20"));
    let (mut c, _) = Smtp::connect(&d.smtp);
    c.cmd("EHLO relay.example.org");
    for i in 0..60 {
        let msg = crlf(&format!("From: c{i}@customer.test\nSubject: relayed {i}\n\nhello\n"));
        let r = c.transaction(&format!("c{i}@customer.test"), &["support@example.test"], &msg);
        assert_eq!(r.0, 250, "message {i}: {r:?}");
    }
    let mut last = (0, String::new());
    for _ in 0..25 {
        last = c.cmd("NOOP");
        if last.0 != 250 {
            break;
        }
    }
    assert_eq!(last.0, 421, "NOOP flood is cut off");
    d.wait_tickets(60).await;
}

/// A front MTA's many connections from one address are let in.
#[tokio::test]
async fn a_front_mta_is_not_locked_out() {
    let d = MailDesk::start_with_config(&MAIL_CONFIG.replace("max_connections_per_ip = 40\n", ""));
    let mut held = Vec::new();
    for i in 0..45 {
        let (c, g) = Smtp::connect(&d.smtp);
        assert_eq!(g.0, 220, "connection {i}: {g:?}");
        held.push(c);
    }
    drop(held);
    // A low per-address limit does not apply to a trusted relay.
    let d = MailDesk::start_with_config(
        &config("trusted_relays = [\"127.0.0.0/8\"]").replace("max_connections_per_ip = 40", "max_connections_per_ip = 2"),
    );
    let mut held = Vec::new();
    for i in 0..6 {
        let (c, g) = Smtp::connect(&d.smtp);
        assert_eq!(g.0, 220, "trusted connection {i}: {g:?}");
        held.push(c);
    }
    // An untrusted address still meets the limit.
    let d2 = MailDesk::start_with_config(&MAIL_CONFIG.replace("max_connections_per_ip = 40", "max_connections_per_ip = 2"));
    let _a = Smtp::connect(&d2.smtp);
    let _b = Smtp::connect(&d2.smtp);
    let mut s = std::net::TcpStream::connect(&d2.smtp).unwrap();
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf).unwrap_or(0);
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("421"));
}

/// Anyone can reference a ticket's Message-ID in a bounce; the events such
/// mail adds to one ticket are capped per hour, the rest go to Junk.
#[tokio::test]
async fn bounce_events_are_rate_limited() {
    let d = MailDesk::start();
    let m = crlf("From: Lea <lea@customer.test>\nTo: support@example.test\nSubject: Reset\nMessage-ID: <pw@customer.test>\n\nPlease.\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "lea@customer.test", &["support@example.test"], &m).0, 250);
    d.wait_tickets(1).await;
    for i in 0..15 {
        let ooo = crlf(&format!(
            "From: x{i}@spam.test\nTo: support@example.test\nSubject: Auto: {i}\nAuto-Submitted: auto-replied\nIn-Reply-To: <pw@customer.test>\n\nout\n"
        ));
        assert_eq!(Smtp::send_mail(&d.smtp, &format!("x{i}@spam.test"), &["support@example.test"], &ooo).0, 250);
    }
    d.settle().await;
    let t = d.ticket("TKT-000001").await;
    let events = t["entries"].as_array().unwrap().iter().filter(|e| e["body"].as_str().unwrap_or("").contains("no action taken")).count();
    assert_eq!(events, 10, "capped at 10 an hour");
}

fn prlimit_fsize(pid: u32, limit: &str) {
    let st = std::process::Command::new("prlimit")
        .arg("--pid")
        .arg(pid.to_string())
        .arg(format!("--fsize={limit}"))
        .status()
        .expect("prlimit (util-linux)");
    assert!(st.success());
}

/// A full disk (here: the file-size limit reached): SMTP answers 451, the
/// health check says so, nothing accepted is lost, and when space returns the
/// desk carries on without a restart.
#[tokio::test]
async fn a_full_disk_is_survived() {
    // The file-size limit is set on the desk's process.
    let d = MailDesk::spawn();
    let ok = crlf("From: a@customer.test\nSubject: before\n\nfine\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "a@customer.test", &["support@example.test"], &ok).0, 250);
    d.wait_tickets(1).await;
    let db = d.dir.path().join("frontdesk.redb");
    let size = std::fs::metadata(&db).unwrap().len();
    prlimit_fsize(d.server.pid(), &format!("{size}:unlimited"));
    let mut accepted = 1;
    let mut refused = None;
    let line = format!("{}\r\n", "y".repeat(998));
    for i in 0..200 {
        let mut msg = format!("From: a@customer.test\r\nSubject: filler {i}\r\n\r\n").into_bytes();
        for _ in 0..150 {
            msg.extend_from_slice(line.as_bytes());
        }
        let r = Smtp::send_mail(&d.smtp, "a@customer.test", &["support@example.test"], &msg);
        match r.0 {
            250 => accepted += 1,
            451 => {
                refused = Some(r.1);
                break;
            }
            other => panic!("unexpected {other}: {}", r.1),
        }
    }
    let refused = refused.expect("the full disk was noticed");
    assert!(refused.contains("4.3.0"), "{refused}");
    let h = reqwest::get(d.server.url("/healthz")).await.unwrap();
    assert_eq!(h.status().as_u16(), 503);
    let body = h.text().await.unwrap();
    assert!(body.contains("storage") || body.contains("I/O") || body.contains("store"), "{body}");
    // Space returns: mail flows again, no restart.
    prlimit_fsize(d.server.pid(), "unlimited");
    let mut back = false;
    for _ in 0..50 {
        let r =
            Smtp::send_mail(&d.smtp, "a@customer.test", &["support@example.test"], &crlf("From: a@customer.test\nSubject: after\n\nok\n"));
        if r.0 == 250 {
            back = true;
            accepted += 1;
            break;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    assert!(back, "mail is accepted again once space returns");
    d.wait_tickets(accepted).await;
    let mut healthy = false;
    for _ in 0..100 {
        if reqwest::get(d.server.url("/healthz")).await.unwrap().status() == 200 {
            healthy = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(healthy);
    assert_eq!(d.all_tickets().await.len(), accepted, "every accepted mail is a ticket");
}

/// A reply goes back with exactly the Message-ID the customer's client wrote
/// (mutt's `<awSATHlpiZjs3SLj@vm>`), so it threads there.
#[tokio::test]
async fn replies_thread_with_the_exact_message_id() {
    let (cap, _h) = Capture::start_on("127.0.0.1:0").await;
    let d = MailDesk::start_with_config(&format!(
        "{MAIL_CONFIG}\n[outgoing]\nsmarthost = \"{}\"\nretry_secs = [1]\nnotify_new_ticket = false\n",
        cap.addr
    ));
    let m =
        crlf("From: Mutt User <m@customer.test>\nTo: support@example.test\nSubject: VPN\nMessage-ID: <awSATHlpiZjs3SLj@vm>\n\nbroken\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "m@customer.test", &["support@example.test"], &m).0, 250);
    d.wait_tickets(1).await;
    assert_eq!(d.api.call("POST", "/tickets/TKT-000001/entries", Some(serde_json::json!({"body": "Fixed."}))).await.0, 201);
    let mut reply = None;
    for _ in 0..100 {
        reply = cap.all().into_iter().find(|m| m.data.contains("Fixed."));
        if reply.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let reply = reply.expect("the reply was sent");
    assert!(reply.header("References").unwrap().contains("<awSATHlpiZjs3SLj@vm>"), "{:?}", reply.header("References"));
    // The customer's answer, quoting our id in another case, still lands on the ticket.
    let mid = reply.header("Message-ID").unwrap();
    let answer = crlf(&format!(
        "From: m@customer.test\nTo: support@example.test\nSubject: Re: VPN\nIn-Reply-To: {}\n\nthanks\n",
        mid.to_uppercase()
    ));
    assert_eq!(Smtp::send_mail(&d.smtp, "m@customer.test", &["support@example.test"], &answer).0, 250);
    d.settle().await;
    assert_eq!(d.all_tickets().await.len(), 1);
}
