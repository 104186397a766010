//! Roles through the real server: the matrix (every agent route × every
//! built-in role, each allowed or refused as the role says, and a refusal
//! changes nothing), a `[[role]]` from the config, a light agent's mail
//! reply kept as a note, and the admin page that gives roles and teams.

use crate::common::Browser;
use crate::inprocess::{InProcess, PASSWORD};
use frontdesk::desk::{NewTicket, TicketPatch};
use frontdesk::domain::{BulkAction, EntryKind, Event, Person, Priority, Role, Status, Ticket};

const ROLES: [&str; 5] = ["admin", "agent", "light_agent", "read_only", "manager"];

/// One request of the matrix: method, path, form, the roles that may.
type Case<'a> = (&'a str, String, Vec<(&'a str, String)>, &'a [&'a str]);

/// The tickets one role's agent works on (each role its own, so one role's
/// changes never decide another's outcome).
struct Fixture {
    main: Ticket,
    other: Ticket,
    merge_from: Ticket,
    merge_into: Ticket,
    trash: Ticket,
    junk: Ticket,
    closed: Ticket,
}

fn ticket(d: &InProcess, subject: &str, requester: &str) -> Ticket {
    let new = NewTicket { subject: subject.into(), body: "It broke.".into(), requester_email: requester.into(), ..Default::default() };
    d.running.desk.create_ticket(&d.admin, new).expect("ticket")
}

fn fixture(d: &InProcess, role: &str) -> Fixture {
    let t = |s: &str| ticket(d, &format!("{role} {s}"), &format!("carol.{role}@customer.test"));
    let closed = t("closed");
    let close = TicketPatch { status: Some(Status::Closed), ..Default::default() };
    let closed = d.running.desk.update_ticket(&d.admin, closed.id, close).expect("close");
    Fixture {
        main: t("main"),
        other: t("other"),
        merge_from: t("merge from"),
        merge_into: t("merge into"),
        trash: t("trash"),
        junk: ticket(d, &format!("{role} junk"), &format!("spammer.{role}@scam.test")),
        closed,
    }
}

/// An agent with the role, logged in.
async fn agent(d: &InProcess, role: &str) -> (Person, Browser) {
    let email = format!("{role}@example.test");
    let kind = if role == "admin" { Role::Admin } else { Role::Agent };
    let p = d.add(&email, role, kind);
    let p = d.running.desk.edit_agent(&d.admin, p.id, role, &[], &[]).expect("role");
    (p, Browser::logged_in(&d.base, &email, PASSWORD).await)
}

/// What a request did: done (a page or a redirect that is no login) or
/// refused (403, or 404 where a page does not show it exists).
fn allowed(status: u16, location: Option<&str>) -> Option<bool> {
    match status {
        200 | 204 => Some(true),
        303 | 302 => Some(!location.unwrap_or("").starts_with("/login")),
        403 | 404 => Some(false),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_for_every_built_in_role() {
    let d = InProcess::start_with("[desk]\ndepartments = [\"Support\", \"Sales\"]\n").await;
    let desk = d.running.desk.clone();
    let mut failures = Vec::new();
    for role in ROLES {
        let f = fixture(&d, role);
        let (me, mut b) = agent(&d, role).await;
        let r = |t: &Ticket| desk.reference(t.id);
        let (main, other) = (r(&f.main), r(&f.other));
        let requester = f.main.requester.0;
        let bulk_priority = BulkAction::SetPriority(Priority::Low).form_value();
        let (admin_id, my_id) = (d.admin.id.0.to_string(), me.id.0.to_string());
        let writers = &["admin", "agent", "manager"][..];
        let everyone = &ROLES[..];
        let deleters = &["admin", "manager"][..];
        // (method, path, form, roles that may)
        let cases: Vec<Case> = vec![
            ("GET", "/tickets".into(), vec![], everyone),
            ("GET", format!("/tickets/{main}"), vec![], everyone),
            ("GET", format!("/tickets/{main}/print"), vec![], everyone),
            ("GET", format!("/tickets/{main}/pdf"), vec![], everyone),
            ("GET", "/search?q=broke".into(), vec![], everyone),
            ("GET", "/tickets/following".into(), vec![], everyone),
            ("GET", "/trash".into(), vec![], everyone),
            ("GET", "/junk".into(), vec![], everyone),
            ("GET", "/people".into(), vec![], everyone),
            ("GET", format!("/requesters/{requester}"), vec![], everyone),
            ("GET", "/settings/profile".into(), vec![], everyone),
            ("GET", "/settings/2fa".into(), vec![], everyone),
            ("GET", "/tickets/new".into(), vec![], writers),
            ("GET", "/tickets.csv".into(), vec![], writers),
            ("GET", "/people.csv".into(), vec![], writers),
            ("GET", "/people/import".into(), vec![], writers),
            ("GET", "/kb".into(), vec![], everyone),
            ("GET", "/kb/new".into(), vec![], writers),
            ("POST", "/kb/categories".into(), vec![("name", format!("{role} category"))], writers),
            (
                "POST",
                "/kb/new".into(),
                vec![("title", format!("{role} article")), ("body", "Restart it.".into()), ("state", "published".into())],
                writers,
            ),
            ("GET", "/admin/agents".into(), vec![], &["admin"]),
            ("GET", "/admin/audit".into(), vec![], &["admin"]),
            ("GET", "/admin/tokens".into(), vec![], &["admin"]),
            ("GET", "/admin/outbox".into(), vec![], &["admin"]),
            ("GET", "/settings".into(), vec![], everyone),
            ("POST", format!("/tickets/{main}/follow"), vec![("on", "1".into())], everyone),
            ("POST", format!("/tickets/{main}/reply"), vec![("body", "Please restart it.".into())], writers),
            (
                "POST",
                format!("/tickets/{main}/reply"),
                vec![("body", "Looks like the driver.".into()), ("internal", "1".into())],
                &["admin", "agent", "manager", "light_agent"],
            ),
            ("POST", format!("/tickets/{main}/update"), vec![("priority", "high".into())], writers),
            ("POST", format!("/tickets/{main}/update"), vec![("assignee", my_id.clone())], writers),
            ("POST", format!("/tickets/{main}/update"), vec![("assignee", admin_id.clone())], writers),
            ("POST", format!("/tickets/{main}/subject"), vec![("subject", format!("{role} main, renamed"))], writers),
            ("POST", format!("/tickets/{main}/link"), vec![("other", other.clone())], writers),
            ("POST", format!("/tickets/{other}/collaborators"), vec![("email", format!("cc.{role}@customer.test"))], writers),
            ("POST", format!("/tickets/{other}/checklist"), vec![("text", format!("{role} item"))], writers),
            ("POST", format!("/tickets/{other}/requester"), vec![("email", format!("new.{role}@customer.test"))], writers),
            ("POST", format!("/tickets/{}/merge", r(&f.merge_from)), vec![("into", r(&f.merge_into))], writers),
            (
                "POST",
                "/tickets".into(),
                vec![
                    ("requester_email", format!("dan.{role}@customer.test")),
                    ("subject", "By phone".into()),
                    ("channel", "phone".into()),
                    ("priority", "low".into()),
                ],
                writers,
            ),
            ("POST", "/tickets/bulk".into(), vec![("action", bulk_priority), ("id", f.other.id.0.to_string())], writers),
            ("POST", format!("/requesters/{requester}"), vec![("name", "Carol C.".into()), ("notes", "VIP".into())], writers),
            ("POST", format!("/tickets/{}/trash", r(&f.trash)), vec![("on", "1".into())], deleters),
            ("POST", format!("/tickets/{}/junk", r(&f.junk)), vec![], deleters),
            ("POST", format!("/tickets/{}/update", r(&f.closed)), vec![("status", "open".into())], deleters),
            (
                "POST",
                "/admin/agents".into(),
                vec![("name", "Eve".into()), ("email", format!("eve.{role}@example.test")), ("role", "agent".into())],
                &["admin"],
            ),
            (
                "POST",
                "/settings/profile".into(),
                vec![("name", format!("{role} agent")), ("signature", String::new()), ("time_zone", String::new())],
                everyone,
            ),
        ];
        for (method, path, form, may) in cases {
            let res = if method == "GET" {
                b.get(&path).await
            } else {
                let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
                b.post(&path, &form).await
            };
            let want = may.contains(&role);
            let got = allowed(res.status, res.location.as_deref());
            if got != Some(want) {
                let body: String = res.body.chars().take(300).collect();
                failures.push(format!(
                    "{role}: {method} {path}: wanted {}, got {} {:?} {body}",
                    if want { "done" } else { "refused" },
                    res.status,
                    res.location
                ));
            }
        }
        // The API holds the same roles (a token never gives more than its
        // agent's role; its scopes can only give less).
        let spec = frontdesk::desk::tokens::TokenSpec::standard("matrix");
        let api = crate::common::Api::new(&d.base, &desk.create_api_token(None, &me.email, spec).expect("token"));
        let api_cases: Vec<(&str, String, Option<serde_json::Value>, &[&str])> = vec![
            ("GET", "/tickets".into(), None, everyone),
            ("GET", format!("/tickets/{main}"), None, everyone),
            ("GET", "/people?q=carol".into(), None, everyone),
            ("POST", format!("/tickets/{main}/entries"), Some(serde_json::json!({ "body": "By the API.", "internal": false })), writers),
            (
                "POST",
                format!("/tickets/{main}/entries"),
                Some(serde_json::json!({ "body": "Noted by the API.", "internal": true })),
                &["admin", "agent", "manager", "light_agent"],
            ),
            ("PATCH", format!("/tickets/{other}"), Some(serde_json::json!({ "priority": "urgent" })), writers),
            ("POST", format!("/tickets/{other}/collaborators"), Some(serde_json::json!({ "email": "api.cc@customer.test" })), writers),
            ("PUT", format!("/tickets/{other}/requester"), Some(serde_json::json!({ "email": "api.new@customer.test" })), writers),
            (
                "POST",
                "/tickets".into(),
                Some(serde_json::json!({ "subject": "API", "body": "x", "requester": { "name": "Dan", "email": "dan@customer.test" } })),
                writers,
            ),
        ];
        for (method, path, body, may) in api_cases {
            let (status, answer) = api.call(method, &path, body).await;
            let want = may.contains(&role);
            if allowed(status, None) != Some(want) && !(want && status == 201) {
                failures
                    .push(format!("{role}: API {method} {path}: wanted {}, got {status} {answer}", if want { "done" } else { "refused" }));
            }
        }
        // A refusal changed nothing: what the read-only agent tried left the
        // ticket as it was; the light agent's one entry is an internal note.
        let view = desk.ticket_view(&d.admin, f.main.id).expect("view");
        // (Following a ticket is every role's; it is logged as an event.)
        let following = |e: &&frontdesk::domain::ThreadEntry| matches!(e.event, Some(Event::Following { .. }));
        let written: Vec<EntryKind> =
            view.entries.iter().filter(|e| e.author == Some(me.id)).filter(|e| !following(e)).map(|e| e.kind).collect();
        match role {
            "read_only" => {
                assert!(written.is_empty(), "{role} wrote {written:?}");
                assert_eq!((view.ticket.priority, view.ticket.assignee, &view.ticket.subject), (f.main.priority, None, &f.main.subject));
            }
            "light_agent" => {
                assert_eq!(written, vec![EntryKind::Note, EntryKind::Note], "{role}: one note by the UI, one by the API");
                assert_eq!((view.ticket.priority, view.ticket.assignee), (f.main.priority, None));
                let closed = desk.ticket_view(&d.admin, f.closed.id).expect("view").ticket;
                assert_eq!(closed.status, Status::Closed);
            }
            _ => assert!(written.contains(&EntryKind::Reply) && written.contains(&EntryKind::Note), "{role}: {written:?}"),
        }
    }
    assert!(failures.is_empty(), "{} wrong outcomes:\n{}", failures.len(), failures.join("\n"));
    d.running.stop().await;
}

fn crlf(s: &str) -> Vec<u8> {
    s.replace('\n', "\r\n").into_bytes()
}

/// Waits (a few seconds at most) until the ticket's thread has `n` entries
/// by `who`; their kinds.
async fn entries_by(d: &InProcess, t: &Ticket, who: &Person, n: usize) -> Vec<EntryKind> {
    let mut kinds = Vec::new();
    for _ in 0..200 {
        let v = d.running.desk.ticket_view(&d.admin, t.id).expect("view");
        kinds = v.entries.iter().filter(|e| e.author == Some(who.id) && e.kind != EntryKind::Event).map(|e| e.kind).collect();
        if kinds.len() >= n {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    kinds
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teams_queues_and_a_role_from_the_config() {
    let d = InProcess::start_with(
        "[desk]\ndepartments = [\"Support\", \"Sales\"]\n\
         [[role]]\nname = \"triage\"\npermissions = [\"tickets.note\", \"tickets.assign\"]\n\
         [[team]]\nname = \"Network\"\ndepartments = [\"Sales\"]\n[[team]]\nname = \"Desk side\"\n",
    )
    .await;
    let desk = d.running.desk.clone();
    let mut admin = Browser::logged_in(&d.base, "ada@example.test", PASSWORD).await;
    let nina = d.add("nina@example.test", "Nina", Role::Agent);
    // The admin page gives role, departments and teams in one form.
    let agents = admin.get("/admin/agents").await.body;
    assert!(agents.contains("Light agent") && agents.contains("triage") && agents.contains("value=\"Network\""), "{agents}");
    let form = [("role", "agent"), ("departments", "Support"), ("teams", "Network"), ("name", "Nina"), ("email", "nina@example.test")];
    let saved = admin.post(&format!("/admin/agents/{}/edit", nina.id.0), &form).await;
    assert_eq!(saved.location.as_deref(), Some("/admin/agents?done=saved"), "{}", saved.body);
    let bad = admin.post(&format!("/admin/agents/{}/edit", nina.id.0), &[("role", "wizard")]).await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.contains("is not a role"), "{}", bad.body);
    // Nina works in Support, and in Sales through her team.
    let sales =
        desk.create_ticket(&d.admin, NewTicket { department: Some("Sales".into()), ..base("Quote for 40 laptops") }).expect("sales ticket");
    let support = desk.create_ticket(&d.admin, base("Printer offline")).expect("support ticket");
    let mut nb = Browser::logged_in(&d.base, "nina@example.test", PASSWORD).await;
    let (sr, pr) = (desk.reference(sales.id), desk.reference(support.id));
    assert_eq!(nb.get(&format!("/tickets/{sr}")).await.status, 200, "a team's department is its members'");
    // Assigning to a team: the ticket's log says so, the team queue lists it.
    let r = admin.post(&format!("/tickets/{sr}/update"), &[("team", "network")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let t = desk.ticket_view(&d.admin, sales.id).expect("view").ticket;
    assert_eq!(t.team.as_deref(), Some("Network"));
    let queue = nb.get("/tickets?team=Network").await.body;
    assert!(queue.contains("Quote for 40 laptops") && !queue.contains("Printer offline"), "{queue}");
    assert!(queue.contains("My teams") && queue.contains("Team Network"), "{queue}");
    // A team only takes tickets of its departments; an unknown team is no team.
    let r = admin.post(&format!("/tickets/{pr}/update"), &[("team", "Network")]).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("Network does not work in Support"), "{}", r.body);
    assert_eq!(admin.post(&format!("/tickets/{pr}/update"), &[("team", "Nowhere")]).await.status, 400);
    assert_eq!(admin.post(&format!("/tickets/{pr}/update"), &[("team", "Desk side")]).await.status, 303);
    // The API shows and sets the team.
    let token = desk.create_api_token(None, "ada@example.test", frontdesk::desk::tokens::TokenSpec::standard("t")).expect("token");
    let api = crate::common::Api::new(&d.base, &token);
    let (status, v) = api.call("GET", &format!("/tickets/{sr}"), None).await;
    assert_eq!((status, v["team"].as_str()), (200, Some("Network")), "{v}");
    let (status, v) = api.call("PATCH", &format!("/tickets/{pr}"), Some(serde_json::json!({ "team": null }))).await;
    assert_eq!((status, v["team"].clone()), (200, serde_json::Value::Null), "{v}");
    // The bulk bar assigns many to a team (each ticket checked on its own).
    let more =
        desk.create_ticket(&d.admin, NewTicket { department: Some("Sales".into()), ..base("Quote for 10 docks") }).expect("sales ticket");
    let form = vec![
        ("_csrf".to_string(), admin.csrf.clone()),
        ("action".to_string(), BulkAction::SetTeam(Some("Network".into())).form_value()),
        ("id".to_string(), more.id.0.to_string()),
    ];
    let job = admin.post_raw("/tickets/bulk", &form).await;
    assert!(job.location.as_deref().is_some_and(|l| l.starts_with("/jobs/")), "{} {}", job.status, job.body);
    let mut team = None;
    for _ in 0..200 {
        team = desk.ticket_view(&d.admin, more.id).expect("view").ticket.team;
        if team.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(team.as_deref(), Some("Network"));
    // A role from the config: notes and assigning, no public replies.
    let tri = d.add("tri@example.test", "Tri", Role::Agent);
    desk.edit_agent(&d.admin, tri.id, "Triage", &[], &[]).expect("triage role");
    let mut tb = Browser::logged_in(&d.base, "tri@example.test", PASSWORD).await;
    let page = tb.get(&format!("/tickets/{pr}")).await.body;
    assert!(page.contains("Add note") && !page.contains("Send reply"), "{page}");
    assert_eq!(tb.post(&format!("/tickets/{pr}/update"), &[("team", "Desk side")]).await.status, 303);
    let refused = tb.post(&format!("/tickets/{pr}/reply"), &[("body", "Hello customer")]).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(refused.body.contains("does not allow public replies"), "{}", refused.body);
    assert_eq!(tb.post(&format!("/tickets/{pr}/update"), &[("priority", "urgent")]).await.status, 403);
    // Out of the team, out of Sales.
    let form = [("role", "agent"), ("departments", "Support")];
    assert_eq!(admin.post(&format!("/admin/agents/{}/edit", nina.id.0), &form).await.status, 303);
    assert_eq!(nb.get(&format!("/tickets/{sr}")).await.status, 404);
    d.running.stop().await;
}

fn base(subject: &str) -> NewTicket {
    NewTicket {
        subject: subject.into(),
        body: "Details inside.".into(),
        requester_email: "carol@customer.test".into(),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_light_agents_mail_reply_is_kept_as_an_internal_note() {
    let d = InProcess::start().await;
    let desk = d.running.desk.clone();
    let light = d.add("light@example.test", "Lee", Role::Agent);
    desk.edit_agent(&d.admin, light.id, "light_agent", &[], &[]).expect("role");
    let t = desk.create_ticket(&d.admin, base("VPN drops")).expect("ticket");
    // The new-ticket alert to Lee (waiting in the outbox: sending is off)
    // carries a token signed for Lee: a reply to it is proven Lee's.
    let alert = desk
        .outbox(&d.admin, 100)
        .expect("outbox")
        .into_iter()
        .find(|m| m.to == ["light@example.test"])
        .expect("an alert to the light agent");
    let mail = crlf(&format!(
        "From: Lee <light@example.test>\nTo: support@example.test\nCc: boss@customer.test\nSubject: Re: [{}] VPN drops\nIn-Reply-To: {}\n\n#status pending\nCustomer: try the other profile.\n",
        desk.reference(t.id),
        alert.message_id
    ));
    let smtp = d.running.smtp.expect("smtp").to_string();
    let reply = tokio::task::spawn_blocking(move || {
        crate::common::smtp::Smtp::send_mail(&smtp, "light@example.test", &["support@example.test"], &mail)
    })
    .await
    .expect("smtp client");
    assert_eq!(reply.0, 250, "{reply:?}");
    assert_eq!(entries_by(&d, &t, &light, 1).await, vec![EntryKind::Note], "nothing reaches the customer");
    let log = desk.ticket_view(&d.admin, t.id).expect("view");
    assert!(log.entries.iter().any(|e| format!("{:?}", e.event).contains("does not allow public replies")), "{:?}", log.entries);
    assert_eq!(log.ticket.status, Status::Open, "the command needs tickets.edit");
    assert!(desk.outbox(&d.admin, 100).expect("outbox").iter().all(|m| m.to != ["carol@customer.test"] || m.kind != "reply"));
    assert!(log.collaborators.is_empty(), "a note's Cc does not make collaborators: {:?}", log.collaborators);
    // A read-only agent's mail adds nothing: it waits in Junk, saying why.
    let ro = d.add("ro@example.test", "Ro", Role::Agent);
    desk.edit_agent(&d.admin, ro.id, "read_only", &[], &[]).expect("role");
    let t = desk.create_ticket(&d.admin, base("Printer jams")).expect("a ticket the read-only agent is told of");
    let alert = desk
        .outbox(&d.admin, 100)
        .expect("outbox")
        .into_iter()
        .find(|m| m.to == ["ro@example.test"])
        .expect("an alert to the read-only agent");
    let mail = crlf(&format!(
        "From: Ro <ro@example.test>\nTo: support@example.test\nSubject: Re: [{}] Printer jams\nIn-Reply-To: {}\n\nI would close it.\n",
        desk.reference(t.id),
        alert.message_id
    ));
    let smtp = d.running.smtp.expect("smtp").to_string();
    let reply = tokio::task::spawn_blocking(move || {
        crate::common::smtp::Smtp::send_mail(&smtp, "ro@example.test", &["support@example.test"], &mail)
    })
    .await
    .expect("smtp client");
    assert_eq!(reply.0, 250, "{reply:?}");
    let mut junk = Vec::new();
    for _ in 0..200 {
        junk = desk.junk(&d.admin, 100).expect("junk");
        if !junk.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(junk.iter().any(|j| j.reason.contains("writes nothing to tickets")), "{junk:?}");
    assert!(entries_by(&d, &t, &ro, 0).await.is_empty());
    d.running.stop().await;
}

/// What an outside read of the roles found, each through the real server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_hold_at_the_edges() {
    let d = InProcess::start_with(
        "[desk]\ndepartments = [\"Support\", \"Sales\"]\n\
         [[role]]\nname = \"replier\"\npermissions = [\"tickets.reply\"]\n\
         [[team]]\nname = \"Network\"\ndepartments = [\"Sales\"]\n",
    )
    .await;
    let desk = d.running.desk.clone();
    let mut admin = Browser::logged_in(&d.base, "ada@example.test", PASSWORD).await;
    // Choosing the status with a reply needs tickets.edit.
    let rep = d.add("rep@example.test", "Rep", Role::Agent);
    desk.edit_agent(&d.admin, rep.id, "replier", &[], &[]).expect("role");
    let t = desk.create_ticket(&d.admin, base("Disk full")).expect("ticket");
    let r = desk.reference(t.id);
    let mut rb = Browser::logged_in(&d.base, "rep@example.test", PASSWORD).await;
    let refused = rb.post(&format!("/tickets/{r}/reply"), &[("body", "Fixed."), ("status", "resolved")]).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(refused.body.contains("does not allow changing tickets"), "{}", refused.body);
    assert_eq!(rb.post(&format!("/tickets/{r}/reply"), &[("body", "Looking into it.")]).await.status, 303);
    assert_eq!(desk.ticket_view(&d.admin, t.id).expect("view").ticket.status, Status::Pending, "a reply's own status rule");
    // Saving the panel keeps an assignee who works there through a team.
    let nina = d.add("nina@example.test", "Nina", Role::Agent);
    desk.edit_agent(&d.admin, nina.id, "agent", &["Support".into()], &["Network".into()]).expect("nina");
    let sales = desk.create_ticket(&d.admin, NewTicket { department: Some("Sales".into()), ..base("Quote") }).expect("sales");
    let sr = desk.reference(sales.id);
    let give = [("assignee", nina.id.0.to_string()), ("team", "Network".to_string())];
    let give: Vec<(&str, &str)> = give.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(admin.post(&format!("/tickets/{sr}/update"), &give).await.status, 303);
    let panel = admin.get(&format!("/tickets/{sr}")).await.body;
    assert!(panel.contains(&format!("<option value=\"{}\" selected>", nina.id.0)), "{panel}");
    // Moving the ticket out of the team's departments takes it off the team.
    let moved = admin.post(&format!("/tickets/{sr}/update"), &[("department", "Support"), ("assignee", &nina.id.0.to_string())]).await;
    assert_eq!(moved.status, 303, "{}", moved.body);
    let after = desk.ticket_view(&d.admin, sales.id).expect("view").ticket;
    assert_eq!((after.department.as_str(), after.team.clone(), after.assignee), ("Support", None, Some(nina.id)));
    // A manager of Sales cannot ban a sender who also wrote to Support.
    let mgr = d.add("mgr@example.test", "Mo", Role::Agent);
    desk.edit_agent(&d.admin, mgr.id, "manager", &["Sales".into()], &[]).expect("manager");
    let both = |dept: &str| NewTicket { department: Some(dept.into()), requester_email: "mixed@customer.test".into(), ..base(dept) };
    desk.create_ticket(&d.admin, both("Support")).expect("support");
    let in_sales = desk.create_ticket(&d.admin, both("Sales")).expect("sales");
    let mut mb = Browser::logged_in(&d.base, "mgr@example.test", PASSWORD).await;
    let junk = mb.post(&format!("/tickets/{}/junk", desk.reference(in_sales.id)), &[]).await;
    assert_eq!(junk.status, 403, "{}", junk.body);
    assert!(junk.body.contains("ask an admin to ban them"), "{}", junk.body);
    let store = desk.store_for_tests();
    assert!(!store.read().unwrap().is_banned("mixed@customer.test").unwrap(), "no ban");
    assert_eq!(mb.post(&format!("/tickets/{}/trash", desk.reference(in_sales.id)), &[("on", "1")]).await.status, 303);
    d.running.stop().await;
}

/// A forged reply in an agent's name that the spam rules held in Junk stays
/// a note when someone releases it: nothing is mailed as the agent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_released_forged_agent_reply_stays_a_note() {
    let d = InProcess::start().await;
    let desk = d.running.desk.clone();
    let bob = d.add("bob@example.test", "Bob", Role::Agent);
    let t = desk.create_ticket(&d.admin, base("Laptop")).expect("ticket");
    let forged = crlf(&format!(
        "From: Bob <bob@example.test>\nTo: support@example.test\nSubject: Re: [{}] Laptop\nMIME-Version: 1.0\n\
         Content-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\nRun the attached fix.\n\
         --b\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename=\"fix.exe\"\n\nMZ\n--b--\n",
        desk.reference(t.id)
    ));
    let smtp = d.running.smtp.expect("smtp").to_string();
    let reply = tokio::task::spawn_blocking(move || {
        crate::common::smtp::Smtp::send_mail(&smtp, "bob@example.test", &["support@example.test"], &forged)
    })
    .await
    .expect("smtp client");
    assert_eq!(reply.0, 250, "{reply:?}");
    let mut junk = Vec::new();
    for _ in 0..200 {
        junk = desk.junk(&d.admin, 100).expect("junk");
        if !junk.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let held = junk.first().expect("held in Junk by the rule score");
    let mut admin = Browser::logged_in(&d.base, "ada@example.test", PASSWORD).await;
    let released = admin.post(&format!("/junk/{}/ticket", held.id), &[]).await;
    assert_eq!(released.status, 303, "{}", released.body);
    let view = desk.ticket_view(&d.admin, t.id).expect("view");
    let by_bob: Vec<EntryKind> = view.entries.iter().filter(|e| e.author == Some(bob.id)).map(|e| e.kind).collect();
    assert!(!by_bob.contains(&EntryKind::Reply), "{by_bob:?}");
    assert!(view.entries.iter().any(|e| e.kind == EntryKind::Note && e.body.contains("Run the attached fix.")), "{:?}", view.entries);
    let outbox = desk.outbox(&d.admin, 100).expect("outbox");
    assert!(!outbox.iter().any(|m| m.to == ["carol@customer.test"] && m.kind == "reply"), "nothing mailed as Bob");
    d.running.stop().await;
}
