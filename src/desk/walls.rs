//! Department walls: what an agent limited to some departments may see and
//! change beyond tickets — people, Junk, counts and the jump box. Admins and
//! agents without departments see everything; a limited agent sees
//!
//! - a requester only when they asked something of one of the agent's
//!   departments, and edits or merges one only when *every* ticket of theirs
//!   is in those departments (an edit there would redirect another
//!   department's replies);
//! - Junk addressed to a mailbox of the agent's departments;
//! - counts made only of tickets in the agent's departments.

use super::{Desk, DeskError, Result};
use crate::domain::{Person, PersonId};
use crate::store::{JunkMail, Read, TicketQuery};

/// Most tickets of one requester looked at to decide a wall.
const WALL_SCAN: usize = 10_000;

impl Desk {
    /// The departments the actor is limited to, or `None` for all.
    pub(crate) fn walls(actor: &Person) -> Option<&[String]> {
        if actor.is_admin() || actor.departments.is_empty() { None } else { Some(&actor.departments) }
    }

    /// Whether the actor may see this person (themself, staff, or a requester
    /// with a ticket in the actor's departments).
    pub(crate) fn may_see_person(r: &Read, actor: &Person, p: &Person) -> Result<bool> {
        let Some(depts) = Self::walls(actor) else { return Ok(actor.is_staff()) };
        if p.id == actor.id || p.is_staff() {
            return Ok(true);
        }
        let q = TicketQuery { requester: Some(p.id.0), visible_departments: Some(depts.to_vec()), limit: 1, ..Default::default() };
        Ok(!r.query(&q)?.0.is_empty())
    }

    /// Refuses (as not found / forbidden) unless every ticket of the person is
    /// within the actor's departments.
    pub(crate) fn check_person_within(&self, actor: &Person, id: u64) -> Result<()> {
        if Self::walls(actor).is_none() {
            return Ok(());
        }
        let r = self.store.read()?;
        let p = r.person(PersonId(id))?.ok_or(DeskError::NotFound)?;
        if !Self::may_see_person(&r, actor, &p)? {
            return Err(DeskError::NotFound);
        }
        let q = TicketQuery { requester: Some(id), limit: WALL_SCAN, ..Default::default() };
        if r.query(&q)?.0.iter().any(|t| !actor.can_see(t)) {
            return Err(DeskError::Forbidden("this person also has tickets in departments you do not work in; ask an admin".into()));
        }
        Ok(())
    }

    /// The department a junk mail is for: that of the mailbox it was sent to.
    pub fn junk_department(&self, j: &JunkMail) -> String {
        let cfg = self.config();
        j.rcpt_to
            .iter()
            .find_map(|r| cfg.mailbox_for(r))
            .map(|mb| cfg.mailbox_department(mb))
            .unwrap_or_else(|| cfg.desk.default_department.clone())
    }

    /// Whether the actor may see a junk mail.
    pub(crate) fn may_see_junk(&self, actor: &Person, j: &JunkMail) -> bool {
        actor.is_staff() && actor.works_in(&self.junk_department(j))
    }

    /// The jump box's address lookup: a person the actor may see.
    pub fn find_person(&self, actor: &Person, email: &str) -> Result<Option<Person>> {
        if !actor.is_staff() {
            return Err(DeskError::NotFound);
        }
        let r = self.store.read()?;
        match r.person_by_email(&email.trim().to_lowercase())? {
            Some(p) if Self::may_see_person(&r, actor, &p)? => Ok(Some(p)),
            _ => Ok(None),
        }
    }
}
