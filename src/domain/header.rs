//! Address headers the desk writes (`From:`): the display name as an
//! RFC 5322 phrase — plain words, a quoted string with `"` and `\` escaped,
//! or, for names beyond ASCII, RFC 2047 encoded words of at most 75
//! characters each, never inside quotes (RFC 2047 §5). Control characters
//! never reach a header.

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

fn phrase(name: &str) -> String {
    if name.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ' || "!#$%&'*+-/=?^_`{|}~".contains(c)) {
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
        assert_eq!(mailbox("", "support@x.test"), "support@x.test");
        assert_eq!(mailbox("Smith, Ann (IT)", "a@x.test"), "\"Smith, Ann (IT)\" <a@x.test>");
        assert_eq!(mailbox("The \"Best\" Desk", "a@x.test"), "\"The \\\"Best\\\" Desk\" <a@x.test>");
        assert_eq!(mailbox("Jörg", "a@x.test"), "=?utf-8?b?SsO2cmc=?= <a@x.test>");
        assert_eq!(mailbox("Evil\r\nBcc: all@x.test", "a@x.test"), "\"Evil Bcc: all@x.test\" <a@x.test>");
        let long = mailbox(&"Støttesenteret for kunder i Nord-Norge og på Svalbard ".repeat(3), "a@x.test");
        assert!(long.split(' ').filter(|w| w.starts_with("=?")).all(|w| w.len() <= WORD_MAX), "{long}");
        assert!(!long.contains('"'), "encoded words are never quoted: {long}");
    }

    proptest! {
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
