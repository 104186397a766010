//! The People page lists everyone (issue 18 part 9), through the real HTTP
//! server: each person with their ticket count, merged people left out,
//! sorted by name, newest or most tickets, in pages; a search still finds
//! people by name or address, with their counts.

use crate::common::Browser;
use crate::inprocess::{InProcess, PASSWORD};
use frontdesk::desk::NewTicket;

/// The names in the directory's table, in order.
fn names(page: &str) -> Vec<String> {
    page.split("<td class=\"subject\"><a href=\"/requesters/")
        .skip(1)
        .filter_map(|part| part.split_once("\">").and_then(|(_, rest)| rest.split_once("</a>")).map(|(n, _)| n.to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everyone_with_ticket_counts_in_three_orders() {
    let d = InProcess::start().await;
    let desk = d.running.desk.clone();
    for (who, name) in
        [("carol@customer.test", "Carol"), ("carol@customer.test", "Carol"), ("dan@customer.test", "Dan"), ("carol@customer.test", "Carol")]
    {
        let new = NewTicket {
            subject: "Help".into(),
            body: "Please.".into(),
            requester_email: who.into(),
            requester_name: name.into(),
            ..Default::default()
        };
        desk.create_ticket(&d.admin, new).expect("ticket");
        d.clock.advance_ms(60_000);
    }
    let new = NewTicket {
        subject: "Also".into(),
        body: "Me.".into(),
        requester_email: "dan.old@customer.test".into(),
        requester_name: "Dan Old".into(),
        ..Default::default()
    };
    let old = desk.create_ticket(&d.admin, new).expect("ticket").requester;
    desk.merge_people(&d.admin, old, "dan@customer.test").expect("merge");
    d.clock.advance_ms(60_000);
    desk.add_person(&d.admin, "erin@customer.test", "Erin").expect("person");

    let mut ada = Browser::logged_in(&d.base, "ada@example.test", PASSWORD).await;
    let page = ada.get("/people").await.body;
    assert_eq!(names(&page), ["Ada", "Carol", "Dan", "Erin"], "by name, merged people left out: {page}");
    assert!(page.contains("4 people."), "{page}");
    let row = |page: &str, name: &str| -> String {
        let at = page.find(&format!("\">{name}</a>")).unwrap_or(0);
        page[at..].split("</tr>").next().unwrap_or("").to_string()
    };
    assert!(row(&page, "Carol").contains("<td class=\"num\">3</td>"), "{}", row(&page, "Carol"));
    assert!(row(&page, "Dan").contains("<td class=\"num\">2</td>"), "the merged one's ticket counts for Dan: {}", row(&page, "Dan"));
    assert!(row(&page, "Erin").contains("<td class=\"num\">0</td>"));
    assert_eq!(names(&ada.get("/people?sort=tickets").await.body), ["Carol", "Dan", "Ada", "Erin"]);
    assert_eq!(names(&ada.get("/people?sort=newest").await.body)[0], "Erin");
    assert_eq!(names(&ada.get("/people?sort=nonsense").await.body)[0], "Ada", "an unknown order is by name");
    // A search keeps the counts.
    let found = ada.get("/people?q=carol").await.body;
    assert_eq!(names(&found), ["Carol"]);
    assert!(row(&found, "Carol").contains("<td class=\"num\">3</td>"));
}

/// Answering a ticket, the agent sees the requester's organization, the
/// agents' notes about them and their other open tickets; New ticket
/// suggests known people (not agents) as the address is typed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_requester_in_context_and_suggested() {
    let d = InProcess::start().await;
    let desk = d.running.desk.clone();
    let mut ids = Vec::new();
    for subject in ["Printer", "Badge", "Laptop"] {
        let new = NewTicket {
            subject: subject.into(),
            body: "Please.".into(),
            requester_email: "carol@customer.test".into(),
            requester_name: "Carol Jones".into(),
            ..Default::default()
        };
        ids.push(desk.create_ticket(&d.admin, new).expect("ticket").id);
    }
    let carol = desk.ticket_view(&d.admin, ids[0]).unwrap().ticket.requester;
    desk.update_person(&d.admin, carol, "Carol Jones", "Prefers phone calls after 2 pm.").expect("notes");
    desk.update_ticket(
        &d.admin,
        ids[2],
        frontdesk::desk::TicketPatch { status: Some(frontdesk::domain::Status::Resolved), ..Default::default() },
    )
    .expect("resolve");

    let mut ada = Browser::logged_in(&d.base, "ada@example.test", PASSWORD).await;
    let page = ada.get(&format!("/tickets/{}", desk.reference(ids[0]))).await.body;
    assert!(page.contains("Prefers phone calls after 2 pm."), "the notes: {page}");
    assert!(page.contains("Their other open tickets") && page.contains(">TKT-000002</a> Badge"), "{page}");
    assert!(!page.contains(">TKT-000003</a>"), "a resolved ticket is not open");
    assert!(!page.contains(">TKT-000001</a> Printer"), "not this ticket itself");

    let got = ada.get("/people/suggest?q=car").await;
    assert_eq!(got.status, 200);
    let v: serde_json::Value = serde_json::from_str(&got.body).unwrap();
    assert_eq!(v["people"], serde_json::json!([{ "email": "carol@customer.test", "name": "Carol Jones" }]));
    let v: serde_json::Value = serde_json::from_str(&ada.get("/people/suggest?q=ada").await.body).unwrap();
    assert_eq!(v["people"], serde_json::json!([]), "agents are not suggested as requesters");
    let v: serde_json::Value = serde_json::from_str(&ada.get("/people/suggest?q=c").await.body).unwrap();
    assert_eq!(v["people"], serde_json::json!([]), "one letter asks nothing");
    assert!(ada.get("/tickets/new").await.body.contains("list=\"people-suggest\""));
}
