//! Full-text search: a tantivy index of tickets under `<data-dir>/search/`.
//!
//! One document per ticket: subject, every thread body (public and internal),
//! cut into words by `cjk` (CJK text as overlapping character pairs),
//! requester and author names and addresses, attachment names, and the fields
//! the search tokens filter on. The index is fed from the store's index queue
//! (written in the same transaction as each change), so it never misses one; it
//! can always be rebuilt from the store (`frontdesk reindex`, or automatically
//! when the directory is missing or from another index version).

pub use crate::domain::query;

pub mod cjk;
pub mod kb;

use std::collections::HashMap;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use tantivy::collector::{Count, TopDocs};
use tantivy::query::{AllQuery, BooleanQuery, BoostQuery, Occur, PhraseQuery, Query, RangeQuery, TermQuery};
use tantivy::schema::{Field, INDEXED, IndexRecordOption, NumericOptions, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocAddress, Index, IndexReader, IndexWriter, Order, ReloadPolicy, TantivyDocument, Term};

use crate::domain::{EntryKind, Person, PersonId, TicketId};
use crate::store::{Read, Store, StoreError};
use query::{Filter, Parsed, Text};

/// Bump when the document layout changes: the index is then rebuilt at start.
const INDEX_VERSION: &str = "frontdesk-search-6";
const VERSION_FILE: &str = "frontdesk-version";
/// Tickets per indexer commit.
const BATCH: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("search index directory: {0}")]
    Io(#[from] std::io::Error),
    #[error("search index: {0}")]
    Dir(#[from] tantivy::directory::error::OpenDirectoryError),
}

pub type Result<T> = std::result::Result<T, SearchError>;

#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    subject: Field,
    body: Field,
    people: Field,
    files: Field,
    requester: Field,
    from: Field,
    status: Field,
    priority: Field,
    assignee: Field,
    dept: Field,
    category: Field,
    tag: Field,
    created: Field,
    updated: Field,
    flags: Field,
    /// The custom status, lower-case (version 3).
    custom_status: Field,
    /// Custom field values as `name=value`, lower-case (version 3).
    fields: Field,
    /// The earliest due time of a running SLA target (version 4).
    sla_due: Field,
    /// The requester's organization, lower-case (version 5).
    org: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let stemmed = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default().set_tokenizer(cjk::STEMMED).set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let plain = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default().set_tokenizer(cjk::PLAIN).set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let num = NumericOptions::default().set_indexed().set_fast();
    let f = Fields {
        id: b.add_u64_field("id", NumericOptions::default().set_indexed().set_fast() | STORED),
        subject: b.add_text_field("subject", stemmed.clone()),
        body: b.add_text_field("body", stemmed),
        people: b.add_text_field("people", plain.clone()),
        files: b.add_text_field("files", plain.clone()),
        requester: b.add_text_field("requester", plain),
        from: b.add_text_field("from", STRING),
        status: b.add_u64_field("status", INDEXED),
        priority: b.add_u64_field("priority", NumericOptions::default().set_indexed().set_fast()),
        assignee: b.add_u64_field("assignee", INDEXED),
        dept: b.add_text_field("dept", STRING),
        category: b.add_text_field("category", STRING),
        tag: b.add_text_field("tag", STRING),
        created: b.add_i64_field("created", num.clone()),
        updated: b.add_i64_field("updated", num),
        flags: b.add_text_field("flags", STRING),
        custom_status: b.add_text_field("custom_status", STRING),
        fields: b.add_text_field("fields", STRING),
        sla_due: b.add_i64_field("sla_due", NumericOptions::default().set_indexed().set_fast()),
        org: b.add_text_field("org", STRING),
    };
    (b.build(), f)
}

/// Progress of a full rebuild, for the UI and the CLI.
#[derive(Default)]
pub struct Progress {
    pub done: AtomicU64,
    pub total: AtomicU64,
    pub building: std::sync::atomic::AtomicBool,
}

/// The open index.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    f: Fields,
    writer: Mutex<IndexWriter>,
    dir: PathBuf,
    pub progress: Progress,
}

/// One search hit.
#[derive(Debug, Clone)]
pub struct Hit {
    pub id: u64,
    pub score: f32,
}

/// A page of hits and how many match in all.
#[derive(Debug, Clone, Default)]
pub struct Hits {
    pub hits: Vec<Hit>,
    pub total: usize,
}

impl SearchIndex {
    /// Opens the index in `<data_dir>/search`, creating it when missing or
    /// replacing one of another version. The flag says a full rebuild is needed.
    pub fn open(data_dir: &Path, writer_bytes: usize) -> Result<(SearchIndex, bool)> {
        // The index is derived data: one that cannot be opened (a truncated
        // segment, a crash mid-write) is thrown away and rebuilt from the store.
        match crate::jobs::guard_result(|| Self::open_at(data_dir, writer_bytes, false)) {
            Ok(x) => Ok(x),
            Err(why) => {
                tracing::warn!("the search index cannot be opened ({why}); rebuilding it");
                Self::open_at(data_dir, writer_bytes, true)
            }
        }
    }

    fn open_at(data_dir: &Path, writer_bytes: usize, fresh: bool) -> Result<(SearchIndex, bool)> {
        let dir = data_dir.join("search");
        let version_ok = !fresh && std::fs::read_to_string(dir.join(VERSION_FILE)).is_ok_and(|v| v.trim() == INDEX_VERSION);
        let (schema, f) = schema();
        let existing = if version_ok { Index::open_in_dir(&dir).ok() } else { None };
        let (index, fresh) = match existing {
            Some(i) => (i, false),
            None => {
                if dir.exists() {
                    std::fs::remove_dir_all(&dir)?;
                }
                std::fs::create_dir_all(&dir)?;
                let i = Index::create_in_dir(&dir, schema)?;
                (i, true)
            }
        };
        cjk::register(&index);
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        // The server indexes with one thread and merges with one: a merge pool
        // of several threads costs tens of MiB of RSS for no gain at this size.
        // A large budget (reindex, bench) uses two indexing threads.
        let workers = if writer_bytes >= 64 << 20 { 2 } else { 1 };
        let opts = tantivy::indexer::IndexWriterOptions::builder()
            .memory_budget_per_thread((writer_bytes / workers).max(15_000_000))
            .num_worker_threads(workers)
            .num_merge_threads(1)
            .build();
        let writer = index.writer_with_options(opts)?;
        // Merges run in the indexer's own thread right after its commits
        // (`merge_in_step`), never in the background: a background merge of
        // segments that a later commit drops (every ticket update deletes its
        // old document, so small segments empty out fast under a burst) was
        // cancelled by tantivy with "couldn't find segment in SegmentManager".
        writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
        let me = SearchIndex { index, reader, f, writer: Mutex::new(writer), dir, progress: Progress::default() };
        if fresh {
            // Written only after a complete rebuild (see `rebuild`).
            let _ = std::fs::remove_file(me.dir.join(VERSION_FILE));
        }
        Ok((me, fresh))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, IndexWriter> {
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Indexes (or removes) the given tickets from one store snapshot and commits.
    pub fn index_tickets(&self, r: &Read, ids: &[u64]) -> Result<u64> {
        let mut w = self.lock();
        let mut cache = HashMap::new();
        let mut entries = 0;
        for &id in ids {
            w.delete_term(Term::from_field_u64(self.f.id, id));
            if let Some((doc, n)) = self.document(r, id, &mut cache)? {
                entries += n;
                w.add_document(doc)?;
            }
        }
        w.commit()?;
        self.merge_in_step(&mut w)?;
        drop(w);
        self.reader.reload()?;
        Ok(entries)
    }

    /// Merges what the log merge policy would, now and to the end, while the
    /// writer is held: no commit can run meanwhile, so no merge loses its inputs.
    fn merge_in_step(&self, w: &mut IndexWriter) -> Result<()> {
        use tantivy::indexer::MergePolicy;
        let metas = self.index.searchable_segment_metas()?;
        for candidate in tantivy::indexer::LogMergePolicy::default().compute_merge_candidates(&metas) {
            w.merge(&candidate.0).wait()?;
        }
        Ok(())
    }

    /// Builds the index from scratch from the store; `progress` is called with
    /// (tickets done, tickets in all, entries done).
    pub fn rebuild(&self, store: &Store, mut progress: impl FnMut(u64, u64, u64)) -> Result<u64> {
        self.progress.building.store(true, Ordering::SeqCst);
        let _ = std::fs::remove_file(self.dir.join(VERSION_FILE));
        let r = store.read()?;
        let queued = r.index_queue(usize::MAX)?;
        let ids = r.ticket_ids()?;
        let total = ids.len() as u64;
        self.progress.total.store(total, Ordering::SeqCst);
        let mut entries = 0u64;
        let mut w = self.lock();
        w.delete_all_documents()?;
        let mut cache = HashMap::new();
        for (n, chunk) in ids.chunks(512).enumerate() {
            for &id in chunk {
                if let Some((doc, k)) = self.document(&r, id, &mut cache)? {
                    entries += k;
                    w.add_document(doc)?;
                }
            }
            let done = ((n + 1) * 512).min(ids.len()) as u64;
            self.progress.done.store(done, Ordering::SeqCst);
            progress(done, total, entries);
            if cache.len() > 50_000 {
                cache.clear();
            }
        }
        w.commit()?;
        self.merge_in_step(&mut w)?;
        drop(w);
        self.reader.reload()?;
        drop(r);
        // Everything queued before the snapshot is in; later changes stay queued.
        store.write_fast(|w| w.dequeue_indexed(&queued))?;
        std::fs::write(self.dir.join(VERSION_FILE), INDEX_VERSION)?;
        self.progress.building.store(false, Ordering::SeqCst);
        Ok(entries)
    }

    /// Drains the store's index queue once; returns how many tickets it indexed.
    pub fn drain_queue(&self, store: &Store) -> Result<usize> {
        let r = store.read()?;
        let batch = r.index_queue(BATCH)?;
        if batch.is_empty() {
            return Ok(0);
        }
        let ids: Vec<u64> = batch.iter().map(|(id, _)| *id).collect();
        self.index_tickets(&r, &ids)?;
        drop(r);
        // Losing this bookkeeping in a crash only means indexing again.
        store.write_fast(|w| w.dequeue_indexed(&batch))?;
        Ok(batch.len())
    }

    fn document(&self, r: &Read, id: u64, people: &mut HashMap<u64, Option<Person>>) -> Result<Option<(TantivyDocument, u64)>> {
        let Some(t) = r.ticket(TicketId(id))? else { return Ok(None) };
        let f = self.f;
        let mut person = |pid: u64| -> Result<Option<Person>> {
            if let Some(p) = people.get(&pid) {
                return Ok(p.clone());
            }
            let p = r.person(PersonId(pid))?;
            people.insert(pid, p.clone());
            Ok(p)
        };
        let mut doc = TantivyDocument::default();
        doc.add_u64(f.id, t.id.0);
        doc.add_text(f.subject, &t.subject);
        doc.add_u64(f.status, t.status.index() as u64);
        if let Some(c) = &t.custom_status {
            doc.add_text(f.custom_status, c.to_lowercase());
        }
        for (name, value) in &t.fields {
            // Each choice of a multi-select is a term of its own.
            for part in value.split(", ") {
                doc.add_text(f.fields, format!("{name}={}", part.to_lowercase()));
            }
            if value.contains(", ") {
                doc.add_text(f.fields, format!("{name}={}", value.to_lowercase()));
            }
        }
        doc.add_u64(f.priority, t.priority.index() as u64);
        doc.add_u64(f.assignee, t.assignee.map_or(0, |a| a.0));
        doc.add_text(f.dept, t.department.to_lowercase());
        doc.add_text(f.category, t.category.to_lowercase());
        for tag in &t.tags {
            doc.add_text(f.tag, tag.to_lowercase());
        }
        doc.add_i64(f.created, t.created_at.0);
        doc.add_i64(f.updated, t.updated_at.0);
        let add_from = |doc: &mut TantivyDocument, email: &str| {
            doc.add_text(f.from, email);
            if let Some((_, domain)) = email.rsplit_once('@') {
                doc.add_text(f.from, format!("@{domain}"));
            }
        };
        if let Some(org) = r.org_of(t.requester)?.map(|o| r.org(o)).transpose()?.flatten() {
            doc.add_text(f.org, org.name.to_lowercase());
        }
        if let Some(p) = person(t.requester.0)? {
            doc.add_text(f.requester, format!("{} {}", p.name, p.email));
            doc.add_text(f.people, format!("{} {}", p.name, p.email));
            add_from(&mut doc, &p.email);
        }
        let entries = r.entries(TicketId(id))?;
        let mut has_attachment = false;
        let mut authors: Vec<u64> = Vec::new();
        for e in &entries {
            if e.kind == EntryKind::Event {
                continue;
            }
            doc.add_text(f.body, &e.body);
            for a in &e.attachments {
                doc.add_text(f.files, &a.filename);
                has_attachment = true;
            }
            if let Some(a) = e.author
                && a != t.requester
                && !authors.contains(&a.0)
            {
                authors.push(a.0);
            }
        }
        for a in authors {
            if let Some(p) = person(a)? {
                doc.add_text(f.people, format!("{} {}", p.name, p.email));
                if !p.role.is_staff() {
                    add_from(&mut doc, &p.email);
                }
            }
        }
        if has_attachment {
            doc.add_text(f.flags, "attachment");
        }
        if r.trashed_at(TicketId(id))?.is_some() {
            doc.add_text(f.flags, "trash");
        }
        if let Some(c) = r.clocks(TicketId(id))? {
            if let Some(due) = c.due() {
                doc.add_i64(f.sla_due, due.0);
            }
            if let Some(sla) = &c.sla {
                doc.add_text(f.flags, "sla");
                if !sla.breached().is_empty() {
                    doc.add_text(f.flags, "sla-breached");
                }
                if sla.breaching() {
                    doc.add_text(f.flags, "sla-breaching");
                }
            }
        }
        // `rating:good` / `rating:bad`: the requester's satisfaction rating.
        if let Some(rating) = r.rating(TicketId(id))? {
            doc.add_text(f.flags, format!("rating-{}", rating.score.key()));
        }
        // `auth:fail`: a mail on it failed SPF/DKIM/DMARC.
        if r.ticket_mail(TicketId(id))?.iter().any(|(_, m)| m.auth.as_ref().is_some_and(|a| a.failed())) {
            doc.add_text(f.flags, "auth-fail");
        }
        Ok(Some((doc, entries.len() as u64)))
    }

    /// Queries for `field` matching `text` (all its words, in order when `phrase`).
    fn field_text(&self, field: Field, text: &str, phrase: bool) -> Result<Option<Box<dyn Query>>> {
        let mut tok = self.index.tokenizer_for_field(field)?;
        let mut stream = tok.token_stream(text);
        let mut terms = Vec::new();
        while stream.advance() {
            terms.push(Term::from_field_text(field, &stream.token().text));
        }
        Ok(match terms.len() {
            0 => None,
            1 => terms.pop().map(|t| Box::new(TermQuery::new(t, IndexRecordOption::WithFreqs)) as Box<dyn Query>),
            _ if phrase => Some(Box::new(PhraseQuery::new(terms))),
            _ => Some(Box::new(BooleanQuery::new(
                terms
                    .into_iter()
                    .map(|t| (Occur::Must, Box::new(TermQuery::new(t, IndexRecordOption::WithFreqs)) as Box<dyn Query>))
                    .collect(),
            ))),
        })
    }

    /// Free text over every text field, subject weighted highest.
    fn text_query(&self, t: &Text) -> Result<Option<Box<dyn Query>>> {
        let f = self.f;
        let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (field, boost) in [(f.subject, 3.0), (f.body, 1.0), (f.people, 1.5), (f.files, 1.5)] {
            // A word that the tokenizer splits (an address, a file name) is a phrase.
            if let Some(q) = self.field_text(field, &t.text, true)? {
                should.push((Occur::Should, Box::new(BoostQuery::new(q, boost))));
            }
        }
        Ok(if should.is_empty() { None } else { Some(Box::new(BooleanQuery::new(should))) })
    }

    fn filter_query(&self, filter: &Filter) -> Result<Box<dyn Query>> {
        let f = self.f;
        let term = |t: Term| -> Box<dyn Query> { Box::new(TermQuery::new(t, IndexRecordOption::Basic)) };
        let any = |qs: Vec<Box<dyn Query>>| -> Box<dyn Query> {
            Box::new(BooleanQuery::new(qs.into_iter().map(|q| (Occur::Should, q)).collect()))
        };
        let range = |field: Field, r: &query::TimeRange| -> Box<dyn Query> {
            Box::new(RangeQuery::new(
                Bound::Included(Term::from_field_i64(field, r.from)),
                Bound::Included(Term::from_field_i64(field, r.to)),
            ))
        };
        Ok(match filter {
            Filter::Status(list) => any(list.iter().map(|s| term(Term::from_field_u64(f.status, s.index() as u64))).collect()),
            Filter::Statuses(list, custom) => any(list
                .iter()
                .map(|s| term(Term::from_field_u64(f.status, s.index() as u64)))
                .chain(custom.iter().map(|c| term(Term::from_field_text(f.custom_status, c))))
                .collect()),
            Filter::Priority(list) => any(list.iter().map(|p| term(Term::from_field_u64(f.priority, p.index() as u64))).collect()),
            Filter::Assignee(id) => term(Term::from_field_u64(f.assignee, *id)),
            Filter::Category(c) => term(Term::from_field_text(f.category, c)),
            Filter::Tag(t) => term(Term::from_field_text(f.tag, t)),
            Filter::Field(name, value) => term(Term::from_field_text(f.fields, &format!("{name}={value}"))),
            Filter::Dept(d) => term(Term::from_field_text(f.dept, d)),
            Filter::From(v) => {
                let v = if v.contains('@') { v.clone() } else { format!("@{v}") };
                term(Term::from_field_text(f.from, &v))
            }
            Filter::Requester(v) => match self.field_text(f.requester, v, false)? {
                Some(q) => q,
                None => Box::new(BooleanQuery::new(vec![])),
            },
            Filter::Created(r) => range(f.created, r),
            Filter::Updated(r) => range(f.updated, r),
            Filter::SlaDue(r) => range(f.sla_due, r),
            Filter::Org(name) => term(Term::from_field_text(f.org, name)),
            Filter::Has(what) => term(Term::from_field_text(f.flags, what)),
            Filter::InTrash => term(Term::from_field_text(f.flags, "trash")),
        })
    }

    /// The whole query: text and filters, Trash excluded unless asked for, and
    /// only the departments the viewer may see.
    fn build(&self, p: &Parsed, departments: Option<&[String]>) -> Result<Box<dyn Query>> {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (t, neg) in &p.text {
            if let Some(q) = self.text_query(t)? {
                clauses.push((if *neg { Occur::MustNot } else { Occur::Must }, q));
            }
        }
        for (flt, neg) in &p.filters {
            clauses.push((if *neg { Occur::MustNot } else { Occur::Must }, self.filter_query(flt)?));
        }
        if !p.in_trash() {
            clauses.push((Occur::MustNot, self.filter_query(&Filter::InTrash)?));
        }
        if let Some(depts) = departments {
            let qs: Vec<(Occur, Box<dyn Query>)> = depts
                .iter()
                .map(|d| {
                    (
                        Occur::Should,
                        Box::new(TermQuery::new(Term::from_field_text(self.f.dept, &d.to_lowercase()), IndexRecordOption::Basic))
                            as Box<dyn Query>,
                    )
                })
                .collect();
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(qs))));
        }
        if !clauses.iter().any(|(o, _)| *o == Occur::Must) {
            clauses.push((Occur::Must, Box::new(AllQuery)));
        }
        Ok(Box::new(BooleanQuery::new(clauses)))
    }

    /// Runs a search: ranked by relevance when there is free text, otherwise by
    /// most recent update.
    pub fn search(&self, p: &Parsed, departments: Option<&[String]>, offset: usize, limit: usize) -> Result<Hits> {
        let q = self.build(p, departments)?;
        let searcher = self.reader.searcher();
        let limit = limit.max(1);
        let sort = match p.sort {
            Some(s) => s,
            None if p.has_text() => query::SortBy::Relevance,
            None => query::SortBy::Updated,
        };
        let top = || TopDocs::with_limit(limit).and_offset(offset);
        let by = |field: &str, order: Order| -> Result<(Vec<(f32, DocAddress)>, usize)> {
            let (top, n) = searcher.search(&q, &(top().order_by_fast_field::<i64>(field, order), Count))?;
            Ok((top.into_iter().map(|(v, a)| (v as f32, a)).collect(), n))
        };
        let (addrs, total): (Vec<(f32, DocAddress)>, usize) = match sort {
            query::SortBy::Relevance => searcher.search(&q, &(top(), Count))?,
            query::SortBy::Updated => by("updated", Order::Desc)?,
            query::SortBy::UpdatedAsc => by("updated", Order::Asc)?,
            query::SortBy::Created => by("created", Order::Desc)?,
            query::SortBy::CreatedAsc => by("created", Order::Asc)?,
            query::SortBy::Priority => {
                // Urgent is priority index 0: ascending puts it first.
                let (top, n) = searcher.search(&q, &(top().order_by_fast_field::<u64>("priority", Order::Asc), Count))?;
                (top.into_iter().map(|(v, a)| (v as f32, a)).collect(), n)
            }
        };
        let mut hits = Vec::with_capacity(addrs.len());
        for (score, addr) in addrs {
            let doc: TantivyDocument = searcher.doc(addr)?;
            if let Some(id) = doc.get_first(self.f.id).and_then(|v| v.as_u64()) {
                hits.push(Hit { id, score });
            }
        }
        Ok(Hits { hits, total })
    }

    /// How many tickets match (sidebar counts of saved searches and views).
    pub fn count(&self, p: &Parsed, departments: Option<&[String]>) -> Result<usize> {
        let q = self.build(p, departments)?;
        Ok(self.reader.searcher().search(&q, &Count)?)
    }

    /// Every matching ticket id (for bulk actions and exports on a search).
    /// Ids come from the `id` fast field, in ticket order; nothing is ranked
    /// or loaded, so this stays cheap for a whole 100 000-ticket desk.
    pub fn all_ids(&self, p: &Parsed, departments: Option<&[String]>, max: usize) -> Result<Vec<u64>> {
        let q = self.build(p, departments)?;
        let searcher = self.reader.searcher();
        let docs = searcher.search(&q, &tantivy::collector::DocSetCollector)?;
        let mut by_segment: HashMap<u32, Vec<u32>> = HashMap::new();
        for a in docs {
            by_segment.entry(a.segment_ord).or_default().push(a.doc_id);
        }
        let mut ids = Vec::new();
        for (seg, docs) in by_segment {
            let column = searcher.segment_reader(seg).fast_fields().u64("id")?;
            ids.extend(docs.into_iter().filter_map(|d| column.first(d)));
        }
        ids.sort_unstable();
        ids.dedup();
        ids.truncate(max);
        Ok(ids)
    }

    /// Highlighted snippets (HTML, escaped, matches in `<b>`) of each text for
    /// the free-text part of the query; one generator serves the whole page.
    pub fn snippets(&self, p: &Parsed, texts: &[String]) -> Result<Vec<Option<String>>> {
        if !p.has_text() {
            return Ok(vec![None; texts.len()]);
        }
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (t, neg) in &p.text {
            if !neg && let Some(q) = self.field_text(self.f.body, &t.text, t.phrase)? {
                clauses.push((Occur::Should, q));
            }
        }
        let q = BooleanQuery::new(clauses);
        let searcher = self.reader.searcher();
        let mut g = SnippetGenerator::create(&searcher, &q, self.f.body)?;
        g.set_max_num_chars(180);
        Ok(texts
            .iter()
            .map(|text| {
                let s = g.snippet(text);
                if s.fragment().is_empty() || s.highlighted().is_empty() { None } else { Some(s.to_html()) }
            })
            .collect())
    }

    pub fn doc_count(&self) -> u64 {
        self.reader.searcher().num_docs()
    }
}
