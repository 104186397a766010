//! @mentions in internal notes (issue 14 part 9) through the real server:
//! the agents a note names (by address, local part or a first name only one
//! of them has) are mailed and find the ticket under Mentions; the mention
//! is a link in the note; an agent who cannot see the ticket, the author and
//! a public reply's "@" are left alone.

use crate::common::Browser;
use crate::inprocess::{InProcess, PASSWORD};
use frontdesk::desk::{NewEntry, NewTicket};
use frontdesk::domain::Role;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_note_mentions_agents_who_may_see_the_ticket() {
    let d = InProcess::start_with("[desk]\ndepartments = [\"Support\", \"Sales\"]\n").await;
    let desk = d.running.desk.clone();
    let bob = d.add("bob@example.test", "Bob Smith", Role::Agent);
    d.add("ann.lee@example.test", "Ann Lee", Role::Agent);
    let sam = d.add("sam@example.test", "Sam Sales", Role::Agent);
    desk.edit_agent(&d.admin, sam.id, "agent", &["Sales".into()], &[]).expect("sam in Sales only");
    let new = NewTicket {
        subject: "VPN".into(),
        body: "Drops.".into(),
        requester_email: "carol@customer.test".into(),
        department: Some("Support".into()),
        ..Default::default()
    };
    let t = desk.create_ticket(&d.admin, new).expect("ticket");
    let note = NewEntry {
        body: "@bob can you check? (@Ann too) — not @sam, not @ada, and mail carol@customer.test".into(),
        internal: true,
        ..Default::default()
    };
    desk.post_entry(&d.admin, t.id, note).expect("note");
    let reply = NewEntry { body: "Thanks @bob!".into(), mail: true, ..Default::default() };
    desk.post_entry(&d.admin, t.id, reply).expect("a public reply");
    let mut mailed: Vec<String> =
        desk.outbox(&d.admin, 100).expect("outbox").into_iter().filter(|m| m.kind == "mention").flat_map(|m| m.to).collect();
    mailed.sort();
    assert_eq!(mailed, ["ann.lee@example.test", "bob@example.test"], "Sam cannot see Support's ticket; Ada wrote it");
    // Bob's Mentions view and its count.
    let mut web = Browser::logged_in(&d.base, "bob@example.test", PASSWORD).await;
    let page = web.get("/tickets/mentions").await.body;
    assert!(page.contains("VPN") && page.contains("<h1>Mentions</h1>"), "{page}");
    let queue = web.get("/tickets").await.body;
    assert!(queue.contains("href=\"/tickets/mentions\""), "{queue}");
    let sams = Browser::logged_in(&d.base, "sam@example.test", PASSWORD).await.get("/tickets/mentions").await.body;
    assert!(!sams.contains("VPN"), "{sams}");
    // The note links each mention of an agent.
    let r = desk.reference(t.id);
    let ticket = web.get(&format!("/tickets/{r}")).await.body;
    assert!(
        ticket.contains(&format!("<a class=\"mention\" href=\"/tickets?assignee={}\" title=\"Bob Smith\">@bob</a>", bob.id)),
        "{ticket}"
    );
    assert!(ticket.contains("data-agents=\""), "the reply box offers the agents: {ticket}");
}
