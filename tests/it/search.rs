//! Search through the real server: every token, free text over bodies, names
//! and attachment names, ranking, snippets, reference jumps, readable errors,
//! saved searches, and `frontdesk reindex`.

use std::time::Duration;

use crate::common::smtp::Smtp;
use crate::common::*;
use serde_json::json;

fn crlf(s: &str) -> Vec<u8> {
    s.replace('\n', "\r\n").into_bytes()
}

/// The references a search page lists, in order.
fn refs(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in body.split("<td class=\"ref\"><a href=\"/tickets/").skip(1) {
        if let Some(end) = part.find('"') {
            out.push(part[..end].to_string());
        }
    }
    out
}

/// Searches until the index has caught up with `want` (the index trails the
/// store by a moment) and returns the final page.
async fn search(b: &mut Browser, q: &str, want: &[&str]) -> Response {
    search_in_order(b, q, want, false).await
}

async fn search_in_order(b: &mut Browser, q: &str, want: &[&str], ordered: bool) -> Response {
    let path = format!("/search?q={}", percent(q));
    let mut want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
    if !ordered {
        want.sort();
    }
    let mut last = None;
    for _ in 0..100 {
        let r = b.get(&path).await;
        let mut got = refs(&r.body);
        if !ordered {
            got.sort();
        }
        if got == want {
            return r;
        }
        last = Some((r.status, got));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("search {q:?}: wanted {want:?}, got {last:?}");
}

fn percent(s: &str) -> String {
    s.bytes()
        .map(
            |b| {
                if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.' { (b as char).to_string() } else { format!("%{b:02X}") }
            },
        )
        .collect()
}

#[tokio::test]
async fn every_token_free_text_snippets_and_errors() {
    let mut d = MailDesk::start();
    // Three mails from real-looking clients.
    let m1 = crlf(
        "From: Alice Archer <alice@acme.test>\nTo: support@example.test\nSubject: VPN drops every hour\nMessage-ID: <a1@acme.test>\n\nOur VPN tunnel drops every hour since the firmware update.\nThe router log says IKE rekey failed.\n",
    );
    let m2 = crlf(&format!(
        "From: Bert Baker <bert@bakery.test>\nTo: sales@example.test\nSubject: Invoice question\nMessage-ID: <b1@bakery.test>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=XX\n\n--XX\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\nThe invoice total looks wrong, see the attached scan. Gr=FC=DFe\n--XX\nContent-Type: application/pdf; name=\"invoice-4711.pdf\"\nContent-Disposition: attachment; filename=\"invoice-4711.pdf\"\nContent-Transfer-Encoding: base64\n\n{}\n--XX--\n",
        base64(b"%PDF-1.4 fake")
    ));
    let m3 = crlf(
        "From: Alice Archer <alice@acme.test>\nTo: support@example.test\nSubject: Printer on floor 3\nMessage-ID: <a2@acme.test>\n\nThe printer shows paper jam but there is no paper stuck.\n",
    );
    for (from, to, m) in [
        ("alice@acme.test", "support@example.test", &m1),
        ("bert@bakery.test", "sales@example.test", &m2),
        ("alice@acme.test", "support@example.test", &m3),
    ] {
        let r = Smtp::send_mail(&d.smtp, from, &[to], m);
        assert_eq!(r.0, 250, "{}", r.1);
        // Distinct creation seconds for the date tokens below.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let all = d.wait_tickets(3).await;
    let r: Vec<String> = all.iter().map(|t| t["ref"].as_str().unwrap_or_default().to_string()).collect();
    let (vpn, inv, prn) = (r[0].as_str(), r[1].as_str(), r[2].as_str());
    // Fields the tokens filter on.
    let (s, _) = d
        .api
        .call(
            "PATCH",
            &format!("/tickets/{vpn}"),
            Some(json!({"priority": "urgent", "tags": ["vpn", "network"], "category": "Technical", "assignee": ADMIN_EMAIL})),
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = d.api.call("PATCH", &format!("/tickets/{inv}"), Some(json!({"status": "pending", "category": "Billing"}))).await;
    assert_eq!(s, 200);
    // An internal note is searchable too.
    let (s, _) = d
        .api
        .call("POST", &format!("/tickets/{prn}/entries"), Some(json!({"body": "Toner cartridge ordered from Lyreco", "internal": true})))
        .await;
    assert_eq!(s, 201);

    let mut b = Browser::logged_in(&d.server.base, ADMIN_EMAIL, "correct horse battery").await;
    // Free text: bodies, subjects, internal notes, names, addresses, attachment names.
    search(&mut b, "firmware", &[vpn]).await;
    search(&mut b, "lyreco", &[prn]).await;
    search(&mut b, "archer", &[prn, vpn]).await;
    search(&mut b, "invoice-4711.pdf", &[inv]).await;
    search(&mut b, "\"paper jam\"", &[prn]).await;
    search(&mut b, "\"jam paper\"", &[]).await;
    search(&mut b, "Grüße", &[inv]).await;
    // Stemming: "drop" finds "drops".
    search(&mut b, "drop", &[vpn]).await;
    // Tokens.
    search(&mut b, "status:pending", &[inv]).await;
    search(&mut b, "status:open,pending", &[prn, inv, vpn]).await;
    search(&mut b, "assignee:me", &[vpn]).await;
    search(&mut b, "assignee:none", &[prn, inv]).await;
    search(&mut b, "priority:urgent", &[vpn]).await;
    search(&mut b, "category:billing", &[inv]).await;
    search(&mut b, "tag:vpn", &[vpn]).await;
    search(&mut b, "-tag:vpn", &[prn, inv]).await;
    search(&mut b, "from:bert@bakery.test", &[inv]).await;
    search(&mut b, "from:@acme.test", &[prn, vpn]).await;
    search(&mut b, "requester:\"Bert Baker\"", &[inv]).await;
    search(&mut b, "dept:sales", &[inv]).await;
    search(&mut b, "has:attachment", &[inv]).await;
    search(&mut b, "created:>2020-01-01 updated:<7d dept:support", &[prn, vpn]).await;
    search(&mut b, "created:<2020-01-01", &[]).await;
    search(&mut b, "updated:>7d", &[]).await;
    // Order is a token too (saved with a search or a view).
    search_in_order(&mut b, "sort:created_asc", &[vpn, inv, prn], true).await;
    search_in_order(&mut b, "sort:created", &[prn, inv, vpn], true).await;
    let page = search_in_order(&mut b, "sort:priority", &[vpn, inv, prn], false).await;
    assert_eq!(refs(&page.body)[0], vpn, "urgent first");
    assert!(page.body.contains("most urgent first"));
    // Free text plus tokens, the example shape.
    search(&mut b, "hour status:open assignee:me priority:urgent category:technical tag:vpn from:alice@acme.test requester:\"Alice\" dept:Support created:>2020-11-01 updated:<7d", &[vpn]).await;

    // Snippets highlight the words.
    let page = search(&mut b, "rekey", &[vpn]).await;
    assert!(page.body.contains("<b>rekey</b>"), "snippet: {}", page.body);
    // Ranking: the subject match comes first.
    let (s, _) = d
        .api
        .call(
            "POST",
            &format!("/tickets/{inv}/entries"),
            Some(json!({"body": "Unrelated: our printer contract renews in May.", "internal": true})),
        )
        .await;
    assert_eq!(s, 201);
    search_in_order(&mut b, "printer", &[prn, inv], true).await;

    // A reference jumps straight to the ticket.
    let num = prn.trim_start_matches("TKT-").trim_start_matches('0');
    for q in [prn.to_string(), num.to_string()] {
        let r = b.get(&format!("/search?q={q}")).await;
        assert_eq!(r.status, 303);
        assert_eq!(r.location.as_deref(), Some(format!("/tickets/{prn}").as_str()));
    }

    // Mistakes are shown with the bad token, never a 500.
    for (q, bad, words) in [
        ("printer staus:open", "staus:open", "unknown search field"),
        ("status:bogus", "status:bogus", "unknown status"),
        ("created:>yesterday", "created:>yesterday", "date like"),
        ("assignee:zed", "assignee:zed", "no agent"),
        ("vpn sort:sideways", "sort:sideways", "use sort:relevance"),
        ("vpn \"never closed", "\"never closed", "never closed"),
    ] {
        let r = b.get(&format!("/search?q={}", percent(q))).await;
        assert_eq!(r.status, 400, "{q}");
        assert!(r.body.contains(words), "{q}: {}", r.body);
        assert!(
            r.body.contains(&format!("<mark>{}</mark>", bad.replace('"', "&quot;").replace('>', "&gt;"))),
            "{q} marks {bad}: {}",
            r.body
        );
    }

    // CSV export of a search: header plus one row per match, with the chosen fields.
    let csv = b.get("/tickets.csv?q=from%3A%40acme.test&fields=ref,subject").await;
    assert_eq!(csv.status, 200);
    let mut lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(lines.remove(0), "Reference,Subject");
    lines.sort();
    let mut want = vec![format!("{vpn},VPN drops every hour"), format!("{prn},Printer on floor 3")];
    want.sort();
    assert_eq!(lines, want);

    // The same search over the API: ranked hits with snippets, errors with the token.
    let (s, page) = d.api.call("GET", "/tickets?q=rekey%20dept%3Asupport", None).await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(page["total"], 1);
    assert_eq!(page["tickets"][0]["ref"], vpn);
    assert!(page["tickets"][0]["snippet"].as_str().unwrap_or("").contains("<b>rekey</b>"));
    let (s, e) = d.api.call("GET", "/tickets?q=vpn%20staus%3Aopen", None).await;
    assert_eq!(s, 400);
    assert_eq!(e["token"], "staus:open");

    // Saved searches appear in the sidebar with a live count.
    let r = b.post("/search/saved", &[("name", "Acme"), ("q", "from:@acme.test"), ("cols", "")]).await;
    assert_eq!(r.status, 303);
    let q = b.get("/tickets").await;
    assert!(q.body.contains(">Acme<span class=\"count\">2</span>"), "{}", q.body);
    let bad = b.post("/search/saved", &[("name", "Broken"), ("q", "nope:1"), ("cols", "")]).await;
    assert_eq!(bad.status, 400);
    let s2 = b.get("/search").await;
    assert!(s2.body.contains("My saved searches (1)"));
    assert_eq!(b.post("/search/saved", &[("name", "Acme"), ("delete", "1")]).await.status, 303);
    assert!(!b.get("/tickets").await.body.contains(">Acme<"), "deleted");
    assert_eq!(b.post("/search/saved", &[("name", "Acme"), ("q", "from:@acme.test"), ("cols", "")]).await.status, 303);

    // Reindex from scratch with the server stopped: same answers.
    d.server.stop();
    let c = d.config.to_str().unwrap().to_string();
    let (code, out, err) = cli(d.dir.path(), &["--config", &c, "reindex"], None);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("reindexed 3 tickets"), "{out}");
    assert!(err.contains("100%") && err.contains("entries/s"), "progress bar: {err}");
}

#[tokio::test]
async fn shared_views_from_the_config_show_with_counts_and_their_columns() {
    let config = format!(
        "{MAIL_CONFIG}\n[[view]]\nname = \"VPN trouble\"\nquery = \"tag:vpn status:active\"\ncolumns = \"requester,tags,updated\"\n"
    );
    let d = MailDesk::start_with_config(&config);
    for (subject, tags) in [("VPN down", vec!["vpn"]), ("VPN slow", vec!["vpn"]), ("Printer", vec![])] {
        let (s, _) = d
            .api
            .call(
                "POST",
                "/tickets",
                Some(json!({"subject": subject, "body": "x", "requester": {"name": "V", "email": "v@c.test"}, "tags": tags})),
            )
            .await;
        assert_eq!(s, 201);
    }
    let mut b = Browser::logged_in(&d.server.base, ADMIN_EMAIL, "correct horse battery").await;
    let mut page = b.get("/tickets").await;
    for _ in 0..100 {
        if page.body.contains(">VPN trouble<span class=\"count\">2</span>") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
        page = b.get("/tickets").await;
    }
    assert!(page.body.contains("Team views") && page.body.contains(">VPN trouble<span class=\"count\">2</span>"), "{}", page.body);
    let href = page
        .body
        .split("title=\"tag:vpn status:active\"")
        .next()
        .and_then(|h| h.rsplit("href=\"").next())
        .map(|h| h.trim_end_matches("\" ").replace("&amp;", "&"))
        .unwrap_or_default();
    let view = b.get(&href).await;
    assert_eq!(refs(&view.body).len(), 2, "{href}");
    assert!(
        view.body.contains("<th class=\"hide-sm\">Tags</th>") && !view.body.contains("<th class=\"hide-sm\">Priority</th>"),
        "the view's columns"
    );
    // A bad view query is a config error naming the key.
    let bad = d.dir.path().join("bad.toml");
    std::fs::write(&bad, "[[view]]\nname = \"x\"\nquery = \"stauts:open\"\n").unwrap();
    let (code, _, err) = cli(d.dir.path(), &["--config", bad.to_str().unwrap(), "check-config"], None);
    assert_eq!(code, 2);
    assert!(err.contains("view") && err.contains("unknown search field"), "{err}");
}

#[tokio::test]
async fn the_index_catches_up_after_a_hard_kill() {
    let mut d = MailDesk::spawn();
    for i in 0..40 {
        let (s, _) = d
            .api
            .call(
                "POST",
                "/tickets",
                Some(json!({"subject": format!("Crashy {i}"), "body": "zebra", "requester": {"name": "K", "email": "k@c.test"}})),
            )
            .await;
        assert_eq!(s, 201);
    }
    // Killed at once: some changes are surely still only in the index queue.
    d.server.kill_hard();
    d.restart();
    let mut total = serde_json::Value::Null;
    for _ in 0..200 {
        let (s, page) = d.api.call("GET", "/tickets?q=zebra", None).await;
        assert_eq!(s, 200, "{page}");
        total = page["total"].clone();
        if total == 40 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("index has {total} of 40 tickets after the restart");
}

/// Japanese and Korean are written without spaces between words: a word is
/// found inside a sentence (issue 18 part 5), in subjects and in bodies.
#[tokio::test]
async fn japanese_and_korean_words_are_found_inside_sentences() {
    let d = MailDesk::start();
    let b64 = |s: &str| base64(s.as_bytes());
    let mails = [
        ("sato@customer.test", "ログインできません", "パスワードを忘れました。リセットしてください。"),
        ("kim@customer.test", "비밀번호 재설정", "비밀번호를 재설정하고 싶습니다."),
        ("tanaka@customer.test", "ログアウトできない", "画面が固まります。"),
    ];
    for (i, (from, subject, body)) in mails.iter().enumerate() {
        let m = crlf(&format!(
            "From: <{from}>\nTo: support@example.test\nSubject: =?UTF-8?B?{}?=\nMessage-ID: <cjk{i}@customer.test>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n{}\n",
            b64(subject),
            b64(body)
        ));
        assert_eq!(Smtp::send_mail(&d.smtp, from, &["support@example.test"], &m).0, 250);
    }
    let all = d.wait_tickets(3).await;
    let by_subject = |s: &str| all.iter().find(|t| t["subject"] == s).and_then(|t| t["ref"].as_str()).unwrap_or_default().to_string();
    let (login, reset, logout) = (by_subject("ログインできません"), by_subject("비밀번호 재설정"), by_subject("ログアウトできない"));
    let mut b = Browser::logged_in(&d.server.base, ADMIN_EMAIL, "correct horse battery").await;
    search(&mut b, "ログイン", &[&login]).await;
    search(&mut b, "パスワード", &[&login]).await;
    search(&mut b, "ログ", &[&login, &logout]).await;
    search(&mut b, "ログアウト", &[&logout]).await;
    search(&mut b, "固まり", &[&logout]).await;
    search(&mut b, "재설정", &[&reset]).await;
    let none = search(&mut b, "ログオン", &[]).await;
    assert!(refs(&none.body).is_empty(), "a word that is not there finds nothing");
}
