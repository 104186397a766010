//! The time rules on the injected clock (issue 14 parts 4 and 5): a snoozed
//! ticket leaves the active views and comes back Open when its time comes
//! (its assignee told), or sooner when the requester writes; Resolved
//! tickets close after `auto_close_days`; Pending ones remind their
//! requester once and resolve after their days. `run_timers` is what the
//! background task calls.

use std::time::Duration;

use crate::common::smtp::Smtp;
use crate::common::{Api, Browser};
use crate::inprocess::{InProcess, PASSWORD};
use frontdesk::desk::timers::TimerReport;
use frontdesk::desk::tokens::TokenSpec;
use frontdesk::desk::{NewEntry, NewTicket, TicketPatch};
use frontdesk::domain::{Status, TicketId, Timestamp};
use serde_json::json;

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

fn ticket(d: &InProcess, subject: &str) -> TicketId {
    let new =
        NewTicket { subject: subject.into(), body: "Details.".into(), requester_email: "carol@customer.test".into(), ..Default::default() };
    d.running.desk.create_ticket(&d.admin, new).expect("ticket").id
}

fn status(d: &InProcess, id: TicketId) -> Status {
    d.running.desk.ticket_view(&d.admin, id).expect("view").ticket.status
}

fn log(d: &InProcess, id: TicketId) -> String {
    d.running
        .desk
        .ticket_view(&d.admin, id)
        .expect("view")
        .entries
        .iter()
        .filter_map(|e| e.event.as_ref().map(|ev| ev.describe() + "\n"))
        .collect()
}

/// Recipients of queued mail of `kind` about `id`.
fn mailed(d: &InProcess, id: TicketId, kind: &str) -> Vec<String> {
    d.running
        .desk
        .outbox(&d.admin, 1000)
        .expect("outbox")
        .into_iter()
        .filter(|m| m.ticket == Some(id) && m.kind == kind)
        .flat_map(|m| m.to)
        .collect()
}

fn requester_writes(d: &InProcess, id: TicketId, n: u32) {
    let reference = d.running.desk.reference(id);
    let m = format!(
        "From: Carol <carol@customer.test>\r\nTo: support@example.test\r\nSubject: Re: [{reference}] x\r\nMessage-ID: <w{n}.{reference}@customer.test>\r\n\r\nAny news ({n})?\r\n"
    );
    let smtp = d.running.smtp.expect("smtp").to_string();
    assert_eq!(Smtp::send_mail(&smtp, "carol@customer.test", &["support@example.test"], m.as_bytes()).0, 250);
}

async fn until_status(d: &InProcess, id: TicketId, want: Status) {
    for _ in 0..200 {
        if status(d, id) == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{id:?} never became {want:?} (is {:?})", status(d, id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snoozed_ticket_leaves_the_queue_and_wakes_on_time_or_when_the_requester_writes() {
    let d = InProcess::start_with("[workflow]\nsnooze_max_days = 30\n").await;
    let desk = d.running.desk.clone();
    let token = desk.create_api_token(None, "ada@example.test", TokenSpec::standard("t")).expect("token");
    let api = Api::new(&d.base, &token);
    let vpn = ticket(&d, "VPN flaps");
    desk.update_ticket(&d.admin, vpn, TicketPatch { assignee: Some(Some(d.admin.id)), ..Default::default() }).expect("assign");
    let r = desk.reference(vpn);
    // From the side panel: the shortcuts are offered; a chosen time snoozes.
    let mut web = Browser::logged_in(&d.base, "ada@example.test", PASSWORD).await;
    let page = web.get(&format!("/tickets/{r}")).await.body;
    assert!(page.contains("Tomorrow 9:00") && page.contains("Next Monday 9:00"), "{page}");
    let now = desk.now();
    let at = Timestamp(now.0 + 2 * DAY).rfc3339();
    let saved = web.post(&format!("/tickets/{r}/update"), &[("snooze_until", at.as_str())]).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert_eq!(status(&d, vpn), Status::Snoozed);
    assert!(log(&d, vpn).contains("snoozed the ticket until"), "{}", log(&d, vpn));
    let (_, t) = api.call("GET", &format!("/tickets/{r}"), None).await;
    assert_eq!((t["status"].as_str(), t["snoozed_until"].as_str()), (Some("snoozed"), Some(at.as_str())));
    // Out of the active views, in its own.
    assert!(!web.get("/tickets").await.body.contains("VPN flaps"));
    assert!(web.get("/tickets?status=snoozed").await.body.contains("VPN flaps"));
    // Bad snoozes are refused and say why.
    let (code, e) = api.call("PATCH", &format!("/tickets/{r}"), Some(json!({"snooze_until": Timestamp(now.0 - HOUR).rfc3339()}))).await;
    assert_eq!(code, 400, "{e}");
    let (code, e) = api.call("PATCH", &format!("/tickets/{r}"), Some(json!({"snooze_until": Timestamp(now.0 + 40 * DAY).rfc3339()}))).await;
    assert!(code == 400 && e["error"].as_str().unwrap_or("").contains("more than 30 days"), "{e}");
    let other = ticket(&d, "Printer");
    let (code, e) = api.call("PATCH", &format!("/tickets/{}", desk.reference(other)), Some(json!({"status": "snoozed"}))).await;
    assert!(code == 400 && e["error"].as_str().unwrap_or("").contains("needs the time"), "{e}");
    let reply = NewEntry { body: "Later.".into(), status: Some(Status::Snoozed), mail: true, ..Default::default() };
    assert!(desk.post_entry(&d.admin, other, reply).is_err());
    // Not yet: nothing wakes. Then its time comes.
    d.clock.advance_ms(DAY);
    assert_eq!(desk.run_timers().expect("timers"), TimerReport::default());
    d.clock.advance_ms(DAY + 1);
    assert_eq!(desk.run_timers().expect("timers").woken, 1);
    assert_eq!(status(&d, vpn), Status::Open);
    assert!(log(&d, vpn).contains("changed status from Snoozed to Open"), "{}", log(&d, vpn));
    assert!(log(&d, vpn).contains("the snooze until"), "{}", log(&d, vpn));
    assert_eq!(mailed(&d, vpn, "snooze_ended"), ["ada@example.test"], "the assignee hears: the system woke it, not she");
    // The requester writes to a snoozed ticket: it wakes at once, and the
    // snooze is forgotten.
    let (code, _) =
        api.call("PATCH", &format!("/tickets/{r}"), Some(json!({"snooze_until": Timestamp(desk.now().0 + DAY).rfc3339()}))).await;
    assert_eq!(code, 200);
    requester_writes(&d, vpn, 1);
    until_status(&d, vpn, Status::Open).await;
    let (_, t) = api.call("GET", &format!("/tickets/{r}"), None).await;
    assert_eq!(t["snoozed_until"], serde_json::Value::Null);
    d.clock.advance_ms(2 * DAY);
    assert_eq!(desk.run_timers().expect("timers").woken, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_assignee_hears_when_a_snooze_ends() {
    let d = InProcess::start().await;
    let desk = d.running.desk.clone();
    let bob = d.add("bob@example.test", "Bob", frontdesk::domain::Role::Agent);
    let id = ticket(&d, "Renew the certificate");
    let until = Timestamp(desk.now().0 + HOUR);
    let patch = TicketPatch { assignee: Some(Some(bob.id)), snooze_until: Some(until), ..Default::default() };
    desk.update_ticket(&d.admin, id, patch).expect("snooze");
    // In Trash when its time comes: it waits, and wakes once restored.
    desk.set_trashed(&d.admin, id, true).expect("trash");
    d.clock.advance_ms(HOUR);
    assert_eq!(desk.run_timers().expect("timers").woken, 0);
    desk.set_trashed(&d.admin, id, false).expect("restore");
    assert_eq!(desk.run_timers().expect("timers").woken, 1);
    assert_eq!(mailed(&d, id, "snooze_ended"), ["bob@example.test"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolved_tickets_close_and_pending_ones_are_reminded_once_then_resolved() {
    let d = InProcess::start_with("[workflow]\nauto_close_days = 3\npending_reminder_days = 2\npending_resolve_days = 5\n").await;
    let desk = d.running.desk.clone();
    let set =
        |id: TicketId, s: Status| desk.update_ticket(&d.admin, id, TicketPatch { status: Some(s), ..Default::default() }).expect("status");
    let done = ticket(&d, "Fixed printer");
    let back = ticket(&d, "Fixed laptop");
    set(done, Status::Resolved);
    set(back, Status::Resolved);
    let waiting = ticket(&d, "Which VPN client?");
    set(waiting, Status::Pending);
    d.clock.advance_ms(2 * DAY + 1);
    // Two days on: the pending ticket's reminder, once.
    let r = desk.run_timers().expect("timers");
    assert_eq!((r.closed, r.reminded, r.resolved), (0, 1, 0));
    assert_eq!(mailed(&d, waiting, "pending_reminder"), ["carol@customer.test"]);
    assert!(log(&d, waiting).contains("reminded the requester"));
    assert_eq!(desk.run_timers().expect("timers").reminded, 0, "once per pending spell");
    // The customer answers the second resolved ticket: it reopens and stays open.
    requester_writes(&d, back, 1);
    until_status(&d, back, Status::Open).await;
    d.clock.advance_ms(DAY);
    let r = desk.run_timers().expect("timers");
    assert_eq!(r.closed, 1);
    assert_eq!((status(&d, done), status(&d, back)), (Status::Closed, Status::Open));
    assert!(log(&d, done).contains("resolved 3 days ago with no answer since"), "{}", log(&d, done));
    // Five days pending: resolved, and the requester told.
    d.clock.advance_ms(2 * DAY);
    assert_eq!(desk.run_timers().expect("timers").resolved, 1);
    assert_eq!(status(&d, waiting), Status::Resolved);
    assert_eq!(mailed(&d, waiting, "resolved"), ["carol@customer.test"]);
    // A new pending spell is reminded again.
    set(waiting, Status::Open);
    set(waiting, Status::Pending);
    d.clock.advance_ms(2 * DAY + 1);
    assert_eq!(desk.run_timers().expect("timers").reminded, 1);
    assert_eq!(mailed(&d, waiting, "pending_reminder").len(), 2);
}
