//! The desk's own TLS client (rustls on ring, Mozilla's roots built in, so
//! a bare machine needs no certificate store): to the smarthost (with
//! `outgoing.ca_file`), IMAP servers and webhook receivers; and the HTTPS
//! client of ACME and SSO, whose names are looked up by the desk's own
//! resolver (`Lookup`, handed in by the app) instead of the system's name
//! service, which a static binary cannot load.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::Name;

/// Looks a host name up: its addresses.
pub type Lookup = Arc<dyn Fn(String) -> Pin<Box<dyn Future<Output = Result<Vec<IpAddr>, String>> + Send>> + Send + Sync>;

/// A `Lookup` as hyper's resolver.
#[derive(Clone)]
pub struct Resolver(pub Lookup);

impl tower_service::Service<Name> for Resolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let lookup = (self.0)(name.as_str().to_string());
        // The port is the URL's: hyper sets it on each address.
        Box::pin(async move {
            let ips = lookup.await.map_err(std::io::Error::other)?;
            Ok(ips.into_iter().map(|ip| SocketAddr::new(ip, 0)).collect::<Vec<_>>().into_iter())
        })
    }
}

/// HTTPS (or, unless `https_only`, also plain HTTP) over the desk's
/// resolver and TLS client.
pub type HttpsConnector = hyper_rustls::HttpsConnector<HttpConnector<Resolver>>;

pub fn https_connector(lookup: Lookup, ca_file: &str, https_only: bool) -> Result<HttpsConnector, String> {
    let mut http = HttpConnector::new_with_resolver(Resolver(lookup));
    http.enforce_http(false);
    http.set_connect_timeout(Some(std::time::Duration::from_secs(15)));
    let b = hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(client_config(ca_file)?);
    let b = if https_only { b.https_only() } else { b.https_or_http() };
    Ok(b.enable_http1().wrap_connector(http))
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

/// A TLS client trusting the public (webpki) roots, the system's store when
/// there is one (an internal CA installed machine-wide), and the CAs of
/// `ca_file` when set (an internal CA signed the server's certificate).
/// Built per connection, so a renewed CA file needs no restart.
pub fn connector(ca_file: &str) -> Result<tokio_rustls::TlsConnector, String> {
    Ok(tokio_rustls::TlsConnector::from(Arc::new(client_config(ca_file)?)))
}

/// The client config `connector` uses.
pub fn client_config(ca_file: &str) -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    // A bare machine (the static binary in an empty directory) has none.
    let (_, _) = roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
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
    Ok(config)
}
