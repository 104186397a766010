//! Certificates from an ACME CA (RFC 8555, instant-acme): the account and the
//! last certificate kept in `<data_dir>/acme`; a supervised task that orders
//! one when there is none (or it names other hosts) and renews it
//! `acme.renew_days` before it expires, answering TLS-ALPN-01 (RFC 8737) on
//! the HTTPS port or HTTP-01 on the plain one. A failure keeps the last good
//! certificate served, is logged and shown in /healthz, and is tried again
//! after a back-off (1 minute, doubling to 6 hours). "Now" is the desk's
//! clock, so renewal runs on the tests' clock too.

use crate::tls::client::Lookup;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use instant_acme::{
    Account, AccountCredentials, AuthorizationStatus, ChallengeType, Identifier, NewAccount, NewOrder, OrderStatus, RetryPolicy,
};

use super::{Certs, Loaded, Source, load_pem, write_atomic, write_private};
use crate::clock::SharedClock;
use crate::config::{AcmeChallenge, Config};
use crate::domain::Timestamp;
use crate::jobs::Jobs;

const DAY_MS: i64 = 86_400_000;
/// Longest the task sleeps before looking at its certificate again.
const CHECK_EVERY: Duration = Duration::from_secs(3600);
const FIRST_RETRY: Duration = Duration::from_secs(60);
const LAST_RETRY: Duration = Duration::from_secs(6 * 3600);

fn dir(cfg: &Config) -> PathBuf {
    cfg.server.data_dir.join("acme")
}

/// The account as saved: its credentials and the directory they belong to.
#[derive(serde::Serialize, serde::Deserialize)]
struct SavedAccount {
    directory: String,
    credentials: AccountCredentials,
}

/// The certificate ACME issued last, when it names every configured host.
pub fn stored(cfg: &Config) -> Option<Loaded> {
    let d = dir(cfg);
    let cert = std::fs::read(d.join("cert.pem")).ok()?;
    let key = std::fs::read(d.join("key.pem")).ok()?;
    match load_pem(&cert, &key, Source::Acme, "acme/cert.pem") {
        Ok(l) if cfg.acme_domains().iter().all(|h| l.info.covers(h)) => Some(l),
        Ok(_) => None,
        Err(e) => {
            tracing::warn!("the stored ACME certificate is not usable, a new one is ordered: {e:#}");
            None
        }
    }
}

/// When the served certificate should be replaced: at once unless it is
/// ACME's for every configured host, else `renew_days` before it expires.
fn renew_at(cfg: &Config, served: &Loaded) -> Timestamp {
    let ours = served.info.source == Source::Acme && cfg.acme_domains().iter().all(|h| served.info.covers(h));
    if !ours {
        return Timestamp(i64::MIN);
    }
    Timestamp(served.info.not_after.saturating_sub(i64::from(cfg.acme.renew_days) * DAY_MS))
}

/// Starts the ACME task.
pub fn start(certs: Arc<Certs>, cfg: Arc<Config>, jobs: Arc<Jobs>, clock: SharedClock, lookup: Lookup) {
    let stopper = jobs.clone();
    jobs.task("acme", move || {
        let (certs, cfg, jobs, clock, lookup) = (certs.clone(), cfg.clone(), stopper.clone(), clock.clone(), lookup.clone());
        async move {
            let mut backoff = FIRST_RETRY;
            while !jobs.stopping() {
                let now = clock.now();
                let due = renew_at(&cfg, &certs.current());
                let wait = if now.0 >= due.0 {
                    match issue(&cfg, &certs, &lookup).await {
                        Ok(l) => {
                            let until = Timestamp(l.info.not_after).short();
                            tracing::info!("ACME: certificate for {} issued, valid until {until}", l.info.names.join(", "));
                            certs.set_acme_status(format!("certificate issued at {}, valid until {until}", now.short()));
                            certs.replace(l);
                            certs.set_problem(None);
                            backoff = FIRST_RETRY;
                            continue;
                        }
                        Err(e) => {
                            let e = format!("{e:#}");
                            tracing::error!(
                                "ACME: no certificate ({e}); serving the last good one, trying again in {} s",
                                backoff.as_secs()
                            );
                            certs.set_problem(Some(format!("ACME failed: {e}")));
                            certs.set_acme_status(format!("failed at {}; next try in {} s", now.short(), backoff.as_secs()));
                            let w = backoff;
                            backoff = (backoff * 2).min(LAST_RETRY);
                            w
                        }
                    }
                } else {
                    Duration::from_millis(u64::try_from(due.0 - now.0).unwrap_or(0)).min(CHECK_EVERY)
                };
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = certs.recheck.notified() => {}
                    _ = jobs.stopped() => break,
                }
            }
        }
    });
}

/// An account builder whose HTTPS goes through the desk's resolver and TLS
/// client (Mozilla's roots and `acme.ca_file`).
async fn builder(cfg: &Config, lookup: &Lookup) -> anyhow::Result<instant_acme::AccountBuilder> {
    let connector = crate::tls::client::https_connector(lookup.clone(), &cfg.acme.ca_file, true)
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("acme.ca_file {}", cfg.acme.ca_file))?;
    let client: hyper_util::client::legacy::Client<_, instant_acme::BodyWrapper<bytes::Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build(connector);
    Ok(Account::builder_with_http(Box::new(client)))
}

/// The saved account, or a new one registered with the CA and saved.
async fn account(cfg: &Config, lookup: &Lookup) -> anyhow::Result<Account> {
    let path = dir(cfg).join("account.json");
    if let Ok(bytes) = tokio::fs::read(&path).await
        && let Ok(saved) = serde_json::from_slice::<SavedAccount>(&bytes)
        && saved.directory == cfg.acme.directory
    {
        return builder(cfg, lookup).await?.from_credentials(saved.credentials).await.context("restoring the ACME account");
    }
    let contact = (!cfg.acme.contact.is_empty()).then(|| format!("mailto:{}", cfg.acme.contact));
    let contacts: Vec<&str> = contact.iter().map(String::as_str).collect();
    let new = NewAccount { contact: &contacts, terms_of_service_agreed: true, only_return_existing: false };
    let (account, credentials) = builder(cfg, lookup)
        .await?
        .create(&new, cfg.acme.directory.clone(), None)
        .await
        .with_context(|| format!("registering with {}", cfg.acme.directory))?;
    let saved = serde_json::to_vec(&SavedAccount { directory: cfg.acme.directory.clone(), credentials })?;
    std::fs::create_dir_all(dir(cfg))?;
    write_private(&path, &saved)?;
    tracing::info!("ACME: registered an account with {}", cfg.acme.directory);
    Ok(account)
}

/// What a challenge left in `Certs`, taken away when the order ends.
enum Answer {
    Alpn(String),
    Http(String),
}

/// Orders, proves and downloads a certificate for `acme_domains`, and keeps it.
async fn issue(cfg: &Config, certs: &Certs, lookup: &Lookup) -> anyhow::Result<Loaded> {
    let account = account(cfg, lookup).await?;
    let domains = cfg.acme_domains();
    let ids: Vec<Identifier> = domains.iter().map(|d| Identifier::Dns(d.clone())).collect();
    let mut order = account.new_order(&NewOrder::new(&ids)).await.context("new order")?;
    let mut answers = Vec::new();
    let proved = prove(cfg, certs, &mut order, &mut answers).await;
    let ready = match proved {
        Ok(()) => order.poll_ready(&RetryPolicy::new().timeout(Duration::from_secs(90))).await.context("waiting for validation"),
        Err(e) => Err(e),
    };
    for a in answers {
        match a {
            Answer::Alpn(host) => certs.set_alpn_challenge(&host, None),
            Answer::Http(token) => certs.set_http_token(&token, None),
        }
    }
    match ready? {
        OrderStatus::Ready => {}
        other => bail!("the CA did not validate {} (order {other:?}); check that it reaches this server", domains.join(", ")),
    }
    let key = rcgen::KeyPair::generate().context("certificate key")?;
    let mut params = rcgen::CertificateParams::new(domains.clone()).context("certificate request")?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    let csr = params.serialize_request(&key).context("certificate request")?;
    order.finalize_csr(csr.der()).await.context("finalizing the order")?;
    let chain =
        order.poll_certificate(&RetryPolicy::new().timeout(Duration::from_secs(90))).await.context("downloading the certificate")?;
    let key_pem = key.serialize_pem();
    let loaded = load_pem(chain.as_bytes(), key_pem.as_bytes(), Source::Acme, "the CA's certificate")?;
    let d = dir(cfg);
    std::fs::create_dir_all(&d)?;
    write_private(&d.join("key.pem"), key_pem.as_bytes())?;
    write_atomic(&d.join("cert.pem"), chain.as_bytes())?;
    Ok(loaded)
}

/// Sets up the configured challenge of every pending authorization and tells
/// the CA it may look.
async fn prove(cfg: &Config, certs: &Certs, order: &mut instant_acme::Order, answers: &mut Vec<Answer>) -> anyhow::Result<()> {
    let kind = match cfg.acme.challenge {
        AcmeChallenge::TlsAlpn01 => ChallengeType::TlsAlpn01,
        AcmeChallenge::Http01 => ChallengeType::Http01,
    };
    let mut authorizations = order.authorizations();
    while let Some(a) = authorizations.next().await {
        let mut a = a.context("authorization")?;
        match a.status {
            AuthorizationStatus::Valid => continue,
            AuthorizationStatus::Pending => {}
            other => bail!("authorization for {} is {other:?}", a.identifier()),
        }
        let host = a.identifier().to_string();
        let mut challenge = a.challenge(kind.clone()).ok_or_else(|| anyhow!("the CA offers no {kind:?} challenge for {host}"))?;
        let key_authorization = challenge.key_authorization();
        match kind {
            ChallengeType::Http01 => {
                certs.set_http_token(&challenge.token, Some(key_authorization.as_str().to_string()));
                answers.push(Answer::Http(challenge.token.clone()));
            }
            _ => {
                certs.set_alpn_challenge(&host, Some(alpn_certificate(&host, key_authorization.digest().as_ref())?));
                answers.push(Answer::Alpn(host.clone()));
            }
        }
        challenge.set_ready().await.with_context(|| format!("challenge for {host}"))?;
    }
    Ok(())
}

/// The self-signed certificate TLS-ALPN-01 shows: the host, and the digest of
/// the key authorization in the critical acmeIdentifier extension.
fn alpn_certificate(host: &str, digest: &[u8]) -> anyhow::Result<Arc<rustls::sign::CertifiedKey>> {
    let key = rcgen::KeyPair::generate()?;
    let mut params = rcgen::CertificateParams::new(vec![host.to_string()])?;
    params.custom_extensions = vec![rcgen::CustomExtension::new_acme_identifier(digest)];
    let cert = params.self_signed(&key)?;
    let der = rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).map_err(|e| anyhow!("{e}"))?;
    // Not `CertifiedKey::from_der`: its key check parses the certificate with
    // webpki, which refuses the critical acmeIdentifier extension.
    let signing = rustls::crypto::ring::default_provider().key_provider.load_private_key(der)?;
    Ok(Arc::new(rustls::sign::CertifiedKey::new(vec![cert.der().clone()], signing)))
}
