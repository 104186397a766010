//! The agent decides who gets mail (issue 17 part 7), through the real
//! server and a capture smarthost: the reply box names To and Cc;
//! collaborators are added (an unsubscribed one only this way) and removed
//! with events; a public reply can stay off mail; the requester can be
//! changed — the old one's signed link and thread stop being theirs, the
//! new one's mail threads on.

use crate::common::capture::Capture;
use crate::common::smtp::Smtp;
use crate::common::*;
use serde_json::json;

fn crlf(s: &str) -> Vec<u8> {
    s.replace('\n', "\r\n").into_bytes()
}

/// Recipients of captured mails whose text contains `marker`.
fn reached(cap: &Capture, marker: &str) -> Vec<String> {
    let mut r: Vec<String> = cap.all().into_iter().filter(|m| m.data.contains(marker)).flat_map(|m| m.rcpt_to).collect();
    r.sort();
    r
}

#[tokio::test]
async fn the_agent_decides_who_gets_mail() {
    let (cap, _h) = Capture::start_on("127.0.0.1:0").await;
    let d = MailDesk::start_with_config(&format!(
        "{MAIL_CONFIG}\n[outgoing]\nsmarthost = \"{}\"\nretry_secs = [1]\nnotify_new_ticket = false\n",
        cap.addr
    ));
    let m = crlf(
        "From: Kim <kim@customer.test>\nTo: support@example.test\nCc: Hal <hal@customer.test>\nSubject: Printer\nMessage-ID: <k1@customer.test>\n\nIt jams.\n",
    );
    assert_eq!(Smtp::send_mail(&d.smtp, "kim@customer.test", &["support@example.test"], &m).0, 250);
    let ack = cap.wait(1).await.remove(0);
    let text = ack.data.replace("=\r\n", "").replace("=3D", "=");
    let start = text.find("/t/TKT-000001?").expect("Kim's signed link");
    let kims_link: String = text[start..].chars().take_while(|c| !c.is_whitespace() && *c != '<').collect();

    // The reply box says who a reply reaches.
    let mut b = Browser::logged_in(&d.server.base, "agent@example.test", "bob's long password").await;
    let page = b.get("/tickets/TKT-000001").await.body;
    assert!(page.contains("Kim &lt;kim@customer.test&gt;") && page.contains("Hal &lt;hal@customer.test&gt;"), "{page}");
    assert!(page.contains("Email this reply"), "{page}");

    // Add Lee, take Hal off; the next reply reaches Kim and Lee.
    let added = b.post("/tickets/TKT-000001/collaborators", &[("email", "Lee@Customer.test")]).await;
    assert_eq!(added.location.as_deref(), Some("/tickets/TKT-000001?done=saved"), "{}", added.body);
    let t = d.ticket("TKT-000001").await;
    let hal = t["collaborators"].as_array().unwrap().iter().find(|c| c["email"] == "hal@customer.test").cloned().expect("Hal");
    assert!(thread_text(&t).contains("added lee@customer.test as a collaborator"), "{t:#}");
    let page = b.get("/tickets/TKT-000001").await.body;
    let hal_id = page.split("/collaborators/").nth(1).and_then(|s| s.split('/').next()).expect("a remove button").to_string();
    let removed = b.post(&format!("/tickets/TKT-000001/collaborators/{hal_id}/remove"), &[]).await;
    assert_eq!(removed.location.as_deref(), Some("/tickets/TKT-000001?done=saved"));
    assert!(
        thread_text(&d.ticket("TKT-000001").await)
            .contains(&format!("took {} off the ticket's collaborators", hal["name"].as_str().unwrap()))
    );
    let r = b.post("/tickets/TKT-000001/reply", &[("body", "Reply one."), ("mail_shown", "1"), ("mail", "1")]).await;
    assert!(r.location.is_some(), "{}", r.body);
    cap.wait(2).await;
    d.outbox_idle().await;
    assert_eq!(reached(&cap, "Reply one."), ["kim@customer.test", "lee@customer.test"]);

    // A public reply kept off mail: on the ticket and Kim's page, mailed to nobody.
    let r = b.post("/tickets/TKT-000001/reply", &[("body", "Reply two, not mailed."), ("mail_shown", "1")]).await;
    assert!(r.location.is_some(), "{}", r.body);
    d.outbox_idle().await;
    assert!(reached(&cap, "Reply two").is_empty());
    assert!(thread_text(&d.ticket("TKT-000001").await).contains("posted the reply above without mailing it"));
    let portal = Browser::new(&d.server.base).get(&kims_link).await;
    assert!(portal.body.contains("Reply two, not mailed."), "{}", portal.body);
    // The same by the API, and a collaborator removed by address.
    let (st, _) = d.api.call("POST", "/tickets/TKT-000001/entries", Some(json!({"body": "Reply three, API.", "mail": false}))).await;
    assert_eq!(st, 201);
    let (st, t) = d.api.call("DELETE", "/tickets/TKT-000001/collaborators/lee@customer.test", None).await;
    assert_eq!(st, 200, "{t}");
    assert!(t["collaborators"].as_array().unwrap().is_empty(), "{t:#}");
    let (st, _) = d.api.call("DELETE", "/tickets/TKT-000001/collaborators/nobody@customer.test", None).await;
    assert_eq!(st, 404);
    let (st, t) = d.api.call("POST", "/tickets/TKT-000001/collaborators", Some(json!({"email": "support@example.test"}))).await;
    assert_eq!(st, 400, "the desk's own address: {t}");

    // The requester changes to Max: Kim's link stops working, Max's mail threads on.
    let changed = b.post("/tickets/TKT-000001/requester", &[("email", "max@customer.test")]).await;
    assert_eq!(changed.location.as_deref(), Some("/tickets/TKT-000001?done=saved"), "{}", changed.body);
    let t = d.ticket("TKT-000001").await;
    assert_eq!(t["requester"]["email"], "max@customer.test");
    assert!(thread_text(&t).contains("changed the requester from Kim to max@customer.test"), "{t:#}");
    assert_eq!(Browser::new(&d.server.base).get(&kims_link).await.status, 404, "the old requester's link");
    let r = b.post("/tickets/TKT-000001/reply", &[("body", "Reply four, to Max."), ("mail_shown", "1"), ("mail", "1")]).await;
    assert!(r.location.is_some());
    let to_max = loop {
        if let Some(m) = cap.all().into_iter().find(|m| m.data.contains("Reply four")) {
            break m;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(to_max.rcpt_to, ["max@customer.test"]);
    let max_id = to_max.header("Message-ID").unwrap();
    let from_max = crlf(&format!(
        "From: Max <max@customer.test>\nTo: support@example.test\nSubject: Re: Printer\nIn-Reply-To: {max_id}\n\nThanks, works.\n"
    ));
    assert_eq!(Smtp::send_mail(&d.smtp, "max@customer.test", &["support@example.test"], &from_max).0, 250);
    let from_kim = crlf(
        "From: Kim <kim@customer.test>\nTo: support@example.test\nSubject: Re: [TKT-000001] Printer\nIn-Reply-To: <k1@customer.test>\n\nStill jams?\n",
    );
    assert_eq!(Smtp::send_mail(&d.smtp, "kim@customer.test", &["support@example.test"], &from_kim).0, 250);
    d.wait_tickets(2).await;
    assert!(thread_text(&d.ticket("TKT-000001").await).contains("Thanks, works."));
    assert!(!thread_text(&d.ticket("TKT-000001").await).contains("Still jams?"), "Kim is no longer on this ticket");
}

#[tokio::test]
async fn an_unsubscribed_collaborator_comes_back_only_when_an_agent_adds_them() {
    let (cap, _h) = Capture::start_on("127.0.0.1:0").await;
    let d = MailDesk::start_with_config(&format!(
        "{MAIL_CONFIG}\n[outgoing]\nsmarthost = \"{}\"\nretry_secs = [1]\nnotify_new_ticket = false\nnotify_ack = false\n",
        cap.addr
    ));
    let m = crlf("From: Kim <kim@customer.test>\nTo: support@example.test\nCc: hal@customer.test\nSubject: VPN\n\nDown.\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "kim@customer.test", &["support@example.test"], &m).0, 250);
    d.settle().await;
    let hal = crlf("From: hal@customer.test\nTo: support@example.test\nSubject: Re: [TKT-000001] VPN\n\n#unsubscribe\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "hal@customer.test", &["support@example.test"], &hal).0, 250);
    d.settle().await;
    let (st, t) = d.api.call("POST", "/tickets/TKT-000001/collaborators", Some(json!({"email": "hal@customer.test"}))).await;
    assert_eq!(st, 201, "{t}");
    d.api.call("POST", "/tickets/TKT-000001/entries", Some(json!({"body": "Back up."}))).await;
    cap.wait(2).await;
    d.outbox_idle().await;
    assert_eq!(reached(&cap, "Back up."), ["hal@customer.test", "kim@customer.test"]);
    // Taken off by an agent, Hal stays off when Kim's reply-all still copies him.
    let (st, _) = d.api.call("DELETE", "/tickets/TKT-000001/collaborators/hal@customer.test", None).await;
    assert_eq!(st, 200);
    let all = crlf(
        "From: Kim <kim@customer.test>\nTo: support@example.test\nCc: hal@customer.test\nSubject: Re: [TKT-000001] VPN\n\nStill down.\n",
    );
    assert_eq!(Smtp::send_mail(&d.smtp, "kim@customer.test", &["support@example.test"], &all).0, 250);
    d.settle().await;
    let t = d.ticket("TKT-000001").await;
    assert!(thread_text(&t).contains("Still down.") && t["collaborators"].as_array().unwrap().is_empty(), "{t:#}");
    // An agent is no requester.
    let (st, t) = d.api.call("PUT", "/tickets/TKT-000001/requester", Some(json!({"email": "agent@example.test"}))).await;
    assert_eq!(st, 400, "{t}");
}
