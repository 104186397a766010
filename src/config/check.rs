//! Semantic checks of a typed config: every key's rules and bounds, with the
//! section and key to name in the error.

use std::net::SocketAddr;
use std::path::Path;

use super::{Config, StrangerPolicy};

impl Config {
    /// Semantic checks after typing. Returns (section, key, message).
    pub(super) fn validate(&self) -> Result<(), (&'static str, &'static str, String)> {
        // Bounds declared with each key (sections.rs) first; then the rules
        // that need parsing or span keys.
        self.check_ranges()?;
        let d = &self.desk;
        if d.name.trim().is_empty() {
            return Err(("desk", "name", "must not be empty".into()));
        }
        let p = &d.reference_prefix;
        if p.is_empty()
            || p.len() > 10
            || !p.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            || !p.starts_with(|c: char| c.is_ascii_uppercase())
        {
            return Err(("desk", "reference_prefix", format!("{p:?} must be 1-10 upper-case letters or digits, starting with a letter")));
        }
        check_list(&d.categories).map_err(|m| ("desk", "categories", m))?;
        check_list(&d.departments).map_err(|m| ("desk", "departments", m))?;
        if !d.categories.contains(&d.default_category) {
            return Err(("desk", "default_category", format!("{:?} is not one of desk.categories", d.default_category)));
        }
        if !d.departments.contains(&d.default_department) {
            return Err(("desk", "default_department", format!("{:?} is not one of desk.departments", d.default_department)));
        }
        if crate::domain::Priority::parse(&d.default_priority).is_none() {
            return Err(("desk", "default_priority", format!("{:?} is not a priority (urgent, high, medium, low)", d.default_priority)));
        }
        let s = &self.server;
        s.http
            .parse::<SocketAddr>()
            .map_err(|e| ("server", "http", format!("{:?} is not an address like 127.0.0.1:8080 ({e})", s.http)))?;
        if !(s.public_url.starts_with("http://") || s.public_url.starts_with("https://")) {
            return Err(("server", "public_url", format!("{:?} must start with http:// or https://", s.public_url)));
        }
        if !s.https.is_empty() {
            s.https
                .parse::<SocketAddr>()
                .map_err(|e| ("server", "https", format!("{:?} is not an address like 0.0.0.0:443 ({e})", s.https)))?;
        }
        if s.tls_cert.is_empty() != s.tls_key.is_empty() {
            let key = if s.tls_cert.is_empty() { "tls_cert" } else { "tls_key" };
            return Err(("server", key, "server.tls_cert and server.tls_key go together: set both or neither".into()));
        }
        self.check_topics()?;
        self.check_organizations()?;
        let p = &self.portal;
        if !p.accent_colour.is_empty() && parse_colour(&p.accent_colour).is_none() {
            return Err(("portal", "accent_colour", format!("{:?} is not a colour like \"#2f5bea\"", p.accent_colour)));
        }
        if !p.logo_file.is_empty() {
            let ok_type = logo_type(&p.logo_file).is_some();
            match std::fs::metadata(&p.logo_file) {
                _ if !ok_type => return Err(("portal", "logo_file", format!("{:?} is not a .png, .jpg, .webp or .svg file", p.logo_file))),
                Ok(m) if m.len() > 512 * 1024 => return Err(("portal", "logo_file", format!("{:?} is larger than 512 KB", p.logo_file))),
                Ok(_) => {}
                Err(e) => return Err(("portal", "logo_file", format!("{:?} cannot be read ({e})", p.logo_file))),
            }
        }
        for origin in &self.portal.widget_origins {
            if normalize_origin(origin).is_none() {
                return Err((
                    "portal",
                    "widget_origins",
                    format!("{origin:?} is not an origin like \"https://www.example.com\" (scheme, host, port; no path)"),
                ));
            }
        }
        let o = &self.sso;
        if o.enabled {
            let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"].iter().any(|p| o.issuer.starts_with(p));
            if !(o.issuer.starts_with("https://") || loopback) {
                return Err(("sso", "issuer", format!("{:?} must be an https:// URL", o.issuer)));
            }
            if o.client_id.trim().is_empty() {
                return Err(("sso", "client_id", "must be set when sso.enabled".into()));
            }
            if o.client_secret_file.trim().is_empty() {
                return Err(("sso", "client_secret_file", "must name the file with the client secret".into()));
            }
        } else if !o.password_login {
            return Err(("sso", "password_login", "cannot be off while sso.enabled is off: nobody could log in".into()));
        }
        let a = &self.acme;
        if a.enabled {
            if !s.tls_cert.is_empty() {
                return Err(("acme", "enabled", "server.tls_cert is set: use either your own certificate or ACME".into()));
            }
            if !a.directory.starts_with("https://") {
                return Err(("acme", "directory", format!("{:?} must be an https:// URL", a.directory)));
            }
            for d in self.acme_domains() {
                if !is_dns_name(&d) {
                    let key = if a.domains.is_empty() { "enabled" } else { "domains" };
                    return Err((
                        "acme",
                        key,
                        format!("{d:?} is not a host name a CA can certify (server.public_url's host when acme.domains is empty)"),
                    ));
                }
            }
        }
        if s.data_dir.as_os_str().is_empty() {
            return Err(("server", "data_dir", "must not be empty".into()));
        }
        if !s.metrics_token.is_empty() && s.metrics_token.trim().chars().count() < 16 {
            return Err(("server", "metrics_token", "must be at least 16 characters (or empty: loopback only)".into()));
        }
        let m = &self.smtp;
        m.listen
            .parse::<SocketAddr>()
            .map_err(|e| ("smtp", "listen", format!("{:?} is not an address like 0.0.0.0:25 ({e})", m.listen)))?;
        if m.hostname.trim().is_empty() || m.hostname.contains(char::is_whitespace) {
            return Err(("smtp", "hostname", format!("{:?} must be a host name", m.hostname)));
        }
        if m.max_data_memory < m.max_message_size {
            return Err(("smtp", "max_data_memory", "must be at least smtp.max_message_size".into()));
        }
        for r in &m.trusted_relays {
            if crate::domain::net::Cidr::parse(r).is_none() {
                return Err(("smtp", "trusted_relays", format!("{r:?} is not an IP address or CIDR range like 10.0.0.0/8")));
            }
        }
        if m.tls_cert.is_empty() != m.tls_key.is_empty() {
            return Err(("smtp", "tls_cert", "tls_cert and tls_key must be set together".into()));
        }
        let o = &self.outgoing;
        if !o.smarthost.is_empty() && !o.smarthost.rsplit_once(':').is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok()) {
            return Err(("outgoing", "smarthost", format!("{:?} must be host:port", o.smarthost)));
        }
        if !o.dns_resolver.is_empty() && o.dns_resolver.parse::<SocketAddr>().is_err() {
            return Err(("outgoing", "dns_resolver", format!("{:?} must be ip:port", o.dns_resolver)));
        }
        if !self.dns.resolver.is_empty() && self.dns.resolver.parse::<SocketAddr>().is_err() {
            return Err(("dns", "resolver", format!("{:?} must be ip:port", self.dns.resolver)));
        }
        let a = &self.mail_auth;
        for (key, sel) in [("ed25519_selector", &a.ed25519_selector), ("rsa_selector", &a.rsa_selector)] {
            if sel.is_empty()
                || !sel.split('.').all(|l| !l.is_empty() && l.len() <= 63 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
            {
                return Err(("mail_auth", key, format!("{sel:?} must be a DNS label like fd-rsa (letters, digits, -)")));
            }
        }
        for z in &a.dnsbl {
            super::parse_zone(z).map_err(|e| ("mail_auth", "dnsbl", e))?;
        }
        if a.ed25519_selector.eq_ignore_ascii_case(&a.rsa_selector) {
            return Err(("mail_auth", "rsa_selector", "the two keys need different selectors".into()));
        }
        let r = &self.rspamd;
        for (key, url) in [("url", &r.url), ("controller_url", &r.controller_url)] {
            if !url.is_empty() {
                super::http_authority(url).map_err(|e| ("rspamd", key, e))?;
            }
        }
        for (key, v) in [("junk_score", r.junk_score), ("reject_score", r.reject_score)] {
            if !(0.0..=10000.0).contains(&v) {
                return Err(("rspamd", key, format!("{v} must be between 0 and 10000 (0 = never)")));
            }
        }
        if !o.agent_from.is_empty() && !o.agent_from.contains("{agent}") {
            return Err(("outgoing", "agent_from", "must contain {agent} (or be empty)".into()));
        }
        if o.agent_from.contains(['\r', '\n']) {
            return Err(("outgoing", "agent_from", "a From name is one line".into()));
        }
        if !o.subject_format.contains("{ref}") {
            return Err(("outgoing", "subject_format", "must contain {ref} so replies find their ticket".into()));
        }
        if o.retry_secs.is_empty() || o.retry_secs.contains(&0) {
            return Err(("outgoing", "retry_secs", "must list at least one wait, each greater than 0".into()));
        }
        if o.username.is_empty() != o.password_file.is_empty() {
            return Err(("outgoing", "username", "username and password_file must be set together".into()));
        }
        if !o.ca_file.is_empty() {
            let pem = std::fs::read(&o.ca_file).map_err(|e| ("outgoing", "ca_file", format!("cannot read {:?}: {e}", o.ca_file)))?;
            let certs = rustls_pemfile::certs(&mut pem.as_slice()).collect::<Result<Vec<_>, _>>();
            if !certs.is_ok_and(|c| !c.is_empty()) {
                return Err(("outgoing", "ca_file", format!("{:?} holds no PEM certificate", o.ca_file)));
            }
        }
        if !o.template_dir.is_empty() && !Path::new(&o.template_dir).is_dir() {
            return Err(("outgoing", "template_dir", format!("{:?} is not a directory", o.template_dir)));
        }
        if let Some(v) = o.retry_secs.iter().copied().max().filter(|&v| v > 86_400) {
            return Err(("outgoing", "retry_secs", format!("{v} is more than the most allowed, 86400")));
        }
        for (i, c) in self.canned.iter().enumerate() {
            if c.name.trim().is_empty() || c.text.trim().is_empty() {
                return Err(("canned", "name", format!("canned response {}: name and text must not be empty", i + 1)));
            }
            if let Some(d) = &c.department
                && self.department(d).is_none()
            {
                return Err(("canned", "department", format!("canned response {:?}: {d:?} is not one of desk.departments", c.name)));
            }
        }
        for (i, v) in self.view.iter().enumerate() {
            if v.name.trim().is_empty() || v.query.trim().is_empty() {
                return Err(("view", "name", format!("view {}: name and query must not be empty", i + 1)));
            }
            let statuses: Vec<String> = self.status.iter().map(|s| s.name.clone()).collect();
            let fields: Vec<String> = self.field.iter().map(|f| f.name.clone()).collect();
            let cx = crate::domain::query::Context {
                me: 0,
                agents: &[],
                now: crate::domain::Timestamp(0),
                statuses: &statuses,
                fields: &fields,
            };
            if let Err(e) = crate::domain::query::parse(&v.query, &cx)
                && !v.query.contains("assignee:")
            {
                return Err(("view", "query", format!("view {:?}: {e}", v.name)));
            }
        }
        for (i, mb) in self.mailbox.iter().enumerate() {
            if crate::domain::people::normalize_email(&mb.address).is_none() {
                return Err(("mailbox", "address", format!("mailbox {}: {:?} is not an email address", i + 1, mb.address)));
            }
            if let Some(d) = &mb.department
                && self.department(d).is_none()
            {
                return Err(("mailbox", "department", format!("mailbox {}: {d:?} is not one of desk.departments", i + 1)));
            }
            if mb.strangers == StrangerPolicy::Reply && !self.mail_auth.verify {
                return Err((
                    "mailbox",
                    "strangers",
                    format!("mailbox {}: \"reply\" answers only senders the mail proves, which needs mail_auth.verify = true", i + 1),
                ));
            }
            if let Some(d) = mb.known_domains.iter().find(|d| !is_dns_name(d) || d.contains('@')) {
                return Err(("mailbox", "known_domains", format!("mailbox {}: {d:?} is not a domain name", i + 1)));
            }
            if !mb.reply_to.is_empty() && crate::domain::people::normalize_email(&mb.reply_to).is_none() {
                return Err(("mailbox", "reply_to", format!("mailbox {}: {:?} is not an email address", i + 1, mb.reply_to)));
            }
            if mb.from_name.contains(['\r', '\n']) || mb.agent_from.contains(['\r', '\n']) {
                return Err(("mailbox", "from_name", format!("mailbox {}: a From name is one line", i + 1)));
            }
            if !mb.agent_from.is_empty() && !mb.agent_from.contains("{agent}") {
                return Err(("mailbox", "agent_from", format!("mailbox {}: must contain {{agent}}", i + 1)));
            }
            if self.mailbox[..i].iter().any(|o| o.address.eq_ignore_ascii_case(&mb.address)) {
                return Err(("mailbox", "address", format!("{:?} is listed twice", mb.address)));
            }
        }
        self.check_access()?;
        self.check_statuses()?;
        self.check_fields()?;
        self.check_sla()?;
        self.check_triggers()?;
        self.check_imap()?;
        self.check_webhooks()
    }
}

/// A DNS host name with at least one dot (no IP address, no wildcard).
fn is_dns_name(d: &str) -> bool {
    d.len() <= 253
        && d.contains('.')
        && d.parse::<std::net::IpAddr>().is_err()
        && d.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

fn check_list(items: &[String]) -> Result<(), String> {
    if items.is_empty() {
        return Err("must list at least one entry".into());
    }
    for (i, it) in items.iter().enumerate() {
        if it.trim().is_empty() || it.len() > 60 {
            return Err(format!("entry {} must be 1-60 characters", i + 1));
        }
        if items[..i].iter().any(|o| o.eq_ignore_ascii_case(it)) {
            return Err(format!("{it:?} is listed twice"));
        }
    }
    Ok(())
}

/// A web origin as browsers send it (`https://host[:port]`, lower-case, no
/// path), or `None` when `s` is not one.
pub fn normalize_origin(s: &str) -> Option<String> {
    let s = s.trim().trim_end_matches('/').to_ascii_lowercase();
    let rest = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://"))?;
    let ok = !rest.is_empty() && !rest.contains(['/', '?', '#', '@', ' ', '\\']) && !rest.starts_with(':');
    ok.then_some(s)
}

/// A colour as `#rrggbb` (or `#rgb`), lower-case, or `None`.
pub fn parse_colour(s: &str) -> Option<String> {
    let hex = s.trim().strip_prefix('#')?;
    let ok = matches!(hex.len(), 3 | 6) && hex.chars().all(|c| c.is_ascii_hexdigit());
    ok.then(|| format!("#{}", hex.to_ascii_lowercase()))
}

/// The content type of a logo file by its extension.
pub fn logo_type(path: &str) -> Option<&'static str> {
    let ext = path.rsplit('.').next()?.to_ascii_lowercase();
    match ext.as_str() {
        "png" => Some("image/png"),
        "jpg" | "jpeg" => Some("image/jpeg"),
        "webp" => Some("image/webp"),
        "svg" => Some("image/svg+xml"),
        _ => None,
    }
}
