//! The knowledge base on the customers' side: published public articles
//! only (anything else is "not found"), grouped by category for the help
//! page, searched, suggested while a customer types a request, related to
//! each other, counted (views, "did this help?", opened from a suggestion,
//! requests a suggestion answered), and offered in the acknowledgement mail
//! (`articles` in the templates, as Jitbit's `#Suggested_KB_articles#`).

use super::{Desk, DeskError, Result};
use crate::domain::kb::{Article, KbCategory, Scope};
use crate::domain::{ArticleId, KbCategoryId};
use crate::search::kb::KbQuery;

/// The knowledge base's index, and the views counted in memory since the
/// last write (an article page is read often; its counter is written in
/// batches, not with every view).
#[derive(Default)]
pub struct KbState {
    pub index: std::sync::OnceLock<std::sync::Arc<crate::search::kb::KbIndex>>,
    /// Article → (views, opened from a suggestion) not yet written.
    views: std::sync::Mutex<std::collections::HashMap<ArticleId, (u64, u64)>>,
}

/// Views held in memory before they are written.
const VIEWS_HELD: u64 = 1000;

/// Suggestions shown while typing, and articles in a mail.
pub const SUGGESTIONS: usize = 5;
const IN_MAIL: usize = 3;
const RELATED: usize = 5;

/// Public articles of one category (`None`: in no category), and how
/// many it has in all.
pub struct KbSection {
    pub category: Option<KbCategory>,
    pub articles: Vec<Article>,
    pub total: usize,
}

fn index_error(e: crate::search::SearchError) -> DeskError {
    DeskError::Conflict(format!("knowledge base index: {e}"))
}

/// The desk-wide counters of the knowledge base.
#[derive(Debug, Default, Clone, Copy)]
pub struct KbTotals {
    pub views: u64,
    pub suggested_opens: u64,
    pub deflections: u64,
}

impl Desk {
    /// A published public article.
    pub fn public_article(&self, id: ArticleId) -> Result<Article> {
        self.store.read()?.article(id)?.filter(Article::is_public).ok_or(DeskError::NotFound)
    }

    /// The help page's knowledge base: each category with its latest public
    /// articles (`per` at most) and how many it has; categories without
    /// any left out, articles in none last.
    pub fn public_kb(&self, per: usize) -> Result<Vec<KbSection>> {
        let Some(ix) = self.kb.index.get() else { return Ok(Vec::new()) };
        let mut out = Vec::new();
        let cats = self.kb_categories()?;
        let r = self.store.read()?;
        let wanted = cats.into_iter().map(Some).chain(std::iter::once(None));
        for c in wanted {
            let key = Some(c.as_ref().map(|c| c.id));
            let total = ix.count(Scope::Public, key).map_err(index_error)?;
            if total == 0 {
                continue;
            }
            let mut articles = Vec::new();
            for id in ix.latest(Scope::Public, key, 0, per).map_err(index_error)? {
                if let Some(a) = r.article(id)?.filter(Article::is_public) {
                    articles.push(a);
                }
            }
            out.push(KbSection { category: c, articles, total });
        }
        Ok(out)
    }

    /// One category's public articles (`None`: those in none), latest first,
    /// from `offset`; with the category and their number.
    pub fn public_category(&self, id: Option<KbCategoryId>, offset: usize, limit: usize) -> Result<KbSection> {
        let Some(ix) = self.kb.index.get() else { return Err(DeskError::NotFound) };
        let category = match id {
            Some(id) => Some(self.store.read()?.kb_category(id)?.ok_or(DeskError::NotFound)?),
            None => None,
        };
        let total = ix.count(Scope::Public, Some(id)).map_err(index_error)?;
        // A category customers have nothing in is not theirs to see (its
        // name may be internal); a page past the end costs nothing.
        if total == 0 {
            return Err(DeskError::NotFound);
        }
        let r = self.store.read()?;
        let mut articles = Vec::new();
        let page = if offset >= total { Vec::new() } else { ix.latest(Scope::Public, Some(id), offset, limit).map_err(index_error)? };
        for a in page {
            if let Some(a) = r.article(a)?.filter(Article::is_public) {
                articles.push(a);
            }
        }
        Ok(KbSection { category, articles, total })
    }

    /// Whether customers have any article to read.
    pub fn has_public_articles(&self) -> bool {
        self.kb.index.get().is_some_and(|ix| ix.count(Scope::Public, None).is_ok_and(|n| n > 0))
    }

    /// Public articles for what a customer is typing (`typing`: the last word
    /// may be unfinished).
    pub fn suggest_articles(&self, text: &str, typing: bool) -> Result<Vec<Article>> {
        let text: String = text.chars().take(300).collect();
        self.kb_search(None, &text, typing, false, SUGGESTIONS)
    }

    /// Other public articles like this one (its category first).
    pub fn related_articles(&self, a: &Article) -> Result<Vec<Article>> {
        let text = format!("{} {}", a.title, crate::domain::kb::excerpt(&a.body, 200));
        self.kb_find(&KbQuery {
            text: &text,
            scopes: &[Scope::Public],
            category: a.category,
            except: Some(a.id),
            limit: RELATED,
            ..Default::default()
        })
    }

    /// A customer opened an article (`suggested`: from the suggestions
    /// while typing a request). Counted in memory; written once a thousand
    /// wait, when an agent reads the counters, and every hour.
    pub fn count_article_view(&self, id: ArticleId, suggested: bool) -> Result<()> {
        let held = {
            let mut views = self.kb.views.lock().unwrap_or_else(|p| p.into_inner());
            let e = views.entry(id).or_default();
            e.0 += 1;
            e.1 += u64::from(suggested);
            views.values().map(|v| v.0).sum::<u64>()
        };
        if held >= VIEWS_HELD { self.write_article_views() } else { Ok(()) }
    }

    /// Writes the views counted in memory (without waiting for the disk).
    pub fn write_article_views(&self) -> Result<()> {
        let views = std::mem::take(&mut *self.kb.views.lock().unwrap_or_else(|p| p.into_inner()));
        if views.is_empty() {
            return Ok(());
        }
        self.store.write_fast(|w| {
            for (id, (seen, suggested)) in &views {
                if w.article(*id)?.is_some() {
                    w.count_article(*id, |s| {
                        s.views += seen;
                        s.suggested_opens += suggested;
                    })?;
                }
            }
            Ok::<_, DeskError>(())
        })
    }

    /// "Did this help?" on a public article; `suggested`: it was opened from
    /// a suggestion, so a yes is a request the customer did not need.
    pub fn article_feedback(&self, id: ArticleId, helpful: bool, suggested: bool) -> Result<()> {
        self.public_article(id)?;
        self.store.write(|w| {
            w.count_article(id, |s| match helpful {
                true => {
                    s.helpful += 1;
                    if suggested {
                        s.deflections += 1;
                    }
                }
                false => s.unhelpful += 1,
            })?;
            Ok::<_, DeskError>(())
        })
    }

    /// The counters of every article added up.
    pub fn kb_totals(&self) -> Result<KbTotals> {
        self.write_article_views()?;
        let mut t = KbTotals::default();
        for s in self.store.read()?.all_article_stats()?.values() {
            t.views += s.views;
            t.suggested_opens += s.suggested_opens;
            t.deflections += s.deflections;
        }
        Ok(t)
    }

    /// Public articles like a new ticket, for its acknowledgement mail:
    /// title and full address each (none when the desk has no index or no
    /// public article matches).
    pub(super) fn articles_for_mail(&self, subject: &str) -> Vec<serde_json::Value> {
        let Some(ix) = self.kb.index.get() else { return Vec::new() };
        if ix.is_empty() {
            return Vec::new();
        }
        let q = KbQuery { text: subject, scopes: &[Scope::Public], limit: IN_MAIL, ..Default::default() };
        let base = self.config().server.public_url.trim_end_matches('/').to_string();
        match self.kb_find(&q) {
            Ok(list) => list.iter().map(|a| serde_json::json!({"title": a.title, "url": format!("{base}{}", a.public_path())})).collect(),
            Err(e) => {
                tracing::warn!("no articles for the mail: {e}");
                Vec::new()
            }
        }
    }
}
