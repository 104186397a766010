//! Sender authentication end to end, against a DNS server the test runs on
//! 127.0.0.1 (`common::dns`): SPF, DKIM and DMARC results on the thread and
//! in the Authentication-Results header, the reject and Junk policies, a
//! forged results header, a DNS that never answers, an agent proven by an
//! aligned signature, DKIM signatures on the desk's own mail checked by an
//! independent verifier (mail-auth's, on the same test DNS), with
//! `frontdesk dns` before and after the records are published, DNSBL zones
//! and greylisting.

use std::time::Duration;

use mail_auth::common::crypto::Ed25519Key;
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::DkimSigner;

use crate::common::capture::Capture;
use crate::common::dns::{Rec, TestDns};
use crate::common::smtp::Smtp;
use crate::common::*;

fn crlf(s: &str) -> Vec<u8> {
    s.replace("\r\n", "\n").replace('\n', "\r\n").into_bytes()
}

/// A sender domain's DKIM key, published in the test DNS.
struct Domain {
    name: String,
    pkcs8: Vec<u8>,
}

impl Domain {
    fn new(dns: &TestDns, name: &str) -> Domain {
        let pkcs8 = Ed25519Key::generate_pkcs8().unwrap();
        let public = Ed25519Key::from_pkcs8_der(&pkcs8).unwrap().public_key();
        dns.txt(&format!("t1._domainkey.{name}"), &format!("v=DKIM1; k=ed25519; p={}", base64(&public)));
        Domain { name: name.to_string(), pkcs8 }
    }

    /// The message with this domain's signature on top.
    fn sign(&self, msg: &[u8]) -> Vec<u8> {
        let signer = DkimSigner::from_key(Ed25519Key::from_pkcs8_der(&self.pkcs8).unwrap())
            .domain(self.name.as_str())
            .selector("t1")
            .headers(["From", "To", "Subject", "Message-ID"]);
        let mut out = signer.sign(msg).unwrap().to_header().into_bytes();
        out.extend_from_slice(msg);
        out
    }
}

fn desk(dns: &TestDns, extra: &str) -> MailDesk {
    // A generous budget: the whole suite runs at once on two cores.
    let budget = if extra.contains("[mail_auth]") { "" } else { "[mail_auth]\ntime_budget_secs = 20\n" };
    MailDesk::start_with_config(&format!("{MAIL_CONFIG}\n[dns]\nresolver = \"{}\"\n{budget}{extra}", dns.addr))
}

/// The ticket page as the admin sees it.
async fn page(d: &MailDesk, reference: &str) -> String {
    let mut b = Browser::logged_in(&d.server.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    b.get(&format!("/tickets/{reference}")).await.body
}

/// The Junk list once it shows `want` (waited for up to a minute: the
/// whole suite runs at once on two cores).
async fn junk(d: &MailDesk, want: &str) -> String {
    let mut b = Browser::logged_in(&d.server.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let mut body = String::new();
    for _ in 0..6 {
        body = b.get_until("/junk", |body| body.contains(want)).await.body;
        if body.contains(want) {
            break;
        }
    }
    body
}

async fn original(d: &MailDesk, reference: &str) -> String {
    let mut b = Browser::logged_in(&d.server.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    b.get(&format!("/tickets/{reference}/entries/2/source")).await.body
}

#[tokio::test]
async fn an_aligned_mail_is_verified_on_the_thread_and_in_its_header() {
    let dns = TestDns::start();
    let customer = Domain::new(&dns, "customer.test");
    dns.txt("customer.test", "v=spf1 ip4:127.0.0.1 -all").txt("_dmarc.customer.test", "v=DMARC1; p=reject");
    let d = desk(&dns, "");
    let m = customer.sign(&crlf(
        "From: Carol <carol@customer.test>\nTo: support@example.test\nSubject: Printer\nMessage-ID: <p1@customer.test>\n\nTray 2 jams.\n",
    ));
    assert_eq!(Smtp::send_mail(&d.smtp, "carol@customer.test", &["support@example.test"], &m).0, 250);
    d.wait_tickets(1).await;
    let p = page(&d, "TKT-000001").await;
    assert!(p.contains("✓ verified customer.test"), "{p}");
    assert!(!p.contains("Not verified"), "{p}");
    let src = original(&d, "TKT-000001").await;
    assert!(src.starts_with("Authentication-Results: desk.example.test;"), "results on top: {src}");
    for want in ["spf=pass smtp.mailfrom=customer.test", "dkim=pass header.d=customer.test", "dmarc=pass policy.dmarc=reject"] {
        assert!(src.contains(want), "{want} in {src}");
    }
}

#[tokio::test]
async fn dmarc_reject_is_refused_and_quarantine_and_spf_fail_go_to_junk() {
    let dns = TestDns::start();
    dns.txt("bank.test", "v=spf1 ip4:192.0.2.1 -all").txt("_dmarc.bank.test", "v=DMARC1; p=reject");
    dns.txt("corp.test", "v=spf1 ip4:192.0.2.1 -all").txt("_dmarc.corp.test", "v=DMARC1; p=quarantine");
    dns.txt("spf.test", "v=spf1 ip4:192.0.2.1 -all");
    let d = desk(&dns, "");
    let spoof = crlf("From: Bank <alerts@bank.test>\nTo: support@example.test\nSubject: Verify your account\n\nClick here.\n");
    let (code, text) = Smtp::send_mail(&d.smtp, "alerts@bank.test", &["support@example.test"], &spoof);
    assert_eq!(code, 550, "{text}");
    assert!(text.contains("5.7.1") && text.contains("DMARC") && text.contains("bank.test"), "{text}");
    let q = crlf("From: Corp <news@corp.test>\nTo: support@example.test\nSubject: Quarantine me\n\nhi\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "news@corp.test", &["support@example.test"], &q).0, 250);
    let s = crlf("From: Spf <x@spf.test>\nTo: support@example.test\nSubject: SPF fail\n\nhi\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "x@spf.test", &["support@example.test"], &s).0, 250);
    let j = junk(&d, "SPF of spf.test fails").await;
    assert!(j.contains("fails the DMARC policy of corp.test (p=quarantine)"), "{j}");
    assert!(d.all_tickets().await.is_empty(), "none of them became a ticket");
}

#[tokio::test]
async fn a_broken_signature_lands_marked_and_auth_fail_finds_it() {
    let dns = TestDns::start();
    let customer = Domain::new(&dns, "customer.test");
    let d = desk(&dns, "");
    let signed = customer.sign(&crlf(
        "From: Carol <carol@customer.test>\nTo: support@example.test\nSubject: Invoice\nMessage-ID: <t1@customer.test>\n\nPay to account 1.\n",
    ));
    let tampered = String::from_utf8(signed).unwrap().replace("account 1", "account 666").into_bytes();
    assert_eq!(Smtp::send_mail(&d.smtp, "carol@customer.test", &["support@example.test"], &tampered).0, 250);
    let honest = crlf("From: Dan <dan@other.test>\nTo: support@example.test\nSubject: Hello\n\nhi\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "dan@other.test", &["support@example.test"], &honest).0, 250);
    d.wait_tickets(2).await;
    let p = page(&d, "TKT-000001").await;
    assert!(p.contains("Not verified: claims to be from customer.test but its DKIM signature does not verify"), "{p}");
    assert!(!page(&d, "TKT-000002").await.contains("Not verified"));
    let mut b = Browser::logged_in(&d.server.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let r = b.get_until("/search?q=auth%3Afail", |body| body.contains("/tickets/TKT-000001\"")).await;
    assert!(!r.body.contains("/tickets/TKT-000002\""), "only the failed one: {}", r.body);
}

#[tokio::test]
async fn a_forged_results_header_is_never_read() {
    let dns = TestDns::start();
    dns.txt("bank.test", "v=spf1 ip4:192.0.2.1 ~all");
    let d = desk(&dns, "");
    let forged = crlf(
        "Authentication-Results: desk.example.test; spf=pass smtp.mailfrom=bank.test; dkim=pass header.d=bank.test; dmarc=pass policy.dmarc=none header.from=bank.test\nFrom: Bank <x@bank.test>\nTo: support@example.test\nSubject: Trust me\n\nhi\n",
    );
    assert_eq!(Smtp::send_mail(&d.smtp, "x@bank.test", &["support@example.test"], &forged).0, 250);
    d.wait_tickets(1).await;
    let p = page(&d, "TKT-000001").await;
    assert!(!p.contains("verified bank.test"), "the sender's own header proves nothing: {p}");
    let src = original(&d, "TKT-000001").await;
    assert!(src.starts_with("Authentication-Results: desk.example.test;\r\n\tspf=softfail"), "{src}");
}

#[tokio::test]
async fn a_dns_that_never_answers_does_not_block_intake() {
    let dns = TestDns::start();
    dns.silent("slow.test");
    let d = desk(&dns, "[mail_auth]\ntime_budget_secs = 1\n");
    let m = crlf("From: Sam <sam@slow.test>\nTo: support@example.test\nSubject: Slow DNS\n\nhi\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "sam@slow.test", &["support@example.test"], &m).0, 250);
    d.wait_tickets(1).await;
    let p = page(&d, "TKT-000001").await;
    assert!(p.contains("could not verify slow.test: DNS did not answer within 1 s"), "{p}");
}

#[tokio::test]
async fn an_agent_proven_by_an_aligned_signature_acts_as_the_agent() {
    let dns = TestDns::start();
    let desk_domain = Domain::new(&dns, "example.test");
    dns.txt("_dmarc.example.test", "v=DMARC1; p=reject");
    let d = desk(&dns, "");
    let first = crlf("From: Carol <carol@customer.test>\nTo: support@example.test\nSubject: VPN\n\nVPN down.\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "carol@customer.test", &["support@example.test"], &first).0, 250);
    d.wait_tickets(1).await;
    let reply = desk_domain.sign(&crlf(
        "From: Bob Agent <agent@example.test>\nTo: support@example.test\nSubject: Re: [TKT-000001] VPN\nMessage-ID: <a1@example.test>\n\nRestart the client.\n",
    ));
    assert_eq!(Smtp::send_mail(&d.smtp, "agent@example.test", &["support@example.test"], &reply).0, 250);
    let mut body = serde_json::Value::Null;
    for _ in 0..600 {
        body = d.api.call("GET", "/tickets/TKT-000001", None).await.1;
        if body["entries"].as_array().is_some_and(|e| e.iter().any(|e| e["body"].as_str().is_some_and(|b| b.contains("Restart")))) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let entry = body["entries"].as_array().unwrap().iter().find(|e| e["body"].as_str().is_some_and(|b| b.contains("Restart"))).cloned();
    let entry = entry.unwrap_or_else(|| panic!("the agent's mail landed: {body}"));
    assert_eq!(entry["kind"], "reply", "a public reply as the agent, not an unverified note: {entry}");
    assert!(!entry["body"].as_str().unwrap().contains("unverified"), "{entry}");
}

/// `frontdesk dns` for this desk's data dir and config.
fn dns_command(d: &MailDesk) -> (i32, String) {
    let out =
        std::process::Command::new(BIN).arg("--data-dir").arg(d.dir.path()).arg("--config").arg(&d.config).arg("dns").output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
}

#[tokio::test]
async fn outgoing_mail_carries_two_dkim_signatures_that_verify() {
    let dns = TestDns::start();
    let (cap, _h) = Capture::start_on("127.0.0.1:0").await;
    let d = desk(&dns, &format!("[outgoing]\nsmarthost = \"{}\"\nnotify_new_ticket = false\n", cap.addr));
    // Nothing is published yet: every record is missing, with what to publish.
    let (code, before) = dns_command(&d);
    assert_eq!(code, 1, "{before}");
    assert!(before.contains("example.test") && before.contains("✗ MX") && !before.contains('✓'), "{before}");
    // Publish what it printed for example.test.
    let mut published = 0;
    let mut lines = before.lines().skip_while(|l| !l.starts_with("example.test "));
    while let Some(l) = lines.next() {
        if l.trim_start().starts_with("✗ TXT") && l.contains("._domainkey.example.test") {
            let name = l.split_whitespace().nth(2).unwrap().trim_end_matches('.').to_string();
            let value = lines.next().unwrap().trim().to_string();
            dns.txt(&name, &value);
            published += 1;
        }
    }
    assert_eq!(published, 2, "{before}");
    dns.add("example.test", Rec::Mx(10, "desk.example.test".into()));
    dns.txt("example.test", "v=spf1 a:desk.example.test mx ~all").txt("_dmarc.example.test", "v=DMARC1; p=quarantine");
    let (code, after) = dns_command(&d);
    assert_eq!(code, 0, "{after}");
    assert_eq!(after.matches("✓").count(), 5, "MX, SPF, two DKIM keys, DMARC: {after}");

    let m = crlf("From: Carol <carol@customer.test>\nTo: support@example.test\nSubject: Signed?\n\nhi\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "carol@customer.test", &["support@example.test"], &m).0, 250);
    let ack = cap.wait(1).await.into_iter().next().unwrap();
    let raw = ack.data.replace("\r\n", "\n").replace('\n', "\r\n");
    let verifier = frontdesk::mail::dns::Dns::new(Some(dns.addr.parse().unwrap()), Duration::from_secs(2)).unwrap();
    let msg = mail_auth::AuthenticatedMessage::parse(raw.as_bytes()).unwrap();
    let results = verifier.authenticator().verify_dkim(&msg).await;
    assert_eq!(results.len(), 2, "an Ed25519 and an RSA signature: {raw}");
    assert!(results.iter().all(|r| *r.result() == mail_auth::DkimResult::Pass), "{results:?}");
    let algs: Vec<String> = results.iter().map(|r| format!("{:?}", r.signature().unwrap().a)).collect();
    assert!(algs.iter().any(|a| a.contains("Ed25519")) && algs.iter().any(|a| a.contains("Rsa")), "{algs:?}");
    assert!(raw.contains("d=example.test") && raw.contains("c=relaxed/relaxed"), "{raw}");
}

#[tokio::test]
async fn a_client_on_a_dnsbl_is_refused_or_held_in_junk_per_zone() {
    let dns = TestDns::start();
    dns.add("1.0.0.127.reject.test", Rec::A("127.0.0.2".parse().unwrap()));
    dns.add("1.0.0.127.junk.test", Rec::A("127.0.0.4".parse().unwrap()));
    // 127.255.255.x is a zone's error code (e.g. "query refused"), not a listing.
    dns.add("1.0.0.127.error.test", Rec::A("127.255.255.254".parse().unwrap()));
    let refusing = desk(&dns, "[mail_auth]\ndnsbl = [\"error.test\", \"reject.test\"]\n");
    let (_, greeting) = Smtp::connect(&refusing.smtp);
    assert_eq!(greeting.0, 554, "{}", greeting.1);
    assert!(greeting.1.contains("5.7.1") && greeting.1.contains("reject.test") && greeting.1.contains("[127.0.0.1]"), "{}", greeting.1);

    let holding = desk(&dns, "[mail_auth]\ndnsbl = [\"unlisted.test\", \"junk.test=junk\"]\n");
    let m = crlf("From: Eve <eve@customer.test>\nTo: support@example.test\nSubject: Cheap pills\n\nbuy\n");
    assert_eq!(Smtp::send_mail(&holding.smtp, "eve@customer.test", &["support@example.test"], &m).0, 250);
    let j = junk(&holding, "listed in junk.test").await;
    assert!(j.contains("Cheap pills"), "{j}");
    assert!(holding.all_tickets().await.is_empty());
}

#[tokio::test]
async fn greylisting_asks_an_unknown_sender_to_come_back() {
    let dns = TestDns::start();
    let d = desk(&dns, "[mail_auth]\ngreylist = true\ngreylist_secs = 1\n");
    let m = crlf("From: Gil <gil@customer.test>\nTo: support@example.test\nSubject: First contact\n\nhello\n");
    let (code, text) = Smtp::send_mail(&d.smtp, "gil@customer.test", &["support@example.test"], &m);
    assert_eq!(code, 451, "{text}");
    assert!(text.contains("4.7.1") && text.contains("Greylisted"), "{text}");
    assert_eq!(Smtp::send_mail(&d.smtp, "gil@customer.test", &["support@example.test"], &m).0, 451, "too soon");
    // The retry a real MTA makes after the delay (the sleep is the retry's wait).
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(Smtp::send_mail(&d.smtp, "gil@customer.test", &["support@example.test"], &m).0, 250);
    // Once passed, the triplet is let straight through.
    assert_eq!(Smtp::send_mail(&d.smtp, "gil@customer.test", &["support@example.test"], &m).0, 250);
    // Another sender is a new triplet.
    assert_eq!(Smtp::send_mail(&d.smtp, "hal@customer.test", &["support@example.test"], &m).0, 451);
    d.wait_tickets(1).await;
}

#[tokio::test]
async fn a_client_calling_itself_by_our_name_is_refused() {
    let dns = TestDns::start();
    let d = desk(&dns, "");
    let (mut outside, _) = Smtp::connect_from(&d.smtp, "127.0.0.2").await;
    for forged in ["desk.example.test", "DESK.example.test.", "[127.0.0.1]"] {
        let r = outside.cmd(&format!("EHLO {forged}"));
        assert_eq!(r.0, 550, "{forged}: {}", r.1);
        assert!(r.1.contains("5.7.1") && r.1.contains("own name"), "{}", r.1);
    }
    assert_eq!(outside.cmd("EHLO mx.customer.test").0, 250);
    // A company's own server greeting with the mailbox domain is not refused.
    assert_eq!(outside.cmd("EHLO example.test").0, 250);
    // Tools on this host (127.0.0.1) may call it by its name.
    let (mut local, _) = Smtp::connect(&d.smtp);
    assert_eq!(local.cmd("EHLO desk.example.test").0, 250);
}

#[tokio::test]
async fn the_rule_score_holds_a_program_and_a_lying_link_in_junk() {
    let dns = TestDns::start();
    // The link (3) and the bulk header (1) reach a threshold of 4; the program alone is 5.
    let d = desk(&dns, "[mail_auth]\nspam_score = 4\ntime_budget_secs = 20\n");
    let exe = crlf(&format!(
        "From: Pat <pat@customer.test>\nTo: support@example.test\nSubject: Your invoice\nMIME-Version: 1.0\n\
         Content-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\nSee attached.\n\
         --b\nContent-Type: application/octet-stream; name=\"invoice.pdf.exe\"\nContent-Disposition: attachment; filename=\"invoice.pdf.exe\"\n\
         Content-Transfer-Encoding: base64\n\n{}\n--b--\n",
        base64(b"MZ\x90\x00 not really a program")
    ));
    assert_eq!(Smtp::send_mail(&d.smtp, "pat@customer.test", &["support@example.test"], &exe).0, 250);
    let lying = crlf(
        "From: Pat <pat@customer.test>\nTo: support@example.test\nSubject: Account locked\nMIME-Version: 1.0\nList-Unsubscribe: <mailto:u@x.test>\n\
         Content-Type: multipart/alternative; boundary=\"c\"\n\n--c\nContent-Type: text/plain\n\nunlock\n--c\nContent-Type: text/html\n\n\
         <p>Unlock at <a href=\"http://evil.test/login\">https://www.bank.example/login</a></p>\n--c--\n",
    );
    assert_eq!(Smtp::send_mail(&d.smtp, "pat@customer.test", &["support@example.test"], &lying).0, 250);
    let honest = crlf(
        "From: Pat <pat@customer.test>\nTo: support@example.test\nSubject: Manual\nMIME-Version: 1.0\nContent-Type: text/html\n\n\
         <p>The manual is <a href=\"https://example.test/manual\">here</a>.</p>\n",
    );
    assert_eq!(Smtp::send_mail(&d.smtp, "pat@customer.test", &["support@example.test"], &honest).0, 250);
    let j = junk(&d, "opens evil.test").await;
    assert!(j.contains("executable attachment invoice.pdf.exe"), "{j}");
    assert!(j.contains("a link shows bank.example but opens evil.test"), "{j}");
    let tickets = d.wait_tickets(1).await;
    assert_eq!(tickets.len(), 1);
    assert_eq!(tickets[0]["subject"], "Manual");
}
