//! Web and CLI findings of the outside review (issue 10), through the real
//! server: API tokens listed and revoked (and dropped by a password reset or
//! deactivation), event streams that end at logout and at shutdown, a prompt
//! graceful SIGTERM, one-line subjects, and HTML with hostile Content-IDs.

use std::time::Duration;

use crate::common::smtp::Smtp;
use crate::common::*;
use serde_json::json;

fn crlf(s: &str) -> Vec<u8> {
    s.replace("\r\n", "\n").replace('\n', "\r\n").into_bytes()
}

#[tokio::test]
async fn api_tokens_can_be_listed_and_revoked() {
    let dir = tempdir();
    add_user(dir.path(), ADMIN_EMAIL, "Ada Admin", "admin", ADMIN_PASSWORD);
    add_user(dir.path(), "bob@example.test", "Bob", "agent", "bob's long password");
    let t1 = create_token(dir.path(), ADMIN_EMAIL);
    let t2 = create_token(dir.path(), "bob@example.test");
    let t3 = create_token(dir.path(), "bob@example.test");
    let (code, out, err) = cli(dir.path(), &["token", "list"], None);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(out.contains("bob@example.test") && out.contains(ADMIN_EMAIL));
    let admin_id = lines.iter().find(|l| l.contains(ADMIN_EMAIL)).unwrap().split_whitespace().next().unwrap().to_string();
    let (code, _, err) = cli(dir.path(), &["token", "revoke", &admin_id], None);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = cli(dir.path(), &["token", "revoke", "nothexnothex"], None);
    assert_ne!(code, 0);
    assert!(err.contains("token id"), "{err}");
    let s = Server::start(dir.path());
    assert_eq!(Api::new(&s.base, &t1).call("GET", "/tickets", None).await.0, 401, "revoked on the command line");
    assert_eq!(Api::new(&s.base, &t2).call("GET", "/tickets", None).await.0, 200);
    // Bob sees and revokes his own tokens on his page.
    let mut bob = Browser::logged_in(&s.base, "bob@example.test", "bob's long password").await;
    let page = bob.get("/settings").await.body;
    let ids: Vec<String> = page.split("/settings/tokens/").skip(1).map(|s| s.split('/').next().unwrap().to_string()).collect();
    assert_eq!(ids.len(), 2, "{page}");
    let r = bob.post(&format!("/settings/tokens/{}/revoke", ids[0]), &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let alive = [&t2, &t3];
    let mut ok = 0;
    for t in alive {
        ok += usize::from(Api::new(&s.base, t).call("GET", "/tickets", None).await.0 == 200);
    }
    assert_eq!(ok, 1, "one of Bob's tokens is revoked");
    // A password reset revokes the rest.
    let mut admin = Browser::logged_in(&s.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let agents = admin.get("/admin/agents").await.body;
    let after_bob = agents.split("bob@example.test").nth(1).unwrap();
    let bob_id = after_bob.split("/admin/agents/").nth(1).and_then(|s| s.split('/').next()).unwrap().to_string();
    let r = admin.post(&format!("/admin/agents/{bob_id}/password"), &[]).await;
    assert_eq!(r.status, 200);
    let link = password_link_in(&r.body).expect("the reset link");
    assert_eq!(set_password_via(&s.base, &link, "a brand new password").await.status, 303);
    for t in alive {
        assert_eq!(Api::new(&s.base, t).call("GET", "/tickets", None).await.0, 401, "a reset revokes API tokens");
    }
}

#[tokio::test]
async fn event_streams_end_at_logout_and_sigterm_is_prompt() {
    let d = MailDesk::spawn();
    let mut b = Browser::logged_in(&d.server.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let client = reqwest::Client::new();
    let mut stream = client.get(d.server.url("/events")).header("cookie", b.cookie_header()).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    b.get("/tickets").await;
    assert_eq!(b.post("/logout", &[]).await.status, 303);
    let ended = tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            match stream.chunk().await {
                Ok(Some(_)) => continue,
                _ => return true,
            }
        }
    })
    .await;
    assert_eq!(ended.ok(), Some(true), "the event stream ended after logout");

    // SIGTERM with an event stream and an idle SMTP session open: the server
    // stops within seconds and cleanly.
    let b2 = Browser::logged_in(&d.server.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let _open = client.get(d.server.url("/events")).header("cookie", b2.cookie_header()).send().await.unwrap();
    let (mut smtp, _) = Smtp::connect(&d.smtp);
    smtp.cmd("EHLO idle.example.org");
    let mut server = std::mem::replace(&mut { d }.server, Server::start(&tempdir().keep()));
    let done = tokio::task::spawn_blocking(move || server.terminate(Duration::from_secs(10))).await.unwrap();
    let (code, took) = done.expect("the server exits after SIGTERM");
    assert_eq!(code, 0);
    assert!(took < Duration::from_secs(8), "took {took:?}");
    let r = smtp.reply();
    assert!(r.0 == 421 || r.0 == 0, "{r:?}");
}

#[tokio::test]
async fn subjects_are_one_line_and_cids_cannot_inject() {
    let d = MailDesk::start();
    let (st, t) = d
        .api
        .call(
            "POST",
            "/tickets",
            Some(json!({"subject": "Hello\r\nBcc: victim@evil.test\r\n\r\nbody", "body": "x", "requester": {"email": "c@customer.test"}})),
        )
        .await;
    assert_eq!(st, 201, "{t}");
    assert_eq!(t["subject"], "Hello Bcc: victim@evil.test body");
    let (st, t) = d.api.call("PATCH", "/tickets/TKT-000001", Some(json!({"subject": "New\nSubject: forged"}))).await;
    assert_eq!(st, 200, "{t}");
    assert_eq!(t["subject"], "New Subject: forged");

    let html_mail = crlf(
        "From: Eve <eve@customer.test>\nTo: support@example.test\nSubject: pic\nMIME-Version: 1.0\nContent-Type: multipart/related; boundary=\"B\"\n\n--B\nContent-Type: text/html\n\n<p>see <img src=\"cid:a&quot; onerror=&quot;alert(1)\"> and cid:a\" onerror=\"alert(2)</p>\n--B\nContent-Type: image/png\nContent-ID: <a\" onerror=\"alert(1)>\nContent-Disposition: inline; filename=\"a.png\"\nContent-Transfer-Encoding: base64\n\niVBORw0KGgo=\n--B--\n",
    );
    assert_eq!(Smtp::send_mail(&d.smtp, "eve@customer.test", &["support@example.test"], &html_mail).0, 250);
    d.wait_tickets(2).await;
    let mut b = Browser::logged_in(&d.server.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let page = b.get("/tickets/TKT-000002").await.body;
    let seq = page.split("/entries/").nth(1).and_then(|s| s.split('/').next()).unwrap().to_string();
    let html = b.get(&format!("/tickets/TKT-000002/entries/{seq}/html")).await.body;
    // No tag carries an event handler (text that merely reads "onerror" is fine).
    let lower = html.to_lowercase();
    for tag in lower.split('<').skip(1).map(|t| t.split('>').next().unwrap_or("")) {
        // Attribute names only: drop quoted values.
        let names: String = tag.split('"').step_by(2).collect::<Vec<_>>().join(" ");
        assert!(!names.contains("onerror") && !tag.starts_with("script"), "tag <{tag}> in {html}");
    }
}

/// Damaged files: a truncated search segment is rebuilt by itself (server and
/// `reindex`); a truncated database is a clear error and exit code 1, not a panic.
#[tokio::test]
async fn damaged_index_is_rebuilt_and_damaged_database_is_a_clear_error() {
    let mut d = MailDesk::start();
    for i in 0..5 {
        let (st, _) = d
            .api
            .call(
                "POST",
                "/tickets",
                Some(json!({"subject": format!("zebra {i}"), "body": "stripes", "requester": {"email": "c@customer.test"}})),
            )
            .await;
        assert_eq!(st, 201);
    }
    let search = |d: &MailDesk| {
        let api = Api::new(&d.server.base, &d.api.token);
        async move { api.call("GET", "/tickets?q=zebra", None).await }
    };
    let mut found = 0;
    for _ in 0..100 {
        found = search(&d).await.1["total"].as_u64().unwrap_or(0);
        if found == 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(found, 5);
    d.server.stop();
    let truncate_segments = |dir: &std::path::Path| {
        let mut n = 0;
        for e in std::fs::read_dir(dir.join("search")).unwrap().flatten() {
            let p = e.path();
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            if !name.ends_with(".json") && !name.starts_with('.') && !name.contains("version") && !name.contains("lock") && p.is_file() {
                let len = std::fs::metadata(&p).unwrap().len();
                if len > 8 {
                    std::fs::OpenOptions::new().write(true).open(&p).unwrap().set_len(len / 2).unwrap();
                    n += 1;
                }
            }
        }
        n
    };
    assert!(truncate_segments(d.dir.path()) > 0);
    d.restart();
    let mut found = 0;
    for _ in 0..200 {
        let (st, r) = search(&d).await;
        found = if st == 200 { r["total"].as_u64().unwrap_or(0) } else { 0 };
        if found == 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(found, 5, "the index was rebuilt");
    d.server.stop();
    assert!(truncate_segments(d.dir.path()) > 0);
    let cfg = d.config.to_str().unwrap().to_string();
    let (code, out, err) = cli(d.dir.path(), &["--config", &cfg, "reindex"], None);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("reindexed 5 tickets"), "{out}");
    // A truncated database.
    let db = d.dir.path().join("frontdesk.redb");
    let len = std::fs::metadata(&db).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(&db).unwrap().set_len(len / 2).unwrap();
    let (code, _, err) = cli(d.dir.path(), &["--config", &cfg, "token", "list"], None);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("is damaged") && !err.contains("panicked"), "{err}");
}
