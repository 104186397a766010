//! Changing a ticket's fields: a patch is checked (values, the actor's
//! role, the departments), then applied in one write transaction where every
//! change becomes an event in the ticket's log with the actor and time.

use super::{Desk, DeskError, Result, TicketPatch, invalid, notify};
use crate::domain::roles::Permission;
use crate::domain::time::Date;
use crate::domain::{Event, Person, Status, Ticket, TicketId, Timestamp};
use crate::store::Write;

impl Desk {
    /// Changes fields; every change becomes an event with the actor and time.
    pub fn update_ticket(&self, actor: &Person, id: TicketId, patch: TicketPatch) -> Result<Ticket> {
        self.update_ticket_because(actor, id, patch, "")
    }

    /// `update_ticket` with a reason recorded in the ticket log beside each change.
    pub fn update_ticket_because(&self, actor: &Person, id: TicketId, patch: TicketPatch, reason: &str) -> Result<Ticket> {
        let patch = self.check_patch(patch)?;
        let now = self.now();
        self.store.write(|w| self.apply_patch(w, actor, id.0, &patch, reason, now))
    }

    /// Validates and normalises a patch's values (subject, category, department, tags).
    pub(crate) fn check_patch(&self, mut patch: TicketPatch) -> Result<TicketPatch> {
        let cfg = self.config();
        patch.subject = patch.subject.as_deref().map(|s| self.check_subject(s)).transpose()?;
        patch.category = patch.category.as_deref().map(|c| self.check_category(c)).transpose()?;
        patch.department = patch.department.as_deref().map(|d| self.check_department(d)).transpose()?;
        patch.tags = patch.tags.as_deref().map(|t| self.check_tags(t)).transpose()?;
        patch.team = match patch.team {
            Some(Some(name)) if !name.trim().is_empty() => {
                let team = cfg
                    .team(&name)
                    .ok_or_else(|| invalid("team", crate::tr!("{value} is not a team of this desk", value = format!("{name:?}"))))?;
                Some(Some(team.name.clone()))
            }
            Some(_) => Some(None),
            None => None,
        };
        Ok(patch)
    }

    /// Applies a checked patch inside a write transaction.
    pub(crate) fn apply_patch(
        &self,
        w: &mut Write,
        actor: &Person,
        id: u64,
        patch: &TicketPatch,
        reason: &str,
        now: Timestamp,
    ) -> Result<Ticket> {
        let cfg = self.config();
        let (subject, category, department, tags) =
            (patch.subject.clone(), patch.category.clone(), patch.department.clone(), patch.tags.clone());
        // A snooze time makes the status Snoozed; Snoozed needs one.
        let status_req = if patch.snooze_until.is_some() { Some(Status::Snoozed) } else { patch.status };
        if let Some(until) = patch.snooze_until {
            self.check_snooze(until, now)?;
            if patch.status.is_some_and(|s| s != Status::Snoozed) {
                return Err(invalid("status", "a snoozed ticket's status is Snoozed"));
            }
        }
        {
            let old = self.visible(actor, w, TicketId(id))?;
            if status_req == Some(Status::Snoozed) && patch.snooze_until.is_none() && old.status != Status::Snoozed {
                return Err(invalid("snooze_until", "snoozing needs the time the ticket wakes up"));
            }
            let mut t = old.clone();
            let mut events = Vec::new();
            if old.is_closed() {
                // Read-only: the one change allowed is an admin reopening it.
                let reopening = status_req == Some(Status::Open);
                if !reopening {
                    return Err(DeskError::Conflict(crate::tr!(
                        "{ticket} is closed; an admin must reopen it first",
                        ticket = self.reference(TicketId(id))
                    )));
                }
                self.require(actor, Permission::Reopen)?;
            }
            if let Some(s) = status_req {
                let custom = match patch.custom_status.as_deref() {
                    Some(c) => match cfg.custom_status(c).filter(|c| c.base() == s) {
                        Some(c) => Some(c.name.clone()),
                        None => return Err(invalid("status", crate::tr!("{value} is not a status of the desk", value = format!("{c:?}")))),
                    },
                    None => None,
                };
                let (from, to) = (cfg.status_name(&old), cfg.shown_status(s, custom.as_deref()));
                if s != old.status {
                    old.status.check_transition(s, self.may(actor, Permission::Reopen)).map_err(|e| invalid("status", e.to_string()))?;
                }
                if s != old.status || from != to {
                    t.status = s;
                    t.custom_status = custom;
                    events.push(Event::StatusChanged { from, to });
                }
            }
            if old.is_closed() {
                // Reopened: nothing else may change in the same command.
            } else {
                if let Some(s) = subject
                    && s != old.subject
                {
                    events.push(Event::FieldChanged { field: "subject".into(), from: old.subject.clone(), to: s.clone() });
                    t.subject = s;
                }
                if let Some(p) = patch.priority
                    && p != old.priority
                {
                    events.push(Event::FieldChanged { field: "priority".into(), from: old.priority.label().into(), to: p.label().into() });
                    t.priority = p;
                }
                if let Some(c) = category
                    && c != old.category
                {
                    events.push(Event::FieldChanged { field: "category".into(), from: old.category.clone(), to: c.clone() });
                    t.category = c;
                }
                if let Some(d) = department
                    && d != old.department
                {
                    if !actor.works_in(&d) {
                        return Err(invalid("department", crate::tr!("you do not work in {department}", department = d)));
                    }
                    events.push(Event::FieldChanged { field: "department".into(), from: old.department.clone(), to: d.clone() });
                    t.department = d;
                }
                if let Some(a) = patch.assignee
                    && a != old.assignee
                {
                    let to = match a {
                        Some(id) => Some(self.check_assignee(w, id.0, &t.department)?.display()),
                        None => None,
                    };
                    let from = match old.assignee {
                        Some(id) => w.person(id)?.map(|p| p.display()),
                        None => None,
                    };
                    events.push(Event::Assigned { from, to });
                    t.assignee = a;
                } else if let Some(a) = t.assignee
                    && t.department != old.department
                {
                    // Moving departments keeps the assignee only if they work there.
                    self.check_assignee(w, a.0, &t.department)?;
                }
                // A ticket moved out of its team's departments leaves the team.
                let team_patch = match (&patch.team, &t.team) {
                    (None, Some(name)) if t.department != old.department => {
                        let fits = cfg.team(name).is_none_or(|c| {
                            c.departments.is_empty() || c.departments.iter().any(|d| d.eq_ignore_ascii_case(&t.department))
                        });
                        if fits { None } else { Some(None) }
                    }
                    (p, _) => p.clone(),
                };
                if let Some(team) = &team_patch
                    && *team != old.team
                {
                    if let Some(cfg) = team.as_deref().and_then(|n| cfg.team(n))
                        && !cfg.departments.is_empty()
                        && !cfg.departments.iter().any(|d| d.eq_ignore_ascii_case(&t.department))
                    {
                        return Err(invalid(
                            "team",
                            crate::tr!("{who} does not work in {department}", who = cfg.name, department = t.department),
                        ));
                    }
                    let show = |x: &Option<String>| x.clone().unwrap_or_else(|| "none".into());
                    events.push(Event::FieldChanged { field: "team".into(), from: show(&old.team), to: show(team) });
                    t.team = team.clone();
                }
                if let Some(d) = patch.due
                    && d != old.due
                {
                    let show = |d: Option<Date>| d.map(|d| d.to_string()).unwrap_or_default();
                    events.push(Event::FieldChanged { field: "due date".into(), from: show(old.due), to: show(d) });
                    t.due = d;
                }
                if let Some(tags) = tags
                    && tags != old.tags
                {
                    events.push(Event::FieldChanged { field: "tags".into(), from: old.tags.join(", "), to: tags.join(", ") });
                    t.tags = tags;
                }
                events.extend(self.apply_fields(&mut t, &patch.fields)?);
            }
            if let Some(until) = patch.snooze_until {
                events.push(Event::Snoozed { until: until.short() });
            }
            if events.is_empty() {
                return Ok(old);
            }
            // Taking a ticket (or giving one's own back) is a change like
            // any other; giving it to someone else needs `tickets.assign`.
            let assigning =
                |e: &Event| matches!(e, Event::Assigned { .. }) || matches!(e, Event::FieldChanged { field, .. } if field == "team");
            if !old.is_closed() && events.iter().any(|e| !assigning(e)) {
                self.require(actor, Permission::Edit)?;
            }
            if patch.team.is_some() && t.team != old.team {
                self.require(actor, Permission::Assign)?;
            }
            if t.assignee != old.assignee {
                let own = t.assignee == Some(actor.id) || (t.assignee.is_none() && old.assignee == Some(actor.id));
                self.require(actor, if own { Permission::Edit } else { Permission::Assign })?;
            }
            self.check_required_fields(old.status, &t)?;
            t.updated_at = now;
            let reason = reason.trim();
            for e in events {
                let e = if reason.is_empty() { e } else { Event::Because { event: Box::new(e), reason: reason.to_string() } };
                w.append_entry(&mut Self::event(TicketId(id), Some(actor.id), e, now))?;
            }
            w.put_ticket(Some(&old), &t)?;
            if let Some(until) = patch.snooze_until {
                w.set_snooze(t.id, until)?;
            }
            if let Some(a) = t.assignee.filter(|a| old.assignee != Some(*a)) {
                self.notify(w, &t, Some(actor), notify::Notice::Assigned { to: a.0 }, now)?;
            }
            if t.status == Status::Resolved && old.status != Status::Resolved {
                self.notify(w, &t, Some(actor), notify::Notice::Resolved, now)?;
            }
            if t.status == Status::Closed && !matches!(old.status, Status::Resolved | Status::Closed) {
                self.notify(w, &t, Some(actor), notify::Notice::Closed, now)?;
            }
            if t.department != old.department {
                self.notify(w, &t, Some(actor), notify::Notice::Transferred { from: &old.department }, now)?;
            }
            if let Some(team) = t.team.as_deref().filter(|_| t.team != old.team) {
                self.notify(w, &t, Some(actor), notify::Notice::TeamAssigned { team }, now)?;
            }
            Ok(t)
        }
    }
}
