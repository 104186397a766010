//! A quiet thread on the ticket page (issue 18 part 2), through the real
//! HTTP server: a run of "sent … mail" events is one line that opens to the
//! list, a long message older than the newest three shows its first lines
//! with the whole text behind "Show the whole message", web addresses in
//! messages are links that pass nothing on, and Reply / Add note sit at the
//! top of the ticket.

use crate::common::Browser;
use crate::inprocess::{InProcess, PASSWORD};
use frontdesk::desk::{NewEntry, NewTicket};
use frontdesk::domain::{EntryKind, Event, ThreadEntry};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn folded_mail_events_collapsed_old_messages_and_links() {
    let d = InProcess::start().await;
    let desk = d.running.desk.clone();
    let long: String = (1..=40).map(|i| format!("Step {i}: see https://status.example.test/incident?id={i}.\n")).collect();
    let new = NewTicket { subject: "VPN outage".into(), body: long, requester_email: "carol@customer.test".into(), ..Default::default() };
    let id = desk.create_ticket(&d.admin, new).expect("ticket").id;
    // Three mails delivered in a row (as the outbox logs them), then three
    // newer messages.
    let now = desk.now();
    desk.store_for_tests()
        .write(|w| -> Result<(), frontdesk::store::StoreError> {
            for (kind, to) in
                [("new_ticket", "ada@example.test"), ("new_ticket", "bob@example.test"), ("acknowledgement", "carol@customer.test")]
            {
                let mut e = ThreadEntry {
                    ticket: id,
                    seq: 0,
                    kind: EntryKind::Event,
                    author: None,
                    body: String::new(),
                    event: Some(Event::MailSent { kind: kind.into(), to: vec![to.into()] }),
                    attachments: Vec::new(),
                    created_at: now,
                };
                w.append_entry(&mut e)?;
            }
            Ok(())
        })
        .expect("events");
    for text in ["First answer.", "Second answer (details at http://kb.example.test/vpn).", "Third answer."] {
        let note = NewEntry { body: text.into(), internal: true, ..Default::default() };
        desk.post_entry(&d.admin, id, note).expect("note");
    }

    let mut web = Browser::logged_in(&d.base, "ada@example.test", PASSWORD).await;
    let page = web.get(&format!("/tickets/{}", desk.reference(id))).await;
    assert_eq!(page.status, 200);
    let page = page.body;
    assert_eq!(page.matches("<details class=\"event folded\"").count(), 1, "one line for the run: {page}");
    assert!(page.contains("sent 3 mails (new ticket ×2, acknowledgement) to 3 addresses"), "{page}");
    assert!(page.contains("<li id=\"e5\">sent acknowledgement mail to carol@customer.test</li>"), "the list keeps each mail: {page}");
    // The opening message is long and older than the newest three.
    assert!(page.contains("Show the whole message (40 lines)"), "{page}");
    assert_eq!(page.matches("Step 40:").count(), 1, "the end only in the whole text");
    assert_eq!(page.matches("Step 2:").count(), 2, "the start in the preview and the whole text");
    let link = "<a href=\"https://status.example.test/incident?id=7\" rel=\"noopener noreferrer nofollow\" target=\"_blank\">https://status.example.test/incident?id=7</a>.";
    assert!(page.contains(link), "{page}");
    assert!(page.contains("<a href=\"http://kb.example.test/vpn\" rel=\"noopener noreferrer nofollow\""), "links in notes too: {page}");
    assert!(page.contains("data-compose=\"reply\"") && page.contains("data-compose=\"note\""), "Reply and Add note at the top");
    let top = page.find("data-compose=\"note\"").unwrap_or(usize::MAX);
    assert!(top < page.find("aria-label=\"Conversation\"").unwrap_or(0), "above the thread");
}
