//! Customers signing in without a password: "see my tickets" on the help
//! page mails a link that works once, for `portal.link_minutes` (its page
//! has a button: link scanners that open every link in a mail use nothing);
//! using it gives a session of `portal.session_days` in a signed cookie
//! (ended for every browser when the customer signs out) that lists their
//! tickets (those they asked, those they are copied on, and, when their
//! organization shares them, its members'), each
//! opening through its own signed ticket link. The answer to
//! a request is the same whether or not the address is known (no way to
//! learn who writes to the desk), requests count per client address, and
//! at most one link a minute goes to an address.

use super::{Desk, DeskError, Result};
use crate::domain::people::normalize_email;
use crate::domain::workflow::NoticeKind;
use crate::domain::{Person, PersonId, Ticket};
use crate::store::TicketQuery;

/// The most tickets the list shows (newest first).
const LIST_MAX: usize = 200;
/// The most colleagues whose tickets a shared organization's list reads.
const ORG_PEOPLE_MAX: usize = 500;

/// A ticket on a customer's list.
pub struct CustomerTicket {
    pub ticket: Ticket,
    /// The path of its signed link, for this customer.
    pub path: String,
    /// Its requester's name when it is a colleague's (a shared organization).
    pub from: Option<String>,
}

fn link_claim(person: u64, expires: i64) -> String {
    format!("signin:{person}:{expires}")
}

/// What a session cookie signs: whose it is, when it began, until when.
fn session_claim(person: u64, issued: i64, expires: i64) -> String {
    format!("customer:{person}:{issued}:{expires}")
}

impl Desk {
    /// "Mail me a link to my tickets", first step: counts the request
    /// against its client (`RateLimited` when it asks too often); then
    /// `send_portal_link` mails a sign-in link to a customer the desk knows
    /// (not an agent), when `reference` (if given) is one of their tickets.
    /// Nothing tells either way.
    pub fn count_portal_request(&self, client: &str) -> Result<()> {
        if !self.can_mail_links() {
            return Err(DeskError::Conflict(crate::tr!("this desk cannot send mail; please write to us by email").into()));
        }
        let per_ip = self.config().security.login_failures_per_ip;
        let key = format!("portal:ip:{}", super::requests::client_key(client));
        self.count_attempt(&[(&key, per_ip)], self.now().0)
    }

    /// The work of a counted request (`count_portal_request`), meant to run
    /// apart from the answer so its time says nothing about the address.
    pub fn send_portal_link(&self, email: &str, reference: &str) -> Result<()> {
        let Some(email) = normalize_email(email) else { return Ok(()) };
        let r = self.store.read()?;
        let Some(p) = r.person_by_email(&email)?.filter(|p| !p.is_staff()) else { return Ok(()) };
        if !reference.trim().is_empty() {
            let theirs =
                self.parse_reference(reference.trim()).and_then(|id| r.ticket(id).ok().flatten()).is_some_and(|t| t.requester == p.id);
            if !theirs {
                return Ok(());
            }
        }
        drop(r);
        let now = self.now();
        let minutes = self.config().portal.link_minutes;
        let expires = now.0 / 1000 + minutes as i64 * 60;
        let sig = self.sign(&link_claim(p.id.0, expires))?;
        let base = self.config().server.public_url.trim_end_matches('/').to_string();
        let url = format!("{base}/help/in?p={}&e={expires}&s={sig}", p.id);
        let desk = self.config().desk.name.clone();
        let subject = crate::tr!("{desk}: your tickets", desk = desk);
        let text = crate::tr!(
            "Hello {name},\n\nto see your tickets with {desk}, open this link:\n\n    {url}\n\nIt works once, for {minutes} minutes. If you did not ask for it, ignore this mail.\n",
            name = p.display(),
            desk = desk,
            url = url,
            minutes = minutes
        );
        self.store.write(|w| self.queue_notice(w, NoticeKind::PortalLink, &p.email, subject.clone(), text.clone(), now).map(|_| ()))
    }

    /// Whether a mailed sign-in link holds (signed, not expired, not used);
    /// its page offers the button that uses it.
    pub fn sign_in_link_valid(&self, person: PersonId, expires: i64, sig: &str) -> bool {
        let now = self.now().0 / 1000;
        let used = || self.store.read().ok().and_then(|r| r.link_used(sig).ok()).unwrap_or(true);
        self.signing_key().is_ok() && expires >= now && self.verify(&link_claim(person.0, expires), sig) && !used()
    }

    /// Uses a mailed sign-in link (once): the session cookie's value and
    /// its lifetime in seconds (`NotFound` for a forged, expired or used link).
    pub fn customer_sign_in(&self, person: PersonId, expires: i64, sig: &str) -> Result<(String, i64)> {
        self.signing_key()?;
        let now = self.now().0 / 1000;
        if expires < now || !self.verify(&link_claim(person.0, expires), sig) {
            return Err(DeskError::NotFound);
        }
        self.store.read()?.person(person)?.filter(|p| !p.is_staff()).ok_or(DeskError::NotFound)?;
        if !self.store.write(|w| w.use_link(sig, expires, now).map_err(DeskError::from))? {
            return Err(DeskError::NotFound);
        }
        let secs = self.config().portal.session_days as i64 * 86_400;
        let until = now + secs;
        let sig = self.sign(&session_claim(person.0, now, until))?;
        Ok((format!("{}.{now}.{until}.{sig}", person.0), secs))
    }

    /// Signs a customer out of every browser (their sessions from before end).
    pub fn customer_sign_out(&self, who: &Person) -> Result<()> {
        let now = self.now().0 / 1000;
        self.store.write(|w| w.sign_out_customer(who.id, now).map_err(DeskError::from))
    }

    /// The customer a session cookie's value stands for, while it holds.
    pub fn customer_of(&self, cookie: &str) -> Option<Person> {
        let mut parts = cookie.splitn(4, '.');
        let person: u64 = parts.next()?.parse().ok()?;
        let issued: i64 = parts.next()?.parse().ok()?;
        let until: i64 = parts.next()?.parse().ok()?;
        let sig = parts.next()?;
        self.signing_key().ok()?;
        if until < self.now().0 / 1000 || !self.verify(&session_claim(person, issued, until), sig) {
            return None;
        }
        let r = self.store.read().ok()?;
        // A session begun before the customer last signed out (or within
        // that second) is over.
        if r.signed_out_at(PersonId(person)).ok()? >= issued {
            return None;
        }
        r.person(PersonId(person)).ok()?.filter(|p| !p.is_staff())
    }

    /// A signed-in customer's tickets, newest first, each with the path of
    /// its own ticket link.
    pub fn customer_tickets(&self, who: &Person) -> Result<Vec<CustomerTicket>> {
        let r = self.store.read()?;
        // Theirs, and their organization's when it shares its tickets.
        let mut people = vec![who.id];
        if let Some(org) = r.org_of(who.id)?.and_then(|o| r.org(o).ok().flatten()).filter(|o| o.shared) {
            people.extend(r.org_people(org.id, ORG_PEOPLE_MAX)?.into_iter().filter(|p| *p != who.id));
        }
        let mut tickets = Vec::new();
        for p in people {
            let q = TicketQuery { requester: Some(p.0), limit: LIST_MAX, ..Default::default() };
            tickets.extend(r.query(&q)?.0);
        }
        // And those they are copied on (not in Trash, not listed already).
        for id in r.collaborating(who.id)? {
            if tickets.iter().any(|t: &Ticket| t.id == id) || r.trashed_at(id)?.is_some() {
                continue;
            }
            if let Some(t) = r.ticket(id)? {
                tickets.push(t);
            }
        }
        tickets.sort_by(|a, b| b.updated_at.0.cmp(&a.updated_at.0).then(b.id.0.cmp(&a.id.0)));
        tickets.truncate(LIST_MAX);
        let base = self.config().server.public_url.trim_end_matches('/').to_string();
        let mut out = Vec::with_capacity(tickets.len());
        for t in tickets {
            let link = self.portal_link_for(t.id, &who.email);
            let path = link.strip_prefix(&base).unwrap_or(&link).to_string();
            let from = if t.requester == who.id { None } else { r.person(t.requester)?.map(|p| p.display()) };
            out.push(CustomerTicket { ticket: t, path, from });
        }
        Ok(out)
    }
}
