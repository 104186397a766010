//! Agents on their own, through the real server: invitations and reset
//! links that work once and expire (on the injected clock), "forgot your
//! password" by mail through a capture smarthost (the same answer for any
//! address), the profile's signature under public replies and its time zone
//! on every date, changing one's password, and admins editing an agent.

use frontdesk::desk::NewTicket;
use frontdesk::domain::Role;

use crate::common::capture::Capture;
use crate::common::*;
use crate::inprocess::{InProcess, PASSWORD};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invitations_and_reset_links_work_once_and_expire() {
    let d = InProcess::start().await;
    let mut ada = Browser::logged_in(&d.base, "ada@example.test", PASSWORD).await;
    let page = ada.get("/admin/agents").await;
    assert!(!page.body.contains("type=\"password\""), "admins never type an agent's password");
    let r = ada.post("/admin/agents", &[("name", "Bob"), ("email", "bob@example.test"), ("role", "agent")]).await;
    assert!(r.body.contains("cannot send mail: give bob@example.test this one-time link"), "{}", r.body);
    let invite = password_link_in(&r.body).unwrap();
    assert_eq!(Browser::new(&d.base).login("bob@example.test", "").await.status, 401, "no password before the link is used");
    let choose = Browser::new(&d.base).get(&invite).await;
    assert!(choose.body.contains("Welcome: choose your password") && choose.body.contains("bob@example.test"));
    let mut b = Browser::new(&d.base);
    b.get(&invite).await;
    let differ = b.post(&invite, &[("password", "violet stapler runs east"), ("again", "violet stapler runs west")]).await;
    assert_eq!(differ.status, 400);
    assert!(differ.body.contains("The two passwords differ"));
    assert_eq!(set_password_via(&d.base, &invite, "violet stapler runs east").await.location.as_deref(), Some("/login?done=password"));
    let mut bob = Browser::logged_in(&d.base, "bob@example.test", "violet stapler runs east").await;
    // Used once: the link is gone.
    let again = Browser::new(&d.base).get(&invite).await;
    assert_eq!(again.status, 410);
    assert!(again.body.contains("expired or was used already"));

    // A reset link from the admin ends Bob's sessions when used; it lasts an hour.
    let bob_id = staff_id(&mut ada, "bob@example.test").await;
    let r = ada.post(&format!("/admin/agents/{bob_id}/password"), &[]).await;
    let reset = password_link_in(&r.body).unwrap();
    d.clock.advance_ms(61 * 60_000);
    assert_eq!(set_password_via(&d.base, &reset, "a brand new passphrase").await.status, 410, "past its hour");
    let mut ada = Browser::logged_in(&d.base, "ada@example.test", PASSWORD).await;
    ada.get("/admin/agents").await;
    let r = ada.post(&format!("/admin/agents/{bob_id}/password"), &[]).await;
    let fresh = password_link_in(&r.body).unwrap();
    assert_eq!(set_password_via(&d.base, &fresh, "a brand new passphrase").await.status, 303);
    assert_eq!(bob.get("/tickets").await.status, 303, "Bob's old session ended");
    Browser::logged_in(&d.base, "bob@example.test", "a brand new passphrase").await;
    // Without mail, "forgot your password" says to ask an admin.
    let mut anon = Browser::new(&d.base);
    assert!(anon.get("/login").await.body.contains("Forgot your password?"));
    anon.get("/password/forgot").await;
    let r = anon.post("/password/forgot", &[("email", "bob@example.test")]).await;
    assert_eq!(r.status, 409);
    assert!(r.body.contains("ask an admin"));
    d.running.stop().await;
}

/// The id in the Agents page's forms for `email`.
async fn staff_id(admin: &mut Browser, email: &str) -> String {
    let page = admin.get("/admin/agents").await.body;
    let after = page.split(email).nth(1).unwrap();
    after.split("/admin/agents/").nth(1).and_then(|s| s.split('/').next()).unwrap().to_string()
}

#[tokio::test]
async fn forgot_password_mails_a_link_and_says_the_same_for_strangers() {
    let (cap, _h) = Capture::start_on("127.0.0.1:0").await;
    let d = MailDesk::start_with_config(&format!("{MAIL_CONFIG}\n[outgoing]\nsmarthost = \"{}\"\nretry_secs = [1]\n", cap.addr));
    let mut anon = Browser::new(&d.server.base);
    anon.get("/password/forgot").await;
    let stranger = anon.post("/password/forgot", &[("email", "nobody@example.test")]).await;
    let agent = anon.post("/password/forgot", &[("email", "agent@example.test")]).await;
    // A second click within the minute sends nothing and voids nothing.
    let again = anon.post("/password/forgot", &[("email", "agent@example.test")]).await;
    assert_eq!(again.status, 200);
    assert_eq!(stranger.status, 200);
    let said = |b: &str| b.contains("If that address belongs to an agent of this desk, a link is on its way");
    assert!(said(&stranger.body) && said(&agent.body), "no difference between an agent and a stranger");
    let mails = cap.wait(1).await;
    let mail = mails.iter().find(|m| m.rcpt_to == ["agent@example.test"]).expect("the link went to the agent");
    assert!(cap.all().iter().all(|m| m.rcpt_to != ["nobody@example.test"]));
    assert_eq!(mail.header("Auto-Submitted").as_deref(), Some("auto-generated"));
    let link = password_link_in(&mail.data.replace("=\r\n", "")).expect("the link in the mail");
    assert_eq!(cap.all().iter().filter(|m| m.rcpt_to == ["agent@example.test"]).count(), 1, "one mail for two clicks");
    assert_eq!(set_password_via(&d.server.base, &link, "a fresh long passphrase").await.status, 303);
    Browser::logged_in(&d.server.base, "agent@example.test", "a fresh long passphrase").await;
    let mut admin = Browser::logged_in(&d.server.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let audit = admin.get("/admin/audit").await.body;
    assert!(audit.contains("sent a password reset link to agent@example.test") && audit.contains("changed their password"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_profile_signs_replies_shows_dates_in_my_zone_and_changes_my_password() {
    let d = InProcess::start().await;
    let desk = d.running.desk.clone();
    d.add("bob@example.test", "Bob", Role::Agent);
    let mut bob = Browser::logged_in(&d.base, "bob@example.test", PASSWORD).await;
    let mut bob_phone = Browser::logged_in(&d.base, "bob@example.test", PASSWORD).await;
    let page = bob.get("/settings/profile").await;
    assert!(page.body.contains("America/New_York"), "time zones to choose from");
    let bad = bob.post("/settings/profile", &[("name", "Bob B."), ("signature", ""), ("time_zone", "Mars/Olympus")]).await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("is not a time zone"));
    let r = bob
        .post(
            "/settings/profile",
            &[("name", "Bob Builder"), ("signature", "Bob Builder\nIT support, ext. 2211"), ("time_zone", "America/New_York")],
        )
        .await;
    assert_eq!(r.status, 303);

    // A public reply carries the signature; a note does not.
    let ticket = desk
        .create_ticket(
            &d.admin,
            NewTicket {
                subject: "VPN".into(),
                body: "Cannot connect".into(),
                requester_email: "carol@customer.test".into(),
                ..Default::default()
            },
        )
        .unwrap();
    let t = format!("/tickets/{}", desk.reference(ticket.id));
    bob.get(&t).await;
    assert_eq!(bob.post(&format!("{t}/reply"), &[("body", "Try the new profile.")]).await.status, 303);
    assert_eq!(bob.post(&format!("{t}/reply"), &[("body", "Checked the logs."), ("internal", "1")]).await.status, 303);
    let view = desk.ticket_view(&d.admin, ticket.id).unwrap();
    let texts: Vec<String> = view.entries.iter().map(|e| e.text()).collect();
    assert!(texts.iter().any(|x| x == "Try the new profile.\n\nBob Builder\nIT support, ext. 2211"), "{texts:#?}");
    assert!(texts.iter().any(|x| x == "Checked the logs."), "{texts:#?}");

    // Dates in Bob's zone (the injected clock is 2027-01-15 08:00 UTC: 03:00 EST),
    // named on hover; his profile's zone wins over his browser's.
    bob.cookies.push(("fd_tz".into(), "Asia%2FTokyo".into()));
    let page = bob.get(&t).await.body;
    assert!(page.contains("EST"), "dates in America/New_York");
    assert!(page.contains("title=\"America/New_York (UTC-05:00)\""), "the zone on hover");
    // Pages built on the blocking pool (the directory, a requester's page)
    // draw dates in his zone too.
    for path in ["/people".to_string(), format!("/requesters/{}", ticket.requester)] {
        let other = bob.get(&path).await;
        assert_eq!(other.status, 200, "{path}");
        assert!(other.body.contains("title=\"America/New_York (UTC-05:00)\""), "{path}: {}", other.body);
    }
    // Without a profile zone, the browser's is used; a name that is no zone is not.
    let mut ada = Browser::logged_in(&d.base, "ada@example.test", PASSWORD).await;
    ada.cookies.push(("fd_tz".into(), "Asia%2FTokyo".into()));
    let page = ada.get(&t).await.body;
    assert!(page.contains("2027-01-15 17:00 JST") && page.contains("title=\"Asia/Tokyo (UTC+09:00)\""), "the browser's zone");
    ada.cookies.retain(|(k, _)| k != "fd_tz");
    ada.cookies.push(("fd_tz".into(), "..%2F..%2Fetc%2Fpasswd".into()));
    let page = ada.get(&t).await.body;
    assert!(page.contains("title=\"UTC (UTC+00:00)\""), "an unknown zone is UTC");

    // Changing the password needs the current one and ends the other sessions.
    let wrong = bob.post("/settings/password", &[("current", "not it at all"), ("password", "violet stapler runs east")]).await;
    assert_eq!(wrong.status, 400);
    let ok = bob.post("/settings/password", &[("current", PASSWORD), ("password", "violet stapler runs east")]).await;
    assert_eq!(ok.location.as_deref(), Some("/settings/profile?done=password"));
    assert_eq!(bob.get("/tickets").await.status, 200, "this session stays");
    assert_eq!(bob_phone.get("/tickets").await.status, 303, "the other one ended");
    Browser::logged_in(&d.base, "bob@example.test", "violet stapler runs east").await;

    // The admin renames Bob and changes his address.
    let mut admin = Browser::logged_in(&d.base, "ada@example.test", PASSWORD).await;
    let id = staff_id(&mut admin, "bob@example.test").await;
    let r = admin
        .post(&format!("/admin/agents/{id}/edit"), &[("name", "Robert Builder"), ("email", "robert@example.test"), ("role", "agent")])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    Browser::logged_in(&d.base, "robert@example.test", "violet stapler runs east").await;
    assert!(
        admin
            .get("/admin/audit")
            .await
            .body
            .contains("changed robert@example.test: Bob Builder &lt;bob@example.test&gt; → Robert Builder &lt;robert@example.test&gt;")
    );
    d.running.stop().await;
}

/// Regressions from the outside read: guessing the current password from a
/// stolen session is throttled; a password link opened in a browser where an
/// agent is logged in still works (its form carries that session's token).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn current_password_guesses_are_throttled_and_links_work_while_logged_in() {
    let d = InProcess::start().await;
    let mut ada = Browser::logged_in(&d.base, "ada@example.test", PASSWORD).await;
    ada.get("/settings/profile").await;
    let mut last = 0;
    for _ in 0..6 {
        last = ada.post("/settings/password", &[("current", "a wrong guess here"), ("password", "violet stapler runs east")]).await.status;
    }
    assert_eq!(last, 429, "the sixth guess within the window is refused");
    // Ada invites Bob and opens his link in her own (logged-in) browser.
    ada.get("/admin/agents").await;
    let r = ada.post("/admin/agents", &[("name", "Bob"), ("email", "bob@example.test"), ("role", "agent")]).await;
    let link = password_link_in(&r.body).unwrap();
    ada.get(&link).await;
    let r = ada.post(&link, &[("password", "violet stapler runs east"), ("again", "violet stapler runs east")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    Browser::logged_in(&d.base, "bob@example.test", "violet stapler runs east").await;
    d.running.stop().await;
}
