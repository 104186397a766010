//! The sender-authentication policy: what the SPF/DKIM/DMARC results of a
//! mail (`domain::auth::MailAuth`) mean for intake under `[mail_auth]` —
//! refused at the end of DATA, held in Junk, or let in marked — and when a
//! mail from an agent's address may act as that agent.

use crate::config::{AuthAction, Config};
use crate::domain::auth::{DmarcPolicy, MailAuth};

/// What the SMTP session does with a verified mail.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    /// Spool it (the worker applies the Junk policies).
    Accept,
    /// Answer this and keep nothing.
    Reject(String),
}

/// What the policy asks for this result at the end of DATA.
pub fn decide(cfg: &Config, a: &MailAuth) -> Decision {
    let p = &cfg.mail_auth;
    let refuse = |why: String| Decision::Reject(format!("550 5.7.1 {why}"));
    if a.dmarc_failed_with(DmarcPolicy::Reject) && p.dmarc_reject == AuthAction::Reject {
        return refuse(format!("Rejected by the DMARC policy (p=reject) of {}", a.from_domain));
    }
    if a.dmarc_failed_with(DmarcPolicy::Quarantine) && p.dmarc_quarantine == AuthAction::Reject {
        return refuse(format!("Rejected: the message fails the DMARC policy of {}", a.from_domain));
    }
    if a.spf_hard_fail() && p.spf_fail == AuthAction::Reject {
        return refuse(format!("Rejected: {} does not allow this server to send its mail (SPF fail)", a.spf_domain));
    }
    Decision::Accept
}

/// Why the worker holds a mail in Junk under the policy, if it does.
pub fn junk_reason(cfg: &Config, a: &MailAuth) -> Option<String> {
    let p = &cfg.mail_auth;
    if a.dmarc_failed_with(DmarcPolicy::Reject) && p.dmarc_reject == AuthAction::Junk {
        return Some(format!("fails the DMARC policy of {} (p=reject)", a.from_domain));
    }
    if a.dmarc_failed_with(DmarcPolicy::Quarantine) && p.dmarc_quarantine == AuthAction::Junk {
        return Some(format!("fails the DMARC policy of {} (p=quarantine)", a.from_domain));
    }
    if a.spf_hard_fail() && p.spf_fail == AuthAction::Junk {
        return Some(format!("SPF of {} fails and the mail has no valid DKIM signature", a.spf_domain));
    }
    None
}

/// Whether the results prove the mail is from `email`'s own domain (an
/// aligned pass): then mail from an agent's address may act as the agent
/// even without a signed reply token.
pub fn proves_address(a: &MailAuth, email: &str) -> bool {
    a.aligned() && email.rsplit_once('@').is_some_and(|(_, d)| d.eq_ignore_ascii_case(&a.from_domain))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::auth::AuthResult;

    #[test]
    fn the_policy_rejects_junks_or_marks() {
        let mut cfg = Config::default();
        let fail = |p| MailAuth {
            dmarc: AuthResult::Fail,
            dmarc_policy: p,
            from_domain: "bank.example".into(),
            spf: AuthResult::Fail,
            spf_domain: "bank.example".into(),
            ..MailAuth::default()
        };
        assert!(matches!(decide(&cfg, &fail(DmarcPolicy::Reject)), Decision::Reject(r) if r.starts_with("550 5.7.1")));
        assert_eq!(decide(&cfg, &fail(DmarcPolicy::Quarantine)), Decision::Accept);
        assert!(junk_reason(&cfg, &fail(DmarcPolicy::Quarantine)).is_some_and(|r| r.contains("quarantine")));
        cfg.mail_auth.dmarc_reject = AuthAction::Junk;
        assert_eq!(decide(&cfg, &fail(DmarcPolicy::Reject)), Decision::Accept);
        assert!(junk_reason(&cfg, &fail(DmarcPolicy::Reject)).is_some());
        cfg.mail_auth.dmarc_reject = AuthAction::Mark;
        cfg.mail_auth.spf_fail = AuthAction::Mark;
        assert_eq!(junk_reason(&cfg, &fail(DmarcPolicy::Reject)), None);
        let pass = MailAuth { dmarc: AuthResult::Pass, ..fail(DmarcPolicy::Reject) };
        assert_eq!((decide(&Config::default(), &pass), junk_reason(&Config::default(), &pass)), (Decision::Accept, None));
    }

    #[test]
    fn an_aligned_pass_proves_only_its_own_domain() {
        let a = MailAuth { dmarc: AuthResult::Pass, from_domain: "acme.test".into(), ..MailAuth::default() };
        assert!(proves_address(&a, "ada@acme.test") && proves_address(&a, "ada@ACME.test"));
        assert!(!proves_address(&a, "ada@other.test"));
        assert!(!proves_address(&MailAuth { dmarc: AuthResult::Fail, ..a }, "ada@acme.test"));
    }
}
