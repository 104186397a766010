//! STARTTLS keys: the configured certificate and key, or a self-signed pair
//! generated on first start with rcgen and kept in the data directory.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::Config;

/// Builds the rustls server config for STARTTLS (ring provider).
pub fn server_config(cfg: &Config) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    let (cert_pem, key_pem) = if cfg.smtp.tls_cert.is_empty() {
        self_signed(&cfg.server.data_dir, &cfg.smtp.hostname)?
    } else {
        let c = std::fs::read(&cfg.smtp.tls_cert).with_context(|| format!("smtp.tls_cert: cannot read {}", cfg.smtp.tls_cert))?;
        let k = std::fs::read(&cfg.smtp.tls_key).with_context(|| format!("smtp.tls_key: cannot read {}", cfg.smtp.tls_key))?;
        (c, k)
    };
    let certs: Vec<CertificateDer<'static>> =
        rustls_pemfile::certs(&mut cert_pem.as_slice()).collect::<Result<_, _>>().context("smtp.tls_cert: not a PEM certificate")?;
    if certs.is_empty() {
        anyhow::bail!("smtp.tls_cert: no certificate found in the file");
    }
    let key: PrivateKeyDer<'static> = rustls_pemfile::private_key(&mut key_pem.as_slice())
        .context("smtp.tls_key: not a PEM key")?
        .context("smtp.tls_key: no private key found in the file")?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("the TLS certificate and key do not match")?;
    Ok(Arc::new(config))
}

/// Loads or creates `tls/cert.pem` and `tls/key.pem` in the data directory.
fn self_signed(data_dir: &Path, hostname: &str) -> anyhow::Result<(Vec<u8>, Vec<u8>)> {
    let dir = data_dir.join("tls");
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    if let (Ok(c), Ok(k)) = (std::fs::read(&cert_path), std::fs::read(&key_path)) {
        return Ok((c, k));
    }
    std::fs::create_dir_all(&dir)?;
    let names = vec![hostname.to_string(), "localhost".to_string()];
    let certified = rcgen::generate_simple_self_signed(names).context("generating a self-signed certificate")?;
    let cert = certified.cert.pem();
    let key = certified.signing_key.serialize_pem();
    write_private(&key_path, key.as_bytes())?;
    std::fs::write(&cert_path, cert.as_bytes())?;
    tracing::info!("generated a self-signed STARTTLS certificate in {}", dir.display());
    Ok((cert.into_bytes(), key.into_bytes()))
}

fn write_private(path: &Path, data: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(data)?;
    f.sync_all()?;
    Ok(())
}
