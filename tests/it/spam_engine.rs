//! rspamd end to end, with a real rspamd the test starts (`common::rspamd`):
//! a GTUBE mail refused at the end of DATA with 550 5.7.1; a mail its rule
//! scores 8 held in Junk with its score and symbols; "Not junk" makes the ticket and
//! teaches rspamd ham; the bulk "Junk" teaches it spam; an allow-listed
//! sender passes; "Delete" and "Empty junk"; an rspamd that is down leaves
//! intake untouched.

use crate::common::dns::TestDns;
use crate::common::rspamd::{GTUBE, TestRspamd};
use crate::common::smtp::Smtp;
use crate::common::*;

fn crlf(s: &str) -> Vec<u8> {
    s.replace("\r\n", "\n").replace('\n', "\r\n").into_bytes()
}

fn gtube(from: &str, subject: &str) -> Vec<u8> {
    crlf(&format!("From: {from}\nTo: support@example.test\nSubject: {subject}\n\nHello.\n{GTUBE}\n"))
}

async fn admin(d: &MailDesk) -> Browser {
    Browser::logged_in(&d.server.base, ADMIN_EMAIL, ADMIN_PASSWORD).await
}

/// The first junk item's id on the Junk page.
fn first_junk_id(body: &str) -> String {
    junk_ids(body).first().cloned().unwrap_or_else(|| panic!("a junk item in {body}"))
}

#[tokio::test]
async fn rspamd_refuses_gtube_and_an_allow_listed_sender_passes() {
    let Some(r) = TestRspamd::start() else { return };
    // Sender authentication on: the allow-list counts only for mail that
    // proves its From.
    let dns = TestDns::start();
    dns.txt("partner.test", "v=spf1 ip4:127.0.0.1 -all").txt("spammer.test", "v=spf1 ip4:127.0.0.1 -all");
    let d = MailDesk::start_with_config(&format!(
        "{MAIL_CONFIG}\n[dns]\nresolver = \"{}\"\n[mail_auth]\ntime_budget_secs = 20\n{}",
        dns.addr,
        r.config("")
    ));
    let (code, text) = Smtp::send_mail(&d.smtp, "spam@spammer.test", &["support@example.test"], &gtube("spam@spammer.test", "Pills"));
    assert_eq!(code, 550, "{text}");
    assert!(text.contains("5.7.1") && text.contains("rspamd score 15.0"), "{text}");
    let ham = crlf("From: Carol <carol@customer.test>\nTo: support@example.test\nSubject: Printer\n\nThe printer on floor two jams.\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "carol@customer.test", &["support@example.test"], &ham).0, 250);
    d.wait_tickets(1).await;
    let src = d.api.call("GET", "/tickets/TKT-000001", None).await.1;
    assert_eq!(src["subject"], "Printer");
    // A partner whose newsletters look like spam: on the allow-list by domain.
    let mut b = admin(&d).await;
    let r1 = b.post("/junk/allowed", &[("entry", "Partner.Test")]).await;
    assert!(r1.location.as_deref().is_some_and(|l| l.starts_with("/junk")), "{:?}", r1.location);
    assert!(b.get("/junk").await.body.contains("@partner.test"));
    let bad = b.post("/junk/allowed", &[("entry", "not a domain")]).await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains("give an address like"), "{}", bad.body);
    // The desk's own domain and its agents are never on the list.
    for own in ["example.test", "agent@example.test"] {
        let r = b.post("/junk/allowed", &[("entry", own)]).await;
        assert_eq!(r.status, 422, "{own}: {}", r.body);
        assert!(r.body.contains("this desk&#39;s own") || r.body.contains("this desk's own"), "{}", r.body);
    }
    // A spammer's own server (its SPF passes) claiming the partner's From:
    // not proven, so refused as before.
    let forged = gtube("news@partner.test", "Forged partner news");
    let (code, text) = Smtp::send_mail(&d.smtp, "bulk@spammer.test", &["support@example.test"], &forged);
    assert_eq!(code, 550, "a forged From gains nothing from the list: {text}");
    let (code, text) =
        Smtp::send_mail(&d.smtp, "news@partner.test", &["support@example.test"], &gtube("news@partner.test", "Partner news"));
    assert_eq!(code, 250, "allow-listed: {text}");
    d.wait_tickets(2).await;
    // Taken off the list, the same mail is refused again.
    b.post("/junk/allowed/remove", &[("entry", "@partner.test")]).await;
    assert!(!b.get("/junk").await.body.contains("@partner.test"));
    assert_eq!(Smtp::send_mail(&d.smtp, "news@partner.test", &["support@example.test"], &gtube("news@partner.test", "Again")).0, 550);
}

#[tokio::test]
async fn rspamd_junk_and_the_agents_decisions_teach_it() {
    let Some(r) = TestRspamd::start() else { return };
    let d = MailDesk::start_with_config(&format!("{MAIL_CONFIG}\n{}", r.config("")));
    let pills =
        crlf("From: Sam <spam@spammer.test>\nTo: support@example.test\nSubject: Pills\n\nCheap pills for everyone, buy now today.\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "spam@spammer.test", &["support@example.test"], &pills).0, 250);
    let mut b = admin(&d).await;
    let junk = b.get_until("/junk", |body| body.contains("rspamd score")).await.body;
    assert!(junk.contains("rspamd score 8.0 (Junk from 6.0): FD_TEST_PILLS (8.0)"), "{junk}");
    assert!(d.all_tickets().await.is_empty());
    // The top of the kept source says what rspamd said.
    let id = first_junk_id(&junk);
    let src = b.get(&format!("/junk/{id}/source")).await.body;
    assert!(src.contains("X-Frontdesk-Spam: junk; rspamd score 8.0"), "{src}");
    // "Not junk": the ticket, and rspamd learns ham.
    let before = r.learned("BAYES_HAM").await;
    let made = b.post(&format!("/junk/{id}/ticket"), &[]).await;
    assert!(made.location.as_deref().is_some_and(|l| l.starts_with("/tickets/TKT-000001")), "{:?}", made.location);
    assert!(r.wait_learned("BAYES_HAM", before + 1).await > before, "rspamd learned the ham");
    // The bulk "Junk" on a real ticket teaches spam.
    let m = crlf(
        "From: Mallory <m@scam.test>\nTo: support@example.test\nSubject: Invoice overdue\n\nPay the attached invoice today or else.\n",
    );
    assert_eq!(Smtp::send_mail(&d.smtp, "m@scam.test", &["support@example.test"], &m).0, 250);
    d.wait_tickets(2).await;
    let spam_before = r.learned("BAYES_SPAM").await;
    let form = vec![("_csrf".to_string(), b.csrf.clone()), ("action".into(), "junk".into()), ("id".into(), "2".to_string())];
    let job = b.post_raw("/tickets/bulk", &form).await;
    assert!(job.location.is_some(), "{}", job.body);
    assert!(r.wait_learned("BAYES_SPAM", spam_before + 1).await > spam_before, "rspamd learned the spam");
    // The ticket page's "Junk and ban sender" does the same for one ticket.
    let m = crlf(
        "From: Eve <eve@scam.test>\nTo: support@example.test\nSubject: Your parcel\n\nYour parcel is waiting, confirm your card number here.\n",
    );
    assert_eq!(Smtp::send_mail(&d.smtp, "eve@scam.test", &["support@example.test"], &m).0, 250);
    let page = b.get_until("/tickets/TKT-000003", |body| body.contains("Your parcel")).await.body;
    let spam_before = r.learned("BAYES_SPAM").await;
    assert!(page.contains("Junk and ban sender"), "{page}");
    let junked = b.post("/tickets/TKT-000003/junk", &[]).await;
    assert_eq!(junked.location.as_deref(), Some("/tickets/TKT-000003?done=junked"));
    assert!(r.wait_learned("BAYES_SPAM", spam_before + 1).await > spam_before, "rspamd learned the spam");
    let again = crlf("From: Eve <eve@scam.test>\nTo: support@example.test\nSubject: Parcel again\n\nStill waiting.\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "eve@scam.test", &["support@example.test"], &again).0, 250);
    let junk = b.get_until("/junk", |body| body.contains("Parcel again")).await.body;
    assert!(junk.contains("the sender is banned"), "{junk}");
    // An agent (not an admin) gets no such button.
    let mut bob = Browser::logged_in(&d.server.base, "agent@example.test", "bob's long password").await;
    let page = bob.get("/tickets/TKT-000001").await;
    assert!(
        page.status == 200 && page.body.contains("Pills") && !page.body.contains("Junk and ban sender"),
        "{} {}",
        page.status,
        page.body
    );
    let refused = bob.post("/tickets/TKT-000001/junk", &[]).await;
    assert_eq!(refused.status, 403, "an agent junked a ticket: {:?} {}; cookies {:?}", refused.location, refused.body, bob.cookie_header());
}

#[tokio::test]
async fn delete_and_empty_junk() {
    let d = MailDesk::start();
    for i in 0..3 {
        let bounce = crlf(&format!(
            "From: MAILER-DAEMON@remote.test\nTo: support@example.test\nSubject: Undelivered {i}\nAuto-Submitted: auto-replied\n\nno\n"
        ));
        assert_eq!(Smtp::send_mail(&d.smtp, "", &["support@example.test"], &bounce).0, 250);
    }
    let mut b = admin(&d).await;
    let page = b.get_until("/junk", |body| body.matches(">Delete</button>").count() == 3).await.body;
    let id = first_junk_id(&page);
    let r1 = b.post(&format!("/junk/{id}/delete"), &[]).await;
    assert_eq!(r1.location.as_deref(), Some("/junk?done=deleted"));
    let page = b.get("/junk").await.body;
    assert_eq!(page.matches(">Delete</button>").count(), 2, "{page}");
    let confirm = b.get("/junk/empty").await.body;
    assert!(confirm.contains("Delete all <strong>2</strong> junk mails"), "{confirm}");
    let upto = confirm.split("name=\"upto\" value=\"").nth(1).and_then(|s| s.split('"').next()).unwrap().to_string();
    // What arrives after the confirmation is not deleted with the rest.
    let late =
        crlf("From: MAILER-DAEMON@remote.test\nTo: support@example.test\nSubject: Undelivered late\nAuto-Submitted: auto-replied\n\nno\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "", &["support@example.test"], &late).0, 250);
    b.get_until("/junk", |body| body.contains("Undelivered late")).await;
    let r2 = b.post("/junk/empty", &[("upto", upto.as_str())]).await;
    assert_eq!(r2.location.as_deref(), Some("/junk?done=emptied&n=2"));
    let page = b.get("/junk?done=emptied&n=2").await.body;
    assert!(page.contains("Junk emptied: 2 deleted.") && page.contains("Undelivered late"), "{page}");
    assert_eq!(junk_ids(&page).len(), 1, "{page}");
    // Without a session nothing is deleted.
    let anon = reqwest::Client::new().post(d.server.url("/junk/empty")).send().await.unwrap();
    assert!(anon.status().is_client_error() || anon.status().is_redirection(), "{}", anon.status());
}

#[tokio::test]
async fn an_rspamd_that_is_down_leaves_intake_alone() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let d = MailDesk::start_with_config(&format!("{MAIL_CONFIG}\n[rspamd]\nurl = \"http://127.0.0.1:{port}\"\ntimeout_secs = 1\n"));
    let m = crlf("From: Carol <carol@customer.test>\nTo: support@example.test\nSubject: Down\n\nhi\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "carol@customer.test", &["support@example.test"], &m).0, 250);
    d.wait_tickets(1).await;
}
