//! Feedback and safety on the agent pages (issue 18 part 8), through the
//! real HTTP server: an empty queue says where tickets come from, and the
//! forms that cannot be undone easily (merge, junk and ban) ask first.

use crate::common::Browser;
use crate::inprocess::{InProcess, PASSWORD};
use frontdesk::desk::NewTicket;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_states_teach_and_drastic_forms_ask() {
    let d = InProcess::start().await;
    let mut web = Browser::logged_in(&d.base, "ada@example.test", PASSWORD).await;
    let queue = web.get("/tickets").await.body;
    assert!(queue.contains("Nothing waiting. Mail to support@example.test becomes a ticket here at once"), "{queue}");
    assert!(web.get("/tickets?priority=urgent").await.body.contains("No tickets match these filters."));
    let new = NewTicket {
        subject: "Printer".into(),
        body: "Jammed.".into(),
        requester_email: "carol@customer.test".into(),
        ..Default::default()
    };
    let id = d.running.desk.create_ticket(&d.admin, new).expect("ticket").id;
    let page = web.get(&format!("/tickets/{}", d.running.desk.reference(id))).await.body;
    assert!(page.contains("action=\"/tickets/TKT-000001/merge\" data-confirm=\"Merge TKT-000001 into the ticket you named?"), "{page}");
    assert!(page.contains("action=\"/tickets/TKT-000001/junk\" data-confirm=\"Move this ticket to Trash and ban"), "{page}");
}
