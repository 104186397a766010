//! The people directory (issue 18 part 9): everyone the desk knows, merged
//! people left out, with how many tickets each has asked, in the order the
//! agent picks; and the search for people by name or address.

use std::collections::HashMap;

use redb::ReadableTable;

use super::{IDX_REQUESTER, PEOPLE, PEOPLE_BY_EMAIL, Read, Result, codec};
use crate::domain::{Person, PersonId};

/// Orders of the directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DirectorySort {
    /// By name (or address when unnamed), A to Z.
    #[default]
    Name,
    /// The newest first.
    Newest,
    /// Most tickets first.
    Tickets,
}

impl DirectorySort {
    pub const ALL: &'static [DirectorySort] = &[DirectorySort::Name, DirectorySort::Newest, DirectorySort::Tickets];

    pub fn key(self) -> &'static str {
        match self {
            DirectorySort::Name => "name",
            DirectorySort::Newest => "newest",
            DirectorySort::Tickets => "tickets",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            DirectorySort::Name => "Name",
            DirectorySort::Newest => "Newest",
            DirectorySort::Tickets => "Most tickets",
        }
    }

    pub fn parse(s: &str) -> Option<DirectorySort> {
        DirectorySort::ALL.iter().copied().find(|d| d.key() == s)
    }
}

impl Read {
    /// People whose email starts with `q` or whose name or email contains it
    /// (case-insensitive), at most `max`, by email.
    pub fn search_people(&self, q: &str, max: usize) -> Result<Vec<Person>> {
        let q = q.trim().to_lowercase();
        let mut out: Vec<Person> = Vec::new();
        if q.is_empty() {
            return Ok(out);
        }
        // Email prefix first: an index range, cheap at any size.
        let by = self.tx.open_table(PEOPLE_BY_EMAIL)?;
        for row in by.range(q.as_str()..)? {
            let (k, v) = row?;
            if !k.value().starts_with(&q) || out.len() >= max {
                break;
            }
            if let Some(p) = self.person(PersonId(v.value()))?
                && !out.iter().any(|o| o.id == p.id)
            {
                out.push(p);
            }
        }
        // Then names and the rest of the address.
        let people = self.tx.open_table(PEOPLE)?;
        for row in people.iter()? {
            if out.len() >= max {
                break;
            }
            let p: Person = codec::decode_person(row?.1.value())?;
            if (p.name.to_lowercase().contains(&q) || p.email.contains(&q))
                && !out.iter().any(|o| o.id == p.id)
                && self.person_survivor(p.id)? == p.id
            {
                out.push(p);
            }
        }
        out.sort_by(|a, b| a.email.cmp(&b.email));
        Ok(out)
    }

    /// How many tickets each person asked (one pass over the requester index).
    pub fn ticket_counts(&self) -> Result<HashMap<PersonId, u64>> {
        let mut out: HashMap<PersonId, u64> = HashMap::new();
        for row in self.tx.open_table(IDX_REQUESTER)?.iter()? {
            *out.entry(PersonId(row?.0.value().0)).or_default() += 1;
        }
        Ok(out)
    }

    /// How many tickets `person` asked (their range of the requester index).
    pub fn ticket_count(&self, person: PersonId) -> Result<u64> {
        let t = self.tx.open_table(IDX_REQUESTER)?;
        let mut n = 0;
        for row in t.range((person.0, i64::MIN, 0)..=(person.0, i64::MAX, u64::MAX))? {
            row?;
            n += 1;
        }
        Ok(n)
    }

    /// Everyone not merged into someone else, in `sort` order, each with
    /// their ticket count.
    pub fn directory(&self, sort: DirectorySort) -> Result<Vec<(Person, u64)>> {
        let counts = self.ticket_counts()?;
        let mut out = Vec::new();
        for row in self.tx.open_table(PEOPLE)?.iter()? {
            let p: Person = codec::decode_person(row?.1.value())?;
            if self.person_survivor(p.id)? == p.id {
                let n = counts.get(&p.id).copied().unwrap_or(0);
                out.push((p, n));
            }
        }
        let name = |p: &Person| if p.name.trim().is_empty() { p.email.clone() } else { p.name.to_lowercase() };
        match sort {
            DirectorySort::Name => out.sort_by_cached_key(|(p, _)| (name(p), p.id)),
            DirectorySort::Newest => out.sort_by_key(|(p, _)| std::cmp::Reverse((p.created_at, p.id))),
            DirectorySort::Tickets => out.sort_by_key(|(p, n)| (std::cmp::Reverse(*n), name(p))),
        }
        Ok(out)
    }
}
