//! Merge, link, Trash, bulk jobs, subject edits with a reason, print and PDF —
//! through the real server, with mail over SMTP.

use std::time::Duration;

use crate::common::smtp::Smtp;
use crate::common::*;
use serde_json::json;

fn crlf(s: &str) -> Vec<u8> {
    s.replace('\n', "\r\n").into_bytes()
}

async fn wait_job(b: &mut Browser, path: &str) -> Response {
    for _ in 0..200 {
        let r = b.get(path).await;
        if r.body.contains("data-finished=\"1\"") {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("job {path} never finished");
}

fn events(t: &serde_json::Value) -> Vec<String> {
    t["entries"]
        .as_array()
        .map(|a| a.iter().filter(|e| e["kind"] == "event").filter_map(|e| e["body"].as_str().map(String::from)).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn merge_link_trash_and_mail_to_a_merged_ticket() {
    let d = MailDesk::start();
    let first = crlf(
        "From: Carol <carol@customer.test>\nTo: support@example.test\nSubject: Laptop will not boot\nMessage-ID: <c1@customer.test>\nDate: Mon, 23 Nov 2026 09:00:00 +0000\n\nIt shows a black screen.\n",
    );
    let second = crlf(
        "From: Carol <carol@customer.test>\nTo: support@example.test\nSubject: Still broken laptop\nMessage-ID: <c2@customer.test>\nDate: Mon, 23 Nov 2026 09:30:00 +0000\n\nSame laptop, now it beeps.\n",
    );
    for m in [&first, &second] {
        assert_eq!(Smtp::send_mail(&d.smtp, "carol@customer.test", &["support@example.test"], m).0, 250);
    }
    let all = d.wait_tickets(2).await;
    let a = all[0]["ref"].as_str().unwrap().to_string();
    let bref = all[1]["ref"].as_str().unwrap().to_string();
    let mut b = Browser::logged_in(&d.server.base, ADMIN_EMAIL, "correct horse battery").await;

    // Refusals with reasons.
    let r = b.post(&format!("/tickets/{bref}/merge"), &[("into", &bref)]).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("cannot be merged into itself"), "{}", r.body);
    let (s, _) = d.api.call("PATCH", &format!("/tickets/{a}"), Some(json!({"status": "closed"}))).await;
    assert_eq!(s, 200);
    let r = b.post(&format!("/tickets/{bref}/merge"), &[("into", &a)]).await;
    assert_eq!(r.status, 409);
    assert!(r.body.contains("is closed; reopen it before merging"), "{}", r.body);
    let (s, _) = d.api.call("PATCH", &format!("/tickets/{a}"), Some(json!({"status": "open"}))).await;
    assert_eq!(s, 200);

    // Merge B into A: threads combined in time order.
    let r = b.post(&format!("/tickets/{bref}/merge"), &[("into", &a)]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let t = d.ticket(&a).await;
    let bodies: Vec<String> =
        t["entries"].as_array().unwrap().iter().filter(|e| e["kind"] == "reply").map(|e| e["body"].as_str().unwrap().to_string()).collect();
    assert!(bodies[0].contains("black screen") && bodies[1].contains("beeps"), "{bodies:?}");
    assert!(events(&t).iter().any(|e| e.contains(&format!("merged {bref} into this ticket"))));
    // The merged reference redirects to the survivor.
    let r = b.get(&format!("/tickets/{bref}")).await;
    assert_eq!(r.status, 303);
    assert!(r.location.unwrap().starts_with(&format!("/tickets/{a}?merged={bref}")));
    // A reply to the merged-away thread lands on the survivor.
    let reply = crlf(&format!(
        "From: Carol <carol@customer.test>\nTo: support@example.test\nSubject: Re: [{bref}] Still broken laptop\nMessage-ID: <c3@customer.test>\nIn-Reply-To: <c2@customer.test>\nReferences: <c2@customer.test>\n\nNow it does not even beep.\n"
    ));
    assert_eq!(Smtp::send_mail(&d.smtp, "carol@customer.test", &["support@example.test"], &reply).0, 250);
    d.settle().await;
    assert_eq!(d.all_tickets().await.len(), 1, "no new ticket for the reply");
    let t = d.ticket(&a).await;
    assert!(t["entries"].as_array().unwrap().iter().any(|e| e["body"].as_str().unwrap_or("").contains("does not even beep")));

    // Link to a third ticket, and edit the subject with a reason.
    let (s, c) = d.api.call("POST", "/tickets", Some(json!({"subject": "Order new laptop", "body": "Replacement", "requester": {"name": "Carol", "email": "carol@customer.test"}}))).await;
    assert_eq!(s, 201, "{c}");
    let cref = c["ref"].as_str().unwrap().to_string();
    assert_eq!(b.post(&format!("/tickets/{a}/link"), &[("other", &cref)]).await.status, 303);
    let page = b.get(&format!("/tickets/{cref}")).await;
    assert!(page.body.contains(&format!("href=\"/tickets/{a}\">{a}</a>")), "link shows on the other side");
    assert_eq!(
        b.post(&format!("/tickets/{a}/subject"), &[("subject", "Laptop dead: black screen, beeps"), ("reason", "clearer for the team")])
            .await
            .status,
        303
    );
    let t = d.ticket(&a).await;
    assert_eq!(t["subject"], "Laptop dead: black screen, beeps");
    assert!(
        events(&t)
            .iter()
            .any(|e| e == "changed subject from Laptop will not boot to Laptop dead: black screen, beeps (reason: clearer for the team)"),
        "{:?}",
        events(&t)
    );
    // Status and assignee changes from the side panel keep their reason too.
    assert_eq!(b.post(&format!("/tickets/{a}/update"), &[("status", "pending"), ("reason", "waiting for the part")]).await.status, 303);
    let t = d.ticket(&a).await;
    assert!(
        events(&t).iter().any(|e| e.starts_with("changed status from ") && e.ends_with(" to Pending (reason: waiting for the part)")),
        "{:?}",
        events(&t)
    );

    // Print view and PDF.
    let p = b.get(&format!("/tickets/{a}/print")).await;
    assert!(p.body.contains("does not even beep") && p.body.contains("Laptop dead"));
    let raw =
        reqwest::Client::new().get(d.server.url(&format!("/tickets/{a}/pdf"))).header("cookie", b.cookie_header()).send().await.unwrap();
    assert_eq!(raw.headers()["content-type"], "application/pdf");
    let bytes = raw.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF-") && bytes.len() > 800);

    // Trash: out of queues and search, restorable; mail to it starts a new ticket.
    assert_eq!(b.post(&format!("/tickets/{cref}/trash"), &[("on", "1")]).await.status, 303);
    let trash = b.get("/trash").await;
    assert!(trash.body.contains(&cref));
    let q = b.get("/tickets?status=all").await;
    assert!(!q.body.contains(&format!(">{cref}<")), "trashed ticket left the queue");
    let (s, e) = d.api.call("PATCH", &format!("/tickets/{cref}"), Some(json!({"priority": "urgent"}))).await;
    assert_eq!(s, 409, "a ticket in Trash does not change: {e}");
    let q = b.get("/tickets?status=all").await;
    assert!(!q.body.contains(&format!(">{cref}<")), "and stays out of the queue");
    assert_eq!(b.post(&format!("/tickets/{cref}/trash"), &[("on", "0")]).await.status, 303);
    let q = b.get("/tickets?status=all").await;
    assert!(q.body.contains(&format!(">{cref}<")), "restored");

    // Agents may not trash.
    let mut agent = Browser::logged_in(&d.server.base, "agent@example.test", "bob's long password").await;
    assert_eq!(agent.post(&format!("/tickets/{cref}/trash"), &[("on", "1")]).await.status, 403);
}

#[tokio::test]
async fn bulk_jobs_on_selected_and_all_matching_report_refusals() {
    let d = MailDesk::start();
    let mut refs = Vec::new();
    for i in 0..150 {
        let (s, t) = d
            .api
            .call("POST", "/tickets", Some(json!({"subject": format!("Bulk {i}"), "body": "x", "requester": {"name": "R", "email": format!("r{}@bulk.test", i % 3)}})))
            .await;
        assert_eq!(s, 201);
        refs.push((t["ref"].as_str().unwrap().to_string(), t["id"].as_u64().unwrap_or(0)));
    }
    let mut b = Browser::logged_in(&d.server.base, ADMIN_EMAIL, "correct horse battery").await;
    let q = b.get("/tickets").await;
    let csrf = q.body.split("name=\"_csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let id_of = |r: &str| r.trim_start_matches("TKT-").trim_start_matches('0').to_string();

    // Selected rows: priority.
    let mut form =
        vec![("_csrf".to_string(), csrf.clone()), ("action".into(), "priority:high".into()), ("all_query".into(), String::new())];
    for (r, _) in refs.iter().take(3) {
        form.push(("id".into(), id_of(r)));
    }
    let r = b.post_raw("/tickets/bulk", &form).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let job = r.location.unwrap();
    let done = wait_job(&mut b, &job).await;
    assert!(done.body.contains("Done: 3 of 3 tickets changed"), "{}", done.body);
    assert_eq!(d.ticket(&refs[0].0).await["priority"], "high");
    assert_eq!(d.ticket(&refs[3].0).await["priority"], "medium");

    // Close two, then "all matching" a search: resolve refuses the closed ones.
    for (r, _) in refs.iter().take(2) {
        let (s, _) = d.api.call("PATCH", &format!("/tickets/{r}"), Some(json!({"status": "closed"}))).await;
        assert_eq!(s, 200);
    }
    // Wait for the index to see the changes, then act on everything matching.
    for _ in 0..100 {
        if b.get("/search?q=status:closed").await.body.contains(&refs[1].0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let form = vec![
        ("_csrf".to_string(), csrf.clone()),
        ("action".into(), "status:resolved".into()),
        ("all".into(), "1".into()),
        ("all_query".into(), "from:@bulk.test".into()),
    ];
    let r = b.post_raw("/tickets/bulk", &form).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let done = wait_job(&mut b, &r.location.unwrap()).await;
    assert!(done.body.contains("Done: 148 of 150 tickets changed, 2 refused"), "{}", done.body);
    assert!(done.body.contains(&refs[0].0) && done.body.contains("closed"), "refusals name the tickets and why");
    assert_eq!(d.ticket(&refs[100].0).await["status"], "resolved");

    // Add a tag to all, merge three, junk-and-ban one sender.
    let form = vec![
        ("_csrf".to_string(), csrf.clone()),
        ("action".into(), "tag".into()),
        ("value".into(), "Batch".into()),
        ("id".into(), id_of(&refs[5].0)),
    ];
    let r = b.post_raw("/tickets/bulk", &form).await;
    wait_job(&mut b, &r.location.unwrap()).await;
    assert_eq!(d.ticket(&refs[5].0).await["tags"], json!(["batch"]));
    let mut form = vec![("_csrf".to_string(), csrf.clone()), ("action".into(), "merge".into())];
    for r in [&refs[10].0, &refs[11].0, &refs[12].0] {
        form.push(("id".into(), id_of(r)));
    }
    let r = b.post_raw("/tickets/bulk", &form).await;
    wait_job(&mut b, &r.location.unwrap()).await;
    assert_eq!(d.all_tickets().await.len(), 148);
    let form = vec![("_csrf".to_string(), csrf.clone()), ("action".into(), "junk".into()), ("id".into(), id_of(&refs[20].0))];
    let r = b.post_raw("/tickets/bulk", &form).await;
    wait_job(&mut b, &r.location.unwrap()).await;
    let banned_from = format!("r{}@bulk.test", 20 % 3);
    let m =
        crlf(&format!("From: R <{banned_from}>\nTo: support@example.test\nSubject: more spam\nMessage-ID: <s1@bulk.test>\n\nbuy now\n"));
    assert_eq!(Smtp::send_mail(&d.smtp, &banned_from, &["support@example.test"], &m).0, 250);
    d.settle().await;
    let junk = b.get("/junk").await;
    assert!(junk.body.contains("more spam") && junk.body.contains("banned"), "{}", junk.body);

    // "All matching" on a queue view acts on exactly that view's tickets.
    let (s, _) =
        d.api.call("PATCH", &format!("/tickets/{}", refs[30].0), Some(json!({"assignee": "agent@example.test", "status": "open"}))).await;
    assert_eq!(s, 200);
    let q = b.get("/tickets").await;
    let bob = q.body.split("\">Bob Agent</option>").next().and_then(|h| h.rsplit("value=\"").next()).unwrap().to_string();
    let mut view = b.get(&format!("/tickets?assignee={bob}")).await;
    for _ in 0..100 {
        if b.get(&format!("/search?q=assignee%3A{bob}")).await.body.contains(&refs[30].0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
        view = b.get(&format!("/tickets?assignee={bob}")).await;
    }
    let all_query = view.body.split("name=\"all_query\" value=\"").nth(1).unwrap().split('"').next().unwrap().replace("&quot;", "\"");
    let form = vec![
        ("_csrf".to_string(), csrf.clone()),
        ("action".into(), "priority:low".into()),
        ("all".into(), "1".into()),
        ("all_query".into(), all_query),
    ];
    let r = b.post_raw("/tickets/bulk", &form).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let done = wait_job(&mut b, &r.location.unwrap()).await;
    assert!(done.body.contains("Done: 1 of 1 tickets changed"), "{}", done.body);
    assert_eq!(d.ticket(&refs[30].0).await["priority"], "low");

    // Bad bulk input is a clear 400.
    let r = b.post_raw("/tickets/bulk", &[("_csrf".to_string(), csrf.clone()), ("action".into(), "status:resolved".into())]).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("select at least one ticket"));
    let r =
        b.post_raw("/tickets/bulk", &[("_csrf".to_string(), csrf), ("action".into(), "explode".into()), ("id".into(), "1".into())]).await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn two_agents_on_one_ticket_see_each_other_and_replies_do_not_cross() {
    let d = MailDesk::start();
    let (s, t) = d
        .api
        .call("POST", "/tickets", Some(json!({"subject": "Shared", "body": "Help", "requester": {"name": "Q", "email": "q@cust.test"}})))
        .await;
    assert_eq!(s, 201);
    let r = t["ref"].as_str().unwrap().to_string();
    let mut ada = Browser::logged_in(&d.server.base, ADMIN_EMAIL, "correct horse battery").await;
    let mut bob = Browser::logged_in(&d.server.base, "agent@example.test", "bob's long password").await;
    let page = ada.get(&format!("/tickets/{r}")).await;
    let seen = page.body.split("name=\"seen\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    // Presence: each sees the other, and whether they are writing.
    let p = ada.post(&format!("/tickets/{r}/presence"), &[("replying", "0")]).await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("\"others\":[]"), "{}", p.body);
    let p = bob.post(&format!("/tickets/{r}/presence"), &[("replying", "1")]).await;
    assert!(p.body.contains("Ada Admin") && p.body.contains("\"replying\":false"), "{}", p.body);
    let p = ada.post(&format!("/tickets/{r}/presence"), &[("replying", "1")]).await;
    assert!(p.body.contains("Bob Agent") && p.body.contains("\"replying\":true"), "{}", p.body);
    // Bob sends first; Ada's reply, written against the older thread, is held.
    assert_eq!(bob.post(&format!("/tickets/{r}/reply"), &[("body", "Bob here: restart it.")]).await.status, 303);
    let held = ada.post(&format!("/tickets/{r}/reply"), &[("body", "Ada here: try safe mode."), ("seen", &seen)]).await;
    // Held: the text is Ada's draft and the page is fetched anew — no token
    // in its address, and a reload posts nothing.
    assert_eq!(held.status, 303);
    let to = held.location.clone().unwrap_or_default();
    assert_eq!(to, format!("/tickets/{r}?held={seen}#reply"));
    let held = ada.get(to.trim_end_matches("#reply")).await;
    assert_eq!(held.status, 200);
    assert!(held.body.contains("Bob Agent replied to the requester while you were writing"), "{}", held.body);
    assert!(held.body.contains("Ada here: try safe mode."), "the draft is kept");
    assert!(held.body.contains("name=\"force\" value=\"1\""));
    let t = d.ticket(&r).await;
    assert!(!t["entries"].as_array().unwrap().iter().any(|e| e["body"].as_str().unwrap_or("").contains("safe mode")));
    // Sending again is a deliberate choice.
    let sent = ada.post(&format!("/tickets/{r}/reply"), &[("body", "Ada here: try safe mode."), ("seen", &seen), ("force", "1")]).await;
    assert_eq!(sent.status, 303);
    // Internal notes never collide.
    assert_eq!(ada.post(&format!("/tickets/{r}/reply"), &[("body", "note"), ("internal", "1"), ("seen", &seen)]).await.status, 303);
}

#[tokio::test]
async fn requester_directory_edit_notes_and_merge_two_addresses() {
    let d = MailDesk::start();
    for (from, subj, id) in [("dana@home.test", "Home VPN", "h1"), ("dana.smith@work.test", "Work laptop", "w1")] {
        let m = crlf(&format!("From: Dana <{from}>\nTo: support@example.test\nSubject: {subj}\nMessage-ID: <{id}@x.test>\n\nhi\n"));
        assert_eq!(Smtp::send_mail(&d.smtp, from, &["support@example.test"], &m).0, 250);
    }
    let all = d.wait_tickets(2).await;
    let mut b = Browser::logged_in(&d.server.base, ADMIN_EMAIL, "correct horse battery").await;
    let people = b.get("/people?q=dana").await;
    let id_of = |email: &str| {
        people
            .body
            .split("data-href=\"/requesters/")
            .skip(1)
            .find(|row| row.contains(email))
            .map(|row| row.split('"').next().unwrap().to_string())
            .expect(email)
    };
    let (home, work) = (id_of("dana@home.test"), id_of("dana.smith@work.test"));
    // Edit name and notes.
    assert_eq!(b.post(&format!("/requesters/{work}"), &[("name", "Dana Smith"), ("notes", "VIP, prefers phone")]).await.status, 303);
    let p = b.get(&format!("/requesters/{work}")).await;
    assert!(p.body.contains("<h1>Dana Smith</h1>") && p.body.contains("VIP, prefers phone"), "{}", p.body);
    // The rename reaches search.
    for _ in 0..100 {
        if b.get("/search?q=requester%3A%22Dana+Smith%22").await.body.contains(all[1]["ref"].as_str().unwrap()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(b.get("/search?q=requester%3A%22Dana+Smith%22").await.body.contains(all[1]["ref"].as_str().unwrap()));
    // Refusals.
    assert_eq!(b.post(&format!("/requesters/{home}/merge"), &[("into", "dana@home.test")]).await.status, 400);
    assert_eq!(b.post(&format!("/requesters/{home}/merge"), &[("into", ADMIN_EMAIL)]).await.status, 400);
    // Merge home into work: both tickets are Dana Smith's, the old page redirects,
    // and new mail from the home address belongs to the same person.
    let r = b.post(&format!("/requesters/{home}/merge"), &[("into", "dana.smith@work.test")]).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location.as_deref(), Some(format!("/requesters/{work}").as_str()));
    let page = b.get(&format!("/requesters/{work}")).await;
    for t in &all {
        assert!(page.body.contains(t["ref"].as_str().unwrap()), "{}", page.body);
    }
    assert_eq!(b.get(&format!("/requesters/{home}")).await.location.as_deref(), Some(format!("/requesters/{work}").as_str()));
    let m = crlf("From: Dana <dana@home.test>\nTo: support@example.test\nSubject: Printer\nMessage-ID: <h2@x.test>\n\nhi again\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "dana@home.test", &["support@example.test"], &m).0, 250);
    let all = d.wait_tickets(3).await;
    let t = d.ticket(all[2]["ref"].as_str().unwrap()).await;
    assert_eq!(t["requester"]["email"], "dana.smith@work.test");
}
