//! The smarthost behind a private CA (issue 17 part 11): a capture smarthost
//! whose certificate a test CA signed takes the desk's mail over STARTTLS
//! and over implicit TLS once `outgoing.ca_file` names that CA; without it
//! the desk refuses the certificate and keeps the mail queued, saying why;
//! a `ca_file` that holds no certificate is a config error naming the key.

use std::sync::Arc;

use crate::common::capture::Capture;
use crate::common::smtp::Smtp;
use crate::common::*;

/// A test CA and a server config for 127.0.0.1 with a certificate it signed.
fn test_ca() -> (String, Arc<rustls::ServerConfig>) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, "Frontdesk Test Internal CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::from_params(&ca_params, &ca_key);
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap().signed_by(&leaf_key, &issuer).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der().clone()], key)
        .unwrap();
    (ca.pem(), Arc::new(config))
}

fn crlf(s: &str) -> Vec<u8> {
    s.replace('\n', "\r\n").into_bytes()
}

fn config(smarthost: &str, security: &str, ca_file: Option<&std::path::Path>) -> String {
    let ca = ca_file.map(|p| format!("ca_file = \"{}\"\n", p.display())).unwrap_or_default();
    format!(
        "{MAIL_CONFIG}\n[outgoing]\nsmarthost = \"{smarthost}\"\nsecurity = \"{security}\"\n{ca}retry_secs = [1]\nnotify_new_ticket = false\n"
    )
}

/// Mail from a customer, so the desk acknowledges it through the smarthost.
fn customer_writes(d: &MailDesk) {
    let m = crlf("From: Kim <kim@customer.test>\nTo: support@example.test\nSubject: VPN\n\nThe VPN drops every hour.\n");
    assert_eq!(Smtp::send_mail(&d.smtp, "kim@customer.test", &["support@example.test"], &m).0, 250);
}

#[tokio::test]
async fn starttls_and_implicit_tls_to_a_smarthost_with_a_private_ca() {
    let (ca_pem, server) = test_ca();
    let dir = tempdir();
    let ca_file = dir.path().join("internal-ca.pem");
    std::fs::write(&ca_file, &ca_pem).unwrap();
    for (security, implicit) in [("starttls", false), ("tls", true)] {
        let (cap, _h) = Capture::start_tls(server.clone(), implicit).await;
        let d = MailDesk::start_with_config(&config(&cap.addr, security, Some(&ca_file)));
        customer_writes(&d);
        let ack = cap.wait(1).await.remove(0);
        assert!(ack.tls, "{security}: the mail went over TLS");
        assert_eq!(ack.rcpt_to, vec!["kim@customer.test"], "{security}");
        d.outbox_idle().await;
        let t = d.ticket("TKT-000001").await;
        assert!(t.to_string().contains("sent ack mail to kim@customer.test"), "{security}: {t:#}");
        // `frontdesk mail test` takes the same road.
        let c = d.config.to_str().unwrap().to_string();
        let data = d.dir.path().to_path_buf();
        let out = tokio::task::spawn_blocking(move || cli(&data, &["--config", &c, "mail", "test", "--to", "ops@example.org"], None))
            .await
            .unwrap();
        assert_eq!(out.0, 0, "{security}: {}", out.2);
        assert!(cap.wait(2).await.iter().all(|m| m.tls));
    }
}

#[tokio::test]
async fn without_the_ca_the_certificate_is_refused_and_the_mail_waits() {
    let (_, server) = test_ca();
    let (cap, _h) = Capture::start_tls(server, false).await;
    let d = MailDesk::start_with_config(&config(&cap.addr, "starttls", None));
    customer_writes(&d);
    d.settle().await;
    // The ticket says the mail is not delivered yet and why.
    let mut why = String::new();
    for _ in 0..200 {
        why = d.ticket("TKT-000001").await.to_string();
        if why.contains("not yet delivered") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(why.contains("not yet delivered") && why.to_lowercase().contains("certificate"), "{why}");
    assert!(cap.all().is_empty(), "nothing sent to an unproven server");
}

#[test]
fn a_ca_file_without_a_certificate_is_a_config_error() {
    let dir = tempdir();
    let bad = dir.path().join("not-a-ca.pem");
    std::fs::write(&bad, "this is not PEM\n").unwrap();
    let cfg = dir.path().join("frontdesk.toml");
    std::fs::write(&cfg, format!("[outgoing]\nsmarthost = \"127.0.0.1:2525\"\nca_file = \"{}\"\n", bad.display())).unwrap();
    let (code, _, err) = cli(dir.path(), &["--config", cfg.to_str().unwrap(), "check-config"], None);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("ca_file") && err.contains("no PEM certificate"), "{err}");
}
