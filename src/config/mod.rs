//! The one config file: typed settings, their defaults, and validation with errors
//! that name the key and the line.
//!
//! Every key is optional. A setting is declared once, in `sections.rs`, with
//! its type, default, bounds and doc; `config.example.toml` is generated from
//! that (`frontdesk check-config --example`); no magic numbers elsewhere.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::domain::{Priority, Status};

mod access;
mod check;
mod topics;
pub use check::{logo_type, normalize_origin, parse_colour};
mod fields;
mod imap;
mod sections;
pub mod settings;
mod shared;
mod sla;
mod statuses;
mod triggers;
mod webhooks;

pub use access::{RoleConfig, TeamConfig};
pub use fields::FieldConfig;
pub use imap::{ImapAfter, ImapConfig, ImapSecurity};
pub use sections::*;
use settings::{Section, example_section};
pub use shared::SharedConfig;
pub use sla::{CalendarConfig, SlaConfig, parse_duration};
pub use statuses::{Audience, DepartmentConfig, StatusChoice, StatusConfig};
pub use topics::{OrganizationConfig, TopicConfig};
pub use triggers::{AssignTo, TriggerConfig, TriggerOn, regex as trigger_regex};
pub use webhooks::WebhookConfig;

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
    pub dns: DnsConfig,
    pub mail_auth: MailAuthConfig,
    pub rspamd: RspamdConfig,
    pub audit: AuditConfig,
    pub backup: BackupConfig,
    pub sso: SsoConfig,
    pub acme: AcmeConfig,
    pub portal: PortalConfig,
    /// `[[mailbox]]`: the support addresses the desk accepts mail for.
    pub mailbox: Vec<MailboxConfig>,
    /// `[[canned]]`: canned responses agents insert into replies.
    pub canned: Vec<CannedConfig>,
    /// `[[view]]`: shared views (saved searches every agent sees in the sidebar).
    pub view: Vec<ViewConfig>,
    /// `[[role]]`: roles beside the built-in ones.
    pub role: Vec<RoleConfig>,
    /// `[[team]]`: teams tickets can be assigned to.
    pub team: Vec<TeamConfig>,
    /// `[[webhook]]`: receivers of ticket events.
    pub webhook: Vec<WebhookConfig>,
    /// `[[status]]`: custom statuses beside the built-in ones.
    pub status: Vec<StatusConfig>,
    /// `[[department]]`: per-department notification rules.
    pub department: Vec<DepartmentConfig>,
    /// `[[field]]`: custom fields of tickets.
    pub field: Vec<FieldConfig>,
    /// `[[calendar]]`: business hours and holidays.
    pub calendar: Vec<CalendarConfig>,
    /// `[[sla]]`: service-level policies.
    pub sla: Vec<SlaConfig>,
    /// `[[trigger]]`: automation rules.
    pub trigger: Vec<TriggerConfig>,
    /// `[[imap]]`: mailboxes fetched over IMAP.
    pub imap: Vec<ImapConfig>,
    /// `[[topic]]`: help topics of the help page and the widget.
    pub topic: Vec<TopicConfig>,
    /// `[[organization]]`: customer companies declared here.
    pub organization: Vec<OrganizationConfig>,
}

/// `format` with each placeholder replaced in one pass (a value that
/// contains a placeholder stays as it is).
fn fill(format: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(format.len());
    let mut rest = format;
    while !rest.is_empty() {
        match values.iter().find(|(k, _)| rest.starts_with(k)) {
            Some((k, v)) => {
                out.push_str(v);
                rest = rest.get(k.len()..).unwrap_or("");
            }
            None => {
                let mut chars = rest.chars();
                if let Some(c) = chars.next() {
                    out.push(c);
                }
                rest = chars.as_str();
            }
        }
    }
    out
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
        let mut table: toml::Table = match toml::from_str(&src) {
            Ok(t) => t,
            // Not even TOML: the file's own error, with its line.
            Err(e) => return Err(Config::parse(&src, &file).err().unwrap_or_else(|| located("-".into(), e.message().trim().to_string()))),
        };
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
        Config::parse(&merged, &format!("{file} + environment")).map_err(|e| {
            // A mistake that is in the file itself is reported with its line.
            match Config::parse(&src, &file) {
                Err(in_file) if in_file.key == e.key || e.line == 0 => in_file,
                _ => e,
            }
        })
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

    /// Whether the desk serves HTTPS (`server.https` set).
    pub fn https_on(&self) -> bool {
        !self.server.https.is_empty()
    }

    /// The host of `server.public_url`, lower case, without port or brackets.
    pub fn public_host(&self) -> String {
        let rest = self.server.public_url.split_once("://").map(|(_, r)| r).unwrap_or("");
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let host = match authority.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or(""),
            None => authority.rsplit_once(':').map(|(h, _)| h).unwrap_or(authority),
        };
        host.to_ascii_lowercase()
    }

    /// The host names ACME certifies: `acme.domains`, else the public URL's host.
    pub fn acme_domains(&self) -> Vec<String> {
        if self.acme.domains.is_empty() {
            vec![self.public_host()]
        } else {
            self.acme.domains.iter().map(|d| d.trim().to_ascii_lowercase()).collect()
        }
    }

    pub fn secure_cookies(&self) -> bool {
        match self.server.secure_cookies {
            SecureCookies::Always => true,
            SecureCookies::Never => false,
            SecureCookies::Auto => self.server.public_url.starts_with("https://") || (self.https_on() && self.server.redirect_http),
        }
    }

    /// `config.example.toml`: every section with its keys, their docs and
    /// defaults, and commented examples of the `[[tables]]`.
    pub fn example_toml() -> String {
        let mut out = String::from(
            "# frontdesk configuration. Every key is optional; the values below are the\n\
             # defaults. Point frontdesk at this file with `frontdesk --config FILE <command>`\n\
             # or the FRONTDESK_CONFIG environment variable, and check it with\n\
             # `frontdesk check-config`. Any key can also be set from the environment:\n\
             # FRONTDESK_<SECTION>__<KEY>=value (e.g. FRONTDESK_SMTP__LISTEN=0.0.0.0:25).\n\
             # This file is generated from the settings' declarations\n\
             # (`frontdesk check-config --example`).\n\n",
        );
        example_section::<DeskConfig>(&mut out);
        example_section::<ServerConfig>(&mut out);
        example_section::<WorkflowConfig>(&mut out);
        example_section::<LimitsConfig>(&mut out);
        example_section::<SecurityConfig>(&mut out);
        example_section::<SmtpConfig>(&mut out);
        out.push_str(MailboxConfig::EXAMPLE);
        out.push('\n');
        out.push_str(ImapConfig::EXAMPLE);
        out.push('\n');
        example_section::<OutgoingConfig>(&mut out);
        example_section::<DnsConfig>(&mut out);
        example_section::<MailAuthConfig>(&mut out);
        example_section::<RspamdConfig>(&mut out);
        example_section::<SsoConfig>(&mut out);
        example_section::<AuditConfig>(&mut out);
        example_section::<BackupConfig>(&mut out);
        example_section::<AcmeConfig>(&mut out);
        example_section::<PortalConfig>(&mut out);
        // The arrays of tables, a blank line between them.
        let tables = [
            CannedConfig::EXAMPLE,
            ViewConfig::EXAMPLE,
            RoleConfig::EXAMPLE,
            TeamConfig::EXAMPLE,
            WebhookConfig::EXAMPLE,
            StatusConfig::EXAMPLE,
            DepartmentConfig::EXAMPLE,
            FieldConfig::EXAMPLE,
            CalendarConfig::EXAMPLE,
            SlaConfig::EXAMPLE,
            TriggerConfig::EXAMPLE,
            TopicConfig::EXAMPLE,
            OrganizationConfig::EXAMPLE,
        ];
        out.push_str(&tables.join("\n"));
        out
    }

    /// Every declared `[section]`: its name, doc and keys (the Settings
    /// page shows them beside the running values).
    pub fn sections() -> [(&'static str, &'static str, &'static [settings::Key]); 15] {
        fn one<S: Section>() -> (&'static str, &'static str, &'static [settings::Key]) {
            (S::NAME, S::DOC, S::KEYS)
        }
        [
            one::<DeskConfig>(),
            one::<ServerConfig>(),
            one::<WorkflowConfig>(),
            one::<LimitsConfig>(),
            one::<SecurityConfig>(),
            one::<SmtpConfig>(),
            one::<OutgoingConfig>(),
            one::<DnsConfig>(),
            one::<MailAuthConfig>(),
            one::<RspamdConfig>(),
            one::<SsoConfig>(),
            one::<AuditConfig>(),
            one::<BackupConfig>(),
            one::<AcmeConfig>(),
            one::<PortalConfig>(),
        ]
    }

    /// Every number of every section against its declared range.
    fn check_ranges(&self) -> Result<(), (&'static str, &'static str, String)> {
        fn one<S: Section>(s: &S) -> Result<(), (&'static str, &'static str, String)> {
            s.check_ranges().map_err(|(key, message)| (S::NAME, key, message))
        }
        one(&self.desk)?;
        one(&self.server)?;
        one(&self.workflow)?;
        one(&self.limits)?;
        one(&self.security)?;
        one(&self.smtp)?;
        one(&self.outgoing)?;
        one(&self.dns)?;
        one(&self.mail_auth)?;
        one(&self.rspamd)?;
        one(&self.sso)?;
        one(&self.audit)?;
        one(&self.backup)?;
        one(&self.acme)?;
        one(&self.portal)
    }

    /// The DNS resolver everything asks: `dns.resolver`, else the older
    /// `outgoing.dns_resolver`; `None` = the system's (/etc/resolv.conf).
    pub fn dns_resolver(&self) -> Option<std::net::SocketAddr> {
        [&self.dns.resolver, &self.outgoing.dns_resolver].into_iter().find(|r| !r.is_empty()).and_then(|r| r.parse().ok())
    }

    /// The domains of the `[[mailbox]]` addresses, lower case, each once.
    pub fn mailbox_domains(&self) -> Vec<String> {
        let mut out: Vec<String> =
            self.mailbox.iter().filter_map(|m| m.address.rsplit_once('@')).map(|(_, d)| d.to_ascii_lowercase()).collect();
        out.sort();
        out.dedup();
        out
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

    /// The mailbox a ticket's mail is sent from: the one it arrived at while
    /// the ticket stays in that mailbox's department, else its department's.
    pub fn mailbox_of_ticket(&self, t: &crate::domain::Ticket) -> Option<&MailboxConfig> {
        t.mailbox
            .as_deref()
            .and_then(|a| self.mailbox_for(a))
            .filter(|m| self.mailbox_department(m).eq_ignore_ascii_case(&t.department))
            .or_else(|| self.mailbox_of_department(&t.department))
    }

    /// The From name of a mailbox's mail; with `agent`, of that agent's reply.
    pub fn from_name_of(&self, mb: &MailboxConfig, agent: Option<&str>) -> String {
        let name = [mb.from_name.as_str(), self.outgoing.from_name.as_str()]
            .into_iter()
            .find(|n| !n.trim().is_empty())
            .unwrap_or(&self.desk.name)
            .to_string();
        let format = if mb.agent_from.is_empty() { &self.outgoing.agent_from } else { &mb.agent_from };
        match agent.filter(|a| !a.trim().is_empty() && !format.is_empty()) {
            Some(agent) => fill(format, &[("{agent}", agent), ("{name}", &name)]),
            None => name,
        }
    }

    /// The Reply-To of mail from `from` (a mailbox address).
    pub fn reply_to_of<'a>(&'a self, from: &'a str) -> &'a str {
        self.mailbox_for(from).map(|m| m.reply_to.as_str()).filter(|r| !r.is_empty()).unwrap_or(from)
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
        self.smtp.trusted_relays.iter().filter_map(|r| crate::domain::net::Cidr::parse(r)).any(|c| c.contains(ip))
    }

    /// Whether a sender is on the ban list.
    pub fn sender_banned(&self, sender: &str) -> bool {
        let s = sender.trim().to_lowercase();
        let domain = s.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
        // The reserved domain of requesters known by phone only sends nothing.
        if domain == crate::domain::people::PHONE_ONLY_DOMAIN {
            return true;
        }
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
        assert_eq!(c.server.data_dir, std::path::PathBuf::from("./frontdesk-data"));
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

    /// `config.example.toml` is exactly what the declarations generate
    /// (`frontdesk check-config --example > config.example.toml` after a change).
    #[test]
    fn example_file_is_generated_from_the_declarations() {
        let generated = Config::example_toml();
        if std::env::var("FRONTDESK_BLESS").is_ok_and(|v| v == "1") {
            std::fs::write(concat!(env!("CARGO_MANIFEST_DIR"), "/config.example.toml"), &generated).unwrap();
        }
        let src = include_str!("../../config.example.toml");
        assert!(
            src == generated,
            "config.example.toml differs from the declarations; run `frontdesk check-config --example > config.example.toml`"
        );
        // Every key of every section has its doc, and every section is listed.
        for (_, _, keys) in Config::sections() {
            assert!(keys.iter().all(|k| !k.doc.trim().is_empty()));
        }
        let listed: Vec<&str> = Config::sections().iter().map(|s| s.0).collect();
        for line in generated.lines().filter(|l| l.starts_with('[') && !l.starts_with("[[")) {
            assert!(listed.contains(&line.trim_matches(['[', ']'])), "{line} is missing from Config::sections");
        }
    }

    #[test]
    fn declared_bounds_are_checked_with_the_key() {
        let e = Config::parse("[smtp]\nmax_commands = 0\n", "c.toml").unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (2, "smtp.max_commands"), "{e}");
        assert!(e.message.contains("between 1 and"), "{e}");
        let e = Config::parse("[outgoing]\nlink_days = 99999\n", "c.toml").unwrap_err();
        assert_eq!(e.key, "outgoing.link_days");
        // Every declared default lies within its own bounds.
        assert!(Config::default().check_ranges().is_ok());
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
        assert!(c.sender_banned("5550100@phone.invalid"), "the phone-only domain sends nothing");
    }
}
