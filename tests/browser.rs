//! Headless Chromium (playwright-core driving the system Chromium): login →
//! queue → ticket → reply → note → jump, with screenshots saved to
//! `target/screenshots/`. `.ci/run` installs Chromium and playwright-core and sets
//! FRONTDESK_BROWSER_REQUIRED=1, so there a missing browser is a failure; on a
//! developer machine without them the test says so and skips.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::*;
use serde_json::json;

/// (project dir, browser scripts dir, Chromium binary) when Chromium and
/// playwright-core are installed; `None` (the test skips) otherwise — unless
/// FRONTDESK_BROWSER_REQUIRED is set, as in CI, where that is a failure.
fn browser() -> Option<(PathBuf, PathBuf, String)> {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let script_dir = here.join("tests/browser");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if std::path::Path::new(&chromium).exists() && script_dir.join("node_modules/playwright-core").exists() {
        return Some((here, script_dir, chromium));
    }
    assert!(
        std::env::var("FRONTDESK_BROWSER_REQUIRED").is_err(),
        "Chromium ({chromium}) or playwright-core (tests/browser/node_modules) missing"
    );
    eprintln!("SKIPPED: install chromium and run `npm ci` in tests/browser (or run .ci/run)");
    None
}

/// A desk served by the binary with the admin Ada and an API token of
/// hers: the data dir (dropped last), the server, the API.
fn admin_desk() -> (tempfile::TempDir, Server, Api) {
    let dir = tempdir();
    add_user(dir.path(), ADMIN_EMAIL, "Ada Admin", "admin", ADMIN_PASSWORD);
    let token = create_token(dir.path(), ADMIN_EMAIL);
    let s = Server::start(dir.path());
    let api = Api::new(&s.base, &token);
    (dir, s, api)
}

/// Carol's ticket with `subject` and `body`, made through the API: its reference.
async fn carols_ticket(api: &Api, subject: &str, body: &str) -> String {
    let (st, t) =
        api.call("POST", "/tickets", Some(json!({"subject": subject, "body": body, "requester": {"email": "carol@customer.test"}}))).await;
    assert_eq!(st, 201, "{t}");
    t["ref"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn login_queue_ticket_reply_in_chromium() {
    let Some((here, script_dir, chromium)) = browser() else { return };
    let (_dir, s, api) = admin_desk();
    for (subject, who, prio) in [
        ("Outlook keeps asking for password", "Carol Customer", "high"),
        ("New starter needs a laptop on Monday", "Dan Manager", "medium"),
        ("Invoice 2291 charged twice", "Erin Accounts", "urgent"),
    ] {
        let email = format!("{}@customer.test", who.split(' ').next().unwrap_or("x").to_lowercase());
        let (st, _) = api.call("POST", "/tickets", Some(json!({"subject": subject, "body": "Details as told on the phone.", "requester": {"name": who, "email": email}, "channel": "phone", "priority": prio}))).await;
        assert_eq!(st, 201);
    }
    let shots = here.join("target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let out = Command::new("node")
        .current_dir(&script_dir)
        .arg("flow.mjs")
        .arg(&s.base)
        .arg(ADMIN_EMAIL)
        .arg(ADMIN_PASSWORD)
        .arg(&shots)
        .env("CHROMIUM", &chromium)
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "browser flow failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("OK TKT-"), "{stdout}");
    for f in ["queue.png", "ticket.png", "snoozed.png", "queue-phone.png", "ticket-phone.png"] {
        let len = std::fs::metadata(shots.join(f)).map(|m| m.len()).unwrap_or(0);
        assert!(len > 10_000, "screenshot {f} missing or empty");
    }
    // What the browser did is on the record server-side too.
    let ref_ = stdout.trim().trim_start_matches("OK ").to_string();
    let (_, t) = api.call("GET", &format!("/tickets/{ref_}"), None).await;
    let entries = t["entries"].as_array().unwrap();
    assert!(entries.iter().any(|e| e["kind"] == "reply" && e["body"].as_str().unwrap().contains("restart the router")));
    assert!(entries.iter().any(|e| e["kind"] == "note"));
    // Snoozed in the browser: the API says until when.
    assert_eq!(t["status"], "snoozed", "{t}");
    assert!(t["snoozed_until"].as_str().is_some_and(|u| u.ends_with("Z")), "{t}");
}

/// Runs `script` with `args` and the screenshots folder; it must succeed
/// and print `ok`, and leave each screenshot of `shots` (over 10 KB) there.
fn run_script(here: &std::path::Path, script_dir: &std::path::Path, chromium: &str, script: &str, args: &[&str], ok: &str, shots: &[&str]) {
    let dir = here.join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let out =
        Command::new("node").current_dir(script_dir).arg(script).args(args).arg(&dir).env("CHROMIUM", chromium).output().expect("run node");
    let (so, se) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && so.contains(ok), "{script} failed:\n{so}\n{se}");
    for f in shots {
        assert!(std::fs::metadata(dir.join(f)).map(|m| m.len()).unwrap_or(0) > 10_000, "screenshot {f} missing or empty");
    }
}

/// A 1x1 red PNG, generated here so the test carries no binary fixture.
fn tiny_png() -> Vec<u8> {
    fn crc(data: &[u8]) -> u32 {
        let mut c = 0xffff_ffffu32;
        for &b in data {
            c ^= b as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 { 0xedb8_8320 ^ (c >> 1) } else { c >> 1 };
            }
        }
        !c
    }
    fn adler(data: &[u8]) -> u32 {
        let (mut a, mut b) = (1u32, 0u32);
        for &d in data {
            a = (a + d as u32) % 65521;
            b = (b + a) % 65521;
        }
        (b << 16) | a
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut c = kind.to_vec();
        c.extend_from_slice(data);
        out.extend_from_slice(&c);
        out.extend_from_slice(&crc(&c).to_be_bytes());
    }
    let raw = [0u8, 220, 40, 40]; // filter byte + one RGB pixel
    let mut z = vec![0x78, 0x01, 1, raw.len() as u8, 0, !(raw.len() as u8), 0xff];
    z.extend_from_slice(&raw);
    z.extend_from_slice(&adler(&raw).to_be_bytes());
    let mut png = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    chunk(&mut png, b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]);
    chunk(&mut png, b"IDAT", &z);
    chunk(&mut png, b"IEND", &[]);
    png
}

#[tokio::test]
async fn mail_ticket_page_in_chromium() {
    let Some((here, script_dir, chromium)) = browser() else { return };
    let d = MailDesk::start();
    let msg = format!(
        "From: Gina Customer <gina@customer.test>\r\nTo: support@example.test\r\nCc: Hank <hank@customer.test>\r\nSubject: Invoice 2291 charged twice\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"OUT\"\r\n\r\n--OUT\r\nContent-Type: multipart/alternative; boundary=\"ALT\"\r\n\r\n--ALT\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello, our invoice 2291 was charged twice. Screenshot attached.\r\n\r\nGina\r\n--ALT\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Hello, our <b>invoice 2291</b> was charged twice.</p><script>alert(1)</script><p><img src=\"cid:shot@gina\" alt=\"the charge\" width=\"20\"></p><p>Gina</p>\r\n--ALT--\r\n--OUT\r\nContent-Type: image/png\r\nContent-ID: <shot@gina>\r\nContent-Disposition: attachment; filename=\"screenshot.png\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--OUT\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"invoice-2291.pdf\"\r\n\r\n%PDF-1.4 fake\r\n--OUT--\r\n",
        base64(&tiny_png())
    );
    assert_eq!(common::smtp::Smtp::send_mail(&d.smtp, "gina@customer.test", &["support@example.test"], msg.as_bytes()).0, 250);
    let bounce = b"From: MAILER-DAEMON@mx.other.test\r\nTo: support@example.test\r\nSubject: Undeliverable: hello\r\n\r\nfailed\r\n";
    assert_eq!(common::smtp::Smtp::send_mail(&d.smtp, "", &["support@example.test"], bounce).0, 250);
    let all = d.wait_tickets(1).await;
    d.settle().await;
    let shots = here.join("target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let out = Command::new("node")
        .current_dir(&script_dir)
        .arg("mail.mjs")
        .arg(&d.server.base)
        .arg(ADMIN_EMAIL)
        .arg("correct horse battery")
        .arg(all[0]["ref"].as_str().unwrap())
        .arg(&shots)
        .env("CHROMIUM", &chromium)
        .output()
        .expect("run node");
    let (so, se) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && so.contains("OK mail"), "mail page flow failed:\n{so}\n{se}");
}

#[tokio::test]
async fn a_new_mail_appears_in_the_open_queue_without_reload() {
    use std::io::BufRead;
    let Some((here, script_dir, chromium)) = browser() else { return };
    let d = MailDesk::start();
    let shots = here.join("target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let mut child = Command::new("node")
        .current_dir(&script_dir)
        .arg("live.mjs")
        .arg(&d.server.base)
        .arg(ADMIN_EMAIL)
        .arg("correct horse battery")
        .arg("Printer on floor 3 is smoking")
        .arg(&shots)
        .env("CHROMIUM", &chromium)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run node");
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let ready = lines.next().and_then(|l| l.ok()).unwrap_or_default();
    assert_eq!(ready, "READY");
    let m = b"From: Tom <tom@customer.test>\r\nTo: support@example.test\r\nSubject: Printer on floor 3 is smoking\r\n\r\nsmoke!\r\n";
    assert_eq!(common::smtp::Smtp::send_mail(&d.smtp, "tom@customer.test", &["support@example.test"], m).0, 250);
    let result = lines.next().and_then(|l| l.ok()).unwrap_or_default();
    let status = child.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).ok();
    assert!(status.success() && result.starts_with("OK "), "{result}\n{err}");
    eprintln!("live: new ticket visible in the open queue {} ms after sending", result.trim_start_matches("OK "));
}

#[tokio::test]
async fn search_bulk_keyboard_and_presence_in_chromium() {
    let Some((here, script_dir, chromium)) = browser() else { return };
    let d = MailDesk::start();
    for (subject, body, tags) in [
        ("Printer on floor 2 jams", "The printer jams on every second page.", vec!["printers"]),
        ("Toner low", "Printer in room 4 says toner low.", vec!["printers"]),
        ("VPN drops", "Tunnel drops hourly.", vec![]),
    ] {
        let (st, _) = d
            .api
            .call(
                "POST",
                "/tickets",
                Some(json!({"subject": subject, "body": body, "requester": {"name": "Pat", "email": "pat@customer.test"}, "tags": tags})),
            )
            .await;
        assert_eq!(st, 201);
    }
    // Let the index catch up before the browser searches.
    let mut b = Browser::logged_in(&d.server.base, ADMIN_EMAIL, "correct horse battery").await;
    for _ in 0..100 {
        if b.get("/search?q=tag%3Aprinters").await.body.contains("2 matching tickets") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let shots = here.join("target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let out = Command::new("node")
        .current_dir(&script_dir)
        .arg("search.mjs")
        .arg(&d.server.base)
        .arg(ADMIN_EMAIL)
        .arg("correct horse battery")
        .arg(&shots)
        .env("CHROMIUM", &chromium)
        .env("OTHER_EMAIL", "agent@example.test")
        .env("OTHER_PASSWORD", "bob's long password")
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stdout.contains("OK"), "browser search flow failed:\n{stdout}\n{stderr}");
    for f in ["search.png", "search-error.png", "bulk-select.png", "bulk-done.png", "ticket-presence.png"] {
        let len = std::fs::metadata(shots.join(f)).map(|m| m.len()).unwrap_or(0);
        assert!(len > 10_000, "screenshot {f} missing or empty");
    }
    // The bulk action really happened.
    let all = d.all_tickets().await;
    let urgent = all.iter().filter(|t| t["priority"] == "urgent").count();
    assert_eq!(urgent, 2, "{all:?}");
}

/// Built-in HTTPS in Chromium: the self-signed certificate trusted by the
/// fingerprint the start-up line prints (and refused without it), plain HTTP
/// redirected, login over HTTPS, Secure cookie, HSTS.
#[tokio::test]
async fn https_with_the_printed_fingerprint_in_chromium() {
    let Some((here, script_dir, chromium)) = browser() else { return };
    let dir = tempdir();
    add_user(dir.path(), ADMIN_EMAIL, "Ada Admin", "admin", ADMIN_PASSWORD);
    let s = Server::spawn_with(dir.path(), &["--https", "127.0.0.1:0"]);
    let printed = s.wait_stdout("--ignore-certificate-errors-spki-list=");
    let spki = printed
        .split("--ignore-certificate-errors-spki-list=")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .expect("the printed fingerprint")
        .to_string();
    let shots = here.join("target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let out = Command::new("node")
        .current_dir(&script_dir)
        .arg("https.mjs")
        .arg(&s.base)
        .arg(&spki)
        .arg(ADMIN_EMAIL)
        .arg(ADMIN_PASSWORD)
        .arg(&shots)
        .env("CHROMIUM", &chromium)
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && stdout.contains("OK TLS"), "https.mjs failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
}

/// Two-factor login in Chromium: enrol from the settings page, keep the
/// recovery codes, log out, log in with the password and a TOTP code.
#[tokio::test]
async fn two_factor_enrolment_and_login_in_chromium() {
    let Some((here, script_dir, chromium)) = browser() else { return };
    let (_dir, s) = desk_with_admin();
    let shots = here.join("target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let out = Command::new("node")
        .current_dir(&script_dir)
        .arg("twofactor.mjs")
        .arg(&s.base)
        .arg(ADMIN_EMAIL)
        .arg(ADMIN_PASSWORD)
        .arg(&shots)
        .env("CHROMIUM", &chromium)
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && stdout.contains("OK"), "twofactor.mjs failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
}

/// The SLA badges (red overdue, amber past the warning share), the SLA
/// column and the two views, on a desk whose clock the test moves.
#[tokio::test]
async fn sla_badges_and_views_in_chromium() {
    let Some((here, script_dir, chromium)) = browser() else { return };
    let dir = tempdir();
    let config = dir.path().join("sla.toml");
    std::fs::write(
        &config,
        "[[sla]]\nname = \"Urgent\"\npriorities = [\"urgent\"]\nfirst_response = \"1h\"\n\n[[sla]]\nname = \"Standard\"\nfirst_response = \"4h\"\n",
    )
    .unwrap();
    let c = config.to_str().unwrap().to_string();
    let with = ["--config", c.as_str()];
    add_user_with(dir.path(), &with, ADMIN_EMAIL, "Ada Admin", "admin", ADMIN_PASSWORD);
    let token = create_token_with(dir.path(), &with, ADMIN_EMAIL, "t");
    let clock = frontdesk::clock::ManualClock::new(frontdesk::domain::Timestamp(1_800_000_000_000));
    let desk = common::inproc::Desk::start_clocked(dir.path(), &with, std::sync::Arc::new(clock.clone()));
    let base = format!("http://{}", desk.http);
    let api = Api::new(&base, &token);
    let mut refs = Vec::new();
    for (subject, prio) in [("Mail server down", "urgent"), ("Printer jams", "medium")] {
        let body = json!({"subject": subject, "body": "Details.", "requester": {"email": "carol@customer.test"}, "priority": prio});
        let (st, t) = api.call("POST", "/tickets", Some(body)).await;
        assert_eq!(st, 201, "{t}");
        refs.push(t["ref"].as_str().unwrap().to_string());
    }
    // 3 h 20 m on: the urgent one is 2 h 20 m overdue, the other 83 % spent.
    clock.advance_ms(200 * 60_000);
    run_script(
        &here,
        &script_dir,
        &chromium,
        "sla.mjs",
        &[&base, ADMIN_EMAIL, ADMIN_PASSWORD, &refs[0], &refs[1]],
        "OK sla",
        &["sla-ticket.png", "sla-queue.png", "sla-ticket-phone.png"],
    );
    desk.stop();
}

/// The Reports page in Chromium on a desk whose clock the test moves: six
/// tickets over three days, three resolved; charts drawn, a filter, a CSV
/// download, and a phone without sideways scrolling.
#[tokio::test]
async fn reports_in_chromium() {
    let Some((here, script_dir, chromium)) = browser() else { return };
    let dir = tempdir();
    add_user(dir.path(), ADMIN_EMAIL, "Ada Admin", "admin", ADMIN_PASSWORD);
    let token = create_token(dir.path(), ADMIN_EMAIL);
    let clock = frontdesk::clock::ManualClock::new(frontdesk::domain::Timestamp(1_800_000_000_000));
    let desk = common::inproc::Desk::start_clocked(dir.path(), &[], std::sync::Arc::new(clock.clone()));
    let base = format!("http://{}", desk.http);
    let api = Api::new(&base, &token);
    // Friday: three tickets (one by phone), one answered and resolved;
    // Saturday: two by web, one resolved; Sunday: one, resolved.
    let mut at = 1_800_000_000_000i64;
    for (day, subject, channel, resolve) in [
        (0, "VPN drops", "phone", true),
        (0, "Printer jams", "email", false),
        (0, "New laptop", "email", false),
        (1, "Password reset", "web", true),
        (1, "Shared drive", "web", false),
        (2, "Monitor flickers", "email", true),
    ] {
        let day_starts = 1_800_000_000_000 + day * 86_400_000;
        if day_starts > at {
            clock.advance_ms(day_starts - at);
            at = day_starts;
        }
        let body = json!({"subject": subject, "body": "Details.", "requester": {"email": "carol@customer.test"}, "channel": channel});
        let (st, t) = api.call("POST", "/tickets", Some(body)).await;
        assert_eq!(st, 201, "{t}");
        let reference = t["ref"].as_str().unwrap().to_string();
        clock.advance_ms(3_600_000);
        at += 3_600_000;
        let (st, _) =
            api.call("POST", &format!("/tickets/{reference}/entries"), Some(json!({"body": "Looking.", "status": "pending"}))).await;
        assert_eq!(st, 201);
        if resolve {
            let (st, _) = api.call("PATCH", &format!("/tickets/{reference}"), Some(json!({"status": "resolved"}))).await;
            assert_eq!(st, 200);
        }
    }
    run_script(
        &here,
        &script_dir,
        &chromium,
        "reports.mjs",
        &[&base, ADMIN_EMAIL, ADMIN_PASSWORD],
        "OK reports",
        &["reports.png", "reports-phone.png"],
    );
    desk.stop();
}

/// The queue in Chromium: 25 customer tickets; rows that fit the first
/// screen, unread markers, the bulk bar only while rows are ticked, a
/// remembered column choice, a phone without sideways scrolling.
#[tokio::test]
async fn queue_in_chromium() {
    let Some((here, script_dir, chromium)) = browser() else { return };
    let (_dir, mut s, api) = admin_desk();
    for n in 1..=25 {
        let body = format!("Question {n}: the printer on floor {n} prints blank pages since this morning.");
        let new = json!({"subject": format!("Printer {n}"), "body": body, "requester": {"email": format!("c{n}@customer.test")}});
        let (st, t) = api.call("POST", "/tickets", Some(new)).await;
        assert_eq!(st, 201, "{t}");
    }
    run_script(
        &here,
        &script_dir,
        &chromium,
        "queue.mjs",
        &[&s.base, ADMIN_EMAIL, ADMIN_PASSWORD],
        "OK queue",
        &["queue.png", "queue-phone.png"],
    );
    s.stop();
}

/// Every page in Chromium at desktop and phone sizes: each loads, axe-core
/// finds no serious or critical violation, no page scrolls sideways on a
/// phone; screenshots of both sizes are kept. Then every page again in
/// German: nothing of the English left.
#[tokio::test]
async fn every_page_in_chromium() {
    let Some((here, script_dir, chromium)) = browser() else { return };
    // Mail goes to a capturing smarthost: the acknowledgement brings the
    // customer's signed link to their page.
    let (cap, _h) = common::capture::Capture::start_on("127.0.0.1:0").await;
    let d = MailDesk::start_with_config(&format!("{MAIL_CONFIG}\n[outgoing]\nsmarthost = \"{}\"\nretry_secs = [1]\n", cap.addr));
    let msg = "From: Gina Customer <gina@customer.test>\r\nTo: support@example.test\r\nSubject: Invoice 2291 charged twice\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"ALT\"\r\n\r\n--ALT\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello, our invoice 2291 was charged twice (see https://billing.example.test/2291).\r\n--ALT\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Hello, our <b>invoice 2291</b> was charged twice.</p>\r\n--ALT--\r\n";
    assert_eq!(common::smtp::Smtp::send_mail(&d.smtp, "gina@customer.test", &["support@example.test"], msg.as_bytes()).0, 250);
    let bounce = b"From: MAILER-DAEMON@mx.other.test\r\nTo: support@example.test\r\nSubject: Undeliverable: hello\r\n\r\nfailed\r\n";
    assert_eq!(common::smtp::Smtp::send_mail(&d.smtp, "", &["support@example.test"], bounce).0, 250);
    let all = d.wait_tickets(1).await;
    let reference = all[0]["ref"].as_str().unwrap().to_string();
    let (st, _) =
        d.api.call("POST", &format!("/tickets/{reference}/entries"), Some(json!({"body": "We refund the second charge today."}))).await;
    assert_eq!(st, 201);
    let (st, _) = d
        .api
        .call("POST", &format!("/tickets/{reference}/entries"), Some(json!({"body": "Checked with finance.", "internal": true})))
        .await;
    assert_eq!(st, 201);
    d.settle().await;
    let ack = cap.wait_for(|m| m.rcpt_to == ["gina@customer.test"]).await;
    // The text part is quoted-printable: soft line breaks and "=3D" undone.
    let text = ack.data.replace("=\r\n", "").replace("=3D", "=");
    let portal = text.lines().find_map(|l| l.find("/t/").map(|i| l[i..].trim().to_string())).expect("a portal link in the acknowledgement");
    // A second, resolved ticket: its mail's rating link opens the rating page.
    let (st, t2) = d
        .api
        .call(
            "POST",
            "/tickets",
            Some(json!({"subject": "Password reset", "body": "Please reset it.", "requester": {"email": "gina@customer.test"}})),
        )
        .await;
    assert_eq!(st, 201, "{t2}");
    let ref2 = t2["ref"].as_str().unwrap().to_string();
    let (st, _) = d.api.call("PATCH", &format!("/tickets/{ref2}"), Some(json!({"status": "resolved"}))).await;
    assert_eq!(st, 200);
    let resolved = cap.wait_for(|m| m.rcpt_to == ["gina@customer.test"] && m.data.replace("=\r\n", "").contains("/rate?")).await;
    let text = resolved.data.replace("=\r\n", "").replace("=3D", "=");
    let rating = text
        .lines()
        .filter(|l| l.trim_start().starts_with("Good:"))
        .find_map(|l| l.find("/t/").map(|i| l[i..].trim().to_string()))
        .expect("a rating link in the resolved mail");
    // A knowledge base article (with a picture) for its pages on both sides.
    let mut admin = Browser::logged_in(&d.server.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(admin.post("/kb/categories", &[("name", "Billing"), ("description", "Invoices and refunds")]).await.status, 303);
    let article = [
        ("title", "When an invoice is charged twice"),
        (
            "body",
            "# Charged twice?\n\nA second charge is **refunded** within five days.\n\n![The invoice](tiny.png)\n\n| Step | Who |\n|---|---|\n| Refund | Finance |",
        ),
        ("category", "1"),
        ("state", "published"),
        ("audience", "public"),
    ];
    let png = tiny_png();
    let r = admin.post_multipart("/kb/new", &article, &[("tiny.png", &png)]).await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some("/kb/1")), "{}", r.body);
    run_script(
        &here,
        &script_dir,
        &chromium,
        "pages.mjs",
        &[&d.server.base, ADMIN_EMAIL, ADMIN_PASSWORD, &reference, &portal, &rating],
        "OK pages",
        &["page-queue.png", "page-ticket-phone.png", "page-portal-phone.png", "page-rating-phone.png"],
    );
    // The same desk in German (issue 18 part 11).
    run_script(
        &here,
        &script_dir,
        &chromium,
        "german.mjs",
        &[&d.server.base, ADMIN_EMAIL, ADMIN_PASSWORD, &reference, &portal, &rating],
        "OK german",
        &["page-de-queue.png", "page-de-ticket-phone.png", "page-de-portal-phone.png", "page-de-shortcuts.png"],
    );
}

/// A quiet thread in Chromium: the folded run of sent mails opens, a long
/// older message opens to its whole text, Add note / Reply at the top set
/// the reply box and focus it, links pass nothing on.
#[tokio::test]
async fn quiet_thread_in_chromium() {
    let Some((here, script_dir, chromium)) = browser() else { return };
    let (dir, mut s, api) = admin_desk();
    let long: String = (1..=40).map(|i| format!("Step {i}: see https://status.example.test/incident?id={i}.\n")).collect();
    let (st, t) = api
        .call("POST", "/tickets", Some(json!({"subject": "VPN outage", "body": long, "requester": {"email": "carol@customer.test"}})))
        .await;
    assert_eq!(st, 201, "{t}");
    let reference = t["ref"].as_str().unwrap().to_string();
    for n in 1..=3 {
        let (st, _) =
            api.call("POST", &format!("/tickets/{reference}/entries"), Some(json!({"body": format!("Note {n}."), "internal": true}))).await;
        assert_eq!(st, 201);
    }
    s.stop();
    // Three delivered mails in a row, as the outbox logs them.
    let store = frontdesk::store::Store::open(dir.path()).unwrap();
    let id = frontdesk::domain::TicketId(t["id"].as_u64().unwrap());
    store
        .write(|w| -> Result<(), frontdesk::store::StoreError> {
            for to in ["a@example.test", "b@example.test", "carol@customer.test"] {
                let mut e = frontdesk::domain::ThreadEntry {
                    ticket: id,
                    seq: 0,
                    kind: frontdesk::domain::EntryKind::Event,
                    author: None,
                    body: String::new(),
                    event: Some(frontdesk::domain::Event::MailSent { kind: "new_ticket".into(), to: vec![to.into()] }),
                    attachments: Vec::new(),
                    created_at: frontdesk::domain::Timestamp(1_800_000_000_000),
                };
                w.append_entry(&mut e)?;
            }
            Ok(())
        })
        .unwrap();
    drop(store);
    let s = Server::start(dir.path());
    run_script(
        &here,
        &script_dir,
        &chromium,
        "thread.mjs",
        &[&s.base, ADMIN_EMAIL, ADMIN_PASSWORD, &reference],
        "OK thread",
        &["thread.png"],
    );
}

/// The knowledge base in Chromium: a customer typing a request's subject
/// on the help page sees the matching article and opens it (counted as
/// opened from a suggestion); an agent finds articles from the reply box and
/// inserts a public one's link and an internal one's text.
#[tokio::test]
async fn knowledge_base_in_chromium() {
    let Some((here, script_dir, chromium)) = browser() else { return };
    let (_dir, s, api) = admin_desk();
    let reference = carols_ticket(&api, "Password", "I forgot it.").await;
    let mut admin = Browser::logged_in(&s.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    for (title, body, audience) in [
        ("Resetting your password", "Open **Sign in** and choose *Forgot password*.", "public"),
        ("Password vault for staff", "The vault lives at vault.internal.", "internal"),
    ] {
        let fields = [("title", title), ("body", body), ("state", "published"), ("audience", audience)];
        assert_eq!(admin.post_multipart("/kb/new", &fields, &[]).await.status, 303);
    }
    run_script(
        &here,
        &script_dir,
        &chromium,
        "kb.mjs",
        &[&s.base, ADMIN_EMAIL, ADMIN_PASSWORD, &reference],
        "OK kb",
        &["kb-suggested.png", "kb-insert.png"],
    );
    let list = admin.get("/kb").await;
    assert!(list.body.contains("1 opened from a suggestion"), "{}", list.body);
}

/// Serves `page` for every request on `listener` (a thread of its own: the
/// test's runtime is busy while Chromium runs): a web site of another
/// origin than the desk.
fn serve_page(listener: std::net::TcpListener, page: String) {
    use std::io::{Read, Write};
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            let mut buf = [0u8; 8192];
            let _ = s.read(&mut buf);
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                page.len()
            );
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(page.as_bytes());
        }
    });
}

/// The help widget in Chromium on another origin's page (issue 15 part 2):
/// the page's own styles and the widget's leave each other alone (shadow
/// root), the keyboard opens and closes it, the subject brings suggested
/// articles, the request goes cross-origin and is confirmed by mail; the
/// same script on a site not listed in `portal.widget_origins` shows nothing.
#[tokio::test]
async fn help_widget_on_another_site_in_chromium() {
    let Some((here, script_dir, chromium)) = browser() else { return };
    let (cap, _h) = common::capture::Capture::start_on("127.0.0.1:0").await;
    // Two sites on ports of their own (other origins than the desk's): one listed.
    let listed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let unlisted = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let origin = |l: &std::net::TcpListener| format!("http://127.0.0.1:{}", l.local_addr().map(|a| a.port()).unwrap_or(0));
    let (site, other) = (origin(&listed), origin(&unlisted));
    let config = format!(
        "{MAIL_CONFIG}\n[outgoing]\nsmarthost = \"{}\"\nretry_secs = [1]\n\n[portal]\nmin_fill_secs = 1\nwidget_origins = [\"{site}\"]\n",
        cap.addr
    );
    let d = MailDesk::start_with_config(&config);
    // The site's page: its own button styles, which must not reach the widget.
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><title>Shop</title><style>button {{ background: rgb(255, 0, 0) !important; font-size: 30px; }} .launcher {{ color: rgb(0, 128, 0); }}</style></head><body><main><h1>Our shop</h1><button class=\"launcher\" type=\"button\">Page button</button><script src=\"{}/widget.js\" data-department=\"Sales\" async></script></main></body></html>",
        d.server.base
    );
    serve_page(listed, page.clone());
    serve_page(unlisted, page);
    // An article to suggest.
    let mut admin = Browser::logged_in(&d.server.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let fields = [
        ("title", "Volume licences and quotes"),
        ("body", "Quotes for 10 seats or more come from Sales."),
        ("state", "published"),
        ("audience", "public"),
    ];
    assert_eq!(admin.post_multipart("/kb/new", &fields, &[]).await.status, 303);
    run_script(&here, &script_dir, &chromium, "widget.mjs", &[&site, &other], "OK widget", &["widget-open.png"]);
    let mail = cap.wait_for(|m| m.rcpt_to == ["erin@buyer.test"]).await;
    let text = mail.data.replace("=\r\n", "").replace("=3D", "=");
    let link = text.lines().find_map(|l| l.find("/help/confirm?").map(|i| l[i..].trim().to_string())).expect("the confirmation link");
    assert_eq!(Browser::new(&d.server.base).get(&link).await.status, 200);
    let all = d.wait_tickets(1).await;
    let t = d.ticket(all[0]["ref"].as_str().unwrap_or_default()).await;
    assert_eq!((t["subject"].as_str(), t["department"].as_str()), (Some("Quote for 40 seats"), Some("Sales")), "{t}");
}

/// Never lose a reply, in Chromium: the draft is saved as typed, the end of
/// the session is said at once without losing the text, and signing in
/// again returns to the ticket with it; sent, it is gone.
#[tokio::test]
async fn drafts_survive_the_end_of_a_session_in_chromium() {
    let Some((here, script_dir, chromium)) = browser() else { return };
    let (_dir, s, api) = admin_desk();
    let reference = carols_ticket(&api, "Laptop frozen", "It froze.").await;
    run_script(&here, &script_dir, &chromium, "drafts.mjs", &[&s.base, ADMIN_EMAIL, ADMIN_PASSWORD, &reference], "OK drafts", &[]);
    let (_, t) = api.call("GET", &format!("/tickets/{reference}"), None).await;
    let sent = t["entries"].as_array().unwrap().iter().filter(|e| e["body"].as_str().unwrap_or("").contains("plug it back in.")).count();
    assert_eq!(sent, 1, "the reply went out once: {t}");
}
