//! Message text as it is shown: web addresses (`http://`, `https://`)
//! become links that open in a new tab and pass nothing on
//! (`rel="noopener noreferrer nofollow"`); everything else stays text,
//! escaped by maud. A link ends at white space, a quote or angle bracket,
//! or the first non-ASCII character, without trailing punctuation (and
//! without a closing bracket it did not open).

use maud::{Markup, html};

/// A longer "address" stays text (and bounds the work per address).
const MAX_LINK: usize = 4096;

/// A piece of a text: plain, or a web address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    Text(&'a str),
    Link(&'a str),
}

/// Whether a web address starts at byte `i` of `s` (a char boundary).
fn scheme_at(s: &str, i: usize) -> Option<usize> {
    ["https://", "http://"].into_iter().find(|p| s.get(i..i + p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p))).map(str::len)
}

/// Where the address that starts at `start` (after a scheme of `scheme`
/// bytes) ends, or `None` when nothing follows the scheme.
fn link_end(s: &str, start: usize, scheme: usize) -> Option<usize> {
    let rest = s.get(start..)?;
    let mut end = rest
        .char_indices()
        .find(|(_, c)| !c.is_ascii() || c.is_ascii_whitespace() || c.is_ascii_control() || matches!(c, '<' | '>' | '"' | '`'))
        .map_or(rest.len(), |(i, _)| i);
    if end > MAX_LINK {
        return None;
    }
    // Trailing punctuation belongs to the sentence; a closing bracket only
    // when the address opened one (brackets counted once, then kept up to
    // date as the end moves: linear in the address).
    let link = rest.get(..end)?;
    let count = |c: char| link.bytes().filter(|b| *b == c as u8).count();
    let (mut round, mut square) = (count(')') as i64 - count('(') as i64, count(']') as i64 - count('[') as i64);
    while let Some(last) = rest.get(..end).and_then(|l| l.chars().next_back()) {
        let strip = match last {
            '.' | ',' | ';' | ':' | '!' | '?' | '\'' | '*' => true,
            ')' if round > 0 => {
                round -= 1;
                true
            }
            ']' if square > 0 => {
                square -= 1;
                true
            }
            _ => false,
        };
        if !strip {
            break;
        }
        end -= last.len_utf8();
    }
    (end > scheme).then_some(start + end)
}

/// Splits `s` into text and web addresses, in order; the pieces together
/// are `s`.
pub fn pieces(s: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let (mut done, mut i) = (0, 0);
    while let Some((at, c)) = s.get(i..).and_then(|r| r.char_indices().find(|(_, c)| matches!(c, 'h' | 'H'))).map(|(k, c)| (i + k, c)) {
        let word_start = s.get(..at).and_then(|b| b.chars().next_back()).is_none_or(|p| !p.is_alphanumeric());
        match scheme_at(s, at).filter(|_| word_start).and_then(|n| link_end(s, at, n)) {
            Some(end) => {
                if at > done {
                    out.push(Piece::Text(&s[done..at]));
                }
                out.push(Piece::Link(&s[at..end]));
                done = end;
                i = end;
            }
            None => i = at + c.len_utf8(),
        }
    }
    if done < s.len() {
        out.push(Piece::Text(&s[done..]));
    }
    out
}

/// `s` with its web addresses as links.
pub fn linked(s: &str) -> Markup {
    html! {
        @for p in pieces(s) {
            @match p {
                Piece::Text(t) => (t),
                Piece::Link(u) => a href=(u) rel="noopener noreferrer nofollow" target="_blank" { (u) },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Piece::*;

    #[test]
    fn addresses_become_links_and_punctuation_stays_text() {
        assert_eq!(pieces("see https://example.com/a?b=1."), vec![Text("see "), Link("https://example.com/a?b=1"), Text(".")]);
        assert_eq!(pieces("(http://x.test/wiki/A_(b))!"), vec![Text("("), Link("http://x.test/wiki/A_(b)"), Text(")!")]);
        assert_eq!(pieces("HTTPS://X.TEST ok"), vec![Link("HTTPS://X.TEST"), Text(" ok")]);
        assert_eq!(pieces("<https://x.test/>"), vec![Text("<"), Link("https://x.test/"), Text(">")]);
        assert_eq!(pieces("詳細はhttps://x.test/jaを参照"), vec![Text("詳細はhttps://x.test/jaを参照")], "inside a word: text");
        assert_eq!(pieces("詳細は https://x.test/jaを参照"), vec![Text("詳細は "), Link("https://x.test/ja"), Text("を参照")]);
        assert_eq!(pieces("http:// and https://"), vec![Text("http:// and https://")]);
        assert_eq!(pieces("nohttps://x.test"), vec![Text("nohttps://x.test")]);
        assert_eq!(pieces(""), vec![]);
        assert_eq!(pieces("hhhh"), vec![Text("hhhh")]);
        // Many closing brackets: linear, and none of them belongs.
        let many = format!("http://a{}", ")".repeat(200_000));
        assert_eq!(pieces(&many).len(), 1, "over the length limit: text");
        let some = format!("http://a.test{}", ")".repeat(3000));
        assert_eq!(pieces(&some)[0], Link("http://a.test"));
    }

    #[test]
    fn links_are_escaped_and_safe() {
        let html = linked("go https://x.test/?a=1&b=\"2\" <script>").into_string();
        assert_eq!(
            html,
            "go <a href=\"https://x.test/?a=1&amp;b=\" rel=\"noopener noreferrer nofollow\" target=\"_blank\">https://x.test/?a=1&amp;b=</a>&quot;2&quot; &lt;script&gt;"
        );
        assert!(!linked("javascript:alert(1) data:text/html,x").into_string().contains("<a"));
    }
}
