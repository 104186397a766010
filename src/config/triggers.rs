//! `[[trigger]]`: automation rules (Zammad triggers, osTicket filters). A
//! trigger fires on events of a ticket (created, updated, customer or agent
//! replied, an SLA breach, or time in a status), checks its conditions (all
//! that are given) and runs its actions in order, each logged on the ticket
//! under the trigger's name.

use std::collections::BTreeMap;

use super::Config;
use crate::domain::{Priority, Status};

/// What a trigger fires on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriggerOn {
    /// A new ticket (mail, web form, API, agent).
    Created,
    /// An agent (or the API) changed it or added a note.
    Updated,
    /// The requester or a collaborator wrote.
    CustomerReplied,
    /// An agent replied publicly.
    AgentReplied,
    /// An SLA target fell due unmet.
    SlaBreached,
    /// It has been `after_hours` in `in_status` (once per spell).
    Time,
}

/// How a trigger assigns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssignTo {
    /// An agent by address.
    Agent(String),
    /// The next member of `assign_team` (else the ticket's department) in turn.
    RoundRobin,
    /// The member with the fewest active tickets among those online in the last hour.
    LeastOpen,
}

/// One trigger.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriggerConfig {
    pub name: String,
    pub on: Vec<TriggerOn>,
    /// For `on = ["time"]`: the status and the hours spent in it.
    #[serde(default)]
    pub in_status: String,
    #[serde(default)]
    pub after_hours: u32,

    // Conditions: each one given must hold (a list: any of its entries).
    #[serde(default)]
    pub departments: Vec<String>,
    /// `[[mailbox]]` addresses the ticket arrived at.
    #[serde(default)]
    pub mailboxes: Vec<String>,
    /// Sender addresses or `@domain`s (subdomains included).
    #[serde(default)]
    pub from: Vec<String>,
    #[serde(default)]
    pub subject_contains: Vec<String>,
    #[serde(default)]
    pub body_contains: Vec<String>,
    /// A regular expression the subject (or body) matches.
    #[serde(default)]
    pub subject_matches: String,
    #[serde(default)]
    pub body_matches: String,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub statuses: Vec<String>,
    #[serde(default)]
    pub priorities: Vec<String>,
    #[serde(default)]
    pub categories: Vec<String>,
    /// Custom field values (field name → value).
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// Inside (true) or outside (false) the hours of `calendar`.
    #[serde(default)]
    pub business_hours: Option<bool>,
    #[serde(default)]
    pub calendar: String,

    // Actions, in this order.
    #[serde(default)]
    pub set_status: String,
    #[serde(default)]
    pub set_priority: String,
    #[serde(default)]
    pub set_category: String,
    #[serde(default)]
    pub set_department: String,
    #[serde(default)]
    pub set_team: String,
    #[serde(default)]
    pub add_tags: Vec<String>,
    #[serde(default)]
    pub remove_tags: Vec<String>,
    #[serde(default)]
    pub set_fields: BTreeMap<String, String>,
    /// An agent's address, "round_robin" or "least_open".
    #[serde(default)]
    pub assign: String,
    /// The team `round_robin` and `least_open` choose from (else the department's agents).
    #[serde(default)]
    pub assign_team: String,
    /// An internal note.
    #[serde(default)]
    pub note: String,
    /// A `[[canned]]` response sent to the requester as a reply.
    #[serde(default)]
    pub reply_canned: String,
    /// Agents told by mail: addresses, "assignee", "department" or "team:<name>".
    #[serde(default)]
    pub notify: Vec<String>,
    /// Snooze the ticket this many hours.
    #[serde(default)]
    pub snooze_hours: u32,
}

impl TriggerConfig {
    pub const EXAMPLE: &'static str = "\
# Triggers (one [[trigger]] each): on = created, updated, customer_replied,
# agent_replied, sla_breached or time (with in_status and after_hours, once
# per spell in that status). Conditions (each given must hold): departments,
# mailboxes, from (address or @domain), subject_contains, body_contains,
# subject_matches, body_matches (regular expressions), tags, statuses,
# priorities, categories, fields, business_hours (with calendar). Actions run
# in this order, each logged on the ticket under the trigger's name:
# set_status, set_priority, set_category, set_department, set_team, add_tags,
# remove_tags, set_fields, assign (an address, \"round_robin\" or \"least_open\"
# among assign_team or the department's agents online in the last hour), note,
# reply_canned (never to automatic senders), notify, snooze_hours. A trigger
# never fires on its own changes; workflow.trigger_actions_per_minute caps the
# actions on one ticket.
# [[trigger]]
# name = \"VIP customers\"
# on = [\"created\", \"customer_replied\"]
# from = [\"@bigcustomer.example\"]
# set_priority = \"high\"
# add_tags = [\"vip\"]
# assign = \"round_robin\"
# assign_team = \"Network\"
#
# [[trigger]]
# name = \"Nudge after 3 days\"
# on = [\"time\"]
# in_status = \"pending\"
# after_hours = 72
# reply_canned = \"Still need help?\"
";

    /// How it assigns, if it does.
    pub fn assign_to(&self) -> Option<AssignTo> {
        match self.assign.trim() {
            "" => None,
            "round_robin" => Some(AssignTo::RoundRobin),
            "least_open" => Some(AssignTo::LeastOpen),
            a => Some(AssignTo::Agent(a.to_lowercase())),
        }
    }

    /// The agent addresses it names (checked against the desk's agents).
    pub fn agents(&self) -> Vec<(&'static str, &str)> {
        let mut out: Vec<(&'static str, &str)> = Vec::new();
        if let Some(AssignTo::Agent(_)) = self.assign_to() {
            out.push(("assign", self.assign.trim()));
        }
        out.extend(self.notify.iter().filter(|n| n.contains('@')).map(|n| ("notify", n.trim())));
        out
    }
}

/// A regular expression of a trigger, with a bounded size.
pub fn regex(pattern: &str) -> Result<regex::Regex, String> {
    regex::RegexBuilder::new(pattern).case_insensitive(true).size_limit(1 << 20).build().map_err(|e| e.to_string())
}

impl Config {
    /// Checks `[[trigger]]`.
    pub(super) fn check_triggers(&self) -> Result<(), (&'static str, &'static str, String)> {
        let bad = |key: &'static str, msg: String| Err(("trigger", key, msg));
        for (i, t) in self.trigger.iter().enumerate() {
            let n = &t.name;
            if n.trim().is_empty() || n.len() > 60 {
                return bad("name", format!("trigger {}: a name is 1-60 characters", i + 1));
            }
            if self.trigger[..i].iter().any(|o| o.name.eq_ignore_ascii_case(n)) {
                return bad("name", format!("{n:?} is listed twice"));
            }
            if t.on.is_empty() {
                return bad(
                    "on",
                    format!("trigger {n:?}: on what? created, updated, customer_replied, agent_replied, sla_breached or time"),
                );
            }
            let timed = t.on.contains(&TriggerOn::Time);
            if timed && (Status::parse(&t.in_status).is_none() || t.after_hours == 0) {
                return bad("in_status", format!("trigger {n:?}: a time trigger names in_status and after_hours (> 0)"));
            }
            if !timed && (!t.in_status.is_empty() || t.after_hours > 0) {
                return bad("in_status", format!("trigger {n:?}: in_status and after_hours are for on = [\"time\"]"));
            }
            for (key, list) in [("statuses", &t.statuses)] {
                if let Some(s) = list.iter().find(|s| Status::parse(s).is_none() && self.custom_status(s).is_none()) {
                    return bad(key, format!("trigger {n:?}: {s:?} is not a status"));
                }
            }
            if let Some(p) = t.priorities.iter().find(|p| Priority::parse(p).is_none()) {
                return bad("priorities", format!("trigger {n:?}: {p:?} is not a priority"));
            }
            if let Some(d) = t.departments.iter().find(|d| self.department(d).is_none()) {
                return bad("departments", format!("trigger {n:?}: {d:?} is not one of desk.departments"));
            }
            if let Some(m) = t.mailboxes.iter().find(|m| self.mailbox_for(m).is_none()) {
                return bad("mailboxes", format!("trigger {n:?}: {m:?} is not a [[mailbox]]"));
            }
            for (key, pattern) in [("subject_matches", &t.subject_matches), ("body_matches", &t.body_matches)] {
                if !pattern.is_empty()
                    && let Err(e) = regex(pattern)
                {
                    return bad(key, format!("trigger {n:?}: not a regular expression: {e}"));
                }
            }
            for (key, fields) in [("fields", &t.fields), ("set_fields", &t.set_fields)] {
                if let Some(f) = fields.keys().find(|f| self.field(f).is_none()) {
                    return bad(key, format!("trigger {n:?}: {f:?} is not a [[field]]"));
                }
            }
            if !t.calendar.is_empty() && !self.calendar.iter().any(|c| c.name.eq_ignore_ascii_case(&t.calendar)) {
                return bad("calendar", format!("trigger {n:?}: {:?} is not a [[calendar]]", t.calendar));
            }
            if !t.set_status.is_empty() && self.status_choice(&t.set_status).is_none() {
                return bad("set_status", format!("trigger {n:?}: {:?} is not a status", t.set_status));
            }
            if t.set_status.eq_ignore_ascii_case("snoozed") {
                return bad("set_status", format!("trigger {n:?}: snooze with snooze_hours"));
            }
            if !t.set_priority.is_empty() && Priority::parse(&t.set_priority).is_none() {
                return bad("set_priority", format!("trigger {n:?}: {:?} is not a priority", t.set_priority));
            }
            if !t.set_category.is_empty() && !self.desk.categories.iter().any(|c| c.eq_ignore_ascii_case(&t.set_category)) {
                return bad("set_category", format!("trigger {n:?}: {:?} is not one of desk.categories", t.set_category));
            }
            if !t.set_department.is_empty() && self.department(&t.set_department).is_none() {
                return bad("set_department", format!("trigger {n:?}: {:?} is not one of desk.departments", t.set_department));
            }
            for (key, team) in [("set_team", &t.set_team), ("assign_team", &t.assign_team)] {
                if !team.is_empty() && self.team(team).is_none() {
                    return bad(key, format!("trigger {n:?}: {team:?} is not a [[team]]"));
                }
            }
            if !t.assign_team.is_empty() && !matches!(t.assign_to(), Some(AssignTo::RoundRobin | AssignTo::LeastOpen)) {
                return bad("assign_team", format!("trigger {n:?}: assign_team is for assign = \"round_robin\" or \"least_open\""));
            }
            if let Some(AssignTo::Agent(a)) = t.assign_to()
                && crate::domain::people::normalize_email(&a).is_none()
            {
                return bad("assign", format!("trigger {n:?}: {a:?} is not an address, \"round_robin\" or \"least_open\""));
            }
            if !t.reply_canned.is_empty() && !self.canned.iter().any(|c| c.name.eq_ignore_ascii_case(&t.reply_canned)) {
                return bad("reply_canned", format!("trigger {n:?}: {:?} is not a [[canned]] response", t.reply_canned));
            }
            for target in &t.notify {
                let ok = match target.split_once(':') {
                    Some(("team", team)) => self.team(team).is_some(),
                    _ => matches!(target.as_str(), "assignee" | "department") || crate::domain::people::normalize_email(target).is_some(),
                };
                if !ok {
                    return bad(
                        "notify",
                        format!("trigger {n:?}: {target:?} is not an address, \"assignee\", \"department\" or \"team:<name>\""),
                    );
                }
            }
            if t.note.len() > 10_000 {
                return bad("note", format!("trigger {n:?}: a note is at most 10,000 bytes"));
            }
        }
        Ok(())
    }
}
