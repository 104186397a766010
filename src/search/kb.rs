//! The knowledge base's own tantivy index, under `<data-dir>/kb-search/`: one
//! document per article (title, text, category, scope, last change), searched by the
//! help page (and listed there by category), the suggestions shown while a customer types a request, the
//! related articles, and the agents' reply box. Free text matches any of its
//! words (title weighted highest), and while typing the last word also as
//! the start of a word. Every commit records the knowledge base's generation
//! (`store/kb.rs`); an index whose generation is not the store's is rebuilt
//! from the store when the desk starts.

use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, RangeQuery, TermQuery};
use tantivy::schema::{Field, INDEXED, IndexRecordOption, NumericOptions, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value};
use tantivy::{Index, IndexReader, ReloadPolicy, TantivyDocument, Term};

use super::{Result, cjk};
use crate::domain::kb::{Article, Scope};
use crate::domain::{ArticleId, KbCategoryId};

const VERSION: &str = "frontdesk-kb-1";
const VERSION_FILE: &str = "frontdesk-version";
/// The shortest last word matched as the start of a word.
const PREFIX_MIN: usize = 3;

#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    title: Field,
    body: Field,
    scope: Field,
    category: Field,
    updated: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default().set_tokenizer(cjk::STEMMED).set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let f = Fields {
        id: b.add_u64_field("id", NumericOptions::default().set_indexed().set_fast() | STORED),
        title: b.add_text_field("title", text.clone()),
        body: b.add_text_field("body", text),
        scope: b.add_text_field("scope", STRING),
        category: b.add_u64_field("category", INDEXED),
        updated: b.add_i64_field("updated", NumericOptions::default().set_fast()),
    };
    (b.build(), f)
}

/// What a search asks for.
#[derive(Debug, Clone, Default)]
pub struct KbQuery<'a> {
    pub text: &'a str,
    /// The scopes it may return (none: nothing).
    pub scopes: &'a [Scope],
    /// The last word may be the start of a longer one (typing).
    pub typing: bool,
    /// Prefer this category (related articles).
    pub category: Option<KbCategoryId>,
    /// Leave this one out (related articles).
    pub except: Option<ArticleId>,
    pub limit: usize,
}

pub struct KbIndex {
    index: Index,
    reader: IndexReader,
    f: Fields,
    /// Held while writing: one writer at a time, made for each change.
    writing: Mutex<()>,
    dir: PathBuf,
}

impl KbIndex {
    /// Opens (or creates) the index under `data_dir`.
    pub fn open(data_dir: &Path) -> Result<KbIndex> {
        let dir = data_dir.join("kb-search");
        let (schema, f) = schema();
        let ok = std::fs::read_to_string(dir.join(VERSION_FILE)).is_ok_and(|v| v.trim() == VERSION);
        let existing = if ok { crate::jobs::guard_result(|| Index::open_in_dir(&dir).map_err(|e| e.to_string())).ok() } else { None };
        let index = match existing {
            Some(i) => i,
            None => {
                if dir.exists() {
                    std::fs::remove_dir_all(&dir)?;
                }
                std::fs::create_dir_all(&dir)?;
                let i = Index::create_in_dir(&dir, schema)?;
                std::fs::write(dir.join(VERSION_FILE), VERSION)?;
                i
            }
        };
        cjk::register(&index);
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        Ok(KbIndex { index, reader, f, writing: Mutex::new(()), dir })
    }

    /// The store generation its last commit recorded.
    pub fn generation(&self) -> u64 {
        self.index.load_metas().ok().and_then(|m| m.payload).and_then(|p| p.trim().parse().ok()).unwrap_or(u64::MAX)
    }

    fn doc(&self, a: &Article) -> TantivyDocument {
        let f = self.f;
        let mut d = TantivyDocument::default();
        d.add_u64(f.id, a.id.0);
        d.add_text(f.title, &a.title);
        d.add_text(f.body, crate::domain::markdown::plain_text(&a.body));
        d.add_text(f.scope, a.scope().key());
        d.add_u64(f.category, a.category.map_or(0, |c| c.0));
        d.add_i64(f.updated, a.updated_at.0);
        d
    }

    /// Writes these articles (`Ok(None)`: deleted) and records `generation`;
    /// `all` replaces every document first.
    pub fn write(&self, changed: &[(ArticleId, Option<Article>)], generation: u64, all: bool) -> Result<()> {
        let _one = self.writing.lock().unwrap_or_else(|p| p.into_inner());
        let mut w: tantivy::IndexWriter = self.index.writer_with_num_threads(1, 15_000_000)?;
        if all {
            w.delete_all_documents()?;
        }
        for (id, a) in changed {
            if !all {
                w.delete_term(Term::from_field_u64(self.f.id, id.0));
            }
            if let Some(a) = a {
                w.add_document(self.doc(a))?;
            }
        }
        let mut commit = w.prepare_commit()?;
        commit.set_payload(&generation.to_string());
        commit.commit()?;
        w.wait_merging_threads()?;
        self.reader.reload()?;
        Ok(())
    }

    /// Article numbers matching `q`, best first.
    pub fn search(&self, q: &KbQuery) -> Result<Vec<ArticleId>> {
        let f = self.f;
        let mut words: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (field, boost) in [(f.title, 3.0), (f.body, 1.0)] {
            let mut tok = self.index.tokenizer_for_field(field)?;
            let mut stream = tok.token_stream(q.text);
            while stream.advance() {
                let t = TermQuery::new(Term::from_field_text(field, &stream.token().text), IndexRecordOption::WithFreqs);
                words.push((Occur::Should, Box::new(BoostQuery::new(Box::new(t), boost))));
            }
        }
        if q.typing
            && !q.text.ends_with(char::is_whitespace)
            && let Some(last) = q.text.split_whitespace().last()
        {
            let last: String = last.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect();
            if last.chars().count() >= PREFIX_MIN {
                for (field, boost) in [(f.title, 2.0), (f.body, 0.5)] {
                    let range = RangeQuery::new(
                        Bound::Included(Term::from_field_text(field, &last)),
                        Bound::Excluded(Term::from_field_text(field, &format!("{last}\u{10FFFF}"))),
                    );
                    words.push((Occur::Should, Box::new(BoostQuery::new(Box::new(range), boost))));
                }
            }
        }
        if words.is_empty() || q.scopes.is_empty() || q.limit == 0 {
            return Ok(Vec::new());
        }
        let scopes: Vec<(Occur, Box<dyn Query>)> = q
            .scopes
            .iter()
            .map(|s| {
                (
                    Occur::Should,
                    Box::new(TermQuery::new(Term::from_field_text(f.scope, s.key()), IndexRecordOption::Basic)) as Box<dyn Query>,
                )
            })
            .collect();
        let mut all: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Must, Box::new(BooleanQuery::new(words))), (Occur::Must, Box::new(BooleanQuery::new(scopes)))];
        if let Some(c) = q.category {
            let t = TermQuery::new(Term::from_field_u64(f.category, c.0), IndexRecordOption::Basic);
            all.push((Occur::Should, Box::new(BoostQuery::new(Box::new(t), 2.0))));
        }
        if let Some(x) = q.except {
            all.push((Occur::MustNot, Box::new(TermQuery::new(Term::from_field_u64(f.id, x.0), IndexRecordOption::Basic))));
        }
        let searcher = self.reader.searcher();
        let top = searcher.search(&BooleanQuery::new(all), &TopDocs::with_limit(q.limit))?;
        let mut out = Vec::with_capacity(top.len());
        for (_, addr) in top {
            let doc: TantivyDocument = searcher.doc(addr)?;
            if let Some(id) = doc.get_first(f.id).and_then(|v| v.as_u64()) {
                out.push(ArticleId(id));
            }
        }
        Ok(out)
    }

    /// The query for articles of `scope` in a category (`Some(None)`: in
    /// none; `None`: any).
    fn listed(&self, scope: Scope, category: Option<Option<KbCategoryId>>) -> BooleanQuery {
        let f = self.f;
        let mut must: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Must, Box::new(TermQuery::new(Term::from_field_text(f.scope, scope.key()), IndexRecordOption::Basic)))];
        if let Some(c) = category {
            let t = Term::from_field_u64(f.category, c.map_or(0, |c| c.0));
            must.push((Occur::Must, Box::new(TermQuery::new(t, IndexRecordOption::Basic))));
        }
        BooleanQuery::new(must)
    }

    /// How many articles of `scope` a category holds.
    pub fn count(&self, scope: Scope, category: Option<Option<KbCategoryId>>) -> Result<usize> {
        Ok(self.reader.searcher().search(&self.listed(scope, category), &tantivy::collector::Count)?)
    }

    /// Articles of `scope` in a category, last changed first, from `offset`.
    pub fn latest(&self, scope: Scope, category: Option<Option<KbCategoryId>>, offset: usize, limit: usize) -> Result<Vec<ArticleId>> {
        let searcher = self.reader.searcher();
        let top = TopDocs::with_limit(limit.max(1)).and_offset(offset).order_by_fast_field::<i64>("updated", tantivy::Order::Desc);
        let mut out = Vec::new();
        for (_, addr) in searcher.search(&self.listed(scope, category), &top)? {
            let doc: TantivyDocument = searcher.doc(addr)?;
            if let Some(id) = doc.get_first(self.f.id).and_then(|v| v.as_u64()) {
                out.push(ArticleId(id));
            }
        }
        Ok(out)
    }

    /// Documents in the index.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Where it lives.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::kb::{ArticleState, Audience};

    fn article(id: u64, title: &str, body: &str, audience: Audience) -> Article {
        Article { body: body.into(), category: Some(KbCategoryId(1)), audience, ..crate::domain::kb::sample_article(id, title) }
    }

    #[test]
    fn finds_by_words_and_by_the_start_of_the_last_word_within_scope() {
        let dir = tempfile::tempdir().unwrap();
        let ix = KbIndex::open(dir.path()).unwrap();
        assert_eq!(ix.generation(), u64::MAX, "a new index has no generation");
        let a = article(1, "Resetting your password", "Use the **Forgot password** link.", Audience::Public);
        let b = article(2, "VPN setup", "Install the client, then sign in.", Audience::Public);
        let c = article(3, "Password vault (internal)", "Admins only.", Audience::Internal);
        let mut d = article(4, "Password draft", "Not yet.", Audience::Public);
        d.state = ArticleState::Draft;
        let all: Vec<_> = [a, b, c, d].into_iter().map(|a| (a.id, Some(a))).collect();
        ix.write(&all, 7, true).unwrap();
        assert_eq!(ix.generation(), 7);
        let public = [Scope::Public];
        let q = |text, typing, scopes| KbQuery { text, scopes, typing, limit: 5, ..Default::default() };
        assert_eq!(ix.search(&q("reset passwords", false, &public)).unwrap(), vec![ArticleId(1)]);
        assert_eq!(ix.search(&q("I cannot reset my passw", true, &public)).unwrap(), vec![ArticleId(1)]);
        assert!(ix.search(&q("passw", false, &public)).unwrap().is_empty(), "a part of a word is a prefix only while typing");
        let agents = [Scope::Public, Scope::Internal];
        let mut found = ix.search(&q("password", false, &agents)).unwrap();
        found.sort();
        assert_eq!(found, vec![ArticleId(1), ArticleId(3)]);
        assert!(ix.search(&q("", true, &public)).unwrap().is_empty());
        // An update replaces the document; a deletion removes it.
        let mut b2 = article(2, "VPN setup", "Install the client. Reset the password if asked.", Audience::Public);
        b2.revision = 2;
        ix.write(&[(ArticleId(1), None), (ArticleId(2), Some(b2))], 8, false).unwrap();
        assert_eq!(ix.search(&q("reset password", false, &public)).unwrap(), vec![ArticleId(2)]);
        assert_eq!(ix.len(), 3);
        let related = KbQuery { except: Some(ArticleId(2)), category: Some(KbCategoryId(1)), ..q("VPN password", false, &agents) };
        assert_eq!(ix.search(&related).unwrap(), vec![ArticleId(3)]);
        assert_eq!(ix.count(Scope::Public, None).unwrap(), 1);
        assert_eq!(ix.count(Scope::Public, Some(Some(KbCategoryId(1)))).unwrap(), 1);
        assert_eq!(ix.count(Scope::Public, Some(None)).unwrap(), 0);
        assert_eq!(ix.latest(Scope::Public, None, 0, 10).unwrap(), vec![ArticleId(2)]);
        drop(ix);
        let again = KbIndex::open(dir.path()).unwrap();
        assert_eq!((again.generation(), again.len()), (8, 3), "kept across a reopen");
    }
}
