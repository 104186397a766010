//! Email commands on the desk's side (the grammar is `domain::commands`):
//! which commands a sender's mail may carry, finding the agent `#assign`
//! names, the field changes (`#priority`, `#tag`, `#category`) applied as
//! a patch (so each is checked and logged as in the web UI), and the
//! `#help` mail.

use super::{Desk, DeskError, Result, TicketPatch};
use crate::domain::commands::{self, Assignee, Command};
use crate::domain::{Event, NoticeKind, Person, Ticket, TicketId, Timestamp};
use crate::store::Write;

impl Desk {
    /// The commands a mail from `author` on `t` may carry, and its text
    /// without them. Agents get the whole set; a collaborator only
    /// `#unsubscribe`; anyone else none (their `#`-lines stay text).
    /// A collaborator's `#unsubscribe` counts when the mail proves its
    /// sender, or when the desk verifies no mail at all (`mail_auth.verify`
    /// off: From is then trusted everywhere); the signed link always works.
    pub(super) fn mail_commands(
        &self,
        w: &Write,
        author: &Person,
        t: &Ticket,
        text: &str,
        auth: Option<&crate::domain::auth::MailAuth>,
    ) -> Result<(Vec<Command>, String)> {
        let (cmds, rest) = commands::parse(text);
        if author.is_staff() {
            return Ok((cmds, rest));
        }
        let proven = auth.is_none_or(|a| super::trust::proves_address(a, &author.email));
        if proven && !cmds.is_empty() && cmds.iter().all(|c| *c == Command::Unsubscribe) && w.is_collaborator(t.id, author.id)? {
            return Ok((vec![Command::Unsubscribe], rest));
        }
        Ok((Vec::new(), text.to_string()))
    }

    /// A collaborator's `#unsubscribe`: off the conversation (as the
    /// one-click link), logged.
    /// Returns the event's seq (the mail is kept on it).
    pub(super) fn unsubscribe_by_mail(&self, w: &mut Write, author: &Person, t: TicketId, now: Timestamp) -> Result<u32> {
        w.unsubscribe(t, author.id)?;
        let mut e = Self::event(t, Some(author.id), Event::Unsubscribed { who: author.display() }, now);
        w.append_entry(&mut e)?;
        Ok(e.seq)
    }

    /// The agent `#assign` names, working in `department`; or why none.
    pub(super) fn named_agent(
        &self,
        w: &Write,
        who: &Assignee,
        author: &Person,
        department: &str,
    ) -> Result<std::result::Result<Person, String>> {
        let found = match who {
            Assignee::Me => Some(author.clone()),
            Assignee::Email(email) => w.person_by_email(email)?.filter(|p| p.is_staff()),
            Assignee::Name(name) => {
                let staff: Vec<Person> = w.staff()?.into_iter().filter(|p| p.is_staff()).collect();
                let full: Vec<&Person> = staff.iter().filter(|p| p.name.trim().eq_ignore_ascii_case(name)).collect();
                let first: Vec<&Person> =
                    staff.iter().filter(|p| p.name.split_whitespace().next().is_some_and(|f| f.eq_ignore_ascii_case(name))).collect();
                match (full.as_slice(), first.as_slice()) {
                    ([one], _) | ([], [one]) => Some((*one).clone()),
                    ([], []) => None,
                    _ => return Ok(Err(format!("more than one agent is called {name:?}; use their address"))),
                }
            }
        };
        let label = match who {
            Assignee::Me => "you".to_string(),
            Assignee::Email(e) => e.clone(),
            Assignee::Name(n) => format!("{n:?}"),
        };
        Ok(match found.map(|p| self.in_force(p)) {
            Some(p) if p.works_in(department) => Ok(p),
            Some(p) => Err(format!("{} does not work in {department}", p.display())),
            None => Err(format!("no agent {label} was found")),
        })
    }

    /// `#priority`, `#tag` and `#category` as one patch by `author`: checked
    /// and logged as a change in the web UI is; a bad value is logged as
    /// refused, and the rest of the mail stands.
    pub(super) fn apply_field_commands(&self, w: &mut Write, author: &Person, t: TicketId, cmds: &[Command], now: Timestamp) -> Result<()> {
        let mut patch = TicketPatch::default();
        let mut tags: Option<Vec<String>> = None;
        for c in cmds {
            match c {
                Command::Priority(p) => patch.priority = Some(*p),
                Command::Category(c) => patch.category = Some(c.clone()),
                Command::Tags(add) => tags.get_or_insert_with(Vec::new).extend(add.iter().cloned()),
                _ => {}
            }
        }
        if let Some(add) = tags {
            let mut all = w.ticket(t)?.map(|t| t.tags).unwrap_or_default();
            all.extend(add);
            patch.tags = Some(all);
        }
        if patch.is_empty() {
            return Ok(());
        }
        // Refusals are checked before anything is written; storage errors
        // fail the mail's transaction as any other would.
        match self.check_patch(patch).and_then(|p| self.apply_patch(w, author, t.0, &p, "", now)) {
            Ok(_) => Ok(()),
            Err(e @ DeskError::Store(_)) => Err(e),
            Err(e) => {
                let why = format!("a command was not applied: {e}");
                w.append_entry(&mut Self::event(t, Some(author.id), Event::CommandsRefused { why }, now))?;
                Ok(())
            }
        }
    }

    /// Mails an agent the list of commands (`#help`), at most once a minute.
    pub(super) fn mail_command_help(&self, w: &mut Write, agent: &Person, t: TicketId, now: Timestamp) -> Result<()> {
        let text = format!(
            "Hello {},\n\nyou asked for the email commands of {} (from your mail on {}).\n\n{}",
            agent.display(),
            self.config().desk.name,
            self.reference(t),
            commands::help_text(&self.config().status.iter().map(|s| s.name.clone()).collect::<Vec<_>>())
        );
        let subject = format!("{}: email commands", self.config().desk.name);
        self.queue_notice(w, NoticeKind::CommandHelp, &agent.email, subject, text, now).map(|_| ())
    }
}
