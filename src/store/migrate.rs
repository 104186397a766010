//! Schema migrations, run at start before anything else touches the store.
//!
//! Schema 1: tickets without due date and tags; no priority index.
//! Schema 2: tickets carry `due` and `tags` (record version 2); `idx_priority`;
//! `staff` (ids of agents and admins).
//! Schema 3: per-assignee and urgent-unassigned counters; workflow tables
//! (index queue, merged, links, Trash, saved searches, jobs).
//! Schema 4: Message-IDs keep their case.
//! Schema 5: the spool of accepted mail lives in `spool.redb` (`store::spool`);
//! the main database keeps the done marks (`spool_done`).
//! Schema 6: records and blobs may be stored lz4-compressed (`store::codec`,
//! `store::compress`); what older schemas wrote is converted after the
//! migration, resumably (`store::recompress`).
//! Schema 7–9: records gain fields in new record versions read alongside
//! the old (`store::codec`): mail details (7), API tokens (8), people's
//! role names and teams and tickets' team (9), tickets' custom status and
//! mailbox (10).
//! Schema 11: the report facts of every ticket (`store::reports`).
//! Schema 12: the tickets each person is a collaborator on.
//! Schema 13: zstd instead of lz4, tickets without their description
//! (record version 5); existing data converted as for schema 6.
//! A newer binary migrates an older data directory in one transaction; a data
//! directory from a newer binary is refused rather than misread.

use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata};
use serde::{Deserialize, Serialize};

use super::{META, Result, SCHEMA_VERSION, StoreError, TICKETS, codec};
use crate::domain::{Channel, PersonId, Priority, Status, Ticket, TicketId, Timestamp};

/// A ticket as schema 1 stored it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TicketV1 {
    pub id: u64,
    pub subject: String,
    pub description: String,
    pub requester: u64,
    pub channel: Channel,
    pub status: Status,
    pub priority: Priority,
    pub category: String,
    pub department: String,
    pub assignee: Option<u64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Mail details as versions before 2 wrote them (no authentication results).
#[derive(serde::Deserialize)]
pub struct MailMetaV1 {
    pub from: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub subject: String,
    pub message_id: String,
    pub raw_blob: String,
    pub html_blob: Option<String>,
    pub full_text: Option<String>,
    pub cids: Vec<(String, usize)>,
    pub forwarded_by: Option<String>,
}

impl MailMetaV1 {
    pub fn upgrade(self) -> super::MailMeta {
        super::MailMeta {
            from: self.from,
            to: self.to,
            cc: self.cc,
            subject: self.subject,
            message_id: self.message_id,
            raw_blob: self.raw_blob,
            html_blob: self.html_blob,
            full_text: self.full_text,
            cids: self.cids,
            forwarded_by: self.forwarded_by,
            auth: None,
        }
    }
}

/// A person as schema 8 and before kept them (no role name, no teams).
#[derive(Deserialize)]
pub struct PersonV1 {
    id: PersonId,
    email: String,
    name: String,
    role: crate::domain::Role,
    password_hash: String,
    active: bool,
    departments: Vec<String>,
    created_at: crate::domain::Timestamp,
}

impl PersonV1 {
    /// An older agent keeps the access they had: the `agent` role, no team.
    pub fn upgrade(self) -> crate::domain::Person {
        crate::domain::Person {
            id: self.id,
            email: self.email,
            name: self.name,
            role: self.role,
            password_hash: self.password_hash,
            active: self.active,
            departments: self.departments,
            created_at: self.created_at,
            role_name: String::new(),
            teams: Vec::new(),
        }
    }
}

/// An API token as schema 7 and before kept it.
#[derive(Deserialize)]
pub struct ApiTokenV1 {
    person: crate::domain::PersonId,
    name: String,
    created_at: crate::domain::Timestamp,
}

impl ApiTokenV1 {
    /// An older token keeps the access it had: every scope (its agent's
    /// role still limits it), no expiry, any address.
    pub fn upgrade(self) -> super::ApiToken {
        super::ApiToken {
            person: self.person,
            name: self.name,
            created_at: self.created_at,
            scopes: crate::domain::access::Scope::ALL.to_vec(),
            expires_at: None,
            allowed_ips: Vec::new(),
            last_used: None,
        }
    }
}

impl TicketV1 {
    pub fn upgrade(self) -> Ticket {
        Ticket {
            id: TicketId(self.id),
            subject: self.subject,
            requester: PersonId(self.requester),
            channel: self.channel,
            status: self.status,
            priority: self.priority,
            category: self.category,
            department: self.department,
            assignee: self.assignee.map(PersonId),
            due: None,
            tags: Vec::new(),
            created_at: self.created_at,
            updated_at: self.updated_at,
            team: None,
            custom_status: None,
            mailbox: None,
            fields: Vec::new(),
        }
    }
}

/// A ticket as schema 2 to 8 stored it (record version 2: no team).
#[derive(Deserialize)]
pub struct TicketV2 {
    id: TicketId,
    subject: String,
    /// Schema 13 keeps no description (the thread's first entry holds it).
    _description: String,
    requester: PersonId,
    channel: Channel,
    status: Status,
    priority: Priority,
    category: String,
    department: String,
    assignee: Option<PersonId>,
    due: Option<crate::domain::time::Date>,
    tags: Vec<String>,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl TicketV2 {
    pub fn upgrade(self) -> Ticket {
        Ticket {
            id: self.id,
            subject: self.subject,
            requester: self.requester,
            channel: self.channel,
            status: self.status,
            priority: self.priority,
            category: self.category,
            department: self.department,
            assignee: self.assignee,
            due: self.due,
            tags: self.tags,
            created_at: self.created_at,
            updated_at: self.updated_at,
            team: None,
            custom_status: None,
            mailbox: None,
            fields: Vec::new(),
        }
    }
}

/// A ticket as schema 9 stored it (record version 3): version 2's fields,
/// then the team (postcard writes a nested struct as its fields in order,
/// so this reads the same bytes as the flat record); no custom status,
/// mailbox or custom fields.
#[derive(Deserialize)]
pub struct TicketV3 {
    v2: TicketV2,
    team: Option<String>,
}

impl TicketV3 {
    pub fn upgrade(self) -> Ticket {
        Ticket { team: self.team, ..self.v2.upgrade() }
    }
}

/// A ticket as schemas 10 to 12 stored it (record version 4: with the
/// description schema 13 no longer keeps).
#[derive(Deserialize)]
pub struct TicketV4 {
    v3: TicketV3,
    custom_status: Option<String>,
    mailbox: Option<String>,
    fields: Vec<(String, String)>,
}

impl TicketV4 {
    pub fn upgrade(self) -> Ticket {
        Ticket { custom_status: self.custom_status, mailbox: self.mailbox, fields: self.fields, ..self.v3.upgrade() }
    }
}

/// What each schema brought (`frontdesk migrate --dry-run` lists the steps a
/// data directory would take).
const STEPS: [(u64, &str); 15] = [
    (1, "tickets, thread entries, people"),
    (2, "tickets carry due dates and tags; the priority index; the staff list"),
    (3, "per-assignee and urgent-unassigned counters; index queue, merges, links, Trash, saved searches, bulk jobs"),
    (4, "Message-IDs keep their case (the thread index is rewritten)"),
    (5, "the spool of accepted mail moves to spool.redb"),
    (6, "records and blobs stored lz4-compressed (existing data converted after the migration, resumably)"),
    (7, "mail details gain authentication results; bounce tables"),
    (8, "API tokens gain scopes, expiry, address lists, last use; the audit log"),
    (9, "people gain role names and teams, tickets a team; the team index"),
    (10, "tickets gain custom status, mailbox and fields; the index of when each ticket entered its status"),
    (11, "the report facts of every ticket (created, first response, resolved, SLA outcome), filled from the threads"),
    (12, "the tickets each person is a collaborator on (an index, for the customers' lists)"),
    (
        13,
        "records and blobs stored zstd-compressed, tickets without a second copy of their first message (existing data converted after the migration, resumably)",
    ),
    (14, "redb 5's file format: tables of tuples with text re-encoded, half-empty pages packed (converted when the file is opened)"),
    (
        15,
        "a mail's thread entry and details stored compressed against its raw source (existing mail converted after the migration, resumably); an index of each agent's open assigned tickets",
    ),
];

const _: () = assert!(STEPS[STEPS.len() - 1].0 == SCHEMA_VERSION, "describe the new schema in STEPS");

/// What opening a data directory with this binary would do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The schema found (`None`: a new, empty directory).
    pub found: Option<u64>,
    pub target: u64,
    /// The steps, oldest first: (schema, what it changes).
    pub steps: Vec<(u64, &'static str)>,
    pub tickets: u64,
    /// Whether older records still wait to be compressed.
    pub recompress_pending: bool,
}

/// The migration `run` would make, read without changing anything; a
/// directory from a newer binary is refused as `run` refuses it.
pub fn plan(db: &impl ReadableDatabase) -> Result<Plan> {
    let tx = db.begin_read()?;
    let meta = match tx.open_table(META) {
        Ok(t) => Some(t),
        Err(redb::TableError::TableDoesNotExist(_)) => None,
        Err(e) => return Err(e.into()),
    };
    let found = match &meta {
        Some(m) => found_schema(m)?,
        None => None,
    };
    let pending = match &meta {
        Some(m) => m.get(super::recompress::PENDING)?.is_some_and(|v| v.value() != 0),
        None => false,
    };
    let tickets = match tx.open_table(TICKETS) {
        Ok(t) => t.len()?,
        Err(redb::TableError::TableDoesNotExist(_)) => 0,
        Err(e) => return Err(e.into()),
    };
    plan_of(found, pending, tickets)
}

/// The schema the data is at: what a file format upgrade found (it marks the
/// file with the schema that brought it, so an older release refuses it), or
/// else what `meta` says.
fn found_schema(meta: &impl ReadableTable<&'static str, u64>) -> Result<Option<u64>> {
    Ok(match meta.get(super::fileformat::FOUND)? {
        Some(v) => Some(v.value()),
        None => meta.get("schema_version")?.map(|v| v.value()),
    })
}

/// The plan for a directory at schema `found` holding `tickets` tickets.
pub(super) fn plan_of(found: Option<u64>, pending: bool, tickets: u64) -> Result<Plan> {
    if let Some(v) = found.filter(|v| *v > SCHEMA_VERSION) {
        return Err(StoreError::TooNew { found: v, known: SCHEMA_VERSION });
    }
    let from = match found {
        Some(v) => v,
        None if tickets == 0 => SCHEMA_VERSION,
        None => 1,
    };
    let steps = STEPS.iter().filter(|(v, _)| *v > from && *v <= SCHEMA_VERSION).copied().collect();
    Ok(Plan { found: found.or((tickets > 0).then_some(1)), target: SCHEMA_VERSION, steps, tickets, recompress_pending: pending })
}

/// `plan` for the data directory `dir` (the server must be stopped: the
/// database belongs to one process).
pub fn plan_at(dir: &std::path::Path) -> Result<Plan> {
    let path = dir.join(super::DB_FILE);
    if !path.exists() {
        return Ok(Plan { found: None, target: SCHEMA_VERSION, steps: Vec::new(), tickets: 0, recompress_pending: false });
    }
    // Read-only first: nothing is written, not even redb's own bookkeeping.
    if let Ok(db) = redb::ReadOnlyDatabase::open(&path) {
        return plan(&db);
    }
    // A file that needs repair (not closed cleanly), or of redb 2.
    match Database::open(&path) {
        Ok(db) => plan(&db),
        Err(redb::DatabaseError::UpgradeRequired(2)) => super::fileformat::plan_v2(&path),
        Err(redb::DatabaseError::DatabaseAlreadyOpen) => Err(StoreError::Locked(path.display().to_string())),
        Err(e) => Err(e.into()),
    }
}

/// Refuses a data directory a newer release wrote before it is opened for
/// writing (which would change the file even to say no). Anything the
/// read-only look cannot open is left to the real open.
pub(super) fn refuse_newer(dir: &std::path::Path) -> Result<()> {
    let Ok(db) = redb::ReadOnlyDatabase::open(dir.join(super::DB_FILE)) else { return Ok(()) };
    match plan(&db) {
        Err(e @ StoreError::TooNew { .. }) => Err(e),
        _ => Ok(()),
    }
}

/// Brings the database to `SCHEMA_VERSION`.
pub fn run(db: &Database) -> Result<()> {
    let tx = db.begin_write()?;
    let found = { found_schema(&tx.open_table(META)?)? };
    let fresh = {
        let t = tx.open_table(TICKETS)?;
        t.is_empty()?
    };
    match found {
        Some(v) if v > SCHEMA_VERSION => return Err(StoreError::TooNew { found: v, known: SCHEMA_VERSION }),
        Some(v) if v == SCHEMA_VERSION => {}
        None if fresh => {
            // A new data directory: nothing to migrate.
        }
        Some(14) => {
            // Schema 15: mail entries and details stored against their raw
            // source (read alongside the older forms); existing mail is
            // converted after this transaction (`store::sourced`).
            tracing::info!("migrating data directory from schema 14 to {SCHEMA_VERSION}");
        }
        Some(13) => {
            // Schema 14: redb 5. The file was converted when it was opened
            // (`store::fileformat`); its pages are packed after this.
            tracing::info!("migrating data directory from schema 13 to {SCHEMA_VERSION}");
        }
        Some(12) => {
            // Schema 13: zstd, tickets without their description (record
            // version 5, read alongside the older ones); existing data is
            // converted after this transaction (`store::recompress`).
            tracing::info!("migrating data directory from schema 12 to {SCHEMA_VERSION}");
        }
        Some(11) => {
            // Schema 12: the collaborators' index (filled below).
            tracing::info!("migrating data directory from schema 11 to {SCHEMA_VERSION}");
        }
        Some(10) => {
            // Schema 11: the report facts (filled below).
            tracing::info!("migrating data directory from schema 10 to {SCHEMA_VERSION}");
        }
        Some(9) => {
            // Schema 10: tickets gain their custom status, mailbox and custom
            // fields (record version 4, read alongside the older ones); when
            // each entered its status is indexed (below).
            tracing::info!("migrating data directory from schema 9 to {SCHEMA_VERSION}");
        }
        Some(8) => {
            // Schema 9: people gain a role name and teams, tickets a team
            // (new record versions, read alongside the old); the team index
            // (created below).
            tracing::info!("migrating data directory from schema 8 to {SCHEMA_VERSION}");
        }
        Some(7) => {
            // Schema 8: API tokens gain scopes, expiry, an address allow-list
            // and their last use (a new record version, read alongside the
            // old); the audit log table (created below).
            tracing::info!("migrating data directory from schema 7 to {SCHEMA_VERSION}");
        }
        Some(6) => {
            // Schema 7: mail details gain their authentication results (a new
            // record version, read alongside the old) and the bounce tables
            // (created below); an older binary must refuse the directory.
            tracing::info!("migrating data directory from schema 6 to {SCHEMA_VERSION}");
        }
        Some(5) => {
            tracing::info!("migrating data directory from schema 5 to {SCHEMA_VERSION}");
        }
        Some(4) => {
            // Schema 5 keeps the spool in its own file (`store::spool`), which
            // takes over what is left in the old table when it opens.
            tracing::info!("migrating data directory from schema 4 to {SCHEMA_VERSION}");
        }
        Some(3) => {
            tracing::info!("migrating data directory from schema 3 to {SCHEMA_VERSION}");
            v3_to_v4(&tx)?;
        }
        Some(2) => {
            tracing::info!("migrating data directory from schema 2 to {SCHEMA_VERSION}");
            v2_to_v3(&tx)?;
            v3_to_v4(&tx)?;
        }
        Some(1) | None => {
            tracing::info!("migrating data directory from schema 1 to {SCHEMA_VERSION}");
            v1_to_v2(&tx)?;
            v2_to_v3(&tx)?;
            v3_to_v4(&tx)?;
        }
        Some(v) => return Err(StoreError::Corrupt { table: "meta", detail: format!("unknown schema version {v}") }),
    }
    {
        let mut meta = tx.open_table(META)?;
        // Data written before schema 13 is converted after this transaction,
        // from the start of every table (the cursors of schema 6's run go);
        // blob references are counted when nothing counted them yet (data
        // from before schema 6, or its conversion never finished).
        if found.is_some_and(|v| v < 13) || (found.is_none() && !fresh) {
            let uncounted = found.is_none_or(|v| v < 6) || meta.get(super::recompress::PENDING)?.is_some();
            let cursors: Vec<String> = meta
                .range(super::recompress::CURSORS..)?
                .map(|r| r.map(|(k, _)| k.value().to_string()))
                .collect::<std::result::Result<Vec<_>, _>>()?
                .into_iter()
                .take_while(|k| k.starts_with(super::recompress::CURSORS))
                .collect();
            for k in cursors {
                meta.remove(k.as_str())?;
            }
            meta.insert(super::recompress::PENDING, 1)?;
            if uncounted {
                meta.insert(super::recompress::COUNT_REFS, 1)?;
            }
        }
        // Schema 15: mail stored before it is stored against its source.
        if found.is_some_and(|v| v < 15) || (found.is_none() && !fresh) {
            meta.insert(super::sourced::PENDING, 1)?;
        }
        meta.insert("schema_version", SCHEMA_VERSION)?;
        meta.remove(super::fileformat::FOUND)?;
    }
    create_tables(&tx)?;
    // Schema 15: assigned tickets in an active status, by assignee; status
    // spells left stale in Trash set right (and, before schema 10, filled:
    // when each ticket entered its status, the time rules' index).
    if found.is_some_and(|v| v < 15) || (found.is_none() && !fresh) {
        let n = super::query::fill_assigned_active(&tx)?;
        let stale = super::timers::resync_since(&tx)?;
        tracing::info!(tickets = n, stale, "schema 15: the index of open assigned work built, status spells set right");
    }
    // Schema 12: the tickets each person is a collaborator on.
    if found.is_some_and(|v| v < 12) || (found.is_none() && !fresh) {
        let pairs: Vec<(u64, u64)> =
            tx.open_table(super::COLLABORATORS)?.iter()?.map(|r| r.map(|(k, _)| k.value())).collect::<std::result::Result<_, _>>()?;
        let mut by_person = tx.open_table(super::COLLAB_BY_PERSON)?;
        for (ticket, person) in pairs {
            by_person.insert((person, ticket), ())?;
        }
    }
    // Schema 11: the report facts of every ticket.
    let tx = if found.is_some_and(|v| v < 11) || (found.is_none() && !fresh) { super::reports::fill(tx)? } else { tx };
    tx.commit()?;
    Ok(())
}

/// Opening a table in a write transaction creates it, so read transactions
/// never meet a missing table.
fn create_tables(tx: &redb::WriteTransaction) -> Result<()> {
    use super::*;
    tx.open_table(META)?;
    tx.open_table(TICKETS)?;
    tx.open_table(timers::STATUS_SINCE)?;
    tx.open_table(timers::IDX_SINCE)?;
    tx.open_table(timers::SNOOZED)?;
    tx.open_table(timers::SNOOZE_DUE)?;
    tx.open_table(timers::REMINDED)?;
    clocks::create_tables(tx)?;
    automation::create_tables(tx)?;
    orgs::create_tables(tx)?;
    tx.open_table(timespent::TIME_SPENT)?;
    tx.open_table(timespent::TIME_TOTAL)?;
    tx.open_table(mentions::MENTIONS)?;
    tx.open_table(ENTRIES)?;
    tx.open_table(PEOPLE)?;
    tx.open_table(PEOPLE_BY_EMAIL)?;
    tx.open_table(STAFF)?;
    tx.open_table(SESSIONS)?;
    tx.open_table(API_TOKENS)?;
    tx.open_table(BLOBS)?;
    tx.open_table(BLOB_CHUNKS)?;
    tx.open_table(blobs::BLOB_REFS)?;
    tx.open_table(packs::BLOB_PACKS)?;
    tx.open_table(packs::PACK_CONTENTS)?;
    tx.open_table(bounces::BOUNCED)?;
    tx.open_table(allowed::ALLOWED)?;
    tx.open_table(audit::AUDIT)?;
    tx.open_table(twofactor::TWO_FACTOR)?;
    tx.open_table(profiles::PROFILES)?;
    tx.open_table(profiles::LANGUAGES)?;
    tx.open_table(drafts::DRAFTS)?;
    tx.open_table(seen::OPENED)?;
    tx.open_table(seen::QUEUE_COLUMNS)?;
    tx.open_table(profiles::PASSWORD_LINKS)?;
    tx.open_table(twofactor::TRUSTED_BROWSERS)?;
    tx.open_table(IDX_UPDATED)?;
    tx.open_table(IDX_STATUS)?;
    tx.open_table(IDX_PRIORITY)?;
    tx.open_table(IDX_ASSIGNEE)?;
    tx.open_table(query::IDX_ASSIGNED_ACTIVE)?;
    tx.open_table(IDX_REQUESTER)?;
    tx.open_table(IDX_DEPARTMENT)?;
    tx.open_table(super::IDX_TEAM)?;
    tx.open_table(SPOOL)?;
    tx.open_table(SPOOL_CHUNKS)?;
    tx.open_table(spool::SPOOL_DONE)?;
    tx.open_table(MESSAGE_IDS)?;
    tx.open_table(JUNK)?;
    tx.open_table(ENTRY_MAIL)?;
    tx.open_table(COLLABORATORS)?;
    tx.open_table(COLLAB_BY_PERSON)?;
    tx.open_table(super::conversation::UNSUBSCRIBED)?;
    tx.open_table(OUTBOX)?;
    tx.open_table(OUTBOX_DUE)?;
    tx.open_table(ACKS)?;
    tx.open_table(THREAD_IDS)?;
    tx.open_table(KEYS)?;
    tx.open_table(MUTED)?;
    tx.open_table(FOLLOWERS)?;
    tx.open_table(FOLLOWING)?;
    super::workflow::create_tables(tx)?;
    super::webhooks::create_tables(tx)?;
    super::checklists::create_tables(tx)?;
    super::ratings::create_tables(tx)?;
    super::kb::create_tables(tx)?;
    super::contacts::create_tables(tx)?;
    super::requests::create_tables(tx)?;
    super::reports::create_tables(tx)?;
    Ok(())
}

/// Schema 3 counts tickets per assignee and urgent-unassigned (sidebar views);
/// the search index queue, merges, links, Trash and jobs are new tables.
/// The Message-ID header of a raw message, as its sender wrote it.
fn raw_message_id(raw: &[u8]) -> Option<String> {
    let head_end = raw.windows(4).position(|w| w == b"\r\n\r\n").or_else(|| raw.windows(2).position(|w| w == b"\n\n"))?;
    let head = String::from_utf8_lossy(raw.get(..head_end)?);
    let mut lines = head.lines().peekable();
    while let Some(line) = lines.next() {
        let Some((name, value)) = line.split_once(':') else { continue };
        if !name.trim().eq_ignore_ascii_case("message-id") {
            continue;
        }
        let mut value = value.trim().to_string();
        while let Some(next) = lines.peek().filter(|l| l.starts_with([' ', '\t'])) {
            value.push_str(next.trim());
            lines.next();
        }
        let id = value.trim().trim_start_matches('<').trim_end_matches('>').trim().to_string();
        return (!id.is_empty()).then_some(id);
    }
    None
}

/// Schema 4: Message-IDs keep their case. Schema 3 stored the conversation's
/// ids lower-cased and sent them back so, which breaks threading in mutt,
/// Gmail and Outlook; each inbound mail's id is restored from its raw source.
fn v3_to_v4(tx: &redb::WriteTransaction) -> Result<()> {
    use redb::ReadableTable;

    use super::{BLOB_CHUNKS, BLOBS, ENTRY_MAIL, THREAD_IDS};
    // (ticket, lower-case id) → the id as written.
    let mut fixes: Vec<(u64, String, String, (u64, u32))> = Vec::new();
    {
        let mails = tx.open_table(ENTRY_MAIL)?;
        let (heads, chunks, packs) = (tx.open_table(BLOBS)?, tx.open_table(BLOB_CHUNKS)?, tx.open_table(super::packs::BLOB_PACKS)?);
        for row in mails.iter()? {
            let (k, v) = row?;
            let Ok(meta) = codec::decode_mail_meta(v.value()) else { continue };
            if meta.message_id.is_empty() || meta.raw_blob.is_empty() {
                continue;
            }
            let Ok(Some(raw)) = super::blobs::content(&heads, &chunks, &packs, None, &meta.raw_blob) else { continue };
            let Some(original) = raw_message_id(&raw) else { continue };
            if original != meta.message_id && original.eq_ignore_ascii_case(&meta.message_id) {
                fixes.push((k.value().0, meta.message_id.clone(), original, k.value()));
            }
        }
    }
    let mut thread = tx.open_table(THREAD_IDS)?;
    let mut mails = tx.open_table(ENTRY_MAIL)?;
    for (ticket, lower, original, key) in fixes {
        let hits: Vec<(u64, u32)> = thread
            .range((ticket, 0)..=(ticket, u32::MAX))?
            .filter_map(|r| r.ok())
            .filter(|(_, v)| v.value() == lower)
            .map(|(k, _)| k.value())
            .collect();
        for k in hits {
            thread.insert(k, original.as_str())?;
        }
        let meta = mails.get(key)?.map(|v| codec::decode_mail_meta(v.value())).transpose()?;
        if let Some(mut meta) = meta {
            meta.message_id = original.clone();
            mails.insert(key, codec::encode_mail_meta(&meta).as_slice())?;
        }
    }
    Ok(())
}

fn v2_to_v3(tx: &redb::WriteTransaction) -> Result<()> {
    let tickets = tx.open_table(TICKETS)?;
    let mut meta = tx.open_table(META)?;
    for row in tickets.iter()? {
        let (_, v) = row?;
        let t = codec::decode_ticket(v.value())?;
        for key in super::counter_keys(&t).into_iter().filter(|k| !k.starts_with("count.status.")) {
            let n = meta.get(key.as_str())?.map(|v| v.value()).unwrap_or(0);
            meta.insert(key.as_str(), n + 1)?;
        }
    }
    Ok(())
}

/// Rewrites every ticket in record version 2 and builds the priority index.
fn v1_to_v2(tx: &redb::WriteTransaction) -> Result<()> {
    let mut tickets = tx.open_table(TICKETS)?;
    let mut upgraded = Vec::new();
    for row in tickets.iter()? {
        let (_, v) = row?;
        upgraded.push(codec::decode_ticket(v.value())?);
    }
    let mut prio = tx.open_table(super::IDX_PRIORITY)?;
    for t in &upgraded {
        tickets.insert(t.id.0, codec::encode_ticket(t).as_slice())?;
        prio.insert((t.priority.index(), t.updated_at.0, t.id.0), ())?;
    }
    let people = tx.open_table(super::PEOPLE)?;
    let mut staff = tx.open_table(super::STAFF)?;
    for row in people.iter()? {
        let (_, v) = row?;
        let p = codec::decode_person(v.value())?;
        if p.role.is_staff() {
            staff.insert(p.id.0, ())?;
        }
    }
    tracing::info!(tickets = upgraded.len(), "schema 2: tickets rewritten, priority and staff indexes built");
    Ok(())
}

/// Writes a schema-1 data directory as frontdesk 0.0 did, for the migration
/// test. Not used by the product.
#[doc(hidden)]
pub fn write_v1_fixture(dir: &std::path::Path, tickets: &[TicketV1], people: &[crate::domain::Person]) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let db = Database::create(dir.join(super::DB_FILE)).map_err(StoreError::from)?;
    let tx = db.begin_write()?;
    {
        let mut meta = tx.open_table(META)?;
        meta.insert("schema_version", 1)?;
        meta.insert("next.ticket", tickets.iter().map(|t| t.id).max().unwrap_or(0) + 1)?;
        meta.insert("next.person", people.iter().map(|p| p.id.0).max().unwrap_or(0) + 1)?;
        let mut t = tx.open_table(TICKETS)?;
        let mut upd = tx.open_table(super::IDX_UPDATED)?;
        let mut st = tx.open_table(super::IDX_STATUS)?;
        let mut asg = tx.open_table(super::IDX_ASSIGNEE)?;
        let mut req = tx.open_table(super::IDX_REQUESTER)?;
        let mut dep = tx.open_table(super::IDX_DEPARTMENT)?;
        for tk in tickets {
            // Plain bytes, as schema 1 wrote them (it knew no compression).
            let mut plain = vec![codec::RECORD_V1];
            plain.extend(postcard::to_allocvec(tk).map_err(|e| StoreError::Corrupt { table: "tickets", detail: e.to_string() })?);
            t.insert(tk.id, plain.as_slice())?;
            let u = tk.updated_at.0;
            upd.insert((u, tk.id), ())?;
            st.insert((tk.status.index(), u, tk.id), ())?;
            asg.insert((tk.assignee.unwrap_or(0), u, tk.id), ())?;
            req.insert((tk.requester, u, tk.id), ())?;
            dep.insert((tk.department.as_str(), u, tk.id), ())?;
            let key = format!("count.status.{}", tk.status.key());
            let n = meta.get(key.as_str())?.map(|v| v.value()).unwrap_or(0);
            meta.insert(key.as_str(), n + 1)?;
        }
        let mut p = tx.open_table(super::PEOPLE)?;
        let mut by = tx.open_table(super::PEOPLE_BY_EMAIL)?;
        for person in people {
            // The person record as version 1 laid it out.
            let v1 = (
                person.id,
                &person.email,
                &person.name,
                person.role,
                &person.password_hash,
                person.active,
                &person.departments,
                person.created_at,
            );
            p.insert(person.id.0, codec::encode(&v1).as_slice())?;
            by.insert(person.email.as_str(), person.id.0)?;
        }
    }
    tx.commit()?;
    Ok(())
}
