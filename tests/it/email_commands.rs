//! Email commands, complete (issue 17 part 10): an agent answering a
//! notification from a mail client assigns by name (`#tech`), sets the
//! priority, tags and category, and asks for `#help`; each change is in the
//! ticket's log. A bad argument is logged as refused and the rest stands. A
//! collaborator leaves with `#unsubscribe`; a customer's `#`-lines stay text.

use crate::common::capture::{Capture, Captured};
use crate::common::smtp::Smtp;
use crate::common::*;
use serde_json::json;

fn crlf(s: &str) -> Vec<u8> {
    s.replace('\n', "\r\n").into_bytes()
}

fn send(d: &MailDesk, from: &str, text: &str) {
    assert_eq!(Smtp::send_mail(&d.smtp, from, &["support@example.test"], &crlf(text)).0, 250);
}

/// Waits for a captured mail matching `f`.
async fn wait_for(cap: &Capture, f: impl Fn(&Captured) -> bool) -> Captured {
    for _ in 0..200 {
        if let Some(m) = cap.all().into_iter().find(|m| f(m)) {
            return m;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no such mail among {:#?}", cap.all());
}

#[tokio::test]
async fn an_agent_runs_the_ticket_from_a_mail_client() {
    let (cap, _h) = Capture::start_on("127.0.0.1:0").await;
    let d = MailDesk::start_with_config(&format!(
        "{MAIL_CONFIG}\n[outgoing]\nsmarthost = \"{}\"\nretry_secs = [1]\nnotify_ack = false\n",
        cap.addr
    ));
    send(
        &d,
        "kim@customer.test",
        "From: Kim <kim@customer.test>\nTo: support@example.test\nCc: Hal <hal@customer.test>\nSubject: VPN\nMessage-ID: <k1@customer.test>\n\n#priority urgent\nThe VPN drops every hour.\n",
    );
    let alert = wait_for(&cap, |m| m.rcpt_to == ["agent@example.test"]).await;
    let alert_id = alert.header("Message-ID").unwrap();
    let t = d.ticket("TKT-000001").await;
    assert_eq!(t["priority"], "medium", "a customer's #-line is text");
    assert!(thread_text(&t).contains("#priority urgent"), "{t:#}");

    // Bob answers the alert with commands and a message for Kim.
    send(
        &d,
        "agent@example.test",
        &format!(
            "From: Bob Agent <agent@example.test>\nTo: support@example.test\nSubject: Re: [TKT-000001] VPN\nIn-Reply-To: {alert_id}\n\n\
             #tech ada admin\n#priority high\n#tag VPN, Remote work\n#category Technical\n#help\n\nWe are looking at the VPN gateway.\n"
        ),
    );
    d.settle().await;
    let t = d.ticket("TKT-000001").await;
    assert_eq!(t["assignee"]["email"], "admin@example.test", "{t:#}");
    assert_eq!(t["priority"], "high");
    assert_eq!(t["category"], "Technical");
    assert_eq!(t["tags"], json!(["vpn", "remote-work"]));
    let log = thread_text(&t);
    for change in ["priority", "category", "tags"] {
        assert!(log.contains(change), "{change} is logged: {log}");
    }
    assert!(
        t["entries"].as_array().unwrap().iter().any(|e| e["kind"] == "reply" && e["body"] == "We are looking at the VPN gateway."),
        "the message without its commands is a public reply: {t:#}"
    );
    let help = wait_for(&cap, |m| m.rcpt_to == ["agent@example.test"] && m.data.contains("email commands")).await;
    assert!(help.data.contains("#unsubscribe") && help.header("Auto-Submitted").is_some(), "{}", help.data);
    wait_for(&cap, |m| m.rcpt_to == ["kim@customer.test"] && m.data.contains("VPN gateway")).await;
    wait_for(&cap, |m| m.rcpt_to == ["hal@customer.test"] && m.data.contains("VPN gateway")).await;

    // A bad argument is refused in the log; the message and the rest stand.
    send(
        &d,
        "agent@example.test",
        &format!(
            "From: Bob Agent <agent@example.test>\nTo: support@example.test\nSubject: Re: [TKT-000001] VPN\nIn-Reply-To: {alert_id}\n\n\
             #note\n#assign Nobody Here\n#category Plumbing\n#priority low\n\nChecked the gateway logs.\n"
        ),
    );
    d.settle().await;
    let t = d.ticket("TKT-000001").await;
    let log = thread_text(&t);
    assert!(log.contains("no agent \"Nobody Here\" was found"), "{log}");
    assert!(log.contains("\"Plumbing\" is not a category"), "{log}");
    assert_eq!(t["assignee"]["email"], "admin@example.test");
    assert_eq!(t["category"], "Technical");
    assert_eq!(t["priority"], "high", "one patch: a refused value refuses its companions too");
    assert!(t["entries"].as_array().unwrap().iter().any(|e| e["kind"] == "note" && e["body"] == "Checked the gateway logs."));

    // Commands alone are a note, never an empty mail to the customer.
    let before = cap.all().iter().filter(|m| m.rcpt_to == ["kim@customer.test"]).count();
    send(
        &d,
        "agent@example.test",
        &format!(
            "From: Bob Agent <agent@example.test>\nTo: support@example.test\nSubject: Re: [TKT-000001] VPN\nIn-Reply-To: {alert_id}\n\n#priority urgent\n"
        ),
    );
    d.settle().await;
    d.outbox_idle().await;
    let t = d.ticket("TKT-000001").await;
    assert_eq!(t["priority"], "urgent");
    assert_eq!(cap.all().iter().filter(|m| m.rcpt_to == ["kim@customer.test"]).count(), before);

    // Hal leaves by mail; the next reply reaches Kim only.
    send(
        &d,
        "hal@customer.test",
        "From: Hal <hal@customer.test>\nTo: support@example.test\nSubject: Re: [TKT-000001] VPN\n\n#unsubscribe\n",
    );
    d.settle().await;
    let t = d.ticket("TKT-000001").await;
    assert!(thread_text(&t).contains("unsubscribed from this ticket's mail"), "{t:#}");
    let (st, _) = d.api.call("POST", "/tickets/TKT-000001/entries", Some(json!({"body": "Fixed: the gateway was rebooted."}))).await;
    assert_eq!(st, 201);
    wait_for(&cap, |m| m.rcpt_to == ["kim@customer.test"] && m.data.contains("rebooted")).await;
    d.outbox_idle().await;
    assert!(!cap.all().iter().any(|m| m.rcpt_to == ["hal@customer.test"] && m.data.contains("rebooted")), "Hal is off the ticket");
    // Kim is the requester, not a collaborator: her #unsubscribe is text.
    send(
        &d,
        "kim@customer.test",
        "From: Kim <kim@customer.test>\nTo: support@example.test\nSubject: Re: [TKT-000001] VPN\n\n#unsubscribe\nThanks!\n",
    );
    d.settle().await;
    let t = d.ticket("TKT-000001").await;
    assert!(t["entries"].as_array().unwrap().iter().any(|e| e["body"].as_str().unwrap_or("").starts_with("#unsubscribe")), "{t:#}");

    // An agent's #unsubscribe means nothing: kept as a note, no mail to Kim.
    let before = cap.all().iter().filter(|m| m.rcpt_to == ["kim@customer.test"]).count();
    let reply = |cmds: &str| {
        format!(
            "From: Bob Agent <agent@example.test>\nTo: support@example.test\nSubject: Re: [TKT-000001] VPN\nIn-Reply-To: {alert_id}\n\n{cmds}"
        )
    };
    send(&d, "agent@example.test", &reply("#unsubscribe\n"));
    d.settle().await;
    let t = d.ticket("TKT-000001").await;
    assert!(t["entries"].as_array().unwrap().iter().any(|e| e["kind"] == "note" && e["body"] == "#unsubscribe"), "{t:#}");
    // Field commands and #close in one mail: the fields change, then it closes.
    let refusals = thread_text(&d.ticket("TKT-000001").await).matches("not applied").count();
    send(&d, "agent@example.test", &reply("#priority low\n#tag done\n#close\n"));
    d.settle().await;
    d.outbox_idle().await;
    let t = d.ticket("TKT-000001").await;
    assert_eq!((t["status"].as_str(), t["priority"].as_str()), (Some("closed"), Some("low")), "{t:#}");
    assert!(t["tags"].as_array().unwrap().contains(&json!("done")));
    assert_eq!(thread_text(&t).matches("not applied").count(), refusals, "nothing refused: {t:#}");
    assert_eq!(cap.all().iter().filter(|m| m.rcpt_to == ["kim@customer.test"]).count(), before, "notes only");
}

#[tokio::test]
async fn an_agent_sets_one_of_the_desks_own_statuses_by_mail() {
    let (cap, _h) = Capture::start_on("127.0.0.1:0").await;
    let d = MailDesk::start_with_config(&format!(
        "{MAIL_CONFIG}\n[[status]]\nname = \"Waiting for vendor\"\nbase = \"on_hold\"\n[outgoing]\nsmarthost = \"{}\"\nretry_secs = [1]\nnotify_ack = false\n",
        cap.addr
    ));
    send(
        &d,
        "kim@customer.test",
        "From: Kim <kim@customer.test>\nTo: support@example.test\nSubject: Licence\nMessage-ID: <l1@customer.test>\n\nOur licence expired.\n",
    );
    let alert = wait_for(&cap, |m| m.rcpt_to == ["agent@example.test"]).await;
    let alert_id = alert.header("Message-ID").unwrap();
    let reply = |cmd: &str, n: u32| {
        format!(
            "From: Bob Agent <agent@example.test>\nTo: support@example.test\nSubject: Re: [TKT-000001] Licence\nIn-Reply-To: {alert_id}\nMessage-ID: <b{n}@example.test>\n\n{cmd}\n#note\nOrdered from the vendor.\n"
        )
    };
    send(&d, "agent@example.test", &reply("#status waiting for vendor", 1));
    d.settle().await;
    let t = d.ticket("TKT-000001").await;
    assert_eq!((t["status"].as_str(), t["status_name"].as_str()), (Some("on_hold"), Some("Waiting for vendor")), "{t:#}");
    assert!(thread_text(&t).contains("changed status from Open to Waiting for vendor"), "{t:#}");
    // An unknown name is refused and said so; the status stays.
    send(&d, "agent@example.test", &reply("#status Someday", 2));
    d.settle().await;
    let t = d.ticket("TKT-000001").await;
    assert!(thread_text(&t).contains("#status Someday: not a status of the desk"), "{t:#}");
    assert_eq!(t["status_name"], "Waiting for vendor");
    // The customer writing meanwhile keeps it (its base state stays).
    send(
        &d,
        "kim@customer.test",
        "From: Kim <kim@customer.test>\nTo: support@example.test\nSubject: Re: [TKT-000001] Licence\nMessage-ID: <l2@customer.test>\n\nAny news?\n",
    );
    d.settle().await;
    assert_eq!(d.ticket("TKT-000001").await["status_name"], "Waiting for vendor");
}
