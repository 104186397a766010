//! The readable text of an HTML-only message: mail-parser's converter
//! keeps only `<br>` and `</p>` as line breaks, so tables, lists and
//! `<div>` layouts ran into one line. Block ends become line breaks, table
//! rows lines with their cells separated by " | ", list items bullets —
//! then the same converter makes the text.

use mail_parser::decoders::html::html_to_text;

/// Between two cells of a row.
const CELL: &str = "\u{a0}| ";

/// Tags after whose end a line ends.
const BLOCKS: [&str; 14] = ["tr", "div", "li", "table", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "ul", "ol", "pre"];

/// The tag name at the start of `rest` (after `<` or `</`), lower-cased.
fn tag_name(rest: &str) -> String {
    rest.chars().take_while(|c| c.is_ascii_alphanumeric()).take(12).collect::<String>().to_ascii_lowercase()
}

/// `html` with line breaks and cell separators made explicit.
fn marked(html: &str) -> String {
    let mut out = String::with_capacity(html.len() + html.len() / 16);
    let mut first_cell = true;
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        let (before, tag_and_after) = rest.split_at(at);
        out.push_str(before);
        let inner = &tag_and_after[1..];
        let closing = inner.starts_with('/');
        let name = tag_name(inner.trim_start_matches('/'));
        // The tag itself, up to its `>` (or the rest when it never closes).
        let end = tag_and_after.find('>').map_or(tag_and_after.len(), |e| e + 1);
        let (tag, after) = tag_and_after.split_at(end);
        match (closing, name.as_str()) {
            (false, "tr") => first_cell = true,
            (false, "td" | "th") => {
                if !first_cell {
                    // The converter drops a space that follows a tag; a
                    // no-break space survives and is turned back below.
                    out.push_str(CELL);
                }
                first_cell = false;
            }
            _ => {}
        }
        out.push_str(tag);
        if closing && BLOCKS.contains(&name.as_str()) || (!closing && name == "hr") {
            out.push_str("<br>");
        } else if !closing && name == "li" {
            out.push_str("• ");
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// The text of an HTML body, as lines a person reads.
pub fn text_of(html: &str) -> String {
    let text = html_to_text(&marked(html)).replace(CELL.trim_end(), " |");
    // Blank runs left by nested blocks fold to one empty line.
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.lines() {
        let line = line.trim_end();
        if line.trim().is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_lists_and_blocks_read_as_lines() {
        let html = "<div>Order status</div><table><tr><th>Item</th><th>Qty</th></tr><tr><td>Toner</td><td>2</td></tr>\
                    <TR><TD>Paper</TD><TD>10</TD></TR></table><ul><li>fast</li><li>cheap</li></ul><p>Thanks</p>";
        assert_eq!(text_of(html), "Order status\nItem | Qty\nToner | 2\nPaper | 10\n\n• fast\n• cheap\n\nThanks");
        assert_eq!(text_of("plain <b>bold</b> text"), "plain bold text");
        assert_eq!(text_of("<td>unclosed <"), "unclosed");
        assert_eq!(text_of(""), "");
    }
}
