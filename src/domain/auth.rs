//! Sender authentication as the desk keeps it: the SPF, DKIM, DMARC and ARC
//! results of one received mail (`MailAuth`), what they mean for an agent
//! ("verified example.com", "claims to be from bank.example but DMARC
//! failed"), the `Authentication-Results` header (RFC 8601) the desk writes
//! on accept, and reading that header back. Pure: the checks themselves, with
//! their DNS lookups, run in `mail::auth`.

#![deny(clippy::string_slice)]

use serde::{Deserialize, Serialize};

/// One method's result (RFC 8601 2.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum AuthResult {
    /// Not checked, or nothing to check (no record, no signature).
    #[default]
    None,
    Pass,
    Fail,
    /// SPF `~all`.
    SoftFail,
    Neutral,
    /// A DNS failure or timeout: it could not be verified now.
    TempError,
    /// A broken record or signature.
    PermError,
}

impl AuthResult {
    pub const ALL: [AuthResult; 7] = [
        AuthResult::None,
        AuthResult::Pass,
        AuthResult::Fail,
        AuthResult::SoftFail,
        AuthResult::Neutral,
        AuthResult::TempError,
        AuthResult::PermError,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuthResult::None => "none",
            AuthResult::Pass => "pass",
            AuthResult::Fail => "fail",
            AuthResult::SoftFail => "softfail",
            AuthResult::Neutral => "neutral",
            AuthResult::TempError => "temperror",
            AuthResult::PermError => "permerror",
        }
    }

    pub fn parse(s: &str) -> Option<AuthResult> {
        AuthResult::ALL.into_iter().find(|r| r.as_str().eq_ignore_ascii_case(s))
    }
}

/// What a From domain's DMARC record asks receivers to do with failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum DmarcPolicy {
    /// No record, or `p=none`.
    #[default]
    None,
    Quarantine,
    Reject,
}

impl DmarcPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            DmarcPolicy::None => "none",
            DmarcPolicy::Quarantine => "quarantine",
            DmarcPolicy::Reject => "reject",
        }
    }

    fn parse(s: &str) -> DmarcPolicy {
        [DmarcPolicy::Quarantine, DmarcPolicy::Reject].into_iter().find(|p| p.as_str().eq_ignore_ascii_case(s)).unwrap_or_default()
    }
}

/// The authentication of one received mail.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MailAuth {
    /// SPF of the envelope sender (of the HELO name for a null sender).
    pub spf: AuthResult,
    /// The domain SPF was checked for.
    pub spf_domain: String,
    /// SPF of the HELO name.
    pub helo: AuthResult,
    /// The HELO name the client gave.
    pub helo_domain: String,
    /// The best DKIM result over all signatures (pass if any passes).
    pub dkim: AuthResult,
    /// `d=` of every signature that passed.
    pub dkim_domains: Vec<String>,
    /// DMARC of the From domain: pass when SPF or DKIM passed aligned with it.
    pub dmarc: AuthResult,
    /// The policy of the From domain's DMARC record.
    pub dmarc_policy: DmarcPolicy,
    /// The domain of the From header.
    pub from_domain: String,
    /// The ARC chain, when the mail carries one.
    pub arc: AuthResult,
    /// Why it could not be verified (a DNS timeout), if that is the case.
    pub note: String,
    /// The DNSBL zone (an "=junk" one) that lists the sending server.
    pub dnsbl: String,
}

/// What the results mean to the agent reading the mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It really is from this domain (an aligned pass).
    Verified(String),
    /// It claims a domain it failed to prove: the warning to show.
    Failed(String),
    /// DNS did not answer in time; nothing is known.
    Unverified(String),
    /// Nothing to say (no records, no signatures).
    Unknown,
}

impl MailAuth {
    /// A pass aligned with the From domain: DMARC passed, or, for a domain
    /// without a DMARC record, DKIM or SPF passed for the From domain itself.
    pub fn aligned(&self) -> bool {
        if self.from_domain.is_empty() {
            return false;
        }
        self.dmarc == AuthResult::Pass
            || (self.dmarc == AuthResult::None
                && (self.dkim_domains.iter().any(|d| d.eq_ignore_ascii_case(&self.from_domain))
                    || (self.spf == AuthResult::Pass && self.spf_domain.eq_ignore_ascii_case(&self.from_domain))))
    }

    /// Whether the mail failed to prove who it claims to be from.
    pub fn failed(&self) -> bool {
        if self.dmarc == AuthResult::Fail {
            return true;
        }
        self.dmarc != AuthResult::Pass
            && self.dkim != AuthResult::Pass
            && (self.spf == AuthResult::Fail || (self.dkim == AuthResult::Fail && self.spf != AuthResult::Pass))
    }

    /// SPF says fail and no signature is valid (the `spf_fail` policy).
    pub fn spf_hard_fail(&self) -> bool {
        self.spf == AuthResult::Fail && self.dkim != AuthResult::Pass && self.dmarc != AuthResult::Pass
    }

    /// DMARC failed under this policy.
    pub fn dmarc_failed_with(&self, policy: DmarcPolicy) -> bool {
        self.dmarc == AuthResult::Fail && self.dmarc_policy == policy
    }

    pub fn verdict(&self) -> Verdict {
        let claimed = if self.from_domain.is_empty() { self.spf_domain.clone() } else { self.from_domain.clone() };
        if self.aligned() {
            return Verdict::Verified(self.from_domain.clone());
        }
        if self.failed() {
            let what = if self.dmarc == AuthResult::Fail {
                "DMARC failed"
            } else if self.spf == AuthResult::Fail {
                "its server is not allowed to send for it (SPF failed)"
            } else {
                "its DKIM signature does not verify"
            };
            return Verdict::Failed(format!("claims to be from {claimed} but {what}"));
        }
        if [self.spf, self.dkim, self.dmarc].contains(&AuthResult::TempError) {
            let why = if self.note.is_empty() { "DNS did not answer".to_string() } else { self.note.clone() };
            return Verdict::Unverified(format!("could not verify {claimed}: {why}"));
        }
        Verdict::Unknown
    }

    /// The `Authentication-Results` header field (with its CRLF) the desk adds
    /// on accept, as the MTA `authserv_id`.
    pub fn header(&self, authserv_id: &str) -> String {
        let mut out = format!("Authentication-Results: {};", clean_token(authserv_id));
        let mut spf = format!("spf={}", self.spf.as_str());
        if !self.spf_domain.is_empty() {
            spf.push_str(&format!(" smtp.mailfrom={}", clean_token(&self.spf_domain)));
        }
        let mut parts = vec![spf, format!("spf={} smtp.helo={}", self.helo.as_str(), clean_token(&self.helo_domain))];
        if self.dkim_domains.is_empty() {
            parts.push(format!("dkim={}", self.dkim.as_str()));
        }
        for d in &self.dkim_domains {
            parts.push(format!("dkim=pass header.d={}", clean_token(d)));
        }
        let mut dmarc = format!("dmarc={} policy.dmarc={}", self.dmarc.as_str(), self.dmarc_policy.as_str());
        if !self.from_domain.is_empty() {
            dmarc.push_str(&format!(" header.from={}", clean_token(&self.from_domain)));
        }
        if !self.note.is_empty() {
            dmarc.push_str(&format!(" reason=\"{}\"", clean_reason(&self.note)));
        }
        parts.push(dmarc);
        parts.push(format!("arc={}", self.arc.as_str()));
        if !self.dnsbl.is_empty() {
            parts.push(format!("x-dnsbl=listed policy.zone={}", clean_token(&self.dnsbl)));
        }
        for (i, p) in parts.iter().enumerate() {
            out.push_str("\r\n\t");
            out.push_str(p);
            if i + 1 < parts.len() {
                out.push(';');
            }
        }
        out.push_str("\r\n");
        out
    }

    /// Reads back the header `header` wrote, when it is the first field of
    /// `raw` (the desk puts it on top, above its own Received header, so a
    /// copy further down that a sender forged is never read). `None` when the
    /// first field is anything else or names another authserv-id.
    pub fn read(raw: &[u8], authserv_id: &str) -> Option<MailAuth> {
        let value = first_field(raw, "authentication-results")?;
        let (id, rest) = value.split_once(';')?;
        if !id.trim().eq_ignore_ascii_case(&clean_token(authserv_id)) {
            return None;
        }
        let mut a = MailAuth::default();
        let mut dkim_seen = false;
        for info in rest.split(';') {
            let mut words = info.split_whitespace();
            let Some((method, result)) = words.next().and_then(|w| w.split_once('=')) else { continue };
            let result = AuthResult::parse(result).unwrap_or_default();
            let props: Vec<(&str, &str)> = words.filter_map(|w| w.split_once('=')).collect();
            let prop = |name: &str| props.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.to_string());
            match method.to_ascii_lowercase().as_str() {
                "spf" if prop("smtp.helo").is_some() || info.contains("smtp.helo=") => {
                    a.helo = result;
                    a.helo_domain = prop("smtp.helo").unwrap_or_default();
                }
                "spf" => {
                    a.spf = result;
                    a.spf_domain = prop("smtp.mailfrom").unwrap_or_default();
                }
                "dkim" => {
                    if result == AuthResult::Pass {
                        a.dkim_domains.extend(prop("header.d"));
                    }
                    if !dkim_seen || result == AuthResult::Pass {
                        a.dkim = result;
                    }
                    dkim_seen = true;
                }
                "dmarc" => {
                    a.dmarc = result;
                    a.dmarc_policy = DmarcPolicy::parse(&prop("policy.dmarc").unwrap_or_default());
                    a.from_domain = prop("header.from").unwrap_or_default();
                    if let Some((_, r)) = info.split_once("reason=\"") {
                        a.note = r.split('"').next().unwrap_or_default().to_string();
                    }
                }
                "arc" => a.arc = result,
                "x-dnsbl" => a.dnsbl = prop("policy.zone").unwrap_or_default(),
                _ => {}
            }
        }
        Some(a)
    }
}

/// The value of `raw`'s first header field when it is named `name`, its
/// folded lines joined.
fn first_field(raw: &[u8], name: &str) -> Option<String> {
    let mut lines = raw.split(|&b| b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let first = std::str::from_utf8(lines.next()?).ok()?;
    let (field, value) = first.split_once(':')?;
    if !field.trim_end().eq_ignore_ascii_case(name) {
        return None;
    }
    let mut out = value.to_string();
    for l in lines {
        if !matches!(l.first(), Some(b' ' | b'\t')) {
            break;
        }
        out.push(' ');
        out.push_str(std::str::from_utf8(l).ok()?.trim());
    }
    Some(out)
}

/// A domain or id as one header token: letters, digits and `.-_` only.
fn clean_token(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')).take(253).collect()
}

/// A reason inside quotes: printable ASCII without quotes or semicolons.
fn clean_reason(s: &str) -> String {
    s.chars().filter(|c| (c.is_ascii_graphic() || *c == ' ') && !matches!(c, '"' | ';' | '\\')).take(200).collect()
}

/// Multi-label public suffixes common enough to matter for DMARC's relaxed
/// alignment (the organizational domain of `mail.example.co.uk` is
/// `example.co.uk`, not `co.uk`).
const TWO_LABEL_SUFFIXES: &[&str] = &[
    "co.uk", "org.uk", "ac.uk", "gov.uk", "me.uk", "ltd.uk", "plc.uk", "net.uk", "com.au", "net.au", "org.au", "edu.au", "gov.au", "co.nz",
    "org.nz", "net.nz", "co.jp", "ne.jp", "or.jp", "ac.jp", "co.za", "org.za", "com.br", "net.br", "org.br", "com.cn", "net.cn", "org.cn",
    "com.mx", "com.ar", "com.tr", "co.in", "net.in", "org.in", "co.kr", "or.kr", "com.sg", "com.hk", "com.tw", "co.il", "org.il", "com.pl",
    "com.es", "co.at", "or.at", "gv.at",
];

/// The organizational domain of `domain` (RFC 7489 3.2), with the common
/// multi-label public suffixes above instead of the whole Public Suffix List.
pub fn organizational_domain(domain: &str) -> &str {
    let d = domain.trim_end_matches('.');
    let dots: Vec<usize> = d.match_indices('.').map(|(i, _)| i).collect();
    let keep = |labels: usize| -> &str { if dots.len() < labels { d } else { d.get(dots[dots.len() - labels] + 1..).unwrap_or(d) } };
    let two = keep(2);
    if TWO_LABEL_SUFFIXES.iter().any(|s| two.eq_ignore_ascii_case(s)) { keep(3) } else { two }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> MailAuth {
        MailAuth {
            spf: AuthResult::Pass,
            spf_domain: "example.com".into(),
            helo: AuthResult::None,
            helo_domain: "mx.example.com".into(),
            dkim: AuthResult::Pass,
            dkim_domains: vec!["example.com".into(), "esp.test".into()],
            dmarc: AuthResult::Pass,
            dmarc_policy: DmarcPolicy::Reject,
            from_domain: "example.com".into(),
            arc: AuthResult::None,
            note: String::new(),
            dnsbl: String::new(),
        }
    }

    #[test]
    fn the_header_reads_back_only_on_top_and_for_our_id() {
        let a = sample();
        let raw = format!("{}Received: from x\r\nFrom: a@example.com\r\n\r\nbody", a.header("desk.test"));
        assert_eq!(MailAuth::read(raw.as_bytes(), "desk.test"), Some(a.clone()));
        assert_eq!(MailAuth::read(raw.as_bytes(), "other.test"), None, "another server's results are not ours");
        let below = format!("Received: from x\r\n{}\r\n", a.header("desk.test"));
        assert_eq!(MailAuth::read(below.as_bytes(), "desk.test"), None, "a copy below the top is a forgery");
    }

    #[test]
    fn verdicts_in_an_agents_words() {
        assert_eq!(sample().verdict(), Verdict::Verified("example.com".into()));
        let spoof = MailAuth {
            spf: AuthResult::Fail,
            spf_domain: "bank.example".into(),
            dkim: AuthResult::None,
            dkim_domains: vec![],
            dmarc: AuthResult::Fail,
            from_domain: "bank.example".into(),
            ..sample()
        };
        assert_eq!(spoof.verdict(), Verdict::Failed("claims to be from bank.example but DMARC failed".into()));
        assert!(spoof.dmarc_failed_with(DmarcPolicy::Reject) && spoof.spf_hard_fail());
        let slow = MailAuth {
            dmarc: AuthResult::TempError,
            dkim: AuthResult::TempError,
            dkim_domains: vec![],
            note: "DNS timeout".into(),
            ..sample()
        };
        assert!(matches!(slow.verdict(), Verdict::Unverified(w) if w.contains("DNS timeout")));
        let tampered = MailAuth {
            spf: AuthResult::None,
            dkim: AuthResult::Fail,
            dkim_domains: vec![],
            dmarc: AuthResult::None,
            dmarc_policy: DmarcPolicy::None,
            ..sample()
        };
        assert!(tampered.failed() && !tampered.spf_hard_fail());
        assert_eq!(MailAuth::default().verdict(), Verdict::Unknown);
    }

    #[test]
    fn organizational_domains() {
        assert_eq!(organizational_domain("mail.example.com"), "example.com");
        assert_eq!(organizational_domain("example.com"), "example.com");
        assert_eq!(organizational_domain("a.b.example.co.uk"), "example.co.uk");
        assert_eq!(organizational_domain("co.uk"), "co.uk");
        assert_eq!(organizational_domain("localhost"), "localhost");
        assert_eq!(organizational_domain("x.example.com."), "example.com");
    }
}
