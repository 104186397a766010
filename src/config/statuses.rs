//! `[[status]]` and `[[department]]`: the desk's own statuses (a name and
//! colour shown everywhere, behaving as one of the built-in base states) and
//! per-department notification rules (who gets mail about a department's
//! tickets).

use super::Config;
use crate::domain::{Status, Ticket};

/// A custom status: shown by its name and colour, it behaves as `base` —
/// views, SLA pauses, auto-close and the transition rules follow the base.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusConfig {
    pub name: String,
    /// The built-in state it behaves as: open, pending, in_progress, on_hold,
    /// resolved or closed.
    pub base: String,
    /// `#rgb` or `#rrggbb`; empty: the base state's colour.
    #[serde(default)]
    pub colour: String,
    /// What customers see on their pages; empty: the base state's customer
    /// name (e.g. "Waiting for your reply" for pending), so an internal name
    /// stays internal.
    #[serde(default)]
    pub customer_name: String,
}

impl StatusConfig {
    /// Its commented example in `config.example.toml`.
    pub const EXAMPLE: &'static str = "\
# Custom statuses (one [[status]] each) beside Open, Pending, In Progress,
# On Hold, Resolved and Closed: a name and colour shown everywhere statuses are
# (queue, ticket, API, search `status:\"Waiting for vendor\"`, CSV), and the
# built-in state it behaves as (`base`): views, SLA pauses and the allowed
# changes follow the base.
# [[status]]
# name = \"Waiting for vendor\"
# base = \"on_hold\"
# colour = \"#8a4baf\"
# customer_name = \"Waiting for a part\"   # customers' pages; empty: the base's
";

    /// The base state (validated when the config is loaded).
    pub fn base(&self) -> Status {
        Status::parse(&self.base).unwrap_or(Status::Open)
    }
}

/// Who of a department gets a kind of agent notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// Every agent who works in the department.
    Members,
    /// The ticket's assignee only (nobody while it is unassigned).
    Assignee,
    /// The assignee, or every agent of the department while it is unassigned.
    AssigneeOrMembers,
    /// Nobody.
    None,
}

fn members() -> Audience {
    Audience::Members
}

fn assignee_or_members() -> Audience {
    Audience::AssigneeOrMembers
}

/// A department's notification rules; a department without a
/// `[[department]]` gets the defaults.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepartmentConfig {
    pub name: String,
    /// Who hears of a new ticket.
    #[serde(default = "members")]
    pub new_ticket: Audience,
    /// Who hears that the requester (or a collaborator) replied.
    #[serde(default = "assignee_or_members")]
    pub customer_reply: Audience,
    /// Who hears that a ticket was transferred into the department.
    #[serde(default = "members")]
    pub transferred: Audience,
}

impl DepartmentConfig {
    /// Its commented example in `config.example.toml`.
    pub const EXAMPLE: &'static str = "\
# Per-department notification rules (one [[department]] each; a department
# not listed gets the defaults shown). Each is \"members\" (every agent of the
# department), \"assignee\" (the assignee only), \"assignee_or_members\" (the
# assignee, or the department while unassigned) or \"none\". The outgoing.notify_*
# switches still turn a kind of mail off for the whole desk, and each agent can
# mute any kind for themself.
# [[department]]
# name = \"Support\"
# new_ticket = \"members\"
# customer_reply = \"assignee_or_members\"
# transferred = \"members\"
";

    fn default_for(name: &str) -> DepartmentConfig {
        DepartmentConfig { name: name.to_string(), new_ticket: members(), customer_reply: assignee_or_members(), transferred: members() }
    }
}

/// A status a ticket can be given: a base state and, for a custom status,
/// its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChoice {
    pub base: Status,
    pub custom: Option<String>,
}

impl Config {
    /// The `[[status]]` called `name` (case-insensitive).
    pub fn custom_status(&self, name: &str) -> Option<&StatusConfig> {
        self.status.iter().find(|s| s.name.eq_ignore_ascii_case(name.trim()))
    }

    /// A status by its key, label or custom name.
    pub fn status_choice(&self, s: &str) -> Option<StatusChoice> {
        if let Some(base) = Status::parse(s) {
            return Some(StatusChoice { base, custom: None });
        }
        self.custom_status(s).map(|c| StatusChoice { base: c.base(), custom: Some(c.name.clone()) })
    }

    /// Every status a ticket can be given, in order: each base state
    /// followed by the custom statuses that behave as it.
    pub fn status_choices(&self) -> Vec<StatusChoice> {
        let mut out = Vec::new();
        for base in Status::ALL {
            out.push(StatusChoice { base: *base, custom: None });
            for c in self.status.iter().filter(|c| c.base() == *base) {
                out.push(StatusChoice { base: *base, custom: Some(c.name.clone()) });
            }
        }
        out
    }

    /// The name a ticket's status is shown by: its custom status while that
    /// is still configured, else its base state's label.
    pub fn status_name(&self, t: &Ticket) -> String {
        self.shown_status(t.status, t.custom_status.as_deref())
    }

    /// A ticket's status as its customer reads it (the help pages): a
    /// custom status's `customer_name`, else the base state's customer name.
    pub fn customer_status(&self, t: &Ticket) -> String {
        let custom = t.custom_status.as_deref().and_then(|c| self.custom_status(c)).filter(|c| c.base() == t.status);
        match custom.filter(|c| !c.customer_name.trim().is_empty()) {
            Some(c) => c.customer_name.clone(),
            None => t.status.customer_label().to_string(),
        }
    }

    /// The name shown for a base state and an optional custom status.
    pub fn shown_status(&self, base: Status, custom: Option<&str>) -> String {
        match custom.and_then(|c| self.custom_status(c)).filter(|c| c.base() == base) {
            Some(c) => c.name.clone(),
            None => base.label().to_string(),
        }
    }

    /// The colour of a ticket's custom status, if it has one.
    pub fn status_colour(&self, t: &Ticket) -> Option<&str> {
        let c = self.custom_status(t.custom_status.as_deref()?)?;
        (c.base() == t.status && !c.colour.is_empty()).then_some(c.colour.as_str())
    }

    /// A department's notification rules.
    pub fn department_rules(&self, name: &str) -> DepartmentConfig {
        self.department.iter().find(|d| d.name.eq_ignore_ascii_case(name)).cloned().unwrap_or_else(|| DepartmentConfig::default_for(name))
    }

    /// Checks `[[status]]` and `[[department]]`.
    pub(super) fn check_statuses(&self) -> Result<(), (&'static str, &'static str, String)> {
        for (i, s) in self.status.iter().enumerate() {
            let name = s.name.trim();
            if name.is_empty() || name.chars().count() > 40 || name.contains([',', '"', '\n', '\r']) {
                return Err(("status", "name", format!("status {}: a name is 1-40 characters, without commas or quotes", i + 1)));
            }
            if Status::parse(name).is_some() {
                return Err(("status", "name", format!("{name:?} is a built-in status")));
            }
            if self.status[..i].iter().any(|o| o.name.trim().eq_ignore_ascii_case(name)) {
                return Err(("status", "name", format!("{name:?} is listed twice")));
            }
            if Status::parse(&s.base).is_none_or(|b| b == Status::Snoozed) {
                return Err((
                    "status",
                    "base",
                    format!("status {name:?}: {:?} is not one of open, pending, in_progress, on_hold, resolved, closed", s.base),
                ));
            }
            if !s.colour.is_empty() && !is_colour(&s.colour) {
                return Err(("status", "colour", format!("status {name:?}: {:?} is not a colour like #8a4baf", s.colour)));
            }
        }
        for (i, d) in self.department.iter().enumerate() {
            if self.department(&d.name).is_none() {
                return Err(("department", "name", format!("department {}: {:?} is not one of desk.departments", i + 1, d.name)));
            }
            if self.department[..i].iter().any(|o| o.name.eq_ignore_ascii_case(&d.name)) {
                return Err(("department", "name", format!("{:?} is listed twice", d.name)));
            }
        }
        Ok(())
    }
}

/// `#rgb` or `#rrggbb`.
fn is_colour(s: &str) -> bool {
    s.strip_prefix('#').is_some_and(|h| matches!(h.len(), 3 | 6) && h.chars().all(|c| c.is_ascii_hexdigit()))
}
