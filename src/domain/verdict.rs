//! What a spam engine (rspamd) said about one received mail, as it travels
//! from the end of DATA to the mail worker in an `X-Frontdesk-Spam` header
//! on top of the spooled message; what an agent's "Not junk" / "Junk"
//! teaches the engine; and the allow-list entries (an address or a whole
//! domain) that keep a sender's mail out of Junk. Pure.

#![deny(clippy::string_slice)]

/// The header field the desk writes above its own Received header.
pub const HEADER: &str = "X-Frontdesk-Spam";

/// The engine's verdict on one mail.
#[derive(Debug, Clone, PartialEq)]
pub enum SpamVerdict {
    /// Below the Junk threshold.
    Ham { score: f64 },
    /// Hold in Junk, with the reason shown in the Junk list.
    Junk { reason: String },
    /// The engine did not answer (the mail is accepted as if ham).
    Unchecked { why: String },
}

impl SpamVerdict {
    /// The header field (with its CRLF).
    pub fn header(&self) -> String {
        let (kind, text) = match self {
            SpamVerdict::Ham { score } => ("ham", format!("score {score:.1}")),
            SpamVerdict::Junk { reason } => ("junk", reason.clone()),
            SpamVerdict::Unchecked { why } => ("unchecked", why.clone()),
        };
        format!("{HEADER}: {kind}; {}\r\n", clean(&text))
    }

    /// Reads the verdict back from the header fields above the desk's own
    /// `Received` field (the top of the message as spooled); a copy further
    /// down was written by the sender and is never read.
    pub fn read(raw: &[u8]) -> Option<SpamVerdict> {
        let mut fields: Vec<String> = Vec::new();
        for line in raw.split(|&b| b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l)) {
            if line.is_empty() {
                break;
            }
            let line = std::str::from_utf8(line).ok()?;
            if line.starts_with([' ', '\t']) {
                if let Some(last) = fields.last_mut() {
                    last.push(' ');
                    last.push_str(line.trim());
                }
                continue;
            }
            let name = line.split(':').next().unwrap_or_default().trim();
            if name.eq_ignore_ascii_case("received") {
                break;
            }
            fields.push(line.to_string());
        }
        let value = fields.iter().find_map(|f| {
            let (name, value) = f.split_once(':')?;
            name.trim().eq_ignore_ascii_case(HEADER).then(|| value.trim().to_string())
        })?;
        let (kind, text) = value.split_once(';').map(|(k, t)| (k.trim(), t.trim().to_string())).unwrap_or((value.as_str(), String::new()));
        match kind.to_ascii_lowercase().as_str() {
            "junk" => Some(SpamVerdict::Junk { reason: text }),
            "ham" => {
                let score = text.strip_prefix("score ").and_then(|s| s.parse().ok()).unwrap_or(0.0);
                Some(SpamVerdict::Ham { score })
            }
            "unchecked" => Some(SpamVerdict::Unchecked { why: text }),
            _ => None,
        }
    }

    /// The reason to hold the mail in Junk, if the verdict says so.
    pub fn junk_reason(&self) -> Option<&str> {
        match self {
            SpamVerdict::Junk { reason } => Some(reason),
            _ => None,
        }
    }
}

/// Printable ASCII on one line, at most 400 characters.
fn clean(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { ' ' }).take(400).collect()
}

/// What an agent's decision teaches the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lesson {
    /// "Not junk": the mail was real.
    Ham,
    /// "Junk": the ticket was spam.
    Spam,
}

impl Lesson {
    pub fn as_str(self) -> &'static str {
        match self {
            Lesson::Ham => "ham",
            Lesson::Spam => "spam",
        }
    }
}

/// An allow-list entry as stored: a lower-case address (`ada@partner.example`)
/// or a domain with a leading `@` (`@partner.example`). `None` for text that
/// is neither.
pub fn allow_entry(text: &str) -> Option<String> {
    let t = text.trim().trim_matches(['<', '>']).to_lowercase();
    let (local, domain) = match t.rsplit_once('@') {
        Some((l, d)) => (l, d),
        None => ("", t.as_str()),
    };
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'));
    let local_ok = local.chars().all(|c| !c.is_whitespace() && !c.is_control() && c != '@') && local.len() <= 64;
    if !domain_ok || !local_ok {
        return None;
    }
    Some(if local.is_empty() { format!("@{domain}") } else { format!("{local}@{domain}") })
}

/// The entries that would allow `email`: the address itself, then its domain.
pub fn allow_keys(email: &str) -> Vec<String> {
    let e = email.trim().to_lowercase();
    match e.rsplit_once('@') {
        Some((_, d)) if !d.is_empty() => vec![e.clone(), format!("@{d}")],
        _ => vec![e],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_verdict_reads_back_only_above_our_received_header() {
        let v = SpamVerdict::Junk { reason: "rspamd score 15.0 (Junk from 6.0): GTUBE".into() };
        let raw = format!("Authentication-Results: x; spf=none\r\n{}Received: from a by b\r\nSubject: s\r\n\r\nbody", v.header());
        assert_eq!(SpamVerdict::read(raw.as_bytes()), Some(v));
        let forged = "Received: from a by b\r\nX-Frontdesk-Spam: ham; score 0.0\r\n\r\n";
        assert_eq!(SpamVerdict::read(forged.as_bytes()), None);
        let ham = SpamVerdict::Ham { score: 1.5 };
        assert_eq!(SpamVerdict::read(format!("{}Received: x\r\n\r\n", ham.header()).as_bytes()), Some(ham));
        let folded = "X-Frontdesk-Spam: junk;\r\n\tlong reason\r\nReceived: x\r\n\r\n";
        assert_eq!(SpamVerdict::read(folded.as_bytes()).and_then(|v| v.junk_reason().map(str::to_string)).as_deref(), Some("long reason"));
    }

    #[test]
    fn the_header_is_one_clean_line() {
        let h = SpamVerdict::Junk { reason: "a\r\nInjected: yes\u{0}é".into() }.header();
        assert_eq!(h.matches("\r\n").count(), 1, "{h}");
        assert!(h.ends_with("\r\n"));
    }

    #[test]
    fn allow_entries_are_addresses_or_domains() {
        assert_eq!(allow_entry(" Ada@Partner.Example ").as_deref(), Some("ada@partner.example"));
        assert_eq!(allow_entry("partner.example").as_deref(), Some("@partner.example"));
        assert_eq!(allow_entry("@partner.example").as_deref(), Some("@partner.example"));
        for bad in ["", "nodot", "a b@x.example", "@", "x@.example", "x@example."] {
            assert_eq!(allow_entry(bad), None, "{bad}");
        }
        assert_eq!(allow_keys("Ada@Partner.example"), vec!["ada@partner.example".to_string(), "@partner.example".to_string()]);
    }
}
