//! @mentions in internal notes: the handles a note names (`@bob`,
//! `@bob.smith`, `@bob@example.test`) and which agent a handle means — an
//! address, its local part, or a first name when only one agent has it.

use super::people::Person;

/// The handles in `text`, in order, each once: `@` at the start or after
/// whitespace or an opening bracket, then letters, digits, `.`, `_`, `-`
/// (and `@domain` for a whole address); trailing dots are not part of it.
pub fn handles(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (_, _, h) in spans(text) {
        if !out.contains(&h) {
            out.push(h);
        }
    }
    out
}

/// Where each mention is in `text`: (start, end) byte offsets of `@handle`
/// in `text` itself, and the handle in lower case.
pub fn spans(text: &str) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let mut prev: Option<char> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if c == '@' && prev.is_none_or(|p| p.is_whitespace() || "([{<\"'".contains(p)) {
            let mut h = String::new();
            while let Some(&(_, n)) = chars.peek() {
                if n.is_alphanumeric() || matches!(n, '.' | '_' | '-') || (n == '@' && !h.contains('@') && !h.is_empty()) {
                    h.push(n);
                    chars.next();
                } else {
                    break;
                }
            }
            let kept = h.trim_end_matches(['.', '-', '@']);
            if !kept.is_empty() && kept.chars().count() <= 254 {
                out.push((start, start + 1 + kept.len(), kept.to_lowercase()));
            }
            prev = Some('x');
            continue;
        }
        prev = Some(c);
    }
    out
}

/// The one agent among `agents` a handle means, if exactly one.
pub fn resolve<'a>(handle: &str, agents: &'a [Person]) -> Option<&'a Person> {
    let local = |p: &Person| p.email.split('@').next().unwrap_or("").to_lowercase();
    let first = |p: &Person| p.name.split_whitespace().next().unwrap_or("").to_lowercase();
    let by = |f: &dyn Fn(&Person) -> bool| -> Option<&'a Person> {
        let mut found = agents.iter().filter(|p| f(p));
        match (found.next(), found.next()) {
            (Some(p), None) => Some(p),
            _ => None,
        }
    };
    by(&|p| p.email.eq_ignore_ascii_case(handle)).or_else(|| by(&|p| local(p) == handle)).or_else(|| by(&|p| first(p) == handle))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{PersonId, Role, Timestamp};
    use proptest::prelude::*;

    fn agent(id: u64, email: &str, name: &str) -> Person {
        Person {
            id: PersonId(id),
            email: email.into(),
            name: name.into(),
            role: Role::Agent,
            password_hash: String::new(),
            active: true,
            departments: Vec::new(),
            created_at: Timestamp(0),
            role_name: String::new(),
            teams: Vec::new(),
        }
    }

    #[test]
    fn handles_are_found_where_a_mention_can_start() {
        assert_eq!(handles("@bob please check, cc (@ann.lee) and @eve@x.test."), ["bob", "ann.lee", "eve@x.test"]);
        assert!(handles("mail me at bob@example.test").is_empty(), "an address is not a mention");
        assert_eq!(handles("@Bob and @bob again"), ["bob"]);
        assert!(handles("@ alone, @. and @-").is_empty());
    }

    #[test]
    fn a_handle_means_one_agent_or_none() {
        let agents = [
            agent(1, "bob@example.test", "Bob Smith"),
            agent(2, "ann@example.test", "Ann Lee"),
            agent(3, "ann.b@example.test", "Ann Berg"),
        ];
        assert_eq!(resolve("bob", &agents).map(|p| p.id), Some(PersonId(1)));
        assert_eq!(resolve("ann@example.test", &agents).map(|p| p.id), Some(PersonId(2)));
        assert_eq!(resolve("ann.b", &agents).map(|p| p.id), Some(PersonId(3)));
        assert_eq!(resolve("ann", &agents).map(|p| p.id), Some(PersonId(2)), "a local part before a shared first name");
        assert_eq!(resolve("smith", &agents), None);
    }

    proptest! {
        #[test]
        fn any_text_gives_clean_handles(text in "\\PC{0,200}") {
            for h in handles(&text) {
                prop_assert!(!h.is_empty() && !h.starts_with('@') && !h.ends_with('.'));
                prop_assert!(h.chars().all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@')));
            }
        }
    }
}
