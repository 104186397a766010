//! The knowledge base from the agents' side (issue 15 part 3): categories
//! and Markdown articles, drafts and published, public or internal, with
//! files and images; every save that changes something is a new version in
//! the article's history, and an old version can be brought back (as a new
//! one). Staff read everything; writing needs `kb.edit`. The article index
//! (`search::kb`) follows each commit and is rebuilt at start when behind.
//! `kb_public` is the customers' side.

use super::{Desk, DeskError, Result, invalid};
use crate::domain::kb::{
    Article, ArticleState, ArticleStats, Audience, FILES_MAX, KbCategory, Revision, Scope, check_category, check_title, clean_body,
};
use crate::domain::roles::Permission;
use crate::domain::thread::AttachmentRef;
use crate::domain::{ArticleId, KbCategoryId, Person};
use crate::search::kb::KbQuery;

/// An article as an agent saves it.
#[derive(Debug, Clone, Default)]
pub struct ArticleInput {
    pub title: String,
    pub body: String,
    pub category: Option<KbCategoryId>,
    pub state: ArticleState,
    pub audience: Audience,
    /// Names of files to drop.
    pub remove_files: Vec<String>,
    /// New files (one of an existing name replaces it).
    pub files: Vec<(String, String, Vec<u8>)>,
}

impl Desk {
    fn kb_reader(actor: &Person) -> Result<()> {
        if actor.is_staff() { Ok(()) } else { Err(DeskError::NotFound) }
    }

    fn kb_writer(&self, actor: &Person) -> Result<()> {
        Self::kb_reader(actor)?;
        self.require(actor, Permission::Kb)
    }

    /// The categories, in their order.
    pub fn kb_categories(&self) -> Result<Vec<KbCategory>> {
        Ok(self.store.read()?.kb_categories()?)
    }

    /// Every article with its counters, last changed first.
    pub fn kb_articles(&self, actor: &Person) -> Result<Vec<(Article, ArticleStats)>> {
        Self::kb_reader(actor)?;
        self.write_article_views()?;
        let r = self.store.read()?;
        let stats = r.all_article_stats()?;
        let mut out: Vec<_> = r
            .articles()?
            .into_iter()
            .map(|a| {
                let s = stats.get(&a.id).copied().unwrap_or_default();
                (a, s)
            })
            .collect();
        out.sort_by(|a, b| b.0.updated_at.cmp(&a.0.updated_at).then(b.0.id.cmp(&a.0.id)));
        Ok(out)
    }

    /// One article with its counters.
    pub fn kb_article(&self, actor: &Person, id: ArticleId) -> Result<(Article, ArticleStats)> {
        Self::kb_reader(actor)?;
        self.write_article_views()?;
        let r = self.store.read()?;
        let a = r.article(id)?.ok_or(DeskError::NotFound)?;
        Ok((a, r.article_stats(id)?))
    }

    /// An article and its versions, newest first.
    pub fn article_history(&self, actor: &Person, id: ArticleId) -> Result<(Article, Vec<Revision>)> {
        Self::kb_reader(actor)?;
        let r = self.store.read()?;
        let a = r.article(id)?.ok_or(DeskError::NotFound)?;
        Ok((a, r.revisions(id)?))
    }

    /// One version of an article.
    pub fn article_revision(&self, actor: &Person, id: ArticleId, rev: u32) -> Result<(Article, Revision)> {
        Self::kb_reader(actor)?;
        let r = self.store.read()?;
        let a = r.article(id)?.ok_or(DeskError::NotFound)?;
        Ok((a, r.revision(id, rev)?.ok_or(DeskError::NotFound)?))
    }

    /// Creates (`id` none) or changes an article. A save that changes nothing
    /// is no new version.
    pub fn save_article(&self, actor: &Person, id: Option<ArticleId>, input: ArticleInput) -> Result<Article> {
        self.kb_writer(actor)?;
        let title = check_title(&input.title).map_err(|m| invalid("title", crate::i18n::dynamic(m)))?;
        let body = clean_body(&input.body).map_err(|m| invalid("body", crate::i18n::dynamic(m)))?;
        self.check_files(&input.files)?;
        let now = self.now();
        let saved = self.store.write(|w| {
            if let Some(c) = input.category
                && w.kb_category(c)?.is_none()
            {
                return Err(invalid("category", crate::tr!("That category does not exist any more.")));
            }
            let old = match id {
                Some(id) => Some(w.article(id)?.ok_or(DeskError::NotFound)?),
                None => None,
            };
            let mut files: Vec<AttachmentRef> = old
                .as_ref()
                .map(|o| o.files.clone())
                .unwrap_or_default()
                .into_iter()
                .filter(|f| !input.remove_files.contains(&f.filename))
                .collect();
            for f in super::portal::stored_files(w, &input.files)? {
                files.retain(|x| x.filename != f.filename);
                files.push(f);
            }
            if files.len() > FILES_MAX {
                return Err(DeskError::TooLarge { field: "files", limit: crate::tr!("{n} files per article", n = FILES_MAX) });
            }
            let a = match &old {
                Some(o) => {
                    let same = o.title == title
                        && o.body == body
                        && o.category == input.category
                        && o.state == input.state
                        && o.audience == input.audience
                        && o.files == files;
                    if same {
                        return Ok(o.clone());
                    }
                    Article {
                        title,
                        body,
                        category: input.category,
                        state: input.state,
                        audience: input.audience,
                        updated_at: now,
                        updated_by: actor.id,
                        revision: o.revision + 1,
                        files,
                        ..o.clone()
                    }
                }
                None => Article {
                    id: ArticleId(w.next_id("kb_article")?),
                    title,
                    body,
                    category: input.category,
                    state: input.state,
                    audience: input.audience,
                    created_at: now,
                    created_by: actor.id,
                    updated_at: now,
                    updated_by: actor.id,
                    revision: 1,
                    files,
                },
            };
            w.put_article(old.as_ref(), &a)?;
            Ok(a)
        })?;
        self.kb_reindex(&[saved.id]);
        Ok(saved)
    }

    /// Brings an old version's title, text and category back, as a new version.
    pub fn restore_revision(&self, actor: &Person, id: ArticleId, rev: u32) -> Result<Article> {
        let (a, r) = self.article_revision(actor, id, rev)?;
        let category = r.category.filter(|c| self.kb_categories().is_ok_and(|all| all.iter().any(|x| x.id == *c)));
        let input = ArticleInput { title: r.title, body: r.body, category, state: a.state, audience: a.audience, ..Default::default() };
        self.save_article(actor, Some(id), input)
    }

    /// Deletes an article with its history.
    pub fn delete_article(&self, actor: &Person, id: ArticleId) -> Result<()> {
        self.kb_writer(actor)?;
        self.store.write(|w| {
            let a = w.article(id)?.ok_or(DeskError::NotFound)?;
            w.delete_article(&a)?;
            Ok::<_, DeskError>(())
        })?;
        self.kb_reindex(&[id]);
        Ok(())
    }

    /// A file of an article: for staff any article's, for everyone else a
    /// public article's.
    pub fn article_file(&self, actor: Option<&Person>, id: ArticleId, name: &str) -> Result<(AttachmentRef, Vec<u8>)> {
        let r = self.store.read()?;
        let a = r.article(id)?.ok_or(DeskError::NotFound)?;
        if !(a.is_public() || actor.is_some_and(Person::is_staff)) {
            return Err(DeskError::NotFound);
        }
        let f = a.file(name).cloned().ok_or(DeskError::NotFound)?;
        let data = r.blob(&f.blob)?.ok_or(DeskError::NotFound)?;
        Ok((f, data))
    }

    /// Creates a category (last in the order).
    pub fn create_kb_category(&self, actor: &Person, name: &str, description: &str) -> Result<KbCategory> {
        self.kb_writer(actor)?;
        let name = check_category(name).map_err(|m| invalid("name", crate::i18n::dynamic(m)))?;
        let c = self.store.write(|w| {
            let all = w.kb_categories()?;
            if all.iter().any(|c| c.name.eq_ignore_ascii_case(&name)) {
                return Err(invalid("name", crate::tr!("A category of that name exists.")));
            }
            let c = KbCategory {
                id: KbCategoryId(w.next_id("kb_category")?),
                name,
                description: description.trim().to_string(),
                position: all.iter().map(|c| c.position + 1).max().unwrap_or(0),
            };
            w.put_kb_category(&c)?;
            Ok(c)
        })?;
        Ok(c)
    }

    /// Renames a category, changes its description or moves it in the order.
    pub fn update_kb_category(&self, actor: &Person, id: KbCategoryId, name: &str, description: &str, position: u32) -> Result<KbCategory> {
        self.kb_writer(actor)?;
        let name = check_category(name).map_err(|m| invalid("name", crate::i18n::dynamic(m)))?;
        self.store.write(|w| {
            let old = w.kb_category(id)?.ok_or(DeskError::NotFound)?;
            if w.kb_categories()?.iter().any(|c| c.id != id && c.name.eq_ignore_ascii_case(&name)) {
                return Err(invalid("name", crate::tr!("A category of that name exists.")));
            }
            let c = KbCategory { name, description: description.trim().to_string(), position, ..old };
            w.put_kb_category(&c)?;
            Ok(c)
        })
    }

    /// Deletes a category; its articles stay, in no category.
    pub fn delete_kb_category(&self, actor: &Person, id: KbCategoryId) -> Result<()> {
        self.kb_writer(actor)?;
        let moved = self.store.write(|w| {
            w.kb_category(id)?.ok_or(DeskError::NotFound)?;
            let mut moved = Vec::new();
            for a in w.articles()?.into_iter().filter(|a| a.category == Some(id)) {
                let new = Article { category: None, ..a.clone() };
                w.put_article(Some(&a), &new)?;
                moved.push(a.id);
            }
            w.delete_kb_category(id)?;
            Ok::<_, DeskError>(moved)
        })?;
        self.kb_reindex(&moved);
        Ok(())
    }

    /// Articles matching `text` that `actor` may read (`None`: a customer),
    /// best first; `typing`: the last word may be unfinished.
    pub fn kb_search(&self, actor: Option<&Person>, text: &str, typing: bool, with_drafts: bool, limit: usize) -> Result<Vec<Article>> {
        let scopes: &[Scope] = match actor {
            Some(p) if p.is_staff() && with_drafts => &[Scope::Public, Scope::Internal, Scope::Draft],
            Some(p) if p.is_staff() => &[Scope::Public, Scope::Internal],
            _ => &[Scope::Public],
        };
        self.kb_find(&KbQuery { text, scopes, typing, limit, ..Default::default() })
    }

    /// Whether agents have any published article to insert.
    pub fn has_published_articles(&self) -> bool {
        self.kb.index.get().is_some_and(|ix| [Scope::Public, Scope::Internal].iter().any(|s| ix.count(*s, None).is_ok_and(|n| n > 0)))
    }

    /// The articles of an index search, read from the store (still as
    /// the query asked: an article changed since is checked again).
    pub(super) fn kb_find(&self, q: &KbQuery) -> Result<Vec<Article>> {
        let Some(ix) = self.kb.index.get() else { return Ok(Vec::new()) };
        let ids = ix.search(q).map_err(|e| DeskError::Conflict(format!("knowledge base search: {e}")))?;
        let r = self.store.read()?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(a) = r.article(id)?.filter(|a| q.scopes.contains(&a.scope())) {
                out.push(a);
            }
        }
        Ok(out)
    }

    /// Brings the article index up to the store for these articles (after
    /// their commit). A failure is logged; the next start rebuilds it.
    pub(super) fn kb_reindex(&self, ids: &[ArticleId]) {
        let Some(ix) = self.kb.index.get() else { return };
        let run = || -> std::result::Result<(), String> {
            let r = self.store.read().map_err(|e| e.to_string())?;
            let generation = r.kb_generation().map_err(|e| e.to_string())?;
            let mut changed = Vec::with_capacity(ids.len());
            for id in ids {
                changed.push((*id, r.article(*id).map_err(|e| e.to_string())?));
            }
            ix.write(&changed, generation, false).map_err(|e| e.to_string())
        };
        if let Err(e) = run() {
            tracing::warn!("knowledge base index not updated ({e}); it is rebuilt at the next start");
        }
    }

    /// At start: rebuilds the article index when it is not at the store's
    /// generation (a crash between a commit and its index write, a new or
    /// damaged index). Returns how many articles it indexed.
    pub fn kb_sync_index(&self) -> Result<Option<usize>> {
        let Some(ix) = self.kb.index.get() else { return Ok(None) };
        let r = self.store.read()?;
        let generation = r.kb_generation()?;
        if ix.generation() == generation {
            return Ok(None);
        }
        let all: Vec<_> = r.articles()?.into_iter().map(|a| (a.id, Some(a))).collect();
        ix.write(&all, generation, true).map_err(|e| DeskError::Conflict(format!("knowledge base index: {e}")))?;
        Ok(Some(all.len()))
    }
}
