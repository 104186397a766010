//! Agent workflow operations beyond single-ticket edits: search, saved
//! searches and sidebar counts, merge and link, Trash, bulk jobs.

use std::collections::HashMap;

use super::{Desk, DeskError, Result, invalid};
use crate::domain::query::{self, Parsed, SearchError};
use crate::domain::roles::Permission;
use crate::domain::{BulkAction, EntryKind, Event, JobId, Person, PersonId, Ticket, TicketId, Timestamp};

/// What the search box leads to.
pub enum SearchOutcome {
    /// The query is a ticket reference the agent may see.
    Jump(u64),
    /// A page of results.
    Results(SearchPage),
    /// The query does not parse; the message points at the bad token.
    Invalid(SearchError),
}

/// One page of search results, ready to show.
pub struct SearchPage {
    pub parsed: Parsed,
    /// Tickets with their highlighted snippet (escaped HTML).
    pub hits: Vec<(Ticket, Option<String>)>,
    pub total: usize,
    pub people: HashMap<PersonId, Person>,
    /// (done, total) while the index is being built.
    pub building: Option<(u64, u64)>,
}

impl Desk {
    fn index(&self) -> Result<&crate::search::SearchIndex> {
        self.search
            .get()
            .map(|i| i.as_ref())
            .ok_or_else(|| DeskError::Conflict("search is not available (the server opens the index at start)".into()))
    }

    /// The names of the desk's custom statuses (for the search grammar).
    fn custom_status_names(&self) -> Vec<String> {
        self.config().status.iter().map(|s| s.name.clone()).collect()
    }

    /// Parses a query for this agent (assignee:me, agent names, dates).
    pub fn parse_search(&self, actor: &Person, q: &str) -> Result<std::result::Result<Parsed, SearchError>> {
        let agents = self.store.read()?.staff()?;
        let statuses = self.custom_status_names();
        let fields: Vec<String> = self.config().field.iter().map(|f| f.name.clone()).collect();
        Ok(query::parse(q, &query::Context { me: actor.id.0, agents: &agents, now: self.now(), statuses: &statuses, fields: &fields }))
    }

    /// Runs the search box: a reference jumps, anything else searches.
    pub fn search(&self, actor: &Person, q: &str, offset: usize, limit: usize) -> Result<SearchOutcome> {
        if !actor.is_staff() {
            return Err(DeskError::NotFound);
        }
        // The index allocates for offset + limit hits up front: a deep page
        // must not be a way to exhaust memory.
        if offset > MAX_SEARCH_OFFSET || limit > 500 {
            return Err(invalid("cursor", crate::tr!("search results go {max} deep at most; narrow the search", max = MAX_SEARCH_OFFSET)));
        }
        if let Some(id) = self.parse_reference(q) {
            let r = self.store.read()?;
            let id = r.survivor(id)?;
            if r.ticket(id)?.is_some_and(|t| actor.can_see(&t)) {
                return Ok(SearchOutcome::Jump(id.0));
            }
        }
        let parsed = match self.parse_search(actor, q)? {
            Ok(p) => p,
            Err(e) => return Ok(SearchOutcome::Invalid(e)),
        };
        let index = self.index()?;
        let found = index.search(&parsed, Self::walls(actor), offset, limit).map_err(search_failed)?;
        // The index may trail the store by a moment; the store has the truth.
        let ids: Vec<TicketId> = found.hits.iter().map(|h| TicketId(h.id)).collect();
        let (tickets, people) = self.tickets_by_ids(actor, &ids)?;
        let r = self.store.read()?;
        let mut texts = Vec::with_capacity(tickets.len());
        if parsed.has_text() {
            for t in &tickets {
                let body: Vec<String> = r.entries(t.id)?.into_iter().filter(|e| e.kind != EntryKind::Event).map(|e| e.body).collect();
                texts.push(body.join("\n"));
            }
        }
        let snippets = if parsed.has_text() { index.snippets(&parsed, &texts).map_err(search_failed)? } else { vec![None; tickets.len()] };
        let hits: Vec<(Ticket, Option<String>)> = tickets.into_iter().zip(snippets).collect();
        let p = &index.progress;
        let building = p
            .building
            .load(std::sync::atomic::Ordering::SeqCst)
            .then(|| (p.done.load(std::sync::atomic::Ordering::SeqCst), p.total.load(std::sync::atomic::Ordering::SeqCst)));
        Ok(SearchOutcome::Results(SearchPage { parsed, hits, total: found.total, people, building }))
    }

    /// Every ticket id a search matches (bulk actions, exports), up to `max`.
    pub fn search_ids(&self, actor: &Person, q: &str, max: usize) -> Result<Vec<TicketId>> {
        let parsed = self.parse_search(actor, q)?.map_err(|e| invalid("q", e.message))?;
        Ok(self.index()?.all_ids(&parsed, Self::walls(actor), max).map_err(search_failed)?.into_iter().map(TicketId).collect())
    }
}

/// Most Junk or Trash entries a limited agent's sidebar looks at to count theirs.
const SIDEBAR_SCAN: usize = 500;

/// Deepest offset into ranked search results (UI pages, API cursors).
pub const MAX_SEARCH_OFFSET: usize = 10_000;

/// Deepest offset into a queue listing (UI pages, API cursors).
pub const MAX_QUEUE_OFFSET: usize = 1_000_000;

/// A sidebar entry: a saved search or shared view with its live count.
pub struct ViewLink {
    pub name: String,
    pub query: String,
    pub columns: String,
    pub count: Option<usize>,
}

/// Counts for the sidebar views; all from counters or the index, never a scan.
pub struct SidebarCounts {
    pub my_open: u64,
    pub unassigned: u64,
    pub urgent_unassigned: u64,
    pub following: u64,
    pub by_status: Vec<(crate::domain::Status, u64)>,
    pub all_open: u64,
    pub junk: u64,
    pub trash: u64,
    pub saved: Vec<ViewLink>,
    pub shared: Vec<ViewLink>,
    /// The agent's teams with their active tickets (the team queues).
    pub teams: Vec<(String, u64)>,
}

impl Desk {
    /// The agent's saved searches: (name, query, columns).
    pub fn saved_searches(&self, actor: &Person) -> Result<Vec<(String, String, String)>> {
        let raw = self.store.read()?.saved_searches(actor.id)?;
        Ok(raw
            .into_iter()
            .map(|(name, v)| match v.split_once('\u{1f}') {
                Some((q, c)) => (name, q.to_string(), c.to_string()),
                None => (name, v, String::new()),
            })
            .collect())
    }

    pub fn save_search(&self, actor: &Person, name: &str, stored: &str) -> Result<()> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 60 {
            return Err(invalid("name", "give the search a name of 1 to 60 characters"));
        }
        let q = stored.split('\u{1f}').next().unwrap_or("");
        if q.trim().is_empty() {
            return Err(invalid("q", "there is no search to save"));
        }
        if let Err(e) = self.parse_search(actor, q)? {
            return Err(invalid("q", e.message));
        }
        self.store.write(|w| w.save_search(actor.id, name, stored).map_err(DeskError::from))
    }

    pub fn delete_saved_search(&self, actor: &Person, name: &str) -> Result<()> {
        self.store.write(|w| w.delete_saved_search(actor.id, name).map_err(DeskError::from))?;
        Ok(())
    }

    /// A saved search's or view's count; `None` when search is unavailable or
    /// the query no longer parses (e.g. an agent it names left).
    fn view_count(&self, actor: &Person, cx: &query::Context, q: &str) -> Option<usize> {
        let index = self.search.get()?;
        let parsed = query::parse(q, cx).ok()?;
        index.count(&parsed, Self::walls(actor)).ok()
    }

    pub fn sidebar_counts(&self, actor: &Person) -> Result<SidebarCounts> {
        let by_status = self.status_counts()?;
        let all_open = by_status.iter().filter(|(s, _)| s.is_active()).map(|(_, n)| n).sum();
        let r = self.store.read()?;
        // One staff list for every saved search and view on the page.
        let agents = r.staff()?;
        let statuses = self.custom_status_names();
        let fields: Vec<String> = self.config().field.iter().map(|f| f.name.clone()).collect();
        let cx = query::Context { me: actor.id.0, agents: &agents, now: self.now(), statuses: &statuses, fields: &fields };
        let saved = self
            .saved_searches(actor)?
            .into_iter()
            .map(|(name, query, columns)| {
                let count = self.view_count(actor, &cx, &query);
                ViewLink { name, query, columns, count }
            })
            .collect();
        let shared = self
            .config()
            .view
            .iter()
            .map(|v| ViewLink {
                name: v.name.clone(),
                query: v.query.clone(),
                columns: v.columns.clone(),
                count: self.view_count(actor, &cx, &v.query),
            })
            .collect();
        let mut teams = Vec::new();
        for team in &actor.teams {
            let n = match Self::walls(actor) {
                None => r.active_team_count(team)?,
                Some(depts) => {
                    let statuses = crate::domain::Status::ALL.iter().copied().filter(|s| s.is_active()).collect();
                    let q = crate::store::TicketQuery {
                        team: Some(team.clone()),
                        statuses,
                        visible_departments: Some(depts.to_vec()),
                        limit: SIDEBAR_SCAN,
                        ..Default::default()
                    };
                    r.query(&q)?.0.len() as u64
                }
            };
            teams.push((team.clone(), n));
        }
        if Self::walls(actor).is_some() {
            // Counters are desk-wide; a limited agent's counts come from the
            // index, filtered by their departments like everything they see.
            let count = |q: &str| self.view_count(actor, &cx, q).unwrap_or(0) as u64;
            let by_status: Vec<(crate::domain::Status, u64)> =
                crate::domain::Status::ALL.iter().map(|&s| (s, count(&format!("status:{}", s.key())))).collect();
            let mut following = 0;
            for id in r.following(actor.id)? {
                following += u64::from(r.ticket(id)?.is_some_and(|t| actor.can_see(&t)));
            }
            return Ok(SidebarCounts {
                my_open: count("assignee:me status:active"),
                unassigned: count("assignee:none status:active"),
                urgent_unassigned: count("assignee:none priority:urgent status:active"),
                following,
                all_open: count("status:active"),
                by_status,
                // Counted over the newest entries only: this runs on every page.
                junk: self.junk(actor, SIDEBAR_SCAN)?.len() as u64,
                trash: self.trash(actor, SIDEBAR_SCAN)?.len() as u64,
                saved,
                shared,
                teams,
            });
        }
        Ok(SidebarCounts {
            my_open: r.active_count_of(Some(actor.id))?,
            unassigned: r.active_count_of(None)?,
            urgent_unassigned: r.urgent_unassigned_count()?,
            following: r.following(actor.id)?.len() as u64,
            by_status,
            all_open,
            junk: r.junk_len()?,
            trash: r.trash_len()?,
            saved,
            shared,
            teams,
        })
    }
}

impl Desk {
    /// Tickets by id that the actor may see (in the given order), with the
    /// people they name.
    pub fn tickets_by_ids(&self, actor: &Person, ids: &[TicketId]) -> Result<(Vec<Ticket>, HashMap<PersonId, Person>)> {
        let r = self.store.read()?;
        let mut out = Vec::new();
        for &id in ids {
            if let Some(t) = r.ticket(id)?.filter(|t| actor.can_see(t)) {
                out.push(t);
            }
        }
        let people = named_people(&r, &out)?;
        Ok((out, people))
    }

    /// The requesters and assignees `tickets` name (lists show them).
    pub fn people_of<'a>(&self, tickets: impl IntoIterator<Item = &'a Ticket>) -> Result<HashMap<PersonId, Person>> {
        named_people(&self.store.read()?, tickets)
    }
}

/// The requesters and assignees `tickets` name, each read once.
pub(super) fn named_people<'a>(r: &crate::store::Read, tickets: impl IntoIterator<Item = &'a Ticket>) -> Result<HashMap<PersonId, Person>> {
    let mut people = HashMap::new();
    for t in tickets {
        for pid in [Some(t.requester), t.assignee].into_iter().flatten() {
            if let std::collections::hash_map::Entry::Vacant(v) = people.entry(pid)
                && let Some(p) = r.person(pid)?
            {
                v.insert(p);
            }
        }
    }
    Ok(people)
}

fn search_failed(e: crate::search::SearchError) -> DeskError {
    match e {
        crate::search::SearchError::Store(s) => DeskError::Store(s),
        other => DeskError::Conflict(other.to_string()),
    }
}

/// Bulk jobs handle this many tickets per transaction (and progress step).
const JOB_CHUNK: usize = 100;

impl Desk {
    /// The ticket a (possibly merged-away) id now stands for.
    pub fn survivor(&self, id: TicketId) -> Result<TicketId> {
        Ok(self.store.read()?.survivor(id)?)
    }

    /// Merges `from` into `into` inside a transaction; refusals say why.
    fn merge_in(&self, w: &mut crate::store::Write, actor: &Person, from: TicketId, into: TicketId, now: Timestamp) -> Result<Ticket> {
        self.require(actor, Permission::Merge)?;
        if from == into {
            return Err(invalid("merge", "a ticket cannot be merged into itself"));
        }
        let src = self.visible(actor, w, from)?;
        let dst = self.visible(actor, w, into)?;
        if dst.is_closed() {
            return Err(DeskError::Conflict(crate::tr!(
                "{ticket} is closed; reopen it before merging into it",
                ticket = self.reference(into)
            )));
        }
        w.merge_tickets(&src, &dst)?;
        let mut t = dst.clone();
        for tag in &src.tags {
            if !t.tags.contains(tag) {
                t.tags.push(tag.clone());
            }
        }
        t.updated_at = now;
        w.append_entry(&mut Self::event(into, Some(actor.id), Event::Merged { reference: self.reference(from), into: false }, now))?;
        w.put_ticket(Some(&dst), &t)?;
        Ok(t)
    }

    /// Merges one ticket into another: threads combined in time order; the
    /// merged reference redirects, and mail to it lands on the survivor.
    pub fn merge(&self, actor: &Person, from: TicketId, into: TicketId) -> Result<Ticket> {
        let now = self.now();
        self.store.write(|w| self.merge_in(w, actor, from, into, now))
    }

    /// Links two related tickets (or unlinks them).
    pub fn set_link(&self, actor: &Person, a: TicketId, b: TicketId, on: bool) -> Result<()> {
        if a == b {
            return Err(invalid("link", "a ticket cannot be linked to itself"));
        }
        self.require(actor, Permission::Edit)?;
        let now = self.now();
        self.store.write(|w| {
            let (ta, tb) = (self.visible(actor, w, a)?, self.visible(actor, w, b)?);
            let changed = if on { w.link(a.0, b.0)? } else { w.unlink(a.0, b.0)? };
            if changed {
                for (t, other) in [(&ta, b), (&tb, a)] {
                    let e = if on {
                        Event::Linked { reference: self.reference(other), relation: "linked related ticket".into() }
                    } else {
                        Event::Unlinked { reference: self.reference(other) }
                    };
                    w.append_entry(&mut Self::event(t.id, Some(actor.id), e, now))?;
                }
            }
            Ok(())
        })
    }

    fn trash_in(&self, w: &mut crate::store::Write, actor: &Person, id: TicketId, on: bool, now: Timestamp) -> Result<()> {
        self.require(actor, Permission::Delete)?;
        let t = self.visible_any(actor, w, id)?;
        let changed = if on { w.trash_ticket(&t, now)? } else { w.restore_ticket(&t)? };
        if changed {
            w.append_entry(&mut Self::event(id, Some(actor.id), if on { Event::Trashed } else { Event::Restored }, now))?;
        }
        Ok(())
    }

    /// "Junk and ban sender": the requester (not staff) is banned and the
    /// ticket goes to Trash (the caller teaches the spam engine once this
    /// has committed).
    fn junk_in(&self, w: &mut crate::store::Write, actor: &Person, id: TicketId, now: Timestamp) -> Result<()> {
        self.require(actor, Permission::Delete)?;
        let t = self.visible(actor, w, id)?;
        if let Some(p) = w.person(t.requester)?
            && !p.is_staff()
        {
            // A ban holds for every department: an agent limited to some
            // bans only a sender who wrote to nothing else.
            if Self::walls(actor).is_some() {
                for other in w.requester_ticket_ids(p.id)? {
                    if w.ticket(other)?.is_some_and(|o| !actor.can_see(&o)) {
                        return Err(DeskError::Forbidden(crate::tr!(
                            "{email} also wrote to departments you do not work in: ask an admin to ban them",
                            email = p.email
                        )));
                    }
                }
            }
            w.ban(&p.email, now)?;
        }
        self.trash_in(w, actor, id, true, now)
    }

    /// "Junk and ban sender" on one ticket (`tickets.delete`).
    pub fn junk_ticket(&self, actor: &Person, id: TicketId) -> Result<()> {
        let now = self.now();
        self.store.write(|w| self.junk_in(w, actor, id, now))?;
        self.teach_spam(id);
        Ok(())
    }

    /// Moves a ticket to Trash (`on`) or restores it (`tickets.delete`).
    pub fn set_trashed(&self, actor: &Person, id: TicketId, on: bool) -> Result<()> {
        let now = self.now();
        self.store.write(|w| self.trash_in(w, actor, id, on, now))
    }

    /// Trash, oldest first: (ticket, trashed at).
    pub fn trash(&self, actor: &Person, max: usize) -> Result<Vec<(Ticket, Timestamp)>> {
        if !actor.is_staff() {
            return Err(DeskError::NotFound);
        }
        let r = self.store.read()?;
        let mut out = Vec::new();
        for (id, at) in r.trash(max)? {
            if let Some(t) = r.ticket(TicketId(id))?.filter(|t| actor.can_see(t)) {
                out.push((t, at));
            }
        }
        Ok(out)
    }

    /// The hourly compaction of the database (`server.compact_free_percent`):
    /// the file's lengths before and after, `None` when not worth it.
    pub fn compact_when_free(&self) -> Result<Option<(u64, u64)>> {
        Ok(self.store.compact_when_free(self.config().server.compact_free_percent)?)
    }

    /// Deletes for good what has been in Trash longer than `workflow.trash_days`.
    pub fn purge_trash(&self) -> Result<usize> {
        let cutoff = self.now().0 - self.config().workflow.trash_days as i64 * 86_400_000;
        let due: Vec<u64> = self.store.read()?.trash(10_000)?.into_iter().filter(|(_, at)| at.0 <= cutoff).map(|(id, _)| id).collect();
        let mut n = 0;
        for chunk in due.chunks(JOB_CHUNK) {
            let now = self.now();
            n += self.store.write(|w| {
                let mut n = 0;
                for &id in chunk {
                    n += usize::from(w.purge_ticket(id)?);
                }
                if n > 0 {
                    let event = crate::domain::audit::AuditEvent::TrashPurged { tickets: n as u64 };
                    super::audit::append(w, now, super::audit::Actor::System, "", event)?;
                }
                Ok::<_, DeskError>(n)
            })?;
        }
        Ok(n)
    }

    /// Starts a bulk job: records it, then works through it in chunks, each
    /// chunk committed together with the job's progress, so an interruption
    /// always says exactly which tickets were changed.
    pub fn start_job(self: &std::sync::Arc<Self>, actor: &Person, action: &BulkAction, tickets: Vec<TicketId>) -> Result<JobId> {
        let label = self.check_job(actor, action)?;
        let spec = action.spec();
        if tickets.is_empty() {
            return Err(invalid("id", "select at least one ticket, or tick \"all matching\""));
        }
        let now = self.now();
        let mut tickets = tickets;
        tickets.dedup();
        if *action == BulkAction::Merge {
            // Into the oldest selected ticket.
            tickets.sort_unstable();
            tickets.dedup();
            if tickets.len() < 2 {
                return Err(invalid("merge", "select two or more tickets to merge"));
            }
        }
        let id = self.store.write(|w| {
            let id = JobId(w.next_id("job")?);
            let job = crate::store::Job {
                id,
                actor: actor.id,
                action: label.clone(),
                spec: vec![spec.clone()],
                tickets: tickets.clone(),
                done: 0,
                failed: vec![],
                started_at: now,
                finished_at: None,
            };
            w.put_job(&job)?;
            Ok::<_, DeskError>(id)
        })?;
        let desk = self.clone();
        let actor = actor.clone();
        tokio::task::spawn_blocking(move || {
            if let Err(e) = desk.run_job(&actor, id) {
                tracing::error!(job = id.0, "bulk job stopped: {e}");
            }
        });
        Ok(id)
    }

    /// Checks a bulk action against the desk (the agent exists, the
    /// category is configured, admin-only actions) and describes it.
    fn check_job(&self, actor: &Person, action: &BulkAction) -> Result<String> {
        let cfg = self.config();
        use crate::domain::ticket::normalize_tags;
        self.require(actor, Permission::Bulk)?;
        self.require(actor, action.permission())?;
        Ok(match action {
            BulkAction::AssignMe => "assign to me".to_string(),
            BulkAction::Unassign => "unassign".to_string(),
            BulkAction::AssignTo(pid) => {
                let p = self.store.read()?.person(*pid)?.filter(|p| p.is_staff()).ok_or_else(|| invalid("action", "pick an agent"))?;
                format!("assign to {}", p.display())
            }
            BulkAction::SetStatus(s) => format!("set status to {}", s.label()),
            BulkAction::SetCustomStatus(name) => match cfg.custom_status(name) {
                Some(c) => format!("set status to {}", c.name),
                None => return Err(invalid("action", "unknown status")),
            },
            BulkAction::SetPriority(p) => format!("set priority to {}", p.label()),
            BulkAction::SetCategory(c) => format!("set category to {}", self.check_category(c)?),
            BulkAction::AddTag(t) | BulkAction::RemoveTag(t) => {
                let t = normalize_tags([t.as_str()]);
                if t.len() != 1 {
                    return Err(invalid("value", "type one tag in the box next to the action"));
                }
                format!("{} tag {}", if matches!(action, BulkAction::AddTag(_)) { "add" } else { "remove" }, t[0])
            }
            BulkAction::Merge => "merge into the oldest selected ticket".to_string(),
            BulkAction::SetTeam(None) => "take off their team".to_string(),
            BulkAction::SetTeam(Some(t)) => {
                let team = cfg
                    .team(t)
                    .ok_or_else(|| invalid("action", crate::tr!("{value} is not a team of this desk", value = format!("{t:?}"))))?;
                format!("assign to team {}", team.name)
            }
            BulkAction::Trash => "move to Trash".to_string(),
            BulkAction::Junk => "mark as junk and ban the sender".to_string(),
        })
    }

    /// Works through a job from where it stands (also after a restart).
    pub fn run_job(&self, actor: &Person, id: JobId) -> Result<()> {
        loop {
            let job = self.store.read()?.job(id)?.ok_or(DeskError::NotFound)?;
            if job.finished_at.is_some() {
                return Ok(());
            }
            let (kind, arg) = job.spec.first().cloned().unwrap_or_default();
            // Records hold the machine form; one this build cannot read fails each ticket.
            let action = BulkAction::from_spec(&kind, &arg);
            let now = self.now();
            let junked = self.store.write(|w| {
                let mut junked = Vec::new();
                let mut job = job.clone();
                let end = (job.done + JOB_CHUNK).min(job.tickets.len());
                let target = job.tickets.first().copied().unwrap_or(TicketId(0));
                for &t in &job.tickets[job.done..end] {
                    let step = match &action {
                        Some(a) => self.job_step(w, actor, a, t.0, target.0, now),
                        None => Err(invalid("action", format!("{kind}:{arg} is not a bulk action"))),
                    };
                    match step {
                        Ok(()) if matches!(action, Some(BulkAction::Junk)) => junked.push(t),
                        Ok(()) => {}
                        Err(DeskError::Store(e)) => return Err(DeskError::Store(e)),
                        Err(e) => job.failed.push((t, e.to_string())),
                    }
                }
                job.done = end;
                if job.done >= job.tickets.len() {
                    job.finished_at = Some(now);
                }
                w.put_job(&job)?;
                Ok::<_, DeskError>(junked)
            })?;
            // Lessons only for what is committed.
            for t in junked {
                self.teach_spam(t);
            }
        }
    }

    fn job_step(
        &self,
        w: &mut crate::store::Write,
        actor: &Person,
        action: &BulkAction,
        id: u64,
        target: u64,
        now: Timestamp,
    ) -> Result<()> {
        let cfg = self.config();
        // Checked for every ticket: a job resumed after a restart runs with
        // the role its agent has now.
        self.require(actor, Permission::Bulk)?;
        self.require(actor, action.permission())?;
        let mut patch = super::TicketPatch::default();
        match action {
            BulkAction::AssignMe => patch.assignee = Some(Some(actor.id)),
            BulkAction::Unassign => patch.assignee = Some(None),
            BulkAction::AssignTo(p) => patch.assignee = Some(Some(*p)),
            BulkAction::SetTeam(t) => patch.team = Some(t.clone()),
            BulkAction::SetStatus(s) => patch.status = Some(*s),
            BulkAction::SetCustomStatus(name) => {
                let c = cfg.custom_status(name).ok_or_else(|| invalid("action", "unknown status"))?;
                patch.status = Some(c.base());
                patch.custom_status = Some(c.name.clone());
            }
            BulkAction::SetPriority(p) => patch.priority = Some(*p),
            BulkAction::SetCategory(c) => patch.category = Some(c.clone()),
            BulkAction::AddTag(tag) | BulkAction::RemoveTag(tag) => {
                let t = self.visible(actor, w, TicketId(id))?;
                let tag = crate::domain::ticket::normalize_tags([tag.as_str()]).pop().unwrap_or_default();
                let mut tags = t.tags.clone();
                if matches!(action, BulkAction::AddTag(_)) {
                    if !tags.contains(&tag) {
                        tags.push(tag);
                    }
                } else {
                    tags.retain(|x| *x != tag);
                }
                patch.tags = Some(tags);
            }
            BulkAction::Merge => {
                if id != target {
                    self.merge_in(w, actor, TicketId(id), TicketId(target), now)?;
                }
                return Ok(());
            }
            BulkAction::Trash => return self.trash_in(w, actor, TicketId(id), true, now),
            BulkAction::Junk => return self.junk_in(w, actor, TicketId(id), now),
        }
        let patch = self.check_patch(patch)?;
        self.apply_patch(w, actor, id, &patch, "", now).map(|_| ())
    }

    pub fn job(&self, actor: &Person, id: JobId) -> Result<crate::store::Job> {
        let job = self.store.read()?.job(id)?.ok_or(DeskError::NotFound)?;
        if job.actor != actor.id && !actor.is_admin() {
            return Err(DeskError::NotFound);
        }
        Ok(job)
    }

    /// Jobs a previous run left unfinished are continued at start.
    pub fn resume_jobs(self: &std::sync::Arc<Self>) -> Result<()> {
        let open = self.store.read()?.unfinished_jobs()?;
        for job in open {
            let Some(actor) = self.store.read()?.person(job.actor)?.map(|p| self.in_force(p)) else { continue };
            let desk = self.clone();
            tokio::task::spawn_blocking(move || {
                if let Err(e) = desk.run_job(&actor, job.id) {
                    tracing::error!(job = job.id.0, "bulk job stopped: {e}");
                }
            });
        }
        Ok(())
    }
}
