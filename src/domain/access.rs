//! What an API token may do: its scopes (a closed set), and whether a token
//! with given scopes, expiry and address allow-list admits a request.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::net::Cidr;
use super::time::Timestamp;

/// An API token's scope. `admin` implies every other; `tickets:write`
/// implies `tickets:read` (a write answers with the ticket it changed). A
/// scope never gives more than the token's agent may do in the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Scope {
    TicketsRead,
    TicketsWrite,
    PeopleRead,
    Admin,
    /// Adding, editing and merging people (appended: tokens keep the index).
    PeopleWrite,
}

impl Scope {
    pub const ALL: [Scope; 5] = [Scope::TicketsRead, Scope::TicketsWrite, Scope::PeopleRead, Scope::PeopleWrite, Scope::Admin];

    pub fn key(self) -> &'static str {
        match self {
            Scope::TicketsRead => "tickets:read",
            Scope::TicketsWrite => "tickets:write",
            Scope::PeopleRead => "people:read",
            Scope::PeopleWrite => "people:write",
            Scope::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|k| k.key().eq_ignore_ascii_case(s.trim()))
    }

    /// Parses a comma- or space-separated list; the unknown word is the error.
    pub fn parse_list(s: &str) -> Result<Vec<Scope>, String> {
        let mut out = Vec::new();
        for w in s.split([',', ' ']).map(str::trim).filter(|w| !w.is_empty()) {
            let k = Scope::parse(w).ok_or_else(|| w.to_string())?;
            if !out.contains(&k) {
                out.push(k);
            }
        }
        out.sort();
        Ok(out)
    }
}

/// Whether a token holding `held` may act where `need` is required.
pub fn grants(held: &[Scope], need: Scope) -> bool {
    held.contains(&need)
        || held.contains(&Scope::Admin)
        || (need == Scope::TicketsRead && held.contains(&Scope::TicketsWrite))
        || (need == Scope::PeopleRead && held.contains(&Scope::PeopleWrite))
}

/// Why a valid token is refused for this request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Expired,
    AddressNotAllowed(IpAddr),
    MissingScope(Scope),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Expired => write!(f, "token expired"),
            Refusal::AddressNotAllowed(ip) => write!(f, "token not allowed from {ip}"),
            Refusal::MissingScope(s) => write!(f, "token lacks the {} scope", s.key()),
        }
    }
}

/// A token's limits, checked on every request before its scope.
pub fn admits(expires_at: Option<Timestamp>, allowed: &[Cidr], now: Timestamp, client: IpAddr) -> Result<(), Refusal> {
    if expires_at.is_some_and(|e| now.0 >= e.0) {
        return Err(Refusal::Expired);
    }
    if !allowed.is_empty() && !allowed.iter().any(|c| c.contains(client)) {
        return Err(Refusal::AddressNotAllowed(client));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_and_imply() {
        assert_eq!(Scope::parse_list("tickets:write, people:read").unwrap(), vec![Scope::TicketsWrite, Scope::PeopleRead]);
        assert_eq!(Scope::parse_list("tickets:read tickets:read").unwrap(), vec![Scope::TicketsRead]);
        assert_eq!(Scope::parse_list("tickets:delete"), Err("tickets:delete".to_string()));
        assert!(grants(&[Scope::TicketsWrite], Scope::TicketsRead));
        assert!(!grants(&[Scope::TicketsRead], Scope::TicketsWrite));
        assert!(!grants(&[Scope::TicketsRead], Scope::PeopleRead));
        assert!(grants(&[Scope::Admin], Scope::PeopleRead));
    }

    #[test]
    fn expiry_and_addresses() {
        let net = [Cidr::parse("10.0.0.0/8").unwrap()];
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(admits(None, &[], Timestamp(5), ip("203.0.113.1")), Ok(()));
        assert_eq!(admits(Some(Timestamp(5)), &[], Timestamp(5), ip("10.0.0.1")), Err(Refusal::Expired));
        assert_eq!(admits(Some(Timestamp(6)), &net, Timestamp(5), ip("10.0.0.1")), Ok(()));
        assert_eq!(admits(None, &net, Timestamp(5), ip("192.0.2.1")), Err(Refusal::AddressNotAllowed(ip("192.0.2.1"))));
    }
}
