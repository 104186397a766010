//! Bounces that mean something, through a capture smarthost: a delivery
//! report (RFC 3464) about a reply becomes "bounced: …" on the ticket and in
//! the Outbox, the hard-bounced collaborator is copied no more until they
//! write again, a forged report about a mail the desk never sent changes
//! nothing, and a noreply@ sender gets no acknowledgement.

use serde_json::json;

use crate::common::capture::Capture;
use crate::common::smtp::Smtp;
use crate::common::*;

fn crlf(s: &str) -> Vec<u8> {
    s.replace("\r\n", "\n").replace('\n', "\r\n").into_bytes()
}

fn config(smarthost: &str) -> String {
    format!("{MAIL_CONFIG}\n[outgoing]\nsmarthost = \"{smarthost}\"\nretry_secs = [1]\nnotify_new_ticket = false\n")
}

/// A Postfix-style report that mail with `message_id` to `rcpt` failed.
fn dsn(message_id: &str, rcpt: &str) -> Vec<u8> {
    crlf(&format!(
        "From: MAILER-DAEMON@mx.customer.test (Mail Delivery System)\nTo: support@example.test\nSubject: Undelivered Mail Returned to Sender\n\
         MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B1\"\n\n\
         --B1\nContent-Type: text/plain\n\nThis is the mail system at host mx.customer.test.\nI'm sorry to have to inform you that your message could not be delivered.\n\n\
         --B1\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.customer.test\n\n\
         Final-Recipient: rfc822; {rcpt}\nOriginal-Recipient: rfc822;{rcpt}\nAction: failed\nStatus: 5.1.1\nRemote-MTA: dns; mx.customer.test\n\
         Diagnostic-Code: smtp; 550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown\n\n\
         --B1\nContent-Type: text/rfc822-headers\n\nFrom: support@example.test\nTo: {rcpt}\nSubject: Re: Projector\nMessage-ID: <{message_id}>\n\n--B1--\n"
    ))
}

/// Who got a mail containing `text`, once `n` such mails have arrived.
async fn receivers(cap: &Capture, text: &str, n: usize) -> Vec<String> {
    for _ in 0..400 {
        let mut got: Vec<String> = cap.all().into_iter().filter(|m| m.data.contains(text)).flat_map(|m| m.rcpt_to).collect();
        if got.len() >= n {
            got.sort();
            return got;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("fewer than {n} mails with {text:?}: {:#?}", cap.all());
}

async fn entry_texts(d: &MailDesk) -> Vec<String> {
    let t = d.api.call("GET", "/tickets/TKT-000001", None).await.1;
    t["entries"].as_array().unwrap().iter().map(|e| e["body"].as_str().unwrap_or_default().to_string()).collect()
}

#[tokio::test]
async fn a_bounce_marks_the_ticket_and_stops_copying_the_address_until_it_writes() {
    let (cap, _h) = Capture::start_on("127.0.0.1:0").await;
    let d = MailDesk::start_with_config(&config(&cap.addr));
    let m = crlf("From: Max <max@customer.test>\nTo: support@example.test\nCc: Nia <nia@customer.test>\nSubject: Projector\n\nBroken.\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "max@customer.test", &["support@example.test"], &m).0, 250);
    cap.wait(1).await; // the acknowledgement
    d.api.call("POST", "/tickets/TKT-000001/entries", Some(json!({"body": "Which room?"}))).await;
    assert_eq!(receivers(&cap, "Which room?", 2).await, ["max@customer.test", "nia@customer.test"]);
    let reply = cap.all().into_iter().find(|m| m.data.contains("Which room?")).unwrap();
    let reply_id = reply.header("Message-ID").unwrap().trim().trim_matches(['<', '>']).to_string();

    // Nia's server reports her address gone.
    assert_eq!(Smtp::send_mail(&d.smtp, "", &["support@example.test"], &dsn(&reply_id, "nia@customer.test")).0, 250);
    d.settle().await;
    let texts = entry_texts(&d).await;
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("bounced: mail to nia@customer.test — 550 5.1.1 <nia@customer.test>: Recipient address rejected")),
        "{texts:?}"
    );
    let mut b = Browser::logged_in(&d.server.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let outbox = b.get("/admin/outbox").await.body;
    assert!(outbox.contains("Addresses that bounced") && outbox.contains("nia@customer.test"), "{outbox}");
    assert_eq!(d.all_tickets().await.len(), 1, "a bounce is no ticket");

    // The next reply goes to Max only.
    d.api.call("POST", "/tickets/TKT-000001/entries", Some(json!({"body": "Room 4?"}))).await;
    assert_eq!(receivers(&cap, "Room 4?", 1).await, ["max@customer.test"]);
    d.outbox_idle().await;
    assert_eq!(receivers(&cap, "Room 4?", 1).await, ["max@customer.test"], "the bounced address is copied no more");

    // Nia writes again (her mailbox is back): she is copied again.
    let back = crlf("From: Nia <nia@customer.test>\nTo: support@example.test\nSubject: Re: [TKT-000001] Projector\n\nRoom 4, yes.\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "nia@customer.test", &["support@example.test"], &back).0, 250);
    d.settle().await;
    d.api.call("POST", "/tickets/TKT-000001/entries", Some(json!({"body": "Coming now."}))).await;
    assert_eq!(receivers(&cap, "Coming now.", 2).await, ["max@customer.test", "nia@customer.test"]);
}

#[tokio::test]
async fn a_forged_report_about_mail_never_sent_changes_nothing_and_noreply_gets_no_ack() {
    let (cap, _h) = Capture::start_on("127.0.0.1:0").await;
    let d = MailDesk::start_with_config(&config(&cap.addr));
    let m = crlf("From: Max <max@customer.test>\nTo: support@example.test\nCc: Nia <nia@customer.test>\nSubject: Projector\n\nBroken.\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "max@customer.test", &["support@example.test"], &m).0, 250);
    cap.wait(1).await;
    // Someone writes a "bounce" about Nia naming a Message-ID the desk never used.
    assert_eq!(Smtp::send_mail(&d.smtp, "", &["support@example.test"], &dsn("made-up@evil.test", "nia@customer.test")).0, 250);
    d.settle().await;
    d.api.call("POST", "/tickets/TKT-000001/entries", Some(json!({"body": "Which room?"}))).await;
    assert_eq!(receivers(&cap, "Which room?", 2).await, ["max@customer.test", "nia@customer.test"], "still copied");

    // A system that writes from noreply@ opens a ticket but gets no acknowledgement.
    let n = crlf("From: Monitoring <noreply@vendor.test>\nTo: support@example.test\nSubject: Disk full on srv1\n\n95% used.\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "noreply@vendor.test", &["support@example.test"], &n).0, 250);
    d.wait_tickets(2).await;
    d.outbox_idle().await;
    assert!(cap.all().iter().all(|m| !m.rcpt_to.iter().any(|r| r.contains("noreply@"))), "no mail to noreply@");
}
