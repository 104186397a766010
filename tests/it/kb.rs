//! The knowledge base (issue 15 part 3) through the real server: an agent
//! writes an article with a picture as a draft (customers cannot find it),
//! publishes it (the help page shows it cleaned, with its picture; search
//! and the suggestions while typing find it), an internal article stays
//! with the agents (the reply box's search offers its text, no link), a
//! customer opens a suggestion and says it helped (counted once, as a
//! request not needed), the history keeps every version and brings one
//! back, the acknowledgement mail offers the article, the index survives a
//! restart and is rebuilt when lost, and a deleted article is gone.

use serde_json::Value;

use crate::common::capture::Capture;
use crate::common::smtp::Smtp;
use crate::common::{ADMIN_EMAIL, ADMIN_PASSWORD, Browser, MAIL_CONFIG, MailDesk};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\nnot really a picture";

/// The number after `prefix` in `text`.
fn number_after(text: &str, prefix: &str) -> u64 {
    let at = text.find(prefix).unwrap_or_else(|| panic!("no {prefix} in:\n{text}")) + prefix.len();
    text[at..].chars().take_while(char::is_ascii_digit).collect::<String>().parse().expect("a number")
}

async fn json_of(b: &mut Browser, path: &str) -> Value {
    let r = b.get(path).await;
    assert_eq!(r.status, 200, "{path}: {}", r.body);
    serde_json::from_str(&r.body).expect("JSON")
}

fn titles(v: &Value) -> Vec<String> {
    v["articles"].as_array().map(|a| a.iter().filter_map(|x| x["title"].as_str().map(str::to_string)).collect()).unwrap_or_default()
}

#[tokio::test]
async fn articles_are_written_published_suggested_inserted_and_counted() {
    let (cap, _h) = Capture::start_on("127.0.0.1:0").await;
    let mut d = MailDesk::start_with_config(&format!("{MAIL_CONFIG}\n[outgoing]\nsmarthost = \"{}\"\nretry_secs = [1]\n", cap.addr));
    let mut agent = Browser::logged_in(&d.server.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let mut carol = Browser::new(&d.server.base);

    // A category, then a draft with a picture and a script in its Markdown.
    let r = agent.post("/kb/categories", &[("name", "Accounts"), ("description", "Signing in")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = agent.get("/kb").await;
    let cat = number_after(&page.body, "action=\"/kb/categories/").to_string();
    let body = "# Forgot it?\n\nOpen **Sign in**, then *Forgot password*.\n\n![The dialog](dialog.png)\n\n<script>alert(1)</script>";
    let fields =
        [("title", "Resetting your password"), ("body", body), ("category", cat.as_str()), ("state", "draft"), ("audience", "public")];
    let r = agent.post_multipart("/kb/new", &fields, &[("dialog.png", PNG)]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let edit = r.location.clone().expect("to the article");
    let id = number_after(&edit, "/kb/");
    let public = format!("/help/kb/{id}-resetting-your-password");
    assert_eq!(carol.get(&public).await.status, 404, "a draft is not on the help page");
    assert!(titles(&json_of(&mut carol, "/help/suggest?q=reset%20my%20passw").await).is_empty());
    assert_eq!(carol.get(&format!("/help/kb/{id}/files/dialog.png")).await.status, 404, "nor its files");

    // A refused save keeps what was typed.
    let r = agent.post_multipart(&edit, &[("title", " "), ("body", "Kept text")], &[]).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("Kept text") && r.body.contains("An article needs a title."), "{}", r.body);

    // Published: cleaned Markdown with its picture, found by search and while typing.
    let publish =
        [("title", "Resetting your password"), ("body", body), ("category", cat.as_str()), ("state", "published"), ("audience", "public")];
    let r = agent.post_multipart(&edit, &publish, &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = carol.get(&public).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("<strong>Sign in</strong>") && page.body.contains("<h1>Forgot it?</h1>"), "{}", page.body);
    assert!(page.body.contains(&format!("src=\"/help/kb/{id}/files/dialog%2Epng\"")), "{}", page.body);
    assert!(!page.body.contains("alert(1)"), "no script from the Markdown");
    assert!(page.body.contains("Accounts"), "its category");
    let pic = carol.http.get(format!("{}/help/kb/{id}/files/dialog%2Epng", d.server.base)).send().await.expect("GET");
    assert_eq!(pic.headers().get("content-type").and_then(|v| v.to_str().ok()), Some("image/png"));
    assert_eq!(pic.bytes().await.expect("bytes").as_ref(), PNG);
    let home = carol.get("/help").await;
    assert!(home.body.contains("action=\"/help/kb/search\"") && home.body.contains("data-suggest=\"/help/suggest\""), "{}", home.body);
    let kb = carol.get("/help/kb").await;
    assert!(kb.body.contains("Accounts") && kb.body.contains(&public), "{}", kb.body);
    assert!(carol.get("/help/kb/search?q=passwords").await.body.contains(&public));
    let s = json_of(&mut carol, "/help/suggest?q=I%20cannot%20reset%20my%20passw").await;
    assert_eq!(titles(&s), ["Resetting your password"], "{s}");
    let from_suggestion = s["articles"][0]["path"].as_str().expect("path").to_string();
    assert!(from_suggestion.ends_with("?from=suggest"), "{s}");

    // A picture over the plain request limit (1 MiB) comes in as an upload.
    let big = vec![7u8; 1_500_000];
    let r = agent.post_multipart(&edit, &publish, &[("big.png", big.as_slice())]).await;
    assert_eq!(r.status, 303, "a 1.5 MB picture: {}", r.body);
    let res = carol.http.get(format!("{}/help/kb/{id}/files/big%2Epng", d.server.base)).send().await.expect("GET");
    assert_eq!(res.bytes().await.expect("bytes").len(), 1_500_000);
    // A page far past the end is empty, and costs nothing.
    let far = carol.get(&format!("/help/kb/category/{cat}?page=10000")).await;
    assert_eq!(far.status, 200, "{}", far.body);

    // An internal article: the agents' reply box only, as text.
    let internal =
        [("title", "VPN reset for staff"), ("body", "Run `vpn-reset` on the gateway."), ("state", "published"), ("audience", "internal")];
    let r = agent.post_multipart("/kb/new", &internal, &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let internal_id = number_after(r.location.as_deref().unwrap_or_default(), "/kb/");
    assert_eq!(carol.get(&format!("/help/kb/{internal_id}")).await.status, 404);
    // A category with internal articles only is not shown to customers (its name may be internal).
    assert_eq!(agent.post("/kb/categories", &[("name", "Staff only"), ("description", "Secret tools")]).await.status, 303);
    let list = agent.get("/kb").await.body;
    // The form of that category: the last one opened before its name.
    let before = list.split("value=\"Staff only\"").next().unwrap_or_default();
    let form = before.rfind("action=\"/kb/categories/").map(|i| &before[i..]).unwrap_or_default();
    let staff_cat = number_after(form, "action=\"/kb/categories/");
    let hidden = carol.get(&format!("/help/kb/category/{staff_cat}")).await;
    assert!(hidden.status == 404 && !hidden.body.contains("Secret tools"), "{}", hidden.body);
    let s = json_of(&mut carol, "/help/suggest?q=vpn%20reset").await;
    assert_eq!(titles(&s), ["Resetting your password"], "the internal one is not suggested: {s}");
    let found = json_of(&mut agent, "/kb/insert?q=reset").await;
    let by_title = |t: &str| found["articles"].as_array().and_then(|a| a.iter().find(|x| x["title"] == t).cloned()).expect(t);
    let vpn = by_title("VPN reset for staff");
    assert_eq!((vpn["url"].clone(), vpn["text"].as_str()), (Value::Null, Some("Run vpn-reset on the gateway.")), "{found}");
    let pw = by_title("Resetting your password");
    assert!(pw["url"].as_str().is_some_and(|u| u.ends_with(&public)), "{found}");
    assert_eq!(carol.get("/kb/insert?q=reset").await.status, 303, "customers are sent to the login");

    // Carol opens the suggestion, it helped: counted once per browser.
    let page = carol.get(&from_suggestion).await;
    assert!(page.body.contains("Did this help?"), "{}", page.body);
    for _ in 0..2 {
        let r = carol.post(&format!("/help/kb/{id}/feedback"), &[("helpful", "yes"), ("from", "suggest")]).await;
        assert_eq!(r.status, 303, "{}", r.body);
        assert!(r.location.as_deref().is_some_and(|l| l.ends_with("?voted=yes")), "{:?}", r.location);
    }
    assert!(carol.get(&format!("{public}?voted=yes")).await.body.contains("Thank you for telling us."));
    let list = agent.get("/kb").await;
    assert!(list.body.contains("1 request answered by an article") && list.body.contains("1 opened from a suggestion"), "{}", list.body);
    assert!(list.body.contains("👍 1 · 👎 0"), "{}", list.body);

    // History: every save that changed something, and an old one brought back.
    let mut changed = publish;
    changed[1] = ("body", "Ask the service desk.");
    assert_eq!(agent.post_multipart(&edit, &changed, &[]).await.status, 303);
    assert_eq!(agent.post_multipart(&edit, &changed, &[]).await.status, 303, "the same again");
    let history = agent.get(&format!("/kb/{id}/history")).await;
    assert!(history.body.contains("4 versions"), "draft, published, a picture added, changed: {}", history.body);
    let r = agent.post(&format!("/kb/{id}/history/2/restore"), &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let now = agent.get(&edit).await;
    assert!(now.body.contains("Version 5") && now.body.contains("Forgot password"), "{}", now.body);
    assert!(carol.get(&public).await.body.contains("Forgot password"), "still published");

    // The acknowledgement offers the article.
    let msg = "From: Dan <dan@customer.test>\r\nTo: support@example.test\r\nSubject: I forgot my password\r\nMessage-ID: <kb-1@customer.test>\r\n\r\nCannot sign in.\r\n";
    assert_eq!(Smtp::send_mail(&d.smtp, "dan@customer.test", &["support@example.test"], msg.as_bytes()).0, 250);
    let ack = cap.wait_for(|m| m.rcpt_to == ["dan@customer.test"]).await;
    let text = ack.text();
    assert!(text.contains("Resetting your password") && text.contains(&public), "{text}");

    // The index outlives a restart, and is rebuilt when its directory is lost.
    d.server.stop();
    d.restart();
    let mut carol = Browser::new(&d.server.base);
    assert_eq!(titles(&json_of(&mut carol, "/help/suggest?q=passw").await), ["Resetting your password"]);
    assert!(titles(&json_of(&mut carol, "/help/suggest?q=pa").await).is_empty(), "two letters are no word's start yet");
    d.server.stop();
    std::fs::remove_dir_all(d.dir.path().join("kb-search")).expect("remove the index");
    d.restart();
    let mut carol = Browser::new(&d.server.base);
    assert_eq!(titles(&json_of(&mut carol, "/help/suggest?q=password").await), ["Resetting your password"]);

    // Deleted: gone from the help page and from the suggestions.
    let mut agent = Browser::logged_in(&d.server.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    agent.get("/kb").await;
    assert_eq!(agent.post(&format!("/kb/{id}/delete"), &[]).await.status, 303);
    assert_eq!(carol.get(&public).await.status, 404);
    assert!(titles(&json_of(&mut carol, "/help/suggest?q=password").await).is_empty());
}
