//! Customers see their tickets without a password (issue 15 part 1, the
//! sign-in), through the real HTTP server and mail over SMTP: the help page
//! mails a link to a known customer and answers a stranger the same; the
//! link signs them in to a list of their own tickets, each opening through
//! its signed link; a forged link and an expired ticket link get the
//! customers' page with "mail me a fresh link" and no agents' links; a
//! ticket number that is not theirs sends nothing; a ticket in Trash is
//! gone for them until restored; they close a ticket from its page;
//! signing out ends it.

use serde_json::json;

use crate::common::capture::{Capture, Captured};
use crate::common::{Browser, MAIL_CONFIG, MailDesk};

fn text_of(m: &Captured) -> String {
    m.data.replace("=\r\n", "").replace("=3D", "=")
}

/// The path of the first link into the desk in `text` that contains `part`.
/// Opens a mailed sign-in link as a customer does: its page (which uses
/// nothing: link scanners open links too), then its button.
async fn sign_in(b: &mut Browser, link: &str) -> crate::common::Response {
    let page = b.get(link).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Show my tickets"), "{}", page.body);
    let query = link.split_once('?').map(|(_, q)| q).unwrap_or_default();
    let field = |k: &str| query.split('&').find_map(|kv| kv.strip_prefix(&format!("{k}="))).unwrap_or_default().to_string();
    b.post("/help/in", &[("p", &field("p")), ("e", &field("e")), ("s", &field("s"))]).await
}

fn path_in(text: &str, part: &str) -> String {
    text.lines()
        .filter_map(|l| l.find("http://").map(|i| l[i..].trim().to_string()))
        .find(|u| u.contains(part))
        .and_then(|u| u.find(part).map(|i| u[i..].to_string()))
        .unwrap_or_else(|| panic!("no {part} link in:\n{text}"))
}

#[tokio::test]
async fn a_mailed_link_shows_my_tickets_and_nobody_elses() {
    let (cap, _h) = Capture::start_on("127.0.0.1:0").await;
    let statuses = "[[status]]\nname = \"Waiting for vendor\"\nbase = \"on_hold\"\ncustomer_name = \"Waiting for a part\"\n";
    let d = MailDesk::start_with_config(&format!(
        "{MAIL_CONFIG}\n{statuses}\n[outgoing]\nsmarthost = \"{}\"\nretry_secs = [1]\n\n[portal]\nmin_fill_secs = 0\n",
        cap.addr
    ));
    let mut refs = Vec::new();
    for (who, subject) in
        [("carol@customer.test", "Printer offline"), ("carol@customer.test", "VPN drops"), ("dan@customer.test", "Dan's laptop")]
    {
        let (st, t) = d.api.call("POST", "/tickets", Some(json!({"subject": subject, "body": "Help.", "requester": {"email": who}}))).await;
        assert_eq!(st, 201, "{t}");
        refs.push(t["ref"].as_str().unwrap_or_default().to_string());
    }

    // A stranger and a customer get the same answer; only the customer gets mail.
    let mut anon = Browser::new(&d.server.base);
    assert_eq!(anon.get("/help").await.status, 200);
    let stranger = anon.post("/help/link", &[("email", "nobody@customer.test"), ("reference", "")]).await;
    // Dan names a ticket that is not his; an agent's address is not a customer's.
    assert_eq!(anon.post("/help/link", &[("email", "dan@customer.test"), ("reference", &refs[0])]).await.status, 200);
    assert_eq!(anon.post("/help/link", &[("email", "agent@example.test"), ("reference", "")]).await.status, 200);
    let carol_asks = anon.post("/help/link", &[("email", "Carol@Customer.test"), ("reference", &refs[0])]).await;
    assert_eq!((stranger.status, carol_asks.status), (200, 200));
    let said = |b: &str| b.contains("If that address has tickets with us, a link to them is on its way.");
    assert!(said(&stranger.body) && said(&carol_asks.body), "{}", stranger.body);
    let mail = cap.wait_for(|m| m.rcpt_to == ["carol@customer.test"] && text_of(m).contains("/help/in?")).await;
    let link = path_in(&text_of(&mail), "/help/in?");
    // Carol asked last: the others' would be here by now.
    d.settle().await;
    let signin_to = |who: &str| cap.all().iter().any(|m| m.rcpt_to == [who] && text_of(m).contains("/help/in?"));
    assert!(!signin_to("nobody@customer.test") && !signin_to("agent@example.test"));
    assert!(!signin_to("dan@customer.test"), "not for another's ticket");

    // Statuses as customers read them: pending is waiting for them; a custom
    // status shows its customer name, never the internal one.
    for (r, status) in [(&refs[0], "pending"), (&refs[1], "Waiting for vendor")] {
        let (st, v) = d.api.call("PATCH", &format!("/tickets/{r}"), Some(json!({"status": status}))).await;
        assert_eq!(st, 200, "{v}");
    }
    // The link signs Carol in to her tickets, not Dan's.
    let mut carol = Browser::new(&d.server.base);
    let r = sign_in(&mut carol, &link).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some("/help/tickets"));
    // The link works once.
    let mut again = Browser::new(&d.server.base);
    assert_eq!(again.get(&link).await.status, 404, "a used link's page says so");
    let query = link.split_once('?').map(|(_, q)| q).unwrap_or_default().to_string();
    let reuse: Vec<(String, String)> =
        query.split('&').filter_map(|kv| kv.split_once('=')).map(|(k, v)| (k.to_string(), v.to_string())).collect();
    again.get("/help").await;
    let mut fields = reuse.clone();
    fields.push(("_csrf".into(), again.csrf.clone()));
    assert_eq!(again.post_raw("/help/in", &fields).await.status, 404, "nor can it be used again");
    // A second browser with the same session: signing out in one ends both.
    let mut twin = Browser::new(&d.server.base);
    twin.cookies = carol.cookies.clone();
    let list = carol.get("/help/tickets").await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("Printer offline") && list.body.contains("VPN drops"), "{}", list.body);
    assert!(!list.body.contains("Dan&#39;s laptop") && !list.body.contains("Dan's laptop"), "{}", list.body);
    assert!(!list.body.contains("href=\"/tickets"), "no agents' links on a customer's page");
    assert!(list.body.contains("Waiting for your reply") && list.body.contains("Waiting for a part"), "{}", list.body);
    assert!(!list.body.contains("Waiting for vendor"), "the internal name stays internal");
    // Each ticket opens through its own signed link.
    let ticket = list
        .body
        .split("href=\"/t/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .map(|s| format!("/t/{}", s.replace("&amp;", "&")))
        .expect("a ticket link");
    let page = carol.get(&ticket).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("VPN drops") || page.body.contains("Printer offline"));
    // "Close this ticket" from their page: closed, by them.
    let (path, query) = ticket.split_once('?').expect("a link with its key");
    let field = |k: &str| query.split('&').find_map(|kv| kv.strip_prefix(&format!("{k}="))).unwrap_or_default().to_string();
    let reference = path.trim_start_matches("/t/").to_string();
    // In Trash the ticket is gone for her, as from her list: its page, a
    // reply and "close" find nothing and change nothing until an agent
    // restores it.
    let replies = |v: &serde_json::Value| v["entries"].as_array().map_or(0, |e| e.iter().filter(|e| e["kind"] == "reply").count());
    let (st, before) = d.api.call("POST", &format!("/tickets/{reference}/trash"), None).await;
    assert_eq!(st, 200, "{before}");
    let gone = carol.get(&ticket).await;
    assert_eq!(gone.status, 404, "{}", gone.body);
    let shown = gone.body.contains("VPN drops") || gone.body.contains("Printer offline");
    assert!(gone.body.contains("This link is not valid any more") && !shown, "{}", gone.body);
    let key = [("p", field("p")), ("e", field("e")), ("s", field("s"))];
    let with_body: Vec<(&str, &str)> = key.iter().map(|(k, v)| (*k, v.as_str())).chain([("body", "Any news?")]).collect();
    assert_eq!(carol.post(&format!("/t/{reference}/reply"), &with_body).await.status, 404);
    let fields: Vec<(&str, &str)> = key.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(carol.post(&format!("/t/{reference}/close"), &fields).await.status, 404);
    let (st, restored) = d.api.call("DELETE", &format!("/tickets/{reference}/trash"), None).await;
    assert_eq!(st, 200, "{restored}");
    assert_eq!((replies(&restored), &restored["status"]), (replies(&before), &before["status"]), "nothing changed in Trash");
    assert_eq!(carol.get(&ticket).await.status, 200, "restored, her link works again");
    let closed = carol.post(&format!("/t/{reference}/close"), &[("p", &field("p")), ("e", &field("e")), ("s", &field("s"))]).await;
    assert_eq!(closed.status, 303, "{}", closed.body);
    let after = carol.get(closed.location.as_deref().unwrap_or("/")).await.body;
    assert!(after.contains("Your ticket is closed.") && !after.contains("Send reply"), "{after}");
    let (_, v) = d.api.call("GET", &format!("/tickets/{reference}"), None).await;
    assert_eq!(v["status"], "closed", "{v}");
    let by = v["entries"]
        .as_array()
        .and_then(|e| e.iter().rev().find(|e| e["body"].as_str().unwrap_or("").starts_with("changed status")))
        .cloned();
    assert_eq!(by.map(|e| e["author"]["email"].clone()), Some(json!("carol@customer.test")), "closed by her");
    let forged = carol.post(&format!("/t/{}/close", refs[2]), &[("p", &field("p")), ("e", &field("e")), ("s", &field("s"))]).await;
    assert_eq!(forged.status, 404, "her key closes none of Dan's tickets");
    // Signed in, her request from the help page opens at once: she has
    // proven her address.
    let help = carol.get("/help").await;
    assert!(help.body.contains("value=\"carol@customer.test\""), "the form knows her: {}", help.body);
    let stamp = help.body.split("&amp;stamp=").nth(1).and_then(|s| s.split('"').next()).expect("a stamp").to_string();
    let fields = [
        ("_csrf", carol.csrf.as_str()),
        ("stamp", stamp.as_str()),
        ("email", "carol@customer.test"),
        ("subject", "Toner"),
        ("body", "Out of toner."),
    ];
    let (ctype, body) = crate::common::multipart(&fields, &[]);
    let res = carol
        .http
        .post(format!("{}/help/request?_csrf={}&stamp={stamp}", d.server.base, carol.csrf))
        .header("cookie", carol.cookie_header())
        .header("content-type", ctype)
        .body(body)
        .send()
        .await
        .expect("POST");
    let text = res.text().await.unwrap_or_default();
    assert!(text.contains("Your request is ticket TKT-000004"), "{text}");

    // Forged and tampered links: the customers' page with a way to a fresh link.
    let forged = carol.get(&link.replace("&s=", "&s=0")).await;
    assert_eq!(forged.status, 404);
    assert!(forged.body.contains("href=\"/help\"") && !forged.body.contains("href=\"/tickets\""), "{}", forged.body);
    let other = carol.get(&link.replace("?p=", "?p=9")).await;
    assert_eq!(other.status, 404);
    let stale = carol.get(&format!("/t/{}?e=1&s=00", refs[0])).await;
    assert_eq!(stale.status, 404);
    assert!(stale.body.contains("Mail me a fresh link") && !stale.body.contains("Back to the queue"), "{}", stale.body);
    // A forged session cookie is no session.
    let mut mallory = Browser::new(&d.server.base);
    mallory.cookies.push(("fd_customer".into(), "1.1.99999999999.abc".into()));
    assert_eq!(mallory.get("/help/tickets").await.location.as_deref(), Some("/help"));

    // Signing out ends the session.
    assert_eq!(twin.get("/help/tickets").await.status, 200, "the same session in another browser");
    let out = carol.post("/help/out", &[]).await;
    assert_eq!(out.status, 303);
    assert_eq!(carol.get("/help/tickets").await.location.as_deref(), Some("/help"));
    assert_eq!(twin.get("/help/tickets").await.location.as_deref(), Some("/help"), "signing out ended it everywhere");
    // In German when the browser asks.
    let de = Browser::with_language(&d.server.base, "de-DE").get("/help").await;
    assert!(de.body.contains("Link zu meinen Tickets zusenden"), "{}", de.body);
}

/// Members of an organization that shares its tickets see each other's on
/// their list and open them; without sharing, and for other organizations,
/// nothing of another's shows.
#[tokio::test]
async fn a_shared_organization_sees_its_members_tickets() {
    let (cap, _h) = Capture::start_on("127.0.0.1:0").await;
    let d = MailDesk::start_with_config(&format!("{MAIL_CONFIG}\n[outgoing]\nsmarthost = \"{}\"\nretry_secs = [1]\n", cap.addr));
    let mut admin = Browser::logged_in(&d.server.base, crate::common::ADMIN_EMAIL, crate::common::ADMIN_PASSWORD).await;
    let people = crate::common::scoped_api(&mut admin, &["people:read", "people:write"]).await;
    let (st, org) = people.call("POST", "/organizations", Some(json!({"name": "Acme", "domains": ["acme.test"], "shared": false}))).await;
    assert_eq!(st, 201, "{org}");
    for (who, subject) in [("ann@acme.test", "Ann's printer"), ("bo@acme.test", "Bo's VPN"), ("cy@other.test", "Cy's laptop")] {
        let (st, t) = d.api.call("POST", "/tickets", Some(json!({"subject": subject, "body": "Help.", "requester": {"email": who}}))).await;
        assert_eq!(st, 201, "{t}");
    }
    let list_of = |who: &'static str| {
        let base = d.server.base.clone();
        let cap = &cap;
        async move {
            let mut anon = Browser::new(&base);
            anon.get("/help").await;
            assert_eq!(anon.post("/help/link", &[("email", who), ("reference", "")]).await.status, 200);
            let mail = cap.wait_for(|m| m.rcpt_to == [who] && text_of(m).contains("/help/in?")).await;
            let mut b = Browser::new(&base);
            assert_eq!(sign_in(&mut b, &path_in(&text_of(&mail), "/help/in?")).await.status, 303);
            (b.get("/help/tickets").await.body, b)
        }
    };
    let (ann, _) = list_of("ann@acme.test").await;
    assert!(ann.contains("Ann&#39;s printer") || ann.contains("Ann's printer"), "{ann}");
    assert!(!ann.contains("VPN"), "not shared: only her own: {ann}");
    let id = org["id"].as_u64().unwrap_or_default();
    let (st, _) = people.call("PATCH", &format!("/organizations/{id}"), Some(json!({"shared": true}))).await;
    assert_eq!(st, 200);
    let (bo, mut b) = list_of("bo@acme.test").await;
    assert!(bo.contains("VPN") && bo.contains("printer") && bo.contains("from ann@acme.test"), "shared: {bo}");
    assert!(!bo.contains("laptop"), "another organization's stay out: {bo}");
    // Bo opens Ann's ticket through the link made for him.
    let at = bo.find("printer").unwrap_or(0);
    let link = bo[..at].rsplit("href=\"").next().and_then(|s| s.split('"').next()).map(|s| s.replace("&amp;", "&")).unwrap_or_default();
    let page = b.get(&link).await;
    assert_eq!(page.status, 200, "{link}: {}", page.body);
    assert!(page.body.contains("printer"));
}

/// A customer's list holds the tickets they are copied on too (the
/// collaborators' index, schema 12), each opening through their own link;
/// taken off, the ticket leaves their list.
#[tokio::test]
async fn a_customer_sees_the_tickets_they_are_copied_on() {
    let (cap, _h) = Capture::start_on("127.0.0.1:0").await;
    let d = MailDesk::start_with_config(&format!("{MAIL_CONFIG}\n[outgoing]\nsmarthost = \"{}\"\nretry_secs = [1]\n", cap.addr));
    let (st, t) = d
        .api
        .call(
            "POST",
            "/tickets",
            Some(json!({"subject": "Office move", "body": "Next week.", "requester": {"email": "dan@customer.test", "name": "Dan"}})),
        )
        .await;
    assert_eq!(st, 201, "{t}");
    let reference = t["ref"].as_str().unwrap_or_default().to_string();
    let (st, v) = d.api.call("POST", &format!("/tickets/{reference}/collaborators"), Some(json!({"email": "erin@customer.test"}))).await;
    assert_eq!(st, 201, "{v}");
    let list_of_erin = || async {
        let mut anon = Browser::new(&d.server.base);
        anon.get("/help").await;
        assert_eq!(anon.post("/help/link", &[("email", "erin@customer.test"), ("reference", "")]).await.status, 200);
        let before = cap.all().len();
        let mail =
            cap.wait_for(|m| m.rcpt_to == ["erin@customer.test"] && text_of(m).contains("/help/in?") && cap.all().len() > before).await;
        let mut erin = Browser::new(&d.server.base);
        assert_eq!(sign_in(&mut erin, &path_in(&text_of(&mail), "/help/in?")).await.status, 303);
        let list = erin.get("/help/tickets").await.body;
        (list, erin)
    };
    let (list, mut erin) = list_of_erin().await;
    assert!(list.contains("Office move") && list.contains("from Dan"), "{list}");
    let link = list
        .split("href=\"/t/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .map(|s| format!("/t/{}", s.replace("&amp;", "&")))
        .expect("a link");
    assert!(erin.get(&link).await.body.contains("Next week."), "her own link opens it");
    // Merged into her other address, the copy goes with her.
    let (st, _) = d
        .api
        .call("POST", "/tickets", Some(json!({"subject": "Other", "body": "Hi.", "requester": {"email": "erin.home@customer.test"}})))
        .await;
    assert_eq!(st, 201);
    let (_, found) = d.api.call("GET", "/people?q=erin%40customer.test", None).await;
    let erin_id = found["people"][0]["id"].as_u64().expect("erin");
    let mut admin = Browser::logged_in(&d.server.base, crate::common::ADMIN_EMAIL, crate::common::ADMIN_PASSWORD).await;
    let people = crate::common::scoped_api(&mut admin, &["people:read", "people:write"]).await;
    let (st, kept) = people.call("POST", &format!("/people/{erin_id}/merge"), Some(json!({"into": "erin.home@customer.test"}))).await;
    assert_eq!(st, 200, "{kept}");
    let (_, t) = d.api.call("GET", &format!("/tickets/{reference}"), None).await;
    let copied: Vec<&str> =
        t["collaborators"].as_array().map(|a| a.iter().filter_map(|p| p["email"].as_str()).collect()).unwrap_or_default();
    assert_eq!(copied, ["erin.home@customer.test"], "{t}");
    let (st, _) = d.api.call("DELETE", &format!("/tickets/{reference}/collaborators/erin.home%40customer.test"), None).await;
    assert_eq!(st, 200);
    assert!(!erin.get("/help/tickets").await.body.contains("Office move"), "taken off, gone from her list");
}
