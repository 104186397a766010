//! Sender authentication at the end of DATA: SPF of the envelope sender and
//! the HELO name, every DKIM signature, DMARC of the From domain and the ARC
//! chain (the `mail-auth` crate on the desk's one resolver, `mail::dns`),
//! inside a hard time budget so a slow or broken DNS never blocks intake.
//! The result becomes the `Authentication-Results` header on top of the
//! spooled message (`domain::auth::MailAuth`), and the SMTP answer when the
//! policy says reject.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use mail_auth::dmarc::verify::DmarcParameters;
use mail_auth::spf::verify::SpfParameters;
use mail_auth::{AuthenticatedMessage, DkimResult, DmarcResult, SpfResult};

use super::dns::Dns;
use crate::config::Config;
pub use crate::desk::trust::{Decision, decide};
use crate::domain::auth::{AuthResult, DmarcPolicy, MailAuth, organizational_domain};

/// The verifier the SMTP sessions share.
pub struct Verifier {
    dns: Arc<Dns>,
    hostname: String,
    budget: Duration,
}

fn spf(r: SpfResult) -> AuthResult {
    match r {
        SpfResult::Pass => AuthResult::Pass,
        SpfResult::Fail => AuthResult::Fail,
        SpfResult::SoftFail => AuthResult::SoftFail,
        SpfResult::Neutral => AuthResult::Neutral,
        SpfResult::TempError => AuthResult::TempError,
        SpfResult::PermError => AuthResult::PermError,
        SpfResult::None => AuthResult::None,
    }
}

fn dkim(r: &DkimResult) -> AuthResult {
    match r {
        DkimResult::Pass => AuthResult::Pass,
        // RFC 6376 6.3: a body that does not match its hash is a failure
        // (mail-auth reports it as neutral).
        DkimResult::Neutral(mail_auth::Error::FailedBodyHashMatch) => AuthResult::Fail,
        DkimResult::Neutral(_) => AuthResult::Neutral,
        DkimResult::Fail(_) => AuthResult::Fail,
        DkimResult::PermError(_) => AuthResult::PermError,
        DkimResult::TempError(_) => AuthResult::TempError,
        DkimResult::None => AuthResult::None,
    }
}

/// The result that says most of several: pass if any passed, then fail,
/// then the errors.
fn best(results: impl Iterator<Item = AuthResult>) -> AuthResult {
    let rank = |r: &AuthResult| match r {
        AuthResult::Pass => 6,
        AuthResult::Fail => 5,
        AuthResult::PermError => 4,
        AuthResult::TempError => 3,
        AuthResult::SoftFail => 2,
        AuthResult::Neutral => 1,
        AuthResult::None => 0,
    };
    results.max_by_key(rank).unwrap_or_default()
}

impl Verifier {
    pub fn new(cfg: &Config, dns: Arc<Dns>) -> Verifier {
        Verifier { dns, hostname: cfg.smtp.hostname.clone(), budget: Duration::from_secs(cfg.mail_auth.time_budget_secs) }
    }

    /// Checks one message within the time budget. A timeout gives a
    /// temporary result ("could not verify"), never a refusal.
    pub async fn check(&self, ip: IpAddr, helo: &str, mail_from: &str, raw: &[u8]) -> MailAuth {
        let a = self.check_in_time(ip, helo, mail_from, raw).await;
        for (method, result) in [("spf", a.spf), ("dkim", a.dkim), ("dmarc", a.dmarc)] {
            crate::metrics::METRICS.mail_auth.add(&[method, result.as_str()]);
        }
        a
    }

    async fn check_in_time(&self, ip: IpAddr, helo: &str, mail_from: &str, raw: &[u8]) -> MailAuth {
        match tokio::time::timeout(self.budget, self.check_all(ip, helo, mail_from, raw)).await {
            Ok(a) => a,
            Err(_) => MailAuth {
                spf: AuthResult::TempError,
                spf_domain: envelope_domain(mail_from, helo),
                helo: AuthResult::TempError,
                helo_domain: helo.to_string(),
                dkim: AuthResult::TempError,
                dmarc: AuthResult::TempError,
                from_domain: from_domain(raw),
                note: format!("DNS did not answer within {} s", self.budget.as_secs()),
                ..MailAuth::default()
            },
        }
    }

    async fn check_all(&self, ip: IpAddr, helo: &str, mail_from: &str, raw: &[u8]) -> MailAuth {
        let auth = self.dns.authenticator();
        let helo_spf = if helo.contains('.') {
            spf(auth.verify_spf(SpfParameters::verify_ehlo(ip, helo, &self.hostname)).await.result())
        } else {
            AuthResult::None
        };
        let sender = if mail_from.is_empty() { format!("postmaster@{helo}") } else { mail_from.to_string() };
        let spf_out = auth.verify_spf(SpfParameters::verify_mail_from(ip, helo, &self.hostname, &sender)).await;
        let mut out = MailAuth {
            spf: spf(spf_out.result()),
            spf_domain: envelope_domain(mail_from, helo),
            helo: helo_spf,
            helo_domain: helo.to_string(),
            ..MailAuth::default()
        };
        let Some(msg) = AuthenticatedMessage::parse(raw) else {
            return out;
        };
        let dkim_out = auth.verify_dkim(&msg).await;
        out.dkim = best(dkim_out.iter().map(|o| dkim(o.result())));
        out.dkim_domains = dkim_out
            .iter()
            .filter(|o| *o.result() == DkimResult::Pass)
            .filter_map(|o| o.signature().map(|s| s.d.to_ascii_lowercase()))
            .collect();
        out.dkim_domains.dedup();
        if !msg.ams_headers.is_empty() {
            out.arc = dkim(auth.verify_arc(&msg).await.result());
        }
        let mail_from_domain = out.spf_domain.clone();
        let dmarc_out = auth
            .verify_dmarc(DmarcParameters::new(&msg, &dkim_out, &mail_from_domain, &spf_out).with_domain_suffix_fn(organizational_domain))
            .await;
        out.from_domain = dmarc_out.domain().to_ascii_lowercase();
        if out.from_domain.is_empty() {
            out.from_domain = from_domain(raw);
        }
        let (s, d) = (dmarc_out.spf_result(), dmarc_out.dkim_result());
        out.dmarc = if *s == DmarcResult::Pass || *d == DmarcResult::Pass {
            AuthResult::Pass
        } else if matches!(s, DmarcResult::TempError(_)) || matches!(d, DmarcResult::TempError(_)) {
            AuthResult::TempError
        } else if dmarc_out.dmarc_record().is_some() {
            AuthResult::Fail
        } else if matches!(s, DmarcResult::PermError(_)) {
            AuthResult::PermError
        } else {
            AuthResult::None
        };
        out.dmarc_policy = match dmarc_out.policy() {
            mail_auth::dmarc::Policy::Reject => DmarcPolicy::Reject,
            mail_auth::dmarc::Policy::Quarantine => DmarcPolicy::Quarantine,
            _ => DmarcPolicy::None,
        };
        out
    }
}

/// The domain SPF checks: the envelope sender's, or the HELO name for the
/// null sender.
fn envelope_domain(mail_from: &str, helo: &str) -> String {
    mail_from.rsplit_once('@').map(|(_, d)| d).unwrap_or(helo).trim_end_matches('>').to_ascii_lowercase()
}

/// The From header's domain, for results when the checks did not finish.
fn from_domain(raw: &[u8]) -> String {
    from_address(raw).rsplit_once('@').map(|(_, d)| d.to_string()).unwrap_or_default()
}

/// The From header's (first) address, lower case; empty when there is none.
pub fn from_address(raw: &[u8]) -> String {
    AuthenticatedMessage::parse(raw).and_then(|m| m.from.first().map(|f| f.to_ascii_lowercase())).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn best_of_several_signatures() {
        assert_eq!(best([AuthResult::Fail, AuthResult::Pass].into_iter()), AuthResult::Pass);
        assert_eq!(best([AuthResult::None, AuthResult::TempError].into_iter()), AuthResult::TempError);
        assert_eq!(best(std::iter::empty()), AuthResult::None);
        assert_eq!(envelope_domain("", "mx.Example.com"), "mx.example.com");
    }
}
