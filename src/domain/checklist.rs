//! A ticket's checklist (osTicket tasks, Zammad checklists): items with
//! done/undone, an optional assignee and due date, and the "2/5" the queue
//! shows.

use serde::{Deserialize, Serialize};

use super::ids::{ChecklistItemId, PersonId};
use super::time::{Date, Timestamp};

/// Longest item text.
pub const TEXT_MAX: usize = 300;
/// Most items on one ticket.
pub const ITEMS_MAX: usize = 100;

/// One item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecklistItem {
    /// Unique across the desk (never reused).
    pub id: ChecklistItemId,
    pub text: String,
    pub done: bool,
    pub assignee: Option<PersonId>,
    pub due: Option<Date>,
    pub created_at: Timestamp,
}

/// (done, total) of a list.
pub fn progress(items: &[ChecklistItem]) -> (usize, usize) {
    (items.iter().filter(|i| i.done).count(), items.len())
}

/// The item text as kept: one line, trimmed, at most `TEXT_MAX` characters;
/// `None` when nothing is left.
pub fn clean_text(text: &str) -> Option<String> {
    let one: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let t: String = one.chars().take(TEXT_MAX).collect();
    let t = t.trim_end().to_string();
    (!t.is_empty()).then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn progress_counts_done_items() {
        let item = |id, done| ChecklistItem {
            id: ChecklistItemId(id),
            text: "x".into(),
            done,
            assignee: None,
            due: None,
            created_at: Timestamp(0),
        };
        assert_eq!(progress(&[item(1, true), item(2, false), item(3, true)]), (2, 3));
        assert_eq!(progress(&[]), (0, 0));
    }

    proptest! {
        #[test]
        fn cleaned_text_is_one_bounded_line(text in "\\PC{0,400}|[ \\t\\r\\n]{0,5}") {
            if let Some(t) = clean_text(&text) {
                prop_assert!(!t.contains(['\r', '\n', '\t']));
                prop_assert!(t.chars().count() <= TEXT_MAX);
                prop_assert_eq!(t.trim(), t.as_str());
            } else {
                prop_assert!(text.trim().is_empty());
            }
        }
    }
}
