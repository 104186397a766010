//! The agent decides who gets mail: who a public reply reaches (the reply
//! box's To and Cc), adding and removing collaborators, changing the
//! requester, and a public reply kept off mail. Each change is an event in
//! the ticket's log.

use super::{Desk, DeskError, Result, invalid};
use crate::domain::roles::Permission;
use crate::domain::{Event, Person, PersonId, Ticket, TicketId};
use crate::store::Read;

/// Who a public reply would reach now.
#[derive(Debug, Clone, Default)]
pub struct ReplyRecipients {
    pub to: Vec<Person>,
    pub cc: Vec<Person>,
    /// Copied on the ticket but left out, and why (bounced, unsubscribed …).
    pub left_out: Vec<(Person, &'static str)>,
}

impl Desk {
    /// To and Cc of `actor`'s public reply on `id`, as `notify` sends it
    /// (`collaborators = "separate"` puts everyone in To).
    pub fn reply_recipients(&self, actor: &Person, id: TicketId) -> Result<ReplyRecipients> {
        let r = self.store.read()?;
        let t = r.ticket(id)?.filter(|t| actor.can_see(t)).ok_or(DeskError::NotFound)?;
        let mut out = ReplyRecipients::default();
        if !self.config().outgoing.notify_reply {
            return Ok(out);
        }
        if let Some(p) = r.person(t.requester)? {
            match self.left_out(&r, actor, &p, true)? {
                None => out.to.push(p),
                Some(why) => out.left_out.push((p, why)),
            }
        }
        for pid in r.collaborators(id)?.into_iter().take(self.config().limits.collaborators_max) {
            let Some(p) = r.person(pid)? else { continue };
            match self.left_out(&r, actor, &p, false)? {
                None => out.cc.push(p),
                Some(why) => out.left_out.push((p, why)),
            }
        }
        if self.config().outgoing.collaborators == crate::config::CollaboratorMail::Separate {
            let cc = std::mem::take(&mut out.cc);
            out.to.extend(cc);
        }
        Ok(out)
    }

    /// Why mail would skip `p` (`notify`'s rule, with this read's bounces).
    fn left_out(&self, r: &Read, actor: &Person, p: &Person, requester: bool) -> Result<Option<&'static str>> {
        self.skipped(&p.email, Some(actor), requester, || Ok(r.bounced(&p.email)?.is_some()))
    }

    /// The ticket `actor` may change the people of (open, visible, `perm`).
    fn people_change(&self, actor: &Person, w: &crate::store::Write, id: TicketId, perm: Permission) -> Result<Ticket> {
        self.require(actor, perm)?;
        let t = self.visible(actor, w, id)?;
        if t.is_closed() {
            return Err(DeskError::Conflict(crate::tr!("{ticket} is closed; an admin must reopen it first", ticket = self.reference(id))));
        }
        Ok(t)
    }

    /// An address the desk may copy on a conversation (not its own, not an agent's).
    fn customer_address(&self, email: &str) -> Result<String> {
        let email = crate::domain::people::normalize_email(email)
            .ok_or_else(|| invalid("email", crate::tr!("{value} is not an email address", value = format!("{:?}", email.trim()))))?;
        if self.config().is_desk_address(&email) {
            return Err(invalid("email", crate::tr!("{email} is the desk's own address", email = email)));
        }
        Ok(email)
    }

    /// Copies someone on the conversation (they get public replies). An
    /// address that unsubscribed from this ticket is added back: an agent's
    /// explicit choice.
    pub fn add_collaborator(&self, actor: &Person, id: TicketId, email: &str, name: &str) -> Result<Person> {
        let email = self.customer_address(email)?;
        let now = self.now();
        self.store.write(|w| {
            let t = self.people_change(actor, w, id, Permission::Reply)?;
            if let Some(p) = w.person_by_email(&email)? {
                if p.is_staff() {
                    return Err(invalid("email", crate::tr!("{who} is an agent: agents follow tickets instead", who = p.display())));
                }
                if p.id == t.requester {
                    return Err(invalid("email", crate::tr!("{who} is the requester", who = p.display())));
                }
            }
            if w.collaborator_emails(id)?.len() >= self.config().limits.collaborators_max {
                return Err(invalid(
                    "email",
                    crate::tr!("a ticket has at most {max} collaborators", max = self.config().limits.collaborators_max),
                ));
            }
            let p = Self::requester_in(w, &email, name, now)?;
            w.resubscribe(id, p.id)?;
            if w.add_collaborator(id, p.id)? {
                w.append_entry(&mut Self::event(id, Some(actor.id), Event::CollaboratorAdded { who: p.display() }, now))?;
            }
            Ok(p)
        })
    }

    /// Takes a collaborator off the conversation.
    pub fn remove_collaborator(&self, actor: &Person, id: TicketId, person: PersonId) -> Result<()> {
        let now = self.now();
        self.store.write(|w| {
            self.people_change(actor, w, id, Permission::Reply)?;
            let p = w.person(person)?.ok_or(DeskError::NotFound)?;
            if !w.is_collaborator(id, person)? {
                return Err(DeskError::NotFound);
            }
            // Kept off: a reply-all still copying them does not add them back.
            w.unsubscribe(id, person)?;
            w.append_entry(&mut Self::event(id, Some(actor.id), Event::CollaboratorRemoved { who: p.display() }, now))?;
            Ok(())
        })
    }

    /// Makes someone else the requester (DeskPRO: "agents can change the
    /// user"). The old requester's signed links stop working (they sign the
    /// requester they were made for); the new one's mail threads on.
    pub fn change_requester(&self, actor: &Person, id: TicketId, email: &str, name: &str) -> Result<Person> {
        let email = self.customer_address(email)?;
        let now = self.now();
        self.store.write(|w| {
            let old = self.people_change(actor, w, id, Permission::Edit)?;
            if let Some(p) = w.person_by_email(&email)?.filter(|p| p.is_staff()) {
                return Err(invalid("email", crate::tr!("{who} is an agent; a requester is a customer", who = p.display())));
            }
            let p = Self::requester_in(w, &email, name, now)?;
            if p.id == old.requester {
                return Ok(p);
            }
            let before = w.person(old.requester)?.map(|p| p.display()).unwrap_or_else(|| "(unknown)".into());
            w.remove_collaborator(id, p.id)?;
            let mut t = old.clone();
            t.requester = p.id;
            t.updated_at = now;
            w.put_ticket(Some(&old), &t)?;
            w.append_entry(&mut Self::event(id, Some(actor.id), Event::RequesterChanged { from: before, to: p.display() }, now))?;
            Ok(p)
        })
    }
}
