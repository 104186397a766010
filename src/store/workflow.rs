//! Store parts of the agent workflow: the search index queue, merged and linked
//! tickets, Trash, saved searches and bulk jobs.
//!
//! The index queue is written by `Store::write` in the same transaction as every
//! ticket change, so the search index can never miss one: a ticket id leaves the
//! queue only after the indexer committed it, and only if no newer change came.

use redb::{ReadableTable, TableDefinition};

use super::{ENTRIES, ENTRY_MAIL, IDX_REQUESTER, Read, Result, THREAD_IDS, TICKETS, Write, codec};
use crate::domain::{JobId, PersonId, Ticket, TicketId, Timestamp};

/// Tickets waiting to be (re)indexed: ticket id → change generation.
pub(crate) const INDEX_QUEUE: TableDefinition<u64, u64> = TableDefinition::new("index_queue");
/// A merged-away ticket → the ticket it was merged into.
pub(crate) const MERGED: TableDefinition<u64, u64> = TableDefinition::new("merged");
/// Related tickets, stored both ways: (ticket, other) → ().
pub(crate) const LINKS: TableDefinition<(u64, u64), ()> = TableDefinition::new("links");
/// Tickets in Trash → when they were moved there.
pub(crate) const TRASH: TableDefinition<u64, i64> = TableDefinition::new("trash");
/// Trash by time, for purging: (trashed at, ticket) → ().
pub(crate) const TRASH_BY_TIME: TableDefinition<(i64, u64), ()> = TableDefinition::new("trash_by_time");
/// An agent's saved searches: (person, name) → query text.
pub(crate) const SAVED_SEARCHES: TableDefinition<(u64, &str), &str> = TableDefinition::new("saved_searches");
/// Bulk jobs: id → `Job` record.
pub(crate) const JOBS: TableDefinition<u64, &[u8]> = TableDefinition::new("jobs");
/// An agent's personal canned responses: (person, title) → body.
pub(crate) const PERSONAL_CANNED: TableDefinition<(u64, &str), &str> = TableDefinition::new("personal_canned");
/// Notes an agent keeps about a person: person → text.
pub(crate) const PERSON_NOTES: TableDefinition<u64, &str> = TableDefinition::new("person_notes");

/// Senders banned by an agent ("junk and ban"): address → when.
pub(crate) const BANNED: TableDefinition<&str, i64> = TableDefinition::new("banned");

/// A person merged into another (same customer, two addresses): from → into.
pub(crate) const PEOPLE_MERGED: TableDefinition<u64, u64> = TableDefinition::new("people_merged");

/// Opens every table of this module (called by the migration at start).
pub(crate) fn create_tables(tx: &redb::WriteTransaction) -> Result<()> {
    tx.open_table(INDEX_QUEUE)?;
    tx.open_table(MERGED)?;
    tx.open_table(LINKS)?;
    tx.open_table(TRASH)?;
    tx.open_table(TRASH_BY_TIME)?;
    tx.open_table(SAVED_SEARCHES)?;
    tx.open_table(JOBS)?;
    tx.open_table(PERSONAL_CANNED)?;
    tx.open_table(PERSON_NOTES)?;
    tx.open_table(BANNED)?;
    tx.open_table(PEOPLE_MERGED)?;
    Ok(())
}

/// What a bulk job does to each ticket.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Job {
    pub id: JobId,
    pub actor: PersonId,
    /// Human description, e.g. "set status to Resolved".
    pub action: String,
    /// The action in machine form (see `desk::bulk`).
    pub spec: Vec<(String, String)>,
    pub tickets: Vec<TicketId>,
    /// How many of `tickets` (in order) were handled, committed with their changes.
    pub done: usize,
    pub failed: Vec<(TicketId, String)>,
    pub started_at: Timestamp,
    pub finished_at: Option<Timestamp>,
}

impl Read {
    /// Up to `max` queued (ticket, generation) pairs, lowest ticket first.
    pub fn index_queue(&self, max: usize) -> Result<Vec<(u64, u64)>> {
        let t = self.tx.open_table(INDEX_QUEUE)?;
        let mut out = Vec::new();
        for row in t.iter()?.take(max) {
            let (k, v) = row?;
            out.push((k.value(), v.value()));
        }
        Ok(out)
    }

    pub fn index_queue_len(&self) -> Result<u64> {
        use redb::ReadableTableMetadata;
        Ok(self.tx.open_table(INDEX_QUEUE)?.len()?)
    }

    /// Every ticket id, ascending.
    pub fn ticket_ids(&self) -> Result<Vec<u64>> {
        let t = self.tx.open_table(TICKETS)?;
        let mut out = Vec::new();
        for row in t.iter()? {
            out.push(row?.0.value());
        }
        Ok(out)
    }

    /// Number of thread entries stored (for progress reports).
    pub fn entry_count(&self) -> Result<u64> {
        use redb::ReadableTableMetadata;
        Ok(self.tx.open_table(ENTRIES)?.len()?)
    }

    pub fn saved_searches(&self, person: PersonId) -> Result<Vec<(String, String)>> {
        let person = person.0;
        named_texts(&self.tx.open_table(SAVED_SEARCHES)?, person)
    }

    pub fn personal_canned(&self, person: PersonId) -> Result<Vec<(String, String)>> {
        let person = person.0;
        named_texts(&self.tx.open_table(PERSONAL_CANNED)?, person)
    }

    pub fn job(&self, id: JobId) -> Result<Option<Job>> {
        let t = self.tx.open_table(JOBS)?;
        t.get(id.0)?.map(|v| codec::decode(v.value(), "jobs")).transpose()
    }

    /// Jobs that have not finished (interrupted by a stop).
    pub fn unfinished_jobs(&self) -> Result<Vec<Job>> {
        let t = self.tx.open_table(JOBS)?;
        let mut out = Vec::new();
        for row in t.iter()? {
            let job: Job = codec::decode(row?.1.value(), "jobs")?;
            if job.finished_at.is_none() {
                out.push(job);
            }
        }
        Ok(out)
    }

    /// Tickets in Trash with when they were moved there, oldest first.
    pub fn trash(&self, max: usize) -> Result<Vec<(u64, Timestamp)>> {
        let t = self.tx.open_table(TRASH_BY_TIME)?;
        let mut out = Vec::new();
        for row in t.iter()?.take(max) {
            let (k, _) = row?;
            let (at, id) = k.value();
            out.push((id, Timestamp(at)));
        }
        Ok(out)
    }

    pub fn junk_len(&self) -> Result<u64> {
        use redb::ReadableTableMetadata;
        Ok(self.tx.open_table(super::JUNK)?.len()?)
    }

    pub fn trash_len(&self) -> Result<u64> {
        use redb::ReadableTableMetadata;
        Ok(self.tx.open_table(TRASH)?.len()?)
    }
}

/// One person's rows of a (person, name) → text table, by name.
fn named_texts(t: &impl ReadableTable<(u64, &'static str), &'static str>, person: u64) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for row in t.range((person, "")..)? {
        let (k, v) = row?;
        if k.value().0 != person {
            break;
        }
        out.push((k.value().1.to_string(), v.value().to_string()));
    }
    Ok(out)
}

/// Follows a merge chain (from → into) to its end. Merge targets are always
/// live records, so chains are short; the bound only guards a corrupt cycle.
fn follow(t: &impl ReadableTable<u64, u64>, id: u64) -> Result<u64> {
    let mut cur = id;
    for _ in 0..32 {
        match t.get(cur)? {
            Some(v) => cur = v.value(),
            None => break,
        }
    }
    Ok(cur)
}

/// Reads both transaction kinds need for merge, links, Trash and notes.
macro_rules! workflow_reads {
    ($t:ty) => {
        impl $t {
            /// Follows merges: the ticket a reference now stands for.
            pub fn survivor(&self, id: TicketId) -> Result<TicketId> {
                follow(&self.tx.open_table(MERGED)?, id.0).map(TicketId)
            }

            pub fn links(&self, ticket: TicketId) -> Result<Vec<TicketId>> {
                Ok(super::paired(&self.tx.open_table(LINKS)?, ticket.0)?.into_iter().map(TicketId).collect())
            }

            /// When the ticket went to Trash, if it is there.
            pub fn trashed_at(&self, ticket: TicketId) -> Result<Option<Timestamp>> {
                let ticket = ticket.0;
                let t = self.tx.open_table(TRASH)?;
                Ok(t.get(ticket)?.map(|v| Timestamp(v.value())))
            }

            /// The person an id now stands for (after people merges).
            pub fn person_survivor(&self, id: PersonId) -> Result<PersonId> {
                follow(&self.tx.open_table(PEOPLE_MERGED)?, id.0).map(PersonId)
            }

            /// Banned by an agent, or at the reserved domain of requesters
            /// known by phone only (no one sends from it: mail claiming to
            /// is forged).
            pub fn is_banned(&self, email: &str) -> Result<bool> {
                if crate::domain::people::phone_of_address(&email.to_lowercase()).is_some() {
                    return Ok(true);
                }
                let t = self.tx.open_table(BANNED)?;
                Ok(t.get(email.to_lowercase().as_str())?.is_some())
            }

            pub fn person_notes(&self, person: PersonId) -> Result<String> {
                let person = person.0;
                let t = self.tx.open_table(PERSON_NOTES)?;
                Ok(t.get(person)?.map(|v| v.value().to_string()).unwrap_or_default())
            }

            /// Ids of a requester's tickets (any status, not in Trash).
            pub fn requester_ticket_ids(&self, person: PersonId) -> Result<Vec<TicketId>> {
                let person = person.0;
                let t = self.tx.open_table(IDX_REQUESTER)?;
                let mut out = Vec::new();
                for row in t.range((person, i64::MIN, 0)..=(person, i64::MAX, u64::MAX))? {
                    out.push(row?.0.value().2);
                }
                Ok(out.into_iter().map(TicketId).collect())
            }
        }
    };
}
workflow_reads!(Read);
workflow_reads!(Write);

impl Write {
    /// Sets a named value of the keys table; what it held before.
    pub fn replace_key(&mut self, name: &str, value: &[u8]) -> Result<Option<Vec<u8>>> {
        let mut t = self.tx.open_table(super::KEYS)?;
        let old = t.get(name)?.map(|v| v.value().to_vec());
        t.insert(name, value)?;
        Ok(old)
    }

    /// Puts every ticket this transaction touched on the index queue.
    pub(crate) fn enqueue_touched(&mut self) -> Result<()> {
        if self.touched.is_empty() {
            return Ok(());
        }
        let gen_ = self.meta("index.gen")? + 1;
        self.set_meta("index.gen", gen_)?;
        let mut q = self.tx.open_table(INDEX_QUEUE)?;
        for &id in &self.touched {
            q.insert(id, gen_)?;
        }
        Ok(())
    }

    /// Removes indexed tickets from the queue unless they changed again since.
    pub fn dequeue_indexed(&mut self, done: &[(u64, u64)]) -> Result<()> {
        let mut q = self.tx.open_table(INDEX_QUEUE)?;
        for &(id, gen_) in done {
            let same = q.get(id)?.map(|v| v.value()) == Some(gen_);
            if same {
                q.remove(id)?;
            }
        }
        Ok(())
    }

    /// Marks tickets as changed (for the index and live views) without writing them.
    pub fn touch(&mut self, ids: impl IntoIterator<Item = u64>) {
        self.touched.extend(ids);
    }

    /// Merges person `from` into `into`: their tickets change requester, and
    /// mail from `from`'s address is from `into` from now on.
    pub fn merge_people(&mut self, from: &crate::domain::Person, into: &crate::domain::Person) -> Result<Vec<TicketId>> {
        let ids = self.requester_ticket_ids(from.id)?;
        for &id in &ids {
            if let Some(old) = self.ticket(id)? {
                let mut t = old.clone();
                t.requester = into.id;
                self.put_ticket(Some(&old), &t)?;
            }
        }
        self.tx.open_table(super::PEOPLE_BY_EMAIL)?.insert(from.email.as_str(), into.id.0)?;
        self.tx.open_table(PEOPLE_MERGED)?.insert(from.id.0, into.id.0)?;
        let notes = self.person_notes(from.id)?;
        if !notes.is_empty() {
            let mine = self.person_notes(into.id)?;
            let joined = if mine.is_empty() { notes } else { format!("{mine}\n\n{notes}") };
            self.set_person_notes(into.id, &joined)?;
            self.set_person_notes(from.id, "")?;
        }
        // The tickets `from` was copied on are `into`'s (unless theirs).
        for t in self.collaborating(from.id)? {
            self.remove_collaborator(t, from.id)?;
            if self.ticket(t)?.is_some_and(|x| x.requester != into.id) {
                self.add_collaborator(t, into.id)?;
            }
        }
        // A phone number the survivor lacks comes along.
        let phone = self.person_phone(from.id)?;
        if !phone.is_empty() && self.person_phone(into.id)?.is_empty() {
            self.set_person_phone(into.id, &phone)?;
        }
        self.set_person_phone(from.id, "")?;
        Ok(ids)
    }

    pub fn ban(&mut self, email: &str, at: Timestamp) -> Result<()> {
        self.tx.open_table(BANNED)?.insert(email.to_lowercase().as_str(), at.0)?;
        Ok(())
    }

    pub fn save_search(&mut self, person: PersonId, name: &str, query: &str) -> Result<()> {
        let person = person.0;
        self.tx.open_table(SAVED_SEARCHES)?.insert((person, name), query)?;
        Ok(())
    }

    pub fn delete_saved_search(&mut self, person: PersonId, name: &str) -> Result<bool> {
        let person = person.0;
        Ok(self.tx.open_table(SAVED_SEARCHES)?.remove((person, name))?.is_some())
    }

    pub fn put_personal_canned(&mut self, person: PersonId, title: &str, body: &str) -> Result<()> {
        let person = person.0;
        self.tx.open_table(PERSONAL_CANNED)?.insert((person, title), body)?;
        Ok(())
    }

    pub fn delete_personal_canned(&mut self, person: PersonId, title: &str) -> Result<bool> {
        let person = person.0;
        Ok(self.tx.open_table(PERSONAL_CANNED)?.remove((person, title))?.is_some())
    }

    pub fn set_person_notes(&mut self, person: PersonId, notes: &str) -> Result<()> {
        let person = person.0;
        let mut t = self.tx.open_table(PERSON_NOTES)?;
        if notes.trim().is_empty() {
            t.remove(person)?;
        } else {
            t.insert(person, notes)?;
        }
        Ok(())
    }

    pub fn put_job(&mut self, job: &Job) -> Result<()> {
        self.tx.open_table(JOBS)?.insert(job.id.0, codec::encode(job).as_slice())?;
        Ok(())
    }

    /// Links two tickets (both ways); false when they already were.
    pub fn link(&mut self, a: u64, b: u64) -> Result<bool> {
        let mut t = self.tx.open_table(LINKS)?;
        let fresh = t.insert((a, b), ())?.is_none();
        t.insert((b, a), ())?;
        self.touched.extend([a, b]);
        Ok(fresh)
    }

    pub fn unlink(&mut self, a: u64, b: u64) -> Result<bool> {
        let mut t = self.tx.open_table(LINKS)?;
        let had = t.remove((a, b))?.is_some();
        t.remove((b, a))?;
        self.touched.extend([a, b]);
        Ok(had)
    }

    /// Takes a ticket out of every queue index and counter (Trash, merge, purge).
    fn hide(&mut self, t: &Ticket) -> Result<()> {
        self.unindex(t)?;
        self.count(t, -1)?;
        Ok(())
    }

    /// Moves a ticket to Trash: it leaves every queue and count but keeps its data.
    pub fn trash_ticket(&mut self, t: &Ticket, at: Timestamp) -> Result<bool> {
        if self.trashed_at(t.id)?.is_some() {
            return Ok(false);
        }
        self.hide(t)?;
        self.tx.open_table(TRASH)?.insert(t.id.0, at.0)?;
        self.tx.open_table(TRASH_BY_TIME)?.insert((at.0, t.id.0), ())?;
        self.touched.push(t.id.0);
        Ok(true)
    }

    /// Brings a ticket back from Trash into its queues.
    pub fn restore_ticket(&mut self, t: &Ticket) -> Result<bool> {
        let Some(at) = self.trashed_at(t.id)? else { return Ok(false) };
        self.tx.open_table(TRASH)?.remove(t.id.0)?;
        self.tx.open_table(TRASH_BY_TIME)?.remove((at.0, t.id.0))?;
        self.index(t)?;
        self.count(t, 1)?;
        self.touched.push(t.id.0);
        Ok(true)
    }

    /// Deletes a trashed ticket for good: record, thread, mail metadata,
    /// links; the blobs they held are released (deleted when no other
    /// record holds them).
    pub fn purge_ticket(&mut self, id: u64) -> Result<bool> {
        let Some(at) = self.trashed_at(TicketId(id))? else { return Ok(false) };
        self.tx.open_table(TRASH)?.remove(id)?;
        self.tx.open_table(TRASH_BY_TIME)?.remove((at.0, id))?;
        self.tx.open_table(TICKETS)?.remove(id)?;
        let (seqs, held) = self.thread_rows(id)?;
        {
            let mut e = self.tx.open_table(ENTRIES)?;
            let mut m = self.tx.open_table(ENTRY_MAIL)?;
            for seq in seqs {
                e.remove((id, seq))?;
                m.remove((id, seq))?;
            }
        }
        // Its mail and attachments go too, unless another ticket holds them.
        for blob in held {
            self.release_blob(&blob)?;
        }
        for other in self.links(TicketId(id))? {
            self.unlink(id, other.0)?;
        }
        let staff: Vec<PersonId> = self.staff()?.iter().map(|p| p.id).collect();
        self.forget_opened(TicketId(id), &staff)?;
        self.forget_rating(TicketId(id))?;
        self.touched.push(id);
        Ok(true)
    }

    /// Merges `from` into `into`: the thread entries of `from` move over (the
    /// combined thread is renumbered in time order), its Message-IDs thread to
    /// `into`, and `from` leaves every queue; its reference redirects from now on.
    pub fn merge_tickets(&mut self, from: &Ticket, into: &Ticket) -> Result<()> {
        // The survivor's report fact is rebuilt from the combined thread.
        self.forget_fact(into.id)?;
        // Combined thread in time order; ties keep the survivor's entry first.
        let mut all: Vec<(Timestamp, u8, u32, crate::domain::ThreadEntry, Option<super::MailMeta>)> = Vec::new();
        for (src, tag) in [(into.id, 0u8), (from.id, 1u8)] {
            for e in self.entries(src)? {
                let meta = self.entry_mail(src, e.seq)?;
                all.push((e.created_at, tag, e.seq, e, meta));
            }
        }
        all.sort_by_key(|(at, tag, seq, _, _)| (*at, *tag, *seq));
        let mut moved = Vec::new();
        {
            let mut entries = self.tx.open_table(ENTRIES)?;
            let mut mail = self.tx.open_table(ENTRY_MAIL)?;
            for (_, tag, seq, _, _) in &all {
                let src = if *tag == 0 { into.id } else { from.id };
                entries.remove((src.0, *seq))?;
                mail.remove((src.0, *seq))?;
            }
            for (n, (_, _, _, mut e, meta)) in all.into_iter().enumerate() {
                let seq = n as u32 + 1;
                e.ticket = into.id;
                e.seq = seq;
                entries.insert((into.id.0, seq), codec::encode(&e).as_slice())?;
                if let Some(m) = meta {
                    mail.insert((into.id.0, seq), codec::encode_mail_meta(&m).as_slice())?;
                    moved.push((seq, m));
                }
            }
        }
        // Stored against their sources again (they were read out of them).
        for (seq, m) in moved {
            self.store_mail_details(into.id.0, seq, &m)?;
        }
        for mid in self.thread_ids(from.id)? {
            self.add_thread_id(into.id, &mid)?;
        }
        {
            let mut t = self.tx.open_table(THREAD_IDS)?;
            let keys: Vec<(u64, u32)> = t
                .range((from.id.0, 0)..=(from.id.0, u32::MAX))?
                .map(|r| r.map(|(k, _)| k.value()))
                .collect::<std::result::Result<_, _>>()?;
            for k in keys {
                t.remove(k)?;
            }
        }
        for p in self.collaborators(from.id)? {
            self.add_collaborator(into.id, p)?;
        }
        for p in self.followers(from.id)? {
            self.set_following(into.id, p, true)?;
        }
        for other in self.links(from.id)? {
            self.unlink(from.id.0, other.0)?;
            if other != into.id {
                self.link(into.id.0, other.0)?;
            }
        }
        self.hide(from)?;
        self.tx.open_table(TICKETS)?.remove(from.id.0)?;
        self.tx.open_table(MERGED)?.insert(from.id.0, into.id.0)?;
        self.touched.extend([from.id.0, into.id.0]);
        Ok(())
    }
}
