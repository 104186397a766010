//! Thread entries: public replies, internal notes and system events on a ticket.
//!
//! The thread is the ticket's append-only log. Every change (field edits, status,
//! assignment) is an `Event` entry with its actor and time.

use serde::{Deserialize, Serialize};

use super::ids::{PersonId, TicketId};
use super::template::fill;
use super::time::Timestamp;

/// The three kinds of entry an agent sees, clearly distinct in the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EntryKind {
    /// Visible to the requester.
    Reply,
    /// Agents only; never shown to requesters.
    Note,
    /// A recorded change.
    Event,
}

impl EntryKind {
    pub fn key(self) -> &'static str {
        match self {
            EntryKind::Reply => "reply",
            EntryKind::Note => "note",
            EntryKind::Event => "event",
        }
    }
}

/// What a system event records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Event {
    Created {
        channel: String,
    },
    /// A field changed from one value to another (human-readable values).
    FieldChanged {
        field: String,
        from: String,
        to: String,
    },
    StatusChanged {
        from: String,
        to: String,
    },
    Assigned {
        from: Option<String>,
        to: Option<String>,
    },
    /// A bounce or auto-reply that threaded into the ticket; nothing else changed.
    MailIgnored {
        kind: String,
        from: String,
        subject: String,
    },
    /// Related ticket (a follow-up of a closed ticket, and back).
    Linked {
        reference: String,
        relation: String,
    },
    /// Someone CC'd on the conversation now follows the ticket.
    CollaboratorAdded {
        who: String,
    },
    /// Mail the desk delivered (to the smarthost).
    MailSent {
        kind: String,
        to: Vec<String>,
    },
    /// Mail that could not be delivered, and why.
    MailFailed {
        kind: String,
        to: Vec<String>,
        reason: String,
    },
    // New variants go last: records store the variant's position.
    /// A field edit with the reason the agent gave.
    FieldChangedBecause {
        field: String,
        from: String,
        to: String,
        reason: String,
    },
    /// Another ticket was merged into this one (`into: false`), or this one
    /// into another (`into: true`).
    Merged {
        reference: String,
        into: bool,
    },
    Trashed,
    Restored,
    /// A related ticket was unlinked.
    Unlinked {
        reference: String,
    },
    /// Mail claiming to come from an agent without proof (no signed reply
    /// token): kept as an internal note, mailed to nobody.
    UnverifiedSender {
        claimed: String,
    },
    /// Addresses in a mail's To/Cc beyond the collaborator limit, not added.
    CollaboratorsRefused {
        count: u64,
        limit: u64,
    },
    /// A message from Junk became this ticket (or a reply on it).
    MadeFromJunk,
    /// Email commands in an agent's mail were not run, and why.
    CommandsRefused {
        why: String,
    },
    /// The requester was merged into another person.
    RequesterMerged {
        from: String,
        to: String,
    },
    /// A collaborator used their unsubscribe link.
    Unsubscribed {
        who: String,
    },
    /// An agent started (`on`) or stopped following the ticket.
    Following {
        who: String,
        on: bool,
    },
    /// Any change made with the reason the agent gave (status, assignee,
    /// fields; `FieldChangedBecause` is how older records hold field edits).
    Because {
        event: Box<Event>,
        reason: String,
    },
    /// The first attempt to deliver mail failed for now; the outbox tries
    /// again at `retry_at` (later failures and the outcome follow as
    /// `MailFailed` / `MailSent`).
    MailDelayed {
        kind: String,
        to: Vec<String>,
        reason: String,
        retry_at: Timestamp,
    },
    /// A bounce (RFC 3464 report) said mail to `to` failed: `reason` in the
    /// remote server's words; `hard` when it was permanent, after which the
    /// desk copies the address on no conversation until it writes again.
    /// Appended at position 23 (postcard encodes the variant index).
    MailBounced {
        to: String,
        reason: String,
        hard: bool,
    },
    /// An agent took a collaborator off the ticket.
    CollaboratorRemoved {
        who: String,
    },
    /// An agent made someone else the ticket's requester.
    RequesterChanged {
        from: String,
        to: String,
    },
    /// An agent posted a public reply without mailing it (seed 000's "send
    /// email" left unticked): on the portal only.
    ReplyNotMailed,
    /// A checklist item was added.
    ChecklistAdded {
        text: String,
    },
    /// A checklist item was ticked (`done`) or unticked.
    ChecklistChecked {
        text: String,
        done: bool,
    },
    /// A checklist item was removed.
    ChecklistRemoved {
        text: String,
    },
    /// A checklist item's assignee or due date changed.
    ChecklistChanged {
        text: String,
        field: String,
        from: String,
        to: String,
    },
    /// The requester was reminded that their Pending ticket waits for them.
    ReminderSent,
    /// The ticket was snoozed until a time (in UTC).
    Snoozed {
        until: String,
    },
    /// An SLA target is close to due (its policy's warn_percent spent).
    SlaWarning {
        policy: String,
        target: String,
        due: String,
    },
    /// An SLA target fell due unmet.
    SlaBreached {
        policy: String,
        target: String,
        due: String,
    },
    /// A `[[trigger]]` did something (or could not: `action` says).
    TriggerAction {
        trigger: String,
        action: String,
    },
    /// The requester rated the desk's help (`score`: "good" or "bad").
    Rated {
        score: String,
        comment: String,
    },
}

impl Event {
    /// One line for the thread, e.g. "changed status from Open to Pending"
    /// (in English: the API, exports and logs).
    pub fn describe(&self) -> String {
        self.describe_in(&|s| s)
    }

    /// The line in another language: `t` gives each English template's
    /// translation (the web passes `i18n::text`); the values stay as recorded.
    pub fn describe_in(&self, t: &dyn Fn(&'static str) -> &'static str) -> String {
        let show = |v: &str| if v.is_empty() { t("(none)").to_string() } else { v.to_string() };
        let kind_of = |k: &str| k.replace('_', " ");
        match self {
            Event::Created { channel } => fill(t("created the ticket (channel: {channel})"), &[("channel", channel)]),
            Event::FieldChanged { field, from, to } => {
                fill(t("changed {field} from {from} to {to}"), &[("field", field), ("from", &show(from)), ("to", &show(to))])
            }
            Event::StatusChanged { from, to } => fill(t("changed status from {from} to {to}"), &[("from", from), ("to", to)]),
            Event::Assigned { from: _, to: Some(to) } => fill(t("assigned the ticket to {to}"), &[("to", to)]),
            Event::Assigned { from: Some(from), to: None } => fill(t("unassigned the ticket (was {from})"), &[("from", from)]),
            Event::Assigned { from: None, to: None } => t("left the ticket unassigned").to_string(),
            Event::MailIgnored { kind, from, subject } => fill(
                t("received a {kind} from {from} (\"{subject}\"); no action taken"),
                &[("kind", kind), ("from", from), ("subject", subject)],
            ),
            Event::Linked { reference, relation } => fill(t("{relation} {reference}"), &[("relation", relation), ("reference", reference)]),
            Event::CollaboratorAdded { who } => fill(t("added {who} as a collaborator"), &[("who", who)]),
            Event::MailSent { kind, to } => fill(t("sent {kind} mail to {to}"), &[("kind", &kind_of(kind)), ("to", &to.join(", "))]),
            Event::MailFailed { kind, to, reason } => fill(
                t("could not deliver {kind} mail to {to}: {reason}"),
                &[("kind", &kind_of(kind)), ("to", &to.join(", ")), ("reason", reason)],
            ),
            Event::FieldChangedBecause { field, from, to, reason } => fill(
                t("changed {field} from {from} to {to} (reason: {reason})"),
                &[("field", field), ("from", &show(from)), ("to", &show(to)), ("reason", reason)],
            ),
            Event::Merged { reference, into: true } => fill(t("merged this ticket into {reference}"), &[("reference", reference)]),
            Event::Merged { reference, into: false } => fill(t("merged {reference} into this ticket"), &[("reference", reference)]),
            Event::Trashed => t("moved the ticket to Trash").to_string(),
            Event::Restored => t("restored the ticket from Trash").to_string(),
            Event::Unlinked { reference } => fill(t("unlinked {reference}"), &[("reference", reference)]),
            Event::CollaboratorsRefused { count, limit } => fill(
                t("did not add {count} more address(es) from To/Cc as collaborators (limit {limit} per ticket)"),
                &[("count", count), ("limit", limit)],
            ),
            Event::UnverifiedSender { claimed } => fill(
                t("received mail that claims to be from {claimed} without proof; kept as an internal note, nothing was sent"),
                &[("claimed", claimed)],
            ),
            Event::MadeFromJunk => t("made this ticket from a message in Junk").to_string(),
            Event::CommandsRefused { why } => fill(t("did not run the email commands: {why}"), &[("why", why)]),
            Event::RequesterMerged { from, to } => fill(t("merged requester {from} into {to}"), &[("from", from), ("to", to)]),
            Event::Unsubscribed { who } => fill(t("{who} unsubscribed from this ticket's mail"), &[("who", who)]),
            Event::Following { who, on: true } => fill(t("{who} follows the ticket"), &[("who", who)]),
            Event::Following { who, on: false } => fill(t("{who} stopped following the ticket"), &[("who", who)]),
            Event::Because { event, reason } => {
                fill(t("{event} (reason: {reason})"), &[("event", &event.describe_in(t)), ("reason", reason)])
            }
            Event::MailDelayed { kind, to, reason, retry_at } => fill(
                t("not yet delivered: {kind} mail to {to} — retrying at {at} UTC ({reason})"),
                &[("kind", &kind_of(kind)), ("to", &to.join(", ")), ("at", &retry_at.short()), ("reason", reason)],
            ),
            Event::MailBounced { to, reason, hard } => {
                let note = if *hard { t(" (not copied on conversations any more until it writes again)") } else { "" };
                fill(t("bounced: mail to {to} — {reason}{note}"), &[("to", to), ("reason", reason), ("note", &note)])
            }
            Event::CollaboratorRemoved { who } => fill(t("took {who} off the ticket's collaborators"), &[("who", who)]),
            Event::RequesterChanged { from, to } => fill(t("changed the requester from {from} to {to}"), &[("from", from), ("to", to)]),
            Event::ReplyNotMailed => t("posted the reply above without mailing it (shown on the requester's ticket page)").to_string(),
            Event::ChecklistAdded { text } => fill(t("added \"{text}\" to the checklist"), &[("text", text)]),
            Event::ChecklistChecked { text, done: true } => fill(t("ticked \"{text}\" off the checklist"), &[("text", text)]),
            Event::ChecklistChecked { text, done: false } => fill(t("unticked \"{text}\" on the checklist"), &[("text", text)]),
            Event::ChecklistRemoved { text } => fill(t("removed \"{text}\" from the checklist"), &[("text", text)]),
            Event::ChecklistChanged { text, field, from, to } => fill(
                t("changed the {field} of \"{text}\" on the checklist from {from} to {to}"),
                &[("field", field), ("text", text), ("from", &show(from)), ("to", &show(to))],
            ),
            Event::ReminderSent => t("reminded the requester that the ticket waits for their answer").to_string(),
            Event::Snoozed { until } => fill(t("snoozed the ticket until {until} UTC"), &[("until", until)]),
            Event::SlaWarning { policy, target, due } => {
                fill(t("SLA {policy}: the {target} is due soon ({due} UTC)"), &[("policy", policy), ("target", target), ("due", due)])
            }
            Event::SlaBreached { policy, target, due } => fill(
                t("SLA {policy}: the {target} was due {due} UTC and is overdue"),
                &[("policy", policy), ("target", target), ("due", due)],
            ),
            Event::TriggerAction { trigger, action } => fill(t("trigger {trigger}: {action}"), &[("trigger", trigger), ("action", action)]),
            Event::Rated { score, comment } => {
                let template = match (score.as_str(), comment.is_empty()) {
                    ("good", true) => t("rated the help good"),
                    ("good", false) => t("rated the help good: “{comment}”"),
                    (_, true) => t("rated the help bad"),
                    (_, false) => t("rated the help bad: “{comment}”"),
                };
                fill(template, &[("comment", comment)])
            }
        }
    }
}

/// An attachment reference: the blob is stored once by content hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttachmentRef {
    pub filename: String,
    pub content_type: String,
    pub size: u64,
    /// Hex SHA-256 of the content.
    pub blob: String,
}

/// One entry of a ticket's thread.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreadEntry {
    pub ticket: TicketId,
    pub seq: u32,
    pub kind: EntryKind,
    /// Whoever did it (agent, requester); `None` for the system.
    pub author: Option<PersonId>,
    pub body: String,
    pub event: Option<Event>,
    pub attachments: Vec<AttachmentRef>,
    pub created_at: Timestamp,
}

impl ThreadEntry {
    /// The readable text of the entry: the body, or the event's description.
    pub fn text(&self) -> String {
        match &self.event {
            Some(e) if self.body.is_empty() => e.describe(),
            _ => self.body.clone(),
        }
    }
}

/// A mail of the thread that is not delivered yet: its first attempt
/// failed for now and no later event says it went out or gave up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undelivered {
    pub kind: String,
    pub to: Vec<String>,
    pub reason: String,
    pub retry_at: Timestamp,
}

/// The thread's mails still waiting to be delivered (oldest first).
pub fn undelivered(entries: &[ThreadEntry]) -> Vec<Undelivered> {
    let mut out: Vec<Undelivered> = Vec::new();
    for e in entries {
        match &e.event {
            Some(Event::MailDelayed { kind, to, reason, retry_at }) => {
                out.push(Undelivered { kind: kind.clone(), to: to.clone(), reason: reason.clone(), retry_at: *retry_at })
            }
            // Each address sent or given up is no longer waiting; a mail is
            // done when none of its addresses is.
            Some(Event::MailSent { kind, to } | Event::MailFailed { kind, to, .. }) => {
                for u in out.iter_mut().filter(|u| u.kind == *kind) {
                    u.to.retain(|a| !to.contains(a));
                }
                out.retain(|u| !u.to.is_empty());
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undelivered_until_sent_or_given_up() {
        let ev = |seq: u32, event: Event| ThreadEntry {
            ticket: TicketId(1),
            seq,
            kind: EntryKind::Event,
            author: None,
            body: String::new(),
            event: Some(event),
            attachments: Vec::new(),
            created_at: Timestamp(0),
        };
        let delayed = |kind: &str, to: &str| Event::MailDelayed {
            kind: kind.into(),
            to: vec![to.into()],
            reason: "421 busy".into(),
            retry_at: Timestamp(60_000),
        };
        let sent = |kind: &str, to: &str| Event::MailSent { kind: kind.into(), to: vec![to.into()] };
        let mut t = vec![ev(1, delayed("reply", "carol@x.test")), ev(2, delayed("ack", "dan@x.test"))];
        let waiting = undelivered(&t);
        assert_eq!(waiting.len(), 2);
        assert_eq!((waiting[0].kind.as_str(), waiting[0].reason.as_str()), ("reply", "421 busy"));
        t.push(ev(3, sent("ack", "dan@x.test")));
        t.push(ev(4, sent("reply", "someone@else.test")));
        assert_eq!(undelivered(&t).iter().map(|u| u.to[0].as_str()).collect::<Vec<_>>(), ["carol@x.test"]);
        t.push(ev(5, Event::MailFailed { kind: "reply".into(), to: vec!["carol@x.test".into()], reason: "550".into() }));
        assert!(undelivered(&t).is_empty(), "a mail given up is no longer waiting (its failure shows in the thread)");
        // Delivered to one of two: the other still waits.
        let both = Event::MailDelayed {
            kind: "reply".into(),
            to: vec!["a@x.test".into(), "b@x.test".into()],
            reason: "421".into(),
            retry_at: Timestamp(0),
        };
        let t = vec![ev(1, both), ev(2, sent("reply", "a@x.test"))];
        assert_eq!(undelivered(&t)[0].to, ["b@x.test"]);
    }

    #[test]
    fn events_read_well() {
        let e = Event::FieldChanged { field: "priority".into(), from: "Medium".into(), to: "High".into() };
        assert_eq!(e.describe(), "changed priority from Medium to High");
        let e = Event::FieldChanged { field: "due date".into(), from: String::new(), to: "2026-12-01".into() };
        assert_eq!(e.describe(), "changed due date from (none) to 2026-12-01");
        assert_eq!(Event::Assigned { from: None, to: Some("Bo".into()) }.describe(), "assigned the ticket to Bo");
        assert_eq!(Event::Assigned { from: Some("Bo".into()), to: None }.describe(), "unassigned the ticket (was Bo)");
        assert_eq!(Event::StatusChanged { from: "Open".into(), to: "Pending".into() }.describe(), "changed status from Open to Pending");
        let e = Event::Because {
            event: Box::new(Event::StatusChanged { from: "Open".into(), to: "Pending".into() }),
            reason: "waiting for the customer".into(),
        };
        assert_eq!(e.describe(), "changed status from Open to Pending (reason: waiting for the customer)");
    }

    #[test]
    fn events_keep_their_positions_in_records() {
        // Records store the variant's position (postcard): appending keeps
        // old records readable, reordering would not.
        let first = postcard::to_allocvec(&Event::Created { channel: "email".into() }).unwrap_or_default();
        assert_eq!(first.first(), Some(&0));
        let refused = postcard::to_allocvec(&Event::CollaboratorsRefused { count: 1, limit: 2 }).unwrap_or_default();
        assert_eq!(refused.first(), Some(&15));
        let because = Event::Because { event: Box::new(Event::Trashed), reason: "r".into() };
        let bytes = postcard::to_allocvec(&because).unwrap_or_default();
        assert_eq!(bytes.first(), Some(&21));
        assert_eq!(postcard::from_bytes::<Event>(&bytes).ok(), Some(because));
        let delayed = Event::MailDelayed { kind: "reply".into(), to: vec!["a@b.c".into()], reason: "451".into(), retry_at: Timestamp(0) };
        assert_eq!(postcard::to_allocvec(&delayed).unwrap_or_default().first(), Some(&22));
        assert_eq!(delayed.describe(), "not yet delivered: reply mail to a@b.c — retrying at 1970-01-01 00:00 UTC (451)");
        let bounced = Event::MailBounced { to: "a@b.c".into(), reason: "550 5.1.1 User unknown".into(), hard: true };
        assert_eq!(postcard::to_allocvec(&bounced).unwrap_or_default().first(), Some(&23));
        assert!(bounced.describe().starts_with("bounced: mail to a@b.c — 550 5.1.1 User unknown (not copied"));
        // Later variants keep their places too.
        assert_eq!(postcard::to_allocvec(&Event::ReplyNotMailed).unwrap_or_default().first(), Some(&26));
        let rated = Event::Rated { score: "bad".into(), comment: "Too slow".into() };
        assert_eq!(postcard::to_allocvec(&rated).unwrap_or_default().first(), Some(&36), "the last variant");
        assert_eq!(rated.describe(), "rated the help bad: “Too slow”");
    }
}
