//! STARTTLS keys: `smtp.tls_cert`/`tls_key` when set; else the HTTPS
//! certificate (configured files or ACME's, followed through reloads and
//! renewals) whenever it names `smtp.hostname`; else the desk's self-signed
//! certificate from the data directory. And the trust for the desk's own
//! connections to a smarthost: the public roots plus `outgoing.ca_file`.

use std::sync::Arc;

use anyhow::Context;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use crate::config::Config;
use crate::tls::{Certs, Loaded, Source};

/// Picks the STARTTLS certificate at each handshake.
#[derive(Debug)]
struct Smtp {
    web: Option<Arc<Certs>>,
    own: Arc<CertifiedKey>,
    hostname: String,
}

impl ResolvesServerCert for Smtp {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        if let Some(web) = &self.web {
            let c = web.current();
            if c.info.source != Source::SelfSigned && c.info.covers(&self.hostname) {
                return Some(c.key);
            }
        }
        Some(self.own.clone())
    }
}

/// Builds the rustls server config for STARTTLS (ring provider); `web` is the
/// HTTPS certificate store when HTTPS is on.
pub fn server_config(cfg: &Config, web: Option<Arc<Certs>>) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    let own: Loaded = if cfg.smtp.tls_cert.is_empty() {
        crate::tls::self_signed(cfg)?
    } else {
        let c = std::fs::read(&cfg.smtp.tls_cert).with_context(|| format!("smtp.tls_cert: cannot read {}", cfg.smtp.tls_cert))?;
        let k = std::fs::read(&cfg.smtp.tls_key).with_context(|| format!("smtp.tls_key: cannot read {}", cfg.smtp.tls_key))?;
        crate::tls::load_pem(&c, &k, Source::Files, "smtp.tls_cert")?
    };
    // A certificate of its own for SMTP wins over the web's.
    let web = if cfg.smtp.tls_cert.is_empty() { web } else { None };
    let resolver = Smtp { web, own: own.key, hostname: cfg.smtp.hostname.clone() };
    Ok(Arc::new(crate::tls::builder()?.with_cert_resolver(Arc::new(resolver))))
}

/// The CA certificates of a PEM file (at least one), or why not.
pub fn ca_certs(path: &str) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, String> {
    let pem = std::fs::read(path).map_err(|e| format!("cannot read {path:?}: {e}"))?;
    let certs = rustls_pemfile::certs(&mut pem.as_slice()).collect::<Result<Vec<_>, _>>().map_err(|e| format!("{path:?}: {e}"))?;
    if certs.is_empty() {
        return Err(format!("{path:?} holds no PEM certificate"));
    }
    Ok(certs)
}

/// The TLS client for the smarthost: the public (webpki) roots, and the
/// CAs of `ca_file` when set (an internal CA signed the smarthost's
/// certificate). The file is read for each connection, so a renewed CA
/// needs no restart.
pub fn smarthost_connector(ca_file: &str) -> Result<tokio_rustls::TlsConnector, String> {
    let mut roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    if !ca_file.is_empty() {
        for c in ca_certs(ca_file)? {
            roots.add(c).map_err(|e| format!("{ca_file:?}: not a usable CA certificate: {e}"))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}
