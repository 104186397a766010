//! Department walls (issue 10, high 3): a permission matrix over the routes
//! that read or change people, Junk, counts, the jump box, exports and
//! tickets, for an admin, an agent of every department and an agent limited
//! to Sales. Support's data must never reach the Sales-only agent.

use crate::common::smtp::Smtp;
use crate::common::*;

fn crlf(s: &str) -> Vec<u8> {
    s.replace("\r\n", "\n").replace('\n', "\r\n").into_bytes()
}

#[tokio::test]
async fn limited_agents_stay_inside_their_departments() {
    let d = MailDesk::start();
    // Support: Carol's ticket (secret), Sales: Dan's ticket.
    let carol = crlf("From: Carol Secret <carol@customer.test>\nTo: support@example.test\nSubject: Support secret\n\nsupport-only text\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "carol@customer.test", &["support@example.test"], &carol).0, 250);
    let dan = crlf("From: Dan <dan@customer.test>\nTo: sales@example.test\nSubject: Sales question\n\nhow much\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "dan@customer.test", &["sales@example.test"], &dan).0, 250);
    // Junk for each department (auto-replies with no ticket to land on).
    let j1 = crlf("From: x@customer.test\nTo: support@example.test\nSubject: SUPPORTJUNK\nAuto-Submitted: auto-replied\n\nooo\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "x@customer.test", &["support@example.test"], &j1).0, 250);
    let j2 = crlf("From: y@customer.test\nTo: sales@example.test\nSubject: SALESJUNK\nAuto-Submitted: auto-replied\n\nooo\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "y@customer.test", &["sales@example.test"], &j2).0, 250);
    d.wait_tickets(2).await;
    d.settle().await;
    let (st, t1) = d.api.call("GET", "/tickets/TKT-000001", None).await;
    assert_eq!(st, 200);
    assert_eq!(t1["department"], "Support");

    let mut admin = Browser::logged_in(&d.server.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    invite_agent(
        &mut admin,
        &[("name", "Lia Limited"), ("email", "lia@example.test"), ("role", "agent"), ("departments", "Sales")],
        "lia's long password",
    )
    .await;
    let mut agent = Browser::logged_in(&d.server.base, "agent@example.test", "bob's long password").await;
    let mut lia = Browser::logged_in(&d.server.base, "lia@example.test", "lia's long password").await;

    let junk = admin.get("/junk").await.body;
    let before = junk.split("SUPPORTJUNK").next().unwrap_or("");
    let support_junk = before.rsplit("/junk/").next().and_then(|s| s.split('/').next()).unwrap_or("").to_string();
    let people = admin.get("/people?q=customer.test").await.body;
    let carol_id =
        people.split("/requesters/").skip(1).find(|s| s.contains("Carol")).and_then(|s| s.split('"').next()).unwrap().to_string();
    let dan_id = people.split("/requesters/").skip(1).find(|s| s.contains("Dan")).and_then(|s| s.split('"').next()).unwrap().to_string();
    assert!(!support_junk.is_empty() && !carol_id.is_empty() && !dan_id.is_empty());

    // (path, admin, agent, limited): may they read it?
    let reads: Vec<(String, bool, bool, bool)> = vec![
        ("/tickets/TKT-000001".into(), true, true, false),
        ("/tickets/TKT-000002".into(), true, true, true),
        ("/tickets/TKT-000001/print".into(), true, true, false),
        ("/tickets/TKT-000001/pdf".into(), true, true, false),
        ("/tickets/TKT-000001/entries/2/source".into(), true, true, false),
        (format!("/requesters/{carol_id}"), true, true, false),
        (format!("/requesters/{dan_id}"), true, true, true),
        (format!("/junk/{support_junk}/source"), true, true, false),
        ("/go?ref=carol%40customer.test".into(), true, true, false),
        ("/go?ref=TKT-000001".into(), true, true, false),
        ("/admin/agents".into(), true, false, false),
        ("/admin/outbox".into(), true, false, false),
        ("/settings".into(), true, true, true),
        ("/trash".into(), true, true, true),
    ];
    for (path, a_ok, g_ok, l_ok) in &reads {
        for (who, b, ok) in [("admin", &mut admin, a_ok), ("agent", &mut agent, g_ok), ("limited", &mut lia, l_ok)] {
            let r = b.get(path).await;
            let allowed = r.status == 200 || (r.status == 303 && !r.location.as_deref().unwrap_or("").starts_with("/login"));
            assert_eq!(allowed, *ok, "{who} GET {path}: {}", r.status);
            if !ok {
                assert!(!r.body.contains("support-only text") && !r.body.contains("Carol Secret"), "{who} GET {path} leaked");
            }
        }
    }
    // Lists: the limited agent's pages hold nothing of Support.
    for path in ["/tickets", "/people?q=customer.test", "/junk", "/tickets.csv", "/search?q=secret", "/tickets?status=all"] {
        let body = lia.get(path).await.body;
        for secret in ["Support secret", "Carol Secret", "carol@customer.test", "SUPPORTJUNK"] {
            assert!(!body.contains(secret), "limited GET {path} shows {secret}");
        }
        let body = agent.get(path).await.body;
        if path == "/junk" {
            assert!(body.contains("SUPPORTJUNK"), "the all-departments agent sees Support's junk");
        }
    }
    // Counts in the sidebar: the limited agent's "All open" counts only Sales.
    let queue = lia.get("/tickets").await.body;
    let all_open = queue.split("All open<span class=\"count\">").nth(1).unwrap_or("");
    let n: String = all_open.chars().skip_while(|c| !c.is_ascii_digit()).take_while(|c| c.is_ascii_digit()).collect();
    assert_eq!(n, "1", "limited agent's All open count");

    // Writes: the limited agent can neither edit nor merge Carol, nor turn
    // Support's junk into a ticket; the others can edit.
    let r = lia.post(&format!("/requesters/{carol_id}"), &[("name", "Hijacked"), ("notes", "x")]).await;
    assert_ne!(r.status, 303, "limited agent edited a Support requester");
    let r = lia.post(&format!("/requesters/{dan_id}/merge"), &[("into", "carol@customer.test")]).await;
    assert_ne!(r.status, 303, "limited agent merged into a Support requester");
    let r = lia.post(&format!("/junk/{support_junk}/ticket"), &[]).await;
    assert_ne!(r.status, 303, "limited agent made a ticket of Support's junk");
    assert_eq!(d.all_tickets().await.len(), 2);
    let (_, carol_now) = d.api.call("GET", "/tickets/TKT-000001", None).await;
    assert_eq!(carol_now["requester"]["name"], "Carol Secret");
    let r = lia.post(&format!("/requesters/{dan_id}"), &[("name", "Dan Sales"), ("notes", "VIP")]).await;
    assert_eq!(r.status, 303, "a Sales-only requester is the limited agent's to edit: {}", r.body);
}
