//! Header fields that broke the rules on the way in: raw 8-bit text in a
//! legacy charset (`From: Jürgen Weiß` in ISO-8859-1) or raw ISO-2022-JP
//! escape sequences (`From: 佐藤 健`) instead of RFC 2047 encoded words.
//! Such fields are decoded to UTF-8 (RFC 6532 allows it) before the message
//! is parsed, so names and subjects read as written; the stored original is
//! not changed. The charset is ISO-2022-JP when escape sequences are
//! present, else the message's declared charset, else Windows-1252 (what
//! such mailers mean by Latin-1).

use mail_parser::decoders::charsets::map::charset_decoder;

const ESC: u8 = 0x1b;

/// Where the header block ends (the index of its blank line), if it does.
fn header_end(raw: &[u8]) -> Option<usize> {
    let crlf = raw.windows(4).position(|w| w == b"\r\n\r\n");
    let lf = raw.windows(2).position(|w| w == b"\n\n");
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The `charset` parameter of the top-level Content-Type, lower-cased.
fn declared_charset(head: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    let field = text.split('\n').position(|l| l.starts_with("content-type:"))?;
    // The field with its continuation lines.
    let lines: Vec<&str> = text.split('\n').collect();
    let mut value = String::new();
    for (i, l) in lines.iter().enumerate().skip(field) {
        if i > field && !l.starts_with([' ', '\t']) {
            break;
        }
        value.push_str(l);
    }
    let (_, after) = value.split_once("charset=")?;
    let name: String =
        after.trim_start_matches('"').chars().take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':')).collect();
    (!name.is_empty()).then_some(name)
}

/// The message with its header fields in UTF-8, or `None` when they already
/// are (nothing to do).
pub fn repaired(raw: &[u8]) -> Option<Vec<u8>> {
    let end = header_end(raw)?;
    let head = raw.get(..end)?;
    let jis = head.contains(&ESC);
    if !jis && std::str::from_utf8(head).is_ok() {
        return None;
    }
    let legacy = declared_charset(head).filter(|c| !matches!(c.as_str(), "utf-8" | "utf8" | "us-ascii"));
    let eight_bit = legacy.as_deref().and_then(|c| charset_decoder(c.as_bytes())).or_else(|| charset_decoder(b"windows-1252"))?;
    let iso_2022_jp = charset_decoder(b"iso-2022-jp")?;
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 8);
    for line in head.split_inclusive(|b| *b == b'\n') {
        if line.contains(&ESC) {
            out.extend(iso_2022_jp(line).into_bytes());
        } else if std::str::from_utf8(line).is_err() {
            out.extend(eight_bit(line).into_bytes());
        } else {
            out.extend(line);
        }
    }
    out.extend(raw.get(end..)?);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_name(raw: &[u8]) -> String {
        let fixed = repaired(raw);
        let m = crate::domain::mail::parse(fixed.as_deref().unwrap_or(raw), "bounce@x.test", 1 << 20);
        m.from.map(|f| format!("{} <{}>", f.name, f.email)).unwrap_or_default()
    }

    #[test]
    fn legacy_names_read_as_written() {
        let jis = b"From: \x1b$B:4F#\x1b(B \x1b$B7r\x1b(B <sato@example.jp>\r\nSubject: \x1b$B%m%0%$%s\x1b(B\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\n\r\nhi\r\n";
        assert_eq!(from_name(jis), "佐藤 健 <sato@example.jp>");
        assert_eq!(crate::domain::mail::parse(jis, "", 1 << 20).subject, "ログイン");
        let latin = b"From: J\xfcrgen Wei\xdf <j@example.de>\r\nSubject: Gr\xfc\xdfe\r\nContent-Type: text/plain;\r\n charset=\"ISO-8859-1\"\r\n\r\nhi\r\n";
        assert_eq!(from_name(latin), "Jürgen Weiß <j@example.de>");
        let fixed = repaired(latin).unwrap();
        assert!(String::from_utf8_lossy(&fixed).contains("Subject: Grüße\r\n"));
        // Undeclared: Windows-1252 (the euro sign is 0x80 there).
        let undeclared = b"From: \x80 Fran\xe7ois <f@example.fr>\n\nhi\n";
        assert_eq!(from_name(undeclared), "€ François <f@example.fr>");
        // Proper mail is left alone, the body untouched either way.
        assert_eq!(repaired(b"From: =?UTF-8?Q?J=C3=BCrgen?= <j@example.de>\r\n\r\nbody \xff\r\n"), None);
        assert!(repaired(latin).unwrap().ends_with(b"\r\n\r\nhi\r\n"));
        assert_eq!(repaired(b"no header end \xff"), None);
    }
}
