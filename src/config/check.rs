//! Semantic checks of a typed config: every key's rules and bounds, with the
//! section and key to name in the error.

use std::net::SocketAddr;
use std::path::Path;

use super::Config;
use crate::domain::Priority;

impl Config {
    /// Semantic checks after typing. Returns (section, key, message).
    pub(super) fn validate(&self) -> Result<(), (&'static str, &'static str, String)> {
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
        if Priority::parse(&d.default_priority).is_none() {
            return Err(("desk", "default_priority", format!("{:?} is not a priority (urgent, high, medium, low)", d.default_priority)));
        }
        let s = &self.server;
        s.http
            .parse::<SocketAddr>()
            .map_err(|e| ("server", "http", format!("{:?} is not an address like 127.0.0.1:8080 ({e})", s.http)))?;
        if !(s.public_url.starts_with("http://") || s.public_url.starts_with("https://")) {
            return Err(("server", "public_url", format!("{:?} must start with http:// or https://", s.public_url)));
        }
        if s.data_dir.as_os_str().is_empty() {
            return Err(("server", "data_dir", "must not be empty".into()));
        }
        if !matches!(s.secure_cookies.as_str(), "auto" | "always" | "never") {
            return Err(("server", "secure_cookies", format!("{:?} must be \"auto\", \"always\" or \"never\"", s.secure_cookies)));
        }
        if !(1..=65536).contains(&s.cache_mib) {
            return Err(("server", "cache_mib", format!("{} must be between 1 and 65536", s.cache_mib)));
        }
        if !(1..=86_400).contains(&s.health_spool_age_secs) {
            return Err(("server", "health_spool_age_secs", format!("{} must be between 1 and 86400", s.health_spool_age_secs)));
        }
        let l = &self.limits;
        let positive: [(&'static str, u64); 8] = [
            ("upload_max_bytes", l.upload_max_bytes as u64),
            ("subject_max_chars", l.subject_max_chars as u64),
            ("body_max_bytes", l.body_max_bytes as u64),
            ("request_max_bytes", l.request_max_bytes as u64),
            ("attachment_max_bytes", l.attachment_max_bytes),
            ("tags_max", l.tags_max as u64),
            ("collaborators_max", l.collaborators_max as u64),
            ("page_size", l.page_size as u64),
        ];
        for (key, v) in positive {
            if v == 0 {
                return Err(("limits", key, "must be greater than 0".into()));
            }
        }
        if !(1..=3600).contains(&l.body_timeout_secs) {
            return Err(("limits", "body_timeout_secs", format!("{} must be between 1 and 3600", l.body_timeout_secs)));
        }
        if !(1..=1024).contains(&l.concurrent_uploads) {
            return Err(("limits", "concurrent_uploads", format!("{} must be between 1 and 1024", l.concurrent_uploads)));
        }
        if l.page_size > 500 {
            return Err(("limits", "page_size", "must be at most 500".into()));
        }
        let m = &self.smtp;
        m.listen
            .parse::<SocketAddr>()
            .map_err(|e| ("smtp", "listen", format!("{:?} is not an address like 0.0.0.0:25 ({e})", m.listen)))?;
        if m.hostname.trim().is_empty() || m.hostname.contains(char::is_whitespace) {
            return Err(("smtp", "hostname", format!("{:?} must be a host name", m.hostname)));
        }
        let smtp_positive: [(&'static str, u64); 9] = [
            ("max_message_size", m.max_message_size as u64),
            ("max_line_length", m.max_line_length as u64),
            ("max_header_count", m.max_header_count as u64),
            ("max_recipients", m.max_recipients as u64),
            ("max_commands", m.max_commands as u64),
            ("max_errors", m.max_errors as u64),
            ("max_connections", m.max_connections as u64),
            ("max_connections_per_ip", m.max_connections_per_ip as u64),
            ("command_timeout_secs", m.command_timeout_secs.min(m.data_timeout_secs)),
        ];
        for (key, v) in smtp_positive {
            if v == 0 {
                return Err(("smtp", key, "must be greater than 0 (timeouts too)".into()));
            }
        }
        // Durations and sizes are bounded: a typo must not overflow a deadline.
        let bounded: [(&'static str, u64, u64); 5] = [
            ("command_timeout_secs", m.command_timeout_secs, 3600),
            ("data_timeout_secs", m.data_timeout_secs, 7200),
            ("max_message_size", m.max_message_size as u64, 1 << 30),
            ("max_connections", m.max_connections as u64, 100_000),
            ("max_data_memory", m.max_data_memory as u64, 1 << 34),
        ];
        for (key, v, max) in bounded {
            if v > max {
                return Err(("smtp", key, format!("{v} is more than the most allowed, {max}")));
            }
        }
        if m.max_data_memory < m.max_message_size {
            return Err(("smtp", "max_data_memory", "must be at least smtp.max_message_size".into()));
        }
        for r in &m.trusted_relays {
            if parse_cidr(r).is_none() {
                return Err(("smtp", "trusted_relays", format!("{r:?} is not an IP address or CIDR range like 10.0.0.0/8")));
            }
        }
        if m.max_line_length < 1000 {
            return Err(("smtp", "max_line_length", "must be at least 1000 (RFC 5321)".into()));
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
        if !matches!(o.security.as_str(), "none" | "starttls" | "tls") {
            return Err(("outgoing", "security", format!("{:?} must be \"none\", \"starttls\" or \"tls\"", o.security)));
        }
        if !matches!(o.collaborators.as_str(), "cc" | "separate") {
            return Err(("outgoing", "collaborators", format!("{:?} must be \"cc\" or \"separate\"", o.collaborators)));
        }
        if !o.subject_format.contains("{ref}") {
            return Err(("outgoing", "subject_format", "must contain {ref} so replies find their ticket".into()));
        }
        if o.retry_secs.is_empty() || o.retry_secs.contains(&0) {
            return Err(("outgoing", "retry_secs", "must list at least one wait, each greater than 0".into()));
        }
        if !(1..=3650).contains(&o.command_token_days) {
            return Err(("outgoing", "command_token_days", format!("{} must be between 1 and 3650", o.command_token_days)));
        }
        if o.link_days == 0 {
            return Err(("outgoing", "link_days", "must be greater than 0".into()));
        }
        if o.max_queue_hours == 0 {
            return Err(("outgoing", "max_queue_hours", "must be greater than 0".into()));
        }
        if o.username.is_empty() != o.password_file.is_empty() {
            return Err(("outgoing", "username", "username and password_file must be set together".into()));
        }
        if !o.template_dir.is_empty() && !Path::new(&o.template_dir).is_dir() {
            return Err(("outgoing", "template_dir", format!("{:?} is not a directory", o.template_dir)));
        }
        let bounded: [(&'static str, u64, u64); 4] = [
            ("ack_window_minutes", o.ack_window_minutes, 10_080),
            ("max_queue_hours", o.max_queue_hours, 24 * 60),
            ("link_days", o.link_days, 3650),
            ("retry_secs", o.retry_secs.iter().copied().max().unwrap_or(0), 86_400),
        ];
        for (key, v, max) in bounded {
            if v > max {
                return Err(("outgoing", key, format!("{v} is more than the most allowed, {max}")));
            }
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
            let cx = crate::domain::query::Context { me: 0, agents: &[], now: crate::domain::Timestamp(0) };
            if let Err(e) = crate::domain::query::parse(&v.query, &cx)
                && !v.query.contains("assignee:")
            {
                return Err(("view", "query", format!("view {:?}: {e}", v.name)));
            }
        }
        if self.workflow.trash_days == 0 {
            return Err(("workflow", "trash_days", "must be at least 1".into()));
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
            if self.mailbox[..i].iter().any(|o| o.address.eq_ignore_ascii_case(&mb.address)) {
                return Err(("mailbox", "address", format!("{:?} is listed twice", mb.address)));
            }
        }
        let sec = &self.security;
        if sec.session_idle_hours == 0 {
            return Err(("security", "session_idle_hours", "must be greater than 0".into()));
        }
        if sec.login_failures_per_account == 0 || sec.login_failures_per_ip == 0 {
            return Err(("security", "login_failures_per_account", "login failure limits must be greater than 0".into()));
        }
        if sec.session_idle_hours > 24 * 3650 {
            return Err(("security", "session_idle_hours", "must be at most 87600 (ten years)".into()));
        }
        if sec.login_window_secs > 86_400 {
            return Err(("security", "login_window_secs", "must be at most 86400".into()));
        }
        if self.workflow.trash_days > 3650 {
            return Err(("workflow", "trash_days", "must be at most 3650".into()));
        }
        if sec.login_window_secs == 0 {
            return Err(("security", "login_window_secs", "must be greater than 0".into()));
        }
        Ok(())
    }
}

/// `10.0.0.0/8`, `::1`, `192.0.2.7` → (network, prefix length).
pub(super) fn parse_cidr(s: &str) -> Option<(std::net::IpAddr, u8)> {
    let s = s.trim();
    let (ip, bits) = match s.split_once('/') {
        Some((ip, bits)) => (ip.parse::<std::net::IpAddr>().ok()?, bits.parse::<u8>().ok()?),
        None => {
            let ip = s.parse::<std::net::IpAddr>().ok()?;
            (ip, if ip.is_ipv4() { 32 } else { 128 })
        }
    };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    (bits <= max).then_some((ip, bits))
}

pub(super) fn cidr_contains(net: std::net::IpAddr, bits: u8, ip: std::net::IpAddr) -> bool {
    let (a, b, width) = match (net, ip) {
        (std::net::IpAddr::V4(n), std::net::IpAddr::V4(i)) => (u32::from(n) as u128, u32::from(i) as u128, 32u32),
        (std::net::IpAddr::V6(n), std::net::IpAddr::V6(i)) => (u128::from(n), u128::from(i), 128u32),
        (std::net::IpAddr::V6(n), std::net::IpAddr::V4(i)) => match n.to_ipv4_mapped() {
            Some(n4) => return cidr_contains(std::net::IpAddr::V4(n4), bits.saturating_sub(96), std::net::IpAddr::V4(i)),
            None => return false,
        },
        (std::net::IpAddr::V4(_), std::net::IpAddr::V6(i)) => match i.to_ipv4_mapped() {
            Some(i4) => return cidr_contains(net, bits, std::net::IpAddr::V4(i4)),
            None => return false,
        },
    };
    let shift = width - u32::from(bits).min(width);
    if shift >= 128 {
        return true;
    }
    (a >> shift) == (b >> shift)
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
