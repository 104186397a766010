//! The audit log's entries: every admin and security event, as a closed set
//! (append new variants last: entries are stored by variant index), with
//! who did it, from where, and a line of text for people.

use serde::{Deserialize, Serialize};

use super::ids::PersonId;
use super::template::fill;
use super::time::Timestamp;

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuditEvent {
    LoginSucceeded,
    /// `email` as typed; `reason` for the admin ("wrong password", "unknown account", …).
    LoginFailed {
        email: String,
        reason: String,
    },
    Logout,
    AgentAdded {
        email: String,
        role: String,
    },
    AgentDeactivated {
        email: String,
    },
    AgentReactivated {
        email: String,
    },
    /// Role or departments changed.
    AgentChanged {
        email: String,
        from: String,
        to: String,
    },
    PasswordReset {
        email: String,
    },
    TokenCreated {
        id: String,
        owner: String,
        name: String,
        scopes: Vec<String>,
    },
    TokenRevoked {
        id: String,
        owner: String,
    },
    TrashPurged {
        tickets: u64,
    },
    /// Data taken out of the desk: a CSV export, the audit log itself.
    DataExported {
        what: String,
        filter: String,
    },
    TwoFactorEnabled,
    /// By the agent, or an admin's reset for them.
    TwoFactorRemoved {
        email: String,
    },
    TwoFactorFailed {
        email: String,
        reason: String,
    },
    RecoveryCodeUsed {
        left: u64,
    },
    LoginCodeMailed,
    PasswordChanged,
    PasswordLinkSent {
        email: String,
        invite: bool,
    },
    ProfileChanged {
        what: String,
    },
    /// A login through the identity provider.
    SingleSignOn {
        issuer: String,
    },
    /// The desk started with a config whose sections differ from the last
    /// start's (names only: values may be secrets).
    ConfigChanged {
        sections: Vec<String>,
    },
}

/// The kinds of event, for the page's filter (same order as the variants).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditKind {
    LoginSucceeded,
    LoginFailed,
    Logout,
    AgentAdded,
    AgentDeactivated,
    AgentReactivated,
    AgentChanged,
    PasswordReset,
    TokenCreated,
    TokenRevoked,
    TrashPurged,
    DataExported,
    TwoFactorEnabled,
    TwoFactorRemoved,
    TwoFactorFailed,
    RecoveryCodeUsed,
    LoginCodeMailed,
    PasswordChanged,
    PasswordLinkSent,
    ProfileChanged,
    SingleSignOn,
    ConfigChanged,
}

impl AuditKind {
    pub const ALL: [AuditKind; 22] = [
        AuditKind::LoginSucceeded,
        AuditKind::LoginFailed,
        AuditKind::Logout,
        AuditKind::AgentAdded,
        AuditKind::AgentDeactivated,
        AuditKind::AgentReactivated,
        AuditKind::AgentChanged,
        AuditKind::PasswordReset,
        AuditKind::TokenCreated,
        AuditKind::TokenRevoked,
        AuditKind::TrashPurged,
        AuditKind::DataExported,
        AuditKind::TwoFactorEnabled,
        AuditKind::TwoFactorRemoved,
        AuditKind::TwoFactorFailed,
        AuditKind::RecoveryCodeUsed,
        AuditKind::LoginCodeMailed,
        AuditKind::PasswordChanged,
        AuditKind::PasswordLinkSent,
        AuditKind::ProfileChanged,
        AuditKind::SingleSignOn,
        AuditKind::ConfigChanged,
    ];

    pub fn key(self) -> &'static str {
        match self {
            AuditKind::LoginSucceeded => "login",
            AuditKind::LoginFailed => "login-failed",
            AuditKind::Logout => "logout",
            AuditKind::AgentAdded => "agent-added",
            AuditKind::AgentDeactivated => "agent-deactivated",
            AuditKind::AgentReactivated => "agent-reactivated",
            AuditKind::AgentChanged => "agent-changed",
            AuditKind::PasswordReset => "password-reset",
            AuditKind::TokenCreated => "token-created",
            AuditKind::TokenRevoked => "token-revoked",
            AuditKind::TrashPurged => "trash-purged",
            AuditKind::DataExported => "data-exported",
            AuditKind::TwoFactorEnabled => "2fa-enabled",
            AuditKind::TwoFactorRemoved => "2fa-removed",
            AuditKind::TwoFactorFailed => "2fa-failed",
            AuditKind::RecoveryCodeUsed => "recovery-code-used",
            AuditKind::LoginCodeMailed => "login-code-mailed",
            AuditKind::PasswordChanged => "password-changed",
            AuditKind::PasswordLinkSent => "password-link-sent",
            AuditKind::ProfileChanged => "profile-changed",
            AuditKind::SingleSignOn => "single-sign-on",
            AuditKind::ConfigChanged => "config-changed",
        }
    }

    pub fn parse(s: &str) -> Option<AuditKind> {
        AuditKind::ALL.into_iter().find(|k| k.key() == s.trim())
    }
}

impl AuditEvent {
    pub fn kind(&self) -> AuditKind {
        match self {
            AuditEvent::LoginSucceeded => AuditKind::LoginSucceeded,
            AuditEvent::LoginFailed { .. } => AuditKind::LoginFailed,
            AuditEvent::Logout => AuditKind::Logout,
            AuditEvent::AgentAdded { .. } => AuditKind::AgentAdded,
            AuditEvent::AgentDeactivated { .. } => AuditKind::AgentDeactivated,
            AuditEvent::AgentReactivated { .. } => AuditKind::AgentReactivated,
            AuditEvent::AgentChanged { .. } => AuditKind::AgentChanged,
            AuditEvent::PasswordReset { .. } => AuditKind::PasswordReset,
            AuditEvent::TokenCreated { .. } => AuditKind::TokenCreated,
            AuditEvent::TokenRevoked { .. } => AuditKind::TokenRevoked,
            AuditEvent::TrashPurged { .. } => AuditKind::TrashPurged,
            AuditEvent::DataExported { .. } => AuditKind::DataExported,
            AuditEvent::TwoFactorEnabled => AuditKind::TwoFactorEnabled,
            AuditEvent::TwoFactorRemoved { .. } => AuditKind::TwoFactorRemoved,
            AuditEvent::TwoFactorFailed { .. } => AuditKind::TwoFactorFailed,
            AuditEvent::RecoveryCodeUsed { .. } => AuditKind::RecoveryCodeUsed,
            AuditEvent::LoginCodeMailed => AuditKind::LoginCodeMailed,
            AuditEvent::PasswordChanged => AuditKind::PasswordChanged,
            AuditEvent::PasswordLinkSent { .. } => AuditKind::PasswordLinkSent,
            AuditEvent::ProfileChanged { .. } => AuditKind::ProfileChanged,
            AuditEvent::SingleSignOn { .. } => AuditKind::SingleSignOn,
            AuditEvent::ConfigChanged { .. } => AuditKind::ConfigChanged,
        }
    }

    /// One line for people (English: the export, the API and the filter use it).
    pub fn describe(&self) -> String {
        self.describe_in(&|s| s)
    }

    /// The line in another language: `t` gives each English template's
    /// translation (the web passes `i18n::text`); the values stay as recorded.
    pub fn describe_in(&self, t: &dyn Fn(&'static str) -> &'static str) -> String {
        match self {
            AuditEvent::LoginSucceeded => t("logged in").to_string(),
            AuditEvent::LoginFailed { email, reason } => {
                fill(t("failed login as {email}: {reason}"), &[("email", email), ("reason", reason)])
            }
            AuditEvent::Logout => t("logged out").to_string(),
            AuditEvent::AgentAdded { email, role } => fill(t("added {email} as {role}"), &[("email", email), ("role", role)]),
            AuditEvent::AgentDeactivated { email } => fill(t("deactivated {email}"), &[("email", email)]),
            AuditEvent::AgentReactivated { email } => fill(t("reactivated {email}"), &[("email", email)]),
            AuditEvent::AgentChanged { email, from, to } => {
                fill(t("changed {email}: {from} → {to}"), &[("email", email), ("from", from), ("to", to)])
            }
            AuditEvent::PasswordReset { email } => fill(t("reset the password of {email}"), &[("email", email)]),
            AuditEvent::TokenCreated { id, owner, name, scopes } => fill(
                t("created API token {id} ({name}) for {owner} with {scopes}"),
                &[("id", id), ("name", name), ("owner", owner), ("scopes", &scopes.join(", "))],
            ),
            AuditEvent::TokenRevoked { id, owner } => fill(t("revoked API token {id} of {owner}"), &[("id", id), ("owner", owner)]),
            AuditEvent::TrashPurged { tickets } => fill(t("purged {tickets} tickets from Trash"), &[("tickets", tickets)]),
            AuditEvent::DataExported { what, filter } => {
                if filter.is_empty() {
                    fill(t("exported {what}"), &[("what", what)])
                } else {
                    fill(t("exported {what} ({filter})"), &[("what", what), ("filter", filter)])
                }
            }
            AuditEvent::TwoFactorEnabled => t("turned on two-factor login").to_string(),
            AuditEvent::TwoFactorRemoved { email } => fill(t("removed the second factor of {email}"), &[("email", email)]),
            AuditEvent::TwoFactorFailed { email, reason } => {
                fill(t("failed second factor for {email}: {reason}"), &[("email", email), ("reason", reason)])
            }
            AuditEvent::RecoveryCodeUsed { left } => fill(t("logged in with a recovery code ({left} left)"), &[("left", left)]),
            AuditEvent::LoginCodeMailed => t("was mailed a one-time login code").to_string(),
            AuditEvent::PasswordChanged => t("changed their password").to_string(),
            AuditEvent::PasswordLinkSent { email, invite } => {
                if *invite {
                    fill(t("invited {email} (a link to set their password)"), &[("email", email)])
                } else {
                    fill(t("sent a password reset link to {email}"), &[("email", email)])
                }
            }
            AuditEvent::ProfileChanged { what } => fill(t("changed {what}"), &[("what", what)]),
            AuditEvent::SingleSignOn { issuer } => fill(t("signed on through {issuer}"), &[("issuer", issuer)]),
            AuditEvent::ConfigChanged { sections } => {
                fill(t("started with a changed config: {sections}"), &[("sections", &sections.join(", "))])
            }
        }
    }
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: Timestamp,
    /// The agent who acted, when one did.
    pub actor: Option<PersonId>,
    /// Their address then, or "command line", "system", "setup link".
    pub actor_label: String,
    /// The client address, where the event came over the network.
    pub ip: String,
    pub event: AuditEvent,
}

/// What the audit page and its exports select.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub kind: Option<AuditKind>,
    /// Words in the actor, address or description (case-insensitive).
    pub text: String,
    pub from: Option<Timestamp>,
    /// Exclusive.
    pub until: Option<Timestamp>,
}

impl AuditFilter {
    pub fn matches(&self, e: &AuditEntry) -> bool {
        if self.kind.is_some_and(|k| k != e.event.kind()) {
            return false;
        }
        if self.from.is_some_and(|f| e.at.0 < f.0) || self.until.is_some_and(|u| e.at.0 >= u.0) {
            return false;
        }
        let text = self.text.trim().to_lowercase();
        text.is_empty() || {
            let hay = format!("{} {} {}", e.actor_label, e.ip, e.event.describe()).to_lowercase();
            text.split_whitespace().all(|w| hay.contains(w))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_match_variants_and_filters_select() {
        for k in AuditKind::ALL {
            assert_eq!(AuditKind::parse(k.key()), Some(k));
        }
        let e = AuditEntry {
            at: Timestamp(1000),
            actor: None,
            actor_label: "ada@example.test".into(),
            ip: "192.0.2.1".into(),
            event: AuditEvent::LoginFailed { email: "bob@example.test".into(), reason: "wrong password".into() },
        };
        assert!(AuditFilter::default().matches(&e));
        assert!(AuditFilter { kind: Some(AuditKind::LoginFailed), text: "BOB 192.0.2".into(), ..Default::default() }.matches(&e));
        assert!(!AuditFilter { kind: Some(AuditKind::LoginSucceeded), ..Default::default() }.matches(&e));
        assert!(!AuditFilter { from: Some(Timestamp(1001)), ..Default::default() }.matches(&e));
        assert!(!AuditFilter { until: Some(Timestamp(1000)), ..Default::default() }.matches(&e));
        assert!(!AuditFilter { text: "carol".into(), ..Default::default() }.matches(&e));
    }
}
