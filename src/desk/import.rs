//! Importing old mail (`frontdesk import`): messages go through the same
//! routing as mail over SMTP — threads rebuilt from Message-ID, In-Reply-To
//! and References, the same junk rules — with the message's own date, in
//! the chosen status, and quietly: no acknowledgement, notification, trigger,
//! SLA clock or webhook. A message whose Message-ID the desk already knows is
//! skipped, so an interrupted import resumes where it stopped.

use std::sync::atomic::Ordering;

use super::mail::MailOutcome;
use super::{Desk, Result};
use crate::domain::mail::ParsedMail;
use crate::domain::{Status, Timestamp};
use crate::store::SpoolEntry;

/// One message to import: its bytes, parsed, and its date.
pub struct Imported {
    pub raw: Vec<u8>,
    pub mail: ParsedMail,
    pub date: Timestamp,
}

/// What became of one imported message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportOutcome {
    NewTicket,
    Reply,
    /// An event on a ticket (a bounce or auto-reply) or Junk.
    Other,
    /// Its Message-ID is known already (imported before).
    Skipped,
}

impl Desk {
    /// Whether this desk is importing (notices and automation are off).
    pub fn importing(&self) -> bool {
        self.importing.load(Ordering::Relaxed)
    }

    /// Turns the quiet import mode on for this process (`frontdesk import`).
    pub fn start_importing(&self) {
        self.importing.store(true, Ordering::SeqCst);
    }

    /// Imports `batch` in one transaction: each message routed as mail,
    /// dated by its Date header, its ticket left in `status`.
    pub fn import_batch(&self, batch: &[Imported], mailbox: &str, status: Status) -> Result<Vec<ImportOutcome>> {
        self.store.write(|w| {
            let mut out = Vec::with_capacity(batch.len());
            for item in batch {
                if let Some(id) = &item.mail.message_id
                    && w.message_ticket(id)?.is_some()
                {
                    out.push(ImportOutcome::Skipped);
                    continue;
                }
                let env = SpoolEntry {
                    received_at: item.date,
                    mail_from: item.mail.from.as_ref().map(|f| f.email.clone()).unwrap_or_default(),
                    rcpt_to: vec![mailbox.to_string()],
                    size: item.raw.len() as u64,
                    source: "import".into(),
                };
                let (outcome, ticket) = match self.route(w, &env, &item.raw, &item.mail, item.date, false)? {
                    MailOutcome::NewTicket(t) => (ImportOutcome::NewTicket, Some(t)),
                    MailOutcome::Reply(t) => (ImportOutcome::Reply, Some(t)),
                    _ => (ImportOutcome::Other, None),
                };
                if let Some(old) = ticket.map(|t| w.ticket(t)).transpose()?.flatten()
                    && old.status != status
                {
                    let mut t = old.clone();
                    t.status = status;
                    t.custom_status = None;
                    w.put_ticket(Some(&old), &t)?;
                }
                out.push(outcome);
            }
            Ok(out)
        })
    }
}
