//! STARTTLS keys: `smtp.tls_cert`/`tls_key` when set; else the HTTPS
//! certificate (configured files or ACME's, followed through reloads and
//! renewals) whenever it names `smtp.hostname`; else the desk's self-signed
//! certificate from the data directory. (The desk's own TLS client, for the
//! smarthost, is `tls::client`.)

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
