//! Agents on their own: their profile (name, signature appended to public
//! replies, the time zone their dates are shown in), changing their password
//! with the current one, a forgotten password reset by a mailed one-time
//! link, and invitations: an admin names a new agent, who sets their own
//! password through a link (admins never handle passwords).

use super::audit::{Actor, append};
use super::auth::random_token;
use super::{Desk, DeskError, Result, invalid};
use crate::domain::audit::AuditEvent;
use crate::domain::people::normalize_email;
use crate::domain::workflow::NoticeKind;
use crate::domain::{Person, PersonId, Timestamp};
use crate::store::{LinkKind, PasswordLink, Profile};

/// How long a reset link works.
const RESET_MS: i64 = 60 * 60_000;
/// How long an invitation works.
const INVITE_MS: i64 = 7 * 86_400_000;
/// Longest signature kept.
const SIGNATURE_MAX: usize = 2000;

/// A new agent an admin invites.
pub struct Invite {
    pub email: String,
    pub name: String,
    /// A key of `Config::roles`.
    pub role: String,
    pub departments: Vec<String>,
    pub teams: Vec<String>,
}

/// What a password link is now.
pub enum LinkState {
    Valid {
        person: Person,
        kind: LinkKind,
    },
    /// Unknown, used already, or past its time.
    Gone,
}

/// Whether `tz` is a time zone the desk knows (IANA names; empty = UTC).
pub fn known_time_zone(tz: &str) -> bool {
    tz.is_empty() || jiff::tz::TimeZone::get(tz).is_ok()
}

impl Desk {
    pub fn profile(&self, actor: &Person) -> Result<Profile> {
        Ok(self.store.read()?.profile(actor.id)?)
    }

    /// The agent's own name, signature and time zone.
    pub fn update_profile(&self, actor: &Person, name: &str, signature: &str, time_zone: &str, language: &str) -> Result<()> {
        let name = name.trim().to_string();
        if name.is_empty() || name.chars().count() > 120 {
            return Err(invalid("name", "must be 1-120 characters"));
        }
        let signature = signature.replace("\r\n", "\n").trim_end().to_string();
        if signature.chars().count() > SIGNATURE_MAX {
            return Err(invalid("signature", crate::tr!("must be at most {max} characters", max = SIGNATURE_MAX)));
        }
        let time_zone = time_zone.trim().to_string();
        if !known_time_zone(&time_zone) {
            return Err(invalid(
                "time_zone",
                crate::tr!("{value} is not a time zone (e.g. Europe/Berlin, America/New_York)", value = format!("{time_zone:?}")),
            ));
        }
        let language = language.trim().to_ascii_lowercase();
        if !language.is_empty() && crate::i18n::Lang::parse(&language).is_none() {
            return Err(invalid(
                "language",
                crate::tr!("{value} is not a language of this desk (en, de)", value = format!("{language:?}")),
            ));
        }
        let now = self.now();
        self.store.write(|w| {
            let mut p = w.person(actor.id)?.ok_or(DeskError::NotFound)?;
            let old = w.profile(actor.id)?;
            let mut changed = Vec::new();
            if p.name != name {
                changed.push("their name");
                p.name = name.clone();
                w.put_person(&p)?;
            }
            if old.signature != signature {
                changed.push("their signature");
            }
            if old.time_zone != time_zone {
                changed.push("their time zone");
            }
            if old.language != language {
                changed.push("their language");
            }
            w.put_profile(actor.id, &Profile { signature: signature.clone(), time_zone: time_zone.clone(), language: language.clone() })?;
            if !changed.is_empty() {
                append(w, now, Actor::Agent(&p), "", AuditEvent::ProfileChanged { what: changed.join(", ") })?;
            }
            Ok(())
        })
    }

    /// A public reply's text with the agent's signature below it (once).
    pub(super) fn signed(&self, actor: &Person, body: String) -> Result<String> {
        let sig = self.store.read()?.profile(actor.id)?.signature;
        if sig.trim().is_empty() || body.trim_end().ends_with(sig.trim_end()) {
            return Ok(body);
        }
        Ok(format!("{}\n\n{sig}", body.trim_end()))
    }

    /// The agent changes their password, giving the current one; their other
    /// sessions end (the one `keep` stays).
    pub fn change_password(&self, actor: &Person, current: &str, new: &str, keep: &str) -> Result<()> {
        if !self.check_own_password(actor, current)? {
            return Err(invalid("current", "is not your current password"));
        }
        self.check_password(new, &actor.email)?;
        let hash = self.hash_password(new)?;
        let now = self.now();
        self.drop_pending_logins(actor.id);
        self.store.write(|w| {
            let mut p = w.person(actor.id)?.ok_or(DeskError::NotFound)?;
            p.password_hash = hash.clone();
            w.put_person(&p)?;
            let kept = w.session(keep)?;
            w.delete_sessions_of(actor.id)?;
            if let Some(s) = kept {
                w.put_session(keep, &s)?;
            }
            w.forget_trusted_browsers(actor.id)?;
            append(w, now, Actor::Agent(&p), "", AuditEvent::PasswordChanged)
        })
    }

    /// "Forgot your password?": mails a one-time link to an active agent
    /// (at most one a minute). Says nothing about whether the address is one.
    pub fn request_password_reset(&self, email: &str, client: &str) -> Result<()> {
        if !self.config().sso.password_login {
            return Err(DeskError::Conflict("password login is off on this desk: use single sign-on".into()));
        }
        if !self.can_mail_links() {
            return Err(DeskError::Conflict("this desk cannot send mail; ask an admin to send you a link".into()));
        }
        // Every request counts against the address (like failed logins): no
        // flood of mail, audit entries or writes from one place.
        self.count_attempt(&[(&format!("reset:ip:{client}"), self.config().security.login_failures_per_ip)], self.now().0)?;
        let Some(email) = normalize_email(email) else { return Ok(()) };
        let Some(p) = self.store.read()?.person_by_email(&email)?.filter(|p| p.is_staff()) else { return Ok(()) };
        self.send_password_link(Actor::System, &p, LinkKind::Reset, client).map(|_| ())
    }

    /// Whether links can go out by mail (a mailbox to send from, mail on).
    pub fn can_mail_links(&self) -> bool {
        !self.config().mailbox.is_empty() && self.config().outgoing.enabled
    }

    /// An admin sends an agent a password reset link (instead of choosing a
    /// password for them). Where the desk cannot mail, the link comes back
    /// for the admin to pass on.
    pub fn send_reset_link(&self, admin: &Person, id: PersonId) -> Result<Option<String>> {
        if !admin.is_admin() {
            return Err(DeskError::NotFound);
        }
        let p = self.store.read()?.person(id)?.filter(|p| p.is_staff()).ok_or(DeskError::NotFound)?;
        self.send_password_link(Actor::Agent(admin), &p, LinkKind::Reset, "")
    }

    /// Makes a link and mails it; the link itself when the desk cannot mail.
    fn send_password_link(&self, who: Actor<'_>, p: &Person, kind: LinkKind, client: &str) -> Result<Option<String>> {
        let token = random_token()?;
        let now = self.now();
        let until = Timestamp(now.0 + if kind == LinkKind::Invite { INVITE_MS } else { RESET_MS });
        let url = format!("{}/password/{token}", self.config().server.public_url.trim_end_matches('/'));
        let desk = &self.config().desk.name;
        let (notice, subject, text) = match kind {
            LinkKind::Reset => (
                NoticeKind::PasswordReset,
                format!("{desk}: set a new password"),
                format!(
                    "Hello {},\n\nSomeone (from {}) asked to set a new password for your {desk} account. To do so, open:\n\n    {url}\n\n\
                     The link works once, within an hour. If it was not you, ignore this mail: your password stays as it is.\n",
                    p.display(),
                    if client.is_empty() { "an admin's page" } else { client }
                ),
            ),
            LinkKind::Invite => (
                NoticeKind::Invite,
                format!("You are invited to {desk}"),
                format!(
                    "Hello {},\n\nYou now have an agent account on {desk}. Choose your password here:\n\n    {url}\n\n\
                     The link works once, within 7 days. Then log in at {}/login with {}.\n",
                    p.display(),
                    self.config().server.public_url.trim_end_matches('/'),
                    p.email
                ),
            ),
        };
        let event = AuditEvent::PasswordLinkSent { email: p.email.clone(), invite: kind == LinkKind::Invite };
        let mail = self.can_mail_links();
        self.store.write(|w| {
            // A mail held back (one a minute per address) keeps the link
            // already on its way: a second click cannot void it.
            if mail && !self.queue_notice(w, notice, &p.email, subject.clone(), text.clone(), now)? {
                return Ok(());
            }
            w.put_password_link(&token, &PasswordLink { person: p.id, kind, until }, now)?;
            append(w, now, who, client, event.clone())
        })?;
        Ok((!mail).then_some(url))
    }

    /// Adds an agent with no password and mails them a link to choose one
    /// (or, where the desk cannot mail, gives the link back to pass on).
    pub fn invite_agent(&self, admin: &Person, invite: Invite) -> Result<(Person, Option<String>)> {
        let email = normalize_email(&invite.email)
            .ok_or_else(|| invalid("email", crate::tr!("{value} is not an email address", value = format!("{:?}", invite.email))))?;
        let (role, role_name) = self.staff_role(&invite.role)?;
        let p = self.add_staff(
            Actor::Agent(admin),
            "",
            &email,
            &invite.name,
            (role, &role_name),
            &invite.departments,
            &invite.teams,
            String::new(),
        )?;
        let link = self.send_password_link(Actor::Agent(admin), &p, LinkKind::Invite, "")?;
        Ok((p, link))
    }

    /// What a password link is now.
    pub fn password_link(&self, token: &str) -> Result<LinkState> {
        if token.len() > 200 {
            return Ok(LinkState::Gone);
        }
        let r = self.store.read()?;
        let Some(link) = r.password_link(token)?.filter(|l| l.until.0 > self.now().0) else { return Ok(LinkState::Gone) };
        match r.person(link.person)?.filter(|p| p.is_staff()) {
            Some(person) => Ok(LinkState::Valid { person, kind: link.kind }),
            None => Ok(LinkState::Gone),
        }
    }

    /// Sets the password a link was for and uses the link up; every session
    /// and API token of the agent ends.
    pub fn use_password_link(&self, token: &str, password: &str, client: &str) -> Result<Person> {
        let LinkState::Valid { person, .. } = self.password_link(token)? else {
            return Err(DeskError::Conflict("this link has expired or was used already; ask for a new one".into()));
        };
        self.check_password(password, &person.email)?;
        let hash = self.hash_password(password)?;
        let now = self.now();
        self.drop_pending_logins(person.id);
        self.store.write(|w| {
            // Checked again inside the transaction: two tabs cannot both use it.
            if w.password_link(token)?.is_none() {
                return Err(DeskError::Conflict("this link has expired or was used already; ask for a new one".into()));
            }
            w.delete_password_link(token)?;
            let mut p = w.person(person.id)?.ok_or(DeskError::NotFound)?;
            p.password_hash = hash.clone();
            w.put_person(&p)?;
            // A reset ends every way in the old password opened: sessions and API tokens.
            w.delete_sessions_of(p.id)?;
            w.delete_api_tokens_of(p.id.0)?;
            w.forget_trusted_browsers(p.id)?;
            append(w, now, Actor::Agent(&p), client, AuditEvent::PasswordChanged)?;
            Ok(p)
        })
    }

    /// An admin changes an agent's name and address.
    pub fn rename_agent(&self, admin: &Person, id: PersonId, name: &str, email: &str) -> Result<Person> {
        if !admin.is_admin() {
            return Err(DeskError::NotFound);
        }
        let name = name.trim().to_string();
        if name.is_empty() || name.chars().count() > 120 {
            return Err(invalid("name", "must be 1-120 characters"));
        }
        let email = normalize_email(email)
            .ok_or_else(|| invalid("email", crate::tr!("{value} is not an email address", value = format!("{email:?}"))))?;
        let now = self.now();
        self.store.write(|w| {
            let mut p = w.person(id)?.filter(|p| p.role.is_staff()).ok_or(DeskError::NotFound)?;
            if email != p.email && w.person_by_email(&email)?.is_some() {
                return Err(DeskError::Conflict(crate::tr!("{email} belongs to someone else already", email = email)));
            }
            let from = format!("{} <{}>", p.name, p.email);
            p.name = name.clone();
            p.email = email.clone();
            w.put_person(&p)?;
            let event = AuditEvent::AgentChanged { email: p.email.clone(), from, to: format!("{} <{}>", p.name, p.email) };
            append(w, now, Actor::Agent(admin), "", event)?;
            Ok(p)
        })
    }
}
