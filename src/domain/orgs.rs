//! Organizations: the customer companies people belong to, found by the
//! domain of a person's address (or set by an agent), with the agents'
//! notes and whether their members see each other's tickets.

use serde::{Deserialize, Serialize};

use super::ids::OrgId;
use super::time::Timestamp;

/// A customer company.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organization {
    pub id: OrgId,
    pub name: String,
    /// Address domains whose people belong to it (lower case, unique
    /// across organizations).
    pub domains: Vec<String>,
    /// The agents' notes about it.
    pub notes: String,
    /// Its members see each other's tickets on the customer side.
    pub shared: bool,
    pub created_at: Timestamp,
}

/// An address domain as organizations hold it: lower case, no `@`, a dot
/// and only letters, digits, `-` and `.`; `None` if it is not one.
pub fn normalize_domain(d: &str) -> Option<String> {
    let d = d.trim().trim_start_matches('@').to_ascii_lowercase();
    let ok = d.len() <= 253
        && d.contains('.')
        && !d.starts_with(['.', '-'])
        && !d.ends_with(['.', '-'])
        && !d.contains("..")
        && d.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    ok.then_some(d)
}

/// The domain of an address, lower case (what an organization matches).
pub fn domain_of(email: &str) -> Option<String> {
    email.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase()).filter(|d| !d.is_empty())
}

/// A name as organizations hold it: trimmed, one line, 1-120 characters.
pub fn check_name(name: &str) -> Result<String, String> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 120 || n.contains(['\n', '\r']) {
        return Err("a name is one line of 1-120 characters".into());
    }
    Ok(n.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_and_names() {
        assert_eq!(normalize_domain(" @Acme.Example "), Some("acme.example".into()));
        for bad in ["acme", "acme..example", ".acme.example", "acme.example-", "ac me.example", "ä.example", ""] {
            assert_eq!(normalize_domain(bad), None, "{bad}");
        }
        assert_eq!(domain_of("Bob@Sub.Acme.Example").as_deref(), Some("sub.acme.example"));
        assert!(check_name("  Acme Ltd ").is_ok_and(|n| n == "Acme Ltd"));
        assert!(check_name("").is_err() && check_name("a\nb").is_err());
    }
}
