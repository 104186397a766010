//! Time tracking (issue 14 part 8) through the real server: minutes recorded
//! with a reply (the reply box) and a note (the API), shown on each entry,
//! totalled on the ticket per agent, in the API and the CSV export; bad
//! values refused.

use crate::common::{Api, Browser};
use crate::inprocess::{InProcess, PASSWORD};
use frontdesk::desk::NewTicket;
use frontdesk::desk::tokens::TokenSpec;
use frontdesk::domain::Role;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minutes_are_recorded_per_entry_and_totalled_per_agent() {
    let d = InProcess::start().await;
    let desk = d.running.desk.clone();
    d.add("bob@example.test", "Bob", Role::Agent);
    let bob_token = desk.create_api_token(None, "bob@example.test", TokenSpec::standard("t")).expect("token");
    let bob = Api::new(&d.base, &bob_token);
    let new = NewTicket {
        subject: "Laptop setup".into(),
        body: "New starter.".into(),
        requester_email: "carol@customer.test".into(),
        ..Default::default()
    };
    let t = desk.create_ticket(&d.admin, new).expect("ticket");
    let r = desk.reference(t.id);
    // Ada replies from the reply box with 45 minutes; Bob notes 1 h 30 over the API.
    let mut web = Browser::logged_in(&d.base, "ada@example.test", PASSWORD).await;
    let page = web.get(&format!("/tickets/{r}")).await.body;
    assert!(page.contains("name=\"minutes\""), "{page}");
    let sent = web.post(&format!("/tickets/{r}/reply"), &[("body", "Imaged and enrolled."), ("minutes", "45")]).await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let (code, v) = bob
        .call(
            "POST",
            &format!("/tickets/{r}/entries"),
            Some(json!({"body": "Installed the VPN client.", "internal": true, "time_spent": 90})),
        )
        .await;
    assert_eq!(code, 201, "{v}");
    assert_eq!(v["time_spent"], 135);
    assert_eq!(
        v["time_by_agent"],
        json!([{"agent": {"name": "Bob", "email": "bob@example.test"}, "minutes": 90}, {"agent": {"name": "Ada", "email": "ada@example.test"}, "minutes": 45}])
    );
    let spent: Vec<_> =
        v["entries"].as_array().unwrap().iter().filter(|e| !e["time_spent"].is_null()).map(|e| e["time_spent"].clone()).collect();
    assert_eq!(spent, [json!(45), json!(90)]);
    // The page: on each entry and in the details, by agent.
    let page = web.get(&format!("/tickets/{r}")).await.body;
    assert!(page.contains("Time spent: 45 min") && page.contains("Time spent: 1 h 30 min"), "{page}");
    assert!(page.contains("2 h 15 min") && page.contains("Bob: 1 h 30 min"), "{page}");
    // The CSV export's column.
    let csv = web.get("/tickets.csv?status=all&fields=ref,time_spent").await.body;
    assert!(csv.contains("Reference,Time spent (min)\r\n") && csv.contains(&format!("{r},135")), "{csv}");
    // Bad values are refused and record nothing.
    for bad in [json!(-5), json!("an hour"), json!(20000)] {
        let (code, e) =
            bob.call("POST", &format!("/tickets/{r}/entries"), Some(json!({"body": "x", "internal": true, "time_spent": bad}))).await;
        assert_eq!((code, e["field"].as_str()), (400, Some("time_spent")), "{e}");
    }
    let bad = web.post(&format!("/tickets/{r}/reply"), &[("body", "More."), ("minutes", "ten")]).await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    let (_, v) = bob.call("GET", &format!("/tickets/{r}"), None).await;
    assert_eq!(v["time_spent"], 135);
}
