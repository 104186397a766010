//! Roles: what an agent may do to tickets, as named permission sets.
//!
//! Admins may do everything. Every other agent has one role: a built-in one
//! (`agent`, `light_agent`, `read_only`, `manager`) or one the config names in
//! `[[role]]`. A role is a set of `Permission`s; seeing a ticket is not one
//! of them (departments and teams decide that), so every role may read the
//! tickets it can see, follow them and print them.

use std::fmt;

/// One thing an agent may do to a ticket they can see (a closed set; the
/// config names them by `key`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Public replies, mailed to the requester.
    Reply,
    /// Internal notes.
    Note,
    /// Status, priority, category, department, tags, due date, subject,
    /// related tickets, snooze.
    Edit,
    /// Assigning a ticket to someone else or to a team (taking one is `Edit`).
    Assign,
    /// New tickets from the agent UI.
    Create,
    /// Merging tickets.
    Merge,
    /// Moving to Trash and back, "Junk and ban sender".
    Delete,
    /// Reopening a closed ticket.
    Reopen,
    /// Bulk changes (each ticket still needs the change's own permission).
    Bulk,
    /// CSV export of the queue.
    Export,
    /// Editing and merging requesters.
    People,
    /// Releasing mail from Junk, deleting it, the allow list.
    Junk,
    /// Writing, publishing and deleting knowledge base articles.
    Kb,
}

impl Permission {
    pub const ALL: [Permission; 13] = [
        Permission::Reply,
        Permission::Note,
        Permission::Edit,
        Permission::Assign,
        Permission::Create,
        Permission::Merge,
        Permission::Delete,
        Permission::Reopen,
        Permission::Bulk,
        Permission::Export,
        Permission::People,
        Permission::Junk,
        Permission::Kb,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Permission::Reply => "tickets.reply",
            Permission::Note => "tickets.note",
            Permission::Edit => "tickets.edit",
            Permission::Assign => "tickets.assign",
            Permission::Create => "tickets.create",
            Permission::Merge => "tickets.merge",
            Permission::Delete => "tickets.delete",
            Permission::Reopen => "tickets.reopen",
            Permission::Bulk => "tickets.bulk",
            Permission::Export => "tickets.export",
            Permission::People => "people.edit",
            Permission::Junk => "junk.manage",
            Permission::Kb => "kb.edit",
        }
    }

    pub fn parse(s: &str) -> Option<Permission> {
        Permission::ALL.into_iter().find(|p| p.key() == s.trim())
    }

    /// What it allows, for refusals and the admin pages.
    pub fn label(self) -> &'static str {
        match self {
            Permission::Reply => "public replies",
            Permission::Note => "internal notes",
            Permission::Edit => "changing tickets",
            Permission::Assign => "assigning tickets to others",
            Permission::Create => "creating tickets",
            Permission::Merge => "merging tickets",
            Permission::Delete => "moving tickets to Trash",
            Permission::Reopen => "reopening closed tickets",
            Permission::Bulk => "bulk changes",
            Permission::Export => "exporting tickets",
            Permission::People => "editing requesters",
            Permission::Junk => "managing Junk",
            Permission::Kb => "writing knowledge base articles",
        }
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// A set of permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Permissions(u16);

impl Permissions {
    pub const NONE: Permissions = Permissions(0);

    pub fn of(list: &[Permission]) -> Permissions {
        Permissions(list.iter().fold(0, |acc, p| acc | p.bit()))
    }

    pub fn all() -> Permissions {
        Permissions::of(&Permission::ALL)
    }

    pub fn has(self, p: Permission) -> bool {
        self.0 & p.bit() != 0
    }

    /// The permissions in the set, in `Permission::ALL` order.
    pub fn list(self) -> Vec<Permission> {
        Permission::ALL.into_iter().filter(|p| self.has(*p)).collect()
    }
}

/// The roles every desk has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuiltinRole {
    Admin,
    Agent,
    /// Internal notes only: no public replies, no changes.
    LightAgent,
    /// Reads tickets; changes nothing.
    ReadOnly,
    /// An agent who also moves tickets to Trash and reopens closed ones
    /// (within the departments they work in, like everything else).
    Manager,
}

impl BuiltinRole {
    pub const ALL: [BuiltinRole; 5] =
        [BuiltinRole::Admin, BuiltinRole::Agent, BuiltinRole::LightAgent, BuiltinRole::ReadOnly, BuiltinRole::Manager];

    pub fn key(self) -> &'static str {
        match self {
            BuiltinRole::Admin => "admin",
            BuiltinRole::Agent => "agent",
            BuiltinRole::LightAgent => "light_agent",
            BuiltinRole::ReadOnly => "read_only",
            BuiltinRole::Manager => "manager",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            BuiltinRole::Admin => "Admin",
            BuiltinRole::Agent => "Agent",
            BuiltinRole::LightAgent => "Light agent",
            BuiltinRole::ReadOnly => "Read-only",
            BuiltinRole::Manager => "Department manager",
        }
    }

    pub fn parse(s: &str) -> Option<BuiltinRole> {
        let s = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        BuiltinRole::ALL.into_iter().find(|r| r.key() == s)
    }

    pub fn permissions(self) -> Permissions {
        use Permission::*;
        match self {
            BuiltinRole::Admin => Permissions::all(),
            BuiltinRole::Agent => Permissions::of(&[Reply, Note, Edit, Assign, Create, Merge, Bulk, Export, People, Junk, Kb]),
            BuiltinRole::LightAgent => Permissions::of(&[Note]),
            BuiltinRole::ReadOnly => Permissions::NONE,
            BuiltinRole::Manager => {
                Permissions::of(&[Reply, Note, Edit, Assign, Create, Merge, Delete, Reopen, Bulk, Export, People, Junk, Kb])
            }
        }
    }
}

impl fmt::Display for BuiltinRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_sets_hold_what_they_list() {
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.key()), Some(p));
            assert_eq!(Permissions::of(&[p]).list(), vec![p]);
        }
        assert_eq!(Permission::parse("tickets.fly"), None);
        for r in BuiltinRole::ALL {
            assert_eq!(BuiltinRole::parse(r.key()), Some(r));
        }
        assert_eq!(BuiltinRole::parse("Light agent"), Some(BuiltinRole::LightAgent));
        assert_eq!(BuiltinRole::parse("read-only"), Some(BuiltinRole::ReadOnly));
        assert_eq!(Permissions::all().list().len(), Permission::ALL.len());
    }

    #[test]
    fn built_in_roles() {
        let light = BuiltinRole::LightAgent.permissions();
        assert!(light.has(Permission::Note) && !light.has(Permission::Reply) && !light.has(Permission::Edit));
        assert_eq!(BuiltinRole::ReadOnly.permissions(), Permissions::NONE);
        let agent = BuiltinRole::Agent.permissions();
        assert!(agent.has(Permission::Reply) && !agent.has(Permission::Delete) && !agent.has(Permission::Reopen));
        let manager = BuiltinRole::Manager.permissions();
        assert!(manager.has(Permission::Delete) && manager.has(Permission::Reopen));
    }
}
