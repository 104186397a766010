//! Outgoing mail through a capture smarthost: acknowledgements, agent replies
//! that thread in the customer's client and come back to the same ticket,
//! notifications, no mail for auto-replies, retries across a restart.

use crate::common::capture::Capture;
use crate::common::smtp::Smtp;
use crate::common::*;
use serde_json::json;

fn config(smarthost: &str, extra: &str) -> String {
    let retry = if extra.contains("retry_secs") { "" } else { "retry_secs = [1]\n" };
    format!("{MAIL_CONFIG}\n[outgoing]\nsmarthost = \"{smarthost}\"\nfrom_name = \"Example Support\"\n{retry}{extra}\n")
}

fn crlf(s: &str) -> Vec<u8> {
    s.replace("\r\n", "\n").replace('\n', "\r\n").into_bytes()
}

#[tokio::test]
async fn ack_reply_threading_and_the_answer_comes_back() {
    let (cap, _h) = Capture::start_on("127.0.0.1:0").await;
    let d = MailDesk::start_with_config(&config(&cap.addr, ""));
    let first = crlf(
        "From: Carol <carol@customer.test>\nTo: support@example.test\nSubject: Printer jams\nMessage-ID: <c1@customer.test>\n\nTray 2 jams.\n",
    );
    assert_eq!(Smtp::send_mail(&d.smtp, "carol@customer.test", &["support@example.test"], &first).0, 250);
    // Acknowledgement to Carol + an alert to each of the two agents.
    let mails = cap.wait(3).await;
    let ack = mails.iter().find(|m| m.rcpt_to == ["carol@customer.test"]).expect("ack to the requester");
    assert_eq!(ack.header("Auto-Submitted").as_deref(), Some("auto-replied"));
    assert!(ack.header("Subject").unwrap().contains("[TKT-000001] Printer jams"));
    assert!(ack.header("From").unwrap().contains("support@example.test"));
    assert_eq!(ack.mail_from, "support@example.test");
    assert!(ack.data.contains("TKT-000001"));
    let alerts: Vec<_> = mails.iter().filter(|m| m.rcpt_to != ["carol@customer.test"]).collect();
    assert_eq!(alerts.len(), 2);
    assert!(alerts.iter().all(|m| m.header("Auto-Submitted").as_deref() == Some("auto-generated")));

    // The agent replies in the API: a normal mail that threads with Carol's.
    let (st, _) =
        d.api.call("POST", "/tickets/TKT-000001/entries", Some(json!({"body": "Please open tray 2 and remove the paper."}))).await;
    assert_eq!(st, 201);
    let mails = cap.wait(4).await;
    let reply = &mails[3];
    assert_eq!(reply.rcpt_to, vec!["carol@customer.test"]);
    assert!(reply.header("Auto-Submitted").is_none(), "a person's reply is not automatic");
    let from = reply.header("From").unwrap();
    assert!(from.contains("Example Support") && from.contains("<support@example.test>"), "{from}");
    assert_eq!(reply.header("Reply-To").as_deref().map(|r| r.contains("support@example.test")), Some(true));
    let mid = reply.header("Message-ID").unwrap();
    assert!(mid.starts_with("<tkt-000001.") && mid.ends_with("@desk.example.test>"), "{mid}");
    assert!(reply.header("References").unwrap().contains("<c1@customer.test>"));
    assert!(reply.header("In-Reply-To").is_some());
    assert!(reply.header("Subject").unwrap().contains("[TKT-000001]"));
    assert!(reply.header("Date").is_some());
    assert!(reply.data.contains("Please open tray 2") && reply.data.to_lowercase().contains("multipart/alternative"));

    // Carol answers from her mail client (no reference in the subject).
    let answer = crlf(&format!(
        "From: Carol <carol@customer.test>\nTo: support@example.test\nSubject: Re: Printer jams\nMessage-ID: <c2@customer.test>\nIn-Reply-To: {mid}\nReferences: <c1@customer.test> {mid}\n\nDone, it works now.\n"
    ));
    assert_eq!(Smtp::send_mail(&d.smtp, "carol@customer.test", &["support@example.test"], &answer).0, 250);
    d.settle().await;
    assert_eq!(d.all_tickets().await.len(), 1);
    let t = d.ticket("TKT-000001").await;
    assert!(t["entries"].as_array().unwrap().iter().any(|e| e["body"] == "Done, it works now."));
    assert_eq!(t["status"], "open", "her reply reopened the pending ticket");
    // Delivered mail is on the record.
    assert!(
        t["entries"].as_array().unwrap().iter().any(|e| e["body"].as_str().unwrap().contains("sent reply mail to carol@customer.test"))
    );
    // Her answer notifies the agents (unassigned → the department), no new ack.
    let mails = cap.wait(6).await;
    assert!(mails[4..].iter().all(|m| m.rcpt_to != ["carol@customer.test"]));
}

#[tokio::test]
async fn no_mail_for_auto_replies_and_one_ack_per_window() {
    let (cap, _h) = Capture::start_on("127.0.0.1:0").await;
    let d = MailDesk::start_with_config(&config(&cap.addr, "notify_new_ticket = false\n"));
    let ooo =
        crlf("From: Dan <dan@customer.test>\nTo: support@example.test\nSubject: Out of office\nAuto-Submitted: auto-replied\n\naway\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "dan@customer.test", &["support@example.test"], &ooo).0, 250);
    for i in 0..3 {
        let m = crlf(&format!("From: Eve <eve@customer.test>\nTo: support@example.test\nSubject: question {i}\n\nhi\n"));
        assert_eq!(Smtp::send_mail(&d.smtp, "eve@customer.test", &["support@example.test"], &m).0, 250);
    }
    d.outbox_idle().await;
    let mails = cap.all();
    assert_eq!(mails.len(), 1, "one ack for three tickets from the same sender within the window, none for the auto-reply: {mails:#?}");
    assert_eq!(mails[0].rcpt_to, vec!["eve@customer.test"]);
}

#[tokio::test]
async fn smarthost_down_then_back_delivers_once_across_a_restart() {
    // Reserve a port, then free it: the smarthost is "down".
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr = format!("127.0.0.1:{port}");
    let mut d = MailDesk::start_with_config(&config(&addr, "notify_new_ticket = false\n"));
    let m = crlf("From: Fay <fay@customer.test>\nTo: support@example.test\nSubject: Need help\n\nhelp\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "fay@customer.test", &["support@example.test"], &m).0, 250);
    d.settle().await;
    // The admin page says why it is queued (once the first attempt failed).
    let mut b = Browser::logged_in(&d.server.base, ADMIN_EMAIL, "correct horse battery").await;
    let page = b.get_until("/admin/outbox", |body| body.contains("cannot connect")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("fay@customer.test") && page.body.contains("cannot connect"), "{}", page.body);
    // Restart the desk while the mail waits; then the smarthost comes back.
    d.server.stop();
    d.restart();
    let (cap, _h) = Capture::start_on(&addr).await;
    let mails = cap.wait(1).await;
    d.outbox_idle().await;
    assert_eq!(cap.all().len(), 1, "delivered exactly once: {mails:#?}");
    assert_eq!(mails[0].rcpt_to, vec!["fay@customer.test"]);
    let t = d.ticket("TKT-000001").await;
    assert!(t["entries"].as_array().unwrap().iter().any(|e| e["body"].as_str().unwrap().contains("sent ack mail to fay@customer.test")));
    let mut b = Browser::logged_in(&d.server.base, ADMIN_EMAIL, "correct horse battery").await;
    assert!(!b.get("/admin/outbox").await.body.contains("fay@customer.test"));
}

#[tokio::test]
async fn outbox_page_retry_and_discard() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr = format!("127.0.0.1:{port}");
    let d = MailDesk::start_with_config(&config(
        &addr,
        "notify_new_ticket = false
retry_secs = [3600]
",
    ));
    for who in ["ivy", "jon"] {
        let m = crlf(&format!("From: {who}@customer.test\nTo: support@example.test\nSubject: from {who}\n\nhi\n"));
        assert_eq!(Smtp::send_mail(&d.smtp, &format!("{who}@customer.test"), &["support@example.test"], &m).0, 250);
    }
    // Both were tried once and wait an hour for the next attempt.
    d.outbox_idle().await;
    let mut b = Browser::logged_in(&d.server.base, ADMIN_EMAIL, "correct horse battery").await;
    let page = b.get("/admin/outbox").await;
    assert_eq!(page.body.matches("Retry now").count(), 2, "{}", page.body);
    // The next attempt is an hour away, and the page says when (not "just now").
    assert!(page.body.contains("1 attempt; next in ") && page.body.contains(" UTC)"), "{}", page.body);
    assert!(!page.body.contains("next just now"));
    // The ticket says so at once, not only when the outbox gives up.
    let t = d.ticket("TKT-000002").await;
    let said =
        |t: &serde_json::Value, what: &str| t["entries"].as_array().unwrap().iter().any(|e| e["body"].as_str().unwrap().contains(what));
    assert!(said(&t, "not yet delivered: ack mail to jon@customer.test — retrying at "), "{t:#}");
    // The ticket page says it at the top, with the reason, until it goes out.
    let waiting = "<strong>Not yet delivered — retrying</strong>: ack mail to jon@customer.test (first try refused: ";
    let tp = b.get("/tickets/TKT-000002").await.body;
    assert!(tp.contains(waiting), "{tp}");
    // Agents may not see it.
    let mut bob = Browser::logged_in(&d.server.base, "agent@example.test", "bob's long password").await;
    assert_eq!(bob.get("/admin/outbox").await.status, 404);
    let id_of = |body: &str, who: &str| {
        let row = body.find(&format!("{who}@customer.test")).unwrap();
        let i = body[row..].find("/admin/outbox/").unwrap() + row + 14;
        body[i..].chars().take_while(|c| c.is_ascii_digit()).collect::<String>()
    };
    let ivy = id_of(&page.body, "ivy");
    let jon = id_of(&page.body, "jon");
    // Discard one: gone, and the ticket says so.
    assert_eq!(b.post(&format!("/admin/outbox/{ivy}/discard"), &[]).await.status, 303);
    let t = d.ticket("TKT-000001").await;
    assert!(t["entries"].as_array().unwrap().iter().any(|e| e["body"].as_str().unwrap().contains("discarded by Ada Admin")), "{t:#}");
    // Smarthost comes back; the next retry would be an hour away — "Retry now" sends it at once.
    let (cap, _h) = Capture::start_on(&addr).await;
    b.get("/admin/outbox").await;
    assert_eq!(b.post(&format!("/admin/outbox/{jon}/retry"), &[]).await.status, 303);
    let mails = cap.wait(1).await;
    assert_eq!(mails[0].rcpt_to, vec!["jon@customer.test"]);
    d.outbox_idle().await;
    assert!(said(&d.ticket("TKT-000002").await, "sent ack mail to jon@customer.test"));
    assert!(!b.get("/tickets/TKT-000002").await.body.contains("Not yet delivered"), "delivered: the notice is gone");
    assert!(!b.get("/tickets/TKT-000001").await.body.contains("Not yet delivered"), "discarded: said in the thread, not as waiting");
    assert_eq!(cap.all().len(), 1, "the discarded mail is never sent");
}

#[tokio::test]
async fn collaborators_cc_or_separate_and_refused_recipients() {
    for mode in ["cc", "separate"] {
        let (cap, _h) = Capture::start_on("127.0.0.1:0").await;
        cap.refuse.lock().unwrap().push("gone@customer.test".into());
        let d = MailDesk::start_with_config(&config(
            &cap.addr,
            &format!("notify_new_ticket = false\nnotify_ack = false\ncollaborators = \"{mode}\"\n"),
        ));
        let m = crlf(
            "From: Gus <gus@customer.test>\nTo: support@example.test\nCc: Hal <hal@customer.test>, gone@customer.test\nSubject: Shared\n\nhi\n",
        );
        assert_eq!(Smtp::send_mail(&d.smtp, "gus@customer.test", &["support@example.test"], &m).0, 250);
        d.settle().await;
        let (st, _) = d.api.call("POST", "/tickets/TKT-000001/entries", Some(json!({"body": "On it."}))).await;
        assert_eq!(st, 201);
        if mode == "cc" {
            let mails = cap.wait(2).await;
            d.outbox_idle().await;
            // One message (same Message-ID) delivered per recipient; Cc header lists both.
            let ids: std::collections::HashSet<_> = cap.all().iter().map(|m| m.header("Message-ID")).collect();
            assert_eq!(ids.len(), 1);
            assert!(mails[0].header("Cc").unwrap().contains("hal@customer.test"));
            assert_eq!(mails[0].header("To").map(|t| t.contains("gus@customer.test")), Some(true));
        } else {
            let mails = cap.wait(2).await;
            d.outbox_idle().await;
            let ids: std::collections::HashSet<_> = mails.iter().map(|m| m.header("Message-ID")).collect();
            assert_eq!(ids.len(), 2, "one mail each");
            assert!(mails.iter().all(|m| m.header("Cc").is_none()));
        }
        let delivered: Vec<String> = cap.all().iter().flat_map(|m| m.rcpt_to.clone()).collect();
        assert!(delivered.contains(&"gus@customer.test".to_string()) && delivered.contains(&"hal@customer.test".to_string()));
        // The refused address is recorded on the ticket; it never blocked the others.
        d.outbox_idle().await;
        let t = d.ticket("TKT-000001").await;
        assert!(
            t["entries"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["body"].as_str().unwrap().contains("could not deliver reply mail to gone@customer.test")),
            "{mode}: {t:#}"
        );
    }
}

#[tokio::test]
async fn test_mail_from_the_cli_and_the_outbox_page() {
    let (cap, _h) = Capture::start_on("127.0.0.1:0").await;
    let d = MailDesk::start_with_config(&config(&cap.addr, ""));
    let c = d.config.to_str().unwrap().to_string();
    let dir = d.dir.path().to_path_buf();
    let out =
        tokio::task::spawn_blocking(move || cli(&dir, &["--config", &c, "mail", "test", "--to", "ops@example.org"], None)).await.unwrap();
    assert_eq!(out.0, 0, "{}", out.2);
    assert!(out.1.contains("accepted the test message to ops@example.org"), "{}", out.1);
    let mails = cap.wait(1).await;
    assert_eq!(mails[0].rcpt_to, vec!["ops@example.org"]);
    let mut b = Browser::logged_in(&d.server.base, ADMIN_EMAIL, "correct horse battery").await;
    b.get("/admin/outbox").await;
    let r = b.post("/admin/outbox/test", &[("to", "ops2@example.org")]).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("accepted the test message"));
    assert_eq!(cap.wait(2).await[1].rcpt_to, vec!["ops2@example.org"]);
    // A smarthost that refuses is reported, not hidden.
    cap.refuse.lock().unwrap().push("nobody@example.org".into());
    let r = b.post("/admin/outbox/test", &[("to", "nobody@example.org")]).await;
    assert_eq!(r.status, 502);
    assert!(r.body.contains("refused"), "{}", r.body);
}

#[tokio::test]
async fn agent_email_commands_need_a_signed_notification() {
    let (cap, _h) = Capture::start_on("127.0.0.1:0").await;
    let d = MailDesk::start_with_config(&config(&cap.addr, "notify_ack = false\n"));
    let m =
        crlf("From: Kim <kim@customer.test>\nTo: support@example.test\nSubject: Laptop\nMessage-ID: <k1@customer.test>\n\nIt is slow.\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "kim@customer.test", &["support@example.test"], &m).0, 250);
    // The new-ticket alert to Bob carries a token signed for him.
    let mails = cap.wait(2).await;
    let alert = mails.iter().find(|m| m.rcpt_to == ["agent@example.test"]).unwrap();
    let alert_id = alert.header("Message-ID").unwrap();
    assert!(alert_id.contains(".a"), "{alert_id}");

    // Bob answers the alert from his mail client with commands.
    let reply = crlf(&format!(
        "From: Bob Agent <agent@example.test>\nTo: support@example.test\nSubject: Re: [TKT-000001] Laptop\nIn-Reply-To: {alert_id}\n\n#note\n#assign me\n#status in_progress\n\nChecked: the disk is full.\n"
    ));
    assert_eq!(Smtp::send_mail(&d.smtp, "agent@example.test", &["support@example.test"], &reply).0, 250);
    d.settle().await;
    let t = d.ticket("TKT-000001").await;
    assert_eq!(t["assignee"]["email"], "agent@example.test");
    assert_eq!(t["status"], "in_progress");
    let note = t["entries"].as_array().unwrap().iter().find(|e| e["kind"] == "note").expect("a note").clone();
    assert_eq!(note["body"], "Checked: the disk is full.");
    d.outbox_idle().await;
    assert!(!cap.all().iter().any(|m| m.rcpt_to == ["kim@customer.test"]), "a note never goes to the customer");

    // The same commands with only the subject reference (From can be forged): refused.
    let forged =
        crlf("From: Bob Agent <agent@example.test>\nTo: support@example.test\nSubject: Re: [TKT-000001] Laptop\n\n#close\nclosing this\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "agent@example.test", &["support@example.test"], &forged).0, 250);
    d.settle().await;
    let t = d.ticket("TKT-000001").await;
    assert_eq!(t["status"], "in_progress", "not closed");
    assert!(t["entries"].as_array().unwrap().iter().any(|e| e["body"].as_str().unwrap().contains("claims to be from Bob Agent")));
    assert!(t["entries"].as_array().unwrap().iter().any(|e| e["kind"] == "note" && e["body"].as_str().unwrap().contains("#close")));
    // Bob is told that mail in his name arrived without proof.
    let mut told = false;
    for _ in 0..100 {
        told = cap.all().iter().any(|m| m.rcpt_to == ["agent@example.test"] && m.data.contains("without proof"));
        if told {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(told, "the agent is told");
    d.outbox_idle().await;
    assert!(!cap.all().iter().any(|m| m.rcpt_to == ["kim@customer.test"]));
    // A token signed for Bob does not work for Ada.
    let stolen = crlf(&format!(
        "From: Ada Admin <admin@example.test>\nTo: support@example.test\nSubject: Re: Laptop\nIn-Reply-To: {alert_id}\n\n#close\n"
    ));
    assert_eq!(Smtp::send_mail(&d.smtp, "admin@example.test", &["support@example.test"], &stolen).0, 250);
    d.settle().await;
    assert_eq!(d.ticket("TKT-000001").await["status"], "in_progress");
}

#[tokio::test]
async fn requester_link_shows_the_public_thread_and_takes_a_reply() {
    let (cap, _h) = Capture::start_on("127.0.0.1:0").await;
    let d = MailDesk::start_with_config(&config(&cap.addr, "notify_new_ticket = false\n"));
    let m = crlf("From: Lou <lou@customer.test>\nTo: support@example.test\nSubject: Badge does not open door\n\nDoor 3.\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "lou@customer.test", &["support@example.test"], &m).0, 250);
    let ack = cap.wait(1).await[0].clone();
    let text = ack.data.replace("=\r\n", "");
    let start = text.find("/t/TKT-000001?").expect("signed link in the ack");
    let link: String = text[start..].chars().take_while(|c| !c.is_whitespace()).collect::<String>().replace("=3D", "=");
    d.api.call("POST", "/tickets/TKT-000001/entries", Some(json!({"body": "Internal: check badge DB", "internal": true}))).await;
    d.api.call("POST", "/tickets/TKT-000001/entries", Some(json!({"body": "Please try again now."}))).await;
    let mut b = Browser::new(&d.server.base);
    let page = b.get(&link).await;
    assert_eq!(page.status, 200, "{link}");
    assert!(page.body.contains("Badge does not open door") && page.body.contains("Please try again now."));
    assert!(!page.body.contains("check badge DB"), "internal notes never show");
    assert!(page.body.contains("Waiting for your reply"), "Pending as the customer reads it");
    // Reply from the page: on the ticket, reopened.
    let q: std::collections::HashMap<String, String> = link
        .split('?')
        .nth(1)
        .unwrap()
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let r = b.post("/t/TKT-000001/reply", &[("e", &q["e"]), ("s", &q["s"]), ("body", "Works now, thanks!")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let t = d.ticket("TKT-000001").await;
    let last = t["entries"].as_array().unwrap().iter().rev().find(|e| e["kind"] == "reply").unwrap().clone();
    assert_eq!((last["body"].as_str(), last["author"]["email"].as_str()), (Some("Works now, thanks!"), Some("lou@customer.test")));
    assert_eq!(t["status"], "open");
    // A tampered or re-dated link is refused.
    let bad = link.replace(&format!("s={}", q["s"]), "s=00000000000000000000");
    assert_eq!(b.get(&bad).await.status, 404);
    let later: i64 = q["e"].parse::<i64>().unwrap() + 86_400;
    assert_eq!(b.get(&link.replace(&format!("e={}", q["e"]), &format!("e={later}"))).await.status, 404);
    assert_eq!(b.post("/t/TKT-000001/reply", &[("e", &q["e"]), ("s", "0"), ("body", "x")]).await.status, 404);
}

#[tokio::test]
async fn collaborators_can_unsubscribe() {
    let (cap, _h) = Capture::start_on("127.0.0.1:0").await;
    let d = MailDesk::start_with_config(&config(&cap.addr, "notify_new_ticket = false\nnotify_ack = false\n"));
    let m = crlf("From: Max <max@customer.test>\nTo: support@example.test\nCc: Nia <nia@customer.test>\nSubject: Projector\n\nBroken.\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "max@customer.test", &["support@example.test"], &m).0, 250);
    d.settle().await;
    d.api.call("POST", "/tickets/TKT-000001/entries", Some(json!({"body": "Technician comes at 3."}))).await;
    let mails = cap.wait(2).await;
    let to_nia = mails.iter().find(|m| m.rcpt_to == ["nia@customer.test"]).unwrap();
    let to_max = mails.iter().find(|m| m.rcpt_to == ["max@customer.test"]).unwrap();
    assert!(to_max.header("List-Unsubscribe").is_none(), "the requester is not offered to leave their own ticket");
    let header = to_nia.header("List-Unsubscribe").expect("List-Unsubscribe for the collaborator");
    assert_eq!(to_nia.header("List-Unsubscribe-Post").as_deref(), Some("List-Unsubscribe=One-Click"));
    assert_eq!(to_nia.header("Message-ID"), to_max.header("Message-ID"), "the same mail, with a link of her own");
    let url = header.trim_matches(['<', '>']).to_string();
    let path = url.split("127.0.0.1:8080").nth(1).unwrap().to_string();
    // GET shows a button and changes nothing; the one-click POST (no cookie, no CSRF) unsubscribes.
    let page = Browser::new(&d.server.base).get(&path).await;
    assert_eq!(page.status, 200);
    let r = reqwest::Client::new().post(d.server.url(&path)).body("List-Unsubscribe=One-Click").send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(Browser::new(&d.server.base).get(&path.replace("?s=", "?s=0")).await.status, 404);
    d.api.call("POST", "/tickets/TKT-000001/entries", Some(json!({"body": "Done."}))).await;
    d.outbox_idle().await;
    let later: Vec<_> = cap.all().into_iter().skip(2).collect();
    assert_eq!(later.len(), 1, "{later:#?}");
    assert_eq!(later[0].rcpt_to, vec!["max@customer.test"]);
    let t = d.ticket("TKT-000001").await;
    assert!(t["entries"].as_array().unwrap().iter().any(|e| e["body"].as_str().unwrap().contains("unsubscribed")));
    // Max answers with reply-all, Nia still in Cc: she stays off the ticket.
    let again = crlf(
        "From: Max <max@customer.test>\nTo: support@example.test\nCc: Nia <nia@customer.test>\nSubject: Re: [TKT-000001] Projector\n\nStill broken.\n",
    );
    assert_eq!(Smtp::send_mail(&d.smtp, "max@customer.test", &["support@example.test"], &again).0, 250);
    d.settle().await;
    d.api.call("POST", "/tickets/TKT-000001/entries", Some(json!({"body": "Second visit tomorrow."}))).await;
    d.outbox_idle().await;
    let last: Vec<_> = cap.all().into_iter().skip(3).collect();
    assert!(last.iter().any(|m| m.rcpt_to == ["max@customer.test"]), "{last:#?}");
    assert!(!last.iter().any(|m| m.rcpt_to.iter().any(|r| r == "nia@customer.test")), "{last:#?}");
}

/// Two desks (or a desk and a bot) mailing each other stop after one exchange.
#[tokio::test]
async fn two_desks_do_not_loop() {
    let free = || std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().to_string();
    let (a_smtp, b_smtp) = (free(), free());
    let desk = |mailbox: &str, smarthost: &str| {
        format!(
            "[smtp]\nhostname = \"{mailbox}\"\n[[mailbox]]\naddress = \"{mailbox}\"\n[outgoing]\nsmarthost = \"{smarthost}\"\nretry_secs = [1]\nnotify_new_ticket = false\n"
        )
    };
    let a = MailDesk::start_on(&desk("support@a.test", &b_smtp), &a_smtp);
    let b = MailDesk::start_on(&desk("help@b.test", &a_smtp), &b_smtp);
    // Desk B's address writes to desk A (say, a forwarding rule gone wrong).
    let m = crlf("From: help@b.test\nTo: support@a.test\nSubject: hello from B\n\nhi\n");
    assert_eq!(Smtp::send_mail(&a.smtp, "help@b.test", &["support@a.test"], &m).0, 250);
    // A acknowledges once, through B's receiver; B sees an auto-reply: junk, no answer.
    a.outbox_idle().await;
    b.outbox_idle().await;
    a.outbox_idle().await;
    assert_eq!(a.all_tickets().await.len(), 1);
    assert_eq!(b.all_tickets().await.len(), 0, "the acknowledgement did not become a ticket on B");
    let a_metrics = reqwest::get(a.server.url("/metrics")).await.unwrap().text().await.unwrap();
    let b_metrics = reqwest::get(b.server.url("/metrics")).await.unwrap().text().await.unwrap();
    assert_eq!(metric(&a_metrics, "frontdesk_smtp_accepted_total"), 1, "nothing came back to A");
    assert_eq!(metric(&b_metrics, "frontdesk_smtp_accepted_total"), 1, "B got exactly the one acknowledgement");
    let t = a.ticket("TKT-000001").await;
    assert!(t["entries"].as_array().unwrap().iter().any(|e| e["body"].as_str().unwrap().contains("sent ack mail to help@b.test")));
    let mut bb = Browser::logged_in(&b.server.base, ADMIN_EMAIL, "correct horse battery").await;
    assert_eq!(bb.get("/junk").await.body.matches(">Not junk</button>").count(), 1);
}

#[tokio::test]
async fn agents_choose_their_own_notifications() {
    let (cap, _h) = Capture::start_on("127.0.0.1:0").await;
    let d = MailDesk::start_with_config(&config(&cap.addr, "notify_ack = false\n"));
    let mut bob = Browser::logged_in(&d.server.base, "agent@example.test", "bob's long password").await;
    let page = bob.get("/settings").await;
    let notices_on =
        |body: &str| body.split("name=\"on\"").skip(1).filter(|rest| rest.split('>').next().unwrap_or("").contains("checked")).count();
    assert_eq!(notices_on(&page.body), 12, "all on by default");
    // Bob keeps only "assigned to me".
    let r = bob.post("/settings", &[("on", "assigned")]).await;
    assert_eq!(r.status, 303);
    assert_eq!(notices_on(&bob.get("/settings").await.body), 1);
    let m = crlf("From: Ola <ola@customer.test>\nTo: support@example.test\nSubject: Mouse\n\nbroken\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "ola@customer.test", &["support@example.test"], &m).0, 250);
    let mails = cap.wait(1).await;
    d.outbox_idle().await;
    assert!(cap.all().iter().all(|m| m.rcpt_to != ["agent@example.test"]), "Bob turned new-ticket mail off: {mails:#?}");
    assert!(cap.all().iter().any(|m| m.rcpt_to == [ADMIN_EMAIL]), "Ada still gets it");
    // Counted before the change: its mail may arrive before the API answers.
    let n = cap.all().len();
    d.api.call("PATCH", "/tickets/TKT-000001", Some(json!({"assignee": "agent@example.test"}))).await;
    let mails = cap.wait(n + 1).await;
    assert_eq!(mails[n].rcpt_to, vec!["agent@example.test"]);
    assert!(mails[n].data.contains("assigned ticket TKT-000001 to you"));
}

#[tokio::test]
async fn direct_delivery_to_the_recipients_mx_without_a_smarthost() {
    let (cap, _h) = Capture::start_on("127.0.0.1:0").await;
    // The customer's MX and its address, both from the one resolver
    // (`dns_resolver`, the older name of `dns.resolver`, still works).
    let dns = crate::common::dns::TestDns::start();
    dns.add("customer.test", crate::common::dns::Rec::Mx(10, "mx.customer.test".into()));
    dns.add("mx.customer.test", crate::common::dns::Rec::A("127.0.0.1".parse().unwrap()));
    let port = cap.addr.rsplit_once(':').unwrap().1.to_string();
    let cfg = format!(
        "{MAIL_CONFIG}\n[outgoing]\nsmarthost = \"\"\ndns_resolver = \"{}\"\ndirect_port = {port}\nnotify_new_ticket = false\n",
        dns.addr
    );
    let d = MailDesk::start_with_config(&cfg);
    let m = crlf("From: Pat <pat@customer.test>\nTo: support@example.test\nSubject: Direct\n\nhello\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "pat@customer.test", &["support@example.test"], &m).0, 250);
    let mails = cap.wait(1).await;
    assert_eq!(mails[0].rcpt_to, vec!["pat@customer.test"]);
    assert!(mails[0].header("Subject").unwrap().contains("[TKT-000001]"));
}

#[tokio::test]
async fn smarthost_auth_and_wrong_credentials_keep_mail_queued() {
    let (cap, _h) = Capture::start_on("127.0.0.1:0").await;
    *cap.auth.lock().unwrap() = Some(("desk".into(), "s3cret pass".into()));
    let dir = tempdir();
    let pw = dir.path().join("smarthost.pw");
    std::fs::write(&pw, "wrong\n").unwrap();
    let pw_path = pw.to_str().unwrap().to_string();
    let d = MailDesk::start_with_config(&config(
        &cap.addr,
        &format!("username = \"desk\"\npassword_file = \"{pw_path}\"\nnotify_new_ticket = false\n"),
    ));
    let m = crlf("From: Quinn <quinn@customer.test>\nTo: support@example.test\nSubject: auth\n\nhi\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "quinn@customer.test", &["support@example.test"], &m).0, 250);
    d.settle().await;
    let mut b = Browser::logged_in(&d.server.base, ADMIN_EMAIL, "correct horse battery").await;
    let page = b.get_until("/admin/outbox", |body| body.contains("AUTH")).await;
    assert!(cap.all().is_empty(), "refused AUTH: nothing delivered");
    assert!(page.body.contains("AUTH"), "the reason is shown: {}", page.body);
    // The admin fixes the password file; the next retry goes through.
    std::fs::write(&pw, "s3cret pass\n").unwrap();
    let mails = cap.wait(1).await;
    assert_eq!(mails[0].rcpt_to, vec!["quinn@customer.test"]);
    assert_eq!(cap.logins.lock().unwrap().first().map(String::as_str), Some("desk"));
}

#[tokio::test]
async fn agent_reply_with_an_attachment_from_the_ui_reaches_the_customer() {
    let (cap, _h) = Capture::start_on("127.0.0.1:0").await;
    let d = MailDesk::start_with_config(&config(&cap.addr, "notify_new_ticket = false\nnotify_ack = false\n"));
    let m = crlf("From: Rae <rae@customer.test>\nTo: support@example.test\nSubject: Need the form\n\nplease\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "rae@customer.test", &["support@example.test"], &m).0, 250);
    d.settle().await;
    let mut b = Browser::logged_in(&d.server.base, ADMIN_EMAIL, "correct horse battery").await;
    let page = b.get("/tickets/TKT-000001").await;
    assert!(page.body.contains("enctype=\"multipart/form-data\""));
    let boundary = "XyZbOuNdArY";
    let pdf = b"%PDF-1.4 leave request form";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\nHere is the form.\r\n").as_bytes(),
    );
    body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"leave form.pdf\"\r\nContent-Type: application/pdf\r\n\r\n").as_bytes());
    body.extend_from_slice(pdf);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let cookies = b.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
    let post = |csrf: String, body: Vec<u8>| {
        let url = d.server.url(&format!("/tickets/TKT-000001/reply?_csrf={csrf}"));
        let cookies = cookies.clone();
        async move {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap()
                .post(url)
                .header("cookie", cookies)
                .header("content-type", format!("multipart/form-data; boundary={boundary}"))
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(post("forged".into(), body.clone()).await.status(), 403, "the token in the URL is checked");
    let r = post(b.csrf.clone(), body).await;
    let status = r.status().as_u16();
    assert_eq!(status, 303, "{}", r.text().await.unwrap());
    let t = d.ticket("TKT-000001").await;
    let e = t["entries"].as_array().unwrap().iter().rev().find(|e| e["kind"] == "reply").unwrap().clone();
    assert_eq!(e["attachments"][0]["filename"], "leave form.pdf");
    assert_eq!(e["attachments"][0]["size"], pdf.len());
    let mails = cap.wait(1).await;
    let data = &mails[0].data;
    assert!(data.contains("leave form.pdf") && data.to_lowercase().contains("application/pdf"), "{data}");
    assert!(data.contains(&base64(pdf)[..20]), "the file is in the mail");
}

#[tokio::test]
async fn followers_get_notes_and_requester_replies() {
    let (cap, _h) = Capture::start_on("127.0.0.1:0").await;
    let d = MailDesk::start_with_config(&config(&cap.addr, "notify_ack = false\nnotify_new_ticket = false\n"));
    let m = crlf("From: Uma <uma@customer.test>\nTo: support@example.test\nSubject: VPN\nMessage-ID: <u1@customer.test>\n\ndown\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "uma@customer.test", &["support@example.test"], &m).0, 250);
    d.settle().await;
    d.api.call("PATCH", "/tickets/TKT-000001", Some(json!({"assignee": ADMIN_EMAIL}))).await;
    let mut bob = Browser::logged_in(&d.server.base, "agent@example.test", "bob's long password").await;
    bob.get("/tickets/TKT-000001").await;
    assert_eq!(bob.post("/tickets/TKT-000001/follow", &[("on", "1")]).await.status, 303);
    let page = bob.get("/tickets/following").await;
    assert!(page.body.contains("TKT-000001"));
    assert!(bob.get("/tickets/TKT-000001").await.body.contains("Following — stop"));
    let before = cap.all().len();
    // Ada (the assignee) writes a note: Bob, following, is told; Ada is not (her own change).
    d.api.call("POST", "/tickets/TKT-000001/entries", Some(json!({"body": "Checked the VPN concentrator.", "internal": true}))).await;
    let mails = cap.wait(before + 1).await;
    assert_eq!(mails[before].rcpt_to, vec!["agent@example.test"]);
    assert!(mails[before].data.contains("Checked the VPN concentrator."));
    // The customer replies: the assignee and the follower hear about it.
    let r = crlf("From: Uma <uma@customer.test>\nTo: support@example.test\nSubject: Re: [TKT-000001] VPN\n\nstill down\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "uma@customer.test", &["support@example.test"], &r).0, 250);
    let mails = cap.wait(before + 3).await;
    let to: Vec<String> = mails[before + 1..].iter().flat_map(|m| m.rcpt_to.clone()).collect();
    assert!(to.contains(&ADMIN_EMAIL.to_string()) && to.contains(&"agent@example.test".to_string()), "{to:?}");
    // Unfollow: no more.
    bob.get("/tickets/TKT-000001").await;
    assert_eq!(bob.post("/tickets/TKT-000001/follow", &[("on", "0")]).await.status, 303);
    d.api.call("POST", "/tickets/TKT-000001/entries", Some(json!({"body": "Another note.", "internal": true}))).await;
    d.outbox_idle().await;
    assert_eq!(cap.all().len(), before + 3, "{:#?}", &cap.all()[before + 3..]);
}

/// A From name beyond ASCII, with quotes and long: RFC 2047 encoded words of
/// at most 75 characters, never inside quotes, that a real parser reads back.
#[tokio::test]
async fn a_non_ascii_from_name_is_encoded_as_a_mail_client_expects() {
    let (cap, _h) = Capture::start_on("127.0.0.1:0").await;
    let name = "Støtte \\\"Nord\\\" – kundeservice for hele landet, også Svalbard og Jan Mayen";
    let cfg = format!(
        "{MAIL_CONFIG}\n[outgoing]\nsmarthost = \"{}\"\nfrom_name = \"{name}\"\nretry_secs = [1]\nnotify_new_ticket = false\n",
        cap.addr
    );
    let d = MailDesk::start_with_config(&cfg);
    let m = crlf("From: Jörg <joerg@customer.test>\nTo: support@example.test\nSubject: Drucker\n\nDer Drucker druckt nicht.\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "joerg@customer.test", &["support@example.test"], &m).0, 250);
    let ack = cap.wait(1).await.into_iter().next().expect("the acknowledgement");
    let from = ack.header("From").expect("From");
    assert!(!from.contains("\"=?") && !from.contains("?=\""), "encoded words are not quoted: {from}");
    assert!(from.split_whitespace().filter(|w| w.starts_with("=?")).all(|w| w.len() <= 75), "{from}");
    let parsed = mail_parser::MessageParser::default().parse(ack.data.as_bytes()).expect("a message");
    let addr = parsed.from().and_then(|a| a.first()).expect("a From address");
    assert_eq!(addr.name(), Some("Støtte \"Nord\" – kundeservice for hele landet, også Svalbard og Jan Mayen"));
    assert_eq!(addr.address(), Some("support@example.test"));
    let to = parsed.to().and_then(|a| a.first()).expect("a To address");
    assert_eq!((to.name(), to.address()), (Some("Jörg"), Some("joerg@customer.test")), "To carries the display name");
    // Date is when the acknowledgement was written (the mail's queue time).
    let date = parsed.date().expect("a Date").to_timestamp();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    assert!((now - date).abs() < 120, "Date {date} vs now {now}");
}

/// Sends Jörg's first mail from an internationalized address over SMTPUTF8.
fn mail_from_joerg(smtp: &str, from: &str) {
    let msg = format!(
        "From: Jörg <{from}>\r\nTo: support@example.test\r\nSubject: Bestellung\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nWo bleibt sie?\r\n"
    );
    let (mut c, _) = Smtp::connect(smtp);
    assert_eq!(c.cmd("EHLO client.example.org").0, 250);
    assert_eq!(c.cmd(&format!("MAIL FROM:<{from}> SMTPUTF8")).0, 250);
    assert_eq!(c.cmd("RCPT TO:<support@example.test>").0, 250);
    assert_eq!(c.cmd("DATA").0, 354);
    c.send(&Smtp::data_bytes(msg.as_bytes()));
    assert_eq!(c.reply().0, 250);
}

#[tokio::test]
async fn a_next_hop_without_smtputf8_is_a_clear_permanent_failure() {
    // The capture smarthost does not offer SMTPUTF8.
    let (cap, _h) = Capture::start_on("127.0.0.1:0").await;
    let d = MailDesk::start_with_config(&config(&cap.addr, "notify_new_ticket = false\n"));
    mail_from_joerg(&d.smtp, "jörg@bücher.example");
    d.settle().await;
    d.outbox_idle().await;
    assert!(cap.all().is_empty(), "nothing half-sent: {:?}", cap.all());
    let t = d.ticket("TKT-000001").await;
    assert!(t.to_string().contains("does not offer SMTPUTF8"), "the reason is on the ticket: {t:#}");
    // The failure is permanent: no retry is waiting.
    let m = d.settle().await;
    assert_eq!(metric(&m, "frontdesk_outbox_due"), 0, "{m}");

    // Offered, the same kind of mail goes out with SMTPUTF8; a Unicode
    // domain alone needs nothing but its A-label.
    let (cap, _h) = Capture::start_on("127.0.0.1:0").await;
    cap.smtputf8.store(true, std::sync::atomic::Ordering::SeqCst);
    let d = MailDesk::start_with_config(&config(&cap.addr, "notify_new_ticket = false\n"));
    mail_from_joerg(&d.smtp, "jörg@bücher.example");
    let ack = cap.wait(1).await.remove(0);
    assert_eq!(ack.rcpt_to, vec!["jörg@xn--bcher-kva.example".to_string()]);
    assert_eq!(ack.mail_params, "SMTPUTF8");
    let (cap, _h) = Capture::start_on("127.0.0.1:0").await;
    let d = MailDesk::start_with_config(&config(&cap.addr, "notify_new_ticket = false\n"));
    mail_from_joerg(&d.smtp, "anna@bücher.example");
    let ack = cap.wait(1).await.remove(0);
    assert_eq!(ack.rcpt_to, vec!["anna@xn--bcher-kva.example".to_string()]);
    assert_eq!(ack.mail_params, "", "no SMTPUTF8 asked of a server that does not offer it");
}
