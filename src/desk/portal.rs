//! The requester's side of a ticket without an account: signed ticket links
//! (read the public thread, reply), and a collaborator's one-click
//! unsubscribe. The signature is the authorization; expired or forged links
//! are "not found".

use super::notify::{Notice, unsubscribe_claim};
use super::{Desk, Result};
use crate::domain::thread::AttachmentRef;
use crate::domain::{EntryKind, PersonId, ThreadEntry, Ticket, TicketId};
use crate::store::Write;

/// Most files one reply from the ticket page may carry.
const MAX_FILES: usize = 10;

/// Keeps uploaded files as blobs: the entry's attachment list (names made safe).
pub(super) fn stored_files(w: &mut Write, files: &[(String, String, Vec<u8>)]) -> Result<Vec<AttachmentRef>> {
    let mut out = Vec::with_capacity(files.len());
    for (filename, content_type, data) in files {
        let blob = w.put_blob(data)?;
        let filename = crate::domain::mail::safe_filename(filename);
        out.push(AttachmentRef { filename, content_type: content_type.clone(), size: data.len() as u64, blob });
    }
    Ok(out)
}

/// Whether `who` may see `t` from the customer side: its requester, a
/// collaborator, or a member of the requester's organization when that
/// organization shares its tickets among its members.
pub(super) fn may_view(r: &crate::store::Read, t: &Ticket, who: PersonId) -> Result<bool> {
    if who == t.requester || r.is_collaborator(t.id, who)? {
        return Ok(true);
    }
    let (Some(mine), Some(theirs)) = (r.org_of(who)?, r.org_of(t.requester)?) else { return Ok(false) };
    Ok(mine == theirs && r.org(mine)?.is_some_and(|o| o.shared))
}

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
            may_view(&r, &t, p.id).ok()?.then_some(p.id)
        })();
        let Some(person) = person else { return base.to_string() };
        let expires = self.now().0 / 1000 + cfg.outgoing.link_days as i64 * 86_400;
        match self.sign(&portal_claim(ticket.0, person.0, expires)) {
            Ok(sig) => format!("{base}/t/{}?p={person}&e={expires}&s={sig}", self.reference(ticket)),
            Err(_) => base.to_string(),
        }
    }
}

/// A ticket a customer's link (portal or rating) may change: there and not
/// in Trash (it may have gone there since the link was checked).
pub(super) fn live_ticket(w: &Write, id: TicketId) -> Result<Ticket> {
    match w.ticket(id)? {
        Some(t) if w.trashed_at(id)?.is_none() => Ok(t),
        _ => Err(super::DeskError::NotFound),
    }
}

impl Desk {
    /// Whether a ticket link (as its query gives it) is valid now: a read
    /// only, for the upload check before a reply's body is accepted.
    pub fn portal_link_valid(&self, id: TicketId, person: Option<PersonId>, expires: i64, sig: &str) -> bool {
        self.portal_ticket(id, person, expires, sig).is_ok()
    }

    /// Checks a signed ticket link: the ticket, and who it lets act — the
    /// requester or a collaborator it was made for (`person`; links without
    /// one are the requester's).
    fn portal_ticket(&self, id: TicketId, person: Option<PersonId>, expires: i64, sig: &str) -> Result<(Ticket, PersonId)> {
        let r = self.store.read()?;
        let t = r.ticket(id)?.ok_or(super::DeskError::NotFound)?;
        // A ticket in Trash is gone for its customers (their lists leave it
        // out, their mail starts a new ticket) until an agent restores it.
        if r.trashed_at(id)?.is_some() {
            return Err(super::DeskError::NotFound);
        }
        let who = person.unwrap_or(t.requester);
        if expires < self.now().0 / 1000 || !self.verify(&portal_claim(t.id.0, who.0, expires), sig) {
            return Err(super::DeskError::NotFound);
        }
        if !may_view(&r, &t, who)? {
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

    /// A file of a public reply, through a signed link (the requester's or
    /// a collaborator's own files and the desk's answers; never a note's).
    pub fn portal_attachment(
        &self,
        id: TicketId,
        person: Option<PersonId>,
        (expires, sig): (i64, &str),
        seq: u32,
        idx: usize,
    ) -> Result<(AttachmentRef, Vec<u8>)> {
        self.portal_ticket(id, person, expires, sig)?;
        let r = self.store.read()?;
        let e = r.entries(id)?.into_iter().find(|e| e.seq == seq && e.kind == EntryKind::Reply).ok_or(super::DeskError::NotFound)?;
        let a = e.attachments.get(idx).cloned().ok_or(super::DeskError::NotFound)?;
        let data = r.blob(&a.blob)?.ok_or(super::DeskError::NotFound)?;
        Ok((a, data))
    }

    /// Refuses files over the desk's limits (each as mail's attachments; at
    /// most `MAX_FILES` at once), naming the limit and the file.
    pub(super) fn check_files(&self, files: &[(String, String, Vec<u8>)]) -> Result<()> {
        let max = self.config().limits.attachment_max_bytes;
        if let Some((name, _, data)) = files.iter().find(|(_, _, d)| d.len() as u64 > max) {
            return Err(super::DeskError::TooLarge {
                field: "attachment",
                limit: crate::tr!("{max} bytes per file ({name} has {size})", max = max, name = name, size = data.len()),
            });
        }
        if files.len() > MAX_FILES {
            return Err(super::DeskError::TooLarge { field: "attachment", limit: format!("{MAX_FILES} files at once") });
        }
        Ok(())
    }

    /// The requester (or a collaborator, with their own link) replies on the
    /// ticket page, with files if they like; the entry is theirs.
    pub fn portal_reply(
        &self,
        id: TicketId,
        person: Option<PersonId>,
        (expires, sig): (i64, &str),
        body: &str,
        files: Vec<(String, String, Vec<u8>)>,
    ) -> Result<ThreadEntry> {
        let body = self.check_body("body", body, files.is_empty())?;
        self.check_files(&files)?;
        let (old, who) = self.portal_ticket(id, person, expires, sig)?;
        if old.is_closed() {
            return Err(super::DeskError::Conflict("this ticket is closed; please write to us by email to open a new one".into()));
        }
        let now = self.now();
        self.store.write(|w| {
            let old = live_ticket(w, id)?;
            let author = w.person(who)?.ok_or(super::DeskError::NotFound)?;
            let mut entry = ThreadEntry {
                ticket: id,
                seq: 0,
                kind: EntryKind::Reply,
                author: Some(author.id),
                body,
                event: None,
                attachments: stored_files(w, &files)?,
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
    /// The requester (or a collaborator) closes the ticket through their
    /// link: done for them. Closing a closed ticket changes nothing.
    pub fn portal_close(&self, id: TicketId, person: Option<PersonId>, (expires, sig): (i64, &str)) -> Result<()> {
        let (_, who) = self.portal_ticket(id, person, expires, sig)?;
        let now = self.now();
        self.store.write(|w| {
            let old = live_ticket(w, id)?;
            if old.is_closed() {
                return Ok(());
            }
            let mut t = old.clone();
            t.status = crate::domain::Status::Closed;
            t.custom_status = None;
            t.updated_at = now;
            let ev = crate::domain::Event::StatusChanged { from: self.config().status_name(&old), to: t.status.label().into() };
            w.append_entry(&mut Self::event(id, Some(who), ev, now))?;
            w.put_ticket(Some(&old), &t)?;
            Ok(())
        })
    }

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
