//! Per-mailbox identity (issue 17 part 6), over SMTP to a capturing
//! smarthost: each `[[mailbox]]` sends with its own From name, Reply-To,
//! signature and templates; an agent's reply shows the agent in From; a
//! ticket keeps the mailbox it arrived at until it moves to another
//! department, whose mailbox then speaks for it.

use crate::common::capture::{Capture, Captured};
use crate::common::smtp::Smtp;
use crate::common::*;
use serde_json::json;

fn crlf(s: &str) -> Vec<u8> {
    s.replace('\n', "\r\n").into_bytes()
}

fn send(d: &MailDesk, from: &str, to: &str, subject: &str) {
    let m = crlf(&format!("From: Carol <{from}>\nTo: {to}\nSubject: {subject}\nMessage-ID: <{subject}@customer.test>\n\nHello!\n"));
    assert_eq!(Smtp::send_mail(&d.smtp, from, &[to], &m).0, 250);
}

/// The one captured mail to `rcpt` whose subject has `needle`.
fn mail_to<'a>(all: &'a [Captured], rcpt: &str, needle: &str) -> &'a Captured {
    let found: Vec<&Captured> =
        all.iter().filter(|m| m.rcpt_to == [rcpt] && m.header("Subject").is_some_and(|s| s.contains(needle))).collect();
    assert_eq!(found.len(), 1, "one mail to {rcpt} about {needle}: {all:#?}");
    found[0]
}

#[tokio::test]
async fn each_mailbox_speaks_with_its_own_name_reply_to_signature_and_templates() {
    let (cap, _h) = Capture::start_on("127.0.0.1:0").await;
    let templates = tempdir();
    std::fs::write(
        templates.path().join("ack.txt"),
        "Subject: We have your message ({{ ticket.ref }})\n\nHi {{ requester.name }}, Acme Support has it.\n",
    )
    .unwrap();
    let dir = templates.path().display().to_string();
    let support = format!(
        "address = \"support@example.test\"\ndepartment = \"Support\"\nfrom_name = \"Acme Support\"\n\
         reply_to = \"help@example.test\"\nsignature = \"{{{{ agent.name }}}} · Acme Support · +1 555 0100\"\n\
         templates = \"{dir}\"\nagent_from = \"{{agent}} at {{name}}\"\n"
    );
    let config = MAIL_CONFIG.replace("address = \"support@example.test\"\ndepartment = \"Support\"\n", &support).replacen(
        "[desk]\n",
        "[desk]\nname = \"Example Desk\"\n",
        1,
    ) + &format!("\n[outgoing]\nsmarthost = \"{}\"\nretry_secs = [1]\nnotify_new_ticket = false\n", cap.addr);
    let d = MailDesk::start_with_config(&config);
    send(&d, "carol@customer.test", "support@example.test", "printer");
    send(&d, "dan@customer.test", "sales@example.test", "quote");
    let tickets = d.wait_tickets(2).await;
    d.outbox_idle().await;
    let all = cap.wait(2).await;
    // The acknowledgements: support's own template, name and Reply-To;
    // sales with the desk's.
    let ack = mail_to(&all, "carol@customer.test", "We have your message");
    assert_eq!(ack.header("From").as_deref(), Some("Acme Support <support@example.test>"), "{}", ack.data);
    assert_eq!(ack.header("Reply-To").as_deref(), Some("<help@example.test>"), "{}", ack.data);
    assert!(ack.text().contains("Acme Support has it."), "{}", ack.data);
    let sales_ack = all.iter().find(|m| m.rcpt_to == ["dan@customer.test"]).expect("sales' acknowledgement");
    assert_eq!(sales_ack.header("From").as_deref(), Some("Example Desk <sales@example.test>"), "{}", sales_ack.data);
    assert_eq!(sales_ack.header("Reply-To").as_deref(), Some("<sales@example.test>"), "{}", sales_ack.data);
    assert!(sales_ack.text().contains("thank you for writing to Example Desk"), "the built-in template: {}", sales_ack.data);
    // An agent's reply on the support ticket: the agent in From, the
    // mailbox's signature under the text.
    let support_ref = tickets.iter().find(|t| t["subject"] == "printer").and_then(|t| t["ref"].as_str()).unwrap().to_string();
    let (code, _) = d.api.call("POST", &format!("/tickets/{support_ref}/entries"), Some(json!({"body": "Please restart it."}))).await;
    assert_eq!(code, 201);
    d.outbox_idle().await;
    let all = cap.wait(3).await;
    let reply = all.iter().find(|m| m.data.contains("Please restart it.")).expect("the reply");
    assert_eq!(reply.header("From").as_deref(), Some("Ada Admin at Acme Support <support@example.test>"), "{}", reply.data);
    assert_eq!(reply.header("Reply-To").as_deref(), Some("<help@example.test>"));
    assert!(reply.text().contains("Ada Admin · Acme Support · +1 555 0100"), "{}", reply.data);
    // Moved to Sales, the ticket speaks with sales' identity.
    let (code, body) = d.api.call("PATCH", &format!("/tickets/{support_ref}"), Some(json!({"department": "Sales"}))).await;
    assert_eq!(code, 200, "{body}");
    d.api.call("POST", &format!("/tickets/{support_ref}/entries"), Some(json!({"body": "Sales will quote."}))).await;
    d.outbox_idle().await;
    let all = cap.wait(4).await;
    let moved = all.iter().find(|m| m.data.contains("Sales will quote.")).expect("the reply after the move");
    assert_eq!(moved.header("From").as_deref(), Some("Example Desk <sales@example.test>"), "{}", moved.data);
    assert!(!moved.text().contains("+1 555 0100"), "{}", moved.data);
    assert!(moved.text().contains("Ada Admin · Example Desk"), "the default signature: {}", moved.data);
}

#[test]
fn identity_settings_are_checked_with_key_and_line() {
    let dir = tempdir();
    let bad = [
        ("[[mailbox]]\naddress = \"a@x.test\"\nreply_to = \"not an address\"\n", "mailbox.reply_to", 3),
        ("[[mailbox]]\naddress = \"a@x.test\"\nagent_from = \"Support team\"\n", "mailbox.agent_from", 3),
        ("[outgoing]\nagent_from = \"{name}\"\n", "outgoing.agent_from", 2),
    ];
    for (text, key, line) in bad {
        let path = dir.path().join("frontdesk.toml");
        std::fs::write(&path, text).unwrap();
        let (code, _, err) = cli(dir.path(), &["--config", path.to_str().unwrap(), "check-config"], None);
        assert_eq!(code, 2, "{text}: {err}");
        assert!(err.contains(&format!("line {line}: `{key}`")), "{text}: {err}");
    }
    // A signature that does not render is named by check-config.
    let path = dir.path().join("frontdesk.toml");
    std::fs::write(&path, "[[mailbox]]\naddress = \"a@x.test\"\nsignature = \"{{ agent.name \"\n").unwrap();
    let (code, _, err) = cli(dir.path(), &["--config", path.to_str().unwrap(), "check-config"], None);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("mailbox 1 signature"), "{err}");
}
