//! Triggers (issue 14 part 3) on a desk in this process: each kind of
//! condition and action, logged under the trigger's name; a failing action
//! logged while the others run; the loop guard (changes made by triggers set
//! none off) and the per-ticket action limit; round-robin fairness; "least
//! open among agents online"; time triggers once per spell; never a reply
//! to an automatic sender.

use crate::common::Browser;
use crate::common::smtp::Smtp;
use crate::inprocess::{InProcess, PASSWORD};
use frontdesk::desk::{NewTicket, TicketPatch};
use frontdesk::domain::{Priority, Role, Status, TicketId};

const HOUR: i64 = 3_600_000;

fn ticket(d: &InProcess, subject: &str, from: &str) -> TicketId {
    let new = NewTicket { subject: subject.into(), body: "Please help.".into(), requester_email: from.into(), ..Default::default() };
    d.running.desk.create_ticket(&d.admin, new).expect("ticket").id
}

fn view(d: &InProcess, id: TicketId) -> frontdesk::desk::TicketView {
    d.running.desk.ticket_view(&d.admin, id).expect("view")
}

fn log(d: &InProcess, id: TicketId) -> String {
    view(d, id).entries.iter().filter_map(|e| e.event.as_ref().map(|ev| ev.describe() + "\n")).collect()
}

fn mailed(d: &InProcess, id: TicketId, kind: &str) -> Vec<String> {
    let out = d.running.desk.outbox(&d.admin, 1000).expect("outbox");
    out.into_iter().filter(|m| m.ticket == Some(id) && m.kind == kind).flat_map(|m| m.to).collect()
}

const CANNED: &str = r#"
[[canned]]
name = "Got it"
text = "Hello {{ requester.name }}, we have {{ ticket.ref }}."
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conditions_and_actions_are_logged_and_a_failure_does_not_stop_the_rest() {
    let config = format!(
        r#"{CANNED}
[[trigger]]
name = "VIP"
on = ["created", "customer_replied"]
from = ["@vip.test"]
subject_matches = "^(re: )?\\[?urgent"
set_priority = "high"
set_category = "Billing"
add_tags = ["vip"]
assign = "gone@example.test"
note = "VIP customer: call them back."
reply_canned = "Got it"
notify = ["department"]

[[trigger]]
name = "Escalate"
on = ["customer_replied"]
body_contains = ["escalate"]
set_priority = "urgent"

[[trigger]]
name = "Not this one"
on = ["created"]
body_contains = ["no such words"]
set_priority = "low"
"#
    );
    let d = InProcess::start_with(&config).await;
    let desk = d.running.desk.clone();
    let gone = d.add("gone@example.test", "Gone", Role::Agent);
    desk.set_agent_active(&d.admin, gone.id, false).expect("deactivate");

    let plain = ticket(&d, "Urgent: printer", "someone@other.test");
    assert_eq!(view(&d, plain).ticket.priority, Priority::Medium, "from does not match");
    assert!(!log(&d, plain).contains("trigger"));
    let wrong = ticket(&d, "Printer", "boss@vip.test");
    assert!(!log(&d, wrong).contains("trigger"), "subject_matches does not match");

    let vip = ticket(&d, "URGENT printer", "boss@sub.vip.test");
    let v = view(&d, vip);
    assert_eq!(v.ticket.priority, Priority::High);
    assert_eq!(v.ticket.category, "Billing");
    assert_eq!(v.ticket.tags, vec!["vip".to_string()]);
    assert_eq!(v.ticket.assignee, None);
    let l = log(&d, vip);
    for line in [
        "trigger VIP: set priority from Medium to High",
        "trigger VIP: set category from General to Billing",
        "trigger VIP: set tags to vip",
        "trigger VIP: could not assign the ticket: gone@example.test",
        "trigger VIP: added an internal note",
        "trigger VIP: replied with the canned response \"Got it\"",
        "trigger VIP: notified ada@example.test",
    ] {
        assert!(l.contains(line), "{line}\n{l}");
    }
    assert!(!l.contains("trigger Not this one"));
    assert!(v.entries.iter().any(|e| e.body == "VIP customer: call them back."));
    assert!(v.entries.iter().any(|e| e.body.contains("Hello") && e.body.contains(&desk.reference(vip))), "the canned reply is rendered");
    assert_eq!(mailed(&d, vip, "reply"), vec!["boss@sub.vip.test".to_string()]);
    assert_eq!(mailed(&d, vip, "trigger"), vec!["ada@example.test".to_string()]);

    // Never an automatic answer to an automatic sender.
    let robot = ticket(&d, "Urgent: disk full", "noreply@vip.test");
    assert!(log(&d, robot).contains("trigger VIP: replied"), "{}", log(&d, robot));
    assert!(mailed(&d, robot, "reply").is_empty(), "a noreply address gets no mail");

    // The requester's reply by mail sets off a customer_replied trigger.
    let reference = desk.reference(plain);
    let m = format!(
        "From: Someone <someone@other.test>\r\nTo: support@example.test\r\nSubject: Re: [{reference}] printer\r\nMessage-ID: <s1@other.test>\r\n\r\nPlease escalate this.\r\n"
    );
    let smtp = d.running.smtp.expect("smtp").to_string();
    assert_eq!(Smtp::send_mail(&smtp, "someone@other.test", &["support@example.test"], m.as_bytes()).0, 250);
    for _ in 0..200 {
        if view(&d, plain).ticket.priority == Priority::Urgent {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(view(&d, plain).ticket.priority, Priority::Urgent, "customer_replied: {}", log(&d, plain));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn triggers_do_not_set_each_other_off_and_a_ticket_has_an_action_budget() {
    let d = InProcess::start_with(
        r#"
[workflow]
trigger_actions_per_minute = 4

[[trigger]]
name = "A to B"
on = ["updated"]
tags = ["a"]
remove_tags = ["a"]
add_tags = ["b"]

[[trigger]]
name = "B to A"
on = ["updated"]
tags = ["b"]
remove_tags = ["b"]
add_tags = ["a"]
set_priority = "urgent"
"#,
    )
    .await;
    let desk = d.running.desk.clone();
    let id = ticket(&d, "Loop", "c@customer.test");
    let tag = |tags: &[&str]| TicketPatch { tags: Some(tags.iter().map(|t| t.to_string()).collect()), ..Default::default() };
    desk.update_ticket(&d.admin, id, tag(&["a"])).expect("tag");
    let v = view(&d, id);
    assert_eq!(v.ticket.tags, vec!["b".to_string()], "A to B ran once; B to A does not fire on a trigger's change");
    assert_eq!(log(&d, id).matches("trigger ").count(), 1, "{}", log(&d, id));
    // Each agent change may set it off again, up to 4 actions a minute.
    for _ in 0..4 {
        desk.update_ticket(&d.admin, id, tag(&["a"])).expect("tag");
    }
    let l = log(&d, id);
    assert_eq!(l.matches("trigger A to B: set tags to b").count(), 4, "{l}");
    assert!(l.contains("trigger A to B: did not change the tags: 4 trigger actions a minute on this ticket is the limit"), "{l}");
    assert_eq!(view(&d, id).ticket.tags, vec!["a".to_string()]);
    // A new minute, a new budget; the other trigger answers an agent's "b".
    d.clock.advance_ms(61_000);
    desk.update_ticket(&d.admin, id, tag(&["b"])).expect("tag");
    let v = view(&d, id);
    assert_eq!((v.ticket.tags, v.ticket.priority), (vec!["a".to_string()], Priority::Urgent));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_robin_is_fair_and_least_open_picks_among_agents_online() {
    let d = InProcess::start_with(
        r#"
[[trigger]]
name = "Turns"
on = ["created"]
subject_contains = ["turn"]
assign = "round_robin"

[[trigger]]
name = "Least"
on = ["created"]
subject_contains = ["least"]
assign = "least_open"
"#,
    )
    .await;
    let b = d.add("bea@example.test", "Bea", Role::Agent);
    let c = d.add("cal@example.test", "Cal", Role::Agent);
    let mut counts = std::collections::HashMap::new();
    for i in 0..9 {
        let id = ticket(&d, &format!("turn {i}"), "x@customer.test");
        *counts.entry(view(&d, id).ticket.assignee.expect("assigned")).or_insert(0) += 1;
    }
    assert_eq!(counts.len(), 3, "{counts:?}");
    assert!(counts.values().all(|n| *n == 3), "each of three agents gets every third ticket: {counts:?}");
    // Nobody signed in: least_open finds nobody online and says so.
    let id = ticket(&d, "least 1", "x@customer.test");
    assert!(log(&d, id).contains("no agent of the pool was online in the last hour"), "{}", log(&d, id));
    // Bea and Cal sign in; Cal has fewer active tickets once Bea gets two more.
    let _bea = Browser::logged_in(&d.base, "bea@example.test", PASSWORD).await;
    let _cal = Browser::logged_in(&d.base, "cal@example.test", PASSWORD).await;
    for i in 0..2 {
        let id = ticket(&d, &format!("extra {i}"), "x@customer.test");
        d.running.desk.update_ticket(&d.admin, id, TicketPatch { assignee: Some(Some(b.id)), ..Default::default() }).expect("assign");
    }
    let id = ticket(&d, "least 2", "x@customer.test");
    assert_eq!(view(&d, id).ticket.assignee, Some(c.id), "{}", log(&d, id));
    // An hour and more later, they count as offline.
    d.clock.advance_ms(2 * HOUR);
    let id = ticket(&d, "least 3", "x@customer.test");
    assert_eq!(view(&d, id).ticket.assignee, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_time_trigger_fires_once_per_spell() {
    let d = InProcess::start_with(&format!(
        r#"{CANNED}
[[trigger]]
name = "Nudge"
on = ["time"]
in_status = "pending"
after_hours = 72
reply_canned = "Got it"
add_tags = ["nudged"]
"#
    ))
    .await;
    let desk = d.running.desk.clone();
    let id = ticket(&d, "Waiting", "w@customer.test");
    let pending = TicketPatch { status: Some(Status::Pending), ..Default::default() };
    desk.update_ticket(&d.admin, id, pending.clone()).expect("pending");
    d.clock.advance_ms(71 * HOUR);
    assert_eq!(desk.run_timers().expect("timers").triggered, 0);
    d.clock.advance_ms(2 * HOUR);
    assert_eq!(desk.run_timers().expect("timers").triggered, 1);
    assert_eq!(desk.run_timers().expect("timers").triggered, 0, "once per spell");
    assert_eq!(view(&d, id).ticket.tags, vec!["nudged".to_string()]);
    assert_eq!(mailed(&d, id, "reply"), vec!["w@customer.test".to_string()]);
    // A new spell in Pending: once more after 72 h.
    desk.update_ticket(&d.admin, id, TicketPatch { status: Some(Status::Open), ..Default::default() }).expect("open");
    desk.update_ticket(&d.admin, id, pending).expect("pending");
    d.clock.advance_ms(73 * HOUR);
    assert_eq!(desk.run_timers().expect("timers").triggered, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_other_conditions_and_actions() {
    let d = InProcess::start_with(
        r#"
[desk]
departments = ["Support", "Network"]
categories = ["General", "Hardware"]

[[team]]
name = "Net"

[[field]]
name = "site"
kind = "select"
options = ["Berlin", "Paris"]

[[calendar]]
name = "office"
time_zone = "Europe/Berlin"
friday = ["09:00-17:00"]

[[trigger]]
name = "Route"
on = ["updated"]
departments = ["Support"]
statuses = ["open"]
priorities = ["high"]
categories = ["Hardware"]
fields = { site = "Berlin" }
business_hours = true
calendar = "office"
set_department = "Network"
set_team = "Net"
set_status = "in_progress"
set_fields = { site = "Paris" }
notify = ["assignee"]

[[trigger]]
name = "Mail in"
on = ["created"]
mailboxes = ["support@example.test"]
snooze_hours = 2
"#,
    )
    .await;
    let desk = d.running.desk.clone();
    let patch = || TicketPatch {
        priority: Some(Priority::High),
        category: Some("Hardware".into()),
        assignee: Some(Some(d.admin.id)),
        fields: vec![("site".into(), vec!["Berlin".into()])],
        ..Default::default()
    };
    // Friday 09:00 in Berlin: inside the calendar's hours.
    let id = ticket(&d, "Switch dead", "c@customer.test");
    desk.update_ticket(&d.admin, id, patch()).expect("update");
    let v = view(&d, id);
    assert_eq!(v.ticket.department, "Network", "{}", log(&d, id));
    assert_eq!(v.ticket.team.as_deref(), Some("Net"));
    assert_eq!(v.ticket.status, Status::InProgress);
    assert_eq!(v.ticket.field("site"), Some("Paris"));
    assert_eq!(mailed(&d, id, "trigger"), vec!["ada@example.test".to_string()]);
    assert!(log(&d, id).contains("trigger Route: set status from Open to In Progress"));
    // Saturday: outside the hours, nothing happens.
    d.clock.advance_ms(24 * HOUR);
    let other = ticket(&d, "Switch dead again", "c@customer.test");
    desk.update_ticket(&d.admin, other, patch()).expect("update");
    assert_eq!(view(&d, other).ticket.department, "Support", "{}", log(&d, other));
    assert!(!log(&d, other).contains("trigger"));
    // A mail to the mailbox: snoozed for two hours on arrival.
    let m = "From: Eve <eve@customer.test>\r\nTo: support@example.test\r\nSubject: Coffee machine\r\nMessage-ID: <e1@customer.test>\r\n\r\nBroken.\r\n";
    let smtp = d.running.smtp.expect("smtp").to_string();
    assert_eq!(Smtp::send_mail(&smtp, "eve@customer.test", &["support@example.test"], m.as_bytes()).0, 250);
    let mail = TicketId(3);
    for _ in 0..200 {
        if desk.ticket_view(&d.admin, mail).is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let v = view(&d, mail);
    assert_eq!(v.ticket.status, Status::Snoozed, "{}", log(&d, mail));
    assert_eq!(v.snoozed_until.map(|t| t.0), Some(1_800_000_000_000 + 24 * HOUR + 2 * HOUR));
}
