//! People from the desk's side: a requester's name and the agents' notes
//! about them, merging two requesters, and following merges. Who may see
//! whom is `walls`.

use super::{Desk, DeskError, Result, invalid};
use crate::domain::roles::Permission;
use crate::domain::{Event, Person, PersonId};
use crate::store::DirectorySort;

impl Desk {
    /// A contact by address: the one the desk has (false), or a new one
    /// (true). Needs `people.edit`.
    pub fn add_person(&self, actor: &Person, email: &str, name: &str) -> Result<(Person, bool)> {
        if !actor.is_staff() {
            return Err(DeskError::NotFound);
        }
        self.require(actor, Permission::People)?;
        if name.trim().chars().count() > 200 {
            return Err(invalid("name", "at most 200 characters"));
        }
        let email = crate::domain::people::normalize_email(email)
            .ok_or_else(|| invalid("email", crate::tr!("{value} is not an email address", value = format!("{email:?}"))))?;
        if let Some(p) = self.store.read()?.person_by_email(&email)? {
            self.check_person_within(actor, p.id.0)?;
            return Ok((p, false));
        }
        let now = self.now();
        self.store.write(|w| Ok((Self::requester_in(w, &email, name.trim(), now)?, true)))
    }

    /// Edits a requester's name and the agents' notes about them.
    pub fn update_person(&self, actor: &Person, id: PersonId, name: &str, notes: &str) -> Result<Person> {
        if !actor.is_staff() {
            return Err(DeskError::NotFound);
        }
        self.require(actor, Permission::People)?;
        self.check_person_within(actor, id.0)?;
        let name = name.trim();
        if name.chars().count() > 200 {
            return Err(invalid("name", "at most 200 characters"));
        }
        if notes.len() > 20_000 {
            return Err(invalid("notes", "at most 20 000 bytes"));
        }
        self.store.write(|w| {
            let mut p = w.person(id)?.ok_or(DeskError::NotFound)?;
            if p.is_staff() && !actor.is_admin() {
                return Err(DeskError::Forbidden("agents are edited by admins under Agents".into()));
            }
            if p.name != name {
                p.name = name.to_string();
                w.put_person(&p)?;
            }
            w.set_person_notes(id, notes)?;
            Ok(p)
        })
    }

    /// Merges two requesters (one customer, two addresses): `from`'s tickets move
    /// to `into`, and mail from either address is `into`'s from now on.
    pub fn merge_people(&self, actor: &Person, from: PersonId, into_email: &str) -> Result<Person> {
        if !actor.is_staff() {
            return Err(DeskError::NotFound);
        }
        self.require(actor, Permission::People)?;
        let email = into_email.trim().to_lowercase();
        self.check_person_within(actor, from.0)?;
        if let Some(dst) = self.store.read()?.person_by_email(&email)? {
            self.check_person_within(actor, dst.id.0)?;
        }
        let now = self.now();
        self.store.write(|w| {
            let src = w.person(from)?.ok_or(DeskError::NotFound)?;
            let dst = w
                .person_by_email(&email)?
                .ok_or_else(|| invalid("into", crate::tr!("nobody has the address {value}", value = format!("{email:?}"))))?;
            let dst = w.person(w.person_survivor(dst.id)?)?.ok_or(DeskError::NotFound)?;
            if src.id == dst.id {
                return Err(invalid("into", "a person cannot be merged into themselves"));
            }
            if src.is_staff() || dst.is_staff() {
                return Err(invalid("into", "only requesters can be merged, not agents"));
            }
            let ids = w.merge_people(&src, &dst)?;
            let what = Event::RequesterMerged {
                from: format!("{} <{}>", src.display(), src.email),
                to: format!("{} <{}>", dst.display(), dst.email),
            };
            for id in ids {
                w.append_entry(&mut Self::event(id, Some(actor.id), what.clone(), now))?;
            }
            Ok(dst)
        })
    }

    pub fn person_notes(&self, actor: &Person, id: PersonId) -> Result<String> {
        self.person(actor, id)?;
        Ok(self.store.read()?.person_notes(id)?)
    }

    pub fn person_survivor(&self, id: PersonId) -> Result<PersonId> {
        Ok(self.store.read()?.person_survivor(id)?)
    }

    /// Everyone `actor` may see, in `sort` order, with their ticket counts:
    /// the page of `per` starting at `offset`, and how many there are.
    pub fn directory(&self, actor: &Person, sort: DirectorySort, offset: usize, per: usize) -> Result<(Vec<(Person, u64)>, usize)> {
        if !actor.is_staff() {
            return Err(DeskError::NotFound);
        }
        let r = self.store.read()?;
        let walls = Self::walls(actor);
        let mut all = Vec::new();
        for (p, n) in r.directory(sort)? {
            if !Self::may_see_person(&r, actor, &p)? {
                continue;
            }
            let n = match &walls {
                Some(_) => Self::visible_count(&r, actor, &p)?,
                None => n,
            };
            all.push((p, n));
        }
        if walls.is_some() && sort == DirectorySort::Tickets {
            all.sort_by_key(|(p, n)| (std::cmp::Reverse(*n), p.display().to_lowercase()));
        }
        let total = all.len();
        Ok((all.into_iter().skip(offset).take(per).collect(), total))
    }

    /// How many tickets each of `people` asked that `actor` may open (a
    /// search's few: each person's own range, not a pass over every ticket).
    pub fn ticket_counts_of(&self, actor: &Person, people: &[Person]) -> Result<Vec<u64>> {
        let r = self.store.read()?;
        people.iter().map(|p| Self::visible_count(&r, actor, p)).collect()
    }

    /// The tickets `p` asked that `actor` may open: behind department walls
    /// only those in the agent's departments count.
    fn visible_count(r: &crate::store::Read, actor: &Person, p: &Person) -> Result<u64> {
        match Self::walls(actor) {
            Some(depts) if !p.is_staff() => {
                let q = crate::store::TicketQuery {
                    requester: Some(p.id.0),
                    visible_departments: Some(depts.to_vec()),
                    limit: 10_000,
                    ..Default::default()
                };
                Ok(r.query(&q)?.0.len() as u64)
            }
            _ => Ok(r.ticket_count(p.id)?),
        }
    }
}
