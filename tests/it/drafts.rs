//! Never lose a reply (issue 18 part 1), through the real HTTP server: the
//! reply box's draft is saved on the server and given back by the ticket
//! page (also after signing in again), posting ends it, a save after the
//! session ended is refused (how the page learns it), and a form sent with
//! an expired token gets a page that keeps its text.

use crate::common::{ADMIN_EMAIL, Browser, MailDesk};
use serde_json::json;

#[tokio::test]
async fn drafts_are_kept_given_back_and_ended_by_posting() {
    let d = MailDesk::start();
    let (s, t) =
        d.api.call("POST", "/tickets", Some(json!({"subject": "Printer", "body": "Help", "requester": {"email": "q@cust.test"}}))).await;
    assert_eq!(s, 201);
    let r = t["ref"].as_str().unwrap().to_string();
    let mut ada = Browser::logged_in(&d.server.base, ADMIN_EMAIL, "correct horse battery").await;
    let saved = ada.post(&format!("/tickets/{r}/draft"), &[("body", "Half a reply <b>so far</b>"), ("internal", "1")]).await;
    assert_eq!(saved.status, 200, "{}", saved.body);
    assert!(saved.body.contains("\"saved_at\""), "{}", saved.body);

    // Signed out and in again: the ticket gives the draft back, as a note.
    assert_eq!(ada.post("/logout", &[]).await.status, 303);
    let mut ada = Browser::logged_in(&d.server.base, ADMIN_EMAIL, "correct horse battery").await;
    let page = ada.get(&format!("/tickets/{r}")).await.body;
    assert!(page.contains(">Half a reply &lt;b&gt;so far&lt;/b&gt;</textarea>"), "{page}");
    assert!(page.contains("Draft restored (saved "), "{page}");
    assert!(page.contains("id=\"internal\" type=\"checkbox\" name=\"internal\" value=\"1\" checked"), "{page}");
    // Another agent's page has no such text.
    let mut bob = Browser::logged_in(&d.server.base, "agent@example.test", "bob's long password").await;
    assert!(!bob.get(&format!("/tickets/{r}")).await.body.contains("Half a reply"));

    // Posting ends it; the page then tells the browser to drop its copy.
    assert_eq!(ada.post(&format!("/tickets/{r}/reply"), &[("body", "The whole reply."), ("internal", "1")]).await.status, 303);
    let page = ada.get(&format!("/tickets/{r}?done=note")).await.body;
    assert!(!page.contains("Half a reply") && page.contains("data-sent=\"1\""), "{page}");
    // A save still on its way from the page before the post is dropped.
    let late = ada.post(&format!("/tickets/{r}/draft"), &[("body", "Late echo"), ("seen", "2")]).await;
    assert_eq!(late.status, 200);
    assert!(late.body.contains("\"dropped\":true"), "said, not pretended saved: {}", late.body);
    assert!(!ada.get(&format!("/tickets/{r}")).await.body.contains("Late echo"));

    // A save after the session ended is refused.
    let stale = ada.cookie_header();
    assert_eq!(ada.post("/logout", &[]).await.status, 303);
    let r2 = reqwest::Client::new()
        .post(d.server.url(&format!("/tickets/{r}/draft")))
        .header("cookie", stale)
        .header("x-csrf-token", "whatever")
        .form(&[("body", "more")])
        .send()
        .await
        .unwrap();
    assert_eq!(r2.status().as_u16(), 403);
}

#[tokio::test]
async fn an_expired_form_keeps_the_text() {
    let d = MailDesk::start();
    let (s, t) =
        d.api.call("POST", "/tickets", Some(json!({"subject": "Printer", "body": "Help", "requester": {"email": "q@cust.test"}}))).await;
    assert_eq!(s, 201);
    let r = t["ref"].as_str().unwrap().to_string();
    let ada = Browser::logged_in(&d.server.base, ADMIN_EMAIL, "correct horse battery").await;
    // The reply box's multipart form, with a token from an older session.
    let body = "--XX\r\nContent-Disposition: form-data; name=\"seen\"\r\n\r\n2\r\n--XX\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\nA long answer <script>x</script>\r\n--XX--\r\n";
    let res = reqwest::Client::new()
        .post(d.server.url(&format!("/tickets/{r}/reply?_csrf=old")))
        .header("cookie", ada.cookie_header())
        .header("content-type", "multipart/form-data; boundary=XX")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);
    let page = res.text().await.unwrap();
    assert!(page.contains("This form has expired") && page.contains("Nothing was saved or sent"), "{page}");
    assert!(page.contains(">A long answer &lt;script&gt;x&lt;/script&gt;</textarea>"), "{page}");
    assert!(page.contains(&format!("href=\"/login?next=%2Ftickets%2F{}\"", r.replace('-', "%2D"))), "{page}");
    let t = d.ticket(&r).await;
    assert!(!t["entries"].as_array().unwrap().iter().any(|e| e["body"].as_str().unwrap_or("").contains("long answer")));
}
