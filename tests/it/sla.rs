//! SLA clocks on business calendars and urgency aging (issue 14 parts 1, 2
//! and 6), on the injected clock: targets counted in business hours across
//! a weekend and a holiday, a warning and a breach logged and mailed exactly
//! once, the clock paused in Pending and resumed by the customer's reply, a
//! priority change recomputing the targets, the views and search tokens,
//! and a priority raised by aging. The clock starts on Friday 15 January
//! 2027, 09:00 in Berlin (08:00 UTC).

use crate::common::smtp::Smtp;
use crate::common::{Api, Browser};
use crate::inprocess::{InProcess, PASSWORD};
use frontdesk::desk::tokens::TokenSpec;
use frontdesk::desk::{NewEntry, NewTicket, TicketPatch};
use frontdesk::domain::{Priority, Status, TicketId};
use serde_json::{Value, json};

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;

const CONFIG: &str = r#"
[[calendar]]
name = "office"
time_zone = "Europe/Berlin"
monday = ["09:00-17:00"]
tuesday = ["09:00-17:00"]
wednesday = ["09:00-17:00"]
thursday = ["09:00-17:00"]
friday = ["09:00-17:00"]
holidays = ["2027-01-18", "12-25"]

[[sla]]
name = "Urgent"
priorities = ["urgent"]
first_response = "30m"
resolution = "4h"

[[sla]]
name = "Standard"
first_response = "2h"
next_response = "4h"
resolution = "16h"
"#;

fn ticket(d: &InProcess, subject: &str) -> TicketId {
    let new =
        NewTicket { subject: subject.into(), body: "Details.".into(), requester_email: "carol@customer.test".into(), ..Default::default() };
    d.running.desk.create_ticket(&d.admin, new).expect("ticket").id
}

fn log(d: &InProcess, id: TicketId) -> String {
    let v = d.running.desk.ticket_view(&d.admin, id).expect("view");
    v.entries.iter().filter_map(|e| e.event.as_ref().map(|ev| ev.describe() + "\n")).collect()
}

fn mailed(d: &InProcess, id: TicketId, kind: &str) -> usize {
    d.running.desk.outbox(&d.admin, 1000).expect("outbox").into_iter().filter(|m| m.ticket == Some(id) && m.kind == kind).count()
}

async fn sla(api: &Api, d: &InProcess, id: TicketId) -> Value {
    let (code, v) = api.call("GET", &format!("/tickets/{}", d.running.desk.reference(id)), None).await;
    assert_eq!(code, 200, "{v}");
    v["sla"].clone()
}

/// How many tickets a search finds once the index has caught up with `want`.
async fn found(api: &Api, q: &str, want: usize) -> usize {
    let mut n = usize::MAX;
    for _ in 0..200 {
        let (code, v) = api.call("GET", &format!("/tickets?q={}", q.replace('<', "%3C")), None).await;
        assert_eq!(code, 200, "{v}");
        n = v["tickets"].as_array().map_or(0, Vec::len);
        if n == want {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    n
}

fn tick(d: &InProcess, ms: i64) -> usize {
    d.clock.advance_ms(ms);
    d.running.desk.run_timers().expect("timers").alarms
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn business_hours_warnings_breaches_pauses_and_priority() {
    let d = InProcess::start_with(CONFIG).await;
    let desk = d.running.desk.clone();
    let token = desk.create_api_token(None, "ada@example.test", TokenSpec::standard("t")).expect("token");
    let api = Api::new(&d.base, &token);

    // Friday 09:00 Berlin: first response due 11:00 (10:00 UTC), resolution
    // 16 business hours later: 8 on Friday, Monday a holiday, 8 on Tuesday.
    let printer = ticket(&d, "Printer on fire");
    let s = sla(&api, &d, printer).await;
    assert_eq!(s["policy"], "Standard");
    assert_eq!(s["first_response_due"], "2027-01-15T10:00:00Z");
    assert_eq!(s["resolution_due"], "2027-01-19T16:00:00Z", "over the weekend and the holiday");
    assert_eq!(s["next_response_due"], Value::Null);

    // 75 % of the first response (90 minutes): one warning, logged and mailed.
    assert_eq!(tick(&d, 89 * MIN), 0);
    assert_eq!(tick(&d, 2 * MIN), 1);
    assert_eq!(tick(&d, MIN), 0, "a warning goes out once");
    assert!(log(&d, printer).contains("SLA Standard: the first response is due soon (2027-01-15 10:00 UTC)"), "{}", log(&d, printer));
    assert_eq!(mailed(&d, printer, "sla_warning"), 1);
    // Due at 10:00 UTC: the breach, once.
    assert_eq!(tick(&d, 28 * MIN), 1);
    assert_eq!(tick(&d, 10 * MIN), 0, "a breach is raised once");
    assert_eq!(mailed(&d, printer, "sla_breached"), 1);
    let s = sla(&api, &d, printer).await;
    assert_eq!(s["breached"], json!(["first_response"]));
    let mut web = Browser::logged_in(&d.base, "ada@example.test", PASSWORD).await;
    assert!(web.get("/tickets/sla-breaching").await.body.contains("Printer on fire"));
    let page = web.get(&format!("/tickets/{}", desk.reference(printer))).await.body;
    assert!(page.contains("SLA · Standard"), "{page}");
    assert!(page.contains("class=\"sla sla-late\"") && page.contains("first response overdue by 10 m business time"), "{page}");
    assert!(page.contains("resolution due in 13 h 50 m business time"), "16 h less 2 h 10 m: {page}");
    let queue = web.get("/tickets?cols=status,sla").await.body;
    assert!(queue.contains("<th class=\"hide-sm\">SLA</th>") && queue.contains("10 m over"), "{queue}");
    assert!(queue.contains("SLA breaching") && queue.contains("Due soon"), "the sidebar has the SLA views");
    assert_eq!(found(&api, "sla:breached", 1).await, 1);
    assert_eq!(found(&api, "sla:breaching", 1).await, 1);

    // The agent answers (10:10 UTC) and the ticket waits on the customer:
    // the first response is met late, the resolution clock stops.
    let reply = NewEntry { body: "On our way.".into(), status: Some(Status::Pending), ..Default::default() };
    desk.post_entry(&d.admin, printer, reply).expect("reply");
    let s = sla(&api, &d, printer).await;
    assert_eq!(s["first_response_due"], Value::Null);
    assert_eq!(s["resolution_due"], Value::Null, "paused in Pending");
    assert!(!web.get("/tickets/sla-breaching").await.body.contains("Printer on fire"));
    // Three hours on, the customer writes: Open again, the resolution goes on
    // (2 h 10 m spent of 16 h), and a next response is due in 4 business hours.
    d.clock.advance_ms(3 * HOUR);
    let reference = desk.reference(printer);
    let m = format!(
        "From: Carol <carol@customer.test>\r\nTo: support@example.test\r\nSubject: Re: [{reference}] x\r\nMessage-ID: <c1@customer.test>\r\n\r\nStill smoking.\r\n"
    );
    let smtp = d.running.smtp.expect("smtp").to_string();
    assert_eq!(Smtp::send_mail(&smtp, "carol@customer.test", &["support@example.test"], m.as_bytes()).0, 250);
    for _ in 0..200 {
        if !sla(&api, &d, printer).await["next_response_due"].is_null() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let s = sla(&api, &d, printer).await;
    // 13:10 UTC = 14:10 Berlin: 2 h 50 m on Friday, 1 h 10 m on Tuesday.
    assert_eq!(s["next_response_due"], "2027-01-19T09:10:00Z", "{s}");
    // 13 h 50 m left: 2 h 50 m on Friday, 8 on Tuesday, 3 on Wednesday.
    assert_eq!(s["resolution_due"], "2027-01-20T11:00:00Z", "{s}");

    // Urgent now: the Urgent policy, its targets counted from creation.
    let patch = TicketPatch { priority: Some(Priority::Urgent), ..Default::default() };
    desk.update_ticket(&d.admin, printer, patch).expect("priority");
    let s = sla(&api, &d, printer).await;
    assert_eq!(s["policy"], "Urgent");
    assert_eq!(s["next_response_due"], Value::Null, "Urgent sets no next response");
    assert_eq!(s["breached"], json!(["first_response"]), "a breach stays on record");
    // 4 h of which 2 h 10 m are spent: due at 16:00 Berlin (15:00 UTC).
    assert_eq!(s["resolution_due"], "2027-01-15T15:00:00Z", "{s}");
    assert!(log(&d, printer).contains("changed priority from Medium to Urgent"));
    // Due soon: within two hours.
    assert!(web.get("/tickets/due-soon").await.body.contains("Printer on fire"));
    assert_eq!(found(&api, "sla:due<2h", 1).await, 1);
    assert_eq!(found(&api, "sla:due<10m", 0).await, 0);
    assert_eq!(found(&api, "sla:breaching", 0).await, 0, "answered: no longer overdue");

    // Resolved: every clock stops, nothing more goes off.
    let done = TicketPatch { status: Some(Status::Resolved), ..Default::default() };
    desk.update_ticket(&d.admin, printer, done).expect("resolve");
    assert_eq!(tick(&d, 48 * HOUR), 0);
    assert_eq!(sla(&api, &d, printer).await["resolution_due"], Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aging_raises_the_priority_of_an_unanswered_ticket() {
    let d = InProcess::start_with("[workflow]\naging_hours = 2\n").await;
    let desk = d.running.desk.clone();
    let id = ticket(&d, "Slow laptop");
    let prio = |d: &InProcess| d.running.desk.ticket_view(&d.admin, id).expect("view").ticket.priority;
    assert_eq!(prio(&d), Priority::Medium);
    assert_eq!(tick(&d, 2 * HOUR - MIN), 0);
    assert_eq!(tick(&d, MIN), 1);
    assert_eq!(prio(&d), Priority::High);
    assert!(log(&d, id).contains("changed priority from Medium to High (reason: no answer for 2 business hours)"), "{}", log(&d, id));
    // An answer ends the wait: no more raises.
    let reply = NewEntry { body: "Looking.".into(), status: Some(Status::Open), ..Default::default() };
    desk.post_entry(&d.admin, id, reply).expect("reply");
    assert_eq!(tick(&d, 10 * HOUR), 0);
    assert_eq!(prio(&d), Priority::High);
}

/// Due times are stored with the ticket: a restart on another clock (five
/// hours on, a different calendar day) reads the same targets, and the
/// breach is raised at the stored due time.
#[test]
fn sla_targets_survive_a_restart() {
    use frontdesk::clock::ManualClock;
    use frontdesk::config::Config;
    use frontdesk::desk::Desk;
    use frontdesk::desk::auth::NewAgent;
    use frontdesk::domain::{Role, Timestamp};
    use frontdesk::store::Store;
    use std::sync::Arc;

    let dir = tempfile::tempdir().expect("dir");
    let cfg = Arc::new(Config::parse(CONFIG, "test").expect("config"));
    let start = Timestamp(1_800_000_000_000);
    let clock = ManualClock::new(start);
    let desk = Desk::new(Store::open(dir.path()).expect("store"), cfg.clone(), Arc::new(clock));
    let new = NewAgent {
        email: "ada@example.test".into(),
        name: "Ada".into(),
        role: Role::Admin,
        password: PASSWORD.into(),
        departments: vec![],
    };
    let admin = desk.add_agent(None, new).expect("admin");
    let body = NewTicket {
        subject: "Backup failed".into(),
        body: "Again.".into(),
        requester_email: "c@customer.test".into(),
        ..Default::default()
    };
    let id = desk.create_ticket(&admin, body).expect("ticket").id;
    let before = desk.sla_of(id).expect("sla").expect("a policy applies");
    drop(desk);
    let later = ManualClock::new(Timestamp(start.0 + 5 * HOUR));
    let desk = Desk::new(Store::open(dir.path()).expect("store again"), cfg, Arc::new(later));
    assert_eq!(desk.sla_of(id).expect("sla"), Some(before.clone()));
    assert_eq!(desk.run_timers().expect("timers").alarms, 1, "the first response's breach (its warning came due with it)");
    let after = desk.sla_of(id).expect("sla").expect("sla");
    let due = before.clock(frontdesk::domain::sla::SlaTarget::FirstResponse).and_then(|c| c.due);
    assert_eq!(after.clock(frontdesk::domain::sla::SlaTarget::FirstResponse).and_then(|c| c.breached_at), due);
}
