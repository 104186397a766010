//! The desk's own TLS client (rustls on ring): to the smarthost (with
//! `outgoing.ca_file`) and to webhook receivers.

use std::sync::Arc;

/// The CA certificates of a PEM file (at least one), or why not.
pub fn ca_certs(path: &str) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, String> {
    let pem = std::fs::read(path).map_err(|e| format!("cannot read {path:?}: {e}"))?;
    let certs = rustls_pemfile::certs(&mut pem.as_slice()).collect::<Result<Vec<_>, _>>().map_err(|e| format!("{path:?}: {e}"))?;
    if certs.is_empty() {
        return Err(format!("{path:?} holds no PEM certificate"));
    }
    Ok(certs)
}

/// A TLS client trusting the public (webpki) roots, and the CAs of
/// `ca_file` when set (an internal CA signed the server's certificate).
/// Built per connection, so a renewed CA file needs no restart.
pub fn connector(ca_file: &str) -> Result<tokio_rustls::TlsConnector, String> {
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
