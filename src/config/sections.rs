//! The config file's `[sections]`, each key declared once: type, default,
//! bounds and the doc that becomes its comment in `config.example.toml`.
//! Checks that span keys or need parsing stay in `check.rs`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::settings::section;

/// `server.secure_cookies`: when the session cookie carries `Secure`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SecureCookies {
    /// When `public_url` is https.
    Auto,
    Always,
    Never,
}

/// `security.require_2fa`: who must have a second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TwoFactorRule {
    /// Agents choose.
    Off,
    /// Admins must enrol before they can work.
    Admins,
    /// Every agent must enrol before they can work.
    All,
}

impl TwoFactorRule {
    /// Whether `is_admin`'s agent must have a second factor.
    pub fn requires(self, is_admin: bool) -> bool {
        match self {
            TwoFactorRule::Off => false,
            TwoFactorRule::Admins => is_admin,
            TwoFactorRule::All => true,
        }
    }
}

/// `acme.challenge`: how the ACME server checks that we hold the host name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AcmeChallenge {
    /// TLS-ALPN-01 (RFC 8737), answered on the HTTPS port (443 for a public CA).
    #[serde(rename = "tls-alpn-01")]
    TlsAlpn01,
    /// HTTP-01, answered on the plain HTTP port (80 for a public CA).
    #[serde(rename = "http-01")]
    Http01,
}

/// `outgoing.security`: the connection to the smarthost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmarthostSecurity {
    /// Plain SMTP (STARTTLS is not asked for).
    None,
    /// Plain connection upgraded with STARTTLS.
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
}

impl SmarthostSecurity {
    pub fn as_str(self) -> &'static str {
        match self {
            SmarthostSecurity::None => "none",
            SmarthostSecurity::Starttls => "starttls",
            SmarthostSecurity::Tls => "tls",
        }
    }
}

/// `outgoing.collaborators`: how an agent's reply reaches collaborators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CollaboratorMail {
    /// One mail, everyone in Cc.
    Cc,
    /// One mail each.
    Separate,
}

section! {
    /// What the help desk is called and how tickets are organised.
    DeskConfig "desk" {
        /// Name shown in the UI header and page titles.
        name: String = "Help Desk".into();
        /// Ticket reference prefix: "TKT" gives TKT-000123. 1-10 upper-case letters/digits.
        /// Numbers are never reused, whatever the prefix.
        reference_prefix: String = "TKT".into();
        /// Categories an agent can pick.
        categories: Vec<String> = ["General", "Billing", "Technical", "Account", "Feature Request", "Bug Report", "Other"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        /// Category of new tickets when none is given (must be one of `categories`).
        default_category: String = "General".into();
        /// Departments (queues). Agents can be limited to some of them.
        departments: Vec<String> = vec!["Support".into()];
        /// Department of new tickets when none is given (must be one of `departments`).
        default_department: String = "Support".into();
        /// Priority of new tickets when none is given: urgent, high, medium or low.
        default_priority: String = "medium".into();
    }
}

section! {
    /// Where the desk listens and keeps its data.
    ServerConfig "server" {
        /// Web UI + API listen address. `--http ADDR` overrides it.
        http: String = "127.0.0.1:8080".into();
        /// The URL people reach the desk at (links, cookie security, and the host
        /// name ACME certifies when `acme.domains` is empty).
        public_url: String = "http://127.0.0.1:8080".into();
        /// HTTPS listen address, e.g. "0.0.0.0:443". Empty: no HTTPS. The certificate
        /// is `tls_cert`/`tls_key`, else one from ACME (`[acme]`), else a self-signed
        /// one made on first start (its fingerprint is printed). `--https ADDR`
        /// overrides it.
        https: String = String::new();
        /// PEM certificate chain for HTTPS, reloaded when the file changes (a bad
        /// new file is logged and the last good certificate stays). SMTP STARTTLS
        /// uses it too when it names `smtp.hostname` and `smtp.tls_cert` is empty.
        tls_cert: String = String::new();
        /// PEM private key for `tls_cert` (both or neither).
        tls_key: String = String::new();
        /// With HTTPS on, plain HTTP answers with a redirect to HTTPS (308), except
        /// /healthz and ACME's HTTP challenges.
        redirect_http: bool = true;
        /// Strict-Transport-Security max-age sent over HTTPS, in seconds (0 = none).
        hsts_max_age_secs: u64 = 31_536_000, in 0..=63_072_000;
        /// Where the database lives. `--data-dir DIR` overrides it.
        data_dir: PathBuf = PathBuf::from("./frontdesk-data");
        /// Secure flag on the session cookie: "auto" (when public_url is https),
        /// "always" or "never".
        secure_cookies: SecureCookies = SecureCookies::Auto;
        /// Database page cache in MiB: the main knob for the server's memory use.
        /// Pages not in the cache are read from the OS file cache, which is
        /// nearly as fast: measured, 4 and 128 give the same page times and mail
        /// rates at 100 000 tickets.
        cache_mib: usize = 4, in 1..=65536;
        /// The hourly housekeeping gives the database's free pages back to the
        /// disk (and packs half-empty ones) when at least this percentage of the
        /// file, and 8 MiB, is free; the web pages wait for it (under a second
        /// per 100 MiB here), mail is still accepted. A file over 1 GiB is left
        /// to `frontdesk compact` with the desk stopped (logged). 0 turns it off.
        compact_free_percent: u64 = 25, in 0..=100;
        /// /healthz answers 503 when the oldest message waiting in the spool is older
        /// than this many seconds (mail accepted but not becoming tickets).
        health_spool_age_secs: u64 = 60, in 1..=86400;
        /// /metrics answers loopback clients only; with a token set, others
        /// may read it with `Authorization: Bearer <token>` (at least 16
        /// characters).
        metrics_token: String = String::new();
    }
}

section! {
    /// How statuses move on their own.
    WorkflowConfig "workflow" {
        /// An agent's public reply moves an Open ticket to Pending (waiting on the
        /// customer) unless the agent picks another status.
        agent_reply_sets_pending: bool = true;
        /// A requester's reply moves a Pending or Resolved ticket back to Open.
        requester_reply_reopens: bool = true;
        /// Days a ticket stays in Trash (admins can restore it) before it is purged.
        trash_days: u32 = 30, in 1..=3650;
        /// Days a Resolved ticket waits for the customer before it closes by itself
        /// (a reply reopens it instead); 0 = never.
        auto_close_days: u32 = 0, in 0..=3650;
        /// Days a Pending ticket waits before its requester is reminded once by mail
        /// (the pending_reminder template); 0 = never.
        pending_reminder_days: u32 = 0, in 0..=3650;
        /// Days a Pending ticket waits before it is resolved for lack of an answer
        /// (the requester gets the resolved mail); 0 = never.
        pending_resolve_days: u32 = 0, in 0..=3650;
        /// Longest snooze, in days.
        snooze_max_days: u32 = 365, in 1..=3650;
        /// Urgency aging: an active ticket whose customer has waited this many
        /// business hours for an agent's answer goes up one priority (again after
        /// as many more, up to Urgent); 0 = never.
        aging_hours: u32 = 0, in 0..=10000;
        /// The [[calendar]] aging counts on; empty: the default calendar.
        aging_calendar: String = "".into();
        /// The "Due soon" view lists tickets with an SLA target due within this
        /// many minutes.
        due_soon_minutes: u32 = 120, in 1..=10080;
        /// The most trigger actions run on one ticket in a minute (a guard
        /// against triggers that set each other off through mail).
        trigger_actions_per_minute: u32 = 20, in 1..=1000;
    }
}

section! {
    /// Sizes and counts, so bad input gets a clear error instead of eating memory.
    LimitsConfig "limits" {
        /// Longest subject, in characters.
        subject_max_chars: usize = 250, in 1..=100000;
        /// Largest reply, note or description, in bytes.
        body_max_bytes: usize = 256 * 1024, in 1..=1073741824;
        /// Largest HTTP request body (forms, JSON), in bytes.
        request_max_bytes: usize = 1024 * 1024, in 1..=1073741824;
        /// Largest single attachment, in bytes.
        attachment_max_bytes: u64 = 10 * 1024 * 1024, in 1..=1073741824;
        /// Largest reply with attachments an agent can post, in bytes.
        upload_max_bytes: usize = 25 * 1024 * 1024, in 1..=17179869184;
        /// Most tags on one ticket.
        tags_max: usize = 20, in 1..=1000;
        /// Most collaborators (people copied on the conversation) on one ticket; a
        /// mail with more addresses adds this many and an event says how many were not.
        collaborators_max: usize = 20, in 1..=10000;
        /// Tickets per queue page, and the API's default page size.
        page_size: usize = 50, in 1..=500;
        /// Seconds a whole HTTP request body may take to arrive (slow senders are cut off).
        body_timeout_secs: u64 = 60, in 1..=3600;
        /// Agents' uploads (replies with attachments) accepted at the same time; each
        /// is written to <data_dir>/tmp as it arrives, never held in memory.
        concurrent_uploads: usize = 8, in 1..=1024;
    }
}

section! {
    /// Sessions and login throttling.
    SecurityConfig "security" {
        /// A login session ends after this many hours without use.
        session_idle_hours: u64 = 168, in 1..=87600;
        /// Failed logins allowed per account within the window before it is throttled.
        login_failures_per_account: u32 = 5, in 1..=1000000;
        /// Failed logins allowed per client IP within the window.
        login_failures_per_ip: u32 = 20, in 1..=1000000;
        /// The throttling window, in seconds.
        login_window_secs: u64 = 900, in 1..=86400;
        /// Shortest password accepted (characters).
        password_min_chars: usize = 10, in 8..=256;
        /// Refuse the 10,000 most common passwords (a list shipped in the binary).
        password_reject_common: bool = true;
        /// argon2id memory per password hash, in KiB (OWASP's 19 MiB by default;
        /// each login check holds this much while it runs). Hashes made with
        /// other settings are replaced at the agent's next login.
        argon2_memory_kib: u32 = 19_456, in 8192..=65536;
        /// argon2id passes over the memory.
        argon2_iterations: u32 = 2, in 1..=10;
        /// argon2id lanes.
        argon2_parallelism: u32 = 1, in 1..=8;
        /// Who must use a second factor (TOTP app, recovery codes): "off",
        /// "admins" or "all". An agent without one is sent to enrol at login.
        require_2fa: TwoFactorRule = TwoFactorRule::Off;
        /// Offer a one-time code by mail as the second factor (needs a
        /// [[mailbox]] and outgoing mail).
        email_codes: bool = false;
        /// "Remember this browser" skips the second factor for this many days
        /// (0: never remember).
        remember_browser_days: u32 = 30, in 0..=365;
        /// Requests each API token may make per minute (a burst of this many,
        /// refilled evenly); more get 429 with Retry-After.
        api_rate_per_minute: u32 = 600, in 1..=1000000;
    }
}

section! {
    /// The built-in SMTP receiver: customers' mail servers deliver straight to it.
    SmtpConfig "smtp" {
        /// Run it with `serve`.
        enabled: bool = true;
        /// Listen address; use "0.0.0.0:25" in production and point your MX record here.
        /// `--smtp ADDR` overrides it.
        listen: String = "127.0.0.1:2525".into();
        /// EHLO name and the `by` of Received headers.
        hostname: String = "localhost".into();
        /// Largest message accepted, in bytes (advertised in EHLO SIZE).
        max_message_size: usize = 26_214_400, in 1..=1073741824;
        /// Longest line in a message, in bytes (RFC 5321 asks for 1000; real mail
        /// is often longer).
        max_line_length: usize = 10_000, in 1000..=1073741824;
        /// Most header fields in one message.
        max_header_count: usize = 500, in 1..=100000;
        /// Most recipients of one message.
        max_recipients: usize = 50, in 1..=100000;
        /// Most commands that move no mail (NOOP, RSET, VRFY, EHLO …, like Postfix's
        /// smtpd_junk_command_limit) before a session is closed.
        /// A relay may deliver any number of messages over one connection.
        max_commands: usize = 1000, in 1..=100000000;
        /// Most errors in one session before it is closed.
        max_errors: usize = 10, in 1..=100000;
        /// Concurrent connections in total.
        max_connections: usize = 256, in 1..=100000;
        /// Concurrent connections from one IP address. 50 lets a front MTA (Postfix
        /// opens up to 20 per destination, plus cached ones) deliver at its default
        /// concurrency.
        max_connections_per_ip: usize = 50, in 1..=100000;
        /// Seconds to wait for a whole command line (an absolute deadline: trickling
        /// bytes does not extend it).
        command_timeout_secs: u64 = 300, in 1..=3600;
        /// Seconds the whole DATA (or BDAT) transfer may take.
        data_timeout_secs: u64 = 600, in 1..=7200;
        /// PEM certificate chain for STARTTLS. Empty: a self-signed certificate is
        /// generated on first start and kept in the data directory.
        tls_cert: String = String::new();
        /// PEM private key for `tls_cert` (both or neither).
        tls_key: String = String::new();
        /// Senders refused at MAIL FROM with 550 5.7.1: addresses, or domains
        /// ("example.com" or "@example.com", subdomains included).
        banned_senders: Vec<String> = Vec::new();
        /// Message bytes all sessions together hold in memory; a message that would go
        /// over is answered 452 4.3.1 and retried by its sender.
        max_data_memory: usize = 256 * 1024 * 1024, in 1..=17179869184;
        /// Front MTAs the desk trusts: addresses or CIDR ranges exempt from the
        /// per-address limit, e.g. ["127.0.0.1", "10.0.0.0/8"].
        trusted_relays: Vec<String> = Vec::new();
    }
}

section! {
    /// Mail the desk sends: replies, acknowledgements, notifications. Every
    /// [[mailbox]] address is the From of its department's mail.
    OutgoingConfig "outgoing" {
        /// Send at all; `--no-outgoing` turns it off (mail then stays queued).
        enabled: bool = true;
        /// host:port of the relay that sends for the desk. Empty: direct delivery to
        /// each recipient's MX (STARTTLS when the server offers it).
        smarthost: String = String::new();
        /// The older name of `dns.resolver` (read when that is empty).
        dns_resolver: String = String::new();
        /// Port of recipients' mail servers in direct delivery.
        direct_port: u16 = 25, in 1..=65535;
        /// Connection to the smarthost: "none", "starttls" or "tls".
        security: SmarthostSecurity = SmarthostSecurity::None;
        /// AUTH user for the smarthost; empty = no AUTH (set with password_file).
        username: String = String::new();
        /// File holding the AUTH password (kept out of the config file).
        password_file: String = String::new();
        /// PEM file of CA certificates trusted for the smarthost's certificate besides
        /// the public roots (an internal CA); empty = the public roots only.
        ca_file: String = String::new();
        /// Display name on outgoing mail; empty = desk.name.
        from_name: String = String::new();
        /// The From name of an agent's public reply: {agent} is the agent's name,
        /// {name} the mailbox's From name (e.g. "{agent} at {name}"); empty = the
        /// From name alone.
        agent_from: String = String::new();
        /// Subject of outgoing mail; {ref} is required so replies find their ticket.
        subject_format: String = "[{ref}] {subject}".into();
        /// An agent's reply when the ticket has collaborators: "cc" (one mail, all in
        /// Cc) or "separate" (one mail each).
        collaborators: CollaboratorMail = CollaboratorMail::Cc;
        /// At most one acknowledgement per sender within this many minutes.
        ack_window_minutes: u64 = 10, in 0..=10080;
        /// Give up on undeliverable mail after this many hours (recorded on the ticket).
        max_queue_hours: u64 = 48, in 1..=1440;
        /// Seconds before each retry of a temporarily failed mail; the last repeats.
        retry_secs: Vec<u64> = vec![60, 300, 900, 1800, 3600, 7200];
        /// Directory with template overrides (ack.txt, reply.txt, new_ticket.txt,
        /// note.txt, assigned.txt, requester_reply.txt, resolved.txt, stranger.txt,
        /// closed.txt, transferred.txt, team_assigned.txt, agent_ticket.txt,
        /// pending_reminder.txt, snooze_ended.txt, mention.txt, sla_warning.txt,
        /// sla_breached.txt, trigger.txt); empty = built in.
        template_dir: String = String::new();
        /// Days the signed link to a requester's ticket page (sent in their mail) works.
        link_days: u64 = 3, in 1..=3650;
        /// Ask for a satisfaction rating in the resolved mail: a good and a bad
        /// link (they open a page to confirm, with room for a comment).
        ask_rating: bool = true;
        /// Days the rating links in a resolved mail work.
        rating_days: u64 = 30, in 1..=3650;
        /// Days an agent may answer a notification by mail: the signed token in its
        /// Message-ID is what lets such an answer act as the agent (and use #commands).
        /// Mail from an agent's address without a valid token is kept as an unverified
        /// internal note (or held in Junk) and mailed to nobody.
        command_token_days: u64 = 30, in 1..=3650;
        /// Acknowledge a new ticket by mail to its requester (the autoresponder).
        notify_ack: bool = true;
        /// Alert the department's agents about a new ticket by mail.
        notify_new_ticket: bool = true;
        /// Send agents' public replies to the requester and collaborators.
        notify_reply: bool = true;
        /// Tell the assignee about internal notes by others.
        notify_note: bool = true;
        /// Tell an agent a ticket was assigned to them.
        notify_assigned: bool = true;
        /// Tell the assignee (or the department) that the requester replied.
        notify_requester_reply: bool = true;
        /// Tell the requester their ticket was resolved (and that replying reopens it).
        notify_resolved: bool = true;
        /// Tell the requester their ticket was closed by an agent (not after
        /// Resolved: they were told then).
        notify_closed: bool = true;
        /// Tell the agents of a department that a ticket was transferred to it.
        notify_transferred: bool = true;
        /// Tell a team's members that a ticket was assigned to their team.
        notify_team_assigned: bool = true;
        /// Mail the requester when an agent opens a ticket for them (the form and
        /// the API can choose per ticket).
        notify_agent_ticket: bool = false;
    }
}

section! {
    /// The one DNS resolver for everything: MX hosts of direct delivery, SPF,
    /// DKIM and DMARC records, DNSBL zones, and every host the desk connects
    /// to (smarthost, IMAP, webhooks, rspamd, ACME, SSO; the hosts file and
    /// resolv.conf's search domains apply). Answers are cached for their TTL.
    DnsConfig "dns" {
        /// ip:port of the resolver; empty = the nameservers of /etc/resolv.conf.
        /// `outgoing.dns_resolver` is read when this is empty (an older name).
        resolver: String = String::new();
        /// Seconds to wait for one answer before trying again (twice in all).
        timeout_secs: u64 = 2, in 1..=30;
    }
}

/// What the desk does with mail that fails a sender's DMARC policy or SPF.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthAction {
    /// Refuse it at the end of DATA: 550 5.7.1 (the sender's server bounces it).
    Reject,
    /// Keep it in Junk with the reason; an agent can still make it a ticket.
    Junk,
    /// Let it in, marked on the thread as failed.
    Mark,
}

/// `mail_auth.dnsbl`: what a listing in a zone does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZoneAction {
    /// 554 at connect.
    Reject,
    /// Accept, then hold in Junk.
    Junk,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    pub name: String,
    pub action: ZoneAction,
}

/// A `mail_auth.dnsbl` entry: `zone` (reject) or `zone=junk`.
pub fn parse_zone(s: &str) -> Result<Zone, String> {
    let (name, action) = match s.trim().split_once('=') {
        None => (s.trim(), ZoneAction::Reject),
        Some((n, "reject")) => (n.trim(), ZoneAction::Reject),
        Some((n, "junk")) => (n.trim(), ZoneAction::Junk),
        Some((_, other)) => return Err(format!("{s:?}: the action after = must be reject or junk, not {other:?}")),
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if name.is_empty() || !name.contains('.') || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-') {
        return Err(format!("{s:?} is not a DNS zone like zen.spamhaus.org"));
    }
    Ok(Zone { name, action })
}

/// An `rspamd.url`: `http://host:port` (a trailing `/` allowed) → `host:port`.
pub fn http_authority(url: &str) -> Result<String, String> {
    let rest = url.strip_prefix("http://").ok_or_else(|| format!("{url:?} must start with http:// (rspamd runs beside the desk)"))?;
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    match authority.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && !authority.contains('/') && port.parse::<u16>().is_ok_and(|p| p > 0) => {
            Ok(authority.to_string())
        }
        _ => Err(format!("{url:?} must be http://host:port, e.g. http://127.0.0.1:11333")),
    }
}

section! {
    /// Sender authentication (SPF, DKIM, DMARC, ARC) on every mail received, and
    /// DKIM signatures on every mail sent. `frontdesk dns` prints the records to
    /// publish for each mailbox domain and checks what is published now.
    MailAuthConfig "mail_auth" {
        /// Verify SPF (envelope sender and HELO), DKIM (every signature), DMARC and ARC
        /// of each mail, record the results in an Authentication-Results header and on
        /// the thread, and apply the policy below.
        verify: bool = true;
        /// Seconds all DNS lookups for one mail may take together; after that the mail
        /// is accepted as "could not verify" (a DNS failure never blocks intake).
        time_budget_secs: u64 = 3, in 1..=60;
        /// A mail whose sender's DMARC policy is p=reject and that fails DMARC:
        /// "reject" (550 5.7.1 at the end of DATA), "junk" or "mark".
        dmarc_reject: AuthAction = AuthAction::Reject;
        /// A mail that fails DMARC under p=quarantine: "junk", "reject" or "mark".
        dmarc_quarantine: AuthAction = AuthAction::Junk;
        /// A mail whose envelope sender's SPF says fail (-all) and that has no valid DKIM
        /// signature: "junk", "reject" or "mark".
        spf_fail: AuthAction = AuthAction::Junk;
        /// Sign every outgoing mail with DKIM (Ed25519 and RSA-2048, relaxed/relaxed) in
        /// the domain of its From address.
        sign: bool = true;
        /// DKIM selector of the Ed25519 key (publish <selector>._domainkey.<domain>).
        ed25519_selector: String = "fd-ed25519".into();
        /// DKIM selector of the RSA key.
        rsa_selector: String = "fd-rsa".into();
        /// PKCS#8 DER or PEM file with the Ed25519 private key; empty = generated on
        /// first start and kept as <data_dir>/dkim/ed25519.key.
        ed25519_key_file: String = String::new();
        /// PKCS#1/PKCS#8 DER or PEM file with the RSA private key; empty = a 2048-bit key
        /// generated on first start and kept as <data_dir>/dkim/rsa.key.
        rsa_key_file: String = String::new();
        /// DNSBL/RBL zones asked about each client's address at connect, e.g.
        /// ["zen.spamhaus.org", "bl.example=junk"]: a listed client is refused with 554
        /// 5.7.1, or with "=junk" its mail is held in Junk. Empty: none asked.
        dnsbl: Vec<String> = Vec::new();
        /// Greylisting: the first mail of an unknown (client network, sender, recipient)
        /// is answered 451 4.7.1 and accepted when retried after `greylist_secs`.
        greylist: bool = false;
        /// Seconds a greylisted sender must wait before its retry is accepted.
        greylist_secs: u64 = 300, in 1..=86400;
        /// Hold mail in Junk when its rule score reaches this (0 = never): failed
        /// sender authentication +3, SPF softfail +1, bulk headers (List-Unsubscribe)
        /// +1, an executable attachment, also inside a zip, +5, a link that shows one
        /// site and opens another +3.
        spam_score: u32 = 5, in 0..=1000;
    }
}

section! {
    /// rspamd, an optional spam engine (Debian package `rspamd`), asked about every
    /// mail at the end of DATA over its HTTP protocol, and taught by the agents'
    /// "Not junk" and "Junk". Off while `url` is empty.
    RspamdConfig "rspamd" {
        /// Its normal worker, e.g. "http://127.0.0.1:11333" (plain HTTP: rspamd runs
        /// beside the desk). Empty: rspamd is not asked.
        url: String = String::new();
        /// Its controller, for learning, e.g. "http://127.0.0.1:11334". Empty: the
        /// agents' decisions teach it nothing.
        controller_url: String = String::new();
        /// The controller's password (its `enable_password`, which may learn).
        password: String = String::new();
        /// Hold mail in Junk from this rspamd score on (0 = never).
        junk_score: f64 = 6.0;
        /// Refuse mail with 550 5.7.1 at the end of DATA from this score on (0 = never).
        reject_score: f64 = 15.0;
        /// Seconds rspamd may take for one mail; after that it is accepted unchecked.
        timeout_secs: u64 = 5, in 1..=60;
    }
}

/// `sso.default_role`: the role of agents single sign-on creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SsoRole {
    Agent,
    Admin,
}

section! {
    /// Single sign-on with OpenID Connect (authorization code + PKCE): Microsoft
    /// Entra ID, Google, Keycloak, Authentik, … Register the desk with the
    /// provider with the redirect URL <public_url>/login/sso/callback.
    SsoConfig "sso" {
        /// Offer "Log in with single sign-on" on the login page.
        enabled: bool = false;
        /// The provider's issuer URL (its discovery document is at
        /// <issuer>/.well-known/openid-configuration), e.g.
        /// "https://login.microsoftonline.com/<tenant>/v2.0".
        issuer: String = String::new();
        /// The client id the provider gave the desk.
        client_id: String = String::new();
        /// A file holding the client secret (kept out of this file).
        client_secret_file: String = String::new();
        /// The button's text.
        button_label: String = "Log in with single sign-on".into();
        /// Create an agent at their first sign-on when no agent has the address
        /// (off: only existing agents may sign on).
        auto_create: bool = false;
        /// The role of agents created at sign-on: "agent" or "admin".
        default_role: SsoRole = SsoRole::Agent;
        /// Password login stays possible (off: an SSO-only desk; the command
        /// line still adds agents).
        password_login: bool = true;
    }
}

section! {
    /// The audit log of admin and security events (Audit log page, admins only).
    AuditConfig "audit" {
        /// Days the audit log keeps its entries (logins, agent and token
        /// changes, exports, purges); older ones are dropped each hour.
        keep_days: u32 = 730, in 30..=36500;
    }
}

section! {
    /// Scheduled backups while the desk runs: the same archive as
    /// `frontdesk backup --to FILE` (databases, keys, config; the search
    /// index is rebuilt on restore), written to `dir` and pruned to `keep`.
    BackupConfig "backup" {
        /// Directory for scheduled backups (created if missing). Empty: no
        /// scheduled backups (`frontdesk backup` still works).
        dir: String = String::new();
        /// Hours between scheduled backups.
        every_hours: u32 = 24, in 1..=8760;
        /// Scheduled backups kept in `dir`; older ones are deleted.
        keep: u32 = 7, in 1..=1000;
    }
}

section! {
    /// The customers' help page (/help): the request form, and signing in by
    /// a mailed link to see one's tickets.
    PortalConfig "portal" {
        /// Offer the request form on /help (customers can always write by mail).
        web_requests: bool = true;
        /// A first request from an address the desk does not know opens only
        /// once the link mailed to that address is opened.
        confirm_new_senders: bool = true;
        /// Requests one client address may send within security.login_window_secs.
        requests_per_ip: u32 = 10, in 1..=100000;
        /// Seconds a person takes at least to fill in the form; a faster one is
        /// taken for a bot and dropped without a word.
        min_fill_secs: u32 = 3, in 0..=600;
        /// Web sites that may show the help widget (`<script src=".../widget.js">`),
        /// each as its origin: scheme, host and port, e.g. "https://www.example.com".
        /// Requests and suggestions from other sites are refused.
        widget_origins: Vec<String> = Vec::new();
        /// Minutes a mailed sign-in link works (once).
        link_minutes: u32 = 60, in 5..=1440;
        /// Days a customer stays signed in on the help page.
        session_days: u32 = 7, in 1..=90;
        /// A logo for the customers' pages and mail-free branding: a PNG, JPEG,
        /// WebP or SVG file of at most 512 KB (empty: the desk's initials).
        logo_file: String = String::new();
        /// The customers' pages' accent colour (buttons, links), as #rrggbb
        /// (empty: the desk's blue).
        accent_colour: String = String::new();
        /// A short welcome above the help page's form, in Markdown.
        welcome: String = String::new();
    }
}

section! {
    /// Certificates for HTTPS from an ACME CA (RFC 8555), e.g. Let's Encrypt:
    /// issued on first start, renewed before expiry, kept in <data_dir>/acme.
    /// Until the first one arrives (and whenever the CA fails) the desk serves
    /// the last good certificate, else its self-signed one.
    AcmeConfig "acme" {
        /// Get certificates from the CA below (needs `server.https`; not with
        /// `server.tls_cert`).
        enabled: bool = false;
        /// The CA's directory URL.
        directory: String = "https://acme-v02.api.letsencrypt.org/directory".into();
        /// Contact address the CA writes to about expiry and problems (may be empty).
        contact: String = String::new();
        /// Host names to certify. Empty: the host of `server.public_url`.
        domains: Vec<String> = Vec::new();
        /// "tls-alpn-01" (on the HTTPS port) or "http-01" (on the plain HTTP port).
        challenge: AcmeChallenge = AcmeChallenge::TlsAlpn01;
        /// Renew when the certificate has fewer days than this left.
        renew_days: u32 = 30, in 1..=365;
        /// A PEM root certificate to trust for the CA's own HTTPS (a private or
        /// test CA). Empty: the system's and Mozilla's roots.
        ca_file: String = String::new();
    }
}

/// `[[mailbox]] strangers`: what becomes of a new conversation from someone
/// the desk does not know (no contact yet, not from `known_domains`, not on
/// the allow-list).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StrangerPolicy {
    /// Everyone opens tickets.
    #[default]
    Accept,
    /// Held in Junk with the reason (an agent may still make it a ticket).
    Hold,
    /// Held, and the sender gets the `stranger` template (at most once a day).
    Reply,
}

/// One support address and the department its mail goes to.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailboxConfig {
    pub address: String,
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default)]
    pub strangers: StrangerPolicy,
    /// Domains whose senders are never strangers (a customer's company).
    #[serde(default)]
    pub known_domains: Vec<String>,
    /// Display name of its mail; empty: `outgoing.from_name`, else `desk.name`.
    #[serde(default)]
    pub from_name: String,
    /// Where replies to its mail go; empty: the mailbox's own address.
    #[serde(default)]
    pub reply_to: String,
    /// Signature under agents' replies from it (a template: `{{ agent.name }}`,
    /// `{{ desk.name }}` …); empty: the agent's name and the desk's.
    #[serde(default)]
    pub signature: String,
    /// Directory of template files for its mail, before `outgoing.template_dir`
    /// and the built-in ones.
    #[serde(default)]
    pub templates: String,
    /// The From name of an agent's reply, e.g. "{agent} at {name}"; empty:
    /// `outgoing.agent_from`.
    #[serde(default)]
    pub agent_from: String,
}

impl MailboxConfig {
    /// Its commented example in `config.example.toml`.
    pub const EXAMPLE: &'static str = "\
# One [[mailbox]] per support address the desk accepts mail for (also with
# +tag sub-addressing). Mail to any other address is refused. With no mailbox
# configured, the SMTP receiver refuses every recipient.
# [[mailbox]]
# address = \"support@example.test\"
# department = \"Support\"
# What a new conversation from a stranger (not yet a contact, not from
# known_domains, not allow-listed) does: \"accept\" (a ticket), \"hold\" (waits in
# Junk, saying why) or \"reply\" (held, and the sender gets the stranger.txt
# template, at most once a day).
# strangers = \"accept\"
# known_domains = [\"customer.example\"]
# Its identity: the From name and Reply-To of its mail (default: outgoing.from_name
# or desk.name, and the mailbox itself), the signature under agents' replies (a
# template: {{ agent.name }}, {{ desk.name }} …), a directory of its own
# templates (files there win over outgoing.template_dir), and the From name
# of an agent's reply ({agent} and {name}; default: outgoing.agent_from).
# from_name = \"Acme Support\"
# reply_to = \"support@example.test\"
# signature = \"{{ agent.name }}, Acme Support · +1 555 0100\"
# templates = \"/etc/frontdesk/templates/support\"
# agent_from = \"{agent} at {name}\"
";
}

/// A canned response: a name, the text (a template with the same variables as
/// mail: `{{ requester.name }}`, `{{ ticket.ref }}`, `{{ agent.name }}` …) and
/// optionally the one department it is for.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CannedConfig {
    pub name: String,
    pub text: String,
    #[serde(default)]
    pub department: Option<String>,
}

impl CannedConfig {
    /// Its commented example in `config.example.toml`.
    pub const EXAMPLE: &'static str = "\
# Canned responses agents insert into a reply (one [[canned]] each). The text
# may use {{ requester.name }}, {{ ticket.ref }}, {{ ticket.subject }},
# {{ agent.name }} and {{ desk.name }}. `department` limits one to a department.
# [[canned]]
# name = \"Restart the router\"
# text = \"\"\"Hello {{ requester.name }},
#
# please unplug the router for 30 seconds and plug it back in.
#
# {{ agent.name }}\"\"\"
";
}

/// A shared view: a name, a search (the search box grammar) and the columns.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ViewConfig {
    pub name: String,
    pub query: String,
    /// Comma list of columns: requester, status, priority, assignee, updated,
    /// created, category, department, tags, due.
    #[serde(default)]
    pub columns: String,
}

impl ViewConfig {
    /// Its commented example in `config.example.toml`.
    pub const EXAMPLE: &'static str = "\
# Shared views every agent sees in the sidebar (one [[view]] each): a name, a
# search in the search box grammar, and optionally the columns to show
# (requester, status, priority, assignee, updated, created, category,
# department, tags, due).
# [[view]]
# name = \"VPN trouble\"
# query = \"tag:vpn status:active\"
# columns = \"requester,status,assignee,updated\"
";
}
