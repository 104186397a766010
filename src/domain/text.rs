//! Case-insensitive matching on text from outside without carrying byte
//! offsets from one string into another.
//!
//! Lower-casing can change byte length (U+212A KELVIN SIGN is 3 bytes, its
//! lower case `k` is 1; U+0130 grows), so an offset found in `s.to_lowercase()`
//! is not an offset in `s`. Every function here walks the original string and
//! returns slices of it, cut only where its own `char_indices` say.
#![deny(clippy::string_slice)]

/// Compares two characters the way `to_lowercase` would, without allocating.
fn same_ci(a: char, b: char) -> bool {
    a == b || a.to_lowercase().eq(b.to_lowercase())
}

/// `s` without `prefix` at its start, compared case-insensitively per
/// character; the rest is a slice of `s` itself.
pub fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let mut it = s.char_indices();
    for p in prefix.chars() {
        let (_, c) = it.next()?;
        if !same_ci(c, p) {
            return None;
        }
    }
    Some(match it.next() {
        Some((i, _)) => s.get(i..).unwrap_or(""),
        None => "",
    })
}

/// Whether `s` starts with `prefix`, case-insensitively.
pub fn starts_with_ci(s: &str, prefix: &str) -> bool {
    strip_prefix_ci(s, prefix).is_some()
}

/// The byte offset *in `s`* of the first case-insensitive occurrence of
/// `needle`.
pub fn find_ci(s: &str, needle: &str) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    s.char_indices().map(|(i, _)| i).find(|&i| s.get(i..).is_some_and(|rest| starts_with_ci(rest, needle)))
}

/// `s` from the first case-insensitive occurrence of `needle` on (a slice of `s`).
pub fn from_ci<'a>(s: &'a str, needle: &str) -> Option<&'a str> {
    find_ci(s, needle).and_then(|i| s.get(i..))
}

/// The text between the first `open` and the last `close` after it, and the
/// text before `open`: `("Name ", "addr")` for `Name <addr>`.
pub fn enclosed<'a>(s: &'a str, open: &str, close: char) -> Option<(&'a str, &'a str)> {
    let (before, rest) = s.split_once(open)?;
    let (inner, _) = rest.rsplit_once(close)?;
    Some((before, inner))
}

/// At most `max` bytes of `s`, cut on a character boundary.
pub fn truncate_bytes(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let end = s.char_indices().map(|(i, _)| i).take_while(|&i| i <= max).last().unwrap_or(0);
    s.get(..end).unwrap_or("")
}

/// One line of a message for a list (the queue's preview): quoted lines
/// (`>`) left out, whitespace and control characters run together into
/// single spaces, at most `max` characters, an ellipsis when cut.
pub fn one_line(text: &str, max: usize) -> String {
    let mut out = String::new();
    let mut count = 0usize;
    let mut space = false;
    for line in text.lines().filter(|l| !l.trim_start().starts_with('>')) {
        for c in line.chars().chain(std::iter::once(' ')) {
            if c.is_whitespace() || c.is_control() {
                space = !out.is_empty();
                continue;
            }
            if count + usize::from(space) >= max {
                out.push('…');
                return out;
            }
            if space {
                out.push(' ');
                count += 1;
                space = false;
            }
            out.push(c);
            count += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_changing_case() {
        // KELVIN SIGN lower-cases to a 1-byte 'k'; İ grows when lower-cased.
        let s = "\u{212A}\u{212A} Forwarded message";
        assert_eq!(from_ci(s, "forwarded message"), Some("Forwarded message"));
        assert_eq!(strip_prefix_ci("FROM: x", "from:"), Some(" x"));
        assert_eq!(strip_prefix_ci("İİİ", "from:"), None);
        assert_eq!(strip_prefix_ci("Ré: x", "RÉ:"), Some(" x"));
        assert_eq!(find_ci("ab", ""), Some(0));
        assert_eq!(enclosed("a> <b", "<", '>'), None);
        assert_eq!(enclosed("N <a@b>", "<", '>'), Some(("N ", "a@b")));
        assert_eq!(truncate_bytes("héllo", 2), "h");
        assert_eq!(truncate_bytes("héllo", 3), "hé");
        assert_eq!(one_line("Hi,\n\n> old\n  the  printer\tjams\r\n", 40), "Hi, the printer jams");
        assert_eq!(one_line("abcdef", 3), "abc…");
        assert_eq!(one_line("ab cd", 3), "ab…");
        assert_eq!(one_line("", 3), "");
    }
}
