//! Markdown of knowledge base articles: to safe HTML for the pages (tables,
//! strikethrough as GitHub writes them; raw HTML and every
//! attribute cleaned by ammonia, links to http, https and mailto only, a
//! bare file name pointing at the article's own files), and to plain text
//! for the search index, excerpts and an agent's reply.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd};

fn parser(md: &str) -> Parser<'_> {
    Parser::new_ext(md, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH)
}

/// A link target naming one of the article's files (`shot.png` or
/// `files/shot.png`), as that file's name.
fn own_file(dest: &str) -> Option<&str> {
    let name = dest.strip_prefix("files/").unwrap_or(dest);
    let plain = !name.is_empty() && !name.contains([':', '/', '\\', '?', '#']) && !name.starts_with('.');
    plain.then_some(name)
}

/// An article file's name as a part of its address.
pub fn file_part(name: &str) -> String {
    percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Safe HTML of `md`; names of the article's files point under `file_base`
/// (`/help/kb/12/files`).
pub fn to_html(md: &str, file_base: &str) -> String {
    let events = parser(md).map(|e| match e {
        Event::Start(Tag::Image { link_type, dest_url, title, id }) => {
            let dest_url = match own_file(&dest_url) {
                Some(n) => CowStr::from(format!("{file_base}/{}", file_part(n))),
                None => dest_url,
            };
            Event::Start(Tag::Image { link_type, dest_url, title, id })
        }
        Event::Start(Tag::Link { link_type, dest_url, title, id }) => {
            let dest_url = match own_file(&dest_url) {
                Some(n) if n.contains('.') => CowStr::from(format!("{file_base}/{}", file_part(n))),
                _ => dest_url,
            };
            Event::Start(Tag::Link { link_type, dest_url, title, id })
        }
        e => e,
    });
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events);
    let schemes: std::collections::HashSet<&str> = ["http", "https", "mailto"].into_iter().collect();
    ammonia::Builder::default().url_schemes(schemes).link_rel(Some("noopener noreferrer nofollow")).clean(&html).to_string()
}

/// The text of `md` without its markup: paragraphs apart, list items on
/// lines of their own, a link's address after its text when it differs.
pub fn plain_text(md: &str) -> String {
    let mut out = String::new();
    let mut links: Vec<String> = Vec::new();
    let mut link_text = Vec::new();
    for e in parser(md) {
        match e {
            Event::Text(t) | Event::Code(t) => out.push_str(&t),
            Event::SoftBreak => out.push(' '),
            Event::HardBreak => out.push('\n'),
            Event::Start(Tag::Item) => out.push_str("- "),
            Event::Start(Tag::Link { dest_url, .. }) => {
                links.push(dest_url.to_string());
                link_text.push(out.len());
            }
            Event::End(TagEnd::Link) => {
                let (Some(dest), Some(from)) = (links.pop(), link_text.pop()) else { continue };
                let shown = out.get(from..).unwrap_or_default();
                let web = dest.starts_with("http://") || dest.starts_with("https://");
                if web && shown.trim() != dest {
                    out.push_str(&format!(" <{dest}>"));
                }
            }
            Event::End(
                TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::CodeBlock | TagEnd::BlockQuote(_) | TagEnd::Table | TagEnd::List(_),
            ) => out.push_str("\n\n"),
            Event::End(TagEnd::Item | TagEnd::TableRow | TagEnd::TableHead) => out.push('\n'),
            Event::End(TagEnd::TableCell) => out.push(' '),
            _ => {}
        }
    }
    let lines: Vec<&str> = out.lines().map(str::trim_end).collect();
    let mut text = lines.join("\n");
    while text.contains("\n\n\n") {
        text = text.replace("\n\n\n", "\n\n");
    }
    text.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn html_is_rendered_and_cleaned() {
        let h = to_html("# Reset\n\nClick **Forgot?** <script>alert(1)</script>\n\n<img src=x onerror=alert(1)>", "/help/kb/1/files");
        assert!(h.contains("<h1>Reset</h1>") && h.contains("<strong>Forgot?</strong>"), "{h}");
        assert!(!h.contains("<script") && !h.contains("onerror"), "{h}");
        let h = to_html("[x](javascript:alert(1)) [y](https://example.com) [z](data:text/html,hi)", "/f");
        assert!(!h.contains("javascript:") && !h.contains("data:"), "{h}");
        assert!(h.contains(r#"href="https://example.com""#) && h.contains("nofollow"), "{h}");
        let h = to_html("| a | b |\n|---|---|\n| 1 | 2 |\n\n~~old~~", "/f");
        assert!(h.contains("<table>") && h.contains("<del>old</del>"), "{h}");
    }

    #[test]
    fn file_names_point_at_the_articles_files() {
        let h = to_html(
            "![The dialog](<dialog shot.png>)\n\n[guide](files/guide.pdf) [other](/help) [page](https://x.example/a.png)",
            "/help/kb/7/files",
        );
        assert!(h.contains(r#"src="/help/kb/7/files/dialog%20shot%2Epng""#), "{h}");
        assert!(h.contains(r#"href="/help/kb/7/files/guide%2Epdf""#), "{h}");
        assert!(h.contains(r#"href="/help""#) && h.contains(r#"href="https://x.example/a.png""#), "{h}");
        assert!(!to_html("![x](../secret.png)", "/f").contains("/f/"), "no way out of the files");
    }

    #[test]
    fn plain_text_keeps_words_and_links() {
        let t = plain_text("# Reset\n\nOpen [the portal](https://desk.example/help) and click *Forgot*.\n\n- one\n- two\n\n`code`");
        assert_eq!(t, "Reset\n\nOpen the portal <https://desk.example/help> and click Forgot.\n\n- one\n- two\n\ncode");
        assert_eq!(plain_text("<https://x.example>"), "https://x.example");
    }

    proptest! {
        #[test]
        fn any_text_renders_without_script(s in any::<String>()) {
            let h = to_html(&s, "/f");
            prop_assert!(!h.to_lowercase().contains("<script"));
            let _ = plain_text(&s);
        }
    }
}
