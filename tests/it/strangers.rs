//! The stranger policy per mailbox (issue 17 part 9), over SMTP: `hold`
//! keeps a stranger's new conversation in Junk with the reason while known
//! contacts, known domains and other mailboxes go on as before; "Not junk"
//! makes the ticket and the sender a contact; `reply` also answers the
//! stranger once a day — only when the mail proves its sender (SPF here),
//! never a forged or noreply address.

use crate::common::capture::Capture;
use crate::common::dns::TestDns;
use crate::common::smtp::Smtp;
use crate::common::*;

fn crlf(s: &str) -> Vec<u8> {
    s.replace('\n', "\r\n").into_bytes()
}

fn send(d: &MailDesk, from: &str, to: &str, subject: &str) {
    let m = crlf(&format!("From: <{from}>\nTo: {to}\nSubject: {subject}\nMessage-ID: <{subject}@sender.test>\n\nHello, can you help?\n"));
    assert_eq!(Smtp::send_mail(&d.smtp, from, &[to], &m).0, 250);
}

fn config(policy: &str, dns: &TestDns, smarthost: &str) -> String {
    MAIL_CONFIG.replace(
        "address = \"support@example.test\"\ndepartment = \"Support\"\n",
        &format!(
            "address = \"support@example.test\"\ndepartment = \"Support\"\nstrangers = \"{policy}\"\nknown_domains = [\"partner.test\"]\n"
        ),
    ) + &format!(
        "\n[dns]\nresolver = \"{}\"\n[outgoing]\nsmarthost = \"{smarthost}\"\nretry_secs = [1]\nnotify_new_ticket = false\n",
        dns.addr
    )
}

async fn subjects(d: &MailDesk) -> Vec<String> {
    d.all_tickets().await.iter().map(|t| t["subject"].as_str().unwrap_or("").to_string()).collect()
}

#[tokio::test]
async fn hold_keeps_strangers_in_junk_and_lets_everyone_else_in() {
    let dns = TestDns::start();
    let (cap, _h) = Capture::start_on("127.0.0.1:0").await;
    let d = MailDesk::start_with_config(&config("hold", &dns, &cap.addr));
    send(&d, "eve@nowhere.test", "support@example.test", "stranger-1");
    send(&d, "pat@mail.partner.test", "support@example.test", "partner-1");
    send(&d, "eve@nowhere.test", "sales@example.test", "sales-1");
    d.settle().await;
    let mut b = Browser::logged_in(&d.server.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let junk = b.get_until("/junk", |body| body.contains("stranger-1")).await.body;
    assert!(junk.contains("from a stranger: support@example.test opens tickets only for known contacts and its known domains"), "{junk}");
    let mut got = subjects(&d).await;
    got.sort();
    assert_eq!(got, ["partner-1", "sales-1"], "a known domain (and its subdomains) and another mailbox open tickets");
    // Hold answers nobody (the partner and sales' ticket get their acknowledgements).
    d.outbox_idle().await;
    assert!(!cap.all().iter().any(|m| m.data.contains("stranger-1") || m.data.contains("has not opened")), "{:#?}", cap.all());
    assert_eq!(cap.all().len(), 2);
    // Eve is a contact now (she wrote to sales); her next mail to support is a ticket.
    send(&d, "eve@nowhere.test", "support@example.test", "stranger-2");
    d.wait_tickets(3).await;
    // "Not junk" on the held mail makes its ticket.
    let id = junk_ids(&junk).first().cloned().expect("the held mail");
    let made = b.post(&format!("/junk/{id}/ticket"), &[]).await;
    assert!(made.location.as_deref().is_some_and(|l| l.starts_with("/tickets/")), "{:?}", made.location);
    assert!(subjects(&d).await.contains(&"stranger-1".to_string()));
}

#[tokio::test]
async fn reply_answers_a_proven_stranger_once_a_day_and_nobody_forged() {
    let dns = TestDns::start();
    dns.txt("proven.test", "v=spf1 ip4:127.0.0.1 -all");
    let (cap, _h) = Capture::start_on("127.0.0.1:0").await;
    let d = MailDesk::start_with_config(&config("reply", &dns, &cap.addr));
    send(&d, "ann@proven.test", "support@example.test", "first");
    send(&d, "ann@proven.test", "support@example.test", "second");
    send(&d, "eve@unproven.test", "support@example.test", "forged");
    send(&d, "noreply@proven.test", "support@example.test", "robot");
    d.settle().await;
    d.outbox_idle().await;
    assert!(d.all_tickets().await.is_empty(), "every one of them is held");
    let answers: Vec<_> = cap.all().into_iter().filter(|m| m.rcpt_to == ["ann@proven.test"]).collect();
    assert_eq!(answers.len(), 1, "once a day: {answers:#?}");
    let a = &answers[0];
    assert_eq!(a.header("Auto-Submitted").as_deref(), Some("auto-replied"));
    assert_eq!(a.header("In-Reply-To").as_deref(), Some("<first@sender.test>"));
    assert_eq!(a.header("Subject").as_deref(), Some("Re: first"));
    assert!(a.data.contains("has not opened a ticket"), "{}", a.data);
    assert_eq!(cap.all().len(), 1, "no answer to an unproven or noreply sender: {:#?}", cap.all());
}
