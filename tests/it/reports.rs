//! Reports (issue 16 part 6) against a fixed data set with known answers, on
//! the injected clock and through the real HTTP server: created and
//! resolved per day, a reopened ticket counted on its last resolution, a
//! trashed ticket left out, the backlog by age, first-response and
//! resolution p50/p90 in calendar and business time (paused in Pending),
//! SLA compliance, the breakdown per department, filters, a limited agent
//! seeing only their department, the CSV of each table, and bad input.
//! The clock starts on Friday 15 January 2027, 08:00 UTC.

use crate::common::Browser;
use crate::inprocess::{InProcess, PASSWORD};
use frontdesk::desk::auth::NewAgent;
use frontdesk::desk::{NewEntry, NewTicket, TicketPatch};
use frontdesk::domain::{Channel, Role, Status, TicketId};

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;

const CONFIG: &str = r#"
[desk]
departments = ["Support", "Billing"]
default_department = "Support"

[[sla]]
name = "Standard"
first_response = "1h"
resolution = "8h"
"#;

fn ticket(d: &InProcess, subject: &str, department: &str, channel: Channel) -> TicketId {
    let new = NewTicket {
        subject: subject.into(),
        body: "Details.".into(),
        requester_email: "carol@customer.test".into(),
        department: Some(department.into()),
        channel: Some(channel),
        ..Default::default()
    };
    d.running.desk.create_ticket(&d.admin, new).expect("ticket").id
}

fn advance(d: &InProcess, ms: i64) {
    d.clock.advance_ms(ms);
    d.running.desk.run_timers().expect("timers");
}

fn set_status(d: &InProcess, id: TicketId, status: Status) {
    d.running.desk.update_ticket(&d.admin, id, TicketPatch { status: Some(status), ..Default::default() }).expect("status");
}

/// The value of a summary tile.
fn tile(page: &str, name: &str) -> String {
    let at = page.find(&format!("<dt>{name}</dt><dd>")).unwrap_or_else(|| panic!("no {name} tile in {page}"));
    let rest = &page[at + name.len() + 13..];
    rest[..rest.find("</dd>").expect("tile end")].to_string()
}

const RANGE: &str = "from=2027-01-15&to=2027-01-17";

/// One report table as CSV.
async fn csv(web: &mut Browser, section: &str) -> String {
    let r = web.get(&format!("/reports/csv/{section}?{RANGE}&group=department")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

/// The Created tile of the range with more filters.
async fn created(web: &mut Browser, q: &str) -> String {
    tile(&web.get(&format!("/reports?{RANGE}&{q}")).await.body, "Created")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_give_the_known_answers() {
    let d = InProcess::start_with(CONFIG).await;
    let desk = d.running.desk.clone();
    let bob = desk
        .add_agent(
            None,
            NewAgent {
                email: "bob@example.test".into(),
                name: "Bob".into(),
                role: Role::Agent,
                password: PASSWORD.into(),
                departments: vec!["Billing".into()],
            },
        )
        .expect("bob");

    // Friday 08:00: two tickets. T1 is answered at 08:30 and waits on the
    // customer (its SLA clocks pause); T2's first response falls due at
    // 09:00 unmet, Bob answers at 10:00.
    let t1 = ticket(&d, "Printer", "Support", Channel::Phone);
    let t2 = ticket(&d, "Invoice", "Billing", Channel::Email);
    let assign = TicketPatch { assignee: Some(Some(bob.id)), ..Default::default() };
    desk.update_ticket(&d.admin, t2, assign).expect("assign");
    advance(&d, 30 * MIN);
    let pending = |body: &str| NewEntry { body: body.into(), status: Some(Status::Pending), ..Default::default() };
    desk.post_entry(&d.admin, t1, pending("On it.")).expect("reply t1");
    advance(&d, 90 * MIN);
    desk.post_entry(&bob, t2, pending("Sent again.")).expect("reply t2");
    // 12:00: T1 resolved (4 h after creation; 30 min of business time).
    advance(&d, 2 * HOUR);
    set_status(&d, t1, Status::Resolved);

    // Saturday 09:00: T3 on the web, never answered. 10:00: T2 resolved
    // (26 h; 2 h of business time).
    advance(&d, 21 * HOUR);
    let t3 = ticket(&d, "Login", "Support", Channel::Web);
    advance(&d, HOUR);
    set_status(&d, t2, Status::Resolved);

    // Sunday 08:00: T4 goes to Trash. 12:00: T1 reopened, resolved at 13:00
    // (53 h after creation; 1 h 30 m of business time); closed later.
    advance(&d, 22 * HOUR);
    let t4 = ticket(&d, "Spam", "Support", Channel::Email);
    desk.set_trashed(&d.admin, t4, true).expect("trash");
    advance(&d, 4 * HOUR);
    set_status(&d, t1, Status::Open);
    advance(&d, HOUR);
    set_status(&d, t1, Status::Resolved);
    advance(&d, HOUR);
    set_status(&d, t1, Status::Closed);

    let range = RANGE;
    let mut web = Browser::logged_in(&d.base, "ada@example.test", PASSWORD).await;
    let r = web.get(&format!("/reports?{range}&group=department")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let page = r.body;
    assert_eq!(tile(&page, "Created"), "3", "T4 is in Trash");
    assert_eq!(tile(&page, "Resolved"), "2");
    assert_eq!(tile(&page, "Unresolved now"), "1");
    assert_eq!(tile(&page, "Not answered yet"), "1");
    assert_eq!(tile(&page, "First response p50"), "30 m");
    assert_eq!(tile(&page, "Resolution p50"), "1 d 2 h");
    // First responses: T1 met, T2 and T3 breached; resolutions: both met.
    assert_eq!(tile(&page, "SLA met"), "60.0 %");
    assert!(page.contains("<svg") && page.contains("<title>Jan 15: 2 created</title>"), "{page}");
    assert!(page.contains("<title>Jan 17: 1 resolved</title>"), "the reopened T1 counts on its last resolution");
    assert!(page.contains(r#"href="/reports/csv/volume?from=2027-01-15&amp;to=2027-01-17&amp;group=department""#), "{page}");

    assert_eq!(csv(&mut web, "volume").await, "Day starting,Created,Resolved\r\n2027-01-15,2,0\r\n2027-01-16,1,1\r\n2027-01-17,0,1\r\n");
    // T3 is 29 hours old at Sunday 14:00.
    assert_eq!(
        csv(&mut web, "backlog").await,
        "Age,Unresolved tickets\r\nunder 1 day,0\r\n1–3 days,1\r\n3–7 days,0\r\n1–4 weeks,0\r\nover 4 weeks,0\r\n"
    );
    assert_eq!(
        csv(&mut web, "times").await,
        "Measure,Tickets,p50,p90\r\nFirst response,2,30 m,2 h\r\nResolution,2,1 d 2 h,2 d 5 h\r\n\
         \"First response, business time\",2,30 m,2 h\r\n\"Resolution, business time\",2,1 h 30 m,2 h\r\n"
    );
    assert_eq!(
        csv(&mut web, "groups").await,
        "Department,Created,Resolved,Open now,First response p50,First response p90,Resolution p50,Resolution p90,SLA met\r\n\
         Support,2,1,1,30 m,30 m,2 d 5 h,2 d 5 h,66.7 %\r\n\
         Billing,1,1,0,2 h,2 h,1 d 2 h,1 d 2 h,50.0 %\r\n"
    );
    assert_eq!(
        csv(&mut web, "sla").await,
        "Target,Met,Breached,Met in time\r\nFirst response (tickets created),1,2,33.3 %\r\nResolution (tickets resolved),2,0,100.0 %\r\n"
    );

    // Filters: by department, by agent, by channel; weeks.
    assert_eq!(created(&mut web, "department=Billing").await, "1");
    assert_eq!(created(&mut web, &format!("agent={}", bob.id.0)).await, "1");
    assert_eq!(created(&mut web, "agent=unassigned").await, "2");
    assert_eq!(created(&mut web, "channel=web").await, "1");
    let weeks = web.get(&format!("/reports/csv/volume?{range}&grain=week")).await.body;
    // Monday 11 January starts the week; the first bucket is cut at the range.
    assert_eq!(weeks, "Week starting,Created,Resolved\r\n2027-01-15,3,2\r\n");

    // Bob works in Billing only: he sees T2 and nothing else.
    let mut bobs = Browser::logged_in(&d.base, "bob@example.test", PASSWORD).await;
    let page = bobs.get(&format!("/reports?{range}")).await.body;
    assert_eq!(tile(&page, "Created"), "1");
    assert_eq!(tile(&page, "Unresolved now"), "0");
    assert!(!page.contains("<option value=\"Support\""), "the department filter offers only his");

    // Bad input is named; an unknown table is not found.
    let r = web.get("/reports?from=yesterday").await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("is not a date"), "{}", r.body);
    assert_eq!(web.get("/reports?from=2027-02-01&to=2027-01-01").await.status, 400);
    assert_eq!(web.get("/reports?group=mood").await.status, 400);
    assert_eq!(web.get("/reports/csv/secrets").await.status, 404);
    // Not signed in: the login page.
    let mut anon = Browser::new(&d.base);
    assert!(matches!(anon.get("/reports").await.status, 302 | 303), "to the login page");

    // The facts are stored: a desk that restarts reads the same (checked
    // by the store test); a restored ticket comes back into the counts.
    desk.set_trashed(&d.admin, t4, false).expect("restore");
    let page = web.get(&format!("/reports?{range}")).await.body;
    assert_eq!(tile(&page, "Created"), "4");
    assert_eq!(tile(&page, "Unresolved now"), "2");
    let _ = t3;
}

/// A merge rebuilds the survivor's first response from the combined thread;
/// a role without the export permission sees the report but gets no CSV.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merges_rebuild_facts_and_csv_needs_export() {
    let d = InProcess::start_with(CONFIG).await;
    let desk = d.running.desk.clone();
    let quiet = ticket(&d, "Printer again", "Support", Channel::Email);
    let answered = ticket(&d, "Printer", "Support", Channel::Email);
    advance(&d, 20 * MIN);
    desk.post_entry(&d.admin, answered, NewEntry { body: "Restart it.".into(), ..Default::default() }).expect("reply");
    let mut web = Browser::logged_in(&d.base, "ada@example.test", PASSWORD).await;
    let day = "from=2027-01-15&to=2027-01-15";
    assert_eq!(tile(&web.get(&format!("/reports?{day}")).await.body, "Not answered yet"), "1");
    desk.merge(&d.admin, answered, quiet).expect("merge");
    let page = web.get(&format!("/reports?{day}")).await.body;
    assert_eq!(tile(&page, "Created"), "1", "the merged-away ticket is gone");
    assert_eq!(tile(&page, "Not answered yet"), "0", "the survivor has the answer now");
    assert_eq!(tile(&page, "First response p50"), "20 m");

    let ro = d.add("rita@example.test", "Rita", Role::Agent);
    desk.edit_agent(&d.admin, ro.id, "read_only", &[], &[]).expect("role");
    let mut rita = Browser::logged_in(&d.base, "rita@example.test", PASSWORD).await;
    let page = rita.get(&format!("/reports?{day}")).await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("Download CSV"), "no CSV links without the export permission");
    assert_eq!(rita.get(&format!("/reports/csv/volume?{day}")).await.status, 403);
}
