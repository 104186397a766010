//! Headless Chromium (playwright-core driving the system Chromium): login →
//! queue → ticket → reply → note → jump, with screenshots saved to
//! `target/screenshots/`. `.ci/run` installs Chromium and playwright-core and sets
//! FRONTDESK_BROWSER_REQUIRED=1, so there a missing browser is a failure; on a
//! developer machine without them the test says so and skips.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::*;
use serde_json::json;

#[tokio::test]
async fn login_queue_ticket_reply_in_chromium() {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let script_dir = here.join("tests/browser");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let ready = std::path::Path::new(&chromium).exists() && script_dir.join("node_modules/playwright-core").exists();
    if !ready {
        assert!(
            std::env::var("FRONTDESK_BROWSER_REQUIRED").is_err(),
            "Chromium ({chromium}) or playwright-core (tests/browser/node_modules) missing"
        );
        eprintln!("SKIPPED: install chromium and run `npm ci` in tests/browser (or run .ci/run)");
        return;
    }
    let dir = tempdir();
    add_user(dir.path(), ADMIN_EMAIL, "Ada Admin", "admin", ADMIN_PASSWORD);
    let token = create_token(dir.path(), ADMIN_EMAIL);
    let s = Server::start(dir.path());
    let api = Api::new(&s.base, &token);
    for (subject, who, prio) in [
        ("Outlook keeps asking for password", "Carol Customer", "high"),
        ("New starter needs a laptop on Monday", "Dan Manager", "medium"),
        ("Invoice 2291 charged twice", "Erin Accounts", "urgent"),
    ] {
        let email = format!("{}@customer.test", who.split(' ').next().unwrap_or("x").to_lowercase());
        let (st, _) = api.call("POST", "/tickets", Some(json!({"subject": subject, "body": "Details as told on the phone.", "requester": {"name": who, "email": email}, "channel": "phone", "priority": prio}))).await;
        assert_eq!(st, 201);
    }
    let shots = here.join("target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let out = Command::new("node")
        .current_dir(&script_dir)
        .arg("flow.mjs")
        .arg(&s.base)
        .arg(ADMIN_EMAIL)
        .arg(ADMIN_PASSWORD)
        .arg(&shots)
        .env("CHROMIUM", &chromium)
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "browser flow failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("OK TKT-"), "{stdout}");
    for f in ["queue.png", "ticket.png", "queue-phone.png", "ticket-phone.png"] {
        let len = std::fs::metadata(shots.join(f)).map(|m| m.len()).unwrap_or(0);
        assert!(len > 10_000, "screenshot {f} missing or empty");
    }
    // What the browser did is on the record server-side too.
    let ref_ = stdout.trim().trim_start_matches("OK ").to_string();
    let (_, t) = api.call("GET", &format!("/tickets/{ref_}"), None).await;
    let entries = t["entries"].as_array().unwrap();
    assert!(entries.iter().any(|e| e["kind"] == "reply" && e["body"].as_str().unwrap().contains("restart the router")));
    assert!(entries.iter().any(|e| e["kind"] == "note"));
}
