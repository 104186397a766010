//! People and authentication: passwords (argon2id, the configured policy),
//! login throttling, sessions, and the admin's agent management. API tokens
//! are in `tokens.rs`.

use std::collections::HashMap;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};

use super::audit::Actor;
use super::{Desk, DeskError, Result, invalid};
use crate::domain::audit::AuditEvent;
use crate::domain::people::normalize_email;
use crate::domain::{Person, PersonId, Role};
use crate::store::Session;

/// HMAC-SHA256 (RFC 2104) of `msg` under `key`.
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(msg);
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// Failed login attempts per account and per client address, in a sliding window.
#[derive(Default)]
pub struct LoginLimiter {
    failures: HashMap<String, Vec<i64>>,
}

impl LoginLimiter {
    pub(super) fn recent(&mut self, key: &str, now: i64, window_ms: i64) -> &mut Vec<i64> {
        let v = self.failures.entry(key.to_string()).or_default();
        v.retain(|t| now - *t < window_ms);
        v
    }

    /// Seconds until `key` may try again, if it is over `limit`.
    pub(super) fn blocked(&mut self, key: &str, limit: u32, now: i64, window_ms: i64) -> Option<u64> {
        let v = self.recent(key, now, window_ms);
        if v.len() as u32 >= limit {
            let oldest = v.iter().min().copied().unwrap_or(now);
            Some(((oldest + window_ms - now).max(1000) / 1000) as u64)
        } else {
            None
        }
    }

    pub(super) fn fail(&mut self, key: &str, now: i64) {
        self.failures.entry(key.to_string()).or_default().push(now);
        if self.failures.len() > 100_000 {
            // Bounded memory under a spray of addresses: forget the oldest half.
            let mut keys: Vec<(String, i64)> =
                self.failures.iter().map(|(k, v)| (k.clone(), v.iter().max().copied().unwrap_or(0))).collect();
            keys.sort_by_key(|(_, t)| *t);
            for (k, _) in keys.into_iter().take(50_000) {
                self.failures.remove(&k);
            }
        }
    }

    pub(super) fn clear(&mut self, key: &str) {
        self.failures.remove(key);
    }

    /// Takes back one attempt recorded at `at` (it was the right password).
    pub(super) fn forget(&mut self, key: &str, at: i64) {
        if let Some(v) = self.failures.get_mut(key)
            && let Some(i) = v.iter().rposition(|t| *t == at)
        {
            v.remove(i);
        }
    }
}

/// Most password checks (argon2, ~19 MiB of state each) running at once.
pub const ARGON2_CONCURRENCY: usize = 2;

/// The argon2 state buffers of the password-check slots.
#[derive(Default)]
pub struct Argon2Pool {
    created: usize,
    free: Vec<Vec<argon2::Block>>,
}

/// One taken password-check slot with its buffer; given back when dropped.
pub(crate) struct Argon2Slot<'a> {
    pool: &'a (std::sync::Mutex<Argon2Pool>, std::sync::Condvar),
    blocks: Vec<argon2::Block>,
}

impl Drop for Argon2Slot<'_> {
    fn drop(&mut self) {
        if let Ok(mut pool) = self.pool.0.lock() {
            pool.free.push(std::mem::take(&mut self.blocks));
            self.pool.1.notify_one();
        }
    }
}

/// A fresh random secret (hex), for session and API tokens and CSRF.
pub fn random_token() -> Result<String> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b)
        .map_err(|e| DeskError::Conflict(crate::tr!("the operating system's random number generator failed: {error}", error = e)))?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// An argon2id hash of `password` (PHC string) with the given parameters.
pub fn hash_password_with(password: &str, params: argon2::Params) -> Result<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| DeskError::Conflict(crate::tr!("no randomness: {error}", error = e)))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| DeskError::Conflict(e.to_string()))?;
    Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| DeskError::Conflict(e.to_string()))
}

/// The argon2id parameters of `security.argon2_*`.
pub fn argon2_params(sec: &crate::config::SecurityConfig) -> Result<argon2::Params> {
    argon2::Params::new(sec.argon2_memory_kib, sec.argon2_iterations, sec.argon2_parallelism, None)
        .map_err(|e| invalid("security.argon2_memory_kib", crate::tr!("argon2 parameters: {error}", error = e)))
}

/// Whether a stored hash was made with other parameters than `params` (or
/// another algorithm): it is replaced at the next successful login.
fn needs_rehash(hash: &str, params: &argon2::Params) -> bool {
    let Ok(h) = PasswordHash::new(hash) else { return false };
    let same = h.algorithm == argon2::Algorithm::Argon2id.ident()
        && argon2::Params::try_from(&h)
            .is_ok_and(|p| p.m_cost() == params.m_cost() && p.t_cost() == params.t_cost() && p.p_cost() == params.p_cost());
    !same
}

/// Largest argon2 memory a stored hash may ask for (64 MiB of 1 KiB blocks).
const MAX_ARGON2_BLOCKS: usize = 64 * 1024;

/// Verifies a password with argon2 state kept in `blocks`, a buffer reused
/// across logins: memory stays at one buffer per slot instead of growing
/// with every check (the allocator keeps freed 19 MiB states around).
fn verify_password_in(blocks: &mut Vec<argon2::Block>, hash: &str, password: &str) -> bool {
    let Ok(h) = PasswordHash::new(hash) else { return false };
    let Ok(algorithm) = argon2::Algorithm::try_from(h.algorithm) else { return false };
    let version = match h.version {
        Some(v) => argon2::Version::try_from(v).ok(),
        None => Some(argon2::Version::default()),
    };
    let (Some(version), Ok(params), Some(salt), Some(expected)) = (version, argon2::Params::try_from(&h), h.salt, h.hash) else {
        return false;
    };
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else { return false };
    let need = params.block_count();
    if need > MAX_ARGON2_BLOCKS {
        return false;
    }
    if blocks.len() < need {
        blocks.resize(need, argon2::Block::default());
    }
    let mut out = vec![0u8; expected.len()];
    let Some(memory) = blocks.get_mut(..need) else { return false };
    Argon2::new(algorithm, version, params).hash_password_into_with_memory(password.as_bytes(), salt, &mut out, memory).is_ok()
        && out.len() == expected.len()
        && out.iter().zip(expected.as_bytes()).fold(0u8, |a, (x, y)| a | (x ^ y)) == 0
}

/// A hash of nothing anyone knows, verified for unknown users so that an unknown
/// email and a wrong password take the same time.
static DUMMY_HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// What a right password leads to.
#[derive(Debug)]
pub enum LoginStep {
    /// Logged in: the session's token.
    Session { token: String, person: Person },
    /// The second factor is due: the pending login's token (`second_factor`).
    SecondFactor { pending: String, person: Person },
}

/// A new agent or admin.
pub struct NewAgent {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password: String,
    pub departments: Vec<String>,
}

/// A session token looked up without writing.
#[derive(Debug)]
pub enum SessionFound {
    /// A live session of an active agent.
    Live(Box<Person>, Session),
    /// No session (unknown token, or the agent is no longer active).
    No,
}

impl Desk {
    /// Checks a new password for `email` against `security.password_*`.
    pub fn check_password(&self, password: &str, email: &str) -> Result<()> {
        let sec = &self.config().security;
        crate::domain::password::check(password, email, sec.password_min_chars, sec.password_reject_common).map_err(|w| match w {
            crate::domain::password::Weak::TooLong => DeskError::TooLarge { field: "password", limit: "1024 bytes".into() },
            other => invalid("password", other.to_string()),
        })
    }

    /// Hashes a password with the configured argon2id parameters.
    pub fn hash_password(&self, password: &str) -> Result<String> {
        hash_password_with(password, argon2_params(&self.config().security)?)
    }

    /// The desk's signing key (created on first use, kept in the database).
    pub fn signing_key(&self) -> Result<Vec<u8>> {
        if let Some(k) = self.key_cache.get() {
            return Ok(k.clone());
        }
        let fresh = random_token()?;
        let k = self.store.write(|w| w.key_or_insert("signing", fresh.as_bytes()).map_err(DeskError::from))?;
        Ok(self.key_cache.get_or_init(|| k).clone())
    }

    /// A short signature of `msg` (hex), for tokens in mail and links.
    /// Not for use inside a write transaction (see `sign_in`).
    pub fn sign(&self, msg: &str) -> Result<String> {
        Ok(Self::signature(&self.signing_key()?, msg))
    }

    /// `sign` inside a write transaction (redb has one writer at a time).
    pub(crate) fn sign_in(&self, w: &mut crate::store::Write, msg: &str) -> Result<String> {
        let key = match self.key_cache.get() {
            Some(k) => k.clone(),
            None => w.key_or_insert("signing", random_token()?.as_bytes())?,
        };
        Ok(Self::signature(&key, msg))
    }

    fn signature(key: &[u8], msg: &str) -> String {
        hmac_sha256(key, msg.as_bytes())[..10].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Constant-time check of a signature made by `sign`. Safe inside a write
    /// transaction: it only uses the key loaded when the desk started.
    pub fn verify(&self, msg: &str, sig: &str) -> bool {
        let Some(key) = self.key_cache.get() else { return false };
        let good = Self::signature(key, msg);
        good.len() == sig.len() && good.bytes().zip(sig.bytes()).fold(0u8, |a, (x, y)| a | (x ^ y)) == 0
    }

    /// Checks credentials with throttling; on success opens a session and returns
    /// (session token, person). Unknown email and wrong password answer the same.
    ///
    /// Throttling is per (account, client address) and per client address, so
    /// a stranger's wrong passwords never lock the real user out from their
    /// own address. Failures against one account from everywhere block an
    /// address only when that address has failed for the account itself (the
    /// second doubt). Each attempt is recorded *before* the password is
    /// checked, so concurrent guesses all count, and at most
    /// `ARGON2_CONCURRENCY` checks run at once (argon2 takes ~19 MiB each).
    pub fn login(&self, email: &str, password: &str, client: &str, trusted_browser: Option<&str>) -> Result<LoginStep> {
        let now = self.now().0;
        let sec = &self.config().security;
        let window = sec.login_window_secs as i64 * 1000;
        let email = email.trim().to_lowercase();
        let pair_key = format!("acct:{email}|ip:{client}");
        let acct_key = format!("acct:{email}");
        let ip_key = format!("ip:{client}");
        {
            let mut lim = self.limiter.lock().map_err(|_| DeskError::Conflict("limiter poisoned".into()))?;
            let pair_failed = !lim.recent(&pair_key, now, window).is_empty();
            let wait = lim
                .blocked(&pair_key, sec.login_failures_per_account, now, window)
                .or(lim.blocked(&ip_key, sec.login_failures_per_ip, now, window))
                .or(if pair_failed {
                    lim.blocked(&acct_key, sec.login_failures_per_account.saturating_mul(10), now, window)
                } else {
                    None
                });
            if let Some(retry_after_secs) = wait {
                return Err(DeskError::RateLimited { retry_after_secs });
            }
            // Counted now; taken back below if the password is right.
            for k in [&pair_key, &acct_key, &ip_key] {
                lim.fail(k, now);
            }
        }
        let person = self.store.read()?.person_by_email(&email)?;
        let dummy = DUMMY_HASH.get_or_init(|| self.hash_password("not a password anyone uses").unwrap_or_default());
        let ok = {
            let mut slot = self.argon2_slot()?;
            match &person {
                Some(p) if p.is_staff() => verify_password_in(&mut slot.blocks, &p.password_hash, password),
                _ => {
                    let _ = verify_password_in(&mut slot.blocks, dummy, password);
                    false
                }
            }
        };
        match person {
            Some(p) if ok => {
                if let Ok(mut lim) = self.limiter.lock() {
                    lim.clear(&pair_key);
                    lim.forget(&acct_key, now);
                    lim.forget(&ip_key, now);
                }
                // A hash made with older argon2 settings is replaced now,
                // while the password is at hand, in the session's commit.
                let params = argon2_params(&self.config().security)?;
                let rehash = if needs_rehash(&p.password_hash, &params) { Some(hash_password_with(password, params)?) } else { None };
                if self.second_factor_due(&p, trusted_browser)? {
                    if let Some(hash) = rehash {
                        self.store.write(|w| {
                            if let Some(mut q) = w.person(p.id)? {
                                q.password_hash = hash;
                                w.put_person(&q)?;
                            }
                            Ok::<_, DeskError>(())
                        })?;
                    }
                    let pending = self.start_second_factor(&p, client)?;
                    return Ok(LoginStep::SecondFactor { pending, person: p });
                }
                let token = self.open_session_with(&p, rehash, client, None)?;
                Ok(LoginStep::Session { token, person: p })
            }
            other => {
                let reason = match other {
                    None => "unknown account",
                    Some(p) if !p.is_staff() => "not an active agent",
                    Some(_) => "wrong password",
                };
                let event = AuditEvent::LoginFailed { email: email.chars().take(254).collect(), reason: reason.into() };
                if let Err(e) = self.record_audit(Actor::System, client, event) {
                    tracing::warn!("could not record a failed login in the audit log: {e}");
                }
                Err(DeskError::BadCredentials)
            }
        }
    }

    /// Whether `password` is `person`'s, for a logged-in agent confirming a
    /// change; throttled like logins, so a stolen session cannot guess it.
    pub(super) fn check_own_password(&self, person: &Person, password: &str) -> Result<bool> {
        let now = self.now().0;
        let key = format!("pw:{}", person.id.0);
        self.count_attempt(&[(&key, self.config().security.login_failures_per_account)], now)?;
        let hash = self.store.read()?.person(person.id)?.map(|p| p.password_hash).unwrap_or_default();
        let ok = {
            let mut slot = self.argon2_slot()?;
            verify_password_in(&mut slot.blocks, &hash, password)
        };
        if ok && let Ok(mut lim) = self.limiter.lock() {
            lim.forget(&key, now);
        }
        Ok(ok)
    }

    /// Counts an attempt against each (key, limit) in the login window,
    /// before it is checked, so concurrent tries all count; `RateLimited`
    /// (nothing counted) when a key is over its limit already.
    /// Whether `key` is over `limit` now (a look, nothing counted).
    pub fn attempts_left(&self, key: &str, limit: u32) -> bool {
        let window = self.config().security.login_window_secs as i64 * 1000;
        let now = self.now().0;
        self.limiter.lock().map(|mut lim| lim.blocked(key, limit, now, window).is_none()).unwrap_or(false)
    }

    pub(super) fn count_attempt(&self, limits: &[(&str, u32)], now: i64) -> Result<()> {
        let window = self.config().security.login_window_secs as i64 * 1000;
        let mut lim = self.limiter.lock().map_err(|_| DeskError::Conflict("limiter poisoned".into()))?;
        if let Some(retry_after_secs) = limits.iter().find_map(|(key, limit)| lim.blocked(key, *limit, now, window)) {
            return Err(DeskError::RateLimited { retry_after_secs });
        }
        for (key, _) in limits {
            lim.fail(key, now);
        }
        Ok(())
    }

    /// Waits for one of the `ARGON2_CONCURRENCY` password-check slots (at most
    /// 10 s, then the login is answered "try again").
    fn argon2_slot(&self) -> Result<Argon2Slot<'_>> {
        let (lock, cv) = &self.argon2_slots;
        let poisoned = |_| DeskError::Conflict("login slots poisoned".into());
        let mut pool = lock.lock().map_err(poisoned)?;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            if let Some(blocks) = pool.free.pop() {
                return Ok(Argon2Slot { pool: &self.argon2_slots, blocks });
            }
            if pool.created < ARGON2_CONCURRENCY {
                pool.created += 1;
                return Ok(Argon2Slot { pool: &self.argon2_slots, blocks: Vec::new() });
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Err(DeskError::RateLimited { retry_after_secs: 1 });
            }
            pool = cv.wait_timeout(pool, left).map_err(|_| DeskError::Conflict("login slots poisoned".into()))?.0;
        }
    }

    /// Creates a session for a person; returns the cookie token.
    pub fn open_session(&self, person: &Person, client: &str) -> Result<String> {
        self.open_session_with(person, None, client, None)
    }

    /// Opens a session, logged in the audit log with the client's address
    /// (and `also`, how the agent signed in), storing a new password hash in
    /// the same commit.
    pub(super) fn open_session_with(
        &self,
        person: &Person,
        new_hash: Option<String>,
        client: &str,
        also: Option<AuditEvent>,
    ) -> Result<String> {
        let token = random_token()?;
        let now = self.now();
        let s = Session { person: person.id, csrf: random_token()?, created_at: now, last_seen: now };
        self.store.write(|w| {
            w.put_session(&token, &s)?;
            if let Some(hash) = new_hash
                && let Some(mut p) = w.person(person.id)?
            {
                p.password_hash = hash;
                w.put_person(&p)?;
            }
            super::audit::append(w, now, Actor::Agent(person), client, AuditEvent::LoginSucceeded)?;
            match also {
                Some(event) => super::audit::append(w, now, Actor::Agent(person), client, event),
                None => Ok(()),
            }
        })?;
        Ok(token)
    }

    /// The CSRF token of a live session, read without writing anything (the
    /// body limit checks an upload's token before the body is accepted).
    pub fn session_csrf(&self, token: &str) -> Option<String> {
        self.stored_session(token).map(|s| s.csrf)
    }

    /// Whether a session still exists (open live streams end at logout).
    pub fn session_exists(&self, token: &str) -> bool {
        self.stored_session(token).is_some()
    }

    /// The stored session of a token, as it is (no expiry check, no write).
    fn stored_session(&self, token: &str) -> Option<Session> {
        self.store.read().and_then(|r| r.session(token)).ok().flatten()
    }

    /// The session behind a token without writing anything: what almost
    /// every request needs. `Ok(None)` asks for `session` (the session ended
    /// of idleness, or its `last_seen` is due a refresh), which writes.
    pub fn session_unchanged(&self, token: &str) -> Result<Option<SessionFound>> {
        if token.len() != 64 {
            return Ok(Some(SessionFound::No));
        }
        let now = self.now();
        let r = self.store.read()?;
        let Some(s) = r.session(token)? else { return Ok(Some(SessionFound::No)) };
        let idle = self.config().security.session_idle_hours as i64 * 3_600_000;
        if now.0 - s.last_seen.0 > idle.min(60_000) {
            return Ok(None);
        }
        Ok(Some(match r.person(s.person)?.filter(|p| p.is_staff()) {
            Some(p) => SessionFound::Live(Box::new(self.in_force(p)), s),
            None => SessionFound::No,
        }))
    }

    /// The person behind a session token, if the session is live and they are
    /// still active. Refreshes `last_seen` at most once a minute (a commit:
    /// off the async runtime).
    pub fn session(&self, token: &str) -> Result<Option<(Person, Session)>> {
        if token.len() != 64 {
            return Ok(None);
        }
        let now = self.now();
        let r = self.store.read()?;
        let Some(mut s) = r.session(token)? else { return Ok(None) };
        let idle = self.config().security.session_idle_hours as i64 * 3_600_000;
        if now.0 - s.last_seen.0 > idle {
            self.store.write(|w| w.delete_session(token).map_err(DeskError::from))?;
            return Ok(None);
        }
        let Some(p) = r.person(s.person)?.filter(|p| p.is_staff()) else { return Ok(None) };
        drop(r);
        if now.0 - s.last_seen.0 > 60_000 {
            s.last_seen = now;
            self.store.write(|w| w.put_session(token, &s).map_err(DeskError::from))?;
        }
        Ok(Some((self.in_force(p), s)))
    }

    pub fn logout(&self, token: &str, client: &str) -> Result<()> {
        let now = self.now();
        self.store.write(|w| {
            let who = match w.session(token)? {
                Some(s) => w.person(s.person)?,
                None => None,
            };
            w.delete_session(token)?;
            match who {
                Some(p) => super::audit::append(w, now, Actor::Agent(&p), client, AuditEvent::Logout),
                None => Ok(()),
            }
        })
    }

    /// Adds an agent or admin. `actor` is `None` only for the CLI (the machine's
    /// operator); otherwise it must be an admin.
    pub fn add_agent(&self, actor: Option<&Person>, new: NewAgent) -> Result<Person> {
        self.add_agent_as(Actor::of(actor), "", new)
    }

    /// `add_agent` on behalf of `who` (the audit log says who), from `ip`.
    pub fn add_agent_as(&self, who: Actor<'_>, ip: &str, new: NewAgent) -> Result<Person> {
        let email = normalize_email(&new.email)
            .ok_or_else(|| invalid("email", crate::tr!("{value} is not an email address", value = format!("{:?}", new.email))))?;
        self.check_password(&new.password, &email)?;
        let hash = self.hash_password(&new.password)?;
        self.add_staff(who, ip, &email, &new.name, (new.role, ""), &new.departments, &[], hash)
    }

    /// Makes (or turns a known contact into) an agent with the given password
    /// hash (empty: none yet, an invitation), audited.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn add_staff(
        &self,
        who: Actor<'_>,
        ip: &str,
        email: &str,
        name: &str,
        (role, role_name): (Role, &str),
        departments: &[String],
        teams: &[String],
        hash: String,
    ) -> Result<Person> {
        if let Actor::Agent(a) = who
            && !a.is_admin()
        {
            return Err(DeskError::NotFound);
        }
        if !role.is_staff() {
            return Err(invalid("role", "must be admin or agent"));
        }
        let name = name.trim().to_string();
        if name.is_empty() || name.chars().count() > 120 {
            return Err(invalid("name", "must be 1-120 characters"));
        }
        let mut depts = Vec::new();
        for d in departments {
            depts.push(self.check_department(d)?);
        }
        let teams = self.check_teams(teams)?;
        let now = self.now();
        self.store.write(|w| {
            // The first-run link makes the first admin only: checked again in
            // the transaction, so two racing forms cannot both make one.
            if matches!(who, Actor::SetupLink) && w.staff()?.iter().any(|p| p.is_admin()) {
                return Err(DeskError::Conflict("an admin exists already: log in".into()));
            }
            let mut p = match w.person_by_email(email)? {
                Some(p) if p.role.is_staff() => return Err(DeskError::Conflict(crate::tr!("{email} is already an agent", email = email))),
                // A known contact becomes staff, keeping their id and history.
                Some(p) => p,
                None => Person {
                    id: PersonId(w.next_id("person")?),
                    email: email.to_string(),
                    name: String::new(),
                    role,
                    password_hash: String::new(),
                    active: true,
                    departments: Vec::new(),
                    created_at: now,
                    role_name: String::new(),
                    teams: Vec::new(),
                },
            };
            p.name = name;
            p.role = role;
            p.role_name = if role == Role::Admin { String::new() } else { role_name.to_string() };
            p.password_hash = hash;
            p.active = true;
            p.departments = depts;
            p.teams = teams;
            w.put_person(&p)?;
            let role = if p.role_name.is_empty() { p.role.key().to_string() } else { p.role_name.clone() };
            super::audit::append(w, now, who, ip, AuditEvent::AgentAdded { email: p.email.clone(), role })?;
            Ok(p)
        })
    }

    /// Changes an agent as an admin; `f` changes the record and says what
    /// it did, for the audit log (same commit).
    fn admin_edit(&self, actor: &Person, id: u64, f: impl FnOnce(&mut Person) -> Result<AuditEvent>) -> Result<Person> {
        if !actor.is_admin() {
            return Err(DeskError::NotFound);
        }
        let now = self.now();
        self.store.write(|w| {
            let mut p = w.person(PersonId(id))?.filter(|p| p.role.is_staff()).ok_or(DeskError::NotFound)?;
            let event = f(&mut p)?;
            w.put_person(&p)?;
            super::audit::append(w, now, Actor::Agent(actor), "", event)?;
            if !p.active {
                w.delete_sessions_of(p.id)?;
            }
            Ok(p)
        })
    }

    /// Deactivates or reactivates an agent. Deactivation ends their sessions;
    /// an admin cannot deactivate themself (someone must be able to log in).
    pub fn set_agent_active(&self, actor: &Person, id: PersonId, active: bool) -> Result<Person> {
        if actor.id == id && !active {
            return Err(DeskError::Conflict("you cannot deactivate yourself".into()));
        }
        let p = self.admin_edit(actor, id.0, |p| {
            p.active = active;
            let email = p.email.clone();
            Ok(if active { AuditEvent::AgentReactivated { email } } else { AuditEvent::AgentDeactivated { email } })
        })?;
        if !active {
            self.store.write(|w| w.delete_api_tokens_of(id.0).map_err(DeskError::from))?;
        }
        Ok(p)
    }

    /// Changes an agent's role (a key of `Config::roles`), departments and
    /// teams.
    pub fn edit_agent(&self, actor: &Person, id: PersonId, role: &str, departments: &[String], teams: &[String]) -> Result<Person> {
        let (role, role_name) = self.staff_role(role)?;
        if actor.id == id && role != Role::Admin {
            return Err(DeskError::Conflict("you cannot remove your own admin role".into()));
        }
        let mut depts = Vec::new();
        for d in departments {
            depts.push(self.check_department(d)?);
        }
        let teams = self.check_teams(teams)?;
        self.admin_edit(actor, id.0, |p| {
            let describe = |p: &Person| {
                let depts = if p.departments.is_empty() { "all departments".to_string() } else { p.departments.join(", ") };
                let role = if p.role_name.is_empty() { p.role.key() } else { p.role_name.as_str() };
                let teams = if p.teams.is_empty() { String::new() } else { format!(", teams {}", p.teams.join(", ")) };
                format!("{role} of {depts}{teams}")
            };
            let from = describe(p);
            p.role = role;
            p.role_name = role_name;
            p.departments = depts;
            p.teams = teams;
            Ok(AuditEvent::AgentChanged { email: p.email.clone(), from, to: describe(p) })
        })
    }

    /// Whether any admin exists (for the first-run message).
    pub fn has_admin(&self) -> Result<bool> {
        Ok(self.store.read()?.staff()?.iter().any(|p| p.is_admin()))
    }
}

#[cfg(test)]
mod tests {
    use super::{hash_password_with, hmac_sha256, needs_rehash, verify_password_in};

    #[test]
    fn hashes_of_other_settings_are_marked_for_rehashing() {
        let small = argon2::Params::new(8192, 1, 1, None).unwrap();
        let default = argon2::Params::new(19_456, 2, 1, None).unwrap();
        let h = hash_password_with("violet stapler runs east", small.clone()).unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=8192,t=1,p=1$"), "{h}");
        assert!(!needs_rehash(&h, &small));
        assert!(needs_rehash(&h, &default));
        // Still verifies with the parameters it names.
        assert!(verify_password_in(&mut Vec::new(), &h, "violet stapler runs east"));
        assert!(!verify_password_in(&mut Vec::new(), &h, "violet stapler runs west"));
    }

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }
}
