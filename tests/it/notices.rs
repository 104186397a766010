//! Who hears of what (issue 17 part 6), in-process with sending off so the
//! outbox shows every queued mail: per-department rules for new tickets and
//! customer replies, and the notices of a ticket closed, transferred to a
//! department, assigned to a team, and opened by an agent for a requester.

use std::time::Duration;

use crate::common::smtp::Smtp;
use crate::inprocess::InProcess;
use frontdesk::desk::{NewTicket, TicketPatch};
use frontdesk::domain::{Person, Role, Status, TicketId};

fn base(subject: &str, department: &str) -> NewTicket {
    NewTicket {
        subject: subject.into(),
        body: "Details inside.".into(),
        requester_email: "carol@customer.test".into(),
        department: Some(department.into()),
        ..Default::default()
    }
}

/// (kind, recipients) of every queued mail about `ticket`, in order.
fn mails(d: &InProcess, ticket: TicketId) -> Vec<(String, Vec<String>)> {
    let mut all = d.running.desk.outbox(&d.admin, 1000).expect("outbox");
    all.sort_by_key(|m| m.id);
    all.into_iter().filter(|m| m.ticket == Some(ticket)).map(|m| (m.kind, m.to)).collect()
}

fn kinds(d: &InProcess, ticket: TicketId, kind: &str) -> Vec<String> {
    let mut to: Vec<String> = mails(d, ticket).into_iter().filter(|(k, _)| k == kind).flat_map(|(_, to)| to).collect();
    to.sort();
    to
}

fn agent(d: &InProcess, email: &str, departments: &[&str], teams: &[&str]) -> Person {
    let p = d.add(email, email.split('@').next().unwrap_or(email), Role::Agent);
    let deps: Vec<String> = departments.iter().map(|s| s.to_string()).collect();
    let teams: Vec<String> = teams.iter().map(|s| s.to_string()).collect();
    d.running.desk.edit_agent(&d.admin, p.id, "agent", &deps, &teams).expect("agent")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn departments_choose_who_hears_and_every_notice_reaches_the_right_people() {
    let d = InProcess::start_with(
        "department = \"Support\"\n[desk]\ndepartments = [\"Support\", \"Sales\"]\n\
         [[team]]\nname = \"Network\"\n\
         [[department]]\nname = \"Sales\"\nnew_ticket = \"none\"\n\
         [[department]]\nname = \"Support\"\ncustomer_reply = \"assignee\"\n",
    )
    .await;
    let desk = d.running.desk.clone();
    let bob = agent(&d, "bob@example.test", &["Support"], &[]);
    let _sam = agent(&d, "sam@example.test", &["Sales"], &[]);
    let _nina = agent(&d, "nina@example.test", &["Support"], &["Network"]);
    // Sales hears of no new ticket; the requester is not mailed by default.
    let sales = desk.create_ticket(&d.admin, base("Quote", "Sales")).expect("sales ticket");
    assert_eq!(mails(&d, sales.id), vec![], "Sales: new_ticket = none, notify_agent_ticket off");
    // Support's members hear (not the admin who opened it); the requester
    // gets the "opened for you" mail when the agent asks for it.
    let t = desk.create_ticket(&d.admin, NewTicket { notify_requester: Some(true), ..base("VPN drops", "Support") }).expect("ticket");
    assert_eq!(kinds(&d, t.id, "new_ticket"), ["bob@example.test", "nina@example.test"]);
    assert_eq!(kinds(&d, t.id, "agent_ticket"), ["carol@customer.test"]);
    // Each quotes the ticket's first message (read from its thread: the
    // ticket keeps no copy of it).
    let texts: Vec<String> = desk
        .outbox(&d.admin, 1000)
        .expect("outbox")
        .into_iter()
        .filter(|m| m.ticket == Some(t.id) && (m.kind == "new_ticket" || m.kind == "agent_ticket"))
        .map(|m| m.text)
        .collect();
    assert_eq!(texts.len(), 3);
    assert!(texts.iter().all(|x| x.contains("Details inside.")), "{texts:?}");
    // customer_reply = assignee: an unassigned ticket's reply tells nobody…
    let reference = desk.reference(t.id);
    let smtp = d.running.smtp.expect("smtp").to_string();
    let reply = |n: u32| {
        let m = format!(
            "From: Carol <carol@customer.test>\r\nTo: support@example.test\r\nSubject: Re: [{reference}] VPN drops\r\n\
             Message-ID: <r{n}@customer.test>\r\n\r\nStill dropping ({n}).\r\n"
        );
        assert_eq!(Smtp::send_mail(&smtp, "carol@customer.test", &["support@example.test"], m.as_bytes()).0, 250);
    };
    let wait_entries = |n: usize| {
        let desk = desk.clone();
        let admin = d.admin.clone();
        async move {
            for _ in 0..200 {
                let v = desk.ticket_view(&admin, t.id).expect("view");
                if v.entries.iter().filter(|e| e.body.contains("Still dropping")).count() >= n {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            panic!("the reply did not arrive");
        }
    };
    reply(1);
    wait_entries(1).await;
    assert_eq!(kinds(&d, t.id, "requester_reply"), Vec::<String>::new());
    // …once Bob has it, he alone hears.
    let give = TicketPatch { assignee: Some(Some(bob.id)), ..Default::default() };
    desk.update_ticket(&d.admin, t.id, give).expect("assign");
    reply(2);
    wait_entries(2).await;
    assert_eq!(kinds(&d, t.id, "requester_reply"), ["bob@example.test"]);
    // Assigned to a team: its members hear (Nina), not the assignee again.
    let team = TicketPatch { team: Some(Some("Network".into())), ..Default::default() };
    desk.update_ticket(&d.admin, t.id, team).expect("team");
    assert_eq!(kinds(&d, t.id, "team_assigned"), ["nina@example.test"]);
    // Transferred to Sales: Sales' agents hear (the transfer rule), and Bob
    // (who does not work there) loses the ticket.
    let moved = TicketPatch { department: Some("Sales".into()), assignee: Some(None), ..Default::default() };
    desk.update_ticket(&d.admin, t.id, moved).expect("transfer");
    assert_eq!(kinds(&d, t.id, "transferred"), ["sam@example.test"]);
    // Closed by an agent: the requester is told; resolving first means the
    // closing is silent (they were told at Resolved).
    let close = TicketPatch { status: Some(Status::Closed), ..Default::default() };
    desk.update_ticket(&d.admin, t.id, close.clone()).expect("close");
    assert_eq!(kinds(&d, t.id, "closed"), ["carol@customer.test"]);
    let other = desk.create_ticket(&d.admin, base("Toner", "Support")).expect("ticket");
    let resolve = TicketPatch { status: Some(Status::Resolved), ..Default::default() };
    desk.update_ticket(&d.admin, other.id, resolve).expect("resolve");
    desk.update_ticket(&d.admin, other.id, close).expect("close");
    assert_eq!((kinds(&d, other.id, "resolved").len(), kinds(&d, other.id, "closed").len()), (1, 0));
    // An agent can mute the new kinds like the others.
    let settings = desk.my_notifications(&bob).expect("settings");
    assert!(settings.iter().any(|(k, on)| k.key() == "transferred" && *on) && settings.iter().any(|(k, _)| k.key() == "team_assigned"));
}
