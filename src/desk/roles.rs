//! Roles and teams in force: what an agent may do (their role's
//! permissions, `domain::roles`), the departments they work in (their own
//! and their teams'), and the refusal when a role does not allow something.
//! Every command that changes a ticket asks `require` before it writes.

use super::{Desk, DeskError, Result, invalid};
use crate::domain::roles::{BuiltinRole, Permission, Permissions};
use crate::domain::{Person, Role};

impl Desk {
    /// What this person may do to tickets they can see: everything for an
    /// admin, their role's permissions for an agent (nothing for a role the
    /// config no longer names), nothing for anyone else.
    pub fn permissions(&self, p: &Person) -> Permissions {
        if !p.is_staff() {
            return Permissions::NONE;
        }
        if p.is_admin() {
            return Permissions::all();
        }
        self.config().role_permissions(&p.role_name).unwrap_or(Permissions::NONE)
    }

    /// Whether `p`'s role allows `what`.
    pub fn may(&self, p: &Person, what: Permission) -> bool {
        self.permissions(p).has(what)
    }

    /// Refuses, naming the role and what it does not allow.
    pub fn require(&self, p: &Person, what: Permission) -> Result<()> {
        if self.may(p, what) {
            return Ok(());
        }
        Err(DeskError::Forbidden(crate::tr!(
            "Your role ({role}) does not allow {what}.",
            role = crate::i18n::dynamic(&self.role_label(p)),
            what = crate::i18n::dynamic(what.label())
        )))
    }

    /// The role's name as people read it.
    pub fn role_label(&self, p: &Person) -> String {
        if p.is_admin() {
            return BuiltinRole::Admin.label().to_string();
        }
        let name = if p.role_name.is_empty() { BuiltinRole::Agent.key() } else { p.role_name.as_str() };
        match BuiltinRole::parse(name) {
            Some(b) => b.label().to_string(),
            None if self.config().role_permissions(name).is_some() => name.to_string(),
            None => format!("{name} (not in the config: read only)"),
        }
    }

    /// The person as the rules see them: an agent limited to some
    /// departments also works in their teams' departments. Applied where an
    /// agent is loaded to act (sessions, API tokens) and where the desk picks
    /// agents for a department (assignees, notifications).
    pub(crate) fn in_force(&self, mut p: Person) -> Person {
        if p.departments.is_empty() || p.teams.is_empty() {
            return p;
        }
        for team in &p.teams {
            if let Some(t) = self.config().team(team) {
                for d in &t.departments {
                    if !p.departments.iter().any(|x| x.eq_ignore_ascii_case(d)) {
                        p.departments.push(d.clone());
                    }
                }
            }
        }
        p
    }

    /// A role as the admin picks it (a key of `Config::roles`): the kind of
    /// staff and the role name stored with them.
    pub(crate) fn staff_role(&self, key: &str) -> Result<(Role, String)> {
        match self.config().role_key(key) {
            Some(k) if k == BuiltinRole::Admin.key() => Ok((Role::Admin, String::new())),
            Some(k) => Ok((Role::Agent, k)),
            None => {
                let known: Vec<String> = self.config().roles().into_iter().map(|(k, _)| k).collect();
                Err(invalid(
                    "role",
                    crate::tr!("{value} is not a role; use one of: {list}", value = format!("{key:?}"), list = known.join(", ")),
                ))
            }
        }
    }

    /// Team names as the config spells them, each once; unknown ones refused.
    pub(crate) fn check_teams(&self, teams: &[String]) -> Result<Vec<String>> {
        let cfg = self.config();
        let mut out: Vec<String> = Vec::new();
        for t in teams.iter().filter(|t| !t.trim().is_empty()) {
            let team =
                cfg.team(t).ok_or_else(|| invalid("teams", crate::tr!("{value} is not a team of this desk", value = format!("{t:?}"))))?;
            if !out.contains(&team.name) {
                out.push(team.name.clone());
            }
        }
        Ok(out)
    }
}
