//! Agent workflow operations beyond single-ticket edits: search, merge and
//! link, Trash, saved searches, personal canned responses and people edits.

use std::collections::HashMap;

use super::{Desk, DeskError, Result, invalid};
use crate::domain::{EntryKind, Event, Person, ThreadEntry, Ticket, Timestamp};
use crate::search::query::{self, Parsed, SearchError};

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
    pub people: HashMap<u64, Person>,
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

    /// Parses a query for this agent (assignee:me, agent names, dates).
    pub fn parse_search(&self, actor: &Person, q: &str) -> Result<std::result::Result<Parsed, SearchError>> {
        let agents = self.store.read()?.staff()?;
        Ok(query::parse(q, &query::Context { me: actor.id, agents: &agents, now: self.now() }))
    }

    fn visible_departments(actor: &Person) -> Option<&[String]> {
        if actor.is_admin() || actor.departments.is_empty() { None } else { Some(&actor.departments) }
    }

    /// Runs the search box: a reference jumps, anything else searches.
    pub fn search(&self, actor: &Person, q: &str, offset: usize, limit: usize) -> Result<SearchOutcome> {
        if !actor.is_staff() {
            return Err(DeskError::NotFound);
        }
        if let Some(id) = self.parse_reference(q) {
            let r = self.store.read()?;
            let id = r.survivor(id)?;
            if r.ticket(id)?.is_some_and(|t| actor.can_see(&t)) {
                return Ok(SearchOutcome::Jump(id));
            }
        }
        let parsed = match self.parse_search(actor, q)? {
            Ok(p) => p,
            Err(e) => return Ok(SearchOutcome::Invalid(e)),
        };
        let index = self.index()?;
        let found = index.search(&parsed, Self::visible_departments(actor), offset, limit).map_err(search_failed)?;
        let r = self.store.read()?;
        let mut hits = Vec::new();
        let mut people = HashMap::new();
        for h in found.hits {
            // The index may trail the store by a moment; the store has the truth.
            let Some(t) = r.ticket(h.id)? else { continue };
            if !actor.can_see(&t) {
                continue;
            }
            let snippet = if parsed.has_text() {
                let text: Vec<String> = r.entries(t.id)?.into_iter().filter(|e| e.kind != EntryKind::Event).map(|e| e.body).collect();
                index.snippet(&parsed, &text.join("\n")).map_err(search_failed)?
            } else {
                None
            };
            for pid in [Some(t.requester), t.assignee].into_iter().flatten() {
                if let std::collections::hash_map::Entry::Vacant(v) = people.entry(pid)
                    && let Some(p) = r.person(pid)?
                {
                    v.insert(p);
                }
            }
            hits.push((t, snippet));
        }
        let p = &index.progress;
        let building = p
            .building
            .load(std::sync::atomic::Ordering::SeqCst)
            .then(|| (p.done.load(std::sync::atomic::Ordering::SeqCst), p.total.load(std::sync::atomic::Ordering::SeqCst)));
        Ok(SearchOutcome::Results(SearchPage { parsed, hits, total: found.total, people, building }))
    }

    /// Every ticket id a search matches (bulk actions, exports), up to `max`.
    pub fn search_ids(&self, actor: &Person, q: &str, max: usize) -> Result<Vec<u64>> {
        let parsed = self.parse_search(actor, q)?.map_err(|e| invalid("q", e.message))?;
        self.index()?.all_ids(&parsed, Self::visible_departments(actor), max).map_err(search_failed)
    }
}

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

    fn view_count(&self, actor: &Person, q: &str) -> Option<usize> {
        let index = self.search.get()?;
        let parsed = self.parse_search(actor, q).ok()?.ok()?;
        index.count(&parsed, Self::visible_departments(actor)).ok()
    }

    pub fn sidebar_counts(&self, actor: &Person) -> Result<SidebarCounts> {
        use crate::domain::Status;
        let r = self.store.read()?;
        let mut by_status = Vec::new();
        let mut all_open = 0;
        for &s in Status::ALL {
            let n = r.status_count(s)?;
            if s.is_active() {
                all_open += n;
            }
            by_status.push((s, n));
        }
        let saved = self
            .saved_searches(actor)?
            .into_iter()
            .map(|(name, query, columns)| {
                let count = self.view_count(actor, &query);
                ViewLink { name, query, columns, count }
            })
            .collect();
        let shared = self
            .config
            .view
            .iter()
            .map(|v| ViewLink {
                name: v.name.clone(),
                query: v.query.clone(),
                columns: v.columns.clone(),
                count: self.view_count(actor, &v.query),
            })
            .collect();
        Ok(SidebarCounts {
            my_open: r.active_count_of(actor.id)?,
            unassigned: r.active_count_of(0)?,
            urgent_unassigned: r.urgent_unassigned_count()?,
            following: r.following(actor.id)?.len() as u64,
            by_status,
            all_open,
            junk: r.junk_len()?,
            trash: r.trash_len()?,
            saved,
            shared,
        })
    }
}

fn search_failed(e: crate::search::SearchError) -> DeskError {
    match e {
        crate::search::SearchError::Store(s) => DeskError::Store(s),
        other => DeskError::Conflict(other.to_string()),
    }
}

#[allow(dead_code)]
fn event(ticket: u64, actor: &Person, e: Event, now: Timestamp) -> ThreadEntry {
    ThreadEntry {
        ticket,
        seq: 0,
        kind: EntryKind::Event,
        author: Some(actor.id),
        body: String::new(),
        event: Some(e),
        attachments: vec![],
        created_at: now,
    }
}
