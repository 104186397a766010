//! The mail command: one spooled message becomes a new ticket, a reply on the
//! right ticket, a system event, or a junk record — in one write transaction
//! that also marks the spool entry done (the worker drops it from the spool
//! log after), so a crash neither loses nor duplicates it (DESIGN promises
//! 1, 3, 4).
#![deny(clippy::string_slice)]

use super::notify::Notice;
use super::{Desk, DeskError, Result};
use crate::domain::commands::{Assignee, Command};
use crate::domain::mail::{Mailbox, ParsedMail, subject_reference};
use crate::domain::roles::Permission;
use crate::domain::thread::AttachmentRef;
use crate::domain::{Channel, EntryKind, Event, JunkId, Person, PersonId, SpoolId, Status, ThreadEntry, Ticket, TicketId, Timestamp};
use crate::store::{JunkMail, MailMeta, SpoolEntry, Write};

/// Most bounces and auto-replies recorded on one ticket per hour.
const AUTO_EVENTS_PER_HOUR: usize = 10;

/// Content-ID → attachment index.
type CidMap = Vec<(String, usize)>;

/// What happened to one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailOutcome {
    NewTicket(TicketId),
    Reply(TicketId),
    /// Bounce or auto-reply recorded as an event on this ticket.
    EventOn(TicketId),
    Junk(JunkId),
    /// The spool entry was already processed (a retry after a crash).
    AlreadyDone,
}

/// Our own outgoing Message-IDs look like `<TKT-000123.7.random@host>`: the
/// ticket is found even if the id was never recorded (e.g. a restored backup).
fn own_message_ticket(id: &str, prefix: &str) -> Option<TicketId> {
    let first = id.split('@').next()?.split('.').next()?;
    crate::domain::TicketRef::parse(first, prefix).filter(|_| first.contains('-')).map(|r| r.id())
}

fn display(m: &Mailbox) -> String {
    if m.name.is_empty() { m.email.clone() } else { format!("{} <{}>", m.name, m.email) }
}

impl Desk {
    /// Processes one spooled message. Idempotent: a spool id already gone is
    /// reported as `AlreadyDone` and changes nothing.
    pub fn receive_mail(&self, spool_id: SpoolId, env: &SpoolEntry, raw: &[u8], m: &ParsedMail) -> Result<MailOutcome> {
        let now = self.now();
        self.store.write(|w| {
            if !w.mark_spool_done(spool_id)? {
                return Ok(MailOutcome::AlreadyDone);
            }
            self.route(w, env, raw, m, now, false)
        })
    }

    /// Processes several spooled messages in one transaction (one fsync for
    /// all). If any fails, nothing of the batch is applied and the caller
    /// retries them one by one.
    pub fn receive_mail_batch(&self, batch: &[(SpoolId, SpoolEntry, Vec<u8>, ParsedMail)]) -> Result<Vec<MailOutcome>> {
        let now = self.now();
        self.store.write(|w| {
            let mut out = Vec::with_capacity(batch.len());
            for (id, env, raw, m) in batch {
                if !w.mark_spool_done(*id)? {
                    out.push(MailOutcome::AlreadyDone);
                    continue;
                }
                out.push(self.route(w, env, raw, m, now, false)?);
            }
            Ok(out)
        })
    }

    /// Moves a spooled message that cannot be processed to Junk, with the
    /// reason, so it is neither lost nor retried forever.
    pub fn spool_to_junk(&self, spool_id: SpoolId, env: &SpoolEntry, raw: &[u8], m: &ParsedMail, reason: &str) -> Result<Option<JunkId>> {
        self.store.write(|w| {
            if !w.mark_spool_done(spool_id)? {
                return Ok(None);
            }
            let raw_blob = w.put_blob(raw)?;
            let from = m.from.as_ref().map(display).unwrap_or_else(|| env.mail_from.clone());
            Ok(Some(Self::put_in_junk(w, env, m, from, &format!("could not be processed: {reason}"), raw_blob)?))
        })
    }

    /// Records a message in Junk with the reason (the raw source is the
    /// stored blob); returns the junk id.
    fn put_in_junk(w: &mut Write, env: &SpoolEntry, m: &ParsedMail, from: String, reason: &str, raw_blob: String) -> Result<JunkId> {
        let mut junk = JunkMail {
            id: JunkId(0),
            received_at: env.received_at,
            from,
            subject: m.subject.chars().take(300).collect(),
            reason: reason.to_string(),
            raw_blob,
            mail_from: env.mail_from.clone(),
            rcpt_to: env.rcpt_to.clone(),
        };
        Ok(w.put_junk(&mut junk)?)
    }

    /// Who a message is from, for Junk and events: the From header, else the
    /// envelope sender (`<>` for the null reverse-path).
    fn sender_label(m: &ParsedMail, env: &SpoolEntry) -> String {
        m.from.as_ref().map(display).unwrap_or_else(|| if env.mail_from.is_empty() { "<>".into() } else { env.mail_from.clone() })
    }

    /// Turns a junk record into a ticket (an agent decided it is real).
    pub fn junk_to_ticket(&self, actor: &Person, junk_id: JunkId) -> Result<TicketId> {
        if !actor.is_staff() {
            return Err(DeskError::NotFound);
        }
        self.require(actor, crate::domain::roles::Permission::Junk)?;
        let now = self.now();
        let item = self.junk_item(actor, junk_id)?;
        let raw = self.store.read()?.blob(&item.raw_blob)?.ok_or(DeskError::NotFound)?;
        let mut m = crate::domain::mail::parse(&raw, &item.mail_from, self.config().limits.attachment_max_bytes);
        m.auth = crate::domain::auth::MailAuth::read(&raw, &self.config().smtp.hostname);
        m.spam = crate::domain::verdict::SpamVerdict::read(&raw);
        let env = SpoolEntry {
            received_at: item.received_at,
            mail_from: item.mail_from.clone(),
            rcpt_to: item.rcpt_to.clone(),
            size: raw.len() as u64,
            source: "junk".into(),
        };
        let id = self.store.write(|w| {
            if !w.delete_junk(junk_id)? {
                return Err(DeskError::NotFound);
            }
            // Routed as mail is: what it records (refused commands) in English.
            match crate::i18n::with_lang(crate::i18n::Lang::En, || self.route(w, &env, &raw, &m, now, true))? {
                MailOutcome::NewTicket(id) | MailOutcome::Reply(id) => {
                    let mut e = Self::event(id, Some(actor.id), Event::MadeFromJunk, now);
                    w.append_entry(&mut e)?;
                    Ok(id)
                }
                _ => Err(DeskError::Conflict("this mail could not be turned into a ticket".into())),
            }
        })?;
        // "Not junk" teaches the spam engine the mail was real.
        self.teach(crate::domain::verdict::Lesson::Ham, item.raw_blob);
        Ok(id)
    }

    pub(super) fn route(
        &self,
        w: &mut Write,
        env: &SpoolEntry,
        raw: &[u8],
        m: &ParsedMail,
        now: Timestamp,
        force: bool,
    ) -> Result<MailOutcome> {
        let raw_blob = w.put_blob(raw)?;
        // Mail only to postmaster (RFC 5321 4.5.1) is for the admins, not a ticket.
        if !force
            && !env.rcpt_to.is_empty()
            && env.rcpt_to.iter().all(|r| self.config().mailbox_for(r).is_none() && self.config().is_postmaster(r))
        {
            return self.postmaster_mail(w, env, m, raw_blob, now);
        }
        let sender = match &m.from {
            Some(f) => w.person_by_email(&f.email)?,
            None => None,
        };
        // 1. Thread headers, then the subject reference.
        let mut target: Option<Ticket> = None;
        for id in &m.thread_ids {
            let t = match w.message_ticket(id)? {
                Some(t) => Some(t),
                None => own_message_ticket(id, &self.config().desk.reference_prefix),
            };
            if let Some(t) = t
                && let Some(ticket) = w.ticket(w.survivor(t)?)?
            {
                target = Some(ticket);
                break;
            }
        }
        // Email commands need a reply to a notification signed for this sender.
        let signed_for =
            target.as_ref().and_then(|t| m.thread_ids.iter().find_map(|id| super::notify::signed_agent(self, t.id.0, id, now)));
        if target.is_none()
            && let Some(n) = subject_reference(&m.subject, &self.config().desk.reference_prefix)
        {
            target = w.ticket(w.survivor(TicketId(n))?)?;
        }
        // A ticket in Trash is not continued: the mail starts a new ticket.
        if let Some(t) = &target
            && w.trashed_at(t.id)?.is_some()
        {
            target = None;
        }
        // 2. Bounces and auto-replies never create tickets or trigger mail.
        if let Some(kind) = m.auto.as_ref().filter(|_| !force) {
            let from = Self::sender_label(m, env);
            let target = target.filter(|t| self.auto_mail_allowed(w, t.id.0, now).unwrap_or(false));
            if self.record_bounces(w, target.as_ref(), m, now)?
                && let Some(t) = &target
            {
                return Ok(MailOutcome::EventOn(t.id));
            }
            if let Some(t) = target {
                let ev = Event::MailIgnored { kind: kind.describe(), from, subject: m.subject.chars().take(200).collect() };
                let mut e = Self::event(t.id, sender.as_ref().map(|p| p.id), ev, now);
                w.append_entry(&mut e)?;
                self.put_mail_meta(w, t.id.0, e.seq, m, &raw_blob, &[])?;
                return Ok(MailOutcome::EventOn(t.id));
            }
            return Ok(MailOutcome::Junk(Self::put_in_junk(w, env, m, from, &kind.describe(), raw_blob)?));
        }
        let Some(from) = m.from.clone() else {
            return Ok(MailOutcome::Junk(Self::put_in_junk(
                w,
                env,
                m,
                "(no sender address)".to_string(),
                "no usable sender address",
                raw_blob,
            )?));
        };
        // Mail from an address that bounced: it lives again.
        w.clear_bounced(&from.email)?;
        // Senders an agent banned (bulk "junk and ban") go to Junk.
        if w.is_banned(&from.email)? && !force {
            return Ok(MailOutcome::Junk(Self::put_in_junk(w, env, m, display(&from), "the sender is banned (junk and ban)", raw_blob)?));
        }
        // Sender authentication that failed under a Junk policy (`[mail_auth]`).
        if let Some(why) = m.auth.as_ref().and_then(|a| super::trust::junk_reason(&self.config(), a)).filter(|_| !force) {
            return Ok(MailOutcome::Junk(Self::put_in_junk(w, env, m, display(&from), &why, raw_blob)?));
        }
        // Mail may act as an agent only with proof: a reply to a notification
        // carrying a token signed for this agent (and not expired), or an
        // aligned SPF/DKIM pass for the agent's own domain. Anything
        // else from an agent's address is a claim, and a forger's favourite:
        // it is kept where only agents see it, mailed to nobody, and the agent
        // is told. `force` is an agent's own decision (Junk → ticket).
        let verified = matches!((&sender, signed_for), (Some(p), Some(a)) if p.id == PersonId(a) && p.is_staff())
            || sender.as_ref().is_some_and(|p| p.is_staff() && m.auth.as_ref().is_some_and(|a| super::trust::proves_address(a, &p.email)));
        // The spam checks: DNSBL "=junk", rspamd, the rule score. An
        // allow-listed sender passes them only when the mail proves its From
        // (`AllowList::admits`), so a forger gains nothing from the list; an
        // agent's mail passes with its proof.
        if !force
            && !self.allow_list.admits(&from.email, m.auth.as_ref())
            && !verified
            && let Some(why) = self.spam_reason(m, raw)
        {
            return Ok(MailOutcome::Junk(Self::put_in_junk(w, env, m, display(&from), &why, raw_blob)?));
        }
        let auth_failed = m.auth.as_ref().is_some_and(|a| a.failed());
        // 3. A reference only lets in the requester, a collaborator or an agent.
        if let Some(t) = &target {
            let allowed = match &sender {
                Some(p) if p.is_staff() => self.in_force(p.clone()).can_see(t),
                Some(p) => p.id == t.requester || w.is_collaborator(t.id, p.id)?,
                None => false,
            };
            if !allowed {
                tracing::info!(ticket = t.id.0, from = %from.email, "reference from a stranger: starting a new ticket");
                target = None;
            }
        }
        // Mail in an agent's name without proof is only a claim: kept where
        // only agents see it. An agent releasing it from Junk (`force`) may
        // open a ticket with it (a forward: the customer's ticket), but a
        // reply on a ticket still stays a note, never mailed as the agent.
        if let Some(agent) = sender.as_ref().filter(|p| p.is_staff() && !verified && (!force || target.is_some())) {
            return self.unverified_agent_mail(w, env, m, &from, agent, target.filter(|t| !t.is_closed()), raw_blob, now);
        }
        // An agent whose role writes nothing (read-only) adds nothing to a
        // ticket by mail either: the mail waits in Junk, saying why.
        if let Some(agent) = sender.as_ref().filter(|p| p.is_staff())
            && target.as_ref().is_some_and(|t| !t.is_closed())
            && !self.may(agent, Permission::Note)
            && !self.may(agent, Permission::Reply)
        {
            let why = format!("from {}, whose role ({}) writes nothing to tickets", agent.email, self.role_label(agent));
            return Ok(MailOutcome::Junk(Self::put_in_junk(w, env, m, display(&from), &why, raw_blob)?));
        }
        // A new conversation from a stranger, under its mailbox's policy.
        if !force
            && !self.importing()
            && target.as_ref().is_none_or(|t| t.is_closed())
            && let Some((mailbox, why)) = self.stranger_hold(env, m, &from, sender.as_ref())
        {
            let id = Self::put_in_junk(w, env, m, display(&from), &why, raw_blob)?;
            if mailbox.strangers == crate::config::StrangerPolicy::Reply {
                self.answer_stranger(w, &mailbox, m, &from, now)?;
            }
            return Ok(MailOutcome::Junk(id));
        }
        match target {
            // An import rebuilds old threads, closed ones included.
            Some(t) if !t.is_closed() || self.importing() => self.mail_reply(w, t, sender, m, &raw_blob, verified, now),
            // Mail that failed authentication never continues a closed
            // ticket: a stranger claiming the requester's address gets a new
            // ticket of their own, with nothing of the old one.
            closed => self.mail_ticket(w, env, m, &from, sender, &raw_blob, closed.filter(|_| !auth_failed), now),
        }
    }

    /// Bounces and auto-replies recorded on one ticket are capped (anyone can
    /// reference its Message-ID): beyond `AUTO_EVENTS_PER_HOUR` they go to Junk.
    fn auto_mail_allowed(&self, w: &Write, ticket: u64, now: Timestamp) -> Result<bool> {
        let hour_ago = now.0 - 3_600_000;
        let recent = w
            .entries(TicketId(ticket))?
            .iter()
            .rev()
            .take_while(|e| e.created_at.0 >= hour_ago)
            .filter(|e| matches!(e.event, Some(Event::MailIgnored { .. })))
            .count();
        Ok(recent < AUTO_EVENTS_PER_HOUR)
    }

    /// Mail to postmaster: kept in Junk (raw source and all) and forwarded to
    /// every admin as a notice.
    fn postmaster_mail(&self, w: &mut Write, env: &SpoolEntry, m: &ParsedMail, raw_blob: String, now: Timestamp) -> Result<MailOutcome> {
        let from = Self::sender_label(m, env);
        let id = Self::put_in_junk(w, env, m, from.clone(), "mail to postmaster (forwarded to the admins)", raw_blob)?;
        let text = format!(
            "Mail to postmaster@ reached {}.\n\nFrom: {from}\nSubject: {}\n\n{}\n\n(The original is kept in Junk: {}/junk/{id}/source)\n",
            self.config().desk.name,
            m.subject,
            self.limit_text(&m.text),
            self.config().server.public_url.trim_end_matches('/'),
        );
        for admin in w.staff()?.into_iter().filter(|p| p.is_admin()) {
            self.queue_notice(
                w,
                crate::domain::NoticeKind::Postmaster,
                &admin.email,
                format!("[postmaster] {}", m.subject),
                text.clone(),
                now,
            )?;
        }
        Ok(MailOutcome::Junk(id))
    }

    /// Mail from an agent's address without proof: an internal note on the
    /// ticket it answers ("unverified: claims to be …"), or Junk when it
    /// would start a ticket (a forged forward would open one for a victim).
    #[allow(clippy::too_many_arguments)]
    fn unverified_agent_mail(
        &self,
        w: &mut Write,
        env: &SpoolEntry,
        m: &ParsedMail,
        from: &Mailbox,
        agent: &Person,
        target: Option<Ticket>,
        raw_blob: String,
        now: Timestamp,
    ) -> Result<MailOutcome> {
        let claimed = display(from);
        tracing::warn!(from = %from.email, "mail claims to be from an agent without a signed token");
        let Some(old) = target else {
            let id = Self::put_in_junk(
                w,
                env,
                m,
                claimed.clone(),
                &format!(
                    "unverified: claims to be agent {} but carries no signed reply token and no verified signature of its domain",
                    agent.email
                ),
                raw_blob,
            )?;
            self.tell_agent_unverified(w, agent, &m.subject, "It is held in Junk, where an agent can turn it into a ticket.", now)?;
            return Ok(MailOutcome::Junk(id));
        };
        let (attachments, cids) = Self::store_attachments(w, m)?;
        let mut entry = ThreadEntry {
            ticket: old.id,
            seq: 0,
            kind: EntryKind::Note,
            author: None,
            body: format!("[unverified: claims to be {claimed}]\n\n{}", self.mail_body(&m.text_clean, m)),
            event: None,
            attachments,
            created_at: now,
        };
        w.append_entry(&mut entry)?;
        self.put_mail_meta(w, old.id.0, entry.seq, m, &raw_blob, &cids)?;
        w.append_entry(&mut Self::event(old.id, None, Event::UnverifiedSender { claimed }, now))?;
        let mut t = old.clone();
        t.updated_at = now;
        w.put_ticket(Some(&old), &t)?;
        let outcome = format!("It was kept as an internal note on {} and changed nothing else.", self.reference(old.id));
        self.tell_agent_unverified(w, agent, &m.subject, &outcome, now)?;
        Ok(MailOutcome::Reply(old.id))
    }

    /// The entry text for a mail: within the body size limit, with a note for
    /// every attachment that was too large to keep separately.
    fn mail_body(&self, text: &str, m: &ParsedMail) -> String {
        let mut body = self.limit_text(text);
        for (name, size) in &m.skipped {
            body.push_str(&format!(
                "\n\n[attachment {name} ({size} bytes) is larger than the {} byte limit; it is kept in the original message]",
                self.config().limits.attachment_max_bytes
            ));
        }
        body
    }

    /// Limits mail text to the body size limit, on a character boundary.
    fn limit_text(&self, text: &str) -> String {
        let max = self.config().limits.body_max_bytes;
        if text.len() <= max {
            return text.trim_end().to_string();
        }
        let kept = crate::domain::text::truncate_bytes(text, max.saturating_sub(100));
        format!("{kept}\n\n[… truncated at {max} bytes; the original message is kept]")
    }

    fn store_attachments(w: &mut Write, m: &ParsedMail) -> Result<(Vec<AttachmentRef>, CidMap)> {
        let mut refs = Vec::new();
        let mut cids = Vec::new();
        for a in &m.attachments {
            let blob = w.put_blob(&a.data)?;
            if let Some(cid) = &a.content_id {
                cids.push((cid.clone(), refs.len()));
            }
            refs.push(AttachmentRef {
                filename: a.filename.clone(),
                content_type: a.content_type.clone(),
                size: a.data.len() as u64,
                blob,
            });
        }
        Ok((refs, cids))
    }

    fn put_mail_meta(&self, w: &mut Write, ticket: u64, seq: u32, m: &ParsedMail, raw_blob: &str, cids: &[(String, usize)]) -> Result<()> {
        self.put_mail_meta_by(w, ticket, seq, m, raw_blob, cids, None)
    }

    #[allow(clippy::too_many_arguments)]
    fn put_mail_meta_by(
        &self,
        w: &mut Write,
        ticket: u64,
        seq: u32,
        m: &ParsedMail,
        raw_blob: &str,
        cids: &[(String, usize)],
        forwarded_by: Option<String>,
    ) -> Result<()> {
        let html_blob = match &m.html {
            Some(h) => Some(w.put_blob(h.as_bytes())?),
            None => None,
        };
        let meta = MailMeta {
            from: m.from.as_ref().map(display).unwrap_or_default(),
            to: m.to.iter().map(display).collect(),
            cc: m.cc.iter().map(display).collect(),
            subject: m.subject.clone(),
            message_id: m.message_id.clone().unwrap_or_default(),
            raw_blob: raw_blob.to_string(),
            html_blob,
            full_text: (m.text_clean.trim() != m.text.trim()).then(|| m.text.clone()),
            cids: cids.to_vec(),
            forwarded_by,
            auth: m.auth.clone(),
        };
        w.put_entry_mail(TicketId(ticket), seq, &meta)?;
        if let Some(id) = &m.message_id {
            w.add_thread_id(TicketId(ticket), id)?;
        }
        Ok(())
    }

    /// CC'd and To'd people (not the desk, not the requester, not staff) follow the ticket.
    /// At most `limits.collaborators_max` per ticket: addresses beyond it are
    /// not even recorded as people, and one event says how many were left out.
    fn add_collaborators(&self, w: &mut Write, t: &Ticket, m: &ParsedMail, actor: Option<PersonId>, now: Timestamp) -> Result<()> {
        let max = self.config().limits.collaborators_max;
        let mut count = w.collaborator_emails(t.id)?.len();
        let mut refused = 0usize;
        for mb in m.to.iter().chain(&m.cc) {
            if self.config().is_desk_address(&mb.email) {
                continue;
            }
            let known = w.person_by_email(&mb.email)?;
            if let Some(p) = &known
                && (p.id == t.requester || p.is_staff() || w.is_collaborator(t.id, p.id)? || w.unsubscribed(t.id, p.id)?)
            {
                continue;
            }
            if count >= max {
                refused += 1;
                continue;
            }
            let p = match known {
                Some(p) => p,
                None => Self::requester_in(w, &mb.email, &mb.name, now)?,
            };
            if w.add_collaborator(t.id, p.id)? {
                count += 1;
                w.append_entry(&mut Self::event(t.id, actor, Event::CollaboratorAdded { who: display(mb) }, now))?;
            }
        }
        if refused > 0 {
            w.append_entry(&mut Self::event(t.id, actor, Event::CollaboratorsRefused { count: refused as u64, limit: max as u64 }, now))?;
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn mail_reply(
        &self,
        w: &mut Write,
        old: Ticket,
        sender: Option<Person>,
        m: &ParsedMail,
        raw_blob: &str,
        verified: bool,
        now: Timestamp,
    ) -> Result<MailOutcome> {
        // An agent acts with their teams' departments (as `route` let them in).
        let author = sender.map(|p| if p.is_staff() { self.in_force(p) } else { p }).ok_or(DeskError::NotFound)?;
        let (attachments, cids) = Self::store_attachments(w, m)?;
        let (commands, text) = self.mail_commands(w, &author, &old, &m.text_clean, m.auth.as_ref())?;
        if !author.is_staff() && commands.contains(&Command::Unsubscribe) {
            // A collaborator leaving by mail; anything they wrote below stays.
            let seq = self.unsubscribe_by_mail(w, &author, old.id, now)?;
            if text.trim().is_empty() && attachments.is_empty() {
                self.put_mail_meta(w, old.id.0, seq, m, raw_blob, &cids)?;
                return Ok(MailOutcome::EventOn(old.id));
            }
        }
        let refused = author.is_staff() && !commands.is_empty() && !verified;
        // Commands and nothing else: kept as a note (an empty public reply
        // would reach the customer).
        let commands_only = author.is_staff() && !commands.is_empty() && text.trim().is_empty() && attachments.is_empty();
        // An agent's role holds by mail too: without `tickets.reply` the
        // mail is kept as an internal note, and commands need their rights.
        let role = if author.is_staff() { self.permissions(&author) } else { crate::domain::roles::Permissions::NONE };
        let no_reply = author.is_staff() && !role.has(Permission::Reply);
        let may_edit = !refused && role.has(Permission::Edit);
        // Commands only from a verified reply; an unverified one is kept as an
        // internal note so nothing meant for agents reaches the customer.
        let as_note = refused || no_reply || commands_only || commands.contains(&Command::Note);
        let mut entry = ThreadEntry {
            ticket: old.id,
            seq: 0,
            kind: if as_note { EntryKind::Note } else { EntryKind::Reply },
            author: Some(author.id),
            body: self.mail_body(if refused || commands_only { &m.text_clean } else { &text }, m),
            event: None,
            attachments,
            created_at: now,
        };
        w.append_entry(&mut entry)?;
        self.put_mail_meta(w, old.id.0, entry.seq, m, raw_blob, &cids)?;
        // Field commands first, while the ticket is still open (a `#close`
        // in the same mail comes after them).
        let old = if may_edit {
            self.apply_field_commands(w, &author, old.id, &commands, now)?;
            w.ticket(old.id)?.unwrap_or(old)
        } else {
            old
        };
        let mut chosen = if may_edit { commands.iter().find_map(|c| c.status()) } else { None };
        // `#status <name>` of one of the desk's own statuses.
        let mut custom: Option<String> = None;
        if let Some(name) = commands.iter().find_map(|c| c.custom_status()).filter(|_| may_edit) {
            match self.config().custom_status(name) {
                Some(c) => (chosen, custom) = (Some(c.base()), Some(c.name.clone())),
                None => {
                    let why = format!("#status {name}: not a status of the desk (#help lists them)");
                    w.append_entry(&mut Self::event(old.id, Some(author.id), Event::CommandsRefused { why }, now))?;
                }
            }
        }
        let new_status = if author.is_staff() {
            if as_note { chosen.unwrap_or(old.status) } else { self.config().reply_status(old.status, chosen) }
        } else if self.config().workflow.requester_reply_reopens {
            old.status.after_requester_reply()
        } else {
            old.status
        };
        let mut t = old.clone();
        t.updated_at = now;
        if refused {
            let ev = Event::CommandsRefused { why: "not a reply to a notification sent to this agent; kept as an internal note".into() };
            w.append_entry(&mut Self::event(old.id, Some(author.id), ev, now))?;
        } else if no_reply || (!may_edit && commands.iter().any(Command::edits)) {
            let why = format!("the role {} does not allow public replies or changes; kept as an internal note", self.role_label(&author));
            w.append_entry(&mut Self::event(old.id, Some(author.id), Event::CommandsRefused { why }, now))?;
        }
        let custom = custom.filter(|_| chosen == Some(new_status));
        let to_name = self.config().shown_status(new_status, custom.as_deref());
        // The same base state moves only to another of the desk's statuses.
        let moves = if new_status == old.status {
            custom.is_some() && to_name != self.config().status_name(&old)
        } else {
            old.status.can_become(new_status)
        };
        if moves {
            let mut next = t.clone();
            next.status = new_status;
            next.custom_status = custom;
            match self.check_required_fields(old.status, &next) {
                Ok(()) => {
                    t = next;
                    let ev = Event::StatusChanged { from: self.config().status_name(&old), to: to_name };
                    w.append_entry(&mut Self::event(old.id, Some(author.id), ev, now))?;
                }
                Err(e) => {
                    let why = format!("the status stays {}: {e}", self.config().status_name(&old));
                    w.append_entry(&mut Self::event(old.id, Some(author.id), Event::CommandsRefused { why }, now))?;
                }
            }
        }
        if !refused && author.is_staff() && commands.contains(&Command::Help) {
            self.mail_command_help(w, &author, old.id, now)?;
        }
        let assign_to = match commands.iter().find_map(|c| c.assignee()).filter(|_| may_edit) {
            Some(Assignee::Me) => Some(author.clone()),
            Some(who) if role.has(Permission::Assign) => match self.named_agent(w, who, &author, &t.department)? {
                Ok(p) => Some(p),
                Err(why) => {
                    let why = format!("#assign was not applied: {why}");
                    w.append_entry(&mut Self::event(old.id, Some(author.id), Event::CommandsRefused { why }, now))?;
                    None
                }
            },
            _ => None,
        };
        if let Some(a) = &assign_to
            && t.assignee != Some(a.id)
        {
            let from = match t.assignee {
                Some(id) => w.person(id)?.map(|p| p.display()),
                None => None,
            };
            w.append_entry(&mut Self::event(old.id, Some(author.id), Event::Assigned { from, to: Some(a.display()) }, now))?;
            t.assignee = Some(a.id);
        }
        // Addresses on an agent's mail become collaborators (copied on public
        // replies) only when the agent may reply publicly.
        if !author.is_staff() || role.has(Permission::Reply) {
            self.add_collaborators(w, &t, m, Some(author.id), now)?;
        }
        w.put_ticket(Some(&old), &t)?;
        let notice = match (author.is_staff(), as_note) {
            (true, true) => Notice::Note { entry: &entry },
            (true, false) => Notice::Reply { entry: &entry },
            _ => Notice::RequesterReply { entry: &entry },
        };
        self.notify(w, &t, Some(&author), notice, now)?;
        if let Some(a) = assign_to.filter(|a| a.id != author.id) {
            self.notify(w, &t, Some(&author), Notice::Assigned { to: a.id.0 }, now)?;
        }
        Ok(MailOutcome::Reply(old.id))
    }

    #[allow(clippy::too_many_arguments)]
    fn mail_ticket(
        &self,
        w: &mut Write,
        env: &SpoolEntry,
        m: &ParsedMail,
        from: &Mailbox,
        sender: Option<Person>,
        raw_blob: &str,
        closed: Option<Ticket>,
        now: Timestamp,
    ) -> Result<MailOutcome> {
        let cfg = self.config();
        // An agent forwarding a customer's mail: the ticket is the customer's.
        let forwarded = match (&sender, &m.forwarded_from) {
            (Some(agent), Some(orig)) if agent.is_staff() && !cfg.is_desk_address(&orig.email) && orig.email != agent.email => {
                Some(orig.clone())
            }
            _ => None,
        };
        let requester = match &forwarded {
            Some(orig) => Self::requester_in(w, &orig.email, &orig.name, now)?,
            None => match sender.clone() {
                Some(p) => p,
                None => Self::requester_in(w, &from.email, &from.name, now)?,
            },
        };
        let creator = if forwarded.is_some() { sender.as_ref().map(|p| p.id) } else { Some(requester.id) };
        let arrived_at = env.rcpt_to.iter().find_map(|r| cfg.mailbox_for(r));
        let department = arrived_at.map(|mb| cfg.mailbox_department(mb)).unwrap_or_else(|| cfg.desk.default_department.clone());
        let mut subject: String = crate::domain::mail::clean_subject(&m.subject).chars().take(cfg.limits.subject_max_chars).collect();
        if forwarded.is_none() {
            subject = m.subject.trim().chars().take(cfg.limits.subject_max_chars).collect();
        }
        if subject.trim().is_empty() {
            subject = "(no subject)".into();
        }
        let body = self.mail_body(if forwarded.is_some() { &m.text } else { &m.text_clean }, m);
        let t = Ticket {
            id: TicketId(w.next_id("ticket")?),
            subject,
            requester: requester.id,
            channel: Channel::Email,
            status: Status::Open,
            priority: cfg.default_priority(),
            category: cfg.desk.default_category.clone(),
            department,
            assignee: None,
            due: None,
            tags: Vec::new(),
            created_at: now,
            updated_at: now,
            team: None,
            custom_status: None,
            mailbox: arrived_at.map(|mb| mb.address.to_lowercase()),
            fields: Vec::new(),
        };
        w.put_ticket(None, &t)?;
        w.append_entry(&mut Self::event(t.id, creator, Event::Created { channel: Channel::Email.label().into() }, now))?;
        let (attachments, cids) = Self::store_attachments(w, m)?;
        let mut entry = ThreadEntry {
            ticket: t.id,
            seq: 0,
            kind: EntryKind::Reply,
            author: Some(requester.id),
            body,
            event: None,
            attachments,
            created_at: now,
        };
        w.append_entry(&mut entry)?;
        let forwarded_by = if forwarded.is_some() { sender.as_ref().map(|p| p.display()) } else { None };
        self.put_mail_meta_by(w, t.id.0, entry.seq, m, raw_blob, &cids, forwarded_by)?;
        if forwarded.is_none() {
            self.add_collaborators(w, &t, m, creator, now)?;
        }
        if let Some(old) = closed {
            let (new_ref, old_ref) = (self.reference(t.id), self.reference(old.id));
            w.append_entry(&mut Self::event(
                t.id,
                None,
                Event::Linked { reference: old_ref, relation: "follows up on closed ticket".into() },
                now,
            ))?;
            w.append_entry(&mut Self::event(old.id, None, Event::Linked { reference: new_ref, relation: "has a follow-up:".into() }, now))?;
        }
        let creator_person = match creator {
            Some(c) => w.person(c)?,
            None => None,
        };
        self.notify(w, &t, creator_person.as_ref(), Notice::NewTicket { ack: forwarded.is_none() }, now)?;
        Ok(MailOutcome::NewTicket(t.id))
    }
}

#[cfg(test)]
mod token_tests {
    use std::sync::Arc;

    use crate::clock::ManualClock;
    use crate::desk::Desk;
    use crate::desk::notify::{agent_claim, signed_agent};
    use crate::domain::Timestamp;

    /// Email-command tokens expire after `outgoing.command_token_days` and
    /// name one agent and one ticket.
    #[test]
    fn agent_tokens_expire_and_bind_agent_and_ticket() {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(Timestamp(1_800_000_000_000));
        let desk =
            Desk::new(crate::store::Store::open(dir.path()).unwrap(), Arc::new(crate::config::Config::default()), Arc::new(clock.clone()));
        let today = 1_800_000_000_000i64 / 86_400_000;
        let until = today + 30;
        let sig = desk.sign(&agent_claim(5, 9, until)).unwrap();
        let id = format!("tkt-000005.3.a9-{until}-{sig}@desk.test");
        assert_eq!(signed_agent(&desk, 5, &id, clock_now(&clock)), Some(9));
        assert_eq!(signed_agent(&desk, 6, &id, clock_now(&clock)), None, "another ticket");
        assert_eq!(signed_agent(&desk, 5, &id.replace("a9-", "a8-"), clock_now(&clock)), None, "another agent");
        let forged_until = id.replace(&format!("-{until}-"), &format!("-{}-", until + 1000));
        assert_eq!(signed_agent(&desk, 5, &forged_until, clock_now(&clock)), None, "the lifetime is signed");
        clock.advance_ms(31 * 86_400_000);
        assert_eq!(signed_agent(&desk, 5, &id, clock_now(&clock)), None, "expired after 30 days");
    }

    fn clock_now(c: &ManualClock) -> Timestamp {
        use crate::clock::Clock;
        c.now()
    }
}
