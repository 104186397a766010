//! The requester's side of a ticket without an account: signed ticket links
//! (read the public thread, reply), and a collaborator's one-click
//! unsubscribe. The signature is the authorization; expired or forged links
//! are "not found".

use super::notify::{Notice, unsubscribe_claim};
use super::{Desk, Result};
use crate::domain::{EntryKind, PersonId, ThreadEntry, Ticket, TicketId};

/// The message a requester's ticket link signs.
pub(crate) fn portal_claim(ticket: u64, requester: u64, expires: i64) -> String {
    format!("view:{ticket}:{requester}:{expires}")
}

impl Desk {
    /// The signed link to a ticket's page for one recipient of its mail: the
    /// requester or a collaborator, each acting as themself. Anyone else (an
    /// agent in Cc, say) gets the desk's address instead of a key.
    pub fn portal_link_for(&self, ticket: TicketId, email: &str) -> String {
        let cfg = self.config();
        let base = cfg.server.public_url.trim_end_matches('/');
        let person = (|| {
            let r = self.store.read().ok()?;
            let t = r.ticket(ticket).ok()??;
            let p = r.person_by_email(&email.trim().to_lowercase()).ok()??;
            (p.id == t.requester || r.is_collaborator(ticket, p.id).ok()?).then_some(p.id)
        })();
        let Some(person) = person else { return base.to_string() };
        let expires = self.now().0 / 1000 + cfg.outgoing.link_days as i64 * 86_400;
        match self.sign(&portal_claim(ticket.0, person.0, expires)) {
            Ok(sig) => format!("{base}/t/{}?p={person}&e={expires}&s={sig}", self.reference(ticket)),
            Err(_) => base.to_string(),
        }
    }
}

impl Desk {
    /// Checks a signed ticket link: the ticket, and who it lets act — the
    /// requester or a collaborator it was made for (`person`; links without
    /// one are the requester's).
    fn portal_ticket(&self, id: TicketId, person: Option<PersonId>, expires: i64, sig: &str) -> Result<(Ticket, PersonId)> {
        let r = self.store.read()?;
        let t = r.ticket(id)?.ok_or(super::DeskError::NotFound)?;
        let who = person.unwrap_or(t.requester);
        if expires < self.now().0 / 1000 || !self.verify(&portal_claim(t.id.0, who.0, expires), sig) {
            return Err(super::DeskError::NotFound);
        }
        if who != t.requester && !r.is_collaborator(t.id, who)? {
            return Err(super::DeskError::NotFound);
        }
        Ok((t, who))
    }

    /// What a requester sees through their link: the ticket and its public
    /// replies only (no internal notes, no events), with author names.
    pub fn portal_view(
        &self,
        id: TicketId,
        person: Option<PersonId>,
        expires: i64,
        sig: &str,
    ) -> Result<(Ticket, Vec<(String, ThreadEntry)>)> {
        let (t, _) = self.portal_ticket(id, person, expires, sig)?;
        let r = self.store.read()?;
        let mut out = Vec::new();
        for e in r.entries(id)?.into_iter().filter(|e| e.kind == EntryKind::Reply) {
            let who = match e.author {
                Some(a) => r
                    .person(a)?
                    .map(|p| if p.is_staff() { format!("{} ({})", p.display(), self.config().desk.name) } else { p.display() })
                    .unwrap_or_default(),
                None => String::new(),
            };
            out.push((who, e));
        }
        Ok((t, out))
    }

    /// The requester (or a collaborator, with their own link) replies on the
    /// ticket page; the entry is theirs.
    pub fn portal_reply(&self, id: TicketId, person: Option<PersonId>, expires: i64, sig: &str, body: &str) -> Result<ThreadEntry> {
        let body = self.check_body("body", body, true)?;
        let (old, who) = self.portal_ticket(id, person, expires, sig)?;
        if old.is_closed() {
            return Err(super::DeskError::Conflict("this ticket is closed; please write to us by email to open a new one".into()));
        }
        let now = self.now();
        self.store.write(|w| {
            let old = w.ticket(id)?.ok_or(super::DeskError::NotFound)?;
            let author = w.person(who)?.ok_or(super::DeskError::NotFound)?;
            let mut entry = ThreadEntry {
                ticket: id,
                seq: 0,
                kind: EntryKind::Reply,
                author: Some(author.id),
                body,
                event: None,
                attachments: Vec::new(),
                created_at: now,
            };
            w.append_entry(&mut entry)?;
            let mut t = old.clone();
            t.updated_at = now;
            if self.config().workflow.requester_reply_reopens {
                t.status = old.status.after_requester_reply();
            }
            if t.status != old.status {
                t.custom_status = None;
                let ev = crate::domain::Event::StatusChanged { from: self.config().status_name(&old), to: t.status.label().into() };
                w.append_entry(&mut Self::event(id, Some(author.id), ev, now))?;
            }
            w.put_ticket(Some(&old), &t)?;
            self.notify(w, &t, Some(&author), Notice::RequesterReply { entry: &entry }, now)?;
            Ok(entry)
        })
    }
}

impl Desk {
    /// A collaborator leaves a ticket through their signed link.
    pub fn unsubscribe(&self, ticket: TicketId, person: PersonId, sig: &str) -> Result<String> {
        if !self.verify(&unsubscribe_claim(ticket.0, person.0), sig) {
            return Err(super::DeskError::NotFound);
        }
        let now = self.now();
        self.store.write(|w| {
            let p = w.person(person)?.ok_or(super::DeskError::NotFound)?;
            if w.unsubscribe(ticket, person)? {
                let ev = crate::domain::Event::Unsubscribed { who: p.display() };
                w.append_entry(&mut Self::event(ticket, Some(p.id), ev, now))?;
            }
            Ok(p.email)
        })
    }
}
