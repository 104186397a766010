//! Parse → classify: turns raw RFC 5322 bytes into what the desk needs (who,
//! subject, readable text, sanitized HTML, attachments, thread ids) and decides
//! whether it is a bounce or an auto-reply (DESIGN promise 3). Pure: no store.
//!
//! Bytes that are not valid MIME still yield a message: the readable text is the
//! raw source decoded leniently, and the raw source is always kept.

#![deny(clippy::string_slice)]

use mail_parser::{Addr, Address, MessageParser, MimeHeaders, PartType};

use crate::domain::text::{enclosed, from_ci, starts_with_ci, strip_prefix_ci};

/// An attachment or inline image found in a message.
#[derive(Debug, Clone)]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    pub data: Vec<u8>,
    /// Content-ID (without brackets) for inline images referenced as `cid:`.
    pub content_id: Option<String>,
}

/// Why a message must never create a ticket or get an automatic answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AutoKind {
    Bounce(String),
    AutoReply(String),
}

impl AutoKind {
    pub fn describe(&self) -> String {
        match self {
            AutoKind::Bounce(why) => format!("bounce ({why})"),
            AutoKind::AutoReply(why) => format!("auto-reply ({why})"),
        }
    }
}

/// A person named in a header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub name: String,
    pub email: String,
}

/// Everything the desk uses from one inbound message.
#[derive(Debug, Clone, Default)]
pub struct ParsedMail {
    pub message_id: Option<String>,
    /// In-Reply-To then References, most specific first, normalised.
    pub thread_ids: Vec<String>,
    pub from: Option<Mailbox>,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    pub subject: String,
    /// The readable text of the whole body.
    pub text: String,
    /// `text` without the quoted history of earlier messages.
    pub text_clean: String,
    /// Sanitized HTML body, if the message had an HTML part.
    pub html: Option<String>,
    pub attachments: Vec<Attachment>,
    /// Attachments over the size limit: (file name, size). They stay in the
    /// raw original.
    pub skipped: Vec<(String, u64)>,
    pub auto: Option<AutoKind>,
    /// For a forward: the original sender found in the forwarded part.
    pub forwarded_from: Option<Mailbox>,
    /// The message could not be parsed as MIME; text is the raw source.
    pub unparsed: bool,
    /// SPF/DKIM/DMARC as checked on accept (read from the desk's own
    /// Authentication-Results header, `domain::auth::MailAuth::read`).
    pub auth: Option<crate::domain::auth::MailAuth>,
    /// What the spam engine said on accept (`domain::verdict`).
    pub spam: Option<crate::domain::verdict::SpamVerdict>,
    /// A bounce's per-recipient failures (RFC 3464 delivery-status).
    pub bounces: Vec<crate::domain::dsn::DsnRecipient>,
}

/// Readable text: CRLF → LF, no NUL or other control characters but tab and
/// newline (they come from broken mail and only confuse displays).
pub fn clean_text(s: &str) -> String {
    s.replace("\r\n", "\n").chars().filter(|&c| c == '\n' || c == '\t' || !c.is_control()).collect()
}

/// Normalises a Message-ID: no brackets, no spaces. The case is kept: ids
/// are compared case-insensitively where they are looked up, but always sent
/// back exactly as the customer's client wrote them (mutt, Gmail and Outlook
/// thread by the exact id).
pub fn normalize_msgid(s: &str) -> String {
    s.trim_matches(|c: char| c == '<' || c == '>' || c.is_whitespace()).to_string()
}

fn mailbox(a: &Addr) -> Option<Mailbox> {
    let email = crate::domain::people::normalize_email(a.address()?)?;
    Some(Mailbox { name: a.name().map(|n| n.trim().trim_matches('"').trim().to_string()).unwrap_or_default(), email })
}

fn mailboxes(a: Option<&Address>) -> Vec<Mailbox> {
    a.map(|a| a.iter().filter_map(mailbox).collect()).unwrap_or_default()
}

fn ext_for(content_type: &str) -> &'static str {
    match content_type {
        "image/png" => ".png",
        "image/jpeg" => ".jpg",
        "image/gif" => ".gif",
        "image/webp" => ".webp",
        "application/pdf" => ".pdf",
        "text/plain" => ".txt",
        "text/calendar" => ".ics",
        "message/rfc822" => ".eml",
        _ => ".bin",
    }
}

/// Keeps only characters safe in a download name.
pub fn safe_filename(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| if c.is_control() || matches!(c, '/' | '\\' | '"' | ':' | '*' | '?' | '<' | '>' | '|') { '_' } else { c })
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_string();
    let cleaned: String = cleaned.chars().take(150).collect();
    if cleaned.is_empty() { "attachment".into() } else { cleaned }
}

/// Out-of-office subjects in common languages (lower-case prefixes/contains).
const OOO_SUBJECTS: &[&str] = &[
    "out of office",
    "out of the office",
    "automatic reply",
    "auto reply",
    "autoreply",
    "auto-reply",
    "auto:",
    "abwesenheitsnotiz",
    "automatische antwort",
    "réponse automatique",
    "reponse automatique",
    "absence du bureau",
    "respuesta automática",
    "respuesta automatica",
    "fuera de la oficina",
    "risposta automatica",
    "fuori ufficio",
    "afwezigheidsbericht",
    "automatisch antwoord",
    "resposta automática",
    "autosvar",
    "frånvaro",
];

/// Subject prefixes that mark a forward, in common languages.
const FORWARD_PREFIXES: &[&str] = &["fwd:", "fw:", "wg:", "tr:", "rv:", "fwd :", "tr :", "doorst:", "vs:", "enc:", "i:", "vb:"];

pub fn is_forward_subject(subject: &str) -> bool {
    let s = subject.trim_start();
    FORWARD_PREFIXES.iter().any(|p| starts_with_ci(s, p))
}

/// Strips reply/forward prefixes for display ("Re: Fwd: x" → "x").
pub fn clean_subject(subject: &str) -> String {
    let mut s = subject.trim();
    while let Some(rest) = ["re:", "aw:", "sv:", "antw:", "réf:", "ref:"].iter().chain(FORWARD_PREFIXES).find_map(|p| strip_prefix_ci(s, p))
    {
        s = rest.trim_start();
    }
    s.to_string()
}

/// Decides bounce / auto-reply from the envelope and headers.
fn classify(msg: &mail_parser::Message, envelope_from: &str, from: Option<&Mailbox>, subject: &str) -> Option<AutoKind> {
    let raw = |h: &str| msg.header_raw(h).map(|v| v.trim().to_lowercase());
    if envelope_from.trim().is_empty() || envelope_from.trim() == "<>" {
        return Some(AutoKind::Bounce("null reverse-path".into()));
    }
    if let Some(f) = from {
        let local = f.email.split('@').next().unwrap_or("");
        if local == "mailer-daemon" || local == "postmaster" {
            return Some(AutoKind::Bounce(format!("sent by {}", f.email)));
        }
    }
    if let Some(ct) = msg.root_part().content_type()
        && ct.ctype().eq_ignore_ascii_case("multipart")
        && ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case("report"))
    {
        return Some(AutoKind::Bounce("multipart/report".into()));
    }
    if let Some(v) = raw("Auto-Submitted")
        && v.split(';').next().map(str::trim) != Some("no")
    {
        return Some(AutoKind::AutoReply(format!("Auto-Submitted: {v}")));
    }
    for h in ["X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress", "X-Autogenerated"] {
        if let Some(v) = raw(h) {
            return Some(AutoKind::AutoReply(format!("{h}: {v}")));
        }
    }
    if let Some(v) = raw("Precedence")
        && matches!(v.as_str(), "bulk" | "junk" | "list" | "auto_reply")
    {
        return Some(AutoKind::AutoReply(format!("Precedence: {v}")));
    }
    if raw("List-Id").is_some() {
        return Some(AutoKind::AutoReply("mailing list (List-Id)".into()));
    }
    let s = subject.trim().to_lowercase();
    if let Some(p) = OOO_SUBJECTS.iter().find(|p| s.starts_with(*p) || (p.len() > 6 && s.contains(*p))) {
        return Some(AutoKind::AutoReply(format!("out-of-office subject ({p})")));
    }
    None
}

/// The failed recipients a bounce reports in its `message/delivery-status`
/// (or `message/global-delivery-status`) part.
fn delivery_status(msg: &mail_parser::Message) -> Vec<crate::domain::dsn::DsnRecipient> {
    msg.parts
        .iter()
        .filter(|p| {
            p.content_type().is_some_and(|ct| {
                ct.ctype().eq_ignore_ascii_case("message")
                    && ct
                        .subtype()
                        .is_some_and(|s| s.eq_ignore_ascii_case("delivery-status") || s.eq_ignore_ascii_case("global-delivery-status"))
            })
        })
        .flat_map(|p| crate::domain::dsn::parse_delivery_status(&String::from_utf8_lossy(p.contents())))
        .collect()
}

/// Whether an address is one nobody reads (`noreply@`, `no-reply@`,
/// `donotreply@` …): mail from it is automatic, mail to it pointless.
pub fn is_noreply(email: &str) -> bool {
    let local = email.rsplit_once('@').map(|(l, _)| l).unwrap_or(email).to_ascii_lowercase();
    let bare: String = local.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    ["noreply", "donotreply", "noreplies", "donotrespond", "noresponse"].iter().any(|p| bare.starts_with(p))
}

/// Finds the original sender in a forwarded message: an attached
/// message/rfc822, or an inline "From: Name <addr>" after a forward marker.
fn forwarded_sender(msg: &mail_parser::Message, text: &str) -> Option<Mailbox> {
    for part in msg.attachments() {
        if let Some(inner) = part.message()
            && let Some(f) = inner.from().and_then(|a| a.first()).and_then(mailbox)
        {
            return Some(f);
        }
    }
    let markers = [
        "forwarded message",
        "original message",
        "weitergeleitete nachricht",
        "message transféré",
        "mensaje reenviado",
        "begin forwarded message",
    ];
    // The earliest marker in the text (not in a lower-cased copy: lower-casing
    // changes byte lengths, so its offsets are not offsets in `text`).
    let forwarded = markers.iter().filter_map(|m| from_ci(text, m)).max_by_key(|rest| rest.len()).unwrap_or(text);
    for line in forwarded.lines().take(40) {
        let l = line.trim().trim_start_matches('>').trim().trim_start_matches('*').trim();
        for key in ["from:", "von:", "de :", "de:", "van:", "da:"] {
            if let Some(rest) = strip_prefix_ci(l, key)
                && let Some(m) = parse_inline_address(rest)
            {
                return Some(m);
            }
        }
    }
    None
}

/// `Name <a@b>`, `"Name" <a@b>`, `a@b`, or `Name [mailto:a@b]`.
fn parse_inline_address(s: &str) -> Option<Mailbox> {
    let s = s.trim().trim_end_matches('*');
    let (name, addr) = if let Some((name, addr)) = enclosed(s, "<", '>') {
        (name.trim(), addr)
    } else if let Some((name, addr)) = enclosed(s, "[mailto:", ']') {
        (name.trim(), addr)
    } else {
        ("", s.split_whitespace().find(|w| w.contains('@')).unwrap_or(""))
    };
    let email = crate::domain::people::normalize_email(addr)?;
    Some(Mailbox { name: name.trim_matches('"').trim().to_string(), email })
}

/// Cuts the quoted history of earlier messages from a reply's text.
pub fn strip_quoted(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut cut = lines.len();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim();
        let lower = t.to_lowercase();
        let next = lines.get(i + 1).map(|l| l.trim().to_lowercase()).unwrap_or_default();
        let wrote = |l: &str| {
            l.ends_with("wrote:")
                || l.ends_with("a écrit :")
                || l.ends_with("a écrit:")
                || l.ends_with("schrieb:")
                || l.ends_with("escribió:")
                || l.ends_with("ha scritto:")
                || l.ends_with("schreef:")
        };
        let is_header_block = (lower.starts_with("from:") || lower.starts_with("von:") || lower.starts_with("de :"))
            && lines[i + 1..].iter().take(4).any(|l| {
                let l = l.trim().to_lowercase();
                l.starts_with("sent:")
                    || l.starts_with("date:")
                    || l.starts_with("gesendet:")
                    || l.starts_with("envoyé :")
                    || l.starts_with("to:")
            });
        let starts_quote = ((lower.starts_with("on ") || lower.starts_with("am ") || lower.starts_with("le ") || lower.starts_with("el "))
            && (wrote(&lower) || wrote(&format!("{lower} {next}"))))
            || lower.starts_with("-----original message-----")
            || lower.starts_with("----- original message -----")
            || (t.starts_with("________________") && lines[i + 1..].iter().take(2).any(|l| l.trim().to_lowercase().starts_with("from:")))
            || is_header_block;
        if starts_quote && i > 0 {
            cut = i;
            break;
        }
    }
    // A trailing block of "> " lines is quoted history too.
    let mut end = cut;
    while end > 0 && (lines[end - 1].trim_start().starts_with('>') || lines[end - 1].trim().is_empty()) {
        end -= 1;
    }
    let kept = lines[..end].join("\n").trim_end().to_string();
    if kept.trim().is_empty() { text.trim_end().to_string() } else { kept }
}

/// Sanitizes HTML for display; `cid:` image links survive (rewritten on display).
pub fn sanitize_html(html: &str) -> String {
    let mut schemes = std::collections::HashSet::new();
    for s in ["http", "https", "mailto", "cid", "data"] {
        schemes.insert(s);
    }
    ammonia::Builder::default().url_schemes(schemes).link_rel(Some("noopener noreferrer nofollow")).clean(html).to_string()
}

/// Parses raw message bytes. `envelope_from` is the SMTP MAIL FROM (empty for
/// the null reverse-path).
pub fn parse(raw: &[u8], envelope_from: &str, max_attachment: u64) -> ParsedMail {
    // Header fields in a legacy charset without encoded words, as UTF-8.
    let fixed = crate::domain::rawheaders::repaired(raw);
    let raw = fixed.as_deref().unwrap_or(raw);
    // Real mail has at least one proper header field; anything else is text.
    let is_field_name = |n: &str| !n.is_empty() && n.bytes().all(|b| (33..127).contains(&b) && b != b':');
    let parsed = MessageParser::default().parse(raw).filter(|m| m.headers().iter().any(|h| is_field_name(h.name())));
    let Some(msg) = parsed else {
        let text = clean_text(&String::from_utf8_lossy(raw));
        let from = crate::domain::people::normalize_email(envelope_from).map(|email| Mailbox { name: String::new(), email });
        let auto = if envelope_from.trim().is_empty() { Some(AutoKind::Bounce("null reverse-path".into())) } else { None };
        return ParsedMail { text_clean: text.clone(), text, from, auto, unparsed: true, ..Default::default() };
    };
    let from = msg.from().and_then(|a| a.first()).and_then(mailbox).or_else(|| msg.sender().and_then(|a| a.first()).and_then(mailbox));
    let from = from.or_else(|| crate::domain::people::normalize_email(envelope_from).map(|email| Mailbox { name: String::new(), email }));
    let subject = msg.subject().map(|s| s.trim().to_string()).unwrap_or_default();
    let mut thread_ids = Vec::new();
    for v in [msg.in_reply_to(), msg.references()] {
        let ids: Vec<String> = match v {
            mail_parser::HeaderValue::Text(t) => vec![t.to_string()],
            mail_parser::HeaderValue::TextList(l) => l.iter().rev().map(|s| s.to_string()).collect(),
            _ => Vec::new(),
        };
        for id in ids {
            let id = normalize_msgid(&id);
            if !id.is_empty() && !thread_ids.iter().any(|t: &String| t.eq_ignore_ascii_case(&id)) {
                thread_ids.push(id);
            }
        }
    }
    let mut text = String::new();
    for i in 0..msg.text_body_count().min(20) {
        // An HTML-only part: tables, lists and blocks kept as lines.
        let html_part = msg.text_body.get(i).and_then(|id| msg.parts.get(*id as usize)).and_then(|p| match &p.body {
            PartType::Html(h) => Some(crate::domain::htmltext::text_of(h)),
            _ => None,
        });
        if let Some(t) = html_part.map(std::borrow::Cow::Owned).or_else(|| msg.body_text(i)) {
            if !text.is_empty() {
                text.push_str("\n\n");
            }
            text.push_str(t.trim_end());
        }
    }
    let html = msg
        .html_bodies()
        .find_map(|p| match &p.body {
            PartType::Html(h) => Some(sanitize_html(h)),
            _ => None,
        })
        .filter(|h| !h.trim().is_empty());
    let mut attachments = Vec::new();
    let mut skipped = Vec::new();
    for (i, part) in msg.attachments().enumerate().take(200) {
        let data = part.contents();
        if data.len() as u64 > max_attachment {
            skipped.push((part.attachment_name().map(safe_filename).unwrap_or_else(|| format!("attachment-{}", i + 1)), data.len() as u64));
            continue;
        }
        let content_type = part
            .content_type()
            .map(|ct| format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or("octet-stream")).to_lowercase())
            .unwrap_or_else(|| if part.message().is_some() { "message/rfc822".into() } else { "application/octet-stream".into() });
        let filename = match part.attachment_name() {
            Some(n) => safe_filename(n),
            None => match part.message().and_then(|m| m.subject()) {
                Some(s) => safe_filename(&format!("{s}.eml")),
                None => format!("attachment-{}{}", i + 1, ext_for(&content_type)),
            },
        };
        attachments.push(Attachment {
            filename,
            content_type,
            data: data.to_vec(),
            content_id: part.content_id().map(|c| normalize_msgid(c).to_lowercase()),
        });
    }
    let auto = classify(&msg, envelope_from, from.as_ref(), &subject);
    let bounces = if matches!(auto, Some(AutoKind::Bounce(_))) { delivery_status(&msg) } else { Vec::new() };
    if matches!(auto, Some(AutoKind::Bounce(_))) {
        // A bounce carries the original message (or its headers): its
        // Message-ID says which ticket the failed mail belonged to.
        for part in msg.attachments().chain(msg.text_bodies()) {
            let inner_ids: Vec<String> = match part.message() {
                Some(inner) => inner.message_id().map(normalize_msgid).into_iter().collect(),
                None => String::from_utf8_lossy(part.contents())
                    .lines()
                    .filter_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.trim().eq_ignore_ascii_case("message-id").then(|| normalize_msgid(v))
                    })
                    .collect(),
            };
            for id in inner_ids {
                if !id.is_empty() && !thread_ids.contains(&id) {
                    thread_ids.push(id);
                }
            }
        }
    }
    let forwarded_from = if is_forward_subject(&subject) { forwarded_sender(&msg, &text) } else { None };
    let text = clean_text(&text);
    let subject = clean_text(&subject).replace(['\n', '\t'], " ");
    let text_clean = if forwarded_from.is_some() { text.clone() } else { strip_quoted(&text) };
    ParsedMail {
        message_id: msg.message_id().map(normalize_msgid).filter(|s| !s.is_empty()),
        thread_ids,
        from,
        to: mailboxes(msg.to()),
        cc: mailboxes(msg.cc()),
        subject,
        text,
        text_clean,
        html,
        attachments,
        skipped,
        auto,
        forwarded_from,
        unparsed: false,
        auth: None,
        spam: None,
        bounces,
    }
}

/// Finds a `[PREFIX-000123]` reference in a subject.
pub fn subject_reference(subject: &str, prefix: &str) -> Option<u64> {
    let pat = format!("[{prefix}-");
    let mut rest = subject;
    while let Some(after) = from_ci(rest, &pat).and_then(|r| strip_prefix_ci(r, &pat)) {
        let digits: String = after.chars().take_while(|c| c.is_ascii_digit()).collect();
        if !digits.is_empty() && after.get(digits.len()..).is_some_and(|r| r.starts_with(']')) {
            return digits.parse().ok().filter(|n| *n > 0);
        }
        rest = after;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_quoted_history() {
        let t = "Thanks, that worked.\n\nOn Mon, 23 Nov 2026 at 10:00, Desk <support@x.test> wrote:\n> Please restart.\n> Bye";
        assert_eq!(strip_quoted(t), "Thanks, that worked.");
        let t = "Still broken.\n\n-----Original Message-----\nFrom: Desk\nSent: Monday\nSubject: x\n\nold";
        assert_eq!(strip_quoted(t), "Still broken.");
        let t = "Yes.\n\nOn Mon, 23 Nov 2026 at 10:00, Support Team\n<support@x.test> wrote:\n> old";
        assert_eq!(strip_quoted(t), "Yes.");
        let t = "Merci.\n\nLe lun. 23 nov. 2026 à 10:00, Desk a écrit :\n> vieux";
        assert_eq!(strip_quoted(t), "Merci.");
        let t = "Hi\n\n________________________________\nFrom: Desk <s@x.test>\nSent: Monday\n\nold";
        assert_eq!(strip_quoted(t), "Hi");
        let t = "> only quote\n> lines";
        assert_eq!(strip_quoted(t), t, "nothing but quotes: keep it all");
        assert_eq!(strip_quoted("plain\ntext"), "plain\ntext");
    }

    #[test]
    fn finds_subject_references() {
        assert_eq!(subject_reference("Re: [TKT-000123] Printer", "TKT"), Some(123));
        assert_eq!(subject_reference("re: [tkt-42] x", "TKT"), Some(42));
        assert_eq!(subject_reference("[TKT-] [TKT-7]", "TKT"), Some(7));
        assert_eq!(subject_reference("TKT-000123 no brackets", "TKT"), None);
        assert_eq!(subject_reference("[ABC-1]", "TKT"), None);
        assert_eq!(subject_reference("[TKT-0]", "TKT"), None);
    }

    #[test]
    fn subjects() {
        assert!(
            is_forward_subject("Fwd: hi")
                && is_forward_subject("FW: hi")
                && is_forward_subject("WG: hallo")
                && is_forward_subject("TR: salut")
        );
        assert!(!is_forward_subject("Re: hi"));
        assert_eq!(clean_subject("Re: Fwd: RE: hello"), "hello");
    }

    #[test]
    fn classifies_auto_mail() {
        let p = |raw: &str, env: &str| parse(raw.as_bytes(), env, 1 << 20).auto;
        assert!(matches!(p("From: a@b.test\r\nSubject: x\r\n\r\nhi", ""), Some(AutoKind::Bounce(_))));
        assert!(matches!(p("From: MAILER-DAEMON@b.test\r\nSubject: fail\r\n\r\nhi", "x@b.test"), Some(AutoKind::Bounce(_))));
        assert!(matches!(p("From: a@b.test\r\nAuto-Submitted: auto-replied\r\n\r\nhi", "a@b.test"), Some(AutoKind::AutoReply(_))));
        assert_eq!(p("From: a@b.test\r\nAuto-Submitted: no\r\n\r\nhi", "a@b.test"), None);
        assert!(matches!(p("From: a@b.test\r\nPrecedence: bulk\r\n\r\nhi", "a@b.test"), Some(AutoKind::AutoReply(_))));
        assert!(matches!(p("From: a@b.test\r\nList-Id: <l.b.test>\r\n\r\nhi", "a@b.test"), Some(AutoKind::AutoReply(_))));
        assert!(matches!(p("From: a@b.test\r\nSubject: Out of Office: back Monday\r\n\r\nhi", "a@b.test"), Some(AutoKind::AutoReply(_))));
        assert!(matches!(p("From: a@b.test\r\nSubject: Automatische Antwort: Urlaub\r\n\r\nhi", "a@b.test"), Some(AutoKind::AutoReply(_))));
        assert_eq!(p("From: a@b.test\r\nSubject: Printer out of paper\r\n\r\nhi", "a@b.test"), None);
    }

    #[test]
    fn finds_the_forwarded_sender() {
        let raw = "From: Agent <agent@desk.test>\r\nSubject: Fwd: broken\r\n\r\nsee below\r\n\r\n---------- Forwarded message ---------\r\nFrom: Carol Customer <carol@customer.test>\r\nDate: Mon\r\nSubject: broken\r\n\r\nit is broken\r\n";
        let m = parse(raw.as_bytes(), "agent@desk.test", 1 << 20);
        assert_eq!(m.forwarded_from, Some(Mailbox { name: "Carol Customer".into(), email: "carol@customer.test".into() }));
        let raw = "From: a@desk.test\r\nSubject: FW: x\r\n\r\n-----Original Message-----\r\nFrom: Dan [mailto:dan@c.test]\r\nSent: Monday\r\n\r\nhello";
        assert_eq!(parse(raw.as_bytes(), "a@desk.test", 1 << 20).forwarded_from.map(|m| m.email), Some("dan@c.test".into()));
    }

    #[test]
    fn garbage_still_gives_text() {
        let m = parse(b"\xff\xfe not mime at all", "x@y.test", 1 << 20);
        assert!(m.text.contains("not mime at all"));
    }

    #[test]
    fn html_is_sanitized() {
        let h = sanitize_html("<p onclick='x()'>Hi<script>alert(1)</script><img src='cid:abc'><a href='javascript:x'>l</a></p>");
        assert!(!h.contains("script") && !h.contains("onclick") && !h.contains("javascript"));
        assert!(h.contains("cid:abc"));
    }
}
