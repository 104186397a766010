//! Satisfaction ratings: the requester's verdict on a resolved ticket, good
//! or bad, with an optional comment. One per ticket; a later answer replaces
//! the earlier one.

use serde::{Deserialize, Serialize};

use super::ids::PersonId;
use super::time::Timestamp;

/// Longest comment kept with a rating, in characters.
pub const COMMENT_MAX: usize = 2000;

/// The two answers the resolved mail offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Score {
    Good,
    Bad,
}

impl Score {
    pub const ALL: [Score; 2] = [Score::Good, Score::Bad];

    /// The name in links, the API and the search box (`rating:bad`).
    pub fn key(self) -> &'static str {
        match self {
            Score::Good => "good",
            Score::Bad => "bad",
        }
    }

    pub fn parse(s: &str) -> Option<Score> {
        Score::ALL.into_iter().find(|k| k.key().eq_ignore_ascii_case(s.trim()))
    }

    /// For people.
    pub fn label(self) -> &'static str {
        match self {
            Score::Good => "Good",
            Score::Bad => "Bad",
        }
    }
}

/// A ticket's rating.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rating {
    pub score: Score,
    /// What the requester added (may be empty).
    pub comment: String,
    pub at: Timestamp,
    pub by: PersonId,
}

/// A comment as it is kept: line ends made `\n`, trimmed, at most
/// `COMMENT_MAX` characters (`Err` with the count when longer).
pub fn clean_comment(text: &str) -> Result<String, usize> {
    let text = text.replace("\r\n", "\n").trim().to_string();
    let n = text.chars().count();
    if n > COMMENT_MAX { Err(n) } else { Ok(text) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn scores_by_key() {
        assert_eq!(Score::parse("Bad"), Some(Score::Bad));
        assert_eq!(Score::parse(" good "), Some(Score::Good));
        assert_eq!(Score::parse("meh"), None);
        for s in Score::ALL {
            assert_eq!(Score::parse(s.key()), Some(s));
        }
    }

    #[test]
    fn comments_are_trimmed_and_bounded() {
        assert_eq!(clean_comment("  slow\r\nbut fine \n"), Ok("slow\nbut fine".to_string()));
        assert_eq!(clean_comment(&"é".repeat(COMMENT_MAX)).map(|c| c.chars().count()), Ok(COMMENT_MAX));
        assert_eq!(clean_comment(&"x".repeat(COMMENT_MAX + 1)), Err(COMMENT_MAX + 1));
    }

    proptest! {
        #[test]
        fn any_comment_is_cleaned_or_refused(text in ".{0,64}") {
            if let Ok(c) = clean_comment(&text) {
                prop_assert_eq!(c.trim(), c.as_str());
                prop_assert!(!c.contains("\r\n"));
            }
        }
    }
}
