//! Who gets which mail when a ticket changes. Each mail is rendered from its
//! template and queued in the outbox inside the *same* write transaction as
//! the change that causes it, so a change is never without its notification
//! nor a notification without its change. Never notifies the person who made
//! the change; never mails the desk's own addresses (no loops with itself).

use serde_json::{Value, json};

use super::{Desk, Result};
use crate::domain::{EntryKind, MailKind, NoticeKind, Person, PersonId, ThreadEntry, Ticket, TicketId, Timestamp};
use crate::store::{OutMail, Write};

/// Stands for the recipient's own ticket link in a rendered mail; each copy
/// gets its recipient's link when it is built (`Desk::portal_link_for`).
pub const PORTAL_LINK_MARKER: &str = "[[frontdesk:portal-link]]";

/// The message an agent's notification token signs: ticket, agent and the
/// last day (days since 1970) the token is good for.
pub(crate) fn agent_claim(ticket: u64, agent: u64, until_day: i64) -> String {
    format!("agent:{ticket}:{agent}:{until_day}")
}

/// The message a collaborator's unsubscribe link signs.
pub(crate) fn unsubscribe_claim(ticket: u64, person: u64) -> String {
    format!("unsub:{ticket}:{person}")
}

/// The agent a Message-ID of ours was signed for, if the signature holds and
/// the token has not expired (`outgoing.command_token_days`).
pub(crate) fn signed_agent(desk: &Desk, ticket: u64, message_id: &str, now: Timestamp) -> Option<u64> {
    let token = message_id.split('@').next()?.rsplit('.').next()?;
    let mut parts = token.strip_prefix('a')?.splitn(3, '-');
    let agent: u64 = parts.next()?.parse().ok()?;
    let until_day: i64 = parts.next()?.parse().ok()?;
    let sig = parts.next()?;
    (until_day >= now.0.div_euclid(86_400_000) && desk.verify(&agent_claim(ticket, agent, until_day), sig)).then_some(agent)
}

/// What happened, for notification purposes.
pub(crate) enum Notice<'a> {
    /// A new ticket; `ack` asks for the autoresponder (tickets from mail).
    NewTicket { ack: bool },
    /// An agent's public reply.
    Reply { entry: &'a ThreadEntry },
    /// An internal note.
    Note { entry: &'a ThreadEntry },
    /// The ticket was assigned to someone.
    Assigned { to: u64 },
    /// The requester (or a collaborator) replied.
    RequesterReply { entry: &'a ThreadEntry },
    /// The ticket was resolved.
    Resolved,
    /// An agent closed the ticket (from a status other than Resolved).
    Closed,
    /// The ticket moved to another department (`from` is the old one).
    Transferred { from: &'a str },
    /// The ticket was assigned to a team.
    TeamAssigned { team: &'a str },
    /// An agent opened the ticket for its requester.
    AgentTicket,
    /// A snooze ended (the ticket is Open again).
    SnoozeEnded { until: Timestamp },
    /// The requester is reminded that the Pending ticket waits for them.
    PendingReminder,
    /// An agent was @mentioned in an internal note.
    Mention { to: &'a Person, entry: &'a ThreadEntry },
    /// A trigger's canned reply to the requester.
    TriggerReply { entry: &'a ThreadEntry },
    /// A trigger tells these agents.
    Trigger { name: &'a str, to: Vec<String> },
    /// An SLA target is due soon or overdue (`kind`); `what` names it.
    Sla { kind: MailKind, what: String, audience: crate::config::Audience },
    /// The requester rated the ticket bad.
    BadRating { rating: &'a crate::domain::rating::Rating },
}

impl Desk {
    /// Renders mail of `kind` from `mailbox` with its own templates, else the desk's.
    pub(super) fn render_for(
        &self,
        mailbox: &crate::config::MailboxConfig,
        kind: MailKind,
        ctx: &Value,
    ) -> std::result::Result<super::templates::Rendered, super::templates::TemplateError> {
        let set = self.template_set();
        set.mailboxes.get(&mailbox.address.to_lowercase()).unwrap_or(&set.desk).render(kind, ctx)
    }

    pub(super) fn ticket_context(&self, w: &mut Write, t: &Ticket, actor: Option<&Person>, message: &str) -> Result<Value> {
        let cfg = self.config();
        let requester = w.person(t.requester)?;
        let reference = self.reference(t.id);
        let subject_line = cfg.outgoing.subject_format.replace("{ref}", &reference).replace("{subject}", &t.subject);
        let base = cfg.server.public_url.trim_end_matches('/');
        Ok(json!({
            "desk": {"name": cfg.desk.name, "url": base},
            "ticket": {
                "ref": reference, "subject": t.subject, "status": cfg.status_name(t), "priority": t.priority.label(),
                "department": t.department, "category": t.category,
            },
            "subject_line": subject_line,
            "requester": {"name": requester.as_ref().map(|p| p.display()).unwrap_or_default(), "email": requester.as_ref().map(|p| p.email.clone()).unwrap_or_default()},
            "agent": {"name": actor.map(|p| p.display()).unwrap_or_default(), "email": actor.map(|p| p.email.clone()).unwrap_or_default()},
            "message": message,
            "link": format!("{base}/tickets/{reference}"),
            "portal_link": PORTAL_LINK_MARKER,
            "rating_good": if cfg.outgoing.ask_rating { super::ratings::RATE_GOOD_MARKER } else { "" },
            "rating_bad": if cfg.outgoing.ask_rating { super::ratings::RATE_BAD_MARKER } else { "" },
            "recent": [],
            "articles": self.articles_for_mail(&t.subject),
        }))
    }

    /// The last few public messages before `before_seq`, newest first.
    fn recent_messages(&self, w: &Write, t: &Ticket, before_seq: u32) -> Result<Value> {
        let entries = w.entries(t.id)?;
        let mut out = Vec::new();
        for e in entries.iter().rev().filter(|e| e.kind == EntryKind::Reply && e.seq < before_seq).take(3) {
            let author = match e.author {
                Some(a) => w.person(a)?.map(|p| p.display()).unwrap_or_default(),
                None => String::new(),
            };
            let body: String = e.body.lines().map(|l| format!("> {l}\n")).collect();
            out.push(json!({"author": author, "date": e.created_at.short(), "body": body.trim_end()}));
        }
        Ok(Value::Array(out))
    }

    /// Active agents following the ticket (who may still see it).
    fn followers_emails(&self, w: &Write, t: &Ticket) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for id in w.followers(t.id)? {
            if let Some(p) = w.person(id)?.map(|p| self.in_force(p)).filter(|p| p.can_see(t)) {
                out.push(p.email);
            }
        }
        Ok(out)
    }

    /// Active staff who work in the ticket's department.
    fn department_agents(&self, w: &Write, t: &Ticket) -> Result<Vec<Person>> {
        Ok(w.staff()?.into_iter().map(|p| self.in_force(p)).filter(|p| p.is_staff() && p.works_in(&t.department)).collect())
    }

    /// The addresses of a department rule's audience for `t`.
    fn audience(&self, w: &Write, t: &Ticket, audience: crate::config::Audience) -> Result<Vec<String>> {
        use crate::config::Audience;
        let assignee = match t.assignee {
            Some(a) => w.person(a)?.map(|p| self.in_force(p)).filter(|p| p.is_staff()),
            None => None,
        };
        let members = |w: &Write| -> Result<Vec<String>> { Ok(self.department_agents(w, t)?.into_iter().map(|p| p.email).collect()) };
        Ok(match (audience, assignee) {
            (Audience::None, _) | (Audience::Assignee, None) => Vec::new(),
            (Audience::Assignee | Audience::AssigneeOrMembers, Some(p)) => vec![p.email],
            (Audience::Members, _) | (Audience::AssigneeOrMembers, None) => members(w)?,
        })
    }

    /// Active staff in a team who may see the ticket.
    fn team_members(&self, w: &Write, t: &Ticket, team: &str) -> Result<Vec<String>> {
        Ok(w.staff()?
            .into_iter()
            .map(|p| self.in_force(p))
            .filter(|p| p.is_staff() && p.teams.iter().any(|x| x.eq_ignore_ascii_case(team)) && p.can_see(t))
            .map(|p| p.email)
            .collect())
    }

    /// Renders and queues one mail (with the entry's attachments, if any);
    /// skipped (and logged) when nobody is left to receive it, no mailbox can
    /// send it, or the template fails.
    #[allow(clippy::too_many_arguments)]
    fn queue_mail(
        &self,
        w: &mut Write,
        t: &Ticket,
        kind: MailKind,
        to: &[String],
        cc: &[String],
        ctx: &Value,
        auto: Option<&str>,
        actor: Option<&Person>,
        attachments: &[crate::domain::thread::AttachmentRef],
        now: Timestamp,
    ) -> Result<()> {
        let cfg = self.config();
        let requester = w.person(t.requester)?.map(|p| p.email).unwrap_or_default();
        let live = |list: Vec<&String>| -> Result<Vec<String>> {
            let mut out = Vec::with_capacity(list.len());
            for a in list {
                if self.skipped(a, actor, a.eq_ignore_ascii_case(&requester), || self.bouncing(w, a))?.is_none() {
                    out.push(a.clone());
                }
            }
            Ok(out)
        };
        let mut to: Vec<String> = live(to.iter().collect())?;
        to.dedup();
        let mut cc: Vec<String> = live(cc.iter().filter(|a| !to.contains(a)).collect())?;
        cc.dedup();
        if to.is_empty() && cc.is_empty() {
            return Ok(());
        }
        let Some(mailbox) = cfg.mailbox_of_ticket(t) else {
            tracing::debug!("no [[mailbox]] to send {} mail from", kind.key());
            return Ok(());
        };
        // What an agent writes to the requester carries the mailbox's
        // signature and may show the agent in From.
        let from_agent = matches!(kind, MailKind::Reply | MailKind::AgentTicket).then_some(actor).flatten().filter(|p| p.is_staff());
        let signed;
        let ctx = if from_agent.is_some() && !mailbox.signature.is_empty() {
            let mut c = ctx.clone();
            match super::templates::Templates::render_str("signature", &mailbox.signature, ctx) {
                Ok(sig) => c["signature"] = Value::String(sig.trim_end().to_string()),
                Err(e) => tracing::error!("mailbox {}: {e}; the default signature is used", mailbox.address),
            }
            signed = c;
            &signed
        } else {
            ctx
        };
        let rendered = match self.render_for(mailbox, kind, ctx) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!("mail not queued: {e}");
                return Ok(());
            }
        };
        let chain = w.thread_ids(t.id)?;
        let mut references: Vec<String> = Vec::new();
        if let Some(first) = chain.first() {
            references.push(first.clone());
        }
        for id in chain.iter().skip(1).rev().take(9).rev() {
            references.push(id.clone());
        }
        let random = crate::desk::auth::random_token()?;
        // A notification to one agent carries a token signed for that agent and
        // ticket: answering it from their mail client may use email commands.
        let agent = match (kind.for_agents(), to.as_slice()) {
            (true, [one]) => w.person_by_email(one)?.filter(|p| p.is_staff()),
            _ => None,
        };
        if let Some(a) = &agent
            && w.muted(a.id)?.iter().any(|k| k == kind.key())
        {
            return Ok(());
        }
        let token = match agent {
            Some(a) => {
                let until_day = now.0.div_euclid(86_400_000) + cfg.outgoing.command_token_days as i64;
                format!("a{}-{until_day}-{}", a.id, self.sign_in(w, &agent_claim(t.id.0, a.id.0, until_day))?)
            }
            None => random[..16].to_string(),
        };
        let message_id = format!("{}.{}.{}@{}", self.reference(t.id), chain.len() + 1, token, cfg.smtp.hostname).to_lowercase();
        let from_name = cfg.from_name_of(mailbox, from_agent.map(|p| p.display()).as_deref());
        let mut m = OutMail::new(
            kind.key(),
            &mailbox.address.to_lowercase(),
            &from_name,
            to,
            cc,
            rendered.subject,
            rendered.text,
            message_id.clone(),
            now,
        );
        m.ticket = Some(t.id);
        m.in_reply_to = chain.last().cloned();
        m.references = references;
        m.auto_submitted = auto.map(str::to_string);
        m.attachments = attachments.to_vec();
        // Collaborators get their own signed unsubscribe link (and header).
        let base = cfg.server.public_url.trim_end_matches('/').to_string();
        for addr in m.pending.clone() {
            if let Some(p) = w.person_by_email(&addr)?
                && w.is_collaborator(t.id, p.id)?
            {
                let sig = self.sign_in(w, &unsubscribe_claim(t.id.0, p.id.0))?;
                m.unsubscribe.push((addr, format!("{base}/u/{}/{}?s={sig}", self.reference(t.id), p.id)));
            }
        }
        w.put_outmail(None, &mut m)?;
        // Mail the requester sees joins the conversation's References chain;
        // agents' notifications are only remembered for threading their replies.
        if kind.in_conversation() {
            w.add_thread_id(t.id, &message_id)?;
        } else {
            w.put_message_id(&message_id, t.id)?;
        }
        Ok(())
    }

    /// Why mail to `email` would be skipped (`None`: it goes): no address,
    /// the desk's own, the agent acting, a no-reply address, or — for anyone
    /// but the requester, who still gets their own ticket's mail — an
    /// address that bounced hard. `queue_mail` and the reply box's To/Cc
    /// preview both ask this.
    pub(super) fn skipped(
        &self,
        email: &str,
        actor: Option<&Person>,
        requester: bool,
        bounced: impl FnOnce() -> Result<bool>,
    ) -> Result<Option<&'static str>> {
        Ok(if email.is_empty() {
            Some("no address")
        } else if crate::domain::people::phone_of_address(email).is_some() {
            Some("known by phone only")
        } else if self.config().is_desk_address(email) {
            Some("a desk address")
        } else if actor.is_some_and(|p| p.email.eq_ignore_ascii_case(email)) {
            Some("you")
        } else if crate::domain::mail::is_noreply(email) {
            Some("a no-reply address")
        } else if !requester && bounced()? {
            Some("bounced")
        } else {
            None
        })
    }

    /// Tells an agent that mail claiming to be theirs arrived without proof
    /// and what became of it. A plain notice from the desk: no token, no
    /// ticket thread, never to anyone but the agent's own address.
    pub(crate) fn tell_agent_unverified(&self, w: &mut Write, agent: &Person, subject: &str, outcome: &str, now: Timestamp) -> Result<()> {
        let text = format!(
            "Hello {},\n\nA mail with your address as its sender reached {} without proof that you sent it \
             (it did not answer a notification sent to you, whose signed token is what lets mail act as you).\n\n\
             Subject: {subject}\n\n{outcome} Nothing was sent to any customer.\n\n\
             If you sent it: answer from the web UI ({}), or reply to a notification the desk mailed you.\n\
             If you did not, someone is forging your address.\n",
            agent.display(),
            self.config().desk.name,
            self.config().server.public_url,
        );
        let subject = format!("{}: unverified mail in your name", self.config().desk.name);
        self.queue_notice(w, NoticeKind::Unverified, &agent.email, subject, text, now).map(|_| ())
    }

    /// Queues a plain notice from the desk to one staff address (no ticket
    /// thread, no token), marked auto-generated. At most one of each kind per
    /// address in `NoticeKind::window_ms`: strangers cannot turn forged or
    /// postmaster mail into a mail flood at the agents (the rest is in Junk or
    /// on the ticket). Whether it was queued.
    pub(crate) fn queue_notice(
        &self,
        w: &mut Write,
        kind: NoticeKind,
        to: &str,
        subject: String,
        text: String,
        now: Timestamp,
    ) -> Result<bool> {
        let cfg = self.config();
        let Some(mailbox) = cfg.mailbox.first() else { return Ok(false) };
        // An address standing for a phone number goes nowhere (said as sent).
        if crate::domain::people::phone_of_address(to).is_some() {
            return Ok(true);
        }
        let key = format!("notice:{}:{}", kind.key(), to.to_lowercase());
        if w.last_ack(&key)?.is_some_and(|last| now.0 - last < kind.window_ms()) {
            return Ok(false);
        }
        w.set_last_ack(&key, now)?;
        let kind = kind.key();
        let random = crate::desk::auth::random_token()?;
        let mut m = OutMail::new(
            kind,
            &mailbox.address.to_lowercase(),
            &cfg.from_name_of(mailbox, None),
            vec![to.to_string()],
            Vec::new(),
            subject,
            text,
            format!("{kind}.{}@{}", random.get(..16).unwrap_or(&random), cfg.smtp.hostname),
            now,
        );
        m.auto_submitted = Some("auto-generated".into());
        w.put_outmail(None, &mut m)?;
        Ok(true)
    }

    /// Queues the mail a change calls for. `actor` made the change.
    pub(crate) fn notify(&self, w: &mut Write, t: &Ticket, actor: Option<&Person>, notice: Notice, now: Timestamp) -> Result<()> {
        if self.importing() {
            return Ok(());
        }
        let o = &self.config().outgoing;
        let requester = w.person(t.requester)?;
        // Never more than the limit, however many were added before it existed.
        let collaborators: Vec<String> = w.collaborator_emails(t.id)?.into_iter().take(self.config().limits.collaborators_max).collect();
        // The new ticket's first message (the notices of a new ticket quote it).
        let first = match notice {
            Notice::NewTicket { .. } | Notice::AgentTicket => w.first_message(t)?,
            _ => String::new(),
        };
        match notice {
            Notice::NewTicket { ack } => {
                if ack
                    && o.notify_ack
                    && let Some(r) = requester.as_ref().filter(|r| !r.is_staff())
                {
                    let window = o.ack_window_minutes as i64 * 60_000;
                    let recent = w.last_ack(&r.email)?.is_some_and(|last| now.0 - last < window);
                    if !recent {
                        let ctx = self.ticket_context(w, t, None, &first)?;
                        self.queue_mail(
                            w,
                            t,
                            MailKind::Ack,
                            std::slice::from_ref(&r.email),
                            &[],
                            &ctx,
                            Some("auto-replied"),
                            None,
                            &[],
                            now,
                        )?;
                        w.set_last_ack(&r.email, now)?;
                    }
                }
                if o.notify_new_ticket {
                    let agents = self.audience(w, t, self.config().department_rules(&t.department).new_ticket)?;
                    let ctx = self.ticket_context(w, t, actor, &first)?;
                    for a in agents {
                        self.queue_mail(w, t, MailKind::NewTicket, &[a], &[], &ctx, Some("auto-generated"), actor, &[], now)?;
                    }
                }
            }
            Notice::Reply { entry } => {
                if !o.notify_reply {
                    return Ok(());
                }
                let mut ctx = self.ticket_context(w, t, actor, &entry.body)?;
                ctx["recent"] = self.recent_messages(w, t, entry.seq)?;
                let Some(r) = requester else { return Ok(()) };
                let files = &entry.attachments;
                if o.collaborators == crate::config::CollaboratorMail::Separate {
                    for person in std::iter::once(r.email.clone()).chain(collaborators) {
                        self.queue_mail(w, t, MailKind::Reply, &[person], &[], &ctx, None, actor, files, now)?;
                    }
                } else {
                    self.queue_mail(w, t, MailKind::Reply, &[r.email], &collaborators, &ctx, None, actor, files, now)?;
                }
            }
            Notice::Note { entry } => {
                if o.notify_note {
                    let mut to = self.followers_emails(w, t)?;
                    if let Some(p) = t.assignee.map(|a| w.person(a)).transpose()?.flatten().filter(|p| p.is_staff()) {
                        to.insert(0, p.email);
                    }
                    to.dedup();
                    let ctx = self.ticket_context(w, t, actor, &entry.body)?;
                    for a in to {
                        self.queue_mail(w, t, MailKind::Note, &[a], &[], &ctx, Some("auto-generated"), actor, &[], now)?;
                    }
                }
            }
            Notice::Assigned { to } => {
                if o.notify_assigned
                    && let Some(p) = w.person(PersonId(to))?.filter(|p| p.is_staff())
                {
                    let ctx = self.ticket_context(w, t, actor, "")?;
                    self.queue_mail(w, t, MailKind::Assigned, &[p.email], &[], &ctx, Some("auto-generated"), actor, &[], now)?;
                }
            }
            Notice::RequesterReply { entry } => {
                if !o.notify_requester_reply {
                    return Ok(());
                }
                let mut to = self.audience(w, t, self.config().department_rules(&t.department).customer_reply)?;
                for f in self.followers_emails(w, t)? {
                    if !to.contains(&f) {
                        to.push(f);
                    }
                }
                let ctx = self.ticket_context(w, t, actor, &entry.body)?;
                for a in to {
                    self.queue_mail(w, t, MailKind::RequesterReply, &[a], &[], &ctx, Some("auto-generated"), actor, &[], now)?;
                }
            }
            Notice::Resolved | Notice::Closed => {
                let (on, kind) = match notice {
                    Notice::Resolved => (o.notify_resolved, MailKind::Resolved),
                    _ => (o.notify_closed, MailKind::Closed),
                };
                if on && let Some(r) = requester {
                    let ctx = self.ticket_context(w, t, actor, "")?;
                    self.queue_mail(w, t, kind, &[r.email], &[], &ctx, Some("auto-generated"), actor, &[], now)?;
                }
            }
            Notice::Transferred { from } => {
                if o.notify_transferred {
                    let mut ctx = self.ticket_context(w, t, actor, "")?;
                    ctx["from_department"] = Value::String(from.to_string());
                    let rule = self.config().department_rules(&t.department).transferred;
                    for a in self.audience(w, t, rule)? {
                        self.queue_mail(w, t, MailKind::Transferred, &[a], &[], &ctx, Some("auto-generated"), actor, &[], now)?;
                    }
                }
            }
            Notice::TeamAssigned { team } => {
                if o.notify_team_assigned {
                    let mut ctx = self.ticket_context(w, t, actor, "")?;
                    ctx["team"] = Value::String(team.to_string());
                    // The agent assigned in the same change hears of it as theirs.
                    let assignee = match t.assignee {
                        Some(a) => w.person(a)?.map(|p| p.email),
                        None => None,
                    };
                    for a in self.team_members(w, t, team)?.into_iter().filter(|a| Some(a) != assignee.as_ref()) {
                        self.queue_mail(w, t, MailKind::TeamAssigned, &[a], &[], &ctx, Some("auto-generated"), actor, &[], now)?;
                    }
                }
            }
            Notice::SnoozeEnded { until } => {
                let ctx = self.ticket_context(w, t, actor, &format!("{} UTC", until.short()))?;
                for a in self.audience(w, t, crate::config::Audience::AssigneeOrMembers)? {
                    self.queue_mail(w, t, MailKind::SnoozeEnded, &[a], &[], &ctx, Some("auto-generated"), actor, &[], now)?;
                }
            }
            Notice::Mention { to, entry } => {
                if o.notify_note {
                    let ctx = self.ticket_context(w, t, actor, &entry.body)?;
                    self.queue_mail(
                        w,
                        t,
                        MailKind::Mention,
                        std::slice::from_ref(&to.email),
                        &[],
                        &ctx,
                        Some("auto-generated"),
                        actor,
                        &[],
                        now,
                    )?;
                }
            }
            Notice::TriggerReply { entry } => {
                let ctx = self.ticket_context(w, t, None, &entry.body)?;
                if let Some(r) = requester {
                    self.queue_mail(w, t, MailKind::Reply, &[r.email], &collaborators, &ctx, Some("auto-replied"), None, &[], now)?;
                }
            }
            Notice::Trigger { name, to } => {
                let ctx = self.ticket_context(w, t, None, name)?;
                for a in to {
                    self.queue_mail(w, t, MailKind::Trigger, &[a], &[], &ctx, Some("auto-generated"), None, &[], now)?;
                }
            }
            Notice::BadRating { rating } => {
                let ctx = self.ticket_context(w, t, actor, &rating.comment)?;
                for a in self.audience(w, t, crate::config::Audience::AssigneeOrMembers)? {
                    self.queue_mail(w, t, MailKind::BadRating, &[a], &[], &ctx, Some("auto-generated"), actor, &[], now)?;
                }
            }
            Notice::Sla { kind, what, audience } => {
                use crate::config::Audience;
                let ctx = self.ticket_context(w, t, None, &what)?;
                // "members" of a ticket with a team are the team's.
                let to = match (audience, t.team.as_deref(), t.assignee) {
                    (Audience::Members, Some(team), _) | (Audience::AssigneeOrMembers, Some(team), None) => {
                        self.team_members(w, t, team)?
                    }
                    _ => self.audience(w, t, audience)?,
                };
                for a in to {
                    self.queue_mail(w, t, kind, &[a], &[], &ctx, Some("auto-generated"), None, &[], now)?;
                }
            }
            Notice::PendingReminder => {
                if let Some(r) = requester.filter(|r| !r.is_staff()) {
                    let ctx = self.ticket_context(w, t, None, "")?;
                    self.queue_mail(w, t, MailKind::PendingReminder, &[r.email], &[], &ctx, Some("auto-generated"), None, &[], now)?;
                }
            }
            Notice::AgentTicket => {
                if let Some(r) = requester.filter(|r| !r.is_staff()) {
                    let ctx = self.ticket_context(w, t, actor, &first)?;
                    self.queue_mail(w, t, MailKind::AgentTicket, &[r.email], &collaborators, &ctx, None, actor, &[], now)?;
                }
            }
        }
        Ok(())
    }
}

impl Desk {
    /// The agent notifications `actor` receives: (kind, on?).
    pub fn my_notifications(&self, actor: &Person) -> Result<Vec<(MailKind, bool)>> {
        let muted = self.store.read()?.muted(actor.id)?;
        Ok(MailKind::FOR_AGENTS.into_iter().map(|k| (k, !muted.iter().any(|m| m == k.key()))).collect())
    }

    /// Sets which agent notifications `actor` receives.
    pub fn set_my_notifications(&self, actor: &Person, on: &[String]) -> Result<()> {
        if !actor.is_staff() {
            return Err(super::DeskError::NotFound);
        }
        let muted: Vec<String> =
            MailKind::FOR_AGENTS.into_iter().filter(|k| !on.iter().any(|o| o == k.key())).map(|k| k.key().to_string()).collect();
        self.store.write(|w| w.set_muted(actor.id, &muted).map_err(super::DeskError::from))
    }
}

impl Desk {
    /// Canned responses for a ticket's department: (index, name).
    /// Canned responses for a ticket: the desk's (for its department) and the
    /// agent's own. Keys: the config index, or `mine:` and the title.
    pub fn canned_for(&self, t: &Ticket, actor: &Person) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .config()
            .canned
            .iter()
            .enumerate()
            .filter(|(_, c)| c.department.as_deref().is_none_or(|d| d.eq_ignore_ascii_case(&t.department)))
            .map(|(i, c)| (i.to_string(), c.name.clone()))
            .collect();
        if let Ok(mine) = self.store.read().and_then(|r| r.personal_canned(actor.id)) {
            out.extend(mine.into_iter().map(|(title, _)| (format!("mine:{title}"), format!("{title} (mine)"))));
        }
        out
    }

    /// A canned response rendered for a ticket the actor may see.
    pub fn render_canned(&self, actor: &Person, ticket: TicketId, key: &str) -> Result<String> {
        let cfg = self.config();
        let t = match self.store.read()?.ticket(ticket)? {
            Some(t) if actor.can_see(&t) => t,
            _ => return Err(super::DeskError::NotFound),
        };
        let (name, text) = match key.strip_prefix("mine:") {
            Some(title) => {
                let mine = self.store.read()?.personal_canned(actor.id)?;
                mine.into_iter().find(|(n, _)| n == title).ok_or(super::DeskError::NotFound)?
            }
            None => {
                let idx: usize = key.parse().map_err(|_| super::DeskError::NotFound)?;
                let c = self
                    .canned_for(&t, actor)
                    .into_iter()
                    .find(|(k, _)| *k == idx.to_string())
                    .and_then(|_| cfg.canned.get(idx))
                    .ok_or(super::DeskError::NotFound)?;
                (c.name.clone(), c.text.clone())
            }
        };
        let requester = self.store.read()?.person(t.requester)?;
        let ctx = json!({
            "desk": {"name": cfg.desk.name},
            "ticket": {"ref": self.reference(t.id), "subject": t.subject, "status": cfg.status_name(&t), "priority": t.priority.label(), "department": t.department},
            "requester": {"name": requester.as_ref().map(|p| p.display()).unwrap_or_default(), "email": requester.map(|p| p.email).unwrap_or_default()},
            "agent": {"name": actor.display(), "email": actor.email},
        });
        crate::desk::templates::Templates::render_str(&name, &text, &ctx)
            .map_err(|e| super::DeskError::Invalid { field: "canned", message: e.to_string() })
    }
}

impl Desk {
    /// Adds (or replaces) one of the agent's own canned responses; the text is
    /// checked as a template now, not when it is inserted.
    pub fn save_personal_canned(&self, actor: &Person, title: &str, text: &str) -> Result<()> {
        let title = title.trim();
        if title.is_empty() || title.chars().count() > 80 || text.trim().is_empty() {
            return Err(super::DeskError::Invalid { field: "canned", message: "give a title (up to 80 characters) and a text".into() });
        }
        crate::desk::templates::Templates::check_canned(title, text)
            .map_err(|e| super::DeskError::Invalid { field: "canned", message: e.to_string() })?;
        self.store.write(|w| w.put_personal_canned(actor.id, title, text).map_err(super::DeskError::from))
    }

    pub fn delete_personal_canned(&self, actor: &Person, title: &str) -> Result<()> {
        self.store.write(|w| w.delete_personal_canned(actor.id, title).map_err(super::DeskError::from))?;
        Ok(())
    }

    pub fn personal_canned(&self, actor: &Person) -> Result<Vec<(String, String)>> {
        Ok(self.store.read()?.personal_canned(actor.id)?)
    }

    /// Starts or stops following a ticket the actor may see.
    pub fn set_following(&self, actor: &Person, ticket: TicketId, on: bool) -> Result<()> {
        let now = self.now();
        self.store.write(|w| {
            match w.ticket(ticket)? {
                Some(t) if actor.can_see(&t) => {}
                _ => return Err(super::DeskError::NotFound),
            }
            if w.set_following(ticket, actor.id, on)? {
                let ev = crate::domain::Event::Following { who: actor.display(), on };
                w.append_entry(&mut Self::event(ticket, Some(actor.id), ev, now))?;
            }
            Ok(())
        })
    }

    pub fn is_following(&self, actor: &Person, ticket: TicketId) -> Result<bool> {
        Ok(self.store.read()?.is_following(ticket, actor.id)?)
    }

    /// Tickets the actor follows (that they may still see), most recently updated first.
    pub fn following(&self, actor: &Person) -> Result<(Vec<Ticket>, std::collections::HashMap<PersonId, Person>)> {
        let r = self.store.read()?;
        let mut tickets: Vec<Ticket> = Vec::new();
        for id in r.following(actor.id)? {
            if let Some(t) = r.ticket(id)?.filter(|t| actor.can_see(t)) {
                tickets.push(t);
            }
        }
        tickets.sort_by_key(|t| std::cmp::Reverse(t.updated_at));
        let people = super::workflow::named_people(&r, &tickets)?;
        Ok((tickets, people))
    }
}
