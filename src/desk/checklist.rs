//! Checklists on a ticket (issue 17 part 12): adding, ticking, changing and
//! removing items, each checked against the role (`tickets.edit`), the
//! department walls and an assignee who works there, and logged.

use std::collections::HashMap;

use super::{Desk, DeskError, Result, invalid};
use crate::domain::checklist::{ChecklistItem, ITEMS_MAX, clean_text};
use crate::domain::roles::Permission;
use crate::domain::time::Date;
use crate::domain::{ChecklistItemId, Event, Person, PersonId, TicketId};
use crate::store::Write;

/// A change to one item: `None` leaves a field alone; `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct ItemChange {
    pub done: Option<bool>,
    pub assignee: Option<Option<PersonId>>,
    pub due: Option<Option<Date>>,
}

impl Desk {
    /// The ticket's items for a change by `actor` (open, visible, may edit).
    fn checklist_for_change(&self, actor: &Person, w: &Write, id: TicketId) -> Result<(crate::domain::Ticket, Vec<ChecklistItem>)> {
        self.require(actor, Permission::Edit)?;
        let t = self.visible(actor, w, id)?;
        if t.is_closed() {
            return Err(DeskError::Conflict(crate::tr!("{ticket} is closed; an admin must reopen it first", ticket = self.reference(id))));
        }
        let items = w.checklist(id)?;
        Ok((t, items))
    }

    /// An assignee for an item: an agent who works in the department.
    fn item_assignee(&self, w: &Write, who: PersonId, department: &str) -> Result<Person> {
        match w.person(who)?.map(|p| self.in_force(p)) {
            Some(p) if p.is_staff() && p.works_in(department) => Ok(p),
            Some(p) if p.is_staff() => {
                Err(invalid("assignee", crate::tr!("{who} does not work in {department}", who = p.display(), department = department)))
            }
            _ => Err(invalid("assignee", "is not an active agent")),
        }
    }

    /// Adds an item.
    pub fn add_checklist_item(
        &self,
        actor: &Person,
        id: TicketId,
        text: &str,
        assignee: Option<PersonId>,
        due: Option<Date>,
    ) -> Result<ChecklistItem> {
        let text = clean_text(text).ok_or_else(|| invalid("text", "an item needs some text"))?;
        let now = self.now();
        self.store.write(|w| {
            let (t, mut items) = self.checklist_for_change(actor, w, id)?;
            if items.len() >= ITEMS_MAX {
                return Err(invalid("text", crate::tr!("a checklist holds at most {max} items", max = ITEMS_MAX)));
            }
            if let Some(a) = assignee {
                self.item_assignee(w, a, &t.department)?;
            }
            let item = ChecklistItem {
                id: ChecklistItemId(w.next_id("checklist_item")?),
                text: text.clone(),
                done: false,
                assignee,
                due,
                created_at: now,
            };
            items.push(item.clone());
            w.put_checklist(id, &items)?;
            w.append_entry(&mut Self::event(id, Some(actor.id), Event::ChecklistAdded { text }, now))?;
            Ok(item)
        })
    }

    /// Ticks, unticks or re-plans an item; each change is logged.
    pub fn change_checklist_item(&self, actor: &Person, id: TicketId, item: ChecklistItemId, change: ItemChange) -> Result<ChecklistItem> {
        let now = self.now();
        self.store.write(|w| {
            let (t, mut items) = self.checklist_for_change(actor, w, id)?;
            let i = items.iter().position(|x| x.id == item).ok_or(DeskError::NotFound)?;
            let old = items[i].clone();
            let mut new = old.clone();
            let mut events = Vec::new();
            if let Some(done) = change.done.filter(|d| *d != old.done) {
                new.done = done;
                events.push(Event::ChecklistChecked { text: old.text.clone(), done });
            }
            if let Some(a) = change.assignee.filter(|a| *a != old.assignee) {
                let name = |p: Option<PersonId>| -> Result<String> {
                    Ok(p.map(|p| w.person(p)).transpose()?.flatten().map(|p| p.display()).unwrap_or_default())
                };
                if let Some(a) = a {
                    self.item_assignee(w, a, &t.department)?;
                }
                events.push(Event::ChecklistChanged {
                    text: old.text.clone(),
                    field: "assignee".into(),
                    from: name(old.assignee)?,
                    to: name(a)?,
                });
                new.assignee = a;
            }
            if let Some(d) = change.due.filter(|d| *d != old.due) {
                let show = |d: Option<Date>| d.map(|d| d.to_string()).unwrap_or_default();
                events.push(Event::ChecklistChanged { text: old.text.clone(), field: "due date".into(), from: show(old.due), to: show(d) });
                new.due = d;
            }
            if events.is_empty() {
                return Ok(old);
            }
            items[i] = new.clone();
            w.put_checklist(id, &items)?;
            for e in events {
                w.append_entry(&mut Self::event(id, Some(actor.id), e, now))?;
            }
            Ok(new)
        })
    }

    /// Removes an item.
    pub fn remove_checklist_item(&self, actor: &Person, id: TicketId, item: ChecklistItemId) -> Result<()> {
        let now = self.now();
        self.store.write(|w| {
            let (_, mut items) = self.checklist_for_change(actor, w, id)?;
            let i = items.iter().position(|x| x.id == item).ok_or(DeskError::NotFound)?;
            let gone = items.remove(i);
            w.put_checklist(id, &items)?;
            w.append_entry(&mut Self::event(id, Some(actor.id), Event::ChecklistRemoved { text: gone.text }, now))?;
            Ok(())
        })
    }

    /// The "2/5" of each listed ticket that has a checklist (the queue).
    pub fn checklist_progress(&self, tickets: &[TicketId]) -> HashMap<TicketId, (usize, usize)> {
        self.store.read().and_then(|r| r.checklist_progress(tickets)).unwrap_or_default()
    }
}
