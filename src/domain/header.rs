//! Address headers the desk writes (`From:`): the display name as an
//! RFC 5322 phrase — plain words, a quoted string with `"` and `\` escaped,
//! or, for names beyond ASCII, RFC 2047 encoded words of at most 75
//! characters each, never inside quotes (RFC 2047 §5). Control characters
//! never reach a header. Also the envelope form of an address: its domain
//! as an A-label, so only a non-ASCII local part needs SMTPUTF8.

use base64::Engine;

/// Longest encoded word RFC 2047 §2 allows.
const WORD_MAX: usize = 75;
/// `=?utf-8?b?` … `?=`.
const WORD_OVERHEAD: usize = 12;

/// `Name <addr>` for a header (just `addr` when there is no name).
pub fn mailbox(name: &str, email: &str) -> String {
    let name: String = name.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        return email.to_string();
    }
    format!("{} <{email}>", phrase(&name))
}

/// `Name <addr>, Name <addr>` for To/Cc, one address per folded line.
pub fn mailbox_list<'a>(mailboxes: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    mailboxes.map(|(name, email)| mailbox(name, email)).collect::<Vec<_>>().join(",\r\n ")
}

/// An address as it goes on the SMTP envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The address with its domain as an A-label (RFC 5890).
    pub address: String,
    /// The local part is beyond ASCII: only SMTPUTF8 (RFC 6531) carries it.
    pub needs_smtputf8: bool,
}

/// The envelope form of `address`: `a@bücher.example` becomes
/// `a@xn--bcher-kva.example` (plain SMTP carries it); `jörg@bücher.example`
/// keeps its Unicode and needs SMTPUTF8. The null sender stays empty.
pub fn envelope(address: &str) -> Result<Envelope, String> {
    if address.is_empty() {
        return Ok(Envelope { address: String::new(), needs_smtputf8: false });
    }
    let Some((local, domain)) = address.rsplit_once('@') else {
        return Err(format!("{address:?} has no domain"));
    };
    // Nothing that would end the envelope's `<…>` or its line.
    if local.is_empty() || local.contains('@') || address.chars().any(|c| c.is_control() || c.is_whitespace() || c == '<' || c == '>') {
        return Err(format!("{address:?} is not a mail address"));
    }
    let domain = if domain.is_ascii() {
        domain.to_string()
    } else {
        idna::domain_to_ascii(domain).map_err(|_| format!("{domain:?} is not a valid domain name"))?
    };
    // UTS 46 mapping may turn a compatibility character into a space.
    if domain.is_empty() || domain.chars().any(|c| !(c.is_ascii_alphanumeric() || "-.[]:_".contains(c))) {
        return Err(format!("{address:?} has no valid domain"));
    }
    Ok(Envelope { address: format!("{local}@{domain}"), needs_smtputf8: !local.is_ascii() })
}

fn phrase(name: &str) -> String {
    // A bare name with `=?` in it would read as an encoded word to a mail
    // client (a name can pose as another that way): it is quoted, where
    // encoded words are not decoded (RFC 2047 section 5).
    if !name.contains("=?") && name.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ' || "!#$%&'*+-/=?^_`{|}~".contains(c)) {
        return name.to_string();
    }
    if name.is_ascii() {
        let escaped: String = name.chars().flat_map(|c| if c == '"' || c == '\\' { vec!['\\', c] } else { vec![c] }).collect();
        return format!("\"{escaped}\"");
    }
    encoded_words(name)
}

/// The name as UTF-8 base64 encoded words, split between characters so each
/// word stays within 75 characters; joined by spaces (where a header folds).
fn encoded_words(name: &str) -> String {
    // Base64 turns 3 bytes into 4 characters.
    let max_bytes = (WORD_MAX - WORD_OVERHEAD) / 4 * 3;
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in name.chars() {
        if chunk.len() + c.len_utf8() > max_bytes {
            words.push(word(&chunk));
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(word(&chunk));
    }
    words.join(" ")
}

fn word(s: &str) -> String {
    format!("=?utf-8?b?{}?=", base64::engine::general_purpose::STANDARD.encode(s.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Decodes what `mailbox` wrote back to the name (the test's own reader).
    fn decoded_name(header: &str) -> String {
        let Some((phrase, _)) = header.rsplit_once(" <") else { return String::new() };
        if let Some(q) = phrase.strip_prefix('"').and_then(|p| p.strip_suffix('"')) {
            return q.replace("\\\"", "\"").replace("\\\\", "\\");
        }
        if phrase.starts_with("=?") {
            return phrase
                .split(' ')
                .map(|w| {
                    let b64 = w.trim_start_matches("=?utf-8?b?").trim_end_matches("?=");
                    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(b64).unwrap()).unwrap()
                })
                .collect();
        }
        phrase.to_string()
    }

    #[test]
    fn names_become_phrases() {
        assert_eq!(mailbox("Help Desk", "support@x.test"), "Help Desk <support@x.test>");
        // What a client would decode as an encoded word stays literal.
        assert_eq!(mailbox("=?utf-8?q?Admin?=", "a@x.test"), "\"=?utf-8?q?Admin?=\" <a@x.test>");
        assert_eq!(mailbox("", "support@x.test"), "support@x.test");
        assert_eq!(mailbox("Smith, Ann (IT)", "a@x.test"), "\"Smith, Ann (IT)\" <a@x.test>");
        assert_eq!(mailbox("The \"Best\" Desk", "a@x.test"), "\"The \\\"Best\\\" Desk\" <a@x.test>");
        assert_eq!(mailbox("Jörg", "a@x.test"), "=?utf-8?b?SsO2cmc=?= <a@x.test>");
        assert_eq!(mailbox("Evil\r\nBcc: all@x.test", "a@x.test"), "\"Evil Bcc: all@x.test\" <a@x.test>");
        let long = mailbox(&"Støttesenteret for kunder i Nord-Norge og på Svalbard ".repeat(3), "a@x.test");
        assert!(long.split(' ').filter(|w| w.starts_with("=?")).all(|w| w.len() <= WORD_MAX), "{long}");
        assert!(!long.contains('"'), "encoded words are never quoted: {long}");
    }

    #[test]
    fn envelopes_use_a_labels_and_ask_for_smtputf8_only_for_unicode_local_parts() {
        let e = envelope("a@bücher.example").unwrap();
        assert_eq!(e, Envelope { address: "a@xn--bcher-kva.example".into(), needs_smtputf8: false });
        let e = envelope("jörg@bücher.example").unwrap();
        assert_eq!(e, Envelope { address: "jörg@xn--bcher-kva.example".into(), needs_smtputf8: true });
        assert_eq!(envelope("").unwrap().address, "");
        assert!(envelope("plain@example.test").is_ok_and(|e| !e.needs_smtputf8 && e.address == "plain@example.test"));
        assert!(envelope("nodomain").is_err());
        assert!(envelope("a@").is_err());
        assert!(envelope("a b@x.test").is_err());
        for bad in ["a\r\nRCPT TO:<x@y.test>@x.test", "a@x.test\r\nDATA", "a\0@x.test", "a@x\u{2028}.test", "a>b@x.test"] {
            assert!(envelope(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            mailbox_list([("Ann", "ann@x.test"), ("", "jörg@bücher.example")].into_iter()),
            "Ann <ann@x.test>,\r\n jörg@bücher.example"
        );
    }

    proptest! {
        #[test]
        fn any_address_gets_an_envelope_or_a_reason(local in "\\PC{0,12}", domain in "\\PC{0,20}") {
            let a = format!("{local}@{domain}");
            match envelope(&a) {
                Ok(e) => {
                    prop_assert!(!e.address.contains(['\r', '\n', ' ', '<', '>']));
                    prop_assert_eq!(e.needs_smtputf8, !local.is_ascii());
                    prop_assert!(e.address.rsplit_once('@').is_some_and(|(_, d)| d.is_ascii()));
                }
                Err(why) => prop_assert!(!why.is_empty()),
            }
        }

        #[test]
        fn any_name_round_trips_and_stays_on_its_line(name in "\\PC{0,80}", local in "[a-z]{1,10}") {
            let email = format!("{local}@x.test");
            let h = mailbox(&name, &email);
            prop_assert!(!h.contains('\r') && !h.contains('\n'));
            let bracketed = format!("<{}>", email);
            prop_assert!(h.ends_with(&bracketed) || h == email);
            let want = name.split_whitespace().collect::<Vec<_>>().join(" ");
            if !want.is_empty() {
                prop_assert_eq!(decoded_name(&h), want);
            }
            for w in h.split(' ').filter(|w| w.starts_with("=?")) {
                prop_assert!(w.len() <= WORD_MAX);
            }
        }
    }
}
