//! Checklists (issue 17 part 12) through the real server: items added,
//! ticked, re-planned and removed from the ticket page and the API, each
//! change in the log, the queue's "done/total", and the role's limits.

use crate::common::*;
use crate::inprocess::{InProcess, PASSWORD};
use frontdesk::desk::NewTicket;
use frontdesk::domain::Role;
use serde_json::json;

#[tokio::test]
async fn a_checklist_from_the_page_and_the_api() {
    let d = MailDesk::start();
    let (st, t) = d
        .api
        .call("POST", "/tickets", Some(json!({"subject": "New laptop for Dana", "body": "Starts Monday.", "requester": {"name": "Dana", "email": "dana@customer.test"}})))
        .await;
    assert_eq!(st, 201, "{t}");
    let r = t["ref"].as_str().unwrap().to_string();

    // From the page: add two items, tick one.
    let mut b = Browser::logged_in(&d.server.base, "agent@example.test", "bob's long password").await;
    for text in ["Order the laptop", "Create the   mail\naccount"] {
        let res = b.post(&format!("/tickets/{r}/checklist"), &[("text", text)]).await;
        assert_eq!(res.location.as_deref(), Some(format!("/tickets/{r}?done=saved").as_str()), "{}", res.body);
    }
    let (_, t) = d.api.call("GET", &format!("/tickets/{r}"), None).await;
    let items = t["checklist"].as_array().unwrap().clone();
    assert_eq!(items.len(), 2);
    assert_eq!(items[1]["text"], "Create the mail account", "one line");
    let first = items[0]["id"].as_u64().unwrap();
    let res = b.post(&format!("/tickets/{r}/checklist/{first}"), &[("done", "1")]).await;
    assert!(res.location.is_some(), "{}", res.body);
    let page = b.get(&format!("/tickets/{r}")).await.body;
    assert!(page.contains("Checklist") && page.contains("1/2"), "{page}");
    // The queue shows the progress.
    let queue = b.get("/tickets?status=all").await.body;
    assert!(queue.contains("1/2"), "{queue}");

    // From the API: plan the second item, tick it, add and remove a third.
    let second = items[1]["id"].as_u64().unwrap();
    let (st, t) = d
        .api
        .call(
            "PATCH",
            &format!("/tickets/{r}/checklist/{second}"),
            Some(json!({"assignee": "agent@example.test", "due": "2026-12-07", "done": true})),
        )
        .await;
    assert_eq!(st, 200, "{t}");
    let it = &t["checklist"][1];
    assert_eq!(
        (it["done"].as_bool(), it["due"].as_str(), it["assignee"]["email"].as_str()),
        (Some(true), Some("2026-12-07"), Some("agent@example.test"))
    );
    let (st, t) = d.api.call("POST", &format!("/tickets/{r}/checklist"), Some(json!({"text": "Spare charger"}))).await;
    assert_eq!(st, 201, "{t}");
    let third = t["checklist"][2]["id"].as_u64().unwrap();
    let (st, t) = d.api.call("DELETE", &format!("/tickets/{r}/checklist/{third}"), None).await;
    assert_eq!(st, 200);
    assert_eq!(t["checklist"].as_array().unwrap().len(), 2);
    let l = thread_text(&t);
    for want in [
        "added \"Order the laptop\" to the checklist",
        "ticked \"Order the laptop\" off the checklist",
        "changed the due date of \"Create the mail account\" on the checklist from (none) to 2026-12-07",
        "changed the assignee of \"Create the mail account\"",
        "removed \"Spare charger\" from the checklist",
    ] {
        assert!(l.contains(want), "{want}: {l}");
    }

    // Bad input gets a clear answer and changes nothing.
    let (st, _) = d.api.call("POST", &format!("/tickets/{r}/checklist"), Some(json!({"text": "   "}))).await;
    assert_eq!(st, 400);
    let (st, _) = d.api.call("PATCH", &format!("/tickets/{r}/checklist/{second}"), Some(json!({"due": "next week"}))).await;
    assert_eq!(st, 400);
    let (st, _) = d.api.call("PATCH", &format!("/tickets/{r}/checklist/999999"), Some(json!({"done": true}))).await;
    assert_eq!(st, 404);
    let (st, _) = d.api.call("PATCH", &format!("/tickets/{r}/checklist/{second}"), Some(json!({"assignee": "dana@customer.test"}))).await;
    assert_eq!(st, 400, "a customer is no assignee");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_agent_sees_the_checklist_and_cannot_change_it() {
    let d = InProcess::start_with("[desk]\ndepartments = [\"Support\"]\n").await;
    let new = NewTicket {
        subject: "Printer".into(),
        body: "It jams.".into(),
        requester_email: "carol@customer.test".into(),
        ..Default::default()
    };
    let t = d.running.desk.create_ticket(&d.admin, new).expect("ticket");
    let item = d.running.desk.add_checklist_item(&d.admin, t.id, "Order toner", None, None).expect("an item");
    let ro = d.add("ro@example.test", "Rita", Role::Agent);
    d.running.desk.edit_agent(&d.admin, ro.id, "read_only", &[], &[]).expect("role");
    let mut b = Browser::logged_in(&d.base, "ro@example.test", PASSWORD).await;
    let r = d.running.desk.reference(t.id);
    let page = b.get(&format!("/tickets/{r}")).await.body;
    assert!(page.contains("Order toner") && page.contains("0/1"), "{page}");
    assert!(!page.contains("Add an item"), "no add form for a read-only role");
    let res = b.post(&format!("/tickets/{r}/checklist/{}", item.id), &[("done", "1")]).await;
    assert_eq!(res.status, 403, "{:?} {}", res.location, res.body);
}
