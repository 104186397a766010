//! The knowledge base's records: articles, categories, every saved version
//! of an article, and its counters. Every change of an article moves the
//! knowledge base's generation, which the article index records with its
//! commits: an index behind the store is rebuilt at start. An article's
//! files are blobs it holds (released when it goes).

use redb::{ReadableTable, TableDefinition};

use super::{Read, Result, Write, codec};
use crate::domain::kb::{Article, ArticleStats, KbCategory, Revision};
use crate::domain::{ArticleId, KbCategoryId};

/// Article id → the article now.
pub(crate) const KB_ARTICLES: TableDefinition<u64, &[u8]> = TableDefinition::new("kb_articles");
/// Category id → category.
pub(crate) const KB_CATEGORIES: TableDefinition<u64, &[u8]> = TableDefinition::new("kb_categories");
/// (article id, version) → that version.
pub(crate) const KB_REVISIONS: TableDefinition<(u64, u32), &[u8]> = TableDefinition::new("kb_revisions");
/// Article id → its counters.
pub(crate) const KB_STATS: TableDefinition<u64, &[u8]> = TableDefinition::new("kb_stats");

/// The meta key of the generation.
const GENERATION: &str = "kb.generation";

macro_rules! kb_reads {
    () => {
        pub fn article(&self, id: ArticleId) -> Result<Option<Article>> {
            let t = self.tx.open_table(KB_ARTICLES)?;
            t.get(id.0)?.map(|v| codec::decode(v.value(), "kb_articles")).transpose()
        }

        /// Every article, by number.
        pub fn articles(&self) -> Result<Vec<Article>> {
            let t = self.tx.open_table(KB_ARTICLES)?;
            let mut out = Vec::new();
            for row in t.iter()? {
                out.push(codec::decode(row?.1.value(), "kb_articles")?);
            }
            Ok(out)
        }

        /// Every category, in their order.
        pub fn kb_categories(&self) -> Result<Vec<KbCategory>> {
            let t = self.tx.open_table(KB_CATEGORIES)?;
            let mut out: Vec<KbCategory> = Vec::new();
            for row in t.iter()? {
                out.push(codec::decode(row?.1.value(), "kb_categories")?);
            }
            out.sort_by(|a, b| a.position.cmp(&b.position).then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase())));
            Ok(out)
        }

        pub fn kb_category(&self, id: KbCategoryId) -> Result<Option<KbCategory>> {
            let t = self.tx.open_table(KB_CATEGORIES)?;
            t.get(id.0)?.map(|v| codec::decode(v.value(), "kb_categories")).transpose()
        }

        /// An article's saved versions, newest first.
        pub fn revisions(&self, id: ArticleId) -> Result<Vec<Revision>> {
            let t = self.tx.open_table(KB_REVISIONS)?;
            let mut out = Vec::new();
            for row in t.range((id.0, 0)..=(id.0, u32::MAX))? {
                out.push(codec::decode(row?.1.value(), "kb_revisions")?);
            }
            out.reverse();
            Ok(out)
        }

        pub fn revision(&self, id: ArticleId, rev: u32) -> Result<Option<Revision>> {
            let t = self.tx.open_table(KB_REVISIONS)?;
            t.get((id.0, rev))?.map(|v| codec::decode(v.value(), "kb_revisions")).transpose()
        }

        pub fn article_stats(&self, id: ArticleId) -> Result<ArticleStats> {
            let t = self.tx.open_table(KB_STATS)?;
            Ok(t.get(id.0)?.map(|v| codec::decode(v.value(), "kb_stats")).transpose()?.unwrap_or_default())
        }

        /// Every article's counters.
        pub fn all_article_stats(&self) -> Result<std::collections::HashMap<ArticleId, ArticleStats>> {
            let t = self.tx.open_table(KB_STATS)?;
            let mut out = std::collections::HashMap::new();
            for row in t.iter()? {
                let (k, v) = row?;
                out.insert(ArticleId(k.value()), codec::decode(v.value(), "kb_stats")?);
            }
            Ok(out)
        }

        /// How many changes the knowledge base has seen.
        pub fn kb_generation(&self) -> Result<u64> {
            self.meta(GENERATION)
        }
    };
}

impl Read {
    kb_reads!();
}

impl Write {
    kb_reads!();

    /// Stores an article (`old`: as it was) and its version record; its
    /// files are held, those it dropped released.
    pub fn put_article(&mut self, old: Option<&Article>, a: &Article) -> Result<()> {
        // An article holds each distinct content once, whatever the number
        // of its files with that content.
        let (now, before) = (blobs_of(Some(a)), blobs_of(old));
        for b in now.iter().filter(|b| !before.contains(b)) {
            self.hold_blob(b)?;
        }
        for b in before.iter().filter(|b| !now.contains(b)) {
            self.release_blob(b)?;
        }
        self.tx.open_table(KB_ARTICLES)?.insert(a.id.0, codec::encode(a).as_slice())?;
        if old.is_none_or(|o| o.revision != a.revision) {
            let rev = Revision {
                rev: a.revision,
                title: a.title.clone(),
                body: a.body.clone(),
                state: a.state,
                audience: a.audience,
                category: a.category,
                at: a.updated_at,
                by: a.updated_by,
                files: a.files.iter().map(|f| f.filename.clone()).collect(),
            };
            self.tx.open_table(KB_REVISIONS)?.insert((a.id.0, a.revision), codec::encode(&rev).as_slice())?;
        }
        self.bump(GENERATION, 1)?;
        Ok(())
    }

    /// Deletes an article with its versions and counters; its files are released.
    pub fn delete_article(&mut self, a: &Article) -> Result<()> {
        for b in blobs_of(Some(a)) {
            self.release_blob(&b)?;
        }
        self.tx.open_table(KB_ARTICLES)?.remove(a.id.0)?;
        self.tx.open_table(KB_STATS)?.remove(a.id.0)?;
        {
            let mut revs = self.tx.open_table(KB_REVISIONS)?;
            let keys: Vec<u32> = revs
                .range((a.id.0, 0)..=(a.id.0, u32::MAX))?
                .map(|r| r.map(|(k, _)| k.value().1))
                .collect::<std::result::Result<_, _>>()?;
            for k in keys {
                revs.remove((a.id.0, k))?;
            }
        }
        self.bump(GENERATION, 1)?;
        Ok(())
    }

    pub fn put_kb_category(&mut self, c: &KbCategory) -> Result<()> {
        self.tx.open_table(KB_CATEGORIES)?.insert(c.id.0, codec::encode(c).as_slice())?;
        self.bump(GENERATION, 1)?;
        Ok(())
    }

    pub fn delete_kb_category(&mut self, id: KbCategoryId) -> Result<()> {
        self.tx.open_table(KB_CATEGORIES)?.remove(id.0)?;
        self.bump(GENERATION, 1)?;
        Ok(())
    }

    /// Changes an article's counters.
    pub fn count_article(&mut self, id: ArticleId, f: impl FnOnce(&mut ArticleStats)) -> Result<()> {
        let mut s = self.article_stats(id)?;
        f(&mut s);
        self.tx.open_table(KB_STATS)?.insert(id.0, codec::encode(&s).as_slice())?;
        Ok(())
    }
}

/// The distinct blobs of an article's files.
pub(crate) fn blobs_of(a: Option<&Article>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for f in a.map(|a| a.files.as_slice()).unwrap_or_default() {
        if !out.contains(&f.blob) {
            out.push(f.blob.clone());
        }
    }
    out
}

pub(crate) fn create_tables(tx: &redb::WriteTransaction) -> Result<()> {
    tx.open_table(KB_ARTICLES)?;
    tx.open_table(KB_CATEGORIES)?;
    tx.open_table(KB_REVISIONS)?;
    tx.open_table(KB_STATS)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use crate::domain::kb::Article;
    use crate::domain::thread::AttachmentRef;

    /// An article with the same content under two names holds it once:
    /// deleting the article leaves it to the other record that holds it.
    #[test]
    fn an_article_holds_each_content_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let content = b"a screenshot".repeat(20);
        let id = store
            .write(|w| -> Result<String> {
                let id = w.put_blob(&content)?;
                w.put_junk(&mut JunkMail::sample(0, &id))?;
                Ok(id)
            })
            .unwrap();
        let file = |name: &str| AttachmentRef { filename: name.into(), content_type: "image/png".into(), size: 240, blob: id.clone() };
        let a = Article { files: vec![file("a.png"), file("b.png")], ..crate::domain::kb::sample_article(1, "T") };
        store.write(|w| -> Result<()> { w.put_article(None, &a) }).unwrap();
        assert_eq!(store.read().unwrap().blob_refs(&id).unwrap(), Some(2), "the junk mail and the article");
        store.write(|w| -> Result<()> { w.delete_article(&a) }).unwrap();
        let r = store.read().unwrap();
        assert_eq!(r.blob_refs(&id).unwrap(), Some(1));
        assert_eq!(r.blob(&id).unwrap().as_deref(), Some(&content[..]), "still there for the junk mail");
    }
}
