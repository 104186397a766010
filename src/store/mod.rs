//! The embedded database: redb tables for tickets, thread entries, people, sessions, API tokens,
//! counters, blobs, and the secondary indexes that keep list pages from ever scanning all tickets.
//! It knows nothing of HTTP or SMTP. Records use the versioned `codec`; `migrate` updates old data.

mod allowed;
mod audit;
mod automation;
mod backup;
mod blobs;
mod bounces;
mod checklists;
mod clocks;
pub mod codec;
mod compress;
mod contacts;
mod conversation;
mod db;
mod directory;
mod drafts;
mod feed;
mod fileformat;
pub mod imap;
mod kb;
mod legacy;
mod mentions;
pub mod migrate;
mod orgs;
mod packs;
mod profiles;
mod query;
mod queues;
mod ratings;
mod recompress;
mod reports;
mod requests;
mod seen;
mod sourced;
pub mod spool;
mod stats;
mod timers;
mod timespent;
mod tokens;
mod twofactor;
pub mod webhooks;
mod workflow;

use redb::{ReadTransaction, ReadableTable, TableDefinition, WriteTransaction};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use spool::{SPOOL_FILE, SpoolLog};
pub use stats::{FileUse, TableUse};
pub use {
    backup::Snapshot, bounces::Bounced, directory::DirectorySort, drafts::Draft, reports::FactSet, seen::ThreadTail, timespent::Spell,
    webhooks::Appended,
};
pub use {
    db::{Precommit, Store},
    feed::{Change, Topic, Waiter, Woke},
};

use crate::domain::{JunkId, OutMailId, Person, PersonId, ThreadEntry, Ticket, TicketId, Timestamp};
pub use profiles::{LinkKind, PasswordLink, Profile};
pub use query::{AssigneeFilter, Sort, TicketQuery};
pub use requests::{PendingRequest, RequestDetails};
pub use tokens::{TOKEN_ID_LEN, token_id};
pub use {twofactor::TwoFactor, workflow::Job};

/// Counters and small settings: schema version, next ids, per-status counts.
pub(crate) const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
pub(crate) const TICKETS: TableDefinition<u64, &[u8]> = TableDefinition::new("tickets");
pub(crate) const ENTRIES: TableDefinition<(u64, u32), &[u8]> = TableDefinition::new("entries");
pub(crate) const PEOPLE: TableDefinition<u64, &[u8]> = TableDefinition::new("people");
pub(crate) const PEOPLE_BY_EMAIL: TableDefinition<&str, u64> = TableDefinition::new("people_by_email");
/// Ids of agents and admins (so staff lists never scan all contacts); schema 2.
pub(crate) const STAFF: TableDefinition<u64, ()> = TableDefinition::new("staff");
pub(crate) const SESSIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("sessions");
pub(crate) const API_TOKENS: TableDefinition<&str, &[u8]> = TableDefinition::new("api_tokens");
/// Blob id (hex SHA-256) → total size and flags: `BLOB_ZSTD` (`BLOB_LZ4`
/// from schemas 6–12) for compressed content, `BLOB_PACKED` for a blob in a
/// pack (`store::packs`; its one chunk row holds its place).
pub(crate) const BLOBS: TableDefinition<&str, u64> = TableDefinition::new("blobs");
pub(crate) const BLOB_CHUNKS: TableDefinition<(&str, u32), &[u8]> = TableDefinition::new("blob_chunks");
/// (updated_at, ticket) — the default queue order.
pub(crate) const IDX_UPDATED: TableDefinition<(i64, u64), ()> = TableDefinition::new("idx_updated");
/// (status, updated_at, ticket)
pub(crate) const IDX_STATUS: TableDefinition<(u8, i64, u64), ()> = TableDefinition::new("idx_status");
/// (priority, updated_at, ticket); added in schema 2.
pub(crate) const IDX_PRIORITY: TableDefinition<(u8, i64, u64), ()> = TableDefinition::new("idx_priority");
/// (assignee or 0, updated_at, ticket)
pub(crate) const IDX_ASSIGNEE: TableDefinition<(u64, i64, u64), ()> = TableDefinition::new("idx_assignee");
/// (requester, updated_at, ticket)
pub(crate) const IDX_REQUESTER: TableDefinition<(u64, i64, u64), ()> = TableDefinition::new("idx_requester");
/// (department, updated_at, ticket)
pub(crate) const IDX_DEPARTMENT: TableDefinition<(&str, i64, u64), ()> = TableDefinition::new("idx_department");
/// (team, updated_at, ticket) for tickets assigned to a team (schema 9).
pub(crate) const IDX_TEAM: TableDefinition<(&str, i64, u64), ()> = TableDefinition::new("idx_team");

/// Mail accepted over SMTP and not yet turned into a ticket: id → `SpoolEntry`.
pub(crate) const SPOOL: TableDefinition<u64, &[u8]> = TableDefinition::new("spool");
/// (spool id, chunk) → raw message bytes.
pub(crate) const SPOOL_CHUNKS: TableDefinition<(u64, u32), &[u8]> = TableDefinition::new("spool_chunks");
/// Message-ID (without brackets, lower-case) → ticket, for threading replies.
pub(crate) const MESSAGE_IDS: TableDefinition<&str, u64> = TableDefinition::new("message_ids");
/// Mail that did not become a ticket (bounces, auto-replies): id → `JunkMail`.
pub(crate) const JUNK: TableDefinition<u64, &[u8]> = TableDefinition::new("junk");
/// (ticket, entry seq) → `MailMeta` for entries that came by mail.
pub(crate) const ENTRY_MAIL: TableDefinition<(u64, u32), &[u8]> = TableDefinition::new("entry_mail");
/// (ticket, person) → () for collaborators (CC'd people) on a ticket.
pub(crate) const COLLABORATORS: TableDefinition<(u64, u64), ()> = TableDefinition::new("collaborators");
/// (person, ticket): the tickets each person is a collaborator on (schema 12).
pub(crate) const COLLAB_BY_PERSON: TableDefinition<(u64, u64), ()> = TableDefinition::new("collab_by_person");

/// (ticket, agent) → () for agents following a ticket, and the reverse.
pub(crate) const FOLLOWERS: TableDefinition<(u64, u64), ()> = TableDefinition::new("followers");
pub(crate) const FOLLOWING: TableDefinition<(u64, u64), ()> = TableDefinition::new("following");
/// Person → notification kinds they turned off (agents' own settings).
pub(crate) const MUTED: TableDefinition<u64, &[u8]> = TableDefinition::new("muted");
/// Named secrets (the signing key for links and mail tokens).
pub(crate) const KEYS: TableDefinition<&str, &[u8]> = TableDefinition::new("keys");
/// Mail to send: id → `OutMail`.
pub(crate) const OUTBOX: TableDefinition<u64, &[u8]> = TableDefinition::new("outbox");
/// (next attempt, id) → () for queued mail, so the sender finds due mail at once.
pub(crate) const OUTBOX_DUE: TableDefinition<(i64, u64), ()> = TableDefinition::new("outbox_due");
/// Sender address → time of the last acknowledgement sent to it.
pub(crate) const ACKS: TableDefinition<&str, i64> = TableDefinition::new("acks");
/// (ticket, n) → Message-ID, in order: every mail of the ticket's conversation.
pub(crate) const THREAD_IDS: TableDefinition<(u64, u32), &str> = TableDefinition::new("thread_ids");

/// Chunks of a large blob: with its key and the leaf's header one fits
/// 64 KiB (redb rounds a leaf up to a power of two of pages).
pub(crate) const BLOB_CHUNK: usize = 64 * 1024 - 512;
/// `BLOBS` flag: chunks lz4-compressed by schemas 6–12 (sizes stay far below).
pub(crate) const BLOB_LZ4: u64 = 1 << 63;
/// The flag in a `BLOBS` value for zstd-compressed chunks (schema 13 on).
pub(crate) const BLOB_ZSTD: u64 = 1 << 62;
/// The flag in a `BLOBS` value for a blob kept in a pack (`store::packs`).
pub(crate) const BLOB_PACKED: u64 = 1 << 61;
/// A `BLOBS` value's size, without its flags.
pub(crate) fn blob_size(header: u64) -> u64 {
    header & !(BLOB_LZ4 | BLOB_ZSTD | BLOB_PACKED)
}

/// Current on-disk schema version. See `migrate`.
pub const SCHEMA_VERSION: u64 = 15;

/// Page cache when none is configured (see `server.cache_mib`).
pub const DEFAULT_CACHE_BYTES: usize = 4 * 1024 * 1024;

/// The database file inside the data directory.
pub const DB_FILE: &str = "frontdesk.redb";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Db(Box<redb::Error>),
    #[error("corrupt record in {table}: {detail}")]
    Corrupt { table: &'static str, detail: String },
    #[error("the data directory was written by a newer frontdesk (schema {found}; this release knows {known}): run that release")]
    TooNew { found: u64, known: u64 },
    #[error("the database is in use by another frontdesk process ({0}); stop it first")]
    Locked(String),
    #[error("the database file {path} is damaged ({detail}); restore it from a backup, or move it away to start empty")]
    Damaged { path: String, detail: String },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

macro_rules! from_redb {
    ($($t:ty),+) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self { StoreError::Db(Box::new(e.into())) }
        }
    )+};
}
from_redb!(redb::Error, redb::DatabaseError, redb::TransactionError, redb::TableError, redb::StorageError, redb::CommitError);

pub type Result<T> = std::result::Result<T, StoreError>;

/// A login session (the cookie holds the token; the key is its hash).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    pub person: PersonId,
    pub csrf: String,
    pub created_at: Timestamp,
    pub last_seen: Timestamp,
}

/// An API bearer token (stored by hash). Version 2 (schema 8) added the
/// scopes, expiry, address allow-list and last use; older tokens read as
/// holding every scope, without limits.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiToken {
    pub person: PersonId,
    pub name: String,
    pub created_at: Timestamp,
    pub scopes: Vec<crate::domain::access::Scope>,
    pub expires_at: Option<Timestamp>,
    /// CIDR ranges as given (checked when made); empty = any address.
    pub allowed_ips: Vec<String>,
    /// Last request made with it (written at most once a minute).
    pub last_used: Option<Timestamp>,
}

/// A message accepted by the SMTP receiver (or `ingest`), waiting to be
/// processed. The raw bytes are in `SPOOL_CHUNKS`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SpoolEntry {
    pub received_at: Timestamp,
    /// Envelope sender; empty for the null reverse-path (bounces).
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    pub size: u64,
    /// Where it came from, for the record ("smtp 192.0.2.1", "ingest").
    pub source: String,
}

/// Mail kept out of the queue (bounce, auto-reply), viewable and convertible.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JunkMail {
    pub id: JunkId,
    pub received_at: Timestamp,
    pub from: String,
    pub subject: String,
    pub reason: String,
    pub raw_blob: String,
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
}

impl JunkMail {
    /// The sender's address: from the From label ("Name <a@b>" or "a@b"),
    /// else the envelope sender.
    pub fn from_email(&self) -> String {
        let label = self.from.trim();
        let inner = label.rsplit_once('<').and_then(|(_, r)| r.split_once('>')).map(|(e, _)| e.trim()).unwrap_or(label);
        let email = if inner.contains('@') && !inner.contains(char::is_whitespace) { inner } else { self.mail_from.as_str() };
        email.to_lowercase()
    }
}

/// How an entry arrived by mail: addresses, ids, the raw source and the HTML.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MailMeta {
    pub from: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub subject: String,
    pub message_id: String,
    /// Blob of the raw message as received (with our Received header).
    pub raw_blob: String,
    /// Blob of the sanitized HTML body, if the mail had one.
    pub html_blob: Option<String>,
    /// The full text when quoted history was cut from the entry body.
    pub full_text: Option<String>,
    /// Content-ID → index into the entry's attachments, for `cid:` images.
    pub cids: Vec<(String, usize)>,
    /// The sender, when the desk found them in a forwarded part.
    pub forwarded_by: Option<String>,
    /// SPF/DKIM/DMARC of the mail as checked on accept (version 2).
    pub auth: Option<crate::domain::auth::MailAuth>,
}

impl MailMeta {
    /// The blobs these details name: the raw source, the HTML body.
    pub fn blobs(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.raw_blob.as_str()).chain(self.html_blob.as_deref())
    }
}

/// One mail waiting to be delivered (or given up on).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutMail {
    pub id: OutMailId,
    pub ticket: Option<TicketId>,
    /// Template kind: ack, reply, new_ticket, …
    pub kind: String,
    pub from: String,
    pub from_name: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    /// Recipients not delivered yet (a refused one never blocks the others).
    pub pending: Vec<String>,
    pub subject: String,
    pub text: String,
    pub message_id: String,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    /// `auto-replied`, `auto-generated`, or none for a person's reply.
    pub auto_submitted: Option<String>,
    pub attachments: Vec<crate::domain::thread::AttachmentRef>,
    /// Recipient → their signed unsubscribe link (collaborators only).
    pub unsubscribe: Vec<(String, String)>,
    pub created_at: Timestamp,
    pub attempts: u32,
    pub next_attempt: Timestamp,
    /// Gave up: permanently refused or too old. Kept for the admin to see.
    pub failed: bool,
    pub last_error: String,
}

impl OutMail {
    /// A mail to `to` and `cc` (all pending), due now, with nothing else set.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        kind: &str,
        from: &str,
        from_name: &str,
        to: Vec<String>,
        cc: Vec<String>,
        subject: String,
        text: String,
        message_id: String,
        now: Timestamp,
    ) -> OutMail {
        OutMail {
            id: OutMailId(0),
            ticket: None,
            kind: kind.to_string(),
            from: from.to_string(),
            from_name: from_name.to_string(),
            pending: to.iter().chain(&cc).cloned().collect(),
            to,
            cc,
            subject,
            text,
            message_id,
            in_reply_to: None,
            references: Vec::new(),
            auto_submitted: None,
            attachments: Vec::new(),
            unsubscribe: Vec::new(),
            created_at: now,
            attempts: 0,
            next_attempt: now,
            failed: false,
            last_error: String::new(),
        }
    }
}

/// Hex SHA-256, used for content addressing and for storing secrets by hash.
pub fn sha256_hex(data: &[u8]) -> String {
    let digest = Sha256::digest(data);
    let mut s = String::with_capacity(64);
    for b in digest {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// The counters a ticket adds one to: its status; its assignee and status;
/// urgent-and-unassigned by status.
pub(crate) fn counter_keys(t: &Ticket) -> Vec<String> {
    let s = t.status.key();
    let mut keys = vec![format!("count.status.{s}"), format!("count.assignee.{}.{s}", t.assignee.map_or(0, |a| a.0))];
    if t.assignee.is_none() && t.priority == crate::domain::Priority::Urgent {
        keys.push(format!("count.urgent_unassigned.{s}"));
    }
    if let Some(team) = &t.team {
        keys.push(format!("count.team.{team}.{s}"));
    }
    keys
}

/// The second halves of every `(first, _)` key of a pair table (who
/// collaborates on a ticket, who follows it, what it links to), in order.
pub(crate) fn paired(t: &impl ReadableTable<(u64, u64), ()>, first: u64) -> Result<Vec<u64>> {
    let mut out = Vec::new();
    for row in t.range((first, 0)..=(first, u64::MAX))? {
        out.push(row?.0.value().1);
    }
    Ok(out)
}

fn decode_ticket(bytes: &[u8]) -> Result<Ticket> {
    codec::decode_ticket(bytes)
}

/// Reads both a snapshot (`Read`) and a write transaction (`Write`) need:
/// the same code for either kind of redb transaction.
macro_rules! shared_reads {
    () => {
        pub fn is_collaborator(&self, ticket: TicketId, person: PersonId) -> Result<bool> {
            let ticket = ticket.0;
            let person = person.0;
            Ok(self.tx.open_table(COLLABORATORS)?.get((ticket, person))?.is_some())
        }

        pub fn ticket(&self, id: TicketId) -> Result<Option<Ticket>> {
            let id = id.0;
            let t = self.tx.open_table(TICKETS)?;
            t.get(id)?.map(|v| decode_ticket(v.value())).transpose()
        }

        /// A ticket's thread, oldest first.
        pub fn entries(&self, ticket: TicketId) -> Result<Vec<ThreadEntry>> {
            let ticket = ticket.0;
            let t = self.tx.open_table(ENTRIES)?;
            let mut out = Vec::new();
            for row in t.range((ticket, 0)..=(ticket, u32::MAX))? {
                let (k, v) = row?;
                out.push(self.entry_from(k.value(), v.value())?);
            }
            Ok(out)
        }

        pub fn person(&self, id: PersonId) -> Result<Option<Person>> {
            let id = id.0;
            let t = self.tx.open_table(PEOPLE)?;
            t.get(id)?.map(|v| codec::decode_person(v.value())).transpose()
        }

        pub fn person_by_email(&self, email: &str) -> Result<Option<Person>> {
            let id = {
                let t = self.tx.open_table(PEOPLE_BY_EMAIL)?;
                t.get(email)?.map(|v| v.value())
            };
            match id {
                Some(id) => self.person(PersonId(id)),
                None => Ok(None),
            }
        }

        /// All agents and admins (active or not), by id.
        pub fn staff(&self) -> Result<Vec<Person>> {
            let ids: Vec<u64> = {
                let t = self.tx.open_table(STAFF)?;
                t.iter()?.map(|r| r.map(|(k, _)| k.value())).collect::<std::result::Result<_, _>>()?
            };
            let mut out = Vec::new();
            for id in ids {
                if let Some(p) = self.person(PersonId(id))? {
                    out.push(p);
                }
            }
            Ok(out)
        }

        pub fn entry_mail(&self, ticket: TicketId, seq: u32) -> Result<Option<MailMeta>> {
            let ticket = ticket.0;
            let t = self.tx.open_table(ENTRY_MAIL)?;
            t.get((ticket, seq))?.map(|v| self.mail_meta_from(v.value())).transpose()
        }

        pub fn junk_item(&self, id: JunkId) -> Result<Option<JunkMail>> {
            let t = self.tx.open_table(JUNK)?;
            t.get(id.0)?.map(|v| codec::decode(v.value(), "junk")).transpose()
        }

        pub fn outmail(&self, id: OutMailId) -> Result<Option<OutMail>> {
            let t = self.tx.open_table(OUTBOX)?;
            t.get(id.0)?.map(|v| codec::decode(v.value(), "outbox")).transpose()
        }

        /// A counter or setting; 0 when never set.
        pub fn meta(&self, key: &str) -> Result<u64> {
            let t = self.tx.open_table(META)?;
            Ok(t.get(key)?.map(|v| v.value()).unwrap_or(0))
        }

        pub fn collaborators(&self, ticket: TicketId) -> Result<Vec<PersonId>> {
            Ok(paired(&self.tx.open_table(COLLABORATORS)?, ticket.0)?.into_iter().map(PersonId).collect())
        }

        /// The tickets a person is a collaborator on.
        pub fn collaborating(&self, person: PersonId) -> Result<Vec<TicketId>> {
            Ok(paired(&self.tx.open_table(COLLAB_BY_PERSON)?, person.0)?.into_iter().map(TicketId).collect())
        }

        pub fn session(&self, token: &str) -> Result<Option<Session>> {
            let t = self.tx.open_table(SESSIONS)?;
            t.get(sha256_hex(token.as_bytes()).as_str())?.map(|v| codec::decode(v.value(), "sessions")).transpose()
        }

        pub fn api_token(&self, token: &str) -> Result<Option<ApiToken>> {
            let t = self.tx.open_table(API_TOKENS)?;
            t.get(sha256_hex(token.as_bytes()).as_str())?.map(|v| codec::decode_api_token(v.value())).transpose()
        }

        /// Notification kinds a person turned off.
        pub fn muted(&self, person: PersonId) -> Result<Vec<String>> {
            let person = person.0;
            let t = self.tx.open_table(MUTED)?;
            Ok(t.get(person)?.map(|v| codec::decode(v.value(), "muted")).transpose()?.unwrap_or_default())
        }

        /// Active (not resolved or closed) tickets of an assignee; `None` counts
        /// the unassigned ones.
        pub fn active_count_of(&self, assignee: Option<PersonId>) -> Result<u64> {
            let assignee = assignee.map_or(0, |a| a.0);
            let mut n = 0;
            for s in crate::domain::Status::ALL.iter().filter(|s| s.is_active()) {
                n += self.meta(&format!("count.assignee.{assignee}.{}", s.key()))?;
            }
            Ok(n)
        }
    };
}

/// A read snapshot.
pub struct Read {
    tx: ReadTransaction,
    sources: std::sync::Arc<sourced::SourceCache>,
}

impl Read {
    shared_reads!();

    pub fn is_following(&self, ticket: TicketId, person: PersonId) -> Result<bool> {
        let ticket = ticket.0;
        let person = person.0;
        Ok(self.tx.open_table(FOLLOWERS)?.get((ticket, person))?.is_some())
    }

    /// Tickets a person follows.
    pub fn following(&self, person: PersonId) -> Result<Vec<TicketId>> {
        Ok(paired(&self.tx.open_table(FOLLOWING)?, person.0)?.into_iter().map(TicketId).collect())
    }

    /// Mail metadata of every mail entry of a ticket, by seq.
    pub fn ticket_mail(&self, ticket: TicketId) -> Result<Vec<(u32, MailMeta)>> {
        let ticket = ticket.0;
        let t = self.tx.open_table(ENTRY_MAIL)?;
        let mut out = Vec::new();
        for row in t.range((ticket, 0)..=(ticket, u32::MAX))? {
            let (k, v) = row?;
            out.push((k.value().1, self.mail_meta_from(v.value())?));
        }
        Ok(out)
    }

    /// Number of tickets in each status (kept as counters, not counted).
    pub fn status_count(&self, status: crate::domain::Status) -> Result<u64> {
        self.meta(&format!("count.status.{}", status.key()))
    }

    /// Active (not resolved or closed) tickets of a team.
    pub fn active_team_count(&self, team: &str) -> Result<u64> {
        let mut n = 0;
        for s in crate::domain::Status::ALL.iter().filter(|s| s.is_active()) {
            n += self.meta(&format!("count.team.{team}.{}", s.key()))?;
        }
        Ok(n)
    }

    /// Active urgent tickets nobody has taken.
    pub fn urgent_unassigned_count(&self) -> Result<u64> {
        let mut n = 0;
        for s in crate::domain::Status::ALL.iter().filter(|s| s.is_active()) {
            n += self.meta(&format!("count.urgent_unassigned.{}", s.key()))?;
        }
        Ok(n)
    }

    /// Tickets matching a queue query, in its order: one page plus whether more follow.
    pub fn query(&self, q: &TicketQuery) -> Result<(Vec<Ticket>, bool)> {
        query::run(&self.tx, q)
    }
}

/// A write transaction. Dropped without commit means nothing happened.
pub struct Write {
    tx: WriteTransaction,
    /// Tickets this transaction changed (announced after commit).
    touched: Vec<u64>,
    /// Whether it queued or rescheduled outgoing mail (announced too).
    outbox: bool,
    /// Blobs this transaction stored new, with the references it made to
    /// them: counted at commit, or dropped if nothing came to reference them.
    fresh_blobs: Vec<(String, u64)>,
    /// Blobs whose last reference this transaction released (deleted at commit if unreferenced).
    released_blobs: Vec<String>,
    /// The pack this transaction's new small blobs go into (written at commit).
    packer: packs::Appender,
    /// Keep what is appended (a pre-commit hook wants it).
    record: bool,
    appended: webhooks::Appended,
}

impl Write {
    shared_reads!();

    pub fn set_meta(&mut self, key: &str, value: u64) -> Result<()> {
        let mut t = self.tx.open_table(META)?;
        t.insert(key, value)?;
        Ok(())
    }

    fn bump(&mut self, key: &str, delta: i64) -> Result<u64> {
        let v = (self.meta(key)? as i64 + delta).max(0) as u64;
        self.set_meta(key, v)?;
        Ok(v)
    }

    /// Takes the next number of a counter (starting at 1); never reused.
    pub fn next_id(&mut self, counter: &str) -> Result<u64> {
        let key = format!("next.{counter}");
        let v = self.meta(&key)?.max(1);
        self.set_meta(&key, v + 1)?;
        Ok(v)
    }

    /// Stores a ticket and keeps every index and counter in step with it.
    pub fn put_ticket(&mut self, old: Option<&Ticket>, new: &Ticket) -> Result<()> {
        self.touched.push(new.id.0);
        if self.record && old.is_none() {
            self.appended.created.push(new.id);
        }
        if old.is_some() && self.trashed_at(new.id)?.is_some() {
            // In Trash: out of every index and counter until restored; when
            // it entered its status stays true (the queue reads it).
            self.tx.open_table(TICKETS)?.insert(new.id.0, codec::encode_ticket(new).as_slice())?;
            return self.track_status(old, new);
        }
        if let Some(o) = old {
            self.unindex(o)?;
            self.count(o, -1)?;
        }
        {
            let mut t = self.tx.open_table(TICKETS)?;
            t.insert(new.id.0, codec::encode_ticket(new).as_slice())?;
        }
        self.index(new)?;
        self.count(new, 1)?;
        self.track_status(old, new)
    }

    /// Moves every counter a ticket is part of (sidebar counts never scan).
    pub(crate) fn count(&mut self, t: &Ticket, delta: i64) -> Result<()> {
        for key in counter_keys(t) {
            self.bump(&key, delta)?;
        }
        Ok(())
    }

    pub(crate) fn index(&mut self, t: &Ticket) -> Result<()> {
        let u = t.updated_at.0;
        self.tx.open_table(IDX_UPDATED)?.insert((u, t.id.0), ())?;
        self.tx.open_table(IDX_STATUS)?.insert((t.status.index(), u, t.id.0), ())?;
        self.tx.open_table(IDX_PRIORITY)?.insert((t.priority.index(), u, t.id.0), ())?;
        self.tx.open_table(IDX_ASSIGNEE)?.insert((t.assignee.map_or(0, |a| a.0), u, t.id.0), ())?;
        self.index_assigned(t, true)?;
        self.tx.open_table(IDX_REQUESTER)?.insert((t.requester.0, u, t.id.0), ())?;
        self.tx.open_table(IDX_DEPARTMENT)?.insert((t.department.as_str(), u, t.id.0), ())?;
        if let Some(team) = &t.team {
            self.tx.open_table(IDX_TEAM)?.insert((team.as_str(), u, t.id.0), ())?;
        }
        Ok(())
    }

    fn unindex(&mut self, t: &Ticket) -> Result<()> {
        let u = t.updated_at.0;
        self.tx.open_table(IDX_UPDATED)?.remove((u, t.id.0))?;
        self.tx.open_table(IDX_STATUS)?.remove((t.status.index(), u, t.id.0))?;
        self.tx.open_table(IDX_PRIORITY)?.remove((t.priority.index(), u, t.id.0))?;
        self.tx.open_table(IDX_ASSIGNEE)?.remove((t.assignee.map_or(0, |a| a.0), u, t.id.0))?;
        self.index_assigned(t, false)?;
        self.tx.open_table(IDX_REQUESTER)?.remove((t.requester.0, u, t.id.0))?;
        self.tx.open_table(IDX_DEPARTMENT)?.remove((t.department.as_str(), u, t.id.0))?;
        if let Some(team) = &t.team {
            self.tx.open_table(IDX_TEAM)?.remove((team.as_str(), u, t.id.0))?;
        }
        Ok(())
    }

    /// Appends an entry to a ticket's thread; returns its sequence number.
    pub fn append_entry(&mut self, entry: &mut ThreadEntry) -> Result<u32> {
        self.touched.push(entry.ticket.0);
        let mut t = self.tx.open_table(ENTRIES)?;
        let last = t.range((entry.ticket.0, 0)..=(entry.ticket.0, u32::MAX))?.next_back().transpose()?.map(|(k, _)| k.value().1);
        let seq = last.map(|s| s + 1).unwrap_or(1);
        entry.seq = seq;
        t.insert((entry.ticket.0, seq), codec::encode(entry).as_slice())?;
        drop(t);
        if self.record {
            self.appended.entries.push(entry.clone());
        }
        for a in &entry.attachments {
            self.hold_blob(&a.blob)?;
        }
        Ok(seq)
    }

    pub fn put_person(&mut self, p: &Person) -> Result<()> {
        if let Some(old) = self.person(p.id)? {
            if old.email != p.email {
                self.tx.open_table(PEOPLE_BY_EMAIL)?.remove(old.email.as_str())?;
            }
            if old.email != p.email || old.name != p.name {
                // Their tickets are found by name and address: reindex them.
                let ids = self.requester_ticket_ids(p.id)?;
                self.touched.extend(ids.into_iter().map(|i| i.0));
            }
        }
        self.tx.open_table(PEOPLE)?.insert(p.id.0, codec::encode_person(p).as_slice())?;
        self.tx.open_table(PEOPLE_BY_EMAIL)?.insert(p.email.as_str(), p.id.0)?;
        let mut staff = self.tx.open_table(STAFF)?;
        if p.role.is_staff() {
            staff.insert(p.id.0, ())?;
        } else {
            staff.remove(p.id.0)?;
        }
        Ok(())
    }

    pub fn put_session(&mut self, token: &str, s: &Session) -> Result<()> {
        self.tx.open_table(SESSIONS)?.insert(sha256_hex(token.as_bytes()).as_str(), codec::encode(s).as_slice())?;
        Ok(())
    }

    pub fn delete_session(&mut self, token: &str) -> Result<()> {
        self.tx.open_table(SESSIONS)?.remove(sha256_hex(token.as_bytes()).as_str())?;
        Ok(())
    }

    /// Removes every session of a person (deactivation, password reset).
    pub fn delete_sessions_of(&mut self, person: PersonId) -> Result<usize> {
        let person = person.0;
        self.remove_where(SESSIONS, |_, v| Ok(codec::decode::<Session>(v, "sessions")?.person == PersonId(person)))
    }

    /// Removes the rows of a (text key → record) table that `doomed` picks;
    /// returns how many.
    pub(crate) fn remove_where(
        &mut self,
        table: TableDefinition<'static, &'static str, &'static [u8]>,
        mut doomed: impl FnMut(&str, &[u8]) -> Result<bool>,
    ) -> Result<usize> {
        let mut t = self.tx.open_table(table)?;
        let mut keys = Vec::new();
        for row in t.iter()? {
            let (k, v) = row?;
            if doomed(k.value(), v.value())? {
                keys.push(k.value().to_string());
            }
        }
        for k in &keys {
            t.remove(k.as_str())?;
        }
        Ok(keys.len())
    }

    pub fn put_api_token(&mut self, token: &str, t: &ApiToken) -> Result<()> {
        self.tx.open_table(API_TOKENS)?.insert(sha256_hex(token.as_bytes()).as_str(), codec::encode_api_token(t).as_slice())?;
        Ok(())
    }

    /// A named secret, created (from `fresh`) on first use.
    pub fn key_or_insert(&mut self, name: &str, fresh: &[u8]) -> Result<Vec<u8>> {
        let mut t = self.tx.open_table(KEYS)?;
        if let Some(v) = t.get(name)? {
            return Ok(v.value().to_vec());
        }
        t.insert(name, fresh)?;
        Ok(fresh.to_vec())
    }

    pub fn set_muted(&mut self, person: PersonId, kinds: &[String]) -> Result<()> {
        let person = person.0;
        self.tx.open_table(MUTED)?.insert(person, codec::encode(&kinds.to_vec()).as_slice())?;
        Ok(())
    }

    pub fn last_ack(&self, email: &str) -> Result<Option<i64>> {
        Ok(self.tx.open_table(ACKS)?.get(email)?.map(|v| v.value()))
    }

    pub fn set_last_ack(&mut self, email: &str, at: Timestamp) -> Result<()> {
        self.tx.open_table(ACKS)?.insert(email, at.0)?;
        Ok(())
    }

    /// The Message-IDs of a ticket's conversation, oldest first.
    pub fn thread_ids(&self, ticket: TicketId) -> Result<Vec<String>> {
        let ticket = ticket.0;
        let t = self.tx.open_table(THREAD_IDS)?;
        let mut out = Vec::new();
        for row in t.range((ticket, 0)..=(ticket, u32::MAX))? {
            out.push(row?.1.value().to_string());
        }
        Ok(out)
    }

    /// Records a Message-ID in the ticket's conversation (and for threading).
    pub fn add_thread_id(&mut self, ticket: TicketId, message_id: &str) -> Result<()> {
        let ticket = ticket.0;
        if message_id.is_empty() || message_id.len() >= 1000 {
            return Ok(());
        }
        let next = {
            let t = self.tx.open_table(THREAD_IDS)?;
            let last = t.range((ticket, 0)..=(ticket, u32::MAX))?.next_back().transpose()?.map(|(k, _)| k.value().1);
            last.map(|n| n + 1).unwrap_or(0)
        };
        self.tx.open_table(THREAD_IDS)?.insert((ticket, next), message_id)?;
        self.put_message_id(message_id, TicketId(ticket))
    }
}
