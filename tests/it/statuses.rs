//! Custom statuses (issue 17 part 8) through the real server: set from the
//! ticket page and the API, shown with their colour in the queue and on the
//! ticket, in the log, the CSV and the API; found by `status:"…"` and by
//! their base state; bad names refused with the choices; the config checked.

use crate::common::*;
use serde_json::{Value, json};

const STATUSES: &str = "\n[[status]]\nname = \"Waiting for vendor\"\nbase = \"on_hold\"\ncolour = \"#8a4baf\"\n\
                        [[status]]\nname = \"Scheduled\"\nbase = \"pending\"\ncolour = \"#ffe08a\"\n";

fn percent(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

/// The refs an API search finds, once the index has caught up with `want`.
async fn found(d: &MailDesk, q: &str, want: &[&str]) -> Vec<String> {
    let mut got = Vec::new();
    for _ in 0..100 {
        let (code, page) = d.api.call("GET", &format!("/tickets?q={}", percent(q)), None).await;
        assert_eq!(code, 200, "{page}");
        got = page["tickets"].as_array().into_iter().flatten().filter_map(|t| t["ref"].as_str().map(str::to_string)).collect();
        got.sort();
        if got == want {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    got
}

#[tokio::test]
async fn a_custom_status_is_set_shown_logged_exported_and_searched() {
    let d = MailDesk::start_with_config(&(MAIL_CONFIG.to_string() + STATUSES));
    let new = |subject: &str| json!({"subject": subject, "requester": {"name": "Carol", "email": "carol@customer.test"}});
    let (_, a) = d.api.call("POST", "/tickets", Some(new("Firewall licence"))).await;
    let (_, b) = d.api.call("POST", "/tickets", Some(new("Printer"))).await;
    let (ra, rb) = (a["ref"].as_str().unwrap().to_string(), b["ref"].as_str().unwrap().to_string());
    // Through the API: the base state stays the status, the name is shown.
    let (code, t) = d.api.call("PATCH", &format!("/tickets/{ra}"), Some(json!({"status": "waiting for vendor"}))).await;
    assert_eq!(code, 200, "{t}");
    assert_eq!(
        (t["status"].as_str(), t["status_name"].as_str(), t["custom_status"].as_str()),
        (Some("on_hold"), Some("Waiting for vendor"), Some("Waiting for vendor"))
    );
    assert!(thread_text(&t).contains("changed status from Open to Waiting for vendor"), "{t}");
    let (code, e) = d.api.call("PATCH", &format!("/tickets/{ra}"), Some(json!({"status": "Waiting for Godot"}))).await;
    assert_eq!(code, 400);
    assert!(e["error"].as_str().unwrap_or("").contains("closed, \"Waiting for vendor\", \"Scheduled\""), "{e}");
    // Through the ticket page: the select offers it, saving sets it.
    let mut web = Browser::logged_in(&d.server.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let page = web.get(&format!("/tickets/{rb}")).await.body;
    assert!(page.contains("<option value=\"Scheduled\">Scheduled</option>"), "{page}");
    assert!(page.contains("href=\"/statuses.css\""), "{page}");
    let saved = web.post(&format!("/tickets/{rb}/update"), &[("status", "Scheduled"), ("reason", "visit on Monday")]).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let page = web.get(&format!("/tickets/{rb}")).await.body;
    assert!(page.contains("class=\"badge st-pending cs-1\">Scheduled</span>"), "{page}");
    assert!(page.contains("changed status from Open to Scheduled"), "{page}");
    assert!(page.contains("visit on Monday"), "{page}");
    // Within the same base, back to the plain state.
    assert_eq!(web.post(&format!("/tickets/{rb}/update"), &[("status", "pending")]).await.status, 303);
    assert!(web.get(&format!("/tickets/{rb}")).await.body.contains("changed status from Scheduled to Pending"));
    web.post(&format!("/tickets/{rb}/update"), &[("status", "Scheduled")]).await;
    // The colours, readable on each.
    let css = web.get("/statuses.css").await.body;
    assert!(
        css.contains(".badge.cs-0{background:#8a4baf;color:#fff}") && css.contains(".badge.cs-1{background:#ffe08a;color:#111}"),
        "{css}"
    );
    // The queue and the CSV show the names.
    let queue = web.get("/tickets?status=all").await.body;
    assert!(queue.contains(">Waiting for vendor</span>") && queue.contains(">Scheduled</span>"), "{queue}");
    let csv = web.get("/tickets.csv?status=all&fields=ref,status").await.body;
    assert!(csv.contains(&format!("{ra},Waiting for vendor")) && csv.contains(&format!("{rb},Scheduled")), "{csv}");
    // Search: by name, by several, by base state; an unknown one lists them.
    assert_eq!(found(&d, "status:\"waiting for vendor\"", &[&ra]).await, vec![ra.clone()]);
    let mut both = vec![ra.clone(), rb.clone()];
    both.sort();
    let want: Vec<&str> = both.iter().map(String::as_str).collect();
    assert_eq!(found(&d, "status:\"Scheduled,Waiting for vendor\"", &want).await, both);
    assert_eq!(found(&d, "status:on_hold", &[&ra]).await, vec![ra.clone()], "the base state finds it");
    let (code, e) = d.api.call("GET", &format!("/tickets?q={}", percent("status:later")), None).await;
    assert_eq!(code, 400);
    assert!(e["error"].as_str().unwrap_or("").contains("\"Waiting for vendor\""), "{e}");
    // The bulk bar offers them too.
    let queue = web.get("/tickets?status=all").await.body;
    assert!(queue.contains("value=\"custom_status:Waiting for vendor\""), "{queue}");
    let id = b["id"].to_string();
    let bulk = web.post("/tickets/bulk", &[("action", "custom_status:Waiting for vendor"), ("id", id.as_str())]).await;
    assert!(bulk.status < 400, "{}", bulk.body);
    let mut shown = Value::Null;
    for _ in 0..100 {
        let (_, t) = d.api.call("GET", &format!("/tickets/{rb}"), None).await;
        shown = t["status_name"].clone();
        if shown == "Waiting for vendor" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(shown, "Waiting for vendor", "the bulk job set it");
    // A reply that changes the base state leaves the custom status behind.
    let (code, t) =
        d.api.call("POST", &format!("/tickets/{ra}/entries"), Some(json!({"body": "Licence arrived.", "status": "resolved"}))).await;
    assert_eq!(code, 201, "{t}");
    assert_eq!((t["status"].as_str(), t["status_name"].as_str(), &t["custom_status"]), (Some("resolved"), Some("Resolved"), &json!(null)));
    assert!(thread_text(&t).contains("changed status from Waiting for vendor to Resolved"), "{t}");
}

#[test]
fn custom_statuses_are_checked_with_key_and_line() {
    let dir = tempdir();
    let bad = [
        ("[[status]]\nname = \"pending\"\nbase = \"open\"\n", "status.name", 2, "built-in"),
        ("[[status]]\nname = \"Later\"\nbase = \"someday\"\n", "status.base", 3, "not one of"),
        ("[[status]]\nname = \"Later\"\nbase = \"open\"\ncolour = \"purple\"\n", "status.colour", 4, "not a colour"),
        ("[[department]]\nname = \"Nowhere\"\n", "department.name", 2, "not one of desk.departments"),
        ("[[department]]\nname = \"Support\"\nnew_ticket = \"everyone\"\n", "new_ticket", 3, "unknown variant"),
    ];
    for (text, key, line, why) in bad {
        let path = dir.path().join("frontdesk.toml");
        std::fs::write(&path, text).unwrap();
        let (code, _, err) = cli(dir.path(), &["--config", path.to_str().unwrap(), "check-config"], None);
        assert_eq!(code, 2, "{text}: {err}");
        assert!(err.contains(&format!("line {line}")) && err.contains(key) && err.contains(why), "{text}: {err}");
    }
}
