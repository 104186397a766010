//! People: agents and admins who log in, and requesters (contacts) who do not.
//!
//! Also the permission rules: who may see and change which ticket.

use serde::{Deserialize, Serialize};

use super::ids::PersonId;
use super::ticket::Ticket;
use super::time::Timestamp;

/// What a person is to the desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    Admin,
    Agent,
    /// A customer contact; identified by email, no login.
    Requester,
}

impl Role {
    pub fn key(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Agent => "agent",
            Role::Requester => "requester",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        match s.trim().to_ascii_lowercase().as_str() {
            "admin" => Some(Role::Admin),
            "agent" => Some(Role::Agent),
            "requester" | "contact" => Some(Role::Requester),
            _ => None,
        }
    }
    pub fn is_staff(self) -> bool {
        matches!(self, Role::Admin | Role::Agent)
    }
}

/// A person known to the desk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Person {
    pub id: PersonId,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// argon2id PHC string; empty for requesters.
    pub password_hash: String,
    pub active: bool,
    /// Departments an agent works in; empty means all. Ignored for admins.
    pub departments: Vec<String>,
    pub created_at: Timestamp,
    /// An agent's role (`domain::roles`: a built-in one or a `[[role]]` of
    /// the config); empty means `agent`. Ignored for admins. (Record v2.)
    pub role_name: String,
    /// The `[[team]]`s an agent is in: tickets can be assigned to a team,
    /// and a team's departments are its members' too. (Record v2.)
    pub teams: Vec<String>,
}

impl Person {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin && self.active
    }
    pub fn is_staff(&self) -> bool {
        self.role.is_staff() && self.active
    }

    /// May this person see (and therefore work on) the ticket? Admins see all;
    /// agents see tickets of their departments (all when none are set);
    /// requesters and deactivated people see nothing through the agent UI or API.
    pub fn can_see(&self, ticket: &Ticket) -> bool {
        if !self.is_staff() {
            return false;
        }
        self.is_admin() || self.works_in(&ticket.department)
    }

    pub fn works_in(&self, department: &str) -> bool {
        self.is_admin() || self.departments.is_empty() || self.departments.iter().any(|d| d.eq_ignore_ascii_case(department))
    }

    /// Display form `Name <email>`, or just the email when there is no name.
    pub fn display(&self) -> String {
        match (self.name.trim().is_empty(), phone_of_address(&self.email)) {
            (false, _) => self.name.clone(),
            (true, Some(phone)) => phone,
            (true, None) => self.email.clone(),
        }
    }
}

/// The reserved domain (RFC 2606: never delivered) of the addresses that
/// stand for requesters known by phone only (walk-ins, callers).
pub const PHONE_ONLY_DOMAIN: &str = "phone.invalid";

/// The address that stands for a requester known by `phone` only: its
/// digits (a leading + as 00) at `PHONE_ONLY_DOMAIN`; `None` with fewer than
/// three digits.
pub fn phone_only_address(phone: &str) -> Option<String> {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    let plus = if phone.trim_start().starts_with('+') { "00" } else { "" };
    (digits.len() >= 3).then(|| format!("{plus}{digits}@{PHONE_ONLY_DOMAIN}"))
}

/// The phone number an address of `phone_only_address` stands for (a
/// leading 00 shown as +).
pub fn phone_of_address(email: &str) -> Option<String> {
    let local = email.strip_suffix(PHONE_ONLY_DOMAIN)?.strip_suffix('@')?;
    Some(match local.strip_prefix("00") {
        Some(rest) => format!("+{rest}"),
        None => local.to_string(),
    })
}

/// Lower-cases and trims an email address; `None` if it does not look like one
/// (`local@domain` with a dot-free check kept lenient for intranet domains).
pub fn normalize_email(raw: &str) -> Option<String> {
    let e = raw.trim().to_lowercase();
    let (local, domain) = e.rsplit_once('@')?;
    let ok = !local.is_empty()
        && !domain.is_empty()
        && e.len() <= 254
        && !e.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';' | '"'))
        && !domain.starts_with('.')
        && !domain.ends_with('.');
    ok.then_some(e)
}

#[cfg(test)]
mod tests {
    #[test]
    fn phone_only_requesters_have_a_reserved_address() {
        assert_eq!(phone_only_address("+49 30 1234-5").as_deref(), Some("00493012345@phone.invalid"));
        assert_eq!(phone_only_address("555 0100").as_deref(), Some("5550100@phone.invalid"));
        assert_eq!(phone_only_address("12"), None);
        assert_eq!(phone_of_address("00493012345@phone.invalid").as_deref(), Some("+493012345"));
        assert_eq!(phone_of_address("bob@example.com"), None);
        assert_eq!(normalize_email("00493012345@phone.invalid").as_deref(), Some("00493012345@phone.invalid"));
    }

    use super::*;
    use crate::domain::TicketId;
    use crate::domain::ticket::{Channel, Priority, Status};

    fn person(role: Role, depts: &[&str], active: bool) -> Person {
        Person {
            id: PersonId(1),
            email: "a@example.test".into(),
            name: "A".into(),
            role,
            password_hash: String::new(),
            active,
            departments: depts.iter().map(|s| s.to_string()).collect(),
            created_at: Timestamp(0),
            role_name: String::new(),
            teams: Vec::new(),
        }
    }

    fn ticket(dept: &str) -> Ticket {
        Ticket {
            id: TicketId(1),
            subject: "s".into(),
            requester: PersonId(9),
            channel: Channel::Phone,
            status: Status::Open,
            priority: Priority::Medium,
            category: "General".into(),
            department: dept.into(),
            assignee: None,
            due: None,
            tags: vec![],
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
            team: None,
            custom_status: None,
            mailbox: None,
            fields: Vec::new(),
        }
    }

    #[test]
    fn visibility_rules() {
        let t = ticket("Billing");
        assert!(person(Role::Admin, &["Support"], true).can_see(&t));
        assert!(person(Role::Agent, &[], true).can_see(&t));
        assert!(person(Role::Agent, &["billing"], true).can_see(&t));
        assert!(!person(Role::Agent, &["Support"], true).can_see(&t));
        assert!(!person(Role::Agent, &[], false).can_see(&t));
        assert!(!person(Role::Admin, &[], false).can_see(&t));
        assert!(!person(Role::Requester, &[], true).can_see(&t));
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(normalize_email(" Ann@Example.TEST ").as_deref(), Some("ann@example.test"));
        assert_eq!(normalize_email("root@localhost").as_deref(), Some("root@localhost"));
        for bad in ["", "ann", "@x.test", "ann@", "a b@x.test", "a@x.test>", "a@.x", "a@x."] {
            assert_eq!(normalize_email(bad), None, "{bad}");
        }
    }

    #[test]
    fn roles_parse() {
        assert_eq!(Role::parse("Admin"), Some(Role::Admin));
        assert_eq!(Role::parse("agent"), Some(Role::Agent));
        assert_eq!(Role::parse("boss"), None);
    }
}
