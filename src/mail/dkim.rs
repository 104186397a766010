//! DKIM signatures on outgoing mail: an Ed25519 and an RSA-2048 key,
//! generated on first start into `<data_dir>/dkim/` (or read from the files
//! `mail_auth.*_key_file` names), and two signatures (relaxed/relaxed) on every
//! mail in the domain of its From address. Also the public keys as the TXT
//! records `frontdesk dns` tells the admin to publish.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use mail_auth::common::crypto::{Ed25519Key, RsaKey, Sha256};
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::{Canonicalization, DkimSigner, Done};
use mail_send::mail_builder::encoders::base64::base64_encode;

use crate::config::Config;

/// The header fields signed (and over-signed where absent, so none can be
/// added in transit): what Gmail and Microsoft 365 expect, List-Unsubscribe
/// included for one-click unsubscribe.
const SIGNED: &[&str] = &[
    "From",
    "Reply-To",
    "Subject",
    "Date",
    "To",
    "Cc",
    "Message-ID",
    "In-Reply-To",
    "References",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "Auto-Submitted",
];

/// The signing keys and, per domain, the signers built from them.
pub struct Signer {
    ed_der: Vec<u8>,
    rsa_der: Vec<u8>,
    ed_selector: String,
    rsa_selector: String,
    /// Public keys as published (`p=`): Ed25519 raw, RSA SubjectPublicKeyInfo.
    ed_public: Vec<u8>,
    rsa_public: Vec<u8>,
    signers: HashMap<String, DomainSigners>,
}

struct DomainSigners {
    ed: DkimSigner<Ed25519Key, Done>,
    rsa: DkimSigner<RsaKey<Sha256>, Done>,
}

/// One TXT record to publish.
pub struct KeyRecord {
    pub selector: String,
    /// `v=DKIM1; k=…; p=…`
    pub value: String,
}

fn read_key(path: &Path) -> Result<Vec<u8>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read the DKIM key {}: {e}", path.display()))?;
    let Ok(text) = std::str::from_utf8(&bytes) else { return Ok(bytes) };
    if !text.contains("-----BEGIN") {
        return Ok(bytes);
    }
    let mut reader = std::io::BufReader::new(text.as_bytes());
    match rustls_pemfile::private_key(&mut reader) {
        Ok(Some(k)) => Ok(k.secret_der().to_vec()),
        _ => Err(format!("{}: no private key in this PEM file", path.display())),
    }
}

/// Writes a new private key readable by the owner only.
fn write_key(path: &Path, der: &[u8]) -> Result<(), String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("cannot create the DKIM key {}: {e}", path.display()))?;
    f.write_all(der).and_then(|_| f.sync_all()).map_err(|e| format!("cannot write the DKIM key {}: {e}", path.display()))
}

/// The key at `configured`, else at `default` in the data dir, made with
/// `generate` when it is not there yet.
fn key_file(configured: &str, default: PathBuf, generate: impl FnOnce() -> Result<Vec<u8>, String>) -> Result<Vec<u8>, String> {
    if !configured.is_empty() {
        return read_key(Path::new(configured));
    }
    if default.exists() {
        return read_key(&default);
    }
    if let Some(dir) = default.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let der = generate()?;
    write_key(&default, &der)?;
    tracing::info!("generated the DKIM key {}", default.display());
    Ok(der)
}

/// A DER length.
fn der_len(n: usize, out: &mut Vec<u8>) {
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes: Vec<u8> = n.to_be_bytes().into_iter().skip_while(|&b| b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
}

/// A PKCS#1 RSAPublicKey wrapped as SubjectPublicKeyInfo, the form DKIM
/// records usually carry.
fn spki_of_pkcs1(pkcs1: &[u8]) -> Vec<u8> {
    // SEQUENCE { OID 1.2.840.113549.1.1.1, NULL }
    const ALGORITHM: &[u8] = &[0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00];
    let mut bits = vec![0x03];
    der_len(pkcs1.len() + 1, &mut bits);
    bits.push(0);
    bits.extend_from_slice(pkcs1);
    let mut out = vec![0x30];
    der_len(ALGORITHM.len() + bits.len(), &mut out);
    out.extend_from_slice(ALGORITHM);
    out.extend(bits);
    out
}

fn b64(bytes: &[u8]) -> String {
    String::from_utf8(base64_encode(bytes).unwrap_or_default()).unwrap_or_default()
}

impl Signer {
    /// Loads (or on first start generates) both keys and builds a signer for
    /// every mailbox domain.
    pub fn load(cfg: &Config) -> Result<Signer, String> {
        let a = &cfg.mail_auth;
        let dir = cfg.server.data_dir.join("dkim");
        let ed_der = key_file(&a.ed25519_key_file, dir.join("ed25519.key"), || {
            Ed25519Key::generate_pkcs8().map_err(|e| format!("cannot generate the Ed25519 key: {e}"))
        })?;
        let rsa_der = key_file(&a.rsa_key_file, dir.join("rsa.key"), || {
            mail_auth::dkim::generate::DkimKeyPair::generate_rsa(2048)
                .map(|k| k.private_key().to_vec())
                .map_err(|e| format!("cannot generate the RSA key: {e}"))
        })?;
        let ed = Self::ed_key(&ed_der)?;
        let rsa = Self::rsa_key(&rsa_der)?;
        let mut s = Signer {
            ed_public: ed.public_key(),
            rsa_public: spki_of_pkcs1(&rsa.public_key()),
            ed_der,
            rsa_der,
            ed_selector: a.ed25519_selector.clone(),
            rsa_selector: a.rsa_selector.clone(),
            signers: HashMap::new(),
        };
        for d in cfg.mailbox_domains() {
            let built = s.build(&d)?;
            s.signers.insert(d, built);
        }
        Ok(s)
    }

    fn ed_key(der: &[u8]) -> Result<Ed25519Key, String> {
        Ed25519Key::from_pkcs8_maybe_unchecked_der(der).map_err(|e| format!("the Ed25519 DKIM key is not a PKCS#8 Ed25519 key: {e}"))
    }

    fn rsa_key(der: &[u8]) -> Result<RsaKey<Sha256>, String> {
        use rustls::pki_types::{PrivateKeyDer, PrivatePkcs1KeyDer, PrivatePkcs8KeyDer};
        RsaKey::<Sha256>::from_key_der(PrivateKeyDer::Pkcs1(PrivatePkcs1KeyDer::from(der)))
            .or_else(|_| RsaKey::<Sha256>::from_key_der(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(der))))
            .map_err(|e| format!("the RSA DKIM key is not a PKCS#1 or PKCS#8 RSA key: {e}"))
    }

    fn build(&self, domain: &str) -> Result<DomainSigners, String> {
        let ed = DkimSigner::from_key(Self::ed_key(&self.ed_der)?)
            .domain(domain)
            .selector(self.ed_selector.as_str())
            .headers(SIGNED.iter().copied())
            .header_canonicalization(Canonicalization::Relaxed)
            .body_canonicalization(Canonicalization::Relaxed);
        let rsa = DkimSigner::from_key(Self::rsa_key(&self.rsa_der)?)
            .domain(domain)
            .selector(self.rsa_selector.as_str())
            .headers(SIGNED.iter().copied())
            .header_canonicalization(Canonicalization::Relaxed)
            .body_canonicalization(Canonicalization::Relaxed);
        Ok(DomainSigners { ed, rsa })
    }

    /// The message with both signatures on top, for the domain of `from`.
    /// A mail that cannot be signed goes out unsigned (logged): it is better
    /// delivered with less proof than not at all.
    pub fn sign(&self, message: Vec<u8>, from: &str) -> Vec<u8> {
        let domain = from.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase()).unwrap_or_default();
        if domain.is_empty() {
            return message;
        }
        let built;
        let signers = match self.signers.get(&domain) {
            Some(s) => s,
            None => match self.build(&domain) {
                Ok(s) => {
                    built = s;
                    &built
                }
                Err(e) => {
                    tracing::warn!("cannot sign mail from {domain}: {e}");
                    return message;
                }
            },
        };
        let mut headers = String::new();
        for sig in [signers.rsa.sign(&message), signers.ed.sign(&message)] {
            match sig {
                Ok(s) => headers.push_str(&s.to_header()),
                Err(e) => tracing::warn!("cannot sign mail from {domain}: {e}"),
            }
        }
        let mut out = Vec::with_capacity(headers.len() + message.len());
        out.extend_from_slice(headers.as_bytes());
        out.extend(message);
        out
    }

    /// The two TXT records to publish at `<selector>._domainkey.<domain>`.
    pub fn records(&self) -> [KeyRecord; 2] {
        [
            KeyRecord { selector: self.ed_selector.clone(), value: format!("v=DKIM1; k=ed25519; p={}", b64(&self.ed_public)) },
            KeyRecord { selector: self.rsa_selector.clone(), value: format!("v=DKIM1; k=rsa; p={}", b64(&self.rsa_public)) },
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_lengths_and_the_rsa_wrapper() {
        let mut v = Vec::new();
        der_len(0x7f, &mut v);
        der_len(0x80, &mut v);
        der_len(0x10f, &mut v);
        assert_eq!(v, vec![0x7f, 0x81, 0x80, 0x82, 0x01, 0x0f]);
        // A 270-byte RSAPublicKey (2048 bits) gives the well-known 294-byte SPKI.
        let spki = spki_of_pkcs1(&[0u8; 270]);
        assert_eq!(spki.len(), 294);
        assert_eq!(&spki[..4], &[0x30, 0x82, 0x01, 0x22]);
        assert!(b64(&spki[..12]).starts_with("MIIBIjANBgkq"));
    }
}
