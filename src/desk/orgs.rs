//! Organizations from the desk's side (issue 15 part 5, the API of issue
//! 17): customer companies with their address domains. A person joins the
//! organization of their address's domain when the desk first meets them
//! (and when an organization gains the domain); an agent can put anyone in
//! another organization or none. Staff see every organization; each one's
//! people are filtered by the agent's department walls; changes need
//! `people.edit`.

use super::{Desk, DeskError, Result, invalid};
use crate::domain::orgs::{Organization, check_name, domain_of, normalize_domain};
use crate::domain::roles::Permission;
use crate::domain::{OrgId, Person, PersonId};
use crate::store::Write;

/// Most people an organization page lists.
pub const MAX_PEOPLE: usize = 500;

/// What an organization is made or changed with.
#[derive(Debug, Clone, Default)]
pub struct OrgInput {
    pub name: String,
    pub domains: Vec<String>,
    pub notes: String,
    pub shared: bool,
}

/// An organization with the people the agent may see, and how many it has.
#[derive(Debug, Clone)]
pub struct OrgView {
    pub org: Organization,
    pub people: Vec<Person>,
    pub size: usize,
}

impl Desk {
    /// Every organization with its number of people.
    pub fn organizations(&self, actor: &Person) -> Result<Vec<(Organization, usize)>> {
        if !actor.is_staff() {
            return Err(DeskError::NotFound);
        }
        let r = self.store.read()?;
        let mut out = Vec::new();
        for o in r.orgs()? {
            let n = r.org_size(o.id)?;
            out.push((o, n));
        }
        Ok(out)
    }

    /// One organization and its people.
    pub fn organization(&self, actor: &Person, id: OrgId) -> Result<OrgView> {
        if !actor.is_staff() {
            return Err(DeskError::NotFound);
        }
        let r = self.store.read()?;
        let org = r.org(id)?.ok_or(DeskError::NotFound)?;
        let mut people = Vec::new();
        for pid in r.org_people(id, MAX_PEOPLE)? {
            if let Some(p) = r.person(pid)?
                && Self::may_see_person(&r, actor, &p)?
            {
                people.push(p);
            }
        }
        people.sort_by_key(|p| p.display().to_lowercase());
        Ok(OrgView { size: r.org_size(id)?, org, people })
    }

    /// The organization a person belongs to.
    pub fn org_of_person(&self, person: PersonId) -> Result<Option<Organization>> {
        let r = self.store.read()?;
        match r.org_of(person)? {
            Some(o) => Ok(r.org(o)?),
            None => Ok(None),
        }
    }

    /// The organization names of these people (those in one).
    pub fn org_names_of(&self, people: &[PersonId]) -> Result<std::collections::HashMap<PersonId, String>> {
        let r = self.store.read()?;
        let mut names: std::collections::HashMap<OrgId, String> = std::collections::HashMap::new();
        let mut out = std::collections::HashMap::new();
        for &p in people {
            let Some(o) = r.org_of(p)? else { continue };
            if let std::collections::hash_map::Entry::Vacant(v) = names.entry(o) {
                v.insert(r.org(o)?.map(|o| o.name).unwrap_or_default());
            }
            out.insert(p, names.get(&o).cloned().unwrap_or_default());
        }
        Ok(out)
    }

    /// The organization called `name` (any case).
    pub fn org_named(&self, name: &str) -> Result<Option<Organization>> {
        let r = self.store.read()?;
        match r.org_by_name(name)? {
            Some(o) => Ok(r.org(o)?),
            None => Ok(None),
        }
    }

    /// A checked name and domains, none of them another organization's.
    fn checked_org(w: &Write, input: &OrgInput, me: Option<OrgId>) -> Result<(String, Vec<String>)> {
        let name = check_name(&input.name).map_err(|e| invalid("name", e))?;
        if w.org_by_name(&name)?.is_some_and(|o| Some(o) != me) {
            return Err(invalid("name", crate::tr!("{value} is the name of another organization", value = format!("{name:?}"))));
        }
        if input.notes.len() > 20_000 {
            return Err(invalid("notes", "at most 20 000 bytes"));
        }
        let mut domains: Vec<String> = Vec::new();
        for d in &input.domains {
            let d = normalize_domain(d)
                .ok_or_else(|| invalid("domains", crate::tr!("{value} is not a domain like example.com", value = format!("{d:?}"))))?;
            if let Some(o) = w.org_by_domain(&d)?.filter(|o| Some(*o) != me) {
                let other = w.org(o)?.map(|o| o.name).unwrap_or_default();
                return Err(invalid("domains", crate::tr!("{domain} belongs to {org}", domain = d, org = other)));
            }
            if !domains.contains(&d) {
                domains.push(d);
            }
        }
        if domains.len() > 50 {
            return Err(invalid("domains", "at most 50 domains"));
        }
        Ok((name, domains))
    }

    /// People at `domains` who are in no organization join `org`.
    fn gather(&self, w: &mut Write, org: OrgId, domains: &[String]) -> Result<()> {
        for d in domains {
            for pid in w.people_at_domain(d)? {
                if w.org_of(pid)?.is_none() && w.person(pid)?.is_some_and(|p| !p.is_staff()) {
                    w.set_person_org(pid, Some(org))?;
                }
            }
        }
        Ok(())
    }

    /// Applies `[[organization]]`: each is made when the desk has none of
    /// its name, else its domains (added to those it has) and sharing are
    /// set; the people of its domains who have none join it. A domain that
    /// another organization holds stays there (logged). Returns how many
    /// organizations it made.
    pub fn apply_config_orgs(&self) -> Result<usize> {
        let cfg = self.config();
        if cfg.organization.is_empty() {
            return Ok(0);
        }
        let now = self.now();
        self.store.write(|w| {
            let mut made = 0;
            for o in &cfg.organization {
                let existing = match w.org_by_name(o.name.trim())? {
                    Some(id) => w.org(id)?,
                    None => None,
                };
                let mut domains: Vec<String> = existing.as_ref().map(|e| e.domains.clone()).unwrap_or_default();
                for d in o.domains.iter().filter_map(|d| normalize_domain(d)) {
                    match w.org_by_domain(&d)? {
                        Some(holder) if Some(holder) != existing.as_ref().map(|e| e.id) => {
                            tracing::warn!("[[organization]] {:?}: {d} belongs to another organization; left there", o.name);
                        }
                        _ if !domains.contains(&d) => domains.push(d),
                        _ => {}
                    }
                }
                let org = match &existing {
                    Some(e) if e.domains == domains && e.shared == o.shared => continue,
                    Some(e) => Organization { domains, shared: o.shared, ..e.clone() },
                    None => {
                        made += 1;
                        let name = check_name(&o.name).map_err(|m| invalid("name", m))?;
                        Organization {
                            id: OrgId(w.next_id("org")?),
                            name,
                            domains,
                            notes: String::new(),
                            shared: o.shared,
                            created_at: now,
                        }
                    }
                };
                w.put_org(existing.as_ref(), &org)?;
                self.gather(w, org.id, &org.domains)?;
            }
            Ok(made)
        })
    }

    /// A new organization; the people of its domains who have none join it.
    pub fn create_org(&self, actor: &Person, input: OrgInput) -> Result<Organization> {
        if !actor.is_staff() {
            return Err(DeskError::NotFound);
        }
        self.require(actor, Permission::People)?;
        let now = self.now();
        self.store.write(|w| {
            let (name, domains) = Self::checked_org(w, &input, None)?;
            let org = Organization {
                id: OrgId(w.next_id("org")?),
                name,
                domains,
                notes: input.notes.clone(),
                shared: input.shared,
                created_at: now,
            };
            w.put_org(None, &org)?;
            self.gather(w, org.id, &org.domains)?;
            Ok(org)
        })
    }

    /// Changes an organization; people of domains it gains who have none
    /// join it (people of a domain it drops stay until moved).
    pub fn update_org(&self, actor: &Person, id: OrgId, input: OrgInput) -> Result<Organization> {
        if !actor.is_staff() {
            return Err(DeskError::NotFound);
        }
        self.require(actor, Permission::People)?;
        self.store.write(|w| {
            let old = w.org(id)?.ok_or(DeskError::NotFound)?;
            let (name, domains) = Self::checked_org(w, &input, Some(id))?;
            let gained: Vec<String> = domains.iter().filter(|d| !old.domains.contains(d)).cloned().collect();
            let org = Organization { name, domains, notes: input.notes.clone(), shared: input.shared, ..old.clone() };
            w.put_org(Some(&old), &org)?;
            self.gather(w, id, &gained)?;
            Ok(org)
        })
    }

    /// Merges `from` into `into`: its people and domains move over, `from` goes.
    pub fn merge_orgs(&self, actor: &Person, from: OrgId, into: OrgId) -> Result<Organization> {
        if !actor.is_staff() {
            return Err(DeskError::NotFound);
        }
        self.require(actor, Permission::People)?;
        if from == into {
            return Err(invalid("into", "an organization cannot be merged into itself"));
        }
        self.store.write(|w| {
            let gone = w.org(from)?.ok_or(DeskError::NotFound)?;
            let old = w.org(into)?.ok_or_else(|| invalid("into", "no such organization"))?;
            for pid in w.org_people(from, usize::MAX)? {
                w.set_person_org(pid, Some(into))?;
            }
            w.delete_org(&gone)?;
            let mut kept = old.clone();
            kept.domains.extend(gone.domains.iter().filter(|d| !old.domains.contains(d)).cloned());
            if !gone.notes.trim().is_empty() {
                kept.notes = format!("{}\n\n{} (merged): {}", kept.notes.trim_end(), gone.name, gone.notes.trim()).trim_start().to_string();
            }
            w.put_org(Some(&old), &kept)?;
            Ok(kept)
        })
    }

    /// Puts a person in an organization, or none.
    pub fn set_person_org(&self, actor: &Person, person: PersonId, org: Option<OrgId>) -> Result<()> {
        if !actor.is_staff() {
            return Err(DeskError::NotFound);
        }
        self.require(actor, Permission::People)?;
        self.check_person_within(actor, person.0)?;
        self.store.write(|w| {
            let p = w.person(person)?.ok_or(DeskError::NotFound)?;
            if p.is_staff() {
                return Err(invalid("organization", "agents belong to no customer organization"));
            }
            if let Some(o) = org
                && w.org(o)?.is_none()
            {
                return Err(invalid("organization", "no such organization"));
            }
            w.set_person_org(person, org)?;
            Ok(())
        })
    }

    /// A person the desk has just met joins the organization of their domain.
    pub(super) fn join_org_by_domain(w: &mut Write, p: &Person) -> Result<()> {
        let Some(domain) = domain_of(&p.email) else { return Ok(()) };
        // The domain or the nearest parent domain an organization holds.
        let mut d = domain.as_str();
        loop {
            if let Some(o) = w.org_by_domain(d)? {
                w.set_person_org(p.id, Some(o))?;
                return Ok(());
            }
            match d.split_once('.') {
                Some((_, rest)) if rest.contains('.') => d = rest,
                _ => return Ok(()),
            }
        }
    }
}
