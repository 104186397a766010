//! Spam screening that needs no service: DNSBL/RBL zones asked about the
//! client's address at connect (`mail_auth.dnsbl`: refused with 554, or the
//! mail held in Junk, per zone; answers cached by the resolver), and
//! optional greylisting of unknown (client network, sender, recipient)
//! triplets (`mail_auth.greylist`): a real MTA retries, most spam engines
//! do not.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::dns::Dns;
#[cfg(test)]
use crate::config::ZoneAction;
use crate::config::{Config, Zone, parse_zone};

/// Time all DNSBL lookups of one connection may take.
const DNSBL_BUDGET: Duration = Duration::from_secs(2);
/// A triplet that passed is let through without delay this long.
const GREYLIST_PASSED: Duration = Duration::from_secs(36 * 24 * 3600);
/// Triplets remembered at most (the oldest are forgotten first).
const GREYLIST_MAX: usize = 100_000;

/// The name asked for `ip` in `zone`: reversed octets (IPv4) or nibbles (IPv6).
pub fn query_name(ip: IpAddr, zone: &str) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.{}.{zone}", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(v6) => {
            let mut parts: Vec<String> = Vec::with_capacity(33);
            for b in v6.octets().iter().rev() {
                parts.push(format!("{:x}", b & 0x0f));
                parts.push(format!("{:x}", b >> 4));
            }
            parts.push(zone.to_string());
            parts.join(".")
        }
    }
}

/// The triplets seen: when first, and whether they passed.
#[derive(Default)]
struct Triplets {
    seen: HashMap<(String, String, String), (Instant, bool)>,
}

pub struct Screen {
    dns: Arc<Dns>,
    zones: Vec<Zone>,
    greylist: Option<Duration>,
    triplets: Mutex<Triplets>,
}

/// The network a client's retries come from: its /24 (IPv4) or /64 (IPv6);
/// big senders retry from another address of the same pool.
fn network(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}", o[0], o[1], o[2])
        }
        IpAddr::V6(v6) => v6.segments().iter().take(4).map(|s| format!("{s:x}")).collect::<Vec<_>>().join(":"),
    }
}

impl Screen {
    pub fn new(cfg: &Config, dns: Arc<Dns>) -> Screen {
        let zones = cfg.mail_auth.dnsbl.iter().filter_map(|z| parse_zone(z).ok()).collect();
        let greylist = cfg.mail_auth.greylist.then(|| Duration::from_secs(cfg.mail_auth.greylist_secs));
        Screen { dns, zones, greylist, triplets: Mutex::default() }
    }

    /// The first zone that lists `ip`, if any (a DNS failure lists nothing).
    pub async fn listed(&self, ip: IpAddr) -> Option<Zone> {
        if self.zones.is_empty() {
            return None;
        }
        let work = async {
            for z in &self.zones {
                // 127.0.0.x is a listing; 127.255.255.x are the zone's error codes.
                if let Ok(a) = self.dns.ipv4(&query_name(ip, &z.name)).await
                    && a.iter().any(|r| r.octets()[0] == 127 && r.octets()[1] != 255)
                {
                    return Some(z.clone());
                }
            }
            None
        };
        tokio::time::timeout(DNSBL_BUDGET, work).await.ok().flatten()
    }

    /// Greylisting: `None` lets the recipient through, `Some(seconds)` says
    /// how long until a retry will be.
    pub fn greylisted(&self, ip: IpAddr, from: &str, rcpt: &str) -> Option<u64> {
        let delay = self.greylist?;
        let now = Instant::now();
        let mut t = self.triplets.lock().unwrap_or_else(|p| p.into_inner());
        if t.seen.len() >= GREYLIST_MAX {
            t.seen.retain(|_, (first, passed)| now.duration_since(*first) < if *passed { GREYLIST_PASSED } else { delay * 24 });
        }
        if t.seen.len() >= GREYLIST_MAX {
            return None; // under a flood, fail open rather than remember everything
        }
        let key = (network(ip), from.to_ascii_lowercase(), rcpt.to_ascii_lowercase());
        let entry = t.seen.entry(key).or_insert((now, false));
        let waited = now.duration_since(entry.0);
        if entry.1 || waited >= delay {
            entry.1 = true;
            return None;
        }
        Some((delay - waited).as_secs().max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_and_query_names() {
        assert_eq!(parse_zone("zen.spamhaus.org"), Ok(Zone { name: "zen.spamhaus.org".into(), action: ZoneAction::Reject }));
        assert_eq!(parse_zone(" bl.test.=junk").map(|z| (z.name, z.action)), Ok(("bl.test".into(), ZoneAction::Junk)));
        assert!(parse_zone("bl.test=maybe").is_err() && parse_zone("nodot").is_err() && parse_zone("a b.test").is_err());
        assert_eq!(query_name("192.0.2.1".parse().unwrap(), "bl.test"), "1.2.0.192.bl.test");
        let v6 = query_name("2001:db8::1".parse().unwrap(), "bl.test");
        assert!(v6.starts_with("1.0.0.0.0.0.0.0") && v6.ends_with("8.b.d.0.1.0.0.2.bl.test"), "{v6}");
        assert_eq!(network("192.0.2.77".parse().unwrap()), "192.0.2");
    }
}
