//! JSON API v1 round trips with bearer tokens, against the real binary.

use crate::common::*;
use serde_json::json;

#[tokio::test]
async fn api_round_trip_and_errors() {
    let dir = tempdir();
    add_user(dir.path(), ADMIN_EMAIL, "Ada Admin", "admin", ADMIN_PASSWORD);
    add_user(dir.path(), "bob@example.test", "Bob Agent", "agent", "bob's long password");
    let token = create_token(dir.path(), ADMIN_EMAIL);
    assert!(token.starts_with("fd_") && !token.contains('\n'));
    let s = Server::start(dir.path());
    let api = Api::new(&s.base, &token);

    // 401 without or with a bad token.
    let (st, body) = Api::new(&s.base, "").call("GET", "/tickets", None).await;
    assert_eq!(st, 401);
    assert!(body["error"].is_string());
    assert_eq!(Api::new(&s.base, "fd_nope").call("GET", "/tickets", None).await.0, 401);

    // Create.
    let (st, t) = api
        .call("POST", "/tickets", Some(json!({"subject": "Printer jams", "body": "Tray 2 jams on A4.", "requester": {"name": "Carol", "email": "carol@customer.test"}, "channel": "email", "priority": "high", "category": "Technical"})))
        .await;
    assert_eq!(st, 201, "{t}");
    assert_eq!(t["ref"], "TKT-000001");
    assert_eq!(t["status"], "open");
    assert_eq!(t["priority"], "high");
    assert_eq!(t["category"], "Technical");
    assert_eq!(t["channel"], "email");
    assert_eq!(t["requester"], json!({"name": "Carol", "email": "carol@customer.test"}));
    assert_eq!(t["assignee"], serde_json::Value::Null);
    assert!(t["created_at"].as_str().unwrap().ends_with('Z'));
    let entries = t["entries"].as_array().unwrap();
    assert!(entries.iter().any(|e| e["kind"] == "reply" && e["body"] == "Tray 2 jams on A4." && e["attachments"] == json!([])));
    assert!(entries.iter().any(|e| e["kind"] == "event"));

    // Reply with explicit status, then a note.
    let (st, t) = api
        .call("POST", "/tickets/TKT-000001/entries", Some(json!({"body": "Which model?", "internal": false, "status": "pending"})))
        .await;
    assert_eq!(st, 201, "{t}");
    assert_eq!(t["status"], "pending");
    let (st, t) = api.call("POST", "/tickets/TKT-000001/entries", Some(json!({"body": "HP 4250 probably", "internal": true}))).await;
    assert_eq!(st, 201);
    assert_eq!(t["status"], "pending");
    let kinds: Vec<&str> = t["entries"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"note"));

    // Patch: assign, priority, tags, due.
    let (st, t) = api.call("PATCH", "/tickets/TKT-000001", Some(json!({"assignee": "bob@example.test", "priority": "urgent", "tags": ["Printer", "floor-2"], "due": "2026-12-24", "status": "in_progress"}))).await;
    assert_eq!(st, 200, "{t}");
    assert_eq!(t["assignee"]["email"], "bob@example.test");
    assert_eq!(t["priority"], "urgent");
    assert_eq!(t["tags"], json!(["printer", "floor-2"]));
    assert_eq!(t["due"], "2026-12-24");
    assert_eq!(t["status"], "in_progress");
    let (_, t) = api.call("GET", "/tickets/TKT-000001", None).await;
    let bodies: Vec<&str> = t["entries"].as_array().unwrap().iter().map(|e| e["body"].as_str().unwrap()).collect();
    assert!(bodies.iter().any(|b| b.contains("assigned the ticket to Bob Agent")), "{bodies:?}");
    // Unassign with null.
    let (st, t) = api.call("PATCH", "/tickets/TKT-000001", Some(json!({"assignee": null}))).await;
    assert_eq!(st, 200);
    assert_eq!(t["assignee"], serde_json::Value::Null);

    // Errors name the field.
    let (st, e) = api.call("PATCH", "/tickets/TKT-000001", Some(json!({"status": "bogus"}))).await;
    assert_eq!(st, 400);
    assert_eq!(e["field"], "status");
    let (st, e) = api.call("PATCH", "/tickets/TKT-000001", Some(json!({"priority": "asap"}))).await;
    assert_eq!((st, e["field"].as_str()), (400, Some("priority")));
    let (st, e) = api.call("POST", "/tickets", Some(json!({"subject": "x", "requester": {"email": "x@y.test"}, "priority": "meh"}))).await;
    assert_eq!((st, e["field"].as_str()), (400, Some("priority")));
    let (st, e) = api.call("POST", "/tickets", Some(json!({"subject": "x"}))).await;
    assert_eq!((st, e["field"].as_str()), (400, Some("requester")));
    let (st, e) = api.call("PATCH", "/tickets/TKT-000001", Some(json!({"colour": "red"}))).await;
    assert_eq!((st, e["field"].as_str()), (400, Some("colour")));
    let (st, _) = api.call("PATCH", "/tickets/TKT-000001", Some(json!({"status": "resolved"}))).await;
    assert_eq!(st, 200);
    let (st, e) = api.call("PATCH", "/tickets/TKT-000001", Some(json!({"status": "pending"}))).await;
    assert_eq!(st, 400, "resolved -> pending is not an allowed transition: {e}");
    let (status, missing) = api.call("GET", "/tickets/TKT-000404", None).await;
    assert_eq!(status, 404);
    assert_eq!(missing["error"], "not found", "API clients may match on the wording");
    let (st, _) = api.call("GET", "/tickets?status=nope", None).await;
    assert_eq!(st, 400);
    let res = reqwest::Client::new().post(s.url("/api/v1/tickets")).bearer_auth(&token).body("{not json").send().await.unwrap();
    assert_eq!(res.status(), 400);
    // Oversized body: 413 with the limit named, as JSON.
    let big = json!({"subject": "x", "requester": {"email": "x@y.test"}, "body": "y".repeat(2 * 1024 * 1024)});
    let (st, e) = api.call("POST", "/tickets", Some(big)).await;
    assert_eq!(st, 413);
    assert!(e["error"].as_str().unwrap().contains("1048576"), "{e}");
    // A body within the request limit but over the field limit: 413 naming the field.
    let (st, e) = api.call("POST", "/tickets/TKT-000001/entries", Some(json!({"body": "z".repeat(300 * 1024)}))).await;
    assert_eq!((st, e["field"].as_str()), (413, Some("body")), "{e}");
}

#[tokio::test]
async fn api_lists_with_filters_and_cursor_pagination() {
    let dir = tempdir();
    add_user(dir.path(), ADMIN_EMAIL, "Ada Admin", "admin", ADMIN_PASSWORD);
    let token = create_token(dir.path(), ADMIN_EMAIL);
    let s = Server::start(dir.path());
    let api = Api::new(&s.base, &token);
    for i in 0..7 {
        let prio = if i % 2 == 0 { "low" } else { "high" };
        let (st, _) = api.call("POST", "/tickets", Some(json!({"subject": format!("T{i}"), "body": "b", "requester": {"name": "R", "email": format!("r{i}@c.test")}, "priority": prio}))).await;
        assert_eq!(st, 201);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/tickets?limit=3&cursor={c}"),
            None => "/tickets?limit=3".to_string(),
        };
        let (st, page) = api.call("GET", &path, None).await;
        assert_eq!(st, 200);
        for t in page["tickets"].as_array().unwrap() {
            seen.push(t["subject"].as_str().unwrap().to_string());
        }
        match page["next"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    // Most recently updated first, each ticket exactly once.
    assert_eq!(seen, vec!["T6", "T5", "T4", "T3", "T2", "T1", "T0"]);
    let (_, page) = api.call("GET", "/tickets?priority=high", None).await;
    let subjects: Vec<&str> = page["tickets"].as_array().unwrap().iter().map(|t| t["subject"].as_str().unwrap()).collect();
    assert_eq!(subjects, vec!["T5", "T3", "T1"]);
    let (_, page) = api.call("GET", "/tickets?sort=created_asc&limit=2", None).await;
    let subjects: Vec<&str> = page["tickets"].as_array().unwrap().iter().map(|t| t["subject"].as_str().unwrap()).collect();
    assert_eq!(subjects, vec!["T0", "T1"]);
    let (_, page) = api.call("GET", "/tickets?assignee=unassigned&status=open", None).await;
    assert_eq!(page["tickets"].as_array().unwrap().len(), 7);
}

#[tokio::test]
async fn api_enforces_department_permissions() {
    let dir = tempdir();
    let cfg = dir.path().join("fd.toml");
    std::fs::write(&cfg, "[desk]\ndepartments = [\"Support\", \"Billing\"]\n").unwrap();
    let c = cfg.to_str().unwrap();
    let run = |args: &[&str], stdin: Option<&str>| {
        let mut all = vec!["--config", c];
        all.extend_from_slice(args);
        cli(dir.path(), &all, stdin)
    };
    assert_eq!(
        run(&["user", "add", "--email", ADMIN_EMAIL, "--name", "A", "--role", "admin", "--password-stdin"], Some("aaaaaaaaaaaa\n")).0,
        0
    );
    assert_eq!(
        run(
            &[
                "user",
                "add",
                "--email",
                "ann@example.test",
                "--name",
                "Ann",
                "--role",
                "agent",
                "--department",
                "Support",
                "--password-stdin"
            ],
            Some("aaaaaaaaaaaa\n")
        )
        .0,
        0
    );
    let admin_token = run(&["token", "create", "--email", ADMIN_EMAIL, "--name", "t"], None).1.trim().to_string();
    let ann_token = run(&["token", "create", "--email", "ann@example.test", "--name", "t"], None).1.trim().to_string();
    let s = Server::start_with(dir.path(), &["--config", c]);
    let admin = Api::new(&s.base, &admin_token);
    let (st, _) = admin
        .call("POST", "/tickets", Some(json!({"subject": "Refund", "requester": {"email": "x@c.test"}, "department": "Billing"})))
        .await;
    assert_eq!(st, 201);
    // Ann works in Support only: the Billing ticket does not exist for her.
    let ann = Api::new(&s.base, &ann_token);
    assert_eq!(ann.call("GET", "/tickets/TKT-000001", None).await.0, 404);
    assert_eq!(ann.call("PATCH", "/tickets/TKT-000001", Some(json!({"priority": "low"}))).await.0, 404);
    assert_eq!(ann.call("POST", "/tickets/TKT-000001/entries", Some(json!({"body": "hi"}))).await.0, 404);
    let (st, list) = ann.call("GET", "/tickets", None).await;
    assert_eq!((st, list["tickets"].as_array().map(|a| a.len())), (200, Some(0)));
    // She cannot create tickets in Billing either, nor assign Billing work to herself.
    let (st, e) =
        ann.call("POST", "/tickets", Some(json!({"subject": "x", "requester": {"email": "x@c.test"}, "department": "Billing"}))).await;
    assert_eq!((st, e["field"].as_str()), (400, Some("department")));
    let (st, e) = admin.call("PATCH", "/tickets/TKT-000001", Some(json!({"assignee": "ann@example.test"}))).await;
    assert_eq!((st, e["field"].as_str()), (400, Some("assignee")), "{e}");
    let (st, t) = ann.call("POST", "/tickets", Some(json!({"subject": "Mouse", "requester": {"email": "x@c.test"}}))).await;
    assert_eq!((st, t["department"].as_str()), (201, Some("Support")));
    // An unknown department is a 400 naming the field.
    let (st, e) =
        admin.call("POST", "/tickets", Some(json!({"subject": "x", "requester": {"email": "x@c.test"}, "department": "Sales"}))).await;
    assert_eq!((st, e["field"].as_str()), (400, Some("department")));
    // Assigning to someone who is not an agent is refused.
    let (st, e) = admin.call("PATCH", "/tickets/TKT-000001", Some(json!({"assignee": "x@c.test"}))).await;
    assert_eq!((st, e["field"].as_str()), (400, Some("assignee")));
}
