//! Custom fields (issue 14 part 7) through the real server: set in the side
//! panel, the new-ticket form and the API, logged, shown only in their
//! departments, checked by kind, required before Resolved, exported to CSV,
//! found by `field.<name>:`; the config checked with key and line.

use crate::common::*;
use serde_json::{Value, json};

const FIELDS: &str = "\n[[field]]\nname = \"device\"\nlabel = \"Device\"\nkind = \"select\"\noptions = [\"Laptop\", \"Desktop\", \"Phone\"]\n\
                      departments = [\"Support\"]\nrequired_to_resolve = true\n\
                      [[field]]\nname = \"seats\"\nkind = \"number\"\n\
                      [[field]]\nname = \"apps\"\nlabel = \"Affected apps\"\nkind = \"multi_select\"\noptions = [\"Mail\", \"VPN\", \"Wiki\"]\n\
                      [[field]]\nname = \"onsite\"\nlabel = \"On site\"\nkind = \"checkbox\"\n";

fn percent(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

#[tokio::test]
async fn custom_fields_are_set_checked_required_exported_and_searched() {
    let d = MailDesk::start_with_config(&(MAIL_CONFIG.to_string() + FIELDS));
    let new = |subject: &str, dept: &str| json!({"subject": subject, "department": dept, "requester": {"name": "Carol", "email": "carol@customer.test"}});
    // The API: set on creation, each kind checked.
    let mut body = new("VPN down", "Support");
    body["fields"] = json!({"device": "laptop", "seats": 12, "apps": ["VPN", "mail"], "onsite": true});
    let (code, t) = d.api.call("POST", "/tickets", Some(body)).await;
    assert_eq!(code, 201, "{t}");
    assert_eq!(t["fields"], json!({"device": "Laptop", "seats": "12", "apps": "Mail, VPN", "onsite": "yes"}));
    let r = t["ref"].as_str().unwrap().to_string();
    let (code, e) = d.api.call("PATCH", &format!("/tickets/{r}"), Some(json!({"fields": {"seats": "a dozen"}}))).await;
    assert_eq!((code, e["field"].as_str()), (400, Some("fields")), "{e}");
    assert!(e["error"].as_str().unwrap_or("").contains("seats: \"a dozen\" is not a number"), "{e}");
    let (code, e) = d.api.call("PATCH", &format!("/tickets/{r}"), Some(json!({"fields": {"colour": "red"}}))).await;
    assert_eq!(code, 400, "{e}");
    // A field of another department is refused there.
    let (code, e) = d
        .api
        .call(
            "POST",
            "/tickets",
            Some(json!({"subject": "Quote", "department": "Sales", "requester": "dan@customer.test", "fields": {"device": "Phone"}})),
        )
        .await;
    assert_eq!(code, 400, "{e}");
    assert!(e["error"].as_str().unwrap_or("").contains("Device is not a field of Sales"), "{e}");
    // Cleared with null; changes are logged with the label.
    let (code, t) = d.api.call("PATCH", &format!("/tickets/{r}"), Some(json!({"fields": {"onsite": null, "seats": "12.50"}}))).await;
    assert_eq!(code, 200, "{t}");
    assert_eq!(t["fields"], json!({"device": "Laptop", "seats": "12.5", "apps": "Mail, VPN"}));
    assert!(thread_text(&t).contains("changed On site from yes to"), "{t}");
    // Required before Resolved: a ticket without its device cannot be resolved.
    let (_, bare) = d.api.call("POST", "/tickets", Some(new("Printer", "Support"))).await;
    let rb = bare["ref"].as_str().unwrap().to_string();
    let (code, e) = d.api.call("PATCH", &format!("/tickets/{rb}"), Some(json!({"status": "resolved"}))).await;
    assert_eq!(code, 400, "{e}");
    assert!(e["error"].as_str().unwrap_or("").contains("set Device before the ticket is resolved"), "{e}");
    let (code, e) = d.api.call("POST", &format!("/tickets/{rb}/entries"), Some(json!({"body": "Done.", "status": "closed"}))).await;
    assert_eq!(code, 400, "a reply that closes is held to it too: {e}");
    // The side panel: Support's fields only, saved with the rest.
    let mut web = Browser::logged_in(&d.server.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let page = web.get(&format!("/tickets/{rb}")).await.body;
    assert!(page.contains("name=\"field.device\"") && page.contains("Device (needed to resolve)"), "{page}");
    let form = [
        ("fields_shown", "1"),
        ("field.device", "Phone"),
        ("field.apps", "Wiki"),
        ("field.apps", "Mail"),
        ("field.onsite", "yes"),
        ("status", "resolved"),
    ];
    let saved = web.post(&format!("/tickets/{rb}/update"), &form).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let (_, t) = d.api.call("GET", &format!("/tickets/{rb}"), None).await;
    assert_eq!(
        (t["status"].as_str(), &t["fields"]),
        (Some("resolved"), &json!({"device": "Phone", "apps": "Mail, Wiki", "onsite": "yes"}))
    );
    // Saving the panel without ticking the box clears it.
    web.post(&format!("/tickets/{rb}/update"), &[("fields_shown", "1"), ("field.device", "Phone")]).await;
    let (_, t) = d.api.call("GET", &format!("/tickets/{rb}"), None).await;
    assert_eq!(t["fields"], json!({"device": "Phone"}));
    // Moved to Sales from the panel: Support's own field stays behind, no error.
    let moved =
        web.post(&format!("/tickets/{rb}/update"), &[("fields_shown", "1"), ("field.device", "Phone"), ("department", "Sales")]).await;
    assert_eq!(moved.status, 303, "{}", moved.body);
    let (_, t) = d.api.call("GET", &format!("/tickets/{rb}"), None).await;
    assert_eq!((t["department"].as_str(), &t["fields"]), (Some("Sales"), &json!({"device": "Phone"})));
    let (_, sales) = d.api.call("POST", "/tickets", Some(new("Quote", "Sales"))).await;
    let sales_page = web.get(&format!("/tickets/{}", sales["ref"].as_str().unwrap())).await.body;
    assert!(!sales_page.contains("field.device") && sales_page.contains("name=\"field.seats\""), "Sales has no Device: {sales_page}");
    // The new-ticket form.
    let form_page = web.get("/tickets/new").await.body;
    assert!(form_page.contains("name=\"field.device\""), "{form_page}");
    let made = web
        .post(
            "/tickets",
            &[
                ("requester_email", "erin@customer.test"),
                ("subject", "Dock"),
                ("channel", "phone"),
                ("priority", "medium"),
                ("department", "Support"),
                ("fields_shown", "1"),
                ("field.device", "Desktop"),
                ("field.seats", "3"),
            ],
        )
        .await;
    assert_eq!(made.status, 303, "{}", made.body);
    // CSV: the labels as headers, the values as cells.
    let csv = web.get("/tickets.csv?status=all&fields=ref,field.device,field.apps").await.body;
    assert!(csv.starts_with("Reference,Device,Affected apps\r\n"), "{csv}");
    assert!(csv.contains(&format!("{r},Laptop,\"Mail, VPN\"")), "{csv}");
    // Search: a value, one choice of a multi-select; an unknown field is named.
    let mut found = Vec::new();
    for _ in 0..100 {
        let (_, page) = d.api.call("GET", &format!("/tickets?q={}", percent("field.apps:vpn field.device:laptop")), None).await;
        found = page["tickets"].as_array().into_iter().flatten().filter_map(|t| t["ref"].as_str().map(str::to_string)).collect();
        if !found.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(found, vec![r.clone()]);
    let (code, e) = d.api.call("GET", &format!("/tickets?q={}", percent("field.colour:red")), None).await;
    assert_eq!(code, 400);
    assert!(e["error"].as_str().unwrap_or("").contains("use field.device:, field.seats:"), "{e}");
    // The API lists the fields.
    let (_, list) = d.api.call("GET", "/fields", None).await;
    let names: Vec<&str> = list["fields"].as_array().unwrap().iter().filter_map(|f| f["name"].as_str()).collect();
    assert_eq!(names, ["device", "seats", "apps", "onsite"]);
    assert_eq!(list["fields"][0]["required_to_resolve"], Value::Bool(true));
}

#[test]
fn custom_fields_are_checked_with_key_and_line() {
    let dir = tempdir();
    let bad = [
        ("[[field]]\nname = \"Device\"\nkind = \"text\"\n", "field.name", 2, "lower-case"),
        ("[[field]]\nname = \"device\"\nkind = \"colour\"\n", "kind", 3, "unknown variant"),
        ("[[field]]\nname = \"device\"\nkind = \"select\"\n", "field.options", 0, "lists its options"),
        ("[[field]]\nname = \"device\"\nkind = \"select\"\noptions = [\"a, b\"]\n", "field.options", 4, "without commas"),
        (
            "[[field]]\nname = \"device\"\nkind = \"text\"\ndepartments = [\"Nowhere\"]\n",
            "field.departments",
            4,
            "not one of desk.departments",
        ),
        ("[[field]]\nname = \"owner\"\nlabel = \"Team\"\nkind = \"text\"\n", "field.label", 3, "built-in field"),
    ];
    for (text, key, line, why) in bad {
        let path = dir.path().join("frontdesk.toml");
        std::fs::write(&path, text).unwrap();
        let (code, _, err) = cli(dir.path(), &["--config", path.to_str().unwrap(), "check-config"], None);
        assert_eq!(code, 2, "{text}: {err}");
        assert!(err.contains(key) && err.contains(why), "{text}: {err}");
        if line > 0 {
            assert!(err.contains(&format!("line {line}")), "{text}: {err}");
        }
    }
}
