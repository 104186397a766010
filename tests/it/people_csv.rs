//! People as CSV (issue 15 part 5) through the real server: an import by an
//! agent adds new people, updates known ones (name, phone, organization,
//! notes; organizations made by name), skips what it cannot take and says
//! why per row; the export writes them back, and importing the export
//! changes nothing (a phone's leading + survives the spreadsheet defusing);
//! a phone number is shown and edited on the requester's page.

use crate::common::{ADMIN_EMAIL, ADMIN_PASSWORD, Browser, MailDesk};
use serde_json::json;

#[tokio::test]
async fn people_are_imported_exported_and_imported_again_unchanged() {
    let d = MailDesk::start();
    let (st, _) = d
        .api
        .call("POST", "/tickets", Some(json!({"subject": "Hi", "body": "Hi.", "requester": {"email": "bob@old.test", "name": "Bob"}})))
        .await;
    assert_eq!(st, 201);
    let mut agent = Browser::logged_in(&d.server.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(agent.get("/people/import").await.status, 200);
    let csv = format!(
        "\u{feff}Name,Email,Phone,Organization,Notes,Shoe size\r\n\
         Jane Doe,jane@acme.test,+49 30 1234,Acme Ltd,VIP customer,42\r\n\
         Robert,BOB@old.test,555-0100,,,\r\n\
         Bad,not-an-email,,,,\r\n\
         Ada,{ADMIN_EMAIL},,,,\r\n\
         \"Doe, John\",john@acme.test,\"+1 (555) 010-0200\",Acme Ltd,\"two\r\nlines\",\r\n\
         Carl,carl@x.test,call me,,,\r\n"
    );
    let r = agent.post_multipart("/people/import", &[], &[("people.csv", csv.as_bytes())]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("2 added, 1 updated, 1 organizations made, 3 rows skipped."), "{}", r.body);
    for why in [
        "Row 4: &quot;not-an-email&quot; is not an email address",
        "is an agent&#39;s address",
        "Row 7: &quot;call me&quot; is not a phone number",
    ] {
        assert!(r.body.contains(why) || r.body.contains(&why.replace("&#39;", "'")), "{why}: {}", r.body);
    }

    // Each one as the import left them.
    let (_, people) = d.api.call("GET", "/people?q=acme.test", None).await;
    assert_eq!(people["people"].as_array().map(Vec::len), Some(2), "{people}");
    let (_, bob) = d.api.call("GET", "/people?q=bob%40old.test", None).await;
    let bob_id = bob["people"][0]["id"].as_u64().expect("bob");
    assert_eq!(bob["people"][0]["name"], "Robert");
    let page = agent.get(&format!("/requesters/{bob_id}")).await;
    assert!(page.body.contains("href=\"tel:555-0100\"") && page.body.contains("value=\"555-0100\""), "{}", page.body);

    // The export, and the export imported again: nothing changes.
    let export = agent.get("/people.csv").await;
    assert_eq!(export.status, 200);
    let lines: Vec<&str> = export.body.split("\r\n").collect();
    assert_eq!(lines[0], "name,email,phone,organization,notes");
    assert!(lines.contains(&"Jane Doe,jane@acme.test,'+49 30 1234,Acme Ltd,VIP customer"), "{}", export.body);
    assert!(export.body.contains("\"Doe, John\",john@acme.test,'+1 (555) 010-0200,Acme Ltd,\"two\nlines\""), "{}", export.body);
    let r = agent.post_multipart("/people/import", &[("text", &export.body)], &[]).await;
    assert!(r.body.contains("0 added, 3 updated, 0 organizations made, 0 rows skipped."), "{}", r.body);
    assert_eq!(agent.get("/people.csv").await.body, export.body, "a round trip changes nothing");

    // Empty cells change nothing; a bad organization name skips its row only.
    let sparse = "email,phone,notes,organization\njane@acme.test,,,\njohn@acme.test,,,\"Bad\nName\"\n";
    let r = agent.post_multipart("/people/import", &[("text", sparse)], &[]).await;
    assert!(r.body.contains("0 added, 1 updated, 0 organizations made, 1 rows skipped.") && r.body.contains("Row 3"), "{}", r.body);
    assert_eq!(agent.get("/people.csv").await.body, export.body, "nothing was erased");

    // A phone number edited on the page; a bad one changes nothing.
    let r = agent.post(&format!("/requesters/{bob_id}"), &[("name", "Robert"), ("notes", ""), ("phone", "+44 20 7946 0000")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = agent.post(&format!("/requesters/{bob_id}"), &[("name", "Bobby"), ("notes", ""), ("phone", "ring ring")]).await;
    assert_eq!(r.status, 400, "{}", r.body);
    let page = agent.get(&format!("/requesters/{bob_id}")).await;
    assert!(page.body.contains("+44 20 7946 0000") && !page.body.contains("Bobby"), "{}", page.body);
    // A file that is not CSV with an email column is refused, the text kept.
    let r = agent.post_multipart("/people/import", &[("text", "who,where\nx,y")], &[]).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("one of them is email") && r.body.contains("who,where"), "{}", r.body);
}

/// A walk-in known by phone only (issue 15 part 6): New ticket takes a phone
/// number without an email; the requester shows as their number, keeps it,
/// and no mail goes anywhere for them; with neither, the form says so.
#[tokio::test]
async fn a_walk_in_is_known_by_phone_only() {
    let (cap, _h) = crate::common::capture::Capture::start_on("127.0.0.1:0").await;
    let d = MailDesk::start_with_config(&format!(
        "{}\n[outgoing]\nsmarthost = \"{}\"\nretry_secs = [1]\n",
        crate::common::MAIL_CONFIG,
        cap.addr
    ));
    let mut agent = Browser::logged_in(&d.server.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let form = |phone: &'static str| {
        vec![
            ("requester_email", ""),
            ("requester_name", ""),
            ("requester_phone", phone),
            ("subject", "Walk-in: cracked screen"),
            ("body", "Dropped the laptop."),
            ("channel", "phone"),
            ("priority", "medium"),
            ("notify", "on"),
        ]
    };
    let r = agent.post("/tickets", &form("")).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body.contains("Give the requester&#39;s email address or phone number.") || r.body.contains("Give the requester's email"),
        "{}",
        r.body
    );
    let r = agent.post("/tickets", &form("+49 30 555 0100")).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = agent.get(r.location.as_deref().unwrap_or("/")).await;
    assert!(page.body.contains("+493055501") && !page.body.contains("phone.invalid</a>"), "{}", page.body);
    let (_, p) = d.api.call("GET", "/people?q=phone.invalid", None).await;
    let id = p["people"][0]["id"].as_u64().expect("the walk-in");
    let person = agent.get(&format!("/requesters/{id}")).await;
    assert!(person.body.contains("href=\"tel:+49305550100\""), "{}", person.body);
    // Nothing is mailed for them (an agent's reply included).
    let reference = page.body.split("TKT-").nth(1).map(|s| format!("TKT-{}", &s[..6])).expect("the reference");
    let (st, _) =
        d.api.call("POST", &format!("/tickets/{reference}/entries"), Some(serde_json::json!({"body": "Bring it in tomorrow."}))).await;
    assert_eq!(st, 201);
    d.outbox_idle().await;
    assert!(cap.all().iter().all(|m| m.rcpt_to.iter().all(|r| !r.ends_with(".invalid"))), "no mail to the reserved domain");
    // No one sends from the reserved domain: such mail is forged.
    use crate::common::smtp::Smtp;
    let address = "0049305550100@phone.invalid";
    let forged = format!("From: <{address}>\r\nTo: support@example.test\r\nSubject: Re: [{reference}] Walk-in\r\n\r\nSend it to me.\r\n");
    assert!(Smtp::send_mail(&d.smtp, address, &["support@example.test"], forged.as_bytes()).0 >= 500, "refused at MAIL FROM");
    assert_eq!(Smtp::send_mail(&d.smtp, "mallory@evil.test", &["support@example.test"], forged.as_bytes()).0, 250);
    d.settle().await;
    let (_, t) = d.api.call("GET", &format!("/tickets/{reference}"), None).await;
    assert!(!t.to_string().contains("Send it to me."), "the forged reply joined nothing: {t}");
}
