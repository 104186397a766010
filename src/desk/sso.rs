//! Single sign-on from the desk's side: an address the identity provider
//! vouched for becomes a session of the active agent with that address, or,
//! with `sso.auto_create`, of a new agent with `sso.default_role`. The
//! protocol itself (OpenID Connect) is in `web/sso.rs`.

use super::audit::Actor;
use super::{Desk, Result};
use crate::config::SsoRole;
use crate::domain::audit::AuditEvent;
use crate::domain::people::normalize_email;
use crate::domain::{Person, Role};

/// Why a sign-on the provider accepted gives no session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SsoRefusal {
    NoAgent,
    Deactivated,
    Unverified,
}

impl std::fmt::Display for SsoRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SsoRefusal::NoAgent => write!(f, "no agent of this desk has that address; an admin must invite you first"),
            SsoRefusal::Deactivated => write!(f, "this agent account is deactivated"),
            SsoRefusal::Unverified => write!(f, "the sign-on service did not confirm that the address is yours"),
        }
    }
}

impl Desk {
    /// A session for the agent the provider vouched for (`email_verified`
    /// absent counts as verified: not every provider sends it), or why not.
    pub fn sso_login(
        &self,
        email: &str,
        name: &str,
        email_verified: Option<bool>,
        client: &str,
    ) -> Result<std::result::Result<(String, Person), SsoRefusal>> {
        let fail = |reason: SsoRefusal| -> Result<std::result::Result<(String, Person), SsoRefusal>> {
            let event = AuditEvent::LoginFailed { email: email.chars().take(254).collect(), reason: format!("single sign-on: {reason}") };
            self.record_audit(Actor::System, client, event)?;
            Ok(Err(reason))
        };
        if email_verified == Some(false) {
            return fail(SsoRefusal::Unverified);
        }
        let Some(email) = normalize_email(email) else { return fail(SsoRefusal::NoAgent) };
        let found = self.store.read()?.person_by_email(&email)?;
        let person = match found {
            Some(p) if p.is_staff() => p,
            Some(p) if p.role.is_staff() => return fail(SsoRefusal::Deactivated),
            _ if self.config().sso.auto_create => {
                let role = match self.config().sso.default_role {
                    SsoRole::Agent => Role::Agent,
                    SsoRole::Admin => Role::Admin,
                };
                let name = if name.trim().is_empty() {
                    email.split('@').next().unwrap_or("agent").to_string()
                } else {
                    name.chars().take(120).collect()
                };
                self.add_staff(Actor::SingleSignOn, client, &email, &name, (role, ""), &[], &[], String::new())?
            }
            _ => return fail(SsoRefusal::NoAgent),
        };
        let event = AuditEvent::SingleSignOn { issuer: self.config().sso.issuer.clone() };
        let token = self.open_session_with(&person, None, client, Some(event))?;
        Ok(Ok((token, person)))
    }
}
