//! Satisfaction ratings (issue 15 part 4) as a customer meets them, over
//! real SMTP out and the real HTTP server: the resolved mail carries a good
//! and a bad link of the requester's own; opening one decides nothing (link
//! scanners open every link), the page's button records it with a comment;
//! the rating shows on the ticket, the requester's page, the API and in
//! search (`rating:bad`); a bad one tells the assignee; a forged link, an
//! over-long comment, a ticket in Trash and a ticket open again are
//! refused.

use serde_json::json;

use crate::common::capture::{Capture, Captured};
use crate::common::{ADMIN_EMAIL, ADMIN_PASSWORD, Browser, MAIL_CONFIG, MailDesk};

/// The mail's text with quoted-printable soft breaks and `=3D` undone.
fn text_of(m: &Captured) -> String {
    m.data.replace("=\r\n", "").replace("=3D", "=")
}

/// The path of the link after `label` in the resolved mail.
fn link_after(text: &str, label: &str) -> String {
    let line = text.lines().find(|l| l.trim_start().starts_with(label)).unwrap_or_else(|| panic!("no {label} line in:\n{text}"));
    let at = line.find("/t/").unwrap_or_else(|| panic!("no link in {line:?}"));
    line[at..].trim().to_string()
}

#[tokio::test]
async fn the_resolved_mail_asks_and_the_answer_lands_everywhere() {
    let (cap, _h) = Capture::start_on("127.0.0.1:0").await;
    let d = MailDesk::start_with_config(&format!("{MAIL_CONFIG}\n[outgoing]\nsmarthost = \"{}\"\nretry_secs = [1]\n", cap.addr));
    let (st, t) = d
        .api
        .call("POST", "/tickets", Some(json!({"subject": "Printer offline", "body": "It says offline.", "requester": {"email": "carol@customer.test", "name": "Carol"}})))
        .await;
    assert_eq!(st, 201, "{t}");
    let reference = t["ref"].as_str().unwrap_or_default().to_string();
    let (st, v) =
        d.api.call("PATCH", &format!("/tickets/{reference}"), Some(json!({"assignee": "agent@example.test", "status": "resolved"}))).await;
    assert_eq!(st, 200, "{v}");
    let resolved = cap.wait_for(|m| m.rcpt_to == ["carol@customer.test"] && text_of(m).contains("/rate?")).await;
    let text = text_of(&resolved);
    let (good, bad) = (link_after(&text, "Good:"), link_after(&text, "Bad:"));
    assert!(good.contains("r=good") && bad.contains("r=bad"), "{text}");

    // A scanner (or the customer) opening the link records nothing yet.
    let mut carol = Browser::new(&d.server.base);
    let page = carol.get(&bad).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("value=\"bad\" checked") && !page.body.contains("value=\"good\" checked"), "{}", page.body);
    let (_, v) = d.api.call("GET", &format!("/tickets/{reference}"), None).await;
    assert_eq!(v["rating"], serde_json::Value::Null, "opening the link decided nothing");
    let german = Browser::with_language(&d.server.base, "de").get(&good).await;
    assert!(german.body.contains("Wie zufrieden waren Sie mit uns?") && german.body.contains("Bewertung senden"), "{}", german.body);

    // The button records it, with the comment.
    let key: Vec<(String, String)> = ["p", "e", "s"]
        .iter()
        .map(|k| {
            let v = bad.split(&format!("{k}=")).nth(1).and_then(|s| s.split('&').next()).unwrap_or_default();
            (k.to_string(), v.to_string())
        })
        .collect();
    let token = carol.csrf.clone();
    let form = |score: &str, comment: &str| {
        let mut f = key.clone();
        f.push(("score".into(), score.into()));
        f.push(("comment".into(), comment.into()));
        f.push(("_csrf".into(), token.clone()));
        f
    };
    let path = format!("/t/{reference}/rate");
    let done = carol.post_raw(&path, &form("bad", "Took three days to answer.")).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("your rating was recorded"), "{}", done.body);
    let (_, v) = d.api.call("GET", &format!("/tickets/{reference}"), None).await;
    assert_eq!(v["rating"]["score"], "bad", "{v}");
    assert_eq!(v["rating"]["comment"], "Took three days to answer.");
    // The assignee hears of it, with the comment.
    let notice = cap.wait_for(|m| m.rcpt_to == ["agent@example.test"] && text_of(m).contains("[Rated bad]")).await;
    assert!(text_of(&notice).contains("Took three days to answer."));
    // Search finds it by its rating.
    let (_, hits) = d.api.call("GET", "/tickets?q=rating:bad&status=all", None).await;
    let found =
        |hits: &serde_json::Value| hits["tickets"].as_array().map(|a| a.iter().any(|t| t["ref"] == reference.as_str())).unwrap_or(false);
    let mut hits = hits;
    for _ in 0..100 {
        if found(&hits) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        hits = d.api.call("GET", "/tickets?q=rating:bad&status=all", None).await.1;
    }
    assert!(found(&hits), "rating:bad finds it: {hits}");
    let (_, none) = d.api.call("GET", "/tickets?q=rating:good&status=all", None).await;
    assert!(!found(&none), "rating:good does not: {none}");
    let (st, refused) = d.api.call("GET", "/tickets?q=rating:meh", None).await;
    assert_eq!(st, 400, "{refused}");
    // The agent sees it on the ticket and on the requester's page.
    let mut admin = Browser::logged_in(&d.server.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let ticket = admin.get(&format!("/tickets/{reference}")).await.body;
    assert!(ticket.contains("rating rating-bad") && ticket.contains("Took three days to answer."), "{ticket}");
    assert!(ticket.contains("rated the help bad"), "the thread says so: {ticket}");
    let person = ticket.split("href=\"/requesters/").nth(1).and_then(|s| s.split('"').next()).unwrap_or_default().to_string();
    let requester = admin.get(&format!("/requesters/{person}")).await.body;
    assert!(requester.contains("rating rating-bad"), "{requester}");

    // A change of mind replaces it; the same answer twice adds nothing.
    assert_eq!(carol.post_raw(&path, &form("good", "")).await.status, 200);
    assert_eq!(carol.post_raw(&path, &form("good", "")).await.status, 200);
    let (_, v) = d.api.call("GET", &format!("/tickets/{reference}"), None).await;
    assert_eq!(v["rating"]["score"], "good");
    // In Trash the ticket cannot be rated (it is gone for its customer)
    // until it is restored.
    assert_eq!(d.api.call("POST", &format!("/tickets/{reference}/trash"), None).await.0, 200);
    assert_eq!(carol.get(&bad).await.status, 404);
    assert_eq!(carol.post_raw(&path, &form("bad", "Trashed?")).await.status, 404);
    assert_eq!(d.api.call("DELETE", &format!("/tickets/{reference}/trash"), None).await.0, 200);
    let (_, v) = d.api.call("GET", &format!("/tickets/{reference}"), None).await;
    assert_eq!((&v["rating"]["score"], &v["rating"]["comment"]), (&json!("good"), &json!("")), "{v}");
    assert_eq!(carol.get(&bad).await.status, 200);
    let rated =
        v["entries"].as_array().map(|a| a.iter().filter(|e| e["body"].as_str().unwrap_or("").starts_with("rated the help")).count());
    assert_eq!(rated, Some(2), "two answers, two lines: {v}");

    // Refusals: a forged signature, a comment too long (kept), a ticket open again.
    let mut forged = form("bad", "");
    forged.iter_mut().filter(|(k, _)| k == "s").for_each(|(_, v)| *v = "0".repeat(64));
    assert_eq!(carol.post_raw(&path, &forged).await.status, 404);
    let long = "x".repeat(2001);
    let r = carol.post_raw(&path, &form("bad", &long)).await;
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(r.body.contains(&long), "the comment is kept");
    let (st, _) = d.api.call("PATCH", &format!("/tickets/{reference}"), Some(json!({"status": "open"}))).await;
    assert_eq!(st, 200);
    let r = carol.post_raw(&path, &form("bad", "")).await;
    assert_eq!(r.status, 409, "{}", r.body);
    let (_, v) = d.api.call("GET", &format!("/tickets/{reference}"), None).await;
    assert_eq!(v["rating"]["score"], "good", "nothing changed");
}
