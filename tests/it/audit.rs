//! The audit log through the real server: logins (failed ones with the
//! client's address), agent changes, API tokens, exports and Trash purges
//! are recorded; admins filter and export it (the export is logged too);
//! agents cannot see it; nothing edits it; entries go after keep_days on
//! the injected clock. Also the API's people:read and admin scopes.

use frontdesk::desk::NewTicket;
use frontdesk::desk::audit::Actor;
use frontdesk::desk::auth::NewAgent;
use frontdesk::desk::tokens::TokenSpec;
use frontdesk::domain::Role;
use frontdesk::domain::access::Scope;
use frontdesk::domain::audit::AuditEvent;

use crate::common::{Browser, invite_agent};
use crate::inprocess::{InProcess, PASSWORD};

const DAY_MS: i64 = 86_400_000;

fn bob() -> NewAgent {
    NewAgent { email: "bob@example.test".into(), name: "Bob".into(), role: Role::Agent, password: PASSWORD.into(), departments: vec![] }
}

async fn api(base: &str, token: &str, path: &str) -> (u16, serde_json::Value) {
    let r = reqwest::Client::new().get(format!("{base}/api/v1{path}")).bearer_auth(token).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_and_admin_events_are_recorded_filtered_and_exported() {
    let d = InProcess::start().await;
    let desk = d.running.desk.clone();
    // A wrong password from another address, then a good login.
    let mut stranger = Browser::from_ip(&d.base, "127.0.0.2");
    stranger.get("/login").await;
    let r = stranger.post("/login", &[("email", "ada@example.test"), ("password", "not the password"), ("next", "/tickets")]).await;
    assert_eq!(r.status, 401);
    let mut b = Browser::logged_in(&d.base, "ada@example.test", PASSWORD).await;
    // Agent management, through the admin pages.
    invite_agent(&mut b, &[("name", "Bob"), ("email", "bob@example.test"), ("role", "agent")], PASSWORD).await;
    let bob_id = desk.agents().unwrap().into_iter().find(|p| p.email == "bob@example.test").unwrap().id;
    assert_eq!(b.post(&format!("/admin/agents/{bob_id}/edit"), &[("role", "admin")]).await.status, 303);
    assert_eq!(b.post(&format!("/admin/agents/{bob_id}/password"), &[]).await.status, 200);
    assert_eq!(b.post(&format!("/admin/agents/{bob_id}/active"), &[("active", "0")]).await.status, 303);
    // A token made and revoked; a CSV export.
    let token = desk.create_api_token(Some(&d.admin), "ada@example.test", TokenSpec::standard("sync")).unwrap();
    let id = frontdesk::store::token_id(&token);
    desk.revoke_api_token(Some(&d.admin), &id).unwrap();
    assert_eq!(b.get("/tickets.csv?status=all").await.status, 200);

    let page = b.get("/admin/audit").await;
    assert_eq!(page.status, 200);
    for says in [
        "failed login as ada@example.test: wrong password",
        "127.0.0.2",
        "logged in",
        "added bob@example.test as agent",
        "changed bob@example.test: agent of all departments → admin of all departments",
        "invited bob@example.test (a link to set their password)",
        "sent a password reset link to bob@example.test",
        "deactivated bob@example.test",
        &format!("created API token {id} (sync) for ada@example.test with tickets:read, tickets:write, people:read"),
        &format!("revoked API token {id} of ada@example.test"),
        "exported tickets as CSV (status=all)",
    ] {
        assert!(page.body.contains(&says.replace('>', "&gt;")) || page.body.contains(says), "the log lacks {says:?}:\n{}", page.body);
    }
    // Newest first: the export was last.
    let export_at = page.body.find("exported tickets as CSV").unwrap();
    assert!(export_at < page.body.find("failed login as").unwrap());

    // Filters: by kind, by words.
    let failed = b.get("/admin/audit?kind=login-failed").await;
    assert!(failed.body.contains("failed login as") && !failed.body.contains("added bob@example.test"));
    let words = b.get("/admin/audit?q=bob+deactivated").await;
    assert!(words.body.contains("deactivated bob@example.test") && !words.body.contains("reset the password"));
    let bad = b.get("/admin/audit?from=yesterday").await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("is not a date"));

    // Exports: CSV and JSON lines of the selection, each logged.
    let csv = b.get("/admin/audit/export?format=csv&kind=agent-deactivated").await;
    assert_eq!(csv.status, 200);
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(lines.len(), 2, "{}", csv.body);
    assert!(lines[1].ends_with(",ada@example.test,127.0.0.1,agent-deactivated,deactivated bob@example.test"), "{}", lines[1]);
    let jsonl = b.get("/admin/audit/export?format=jsonl&kind=login-failed").await;
    let first: serde_json::Value = serde_json::from_str(jsonl.body.lines().next().unwrap()).unwrap();
    assert_eq!(first["event"], "login-failed");
    assert_eq!(first["ip"], "127.0.0.2");
    assert_eq!(first["details"]["LoginFailed"]["reason"], "wrong password");
    let after = b.get("/admin/audit?kind=data-exported").await;
    assert!(after.body.contains("exported the audit log as CSV (kind=agent-deactivated)"));
    assert!(after.body.contains("exported the audit log as JSON lines (kind=login-failed)"));

    // Nothing edits it from the UI.
    assert_eq!(b.post("/admin/audit", &[]).await.status, 405);
    // An agent does not see it.
    desk.add_agent(None, NewAgent { email: "cleo@example.test".into(), name: "Cleo".into(), ..bob() }).unwrap();
    let mut cleo = Browser::logged_in(&d.base, "cleo@example.test", PASSWORD).await;
    assert_eq!(cleo.get("/admin/audit").await.status, 404);
    assert_eq!(cleo.get("/admin/audit/export?format=csv").await.status, 404);
    let logout = cleo.post("/logout", &[]).await;
    assert!(logout.status == 303 || logout.status == 302, "{}", logout.status);
    assert!(b.get("/admin/audit?kind=logout").await.body.contains("cleo@example.test"));
    d.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_scopes_guard_people_and_the_audit_log_and_old_entries_expire() {
    let d = InProcess::start_with("[audit]\nkeep_days = 30\n").await;
    let desk = d.running.desk.clone();
    let spec = |scopes: Vec<Scope>| TokenSpec { name: "t".into(), scopes, ..TokenSpec::default() };
    let printer = desk
        .create_ticket(
            &d.admin,
            NewTicket {
                subject: "Printer".into(),
                body: "jams".into(),
                requester_email: "carol@customer.test".into(),
                ..Default::default()
            },
        )
        .unwrap();
    let tickets_only = desk.create_api_token(None, "ada@example.test", spec(vec![Scope::TicketsRead])).unwrap();
    let people = desk.create_api_token(None, "ada@example.test", spec(vec![Scope::PeopleRead])).unwrap();
    let admin = desk.create_api_token(None, "ada@example.test", spec(vec![Scope::Admin])).unwrap();

    let (st, v) = api(&d.base, &tickets_only, "/people?q=carol").await;
    assert_eq!((st, v["error"].as_str().unwrap()), (403, "token lacks the people:read scope"));
    let (st, v) = api(&d.base, &people, "/people?q=carol").await;
    assert_eq!(st, 200);
    let carol = &v["people"][0];
    assert_eq!(carol["email"], "carol@customer.test");
    assert_eq!(api(&d.base, &people, &format!("/people/{}", carol["id"])).await.1["email"], "carol@customer.test");
    assert_eq!(api(&d.base, &people, "/tickets").await.0, 403, "people:read reads no tickets");

    let (st, v) = api(&d.base, &people, "/admin/audit").await;
    assert_eq!((st, v["error"].as_str().unwrap()), (403, "token lacks the admin scope"));
    let (st, v) = api(&d.base, &admin, "/admin/audit?limit=2").await;
    assert_eq!(st, 200);
    let entries = v["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["event"], "token-created", "newest first");
    // The admin scope is worth nothing once its agent is no admin.
    let bob = desk.add_agent(None, NewAgent { role: Role::Admin, ..bob() }).unwrap();
    let bobs = desk.create_api_token(None, &bob.email, spec(vec![Scope::Admin])).unwrap();
    desk.edit_agent(&d.admin, bob.id, "agent", &[], &[]).unwrap();
    assert_eq!(api(&d.base, &bobs, "/admin/audit").await.0, 403);

    // keep_days = 30: a month on, the entries so far are dropped; new ones stay.
    let before = desk.audit_log(&d.admin, &Default::default(), None, 1000).unwrap().len();
    assert!(before >= 6, "{before}");
    d.clock.advance_ms(31 * DAY_MS);
    desk.record_audit(Actor::System, "", AuditEvent::TrashPurged { tickets: 0 }).unwrap();
    assert_eq!(desk.prune_audit().unwrap(), before);
    assert_eq!(desk.audit_log(&d.admin, &Default::default(), None, 1000).unwrap().len(), 1);
    // Trash purges are recorded as the system's.
    desk.set_trashed(&d.admin, printer.id, true).unwrap();
    d.clock.advance_ms(31 * DAY_MS);
    assert_eq!(desk.purge_trash().unwrap(), 1);
    let last = desk.audit_log(&d.admin, &Default::default(), None, 1).unwrap();
    assert_eq!((last[0].1.actor_label.as_str(), last[0].1.event.describe()), ("system", "purged 1 tickets from Trash".to_string()));
    d.running.stop().await;
}

/// Starting with a changed config is an audit event naming the sections
/// (never their values); a restart with the same config records nothing.
#[tokio::test]
async fn a_start_with_a_changed_config_names_the_sections() {
    use crate::common::{ADMIN_EMAIL, ADMIN_PASSWORD, MailDesk};
    let mut d = MailDesk::start();
    d.server.stop();
    d.restart();
    let text = std::fs::read_to_string(&d.config).unwrap();
    std::fs::write(&d.config, format!("{text}\n[[team]]\nname = \"Network\"\n\n[security]\nsession_idle_hours = 100\n")).unwrap();
    d.server.stop();
    d.restart();
    let mut b = Browser::logged_in(&d.server.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let page = b.get("/admin/audit?kind=config-changed").await.body;
    assert_eq!(page.matches("started with a changed config").count(), 1, "{page}");
    assert!(page.contains("started with a changed config: security, team"), "{page}");
}
