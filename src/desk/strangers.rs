//! The stranger policy of a mailbox (Jitbit's "accept unregistered users",
//! seed 002): a new conversation from someone the desk does not know — no
//! contact yet, not from the mailbox's `known_domains`, not on the
//! allow-list — opens a ticket (`accept`), waits in Junk saying why
//! (`hold`), or waits and the sender is told (`reply`, the `stranger`
//! template, at most once a day per address and only to a sender whose
//! address the mail proves, so forged senders get no backscatter).

use super::{Desk, Result};
use crate::config::{MailboxConfig, StrangerPolicy};
use crate::domain::mail::{Mailbox, ParsedMail};
use crate::domain::{MailKind, Person, Timestamp};
use crate::store::{OutMail, SpoolEntry, Write};

/// A day: the most a stranger is answered.
const ANSWER_WINDOW_MS: i64 = 86_400_000;

impl Desk {
    /// The mailbox holding this new conversation, and why; `None` lets it in.
    pub(super) fn stranger_hold(
        &self,
        env: &SpoolEntry,
        m: &ParsedMail,
        from: &Mailbox,
        sender: Option<&Person>,
    ) -> Option<(MailboxConfig, String)> {
        let cfg = self.config();
        let mailbox = env.rcpt_to.iter().find_map(|r| cfg.mailbox_for(r))?.clone();
        if mailbox.strangers == StrangerPolicy::Accept || sender.is_some() {
            return None;
        }
        let domain = from.email.rsplit_once('@').map(|(_, d)| d.to_lowercase()).unwrap_or_default();
        let known_domain = mailbox.known_domains.iter().any(|k| {
            let k = k.to_lowercase();
            domain == k || domain.strip_suffix(&k).is_some_and(|head| head.ends_with('.'))
        });
        if known_domain || self.allow_list.admits(&from.email, m.auth.as_ref()) {
            return None;
        }
        let known = if mailbox.known_domains.is_empty() { "known contacts" } else { "known contacts and its known domains" };
        let why = format!("from a stranger: {} opens tickets only for {known}", mailbox.address);
        Some((mailbox, why))
    }

    /// Tells a held stranger (`strangers = "reply"`) that their mail waits.
    pub(super) fn answer_stranger(
        &self,
        w: &mut Write,
        mailbox: &MailboxConfig,
        m: &ParsedMail,
        from: &Mailbox,
        now: Timestamp,
    ) -> Result<()> {
        let cfg = self.config();
        // Only a sender the mail proves: without verification (`mail_auth.
        // verify` off, which the config check refuses with "reply") every
        // From could be forged.
        let proven = m.auth.as_ref().is_some_and(|a| super::trust::proves_address(a, &from.email));
        if !proven || crate::domain::mail::is_noreply(&from.email) || cfg.is_desk_address(&from.email) || self.bouncing(w, &from.email)? {
            return Ok(());
        }
        if self.importing() {
            return Ok(());
        }
        let key = format!("stranger:{}", from.email.to_lowercase());
        if w.last_ack(&key)?.is_some_and(|last| now.0 - last < ANSWER_WINDOW_MS) {
            return Ok(());
        }
        let base = cfg.server.public_url.trim_end_matches('/');
        let ctx = serde_json::json!({
            "desk": {"name": cfg.desk.name, "url": base},
            "requester": {"name": from.name, "email": from.email},
            "message_subject": m.subject.chars().take(200).collect::<String>(),
            "subject_line": format!("Re: {}", m.subject.chars().take(200).collect::<String>()),
        });
        let rendered = match self.render_for(mailbox, MailKind::Stranger, &ctx) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!("stranger answer not queued: {e}");
                return Ok(());
            }
        };
        w.set_last_ack(&key, now)?;
        let random = crate::desk::auth::random_token()?;
        let from_name = cfg.from_name_of(mailbox, None);
        let mut out = OutMail::new(
            MailKind::Stranger.key(),
            &mailbox.address.to_lowercase(),
            &from_name,
            vec![from.email.clone()],
            Vec::new(),
            rendered.subject,
            rendered.text,
            format!("stranger.{}@{}", random.get(..16).unwrap_or(&random), cfg.smtp.hostname),
            now,
        );
        out.in_reply_to = m.message_id.clone();
        out.references = m.message_id.iter().cloned().collect();
        out.auto_submitted = Some("auto-replied".into());
        w.put_outmail(None, &mut out)?;
        Ok(())
    }
}
