//! The SMTP receiver over real TCP: messages of every shape become tickets (or
//! junk), threading, relay refusal, limits, pipelining, STARTTLS, ingest.

use crate::common::smtp::Smtp;
use crate::common::*;
use serde_json::json;

fn crlf(s: &str) -> Vec<u8> {
    s.replace("\r\n", "\n").replace('\n', "\r\n").into_bytes()
}

fn first_reply_body(t: &serde_json::Value) -> String {
    t["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "reply")
        .map(|e| e["body"].as_str().unwrap().to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn plain_mail_becomes_a_ticket_in_the_mailbox_department() {
    let d = MailDesk::start();
    let msg = crlf(
        "From: Carol Customer <carol@customer.test>\nTo: Sales <sales+vip@example.test>\nCc: Dave <dave@customer.test>, support@example.test\nSubject: Quote for 20 laptops\nMessage-ID: <q1@customer.test>\nDate: Mon, 23 Nov 2026 10:00:00 +0000\n\nHello,\nplease send a quote.\n\nCarol\n",
    );
    let r = Smtp::send_mail(&d.smtp, "carol@customer.test", &["sales+vip@example.test"], &msg);
    assert_eq!(r.0, 250, "{}", r.1);
    assert!(r.1.contains("2.0.0"));
    let all = d.wait_tickets(1).await;
    let t = d.ticket(all[0]["ref"].as_str().unwrap()).await;
    assert_eq!(t["subject"], "Quote for 20 laptops");
    assert_eq!(t["channel"], "email");
    assert_eq!(t["status"], "open");
    assert_eq!(t["department"], "Sales");
    assert_eq!(t["requester"], json!({"name": "Carol Customer", "email": "carol@customer.test"}));
    assert!(first_reply_body(&t).contains("please send a quote."));
    let events: Vec<&str> =
        t["entries"].as_array().unwrap().iter().filter(|e| e["kind"] == "event").map(|e| e["body"].as_str().unwrap()).collect();
    assert!(events.iter().any(|e| e.contains("added Dave <dave@customer.test> as a collaborator")), "{events:?}");
    assert!(!events.iter().any(|e| e.contains("support@example.test")), "the desk's own address is not a collaborator");

    // The agent UI shows sender, recipients and a link to the original.
    let mut b = Browser::logged_in(&d.server.base, ADMIN_EMAIL, "correct horse battery").await;
    let page = b.get(&format!("/tickets/{}", t["ref"].as_str().unwrap())).await;
    assert!(page.body.contains("Carol Customer &lt;carol@customer.test&gt;"));
    assert!(page.body.contains("Sales &lt;sales+vip@example.test&gt;"));
    let i = page.body.find("/source\"").expect("view original link");
    let j = page.body[..i].rfind("href=\"").unwrap();
    let src = b.get(&page.body[j + 6..i + 7]).await;
    assert_eq!(src.status, 200);
    assert!(src.headers["content-type"].to_str().unwrap().starts_with("text/plain"));
    assert!(
        src.body.starts_with("Received: from client.example.org"),
        "our Received header is prepended:\n{}",
        &src.body[..200.min(src.body.len())]
    );
    assert!(src.body.contains("by desk.example.test (frontdesk) with ESMTP"));
    assert!(src.body.contains("Message-ID: <q1@customer.test>"));
}

#[tokio::test]
async fn html_only_charsets_and_attachments() {
    let d = MailDesk::start();
    // HTML only, with a script and a remote image that must not survive as active content.
    let html = crlf(
        "From: Erin <erin@customer.test>\nTo: support@example.test\nSubject: =?UTF-8?B?w5xiZXJ3ZWlzdW5n?= failed\nMIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n<html><body><p>The <b>transfer</b> failed.</p><script>alert(1)</script><img src=\"https://tracker.example/p.gif\"><p onclick=\"x()\">Second line</p></body></html>\n",
    );
    assert_eq!(Smtp::send_mail(&d.smtp, "erin@customer.test", &["support@example.test"], &html).0, 250);
    // ISO-8859-1 body, RFC 2047 Q-encoded subject.
    let latin = [
        b"From: =?ISO-8859-1?Q?Fran=E7ois?= <francois@customer.test>\r\nTo: support@example.test\r\nSubject: =?ISO-8859-1?Q?Probl=E8me_d'acc=E8s?=\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=ISO-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\nJe ne peux pas acc\xe9der \xe0 mon compte.\r\n".as_slice(),
    ]
    .concat();
    assert_eq!(Smtp::send_mail(&d.smtp, "francois@customer.test", &["support@example.test"], &latin).0, 250);
    // Shift_JIS body.
    let sjis = [
        b"From: Taro <taro@customer.test>\r\nTo: support@example.test\r\nSubject: =?ISO-2022-JP?B?GyRCJTUhPCVQJEslIiUvJTslOSRHJC0kXiQ7JHMbKEI=?=\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=Shift_JIS\r\nContent-Transfer-Encoding: 8bit\r\n\r\n".as_slice(),
        // "サーバーに接続できません" in Shift_JIS
        &[0x83, 0x54, 0x81, 0x5b, 0x83, 0x6f, 0x81, 0x5b, 0x82, 0xc9, 0x90, 0xda, 0x91, 0xb1, 0x82, 0xc5, 0x82, 0xab, 0x82, 0xdc, 0x82, 0xb9, 0x82, 0xf1, b'\r', b'\n'],
    ]
    .concat();
    assert_eq!(Smtp::send_mail(&d.smtp, "taro@customer.test", &["support@example.test"], &sjis).0, 250);
    // Multipart with a PDF attachment and an inline cid: image.
    let png: &[u8] = &[
        0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, b'I', b'H', b'D', b'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f,
        0x15, 0xc4, 0x89,
    ];
    let b64 = base64;
    let multi = crlf(&format!(
        "From: Gina <gina@customer.test>\nTo: support@example.test\nSubject: Invoice attached\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"OUT\"\n\n--OUT\nContent-Type: multipart/related; boundary=\"REL\"\n\n--REL\nContent-Type: multipart/alternative; boundary=\"ALT\"\n\n--ALT\nContent-Type: text/plain; charset=utf-8\n\nSee the logo and the invoice.\n--ALT\nContent-Type: text/html; charset=utf-8\n\n<p>See the logo <img src=\"cid:logo@x\"> and the invoice.</p>\n--ALT--\n--REL\nContent-Type: image/png\nContent-ID: <logo@x>\nContent-Disposition: inline; filename=\"logo.png\"\nContent-Transfer-Encoding: base64\n\n{}\n--REL--\n--OUT\nContent-Type: application/pdf; name=\"invoice 2291.pdf\"\nContent-Disposition: attachment; filename=\"invoice 2291.pdf\"\nContent-Transfer-Encoding: base64\n\n{}\n--OUT\nContent-Type: text/plain\nContent-Disposition: attachment; filename=\"empty.txt\"\n\n\n--OUT--\n",
        b64(png),
        b64(b"%PDF-1.4 fake pdf body")
    ));
    assert_eq!(Smtp::send_mail(&d.smtp, "gina@customer.test", &["support@example.test"], &multi).0, 250);

    let all = d.wait_tickets(4).await;
    let by_subject = |s: &str| {
        all.iter().find(|t| t["subject"].as_str().unwrap().contains(s)).unwrap_or_else(|| panic!("no ticket {s}: {all:?}"))["ref"]
            .as_str()
            .unwrap()
            .to_string()
    };

    let t = d.ticket(&by_subject("failed")).await;
    assert_eq!(t["subject"], "Überweisung failed");
    let body = first_reply_body(&t);
    assert!(body.contains("transfer") && body.contains("failed") && body.contains("Second line"), "{body}");
    assert!(!body.contains("alert(1)") && !body.contains('<'), "readable text, no markup: {body}");

    let t = d.ticket(&by_subject("Problème")).await;
    assert_eq!(t["subject"], "Problème d'accès");
    assert_eq!(t["requester"]["name"], "François");
    assert!(first_reply_body(&t).contains("Je ne peux pas accéder à mon compte."));

    let t = d.ticket(&by_subject("サーバ")).await;
    assert!(first_reply_body(&t).contains("サーバーに接続できません"), "{}", first_reply_body(&t));

    let gref = by_subject("Invoice attached");
    let t = d.ticket(&gref).await;
    let reply = t["entries"].as_array().unwrap().iter().find(|e| e["kind"] == "reply").unwrap().clone();
    let names: Vec<&str> = reply["attachments"].as_array().unwrap().iter().map(|a| a["filename"].as_str().unwrap()).collect();
    assert!(names.contains(&"logo.png") && names.contains(&"invoice 2291.pdf") && names.contains(&"empty.txt"), "{names:?}");
    let pdf = reply["attachments"].as_array().unwrap().iter().find(|a| a["filename"] == "invoice 2291.pdf").unwrap();
    assert_eq!(pdf["size"], 22);
    assert_eq!(pdf["content_type"], "application/pdf");

    // Downloads are attachments with nosniff; images preview inline; HTML is sandboxed.
    let mut b = Browser::logged_in(&d.server.base, ADMIN_EMAIL, "correct horse battery").await;
    let page = b.get(&format!("/tickets/{gref}")).await;
    assert!(page.body.contains("invoice 2291.pdf"));
    let seq = reply["seq"].as_u64().unwrap();
    let idx = names.iter().position(|n| *n == "invoice 2291.pdf").unwrap();
    let dl = b.get(&format!("/tickets/{gref}/attachments/{seq}/{idx}")).await;
    assert_eq!(dl.status, 200);
    assert!(dl.headers["content-disposition"].to_str().unwrap().starts_with("attachment;"));
    assert_eq!(dl.headers["x-content-type-options"], "nosniff");
    assert_eq!(dl.headers["content-type"], "application/octet-stream");
    assert_eq!(dl.body, "%PDF-1.4 fake pdf body");
    let li = names.iter().position(|n| *n == "logo.png").unwrap();
    let img = b.get(&format!("/tickets/{gref}/attachments/{seq}/{li}?inline=1")).await;
    assert_eq!(img.headers["content-type"], "image/png");
    assert!(img.headers["content-disposition"].to_str().unwrap().starts_with("inline;"));
    let h = b.get(&format!("/tickets/{gref}/entries/{seq}/html")).await;
    assert_eq!(h.status, 200);
    // The sandboxed frame sends no cookie: the picture is put in as a data: URL.
    assert!(h.body.contains("src=\"data:image/png;base64,") && !h.body.contains("cid:"), "cid: rewritten to the stored image: {}", h.body);
    assert!(h.headers["content-security-policy"].to_str().unwrap().contains("sandbox"));
    let eref = by_subject("failed");
    let et = d.ticket(&eref).await;
    let eseq = et["entries"].as_array().unwrap().iter().find(|e| e["kind"] == "reply").unwrap()["seq"].as_u64().unwrap();
    let h = b.get(&format!("/tickets/{eref}/entries/{eseq}/html")).await;
    assert!(!h.body.contains("<script") && !h.body.contains("onclick"), "{}", h.body);
    // Attachments of tickets the agent cannot see are 404.
    assert_eq!(b.get(&format!("/tickets/{gref}/attachments/{seq}/99")).await.status, 404);
}

#[tokio::test]
async fn replies_thread_by_headers_and_subject_but_not_for_strangers() {
    let d = MailDesk::start();
    let first = crlf(
        "From: Hal <hal@customer.test>\nTo: support@example.test\nSubject: VPN broken\nMessage-ID: <orig-1@customer.test>\n\nIt drops.\n",
    );
    assert_eq!(Smtp::send_mail(&d.smtp, "hal@customer.test", &["support@example.test"], &first).0, 250);
    let t = d.wait_tickets(1).await;
    let r = t[0]["ref"].as_str().unwrap().to_string();
    // Agent answers: Open -> Pending.
    let (st, _) = d.api.call("POST", &format!("/tickets/{r}/entries"), Some(json!({"body": "Which client version?"}))).await;
    assert_eq!(st, 201);
    assert_eq!(d.ticket(&r).await["status"], "pending");

    // Requester replies from a real client: In-Reply-To/References, quoted history.
    let reply = crlf(
        "From: Hal <hal@customer.test>\nTo: support@example.test\nSubject: Re: VPN broken\nMessage-ID: <reply-2@customer.test>\nIn-Reply-To: <orig-1@customer.test>\nReferences: <orig-1@customer.test>\n\nVersion 5.2, sorry.\n\nOn Mon, 23 Nov 2026 at 10:05, Help Desk <support@example.test> wrote:\n> Which client version?\n",
    );
    assert_eq!(Smtp::send_mail(&d.smtp, "hal@customer.test", &["support@example.test"], &reply).0, 250);
    d.settle().await;
    let t = d.ticket(&r).await;
    assert_eq!(d.all_tickets().await.len(), 1, "a reply is not a new ticket");
    assert_eq!(t["status"], "open", "a requester reply reopens a pending ticket");
    let last = t["entries"].as_array().unwrap().iter().rev().find(|e| e["kind"] == "reply").unwrap().clone();
    assert_eq!(last["body"], "Version 5.2, sorry.", "quoted history is cut");
    assert_eq!(last["author"]["email"], "hal@customer.test");

    // Subject token from the requester threads too (no headers).
    let by_subject =
        crlf(&format!("From: hal@customer.test\nTo: support@example.test\nSubject: [{r}] one more thing\n\nAlso the printer.\n"));
    assert_eq!(Smtp::send_mail(&d.smtp, "hal@customer.test", &["support@example.test"], &by_subject).0, 250);
    d.settle().await;
    assert_eq!(d.all_tickets().await.len(), 1);
    assert!(d.ticket(&r).await["entries"].as_array().unwrap().iter().any(|e| e["body"] == "Also the printer."));

    // A stranger using the token (or the Message-ID) gets a new ticket, not access.
    let stranger = crlf(&format!(
        "From: mallory@evil-customer.test\nTo: support@example.test\nSubject: Re: [{r}] give me the data\nIn-Reply-To: <orig-1@customer.test>\n\nhi\n"
    ));
    assert_eq!(Smtp::send_mail(&d.smtp, "mallory@evil-customer.test", &["support@example.test"], &stranger).0, 250);
    let all = d.wait_tickets(2).await;
    assert_eq!(all.len(), 2);
    assert!(!d.ticket(&r).await["entries"].as_array().unwrap().iter().any(|e| e["body"] == "hi"));
    assert_eq!(all[1]["requester"]["email"], "mallory@evil-customer.test");

    // Mail from an agent's address without a signed token is only a claim:
    // an unverified internal note, nothing sent, nothing changed.
    let agent_mail = crlf(&format!(
        "From: Bob Agent <agent@example.test>\nTo: support@example.test\nSubject: Re: [{r}] VPN broken\n\nPlease update to 5.3.\n"
    ));
    assert_eq!(Smtp::send_mail(&d.smtp, "agent@example.test", &["support@example.test"], &agent_mail).0, 250);
    d.settle().await;
    let t = d.ticket(&r).await;
    let e = t["entries"].as_array().unwrap().iter().rev().find(|e| e["kind"] == "note").unwrap().clone();
    assert!(e["body"].as_str().unwrap().starts_with("[unverified: claims to be Bob Agent <agent@example.test>]"), "{e}");
    assert!(e["body"].as_str().unwrap().contains("Please update to 5.3."));
    assert!(!t["entries"].as_array().unwrap().iter().any(|e| e["kind"] == "reply" && e["body"] == "Please update to 5.3."));
    assert_eq!(t["status"], "open", "a claim changes nothing");

    // Closed: a reply starts a new ticket that links to the closed one.
    for s in ["resolved", "closed"] {
        assert_eq!(d.api.call("PATCH", &format!("/tickets/{r}"), Some(json!({"status": s}))).await.0, 200);
    }
    let late = crlf(
        "From: hal@customer.test\nTo: support@example.test\nSubject: Re: VPN broken\nIn-Reply-To: <reply-2@customer.test>\n\nIt is back.\n",
    );
    assert_eq!(Smtp::send_mail(&d.smtp, "hal@customer.test", &["support@example.test"], &late).0, 250);
    let all = d.wait_tickets(3).await;
    let newest = d.ticket(all[2]["ref"].as_str().unwrap()).await;
    assert!(
        newest["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["body"].as_str().unwrap().contains(&format!("follows up on closed ticket {r}")))
    );
    let old = d.ticket(&r).await;
    assert_eq!(old["status"], "closed");
    assert!(old["entries"].as_array().unwrap().iter().any(|e| e["body"].as_str().unwrap().contains("has a follow-up")));
}

#[tokio::test]
async fn collaborators_and_agent_forwards() {
    let d = MailDesk::start();
    let m = crlf(
        "From: Ivy <ivy@customer.test>\nTo: support@example.test\nCc: Jack <jack@customer.test>\nSubject: Shared drive\nMessage-ID: <sd@customer.test>\n\nNo access.\n",
    );
    assert_eq!(Smtp::send_mail(&d.smtp, "ivy@customer.test", &["support@example.test"], &m).0, 250);
    let r = d.wait_tickets(1).await[0]["ref"].as_str().unwrap().to_string();
    // The CC'd colleague may answer on the ticket.
    let jack =
        crlf(&format!("From: Jack <jack@customer.test>\nTo: support@example.test\nSubject: Re: [{r}] Shared drive\n\nSame for me.\n"));
    assert_eq!(Smtp::send_mail(&d.smtp, "jack@customer.test", &["support@example.test"], &jack).0, 250);
    d.settle().await;
    assert_eq!(d.all_tickets().await.len(), 1);
    assert!(d.ticket(&r).await["entries"].as_array().unwrap().iter().any(|e| e["body"] == "Same for me."));

    // An agent forwards a customer's mail. Without proof it is the agent (a
    // forged forward would open a ticket for a victim) it waits in Junk; the
    // agent turns it into a ticket there, and the ticket is the customer's.
    let fwd = crlf(
        "From: Bob Agent <agent@example.test>\nTo: support@example.test\nSubject: Fwd: Broken monitor\n\nCan someone take this?\n\n---------- Forwarded message ---------\nFrom: Kim Customer <kim@customer.test>\nDate: Mon, 23 Nov 2026 at 09:00\nSubject: Broken monitor\nTo: Bob Agent <agent@example.test>\n\nMy monitor flickers.\n",
    );
    assert_eq!(Smtp::send_mail(&d.smtp, "agent@example.test", &["support@example.test"], &fwd).0, 250);
    d.settle().await;
    assert_eq!(d.all_tickets().await.len(), 1, "an unverified forward opens no ticket");
    let mut bob = Browser::logged_in(&d.server.base, "agent@example.test", "bob's long password").await;
    let junk = bob.get("/junk").await.body;
    assert!(junk.contains("unverified: claims to be agent agent@example.test"), "{junk}");
    let id = junk_ids(&junk).first().cloned().unwrap_or_else(|| panic!("a junk item in {junk}"));
    let r = bob.post(&format!("/junk/{id}/ticket"), &[]).await;
    assert!(r.status == 303 || r.status == 200, "{}", r.status);
    let all = d.wait_tickets(2).await;
    let t = d.ticket(all[1]["ref"].as_str().unwrap()).await;
    assert_eq!(t["requester"], json!({"name": "Kim Customer", "email": "kim@customer.test"}));
    assert_eq!(t["subject"], "Broken monitor");
    assert!(first_reply_body(&t).contains("My monitor flickers."));
}

#[tokio::test]
async fn bounces_and_auto_replies_never_make_tickets() {
    let d = MailDesk::start();
    let m = crlf(
        "From: Lea <lea@customer.test>\nTo: support@example.test\nSubject: Password reset\nMessage-ID: <pw@customer.test>\n\nPlease reset.\n",
    );
    assert_eq!(Smtp::send_mail(&d.smtp, "lea@customer.test", &["support@example.test"], &m).0, 250);
    let r = d.wait_tickets(1).await[0]["ref"].as_str().unwrap().to_string();

    // Out-of-office reply threading into the ticket: an event, nothing else.
    let ooo = crlf(
        "From: Lea <lea@customer.test>\nTo: support@example.test\nSubject: Automatic reply: Password reset\nAuto-Submitted: auto-replied\nIn-Reply-To: <pw@customer.test>\n\nI am out until Monday.\n",
    );
    assert_eq!(Smtp::send_mail(&d.smtp, "lea@customer.test", &["support@example.test"], &ooo).0, 250);
    // A bounce (null sender, multipart/report) carrying the original's Message-ID.
    let bounce = crlf(
        "From: Mail Delivery Subsystem <MAILER-DAEMON@mx.customer.test>\nTo: support@example.test\nSubject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n--B\nContent-Type: text/plain\n\nThe mail could not be delivered.\n--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.customer.test\n\nFinal-Recipient: rfc822; gone@customer.test\nAction: failed\nStatus: 5.1.1\n--B\nContent-Type: message/rfc822\n\nFrom: support@example.test\nTo: gone@customer.test\nSubject: Re: Password reset\nMessage-ID: <pw@customer.test>\n\nbody\n--B--\n",
    );
    assert_eq!(Smtp::send_mail(&d.smtp, "", &["support@example.test"], &bounce).0, 250);
    // Unrelated auto-mail: list traffic, precedence bulk, vacation subject, X-Autoreply.
    for (i, extra) in ["List-Id: <news.vendor.test>\n", "Precedence: bulk\n", "X-Autoreply: yes\n", "X-Auto-Response-Suppress: All\n", ""]
        .iter()
        .enumerate()
    {
        let subject = if extra.is_empty() { "Out of Office: back in January" } else { "Newsletter" };
        let m = crlf(&format!("From: robot{i}@vendor.test\nTo: support@example.test\n{extra}Subject: {subject}\n\nauto\n"));
        assert_eq!(Smtp::send_mail(&d.smtp, &format!("robot{i}@vendor.test"), &["support@example.test"], &m).0, 250);
    }
    let bounce2 = crlf("From: postmaster@other.test\nTo: support@example.test\nSubject: Delivery failure\n\nfailed\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "", &["support@example.test"], &bounce2).0, 250);
    d.settle().await;
    assert_eq!(d.all_tickets().await.len(), 1, "no auto mail became a ticket");
    let t = d.ticket(&r).await;
    let events: Vec<String> =
        t["entries"].as_array().unwrap().iter().filter(|e| e["kind"] == "event").map(|e| e["body"].as_str().unwrap().to_string()).collect();
    assert!(events.iter().any(|e| e.contains("auto-reply") && e.contains("no action taken")), "{events:?}");
    assert!(events.iter().any(|e| e.contains("bounce")), "{events:?}");
    assert_eq!(t["status"], "open", "an auto-reply does not change the status");
    // The rest is in Junk, where an agent can turn one into a ticket.
    let mut b = Browser::logged_in(&d.server.base, ADMIN_EMAIL, "correct horse battery").await;
    let junk = b.get("/junk").await;
    assert_eq!(junk.body.matches(">Not junk</button>").count(), 6, "{}", junk.body);
    assert!(junk.body.contains("Out of Office: back in January"));
    let id = junk_ids(&junk.body).first().cloned().unwrap_or_else(|| panic!("a junk item in {}", junk.body));
    let src = b.get(&format!("/junk/{id}/source")).await;
    assert_eq!(src.status, 200);
    let made = b.post(&format!("/junk/{id}/ticket"), &[]).await;
    assert_eq!(made.status, 303);
    assert_eq!(d.all_tickets().await.len(), 2);
    assert_eq!(b.get("/junk").await.body.matches(">Not junk</button>").count(), 5);
}

#[tokio::test]
async fn never_an_open_relay_and_limits_answer_correctly() {
    let d = MailDesk::start();
    let (mut c, greeting) = Smtp::connect(&d.smtp);
    assert!(greeting.0 == 220 && greeting.1.contains("desk.example.test"));
    // Commands before EHLO.
    assert_eq!(c.cmd("MAIL FROM:<a@b.test>").0, 503);
    let e = c.cmd("EHLO relay-tester.example.org");
    for ext in ["SIZE 200000", "8BITMIME", "PIPELINING", "ENHANCEDSTATUSCODES", "SMTPUTF8", "STARTTLS", "CHUNKING"] {
        assert!(e.1.contains(ext), "EHLO lacks {ext}: {}", e.1);
    }
    assert!(!e.1.contains("AUTH"));
    assert_eq!(c.cmd("RCPT TO:<x@example.test>").0, 503, "RCPT before MAIL");
    assert_eq!(c.cmd("MAIL FROM:<attacker@evil.test>").0, 250);
    for victim in [
        "victim@gmail.test",
        "support@example.test.evil.test",
        "support@evil.test",
        "other@example.test",
        "\"support@example.test\"@evil.test",
    ] {
        let r = c.cmd(&format!("RCPT TO:<{victim}>"));
        assert_eq!(r.0, 550, "{victim}: {}", r.1);
        assert!(r.1.contains("5.1.1"));
    }
    assert_eq!(c.cmd("DATA").0, 554, "no valid recipients");
    assert_eq!(c.cmd("RSET").0, 250);
    assert_eq!(c.cmd("VRFY support").0, 252);
    assert_eq!(c.cmd("EXPN staff").0, 502);
    assert_eq!(c.cmd("AUTH PLAIN AGZvbwBiYXI=").0, 502);
    assert_eq!(c.cmd("NOOP").0, 250);
    assert_eq!(c.cmd("FOOBAR").0, 500);
    c.cmd("QUIT");

    // Ban list at MAIL FROM.
    let (mut c, _) = Smtp::connect(&d.smtp);
    c.cmd("EHLO x.test");
    let r = c.cmd("MAIL FROM:<spammer@bad.test>");
    assert_eq!(r.0, 550);
    assert!(r.1.contains("5.7.1"));
    assert_eq!(c.cmd("MAIL FROM:<anyone@sub.worse.test>").0, 550);
    // Size: declared, then actual.
    let r = c.cmd("MAIL FROM:<a@ok.test> SIZE=999999999");
    assert_eq!((r.0, r.1.contains("5.3.4")), (552, true), "{}", r.1);
    let big = format!("From: a@ok.test\r\nSubject: big\r\n\r\n{}", "0123456789abcdef\r\n".repeat(15_000));
    let r = c.transaction("a@ok.test", &["support@example.test"], big.as_bytes());
    assert_eq!((r.0, r.1.contains("5.3.4")), (552, true), "{}", r.1);
    // Overlong line in the content.
    let long = format!("From: a@ok.test\r\nSubject: long\r\n\r\n{}\r\n", "x".repeat(5000));
    let r = c.transaction("a@ok.test", &["support@example.test"], long.as_bytes());
    assert_eq!(r.0, 554, "{}", r.1);
    // Too many recipients.
    assert_eq!(c.cmd("MAIL FROM:<a@ok.test>").0, 250);
    for i in 0..5 {
        assert_eq!(c.cmd(&format!("RCPT TO:<support+{i}@example.test>")).0, 250);
    }
    assert_eq!(c.cmd("RCPT TO:<support+6@example.test>").0, 452);
    assert_eq!(c.cmd("RSET").0, 250);
    // The session still works after all that.
    let ok = c.transaction("a@ok.test", &["support@example.test"], b"From: a@ok.test\r\nSubject: fine\r\n\r\nstill fine\r\n");
    assert_eq!(ok.0, 250, "{}", ok.1);
    // Overlong command line.
    let r = c.cmd(&format!("NOOP {}", "y".repeat(5000)));
    assert_eq!(r.0, 500, "{}", r.1);
    c.cmd("QUIT");

    // Errors per session: after max_errors the server says 421 and hangs up.
    let (mut c, _) = Smtp::connect(&d.smtp);
    let mut last = (0, String::new());
    for _ in 0..20 {
        last = c.cmd("BOGUS");
        if last.0 == 421 || last.0 == 0 {
            break;
        }
    }
    assert!(last.0 == 421 || last.1.contains("421"), "{last:?}");
    d.settle().await;
    assert_eq!(d.all_tickets().await.len(), 1, "only the one valid message became a ticket");
}

#[tokio::test]
async fn pipelining_and_chunking() {
    let d = MailDesk::start();
    let (mut c, _) = Smtp::connect(&d.smtp);
    c.cmd("EHLO pipe.example.org");
    // RFC 2920: the whole envelope in one write.
    c.send(b"MAIL FROM:<p@c.test>\r\nRCPT TO:<support@example.test>\r\nRCPT TO:<nobody@elsewhere.test>\r\nRCPT TO:<sales@example.test>\r\nDATA\r\n");
    let codes: Vec<u16> = (0..5).map(|_| c.reply().0).collect();
    assert_eq!(codes, vec![250, 250, 550, 250, 354]);
    c.send(&Smtp::data_bytes(b"From: p@c.test\r\nSubject: pipelined\r\n\r\n.leading dot line\r\nbody\r\n"));
    assert_eq!(c.reply().0, 250);
    // BDAT (CHUNKING), two chunks, the second LAST, pipelined.
    let part1 = b"From: q@c.test\r\nSubject: chunked\r\n\r\nfirst half, ";
    let part2 = b"second half\r\n";
    c.send(format!("MAIL FROM:<q@c.test>\r\nRCPT TO:<support@example.test>\r\nBDAT {}\r\n", part1.len()).as_bytes());
    c.send(part1);
    c.send(format!("BDAT {} LAST\r\n", part2.len()).as_bytes());
    c.send(part2);
    let codes: Vec<u16> = (0..4).map(|_| c.reply().0).collect();
    assert_eq!(codes, vec![250, 250, 250, 250]);
    c.cmd("QUIT");
    let all = d.wait_tickets(2).await;
    let p = d.ticket(all[0]["ref"].as_str().unwrap()).await;
    assert_eq!(p["subject"], "pipelined");
    assert!(first_reply_body(&p).contains(".leading dot line"), "dot-unstuffed: {}", first_reply_body(&p));
    let q = d.ticket(all[1]["ref"].as_str().unwrap()).await;
    assert_eq!(first_reply_body(&q), "first half, second half");
}

#[tokio::test]
async fn starttls_handshake_and_send_over_tls() {
    let d = MailDesk::start();
    let msg = mail_send::mail_builder::MessageBuilder::new()
        .from(("Nina", "nina@customer.test"))
        .to("support@example.test")
        .subject("Sent over TLS")
        .text_body("Encrypted in transit.");
    let (host, port) = d.smtp.rsplit_once(':').unwrap();
    let mut client = mail_send::SmtpClientBuilder::new(host.to_string(), port.parse::<u16>().unwrap())
        .implicit_tls(false)
        .allow_invalid_certs()
        .helo_host("tls-client.example.org")
        .connect()
        .await
        .expect("STARTTLS handshake");
    client.send(msg).await.expect("send over TLS");
    let all = d.wait_tickets(1).await;
    let t = d.ticket(all[0]["ref"].as_str().unwrap()).await;
    assert_eq!(t["subject"], "Sent over TLS");
    // The Received header records ESMTPS.
    let mut b = Browser::logged_in(&d.server.base, ADMIN_EMAIL, "correct horse battery").await;
    let seq = t["entries"].as_array().unwrap().iter().find(|e| e["kind"] == "reply").unwrap()["seq"].as_u64().unwrap();
    let src = b.get(&format!("/tickets/{}/entries/{seq}/source", t["ref"].as_str().unwrap())).await;
    assert!(src.body.contains("with ESMTPS"), "{}", &src.body[..300.min(src.body.len())]);
    // Plain-text commands pipelined after STARTTLS are dropped, not executed.
    let (mut c, _) = Smtp::connect(&d.smtp);
    c.cmd("EHLO x.test");
    c.send(b"STARTTLS\r\nMAIL FROM:<injected@evil.test>\r\n");
    assert_eq!(c.reply().0, 220);
}

#[tokio::test]
async fn ingest_hands_mail_to_the_running_server() {
    let d = MailDesk::start();
    let c = d.config.to_str().unwrap();
    let mut cmd = std::process::Command::new(BIN);
    cmd.args(["--config", c, "--data-dir"]).arg(d.dir.path()).args(["--smtp", &d.smtp, "ingest"]);
    let out = run_with_stdin(cmd, b"From: Olga <olga@customer.test>\nTo: support@example.test\nSubject: via Postfix pipe\n\nHello.\n");
    assert_eq!(out.0, 0, "{}", out.1);
    let all = d.wait_tickets(1).await;
    assert_eq!(all[0]["subject"], "via Postfix pipe");
    // Malformed input: 65.
    let mut cmd = std::process::Command::new(BIN);
    cmd.args(["--config", c, "--data-dir"]).arg(d.dir.path()).args(["--smtp", &d.smtp, "ingest"]);
    assert_eq!(run_with_stdin(cmd, b"this is not a mail\n").0, 65);
    // Server unreachable while the database is locked: 75 so the MTA retries.
    let mut cmd = std::process::Command::new(BIN);
    cmd.args(["--config", c, "--data-dir"]).arg(d.dir.path()).args(["--smtp", "127.0.0.1:1", "ingest"]);
    assert_eq!(run_with_stdin(cmd, b"From: a@b.test\nSubject: x\n\ny\n").0, 75);
}

#[tokio::test]
async fn ingest_with_the_server_stopped_delivers_directly() {
    let dir = tempdir();
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, "[[mailbox]]\naddress = \"help@example.test\"\n").unwrap();
    let mut cmd = std::process::Command::new(BIN);
    cmd.arg("--config").arg(&cfg).arg("--data-dir").arg(dir.path()).arg("ingest");
    assert_eq!(run_with_stdin(cmd, b"From: Pia <pia@customer.test>\nSubject: offline\n\nServer was down.\n").0, 0);
    add_user(dir.path(), ADMIN_EMAIL, "A", "admin", ADMIN_PASSWORD);
    let token = create_token(dir.path(), ADMIN_EMAIL);
    let s = Server::start_with(dir.path(), &["--config", cfg.to_str().unwrap(), "--smtp", "127.0.0.1:0"]);
    let (_, list) = Api::new(&s.base, &token).call("GET", "/tickets", None).await;
    assert_eq!(list["tickets"][0]["subject"], "offline");
    assert_eq!(list["tickets"][0]["requester"]["email"], "pia@customer.test");
}

fn run_with_stdin(mut cmd: std::process::Command, input: &[u8]) -> (i32, String) {
    use std::io::Write;
    let mut child =
        cmd.stdin(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).spawn().unwrap();
    let _ = child.stdin.take().unwrap().write_all(input);
    let out = child.wait_with_output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[tokio::test]
async fn broken_messages_become_tickets_or_clean_errors() {
    let d = MailDesk::start();
    let mut nested =
        String::from("From: deep@customer.test\r\nTo: support@example.test\r\nSubject: nested 50 deep\r\nMIME-Version: 1.0\r\n");
    for i in 0..50 {
        nested.push_str(&format!("Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n"));
    }
    nested.push_str("Content-Type: text/plain\r\n\r\ndeepest text\r\n");
    for i in (0..50).rev() {
        nested.push_str(&format!("--b{i}--\r\n"));
    }
    let huge_header = format!(
        "From: big@customer.test\r\nTo: support@example.test\r\nSubject: huge header\r\nX-Long: {}\r\n\r\nbody\r\n",
        "h".repeat(1900)
    );
    let many_headers = format!("From: many@customer.test\r\nSubject: many headers\r\n{}\r\nbody\r\n", "X-Filler: y\r\n".repeat(600));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("8-bit header", b"From: J\xc3\xbcrgen <juergen@customer.test>\r\nTo: support@example.test\r\nSubject: Gr\xfc\xdfe aus K\xf6ln\r\n\r\nraw 8-bit in headers\r\n".to_vec()),
        ("no from", b"To: support@example.test\r\nSubject: who am I\r\n\r\nno From header at all\r\n".to_vec()),
        ("no subject", b"From: nosubj@customer.test\r\nTo: support@example.test\r\n\r\nno subject here\r\n".to_vec()),
        ("nested", nested.into_bytes()),
        ("huge header", huge_header.into_bytes()),
        ("zero-length attachment", b"From: zero@customer.test\r\nSubject: zero attachment\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"Z\"\r\n\r\n--Z\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n--Z\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"nothing.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n\r\n--Z--\r\n".to_vec()),
        ("broken base64", b"From: b64@customer.test\r\nSubject: broken base64\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\nSGVsbG8g!!!not*base64@@@V29ybGQ=\r\n".to_vec()),
        ("not mime", b"\x00\x01\x02 binary junk \xff\xfe with no headers\r\n".to_vec()),
        ("empty", Vec::new()),
        ("many headers", many_headers.into_bytes()),
    ];
    let (mut c, _) = Smtp::connect(&d.smtp);
    c.cmd("EHLO broken.example.org");
    let mut accepted = 0;
    for (name, raw) in &cases {
        let r = c.transaction("sender@customer.test", &["support@example.test"], raw);
        assert!(r.0 == 250 || (500..600).contains(&r.0), "{name}: {r:?}");
        if r.0 == 250 {
            accepted += 1;
        }
        if *name == "many headers" {
            assert_eq!(r.0, 554, "more than max_header_count header fields: {r:?}");
        }
    }
    assert_eq!(c.cmd("NOOP").0, 250, "session alive after all of it");
    c.cmd("QUIT");
    d.settle().await;
    let all = d.all_tickets().await;
    assert_eq!(all.len(), accepted, "each accepted message is a ticket");
    let subjects: Vec<&str> = all.iter().map(|t| t["subject"].as_str().unwrap()).collect();
    assert!(subjects.contains(&"(no subject)"), "{subjects:?}");
    assert!(subjects.iter().any(|s| s.contains("nested 50 deep")));
    let deep = all.iter().find(|t| t["subject"] == "nested 50 deep").unwrap();
    assert!(first_reply_body(&d.ticket(deep["ref"].as_str().unwrap()).await).contains("deepest text"));
    let nofrom = all.iter().find(|t| t["subject"] == "who am I").unwrap();
    assert_eq!(nofrom["requester"]["email"], "sender@customer.test", "no From: the envelope sender is the requester");
    let zero = all.iter().find(|t| t["subject"] == "zero attachment").unwrap();
    let z = d.ticket(zero["ref"].as_str().unwrap()).await;
    let att = z["entries"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["attachments"].as_array().unwrap().clone())
        .find(|a| a["filename"] == "nothing.bin")
        .expect("zero-length attachment kept");
    assert_eq!(att["size"], 0);
}

#[tokio::test]
async fn slow_clients_time_out_and_connections_are_limited() {
    let d = MailDesk::start_with_config(
        &MAIL_CONFIG.replace("max_connections_per_ip = 40", "max_connections_per_ip = 3\ncommand_timeout_secs = 1\ndata_timeout_secs = 2"),
    );
    // Idle after the greeting: 421 after the command timeout.
    let (mut idle, g) = Smtp::connect(&d.smtp);
    assert_eq!(g.0, 220);
    let t = std::time::Instant::now();
    let r = idle.reply();
    assert_eq!(r.0, 421, "{r:?}");
    assert!(r.1.contains("4.4.2"));
    assert!(t.elapsed() < std::time::Duration::from_secs(5));
    // Slowloris in DATA: a byte at a time keeps each read short but the whole
    // DATA phase is capped.
    let (mut slow, _) = Smtp::connect(&d.smtp);
    slow.cmd("EHLO slow.example.org");
    slow.cmd("MAIL FROM:<s@customer.test>");
    slow.cmd("RCPT TO:<support@example.test>");
    assert_eq!(slow.cmd("DATA").0, 354);
    let t = std::time::Instant::now();
    let mut timed_out = false;
    for _ in 0..40 {
        slow.send(b"x");
        std::thread::sleep(std::time::Duration::from_millis(200));
        if t.elapsed() > std::time::Duration::from_secs(3) {
            let r = slow.reply();
            timed_out = r.0 == 421 || r.0 == 0;
            break;
        }
    }
    assert!(timed_out, "DATA phase must be capped");
    // Per-IP connection limit.
    let conns: Vec<_> = (0..3).map(|_| Smtp::connect(&d.smtp)).collect();
    assert!(conns.iter().all(|(_, g)| g.0 == 220));
    let (_, refused) = Smtp::connect(&d.smtp);
    assert_eq!(refused.0, 421, "{refused:?}");
    assert!(refused.1.contains("4.7.0"));
    drop(conns);
    // The server notices the closed sessions soon: wait for a slot, with a deadline.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut greeting = Smtp::connect(&d.smtp).1;
    while greeting.0 != 220 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
        greeting = Smtp::connect(&d.smtp).1;
    }
    assert_eq!(greeting.0, 220, "slots are released when sessions end");
}

#[tokio::test]
async fn attachments_over_the_limit_are_noted_and_kept_in_the_original() {
    let d = MailDesk::start_with_config(&format!("[limits]\nattachment_max_bytes = 100\n{MAIL_CONFIG}"));
    let big = "A".repeat(400);
    let msg = crlf(&format!(
        "From: Rita <rita@customer.test>\nTo: support@example.test\nSubject: logs\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"X\"\n\n--X\nContent-Type: text/plain\n\nlogs attached\n--X\nContent-Type: text/plain\nContent-Disposition: attachment; filename=\"small.txt\"\n\nsmall\n--X\nContent-Type: text/plain\nContent-Disposition: attachment; filename=\"huge.log\"\n\n{big}\n--X--\n"
    ));
    assert_eq!(Smtp::send_mail(&d.smtp, "rita@customer.test", &["support@example.test"], &msg).0, 250);
    let all = d.wait_tickets(1).await;
    let t = d.ticket(all[0]["ref"].as_str().unwrap()).await;
    let reply = t["entries"].as_array().unwrap().iter().find(|e| e["kind"] == "reply").unwrap().clone();
    let names: Vec<&str> = reply["attachments"].as_array().unwrap().iter().map(|a| a["filename"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["small.txt"]);
    let body = reply["body"].as_str().unwrap();
    assert!(body.contains("huge.log") && body.contains("kept in the original message"), "{body}");
}
