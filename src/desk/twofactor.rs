//! Two-factor login: enrolment (a TOTP secret shown as a QR code, confirmed
//! by a first code, then 10 one-time recovery codes), the second step of a
//! login (a TOTP code used once, a recovery code, or a code mailed to the
//! agent where `security.email_codes` allows), throttled like passwords;
//! "remember this browser"; `security.require_2fa`; removal by the agent
//! (with their password) or an admin's reset. Every change is audited.

use std::collections::HashMap;

use super::audit::{Actor, append};
use super::{Desk, DeskError, Result, invalid};
use crate::domain::audit::AuditEvent;
use crate::domain::twofactor::{self as tf, RECOVERY_CODES, SECRET_BYTES};
use crate::domain::workflow::NoticeKind;
use crate::domain::{Person, PersonId, Timestamp};
use crate::store::{TwoFactor, sha256_hex};

/// How long a pending login waits for its second factor.
const PENDING_MS: i64 = 5 * 60_000;
/// How long a mailed code works.
const MAILED_CODE_MS: i64 = 10 * 60_000;
/// Pending logins kept at most (the oldest go first).
const MAX_PENDING: usize = 10_000;

struct PendingLogin {
    person: PersonId,
    client: String,
    until: i64,
    /// SHA-256 of a mailed code and until when it works.
    mailed: Option<(String, i64)>,
}

/// Logins whose password was right, waiting for the second factor (kept in
/// memory: a restart asks for the password again).
#[derive(Default)]
pub struct PendingLogins {
    by_token: HashMap<String, PendingLogin>,
}

/// What an enrolment page shows.
pub struct Enrolment {
    /// Base32, for typing into an app.
    pub secret: String,
    /// The otpauth:// link as a QR code (SVG).
    pub qr_svg: String,
}

/// What the settings page says about an agent's second factor.
pub struct TwoFactorStatus {
    pub enabled: bool,
    pub recovery_left: usize,
    /// The desk requires one for this agent.
    pub required: bool,
}

fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b)
        .map_err(|e| DeskError::Conflict(crate::tr!("the operating system's random number generator failed: {error}", error = e)))?;
    Ok(b)
}

fn unix_secs(now: Timestamp) -> u64 {
    u64::try_from(now.0 / 1000).unwrap_or(0)
}

impl Desk {
    fn pending(&self) -> Result<std::sync::MutexGuard<'_, PendingLogins>> {
        self.pending_logins.lock().map_err(|_| DeskError::Conflict("pending logins poisoned".into()))
    }

    /// Whether a login of `p` must show a second factor: they have one and
    /// this browser is not one they chose to trust.
    pub(super) fn second_factor_due(&self, p: &Person, trusted_browser: Option<&str>) -> Result<bool> {
        let r = self.store.read()?;
        if !r.has_two_factor(p.id)? {
            return Ok(false);
        }
        let trusted = match trusted_browser {
            Some(t) if self.config().security.remember_browser_days > 0 => r.trusted_browser(t, self.now())? == Some(p.id),
            _ => false,
        };
        Ok(!trusted)
    }

    /// Parks a login whose password was right; the token names it.
    pub(super) fn start_second_factor(&self, p: &Person, client: &str) -> Result<String> {
        let token = super::auth::random_token()?;
        let now = self.now().0;
        let mut pending = self.pending()?;
        pending.by_token.retain(|_, l| l.until > now);
        if pending.by_token.len() >= MAX_PENDING
            && let Some(oldest) = pending.by_token.iter().min_by_key(|(_, l)| l.until).map(|(k, _)| k.clone())
        {
            pending.by_token.remove(&oldest);
        }
        pending
            .by_token
            .insert(token.clone(), PendingLogin { person: p.id, client: client.to_string(), until: now + PENDING_MS, mailed: None });
        Ok(token)
    }

    /// Ends the agent's logins waiting for their second factor (their
    /// password changed: the old one must not finish a login).
    pub(super) fn drop_pending_logins(&self, person: PersonId) {
        if let Ok(mut p) = self.pending() {
            p.by_token.retain(|_, l| l.person != person);
        }
    }

    /// Whether `pending` is a login still waiting (the page shows its form).
    pub fn pending_login(&self, pending: &str) -> Result<Option<Person>> {
        let now = self.now().0;
        let person = self.pending()?.by_token.get(pending).filter(|l| l.until > now).map(|l| l.person);
        match person {
            Some(id) => Ok(self.store.read()?.person(id)?.filter(|p| p.is_staff())),
            None => Ok(None),
        }
    }

    /// Whether mailed codes are on offer (the setting, a mailbox to send from, mail going out).
    pub fn email_codes_available(&self) -> bool {
        self.config().security.email_codes && !self.config().mailbox.is_empty() && self.config().outgoing.enabled
    }

    /// Mails a one-time code for a pending login (at most one a minute).
    pub fn mail_login_code(&self, pending: &str) -> Result<()> {
        if !self.email_codes_available() {
            return Err(DeskError::Forbidden("codes by mail are not offered on this desk".into()));
        }
        let now = self.now();
        let code = format!("{:06}", u32::from_le_bytes(random_bytes::<4>()?) % 1_000_000);
        let (person, client) = {
            let p = self.pending()?;
            let l = p.by_token.get(pending).filter(|l| l.until > now.0).ok_or(DeskError::NotFound)?;
            (l.person, l.client.clone())
        };
        let p = self.store.read()?.person(person)?.ok_or(DeskError::NotFound)?;
        let subject = format!("{}: your login code {code}", self.config().desk.name);
        let text = format!(
            "Hello {},\n\nYour one-time login code for {} is:\n\n    {code}\n\nIt works once, for 10 minutes. It was asked for from {client}.\n\
             If that was not you, your password is known to someone else: change it.\n",
            p.display(),
            self.config().desk.name
        );
        let queued = self.store.write(|w| {
            let queued = self.queue_notice(w, NoticeKind::LoginCode, &p.email, subject, text, now)?;
            if queued {
                append(w, now, Actor::Agent(&p), &client, AuditEvent::LoginCodeMailed)?;
            }
            Ok::<_, DeskError>(queued)
        })?;
        if !queued {
            return Err(DeskError::RateLimited { retry_after_secs: 60 });
        }
        // Only the code that went out works (a held-back one never replaces it).
        if let Some(l) = self.pending()?.by_token.get_mut(pending) {
            l.mailed = Some((sha256_hex(code.as_bytes()), now.0 + MAILED_CODE_MS));
        }
        Ok(())
    }

    /// The second step of a login: a TOTP code (once), a recovery code or a
    /// mailed code. On success the session's token, and with `remember` a
    /// token for this browser (`security.remember_browser_days`).
    pub fn second_factor(&self, pending: &str, code: &str, client: &str, remember: bool) -> Result<(String, Option<String>, Person)> {
        let now = self.now();
        let sec = &self.config().security;
        // A mailed code is taken out here, under the lock: two requests
        // racing with the same code cannot both use it.
        let (person_id, mailed) = {
            let mut p = self.pending()?;
            let l = p.by_token.get_mut(pending).filter(|l| l.until > now.0).ok_or(DeskError::NotFound)?;
            (l.person, l.mailed.take())
        };
        // Throttled per (account, address), per address, and per account at
        // ten times that, so a stranger with the password cannot lock the
        // agent out of the second step from elsewhere.
        let key = format!("2fa:{}|ip:{client}", person_id.0);
        let acct_key = format!("2fa:{}", person_id.0);
        let ip_key = format!("ip:{client}");
        let per_account = sec.login_failures_per_account;
        self.count_attempt(
            &[(&key, per_account), (&ip_key, sec.login_failures_per_ip), (&acct_key, per_account.saturating_mul(10))],
            now.0,
        )?;
        let typed = tf::normalize(code);
        let person = self.store.read()?.person(person_id)?.filter(|p| p.is_staff()).ok_or(DeskError::NotFound)?;
        let trust = if remember && sec.remember_browser_days > 0 { Some(super::auth::random_token()?) } else { None };
        let session = super::auth::random_token()?;
        let csrf = super::auth::random_token()?;
        let outcome = self.store.write(|w| {
            let Some(mut f) = w.two_factor(person_id)?.filter(|f| f.enabled) else {
                return Ok(Err("no second factor on record"));
            };
            let mut event = AuditEvent::LoginSucceeded;
            if let Some(step) = tf::check_totp(&f.secret, &typed, unix_secs(now), f.last_step) {
                f.last_step = step;
            } else if let Some(i) = f.recovery.iter().position(|h| *h == sha256_hex(typed.as_bytes())) {
                f.recovery.remove(i);
                event = AuditEvent::RecoveryCodeUsed { left: f.recovery.len() as u64 };
            } else if mailed.as_ref().is_some_and(|(h, until)| *until > now.0 && *h == sha256_hex(typed.as_bytes())) {
                // Mailed codes are single-use: the pending login ends below.
            } else {
                let reason =
                    if typed.len() == 6 && typed.bytes().all(|b| b.is_ascii_digit()) { "wrong or reused code" } else { "wrong code" };
                return Ok(Err(reason));
            }
            w.put_two_factor(person_id, &f)?;
            w.put_session(&session, &crate::store::Session { person: person_id, csrf: csrf.clone(), created_at: now, last_seen: now })?;
            if let Some(t) = &trust {
                w.trust_browser(t, person_id, Timestamp(now.0 + i64::from(sec.remember_browser_days) * 86_400_000), now)?;
            }
            if matches!(event, AuditEvent::RecoveryCodeUsed { .. }) {
                append(w, now, Actor::Agent(&person), client, event)?;
            }
            append(w, now, Actor::Agent(&person), client, AuditEvent::LoginSucceeded)?;
            Ok::<_, DeskError>(Ok(()))
        })?;
        match outcome {
            Ok(()) => {
                self.pending()?.by_token.remove(pending);
                if let Ok(mut lim) = self.limiter.lock() {
                    lim.clear(&key);
                    lim.forget(&acct_key, now.0);
                    lim.forget(&ip_key, now.0);
                }
                Ok((session, trust, person))
            }
            Err(reason) => {
                // A wrong guess does not spend a mailed code (it was not this one).
                if let Some(m) = mailed
                    && let Ok(mut p) = self.pending()
                    && let Some(l) = p.by_token.get_mut(pending)
                {
                    l.mailed.get_or_insert(m);
                }
                let event = AuditEvent::TwoFactorFailed { email: person.email.clone(), reason: reason.into() };
                if let Err(e) = self.record_audit(Actor::System, client, event) {
                    tracing::warn!("could not record a failed second factor: {e}");
                }
                Err(DeskError::BadCredentials)
            }
        }
    }

    /// The agent's second factor as their settings show it.
    pub fn two_factor_status(&self, actor: &Person) -> Result<TwoFactorStatus> {
        let f = self.store.read()?.two_factor(actor.id)?.filter(|f| f.enabled);
        Ok(TwoFactorStatus {
            enabled: f.is_some(),
            recovery_left: f.map(|f| f.recovery.len()).unwrap_or(0),
            required: self.config().security.require_2fa.requires(actor.is_admin()),
        })
    }

    /// Whether the agent must enrol before doing anything else (required, none yet).
    pub fn must_enrol(&self, actor: &Person) -> Result<bool> {
        if !self.config().security.require_2fa.requires(actor.is_admin()) {
            return Ok(false);
        }
        Ok(!self.store.read()?.has_two_factor(actor.id)?)
    }

    /// Starts (or shows again) an enrolment: a new secret kept unconfirmed.
    pub fn begin_two_factor(&self, actor: &Person) -> Result<Enrolment> {
        let now = self.now();
        let secret = self.store.write(|w| match w.two_factor(actor.id)? {
            Some(f) if f.enabled => {
                Err(DeskError::Conflict("two-factor login is already on; remove it first to enrol another device".into()))
            }
            Some(f) => Ok(f.secret),
            None => {
                let secret = random_bytes::<SECRET_BYTES>()?.to_vec();
                let f = TwoFactor { secret: secret.clone(), enabled: false, created_at: now, recovery: Vec::new(), last_step: 0 };
                w.put_two_factor(actor.id, &f)?;
                Ok(secret)
            }
        })?;
        let url = tf::otpauth_url(&self.config().desk.name, &actor.email, &secret);
        Ok(Enrolment {
            secret: tf::base32(&secret),
            qr_svg: tf::qr_svg(&url, crate::tr!("QR code for your authenticator app")).unwrap_or_default(),
        })
    }

    /// Confirms an enrolment with the agent's password (a stolen session
    /// cannot bind its own device) and a first code from the app; the
    /// recovery codes (shown once).
    pub fn confirm_two_factor(&self, actor: &Person, password: &str, code: &str) -> Result<Vec<String>> {
        if !self.check_own_password(actor, password)? {
            return Err(invalid("password", "is not your current password"));
        }
        let now = self.now();
        let mut codes = Vec::with_capacity(RECOVERY_CODES);
        for _ in 0..RECOVERY_CODES {
            codes.push(tf::recovery_code(&random_bytes::<5>()?));
        }
        let typed = tf::normalize(code);
        self.store.write(|w| {
            let mut f = match w.two_factor(actor.id)? {
                Some(f) if !f.enabled => f,
                Some(_) => return Err(DeskError::Conflict("two-factor login is already on".into())),
                None => return Err(invalid("code", "start the enrolment first")),
            };
            let Some(step) = tf::check_totp(&f.secret, &typed, unix_secs(now), 0) else {
                return Err(invalid("code", "that is not the code your app shows now; check the phone's clock and try the next one"));
            };
            f.enabled = true;
            f.last_step = step;
            f.created_at = now;
            f.recovery = codes.iter().map(|c| sha256_hex(tf::normalize(c).as_bytes())).collect();
            w.put_two_factor(actor.id, &f)?;
            append(w, now, Actor::Agent(actor), "", AuditEvent::TwoFactorEnabled)
        })?;
        Ok(codes)
    }

    /// The agent removes their own second factor (with their password);
    /// not while the desk requires one of them.
    pub fn remove_own_two_factor(&self, actor: &Person, password: &str) -> Result<()> {
        if self.config().security.require_2fa.requires(actor.is_admin()) {
            return Err(DeskError::Forbidden(
                "this desk requires two-factor login for you; an admin can reset it if you lost your device".into(),
            ));
        }
        if !self.check_own_password(actor, password)? {
            return Err(invalid("password", "is not your current password"));
        }
        self.remove_two_factor(actor, actor)
    }

    /// An admin resets an agent's second factor (a lost phone); they enrol anew.
    pub fn reset_two_factor(&self, admin: &Person, id: PersonId) -> Result<()> {
        if !admin.is_admin() {
            return Err(DeskError::NotFound);
        }
        let p = self.store.read()?.person(id)?.filter(|p| p.role.is_staff()).ok_or(DeskError::NotFound)?;
        self.remove_two_factor(admin, &p)
    }

    fn remove_two_factor(&self, actor: &Person, of: &Person) -> Result<()> {
        let now = self.now();
        self.store.write(|w| {
            w.delete_two_factor(of.id)?;
            append(w, now, Actor::Agent(actor), "", AuditEvent::TwoFactorRemoved { email: of.email.clone() })
        })
    }
}
