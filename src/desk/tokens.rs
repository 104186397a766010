//! API tokens: made for an agent with scopes, an optional expiry and an
//! address allow-list (CLI `token create`, or the agent's settings page);
//! listed with their last use and revoked from both; checked on every API
//! request (expiry, address, scope, then a per-token rate limit).

use std::collections::HashMap;
use std::net::IpAddr;

use super::audit::Actor;
use super::{Desk, DeskError, Result, invalid};
use crate::domain::access::{self, Refusal, Scope};
use crate::domain::audit::AuditEvent;
use crate::domain::net::Cidr;
use crate::domain::people::normalize_email;
use crate::domain::{Person, Timestamp};
use crate::store::ApiToken;

/// API tokens one agent may hold (each has its own rate budget).
const MAX_TOKENS_PER_AGENT: usize = 20;

/// How often a token's last use is written (at most).
const TOUCH_EVERY_MS: i64 = 60_000;

/// What a new token may do.
#[derive(Debug, Clone, Default)]
pub struct TokenSpec {
    pub name: String,
    pub scopes: Vec<Scope>,
    pub expires_at: Option<Timestamp>,
    /// CIDR ranges (or single addresses); empty = any.
    pub allowed_ips: Vec<String>,
}

/// A token as lists show it (never the secret).
#[derive(Debug, Clone)]
pub struct TokenInfo {
    /// The first 12 hex digits of its hash, by which it is revoked.
    pub id: String,
    pub email: String,
    pub token: ApiToken,
}

/// The outcome of checking a bearer token for one request.
#[derive(Debug)]
pub enum TokenCheck {
    /// Admitted; `touch` says the caller should record the use now.
    Admitted {
        person: Person,
        touch: bool,
    },
    /// No such token, or its agent is no longer active.
    Unknown,
    Refused(Refusal),
}

/// Requests each token may still make: a bucket of `api_rate_per_minute`
/// refilled continuously.
#[derive(Default)]
pub struct ApiRates {
    buckets: HashMap<String, (f64, i64)>,
}

impl ApiRates {
    /// Takes one request from `key`'s bucket, or says how many seconds until one is there.
    fn take(&mut self, key: &str, per_minute: u32, now: i64) -> std::result::Result<(), u64> {
        let cap = f64::from(per_minute.max(1));
        let per_ms = cap / 60_000.0;
        if self.buckets.len() > 100_000 {
            // Bounded memory: full buckets carry no information.
            self.buckets.retain(|_, (left, at)| *left + (now - *at) as f64 * per_ms < cap);
        }
        let (left, at) = self.buckets.entry(key.to_string()).or_insert((cap, now));
        let refilled = (*left + (now - *at).max(0) as f64 * per_ms).min(cap);
        if refilled >= 1.0 {
            *left = refilled - 1.0;
            *at = now;
            Ok(())
        } else {
            *left = refilled;
            *at = now;
            Err(((1.0 - refilled) / per_ms / 1000.0).ceil().max(1.0) as u64)
        }
    }
}

fn check_spec(spec: &TokenSpec, person: &Person, now: Timestamp) -> Result<()> {
    if spec.name.trim().is_empty() || spec.name.chars().count() > 80 {
        return Err(invalid("name", "must be 1-80 characters"));
    }
    if spec.scopes.is_empty() {
        return Err(invalid("scopes", crate::tr!("choose at least one of {scopes}", scopes = Scope::ALL.map(Scope::key).join(", "))));
    }
    if spec.scopes.contains(&Scope::Admin) && !person.is_admin() {
        return Err(invalid("scopes", crate::tr!("{email} is not an admin: the admin scope would give nothing", email = person.email)));
    }
    if spec.expires_at.is_some_and(|e| e.0 <= now.0) {
        return Err(invalid("expires", "must be in the future"));
    }
    for ip in &spec.allowed_ips {
        if Cidr::parse(ip).is_none() {
            return Err(invalid(
                "allowed_ips",
                crate::tr!("{value} is not an address or CIDR range like 192.0.2.0/24", value = format!("{ip:?}")),
            ));
        }
    }
    Ok(())
}

impl TokenSpec {
    /// The scopes a token gets when none are named: tickets read and
    /// write, people read (admin only when asked for).
    pub const DEFAULT_SCOPES: [Scope; 3] = [Scope::TicketsRead, Scope::TicketsWrite, Scope::PeopleRead];

    /// A token with the default scopes, no expiry, from any address.
    pub fn standard(name: &str) -> TokenSpec {
        TokenSpec { name: name.to_string(), scopes: Self::DEFAULT_SCOPES.to_vec(), expires_at: None, allowed_ips: Vec::new() }
    }
}

/// "2026-12-31" (end of that day, UTC) or "90d" (days from now) → when a token expires.
pub fn parse_expiry(s: &str, now: Timestamp) -> Result<Option<Timestamp>> {
    let s = s.trim();
    if s.is_empty() || s.eq_ignore_ascii_case("never") {
        return Ok(None);
    }
    if let Some(days) = s.strip_suffix('d').and_then(|d| d.trim().parse::<i64>().ok()) {
        if !(1..=3650).contains(&days) {
            return Err(invalid("expires", "must be 1 to 3650 days"));
        }
        return Ok(Some(Timestamp(now.0 + days * 86_400_000)));
    }
    let date = crate::domain::time::Date::parse(s).ok_or_else(|| {
        invalid("expires", crate::tr!("{value} is not a date (YYYY-MM-DD) or a number of days like 90d", value = format!("{s:?}")))
    })?;
    Ok(Some(Timestamp(date.start().0 + 86_400_000 - 1)))
}

impl Desk {
    /// Issues an API token for an active agent. `actor` None is the CLI (any
    /// agent); an agent makes tokens for themself, an admin for anyone.
    pub fn create_api_token(&self, actor: Option<&Person>, email: &str, spec: TokenSpec) -> Result<String> {
        let email = normalize_email(email).ok_or_else(|| invalid("email", "is not an email address"))?;
        let token = format!("fd_{}", super::auth::random_token()?);
        let now = self.now();
        let held = self.api_tokens(None)?.iter().filter(|t| t.email == email).count();
        self.store.write(|w| {
            let p = w
                .person_by_email(&email)?
                .filter(|p| p.is_staff())
                .ok_or_else(|| invalid("email", crate::tr!("{email} is not an active agent", email = email)))?;
            if actor.is_some_and(|a| !a.is_admin() && a.id != p.id) {
                return Err(DeskError::NotFound);
            }
            check_spec(&spec, &p, now)?;
            if held >= MAX_TOKENS_PER_AGENT {
                return Err(DeskError::Conflict(crate::tr!(
                    "{email} has {max} API tokens already; revoke one first",
                    email = p.email,
                    max = MAX_TOKENS_PER_AGENT
                )));
            }
            let record = ApiToken {
                person: p.id,
                name: spec.name.trim().to_string(),
                created_at: now,
                scopes: spec.scopes.clone(),
                expires_at: spec.expires_at,
                allowed_ips: spec.allowed_ips.iter().map(|s| s.trim().to_string()).collect(),
                last_used: None,
            };
            w.put_api_token(&token, &record)?;
            let event = AuditEvent::TokenCreated {
                id: crate::store::token_id(&token),
                owner: p.email.clone(),
                name: record.name.clone(),
                scopes: record.scopes.iter().map(|s| s.key().to_string()).collect(),
            };
            super::audit::append(w, now, Actor::of(actor), "", event)?;
            Ok(token.clone())
        })
    }

    /// API tokens: all of them for an admin or the CLI (`actor` None), else
    /// the actor's own.
    pub fn api_tokens(&self, actor: Option<&Person>) -> Result<Vec<TokenInfo>> {
        let r = self.store.read()?;
        let mut out = Vec::new();
        for (id, t) in r.api_tokens()? {
            if actor.is_some_and(|a| !a.is_admin() && a.id != t.person) {
                continue;
            }
            let email = r.person(t.person)?.map(|p| p.email).unwrap_or_default();
            out.push(TokenInfo { id, email, token: t });
        }
        out.sort_by_key(|t| std::cmp::Reverse(t.token.created_at.0));
        Ok(out)
    }

    /// Revokes a token by its id (as `api_tokens` lists it); an agent only
    /// their own, an admin (or the CLI) any.
    pub fn revoke_api_token(&self, actor: Option<&Person>, id: &str) -> Result<()> {
        let id = id.trim().to_lowercase();
        if id.len() != crate::store::TOKEN_ID_LEN || !id.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(invalid(
                "token",
                crate::tr!("{value} is not a token id (12 hex digits, as `token list` shows)", value = format!("{id:?}")),
            ));
        }
        let Some(owner) = self.api_tokens(actor)?.into_iter().find(|t| t.id == id).map(|t| t.email) else {
            return Err(DeskError::NotFound);
        };
        let now = self.now();
        self.store.write(|w| {
            w.delete_api_token(&id)?;
            super::audit::append(w, now, Actor::of(actor), "", AuditEvent::TokenRevoked { id: id.clone(), owner })
        })?;
        Ok(())
    }

    /// Checks a bearer token for a request from `client` that needs `need`:
    /// its expiry and address allow-list, its scope, then its rate
    /// (`security.api_rate_per_minute`; `RateLimited` when spent). Reads only.
    pub fn authenticate_token(&self, token: &str, client: IpAddr, need: Scope) -> Result<TokenCheck> {
        if token.len() > 200 {
            return Ok(TokenCheck::Unknown);
        }
        let r = self.store.read()?;
        let Some(t) = r.api_token(token)? else { return Ok(TokenCheck::Unknown) };
        let Some(person) = r.person(t.person)?.filter(|p| p.is_staff()) else { return Ok(TokenCheck::Unknown) };
        let now = self.now();
        let allowed: Vec<Cidr> = t.allowed_ips.iter().filter_map(|c| Cidr::parse(c)).collect();
        if let Err(refusal) = access::admits(t.expires_at, &allowed, now, client) {
            return Ok(TokenCheck::Refused(refusal));
        }
        if !access::grants(&t.scopes, need) || (need == Scope::Admin && !person.is_admin()) {
            return Ok(TokenCheck::Refused(Refusal::MissingScope(need)));
        }
        let key = crate::store::token_id(token);
        {
            let mut rates = self.api_rates.lock().map_err(|_| DeskError::Conflict("rate limiter poisoned".into()))?;
            if let Err(retry_after_secs) = rates.take(&key, self.config().security.api_rate_per_minute, now.0) {
                return Err(DeskError::RateLimited { retry_after_secs });
            }
        }
        let touch = t.last_used.is_none_or(|u| now.0 - u.0 >= TOUCH_EVERY_MS);
        Ok(TokenCheck::Admitted { person: self.in_force(person), touch })
    }

    /// Records that a token was used now (called off the async runtime).
    pub fn touch_api_token(&self, token: &str) -> Result<()> {
        let now = self.now();
        self.store.write(|w| w.touch_api_token(token, now).map_err(DeskError::from))
    }
}

#[cfg(test)]
mod tests {
    use super::ApiRates;

    #[test]
    fn the_bucket_refills_over_a_minute() {
        let mut r = ApiRates::default();
        for _ in 0..3 {
            assert_eq!(r.take("t", 3, 0), Ok(()));
        }
        assert_eq!(r.take("t", 3, 0), Err(20));
        assert_eq!(r.take("other", 3, 0), Ok(()), "each token has its own bucket");
        assert_eq!(r.take("t", 3, 20_000), Ok(()));
        assert!(r.take("t", 3, 20_001).is_err());
    }
}
