//! `[[role]]` and `[[team]]`: the desk's own roles (named permission sets
//! beside the built-in ones) and its teams (groups of agents that tickets can
//! be assigned to, with the departments they work in), and their checks.

use super::Config;
use crate::domain::roles::{BuiltinRole, Permission, Permissions};

/// A role of the desk's own: a name and what it allows.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleConfig {
    pub name: String,
    /// Permission keys (`tickets.reply`, `tickets.note`, …).
    #[serde(default)]
    pub permissions: Vec<String>,
}

impl RoleConfig {
    /// Its commented example in `config.example.toml`.
    pub const EXAMPLE: &'static str = "\
# Roles beside the built-in ones (admin, agent, light_agent = internal notes
# only, read_only, manager = an agent who may also trash and reopen tickets).
# One [[role]] each: a name and what it allows, from tickets.reply,
# tickets.note, tickets.edit, tickets.assign, tickets.create, tickets.merge,
# tickets.delete, tickets.reopen, tickets.bulk, tickets.export, people.edit,
# junk.manage, kb.edit. Every role reads the tickets of its departments.
# [[role]]
# name = \"triage\"
# permissions = [\"tickets.note\", \"tickets.edit\", \"tickets.assign\"]
";
}

/// A team: agents (chosen on the admin's Agents page) that tickets can be
/// assigned to; its departments are its members' too.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamConfig {
    pub name: String,
    #[serde(default)]
    pub departments: Vec<String>,
}

impl TeamConfig {
    /// Its commented example in `config.example.toml`.
    pub const EXAMPLE: &'static str = "\
# Teams (one [[team]] each): groups of agents that tickets can be assigned to,
# each with a team queue. Members are chosen on the admin's Agents page. An
# agent limited to some departments also works in the departments of their
# teams.
# [[team]]
# name = \"Network\"
# departments = [\"Support\"]
";
}

impl Config {
    /// What a role allows: a built-in one or a `[[role]]`; `None` for a name
    /// the desk does not know (an agent whose role was removed from the
    /// config may then do nothing but read).
    pub fn role_permissions(&self, name: &str) -> Option<Permissions> {
        let name = if name.trim().is_empty() { BuiltinRole::Agent.key() } else { name };
        if let Some(b) = BuiltinRole::parse(name) {
            return Some(b.permissions());
        }
        let r = self.role.iter().find(|r| r.name.eq_ignore_ascii_case(name.trim()))?;
        Some(Permissions::of(&r.permissions.iter().filter_map(|p| Permission::parse(p)).collect::<Vec<_>>()))
    }

    /// Every role an agent can be given, as (key, label): the built-in ones,
    /// then the config's.
    pub fn roles(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = BuiltinRole::ALL.iter().map(|r| (r.key().to_string(), r.label().to_string())).collect();
        out.extend(self.role.iter().map(|r| (r.name.clone(), r.name.clone())));
        out
    }

    /// A role name as the config spells it, if the desk knows it.
    pub fn role_key(&self, name: &str) -> Option<String> {
        if let Some(b) = BuiltinRole::parse(name) {
            return Some(b.key().to_string());
        }
        self.role.iter().find(|r| r.name.eq_ignore_ascii_case(name.trim())).map(|r| r.name.clone())
    }

    /// The team of that name (any case).
    pub fn team(&self, name: &str) -> Option<&TeamConfig> {
        self.team.iter().find(|t| t.name.eq_ignore_ascii_case(name.trim()))
    }

    /// `[[role]]` and `[[team]]`: names unique and not built-in, known
    /// permissions and departments.
    pub(super) fn check_access(&self) -> Result<(), (&'static str, &'static str, String)> {
        for (i, r) in self.role.iter().enumerate() {
            let n = r.name.trim();
            if n.is_empty() || n.chars().count() > 40 || !n.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | ' ')) {
                return Err(("role", "name", format!("role {}: {:?} must be 1-40 letters, digits, spaces, - or _", i + 1, r.name)));
            }
            if BuiltinRole::parse(n).is_some() {
                return Err(("role", "name", format!("{n:?} is a built-in role; give yours another name")));
            }
            if self.role[..i].iter().any(|o| o.name.trim().eq_ignore_ascii_case(n)) {
                return Err(("role", "name", format!("{n:?} is listed twice")));
            }
            if let Some(bad) = r.permissions.iter().find(|p| Permission::parse(p).is_none()) {
                let known: Vec<&str> = Permission::ALL.iter().map(|p| p.key()).collect();
                return Err(("role", "permissions", format!("role {n:?}: {bad:?} is no permission; known: {}", known.join(", "))));
            }
        }
        for (i, t) in self.team.iter().enumerate() {
            let n = t.name.trim();
            if n.is_empty() || n.chars().count() > 60 || n.contains(',') {
                return Err(("team", "name", format!("team {}: {:?} must be 1-60 characters without commas", i + 1, t.name)));
            }
            if self.team[..i].iter().any(|o| o.name.trim().eq_ignore_ascii_case(n)) {
                return Err(("team", "name", format!("{n:?} is listed twice")));
            }
            if let Some(d) = t.departments.iter().find(|d| self.department(d).is_none()) {
                return Err(("team", "departments", format!("team {n:?}: {d:?} is not one of desk.departments")));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_teams_from_the_file() {
        let c = Config::parse(
            "[desk]\ndepartments = [\"Support\", \"Sales\"]\n[[role]]\nname = \"triage\"\npermissions = [\"tickets.note\", \"tickets.assign\"]\n\
             [[team]]\nname = \"Network\"\ndepartments = [\"Sales\"]\n",
            "c.toml",
        )
        .unwrap();
        let triage = c.role_permissions("Triage").unwrap();
        assert!(triage.has(Permission::Assign) && !triage.has(Permission::Reply));
        assert_eq!(c.role_permissions(""), Some(BuiltinRole::Agent.permissions()));
        assert_eq!(c.role_permissions("gone"), None);
        assert_eq!(c.role_key("LIGHT_AGENT").as_deref(), Some("light_agent"));
        assert_eq!(c.roles().len(), BuiltinRole::ALL.len() + 1);
        assert_eq!(c.team("network").map(|t| t.departments.clone()), Some(vec!["Sales".to_string()]));
    }

    #[test]
    fn bad_roles_and_teams_name_key_and_line() {
        let e = Config::parse("[[role]]\nname = \"x\"\npermissions = [\"tickets.fly\"]\n", "c.toml").unwrap_err();
        assert_eq!((e.key.as_str(), e.line), ("role.permissions", 3));
        assert!(e.message.contains("tickets.fly"), "{e}");
        let e = Config::parse("[[role]]\nname = \"admin\"\n", "c.toml").unwrap_err();
        assert_eq!(e.key, "role.name");
        let e = Config::parse("[[team]]\nname = \"A\"\n[[team]]\nname = \"a\"\n", "c.toml").unwrap_err();
        assert_eq!(e.key, "team.name");
        let e = Config::parse("[[team]]\nname = \"A\"\ndepartments = [\"Nowhere\"]\n", "c.toml").unwrap_err();
        assert_eq!(e.key, "team.departments");
    }
}
