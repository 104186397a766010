//! The conversation around a ticket in the store: which Message-IDs point
//! at it, the mail metadata of its entries, its followers and collaborators
//! (and who unsubscribed from it: a reply-all does not add them back).

use redb::{ReadableTable, TableDefinition};

use super::{COLLAB_BY_PERSON, COLLABORATORS, ENTRIES, FOLLOWERS, FOLLOWING, MESSAGE_IDS, MailMeta, Read, Result, Write, paired};
use crate::domain::{EntryKind, PersonId, ThreadEntry, Ticket, TicketId};

/// (ticket, person) of everyone who unsubscribed from a ticket.
pub(crate) const UNSUBSCRIBED: TableDefinition<(u64, u64), ()> = TableDefinition::new("unsubscribed");

/// Conversation reads for both transaction kinds.
macro_rules! conversation_reads {
    () => {
        /// The body of a ticket's first message, what was its description:
        /// the reply that came with the ticket (made at the same time). A
        /// ticket opened without a message has none (a later reply is not
        /// it); after a merge the thread is in time order, and an older
        /// ticket's entries come before it.
        pub fn first_message(&self, t: &Ticket) -> Result<String> {
            let entries = self.tx.open_table(ENTRIES)?;
            for row in entries.range((t.id.0, 0)..=(t.id.0, u32::MAX))? {
                let (k, v) = row?;
                let e: ThreadEntry = self.entry_from(k.value(), v.value())?;
                if e.created_at > t.created_at {
                    break;
                }
                if e.event.is_none() && e.kind == EntryKind::Reply && e.created_at == t.created_at {
                    return Ok(e.body);
                }
            }
            Ok(String::new())
        }

        /// The ticket a Message-ID belongs to (compared case-insensitively).
        pub fn message_ticket(&self, message_id: &str) -> Result<Option<TicketId>> {
            let t = self.tx.open_table(MESSAGE_IDS)?;
            Ok(t.get(message_id.to_lowercase().as_str())?.map(|v| v.value()).map(TicketId))
        }
    };
}

impl Read {
    conversation_reads!();
}

impl Write {
    conversation_reads!();

    pub fn put_message_id(&mut self, message_id: &str, ticket: TicketId) -> Result<()> {
        let ticket = ticket.0;
        if !message_id.is_empty() && message_id.len() < 1000 {
            self.tx.open_table(MESSAGE_IDS)?.insert(message_id.to_lowercase().as_str(), ticket)?;
        }
        Ok(())
    }

    /// Records an entry's mail details; they hold its raw source and HTML
    /// blobs (details written before for the same entry let go of theirs).
    pub fn put_entry_mail(&mut self, ticket: TicketId, seq: u32, meta: &MailMeta) -> Result<()> {
        let before = self.entry_mail(ticket, seq)?;
        self.store_mail_details(ticket.0, seq, meta)?;
        for id in meta.blobs() {
            self.hold_blob(id)?;
        }
        for id in before.iter().flat_map(MailMeta::blobs) {
            self.release_blob(id)?;
        }
        Ok(())
    }

    /// Starts or stops following; returns whether anything changed.
    pub fn set_following(&mut self, ticket: TicketId, person: PersonId, on: bool) -> Result<bool> {
        let ticket = ticket.0;
        let person = person.0;
        let mut f = self.tx.open_table(FOLLOWERS)?;
        let mut g = self.tx.open_table(FOLLOWING)?;
        let changed = if on { f.insert((ticket, person), ())?.is_none() } else { f.remove((ticket, person))?.is_some() };
        if on {
            g.insert((person, ticket), ())?;
        } else {
            g.remove((person, ticket))?;
        }
        Ok(changed)
    }

    /// Agents following a ticket.
    pub fn followers(&self, ticket: TicketId) -> Result<Vec<PersonId>> {
        Ok(paired(&self.tx.open_table(FOLLOWERS)?, ticket.0)?.into_iter().map(PersonId).collect())
    }

    /// Takes a collaborator off a ticket for good: mail naming them again
    /// does not add them back (an agent still can).
    pub fn unsubscribe(&mut self, ticket: TicketId, person: PersonId) -> Result<bool> {
        self.tx.open_table(UNSUBSCRIBED)?.insert((ticket.0, person.0), ())?;
        self.remove_collaborator(ticket, person)
    }

    /// An agent added them back: mail naming them counts again.
    pub fn resubscribe(&mut self, ticket: TicketId, person: PersonId) -> Result<bool> {
        Ok(self.tx.open_table(UNSUBSCRIBED)?.remove((ticket.0, person.0))?.is_some())
    }

    /// Whether the person unsubscribed from the ticket.
    pub fn unsubscribed(&self, ticket: TicketId, person: PersonId) -> Result<bool> {
        Ok(self.tx.open_table(UNSUBSCRIBED)?.get((ticket.0, person.0))?.is_some())
    }

    pub fn remove_collaborator(&mut self, ticket: TicketId, person: PersonId) -> Result<bool> {
        let ticket = ticket.0;
        let person = person.0;
        self.tx.open_table(COLLAB_BY_PERSON)?.remove((person, ticket))?;
        Ok(self.tx.open_table(COLLABORATORS)?.remove((ticket, person))?.is_some())
    }

    pub fn add_collaborator(&mut self, ticket: TicketId, person: PersonId) -> Result<bool> {
        let ticket = ticket.0;
        let person = person.0;
        self.tx.open_table(COLLAB_BY_PERSON)?.insert((person, ticket), ())?;
        Ok(self.tx.open_table(COLLABORATORS)?.insert((ticket, person), ())?.is_none())
    }

    /// Email addresses of a ticket's collaborators.
    pub fn collaborator_emails(&self, ticket: TicketId) -> Result<Vec<String>> {
        let ids = paired(&self.tx.open_table(COLLABORATORS)?, ticket.0)?;
        let mut out = Vec::new();
        for id in ids {
            if let Some(p) = self.person(PersonId(id))? {
                out.push(p.email);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::super::Store;
    use crate::domain::{EntryKind, Event, PersonId, ThreadEntry, TicketId, Timestamp};

    fn entry(kind: EntryKind, body: &str, event: Option<Event>, at: i64) -> ThreadEntry {
        ThreadEntry {
            ticket: TicketId(1),
            seq: 0,
            kind,
            author: Some(PersonId(2)),
            body: body.into(),
            event,
            attachments: Vec::new(),
            created_at: Timestamp(at),
        }
    }

    /// The first message is the one that came with the ticket: not a later
    /// reply to a ticket opened without one, nor an older ticket's message
    /// merged in before it.
    #[test]
    fn the_first_message_is_the_one_the_ticket_came_with() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let t = crate::domain::Ticket::sample(1, 10);
        let created = || entry(EntryKind::Event, "", Some(Event::Created { channel: "Email".into() }), 10);
        store
            .write(|w| -> super::Result<()> {
                // A ticket merged in, older: its message comes first.
                w.append_entry(&mut entry(EntryKind::Reply, "Older ticket's message.", None, 5))?;
                w.append_entry(&mut created())?;
                w.append_entry(&mut entry(EntryKind::Reply, "The printer jams.", None, 10))?;
                w.append_entry(&mut entry(EntryKind::Reply, "Still jammed.", None, 20)).map(|_| ())
            })
            .unwrap();
        assert_eq!(store.read().unwrap().first_message(&t).unwrap(), "The printer jams.");
        // A ticket opened without a message: the later reply is not it.
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store
            .write(|w| -> super::Result<()> {
                w.append_entry(&mut created())?;
                w.append_entry(&mut entry(EntryKind::Reply, "Any news?", None, 30)).map(|_| ())
            })
            .unwrap();
        assert_eq!(store.read().unwrap().first_message(&t).unwrap(), "");
    }
}
