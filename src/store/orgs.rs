//! Organizations and who belongs to them: the records, unique names and
//! domains, each person's organization and each organization's people. A
//! change of membership marks the person's tickets for reindexing (search
//! finds them by `org:`).

use redb::{ReadableTable, TableDefinition};

use super::{PEOPLE_BY_EMAIL, Read, Result, Write, codec};
use crate::domain::orgs::Organization;
use crate::domain::{OrgId, PersonId};

/// Org id → its record.
pub(crate) const ORGS: TableDefinition<u64, &[u8]> = TableDefinition::new("orgs");
/// Lower-case name → org id.
pub(crate) const ORG_BY_NAME: TableDefinition<&str, u64> = TableDefinition::new("org_by_name");
/// Domain → org id.
pub(crate) const ORG_BY_DOMAIN: TableDefinition<&str, u64> = TableDefinition::new("org_by_domain");
/// Person id → org id.
pub(crate) const PERSON_ORG: TableDefinition<u64, u64> = TableDefinition::new("person_org");
/// (org id, person id): an organization's people.
pub(crate) const ORG_PEOPLE: TableDefinition<(u64, u64), ()> = TableDefinition::new("org_people");

fn org_in(t: &impl ReadableTable<u64, &'static [u8]>, id: OrgId) -> Result<Option<Organization>> {
    t.get(id.0)?.map(|v| codec::decode(v.value(), "orgs")).transpose()
}

fn all_in(t: &impl ReadableTable<u64, &'static [u8]>) -> Result<Vec<Organization>> {
    let mut out: Vec<Organization> = Vec::new();
    for row in t.iter()? {
        out.push(codec::decode(row?.1.value(), "orgs")?);
    }
    out.sort_by_key(|o| o.name.to_lowercase());
    Ok(out)
}

fn people_in(t: &impl ReadableTable<(u64, u64), ()>, org: OrgId, max: usize) -> Result<Vec<PersonId>> {
    let mut out = Vec::new();
    for row in t.range((org.0, 0)..=(org.0, u64::MAX))? {
        out.push(PersonId(row?.0.value().1));
        if out.len() >= max {
            break;
        }
    }
    Ok(out)
}

macro_rules! org_reads {
    () => {
        pub fn org(&self, id: OrgId) -> Result<Option<Organization>> {
            org_in(&self.tx.open_table(ORGS)?, id)
        }

        /// Every organization, by name.
        pub fn orgs(&self) -> Result<Vec<Organization>> {
            all_in(&self.tx.open_table(ORGS)?)
        }

        /// The organization a person belongs to.
        pub fn org_of(&self, person: PersonId) -> Result<Option<OrgId>> {
            Ok(self.tx.open_table(PERSON_ORG)?.get(person.0)?.map(|v| OrgId(v.value())))
        }

        /// An organization's people, at most `max`.
        pub fn org_people(&self, org: OrgId, max: usize) -> Result<Vec<PersonId>> {
            people_in(&self.tx.open_table(ORG_PEOPLE)?, org, max)
        }

        /// How many people an organization has.
        pub fn org_size(&self, org: OrgId) -> Result<usize> {
            Ok(self.tx.open_table(ORG_PEOPLE)?.range((org.0, 0)..=(org.0, u64::MAX))?.count())
        }

        pub fn org_by_name(&self, name: &str) -> Result<Option<OrgId>> {
            Ok(self.tx.open_table(ORG_BY_NAME)?.get(name.trim().to_lowercase().as_str())?.map(|v| OrgId(v.value())))
        }

        pub fn org_by_domain(&self, domain: &str) -> Result<Option<OrgId>> {
            Ok(self.tx.open_table(ORG_BY_DOMAIN)?.get(domain)?.map(|v| OrgId(v.value())))
        }
    };
}

impl Read {
    org_reads!();
}

impl Write {
    org_reads!();

    /// Stores an organization and keeps its name and domains unique (the
    /// caller checked that none is another's).
    pub fn put_org(&mut self, old: Option<&Organization>, new: &Organization) -> Result<()> {
        let mut names = self.tx.open_table(ORG_BY_NAME)?;
        let mut domains = self.tx.open_table(ORG_BY_DOMAIN)?;
        if let Some(o) = old {
            names.remove(o.name.to_lowercase().as_str())?;
            for d in &o.domains {
                domains.remove(d.as_str())?;
            }
        }
        names.insert(new.name.to_lowercase().as_str(), new.id.0)?;
        for d in &new.domains {
            domains.insert(d.as_str(), new.id.0)?;
        }
        self.tx.open_table(ORGS)?.insert(new.id.0, codec::encode(new).as_slice())?;
        Ok(())
    }

    /// Removes an organization (its people must have moved already).
    pub fn delete_org(&mut self, org: &Organization) -> Result<()> {
        self.tx.open_table(ORG_BY_NAME)?.remove(org.name.to_lowercase().as_str())?;
        let mut domains = self.tx.open_table(ORG_BY_DOMAIN)?;
        for d in &org.domains {
            domains.remove(d.as_str())?;
        }
        self.tx.open_table(ORGS)?.remove(org.id.0)?;
        Ok(())
    }

    /// Puts a person in an organization (or none); their tickets are reindexed.
    pub fn set_person_org(&mut self, person: PersonId, org: Option<OrgId>) -> Result<()> {
        let old = self.org_of(person)?;
        if old == org {
            return Ok(());
        }
        let mut members = self.tx.open_table(ORG_PEOPLE)?;
        let mut of = self.tx.open_table(PERSON_ORG)?;
        if let Some(o) = old {
            members.remove((o.0, person.0))?;
        }
        match org {
            Some(o) => {
                members.insert((o.0, person.0), ())?;
                of.insert(person.0, o.0)?;
            }
            None => {
                of.remove(person.0)?;
            }
        }
        drop((members, of));
        let ids = self.requester_ticket_ids(person)?;
        self.touch(ids.into_iter().map(|i| i.0));
        Ok(())
    }

    /// People whose address is at `domain` or one of its subdomains (a scan
    /// of the address index: run when an organization gains a domain).
    pub fn people_at_domain(&self, domain: &str) -> Result<Vec<PersonId>> {
        let mut out = Vec::new();
        let at = format!("@{domain}");
        let dot = format!(".{domain}");
        for row in self.tx.open_table(PEOPLE_BY_EMAIL)?.iter()? {
            let (email, id) = row?;
            let email = email.value();
            if email.ends_with(&at) || email.rsplit_once('@').is_some_and(|(_, d)| d.ends_with(&dot)) {
                out.push(PersonId(id.value()));
            }
        }
        Ok(out)
    }
}

/// The tables, created at open.
pub(crate) fn create_tables(tx: &redb::WriteTransaction) -> Result<()> {
    tx.open_table(ORGS)?;
    tx.open_table(ORG_BY_NAME)?;
    tx.open_table(ORG_BY_DOMAIN)?;
    tx.open_table(PERSON_ORG)?;
    tx.open_table(ORG_PEOPLE)?;
    Ok(())
}
