//! HTTPS as a user meets it, over real TLS handshakes (a rustls client): the
//! self-signed certificate with its fingerprint, plain HTTP redirected, HSTS,
//! Secure cookies; configured PEM files reloaded when they change (a bad file
//! keeps the last good one); SMTP STARTTLS on the same certificate when the
//! names match; and certificates from a real ACME CA (pebble), by TLS-ALPN-01
//! and HTTP-01, renewed on the desk's clock, with a CA that is down leaving
//! the self-signed certificate served and /healthz saying why.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use frontdesk::clock::{Clock, ManualClock, SystemClock};

use crate::common::dns::{Rec, TestDns};
use crate::common::inproc::Desk;
use crate::common::pebble::{TestPebble, free_port};
use crate::common::tls::{fingerprint, get, make_cert, pem_cert, roots, starttls_cert};

const DAY_MS: i64 = 86_400_000;

fn write_config(dir: &Path, text: &str) -> String {
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

async fn plain(addr: SocketAddr, path: &str) -> reqwest::Response {
    let c = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    c.get(format!("http://{addr}{path}")).send().await.unwrap()
}

async fn health(addr: SocketAddr) -> serde_json::Value {
    plain(addr, "/healthz").await.json().await.unwrap()
}

/// Waits until the desk's HTTPS presents a certificate `done` accepts.
async fn served_until(addr: SocketAddr, host: &str, what: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(x) = get(addr, host, "/healthz", None).await {
            let f = fingerprint(&x.cert);
            if done(&f) {
                return f;
            }
        }
        assert!(Instant::now() < deadline, "HTTPS never served {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn self_signed_https_serves_the_desk_redirects_plain_http_and_sends_hsts() {
    let dir = crate::common::tempdir();
    let desk = Desk::start(dir.path(), &["--https", "127.0.0.1:0"]);
    let https = desk.https.unwrap();
    let x = get(https, "localhost", "/login", None).await.unwrap();
    assert_eq!(x.status, 200, "{}", x.head);
    assert!(x.body.contains("password"), "the login page over HTTPS");
    assert_eq!(x.header("strict-transport-security").as_deref(), Some("max-age=31536000"));
    assert!(x.header("set-cookie").unwrap().contains("; Secure"), "cookies are Secure once HTTPS is on: {}", x.head);
    // The certificate is the desk's self-signed one, whose fingerprint it reports.
    let own = pem_cert(&std::fs::read_to_string(dir.path().join("tls/cert.pem")).unwrap());
    assert_eq!(x.cert, own);
    let h = health(desk.http).await;
    assert_eq!(h["tls"]["source"], "self-signed");
    assert_eq!(h["tls"]["sha256"].as_str().unwrap(), fingerprint(&own));

    // Plain HTTP sends people to HTTPS, keeping path and query; /healthz and
    // ACME's HTTP challenges stay on plain HTTP (an unknown token is 404).
    let r = plain(desk.http, "/tickets?q=vpn").await;
    assert_eq!(r.status(), 308);
    assert_eq!(r.headers()["location"], format!("https://127.0.0.1:{}/tickets?q=vpn", https.port()));
    assert!(r.headers().get("strict-transport-security").is_none(), "no HSTS over plain HTTP");
    assert_eq!(plain(desk.http, "/healthz").await.status(), 200);
    assert_eq!(plain(desk.http, "/.well-known/acme-challenge/nope").await.status(), 404);

    // A client that never finishes its handshake holds up nobody.
    let _stalled = tokio::net::TcpStream::connect(https).await.unwrap();
    let _half = {
        use tokio::io::AsyncWriteExt;
        let mut s = tokio::net::TcpStream::connect(https).await.unwrap();
        s.write_all(&[0x16, 0x03, 0x01, 0x00, 0xff]).await.unwrap();
        s
    };
    let x = get(https, "localhost", "/healthz", None).await.unwrap();
    assert_eq!(x.status, 200);
    // Not TLS at all is refused, and the server goes on.
    {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(https).await.unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        let mut buf = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf)).await;
        assert!(!String::from_utf8_lossy(&buf).contains("200 OK"));
    }
    assert_eq!(get(https, "localhost", "/healthz", None).await.unwrap().status, 200);
    // STARTTLS shows the same self-signed certificate.
    assert_eq!(starttls_cert(desk.smtp.unwrap(), "localhost").await, own);
    desk.stop();
}

#[tokio::test]
async fn configured_certificate_files_are_served_reloaded_and_a_bad_file_keeps_the_last_good() {
    let dir = crate::common::tempdir();
    let (cert_a, key_a) = make_cert(&["mail.desk.test", "desk.test"]);
    let (cert_path, key_path) = (dir.path().join("site.crt"), dir.path().join("site.key"));
    std::fs::write(&cert_path, &cert_a).unwrap();
    std::fs::write(&key_path, &key_a).unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            "[server]\npublic_url = \"https://desk.test\"\ntls_cert = \"{}\"\ntls_key = \"{}\"\n[smtp]\nhostname = \"mail.desk.test\"\n",
            cert_path.display(),
            key_path.display()
        ),
    );
    let desk = Desk::start(dir.path(), &["--config", &config, "--https", "127.0.0.1:0"]);
    let https = desk.https.unwrap();
    let a = fingerprint(&pem_cert(&cert_a));
    assert_eq!(fingerprint(&get(https, "desk.test", "/healthz", None).await.unwrap().cert), a);
    // The public URL is https: the redirect goes there.
    let r = plain(desk.http, "/tickets").await;
    assert_eq!(r.headers()["location"], "https://desk.test/tickets");
    // The certificate names smtp.hostname, so STARTTLS uses it too.
    assert_eq!(fingerprint(&starttls_cert(desk.smtp.unwrap(), "mail.desk.test").await), a);

    // A renewed pair (as certbot writes it) is served without a restart.
    let (cert_b, key_b) = make_cert(&["mail.desk.test", "desk.test"]);
    std::fs::write(&key_path, &key_b).unwrap();
    std::fs::write(&cert_path, &cert_b).unwrap();
    let b = fingerprint(&pem_cert(&cert_b));
    served_until(https, "desk.test", "the renewed file", |f| f == b).await;
    assert_eq!(fingerprint(&starttls_cert(desk.smtp.unwrap(), "mail.desk.test").await), b, "STARTTLS follows the reload");
    assert!(health(desk.http).await["tls"]["problem"].is_null());

    // A broken file is reported and the last good certificate stays.
    std::fs::write(&cert_path, "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n").unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let h = health(desk.http).await;
        if let Some(p) = h["tls"]["problem"].as_str() {
            assert!(p.contains("reload failed") && p.contains("server.tls_cert"), "{p}");
            break;
        }
        assert!(Instant::now() < deadline, "the bad file was never reported: {h}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(fingerprint(&get(https, "desk.test", "/healthz", None).await.unwrap().cert), b);
    desk.stop();
}

/// A desk with ACME against a fresh pebble, on a ManualClock.
struct AcmeDesk {
    desk: Desk,
    pebble: TestPebble,
    clock: ManualClock,
    _dns: TestDns,
    _dir: tempfile::TempDir,
}

fn acme_desk(challenge: &str) -> Option<AcmeDesk> {
    let dns = TestDns::start();
    dns.add("desk.test", Rec::A("127.0.0.1".parse().unwrap()));
    let (http, https) = (free_port(), free_port());
    let pebble = TestPebble::start(&dns.addr, http, https)?;
    let dir = crate::common::tempdir();
    let config = write_config(
        dir.path(),
        &format!(
            "[server]\npublic_url = \"https://desk.test\"\n[acme]\nenabled = true\ndirectory = \"{}\"\nca_file = \"{}\"\ncontact = \"admin@desk.test\"\nchallenge = \"{challenge}\"\n",
            pebble.directory,
            pebble.ca_file().display()
        ),
    );
    let clock = ManualClock::new(SystemClock.now());
    let desk = Desk::start_clocked(
        dir.path(),
        &["--config", &config, "--http", &format!("127.0.0.1:{http}"), "--https", &format!("127.0.0.1:{https}")],
        Arc::new(clock.clone()),
    );
    Some(AcmeDesk { desk, pebble, clock, _dns: dns, _dir: dir })
}

/// Waits until the desk serves a certificate that chains to pebble's root for
/// desk.test, and returns its fingerprint.
async fn issued(d: &AcmeDesk, not: Option<&str>) -> String {
    let root = d.pebble.root().await;
    let https = d.desk.https.unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Ok(x) = get(https, "desk.test", "/healthz", Some(roots(&root))).await {
            let f = fingerprint(&x.cert);
            if Some(f.as_str()) != not {
                assert_eq!(x.status, 200);
                return f;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no certificate from pebble; healthz: {}\npebble:\n{}",
            health(d.desk.http).await,
            d.pebble.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn acme_tls_alpn_01_issues_a_certificate_and_renews_it_on_the_desks_clock() {
    let Some(d) = acme_desk("tls-alpn-01") else { return };
    let first = issued(&d, None).await;
    let h = health(d.desk.http).await;
    assert_eq!(h["tls"]["source"], "acme");
    assert!(h["tls"]["problem"].is_null(), "{h}");
    let kept = std::fs::read_to_string(d._dir.path().join("acme/cert.pem")).unwrap();
    assert_eq!(fingerprint(&pem_cert(&kept)), first, "the certificate is kept in the data dir");
    // Not yet due: a look at it changes nothing.
    d.desk.tls.as_ref().unwrap().recheck.notify_one();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(fingerprint(&get(d.desk.https.unwrap(), "desk.test", "/", None).await.unwrap().cert), first);
    // Within renew_days (30) of its end, the desk renews it.
    let end = frontdesk::tls::describe(&pem_cert(&kept), frontdesk::tls::Source::Acme).unwrap().not_after;
    d.clock.advance_ms(end - d.clock.now().0 - 29 * DAY_MS);
    d.desk.tls.as_ref().unwrap().recheck.notify_one();
    let second = issued(&d, Some(&first)).await;
    assert_ne!(first, second);
    d.desk.stop();
}

#[tokio::test]
async fn acme_http_01_is_answered_on_plain_http_and_a_restart_keeps_the_certificate() {
    let Some(d) = acme_desk("http-01") else { return };
    let first = issued(&d, None).await;
    assert_eq!(health(d.desk.http).await["tls"]["source"], "acme");
    let AcmeDesk { desk, pebble, clock, _dns, _dir } = d;
    desk.stop();
    // Started again, it serves the stored certificate at once.
    let config = _dir.path().join("config.toml").display().to_string();
    let desk = Desk::start_clocked(_dir.path(), &["--config", &config, "--https", "127.0.0.1:0"], Arc::new(clock.clone()));
    assert_eq!(fingerprint(&get(desk.https.unwrap(), "desk.test", "/", None).await.unwrap().cert), first);
    drop(pebble);
    desk.stop();
}

#[tokio::test]
async fn a_ca_that_is_down_leaves_the_self_signed_certificate_and_healthz_says_why() {
    let dir = crate::common::tempdir();
    let dead = free_port();
    let config = write_config(
        dir.path(),
        &format!("[server]\npublic_url = \"https://desk.test\"\n[acme]\nenabled = true\ndirectory = \"https://127.0.0.1:{dead}/dir\"\n"),
    );
    let desk = Desk::start(dir.path(), &["--config", &config, "--https", "127.0.0.1:0"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    let h = loop {
        let h = health(desk.http).await;
        if h["tls"]["problem"].is_string() {
            break h;
        }
        assert!(Instant::now() < deadline, "the ACME failure was never reported: {h}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(plain(desk.http, "/healthz").await.status(), 200, "the desk still works");
    assert!(h["tls"]["problem"].as_str().unwrap().contains("ACME failed"), "{h}");
    assert!(h["tls"]["acme"].as_str().unwrap().contains("next try"), "{h}");
    assert_eq!(h["tls"]["source"], "self-signed");
    let x = get(desk.https.unwrap(), "desk.test", "/login", None).await.unwrap();
    assert_eq!(x.status, 200);
    assert_eq!(x.cert, pem_cert(&std::fs::read_to_string(dir.path().join("tls/cert.pem")).unwrap()));
    desk.stop();
}

/// Regression from the outside read: a data dir from before HTTPS holds the
/// STARTTLS certificate of an older release (smtp.hostname and localhost
/// only); HTTPS makes a new one that names the public host.
#[tokio::test]
async fn an_older_starttls_certificate_is_replaced_when_it_does_not_name_the_public_host() {
    let dir = crate::common::tempdir();
    let (cert, key) = make_cert(&["localhost", "mail.old.test"]);
    std::fs::create_dir_all(dir.path().join("tls")).unwrap();
    std::fs::write(dir.path().join("tls/cert.pem"), &cert).unwrap();
    std::fs::write(dir.path().join("tls/key.pem"), &key).unwrap();
    let desk = Desk::start(dir.path(), &["--https", "127.0.0.1:0"]);
    let h = health(desk.http).await;
    let names: Vec<String> = h["tls"]["names"].as_array().unwrap().iter().map(|n| n.as_str().unwrap().to_string()).collect();
    assert!(names.contains(&"127.0.0.1".to_string()), "the public URL's host is named: {names:?}");
    assert_ne!(h["tls"]["sha256"].as_str().unwrap(), fingerprint(&pem_cert(&cert)));
    desk.stop();
}
