//! A spam score from simple rules that need no service: failed sender
//! authentication, bulk-mail headers, executable attachments (also inside
//! zip archives) and links whose text names another site than they lead to.
//! Pure; the desk holds a mail in Junk when its score reaches
//! `mail_auth.spam_score`.

#![deny(clippy::string_slice)]

use crate::domain::auth::{AuthResult, organizational_domain};
use crate::domain::mail::ParsedMail;

/// File types that run when opened.
const EXECUTABLE: &[&str] =
    &["exe", "scr", "bat", "cmd", "com", "pif", "vbs", "vbe", "js", "jse", "jar", "msi", "ps1", "hta", "lnk", "wsf", "cpl", "iso"];

fn executable(name: &str) -> bool {
    name.rsplit_once('.').is_some_and(|(_, ext)| EXECUTABLE.iter().any(|e| ext.eq_ignore_ascii_case(e)))
}

/// The file names in a zip archive's central directory.
pub fn zip_names(data: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(pos) = data.get(i..).and_then(|d| d.windows(4).position(|w| w == b"PK\x01\x02")) {
        let at = i + pos;
        let u16_at = |o: usize| data.get(at + o..at + o + 2).map(|b| u16::from_le_bytes([b[0], b[1]]) as usize);
        let (Some(name_len), Some(extra), Some(comment)) = (u16_at(28), u16_at(30), u16_at(32)) else { break };
        if let Some(name) = data.get(at + 46..at + 46 + name_len) {
            out.push(String::from_utf8_lossy(name).into_owned());
        }
        i = at + 46 + name_len + extra + comment;
        if out.len() >= 1000 {
            break;
        }
    }
    out
}

/// The host a URL or a bare domain names, lower case.
fn host_of(s: &str) -> Option<String> {
    let s = s.trim().trim_end_matches('/');
    let rest = s.split_once("://").map(|(_, r)| r).unwrap_or(s);
    let host = rest.split(['/', '?', '#', ':']).next()?.trim_start_matches("www.").to_ascii_lowercase();
    (host.contains('.') && !host.contains(' ') && host.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')).then_some(host)
}

/// Links in HTML whose visible text is a web address of another site than
/// the one they open: (text, target).
pub fn mismatched_links(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let lower = html.to_ascii_lowercase();
    let mut rest = lower.as_str();
    let mut orig = html;
    while let Some(start) = rest.find("<a ") {
        let (Some(tail), Some(otail)) = (rest.get(start..), orig.get(start..)) else { break };
        let Some(open_end) = tail.find('>') else { break };
        let Some(close) = tail.find("</a>") else { break };
        let href = tail.get(..open_end).and_then(|tag| tag.split_once("href=\"")).and_then(|(_, h)| h.split('"').next()).unwrap_or("");
        let text = otail.get(open_end + 1..close).unwrap_or("");
        if let (Some(shown), Some(target)) = (host_of(text), host_of(href))
            && organizational_domain(&shown) != organizational_domain(&target)
        {
            out.push((shown, target));
        }
        let next = start + close + 4;
        rest = rest.get(next..).unwrap_or("");
        orig = orig.get(next..).unwrap_or("");
    }
    out
}

/// Whether the header block of `raw` has a field `name` (case-insensitive).
pub fn has_header(raw: &[u8], name: &str) -> bool {
    raw.split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .take_while(|l| !l.is_empty())
        .any(|l| l.len() > name.len() && l[name.len()] == b':' && l[..name.len()].eq_ignore_ascii_case(name.as_bytes()))
}

/// The score of a mail and the reasons, one per rule that matched.
pub fn score(m: &ParsedMail, bulk_headers: bool) -> (u32, Vec<String>) {
    let mut points = 0;
    let mut why = Vec::new();
    let mut add = |p: u32, reason: String| {
        points += p;
        why.push(format!("{reason} (+{p})"));
    };
    if let Some(a) = &m.auth {
        if a.failed() {
            add(3, "sender authentication failed".into());
        } else if a.spf == AuthResult::SoftFail && a.dkim != AuthResult::Pass {
            add(1, "SPF softfail".into());
        }
    }
    if bulk_headers {
        add(1, "bulk mail headers".into());
    }
    if let Some(f) = m.attachments.iter().find(|a| executable(&a.filename)) {
        add(5, format!("executable attachment {}", f.filename));
    }
    for a in m.attachments.iter().filter(|a| a.filename.to_ascii_lowercase().ends_with(".zip")) {
        if let Some(inner) = zip_names(&a.data).into_iter().find(|n| executable(n)) {
            add(5, format!("executable {inner} inside {}", a.filename));
            break;
        }
    }
    if let Some((shown, target)) = m.html.as_deref().map(mismatched_links).and_then(|l| l.into_iter().next()) {
        add(3, format!("a link shows {shown} but opens {target}"));
    }
    (points, why)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A zip with one stored file: local header, central directory, end record.
    pub fn zip_with(name: &str) -> Vec<u8> {
        let mut z = b"PK\x03\x04".to_vec();
        z.extend_from_slice(&[0u8; 22]);
        z.extend_from_slice(&(name.len() as u16).to_le_bytes());
        z.extend_from_slice(&[0, 0]);
        z.extend_from_slice(name.as_bytes());
        z.extend_from_slice(b"PK\x01\x02");
        z.extend_from_slice(&[0u8; 24]);
        z.extend_from_slice(&(name.len() as u16).to_le_bytes());
        z.extend_from_slice(&[0u8; 16]);
        z.extend_from_slice(name.as_bytes());
        z.extend_from_slice(b"PK\x05\x06");
        z.extend_from_slice(&[0u8; 18]);
        z
    }

    #[test]
    fn rules() {
        assert_eq!(zip_names(&zip_with("invoice.pdf.exe")), vec!["invoice.pdf.exe"]);
        assert!(has_header(b"From: a\r\nList-Unsubscribe: <x>\r\n\r\n", "list-unsubscribe"));
        assert!(!has_header(b"From: a\r\n\r\nList-Unsubscribe: <x>\r\n", "list-unsubscribe"));
        assert!(zip_names(b"PK\x01\x02short").is_empty() && zip_names(b"").is_empty());
        assert!(executable("Invoice.PDF.exe") && !executable("invoice.pdf"));
        let links = mismatched_links(
            r#"<p>Log in at <a href="http://evil.test/x">https://www.bank.example/login</a> or <a href="https://bank.example/">bank.example</a></p>"#,
        );
        assert_eq!(links, vec![("bank.example".to_string(), "evil.test".to_string())]);
        assert!(mismatched_links(r##"<a href="https://x.test">Click here</a><a href="#"##).is_empty());
        let mut m = ParsedMail::default();
        assert_eq!(score(&m, false).0, 0);
        m.attachments.push(crate::domain::mail::Attachment {
            filename: "docs.zip".into(),
            content_type: "application/zip".into(),
            data: zip_with("run.js"),
            content_id: None,
        });
        m.html = Some(r#"<a href="http://evil.test">paypal.com</a>"#.into());
        let (points, why) = score(&m, true);
        assert_eq!(points, 9, "{why:?}");
        assert!(why.iter().any(|w| w.contains("run.js inside docs.zip")), "{why:?}");
    }
}
