//! Triggers (issue 14 part 3): `[[trigger]]` rules run inside the commit
//! that changed a ticket (the store's pre-commit hook, so every write path —
//! mail, web, API, bulk, timers — is covered and a trigger's changes land
//! with the change that set it off), and from the timer for `on = "time"`.
//! Changes made by triggers never set triggers off (the loop guard), and
//! `workflow.trigger_actions_per_minute` caps the actions on one ticket.
//! An action that cannot be done is logged on the ticket and the rest run.

use std::collections::HashMap;

use super::notify::Notice;
use super::{Desk, DeskError, Result};
use crate::config::{AssignTo, Config, TriggerConfig, TriggerOn};
use crate::domain::{EntryKind, Event, Person, Priority, Status, ThreadEntry, Ticket, TicketId, Timestamp};
use crate::store::{Appended, Write};

/// Actions run on each ticket in the current minute: (minute, count).
#[derive(Default)]
pub(super) struct Budget(HashMap<TicketId, (i64, u32)>);

impl Budget {
    /// Takes one action from `id`'s budget for the minute of `now`.
    fn take(&mut self, id: TicketId, now: Timestamp, max: u32) -> bool {
        let minute = now.0.div_euclid(60_000);
        if self.0.len() > 10_000 {
            self.0.retain(|_, (m, _)| *m == minute);
        }
        let e = self.0.entry(id).or_insert((minute, 0));
        if e.0 != minute {
            *e = (minute, 0);
        }
        e.1 += 1;
        e.1 <= max
    }
}

/// A condition's regular expression, compiled once per pattern (the
/// config checked that it compiles).
fn compiled(pattern: &str) -> Option<regex::Regex> {
    static CACHE: std::sync::OnceLock<std::sync::Mutex<HashMap<String, regex::Regex>>> = std::sync::OnceLock::new();
    let mut cache = CACHE.get_or_init(Default::default).lock().ok()?;
    if let Some(r) = cache.get(pattern) {
        return Some(r.clone());
    }
    let r = crate::config::trigger_regex(pattern).ok()?;
    if cache.len() >= 256 {
        cache.clear();
    }
    cache.insert(pattern.to_string(), r.clone());
    Some(r)
}

/// What one commit did to a ticket, as triggers see it, and the message
/// that did it (for the subject and body conditions).
fn events_of<'a>(w: &Write, created: bool, entries: &[&'a ThreadEntry]) -> crate::store::Result<(Vec<TriggerOn>, Option<&'a ThreadEntry>)> {
    let mut on = Vec::new();
    let mut message = None;
    if created {
        on.push(TriggerOn::Created);
    }
    for &e in entries {
        // Changes made by triggers set no trigger off.
        if matches!(e.event, Some(Event::TriggerAction { .. })) {
            continue;
        }
        if matches!(e.event, Some(Event::SlaBreached { .. })) {
            on.push(TriggerOn::SlaBreached);
            continue;
        }
        let staff = match e.author {
            Some(p) => w.person(p)?.is_some_and(|p| p.is_staff()),
            None => false,
        };
        match e.kind {
            EntryKind::Reply if staff => on.push(TriggerOn::AgentReplied),
            EntryKind::Reply if e.author.is_some() => {
                message = Some(e);
                if !created {
                    on.push(TriggerOn::CustomerReplied);
                }
            }
            EntryKind::Note | EntryKind::Event if staff => on.push(TriggerOn::Updated),
            _ => {}
        }
    }
    on.dedup();
    Ok((on, message))
}

/// Whether `t` (whose latest customer message is `message`) meets every
/// condition of `tr`.
fn matches(
    cfg: &Config,
    w: &Write,
    tr: &TriggerConfig,
    t: &Ticket,
    message: Option<&ThreadEntry>,
    now: Timestamp,
) -> crate::store::Result<bool> {
    let any = |list: &[String], v: &str| list.is_empty() || list.iter().any(|x| x.eq_ignore_ascii_case(v));
    let lower = |s: &str| s.to_lowercase();
    // Without a message (time rules), the ticket's first message; read only
    // when a condition looks at the body.
    let needs_body = !tr.body_contains.is_empty() || !tr.body_matches.is_empty();
    // A thread that cannot be read leaves the body empty (logged): the
    // other rules still run.
    let first = match message {
        None if needs_body => w.first_message(t).unwrap_or_else(|e| {
            tracing::warn!(ticket = t.id.0, "trigger {:?}: the first message cannot be read: {e}", tr.name);
            String::new()
        }),
        _ => String::new(),
    };
    let body = message.map_or(first.as_str(), |m| m.body.as_str());
    let contains = |list: &[String], text: &str| list.is_empty() || list.iter().any(|w| lower(text).contains(&lower(w)));
    let regex_ok = |pattern: &str, text: &str| pattern.is_empty() || compiled(pattern).is_some_and(|r| r.is_match(text));
    let status_ok = tr.statuses.is_empty()
        || tr
            .statuses
            .iter()
            .any(|s| Status::parse(s) == Some(t.status) || t.custom_status.as_deref().is_some_and(|c| c.eq_ignore_ascii_case(s)));
    let priority_ok = tr.priorities.is_empty() || tr.priorities.iter().any(|p| Priority::parse(p) == Some(t.priority));
    let tags_ok = tr.tags.is_empty() || tr.tags.iter().any(|g| t.tags.iter().any(|x| x.eq_ignore_ascii_case(g)));
    let fields_ok = tr.fields.iter().all(|(k, v)| t.field(k).is_some_and(|have| have.split(", ").any(|x| x.eq_ignore_ascii_case(v))));
    let hours_ok = tr.business_hours.is_none_or(|inside| cfg.calendar(&tr.calendar).is_open(now) == inside);
    let mailbox_ok = tr.mailboxes.is_empty() || t.mailbox.as_deref().is_some_and(|m| any(&tr.mailboxes, m));
    if !(any(&tr.departments, &t.department)
        && any(&tr.categories, &t.category)
        && status_ok
        && priority_ok
        && tags_ok
        && fields_ok
        && hours_ok
        && mailbox_ok
        && contains(&tr.subject_contains, &t.subject)
        && contains(&tr.body_contains, body)
        && regex_ok(&tr.subject_matches, &t.subject)
        && regex_ok(&tr.body_matches, body))
    {
        return Ok(false);
    }
    if tr.from.is_empty() {
        return Ok(true);
    }
    let author = message.and_then(|m| m.author).unwrap_or(t.requester);
    let email = w.person(author)?.map(|p| p.email.to_lowercase()).unwrap_or_default();
    let domain = email.rsplit_once('@').map(|(_, d)| d.to_string()).unwrap_or_default();
    Ok(tr.from.iter().any(|f| {
        let f = f.trim().to_lowercase();
        match f.strip_prefix('@') {
            Some(d) => domain == d || domain.strip_suffix(d).is_some_and(|head| head.ends_with('.')),
            None => email == f,
        }
    }))
}

impl Desk {
    /// Every agent address the triggers name must be an agent of the desk.
    pub fn check_trigger_agents(&self, cfg: &Config) -> std::result::Result<(), String> {
        let r = self.store.read().map_err(|e| e.to_string())?;
        for t in &cfg.trigger {
            for (key, email) in t.agents() {
                match r.person_by_email(&email.to_lowercase()).map_err(|e| e.to_string())? {
                    Some(p) if p.is_staff() => {}
                    _ => return Err(format!("trigger {:?}: `trigger.{key}`: {email:?} is not an agent of this desk", t.name)),
                }
            }
        }
        Ok(())
    }

    /// Runs the triggers the commit's changes set off (the pre-commit hook).
    pub(super) fn run_triggers(&self, cfg: &Config, w: &mut Write, a: &Appended, now: Timestamp) -> crate::store::Result<()> {
        if cfg.trigger.is_empty() {
            return Ok(());
        }
        let by_ticket = super::sla::by_ticket(a);
        let created_now: std::collections::HashSet<TicketId> = a.created.iter().copied().collect();
        for id in super::sla::touched(a, &by_ticket) {
            if w.trashed_at(id)?.is_some() {
                continue;
            }
            let entries = by_ticket.get(&id).map_or(&[][..], Vec::as_slice);
            let (on, message) = events_of(w, created_now.contains(&id), entries)?;
            if on.is_empty() {
                continue;
            }
            // Every condition is read from the ticket as the change left it,
            // so no trigger fires because of another trigger's action.
            let Some(t) = w.ticket(id)? else { continue };
            let mut chosen = Vec::new();
            for tr in cfg.trigger.iter().filter(|tr| tr.on.iter().any(|o| on.contains(o))) {
                if matches(cfg, w, tr, &t, message, now)? {
                    chosen.push(tr);
                }
            }
            for tr in chosen {
                let Some(now_t) = w.ticket(id)? else { break };
                self.fire(cfg, w, tr, now_t, now)?;
            }
        }
        Ok(())
    }

    /// Time triggers: tickets `after_hours` into a spell in `in_status`,
    /// each spell once. Returns how many fired.
    pub fn run_time_triggers(&self) -> Result<usize> {
        let cfg = self.config();
        let now = self.now();
        let mut fired = 0;
        for tr in cfg.trigger.iter().filter(|t| t.on.contains(&TriggerOn::Time)) {
            let Some(status) = Status::parse(&tr.in_status) else { continue };
            let cutoff = Timestamp(now.0 - tr.after_hours as i64 * 3_600_000);
            fired += self.store.write(|w| {
                let mut n = 0;
                for (t, since) in Self::due_in_status(w, status, cutoff)? {
                    if w.trigger_fired(t.id, &tr.name)? == Some(since) {
                        continue;
                    }
                    w.set_trigger_fired(t.id, &tr.name, since)?;
                    if matches(&cfg, w, tr, &t, None, now)? {
                        self.fire(&cfg, w, tr, t, now)?;
                        n += 1;
                    }
                }
                Ok::<_, DeskError>(n)
            })?;
        }
        Ok(fired)
    }

    /// Runs `tr`'s actions on `t`, logging each under the trigger's name.
    fn fire(&self, cfg: &Config, w: &mut Write, tr: &TriggerConfig, t: Ticket, now: Timestamp) -> crate::store::Result<()> {
        let max = cfg.workflow.trigger_actions_per_minute;
        let mut log: Vec<String> = Vec::new();
        let mut next = t.clone();
        let take = |what: &str, log: &mut Vec<String>| -> bool {
            let ok = self.trigger_budget.lock().map(|mut b| b.take(t.id, now, max)).unwrap_or(false);
            if !ok {
                log.push(format!("did not {what}: {max} trigger actions a minute on this ticket is the limit"));
            }
            ok
        };
        if let Some(choice) = cfg.status_choice(&tr.set_status).filter(|_| !tr.set_status.is_empty())
            && take("set the status", &mut log)
        {
            if next.status == choice.base || next.status.can_become(choice.base) {
                let before = cfg.status_name(&next);
                next.status = choice.base;
                next.custom_status = choice.custom;
                match self.check_required_fields(t.status, &next) {
                    Ok(()) => log.push(format!("set status from {before} to {}", cfg.status_name(&next))),
                    Err(e) => {
                        next.status = t.status;
                        next.custom_status = t.custom_status.clone();
                        log.push(format!("could not set status: {e}"));
                    }
                }
            } else {
                log.push(format!("could not set status: a ticket cannot go from {} to {}", next.status, choice.base));
            }
        }
        if let Some(p) = Priority::parse(&tr.set_priority).filter(|_| !tr.set_priority.is_empty())
            && take("set the priority", &mut log)
        {
            log.push(format!("set priority from {} to {}", next.priority, p));
            next.priority = p;
        }
        if !tr.set_category.is_empty() && take("set the category", &mut log) {
            let c = cfg.desk.categories.iter().find(|c| c.eq_ignore_ascii_case(&tr.set_category)).cloned().unwrap_or_default();
            log.push(format!("set category from {} to {c}", next.category));
            next.category = c;
        }
        if !tr.set_department.is_empty() && take("set the department", &mut log) {
            match self.check_department(&tr.set_department) {
                Ok(d) => {
                    log.push(format!("moved the ticket from {} to {d}", next.department));
                    next.department = d;
                }
                Err(e) => log.push(format!("could not move the ticket: {e}")),
            }
        }
        if let Some(team) = cfg.team(&tr.set_team).filter(|_| !tr.set_team.is_empty())
            && take("set the team", &mut log)
        {
            log.push(format!("gave the ticket to team {}", team.name));
            next.team = Some(team.name.clone());
        }
        if (!tr.add_tags.is_empty() || !tr.remove_tags.is_empty()) && take("change the tags", &mut log) {
            let mut tags: Vec<String> =
                next.tags.iter().filter(|x| !tr.remove_tags.iter().any(|r| r.eq_ignore_ascii_case(x))).cloned().collect();
            for a in &tr.add_tags {
                if !tags.iter().any(|x| x.eq_ignore_ascii_case(a)) {
                    tags.push(a.clone());
                }
            }
            match self.check_tags(&tags) {
                Ok(tags) => {
                    log.push(format!("set tags to {}", if tags.is_empty() { "none".to_string() } else { tags.join(", ") }));
                    next.tags = tags;
                }
                Err(e) => log.push(format!("could not change the tags: {e}")),
            }
        }
        if !tr.set_fields.is_empty() && take("set fields", &mut log) {
            let raw: Vec<(String, Vec<String>)> = tr.set_fields.iter().map(|(k, v)| (k.clone(), vec![v.clone()])).collect();
            let mut tried = next.clone();
            match self.apply_fields(&mut tried, &raw) {
                Ok(_) => {
                    log.push(format!("set {}", tr.set_fields.iter().map(|(k, v)| format!("{k} to {v}")).collect::<Vec<_>>().join(", ")));
                    next = tried;
                }
                Err(e) => log.push(format!("could not set fields: {e}")),
            }
        }
        let mut assigned = None;
        if let Some(how) = tr.assign_to()
            && take("assign the ticket", &mut log)
        {
            match self.trigger_assignee(cfg, w, tr, &how, &next, now)? {
                Ok(p) => {
                    log.push(format!("assigned the ticket to {}", p.display()));
                    next.assignee = Some(p.id);
                    assigned = Some(p.id);
                }
                Err(why) => log.push(format!("could not assign the ticket: {why}")),
            }
        }
        let mut snoozed = None;
        if tr.snooze_hours > 0 && take("snooze the ticket", &mut log) {
            let until = Timestamp(now.0 + tr.snooze_hours as i64 * 3_600_000);
            next.status = Status::Snoozed;
            next.custom_status = None;
            snoozed = Some(until);
            log.push(format!("snoozed the ticket until {} UTC", until.short()));
        }
        if next != t {
            next.updated_at = now;
            w.put_ticket(Some(&t), &next)?;
            if let Some(until) = snoozed {
                w.set_snooze(t.id, until)?;
            }
        }
        let name = tr.name.clone();
        let append = |w: &mut Write, action: String| {
            w.append_entry(&mut Self::event(t.id, None, Event::TriggerAction { trigger: name.clone(), action }, now))
        };
        for line in log {
            append(w, line)?;
        }
        let notified = |r: Result<()>| -> crate::store::Result<()> {
            match r {
                Ok(()) | Err(DeskError::Invalid { .. } | DeskError::Conflict(_) | DeskError::NotFound) => Ok(()),
                Err(DeskError::Store(e)) => Err(e),
                Err(e) => {
                    tracing::warn!("trigger notice: {e}");
                    Ok(())
                }
            }
        };
        if let Some(to) = assigned {
            notified(self.notify(w, &next, None, Notice::Assigned { to: to.0 }, now))?;
        }
        if !tr.note.is_empty() && take("add a note", &mut Vec::new()) {
            let mut note = ThreadEntry {
                ticket: t.id,
                seq: 0,
                kind: EntryKind::Note,
                author: None,
                body: tr.note.clone(),
                event: None,
                attachments: Vec::new(),
                created_at: now,
            };
            w.append_entry(&mut note)?;
            append(w, "added an internal note".into())?;
        }
        if let Some(c) = cfg.canned.iter().find(|c| c.name.eq_ignore_ascii_case(&tr.reply_canned)).filter(|_| !tr.reply_canned.is_empty())
            && take("send a reply", &mut Vec::new())
        {
            let rendered = self
                .ticket_context(w, &next, None, "")
                .map_err(|e| e.to_string())
                .and_then(|ctx| super::templates::Templates::render_str(&c.name, &c.text, &ctx).map_err(|e| e.to_string()));
            match rendered {
                Ok(body) => {
                    let mut reply = ThreadEntry {
                        ticket: t.id,
                        seq: 0,
                        kind: EntryKind::Reply,
                        author: None,
                        body,
                        event: None,
                        attachments: Vec::new(),
                        created_at: now,
                    };
                    w.append_entry(&mut reply)?;
                    append(w, format!("replied with the canned response {:?}", c.name))?;
                    notified(self.notify(w, &next, None, Notice::TriggerReply { entry: &reply }, now))?;
                }
                Err(e) => {
                    append(w, format!("could not reply with {:?}: {e}", c.name))?;
                }
            }
        }
        if !tr.notify.is_empty() && take("notify agents", &mut Vec::new()) {
            let to = self.trigger_recipients(w, tr, &next)?;
            append(w, format!("notified {}", if to.is_empty() { "nobody (no active agent named)".to_string() } else { to.join(", ") }))?;
            notified(self.notify(w, &next, None, Notice::Trigger { name: &tr.name, to }, now))?;
        }
        Ok(())
    }

    /// Whom `how` picks for `t`; `Err` says why nobody.
    fn trigger_assignee(
        &self,
        cfg: &Config,
        w: &mut Write,
        tr: &TriggerConfig,
        how: &AssignTo,
        t: &Ticket,
        now: Timestamp,
    ) -> crate::store::Result<std::result::Result<Person, String>> {
        if let AssignTo::Agent(email) = how {
            return Ok(match w.person_by_email(email)? {
                Some(p) => self.check_assignee(w, p.id.0, &t.department).map_err(|e| format!("{email}: {e}")),
                None => Err(format!("{email} is not an agent")),
            });
        }
        let team = cfg.team(&tr.assign_team).filter(|_| !tr.assign_team.is_empty());
        let mut pool: Vec<Person> = w
            .staff()?
            .into_iter()
            .map(|p| self.in_force(p))
            .filter(|p| p.is_staff() && p.works_in(&t.department))
            .filter(|p| team.is_none_or(|team| p.teams.iter().any(|x| x.eq_ignore_ascii_case(&team.name))))
            .collect();
        pool.sort_by_key(|p| p.id);
        let pool_name = team.map_or_else(|| format!("dept:{}", t.department), |team| format!("team:{}", team.name));
        match how {
            AssignTo::RoundRobin => {
                let last = w.round_robin_last(&pool_name)?;
                let next = pool.iter().find(|p| last.is_none_or(|l| p.id > l)).or(pool.first()).cloned();
                match next {
                    Some(p) => {
                        w.set_round_robin_last(&pool_name, p.id)?;
                        Ok(Ok(p))
                    }
                    None => Ok(Err(format!("no active agent in {}", pool_name.replace(':', " ")))),
                }
            }
            _ => {
                let online = w.seen_since(Timestamp(now.0 - 3_600_000))?;
                let mut best: Option<(u64, Person)> = None;
                for p in pool.into_iter().filter(|p| online.contains(&p.id)) {
                    let open = w.active_count_of(Some(p.id))?;
                    if best.as_ref().is_none_or(|(n, _)| open < *n) {
                        best = Some((open, p));
                    }
                }
                Ok(best.map(|(_, p)| p).ok_or_else(|| "no agent of the pool was online in the last hour".to_string()))
            }
        }
    }

    /// The addresses `notify` names, active staff only.
    fn trigger_recipients(&self, w: &Write, tr: &TriggerConfig, t: &Ticket) -> crate::store::Result<Vec<String>> {
        let staff: Vec<Person> = w.staff()?.into_iter().map(|p| self.in_force(p)).filter(|p| p.is_staff() && p.can_see(t)).collect();
        let mut out: Vec<String> = Vec::new();
        for target in &tr.notify {
            let picked: Vec<&Person> = match target.split_once(':') {
                Some(("team", team)) => staff.iter().filter(|p| p.teams.iter().any(|x| x.eq_ignore_ascii_case(team))).collect(),
                _ if target == "assignee" => staff.iter().filter(|p| Some(p.id) == t.assignee).collect(),
                _ if target == "department" => staff.iter().filter(|p| p.works_in(&t.department)).collect(),
                _ => staff.iter().filter(|p| p.email.eq_ignore_ascii_case(target)).collect(),
            };
            out.extend(picked.into_iter().map(|p| p.email.clone()).filter(|e| !out.contains(e)).collect::<Vec<_>>());
        }
        Ok(out)
    }
}
