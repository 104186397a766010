//! The Junk list's housekeeping and what it teaches: deleting one item or
//! all the agent may see ("Empty junk"), the sender allow-list (kept in the
//! store, mirrored in memory for the SMTP sessions), and the lessons for the
//! spam engine when an agent says "Not junk" or "Junk" (queued for
//! `mail::rspamd`'s trainer; nothing waits on it).

use std::collections::BTreeSet;
use std::sync::RwLock;

use super::{Desk, DeskError, Result, invalid};
use crate::domain::auth::MailAuth;
use crate::domain::mail::ParsedMail;
use crate::domain::roles::Permission;
use crate::domain::verdict::{Lesson, allow_entry, allow_keys};
use crate::domain::{JunkId, Person, Timestamp};

/// Lessons waiting for the trainer, at most (more are dropped, with a warning).
pub const LESSONS_QUEUED: usize = 256;

/// The allow-list as the SMTP sessions and the mail worker ask it.
#[derive(Debug, Default)]
pub struct AllowList(RwLock<BTreeSet<String>>);

impl AllowList {
    /// Whether `email` or its domain is on the list.
    pub fn allows(&self, email: &str) -> bool {
        let set = self.0.read().unwrap_or_else(|p| p.into_inner());
        !set.is_empty() && allow_keys(email).iter().any(|k| set.contains(k))
    }

    /// Whether a mail from `email` passes the spam checks as allow-listed:
    /// on the list, and proven to be from that address by its sender
    /// authentication (an aligned pass). Without results (verification off,
    /// or a trusted relay checked it) the list is taken as it is.
    pub fn admits(&self, email: &str, auth: Option<&MailAuth>) -> bool {
        self.allows(email) && auth.is_none_or(|a| super::trust::proves_address(a, email))
    }

    fn replace(&self, entries: impl IntoIterator<Item = String>) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = entries.into_iter().collect();
    }
}

impl Desk {
    /// Loads the allow-list into memory (at start).
    pub(super) fn load_allow_list(&self) -> Result<()> {
        let entries = self.store.read()?.allowed_senders()?;
        self.allow_list.replace(entries.into_iter().map(|(e, _)| e));
        Ok(())
    }

    /// Deletes one junk item the actor may see.
    pub fn delete_junk(&self, actor: &Person, id: JunkId) -> Result<()> {
        self.junk_item(actor, id)?;
        self.require(actor, Permission::Junk)?;
        self.store.write(|w| if w.delete_junk(id)? { Ok(()) } else { Err(DeskError::NotFound) })
    }

    /// "Empty junk": deletes every junk item the actor may see, up to the
    /// newest one the confirmation showed (`upto`: what came since stays);
    /// how many.
    pub fn empty_junk(&self, actor: &Person, upto: JunkId) -> Result<usize> {
        if !actor.is_staff() {
            return Err(DeskError::NotFound);
        }
        self.require(actor, Permission::Junk)?;
        let all = self.store.read()?.junk(usize::MAX)?;
        let ids: Vec<JunkId> = all.into_iter().filter(|j| j.id <= upto && self.may_see_junk(actor, j)).map(|j| j.id).collect();
        // In slices, so one huge Junk never makes one huge transaction.
        let mut deleted = 0;
        for chunk in ids.chunks(500) {
            deleted += self.store.write(|w| {
                let mut n = 0;
                for id in chunk {
                    n += usize::from(w.delete_junk(*id)?);
                }
                Ok::<_, DeskError>(n)
            })?;
        }
        Ok(deleted)
    }

    /// Whether the actor keeps the allow-list: it holds for every
    /// department, so admins and agents of all departments whose role
    /// manages Junk do.
    pub fn keeps_allow_list(&self, actor: &Person) -> bool {
        actor.is_admin() || (actor.is_staff() && Self::walls(actor).is_none() && self.may(actor, Permission::Junk))
    }

    /// The allow-list with when each entry was added.
    pub fn allowed_senders(&self, actor: &Person) -> Result<Vec<(String, Timestamp)>> {
        if !self.keeps_allow_list(actor) {
            return Err(DeskError::NotFound);
        }
        Ok(self.store.read()?.allowed_senders()?)
    }

    /// Adds an address or a domain to the allow-list; the entry as stored.
    /// The desk's own mailbox domains and agents' addresses are refused:
    /// their mail is checked as agent mail, and an entry would only help a
    /// forger.
    pub fn allow_sender(&self, actor: &Person, text: &str) -> Result<String> {
        if !self.keeps_allow_list(actor) {
            return Err(DeskError::Forbidden("the allow-list holds for every department: ask an admin".into()));
        }
        let entry = allow_entry(text)
            .ok_or_else(|| invalid("entry", "give an address like ada@partner.example or a domain like partner.example"))?;
        let own = self.config().mailbox.iter().any(|m| allow_keys(&m.address).contains(&entry));
        let agent = !entry.starts_with('@') && self.store.read()?.person_by_email(&entry)?.is_some_and(|p| p.is_staff());
        if own || agent {
            return Err(invalid(
                "entry",
                crate::tr!("{entry} is this desk's own: its mail is checked as agent mail, not allow-listed", entry = entry),
            ));
        }
        let now = self.now();
        self.store.write(|w| w.allow_sender(&entry, now))?;
        self.load_allow_list()?;
        Ok(entry)
    }

    /// Takes an entry off the allow-list.
    pub fn disallow_sender(&self, actor: &Person, entry: &str) -> Result<()> {
        if !self.keeps_allow_list(actor) {
            return Err(DeskError::NotFound);
        }
        if !self.store.write(|w| w.disallow_sender(entry))? {
            return Err(DeskError::NotFound);
        }
        self.load_allow_list()
    }

    /// Why the spam checks hold a mail in Junk, if they do: a DNSBL "=junk"
    /// listing, rspamd's verdict, the rule score (`domain::spam`).
    pub(super) fn spam_reason(&self, m: &ParsedMail, raw: &[u8]) -> Option<String> {
        if let Some(zone) = m.auth.as_ref().map(|a| &a.dnsbl).filter(|z| !z.is_empty()) {
            return Some(format!("the sending server is listed in {zone}"));
        }
        if let Some(why) = m.spam.as_ref().and_then(|v| v.junk_reason()) {
            return Some(why.to_string());
        }
        let threshold = self.config().mail_auth.spam_score;
        if threshold > 0 {
            let (points, why) = crate::domain::spam::score(m, crate::domain::spam::has_header(raw, "list-unsubscribe"));
            if points >= threshold {
                return Some(format!("spam score {points} (Junk from {threshold}): {}", why.join(", ")));
            }
        }
        None
    }

    /// Queues a lesson for the spam engine (when one learns): the blob of
    /// the message, read by the trainer when its turn comes, so the queue
    /// holds ids, not mail. Called once the decision has committed.
    pub(crate) fn teach(&self, lesson: Lesson, raw_blob: String) {
        let Some(tx) = self.lessons.get() else { return };
        if tx.try_send((lesson, raw_blob)).is_err() {
            let n = self.lessons_dropped.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if n.is_multiple_of(100) {
                tracing::warn!("spam engine training queue full or closed: {} lessons dropped so far", n + 1);
            }
        }
    }

    /// "Junk": teaches spam with the mail that opened the ticket, if any.
    pub(crate) fn teach_spam(&self, ticket: crate::domain::TicketId) {
        if self.lessons.get().is_none() {
            return;
        }
        match self.first_mail_blob(ticket) {
            Ok(Some(blob)) => self.teach(Lesson::Spam, blob),
            Ok(None) => {}
            Err(e) => tracing::warn!(ticket = ticket.0, "no spam lesson: {e}"),
        }
    }

    /// The message of a queued lesson (None once it is gone, e.g. purged).
    pub fn lesson_message(&self, raw_blob: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.store.read()?.blob(raw_blob)?)
    }

    /// The blob of a ticket's first mail, if it came by mail.
    fn first_mail_blob(&self, ticket: crate::domain::TicketId) -> Result<Option<String>> {
        Ok(self.store.read()?.ticket_mail(ticket)?.into_iter().next().map(|(_, meta)| meta.raw_blob))
    }
}
