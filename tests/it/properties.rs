//! Property tests over arbitrary Unicode for every text function on the
//! inbound mail path (issue 10): none may panic, and each keeps its promise.
//! The generators mix in characters whose lower or upper case has another
//! byte length (KELVIN SIGN, İ, ß, ſ, ẞ) next to the markers the functions
//! look for, the shape that once killed the mail worker.

use frontdesk::domain::auth::{AuthResult, DmarcPolicy, MailAuth, organizational_domain};
use frontdesk::domain::people::normalize_email;
use frontdesk::domain::text::{find_ci, from_ci, strip_prefix_ci, truncate_bytes};
use frontdesk::mail::inbound::{
    clean_subject, clean_text, is_forward_subject, normalize_msgid, parse, safe_filename, sanitize_html, strip_quoted, subject_reference,
};
use proptest::prelude::*;

/// Characters and fragments that matter to the inbound functions.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<char>().prop_map(String::from),
        Just("\u{212A}".to_string()),
        Just("\u{130}".to_string()),
        Just("ß".to_string()),
        Just("ẞ".to_string()),
        Just("ſ".to_string()),
        Just("\u{1E9E}".to_string()),
        Just("Σ".to_string()),
        Just("\n".to_string()),
        Just("\r\n".to_string()),
        Just("> ".to_string()),
        Just("From: ".to_string()),
        Just("Von: ".to_string()),
        Just("<".to_string()),
        Just(">".to_string()),
        Just("[mailto:".to_string()),
        Just("]".to_string()),
        Just("@".to_string()),
        Just("a@b.test".to_string()),
        Just("Fwd: ".to_string()),
        Just("RE: ".to_string()),
        Just("Réf: ".to_string()),
        Just("[TKT-".to_string()),
        Just("---------- Forwarded message ---------".to_string()),
        Just("-----Original Message-----".to_string()),
        Just("On Mon, Carol wrote:".to_string()),
        Just("Sent: Monday".to_string()),
        Just("________________".to_string()),
        Just("<script>".to_string()),
        Just("<img src=\"cid:x\" onerror=\"y\">".to_string()),
        Just("https://".to_string()),
        Just("HTTP://x.test/(a)".to_string()),
        Just(").,".to_string()),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 0..60).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn queue_preview_is_one_short_line_of_the_words(s in text(), max in 0usize..80) {
        let line = frontdesk::domain::text::one_line(&s, max);
        prop_assert!(!line.chars().any(|c| c.is_control() || (c.is_whitespace() && c != ' ')), "one line: {line:?}");
        prop_assert!(!line.starts_with(' ') && !line.contains("  "), "spaces run together: {line:?}");
        let cut = line.ends_with('…');
        prop_assert!(line.chars().count() <= max + usize::from(cut), "{} chars for max {max}", line.chars().count());
        // Every word shown comes from an unquoted line, in order.
        let unquoted: String = s.lines().filter(|l| !l.trim_start().starts_with('>')).collect::<Vec<_>>().join(" ");
        let words: Vec<&str> = unquoted.split(|c: char| c.is_whitespace() || c.is_control()).filter(|w| !w.is_empty()).collect();
        let shown: Vec<&str> = line.trim_end_matches('…').split(' ').filter(|w| !w.is_empty()).collect();
        for (i, w) in shown.iter().enumerate() {
            let last = i + 1 == shown.len();
            prop_assert!(words.get(i).is_some_and(|x| x == w || (last && cut && x.starts_with(w))), "word {i} {w:?} of {words:?}");
        }
    }

    #[test]
    fn legacy_header_repair(head in prop::collection::vec(prop_oneof![any::<u8>(), Just(0x1bu8), Just(b'\n'), Just(b':')], 0..300), body in prop::collection::vec(any::<u8>(), 0..50)) {
        let mut raw = head.clone();
        raw.extend_from_slice(b"\r\n\r\n");
        raw.extend_from_slice(&body);
        if let Some(fixed) = frontdesk::domain::rawheaders::repaired(&raw) {
            let lf = fixed.windows(2).position(|w| w == b"\n\n").unwrap_or(fixed.len());
            let end = fixed.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(fixed.len()).min(lf);
            prop_assert!(std::str::from_utf8(&fixed[..end]).is_ok(), "the header block is UTF-8");
            prop_assert!(fixed.ends_with(&body), "the body is untouched");
        }
        let _ = frontdesk::domain::mail::parse(&raw, "a@b.test", 1 << 20);
    }

    #[test]
    fn html_text_never_panics(s in text(), tags in prop::collection::vec(prop_oneof![Just("<tr>"), Just("<td>"), Just("</td>"), Just("</tr>"), Just("<li>"), Just("</div>"), Just("<"), Just("</"), Just("<TD"), Just("<hr>")], 0..20)) {
        let html = tags.iter().zip(s.split_inclusive(' ')).map(|(t, w)| format!("{t}{w}")).collect::<String>();
        let text = frontdesk::domain::htmltext::text_of(&html);
        prop_assert!(!text.contains("<td") && !text.contains("<tr"), "no tags left: {text}");
    }

    #[test]
    fn message_text_links(s in text()) {
        use frontdesk::web::ui::links::{Piece, pieces};
        let parts = pieces(&s);
        let back: String = parts.iter().map(|p| match p { Piece::Text(t) | Piece::Link(t) => *t }).collect();
        prop_assert_eq!(back, s.clone(), "the pieces are the text");
        for p in &parts {
            if let Piece::Link(u) = p {
                let lower = u.to_ascii_lowercase();
                prop_assert!(lower.starts_with("http://") || lower.starts_with("https://"), "{u}");
                prop_assert!(u.len() > 7 && u.is_ascii() && !u.contains(char::is_whitespace) && !u.contains(['<', '>', '"']), "{u}");
            }
        }
        prop_assert!(!frontdesk::web::ui::links::linked(&s).into_string().contains("<script"));
    }

    #[test]
    fn subject_functions(s in text()) {
        let cleaned = clean_subject(&s);
        prop_assert!(s.trim().ends_with(cleaned.as_str()), "clean_subject returns a tail of its input");
        let _ = is_forward_subject(&s);
        let _ = subject_reference(&s, "TKT");
    }

    #[test]
    fn references_are_found_in_any_surrounding(pre in text(), post in text(), n in 1u64..10_000_000) {
        let pre = pre.replace('[', "(");
        let s = format!("{pre}[TKT-{n:06}]{post}");
        prop_assert_eq!(subject_reference(&s, "TKT"), Some(n));
        let lower = format!("{pre}[tkt-{n}]{post}");
        prop_assert_eq!(subject_reference(&lower, "TKT"), Some(n));
    }

    #[test]
    fn quote_stripping(s in text()) {
        let out = strip_quoted(&s);
        // Every kept line is a line of the input; nothing is invented.
        let norm = |l: &str| l.replace('\r', "").trim_end().to_string();
        let lines: Vec<String> = s.lines().map(norm).collect();
        for l in out.lines() {
            prop_assert!(lines.contains(&norm(l)), "line {l:?} not in the input");
        }
        if !s.trim().is_empty() {
            prop_assert!(!out.trim().is_empty(), "a non-empty mail never strips to nothing");
        }
    }

    #[test]
    fn forward_detection_in_whole_messages(body in text(), subject in text()) {
        let raw = format!("From: Agent <agent@desk.test>\r\nSubject: Fwd: {}\r\n\r\n{body}", subject.replace(['\r', '\n'], " "));
        let m = parse(raw.as_bytes(), "agent@desk.test", 1 << 20);
        if let Some(f) = m.forwarded_from {
            prop_assert!(f.email.contains('@'));
        }
        let m = parse(body.as_bytes(), "", 1 << 20);
        let _ = strip_quoted(&m.text);
    }

    #[test]
    fn arbitrary_bytes_parse(bytes in prop::collection::vec(any::<u8>(), 0..2000)) {
        let m = parse(&bytes, "x@y.test", 1 << 20);
        prop_assert!(!m.subject.contains('\n') && !m.subject.contains('\r'));
    }

    #[test]
    fn address_and_id_normalisers(s in text()) {
        if let Some(e) = normalize_email(&s) {
            prop_assert!(e.contains('@') && !e.chars().any(char::is_whitespace));
            prop_assert_eq!(normalize_email(&e), Some(e.clone()), "idempotent");
        }
        let id = normalize_msgid(&s);
        prop_assert!(!id.starts_with('<'));
        let name = safe_filename(&s);
        prop_assert!(!name.is_empty() && !name.contains('/') && !name.contains('\\') && name.chars().count() <= 150);
        let t = clean_text(&s);
        prop_assert!(!t.contains('\r'));
    }

    #[test]
    fn html_to_safe_html(s in text()) {
        let h = sanitize_html(&s).to_lowercase();
        prop_assert!(!h.contains("<script") && !h.contains("onerror"));
    }

    #[test]
    fn case_insensitive_helpers(s in text(), needle in text(), max in 0usize..400) {
        if let Some(rest) = strip_prefix_ci(&s, &needle) {
            prop_assert!(s.ends_with(rest));
        }
        if let Some(i) = find_ci(&s, &needle) {
            prop_assert!(s.is_char_boundary(i));
            prop_assert_eq!(from_ci(&s, &needle), s.get(i..));
        }
        let t = truncate_bytes(&s, max);
        prop_assert!(t.len() <= max && s.starts_with(t));
        let upper = format!("{}{s}", needle.to_uppercase());
        if needle.is_ascii() {
            prop_assert_eq!(strip_prefix_ci(&upper, &needle), Some(s.as_str()));
        }
    }

    #[test]
    fn authentication_results_never_panic_and_only_ours_on_top_count(s in text(), id in "[a-z]{1,8}\\.test") {
        // Any bytes: read never panics; a header is ours only on top and with our id.
        let _ = MailAuth::read(s.as_bytes(), &id);
        let forged = format!("Received: x\r\nAuthentication-Results: {id}; dmarc=pass header.from=x.test\r\n\r\n{s}");
        prop_assert_eq!(MailAuth::read(forged.as_bytes(), &id), None);
        let _ = organizational_domain(&s);
    }

    #[test]
    fn authentication_results_read_back_what_was_written(
        results in prop::collection::vec(0usize..7, 5),
        domains in prop::collection::vec("[a-z0-9-]{1,10}(\\.[a-z]{2,5}){1,2}", 4),
        policy in 0usize..3,
        note in "[ -~]{0,40}",
        body in text(),
    ) {
        let r = |i: usize| AuthResult::ALL[results[i]];
        let a = MailAuth {
            spf: r(0),
            spf_domain: domains[0].clone(),
            helo: r(1),
            helo_domain: domains[1].clone(),
            dkim: AuthResult::Pass,
            dkim_domains: vec![domains[2].clone(), domains[3].clone()],
            dmarc: r(3),
            dmarc_policy: [DmarcPolicy::None, DmarcPolicy::Quarantine, DmarcPolicy::Reject][policy],
            from_domain: domains[1].clone(),
            arc: r(4),
            note: note.replace(['"', ';', '\\'], "").trim().to_string(),
            dnsbl: if policy == 1 { domains[0].clone() } else { String::new() },
        };
        let raw = format!("{}Received: by desk\r\n\r\n{body}", a.header("desk.test"));
        let mut back = MailAuth::read(raw.as_bytes(), "desk.test").expect("our header on top reads back");
        back.note = back.note.trim().to_string();
        prop_assert_eq!(back, a);
    }
}
