//! People in and out as CSV (issue 15 part 5), and their phone numbers:
//! the export lists every requester the agent may see (name, email, phone,
//! organization, notes); the import reads the same columns (by their header,
//! any order, others ignored; an empty cell changes nothing), adds the
//! people it does not know and updates those it does, puts them in
//! organizations by name (made when missing), all in one transaction of at
//! most `IMPORT_MAX` rows, and says per row what it skipped and why.

use super::{Desk, DeskError, Result, invalid};
use crate::domain::csv;
use crate::domain::orgs::{Organization, check_name};
use crate::domain::people::normalize_email;
use crate::domain::roles::Permission;
use crate::domain::{OrgId, Person, PersonId};
use crate::store::DirectorySort;

/// Most rows one import takes (one transaction).
pub const IMPORT_MAX: usize = 10_000;

/// The columns, in the export's order.
pub const COLUMNS: [&str; 5] = ["name", "email", "phone", "organization", "notes"];

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    pub organizations_created: usize,
    /// (row number in the file, why).
    pub skipped: Vec<(usize, String)>,
}

/// A phone number as kept (trimmed), or why not: digits with the usual
/// separators, a leading +, an extension.
pub fn check_phone(phone: &str) -> std::result::Result<String, String> {
    let p = phone.split_whitespace().collect::<Vec<_>>().join(" ");
    let digits = p.chars().filter(char::is_ascii_digit).count();
    let allowed = p.chars().all(|c| c.is_ascii_digit() || " +-()./x".contains(c) || c == 'e' || c == 't');
    if p.is_empty() {
        Ok(p)
    } else if p.chars().count() > 40 || digits < 3 || !allowed {
        Err(crate::tr!("{value} is not a phone number", value = format!("{phone:?}")))
    } else {
        Ok(p)
    }
}

impl Desk {
    /// A person's phone number (staff only).
    pub fn person_phone(&self, actor: &Person, id: PersonId) -> Result<String> {
        if !actor.is_staff() {
            return Err(DeskError::NotFound);
        }
        Ok(self.store.read()?.person_phone(id)?)
    }

    /// Sets a requester's phone number (`people.edit`).
    pub fn set_person_phone(&self, actor: &Person, id: PersonId, phone: &str) -> Result<()> {
        if !actor.is_staff() {
            return Err(DeskError::NotFound);
        }
        self.require(actor, Permission::People)?;
        self.check_person_within(actor, id.0)?;
        let phone = check_phone(phone).map_err(|m| invalid("phone", m))?;
        self.store.write(|w| {
            let p = w.person(id)?.ok_or(DeskError::NotFound)?;
            if p.is_staff() && !actor.is_admin() {
                return Err(DeskError::Forbidden("agents are edited by admins under Agents".into()));
            }
            w.set_person_phone(id, &phone)?;
            Ok(())
        })
    }

    /// Every requester the agent may see, as CSV (`tickets.export`).
    pub fn people_csv(&self, actor: &Person) -> Result<String> {
        if !actor.is_staff() {
            return Err(DeskError::NotFound);
        }
        self.require(actor, Permission::Export)?;
        let r = self.store.read()?;
        let mut out = COLUMNS.join(",") + "\r\n";
        for (p, _) in r.directory(DirectorySort::Name)? {
            if p.role.is_staff() || !Self::may_see_person(&r, actor, &p)? {
                continue;
            }
            let org = match r.org_of(p.id)? {
                Some(o) => r.org(o)?.map(|o| o.name).unwrap_or_default(),
                None => String::new(),
            };
            let row = [p.name.clone(), p.email.clone(), r.person_phone(p.id)?, org, r.person_notes(p.id)?];
            out.push_str(&row.iter().map(|c| csv::cell(c)).collect::<Vec<_>>().join(","));
            out.push_str("\r\n");
        }
        Ok(out)
    }

    /// Reads people from CSV (`people.edit`): a header row naming the
    /// columns (`email` needed), then one person per row.
    pub fn import_people(&self, actor: &Person, text: &str) -> Result<ImportReport> {
        if !actor.is_staff() {
            return Err(DeskError::NotFound);
        }
        self.require(actor, Permission::People)?;
        if Self::walls(actor).is_some() {
            // An import reaches the whole directory.
            return Err(DeskError::Forbidden(crate::tr!("Importing people needs an agent who works in every department.").into()));
        }
        let rows = csv::parse(text).map_err(|e| {
            invalid(
                "file",
                match e {
                    csv::ParseError::Unclosed { line } => crate::tr!("Line {n}: a quoted cell never ends.", n = line),
                    csv::ParseError::TooManyRows => crate::tr!("At most {n} rows at once; please split the file.", n = IMPORT_MAX),
                },
            )
        })?;
        if rows.len() > IMPORT_MAX {
            // One transaction holds the writer: a bigger file goes in parts.
            return Err(invalid("file", crate::tr!("At most {n} rows at once; please split the file.", n = IMPORT_MAX)));
        }
        let Some((header, rows)) = rows.split_first() else { return Err(invalid("file", crate::tr!("The file is empty."))) };
        let col = |name: &str| header.iter().position(|h| h.trim().eq_ignore_ascii_case(name));
        let Some(email_col) = col("email") else {
            return Err(invalid("file", crate::tr!("The first row names the columns, and one of them is email.")));
        };
        let (name_col, phone_col, notes_col) = (col("name"), col("phone"), col("notes"));
        let org_col = col("organization").or_else(|| col("company"));
        let now = self.now();
        self.store.write(|w| {
            let mut report = ImportReport::default();
            for (i, row) in rows.iter().enumerate() {
                let line = i + 2;
                let get = |c: Option<usize>| c.and_then(|c| row.get(c)).map(|v| csv::value(v.trim()).to_string());
                let raw = get(Some(email_col)).unwrap_or_default();
                let Some(email) = normalize_email(&raw) else {
                    report.skipped.push((line, crate::tr!("{value} is not an email address", value = format!("{raw:?}"))));
                    continue;
                };
                let name = get(name_col).unwrap_or_default();
                if name.chars().count() > 200 {
                    report.skipped.push((line, crate::tr!("the name is longer than 200 characters").into()));
                    continue;
                }
                // An empty cell leaves what the desk has (a spreadsheet's
                // blank column erases nothing).
                let given = |c: Option<usize>| get(c).filter(|v| !v.trim().is_empty());
                let phone = match given(phone_col).map(|p| check_phone(&p)).transpose() {
                    Ok(p) => p,
                    Err(m) => {
                        report.skipped.push((line, m));
                        continue;
                    }
                };
                let notes = given(notes_col);
                if notes.as_ref().is_some_and(|n| n.len() > 20_000) {
                    report.skipped.push((line, crate::tr!("the notes are longer than 20,000 bytes").into()));
                    continue;
                }
                let org = given(org_col);
                let org_name = match org.as_deref().map(check_name).transpose() {
                    Ok(o) => o,
                    Err(m) => {
                        report.skipped.push((line, crate::i18n::dynamic(&m)));
                        continue;
                    }
                };
                let person = match w.person_by_email(&email)? {
                    Some(p) if p.role.is_staff() => {
                        report.skipped.push((line, crate::tr!("{email} is an agent's address", email = email)));
                        continue;
                    }
                    Some(mut p) => {
                        if !name.is_empty() && p.name != name {
                            p.name = name.clone();
                            w.put_person(&p)?;
                        }
                        report.updated += 1;
                        p
                    }
                    None => {
                        report.created += 1;
                        Self::requester_in(w, &email, &name, now)?
                    }
                };
                if let Some(phone) = phone {
                    w.set_person_phone(person.id, &phone)?;
                }
                if let Some(notes) = notes {
                    w.set_person_notes(person.id, &notes)?;
                }
                if let Some(name) = org_name {
                    let id = Some(self.org_for_import(w, &name, now, &mut report)?);
                    if w.org_of(person.id)? != id {
                        w.set_person_org(person.id, id)?;
                    }
                }
            }
            Ok(report)
        })
    }

    /// The organization of that name, made when the desk has none.
    fn org_for_import(
        &self,
        w: &mut crate::store::Write,
        name: &str,
        now: crate::domain::Timestamp,
        report: &mut ImportReport,
    ) -> Result<OrgId> {
        if let Some(id) = w.org_by_name(name)? {
            return Ok(id);
        }
        let name = check_name(name).map_err(|m| invalid("organization", m))?;
        let org =
            Organization { id: OrgId(w.next_id("org")?), name, domains: Vec::new(), notes: String::new(), shared: false, created_at: now };
        w.put_org(None, &org)?;
        report.organizations_created += 1;
        Ok(org.id)
    }
}
