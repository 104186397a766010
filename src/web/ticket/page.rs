//! The ticket page: the thread, the reply box (with collision check and
//! attachments), the side panel's field edits, canned responses, following.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use crate::desk::{DeskError, TicketPatch, TicketView};
use crate::domain::auth::Verdict;
use crate::domain::roles::Permission;
use crate::domain::time::Date;
use crate::domain::{EntryKind, Person, PersonId, Priority, TicketId};
use crate::tr;
use crate::web::pages::{frame, nonempty};
use crate::web::ui::{self, csrf_field, options, page, priority_badge};
use crate::web::{Agent, AppState, TicketPath, WebError, WebResult, blocking, run_as, status_of};

/// "12 KB" style sizes, numbers as the reader's language writes them.
fn human_size(n: u64) -> String {
    use crate::i18n::format::decimal;
    match n {
        0..=1023 => format!("{n} B"),
        1024..=1_048_575 => format!("{} KB", decimal(n as f64 / 1024.0, 0)),
        _ => format!("{} MB", decimal(n as f64 / 1_048_576.0, 1)),
    }
}

/// Who an entry or field names: a person, the system (no one), or someone
/// no longer known.
fn name_of(v: &TicketView, id: Option<PersonId>) -> String {
    match id {
        None => tr!("System").to_string(),
        Some(i) if v.people.contains_key(&i) => v.name_of(id),
        Some(_) => tr!("(unknown)").to_string(),
    }
}

/// Everything the ticket page shows, loaded before any markup is drawn.
struct TicketPage {
    v: TicketView,
    agents: Vec<Person>,
    /// Canned responses that apply here: (key, name).
    canned: Vec<(String, String)>,
    following: bool,
    /// Who a public reply reaches now.
    recipients: crate::desk::recipients::ReplyRecipients,
    /// What this agent was writing here (saved by the reply box).
    draft: Option<crate::store::Draft>,
}

/// Loads the page's data; a merged-away reference redirects to the survivor.
fn load(st: &AppState, a: &Agent, id: TicketId) -> Result<TicketPage, WebError> {
    let v = match st.desk.ticket_view(&a.person, id) {
        Err(DeskError::NotFound) => {
            let to = st.desk.survivor(id)?;
            if to != id {
                let url = format!("/tickets/{}?merged={}", st.desk.reference(to), st.desk.reference(id));
                return Err(Redirect::to(&url).into_response().into());
            }
            return Err(WebError::not_found());
        }
        other => other?,
    };
    let agents = st.desk.agents()?;
    let canned = st.desk.canned_for(&v.ticket, &a.person);
    let following = st.desk.is_following(&a.person, id)?;
    let recipients = st.desk.reply_recipients(&a.person, id)?;
    let draft = st.desk.draft(&a.person, id)?;
    Ok(TicketPage { v, agents, canned, following, recipients, draft })
}

/// The page around `ticket_body`, with `status`.
fn render(st: &AppState, a: &Agent, p: &TicketPage, status: StatusCode, flash: Option<(&str, String)>, draft: &str) -> Response {
    let title = format!("{} {}", st.desk.reference(p.v.ticket.id), p.v.ticket.subject);
    (status, page(&frame(st, a, title, "queue"), ticket_body(st, a, p, flash, draft))).into_response()
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DoneQuery {
    done: Option<String>,
    merged: Option<String>,
    /// A reply was held: the last entry its writer had seen.
    held: Option<u32>,
}

fn done_message(done: Option<&str>) -> Option<&'static str> {
    match done? {
        "reply" => Some(tr!("Reply added.")),
        "note" => Some(tr!("Internal note added.")),
        "saved" => Some(tr!("Changes saved.")),
        "created" => Some(tr!("Ticket created.")),
        "unchanged" => Some(tr!("Nothing changed.")),
        "merged" => Some(tr!("Tickets merged.")),
        "linked" => Some(tr!("Link saved.")),
        "trashed" => Some(tr!("Moved to Trash.")),
        "junked" => Some(tr!("Junk: moved to Trash, the sender banned.")),
        "restored" => Some(tr!("Restored from Trash.")),
        _ => None,
    }
}

fn cfg_days(st: &AppState) -> u32 {
    st.desk.config().workflow.trash_days
}

/// The ticket page's markup; reads nothing but `p` and the configuration.
fn ticket_body(st: &AppState, a: &Agent, p: &TicketPage, flash: Option<(&str, String)>, draft: &str) -> Markup {
    let desk = &st.desk;
    let (v, agents) = (&p.v, &p.agents);
    let t = &v.ticket;
    let r = desk.reference(t.id);
    let now = desk.now();
    let requester = v.people.get(&t.requester);
    // Public replies an agent kept off mail (the event follows the entry).
    let not_mailed: Vec<u32> = v
        .entries
        .iter()
        .filter(|e| matches!(e.event, Some(crate::domain::Event::ReplyNotMailed)))
        .map(|e| e.seq.saturating_sub(1))
        .collect();
    let closed = t.is_closed();
    // The text of the reply box: what a refused post sent back, else the
    // agent's saved draft.
    let saved = p.draft.as_ref().filter(|_| draft.is_empty());
    let text = saved.map_or(draft, |d| d.body.as_str());
    let as_note = saved.is_some_and(|d| d.internal);
    let restored = saved.map(|d| d.saved_at);
    // A post just went through: the browser's copy of the text can go.
    let posted = [done_message(Some("reply")), done_message(Some("note"))];
    let done_ok = matches!(&flash, Some(("ok", m)) if posted.contains(&Some(m.as_str()))) && saved.is_none();
    // The agent's own last post here: a browser copy written before it is
    // not offered again.
    let mine = v.entries.iter().filter(|e| e.author == Some(a.person.id) && e.kind != EntryKind::Event).map(|e| e.seq).max().unwrap_or(0);
    // The newest messages are always shown whole.
    let newest: Vec<u32> =
        v.entries.iter().rev().filter(|e| e.kind != EntryKind::Event).take(super::thread::WHOLE).map(|e| e.seq).collect();
    let cfg = &desk.config().desk;
    let perms = desk.permissions(&a.person);
    let (may_edit, may_reply, may_note) = (perms.has(Permission::Edit), perms.has(Permission::Reply), perms.has(Permission::Note));
    // Every status it may go to: other base states the rules allow, and the
    // custom statuses of those and of its own base.
    // The value of its current status, as the choices are valued.
    let current = t
        .custom_status
        .clone()
        .filter(|c| desk.config().custom_status(c).is_some_and(|s| s.base() == t.status))
        .unwrap_or_else(|| t.status.key().to_string());
    let next_statuses: Vec<crate::config::StatusChoice> = desk
        .config()
        .status_choices()
        .into_iter()
        // Snoozing takes a time: the snooze box, not this list.
        .filter(|c| c.base != crate::domain::Status::Snoozed)
        .filter(|c| if c.base == t.status { ui::status_value(c) != current } else { t.status.can_become(c.base) })
        .collect();
    html! {
        div.ticket-head {
            div.crumbs { a href="/tickets" { (tr!("Queue")) } " / " span.ref { (r) } }
            h1 #subject { (t.subject) }
            @if !closed && may_edit {
                details.subject-edit {
                    summary title=(tr!("Edit the subject (e)")) { (tr!("Edit subject")) }
                    form.inline method="post" action=(format!("/tickets/{r}/subject")) {
                        (csrf_field(&a.csrf))
                        input type="text" name="subject" value=(t.subject) aria-label=(tr!("Subject")) required maxlength=(desk.config().limits.subject_max_chars);
                        input type="text" name="reason" placeholder=(tr!("Reason (optional, goes in the log)")) aria-label=(tr!("Reason for the change"));
                        button type="submit" { (tr!("Save")) }
                    }
                }
            }
            div.meta {
                (ui::ticket_status(&desk.config(), t)) (priority_badge(t.priority))
                span.muted { (tr!("opened {when} via {channel}", when = crate::web::ui::ago(t.created_at, now), channel = crate::i18n::dynamic(t.channel.label()))) }
                @if let Some(p) = requester { span { (super::rich(tr!("by {name}"), &[("name", &html! { a href=(format!("/requesters/{}", p.id)) { (p.display()) } }.into_string())])) } }
            }
            @if !closed && (may_reply || may_note) {
                div.head-actions {
                    @if may_reply { a.button.primary href="#reply" data-compose="reply" title=(tr!("Reply (r)")) { (tr!("Reply")) } }
                    @if may_note { a.button href="#reply" data-compose="note" title=(tr!("Internal note (n)")) { (tr!("Add note")) } }
                }
            }
        }
        @if let Some((kind, msg)) = &flash { (ui::notice(if *kind == "collision" { "error" } else { kind }, msg)) }
        div #presence .presence role="status" aria-live="polite" data-url=(format!("/tickets/{r}/presence")) {}
        @for u in crate::domain::thread::undelivered(&v.entries) {
            div.notice.warn role="status" {
                strong { (tr!("Not yet delivered — retrying")) } ": "
                (tr!("{kind} mail to {to} (first try refused: {reason}; the Outbox tries again).", kind = super::thread::mail_kind(&u.kind), to = u.to.join(", "), reason = u.reason))
            }
        }
        @if let Some(at) = v.trashed_at {
            div.notice.error role="status" {
                @let days = cfg_days(st);
                @let sentence = if days == 1 { tr!("This ticket is in Trash since {when}; it is purged after {n} day.") } else { tr!("This ticket is in Trash since {when}; it is purged after {n} days.") };
                (super::rich(sentence, &[("when", &crate::web::ui::when_at(at).into_string()), ("n", &crate::i18n::format::num(days as i64))]))
                @if perms.has(Permission::Delete) {
                    form.inline method="post" action=(format!("/tickets/{r}/trash")) { (csrf_field(&a.csrf)) input type="hidden" name="on" value="0"; button type="submit" { (tr!("Restore")) } }
                }
            }
        }
        div.ticket-layout {
            section.thread aria-label=(tr!("Conversation")) {
                @for item in super::thread::items(&v.entries) {
                  @match item {
                    super::thread::Item::Mails(run) => (super::thread::mails(&run, now)),
                    super::thread::Item::Entry(e) => {
                    @match e.kind {
                        EntryKind::Event => {
                            div.event id=(format!("e{}", e.seq)) {
                                span.who { (name_of(v, e.author)) } " " (super::thread::entry_text(e)) " "
                                time.muted datetime=(e.created_at.rfc3339()) title=(e.created_at.rfc3339()) { (crate::web::ui::ago(e.created_at, now)) }
                            }
                        }
                        kind => {
                            @let is_requester = e.author == Some(t.requester);
                            article id=(format!("e{}", e.seq)) class=(match (kind, is_requester) { (EntryKind::Note, _) => "entry note", (_, true) => "entry customer", _ => "entry reply" }) {
                                @let mail = v.mail.get(&e.seq);
                                header {
                                    span.who { (name_of(v, e.author)) }
                                    span.kind { @if kind == EntryKind::Note { (tr!("Internal note")) } @else if is_requester { (tr!("Requester")) } @else { (tr!("Public reply")) } @if mail.is_some() { " · " (tr!("by email")) } }
                                    @if not_mailed.contains(&e.seq) { span.tag.notmailed { (tr!("not emailed")) } }
                                    span.muted { (crate::web::ui::when_at(e.created_at)) }
                                }
                                @if let Some(m) = mail {
                                    div.mailmeta {
                                        div {
                                            span.k { (tr!("From")) } (m.from) @if let Some(f) = &m.forwarded_by { span.muted { " " (tr!("(forwarded by {who})", who = f)) } }
                                            @match m.auth.as_ref().map(|a| a.verdict()) {
                                                Some(Verdict::Verified(d)) => { span.verified title=(tr!("SPF/DKIM passed, aligned with the From domain (DMARC)")) { (tr!("✓ verified {domain}", domain = d)) } }
                                                Some(Verdict::Unverified(w)) => { span.unverified.muted { "· " (w) } }
                                                _ => {}
                                            }
                                        }
                                        @if !m.to.is_empty() { div { span.k { (tr!("To")) } (m.to.join(", ")) } }
                                        @if !m.cc.is_empty() { div { span.k { (tr!("Cc")) } (m.cc.join(", ")) } }
                                    }
                                    @if let Some(Verdict::Failed(w)) = m.auth.as_ref().map(|a| a.verdict()) {
                                        div.authwarn role="note" { (tr!("⚠ Not verified: {why}. Be careful with links, attachments and requests for payment or passwords.", why = w)) }
                                    }
                                }
                                @if e.body.trim().is_empty() { div.textbody.muted { (tr!("(no text)")) } }
                                @else if e.kind == EntryKind::Note { (super::mentions::note_text(&e.body, agents)) }
                                @else { (super::thread::body(&e.body, !newest.contains(&e.seq))) }
                                @if let Some((_, _, m)) = v.time_spent.iter().find(|(s, _, _)| *s == e.seq) {
                                    div.muted.small { (tr!("Time spent: {time}", time = duration(*m as u64))) }
                                }
                                @if !e.attachments.is_empty() {
                                    ul.attachments {
                                        @for (i, att) in e.attachments.iter().enumerate() {
                                            @let url = format!("/tickets/{r}/attachments/{}/{i}", e.seq);
                                            li {
                                                @if super::parts::previewable(&att.content_type) {
                                                    a.preview href=(format!("{url}?inline=1")) target="_blank" rel="noopener" { img src=(format!("{url}?inline=1")) alt=(att.filename) loading="lazy"; }
                                                }
                                                a href=(url) download { (att.filename) } " " span.muted { (human_size(att.size)) }
                                            }
                                        }
                                    }
                                }
                                @if let Some(m) = mail {
                                    div.mailtools {
                                        @if let Some(full) = &m.full_text { details { summary { (tr!("Show quoted text")) } (ui::text_block(full)) } }
                                        @if m.html_blob.is_some() {
                                            details.htmlview { summary { (tr!("Show formatted (HTML)")) } iframe sandbox="allow-popups allow-popups-to-escape-sandbox" src=(format!("/tickets/{r}/entries/{}/html", e.seq)) loading="lazy" title=(tr!("Formatted message")) {} }
                                        }
                                        a href=(format!("/tickets/{r}/entries/{}/source", e.seq)) target="_blank" { (tr!("View original")) }
                                        " · "
                                        a href=(format!("/tickets/{r}/entries/{}/source?download=1", e.seq)) { (tr!("Download .eml")) }
                                    }
                                }
                            }
                        }
                    }
                    }
                  }
                }
                @if closed {
                    div.closed-note { (tr!("This ticket is closed and read-only.")) " " @if perms.has(Permission::Reopen) { (tr!("Reopen it from the panel to write to it.")) } @else { (tr!("Only an admin or a department manager can reopen it.")) } }
                } @else if !may_reply && !may_note {
                    div.closed-note { (tr!("Your role ({role}) reads tickets; it writes nothing.", role = crate::i18n::dynamic(&desk.role_label(&a.person)))) }
                } @else {
                    form.replybox #reply method="post" enctype="multipart/form-data" action=(format!("/tickets/{r}/reply?_csrf={}", a.csrf)) data-draft=(format!("/tickets/{r}/draft")) data-ref=(r) data-agent=(a.person.id) data-mine=(mine) data-saved=(saved.map_or(0, |d| d.saved_at.0)) data-sent=[done_ok.then_some("1")] {
                        @let canned = &p.canned;
                        @if !canned.is_empty() {
                            div.canned-pick {
                                input #canned type="search" list="canned-list" placeholder=(tr!("Insert a canned response… (type to search)")) aria-label=(tr!("Search and insert a canned response")) data-url=(format!("/tickets/{r}/canned/")) autocomplete="off";
                                datalist #canned-list { @for (key, name) in canned { option value=(name) data-key=(key) {} } }
                            }
                        }
                        @if st.desk.has_published_articles() {
                            // Knowledge base articles: a link to a public one, or its text (app.js).
                            div.kb-pick {
                                input #kb-find type="search" placeholder=(tr!("Insert a knowledge base article… (type to search)")) aria-label=(tr!("Search the knowledge base")) aria-controls="kb-results" data-url="/kb/insert" autocomplete="off";
                                ul #kb-results .kb-results aria-live="polite" hidden {}
                            }
                        }
                        input type="hidden" name="seen" value=(v.entries.last().map(|e| e.seq).unwrap_or(0));
                        @if matches!(flash, Some(("collision", _))) { input type="hidden" name="force" value="1"; }
                        @if may_reply {
                            (super::people::recipients_line(&p.recipients))
                            textarea #replytext name="body" rows="6" placeholder=(tr!("Write a reply to the requester… (r)")) data-agents=(super::mentions::offered(agents)) { (text) }
                        } @else {
                            textarea #replytext name="body" rows="6" placeholder=(tr!("Write an internal note for agents… (r)")) aria-label=(tr!("Internal note")) data-agents=(super::mentions::offered(agents)) { (text) }
                        }
                        div.reply-actions {
                            label.files title=(tr!("Attach files")) { (tr!("Attach")) " " input type="file" name="files" multiple; }
                            @if may_reply && may_note {
                                label.toggle { input #internal type="checkbox" name="internal" value="1" checked[as_note]; " " (tr!("Internal note (agents only)")) }
                            } @else if may_note {
                                input type="hidden" name="internal" value="1";
                                span.muted { (tr!("Internal note: your role writes notes only.")) }
                            }
                            label { (tr!("Time spent")) " " input type="number" name="minutes" min="0" max=(crate::desk::MAX_MINUTES) step="1" placeholder=(tr!("min")) aria-label=(tr!("Time spent in minutes")); }
                            @if may_edit {
                                label title=(tr!("The ticket's status once this is sent (Automatic: as the desk's rules say)")) { (tr!("Status after sending")) " "
                                    select name="status" {
                                        option value="" { (tr!("Automatic")) }
                                        @for s in &next_statuses { option value=(ui::status_value(s)) { (ui::status_label(s)) } }
                                    }
                                }
                            }
                            span #draftstate .muted.small role="status" aria-live="polite" {
                                @if let Some(at) = restored { (super::rich(tr!("Draft restored (saved {when})"), &[("when", &ui::when_at(at).into_string())])) }
                            }
                            button.primary #sendbtn type="submit" title=(tr!("Ctrl+Enter")) { @if may_reply { (tr!("Send reply")) } @else { (tr!("Add note")) } }
                        }
                    }
                }
            }
            aside.panel aria-label=(tr!("Ticket fields")) {
                @let following = p.following;
                form.follow method="post" action=(format!("/tickets/{r}/follow")) {
                    (csrf_field(&a.csrf))
                    input type="hidden" name="on" value=(if following { "0" } else { "1" });
                    button type="submit" title=(tr!("Followers get this ticket's notes and requester replies by mail")) { @if following { (tr!("★ Following — stop")) } @else { (tr!("☆ Follow")) } }
                }
                @if let Some(sla) = &v.sla {
                    section.sla-box aria-label=(tr!("Service level")) {
                        h3 { (tr!("SLA · {policy}", policy = sla.policy)) }
                        (ui::sla::targets(&desk.config(), sla, desk.now()))
                    }
                }
                @if !closed && may_edit {
                    form.claim method="post" action=(format!("/tickets/{r}/update")) {
                        (csrf_field(&a.csrf))
                        @if t.assignee == Some(a.person.id) {
                            input type="hidden" name="assignee" value="";
                            button #claimbtn type="submit" title=(tr!("Release (m)")) { (tr!("Release: unassign me")) }
                        } @else {
                            input type="hidden" name="assignee" value=(a.person.id);
                            button.primary #claimbtn type="submit" title=(tr!("Take it (m)")) { @if t.assignee.is_some() { (tr!("Take over")) } @else { (tr!("Take it")) } }
                        }
                    }
                }
                @if closed || !may_edit {
                    dl.fields {
                        dt { (tr!("Status")) } dd { (ui::ticket_status(&desk.config(), t)) }
                        dt { (tr!("Priority")) } dd { (crate::i18n::dynamic(t.priority.label())) }
                        dt { (tr!("Category")) } dd { (t.category) }
                        dt { (tr!("Department")) } dd { (t.department) }
                        dt { (tr!("Assignee")) } dd { @if t.assignee.is_some() { (name_of(v, t.assignee)) } @else { (tr!("Unassigned")) } }
                        @if let Some(team) = &t.team { dt { (tr!("Team")) } dd { (team) } }
                    }
                    @if closed && perms.has(Permission::Reopen) {
                        form method="post" action=(format!("/tickets/{r}/update")) {
                            (csrf_field(&a.csrf))
                            input type="hidden" name="status" value="open";
                            button.primary type="submit" { (tr!("Reopen ticket")) }
                        }
                    }
                } @else {
                    form.fields method="post" action=(format!("/tickets/{r}/update")) {
                        (csrf_field(&a.csrf))
                        label { (tr!("Status now")) select name="status" {
                            option value=(current) selected { (ui::status_text(&desk.config(), t)) }
                            @for s in &next_statuses { option value=(ui::status_value(s)) { (ui::status_label(s)) } }
                        } }
                        @let priorities: Vec<(&str, String)> = Priority::ALL.iter().map(|p| (p.key(), crate::i18n::dynamic(p.label()))).collect();
                        label { (tr!("Priority")) select name="priority" { (options(priorities.iter().map(|(k, l)| (*k, l.as_str())), t.priority.key())) } }
                        label { (tr!("Assignee")) select name="assignee" {
                            option value="" { (tr!("Unassigned")) }
                            @if let Some(id) = t.assignee.filter(|id| !agents.iter().any(|g| g.id == *id)) {
                                option value=(id) selected { (name_of(v, Some(id))) }
                            }
                            // The current assignee is always there, so saving other fields keeps them.
                            @for g in agents.iter().filter(|g| t.assignee == Some(g.id) || ((perms.has(Permission::Assign) || g.id == a.person.id) && desk.in_force((*g).clone()).works_in(&t.department))) { option value=(g.id) selected[t.assignee == Some(g.id)] { (g.display()) } }
                        } }
                        @if !desk.config().team.is_empty() {
                            label { (tr!("Team")) select name="team" disabled[!perms.has(Permission::Assign)] {
                                option value="" { (tr!("No team")) }
                                @for tm in desk.config().team.iter().filter(|tm| t.team.as_deref() == Some(tm.name.as_str()) || tm.departments.is_empty() || tm.departments.iter().any(|d| d.eq_ignore_ascii_case(&t.department))) {
                                    option value=(tm.name) selected[t.team.as_deref() == Some(tm.name.as_str())] { (tm.name) }
                                }
                            } }
                        }
                        label { (tr!("Category")) select name="category" { (options(cfg.categories.iter().map(|c| (c.as_str(), c.as_str())), &t.category)) } }
                        @if cfg.departments.len() > 1 {
                            label { (tr!("Department")) select name="department" { (options(cfg.departments.iter().map(|c| (c.as_str(), c.as_str())), &t.department)) } }
                        }
                        label { (tr!("Due date")) input type="date" name="due" value=(t.due.map(|d| d.to_string()).unwrap_or_default()); }
                        label { (tr!("Tags")) input type="text" name="tags" value=(t.tags.join(", ")) placeholder=(tr!("comma, separated")); }
                        (super::fields::inputs(&desk.config(), &t.department, |n| t.field(n)))
                        label { (tr!("Reason (optional)")) input type="text" name="reason" placeholder=(tr!("recorded in the log")); }
                        button type="submit" { (tr!("Save changes")) }
                    }
                }
                @if !closed && may_edit && !matches!(t.status, crate::domain::Status::Resolved) {
                    (super::snooze::snooze_box(&r, &a.csrf, desk.now(), &ui::viewer_tz(), v.snoozed_until))
                }
                (super::checklist::checklist_box(st, a, v, &v.checklist, &p.agents))
                (super::actions::related_box(st, a, v))
                div.infobox {
                    (super::people::people_box(st, a, v))
                    h3 { (tr!("Details")) }
                    dl.fields.small {
                        dt { (tr!("Reference")) } dd { (r) }
                        dt { (tr!("Channel")) } dd { (crate::i18n::dynamic(t.channel.label())) }
                        @if let Ok(Some(rating)) = desk.rating(t.id) { dt { (tr!("Satisfaction")) } dd { (ui::rating(&rating)) } }
                        dt { (tr!("Created")) } dd { (crate::web::ui::when_at(t.created_at)) }
                        dt { (tr!("Updated")) } dd { (crate::web::ui::when_at(t.updated_at)) }
                        @if let Some(d) = t.due { dt { (tr!("Due")) } dd { (d.to_string()) } }
                        @if !t.tags.is_empty() { dt { (tr!("Tags")) } dd { @for tag in &t.tags { span.tag { (tag) } " " } } }
                        @for (label, value) in super::fields::shown(&desk.config(), t) { dt { (label) } dd { (value) } }
                        @let (total, by) = v.time_by_agent();
                        @if total > 0 {
                            dt { (tr!("Time spent")) }
                            dd { (duration(total)) @if by.len() > 1 { @for (who, m) in &by { br; span.muted { (name_of(v, Some(*who))) ": " (duration(*m)) } } } }
                        }
                    }
                }
            }
        }
    }
}

pub async fn ticket_page(State(st): State<AppState>, a: Agent, t: TicketPath, Query(q): Query<DoneQuery>) -> WebResult {
    let p = load(&st, &a, t.id)?;
    if t.reference != st.desk.reference(p.v.ticket.id) {
        return Ok(Redirect::to(&format!("/tickets/{}", st.desk.reference(p.v.ticket.id))).into_response());
    }
    // Its customer replies are read now (the queue's unread marker).
    let id = p.v.ticket.id;
    if let Err(e) = crate::web::run_as(&st.desk, &a.person, move |d, who| d.mark_opened(who, id)).await {
        tracing::warn!("could not note that the ticket was opened: {e}");
    }
    let flash = match (&q.merged, q.held) {
        (Some(old), _) => Some(("ok", tr!("{old} was merged into this ticket.", old = old))),
        (None, Some(seen)) => crossed(&p.v, seen, &a.person).first().map(|who| ("collision", held_message(who))),
        (None, None) => done_message(q.done.as_deref()).map(|m| ("ok", m.to_string())),
    };
    Ok(render(&st, &a, &p, StatusCode::OK, flash, ""))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ReplyForm {
    body: String,
    internal: Option<String>,
    status: Option<String>,
    /// The last thread entry the agent saw when the page was drawn.
    seen: Option<String>,
    /// Send even though another agent replied meanwhile.
    force: Option<String>,
    /// The form had the "Email this reply" box (`mail` is then its state;
    /// without the box, as from older pages, replies are mailed).
    mail_shown: Option<String>,
    mail: Option<String>,
    /// Minutes of work to record with it.
    minutes: Option<String>,
}

/// The agents who answered the requester after entry `seen` (not `me`).
fn crossed(v: &TicketView, seen: u32, me: &Person) -> Vec<String> {
    v.entries
        .iter()
        .filter(|e| {
            e.seq > seen
                && e.kind == EntryKind::Reply
                && e.author.is_some_and(|w| w != me.id && v.people.get(&w).is_some_and(|p| p.is_staff()))
        })
        .map(|e| name_of(v, e.author))
        .collect()
}

fn held_message(who: &str) -> String {
    tr!(
        "{who} replied to the requester while you were writing (see the thread). Your reply was not sent and is kept below; read theirs, then send yours again to send it anyway.",
        who = who
    )
}

/// Minutes as "1 h 15 min".
fn duration(minutes: u64) -> String {
    match (minutes / 60, minutes % 60) {
        (0, m) => tr!("{m} min", m = m),
        (h, 0) => tr!("{h} h", h = h),
        (h, m) => tr!("{h} h {m} min", h = h, m = m),
    }
}

/// Re-renders the ticket page with an error and the user's draft kept.
fn ticket_error(st: &AppState, a: &Agent, id: TicketId, e: DeskError, draft: &str) -> WebError {
    if matches!(e, DeskError::NotFound | DeskError::Store(_)) {
        return e.into();
    }
    match load(st, a, id) {
        Ok(p) => render(st, a, &p, status_of(&e), Some(("error", crate::web::error::desk_message(&e))), draft).into(),
        Err(other) => other,
    }
}

/// Reads the reply form: urlencoded, or multipart with attached files.
async fn read_reply_form(st: &AppState, req: axum::extract::Request) -> Result<(ReplyForm, Vec<crate::web::body::Upload>), DeskError> {
    let (fields, files) =
        crate::web::body::fields_and_files(st, req).await.map_err(|m| DeskError::Invalid { field: "form", message: m })?;
    let mut f = ReplyForm::default();
    for (name, value) in fields {
        match name.as_str() {
            "body" => f.body = value,
            "internal" => f.internal = Some(value),
            "status" => f.status = Some(value),
            "seen" => f.seen = Some(value),
            "force" => f.force = Some(value),
            "mail_shown" => f.mail_shown = Some(value),
            "mail" => f.mail = Some(value),
            "minutes" => f.minutes = Some(value),
            _ => {}
        }
    }
    Ok((f, files))
}

pub async fn reply(State(st): State<AppState>, a: Agent, t: TicketPath, req: axum::extract::Request) -> WebResult {
    let id = t.id;
    let (f, files) = read_reply_form(&st, req).await.map_err(|e| ticket_error(&st, &a, id, e, ""))?;
    let internal = f.internal.is_some();
    let status = match nonempty(&f.status) {
        Some(s) => Some(st.desk.config().status_choice(s).ok_or_else(|| {
            ticket_error(
                &st,
                &a,
                id,
                DeskError::Invalid { field: "status", message: tr!("{value} is not a status", value = format!("{s:?}")) },
                &f.body,
            )
        })?),
        None => None,
    };
    // Collision: another agent answered the requester after this page was drawn.
    if !internal
        && f.force.is_none()
        && let Some(seen) = f.seen.as_deref().and_then(|s| s.parse::<u32>().ok())
    {
        let p = load(&st, &a, id)?;
        if !crossed(&p.v, seen, &a.person).is_empty() {
            // Held: the text becomes the agent's draft and the page is
            // fetched anew (no token in its address, nothing re-posted on reload).
            let (actor, body) = (a.person.clone(), f.body.clone());
            blocking(&st.desk, move |d| d.save_draft(&actor, id, &body, false, None))
                .await
                .map_err(|e| ticket_error(&st, &a, id, e, &f.body))?;
            return Ok(Redirect::to(&format!("/tickets/{}?held={seen}#reply", st.desk.reference(id))).into_response());
        }
    }
    let actor = a.person.clone();
    let mail = f.mail_shown.is_none() || f.mail.is_some();
    let (status, custom_status) = match status {
        Some(c) => (Some(c.base), c.custom),
        None => (None, None),
    };
    let minutes = match nonempty(&f.minutes) {
        Some(m) => m.parse::<u32>().map_err(|_| {
            ticket_error(
                &st,
                &a,
                id,
                DeskError::Invalid { field: "time_spent", message: tr!("{value} is not a number of minutes", value = format!("{m:?}")) },
                &f.body,
            )
        })?,
        None => 0,
    };
    let entry = crate::desk::NewEntry { body: f.body.clone(), internal, status, custom_status, files, mail, minutes };
    let e = blocking(&st.desk, move |d| d.post_entry(&actor, id, entry)).await.map_err(|e| ticket_error(&st, &a, id, e, &f.body))?;
    let done = if internal { "note" } else { "reply" };
    Ok(Redirect::to(&format!("/tickets/{}?done={done}#e{}", st.desk.reference(id), e.seq)).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct UpdateForm {
    /// Why (optional; recorded in the log beside each change).
    reason: Option<String>,
    status: Option<String>,
    priority: Option<String>,
    assignee: Option<String>,
    category: Option<String>,
    department: Option<String>,
    due: Option<String>,
    tags: Option<String>,
    team: Option<String>,
    /// RFC 3339, or a local date and time in the agent's zone.
    snooze_until: Option<String>,
}

fn parse_patch(cfg: &crate::config::Config, f: &UpdateForm, fields: Vec<(String, Vec<String>)>) -> Result<TicketPatch, DeskError> {
    let bad = |field: &'static str, v: &str| DeskError::Invalid { field, message: tr!("{value} is not valid", value = format!("{v:?}")) };
    let status = nonempty(&f.status).map(|s| cfg.status_choice(s).ok_or_else(|| bad("status", s))).transpose()?;
    Ok(TicketPatch {
        subject: None,
        status: status.as_ref().map(|c| c.base),
        custom_status: status.and_then(|c| c.custom),
        priority: nonempty(&f.priority).map(|s| Priority::parse(s).ok_or_else(|| bad("priority", s))).transpose()?,
        category: nonempty(&f.category).map(str::to_string),
        department: nonempty(&f.department).map(str::to_string),
        assignee: match &f.assignee {
            None => None,
            Some(s) if s.trim().is_empty() => Some(None),
            Some(s) => Some(Some(PersonId(s.trim().parse::<u64>().map_err(|_| bad("assignee", s))?))),
        },
        due: match &f.due {
            None => None,
            Some(s) if s.trim().is_empty() => Some(None),
            Some(s) => Some(Some(Date::parse(s).ok_or_else(|| bad("due", s))?)),
        },
        tags: f.tags.as_ref().map(|t| vec![t.clone()]),
        team: f.team.as_ref().map(|t| Some(t.trim().to_string()).filter(|t| !t.is_empty())),
        fields,
        snooze_until: match nonempty(&f.snooze_until) {
            Some(s) => Some(super::snooze::parse_instant(s, Some(&ui::viewer_tz())).ok_or_else(|| bad("snooze_until", s))?),
            None => None,
        },
    })
}

pub async fn update(State(st): State<AppState>, a: Agent, t: TicketPath, body: axum::body::Bytes) -> WebResult {
    let cfg = st.desk.config();
    let id = t.id;
    let bad = |e: serde_urlencoded::de::Error| DeskError::Invalid { field: "form", message: e.to_string() };
    let f: UpdateForm = serde_urlencoded::from_bytes(&body).map_err(|e| ticket_error(&st, &a, id, bad(e), ""))?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).map_err(|e| ticket_error(&st, &a, id, bad(e), ""))?;
    let before = st.desk.ticket_view(&a.person, id)?.ticket;
    // The fields the ticket has in the department it ends up in (a move
    // leaves the old department's own fields behind).
    let department = nonempty(&f.department).and_then(|d| cfg.department(d)).unwrap_or(&before.department).to_string();
    let fields = super::fields::from_form(&cfg, &department, &pairs);
    let patch = parse_patch(&cfg, &f, fields).map_err(|e| ticket_error(&st, &a, id, e, ""))?;
    let (actor, reason) = (a.person.clone(), f.reason.clone().unwrap_or_default());
    let after = blocking(&st.desk, move |d| d.update_ticket_because(&actor, id, patch, &reason))
        .await
        .map_err(|e| ticket_error(&st, &a, id, e, ""))?;
    let done = if after == before { "unchanged" } else { "saved" };
    Ok(Redirect::to(&format!("/tickets/{}?done={done}", st.desk.reference(id))).into_response())
}

/// A canned response rendered for this ticket (plain text, for the reply box).
pub async fn canned(State(st): State<AppState>, a: Agent, t: TicketPath, Path((_, idx)): Path<(String, String)>) -> WebResult {
    let actor = a.person.clone();
    let text = blocking(&st.desk, move |d| d.render_canned(&actor, t.id, &idx)).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct FollowForm {
    on: String,
}

pub async fn follow(State(st): State<AppState>, a: Agent, t: TicketPath, Form(f): Form<FollowForm>) -> WebResult {
    let id = t.id;
    let on = f.on == "1";
    run_as(&st.desk, &a.person, move |d, me| d.set_following(me, id, on)).await?;
    Ok(Redirect::to(&format!("/tickets/{}", st.desk.reference(id))).into_response())
}
