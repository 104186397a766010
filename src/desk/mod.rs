//! The desk's commands: create a ticket, reply, note, assign, change fields, and
//! the reads behind every page. Each command checks permissions itself and runs
//! in one write transaction that changes the ticket and appends its log events,
//! so a crash never leaves half a command behind.
//!
//! Web, API, CLI and (later) mail call these; none of them touch the store.

pub mod activity;
pub mod audit;
pub mod auth;
pub mod backup;
mod bounces;
pub mod checklist;
mod commands;
pub mod contacts;
pub mod customers;
pub mod drafts;
mod fields;
pub mod health;
pub mod import;
pub mod indexer;
pub mod intake;
pub mod junk;
pub mod kb;
pub mod kb_public;
pub mod mail;
mod mentions;
pub(crate) mod notify;
pub mod orgs;
pub mod outbox;
mod patch;
pub mod people;
pub mod portal;
pub mod print;
mod print_fonts;
pub mod profile;
pub mod ratings;
pub mod recipients;
pub mod reload;
pub mod reports;
pub mod requests;
pub mod roles;
pub mod sla;
pub mod sso;
mod strangers;
pub mod templates;
pub mod timers;
pub mod timespent;
mod triggers;
pub use timespent::MAX_MINUTES;
pub mod tokens;
pub mod trust;
pub mod twofactor;
pub mod walls;
pub mod webhooks;
pub mod workflow;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::clock::SharedClock;
use crate::config::Config;
use crate::domain::roles::Permission;
use crate::domain::ticket::normalize_tags;
use crate::domain::time::Date;
use crate::domain::{
    Channel, EntryKind, Event, Person, PersonId, Priority, Role, Status, ThreadEntry, Ticket, TicketId, TicketRef, Timestamp,
};
use crate::store::{Store, StoreError, TicketQuery, Write};

/// Why a command was refused. Each maps to a clear HTTP answer.
#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    #[error("not found")]
    NotFound,
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    #[error("{field} is too large (limit {limit})")]
    TooLarge { field: &'static str, limit: String },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("wrong email or password")]
    BadCredentials,
    #[error("too many failed logins; try again in {retry_after_secs} seconds")]
    RateLimited { retry_after_secs: u64 },
    #[error("storage: {0}")]
    Store(#[from] StoreError),
}

pub type Result<T> = std::result::Result<T, DeskError>;

fn invalid(field: &'static str, message: impl Into<String>) -> DeskError {
    DeskError::Invalid { field, message: message.into() }
}

/// A new ticket as an agent enters it (web form or API).
#[derive(Debug, Clone, Default)]
pub struct NewTicket {
    pub subject: String,
    pub body: String,
    pub requester_name: String,
    pub requester_email: String,
    pub channel: Option<Channel>,
    pub priority: Option<Priority>,
    pub category: Option<String>,
    pub department: Option<String>,
    pub assignee: Option<PersonId>,
    pub due: Option<Date>,
    pub tags: Vec<String>,
    /// Mail the requester that the ticket was opened for them (`None`:
    /// `outgoing.notify_agent_ticket`).
    pub notify_requester: Option<bool>,
    /// Custom fields: name → the values sent.
    pub fields: Vec<(String, Vec<String>)>,
}

/// A reply or note as an agent composed it.
#[derive(Debug, Clone, Default)]
pub struct NewEntry {
    pub body: String,
    pub internal: bool,
    /// The status to set with it (`None`: the automatic one).
    pub status: Option<Status>,
    /// With `status`: the `[[status]]` (behaving as `status`) to show.
    pub custom_status: Option<String>,
    /// (file name, content type, bytes).
    pub files: Vec<(String, String, Vec<u8>)>,
    /// Mail a public reply to the requester and collaborators.
    pub mail: bool,
    /// Minutes of work to record with it (0: none).
    pub minutes: u32,
}

/// Field changes; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct TicketPatch {
    pub subject: Option<String>,
    pub status: Option<Status>,
    pub priority: Option<Priority>,
    pub category: Option<String>,
    pub department: Option<String>,
    /// `Some(None)` unassigns.
    pub assignee: Option<Option<PersonId>>,
    /// `Some(None)` clears the due date.
    pub due: Option<Option<Date>>,
    pub tags: Option<Vec<String>>,
    /// A `[[team]]` name; `Some(None)` takes the ticket off its team.
    pub team: Option<Option<String>>,
    /// With `status`: the `[[status]]` (behaving as `status`) to show.
    pub custom_status: Option<String>,
    /// Custom fields to set: name → the values sent (none clears it).
    pub fields: Vec<(String, Vec<String>)>,
    /// Snooze until then (the status becomes Snoozed).
    pub snooze_until: Option<Timestamp>,
}

impl TicketPatch {
    pub fn is_empty(&self) -> bool {
        self.subject.is_none()
            && self.status.is_none()
            && self.priority.is_none()
            && self.category.is_none()
            && self.department.is_none()
            && self.assignee.is_none()
            && self.due.is_none()
            && self.tags.is_none()
            && self.team.is_none()
            && self.fields.is_empty()
            && self.snooze_until.is_none()
    }
}

/// Everything the ticket page shows.
pub struct TicketView {
    pub ticket: Ticket,
    pub entries: Vec<ThreadEntry>,
    /// Everyone the page names (requester, assignee, authors).
    pub people: HashMap<PersonId, Person>,
    /// How mail entries arrived, by entry seq.
    pub mail: HashMap<u32, crate::store::MailMeta>,
    /// People CC'd on the conversation who follow the ticket.
    pub collaborators: Vec<Person>,
    /// Related tickets: (id, subject).
    pub links: Vec<(TicketId, String)>,
    /// When the ticket was moved to Trash, if it is there.
    pub trashed_at: Option<Timestamp>,
    /// Its checklist items (assignees are in `people`).
    pub checklist: Vec<crate::domain::checklist::ChecklistItem>,
    /// When it wakes up, while it is snoozed.
    pub snoozed_until: Option<Timestamp>,
    /// Time recorded with its entries: (seq, agent, minutes).
    pub time_spent: Vec<crate::store::Spell>,
    /// Its SLA, while a policy covers it.
    pub sla: Option<crate::domain::sla::SlaState>,
}

impl TicketView {
    pub fn name_of(&self, id: Option<PersonId>) -> String {
        match id.and_then(|i| self.people.get(&i)) {
            Some(p) => p.display(),
            None if id.is_none() => "System".into(),
            None => "(unknown)".into(),
        }
    }
}

/// The help desk: store, config and clock, and the commands on them.
pub struct Desk {
    /// Private to `desk/`: every other layer goes through the desk's methods.
    store: Store,
    /// The config now (replaced by `reload`); read it with `config()`.
    shared: crate::config::SharedConfig,
    pub clock: SharedClock,
    /// The mail templates of the config now (replaced with it).
    templates: std::sync::RwLock<Arc<reload::TemplateSet>>,
    limiter: Mutex<auth::LoginLimiter>,
    /// Requests left per API token (`security.api_rate_per_minute`).
    api_rates: Mutex<tokens::ApiRates>,
    /// Logins waiting for their second factor.
    pending_logins: Mutex<twofactor::PendingLogins>,
    /// Password checks running now (see `auth::ARGON2_CONCURRENCY`).
    argon2_slots: (Mutex<auth::Argon2Pool>, std::sync::Condvar),
    key_cache: std::sync::OnceLock<Vec<u8>>,
    /// The search index, once the server opened it.
    pub search: std::sync::OnceLock<Arc<crate::search::SearchIndex>>,
    /// The supervised background workers (their state shows in `/healthz`).
    pub jobs: Arc<crate::jobs::Jobs>,
    /// The sender allow-list, shared with the SMTP sessions.
    pub allow_list: Arc<junk::AllowList>,
    /// Config reloads asked for from the web, and their outcomes.
    pub reloads: reload::ReloadControl,
    /// Where lessons for the spam engine go, once a trainer runs.
    lessons: std::sync::OnceLock<tokio::sync::mpsc::Sender<(crate::domain::verdict::Lesson, String)>>,
    lessons_dropped: std::sync::atomic::AtomicUsize,
    /// Trigger actions run on each ticket this minute.
    trigger_budget: Mutex<triggers::Budget>,
    /// The running backup and the last one's outcome.
    backups: backup::Backups,
    /// Importing old mail: no notices, triggers, SLA clocks or webhooks.
    importing: std::sync::atomic::AtomicBool,
    /// How the IMAP fetchers fare.
    pub imap: intake::ImapBoard,
    /// The knowledge base's index (once the server opened it) and its views.
    pub kb: kb_public::KbState,
}

impl Desk {
    /// The store itself, for integration tests and benchmarks that set up or
    /// inspect data directly. `tests/layering.rs` keeps `src/` outside
    /// `desk/` from calling it.
    pub fn store_for_tests(&self) -> &Store {
        &self.store
    }

    /// The desk on `store`; its pre-commit hook (triggers, SLA clocks,
    /// webhooks) holds it weakly.
    pub fn new(store: Store, config: Arc<Config>, clock: SharedClock) -> Arc<Desk> {
        let templates = reload::TemplateSet::of_started(&config);
        let shared = crate::config::SharedConfig::new(config);
        let desk = Arc::new_cyclic(|me| {
            store.set_precommit(reload::precommit(me.clone()));
            Desk {
                store,
                shared,
                clock,
                templates: std::sync::RwLock::new(Arc::new(templates)),
                limiter: Mutex::new(auth::LoginLimiter::default()),
                api_rates: Mutex::new(tokens::ApiRates::default()),
                pending_logins: Mutex::new(twofactor::PendingLogins::default()),
                argon2_slots: (Mutex::new(auth::Argon2Pool::default()), std::sync::Condvar::new()),
                key_cache: std::sync::OnceLock::new(),
                search: std::sync::OnceLock::new(),
                jobs: Arc::default(),
                allow_list: Arc::default(),
                reloads: Default::default(),
                lessons: std::sync::OnceLock::new(),
                lessons_dropped: Default::default(),
                trigger_budget: Default::default(),
                backups: Default::default(),
                importing: Default::default(),
                imap: Default::default(),
                kb: Default::default(),
            }
        });
        if let Err(e) = desk.load_allow_list() {
            tracing::error!("cannot load the sender allow-list: {e}");
        }
        // Load (or create) the signing key now, outside any transaction.
        if let Err(e) = desk.signing_key() {
            tracing::error!("cannot load the signing key: {e}");
        }
        desk
    }

    /// Lessons for the spam engine go to this trainer from now on.
    pub fn set_trainer(&self, tx: tokio::sync::mpsc::Sender<(crate::domain::verdict::Lesson, String)>) {
        let _ = self.lessons.set(tx);
    }

    /// The config now: a snapshot that a reload does not change under the caller.
    pub fn config(&self) -> Arc<Config> {
        self.shared.get()
    }

    /// The handle the SMTP sessions read the config through.
    pub fn shared_config(&self) -> crate::config::SharedConfig {
        self.shared.clone()
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub fn reference(&self, id: TicketId) -> String {
        TicketRef(id.0).format(&self.config().desk.reference_prefix)
    }

    pub fn parse_reference(&self, s: &str) -> Option<TicketId> {
        TicketRef::parse(s, &self.config().desk.reference_prefix).map(|r| r.id())
    }

    /// A subject typed by an agent or given to the API: one line (CR, LF,
    /// tabs and other control characters become spaces, so an outgoing
    /// Subject header can never be split), trimmed, within the limit.
    fn check_subject(&self, s: &str) -> Result<String> {
        let one_line: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
        let s = one_line.split_whitespace().collect::<Vec<_>>().join(" ");
        if s.is_empty() {
            return Err(invalid("subject", "is required"));
        }
        let max = self.config().limits.subject_max_chars;
        if s.chars().count() > max {
            return Err(DeskError::TooLarge { field: "subject", limit: format!("{max} characters") });
        }
        Ok(s)
    }

    fn check_body(&self, field: &'static str, s: &str, required: bool) -> Result<String> {
        let body = s.replace("\r\n", "\n");
        if required && body.trim().is_empty() {
            return Err(invalid(field, "is required"));
        }
        let max = self.config().limits.body_max_bytes;
        if body.len() > max {
            return Err(DeskError::TooLarge { field, limit: format!("{max} bytes") });
        }
        Ok(body.trim_end().to_string())
    }

    fn check_tags(&self, tags: &[String]) -> Result<Vec<String>> {
        let tags = normalize_tags(tags.iter().map(|s| s.as_str()));
        if tags.len() > self.config().limits.tags_max {
            return Err(DeskError::TooLarge { field: "tags", limit: format!("{} tags", self.config().limits.tags_max) });
        }
        if let Some(t) = tags.iter().find(|t| t.chars().count() > 40) {
            return Err(invalid("tags", format!("tag {t:?} is longer than 40 characters")));
        }
        Ok(tags)
    }

    fn check_category(&self, c: &str) -> Result<String> {
        self.config().category(c).map(str::to_string).ok_or_else(|| {
            invalid(
                "category",
                crate::tr!(
                    "{value} is not a category; use one of: {list}",
                    value = format!("{c:?}"),
                    list = self.config().desk.categories.join(", ")
                ),
            )
        })
    }

    fn check_department(&self, d: &str) -> Result<String> {
        self.config().department(d).map(str::to_string).ok_or_else(|| {
            invalid("department", format!("{d:?} is not a department; use one of: {}", self.config().desk.departments.join(", ")))
        })
    }

    /// The assignee must be an active agent or admin who works in the department.
    fn check_assignee(&self, w: &Write, id: u64, department: &str) -> Result<Person> {
        match w.person(PersonId(id))?.map(|p| self.in_force(p)) {
            Some(p) if p.is_staff() && p.works_in(department) => Ok(p),
            Some(p) if p.is_staff() => Err(invalid("assignee", format!("{} does not work in {department}", p.email))),
            _ => Err(invalid("assignee", "is not an active agent")),
        }
    }

    /// Finds the requester by email or creates the contact (first contact).
    pub fn requester_in(w: &mut Write, email: &str, name: &str, now: Timestamp) -> Result<Person> {
        let email = crate::domain::people::normalize_email(email)
            .ok_or_else(|| invalid("requester", crate::tr!("{value} is not an email address", value = format!("{email:?}"))))?;
        if let Some(mut p) = w.person_by_email(&email)? {
            if p.name.trim().is_empty() && !name.trim().is_empty() {
                p.name = name.trim().to_string();
                w.put_person(&p)?;
            }
            return Ok(p);
        }
        let p = Person {
            id: PersonId(w.next_id("person")?),
            email,
            name: name.trim().chars().take(120).collect(),
            role: Role::Requester,
            password_hash: String::new(),
            active: true,
            departments: Vec::new(),
            created_at: now,
            role_name: String::new(),
            teams: Vec::new(),
        };
        w.put_person(&p)?;
        Self::join_org_by_domain(w, &p)?;
        Ok(p)
    }

    pub(crate) fn event(ticket: TicketId, actor: Option<PersonId>, event: Event, now: Timestamp) -> ThreadEntry {
        ThreadEntry {
            ticket,
            seq: 0,
            kind: EntryKind::Event,
            author: actor,
            body: String::new(),
            event: Some(event),
            attachments: Vec::new(),
            created_at: now,
        }
    }

    /// Creates a ticket on behalf of a requester (phone call, walk-in, API).
    pub fn create_ticket(&self, actor: &Person, new: NewTicket) -> Result<Ticket> {
        if !actor.is_staff() {
            return Err(DeskError::Forbidden("only agents create tickets here".into()));
        }
        self.require(actor, Permission::Create)?;
        let subject = self.check_subject(&new.subject)?;
        let body = self.check_body("body", &new.body, false)?;
        let category = self.check_category(new.category.as_deref().unwrap_or(&self.config().desk.default_category))?;
        let department = self.check_department(new.department.as_deref().unwrap_or(&self.config().desk.default_department))?;
        if !actor.works_in(&department) {
            return Err(invalid("department", crate::tr!("you do not work in {department}", department = department)));
        }
        let tags = self.check_tags(&new.tags)?;
        let now = self.now();
        self.store.write(|w| {
            let requester = Self::requester_in(w, &new.requester_email, &new.requester_name, now)?;
            if let Some(a) = new.assignee {
                if a != actor.id {
                    self.require(actor, Permission::Assign)?;
                }
                self.check_assignee(w, a.0, &department)?;
            }
            let channel = new.channel.unwrap_or(Channel::Phone);
            let mut t = Ticket {
                id: TicketId(w.next_id("ticket")?),
                subject,
                requester: requester.id,
                channel,
                status: Status::Open,
                priority: new.priority.unwrap_or_else(|| self.config().default_priority()),
                category,
                department,
                assignee: new.assignee,
                due: new.due,
                tags,
                created_at: now,
                updated_at: now,
                team: None,
                custom_status: None,
                mailbox: None,
                fields: Vec::new(),
            };
            self.apply_fields(&mut t, &new.fields)?;
            w.put_ticket(None, &t)?;
            w.append_entry(&mut Self::event(t.id, Some(actor.id), Event::Created { channel: channel.label().into() }, now))?;
            if !body.trim().is_empty() {
                let mut first = ThreadEntry {
                    ticket: t.id,
                    seq: 0,
                    kind: EntryKind::Reply,
                    author: Some(requester.id),
                    body,
                    event: None,
                    attachments: Vec::new(),
                    created_at: now,
                };
                w.append_entry(&mut first)?;
            }
            if let Some(a) = t.assignee {
                let name = w.person(a)?.map(|p| p.display());
                w.append_entry(&mut Self::event(t.id, Some(actor.id), Event::Assigned { from: None, to: name }, now))?;
            }
            self.notify(w, &t, Some(actor), notify::Notice::NewTicket { ack: false }, now)?;
            if new.notify_requester.unwrap_or(self.config().outgoing.notify_agent_ticket) {
                self.notify(w, &t, Some(actor), notify::Notice::AgentTicket, now)?;
            }
            if let Some(a) = t.assignee {
                self.notify(w, &t, Some(actor), notify::Notice::Assigned { to: a.0 }, now)?;
            }
            Ok(t)
        })
    }

    /// Loads a ticket the actor may see; `NotFound` otherwise (no hint it exists).
    fn visible(&self, actor: &Person, w: &Write, id: TicketId) -> Result<Ticket> {
        let t = self.visible_any(actor, w, id)?;
        if w.trashed_at(id)?.is_some() {
            return Err(DeskError::Conflict(crate::tr!(
                "{ticket} is in Trash; an admin must restore it before it can change",
                ticket = self.reference(id)
            )));
        }
        Ok(t)
    }

    /// Like `visible`, also for a ticket in Trash (restoring it).
    fn visible_any(&self, actor: &Person, w: &Write, id: TicketId) -> Result<Ticket> {
        match w.ticket(id)? {
            Some(t) if actor.can_see(&t) => Ok(t),
            _ => Err(DeskError::NotFound),
        }
    }

    /// An agent's public reply or internal note, with an optional status change.
    pub fn add_entry(&self, actor: &Person, id: TicketId, body: &str, internal: bool, status: Option<Status>) -> Result<ThreadEntry> {
        self.add_entry_with(actor, id, body, internal, status, Vec::new())
    }

    /// `add_entry` with files the agent attached: (file name, content type, bytes).
    pub fn add_entry_with(
        &self,
        actor: &Person,
        id: TicketId,
        body: &str,
        internal: bool,
        status: Option<Status>,
        files: Vec<(String, String, Vec<u8>)>,
    ) -> Result<ThreadEntry> {
        self.post_entry(
            actor,
            id,
            NewEntry { body: body.to_string(), internal, status, custom_status: None, files, mail: true, minutes: 0 },
        )
    }

    /// An agent's reply or note as composed; a public reply with `mail`
    /// off is shown on the requester's page but mailed to nobody (logged).
    pub fn post_entry(&self, actor: &Person, id: TicketId, e: NewEntry) -> Result<ThreadEntry> {
        let NewEntry { body, internal, status, custom_status, files, mail, minutes } = e;
        if minutes > MAX_MINUTES {
            return Err(invalid("time_spent", crate::tr!("at most {max} minutes", max = MAX_MINUTES)));
        }
        if status == Some(Status::Snoozed) {
            return Err(invalid("status", "snooze a ticket from its side panel (or the API's snooze_until), with a time"));
        }
        let custom_status = match (custom_status, status) {
            (Some(c), Some(base)) => match self.config().custom_status(&c).filter(|c| c.base() == base) {
                Some(c) => Some(c.name.clone()),
                None => return Err(invalid("status", crate::tr!("{value} is not a status of the desk", value = format!("{c:?}")))),
            },
            _ => None,
        };
        let body = body.as_str();
        self.require(actor, if internal { Permission::Note } else { Permission::Reply })?;
        // Choosing the status with a reply or note is a change of its own.
        if status.is_some() {
            self.require(actor, Permission::Edit)?;
        }
        let body = self.check_body("body", body, files.is_empty())?;
        let body = if internal { body } else { self.signed(actor, body)? };
        self.check_files(&files)?;
        let now = self.now();
        self.store.write(|w| {
            let old = self.visible(actor, w, id)?;
            w.delete_draft(actor.id, id)?;
            if old.is_closed() {
                return Err(DeskError::Conflict(crate::tr!(
                    "{ticket} is closed; an admin must reopen it before anyone can write to it",
                    ticket = self.reference(id)
                )));
            }
            let new_status = if internal { status.unwrap_or(old.status) } else { self.config().reply_status(old.status, status) };
            if new_status != old.status {
                old.status
                    .check_transition(new_status, self.may(actor, Permission::Reopen))
                    .map_err(|e| invalid("status", e.to_string()))?;
            }
            let attachments = portal::stored_files(w, &files)?;
            let mut entry = ThreadEntry {
                ticket: id,
                seq: 0,
                kind: if internal { EntryKind::Note } else { EntryKind::Reply },
                author: Some(actor.id),
                body,
                event: None,
                attachments,
                created_at: now,
            };
            w.append_entry(&mut entry)?;
            if minutes > 0 {
                w.record_time(id, entry.seq, actor.id, minutes)?;
            }
            if internal {
                self.mention_in(w, &old, &entry, actor, now)?;
            }
            let mut t = old.clone();
            t.updated_at = now;
            let (from, to) = (self.config().status_name(&old), self.config().shown_status(new_status, custom_status.as_deref()));
            if new_status != old.status || from != to {
                t.status = new_status;
                t.custom_status = custom_status;
                self.check_required_fields(old.status, &t)?;
                w.append_entry(&mut Self::event(id, Some(actor.id), Event::StatusChanged { from, to }, now))?;
            }
            w.put_ticket(Some(&old), &t)?;
            if internal || mail {
                let notice = if internal { notify::Notice::Note { entry: &entry } } else { notify::Notice::Reply { entry: &entry } };
                self.notify(w, &t, Some(actor), notice, now)?;
            } else {
                w.append_entry(&mut Self::event(id, Some(actor.id), Event::ReplyNotMailed, now))?;
            }
            if internal && t.status == Status::Resolved && old.status != Status::Resolved {
                self.notify(w, &t, Some(actor), notify::Notice::Resolved, now)?;
            }
            if internal && t.status == Status::Closed && old.status != Status::Resolved {
                self.notify(w, &t, Some(actor), notify::Notice::Closed, now)?;
            }
            Ok(entry)
        })
    }

    /// The ticket page: ticket, thread and the people it names.
    pub fn ticket_view(&self, actor: &Person, id: TicketId) -> Result<TicketView> {
        let r = self.store.read()?;
        let ticket = match r.ticket(id)? {
            Some(t) if actor.can_see(&t) => t,
            _ => return Err(DeskError::NotFound),
        };
        let entries = r.entries(id)?;
        let checklist = r.checklist(id)?;
        let mut people = HashMap::new();
        let ids = entries
            .iter()
            .filter_map(|e| e.author)
            .chain([ticket.requester])
            .chain(ticket.assignee)
            .chain(checklist.iter().filter_map(|i| i.assignee));
        for pid in ids {
            if let std::collections::hash_map::Entry::Vacant(v) = people.entry(pid)
                && let Some(p) = r.person(pid)?
            {
                v.insert(p);
            }
        }
        let mail = r.ticket_mail(id)?.into_iter().collect();
        let mut collaborators = Vec::new();
        for pid in r.collaborators(id)? {
            if let Some(p) = r.person(pid)? {
                collaborators.push(p);
            }
        }
        let mut links = Vec::new();
        for other in r.links(id)? {
            if let Some(t) = r.ticket(other)? {
                links.push((other, t.subject));
            }
        }
        let trashed_at = r.trashed_at(id)?;
        let snoozed_until = r.snoozed_until(id)?;
        let time_spent = r.time_spent(id)?;
        let sla = r.clocks(id)?.and_then(|c| c.sla);
        for (_, who, _) in &time_spent {
            if let std::collections::hash_map::Entry::Vacant(v) = people.entry(*who)
                && let Some(p) = r.person(*who)?
            {
                v.insert(p);
            }
        }
        Ok(TicketView { ticket, entries, people, mail, collaborators, links, trashed_at, checklist, snoozed_until, time_spent, sla })
    }

    /// One attachment of an entry the actor may see: its description and bytes.
    pub fn attachment(
        &self,
        actor: &Person,
        ticket: TicketId,
        seq: u32,
        idx: usize,
    ) -> Result<(crate::domain::thread::AttachmentRef, Vec<u8>)> {
        let v = self.ticket_view(actor, ticket)?;
        let a = v.entries.iter().find(|e| e.seq == seq).and_then(|e| e.attachments.get(idx)).cloned().ok_or(DeskError::NotFound)?;
        let data = self.store.read()?.blob(&a.blob)?.ok_or(DeskError::NotFound)?;
        Ok((a, data))
    }

    /// The mail metadata of an entry the actor may see.
    pub fn entry_mail(&self, actor: &Person, ticket: TicketId, seq: u32) -> Result<crate::store::MailMeta> {
        let r = self.store.read()?;
        match r.ticket(ticket)? {
            Some(t) if actor.can_see(&t) => {}
            _ => return Err(DeskError::NotFound),
        }
        r.entry_mail(ticket, seq)?.ok_or(DeskError::NotFound)
    }

    /// A blob by id (the caller has checked access through its owner).
    pub fn blob(&self, id: &str) -> Result<Vec<u8>> {
        self.store.read()?.blob(id)?.ok_or(DeskError::NotFound)
    }

    /// Junk mail, newest first (staff only).
    pub fn junk(&self, actor: &Person, max: usize) -> Result<Vec<crate::store::JunkMail>> {
        if !actor.is_staff() {
            return Err(DeskError::NotFound);
        }
        // A limited agent's page is filled from a little further back when
        // others' junk is skipped (bounded: Junk can hold a lot of spam).
        let all = self.store.read()?.junk(if Self::walls(actor).is_some() { max.saturating_mul(4) } else { max })?;
        Ok(all.into_iter().filter(|j| self.may_see_junk(actor, j)).take(max).collect())
    }

    pub fn junk_item(&self, actor: &Person, id: crate::domain::JunkId) -> Result<crate::store::JunkMail> {
        if !actor.is_staff() {
            return Err(DeskError::NotFound);
        }
        self.store.read()?.junk_item(id)?.filter(|j| self.may_see_junk(actor, j)).ok_or(DeskError::NotFound)
    }

    /// A queue page the actor may see, plus the people it names.
    pub fn queue(&self, actor: &Person, mut q: TicketQuery) -> Result<(Vec<Ticket>, bool, HashMap<PersonId, Person>)> {
        if !actor.is_staff() {
            return Err(DeskError::NotFound);
        }
        if !actor.is_admin() && !actor.departments.is_empty() {
            q.visible_departments = Some(actor.departments.clone());
        }
        let r = self.store.read()?;
        let (tickets, more) = r.query(&q)?;
        let people = workflow::named_people(&r, &tickets)?;
        Ok((tickets, more, people))
    }

    /// Per-status counts for the sidebar.
    pub fn status_counts(&self) -> Result<Vec<(Status, u64)>> {
        let r = self.store.read()?;
        Status::ALL.iter().map(|&s| Ok((s, r.status_count(s)?))).collect()
    }

    /// A person by id (requester page); staff only.
    pub fn person(&self, actor: &Person, id: PersonId) -> Result<Person> {
        if !actor.is_staff() {
            return Err(DeskError::NotFound);
        }
        let r = self.store.read()?;
        let p = r.person(id)?.ok_or(DeskError::NotFound)?;
        if !Self::may_see_person(&r, actor, &p)? {
            return Err(DeskError::NotFound);
        }
        Ok(p)
    }

    /// The requester directory: people matching `q` (staff only).
    pub fn search_people(&self, actor: &Person, q: &str) -> Result<Vec<Person>> {
        if !actor.is_staff() {
            return Err(DeskError::NotFound);
        }
        let r = self.store.read()?;
        let found = r.search_people(q, if Self::walls(actor).is_some() { 1000 } else { 100 })?;
        let mut out = Vec::new();
        for p in found {
            if out.len() < 100 && Self::may_see_person(&r, actor, &p)? {
                out.push(p);
            }
        }
        Ok(out)
    }

    /// Active agents and admins, for assignee pickers.
    pub fn agents(&self) -> Result<Vec<Person>> {
        Ok(self.store.read()?.staff()?.into_iter().filter(|p| p.active).collect())
    }

    /// Every agent and admin, deactivated ones too (the admin's agents page).
    pub fn staff(&self, actor: &Person) -> Result<Vec<Person>> {
        if !actor.is_admin() {
            return Err(DeskError::NotFound);
        }
        Ok(self.store.read()?.staff()?)
    }

    pub fn agent_by_email(&self, email: &str) -> Result<Option<Person>> {
        let email = email.trim().to_lowercase();
        Ok(self.store.read()?.person_by_email(&email)?.filter(|p| p.role.is_staff()))
    }
}
