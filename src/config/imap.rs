//! `[[imap]]`: mailboxes the desk fetches from over IMAP when it cannot be
//! the MX (Microsoft 365, Google and other hosted mail hold the domain):
//! where, how to log in (a password file or an OAuth2 token file for
//! XOAUTH2), which folder, which `[[mailbox]]` the mail is for, and what
//! becomes of a fetched message on the server; and their checks.

use super::Config;

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImapSecurity {
    /// TLS from the first byte (port 993).
    #[default]
    Tls,
    /// Plain, then STARTTLS before logging in (port 143); refused without it.
    Starttls,
    /// No encryption: only to a server on this machine (loopback).
    None,
}

/// What becomes of a message on the server once it is safely in the spool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImapAfter {
    /// Flagged \Seen and left where it is.
    #[default]
    Seen,
    /// Moved to `move_to`.
    Move,
    /// Deleted (flagged \Deleted and expunged).
    Delete,
}

/// One fetched mailbox.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImapConfig {
    pub host: String,
    /// 0: 993 with `security = "tls"`, else 143.
    #[serde(default)]
    pub port: u16,
    #[serde(default)]
    pub security: ImapSecurity,
    pub user: String,
    /// File holding the password (kept out of the config file).
    #[serde(default)]
    pub password_file: String,
    /// File holding an OAuth2 access token, for XOAUTH2 (Microsoft 365,
    /// Google); read at each login, so a token refresher may rewrite it.
    #[serde(default)]
    pub oauth2_token_file: String,
    #[serde(default = "default_folder")]
    pub folder: String,
    /// The `[[mailbox]]` address its mail is for (department, strangers
    /// policy and the identity of replies); empty: `user`.
    #[serde(default)]
    pub mailbox: String,
    #[serde(default)]
    pub after: ImapAfter,
    /// The folder `after = "move"` moves to.
    #[serde(default)]
    pub move_to: String,
    /// Seconds between looks when the server has no IDLE (or IDLE fails).
    #[serde(default = "default_poll")]
    pub poll_secs: u64,
    /// A PEM root certificate to trust (a private CA), beside Mozilla's
    /// roots and the system's.
    #[serde(default)]
    pub ca_file: String,
}

fn default_folder() -> String {
    "INBOX".into()
}

fn default_poll() -> u64 {
    60
}

impl ImapConfig {
    /// Its commented example in `config.example.toml`.
    pub const EXAMPLE: &'static str = "\
# Mailboxes fetched over IMAP (one [[imap]] each), for a desk that cannot be
# the MX: new mail arrives within seconds (IDLE; polling every poll_secs
# when the server has none) and goes through the same spool and pipeline as
# SMTP, exactly once (the message's UID and the folder's UIDVALIDITY are
# recorded in the spool's own transaction). The first look takes the unread
# messages; older mail is for `frontdesk import imap`. A message is then
# flagged \\Seen (after = \"seen\"), moved to move_to (\"move\") or deleted
# (\"delete\"). mailbox names the [[mailbox]] the mail is for (default: user).
# Log in with a password_file, or with oauth2_token_file for XOAUTH2
# (Microsoft 365, Google): a file holding a current access token, which an
# outside refresher keeps fresh; it is read at each login.
# [[imap]]
# host = \"outlook.office365.com\"
# port = 993
# security = \"tls\"
# user = \"support@example.test\"
# password_file = \"/etc/frontdesk/imap.password\"
# oauth2_token_file = \"\"
# folder = \"INBOX\"
# mailbox = \"support@example.test\"
# after = \"seen\"
# move_to = \"\"
# poll_secs = 60
# ca_file = \"\"
";

    /// The port to connect to.
    pub fn port(&self) -> u16 {
        match (self.port, self.security) {
            (0, ImapSecurity::Tls) => 993,
            (0, _) => 143,
            (p, _) => p,
        }
    }

    /// The `[[mailbox]]` address its mail is for.
    pub fn mailbox(&self) -> &str {
        if self.mailbox.trim().is_empty() { self.user.trim() } else { self.mailbox.trim() }
    }

    /// Its name in logs, health and the spool record: `user@host/folder`
    /// (INBOX in capitals: its name is case-insensitive).
    pub fn name(&self) -> String {
        format!("{}@{}/{}", self.user, self.host, folder_key(&self.folder))
    }

    /// The secret to log in with: (XOAUTH2?, password or token).
    pub fn secret(&self) -> std::io::Result<(bool, String)> {
        let (oauth, file) = if self.oauth2_token_file.is_empty() { (false, &self.password_file) } else { (true, &self.oauth2_token_file) };
        let s = std::fs::read_to_string(file)?;
        Ok((oauth, s.trim_end_matches(['\r', '\n']).to_string()))
    }
}

/// A folder name the desk will put into an IMAP command as a quoted string
/// (ASCII: other names would need modified UTF-7).
fn plain_folder(f: &str) -> bool {
    !f.trim().is_empty() && f.len() <= 200 && f.chars().all(|c| c.is_ascii() && !c.is_ascii_control() && c != '"' && c != '\\')
}

/// A folder as IMAP compares it: INBOX in any case is INBOX (RFC 3501).
fn folder_key(f: &str) -> String {
    if f.eq_ignore_ascii_case("inbox") { "INBOX".into() } else { f.to_string() }
}

impl Config {
    /// `[[imap]]`: a host and user, one way to log in, a readable secret, a
    /// folder, a configured mailbox, a move target when moving, encryption
    /// unless the server is on this machine, no mailbox fetched twice.
    pub(super) fn check_imap(&self) -> Result<(), (&'static str, &'static str, String)> {
        for (i, m) in self.imap.iter().enumerate() {
            let n = i + 1;
            if m.host.trim().is_empty() || m.host.contains([' ', '/', '@']) {
                return Err(("imap", "host", format!("imap {n}: {:?} is not a host name", m.host)));
            }
            if m.user.trim().is_empty() || m.user.contains(['\r', '\n', '"']) {
                return Err(("imap", "user", format!("imap {n}: a user name (one line, no quotes) is needed")));
            }
            match (m.password_file.is_empty(), m.oauth2_token_file.is_empty()) {
                (true, true) => return Err(("imap", "password_file", format!("imap {n}: password_file or oauth2_token_file is needed"))),
                (false, false) => {
                    return Err(("imap", "oauth2_token_file", format!("imap {n}: password_file and oauth2_token_file exclude each other")));
                }
                _ => {}
            }
            let key = if m.oauth2_token_file.is_empty() { "password_file" } else { "oauth2_token_file" };
            match m.secret() {
                Ok((_, s)) if s.is_empty() => return Err(("imap", key, format!("imap {n}: the file is empty"))),
                Ok((_, s)) if s.contains(['\r', '\n', '"', '\\']) && m.oauth2_token_file.is_empty() => {
                    return Err(("imap", key, format!("imap {n}: a password with a line break, quote or backslash cannot be sent")));
                }
                Err(e) => return Err(("imap", key, format!("imap {n}: cannot read it: {e}"))),
                Ok(_) => {}
            }
            if !plain_folder(&m.folder) {
                return Err(("imap", "folder", format!("imap {n}: {:?} is not a folder name the desk can use", m.folder)));
            }
            if m.after == ImapAfter::Move && (!plain_folder(&m.move_to) || folder_key(&m.move_to) == folder_key(&m.folder)) {
                return Err(("imap", "move_to", format!("imap {n}: after = \"move\" needs a move_to folder other than {:?}", m.folder)));
            }
            if self.mailbox_for(m.mailbox()).is_none() {
                return Err(("imap", "mailbox", format!("imap {n}: {:?} is not the address of a [[mailbox]]", m.mailbox())));
            }
            let local = m.host == "localhost" || m.host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
            if m.security == ImapSecurity::None && !local {
                return Err((
                    "imap",
                    "security",
                    format!("imap {n}: \"none\" sends the password in clear: only for a server on this machine"),
                ));
            }
            if m.poll_secs == 0 || m.poll_secs > 3600 {
                return Err(("imap", "poll_secs", format!("imap {n}: 1 to 3600 seconds")));
            }
            if !m.ca_file.is_empty() && !std::path::Path::new(&m.ca_file).is_file() {
                return Err(("imap", "ca_file", format!("imap {n}: {:?} is not a file", m.ca_file)));
            }
            let same = |o: &ImapConfig| {
                o.host.eq_ignore_ascii_case(&m.host)
                    && o.port() == m.port()
                    && o.user == m.user
                    && folder_key(&o.folder) == folder_key(&m.folder)
            };
            if self.imap[..i].iter().any(same) {
                return Err(("imap", "folder", format!("imap {n}: {} is listed twice", m.name())));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(imap: &str) -> Result<Config, String> {
        let dir = std::env::temp_dir().join(format!("fd-imap-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pw = dir.join("pw");
        std::fs::write(&pw, "secret\n").unwrap();
        let text = format!(
            "[[mailbox]]\naddress = \"support@example.test\"\n[[imap]]\nhost = \"imap.example.test\"\nuser = \"support@example.test\"\n{}\n",
            imap.replace("PW", &pw.display().to_string())
        );
        Config::parse(&text, "t.toml").map_err(|e| e.to_string())
    }

    #[test]
    fn a_good_mailbox_and_the_mistakes_an_admin_makes() {
        let c = parse("password_file = \"PW\"").unwrap();
        let m = &c.imap[0];
        assert_eq!((m.port(), m.mailbox(), m.folder.as_str(), m.after), (993, "support@example.test", "INBOX", ImapAfter::Seen));
        assert_eq!(m.secret().unwrap(), (false, "secret".to_string()));
        for (bad, key) in [
            ("", "password_file"),
            ("password_file = \"PW\"\noauth2_token_file = \"PW\"", "oauth2_token_file"),
            ("password_file = \"/nonexistent/pw\"", "password_file"),
            ("password_file = \"PW\"\nsecurity = \"none\"", "security"),
            ("password_file = \"PW\"\nmailbox = \"other@example.test\"", "mailbox"),
            ("password_file = \"PW\"\nafter = \"move\"", "move_to"),
            ("password_file = \"PW\"\nafter = \"move\"\nmove_to = \"inbox\"", "move_to"),
            ("password_file = \"PW\"\nfolder = \"Gelöscht\"", "folder"),
            ("password_file = \"PW\"\nfolder = \"a\\\"b\"", "folder"),
            ("password_file = \"PW\"\npoll_secs = 0", "poll_secs"),
        ] {
            let e = parse(bad).expect_err(bad);
            assert!(e.contains(&format!("`imap.{key}`")), "{bad}: {e}");
        }
        assert_eq!(parse("password_file = \"PW\"\nsecurity = \"starttls\"").unwrap().imap[0].port(), 143);
    }
}
