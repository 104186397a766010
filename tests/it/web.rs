//! The agent web UI, driven over real HTTP against the real binary.

use crate::common::*;

#[tokio::test]
async fn first_run_offers_a_one_time_setup_link_and_the_cli_command() {
    let dir = tempdir();
    // What the process prints is checked.
    let s = Server::spawn(dir.path());
    assert_eq!(reqwest::get(s.url("/healthz")).await.unwrap().status(), 200);
    let out = s.wait_stdout("--password-stdin");
    assert!(out.contains("user add --email") && out.contains("--role admin"), "{out}");
    let link = out.lines().map(str::trim).find(|l| l.contains("/setup?token=")).expect("setup link").to_string();
    let path = link.trim_start_matches(&s.base).to_string();

    let mut b = Browser::new(&s.base);
    // A wrong token is a 404, not a form.
    assert_eq!(b.get("/setup?token=guess").await.status, 404);
    let page = b.get(&path).await;
    assert_eq!(page.status, 200);
    let token = path.split("token=").nth(1).unwrap();
    let r = b.post("/setup", &[("token", token), ("name", "Ada"), ("email", "ada@example.test"), ("password", "short")]).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("at least 10 characters"));
    // Two forms posted at once (a double click, two tabs): one admin.
    let mut b2 = Browser::new(&s.base);
    b2.get(&path).await;
    let ada = [("token", token), ("name", "Ada"), ("email", "ada@example.test"), ("password", "long enough password")];
    let eve = [("token", token), ("name", "Eve"), ("email", "eve@example.test"), ("password", "another long password")];
    let (r, r2) = tokio::join!(b.post("/setup", &ada), b2.post("/setup", &eve));
    assert_eq!([r.status, r2.status].iter().filter(|s| **s == 303).count(), 1, "one admin: {} / {}", r.status, r2.status);
    let (mut winner, email, password) =
        if r.status == 303 { (b, "ada@example.test", "long enough password") } else { (b2, "eve@example.test", "another long password") };
    // Logged in straight away.
    assert_eq!(winner.get("/tickets").await.status, 200);
    // The link is spent once an admin exists.
    assert_eq!(Browser::new(&s.base).get(&path).await.status, 404);
    assert_eq!(Browser::new(&s.base).login(email, password).await.status, 303);
}

#[tokio::test]
async fn login_rejects_bad_credentials_the_same_way_and_needs_csrf() {
    let (_dir, s) = desk_with_admin();
    let mut b = Browser::new(&s.base);
    // Unauthenticated pages redirect to login.
    let r = b.get("/tickets").await;
    assert_eq!(r.status, 303);
    assert!(r.location.unwrap().starts_with("/login?next="));

    let wrong = b.login(ADMIN_EMAIL, "not the password").await;
    let unknown = b.login("nobody@example.test", "not the password").await;
    assert_eq!(wrong.status, 401);
    assert_eq!(unknown.status, 401);
    assert!(wrong.body.contains("Wrong email or password."));
    assert!(unknown.body.contains("Wrong email or password."));

    // Without the pre-login CSRF token the form is refused.
    let mut fresh = Browser::new(&s.base);
    let r = fresh.post("/login", &[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD), ("_csrf", "forged")]).await;
    assert_eq!(r.status, 403);

    let ok = b.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(ok.status, 303);
    let cookie =
        ok.headers.get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).find(|c| c.starts_with("fd_session=")).unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    assert_eq!(b.get("/tickets").await.status, 200);

    // Logged in, a form without the session's CSRF token is refused and changes nothing.
    let r = b
        .post(
            "/tickets",
            &[("_csrf", "0000"), ("requester_email", "x@y.test"), ("subject", "forged"), ("channel", "phone"), ("priority", "low")],
        )
        .await;
    assert_eq!(r.status, 403);
    assert!(!b.get("/tickets?status=all").await.body.contains("forged"));

    // Logout ends the session server-side.
    let token = b.cookies.iter().find(|(k, _)| k == "fd_session").unwrap().1.clone();
    let r = b.post("/logout", &[]).await;
    assert_eq!(r.status, 303);
    b.cookies.push(("fd_session".into(), token));
    assert_eq!(b.get("/tickets").await.status, 303);
}

#[tokio::test]
async fn login_attempts_are_throttled_per_account() {
    let (_dir, s) = desk_with_admin();
    let mut b = Browser::new(&s.base);
    for _ in 0..5 {
        assert_eq!(b.login(ADMIN_EMAIL, "guessing-wrong").await.status, 401);
    }
    let r = b.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(r.status, 429, "sixth attempt in the window must be throttled even with the right password");
    assert!(r.body.contains("too many failed logins"));
}

/// The whole story of the issue: admin adds an agent, creates a phone ticket,
/// replies, notes, assigns, changes status and priority, finds it again, sees the
/// history; restart keeps everything.
#[tokio::test]
async fn an_agent_works_a_phone_ticket_end_to_end() {
    let (dir, mut s) = desk_with_admin();
    let mut admin = Browser::logged_in(&s.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;

    // Admin invites an agent in the UI; Bob chooses his password through the link.
    invite_agent(&mut admin, &[("name", "Bob Agent"), ("email", "bob@example.test"), ("role", "agent")], "bob's long password").await;
    let agents = admin.get("/admin/agents").await;
    assert!(agents.body.contains("bob@example.test"));

    // Ticket for a customer who phoned.
    admin.get("/tickets/new").await;
    let r = admin
        .post(
            "/tickets",
            &[
                ("requester_email", "Carol@Customer.test"),
                ("requester_name", "Carol Customer"),
                ("subject", "VPN drops every hour"),
                ("body", "Called at 9:05. Drops since Monday."),
                ("channel", "phone"),
                ("priority", "medium"),
                ("category", "Technical"),
                ("tags", "vpn, remote"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let loc = r.location.unwrap();
    assert!(loc.starts_with("/tickets/TKT-000001"), "{loc}");
    let page = admin.get("/tickets/TKT-000001").await;
    assert!(page.body.contains("VPN drops every hour"));
    assert!(page.body.contains("Called at 9:05"));
    assert!(page.body.contains("Phone"));

    // Public reply: Open -> Pending automatically.
    let r = admin.post("/tickets/TKT-000001/reply", &[("body", "Please send us the VPN client log.")]).await;
    assert_eq!(r.status, 303);
    let page = admin.get("/tickets/TKT-000001").await;
    assert!(page.body.contains("changed status from Open to Pending"));
    // Internal note does not change the status.
    let r = admin.post("/tickets/TKT-000001/reply", &[("body", "Known issue with firmware 2.1"), ("internal", "1")]).await;
    assert_eq!(r.status, 303);
    let page = admin.get("/tickets/TKT-000001").await;
    assert!(page.body.contains("entry note"));
    assert!(page.body.contains("Known issue with firmware 2.1"));

    // Assign to Bob, set In Progress and High.
    let bob_id = {
        // Bob's id is the value of his option in the assignee picker.
        let r = admin.get("/tickets/TKT-000001").await;
        let j = r.body.find(">Bob Agent<").unwrap();
        let k = r.body[..j].rfind("value=\"").unwrap();
        r.body[k + 7..j].trim_end_matches('"').trim_end_matches(" selected").to_string()
    };
    let r = admin
        .post(
            "/tickets/TKT-000001/update",
            &[
                ("status", "in_progress"),
                ("priority", "high"),
                ("assignee", &bob_id),
                ("category", "Technical"),
                ("due", "2026-12-01"),
                ("tags", "vpn, remote"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = admin.get("/tickets/TKT-000001").await;
    for line in [
        "changed status from Pending to In Progress",
        "changed priority from Medium to High",
        "assigned the ticket to Bob Agent",
        "changed due date from (none) to 2026-12-01",
    ] {
        assert!(page.body.contains(line), "missing history line {line:?}");
    }

    // Bob logs in and finds it under "my tickets"; and by typing its reference.
    let mut bob = Browser::logged_in(&s.base, "bob@example.test", "bob's long password").await;
    let mine = bob.get("/tickets?assignee=me").await;
    assert!(mine.body.contains("TKT-000001"));
    let jump = bob.get("/go?ref=tkt-1").await;
    assert_eq!(jump.status, 303);
    assert_eq!(jump.location.as_deref(), Some("/tickets/TKT-000001"));
    assert_eq!(bob.get("/go?ref=TKT-000999").await.status, 404);
    // Filters: priority high shows it, low does not.
    assert!(bob.get("/tickets?priority=high").await.body.contains("TKT-000001"));
    assert!(!bob.get("/tickets?priority=low").await.body.contains("TKT-000001"));
    assert_eq!(bob.get("/tickets?status=bogus").await.status, 400);
    // Agents may not see admin pages.
    assert_eq!(bob.get("/admin/agents").await.status, 404);

    // Requester page lists their tickets.
    let page = bob.get("/tickets/TKT-000001").await;
    let i = page.body.find("/requesters/").unwrap();
    let rid: String = page.body[i + 12..].chars().take_while(|c| c.is_ascii_digit()).collect();
    let rp = bob.get(&format!("/requesters/{rid}")).await;
    assert_eq!(rp.status, 200);
    assert!(rp.body.contains("carol@customer.test") && rp.body.contains("TKT-000001"));

    // Resolve then close; closed is read-only; Bob cannot reopen, admin can.
    assert_eq!(bob.post("/tickets/TKT-000001/update", &[("status", "resolved")]).await.status, 303);
    assert_eq!(bob.post("/tickets/TKT-000001/update", &[("status", "closed")]).await.status, 303);
    let r = bob.post("/tickets/TKT-000001/reply", &[("body", "one more thing")]).await;
    assert_eq!(r.status, 409);
    assert!(r.body.contains("closed"));
    assert_eq!(bob.post("/tickets/TKT-000001/update", &[("status", "open")]).await.status, 403);
    admin.get("/tickets/TKT-000001").await;
    assert_eq!(admin.post("/tickets/TKT-000001/update", &[("status", "open")]).await.status, 303);
    let page = admin.get("/tickets/TKT-000001").await;
    assert!(page.body.contains("changed status from Closed to Open"));

    // Restart: everything is still there, the session too.
    s.stop();
    let s2 = Server::start(dir.path());
    let mut again = Browser::logged_in(&s2.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let page = again.get("/tickets/TKT-000001").await;
    assert!(page.body.contains("Please send us the VPN client log."));
    assert!(page.body.contains("Known issue with firmware 2.1"));
    assert!(page.body.contains("assigned the ticket to Bob Agent"));
    // A new ticket after restart gets the next number, never a reused one.
    again.get("/tickets/new").await;
    let r = again
        .post("/tickets", &[("requester_email", "dan@customer.test"), ("subject", "Second"), ("channel", "chat"), ("priority", "low")])
        .await;
    assert_eq!(r.location.as_deref().map(|l| l.starts_with("/tickets/TKT-000002")), Some(true));
}

#[tokio::test]
async fn agents_only_see_their_departments_and_admin_manages_agents() {
    let dir = tempdir();
    std::fs::write(dir.path().join("fd.toml"), "[desk]\ndepartments = [\"Support\", \"Billing\"]\n").unwrap();
    let cfg = dir.path().join("fd.toml");
    let cfg = cfg.to_str().unwrap();
    let (code, _, err) = cli(
        dir.path(),
        &["--config", cfg, "user", "add", "--email", ADMIN_EMAIL, "--name", "Ada", "--role", "admin", "--password-stdin"],
        Some(&format!("{ADMIN_PASSWORD}\n")),
    );
    assert_eq!(code, 0, "{err}");
    let s = Server::start_with(dir.path(), &["--config", cfg]);
    let mut admin = Browser::logged_in(&s.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    invite_agent(
        &mut admin,
        &[("name", "Sam"), ("email", "sam@example.test"), ("role", "agent"), ("departments", "Support")],
        "sam's long password",
    )
    .await;
    // Too-short password is a clear 400 with the rule, on the link's page.
    admin.get("/admin/agents").await;
    let r = admin.post("/admin/agents", &[("name", "Tim"), ("email", "tim@example.test"), ("role", "agent")]).await;
    let link = password_link_in(&r.body).unwrap();
    let r = set_password_via(&s.base, &link, "short").await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("at least 10 characters"), "{}", r.body);

    admin.get("/tickets/new").await;
    admin
        .post(
            "/tickets",
            &[
                ("requester_email", "a@c.test"),
                ("subject", "Invoice wrong"),
                ("channel", "phone"),
                ("priority", "low"),
                ("department", "Billing"),
            ],
        )
        .await;
    admin.get("/tickets/new").await;
    admin
        .post(
            "/tickets",
            &[
                ("requester_email", "a@c.test"),
                ("subject", "Laptop slow"),
                ("channel", "phone"),
                ("priority", "low"),
                ("department", "Support"),
            ],
        )
        .await;

    let mut sam = Browser::logged_in(&s.base, "sam@example.test", "sam's long password").await;
    let q = sam.get("/tickets").await;
    assert!(q.body.contains("Laptop slow"));
    assert!(!q.body.contains("Invoice wrong"));
    assert_eq!(sam.get("/tickets/TKT-000001").await.status, 404, "a ticket of another department is not found");
    assert_eq!(sam.post("/tickets/TKT-000001/reply", &[("body", "hi")]).await.status, 404);
    assert_eq!(sam.get("/tickets/TKT-000002").await.status, 200);

    // Deactivating Sam ends his session at once; he cannot log back in.
    let staff = admin.get("/admin/agents").await;
    let i = staff.body.find("sam@example.test").unwrap();
    let j = staff.body[i..].find("/admin/agents/").unwrap() + i + 14;
    let sam_id: String = staff.body[j..].chars().take_while(|c| c.is_ascii_digit()).collect();
    let r = admin.post(&format!("/admin/agents/{sam_id}/active"), &[("active", "0")]).await;
    assert_eq!(r.status, 303);
    assert_eq!(sam.get("/tickets").await.status, 303);
    assert_eq!(Browser::new(&s.base).login("sam@example.test", "sam's long password").await.status, 401);
    // Reactivate him; the admin sends a reset link (this desk cannot mail: the page shows it).
    admin.get("/admin/agents").await;
    admin.post(&format!("/admin/agents/{sam_id}/active"), &[("active", "1")]).await;
    let r = admin.post(&format!("/admin/agents/{sam_id}/password"), &[]).await;
    assert_eq!(r.status, 200);
    let link = password_link_in(&r.body).expect("the reset link");
    assert_eq!(set_password_via(&s.base, &link, "a brand new password").await.status, 303);
    assert_eq!(Browser::new(&s.base).login("sam@example.test", "a brand new password").await.status, 303);
}

#[tokio::test]
async fn bad_input_gets_clear_answers() {
    let (_dir, s) = desk_with_admin();
    let mut b = Browser::logged_in(&s.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    b.get("/tickets/new").await;
    let r = b.post("/tickets", &[("requester_email", "not-an-email"), ("subject", "x"), ("channel", "phone"), ("priority", "low")]).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("requester"), "error names the field");
    assert!(r.body.contains("value=\"x\""), "the form keeps what was typed");
    let long = "s".repeat(300);
    let r = b.post("/tickets", &[("requester_email", "a@b.test"), ("subject", &long), ("channel", "phone"), ("priority", "low")]).await;
    assert_eq!(r.status, 413);
    assert!(r.body.contains("250 characters"));
    let r = b.post("/tickets", &[("requester_email", "a@b.test"), ("subject", "ok"), ("channel", "pigeon"), ("priority", "low")]).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("channel"));
    // Oversized request body.
    let huge = "x".repeat(2 * 1024 * 1024);
    let r = b.post("/tickets", &[("requester_email", "a@b.test"), ("subject", "ok"), ("body", &huge)]).await;
    assert_eq!(r.status, 413);
    // Unknown pages and tickets are 404 pages.
    assert_eq!(b.get("/tickets/TKT-999999").await.status, 404);
    assert_eq!(b.get("/no/such/page").await.status, 404);
    // Security headers on pages.
    let r = b.get("/tickets").await;
    assert_eq!(r.headers.get("x-content-type-options").unwrap(), "nosniff");
    assert!(r.headers.get("content-security-policy").is_some());
}

#[tokio::test]
async fn csv_export_of_a_view_streams_every_matching_ticket() {
    let dir = tempdir();
    add_user(dir.path(), ADMIN_EMAIL, "Ada Admin", "admin", ADMIN_PASSWORD);
    let token = create_token(dir.path(), ADMIN_EMAIL);
    // 1,203 tickets in a few seconds: past the default API rate.
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[security]\napi_rate_per_minute = 100000\n").unwrap();
    let s = Server::start_with(dir.path(), &["--config", config.to_str().unwrap()]);
    let api = Api::new(&s.base, &token);
    for i in 0..1203 {
        let prio = if i % 3 == 0 { "high" } else { "low" };
        let subject = if i == 7 { "=HYPERLINK(\"http://evil\")".to_string() } else { format!("Printer, floor {i}") };
        let (st, _) = api.call("POST", "/tickets", Some(serde_json::json!({"subject": subject, "requester": {"name": "Ann \"AJ\" Lee", "email": "ann@c.test"}, "priority": prio}))).await;
        assert_eq!(st, 201);
    }
    let mut b = Browser::logged_in(&s.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert!(b.get("/tickets").await.body.contains("/tickets.csv"));
    let r = b.get("/tickets.csv?status=all&priority=high&fields=ref,subject,priority,requester_name").await;
    assert_eq!(r.status, 200);
    assert!(r.headers["content-type"].to_str().unwrap().starts_with("text/csv"));
    let lines: Vec<&str> = r.body.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines[0], "Reference,Subject,Priority,Requester");
    assert_eq!(lines.len() - 1, 401, "every high-priority ticket, across pages of 500");
    assert!(lines.iter().skip(1).all(|l| l.contains(",High,")));
    assert!(lines.contains(&"TKT-001201,\"Printer, floor 1200\",High,\"Ann \"\"AJ\"\" Lee\""), "{:?}", &lines[..3]);
    let all = b.get("/tickets.csv?status=all").await;
    assert_eq!(all.body.split("\r\n").filter(|l| !l.is_empty()).count(), 1204);
    assert!(all.body.contains("\"'=HYPERLINK(\"\"http://evil\"\")\""), "formulas are defused");
    assert_eq!(b.get("/tickets.csv?fields=ref,password").await.status, 400);
    // The requester directory finds people by name or address.
    let found = b.get("/people?q=ann@").await;
    assert!(found.body.contains("ann@c.test"));
    let by_name = b.get("/people?q=AJ").await;
    assert!(by_name.body.contains("ann@c.test"), "name search is case-insensitive");
    assert!(b.get("/people?q=nobody-here").await.body.contains("Nobody matches"));
    // The "Urgent unassigned" view: none of these are urgent.
    let v = b.get("/tickets?assignee=unassigned&priority=urgent").await;
    assert!(v.body.contains("<h1>Urgent unassigned</h1>") && v.body.contains("No tickets match"));
}

#[tokio::test]
async fn canned_responses_render_for_the_ticket() {
    let dir = tempdir();
    let cfg = dir.path().join("c.toml");
    std::fs::write(
        &cfg,
        "[desk]\ndepartments = [\"Support\", \"Billing\"]\n\n[[canned]]\nname = \"Restart router\"\ntext = \"Hello {{ requester.name }}, please restart the router. ({{ ticket.ref }}) -- {{ agent.name }}\"\n\n[[canned]]\nname = \"Refund policy\"\ndepartment = \"Billing\"\ntext = \"Refunds take 5 days.\"\n",
    )
    .unwrap();
    let c = cfg.to_str().unwrap();
    let (code, _, err) = cli(
        dir.path(),
        &["--config", c, "user", "add", "--email", ADMIN_EMAIL, "--name", "Ada Admin", "--role", "admin", "--password-stdin"],
        Some(&format!("{ADMIN_PASSWORD}\n")),
    );
    assert_eq!(code, 0, "{err}");
    let s = Server::start_with(dir.path(), &["--config", c]);
    let mut b = Browser::logged_in(&s.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    b.get("/tickets/new").await;
    b.post(
        "/tickets",
        &[("requester_email", "ivan@c.test"), ("requester_name", "Ivan"), ("subject", "Wifi"), ("channel", "phone"), ("priority", "low")],
    )
    .await;
    let page = b.get("/tickets/TKT-000001").await;
    assert!(page.body.contains("Restart router"));
    assert!(!page.body.contains("Refund policy"), "a Billing response is not offered on a Support ticket");
    let r = b.get("/tickets/TKT-000001/canned/0").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, "Hello Ivan, please restart the router. (TKT-000001) -- Ada Admin");
    assert_eq!(b.get("/tickets/TKT-000001/canned/1").await.status, 404);
    // Personal canned responses: only for their author, checked when saved.
    let r = b.post("/settings/canned", &[("title", "Sign-off"), ("text", "Cheers, {{ agent.name }} ({{ ticket.ref }})")]).await;
    assert_eq!(r.status, 303);
    let bad = b.post("/settings/canned", &[("title", "Broken"), ("text", "{{ agent.name ")]).await;
    assert_eq!(bad.status, 400);
    let page = b.get("/tickets/TKT-000001").await;
    assert!(page.body.contains("Sign-off (mine)") && page.body.contains("data-key=\"mine:Sign-off\""), "{}", page.body);
    let r = b.get("/tickets/TKT-000001/canned/mine%3ASign-off").await;
    assert_eq!(r.body, "Cheers, Ada Admin (TKT-000001)");
    // A broken canned template is a config error.
    std::fs::write(&cfg, "[[canned]]\nname = \"Broken\"\ntext = \"{{ requester.name \"\n").unwrap();
    let (code, _, err) = cli(dir.path(), &["--config", c, "check-config"], None);
    assert_eq!(code, 2);
    assert!(err.contains("canned \"Broken\""), "{err}");
}
