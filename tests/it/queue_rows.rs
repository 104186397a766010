//! A queue that shows what needs me (issue 18 part 3), through the real SMTP
//! and HTTP servers on the injected clock: each row says who wrote last and
//! since when the customer waits, previews the latest message in one line,
//! marks customer replies the agent has not opened, flags overdue due
//! dates; column choices are remembered per agent; headings match the
//! sidebar's views, every view has a count, and Following and Junk keep
//! the sidebar.

use crate::common::Browser;
use crate::common::smtp::Smtp;
use crate::inprocess::{InProcess, PASSWORD};
use frontdesk::desk::{NewEntry, TicketPatch};
use frontdesk::domain::Role;

const HOUR_MS: i64 = 3_600_000;

fn mail(from: &str, subject: &str, body: &str) -> Vec<u8> {
    format!("From: Carol <{from}>\r\nTo: support@example.test\r\nSubject: {subject}\r\n\r\n{body}")
        .replace("\r\n", "\n")
        .replace('\n', "\r\n")
        .into_bytes()
}

/// The queue row of the ticket with subject `subject`.
fn row<'a>(page: &'a str, subject: &str) -> &'a str {
    let at = page.find(subject).unwrap_or_else(|| panic!("{subject} not in the queue: {page}"));
    let start = page[..at].rfind("<tr").expect("row start");
    let end = at + page[at..].find("</tr>").expect("row end");
    &page[start..end]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_say_who_wrote_last_since_when_the_customer_waits_and_what_is_unread() {
    let d = InProcess::start().await;
    let desk = d.running.desk.clone();
    d.add("bob@example.test", "Bob", Role::Agent);
    let smtp = d.running.smtp.expect("smtp listens").to_string();
    let body = "Hi,\n\n> an old quoted line\nThe printer on floor 3   jams\non every page.\n";
    assert_eq!(
        Smtp::send_mail(&smtp, "carol@customer.test", &["support@example.test"], &mail("carol@customer.test", "Printer jams", body)).0,
        250
    );

    let mut ada = Browser::logged_in(&d.base, "ada@example.test", PASSWORD).await;
    let q = ada.get_until("/tickets", |b| b.contains("Printer jams")).await.body;
    let r = row(&q, "Printer jams");
    assert!(r.contains("class=\"row unread\""), "a new customer message is unread: {r}");
    assert!(r.contains("<span class=\"preview\">Hi, The printer on floor 3 jams on every page.</span>"), "one line, no quote: {r}");
    assert!(r.contains("<span class=\"who customer\">Customer</span>"), "{r}");
    assert!(r.contains("<span class=\"waiting\""), "{r}");
    assert!(
        q.contains("<th class=\"hide-sm\">Last reply</th>") && q.contains("<th class=\"hide-sm\">Waiting since</th>"),
        "default columns"
    );
    assert!(q.contains("data-when-ticked"), "the bulk bar waits for ticked rows");

    // Two hours on, Ada opens it: read for her, still unread for Bob.
    d.clock.advance_ms(2 * HOUR_MS);
    let reference = "TKT-000001";
    assert_eq!(ada.get(&format!("/tickets/{reference}")).await.status, 200);
    let q = ada.get("/tickets").await.body;
    let r = row(&q, "Printer jams");
    assert!(r.contains("class=\"row\""), "opened: {r}");
    assert!(
        r.contains("class=\"waiting\"") && r.split("class=\"waiting\"").nth(1).is_some_and(|w| w.contains(">2 h ago</span>")),
        "waiting for two hours: {r}"
    );
    let mut bob = Browser::logged_in(&d.base, "bob@example.test", PASSWORD).await;
    assert!(row(&bob.get("/tickets").await.body, "Printer jams").contains("class=\"row unread\""), "Bob has not opened it");

    // Ada answers: the agent wrote last, nobody waits.
    let id = frontdesk::domain::TicketId(1);
    let reply = NewEntry { body: "Please try the manual feed tray.".into(), ..Default::default() };
    desk.post_entry(&d.admin, id, reply).expect("reply");
    let q = ada.get("/tickets").await.body;
    let r = row(&q, "Printer jams");
    assert!(r.contains("<span class=\"who agent\">Agent</span>"), "{r}");
    assert!(!r.contains("class=\"waiting\""), "answered: {r}");
    assert!(r.contains("Please try the manual feed tray."), "the preview is the newest message: {r}");

    // An hour later Carol writes back: unread again, waiting since then.
    d.clock.advance_ms(HOUR_MS);
    let back = mail("carol@customer.test", &format!("Re: [{reference}] Printer jams"), "Same with the tray.\n");
    assert_eq!(Smtp::send_mail(&smtp, "carol@customer.test", &["support@example.test"], &back).0, 250);
    let q = ada.get_until("/tickets", |b| b.contains("Same with the tray.")).await.body;
    let r = row(&q, "Printer jams");
    assert!(r.contains("class=\"row unread\"") && r.contains("<span class=\"who customer\">"), "{r}");
    // Half an hour later she writes again: the wait counts from her first unanswered message.
    d.clock.advance_ms(HOUR_MS / 2);
    let again = mail("carol@customer.test", &format!("Re: [{reference}] Printer jams"), "Still jammed.\n");
    assert_eq!(Smtp::send_mail(&smtp, "carol@customer.test", &["support@example.test"], &again).0, 250);
    let q = ada.get_until("/tickets", |b| b.contains("Still jammed.")).await.body;
    let r = row(&q, "Printer jams");
    let waiting = r.split("class=\"waiting\"").nth(1).unwrap_or("");
    assert!(waiting.contains(">30 min ago</span>"), "waiting since her first reply: {r}");
    // A note does not end the wait; it is the preview, marked as a note.
    let note = NewEntry { body: "Asked facilities.".into(), internal: true, ..Default::default() };
    desk.post_entry(&d.admin, id, note).expect("note");
    let r = ada.get("/tickets").await.body;
    let r = row(&r, "Printer jams");
    assert!(r.contains("<span class=\"preview\">Note: Asked facilities.</span>") && r.contains("class=\"waiting\""), "{r}");

    // A due date in the past is flagged.
    let yesterday = frontdesk::domain::time::Date::of(frontdesk::domain::Timestamp(desk.now().0 - 24 * HOUR_MS));
    desk.update_ticket(&d.admin, id, TicketPatch { due: Some(Some(yesterday)), ..Default::default() }).expect("due");
    let q = ada.get("/tickets").await.body;
    assert!(row(&q, "Printer jams").contains("<span class=\"tag overdue\">overdue</span>"), "{q}");
    let q = ada.get("/tickets?col=due&col=status").await.body;
    assert!(row(&q, "Printer jams").contains("overdue"), "the Due column says it: {q}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn columns_are_remembered_per_agent_and_views_match_the_sidebar() {
    let d = InProcess::start().await;
    d.add("bob@example.test", "Bob", Role::Agent);
    let new = frontdesk::desk::NewTicket {
        subject: "Badge reader".into(),
        body: "Door 2.".into(),
        requester_email: "carol@customer.test".into(),
        ..Default::default()
    };
    d.running.desk.create_ticket(&d.admin, new).expect("ticket");
    let mut ada = Browser::logged_in(&d.base, "ada@example.test", PASSWORD).await;
    let q = ada.get("/tickets").await.body;
    assert!(q.contains("<h1>All open</h1>"), "the heading is the view's name: {q}");

    // Ada's choice sticks to her, not to Bob.
    assert_eq!(ada.post("/tickets/columns", &[("cols", "status,tags,nonsense")]).await.status, 204);
    let q = ada.get("/tickets").await.body;
    assert!(q.contains(">Tags</th>") && !q.contains(">Assignee</th>"), "{q}");
    let mut bob = Browser::logged_in(&d.base, "bob@example.test", PASSWORD).await;
    assert!(bob.get("/tickets").await.body.contains(">Assignee</th>"), "Bob keeps the defaults");
    // A link with columns still wins; the defaults again forget the choice.
    assert!(ada.get("/tickets?cols=created").await.body.contains(">Created</th>"));
    assert_eq!(ada.post("/tickets/columns", &[("cols", "requester,status,priority,assignee,last,waiting")]).await.status, 204);
    assert!(ada.get("/tickets").await.body.contains(">Assignee</th>"));
    assert_eq!(ada.post("/tickets/columns", &[("cols", "x".repeat(300).as_str())]).await.status, 204, "unknown names are dropped");
    let no_token = ada.post_raw("/tickets/columns", &[("cols".into(), "tags".into())]).await;
    assert_eq!(no_token.status, 403, "the form needs its token");

    for (path, heading) in [
        ("/tickets?assignee=me", "My open tickets"),
        ("/tickets?status=all&sort=updated", "Recently updated"),
        ("/tickets?status=pending", "Pending"),
        ("/tickets?status=resolved", "Resolved tickets"),
    ] {
        let page = ada.get(path).await.body;
        assert!(page.contains(&format!("<h1>{heading}</h1>")), "{path}: {page}");
    }
    // One status is its own list, lit under "By status", not "All open".
    let open = ada.get("/tickets?status=open").await.body;
    assert!(open.contains("<h1>Open tickets</h1>"), "{open}");
    assert!(open.contains("href=\"/tickets?status=open\" class=\"on\" aria-current=\"page\""), "{open}");
    assert!(!open.contains("href=\"/tickets\" class=\"on\""), "All open is another view: {open}");
    let recent = ada.get("/tickets?status=all&sort=updated").await.body;
    assert!(recent.contains("aria-current=\"page\">Recently updated<span class=\"count\">1</span>"), "counted and marked: {recent}");
    // A bulk job returns to the list it was started from and says how it went.
    ada.get("/tickets?status=all").await;
    let r = ada.post("/tickets/bulk", &[("id", "1"), ("action", "priority"), ("value", "urgent"), ("back", "/tickets?status=all")]).await;
    let job = r.location.clone().expect("to the job");
    assert!(job.starts_with("/jobs/") && job.ends_with("?back=%2Ftickets%3Fstatus%3Dall"), "{job}");
    let mut back = ada.get(&job).await;
    for _ in 0..200 {
        if back.status == 303 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        back = ada.get(&job).await;
    }
    let list = back.location.expect("back to the list");
    assert!(list.starts_with("/tickets?status=all&bulk="), "{list}");
    let page = ada.get(&list).await.body;
    assert!(page.contains("1 of 1 tickets changed."), "{page}");
    let r = ada.post("/tickets/bulk", &[("id", "1"), ("action", "priority"), ("value", "low"), ("back", "//evil.test/x")]).await;
    assert!(r.location.as_deref().is_some_and(|l| l.ends_with("?back=%2Ftickets")), "only a path on this desk: {:?}", r.location);

    for path in ["/tickets/following", "/tickets/mentions", "/junk", "/trash"] {
        let page = ada.get(path).await.body;
        assert!(page.contains("<aside class=\"sidebar\"") && page.contains("aria-current=\"page\""), "{path} keeps the sidebar: {page}");
    }
}
