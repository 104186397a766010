//! Regression tests for the outside review (issue 10), each through the real
//! server: SMTP over TCP, HTTP. Every test here failed on the code before the fix.

use std::time::Duration;

use crate::common;
use crate::common::smtp::Smtp;
use crate::common::*;

fn crlf(s: &str) -> Vec<u8> {
    s.replace("\r\n", "\n").replace('\n', "\r\n").into_bytes()
}

async fn healthz(d: &MailDesk) -> (u16, serde_json::Value) {
    let r = reqwest::get(d.server.url("/healthz")).await.unwrap();
    let code = r.status().as_u16();
    (code, r.json().await.unwrap())
}

async fn junk_page(d: &MailDesk) -> String {
    let mut b = Browser::logged_in(&d.server.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    b.get("/junk").await.body
}

/// The mail that killed the worker for good: a forward whose body changes byte
/// length when lower-cased. It becomes a ticket, and so does the next mail.
#[tokio::test]
async fn case_folding_forward_does_not_stop_intake() {
    let d = MailDesk::start();
    let kelvin = crlf(
        "From: Fay <fay@customer.test>\nTo: support@example.test\nSubject: Fwd: broken\n\n\u{212A}\u{212A}\u{212A}\u{212A} ---------- Forwarded message ---------\nFrom: Carol <carol@customer.test>\n\nit broke\n",
    );
    let r = Smtp::send_mail(&d.smtp, "fay@customer.test", &["support@example.test"], &kelvin);
    assert_eq!(r.0, 250, "{}", r.1);
    let dotted = crlf(
        "From: Dan <dan@customer.test>\nTo: support@example.test\nSubject: FW: x\n\nOriginal Message\nFrom: \u{130}\u{130}\u{130}\u{130}\u{130}\u{130} <x> <\n> <y@z.test\n",
    );
    let r = Smtp::send_mail(&d.smtp, "dan@customer.test", &["support@example.test"], &dotted);
    assert_eq!(r.0, 250, "{}", r.1);
    let normal = crlf("From: Eve <eve@customer.test>\nTo: support@example.test\nSubject: after the poison\n\nstill working?\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "eve@customer.test", &["support@example.test"], &normal).0, 250);
    let all = d.wait_tickets(3).await;
    let subjects: Vec<&str> = all.iter().filter_map(|t| t["subject"].as_str()).collect();
    assert!(subjects.contains(&"after the poison"), "{subjects:?}");
    assert!(subjects.contains(&"Fwd: broken") && subjects.contains(&"FW: x"), "{subjects:?}");
    let (code, h) = healthz(&d).await;
    assert_eq!(code, 200, "{h}");
}

/// A message whose processing panics goes to Junk with the reason (the raw
/// source kept) and the next message is processed.
#[tokio::test]
async fn a_panicking_message_goes_to_junk_and_intake_continues() {
    let d = MailDesk::start_env(MAIL_CONFIG, "127.0.0.1:0", &[("FRONTDESK_FAULT_PANIC_SUBJECT", "POISON-PILL")]);
    let bad = crlf("From: Mallory <m@evil.test>\nTo: support@example.test\nSubject: POISON-PILL here\n\nboom\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "m@evil.test", &["support@example.test"], &bad).0, 250);
    let good = crlf("From: Eve <eve@customer.test>\nTo: support@example.test\nSubject: an honest question\n\nhello\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "eve@customer.test", &["support@example.test"], &good).0, 250);
    let all = d.wait_tickets(1).await;
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["subject"], "an honest question");
    d.settle().await;
    let junk = junk_page(&d).await;
    assert!(junk.contains("processing panicked"), "{junk}");
    assert!(junk.contains("POISON-PILL"), "{junk}");
    // After a restart nothing is left to kill the worker again.
    let (code, h) = healthz(&d).await;
    assert_eq!(code, 200, "{h}");
    assert_eq!(h["spool"]["depth"], 0);
}

/// `/healthz` reports the intake and answers 503 while mail waits too long.
#[tokio::test]
async fn healthz_reports_a_stuck_intake() {
    let config = MAIL_CONFIG.replace("[desk]", "[server]\nhealth_spool_age_secs = 1\n\n[desk]");
    let d = MailDesk::start_env(&config, "127.0.0.1:0", &[("FRONTDESK_FAULT_STALL_SUBJECT", "SLOW-ONE")]);
    let (code, h) = healthz(&d).await;
    assert_eq!(code, 200, "{h}");
    assert!(h["workers"].as_array().unwrap().iter().any(|w| w["name"] == "mail-worker" && w["running"] == true), "{h}");
    let slow = crlf("From: Eve <eve@customer.test>\nTo: support@example.test\nSubject: SLOW-ONE\n\nhello\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "eve@customer.test", &["support@example.test"], &slow).0, 250);
    let next = crlf("From: Eve <eve@customer.test>\nTo: support@example.test\nSubject: waiting behind\n\nhello\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "eve@customer.test", &["support@example.test"], &next).0, 250);
    let mut saw_503 = false;
    for _ in 0..60 {
        let (code, h) = healthz(&d).await;
        if code == 503 {
            assert!(h["spool"]["depth"].as_u64().unwrap() >= 1, "{h}");
            assert!(h["problems"][0].as_str().unwrap().contains("oldest spooled message"), "{h}");
            saw_503 = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(saw_503, "healthz never reported the stuck spool");
    d.wait_tickets(2).await;
    d.settle().await;
    let (code, h) = healthz(&d).await;
    assert_eq!(code, 200, "{h}");
}

fn with_smarthost(addr: &str, extra: &str) -> String {
    format!("{MAIL_CONFIG}\n[outgoing]\nsmarthost = \"{addr}\"\nretry_secs = [1]\n{extra}\n")
}

/// Mail with an agent's From but no signed token is kept as an unverified
/// internal note, mailed to nobody, and the agent is told; a forged forward
/// opens no ticket for the "victim". A real answer to a notification (signed
/// token) is the agent's public reply.
#[tokio::test]
async fn forged_agent_mail_is_only_a_claim() {
    use common::capture::Capture;
    let (cap, _h) = Capture::start_on("127.0.0.1:0").await;
    let d = MailDesk::start_with_config(&with_smarthost(&cap.addr, "notify_ack = false\nnotify_new_ticket = true\n"));
    let m = crlf(
        "From: Kim <kim@customer.test>\nTo: support@example.test\nSubject: Invoice\nMessage-ID: <inv1@customer.test>\n\nWrong total.\n",
    );
    assert_eq!(Smtp::send_mail(&d.smtp, "kim@customer.test", &["support@example.test"], &m).0, 250);
    let alerts = cap.wait(2).await;
    let alert_id = alerts.iter().find(|m| m.rcpt_to == ["agent@example.test"]).unwrap().header("Message-ID").unwrap();

    // Phishing in the desk's name: From: the agent, from any host.
    let forged = crlf(
        "From: Bob Agent <agent@example.test>\nTo: support@example.test\nSubject: Re: [TKT-000001] Invoice\n\nPlease pay to IBAN XX00 EVIL.\n",
    );
    assert_eq!(Smtp::send_mail(&d.smtp, "agent@example.test", &["support@example.test"], &forged).0, 250);
    d.settle().await;
    let t = d.ticket("TKT-000001").await;
    let entries = t["entries"].as_array().unwrap();
    let note = entries.iter().find(|e| e["body"].as_str().unwrap().contains("IBAN")).unwrap();
    assert_eq!(note["kind"], "note");
    assert!(note["body"].as_str().unwrap().starts_with("[unverified: claims to be Bob Agent <agent@example.test>]"));
    // Bob hears of it; Kim gets nothing.
    let mails = cap.wait(3).await;
    assert!(mails.iter().any(|m| m.rcpt_to == ["agent@example.test"] && m.data.contains("without proof")), "agent told");
    d.outbox_idle().await;
    assert!(!cap.all().iter().any(|m| m.rcpt_to.contains(&"kim@customer.test".to_string())), "nothing to the customer");

    // A forged forward opens no ticket for the victim.
    let fwd = crlf(
        "From: Bob Agent <agent@example.test>\nTo: support@example.test\nSubject: Fwd: your account\n\n---------- Forwarded message ---------\nFrom: Victim <victim@customer.test>\n\nhello\n",
    );
    assert_eq!(Smtp::send_mail(&d.smtp, "agent@example.test", &["support@example.test"], &fwd).0, 250);
    d.settle().await;
    assert_eq!(d.all_tickets().await.len(), 1);
    assert!(junk_page(&d).await.contains("unverified: claims to be agent agent@example.test"));
    // Forgeries cannot flood the agent: one notice in ten minutes.
    d.outbox_idle().await;
    let notices = cap.all().iter().filter(|m| m.rcpt_to == ["agent@example.test"] && m.data.contains("without proof")).count();
    assert_eq!(notices, 1);

    // The real Bob answers the notification: his public reply reaches Kim.
    let real = crlf(&format!(
        "From: Bob Agent <agent@example.test>\nTo: support@example.test\nSubject: Re: [TKT-000001] Invoice\nIn-Reply-To: {alert_id}\n\nCorrected invoice attached soon.\n"
    ));
    assert_eq!(Smtp::send_mail(&d.smtp, "agent@example.test", &["support@example.test"], &real).0, 250);
    d.settle().await;
    let t = d.ticket("TKT-000001").await;
    assert!(t["entries"].as_array().unwrap().iter().any(|e| e["kind"] == "reply" && e["body"] == "Corrected invoice attached soon."));
    let mut got = false;
    for _ in 0..100 {
        if cap.all().iter().any(|m| m.rcpt_to == ["kim@customer.test"] && m.data.contains("Corrected invoice")) {
            got = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(got, "the verified reply is mailed to the customer");
}

/// Deep cursors are refused with 400 instead of aborting the process.
#[tokio::test]
async fn absurd_cursors_are_refused() {
    let d = MailDesk::start();
    let (st, body) = d.api.call("GET", "/tickets?q=printer&cursor=100000000000", None).await;
    assert_eq!(st, 400, "{body}");
    assert_eq!(body["field"], "cursor");
    let (st, _) = d.api.call("GET", "/tickets?cursor=100000000000", None).await;
    assert_eq!(st, 400);
    let (st, _) = d.api.call("GET", "/tickets?q=printer&cursor=18446744073709551615", None).await;
    assert_eq!(st, 400);
    // The server is still there, and sane cursors work.
    let (st, _) = d.api.call("GET", "/tickets?q=printer&cursor=50", None).await;
    assert_eq!(st, 200);
    let mut b = Browser::logged_in(&d.server.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(b.get("/search?q=printer&page=99999999999").await.status, 200);
    assert_eq!(b.get("/tickets?page=99999999999999").await.status, 200);
}

/// Peak resident memory of a process, in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|n| n.parse().ok()).unwrap_or(0)
}

/// Wrong passwords from one address lock that address out of that account,
/// not the real user at theirs; concurrent guesses all count; a burst of
/// 150 concurrent logins keeps memory flat (argon2 checks are capped).
#[tokio::test]
async fn login_throttling_is_per_account_and_address() {
    // Its peak memory is measured: a process of its own.
    let dir = tempdir();
    add_user(dir.path(), ADMIN_EMAIL, "Ada Admin", "admin", ADMIN_PASSWORD);
    let s = Server::spawn(dir.path());
    let mut attacker = Browser::from_ip(&s.base, "127.0.0.2");
    attacker.get("/login").await;
    for _ in 0..5 {
        let r = attacker.post("/login", &[("email", ADMIN_EMAIL), ("password", "wrong password!"), ("next", "/tickets")]).await;
        assert_eq!(r.status, 401);
    }
    let r = attacker.post("/login", &[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD), ("next", "/tickets")]).await;
    assert_eq!(r.status, 429, "the attacker's address is throttled, even with the right password");
    // The real admin, at their own address, logs in.
    let mut real = Browser::from_ip(&s.base, "127.0.0.3");
    let r = real.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(r.status, 303, "the real user is not locked out: {}", r.body);

    // 20 concurrent wrong guesses from a fresh address: at most 5 are checked.
    let mut handles = Vec::new();
    for _ in 0..20 {
        let base = s.base.clone();
        handles.push(tokio::spawn(async move {
            let mut b = Browser::from_ip(&base, "127.0.0.4");
            b.get("/login").await;
            b.post("/login", &[("email", ADMIN_EMAIL), ("password", "another wrong one"), ("next", "/")]).await.status
        }));
    }
    let mut checked = 0;
    for h in handles {
        let st = h.await.unwrap();
        assert!(st == 401 || st == 429, "{st}");
        checked += usize::from(st == 401);
    }
    assert!(checked <= 5, "{checked} concurrent guesses were checked");

    // 150 concurrent logins from many addresses: memory stays flat.
    let before = peak_rss_kib(s.pid());
    let mut handles = Vec::new();
    for i in 0..150 {
        let base = s.base.clone();
        handles.push(tokio::spawn(async move {
            let mut b = Browser::from_ip(&base, &format!("127.0.{}.{}", 10 + i / 200, 1 + i % 200));
            b.get("/login").await;
            b.post("/login", &[("email", "nobody@example.test"), ("password", "guess guess guess"), ("next", "/")]).await.status
        }));
    }
    for h in handles {
        let st = h.await.unwrap();
        assert!(st == 401 || st == 429, "{st}");
    }
    let after = peak_rss_kib(s.pid());
    assert!(before > 0 && after > 0);
    // Uncapped, 150 argon2 checks at ~19 MiB each would need ~2.8 GiB.
    assert!(after.saturating_sub(before) < 200 * 1024, "peak RSS grew by {} KiB", after - before);
}

/// Canned responses cannot burn CPU or memory: loops are refused on save,
/// and a desk template that would run away stops at its fuel.
#[tokio::test]
async fn canned_templates_have_limits() {
    let bomb = "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}";
    let config = format!("{MAIL_CONFIG}\n[[canned]]\nname = \"Bomb\"\ntext = \"{}\"\n", bomb.replace('"', "\\\""));
    let d = MailDesk::start_with_config(&config);
    let (st, _) = d
        .api
        .call("POST", "/tickets", Some(serde_json::json!({"subject": "x", "body": "y", "requester": {"email": "c@customer.test"}})))
        .await;
    assert_eq!(st, 201);
    let mut b = Browser::logged_in(&d.server.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    b.get("/settings").await;
    let started = std::time::Instant::now();
    let r = b.get("/tickets/TKT-000001/canned/0").await;
    assert_ne!(r.status, 200, "the runaway template is stopped");
    assert!(started.elapsed() < Duration::from_secs(20), "not a minute of CPU");
    for text in [bomb, "{% set a = 'x' * 99999999 %}{{ a }}", "{{ ('x' ~ 'y') }}", "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}"] {
        let r = b.post("/settings/canned", &[("title", "Evil"), ("text", text)]).await;
        assert_eq!(r.status, 400, "saved {text:?}");
    }
    let r = b
        .post("/settings/canned", &[("title", "Fine"), ("text", "{% if requester.name %}Hi {{ requester.name | title }}{% endif %}")])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = b.get("/tickets/TKT-000001/canned/mine%3AFine").await;
    assert_eq!(r.status, 200);
}

/// Writes a raw HTTP request head (and the first part of its body) and
/// returns the open connection.
async fn raw_http(base: &str, head: &str) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let addr = base.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    s
}

async fn status_of(s: &mut tokio::net::TcpStream) -> u16 {
    use tokio::io::AsyncReadExt;
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(20), s.read(&mut buf)).await.expect("an answer").unwrap_or(0);
    let text = String::from_utf8_lossy(&buf[..n]);
    text.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0)
}

/// Large bodies only for a logged-in agent's upload with a valid CSRF token,
/// checked before the body is read; slow bodies time out; uploads are capped.
#[tokio::test]
async fn uploads_authenticate_before_buffering_and_time_out() {
    let config = MAIL_CONFIG.replace("[desk]", "[limits]\nbody_timeout_secs = 2\nconcurrent_uploads = 1\n\n[desk]");
    let d = MailDesk::start_with_config(&config);
    let (st, _) = d
        .api
        .call("POST", "/tickets", serde_json::json!({"subject": "x", "body": "y", "requester": {"email": "c@customer.test"}}).into())
        .await;
    assert_eq!(st, 201);
    // A stranger's 5 MB "upload" is refused at the small limit.
    let big = vec![b'a'; 5 * 1024 * 1024];
    let r = reqwest::Client::new()
        .post(d.server.url("/tickets/TKT-000001/reply?_csrf=guess"))
        .header("content-type", "multipart/form-data; boundary=x")
        .body(big)
        .send()
        .await;
    match r {
        Ok(r) => assert_eq!(r.status().as_u16(), 413),
        Err(e) => assert!(e.is_request() || e.is_body(), "{e}"),
    }
    // A body trickling in is cut off after limits.body_timeout_secs.
    let mut slow = raw_http(
        &d.server.base,
        "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nemail=a",
    )
    .await;
    assert_eq!(status_of(&mut slow).await, 408);

    // An agent's upload is accepted; a second one at the same time is told to wait.
    let mut b = Browser::logged_in(&d.server.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let page = b.get("/tickets/TKT-000001").await.body;
    let csrf = page.split("reply?_csrf=").nth(1).and_then(|s| s.split('"').next()).unwrap().to_string();
    let head = format!(
        "POST /tickets/TKT-000001/reply?_csrf={csrf} HTTP/1.1\r\nHost: x\r\nCookie: {}\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: 100000\r\n\r\n--x\r\n",
        b.cookie_header()
    );
    let mut first = raw_http(&d.server.base, &head).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut second = raw_http(&d.server.base, &head).await;
    assert_eq!(status_of(&mut second).await, 503, "one upload at a time here");
    assert_eq!(status_of(&mut first).await, 408, "the stalled upload times out");
    let boundary = "XyZ";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\nSee the attached log.\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"log.txt\"\r\nContent-Type: text/plain\r\n\r\n{}\r\n--{boundary}--\r\n",
        "line\n".repeat(200_000)
    );
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(d.server.url(&format!("/tickets/TKT-000001/reply?_csrf={csrf}")))
        .header("cookie", b.cookie_header())
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303, "{}", r.text().await.unwrap_or_default());
    let t = d.ticket("TKT-000001").await;
    assert!(t["entries"].as_array().unwrap().iter().any(|e| e["body"] == "See the attached log."), "{t}");
}

/// After logging in, only paths of this site are followed.
#[tokio::test]
async fn login_next_stays_on_this_site() {
    let (_dir, s) = desk_with_admin();
    for next in [
        "/%09/evil.test/x",
        "/\t/evil.test/x",
        "/\\evil.test",
        "\\\\evil.test",
        "//evil.test",
        "https://evil.test",
        "/\n/evil.test",
        " //evil.test",
    ] {
        let mut b = Browser::new(&s.base);
        b.get("/login").await;
        let r = b.post("/login", &[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD), ("next", next)]).await;
        assert_eq!(r.status, 303);
        let loc = r.location.unwrap();
        assert!(loc.starts_with('/') && !loc.starts_with("//") && !loc.contains('\\') && !loc.contains('\t'), "{next:?} → {loc:?}");
        // What a browser would make of it: strip tab/newline, read \ as /.
        let browser_view: String =
            loc.chars().filter(|c| !matches!(c, '\t' | '\n' | '\r')).map(|c| if c == '\\' { '/' } else { c }).collect();
        assert!(!browser_view.starts_with("//"), "{next:?} → {loc:?}");
    }
    let mut b = Browser::new(&s.base);
    b.get("/login").await;
    let r = b.post("/login", &[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD), ("next", "/tickets?status=open")]).await;
    assert_eq!(r.location.as_deref(), Some("/tickets?status=open"));
}

/// Each recipient of a reply gets a ticket link of their own that acts as
/// them; a mail with thousands of Cc addresses adds only the capped number
/// of collaborators and no reply goes to more.
#[tokio::test]
async fn collaborators_get_their_own_links_and_are_capped() {
    use common::capture::Capture;
    let (cap, _h) = Capture::start_on("127.0.0.1:0").await;
    let d = MailDesk::start_with_config(&with_smarthost(&cap.addr, "notify_ack = false\nnotify_new_ticket = false\n"));
    let m = crlf("From: Ivy <ivy@customer.test>\nTo: support@example.test\nCc: Jack <jack@customer.test>\nSubject: Drive\n\nNo access.\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "ivy@customer.test", &["support@example.test"], &m).0, 250);
    d.wait_tickets(1).await;
    assert_eq!(d.api.call("POST", "/tickets/TKT-000001/entries", Some(serde_json::json!({"body": "Try again now."}))).await.0, 201);
    let mails = cap.wait(2).await;
    let link_of = |who: &str| -> String {
        let m = mails.iter().find(|m| m.rcpt_to == [who.to_string()]).unwrap_or_else(|| panic!("a copy for {who}"));
        let text = m.data.replace("=\r\n", "").replace("=3D", "=");
        let at = text.find("/t/TKT-000001?").expect("a ticket link");
        text[at..].split(|c: char| c.is_whitespace() || c == '<' || c == '"').next().unwrap().to_string()
    };
    let (ivy, jack) = (link_of("ivy@customer.test"), link_of("jack@customer.test"));
    assert_ne!(ivy, jack, "each recipient has their own link");
    // Jack's link acts as Jack.
    let mut b = Browser::new(&d.server.base);
    let page = b.get(&jack).await;
    assert_eq!(page.status, 200, "{jack}");
    let field = |name: &str| {
        page.body.split(&format!("name=\"{name}\" value=\"")).nth(1).and_then(|s| s.split('"').next()).unwrap_or("").to_string()
    };
    let (p, e, s) = (field("p"), field("e"), field("s"));
    let r = b.post("/t/TKT-000001/reply", &[("p", &p), ("e", &e), ("s", &s), ("body", "Same problem here.")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let t = d.ticket("TKT-000001").await;
    let entry = t["entries"].as_array().unwrap().iter().find(|e| e["body"] == "Same problem here.").unwrap().clone();
    assert_eq!(entry["author"]["email"], "jack@customer.test");
    // Jack's signature does not open Ivy's identity.
    let ivy_id = ivy.split("p=").nth(1).and_then(|s| s.split('&').next()).unwrap();
    let forged = jack.replace(&format!("p={p}"), &format!("p={ivy_id}"));
    assert_eq!(b.get(&forged).await.status, 404);

    // 3,000 addresses in Cc: 20 collaborators, one event, replies capped.
    let mut cc = String::from("Cc: ");
    for i in 0..3000 {
        cc.push_str(&format!("p{i}@crowd.test,\r\n "));
    }
    cc.push_str("last@crowd.test\r\n");
    let big = format!("From: Kim <kim@customer.test>\r\nTo: support@example.test\r\n{cc}Subject: Crowd\r\n\r\nhi all\r\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "kim@customer.test", &["support@example.test"], big.as_bytes()).0, 250);
    d.wait_tickets(2).await;
    let t = d.ticket("TKT-000002").await;
    let added = t["entries"].as_array().unwrap().iter().filter(|e| e["body"].as_str().unwrap_or("").contains("as a collaborator")).count();
    assert_eq!(added, 20);
    assert!(t["entries"].as_array().unwrap().iter().any(|e| e["body"].as_str().unwrap_or("").contains("did not add 2981 more")), "{t}");
    let before = cap.all().len();
    assert_eq!(d.api.call("POST", "/tickets/TKT-000002/entries", Some(serde_json::json!({"body": "Hello everyone."}))).await.0, 201);
    cap.wait(before + 21).await;
    d.outbox_idle().await;
    let copies: Vec<_> = cap.all().into_iter().skip(before).filter(|m| m.data.contains("Hello everyone.")).collect();
    let recipients: usize = copies.iter().map(|m| m.rcpt_to.len()).sum();
    assert_eq!(recipients, 21, "the requester and 20 collaborators, no more");
    let cc = copies[0].header("Cc").unwrap_or_default();
    assert_eq!(cc.matches('@').count(), 20, "{cc}");
}

/// A worker that panics outside any message is restarted by its supervisor;
/// meanwhile `/healthz` says it is down (503), afterwards it counts the restart.
#[tokio::test]
async fn a_panicked_worker_is_restarted_and_reported() {
    let d = MailDesk::start_env(MAIL_CONFIG, "127.0.0.1:0", &[("FRONTDESK_FAULT_PANIC_WORKER", "1")]);
    let mut saw_down = false;
    for _ in 0..40 {
        let (code, h) = healthz(&d).await;
        if code == 503 {
            assert!(h["problems"].to_string().contains("mail-worker"), "{h}");
            saw_down = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(saw_down, "the dead worker was reported");
    let mut back = false;
    for _ in 0..60 {
        let (code, h) = healthz(&d).await;
        let w = h["workers"].as_array().unwrap().iter().find(|w| w["name"] == "mail-worker").cloned().unwrap();
        if code == 200 && w["running"] == true {
            assert_eq!(w["restarts"], 1);
            assert_eq!(w["last_panic"], "injected worker fault");
            back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(back, "the worker was restarted");
    let m = crlf("From: Eve <eve@customer.test>\nTo: support@example.test\nSubject: after the restart\n\nhello\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "eve@customer.test", &["support@example.test"], &m).0, 250);
    d.wait_tickets(1).await;
}
