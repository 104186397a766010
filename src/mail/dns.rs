//! The one DNS resolver of the desk (`dns.resolver`, else the system's):
//! MX and address lookups for direct delivery, TXT records for SPF, DKIM and
//! DMARC (through `mail-auth`, which shares this resolver), DNSBL zones and
//! `frontdesk dns`. Answers are cached for their TTL by the resolver.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use mail_auth::MessageAuthenticator;
use mail_auth::common::cache::NoCache;
use mail_auth::hickory_resolver::config::{NameServerConfigGroup, ResolverConfig, ResolverOpts};

/// Answers kept by the resolver (entries; each expires with its TTL).
const CACHE_ENTRIES: usize = 4096;

/// The resolver, shared by everything that asks DNS.
#[derive(Clone)]
pub struct Dns {
    auth: MessageAuthenticator,
    /// Where the answers come from, for messages.
    pub server: String,
}

/// No answer: the name has no such record (or does not exist).
pub fn is_missing(e: &mail_auth::Error) -> bool {
    matches!(e, mail_auth::Error::DnsRecordNotFound(_))
}

/// Counts one lookup of `kind` for `/metrics`: ok, missing (no such name or
/// record) or error (no usable answer, timeouts included).
fn count<T>(kind: &str, r: &Result<T, mail_auth::Error>) {
    let outcome = match r {
        Ok(_) => "ok",
        Err(e) if is_missing(e) => "missing",
        Err(_) => "error",
    };
    crate::metrics::METRICS.dns.add(&[kind, outcome]);
}

impl Dns {
    /// A resolver asking `server` (UDP, TCP for long answers), or the
    /// system's nameservers when `None`.
    pub fn new(server: Option<SocketAddr>, timeout: Duration) -> Result<Dns, String> {
        let (config, mut opts, label) = match server {
            Some(addr) => {
                let group = NameServerConfigGroup::from_ips_clear(&[addr.ip()], addr.port(), true);
                (ResolverConfig::from_parts(None, Vec::new(), group), ResolverOpts::default(), addr.to_string())
            }
            None => {
                let (c, o) = mail_auth::hickory_resolver::system_conf::read_system_conf()
                    .map_err(|e| format!("cannot read the system's DNS resolvers (/etc/resolv.conf): {e}; set dns.resolver"))?;
                (c, o, "the system resolver".to_string())
            }
        };
        opts.timeout = timeout;
        opts.attempts = 2;
        opts.cache_size = CACHE_ENTRIES;
        opts.edns0 = true;
        let auth = MessageAuthenticator::new(config, opts).map_err(|e| format!("cannot start the DNS resolver: {e}"))?;
        Ok(Dns { auth, server: label })
    }

    /// The resolver the config names (`dns.resolver`, `outgoing.dns_resolver`).
    pub fn from_config(cfg: &crate::config::Config) -> Result<Arc<Dns>, String> {
        Dns::new(cfg.dns_resolver(), Duration::from_secs(cfg.dns.timeout_secs)).map(Arc::new)
    }

    /// The SPF/DKIM/DMARC verifier on this resolver.
    pub fn authenticator(&self) -> &MessageAuthenticator {
        &self.auth
    }

    /// The mail hosts for a domain: its MX records by preference, or the
    /// domain itself when it has none (RFC 5321 5.1 implicit MX).
    pub async fn mail_hosts(&self, domain: &str) -> Result<Vec<String>, String> {
        let r = self.auth.mx_lookup(domain, None::<&NoCache<String, Arc<Vec<mail_auth::MX>>>>).await;
        count("mx", &r);
        match r {
            Ok(mx) => {
                let hosts: Vec<String> = mx
                    .iter()
                    .flat_map(|m| m.exchanges.iter())
                    .map(|h| h.trim_end_matches('.').to_string())
                    .filter(|h| !h.is_empty())
                    .collect();
                Ok(if hosts.is_empty() { vec![domain.to_string()] } else { hosts })
            }
            Err(e) if is_missing(&e) => Ok(vec![domain.to_string()]),
            Err(e) => Err(format!("no answer from {} for the MX of {domain}: {e}", self.server)),
        }
    }

    /// The addresses of a host (IPv4 first, then IPv6).
    pub async fn addresses(&self, host: &str) -> Result<Vec<IpAddr>, String> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(vec![ip]);
        }
        let v4 = self.auth.ipv4_lookup(host, None::<&NoCache<String, Arc<Vec<std::net::Ipv4Addr>>>>).await;
        let v6 = self.auth.ipv6_lookup(host, None::<&NoCache<String, Arc<Vec<std::net::Ipv6Addr>>>>).await;
        count("a", &v4);
        count("aaaa", &v6);
        let mut out: Vec<IpAddr> = Vec::new();
        if let Ok(a) = &v4 {
            out.extend(a.iter().map(|ip| IpAddr::V4(*ip)));
        }
        if let Ok(a) = &v6 {
            out.extend(a.iter().map(|ip| IpAddr::V6(*ip)));
        }
        match (out.is_empty(), v4) {
            (false, _) => Ok(out),
            (true, Err(e)) if !is_missing(&e) => Err(format!("no answer from {} for {host}: {e}", self.server)),
            (true, _) => Err(format!("{host} has no address")),
        }
    }

    /// The socket addresses of `host:port` on this resolver, never the
    /// system's name service (a static binary has none to load): an IP
    /// literal as it is, `localhost` as loopback, else the host as the
    /// system's resolver would take it (the hosts file, resolv.conf's
    /// search domains) but asked by this one. IPv4 first.
    pub async fn socket_addrs(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let mut ips = if let Ok(ip) = host.parse::<IpAddr>() {
            vec![ip]
        } else if host.eq_ignore_ascii_case("localhost") {
            vec![IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), IpAddr::V6(std::net::Ipv6Addr::LOCALHOST)]
        } else {
            let found = self.auth.resolver().lookup_ip(host).await;
            crate::metrics::METRICS.dns.add(&["ip", if found.is_ok() { "ok" } else { "error" }]);
            found.map_err(|e| format!("cannot resolve {host} (asking {}): {e}", self.server))?.iter().collect()
        };
        ips.sort_by_key(|ip| ip.is_ipv6());
        if ips.is_empty() {
            return Err(format!("{host} has no address"));
        }
        Ok(ips.into_iter().map(|ip| SocketAddr::new(ip, port)).collect())
    }

    /// This resolver as the TLS client's `Lookup` (ACME, SSO).
    pub fn lookup(self: &Arc<Self>) -> crate::tls::client::Lookup {
        let dns = self.clone();
        Arc::new(move |host: String| {
            let dns = dns.clone();
            Box::pin(async move { Ok(dns.socket_addrs(&host, 0).await?.into_iter().map(|a| a.ip()).collect()) })
        })
    }

    /// The TXT records of a name, each one string (`frontdesk dns`). An
    /// empty list when there are none.
    pub async fn txt(&self, name: &str) -> Result<Vec<String>, String> {
        let r = self.auth.resolver().txt_lookup(format!("{}.", name.trim_end_matches('.'))).await;
        let outcome = match &r {
            Ok(_) => "ok",
            Err(e) if e.is_no_records_found() => "missing",
            Err(_) => "error",
        };
        crate::metrics::METRICS.dns.add(&["txt", outcome]);
        match r {
            Ok(l) => Ok(l.iter().map(|t| t.txt_data().iter().map(|s| String::from_utf8_lossy(s)).collect::<String>()).collect()),
            Err(e) if e.is_no_records_found() => Ok(Vec::new()),
            Err(e) => Err(format!("no answer from {} for TXT {name}: {e}", self.server)),
        }
    }

    /// The A records of a name, empty when it does not exist (DNSBL queries).
    pub async fn ipv4(&self, name: &str) -> Result<Vec<std::net::Ipv4Addr>, String> {
        let r = self.auth.ipv4_lookup(name, None::<&NoCache<String, Arc<Vec<std::net::Ipv4Addr>>>>).await;
        count("dnsbl", &r);
        match r {
            Ok(a) => Ok(a.to_vec()),
            Err(e) if is_missing(&e) => Ok(Vec::new()),
            Err(e) => Err(format!("no answer from {} for {name}: {e}", self.server)),
        }
    }
}
