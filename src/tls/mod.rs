//! Certificates for HTTPS and STARTTLS: one resolver that serves the
//! configured PEM files (reloaded when they change), the certificate ACME got
//! (`acme.rs`), or the desk's self-signed one; ACME's TLS-ALPN-01 answers and
//! HTTP-01 tokens; what is served and what went wrong, for the start-up line
//! and /healthz. `listener.rs` accepts HTTPS connections for axum.

pub mod acme;
pub mod client;
pub mod listener;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use anyhow::Context;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::domain::Timestamp;

/// The ALPN protocol of ACME's TLS-ALPN-01 challenge (RFC 8737).
pub const ACME_TLS_ALPN: &[u8] = b"acme-tls/1";

/// Where the served certificate comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// `server.tls_cert` / `server.tls_key`.
    Files,
    /// Issued by the ACME CA.
    Acme,
    /// Made by the desk on first start (`<data_dir>/tls`).
    SelfSigned,
}

/// A certificate chain with its key, ready to serve, and what it says.
#[derive(Clone)]
pub struct Loaded {
    pub key: Arc<CertifiedKey>,
    pub info: CertInfo,
}

/// What a served certificate says, for people and /healthz.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CertInfo {
    pub source: Source,
    /// DNS names and IP addresses it is valid for.
    pub names: Vec<String>,
    /// End of validity, ms since the epoch.
    pub not_after: i64,
    /// SHA-256 of the certificate, as browsers show it (AA:BB:…).
    pub sha256: String,
    /// Base64 SHA-256 of its public key (what Chromium's
    /// `--ignore-certificate-errors-spki-list` and HPKP-style pins take).
    pub spki_sha256: String,
}

impl CertInfo {
    /// Whether the certificate is valid for `host` (a `*.` name covers one label).
    pub fn covers(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.names.iter().any(|n| {
            let n = n.to_ascii_lowercase();
            n == host
                || n.strip_prefix("*.")
                    .is_some_and(|base| host.split_once('.').is_some_and(|(first, rest)| !first.is_empty() && rest == base))
        })
    }
}

/// The certificates the desk serves, shared by HTTPS, SMTP and ACME.
pub struct Certs {
    current: RwLock<Loaded>,
    /// TLS-ALPN-01 challenge certificates by host name, while ACME waits.
    alpn: RwLock<HashMap<String, Arc<CertifiedKey>>>,
    /// HTTP-01 tokens and their key authorizations, while ACME waits.
    http01: RwLock<HashMap<String, String>>,
    /// The last reload or ACME failure, until the next success.
    problem: RwLock<Option<String>>,
    /// ACME status line for /healthz.
    acme: RwLock<Option<String>>,
    /// Pokes the ACME task to look at its certificate now.
    pub recheck: tokio::sync::Notify,
}

impl Certs {
    pub fn new(first: Loaded) -> Arc<Certs> {
        Arc::new(Certs {
            current: RwLock::new(first),
            alpn: RwLock::default(),
            http01: RwLock::default(),
            problem: RwLock::default(),
            acme: RwLock::default(),
            recheck: tokio::sync::Notify::new(),
        })
    }

    /// The certificate served now.
    pub fn current(&self) -> Loaded {
        match self.current.read() {
            Ok(c) => c.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Serves `next` from the next handshake on.
    pub fn replace(&self, next: Loaded) {
        match self.current.write() {
            Ok(mut c) => *c = next,
            Err(p) => *p.into_inner() = next,
        }
    }

    /// Records (or with `None` clears) what went wrong last.
    pub fn set_problem(&self, p: Option<String>) {
        if let Ok(mut w) = self.problem.write() {
            *w = p;
        }
    }

    pub fn problem(&self) -> Option<String> {
        self.problem.read().ok().and_then(|p| p.clone())
    }

    pub fn set_acme_status(&self, s: String) {
        if let Ok(mut w) = self.acme.write() {
            *w = Some(s);
        }
    }

    pub fn acme_status(&self) -> Option<String> {
        self.acme.read().ok().and_then(|p| p.clone())
    }

    pub(crate) fn set_alpn_challenge(&self, host: &str, key: Option<Arc<CertifiedKey>>) {
        if let Ok(mut m) = self.alpn.write() {
            match key {
                Some(k) => m.insert(host.to_ascii_lowercase(), k),
                None => m.remove(&host.to_ascii_lowercase()),
            };
        }
    }

    pub(crate) fn set_http_token(&self, token: &str, key_authorization: Option<String>) {
        if let Ok(mut m) = self.http01.write() {
            match key_authorization {
                Some(k) => m.insert(token.to_string(), k),
                None => m.remove(token),
            };
        }
    }

    /// The answer to `/.well-known/acme-challenge/{token}`, while ACME asks.
    pub fn http_token(&self, token: &str) -> Option<String> {
        self.http01.read().ok().and_then(|m| m.get(token).cloned())
    }

    /// Everything /healthz says about TLS.
    pub fn health(&self) -> serde_json::Value {
        let c = self.current();
        serde_json::json!({
            "source": c.info.source,
            "names": c.info.names,
            "not_after": Timestamp(c.info.not_after).rfc3339(),
            "sha256": c.info.sha256,
            "problem": self.problem(),
            "acme": self.acme_status(),
        })
    }
}

impl std::fmt::Debug for Certs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Certs").field("current", &self.current().info).finish()
    }
}

impl ResolvesServerCert for Certs {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let acme = hello.alpn().is_some_and(|mut p| p.any(|p| p == ACME_TLS_ALPN));
        if acme {
            let host = hello.server_name()?.to_ascii_lowercase();
            return self.alpn.read().ok()?.get(&host).cloned();
        }
        Some(self.current().key)
    }
}

/// The rustls config of the HTTPS port: HTTP/1.1, and ACME's TLS-ALPN-01.
pub fn https_config(certs: Arc<Certs>) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    let mut config = builder()?.with_cert_resolver(certs);
    config.alpn_protocols = vec![b"http/1.1".to_vec(), ACME_TLS_ALPN.to_vec()];
    Ok(Arc::new(config))
}

/// A rustls server config builder on ring with the safe default versions.
pub fn builder() -> anyhow::Result<rustls::ConfigBuilder<rustls::ServerConfig, rustls::server::WantsServerCert>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth())
}

/// Parses a PEM chain and key into a servable certificate; `what` names the
/// setting or file in errors.
pub fn load_pem(cert_pem: &[u8], key_pem: &[u8], source: Source, what: &str) -> anyhow::Result<Loaded> {
    let certs: Vec<CertificateDer<'static>> =
        rustls_pemfile::certs(&mut &cert_pem[..]).collect::<Result<_, _>>().with_context(|| format!("{what}: not a PEM certificate"))?;
    let Some(first) = certs.first() else {
        anyhow::bail!("{what}: no certificate found");
    };
    let info = describe(first, source).with_context(|| format!("{what}: the certificate cannot be read"))?;
    let key: PrivateKeyDer<'static> = rustls_pemfile::private_key(&mut &key_pem[..])
        .with_context(|| format!("{what}: not a PEM key"))?
        .with_context(|| format!("{what}: no private key found"))?;
    let provider = rustls::crypto::ring::default_provider();
    let key = CertifiedKey::from_der(certs, key, &provider).with_context(|| format!("{what}: the key does not match the certificate"))?;
    Ok(Loaded { key: Arc::new(key), info })
}

/// Reads names, expiry and fingerprints off a DER certificate.
pub fn describe(der: &CertificateDer<'_>, source: Source) -> anyhow::Result<CertInfo> {
    let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut names = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for n in &san.value.general_names {
            match n {
                x509_parser::extensions::GeneralName::DNSName(d) => names.push(d.to_string()),
                x509_parser::extensions::GeneralName::IPAddress(b) => {
                    if let Ok(v4) = <[u8; 4]>::try_from(*b) {
                        names.push(std::net::Ipv4Addr::from(v4).to_string());
                    } else if let Ok(v6) = <[u8; 16]>::try_from(*b) {
                        names.push(std::net::Ipv6Addr::from(v6).to_string());
                    }
                }
                _ => {}
            }
        }
    }
    let not_after = cert.validity().not_after.timestamp().saturating_mul(1000);
    let sha256 = Sha256::digest(der.as_ref()).iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":");
    let spki_sha256 = b64(&Sha256::digest(cert.public_key().raw));
    Ok(CertInfo { source, names, not_after, sha256, spki_sha256 })
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The desk's self-signed certificate (`<data_dir>/tls`), made on first start
/// for `smtp.hostname`, the public URL's host, localhost and 127.0.0.1.
pub fn self_signed(cfg: &Config) -> anyhow::Result<Loaded> {
    let dir = cfg.server.data_dir.join("tls");
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    if let (Ok(c), Ok(k)) = (std::fs::read(&cert_path), std::fs::read(&key_path)) {
        let l = load_pem(&c, &k, Source::SelfSigned, &cert_path.display().to_string())?;
        // An older release made it for STARTTLS only (smtp.hostname and
        // localhost): one that does not name the public host is made anew.
        let host = cfg.public_host();
        if host.is_empty() || l.info.covers(&host) {
            return Ok(l);
        }
        tracing::info!("the self-signed certificate does not name {host}; making a new one");
    }
    std::fs::create_dir_all(&dir)?;
    let mut names = vec![cfg.smtp.hostname.to_ascii_lowercase(), cfg.public_host(), "localhost".to_string(), "127.0.0.1".to_string()];
    names.retain(|n| !n.is_empty());
    names.dedup();
    let mut seen = std::collections::HashSet::new();
    names.retain(|n| seen.insert(n.clone()));
    let certified = rcgen::generate_simple_self_signed(names).context("generating a self-signed certificate")?;
    let cert = certified.cert.pem();
    let key = certified.signing_key.serialize_pem();
    write_private(&key_path, key.as_bytes())?;
    write_atomic(&cert_path, cert.as_bytes())?;
    tracing::info!("generated a self-signed certificate in {}", dir.display());
    load_pem(cert.as_bytes(), key.as_bytes(), Source::SelfSigned, &cert_path.display().to_string())
}

/// A file's identity for change detection: length and modification time.
pub fn stamp(path: &Path) -> Option<(u64, std::time::SystemTime)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.len(), m.modified().ok()?))
}

/// Loads `server.tls_cert` and `server.tls_key`.
pub fn load_files(cfg: &Config) -> anyhow::Result<Loaded> {
    let c = std::fs::read(&cfg.server.tls_cert).with_context(|| format!("server.tls_cert: cannot read {}", cfg.server.tls_cert))?;
    let k = std::fs::read(&cfg.server.tls_key).with_context(|| format!("server.tls_key: cannot read {}", cfg.server.tls_key))?;
    load_pem(&c, &k, Source::Files, "server.tls_cert")
}

/// The certificate HTTPS starts with: the files, else ACME's last one (when
/// it names the configured domains), else the self-signed one.
pub fn initial(cfg: &Config) -> anyhow::Result<Loaded> {
    if !cfg.server.tls_cert.is_empty() {
        return load_files(cfg);
    }
    if cfg.acme.enabled
        && let Some(l) = acme::stored(cfg)
    {
        return Ok(l);
    }
    self_signed(cfg)
}

/// Watches `server.tls_cert`/`tls_key` and serves them anew when they change
/// (checked every few seconds); a file that does not load is logged, shown in
/// /healthz, and the last good certificate stays.
pub fn watch_files(certs: Arc<Certs>, cfg: Arc<Config>, jobs: Arc<crate::jobs::Jobs>, every: std::time::Duration) {
    let files: Vec<PathBuf> = vec![PathBuf::from(&cfg.server.tls_cert), PathBuf::from(&cfg.server.tls_key)];
    let stopper = jobs.clone();
    jobs.task("tls-reload", move || {
        let (certs, cfg, files, jobs) = (certs.clone(), cfg.clone(), files.clone(), stopper.clone());
        async move {
            let mut seen: Vec<_> = files.iter().map(|f| stamp(f)).collect();
            while !jobs.stopping() {
                tokio::select! {
                    _ = tokio::time::sleep(every) => {}
                    _ = jobs.stopped() => break,
                }
                let now: Vec<_> = files.iter().map(|f| stamp(f)).collect();
                if now == seen {
                    continue;
                }
                seen = now;
                let c = cfg.clone();
                match tokio::task::spawn_blocking(move || load_files(&c)).await {
                    Ok(Ok(l)) => {
                        tracing::info!("reloaded the HTTPS certificate from {} ({})", cfg.server.tls_cert, l.info.names.join(", "));
                        certs.replace(l);
                        certs.set_problem(None);
                    }
                    Ok(Err(e)) => {
                        tracing::error!("the HTTPS certificate did not reload, the last good one stays: {e:#}");
                        certs.set_problem(Some(format!("reload failed: {e:#}")));
                    }
                    Err(e) => tracing::error!("certificate reload task failed: {e}"),
                }
            }
        }
    });
}

/// Writes a private file (mode 0600), synced.
pub fn write_private(path: &Path, data: &[u8]) -> anyhow::Result<()> {
    write_with_mode(path, data, 0o600)
}

/// Writes a file by a synced temporary and a rename, so a crash leaves the old
/// or the new content, never half of one.
pub fn write_atomic(path: &Path, data: &[u8]) -> anyhow::Result<()> {
    write_with_mode(path, data, 0o644)
}

fn write_with_mode(path: &Path, data: &[u8], mode: u32) -> anyhow::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut f = opts.open(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
    f.write_all(data)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(names: &[&str]) -> CertInfo {
        CertInfo {
            source: Source::Files,
            names: names.iter().map(|s| s.to_string()).collect(),
            not_after: 0,
            sha256: String::new(),
            spki_sha256: String::new(),
        }
    }

    #[test]
    fn names_cover_hosts_and_one_wildcard_label() {
        let i = info(&["mail.example.test", "*.desk.test"]);
        assert!(i.covers("mail.example.test"));
        assert!(i.covers("MAIL.example.test."));
        assert!(i.covers("a.desk.test"));
        assert!(!i.covers("desk.test"));
        assert!(!i.covers("a.b.desk.test"));
        assert!(!i.covers("example.test"));
    }

    #[test]
    fn a_generated_pair_loads_and_is_described() {
        let c = rcgen::generate_simple_self_signed(vec!["desk.test".to_string(), "127.0.0.1".to_string()]).unwrap();
        let l = load_pem(c.cert.pem().as_bytes(), c.signing_key.serialize_pem().as_bytes(), Source::Files, "t").unwrap();
        assert_eq!(l.info.names, vec!["desk.test".to_string(), "127.0.0.1".to_string()]);
        assert!(l.info.not_after > 0);
        assert_eq!(l.info.sha256.len(), 32 * 3 - 1);
        assert_eq!(l.info.spki_sha256.len(), 44);
        // Another key than the certificate's is refused.
        let other = rcgen::KeyPair::generate().unwrap();
        let e = load_pem(c.cert.pem().as_bytes(), other.serialize_pem().as_bytes(), Source::Files, "t").err().unwrap();
        assert!(format!("{e:#}").contains("does not match"), "{e:#}");
        // Garbage is an error, not a panic.
        assert!(load_pem(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", b"", Source::Files, "t").is_err());
        assert!(load_pem(b"", b"", Source::Files, "t").is_err());
    }
}
