//! A TLS client for the tests (rustls on ring, as the desk): HTTPS requests
//! and SMTP STARTTLS, returning what the server presented. It either checks
//! the chain against given roots (as a browser would) or, with no roots,
//! accepts any certificate and only reports it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Accepts every certificate: the test compares what it got.
#[derive(Debug)]
struct AnyCert(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AnyCert {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A client config: checking against `roots`, or (None) accepting anything.
pub fn client(roots: Option<RootCertStore>, alpn: &[&[u8]]) -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let b = rustls::ClientConfig::builder_with_provider(provider.clone()).with_safe_default_protocol_versions().unwrap();
    let mut c = match roots {
        Some(r) => b.with_root_certificates(r).with_no_client_auth(),
        None => b.dangerous().with_custom_certificate_verifier(Arc::new(AnyCert(provider))).with_no_client_auth(),
    };
    c.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Arc::new(c)
}

/// Roots from PEM text.
pub fn roots(pem: &str) -> RootCertStore {
    let mut r = RootCertStore::empty();
    for c in rustls_pemfile::certs(&mut pem.as_bytes()) {
        r.add(c.unwrap()).unwrap();
    }
    r
}

/// The SHA-256 of a certificate as the desk prints it (AA:BB:…).
pub fn fingerprint(c: &CertificateDer<'_>) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(c.as_ref()).iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

/// The first certificate of a PEM file's chain.
pub fn pem_cert(pem: &str) -> CertificateDer<'static> {
    rustls_pemfile::certs(&mut pem.as_bytes()).next().unwrap().unwrap()
}

/// What one HTTPS exchange gave.
pub struct Exchange {
    /// The server's end-entity certificate.
    pub cert: CertificateDer<'static>,
    pub status: u16,
    /// Header lines, lower-cased names: "name: value".
    pub head: String,
    pub body: String,
}

impl Exchange {
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }
}

/// `GET path` over HTTPS to `addr` with SNI `host` (Connection: close).
pub async fn get(addr: SocketAddr, host: &str, path: &str, roots: Option<RootCertStore>) -> Result<Exchange, String> {
    let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let connector = tokio_rustls::TlsConnector::from(client(roots, &[b"http/1.1"]));
    let name = ServerName::try_from(host.to_string()).map_err(|e| e.to_string())?;
    let mut tls = tokio::time::timeout(Duration::from_secs(10), connector.connect(name, tcp))
        .await
        .map_err(|_| "handshake timed out".to_string())?
        .map_err(|e| format!("handshake: {e}"))?;
    let cert = tls.get_ref().1.peer_certificates().and_then(|c| c.first()).cloned().ok_or("no certificate")?.into_owned();
    tls.write_all(format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    // A server may close without close_notify; what arrived counts.
    let _ = tokio::time::timeout(Duration::from_secs(10), tls.read_to_end(&mut raw)).await;
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    Ok(Exchange { cert, status, head: head.to_string(), body: body.to_string() })
}

/// The certificate SMTP presents after STARTTLS.
pub async fn starttls_cert(addr: SocketAddr, host: &str) -> CertificateDer<'static> {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let mut r = BufReader::new(tcp);
    reply(&mut r).await;
    r.get_mut().write_all(b"EHLO client.test\r\n").await.unwrap();
    reply(&mut r).await;
    r.get_mut().write_all(b"STARTTLS\r\n").await.unwrap();
    let ok = reply(&mut r).await;
    assert!(ok.starts_with("220"), "{ok}");
    let connector = tokio_rustls::TlsConnector::from(client(None, &[]));
    let tls = connector.connect(ServerName::try_from(host.to_string()).unwrap(), r.into_inner()).await.unwrap();
    tls.get_ref().1.peer_certificates().unwrap()[0].clone().into_owned()
}

async fn reply(r: &mut BufReader<TcpStream>) -> String {
    loop {
        let mut line = String::new();
        r.read_line(&mut line).await.unwrap();
        assert!(!line.is_empty(), "SMTP closed");
        if line.as_bytes().get(3) == Some(&b' ') {
            return line;
        }
    }
}

/// A certificate and key for `names`, signed by itself, as PEM.
pub fn make_cert(names: &[&str]) -> (String, String) {
    let c = rcgen::generate_simple_self_signed(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    (c.cert.pem(), c.signing_key.serialize_pem())
}
