//! The password policy: a minimum length, a maximum size, and no password
//! from the list of the 10,000 most common ones (shipped in the binary:
//! `common-passwords.txt`, the top of the Xato corpus as ranked by zxcvbn's
//! frequency lists, MIT) or made of the person's own email address.

use std::collections::HashSet;
use std::sync::OnceLock;

/// Longest password accepted, in bytes (argon2 takes any length; a cap keeps
/// a form post from making us hash megabytes).
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Why a password is refused, in words for the person choosing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Weak {
    TooShort { min: usize },
    TooLong,
    Common,
    IsEmail,
}

impl std::fmt::Display for Weak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Weak::TooShort { min } => write!(f, "must be at least {min} characters"),
            Weak::TooLong => write!(f, "must be at most {MAX_PASSWORD_BYTES} bytes"),
            Weak::Common => write!(f, "is one of the 10,000 most common passwords; choose another (a few unrelated words make a good one)"),
            Weak::IsEmail => write!(f, "must not be your email address or its name part"),
        }
    }
}

fn common() -> &'static HashSet<&'static str> {
    static LIST: OnceLock<HashSet<&'static str>> = OnceLock::new();
    LIST.get_or_init(|| include_str!("common-passwords.txt").lines().map(str::trim).filter(|l| !l.is_empty()).collect())
}

/// Whether `password` is on the common list (compared in lower case, with
/// surrounding spaces ignored).
pub fn is_common(password: &str) -> bool {
    common().contains(password.trim().to_lowercase().as_str())
}

/// Checks a new password against the policy; `email` is its owner's address.
pub fn check(password: &str, email: &str, min_chars: usize, reject_common: bool) -> Result<(), Weak> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(Weak::TooLong);
    }
    if password.chars().count() < min_chars {
        return Err(Weak::TooShort { min: min_chars });
    }
    if reject_common && is_common(password) {
        return Err(Weak::Common);
    }
    let p = password.trim().to_lowercase();
    let email = email.trim().to_lowercase();
    let local = email.split('@').next().unwrap_or("");
    if !email.is_empty() && (p == email || (!local.is_empty() && p == local)) {
        return Err(Weak::IsEmail);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_shipped_list_has_ten_thousand_entries() {
        assert_eq!(common().len(), 10_000);
        assert!(is_common("password"));
        assert!(is_common("Qwertyuiop"));
        assert!(is_common("1234567890"));
        assert!(!is_common("violet stapler runs east"));
    }

    #[test]
    fn policy_rules() {
        assert_eq!(check("short", "a@b.test", 10, true), Err(Weak::TooShort { min: 10 }));
        assert_eq!(check("1234567890", "a@b.test", 10, true), Err(Weak::Common));
        assert_eq!(check("1234567890", "a@b.test", 10, false), Ok(()));
        assert_eq!(check("Jonathan.Smith@Example.test", "jonathan.smith@example.test", 10, true), Err(Weak::IsEmail));
        assert_eq!(check("jonathan.smith", "jonathan.smith@example.test", 10, true), Err(Weak::IsEmail));
        assert_eq!(check(&"x".repeat(1025), "a@b.test", 10, true), Err(Weak::TooLong));
        assert_eq!(check("violet stapler runs east", "a@b.test", 10, true), Ok(()));
        // Characters, not bytes, count towards the minimum.
        assert_eq!(check("ééééé", "a@b.test", 6, true), Err(Weak::TooShort { min: 6 }));
    }

    proptest! {
        #[test]
        fn never_panics(p in ".{0,300}", e in ".{0,80}", min in 0usize..200) {
            let _ = check(&p, &e, min, true);
        }
    }
}
