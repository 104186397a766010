//! The DNS records each mailbox domain needs for mail to and from the desk
//! — MX, SPF, DKIM (both selectors) and DMARC — and whether they are
//! published now (`frontdesk dns`; `check-config` warns about a missing DKIM
//! key).

use std::time::Duration;

use super::dkim::Signer;
use super::dns::Dns;
use crate::config::Config;

/// One record the admin should publish, and what DNS says now.
pub struct Check {
    pub kind: &'static str,
    pub name: String,
    pub want: String,
    /// `Ok(())` published as it should be; `Err(what is wrong and the fix)`.
    pub state: Result<(), String>,
}

/// A TXT record that starts with `prefix` (e.g. `v=spf1`), among the answers.
fn with_prefix<'a>(txt: &'a [String], prefix: &str) -> Option<&'a String> {
    txt.iter().find(|t| t.trim_start().get(..prefix.len()).is_some_and(|p| p.eq_ignore_ascii_case(prefix)))
}

/// The `p=` value of a DKIM record (spaces inside removed).
fn dkim_key(record: &str) -> Option<String> {
    record.split(';').find_map(|t| t.trim().strip_prefix("p=")).map(|p| p.chars().filter(|c| !c.is_whitespace()).collect())
}

/// What the records of one mailbox domain should be, checked against DNS.
pub async fn check_domain(cfg: &Config, dns: &Dns, signer: &Signer, domain: &str) -> Vec<Check> {
    let host = cfg.smtp.hostname.trim_end_matches('.').to_ascii_lowercase();
    let mut out = Vec::new();
    let mx = dns.mail_hosts(domain).await;
    out.push(Check {
        kind: "MX",
        name: domain.to_string(),
        want: format!("10 {host}."),
        state: match mx {
            Ok(hosts) if hosts.iter().any(|h| h.eq_ignore_ascii_case(&host)) => Ok(()),
            Ok(hosts) if hosts == [domain.to_string()] => Err(format!("no MX record: publish one pointing at {host} (smtp.hostname)")),
            Ok(hosts) => Err(format!("the MX points at {} — mail for {domain} does not reach this desk directly", hosts.join(", "))),
            Err(e) => Err(e),
        },
    });
    let spf_want = if cfg.outgoing.smarthost.is_empty() {
        format!("v=spf1 a:{host} mx ~all")
    } else {
        format!("v=spf1 mx include:<the SPF domain of {}> ~all", cfg.outgoing.smarthost)
    };
    let root = dns.txt(domain).await;
    out.push(Check {
        kind: "TXT",
        name: domain.to_string(),
        want: spf_want,
        state: match &root {
            Ok(txt) => match txt.iter().filter(|t| with_prefix(std::slice::from_ref(t), "v=spf1").is_some()).count() {
                1 => Ok(()),
                0 => Err("no SPF record (v=spf1 …)".into()),
                n => Err(format!("{n} SPF records: receivers treat that as an error; keep one")),
            },
            Err(e) => Err(e.clone()),
        },
    });
    for rec in signer.records() {
        let name = format!("{}._domainkey.{domain}", rec.selector);
        let state = match dns.txt(&name).await {
            Ok(txt) => match with_prefix(&txt, "v=DKIM1").or(txt.first()) {
                None => Err("not published yet".to_string()),
                Some(found) if dkim_key(found) == dkim_key(&rec.value) => Ok(()),
                Some(_) => Err("a different key is published: replace it with this one".to_string()),
            },
            Err(e) => Err(e),
        };
        out.push(Check { kind: "TXT", name, want: rec.value, state });
    }
    let dmarc_name = format!("_dmarc.{domain}");
    out.push(Check {
        kind: "TXT",
        name: dmarc_name.clone(),
        want: format!("v=DMARC1; p=quarantine; adkim=r; aspf=r; rua=mailto:postmaster@{domain}"),
        state: match dns.txt(&dmarc_name).await {
            Ok(txt) if with_prefix(&txt, "v=DMARC1").is_some() => Ok(()),
            Ok(_) => Err("no DMARC record (start with p=none to watch, then quarantine)".into()),
            Err(e) => Err(e),
        },
    });
    out
}

/// The report `frontdesk dns` prints; true when every record is in place.
pub async fn report(cfg: &Config, dns: &Dns, signer: &Signer) -> (String, bool) {
    let mut text = String::new();
    let mut all_ok = true;
    let domains = cfg.mailbox_domains();
    if domains.is_empty() {
        return ("No [[mailbox]] is configured: there is no domain to publish records for.\n".into(), false);
    }
    for domain in domains {
        text.push_str(&format!("{domain} (asking {}):\n", dns.server));
        for c in check_domain(cfg, dns, signer, &domain).await {
            let (mark, note) = match &c.state {
                Ok(()) => ("✓", String::new()),
                Err(why) => {
                    all_ok = false;
                    ("✗", format!("\n      {why}"))
                }
            };
            text.push_str(&format!("  {mark} {:<4} {}.\n      {}{note}\n", c.kind, c.name, c.want));
        }
        text.push('\n');
    }
    (text, all_ok)
}

/// Mailbox domains DNS says have no DKIM record at the Ed25519 or RSA
/// selector; empty when DNS does not answer within `budget` (check-config
/// only warns when DNS is reachable).
pub async fn missing_dkim(cfg: &Config, dns: &Dns, budget: Duration) -> Vec<String> {
    let work = async {
        let mut missing = Vec::new();
        for domain in cfg.mailbox_domains() {
            for sel in [&cfg.mail_auth.ed25519_selector, &cfg.mail_auth.rsa_selector] {
                match dns.txt(&format!("{sel}._domainkey.{domain}")).await {
                    Ok(txt) if txt.is_empty() => missing.push(format!("{sel}._domainkey.{domain}")),
                    Ok(_) => {}
                    Err(_) => return Vec::new(),
                }
            }
        }
        missing
    };
    tokio::time::timeout(budget, work).await.unwrap_or_default()
}
