//! The one config file: typed settings, their defaults, and validation with errors
//! that name the key and the line.
//!
//! Every key is optional. A setting lives here with its default and a doc line,
//! and in `config.example.toml`; no magic numbers elsewhere.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::domain::{Priority, Status};

mod check;

/// The whole configuration.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub desk: DeskConfig,
    pub server: ServerConfig,
    pub workflow: WorkflowConfig,
    pub limits: LimitsConfig,
    pub security: SecurityConfig,
    pub smtp: SmtpConfig,
    pub outgoing: OutgoingConfig,
    /// `[[mailbox]]`: the support addresses the desk accepts mail for.
    pub mailbox: Vec<MailboxConfig>,
    /// `[[canned]]`: canned responses agents insert into replies.
    pub canned: Vec<CannedConfig>,
    /// `[[view]]`: shared views (saved searches every agent sees in the sidebar).
    pub view: Vec<ViewConfig>,
}

/// A shared view: a name, a search (the search box grammar) and the columns.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ViewConfig {
    pub name: String,
    pub query: String,
    /// Comma list of columns: requester, status, priority, assignee, updated,
    /// created, category, department, tags, due.
    #[serde(default)]
    pub columns: String,
}

/// A canned response: a name, the text (a template with the same variables as
/// mail: `{{ requester.name }}`, `{{ ticket.ref }}`, `{{ agent.name }}` …) and
/// optionally the one department it is for.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CannedConfig {
    pub name: String,
    pub text: String,
    #[serde(default)]
    pub department: Option<String>,
}

/// `[smtp]`: the built-in SMTP receiver (an MX for the support addresses).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpConfig {
    /// Run the SMTP receiver with `serve`.
    pub enabled: bool,
    /// Listen address; port 25 in production. `--smtp ADDR` overrides it.
    pub listen: String,
    /// EHLO name and the `by` of Received headers.
    pub hostname: String,
    /// Largest message accepted, in bytes (advertised in EHLO SIZE).
    pub max_message_size: usize,
    /// Longest line accepted in a message, in bytes (RFC 5321 asks for 1000;
    /// real mail is often longer).
    pub max_line_length: usize,
    /// Most header fields in one message.
    pub max_header_count: usize,
    /// Most recipients of one message.
    pub max_recipients: usize,
    /// Most commands in one session before it is closed.
    pub max_commands: usize,
    /// Most errors in one session before it is closed.
    pub max_errors: usize,
    /// Most concurrent connections in total.
    pub max_connections: usize,
    /// Most concurrent connections from one IP address.
    pub max_connections_per_ip: usize,
    /// Seconds to wait for the next command.
    pub command_timeout_secs: u64,
    /// Seconds the whole DATA (or BDAT) transfer may take.
    pub data_timeout_secs: u64,
    /// PEM certificate chain for STARTTLS; empty = a self-signed certificate
    /// generated on first start and kept in the data directory.
    pub tls_cert: String,
    /// PEM private key for `tls_cert`.
    pub tls_key: String,
    /// Senders refused at MAIL FROM with 550 5.7.1: full addresses, or domains
    /// (`example.com` or `@example.com`, which also covers subdomains).
    pub banned_senders: Vec<String>,
    /// Message bytes all SMTP sessions together may hold in memory; a message
    /// that would go over is answered 452 4.3.1 (the sender retries).
    pub max_data_memory: usize,
    /// Relays the desk trusts (a front MTA): addresses or CIDR ranges exempt
    /// from the per-address connection limit.
    pub trusted_relays: Vec<String>,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        SmtpConfig {
            enabled: true,
            listen: "127.0.0.1:2525".into(),
            hostname: "localhost".into(),
            max_message_size: 26_214_400,
            max_line_length: 10_000,
            max_header_count: 500,
            max_recipients: 50,
            max_commands: 1000,
            max_errors: 10,
            max_connections: 256,
            max_connections_per_ip: 50,
            command_timeout_secs: 300,
            data_timeout_secs: 600,
            tls_cert: String::new(),
            tls_key: String::new(),
            banned_senders: Vec::new(),
            max_data_memory: 256 * 1024 * 1024,
            trusted_relays: Vec::new(),
        }
    }
}

/// `[outgoing]`: mail the desk sends (replies, acknowledgements, notifications).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutgoingConfig {
    /// Send mail at all. `--no-outgoing` turns it off (mail then stays queued).
    pub enabled: bool,
    /// host:port of the relay that sends for the desk. Empty: direct delivery to
    /// each recipient's MX (port `direct_port`, STARTTLS when offered).
    pub smarthost: String,
    /// DNS resolver (ip:port) for MX lookups in direct delivery; empty = the
    /// first nameserver of /etc/resolv.conf.
    pub dns_resolver: String,
    /// Port of recipients' mail servers in direct delivery.
    pub direct_port: u16,
    /// Connection to the smarthost: "none", "starttls" or "tls".
    pub security: String,
    /// AUTH user for the smarthost; empty = no AUTH.
    pub username: String,
    /// File holding the AUTH password (kept out of the config file).
    pub password_file: String,
    /// Display name on outgoing mail; empty = the desk name.
    pub from_name: String,
    /// Subject of outgoing mail; `{ref}` and `{subject}` are replaced.
    pub subject_format: String,
    /// An agent's reply to a ticket with collaborators: "cc" (one mail, everyone
    /// in Cc) or "separate" (one mail each).
    pub collaborators: String,
    /// At most one acknowledgement per sender in this many minutes.
    pub ack_window_minutes: u64,
    /// Give up on a mail that could not be delivered for this many hours.
    pub max_queue_hours: u64,
    /// Seconds to wait before each retry of a temporarily failed mail; the
    /// last value repeats.
    pub retry_secs: Vec<u64>,
    /// Directory with template overrides (`ack.txt`, `reply.txt`, …); empty = built in.
    pub template_dir: String,
    /// Days the signed link to a requester's ticket page (in their mail) works.
    pub link_days: u64,
    /// Days an agent may answer a notification by mail (the signed token in
    /// its Message-ID lets the answer act as the agent and use #commands).
    pub command_token_days: u64,
    /// Acknowledge a new ticket by mail to its requester (the autoresponder).
    pub notify_ack: bool,
    /// Alert the department's agents about a new ticket by mail.
    pub notify_new_ticket: bool,
    /// Send agents' public replies to the requester and collaborators.
    pub notify_reply: bool,
    /// Tell the assignee about internal notes by others.
    pub notify_note: bool,
    /// Tell an agent a ticket was assigned to them.
    pub notify_assigned: bool,
    /// Tell the assignee (or the department) that the requester replied.
    pub notify_requester_reply: bool,
    /// Tell the requester their ticket was resolved (and that replying reopens it).
    pub notify_resolved: bool,
}

impl Default for OutgoingConfig {
    fn default() -> Self {
        OutgoingConfig {
            enabled: true,
            smarthost: String::new(),
            dns_resolver: String::new(),
            direct_port: 25,
            security: "none".into(),
            username: String::new(),
            password_file: String::new(),
            from_name: String::new(),
            subject_format: "[{ref}] {subject}".into(),
            collaborators: "cc".into(),
            ack_window_minutes: 10,
            max_queue_hours: 48,
            retry_secs: vec![60, 300, 900, 1800, 3600, 7200],
            template_dir: String::new(),
            link_days: 3,
            command_token_days: 30,
            notify_ack: true,
            notify_new_ticket: true,
            notify_reply: true,
            notify_note: true,
            notify_assigned: true,
            notify_requester_reply: true,
            notify_resolved: true,
        }
    }
}

/// One support address and the department its mail goes to.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailboxConfig {
    pub address: String,
    #[serde(default)]
    pub department: Option<String>,
}

/// `[desk]`: what the help desk is called and how tickets are organised.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeskConfig {
    /// Name shown in the UI header and page titles.
    pub name: String,
    /// Ticket reference prefix: `TKT` gives `TKT-000123`.
    pub reference_prefix: String,
    /// Categories an agent can pick.
    pub categories: Vec<String>,
    /// Category of new tickets when none is given.
    pub default_category: String,
    /// Departments (queues) tickets belong to.
    pub departments: Vec<String>,
    /// Department of new tickets when none is given.
    pub default_department: String,
    /// Priority of new tickets when none is given.
    pub default_priority: String,
}

impl Default for DeskConfig {
    fn default() -> Self {
        DeskConfig {
            name: "Help Desk".into(),
            reference_prefix: "TKT".into(),
            categories: ["General", "Billing", "Technical", "Account", "Feature Request", "Bug Report", "Other"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            default_category: "General".into(),
            departments: vec!["Support".into()],
            default_department: "Support".into(),
            default_priority: "medium".into(),
        }
    }
}

/// `[server]`: where the desk listens and keeps its data.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Web UI + API listen address.
    pub http: String,
    /// The URL people reach the desk at (links in mail, cookie security).
    pub public_url: String,
    /// Directory holding the database and everything else the desk writes.
    pub data_dir: PathBuf,
    /// Session cookies with the `Secure` flag: "auto" (when public_url is https),
    /// "always" or "never".
    pub secure_cookies: String,
    /// Database page cache, in MiB: the main knob for memory use.
    pub cache_mib: usize,
    /// `/healthz` answers 503 when the oldest message waiting in the spool is
    /// older than this many seconds (mail is accepted but not becoming tickets).
    pub health_spool_age_secs: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            http: "127.0.0.1:8080".into(),
            public_url: "http://127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./frontdesk-data"),
            secure_cookies: "auto".into(),
            cache_mib: 16,
            health_spool_age_secs: 60,
        }
    }
}

/// `[workflow]`: how statuses move on their own.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkflowConfig {
    /// An agent's public reply moves an Open ticket to Pending unless the agent
    /// picks another status.
    pub agent_reply_sets_pending: bool,
    /// A requester's reply moves a Pending or Resolved ticket back to Open.
    pub requester_reply_reopens: bool,
    /// Days a ticket stays in Trash (restorable) before it is purged for good.
    pub trash_days: u32,
}

impl Default for WorkflowConfig {
    fn default() -> Self {
        WorkflowConfig { agent_reply_sets_pending: true, requester_reply_reopens: true, trash_days: 30 }
    }
}

/// `[limits]`: sizes, so bad input gets a clear error instead of eating memory.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Longest subject, in characters.
    pub subject_max_chars: usize,
    /// Largest reply, note or description, in bytes.
    pub body_max_bytes: usize,
    /// Largest HTTP request body (forms, JSON), in bytes.
    pub request_max_bytes: usize,
    /// Largest single attachment, in bytes.
    pub attachment_max_bytes: u64,
    /// Largest reply with attachments an agent can post, in bytes.
    pub upload_max_bytes: usize,
    /// Most tags on one ticket.
    pub tags_max: usize,
    /// Most collaborators (people in Cc) on one ticket; more addresses in a
    /// mail's To/Cc are not added (an event says so), and no reply is sent to
    /// more than this many collaborators.
    pub collaborators_max: usize,
    /// Tickets per queue page (UI) and default API page size.
    pub page_size: usize,
    /// Seconds a whole HTTP request body may take to arrive.
    pub body_timeout_secs: u64,
    /// Agents' uploads (replies with attachments) accepted at the same time.
    pub concurrent_uploads: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            subject_max_chars: 250,
            body_max_bytes: 256 * 1024,
            request_max_bytes: 1024 * 1024,
            attachment_max_bytes: 10 * 1024 * 1024,
            upload_max_bytes: 25 * 1024 * 1024,
            tags_max: 20,
            collaborators_max: 20,
            page_size: 50,
            body_timeout_secs: 60,
            concurrent_uploads: 8,
        }
    }
}

/// `[security]`: sessions and login throttling.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecurityConfig {
    /// A session ends after this many hours without use.
    pub session_idle_hours: u64,
    /// Failed logins allowed per account within the window before it is throttled.
    pub login_failures_per_account: u32,
    /// Failed logins allowed per client IP within the window.
    pub login_failures_per_ip: u32,
    /// The throttling window, in seconds.
    pub login_window_secs: u64,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        SecurityConfig { session_idle_hours: 168, login_failures_per_account: 5, login_failures_per_ip: 20, login_window_secs: 900 }
    }
}

/// A config problem, located.
#[derive(Debug, thiserror::Error)]
#[error("{file}: line {line}: `{key}`: {message}")]
pub struct ConfigError {
    pub file: String,
    pub key: String,
    pub line: usize,
    pub message: String,
}

impl Config {
    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        Config::load_effective(Some(path), std::iter::empty())
    }

    /// The config the process runs with: the file (if any), then environment
    /// overrides `FRONTDESK_<SECTION>__<KEY>=value` (for containers: e.g.
    /// `FRONTDESK_SMTP__LISTEN=0.0.0.0:25`, `FRONTDESK_DESK__DEPARTMENTS=["A", "B"]`).
    /// A value is read as TOML when it parses as one, else as a string. Arrays
    /// of tables (`[[mailbox]]`…) stay in the file.
    pub fn load_effective(path: Option<&Path>, env: impl IntoIterator<Item = (String, String)>) -> Result<Config, ConfigError> {
        let (src, file) = match path {
            Some(p) => {
                let file = p.display().to_string();
                let src = std::fs::read_to_string(p).map_err(|e| ConfigError {
                    file: file.clone(),
                    key: "-".into(),
                    line: 0,
                    message: format!("cannot read the config file: {e}"),
                })?;
                (src, file)
            }
            None => (String::new(), "(defaults)".to_string()),
        };
        let overrides: Vec<(String, String, String, String)> = env
            .into_iter()
            .filter_map(|(name, value)| {
                let rest = name.strip_prefix("FRONTDESK_")?;
                let (section, key) = rest.split_once("__")?;
                Some((name.clone(), section.to_lowercase(), key.to_lowercase(), value))
            })
            .collect();
        if overrides.is_empty() {
            return Config::parse(&src, &file);
        }
        let located = |key: String, message: String| ConfigError { file: format!("{file} + environment"), key, line: 0, message };
        let mut table: toml::Table = toml::from_str(&src).map_err(|e| located("-".into(), e.message().trim().to_string()))?;
        for (name, section, key, value) in overrides {
            let parsed = toml::from_str::<toml::Table>(&format!("v = {value}")).ok().and_then(|mut t| t.remove("v"));
            let value = parsed.unwrap_or(toml::Value::String(value));
            let entry = table.entry(section.clone()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
            let Some(t) = entry.as_table_mut() else {
                return Err(located(format!("{section}.{key}"), format!("{name}: [{section}] is not a section")));
            };
            t.insert(key, value);
        }
        let merged = toml::to_string(&table).map_err(|e| located("-".into(), e.to_string()))?;
        Config::parse(&merged, &format!("{file} + environment"))
    }

    /// Parses and validates config text; `file` names it in errors.
    pub fn parse(src: &str, file: &str) -> Result<Config, ConfigError> {
        let cfg: Config = toml::from_str(src).map_err(|e| {
            let (line, key) = match e.span() {
                Some(span) => locate(src, span.start),
                None => (0, "-".into()),
            };
            ConfigError { file: file.into(), key, line, message: e.message().trim().to_string() }
        })?;
        cfg.validate().map_err(|(section, key, message)| ConfigError {
            file: file.into(),
            line: line_of_key(src, section, key),
            key: format!("{section}.{key}"),
            message,
        })?;
        Ok(cfg)
    }

    pub fn default_priority(&self) -> Priority {
        Priority::parse(&self.desk.default_priority).unwrap_or(Priority::Medium)
    }

    /// The status an agent's reply moves an Open ticket to, when none is chosen.
    pub fn reply_status(&self, current: Status, chosen: Option<Status>) -> Status {
        if chosen.is_none() && !self.workflow.agent_reply_sets_pending {
            return current;
        }
        current.after_agent_reply(chosen)
    }

    pub fn secure_cookies(&self) -> bool {
        match self.server.secure_cookies.as_str() {
            "always" => true,
            "never" => false,
            _ => self.server.public_url.starts_with("https://"),
        }
    }

    /// The effective config as TOML (for `check-config`).
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot print config: {e}\n"))
    }

    /// Finds the configured category matching `s` case-insensitively.
    pub fn category(&self, s: &str) -> Option<&str> {
        self.desk.categories.iter().find(|c| c.eq_ignore_ascii_case(s.trim())).map(|s| s.as_str())
    }

    /// The mailbox an envelope recipient is for: exact address, or with a
    /// `+tag` sub-address (`support+vip@example.test`).
    pub fn mailbox_for(&self, rcpt: &str) -> Option<&MailboxConfig> {
        let rcpt = rcpt.trim().trim_start_matches('<').trim_end_matches('>').to_lowercase();
        let (local, domain) = rcpt.rsplit_once('@')?;
        let base = local.split('+').next().unwrap_or(local);
        self.mailbox.iter().find(|m| {
            let a = m.address.to_lowercase();
            a == rcpt || a == format!("{base}@{domain}")
        })
    }

    /// The mailbox a department's mail is sent from: its own, else the first.
    pub fn mailbox_of_department(&self, department: &str) -> Option<&MailboxConfig> {
        self.mailbox.iter().find(|m| self.mailbox_department(m).eq_ignore_ascii_case(department)).or(self.mailbox.first())
    }

    /// Whether an address is one of the desk's own mailboxes.
    pub fn is_desk_address(&self, addr: &str) -> bool {
        self.mailbox_for(addr).is_some()
    }

    /// The department for mail to a mailbox.
    pub fn mailbox_department(&self, mb: &MailboxConfig) -> String {
        mb.department.as_deref().and_then(|d| self.department(d)).unwrap_or(&self.desk.default_department).to_string()
    }

    /// Whether an envelope recipient is postmaster: bare, or at the desk's
    /// host name or one of its mailboxes' domains.
    pub fn is_postmaster(&self, rcpt: &str) -> bool {
        let r = rcpt.trim().trim_start_matches('<').trim_end_matches('>').to_lowercase();
        match r.split_once('@') {
            None => r == "postmaster",
            Some((local, domain)) => {
                local == "postmaster"
                    && (domain == self.smtp.hostname.to_lowercase()
                        || self.mailbox.iter().any(|m| m.address.to_lowercase().rsplit_once('@').is_some_and(|(_, d)| d == domain)))
            }
        }
    }

    /// Whether a client address is one of `smtp.trusted_relays`.
    pub fn trusted_relay(&self, ip: std::net::IpAddr) -> bool {
        self.smtp.trusted_relays.iter().filter_map(|r| check::parse_cidr(r)).any(|(net, bits)| check::cidr_contains(net, bits, ip))
    }

    /// Whether a sender is on the ban list.
    pub fn sender_banned(&self, sender: &str) -> bool {
        let s = sender.trim().to_lowercase();
        let domain = s.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
        self.smtp.banned_senders.iter().any(|b| {
            let b = b.trim().to_lowercase();
            if b.contains('@') && !b.starts_with('@') {
                b == s
            } else {
                let d = b.trim_start_matches('@');
                !d.is_empty() && (domain == d || domain.ends_with(&format!(".{d}")))
            }
        })
    }

    /// Finds the configured department matching `s` case-insensitively.
    pub fn department(&self, s: &str) -> Option<&str> {
        self.desk.departments.iter().find(|c| c.eq_ignore_ascii_case(s.trim())).map(|s| s.as_str())
    }
}

/// Line number (1-based) of a byte offset and the dotted key written on that line.
fn locate(src: &str, offset: usize) -> (usize, String) {
    let offset = offset.min(src.len());
    let line_no = src[..offset].matches('\n').count() + 1;
    let mut section = String::new();
    for (i, line) in src.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('[') {
            section = t.trim_matches(|c| c == '[' || c == ']').trim().to_string();
        }
        if i + 1 == line_no {
            let key = t.split('=').next().unwrap_or("").trim().to_string();
            let key = if t.starts_with('[') || key.is_empty() {
                section.clone()
            } else if section.is_empty() {
                key
            } else {
                format!("{section}.{key}")
            };
            return (line_no, if key.is_empty() { "-".into() } else { key });
        }
    }
    (line_no, section)
}

/// Line where `key` is set inside `[section]`; the section header's line when the
/// key is not written (the default was invalid in combination); 0 when neither.
fn line_of_key(src: &str, section: &str, key: &str) -> usize {
    let mut current = String::new();
    let mut header_line = 0;
    for (i, line) in src.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('[') {
            current = t.trim_matches(|c| c == '[' || c == ']').trim().to_string();
            if current == section && header_line == 0 {
                header_line = i + 1;
            }
            continue;
        }
        if current == section && t.split('=').next().map(|k| k.trim()) == Some(key) {
            return i + 1;
        }
    }
    header_line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_defaults() {
        let c = Config::parse("", "x.toml").unwrap();
        assert_eq!(c.server.http, "127.0.0.1:8080");
        assert_eq!(c.server.data_dir, PathBuf::from("./frontdesk-data"));
        assert_eq!(c.desk.categories.len(), 7);
        assert_eq!(c.desk.departments, vec!["Support".to_string()]);
        assert!(!c.secure_cookies());
    }

    #[test]
    fn example_file_is_valid_and_matches_defaults() {
        let src = include_str!("../../config.example.toml");
        let c = Config::parse(src, "config.example.toml").unwrap();
        assert_eq!(c.to_toml(), Config::default().to_toml());
    }

    #[test]
    fn type_errors_name_key_and_line() {
        let e = Config::parse("[desk]\nname = \"x\"\n\n[server]\nhttp = 8080\n", "c.toml").unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (5, "server.http"), "{e}");
        let e = Config::parse("[server]\nhtp = \"1\"\n", "c.toml").unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        assert!(e.to_string().contains("htp"), "{e}");
    }

    #[test]
    fn semantic_errors_name_key_and_line() {
        let e = Config::parse("# hi\n[server]\nhttp = \"nonsense\"\n", "c.toml").unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (3, "server.http"), "{e}");
        let e = Config::parse("[desk]\ndepartments = [\"A\", \"B\"]\n", "c.toml").unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (1, "desk.default_department"), "{e}");
        let e = Config::parse("[desk]\nreference_prefix = \"tk\"\n", "c.toml").unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (2, "desk.reference_prefix"));
        let e = Config::parse("[limits]\npage_size = 0\n", "c.toml").unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (2, "limits.page_size"));
        let e = Config::parse("[desk]\ncategories = [\"A\", \"a\"]\ndefault_category = \"A\"\n", "c.toml").unwrap_err();
        assert_eq!(e.key, "desk.categories");
        let e = Config::parse("[[mailbox]]\naddress = \"support@x.test\"\n\n[[mailbox]]\naddress = \"nope\"\n", "c.toml").unwrap_err();
        assert_eq!(e.key, "mailbox.address");
        let e = Config::parse("[[mailbox]]\naddress = \"s@x.test\"\ndepartment = \"Sales\"\n", "c.toml").unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (3, "mailbox.department"));
        let e = Config::parse("[smtp]\nlisten = \"x\"\n", "c.toml").unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (2, "smtp.listen"));
    }

    #[test]
    fn mailboxes_and_ban_list() {
        let c = Config::parse(
            "[smtp]\nbanned_senders = [\"spam@bad.test\", \"evil.test\", \"@worse.test\"]\n[[mailbox]]\naddress = \"Support@Example.test\"\n",
            "c.toml",
        )
        .unwrap();
        assert!(c.mailbox_for("support@example.test").is_some());
        assert!(c.mailbox_for("<SUPPORT+vip@example.test>").is_some());
        assert!(c.mailbox_for("sales@example.test").is_none());
        assert!(c.mailbox_for("support@example.test.evil").is_none());
        assert!(c.sender_banned("SPAM@bad.test"));
        assert!(!c.sender_banned("ham@bad.test"));
        assert!(c.sender_banned("x@evil.test") && c.sender_banned("x@mx.evil.test") && c.sender_banned("y@worse.test"));
        assert!(!c.sender_banned("x@notevil.test"));
    }
}
