//! The knowledge base's vocabulary (issue 15 part 3): articles written in
//! Markdown by agents, in categories, each a draft or published and public
//! (on the help page) or internal (agents only), with every saved version
//! kept; the counters customers move (views, "did this help?", articles
//! opened from a suggestion while typing a request, and requests those
//! answered); and the pure text work on an article: its address slug, its
//! plain text (for the index, excerpts and a reply), its title rules.

use serde::{Deserialize, Serialize};

use super::ids::{ArticleId, KbCategoryId, PersonId};
use super::thread::AttachmentRef;
use super::time::Timestamp;

/// Longest title, in characters.
pub const TITLE_MAX: usize = 200;
/// Longest article source, in bytes.
pub const BODY_MAX: usize = 200_000;
/// Longest category name, in characters.
pub const CATEGORY_MAX: usize = 80;
/// Most files one article holds.
pub const FILES_MAX: usize = 30;

/// Whether customers may read it yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum ArticleState {
    #[default]
    Draft,
    Published,
}

impl ArticleState {
    pub const ALL: [ArticleState; 2] = [ArticleState::Draft, ArticleState::Published];

    /// The name in forms and the API.
    pub fn key(self) -> &'static str {
        match self {
            ArticleState::Draft => "draft",
            ArticleState::Published => "published",
        }
    }

    pub fn parse(s: &str) -> Option<ArticleState> {
        ArticleState::ALL.into_iter().find(|k| k.key().eq_ignore_ascii_case(s.trim()))
    }
}

/// Who may read it once published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Audience {
    /// Customers, on the help page (and agents).
    #[default]
    Public,
    /// Agents only.
    Internal,
}

impl Audience {
    pub const ALL: [Audience; 2] = [Audience::Public, Audience::Internal];

    pub fn key(self) -> &'static str {
        match self {
            Audience::Public => "public",
            Audience::Internal => "internal",
        }
    }

    pub fn parse(s: &str) -> Option<Audience> {
        Audience::ALL.into_iter().find(|k| k.key().eq_ignore_ascii_case(s.trim()))
    }
}

/// Where an article is found: what the search index filters on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Published and public: customers see it.
    Public,
    /// Published and internal: agents only.
    Internal,
    /// Not published.
    Draft,
}

impl Scope {
    pub fn key(self) -> &'static str {
        match self {
            Scope::Public => "public",
            Scope::Internal => "internal",
            Scope::Draft => "draft",
        }
    }
}

/// A group of articles on the help page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KbCategory {
    pub id: KbCategoryId,
    pub name: String,
    pub description: String,
    /// Lower comes first.
    pub position: u32,
}

/// An article as it stands now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Article {
    pub id: ArticleId,
    pub title: String,
    /// Markdown.
    pub body: String,
    pub category: Option<KbCategoryId>,
    pub state: ArticleState,
    pub audience: Audience,
    pub created_at: Timestamp,
    pub created_by: PersonId,
    pub updated_at: Timestamp,
    pub updated_by: PersonId,
    /// The number of the latest saved version (1 for a new article).
    pub revision: u32,
    /// Files and images, referenced from the Markdown by name.
    pub files: Vec<AttachmentRef>,
}

impl Article {
    pub fn scope(&self) -> Scope {
        match (self.state, self.audience) {
            (ArticleState::Draft, _) => Scope::Draft,
            (ArticleState::Published, Audience::Public) => Scope::Public,
            (ArticleState::Published, Audience::Internal) => Scope::Internal,
        }
    }

    /// Customers may read it.
    pub fn is_public(&self) -> bool {
        self.scope() == Scope::Public
    }

    /// Its address on the help page: the number and a slug of the title.
    pub fn public_path(&self) -> String {
        let s = slug(&self.title);
        if s.is_empty() { format!("/help/kb/{}", self.id) } else { format!("/help/kb/{}-{s}", self.id) }
    }

    /// The file of that name.
    pub fn file(&self, name: &str) -> Option<&AttachmentRef> {
        self.files.iter().find(|f| f.filename == name)
    }
}

/// One saved version of an article, kept for its history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Revision {
    pub rev: u32,
    pub title: String,
    pub body: String,
    pub state: ArticleState,
    pub audience: Audience,
    pub category: Option<KbCategoryId>,
    pub at: Timestamp,
    pub by: PersonId,
    /// The file names it had.
    pub files: Vec<String>,
}

/// What customers did with an article.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ArticleStats {
    pub views: u64,
    pub helpful: u64,
    pub unhelpful: u64,
    /// Opened from the suggestions shown while typing a request.
    pub suggested_opens: u64,
    /// Of those, the customer said it helped: a request that was not needed.
    pub deflections: u64,
}

/// The article number at the start of an address part (`12-reset-a-password`).
pub fn id_of_path(part: &str) -> Option<ArticleId> {
    let (digits, rest) = part.split_at(part.find(|c: char| !c.is_ascii_digit()).unwrap_or(part.len()));
    if !(rest.is_empty() || rest.starts_with('-')) {
        return None;
    }
    digits.parse().ok().map(ArticleId)
}

/// A title as an address part: lower-case letters and digits of any
/// script, everything else one `-`, at most 60 characters.
pub fn slug(title: &str) -> String {
    let mut out = String::new();
    for c in title.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
        if out.chars().count() >= 60 {
            break;
        }
    }
    out.trim_end_matches('-').to_string()
}

/// `text` as one line, trimmed: `Err` with `empty` or `long` when it is
/// empty or longer than `max` characters.
fn one_line(text: &str, max: usize, (empty, long): (&'static str, &'static str)) -> Result<String, &'static str> {
    let t = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if t.is_empty() {
        Err(empty)
    } else if t.chars().count() > max {
        Err(long)
    } else {
        Ok(t)
    }
}

/// A title as kept: one line, trimmed; `Err` says why not.
pub fn check_title(title: &str) -> Result<String, &'static str> {
    one_line(title, TITLE_MAX, ("An article needs a title.", "That title is too long (200 characters at most)."))
}

/// A category name as kept.
pub fn check_category(name: &str) -> Result<String, &'static str> {
    one_line(name, CATEGORY_MAX, ("A category needs a name.", "That name is too long (80 characters at most)."))
}

/// An article source as kept: line ends made `\n`, trailing space trimmed.
pub fn clean_body(body: &str) -> Result<String, &'static str> {
    let b = body.replace("\r\n", "\n").replace('\r', "\n").trim_end().to_string();
    if b.len() > BODY_MAX { Err("That article is too long (200,000 bytes at most).") } else { Ok(b) }
}

/// The first `max` characters of an article's plain text, cut at a word.
pub fn excerpt(markdown: &str, max: usize) -> String {
    let text = super::markdown::plain_text(markdown);
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let cut: String = flat.chars().take(max).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > max / 2 => cut[..i].to_string(),
        _ => cut,
    };
    format!("{}…", cut.trim_end_matches([',', '.', ';', ':']))
}

/// A published public article of that number and title, for tests.
#[cfg(test)]
pub(crate) fn sample_article(id: u64, title: &str) -> Article {
    Article {
        id: ArticleId(id),
        title: title.into(),
        body: String::new(),
        category: None,
        state: ArticleState::Published,
        audience: Audience::Public,
        created_at: Timestamp(0),
        created_by: PersonId(1),
        updated_at: Timestamp(0),
        updated_by: PersonId(1),
        revision: 1,
        files: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn slugs_and_paths() {
        assert_eq!(slug("How do I reset my password?"), "how-do-i-reset-my-password");
        assert_eq!(slug("  VPN — Über die Grenze  "), "vpn-über-die-grenze");
        assert_eq!(slug("???"), "");
        assert_eq!(id_of_path("12-how-do-i"), Some(ArticleId(12)));
        assert_eq!(id_of_path("12"), Some(ArticleId(12)));
        assert_eq!(id_of_path("12abc"), None);
        assert_eq!(id_of_path("x-12"), None);
        assert_eq!(id_of_path(""), None);
    }

    #[test]
    fn titles_bodies_and_excerpts() {
        assert_eq!(check_title("  Reset\n a   password "), Ok("Reset a password".into()));
        assert!(check_title(" \n").is_err());
        assert!(check_title(&"x".repeat(201)).is_err());
        assert_eq!(clean_body("a\r\nb  \r\n"), Ok("a\nb".into()));
        assert!(clean_body(&"x".repeat(BODY_MAX + 1)).is_err());
        assert_eq!(excerpt("# Title\n\nSome **bold** text.", 100), "Title Some bold text.");
        let long = excerpt(&"word ".repeat(100), 30);
        assert!(long.ends_with('…') && long.chars().count() <= 31, "{long}");
    }

    #[test]
    fn scope_follows_state_and_audience() {
        let mut a = Article { state: ArticleState::Draft, ..sample_article(1, "T") };
        assert_eq!(a.scope(), Scope::Draft);
        a.state = ArticleState::Published;
        assert!(a.is_public());
        a.audience = Audience::Internal;
        assert_eq!(a.scope(), Scope::Internal);
        assert_eq!(ArticleState::parse("Published"), Some(ArticleState::Published));
        assert_eq!(Audience::parse("internal"), Some(Audience::Internal));
    }

    proptest! {
        #[test]
        fn slug_and_excerpt_never_panic_and_stay_in_bounds(s in any::<String>(), n in 1usize..200) {
            let sl = slug(&s);
            prop_assert!(sl.chars().count() <= 60);
            prop_assert!(!sl.starts_with('-') && !sl.ends_with('-'));
            let _ = id_of_path(&s);
            let e = excerpt(&s, n);
            prop_assert!(e.chars().count() <= n + 1);
        }
    }
}
