//! Templates of the mail the desk sends (minijinja). Defaults are built in;
//! an admin overrides any of them with a file of the same name in
//! `outgoing.template_dir`, and a `[[mailbox]]` may have a directory of its
//! own that wins over both. A template renders to `Subject: …`, a blank line,
//! then the text body. `check-config` renders every one with sample data.

use crate::domain::MailKind;
use minijinja::Environment;
use serde_json::{Value, json};

/// The built-in template of each kind of mail.
fn builtin(kind: MailKind) -> &'static str {
    match kind {
        MailKind::Ack => include_str!("templates/ack.txt"),
        MailKind::Reply => include_str!("templates/reply.txt"),
        MailKind::NewTicket => include_str!("templates/new_ticket.txt"),
        MailKind::Note => include_str!("templates/note.txt"),
        MailKind::Assigned => include_str!("templates/assigned.txt"),
        MailKind::RequesterReply => include_str!("templates/requester_reply.txt"),
        MailKind::Resolved => include_str!("templates/resolved.txt"),
        MailKind::Stranger => include_str!("templates/stranger.txt"),
        MailKind::Closed => include_str!("templates/closed.txt"),
        MailKind::Transferred => include_str!("templates/transferred.txt"),
        MailKind::TeamAssigned => include_str!("templates/team_assigned.txt"),
        MailKind::AgentTicket => include_str!("templates/agent_ticket.txt"),
        MailKind::PendingReminder => include_str!("templates/pending_reminder.txt"),
        MailKind::SnoozeEnded => include_str!("templates/snooze_ended.txt"),
        MailKind::SlaWarning => include_str!("templates/sla_warning.txt"),
        MailKind::SlaBreached => include_str!("templates/sla_breached.txt"),
        MailKind::Trigger => include_str!("templates/trigger.txt"),
        MailKind::BadRating => include_str!("templates/bad_rating.txt"),
        MailKind::Mention => include_str!("templates/mention.txt"),
    }
}

/// Most template instructions one render may run.
pub const FUEL: u64 = 20_000;
/// Most bytes one canned response may render to.
pub const MAX_OUTPUT: usize = 256 * 1024;
/// Longest canned response source.
pub const MAX_SOURCE: usize = 64 * 1024;

/// An output buffer that refuses to grow past `MAX_OUTPUT`.
struct Capped(Vec<u8>);

impl std::io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() + buf.len() > MAX_OUTPUT {
            self.0.resize(MAX_OUTPUT, 0);
            return Err(std::io::Error::other("output limit"));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A rendered mail: subject and text body.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
}

pub struct Templates {
    env: Environment<'static>,
}

#[derive(Debug, thiserror::Error)]
#[error("template {name}: {message}")]
pub struct TemplateError {
    pub name: String,
    pub message: String,
}

impl Templates {
    /// Built-in templates, overridden by files in `dir` (if not empty).
    pub fn load(dir: &str) -> Result<Templates, TemplateError> {
        Self::load_layers(&[dir])
    }

    /// Built-in templates, each overridden by the file of its name in the
    /// first of `dirs` (empty ones skipped) that has one.
    pub fn load_layers(dirs: &[&str]) -> Result<Templates, TemplateError> {
        let mut env = Environment::new();
        env.set_keep_trailing_newline(true);
        env.set_fuel(Some(FUEL * 10));
        for kind in MailKind::ALL {
            let name = kind.key();
            let mut source = None;
            for dir in dirs.iter().filter(|d| !d.is_empty()) {
                let path = std::path::Path::new(dir).join(format!("{name}.txt"));
                match std::fs::read_to_string(&path) {
                    Ok(s) => {
                        source = Some(s);
                        break;
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(TemplateError { name: path.display().to_string(), message: e.to_string() }),
                }
            }
            let source = source.unwrap_or_else(|| builtin(kind).to_string());
            env.add_template_owned(name.to_string(), source)
                .map_err(|e| TemplateError { name: name.to_string(), message: e.to_string() })?;
        }
        Ok(Templates { env })
    }

    /// The templates of each `[[mailbox]]` with a `templates` directory
    /// (address → templates), over `outgoing.template_dir`.
    pub fn of_mailboxes(cfg: &crate::config::Config) -> Result<std::collections::HashMap<String, Templates>, TemplateError> {
        let mut out = std::collections::HashMap::new();
        for mb in cfg.mailbox.iter().filter(|m| !m.templates.is_empty()) {
            out.insert(mb.address.to_lowercase(), Self::load_layers(&[&mb.templates, &cfg.outgoing.template_dir])?);
        }
        Ok(out)
    }

    /// Everything `check-config` renders with sample data: the templates of
    /// the desk and of each mailbox, and the mailboxes' signatures. The
    /// error names the key at fault.
    pub fn check_config(cfg: &crate::config::Config) -> Result<(), (String, TemplateError)> {
        Self::load(&cfg.outgoing.template_dir).and_then(|t| t.check()).map_err(|e| ("outgoing.template_dir".to_string(), e))?;
        for (i, mb) in cfg.mailbox.iter().enumerate() {
            if !mb.templates.is_empty() {
                Self::load_layers(&[&mb.templates, &cfg.outgoing.template_dir])
                    .and_then(|t| t.check())
                    .map_err(|e| (format!("mailbox {} templates", i + 1), e))?;
            }
            if !mb.signature.is_empty() {
                Self::render_str("signature", &mb.signature, &sample()).map_err(|e| (format!("mailbox {} signature", i + 1), e))?;
            }
        }
        Ok(())
    }

    pub fn builtin() -> Templates {
        // The built-in templates are tested to parse; this cannot fail at run time.
        Self::load("").unwrap_or_else(|_| Templates { env: Environment::new() })
    }

    /// Renders one kind of mail.
    pub fn render(&self, kind: MailKind, ctx: &Value) -> Result<Rendered, TemplateError> {
        let name = kind.key();
        let err = |e: minijinja::Error| TemplateError { name: name.to_string(), message: format!("{e:#}") };
        let out = self.env.get_template(name).map_err(err)?.render(ctx).map_err(err)?;
        let out = out.replace("\r\n", "\n");
        let (subject, body) = match out.strip_prefix("Subject:") {
            Some(rest) => {
                let (first, body) = rest.split_once('\n').unwrap_or((rest, ""));
                (first.trim().to_string(), body.trim_start_matches('\n').to_string())
            }
            None => (ctx["subject_line"].as_str().unwrap_or_default().to_string(), out),
        };
        if subject.is_empty() {
            return Err(TemplateError { name: name.to_string(), message: "renders an empty subject".into() });
        }
        Ok(Rendered { subject: subject.replace(['\r', '\n'], " "), text: body.trim_end().to_string() + "\n" })
    }

    /// Renders one-off template text (canned responses) with `ctx`, within
    /// the limits: `FUEL` instructions and `MAX_OUTPUT` bytes of output.
    /// Call it off the async runtime.
    pub fn render_str(name: &str, source: &str, ctx: &Value) -> Result<String, TemplateError> {
        let err = |message: String| TemplateError { name: name.to_string(), message };
        if source.len() > MAX_SOURCE {
            return Err(err(format!("is longer than {MAX_SOURCE} bytes")));
        }
        let mut env = Environment::new();
        env.set_fuel(Some(FUEL));
        let tpl = env.template_from_str(source).map_err(|e| err(format!("{e:#}")))?;
        let mut out = Capped(Vec::new());
        tpl.render_captured_to(ctx, &mut out).map(|_| ()).map_err(|e| {
            if out.0.len() >= MAX_OUTPUT { err(format!("renders more than {MAX_OUTPUT} bytes")) } else { err(format!("{e:#}")) }
        })?;
        String::from_utf8(out.0).map_err(|_| err("renders invalid UTF-8".into()))
    }

    /// Checks a canned response an agent writes: it may use variables,
    /// filters and `if`, but nothing that loops or builds values (`for`,
    /// `set`, `macro`, `~`, `*`), so no text can grow memory or burn CPU.
    pub fn check_canned(name: &str, source: &str) -> Result<(), TemplateError> {
        let err = |message: String| TemplateError { name: name.to_string(), message };
        let mut rest = source;
        while let Some(open) = rest.find(['{']) {
            let after = rest.get(open + 1..).unwrap_or("");
            let close = match after.chars().next() {
                Some('{') => "}}",
                Some('%') => "%}",
                _ => {
                    rest = after;
                    continue;
                }
            };
            let body = after.get(1..).unwrap_or("");
            let (inside, tail) = body.split_once(close).unwrap_or((body, ""));
            let words: Vec<&str> = inside.split(|c: char| !c.is_alphanumeric() && c != '_').filter(|w| !w.is_empty()).collect();
            if let Some(bad) = words
                .iter()
                .find(|w| matches!(**w, "for" | "set" | "macro" | "call" | "include" | "import" | "extends" | "range" | "with" | "filter"))
            {
                return Err(err(format!("`{bad}` is not allowed in a canned response (variables, filters and if only)")));
            }
            if inside.contains('~') || inside.contains('*') {
                return Err(err("`~` and `*` are not allowed in a canned response".into()));
            }
            rest = tail;
        }
        Self::render_str(name, source, &sample()).map(|_| ())
    }

    /// Renders every template with sample data (for `check-config`).
    pub fn check(&self) -> Result<(), TemplateError> {
        for kind in MailKind::ALL {
            self.render(kind, &sample())?;
        }
        Ok(())
    }
}

/// Sample data with every variable the templates may use.
pub fn sample() -> Value {
    json!({
        "desk": {"name": "Help Desk", "url": "https://desk.example.com"},
        "ticket": {"ref": "TKT-000123", "subject": "Printer jams", "status": "Open", "priority": "Medium", "department": "Support", "category": "General"},
        "subject_line": "[TKT-000123] Printer jams",
        "requester": {"name": "Carol Customer", "email": "carol@example.com"},
        "agent": {"name": "Bob Agent", "email": "bob@example.com"},
        "message": "Please restart the printer.",
        "message_subject": "Printer jams",
        "link": "https://desk.example.com/tickets/TKT-000123",
        "portal_link": "https://desk.example.com/t/TKT-000123?e=1795000000&s=0123456789abcdef0123",
        "recent": [{"author": "Carol Customer", "date": "2026-11-23 10:00", "body": "It jams."}],
        "articles": [{"title": "Clearing a paper jam", "url": "https://desk.example.com/help/kb/4-clearing-a-paper-jam"}],
        "signature": "Bob Agent, Help Desk",
        "team": "Network",
        "from_department": "Sales",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_templates_render_with_sample_data() {
        let t = Templates::load("").unwrap();
        t.check().unwrap();
        let r = t.render(MailKind::Ack, &sample()).unwrap();
        assert_eq!(r.subject, "[TKT-000123] Printer jams");
        assert!(r.text.contains("Hello Carol Customer") && r.text.contains("TKT-000123"));
        let r = t.render(MailKind::Reply, &sample()).unwrap();
        assert!(r.text.starts_with("Please restart the printer."));
        assert!(r.text.contains("Carol Customer wrote:"));
    }

    #[test]
    fn overrides_and_errors() {
        let dir = std::env::temp_dir().join(format!("fd-tpl-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("ack.txt"), "Subject: Got it: {{ ticket.ref }}\n\nThanks!\n").unwrap();
        let t = Templates::load(dir.to_str().unwrap()).unwrap();
        assert_eq!(t.render(MailKind::Ack, &sample()).unwrap().subject, "Got it: TKT-000123");
        std::fs::write(dir.join("reply.txt"), "Subject: {{ broken\n").unwrap();
        let e = Templates::load(dir.to_str().unwrap()).err().unwrap();
        assert_eq!(e.name, "reply");
        std::fs::write(dir.join("reply.txt"), "Subject: x\n\n{{ message | nosuchfilter }}\n").unwrap();
        let t = Templates::load(dir.to_str().unwrap()).unwrap();
        assert!(t.check().is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
