//! Two-factor pieces that need no storage: TOTP codes (RFC 6238: SHA-1, 6
//! digits, 30 s steps, one step of skew, via totp-rs) checked against the
//! last step used so a code works once; the otpauth:// link and its QR code
//! as inline SVG for enrolment; one-time recovery codes and how typed codes
//! are read (spaces and dashes ignored).

use totp_rs::{Algorithm, Totp};

/// Recovery codes made at enrolment.
pub const RECOVERY_CODES: usize = 10;
/// Bytes of a TOTP secret (160 bits, as RFC 4226 recommends).
pub const SECRET_BYTES: usize = 20;

fn totp(secret: &[u8]) -> Option<Totp> {
    totp_rs::Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(secret.to_vec())
        .build()
        .ok()
}

/// The step of a valid code for `secret` at `unix_secs`, when it is newer
/// than `last_step` (a code is accepted once: RFC 6238 section 5.2).
pub fn check_totp(secret: &[u8], code: &str, unix_secs: u64, last_step: u64) -> Option<u64> {
    let code = normalize(code);
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let step = totp(secret)?.check(&code, unix_secs)?;
    (step > last_step).then_some(step)
}

/// The current code (tests and the enrolment check).
pub fn current_code(secret: &[u8], unix_secs: u64) -> String {
    totp(secret).map(|t| t.generate(unix_secs).to_string()).unwrap_or_default()
}

/// A typed code without spaces or dashes, in lower case.
pub fn normalize(code: &str) -> String {
    code.chars().filter(|c| !c.is_whitespace() && *c != '-').flat_map(char::to_lowercase).take(64).collect()
}

/// Base32 (RFC 4648, no padding), as authenticator apps take a secret.
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Reads base32 (RFC 4648, case and padding ignored); None for other characters.
pub fn from_base32(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in s.trim_end_matches('=').chars() {
        let v = match c.to_ascii_uppercase() {
            u @ 'A'..='Z' => u as u32 - 'A' as u32,
            d @ '2'..='7' => d as u32 - '2' as u32 + 26,
            _ => return None,
        };
        buffer = (buffer << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

/// A recovery code from 5 random bytes: `xxxx-xxxx` in lower-case base32.
pub fn recovery_code(random: &[u8; 5]) -> String {
    let s = base32(random).to_lowercase();
    let (a, b) = s.split_at(s.len().min(4));
    format!("{a}-{b}")
}

/// The otpauth:// link an authenticator app reads.
pub fn otpauth_url(issuer: &str, account: &str, secret: &[u8]) -> String {
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    let i = utf8_percent_encode(issuer, NON_ALPHANUMERIC).to_string();
    let a = utf8_percent_encode(account, NON_ALPHANUMERIC).to_string();
    format!("otpauth://totp/{i}:{a}?secret={}&issuer={i}&algorithm=SHA1&digits=6&period=30", base32(secret))
}

/// `text` as a QR code in SVG (a path of dark modules with a quiet zone),
/// named `label` for screen readers; None when it does not fit a QR code.
pub fn qr_svg(text: &str, label: &str) -> Option<String> {
    let qr = qrcodegen::QrCode::encode_text(text, qrcodegen::QrCodeEcc::Medium).ok()?;
    let (n, border) = (qr.size(), 4);
    let mut path = String::new();
    for y in 0..n {
        for x in 0..n {
            if qr.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + border, y + border));
            }
        }
    }
    let dim = n + 2 * border;
    let label = label.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;");
    Some(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {dim} {dim}\" width=\"220\" height=\"220\" role=\"img\" aria-label=\"{label}\" shape-rendering=\"crispEdges\"><rect width=\"100%\" height=\"100%\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rfc_6238_sha1_vector() {
        // RFC 6238 appendix B: secret "12345678901234567890", T = 59 s → 94287082 (8 digits); 6 digits: 287082.
        let secret = b"12345678901234567890";
        assert_eq!(current_code(secret, 59), "287082");
        assert_eq!(check_totp(secret, "287 082", 59, 0), Some(1));
        // Once used, the same step is refused; the next one works.
        assert_eq!(check_totp(secret, "287082", 59, 1), None);
        let next = current_code(secret, 89);
        assert_eq!(check_totp(secret, &next, 89, 1), Some(2));
        // One step of skew either way, no more.
        assert_eq!(check_totp(secret, "287082", 89, 0), Some(1));
        assert_eq!(check_totp(secret, "287082", 130, 0), None);
        assert_eq!(check_totp(secret, "28708", 59, 0), None);
        assert_eq!(check_totp(secret, "abcdef", 59, 0), None);
    }

    #[test]
    fn base32_recovery_codes_and_links() {
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(from_base32("mzxw6ytboi").unwrap(), b"foobar");
        assert_eq!(from_base32("MZ!"), None);
        assert_eq!(recovery_code(&[0, 0, 0, 0, 0]), "aaaa-aaaa");
        assert_eq!(normalize(" AAAA-aaaa "), "aaaaaaaa");
        let url = otpauth_url("Acme Desk", "ada@example.test", b"12345678901234567890");
        assert_eq!(
            url,
            "otpauth://totp/Acme%20Desk:ada%40example%2Etest?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme%20Desk&algorithm=SHA1&digits=6&period=30"
        );
        let svg = qr_svg(&url, "QR code").unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("<path d=\"M"));
    }

    proptest! {
        #[test]
        fn checking_any_input_never_panics(code in ".{0,80}", secs in 0u64..4_000_000_000, last in 0u64..200_000_000) {
            let _ = check_totp(b"12345678901234567890", &code, secs, last);
            let _ = normalize(&code);
            let _ = from_base32(&code);
        }
    }
}
