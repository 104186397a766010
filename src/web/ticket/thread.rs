//! A quiet thread (issue 18 part 2): runs of "sent … mail" events fold into
//! one line that opens to the list, and a long message older than the
//! newest few shows its first lines with the whole text one click away.

use maud::{Markup, html};

use crate::domain::{Event, ThreadEntry, Timestamp};
use crate::web::ui;
use crate::{tr, trn};

/// The newest messages always shown whole.
pub const WHOLE: usize = 3;
/// A message longer than this (lines or characters) is collapsed when older.
const LONG_LINES: usize = 15;
const LONG_CHARS: usize = 1_500;
/// What a collapsed message shows.
const PREVIEW_LINES: usize = 6;
const PREVIEW_CHARS: usize = 600;

/// One thing the thread shows.
pub enum Item<'a> {
    Entry(&'a ThreadEntry),
    /// Two or more delivered mails in a row.
    Mails(Vec<&'a ThreadEntry>),
}

fn is_mail_sent(e: &ThreadEntry) -> bool {
    matches!(e.event, Some(Event::MailSent { .. }))
}

fn flush<'a>(run: &mut Vec<&'a ThreadEntry>, out: &mut Vec<Item<'a>>) {
    match run.len() {
        0 => {}
        1 => out.push(Item::Entry(run[0])),
        _ => out.push(Item::Mails(std::mem::take(run))),
    }
    run.clear();
}

/// The thread's entries with runs of delivered mail folded.
pub fn items(entries: &[ThreadEntry]) -> Vec<Item<'_>> {
    let mut out: Vec<Item> = Vec::new();
    let mut run: Vec<&ThreadEntry> = Vec::new();
    for e in entries {
        if is_mail_sent(e) {
            run.push(e);
            continue;
        }
        flush(&mut run, &mut out);
        out.push(Item::Entry(e));
    }
    flush(&mut run, &mut out);
    out
}

/// The summary of a run of delivered mails: "sent 3 mails (new ticket ×2,
/// acknowledgement) to 3 addresses".
fn summary(run: &[&ThreadEntry]) -> String {
    let mut kinds: Vec<(String, usize)> = Vec::new();
    let mut to: Vec<&str> = Vec::new();
    for e in run {
        if let Some(Event::MailSent { kind, to: rcpt }) = &e.event {
            let k = mail_kind(kind);
            match kinds.iter_mut().find(|(n, _)| *n == k) {
                Some((_, c)) => *c += 1,
                None => kinds.push((k, 1)),
            }
            for r in rcpt {
                if !to.contains(&r.as_str()) {
                    to.push(r);
                }
            }
        }
    }
    let kinds: Vec<String> = kinds.into_iter().map(|(k, c)| if c > 1 { format!("{k} ×{c}") } else { k }).collect();
    let addresses = trn!(to.len(), "{n} address", "{n} addresses");
    trn!(
        run.len(),
        "sent {n} mail ({kinds}) to {addresses}",
        "sent {n} mails ({kinds}) to {addresses}",
        kinds = kinds.join(", "),
        addresses = addresses
    )
}

/// An event's line in the reader's language: the templates from the
/// catalog, and the values the desk records in English (field names,
/// statuses, mail kinds, SLA targets) as the reader says them.
pub fn event_line(e: &Event) -> String {
    localized(e).describe_in(&crate::i18n::text)
}

/// An entry's text as the thread shows it: its body, else its event's line.
pub fn entry_text(e: &ThreadEntry) -> String {
    match &e.event {
        Some(ev) if e.body.is_empty() => event_line(ev),
        _ => e.body.clone(),
    }
}

/// The event with its recorded English words in the reader's language
/// (names, subjects and reasons stay as they are).
fn localized(e: &Event) -> Event {
    use crate::i18n::dynamic;
    let values = |field: &str, from: String, to: String| if field == "priority" { (dynamic(&from), dynamic(&to)) } else { (from, to) };
    match e.clone() {
        Event::Created { channel } => Event::Created { channel: dynamic(&channel) },
        Event::StatusChanged { from, to } => Event::StatusChanged { from: dynamic(&from), to: dynamic(&to) },
        Event::FieldChanged { field, from, to } => {
            let (from, to) = values(&field, from, to);
            Event::FieldChanged { field: field_name(&field), from, to }
        }
        Event::FieldChangedBecause { field, from, to, reason } => {
            let (from, to) = values(&field, from, to);
            Event::FieldChangedBecause { field: field_name(&field), from, to, reason }
        }
        Event::ChecklistChanged { text, field, from, to } => Event::ChecklistChanged { text, field: field_name(&field), from, to },
        Event::Linked { reference, relation } => Event::Linked { reference, relation: relation_name(&relation) },
        Event::MailSent { kind, to } => Event::MailSent { kind: mail_kind(&kind), to },
        Event::MailFailed { kind, to, reason } => Event::MailFailed { kind: mail_kind(&kind), to, reason },
        Event::MailDelayed { kind, to, reason, retry_at } => Event::MailDelayed { kind: mail_kind(&kind), to, reason, retry_at },
        Event::SlaWarning { policy, target, due } => Event::SlaWarning { policy, target: dynamic(&target), due },
        Event::SlaBreached { policy, target, due } => Event::SlaBreached { policy, target: dynamic(&target), due },
        Event::Because { event, reason } => Event::Because { event: Box::new(localized(&event)), reason },
        other => other,
    }
}

/// A ticket field the desk names in its change events (custom fields go by
/// their configured label, shown as it is).
fn field_name(field: &str) -> String {
    let name = match field {
        "subject" => tr!("subject"),
        "priority" => tr!("priority"),
        "category" => tr!("category"),
        "department" => tr!("department"),
        "team" => tr!("team"),
        "due date" => tr!("due date"),
        "tags" => tr!("tags"),
        "assignee" => tr!("assignee"),
        other => other,
    };
    name.to_string()
}

/// How the desk records a link between tickets.
fn relation_name(relation: &str) -> String {
    let name = match relation {
        "follows up on closed ticket" => tr!("follows up on closed ticket"),
        "has a follow-up:" => tr!("has a follow-up:"),
        "linked related ticket" => tr!("linked related ticket"),
        other => other,
    };
    name.to_string()
}

/// A kind of ticket mail (`MailKind::key`) in words.
pub(super) fn mail_kind(kind: &str) -> String {
    let name = match kind {
        "ack" => tr!("ack"),
        "reply" => tr!("reply"),
        "new_ticket" => tr!("new ticket"),
        "note" => tr!("note"),
        "assigned" => tr!("assigned"),
        "requester_reply" => tr!("requester reply"),
        "resolved" => tr!("resolved"),
        "stranger" => tr!("stranger"),
        "closed" => tr!("closed"),
        "transferred" => tr!("transferred"),
        "team_assigned" => tr!("team assigned"),
        "agent_ticket" => tr!("agent ticket"),
        "pending_reminder" => tr!("pending reminder"),
        "snooze_ended" => tr!("snooze ended"),
        "mention" => tr!("mention"),
        "sla_warning" => tr!("sla warning"),
        "sla_breached" => tr!("sla breached"),
        "trigger" => tr!("trigger"),
        other => return other.replace('_', " "),
    };
    name.to_string()
}

/// A folded run of delivered mails.
pub fn mails(run: &[&ThreadEntry], now: Timestamp) -> Markup {
    let last = run.last().map_or(now, |e| e.created_at);
    html! {
        // Each mail keeps its anchor (`#e5`); the browser opens the line for it.
        details.event.folded {
            summary { span.who { (tr!("System")) } " " (summary(run)) " " time.muted datetime=(last.rfc3339()) title=(last.rfc3339()) { (crate::web::ui::ago(last, now)) } }
            ul {
                @for e in run {
                    li id=(format!("e{}", e.seq)) { (entry_text(e)) }
                }
            }
        }
    }
}

/// The first lines of a long text (at a char boundary), or `None` when it
/// is short enough to show whole.
fn preview(text: &str) -> Option<String> {
    let lines = text.lines().count();
    let chars = text.chars().count();
    if lines <= LONG_LINES && chars <= LONG_CHARS {
        return None;
    }
    let head: String = text.lines().take(PREVIEW_LINES).collect::<Vec<_>>().join("\n");
    Some(head.chars().take(PREVIEW_CHARS).collect())
}

/// A message's text: whole, or (when `older` and long) its first lines and
/// the whole text behind "Show the whole message".
pub fn body(text: &str, older: bool) -> Markup {
    match preview(text).filter(|_| older) {
        None => ui::text_block(text),
        Some(head) => html! {
            div.collapsible {
                div.preview { (ui::text_block(&head)) }
                details.more {
                    summary { (tr!("Show the whole message ({n} lines)", n = crate::i18n::format::num(text.lines().count() as i64))) }
                    (ui::text_block(text))
                }
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{EntryKind, TicketId};

    fn entry(seq: u32, event: Option<Event>) -> ThreadEntry {
        ThreadEntry {
            ticket: TicketId(1),
            seq,
            kind: if event.is_some() { EntryKind::Event } else { EntryKind::Reply },
            author: None,
            body: String::new(),
            event,
            attachments: Vec::new(),
            created_at: Timestamp(0),
        }
    }

    fn sent(seq: u32, kind: &str, to: &str) -> ThreadEntry {
        entry(seq, Some(Event::MailSent { kind: kind.into(), to: vec![to.into()] }))
    }

    #[test]
    fn runs_of_sent_mail_fold() {
        let t = [
            entry(1, None),
            sent(2, "new_ticket", "a@x.test"),
            sent(3, "new_ticket", "b@x.test"),
            sent(4, "acknowledgement", "c@x.test"),
            entry(5, None),
            sent(6, "reply", "c@x.test"),
        ];
        let got = items(&t);
        assert_eq!(got.len(), 4);
        match &got[1] {
            Item::Mails(run) => {
                assert_eq!(run.len(), 3);
                assert_eq!(summary(run), "sent 3 mails (new ticket ×2, acknowledgement) to 3 addresses");
            }
            Item::Entry(_) => panic!("not folded"),
        }
        assert!(matches!(got[3], Item::Entry(e) if e.seq == 6), "one mail alone stays a line");
    }

    #[test]
    fn long_older_messages_collapse() {
        let long = (1..=40).map(|i| format!("line {i}")).collect::<Vec<_>>().join("\n");
        let html = body(&long, true).into_string();
        assert!(html.contains("Show the whole message (40 lines)") && html.contains("line 6\n") && html.contains("line 40"), "{html}");
        assert!(!body(&long, false).into_string().contains("Show the whole"), "the newest stay whole");
        assert!(!body("short", true).into_string().contains("Show the whole"));
        let wide = "語".repeat(2000);
        assert_eq!(preview(&wide).map(|p| p.chars().count()), Some(PREVIEW_CHARS));
    }
}
