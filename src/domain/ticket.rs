//! The ticket: its fields, the status lifecycle and the rules that move it.
//!
//! Statuses follow an explicit allowed-transitions table (`Status::can_become`).
//! Closed tickets are read-only until an admin reopens them.

use serde::{Deserialize, Serialize};

use super::ids::{PersonId, TicketId};
use super::time::{Date, Timestamp};

/// Generates a closed enum with a stable snake_case name (API, forms, config) and a
/// human label (UI).
macro_rules! named_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $key:literal, $label:literal;)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// Stable lower-case name used in URLs, forms and JSON.
            pub fn key(self) -> &'static str {
                match self { $($name::$variant => $key),+ }
            }
            /// Human label for the UI.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }
            /// Parses the stable name (case-insensitive; `-`, space and `_` are equal).
            pub fn parse(s: &str) -> Option<$name> {
                let norm: String = s.trim().to_ascii_lowercase().chars()
                    .map(|c| if c == '-' || c == ' ' { '_' } else { c }).collect();
                match norm.as_str() { $($key => Some($name::$variant),)+ _ => None }
            }
            /// Compact index used in store index keys.
            pub fn index(self) -> u8 {
                self as u8
            }
            pub fn from_index(i: u8) -> Option<$name> {
                Self::ALL.get(i as usize).copied()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.label())
            }
        }
    };
}

named_enum! {
    /// Where a ticket is in its life.
    Status {
        Open => "open", "Open";
        Pending => "pending", "Pending";
        InProgress => "in_progress", "In Progress";
        OnHold => "on_hold", "On Hold";
        Resolved => "resolved", "Resolved";
        Closed => "closed", "Closed";
        Snoozed => "snoozed", "Snoozed";
    }
}

named_enum! {
    /// How urgent a ticket is.
    Priority {
        Urgent => "urgent", "Urgent";
        High => "high", "High";
        Medium => "medium", "Medium";
        Low => "low", "Low";
    }
}

named_enum! {
    /// Where a ticket came from.
    Channel {
        Email => "email", "Email";
        Web => "web", "Web";
        Phone => "phone", "Phone";
        Chat => "chat", "Chat";
        Internal => "internal", "Internal";
    }
}

/// Why a status change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("a ticket cannot go from {from} to {to}")]
    NotAllowed { from: Status, to: Status },
    #[error("this ticket is closed; only an admin can reopen it")]
    ClosedNeedsAdmin,
}

impl Status {
    /// The state as a customer reads it on their pages: what it means for
    /// them (a snoozed ticket is simply open to them).
    pub fn customer_label(self) -> &'static str {
        match self {
            Status::Open | Status::Snoozed => "Open",
            Status::Pending => "Waiting for your reply",
            Status::InProgress => "In progress",
            Status::OnHold => "On hold",
            Status::Resolved => "Resolved",
            Status::Closed => "Closed",
        }
    }

    /// The allowed-transitions table. Staying in the same status is not a transition.
    pub fn can_become(self, to: Status) -> bool {
        use Status::*;
        match self {
            Open | Pending | InProgress | OnHold | Snoozed => to != self,
            Resolved => matches!(to, Open | InProgress | Closed),
            Closed => to == Open,
        }
    }

    /// Checks a change requested by a person; `is_admin` matters only for reopening
    /// a closed ticket.
    pub fn check_transition(self, to: Status, is_admin: bool) -> Result<(), TransitionError> {
        if self == Status::Closed && to == Status::Open && !is_admin {
            return Err(TransitionError::ClosedNeedsAdmin);
        }
        if self.can_become(to) {
            Ok(())
        } else if self == Status::Closed {
            Err(TransitionError::ClosedNeedsAdmin)
        } else {
            Err(TransitionError::NotAllowed { from: self, to })
        }
    }

    /// Open work that still needs someone now (not resolved, closed or
    /// snoozed).
    pub fn is_active(self) -> bool {
        !matches!(self, Status::Resolved | Status::Closed | Status::Snoozed)
    }

    /// The status after an agent's public reply: `chosen` wins when given, otherwise
    /// an Open ticket moves to Pending (waiting on the customer) and others stay.
    pub fn after_agent_reply(self, chosen: Option<Status>) -> Status {
        match chosen {
            Some(s) => s,
            None if self == Status::Open => Status::Pending,
            None => self,
        }
    }

    /// The status after the requester replies: Pending, Resolved or Snoozed go back to Open.
    /// A closed ticket is not reopened (mail starts a new ticket instead).
    pub fn after_requester_reply(self) -> Status {
        match self {
            Status::Pending | Status::Resolved | Status::Snoozed => Status::Open,
            s => s,
        }
    }
}

/// A ticket reference like `TKT-000123`: a configurable prefix and a number that is
/// never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicketRef(pub u64);

impl TicketRef {
    pub fn id(self) -> TicketId {
        TicketId(self.0)
    }

    pub fn format(self, prefix: &str) -> String {
        format!("{prefix}-{:06}", self.0)
    }

    /// Parses `TKT-000123`, `tkt-123`, `#123` or `123` given the desk's prefix.
    pub fn parse(s: &str, prefix: &str) -> Option<TicketRef> {
        let s = s.trim().trim_start_matches('[').trim_end_matches(']');
        let has_prefix = !prefix.is_empty() && s.get(..prefix.len()).is_some_and(|p| p.eq_ignore_ascii_case(prefix));
        let digits = if has_prefix { s[prefix.len()..].trim_start_matches('-') } else { s.trim_start_matches('#') };
        if digits.is_empty() || digits.len() > 12 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok().filter(|n| *n > 0).map(TicketRef)
    }
}

/// A support ticket. `id` is the number of its reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    pub id: TicketId,
    pub subject: String,
    pub requester: PersonId,
    pub channel: Channel,
    pub status: Status,
    pub priority: Priority,
    pub category: String,
    pub department: String,
    pub assignee: Option<PersonId>,
    pub due: Option<Date>,
    pub tags: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The `[[team]]` the ticket is assigned to, beside (or instead of) an
    /// agent. (Record v3.)
    pub team: Option<String>,
    /// The `[[status]]` shown for it, a custom status that behaves as
    /// `status` (its base). None: the base status's own name. (Record v4.)
    pub custom_status: Option<String>,
    /// The `[[mailbox]]` address the ticket arrived at (mail tickets), whose
    /// identity its mail keeps while it stays in that mailbox's department.
    /// (Record v4.)
    pub mailbox: Option<String>,
    /// Custom field values: (`[[field]]` name, canonical value), set ones
    /// only. (Record v4.)
    pub fields: Vec<(String, String)>,
}

impl Ticket {
    /// An open mail ticket of requester 2 in Support, made at `at` (tests).
    #[cfg(test)]
    pub(crate) fn sample(id: u64, at: i64) -> Ticket {
        Ticket {
            id: TicketId(id),
            subject: "printer".into(),
            requester: PersonId(2),
            channel: Channel::Email,
            status: Status::Open,
            priority: Priority::Medium,
            category: "General".into(),
            department: "Support".into(),
            assignee: None,
            due: None,
            tags: Vec::new(),
            created_at: Timestamp(at),
            updated_at: Timestamp(at),
            team: None,
            custom_status: None,
            mailbox: None,
            fields: Vec::new(),
        }
    }

    /// The value of custom field `name`, if set.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

impl Ticket {
    pub fn is_closed(&self) -> bool {
        self.status == Status::Closed
    }
}

/// Normalises a user-entered tag list: split on commas, trim, lower-case, dedupe,
/// keep order.
pub fn normalize_tags<'a>(raw: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for part in raw.into_iter().flat_map(|s| s.split(',')) {
        let t: String = part.trim().to_lowercase().split_whitespace().collect::<Vec<_>>().join("-");
        if !t.is_empty() && !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;

    /// The whole table, written out so a change to it is a visible change here.
    const ALLOWED: &[(Status, &[Status])] = &[
        (Open, &[Pending, InProgress, OnHold, Resolved, Closed, Snoozed]),
        (Pending, &[Open, InProgress, OnHold, Resolved, Closed, Snoozed]),
        (InProgress, &[Open, Pending, OnHold, Resolved, Closed, Snoozed]),
        (OnHold, &[Open, Pending, InProgress, Resolved, Closed, Snoozed]),
        (Resolved, &[Open, InProgress, Closed]),
        (Closed, &[Open]),
        (Snoozed, &[Open, Pending, InProgress, OnHold, Resolved, Closed]),
    ];

    #[test]
    fn every_transition_matches_the_table() {
        for &(from, allowed) in ALLOWED {
            for &to in Status::ALL {
                assert_eq!(from.can_become(to), allowed.contains(&to), "{from:?} -> {to:?}");
            }
        }
    }

    #[test]
    fn only_admin_reopens_closed() {
        assert_eq!(Closed.check_transition(Open, false), Err(TransitionError::ClosedNeedsAdmin));
        assert_eq!(Closed.check_transition(Open, true), Ok(()));
        assert_eq!(Closed.check_transition(Pending, true), Err(TransitionError::ClosedNeedsAdmin));
        assert_eq!(Closed.check_transition(Resolved, false), Err(TransitionError::ClosedNeedsAdmin));
        assert_eq!(Resolved.check_transition(Pending, true), Err(TransitionError::NotAllowed { from: Resolved, to: Pending }));
        assert_eq!(Open.check_transition(Open, true), Err(TransitionError::NotAllowed { from: Open, to: Open }));
        for &to in &[Pending, InProgress, OnHold, Resolved, Closed] {
            assert_eq!(Open.check_transition(to, false), Ok(()));
        }
    }

    #[test]
    fn agent_reply_moves_open_to_pending_unless_chosen() {
        assert_eq!(Open.after_agent_reply(None), Pending);
        assert_eq!(Open.after_agent_reply(Some(Resolved)), Resolved);
        assert_eq!(Open.after_agent_reply(Some(Open)), Open);
        for &s in &[Pending, InProgress, OnHold, Resolved] {
            assert_eq!(s.after_agent_reply(None), s);
        }
        assert_eq!(InProgress.after_agent_reply(Some(Pending)), Pending);
    }

    #[test]
    fn requester_reply_reopens_pending_resolved_and_snoozed_only() {
        for &s in Status::ALL {
            let want = match s {
                Pending | Resolved | Snoozed => Open,
                other => other,
            };
            assert_eq!(s.after_requester_reply(), want, "{s:?}");
        }
    }

    #[test]
    fn names_round_trip() {
        for &s in Status::ALL {
            assert_eq!(Status::parse(s.key()), Some(s));
            assert_eq!(Status::parse(s.label()), Some(s));
            assert_eq!(Status::from_index(s.index()), Some(s));
        }
        for &p in Priority::ALL {
            assert_eq!(Priority::parse(p.key()), Some(p));
        }
        for &c in Channel::ALL {
            assert_eq!(Channel::parse(c.key()), Some(c));
        }
        assert_eq!(Status::parse("In-Progress"), Some(InProgress));
        assert_eq!(Status::parse("bogus"), None);
        assert_eq!(Priority::parse(""), None);
    }

    #[test]
    fn active_statuses() {
        assert!(Open.is_active() && Pending.is_active() && InProgress.is_active() && OnHold.is_active());
        assert!(!Resolved.is_active() && !Closed.is_active());
    }

    #[test]
    fn references_format_and_parse() {
        assert_eq!(TicketRef(123).format("TKT"), "TKT-000123");
        assert_eq!(TicketRef(1_234_567).format("HD"), "HD-1234567");
        for s in ["TKT-000123", "tkt-123", "TKT123", "#123", "123", " [TKT-000123] "] {
            assert_eq!(TicketRef::parse(s, "TKT"), Some(TicketRef(123)), "{s}");
        }
        for s in ["", "TKT-", "TKT-abc", "0", "ABC-12", "12a", "TKT-99999999999999"] {
            assert_eq!(TicketRef::parse(s, "TKT"), None, "{s}");
        }
    }

    #[test]
    fn tags_are_normalised() {
        assert_eq!(normalize_tags(["VPN, printer ,vpn", " Big Client "]), vec!["vpn", "printer", "big-client"]);
        assert!(normalize_tags([" , ,"]).is_empty());
    }
}
