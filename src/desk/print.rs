//! A ticket as a printable document: the print view and a PDF made by the
//! server with pdf-writer on A4 pages, its text in subsets of the host's
//! fonts (`print_fonts`: any script), or in Helvetica (Latin-1) without them.

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};

use super::print_fonts::{Fonts, Picker, Used};

use super::{Desk, TicketView};
use crate::domain::{EntryKind, Timestamp};
use crate::tr;

pub struct PrintEntry {
    /// "reply", "note" or "event".
    pub kind: &'static str,
    pub heading: String,
    pub text: String,
}

pub struct PrintDoc {
    pub title: String,
    pub fields: Vec<(&'static str, String)>,
    pub entries: Vec<PrintEntry>,
    /// After a note's heading in the PDF ("[agents only]"), translated here:
    /// the PDF is laid out off the request's task.
    pub note_mark: &'static str,
}

/// The ticket's fields and full thread (notes marked as internal), its
/// labels in the current request's language.
pub fn document(desk: &Desk, v: &TicketView) -> PrintDoc {
    let t = &v.ticket;
    let requester = v.people.get(&t.requester).map(|p| format!("{} <{}>", p.display(), p.email)).unwrap_or_default();
    let fields = vec![
        (tr!("Reference"), desk.reference(t.id)),
        (tr!("Status"), crate::i18n::dynamic(&desk.config().status_name(t))),
        (tr!("Priority"), crate::i18n::dynamic(t.priority.label())),
        (tr!("Requester"), requester),
        (tr!("Assignee"), v.name_of(t.assignee).replace("System", tr!("Unassigned"))),
        (tr!("Department"), t.department.clone()),
        (tr!("Category"), t.category.clone()),
        (tr!("Created"), stamp(t.created_at)),
        (tr!("Updated"), stamp(t.updated_at)),
        (tr!("Tags"), t.tags.join(", ")),
    ];
    let entries = v
        .entries
        .iter()
        .map(|e| {
            let (who, when) = (v.name_of(e.author), stamp(e.created_at));
            let (kind, heading) = match e.kind {
                EntryKind::Reply => ("reply", tr!("{when} — {who}, wrote", when = when, who = who)),
                EntryKind::Note => ("note", tr!("{when} — {who}, internal note", when = when, who = who)),
                EntryKind::Event => ("event", tr!("{when} — {who}, event", when = when, who = who)),
            };
            let mut text = e.text();
            for a in &e.attachments {
                text.push('\n');
                text.push_str(&tr!("[attachment: {name}]", name = a.filename));
            }
            PrintEntry { kind, heading, text }
        })
        .collect();
    PrintDoc { title: format!("{} {}", desk.reference(t.id), t.subject), fields, entries, note_mark: tr!("[agents only]") }
}

/// A moment in UTC as the current language writes it (`short()` in English:
/// `2026-12-04 16:42`; `04.12.2026 16:42` in German).
fn stamp(ts: Timestamp) -> String {
    match jiff::Timestamp::from_millisecond(ts.0) {
        Ok(t) => t.to_zoned(jiff::tz::TimeZone::UTC).strftime(crate::i18n::format::date_time_pattern()).to_string(),
        Err(_) => ts.short(),
    }
}

/// Text for a standard PDF font: WinAnsi (Latin-1 range) bytes, others as '?'.
fn win_ansi(s: &str) -> Vec<u8> {
    s.chars()
        .filter(|c| *c != '\r')
        .map(|c| match c {
            '\t' => b' ',
            '\u{2014}' => 0x97,
            '\u{201a}' => 0x82,
            '\u{201e}' => 0x84,
            '\u{2013}' => 0x96,
            '\u{2018}' => 0x91,
            '\u{2019}' => 0x92,
            '\u{201c}' => 0x93,
            '\u{201d}' => 0x94,
            '\u{2026}' => 0x85,
            '\u{20ac}' => 0x80,
            c if (c as u32) >= 0x20 && (c as u32) < 0x7f => c as u8,
            c if (c as u32) >= 0xa0 && (c as u32) <= 0xff => c as u32 as u8,
            _ => b'?',
        })
        .collect()
}

/// Wraps to `width` characters (Helvetica at this size averages ~0.5 em).
#[cfg(test)]
fn wrap(text: &str, width: usize) -> Vec<String> {
    wrap_measured(text, width as f32, &|_| 1.0)
}

/// Most characters on one line, whatever their widths (zero-width marks
/// never fill a line).
const LINE_CHARS: usize = 300;

/// Wraps `text` into lines of at most `max` by `measure` of each character:
/// at spaces, and inside a word (or a CJK run, which has no spaces) that is
/// longer than a line. Linear: each character is measured a fixed number
/// of times.
fn wrap_measured(text: &str, max: f32, measure: &dyn Fn(char) -> f32) -> Vec<String> {
    let mut out = Vec::new();
    let space = measure(' ');
    for para in text.lines() {
        let (mut line, mut line_w, mut count) = (String::new(), 0.0f32, 0usize);
        for word in para.split(' ') {
            let word_w: f32 = word.chars().map(measure).sum();
            if !line.is_empty() && (line_w + space + word_w > max || count + 1 >= LINE_CHARS) {
                out.push(std::mem::take(&mut line));
                (line_w, count) = (0.0, 0);
            }
            if !line.is_empty() {
                line.push(' ');
                line_w += space;
                count += 1;
            }
            for c in word.chars() {
                let w = measure(c);
                if !line.is_empty() && (line_w + w > max || count >= LINE_CHARS) {
                    out.push(std::mem::take(&mut line));
                    (line_w, count) = (0.0, 0);
                }
                line.push(c);
                line_w += w;
                count += 1;
            }
        }
        out.push(line);
    }
    out
}

/// Lays the document out on A4 pages with the host's fonts.
pub fn pdf(doc: &PrintDoc) -> Vec<u8> {
    pdf_with(doc, Fonts::host())
}

/// Lays the document out on A4 pages with `fonts` (Helvetica when empty).
pub fn pdf_with(doc: &PrintDoc, fonts: &Fonts) -> Vec<u8> {
    let (w, h, margin) = (595.0f32, 842.0f32, 50.0f32);
    let room = w - 2.0 * margin;
    // Widths per point of size: the fonts' own, or Helvetica's average.
    let picker = Picker::new(fonts);
    let measure = |bold: bool| {
        let picker = &picker;
        move |c: char| if fonts.is_empty() { 0.5 } else { picker.width(bold, c) }
    };
    // (bold, size, text) lines; an empty text is a spacer line.
    let mut lines: Vec<(bool, f32, String)> = Vec::new();
    let mut add = |bold: bool, size: f32, text: &str| {
        if text.is_empty() {
            lines.push((bold, size, String::new()));
            return;
        }
        for l in wrap_measured(&text.replace('\t', " "), room / size, &measure(bold)) {
            lines.push((bold, size, l));
        }
    };
    add(true, 15.0, &doc.title);
    add(false, 6.0, "");
    for (k, v) in &doc.fields {
        if !v.is_empty() {
            add(false, 10.0, &format!("{k}: {v}"));
        }
    }
    for e in &doc.entries {
        add(false, 8.0, "");
        add(true, 10.0, &if e.kind == "note" { format!("{} {}", e.heading, doc.note_mark) } else { e.heading.clone() });
        add(false, 10.0, &e.text);
    }
    let mut used = Used::default();
    let mut pages: Vec<Vec<u8>> = Vec::new();
    let mut content = Content::new();
    let mut y = h - margin;
    let mut started = false;
    for (bold, size, text) in &lines {
        let lead = size * 1.35;
        if !started || y - lead < margin {
            if started {
                content.end_text();
                pages.push(std::mem::replace(&mut content, Content::new()).finish().to_vec());
            }
            content.begin_text();
            y = h - margin;
            started = true;
        }
        y -= lead;
        content.set_text_matrix([1.0, 0.0, 0.0, 1.0, margin, y]);
        if fonts.is_empty() {
            content.set_font(Name(if *bold { b"F2" } else { b"F1" }), *size);
            content.show(Str(&win_ansi(text)));
        } else {
            for (font, glyphs) in used.runs(&picker, *bold, text) {
                content.set_font(Name(font.as_bytes()), *size);
                content.show(Str(&glyphs));
            }
        }
    }
    if started {
        content.end_text();
        pages.push(content.finish().to_vec());
    }
    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let (f1, f2) = (Ref::new(3), Ref::new(4));
    let page_ids: Vec<Ref> = (0..pages.len()).map(|i| Ref::new(10 + 2 * i as i32)).collect();
    let (embedded, _) = used.write(fonts, &mut pdf, 10 + 2 * pages.len() as i32);
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids(page_ids.iter().copied()).count(pages.len() as i32);
    for (i, body) in pages.iter().enumerate() {
        let (pid, cid) = (page_ids[i], Ref::new(11 + 2 * i as i32));
        let mut page = pdf.page(pid);
        page.media_box(Rect::new(0.0, 0.0, w, h));
        page.parent(tree);
        page.contents(cid);
        {
            let mut res = page.resources();
            let mut fonts = res.fonts();
            fonts.pair(Name(b"F1"), f1);
            fonts.pair(Name(b"F2"), f2);
            for (name, font) in &embedded {
                fonts.pair(Name(name.as_bytes()), *font);
            }
            fonts.finish();
        }
        page.finish();
        pdf.stream(cid, body);
    }
    pdf.type1_font(f1).base_font(Name(b"Helvetica")).encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(f2).base_font(Name(b"Helvetica-Bold")).encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_and_encodes() {
        assert_eq!(wrap("aaa bbb ccc", 7), vec!["aaa bbb", "ccc"]);
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(win_ansi("Grüße — €"), vec![b'G', b'r', 0xfc, 0xdf, b'e', b' ', 0x97, b' ', 0x80]);
        assert_eq!(win_ansi("日本"), b"??".to_vec());
    }

    #[test]
    fn zero_width_marks_and_long_lines_wrap_into_bounded_lines() {
        let text = "\u{301}".repeat(100_000);
        let lines = wrap_measured(&text, 100.0, &|_| 0.0);
        assert!(lines.iter().all(|l| l.chars().count() <= LINE_CHARS), "no line grows without end");
        assert_eq!(lines.iter().map(|l| l.chars().count()).sum::<usize>(), 100_000, "nothing lost");
        let cjk = "ログイン".repeat(1000);
        let lines = wrap_measured(&cjk, 10.0, &|_| 1.0);
        assert!(lines.iter().all(|l| l.chars().count() == 10), "a run without spaces breaks by width");
    }

    #[test]
    fn long_threads_make_several_pages() {
        let doc = PrintDoc {
            title: "TKT-000001 Printer".into(),
            fields: vec![("Status", "Open".into())],
            entries: (0..80).map(|i| PrintEntry { kind: "reply", heading: format!("entry {i}"), text: "line\n".repeat(5) }).collect(),
            note_mark: "[agents only]",
        };
        let bytes = pdf(&doc);
        assert!(bytes.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            text.matches("/Type /Page\n").count() + text.matches("/Type /Page ").count() >= 3 || text.matches("/Page").count() >= 4,
            "pages"
        );
    }
}
