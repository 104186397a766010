//! Two-factor login through the real server: enrolment with the QR code's
//! secret, recovery codes, the second step (a code works once, wrong ones
//! are throttled), remember-this-browser on the injected clock, a desk that
//! requires 2FA, an admin's reset, and codes by mail through a capture
//! smarthost. Every step is in the audit log.

use frontdesk::clock::Clock;
use frontdesk::domain::Role;
use frontdesk::domain::twofactor::{current_code, from_base32};

use crate::common::capture::Capture;
use crate::common::*;
use crate::inprocess::{InProcess, PASSWORD};

const DAY_MS: i64 = 86_400_000;

/// The secret the enrolment page shows (after "Enter this key by hand").
fn secret_on(page: &str) -> Vec<u8> {
    let key = page.split("<code class=\"secret\">").nth(1).and_then(|r| r.split('<').next()).expect("the key on the page");
    from_base32(key).expect("base32")
}

fn code_at(secret: &[u8], clock_ms: i64) -> String {
    current_code(secret, u64::try_from(clock_ms / 1000).unwrap())
}

/// Logs in with the password; the answer (303 to /login/2fa when due).
async fn password_step(b: &mut Browser, email: &str) -> Response {
    b.get("/login").await;
    b.post("/login", &[("email", email), ("password", PASSWORD), ("next", "/tickets")]).await
}

fn form<'a>(b: &'a Browser, fields: &[(&'a str, &'a str)]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    v.push(("_csrf".into(), b.csrf.clone()));
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrol_log_in_with_a_code_once_recovery_codes_and_a_remembered_browser() {
    let d = InProcess::start_with("[security]\nremember_browser_days = 7\n").await;
    let mut b = Browser::logged_in(&d.base, "ada@example.test", PASSWORD).await;
    let page = b.get("/settings/2fa").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<svg") && page.body.contains("QR code for your authenticator app"));
    let secret = secret_on(&page.body);
    assert_eq!(secret.len(), 20);
    // The same secret until confirmed (a reload does not change it).
    assert_eq!(secret_on(&b.get("/settings/2fa").await.body), secret);
    let wrong = b.post("/settings/2fa/confirm", &[("password", PASSWORD), ("code", "000000")]).await;
    assert_eq!(wrong.status, 400);
    assert!(wrong.body.contains("not the code your app shows"));
    // A stolen session cannot bind its own device: the password is asked for.
    let no_password =
        b.post("/settings/2fa/confirm", &[("password", "not the password"), ("code", &code_at(&secret, d.clock.now().0))]).await;
    assert_eq!(no_password.status, 400);
    assert!(no_password.body.contains("not your current password"));
    let now = d.clock.now().0;
    let done = b.post("/settings/2fa/confirm", &[("password", PASSWORD), ("code", &code_at(&secret, now))]).await;
    assert_eq!(done.status, 200, "{}", done.body);
    let codes: Vec<String> = done.body.split("<li><code>").skip(1).filter_map(|r| r.split('<').next()).map(String::from).collect();
    assert_eq!(codes.len(), 10, "{}", done.body);
    assert!(b.get("/settings/2fa").await.body.contains("Recovery codes left: <strong>10</strong>"));

    // A new login needs the second step; the page behind it is not reachable yet.
    let mut other = Browser::new(&d.base);
    let r = password_step(&mut other, "ada@example.test").await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location.as_deref(), Some("/login/2fa?next=%2Ftickets"));
    assert_eq!(other.get("/tickets").await.status, 303, "no session before the second step");
    let step = other.get("/login/2fa?next=%2Ftickets").await;
    assert!(step.body.contains("Code from your authenticator app"));
    assert!(!step.body.contains("Email me a code"), "codes by mail are off by default");
    // The code used to confirm is spent: the same step is refused.
    let reused = other.post_raw("/login/2fa", &form(&other, &[("code", &code_at(&secret, now)), ("next", "/tickets")])).await;
    assert_eq!(reused.status, 401);
    assert!(reused.body.contains("was used already"));
    d.clock.advance_ms(30_000);
    let ok = other
        .post_raw("/login/2fa", &form(&other, &[("code", &code_at(&secret, d.clock.now().0)), ("next", "/tickets"), ("remember", "1")]))
        .await;
    assert_eq!((ok.status, ok.location.as_deref()), (303, Some("/tickets")), "{}", ok.body);
    assert!(other.cookies.iter().any(|(k, _)| k == "fd_trust"), "remembered: {:?}", other.cookies);
    assert_eq!(other.get("/tickets").await.status, 200);

    // The remembered browser skips the second step, for 7 days.
    other.post("/logout", &[]).await;
    let r = password_step(&mut other, "ada@example.test").await;
    assert_eq!(r.location.as_deref(), Some("/tickets"));
    other.post("/logout", &[]).await;
    d.clock.advance_ms(8 * DAY_MS);
    let r = password_step(&mut other, "ada@example.test").await;
    assert_eq!(r.location.as_deref(), Some("/login/2fa?next=%2Ftickets"), "trust ends after remember_browser_days");

    // A recovery code works once.
    let mut third = Browser::new(&d.base);
    password_step(&mut third, "ada@example.test").await;
    let r = third.post_raw("/login/2fa", &form(&third, &[("code", &codes[3].to_uppercase()), ("next", "/tickets")])).await;
    assert_eq!(r.status, 303);
    let mut fourth = Browser::new(&d.base);
    password_step(&mut fourth, "ada@example.test").await;
    let r = fourth.post_raw("/login/2fa", &form(&fourth, &[("code", &codes[3]), ("next", "/tickets")])).await;
    assert_eq!(r.status, 401, "a recovery code is spent once used");
    // Wrong codes are throttled like passwords (5 per account in the window).
    let mut last = 0;
    for _ in 0..6 {
        last = fourth.post_raw("/login/2fa", &form(&fourth, &[("code", "123456"), ("next", "/tickets")])).await.status;
    }
    assert_eq!(last, 429);

    // (Ada's first session ended with the idle days; the log is read directly.)
    let audit: Vec<String> =
        d.running.desk.audit_log(&d.admin, &Default::default(), None, 1000).unwrap().iter().map(|(_, e)| e.event.describe()).collect();
    let audit = audit.join("\n");
    for says in [
        "turned on two-factor login",
        "logged in with a recovery code (9 left)",
        "failed second factor for ada@example.test: wrong or reused code",
    ] {
        assert!(audit.contains(says), "audit lacks {says:?}");
    }
    d.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desk_that_requires_2fa_sends_agents_to_enrol_and_admins_reset_it() {
    let d = InProcess::start_with("[security]\nrequire_2fa = \"all\"\n").await;
    let bob = d.add("bob@example.test", "Bob", Role::Agent);
    let mut b = Browser::new(&d.base);
    assert_eq!(password_step(&mut b, "bob@example.test").await.status, 303);
    let r = b.get("/tickets").await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some("/settings/2fa")), "no work before enrolment");
    let page = b.get("/settings/2fa").await;
    assert!(page.body.contains("requires a second factor"));
    let secret = secret_on(&page.body);
    assert_eq!(b.post("/settings/2fa/confirm", &[("password", PASSWORD), ("code", &code_at(&secret, d.clock.now().0))]).await.status, 200);
    assert_eq!(b.get("/tickets").await.status, 200);
    // Required: Bob cannot turn it off himself.
    let off = b.post("/settings/2fa/remove", &[("password", PASSWORD)]).await;
    assert_eq!(off.status, 403);
    // The admin (who must enrol too) resets Bob's after a lost phone.
    let mut ada = Browser::new(&d.base);
    password_step(&mut ada, "ada@example.test").await;
    let secret_a = secret_on(&ada.get("/settings/2fa").await.body);
    assert_eq!(
        ada.post("/settings/2fa/confirm", &[("password", PASSWORD), ("code", &code_at(&secret_a, d.clock.now().0))]).await.status,
        200
    );
    assert_eq!(ada.post(&format!("/admin/agents/{}/2fa-reset", bob.id), &[]).await.status, 303);
    assert!(ada.get("/admin/audit").await.body.contains("removed the second factor of bob@example.test"));
    // Bob logs in with his password only, and is sent to enrol anew.
    let mut b2 = Browser::new(&d.base);
    assert_eq!(password_step(&mut b2, "bob@example.test").await.location.as_deref(), Some("/tickets"));
    assert_eq!(b2.get("/tickets").await.location.as_deref(), Some("/settings/2fa"));
    d.running.stop().await;
}

#[tokio::test]
async fn a_code_by_mail_is_the_fallback_where_the_admin_allows_it() {
    let (cap, _h) = Capture::start_on("127.0.0.1:0").await;
    let text = format!("{MAIL_CONFIG}\n[outgoing]\nsmarthost = \"{}\"\nretry_secs = [1]\n[security]\nemail_codes = true\n", cap.addr);
    let d = MailDesk::start_with_config(&text);
    let mut b = Browser::logged_in(&d.server.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let secret = secret_on(&b.get("/settings/2fa").await.body);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    assert_eq!(b.post("/settings/2fa/confirm", &[("password", ADMIN_PASSWORD), ("code", &code_at(&secret, now))]).await.status, 200);
    let mut other = Browser::new(&d.server.base);
    other.get("/login").await;
    other.post("/login", &[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD), ("next", "/tickets")]).await;
    let step = other.get("/login/2fa?next=%2Ftickets").await;
    assert!(step.body.contains("Email me a code"));
    let n = cap.all().len();
    let sent = other.post_raw("/login/2fa/mail", &form(&other, &[("next", "/tickets")])).await;
    assert!(sent.body.contains("A code is on its way"), "{}", sent.body);
    let mails = cap.wait(n + 1).await;
    let mail = mails.iter().find(|m| m.rcpt_to == [ADMIN_EMAIL]).expect("the code went to the agent");
    let code: String = mail.header("Subject").unwrap().rsplit(' ').next().unwrap().to_string();
    assert_eq!(code.len(), 6);
    assert!(mail.data.contains(&code));
    let ok = other.post_raw("/login/2fa", &form(&other, &[("code", &code), ("next", "/tickets")])).await;
    assert_eq!((ok.status, ok.location.as_deref()), (303, Some("/tickets")));
    assert!(b.get("/admin/audit").await.body.contains("was mailed a one-time login code"));
}

/// Regressions from the outside read: a stranger who knows the password and
/// guesses codes from one address does not lock the agent out at another; a
/// password change forgets the browsers the agent trusted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_guessing_from_elsewhere_does_not_lock_out_and_a_new_password_forgets_trusted_browsers() {
    let d = InProcess::start().await;
    let mut b = Browser::logged_in(&d.base, "ada@example.test", PASSWORD).await;
    let secret = secret_on(&b.get("/settings/2fa").await.body);
    assert_eq!(b.post("/settings/2fa/confirm", &[("password", PASSWORD), ("code", &code_at(&secret, d.clock.now().0))]).await.status, 200);
    let mut stranger = Browser::from_ip(&d.base, "127.0.0.2");
    password_step(&mut stranger, "ada@example.test").await;
    let mut last = 0;
    for _ in 0..6 {
        last = stranger.post_raw("/login/2fa", &form(&stranger, &[("code", "123456"), ("next", "/tickets")])).await.status;
    }
    assert_eq!(last, 429);
    d.clock.advance_ms(30_000);
    let mut me = Browser::new(&d.base);
    password_step(&mut me, "ada@example.test").await;
    let r = me
        .post_raw("/login/2fa", &form(&me, &[("code", &code_at(&secret, d.clock.now().0)), ("next", "/tickets"), ("remember", "1")]))
        .await;
    assert_eq!(r.status, 303, "the agent still gets in from their own address: {}", r.body);
    // Trusted, until the password changes.
    me.get("/settings/profile").await;
    let r = me.post("/settings/password", &[("current", PASSWORD), ("password", "violet stapler runs east")]).await;
    assert_eq!(r.status, 303);
    me.post("/logout", &[]).await;
    me.get("/login").await;
    let r = me.post("/login", &[("email", "ada@example.test"), ("password", "violet stapler runs east"), ("next", "/tickets")]).await;
    assert_eq!(r.location.as_deref(), Some("/login/2fa?next=%2Ftickets"), "the browser is no longer trusted");
    d.running.stop().await;
}
