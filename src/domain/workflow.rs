//! Closed sets of the desk's workflow vocabulary: the kinds of mail the desk
//! sends (`MailKind`) and the bulk bar's actions (`BulkAction`). Their text
//! forms are what records and forms hold; nothing else parses them.

use super::{PersonId, Priority, Status};

/// A kind of mail the desk sends; each has its template `desk/templates/<key>.txt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MailKind {
    /// The autoresponder's acknowledgement of a new ticket from mail.
    Ack,
    /// An agent's public reply to the requester.
    Reply,
    /// To agents: a new ticket in their departments.
    NewTicket,
    /// To the assignee and followers: an internal note.
    Note,
    /// To an agent: a ticket was assigned to them.
    Assigned,
    /// To agents: the requester replied.
    RequesterReply,
    /// To the requester: the ticket was resolved.
    Resolved,
    /// To a stranger whose mail a mailbox holds (`strangers = "reply"`).
    Stranger,
    /// To the requester: an agent closed the ticket.
    Closed,
    /// To a department's agents: a ticket was transferred to it.
    Transferred,
    /// To a team's members: a ticket was assigned to the team.
    TeamAssigned,
    /// To the requester: an agent opened a ticket for them.
    AgentTicket,
    /// To the requester: their Pending ticket still waits for them.
    PendingReminder,
    /// To the assignee (or the department): a snoozed ticket woke up.
    SnoozeEnded,
    /// To an agent @mentioned in an internal note.
    Mention,
    /// To the SLA policy's audience: a target is due soon.
    SlaWarning,
    /// To the SLA policy's audience: a target is overdue.
    SlaBreached,
    /// To the agents a `[[trigger]]` notifies.
    Trigger,
    /// To the assignee (or the department): the requester rated the ticket bad.
    BadRating,
}

impl MailKind {
    pub const ALL: [MailKind; 19] = [
        MailKind::Ack,
        MailKind::Reply,
        MailKind::NewTicket,
        MailKind::Note,
        MailKind::Assigned,
        MailKind::RequesterReply,
        MailKind::Resolved,
        MailKind::Stranger,
        MailKind::Closed,
        MailKind::Transferred,
        MailKind::TeamAssigned,
        MailKind::AgentTicket,
        MailKind::PendingReminder,
        MailKind::SnoozeEnded,
        MailKind::Mention,
        MailKind::SlaWarning,
        MailKind::SlaBreached,
        MailKind::Trigger,
        MailKind::BadRating,
    ];

    /// Notifications that go to agents (and may carry an email-command token);
    /// each agent can turn any of them off for themself.
    pub const FOR_AGENTS: [MailKind; 12] = [
        MailKind::NewTicket,
        MailKind::Note,
        MailKind::Assigned,
        MailKind::RequesterReply,
        MailKind::Transferred,
        MailKind::TeamAssigned,
        MailKind::SnoozeEnded,
        MailKind::Mention,
        MailKind::SlaWarning,
        MailKind::SlaBreached,
        MailKind::Trigger,
        MailKind::BadRating,
    ];

    /// The name in records, settings forms and template files.
    pub fn key(self) -> &'static str {
        match self {
            MailKind::Ack => "ack",
            MailKind::Reply => "reply",
            MailKind::NewTicket => "new_ticket",
            MailKind::Note => "note",
            MailKind::Assigned => "assigned",
            MailKind::RequesterReply => "requester_reply",
            MailKind::Resolved => "resolved",
            MailKind::Stranger => "stranger",
            MailKind::Closed => "closed",
            MailKind::Transferred => "transferred",
            MailKind::TeamAssigned => "team_assigned",
            MailKind::AgentTicket => "agent_ticket",
            MailKind::PendingReminder => "pending_reminder",
            MailKind::SnoozeEnded => "snooze_ended",
            MailKind::Mention => "mention",
            MailKind::SlaWarning => "sla_warning",
            MailKind::SlaBreached => "sla_breached",
            MailKind::Trigger => "trigger",
            MailKind::BadRating => "bad_rating",
        }
    }

    pub fn parse(s: &str) -> Option<MailKind> {
        MailKind::ALL.into_iter().find(|k| k.key() == s)
    }

    pub fn for_agents(self) -> bool {
        MailKind::FOR_AGENTS.contains(&self)
    }

    /// Mail the requester sees as part of the conversation (its Message-ID
    /// joins the thread's References chain).
    pub fn in_conversation(self) -> bool {
        matches!(
            self,
            MailKind::Ack | MailKind::Reply | MailKind::Resolved | MailKind::Closed | MailKind::AgentTicket | MailKind::PendingReminder
        )
    }

    /// What an agent turns on or off on their settings page.
    pub fn setting_label(self) -> &'static str {
        match self {
            MailKind::NewTicket => "A new ticket arrives in my departments",
            MailKind::Note => "Someone adds an internal note to a ticket assigned to me",
            MailKind::Assigned => "A ticket is assigned to me",
            MailKind::RequesterReply => "The requester replies (my tickets, or my departments' unassigned ones)",
            MailKind::Ack => "The acknowledgement of a new ticket",
            MailKind::Reply => "A public reply",
            MailKind::Resolved => "The ticket was resolved",
            MailKind::Stranger => "The answer to a stranger whose mail is held",
            MailKind::Closed => "The ticket was closed",
            MailKind::Transferred => "A ticket is transferred to one of my departments",
            MailKind::TeamAssigned => "A ticket is assigned to one of my teams",
            MailKind::AgentTicket => "An agent opened a ticket for the requester",
            MailKind::PendingReminder => "A reminder that a pending ticket waits for the requester",
            MailKind::SnoozeEnded => "A snoozed ticket of mine (or my departments' unassigned one) wakes up",
            MailKind::Mention => "Someone @mentions me in an internal note",
            MailKind::SlaWarning => "An SLA target of a ticket I answer for is due soon",
            MailKind::SlaBreached => "An SLA target of a ticket I answer for is overdue",
            MailKind::Trigger => "An automation rule (trigger) asks for me",
            MailKind::BadRating => "A requester rates my ticket (or my department's unassigned one) bad",
        }
    }
}

/// A plain notice from the desk to one staff address (no ticket thread, no
/// template: the text is built where it is sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    /// Mail to postmaster@, forwarded to the first admin.
    Postmaster,
    /// An agent's mail that could not be proven to come from them.
    Unverified,
    /// A one-time login code (the second factor by mail).
    LoginCode,
    /// A link to set a new password (forgotten password).
    PasswordReset,
    /// A new agent's invitation with a link to set their password.
    Invite,
    /// The list of email commands, for an agent's `#help`.
    CommandHelp,
    /// A customer's sign-in link to their tickets (the help page).
    PortalLink,
    /// The link that opens a first request from the help page's form.
    RequestConfirm,
}

impl NoticeKind {
    /// The name in outbox records and Message-IDs.
    pub fn key(self) -> &'static str {
        match self {
            NoticeKind::Postmaster => "postmaster",
            NoticeKind::Unverified => "unverified",
            NoticeKind::LoginCode => "login_code",
            NoticeKind::PasswordReset => "password_reset",
            NoticeKind::Invite => "invite",
            NoticeKind::CommandHelp => "command_help",
            NoticeKind::PortalLink => "portal_link",
            NoticeKind::RequestConfirm => "request_confirm",
        }
    }

    /// At most one notice of this kind per address in this many ms.
    pub fn window_ms(self) -> i64 {
        match self {
            NoticeKind::LoginCode
            | NoticeKind::PasswordReset
            | NoticeKind::Invite
            | NoticeKind::CommandHelp
            | NoticeKind::PortalLink
            | NoticeKind::RequestConfirm => 60_000,
            NoticeKind::Postmaster | NoticeKind::Unverified => 10 * 60 * 1000,
        }
    }
}

/// One action of the bulk bar, applied to every selected ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BulkAction {
    /// Assign to the agent running the job.
    AssignMe,
    Unassign,
    AssignTo(PersonId),
    SetStatus(Status),
    SetPriority(Priority),
    SetCategory(String),
    AddTag(String),
    RemoveTag(String),
    /// Merge every selected ticket into the oldest one.
    Merge,
    Trash,
    /// Trash, and ban each requester's address.
    Junk,
    /// Assign to a `[[team]]` (`None`: take off its team).
    SetTeam(Option<String>),
    /// Give a `[[status]]` (by name; the desk checks it).
    SetCustomStatus(String),
}

impl BulkAction {
    /// From the bulk form: `action` as in `assign:me`, `status:resolved`,
    /// `tag` (with the tag in `value`). The message says what is wrong.
    pub fn parse(action: &str, value: &str) -> Result<BulkAction, &'static str> {
        let (kind, arg) = action.split_once(':').unwrap_or((action, ""));
        let arg = if arg.is_empty() { value.trim() } else { arg };
        BulkAction::from_spec(kind, arg).ok_or(match kind {
            "" => "choose a bulk action",
            "assign" => "pick an agent",
            "team" => "pick a team",
            "status" => "unknown status",
            "priority" => "unknown priority",
            "tag" | "untag" | "category" => "type a value in the box next to the action",
            _ => "this is not a bulk action",
        })
    }

    /// From the machine form a job record keeps (`spec`).
    pub fn from_spec(kind: &str, arg: &str) -> Option<BulkAction> {
        let nonempty = || Some(arg.trim()).filter(|a| !a.is_empty()).map(str::to_string);
        Some(match kind {
            "assign" => match arg {
                "me" => BulkAction::AssignMe,
                "none" => BulkAction::Unassign,
                id => BulkAction::AssignTo(id.parse().ok()?),
            },
            "status" => BulkAction::SetStatus(Status::parse(arg)?),
            "priority" => BulkAction::SetPriority(Priority::parse(arg)?),
            "category" => BulkAction::SetCategory(nonempty()?),
            "tag" => BulkAction::AddTag(nonempty()?),
            "untag" => BulkAction::RemoveTag(nonempty()?),
            "merge" => BulkAction::Merge,
            "trash" => BulkAction::Trash,
            "junk" => BulkAction::Junk,
            "team" if arg.trim() == "none" => BulkAction::SetTeam(None),
            "team" => BulkAction::SetTeam(Some(nonempty()?)),
            "custom_status" => BulkAction::SetCustomStatus(nonempty()?),
            _ => return None,
        })
    }

    /// The machine form kept in the job record (`from_spec` reads it back).
    pub fn spec(&self) -> (String, String) {
        let (kind, arg) = match self {
            BulkAction::AssignMe => ("assign", "me".to_string()),
            BulkAction::Unassign => ("assign", "none".to_string()),
            BulkAction::AssignTo(id) => ("assign", id.to_string()),
            BulkAction::SetStatus(s) => ("status", s.key().to_string()),
            BulkAction::SetPriority(p) => ("priority", p.key().to_string()),
            BulkAction::SetCategory(c) => ("category", c.clone()),
            BulkAction::AddTag(t) => ("tag", t.clone()),
            BulkAction::RemoveTag(t) => ("untag", t.clone()),
            BulkAction::Merge => ("merge", String::new()),
            BulkAction::Trash => ("trash", String::new()),
            BulkAction::Junk => ("junk", String::new()),
            BulkAction::SetTeam(t) => ("team", t.clone().unwrap_or_else(|| "none".into())),
            BulkAction::SetCustomStatus(s) => ("custom_status", s.clone()),
        };
        (kind.to_string(), arg)
    }

    /// The form value of the bulk bar's option for this action.
    pub fn form_value(&self) -> String {
        match self.spec() {
            (kind, arg) if arg.is_empty() || matches!(self, BulkAction::AddTag(_) | BulkAction::RemoveTag(_)) => kind,
            (kind, arg) => format!("{kind}:{arg}"),
        }
    }

    /// The permission the action needs (beside `tickets.bulk`).
    pub fn permission(&self) -> crate::domain::roles::Permission {
        use crate::domain::roles::Permission;
        match self {
            BulkAction::AssignTo(_) | BulkAction::SetTeam(_) => Permission::Assign,
            BulkAction::Merge => Permission::Merge,
            BulkAction::Trash | BulkAction::Junk => Permission::Delete,
            BulkAction::AssignMe
            | BulkAction::Unassign
            | BulkAction::SetStatus(_)
            | BulkAction::SetCustomStatus(_)
            | BulkAction::SetPriority(_)
            | BulkAction::SetCategory(_)
            | BulkAction::AddTag(_)
            | BulkAction::RemoveTag(_) => Permission::Edit,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mail_kinds_round_trip_and_agent_kinds_are_marked() {
        for k in MailKind::ALL {
            assert_eq!(MailKind::parse(k.key()), Some(k));
        }
        assert!(MailKind::Note.for_agents() && !MailKind::Ack.for_agents());
        assert_eq!(MailKind::parse("nope"), None);
    }

    #[test]
    fn bulk_actions_parse_from_the_form_and_round_trip_through_the_record() {
        assert_eq!(BulkAction::parse("assign:me", ""), Ok(BulkAction::AssignMe));
        assert_eq!(BulkAction::parse("assign:7", ""), Ok(BulkAction::AssignTo(PersonId(7))));
        assert_eq!(BulkAction::parse("status:resolved", ""), Ok(BulkAction::SetStatus(Status::Resolved)));
        assert_eq!(BulkAction::parse("tag", " vip "), Ok(BulkAction::AddTag("vip".into())));
        assert_eq!(BulkAction::parse("", ""), Err("choose a bulk action"));
        assert_eq!(BulkAction::parse("assign:bob", ""), Err("pick an agent"));
        assert_eq!(BulkAction::parse("explode", ""), Err("this is not a bulk action"));
        assert!(BulkAction::parse("tag", "").is_err());
        assert_eq!(BulkAction::parse("team", ""), Err("pick a team"));
        let all = [
            BulkAction::AssignMe,
            BulkAction::Unassign,
            BulkAction::AssignTo(PersonId(3)),
            BulkAction::SetStatus(Status::Pending),
            BulkAction::SetPriority(Priority::Urgent),
            BulkAction::SetCategory("Billing".into()),
            BulkAction::AddTag("a".into()),
            BulkAction::RemoveTag("b".into()),
            BulkAction::Merge,
            BulkAction::Trash,
            BulkAction::Junk,
            BulkAction::SetTeam(Some("Network".into())),
            BulkAction::SetTeam(None),
        ];
        for a in all {
            let (k, v) = a.spec();
            assert_eq!(BulkAction::from_spec(&k, &v), Some(a.clone()), "{k}:{v}");
            let form = a.form_value();
            let value = if matches!(a, BulkAction::AddTag(_) | BulkAction::RemoveTag(_)) { v.as_str() } else { "" };
            assert_eq!(BulkAction::parse(&form, value), Ok(a.clone()), "{form}");
        }
    }
}
