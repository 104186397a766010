//! The agent UI: the queue with its sidebar and bulk bar, the ticket page with
//! reply and field edits, canned responses and following. Login is in
//! `login`, new tickets in `new_ticket`, people and the jump box in `people`.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::table::{Column, TableOpts, ticket_list};
use super::views::{self, Frame, csrf_field, options, page, priority_badge, status_badge};
use super::{Agent, AppState, PageError};
use crate::desk::{DeskError, TicketPatch, TicketView};
use crate::domain::time::Date;
use crate::domain::{EntryKind, Person, Priority, Status, Ticket};
use crate::store::{AssigneeFilter, Sort, TicketQuery};

type PageResult = Result<Response, Response>;

pub(crate) fn fail(st: &AppState, e: DeskError) -> Response {
    PageError(e).render(&st.desk.config.desk.name)
}

pub(crate) fn frame<'a>(st: &'a AppState, a: &'a Agent, title: String, area: &'a str) -> Frame<'a> {
    Frame { desk_name: &st.desk.config.desk.name, title, user: Some(&a.person), csrf: &a.csrf, area }
}

/// Only same-site paths are followed after login.
/// Where to go after logging in: a path on this site only. Browsers drop tab,
/// CR and LF inside URLs and read `\\` as `/`, so `/\t/evil.test` and `/\\evil.test`
/// would leave the site; the path is normalised the same way before it is
/// checked, and anything but plain printable ASCII is refused.
pub(crate) fn safe_next(next: Option<&str>) -> String {
    let fallback = || "/tickets".to_string();
    let Some(n) = next else { return fallback() };
    let n: String = n
        .trim_matches(|c: char| c.is_ascii_control() || c == ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .map(|c| if c == '\\' { '/' } else { c })
        .collect();
    let printable = n.bytes().all(|b| (0x21..0x7f).contains(&b));
    if printable && n.starts_with('/') && !n.starts_with("//") { n } else { fallback() }
}

/// "12 KB" style sizes.
fn human_size(n: u64) -> String {
    match n {
        0..=1023 => format!("{n} B"),
        1024..=1_048_575 => format!("{:.0} KB", n as f64 / 1024.0),
        _ => format!("{:.1} MB", n as f64 / 1_048_576.0),
    }
}

// ---------------------------------------------------------------- queue

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct QueueParams {
    pub status: Option<String>,
    pub assignee: Option<String>,
    pub priority: Option<String>,
    pub category: Option<String>,
    pub department: Option<String>,
    pub sort: Option<String>,
    pub page: Option<usize>,
    /// Chosen columns as one comma list (the picker's `col` boxes are read
    /// from the raw query).
    pub cols: Option<String>,
}

fn nonempty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Turns queue parameters (UI or API) into a query; bad values name their field.
pub fn build_query(
    st: &AppState,
    me: &Person,
    p: &QueueParams,
    resolve_assignee: impl Fn(&str) -> Option<u64>,
) -> Result<TicketQuery, DeskError> {
    let bad = |field: &'static str, v: &str, hint: &str| DeskError::Invalid { field, message: format!("{v:?} is not valid; use {hint}") };
    let statuses = match nonempty(&p.status).unwrap_or("active") {
        "active" => Status::ALL.iter().copied().filter(|s| s.is_active()).collect(),
        "all" | "any" => Vec::new(),
        s => {
            vec![Status::parse(s).ok_or_else(|| bad("status", s, "active, all, open, pending, in_progress, on_hold, resolved or closed"))?]
        }
    };
    let assignee = match nonempty(&p.assignee).unwrap_or("any") {
        "any" | "anyone" => AssigneeFilter::Any,
        "me" | "mine" => AssigneeFilter::Person(me.id),
        "unassigned" | "none" => AssigneeFilter::Unassigned,
        other => AssigneeFilter::Person(resolve_assignee(other).ok_or_else(|| bad("assignee", other, "me, unassigned, any, or an agent"))?),
    };
    let priority =
        nonempty(&p.priority).map(|v| Priority::parse(v).ok_or_else(|| bad("priority", v, "urgent, high, medium or low"))).transpose()?;
    let category = nonempty(&p.category)
        .map(|v| st.desk.config.category(v).map(str::to_string).ok_or_else(|| bad("category", v, "a configured category")))
        .transpose()?;
    let department = nonempty(&p.department)
        .map(|v| st.desk.config.department(v).map(str::to_string).ok_or_else(|| bad("department", v, "a configured department")))
        .transpose()?;
    let sort = match nonempty(&p.sort) {
        None => Sort::Updated,
        Some(v) => Sort::parse(v).ok_or_else(|| bad("sort", v, "updated, updated_asc, created, created_asc or priority"))?,
    };
    let limit = st.desk.config.limits.page_size;
    let page = p.page.unwrap_or(1).clamp(1, crate::desk::workflow::MAX_QUEUE_OFFSET / limit.max(1) + 1);
    Ok(TicketQuery {
        statuses,
        assignee,
        priority,
        category,
        department,
        requester: None,
        visible_departments: None,
        sort,
        offset: (page - 1) * limit,
        limit,
    })
}

fn queue_link(p: &QueueParams, page: usize) -> String {
    let mut parts = Vec::new();
    for (k, v) in [
        ("status", &p.status),
        ("assignee", &p.assignee),
        ("priority", &p.priority),
        ("category", &p.category),
        ("department", &p.department),
        ("sort", &p.sort),
    ] {
        if let Some(v) = nonempty(v) {
            parts.push(format!("{k}={}", percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)));
        }
    }
    if let Some(c) = nonempty(&p.cols) {
        parts.push(format!("cols={}", percent_encoding::utf8_percent_encode(c, percent_encoding::NON_ALPHANUMERIC)));
    }
    if page > 1 {
        parts.push(format!("page={page}"));
    }
    if parts.is_empty() { "/tickets".into() } else { format!("/tickets?{}", parts.join("&")) }
}

pub(crate) fn ticket_table(st: &AppState, tickets: &[Ticket], people: &HashMap<u64, Person>, show_requester: bool) -> Markup {
    let cols: Vec<Column> = Column::DEFAULT.iter().copied().filter(|c| show_requester || *c != Column::Requester).collect();
    ticket_list(st, tickets, people, &TableOpts { columns: &cols, select: false, snippets: None })
}

pub async fn queue(State(st): State<AppState>, a: Agent, RawQuery(raw): RawQuery, Query(mut p): Query<QueueParams>) -> PageResult {
    if let Some(picked) = super::search::picked_columns(raw.as_deref()) {
        p.cols = Some(picked);
    }
    let desk = &st.desk;
    let agents = desk.agents().map_err(|e| fail(&st, e))?;
    let q = build_query(&st, &a.person, &p, |s| s.parse::<u64>().ok().filter(|id| agents.iter().any(|g| g.id == *id)))
        .map_err(|e| fail(&st, e))?;
    let page_no = q.offset / q.limit + 1;
    let (tickets, more, people) = desk.queue(&a.person, q).map_err(|e| fail(&st, e))?;
    let cfg = &desk.config.desk;
    let status_v = nonempty(&p.status).unwrap_or("active");
    let assignee_v = nonempty(&p.assignee).unwrap_or("any");
    let title = match (status_v, assignee_v) {
        ("active", "unassigned") if nonempty(&p.priority) == Some("urgent") => "Urgent unassigned".to_string(),
        ("active", "me") => "My open tickets".to_string(),
        ("active", "unassigned") => "Unassigned".to_string(),
        ("active", _) => "Active tickets".to_string(),
        ("all", _) => "All tickets".to_string(),
        (s, _) => Status::parse(s).map(|s| s.label().to_string()).unwrap_or_default(),
    };
    let mut status_opts: Vec<(String, String)> =
        vec![("active".into(), "Active (not resolved/closed)".into()), ("all".into(), "All statuses".into())];
    status_opts.extend(Status::ALL.iter().map(|s| (s.key().to_string(), s.label().to_string())));
    let mut assignee_opts: Vec<(String, String)> =
        vec![("any".into(), "Anyone".into()), ("me".into(), "Me".into()), ("unassigned".into(), "Unassigned".into())];
    assignee_opts.extend(agents.iter().map(|g| (g.id.to_string(), g.display())));
    let sel = |v: &Option<String>| nonempty(v).unwrap_or("").to_string();
    let prio_v = nonempty(&p.priority).unwrap_or("");
    let view_key = match (status_v, assignee_v, prio_v) {
        ("active", "me", "") => "mine",
        ("active", "unassigned", "") => "unassigned",
        ("active", "unassigned", "urgent") => "urgent",
        ("active", "any", "") => "open",
        ("all", "any", "") => "recent",
        ("pending", "any", "") => "pending",
        ("on_hold", "any", "") => "on_hold",
        _ => "",
    };
    let sidebar = sidebar(&st, &a, view_key).map_err(|e| fail(&st, e))?;
    let cols = Column::parse_list(p.cols.as_deref());
    let body = html! {
        div.queue-layout {
            (sidebar)
            section.queue {
                div.queue-head {
                    h1 { (title) }
                    a.button.primary href="/tickets/new" { "New ticket" }
                }
                form.filters method="get" action="/tickets" data-autosubmit {
                    label { "Status" select name="status" { @for (v, l) in &status_opts { option value=(v) selected[*v == status_v] { (l) } } } }
                    label { "Assignee" select name="assignee" { @for (v, l) in &assignee_opts { option value=(v) selected[*v == assignee_v] { (l) } } } }
                    label { "Priority" select name="priority" { option value="" { "Any" } (options(Priority::ALL.iter().map(|p| (p.key(), p.label())), &sel(&p.priority))) } }
                    label { "Category" select name="category" { option value="" { "Any" } (options(cfg.categories.iter().map(|c| (c.as_str(), c.as_str())), &sel(&p.category))) } }
                    @if cfg.departments.len() > 1 {
                        label { "Department" select name="department" { option value="" { "Any" } (options(cfg.departments.iter().map(|c| (c.as_str(), c.as_str())), &sel(&p.department))) } }
                    }
                    label { "Sort" select name="sort" { (options(Sort::ALL.iter().map(|s| (s.key(), s.label())), nonempty(&p.sort).unwrap_or("updated"))) } }
                    (super::table::column_picker(&cols))
                    noscript { button type="submit" { "Apply" } }
                }
                @if tickets.is_empty() {
                    (views::empty("No tickets match these filters."))
                } @else {
                    (bulk_bar(&st, &a, &queue_search(&p), usize::MAX))
                    (ticket_list(&st, &tickets, &people, &TableOpts { columns: &cols, select: true, snippets: None }))
                }
                nav.pager {
                    @if page_no > 1 { a.button href=(queue_link(&p, page_no - 1)) rel="prev" { "← Newer" } } @else { span {} }
                    span.muted { "Page " (page_no) " · " a href=(queue_link(&p, 1).replacen("/tickets", "/tickets.csv", 1)) { "Export CSV" } }
                    @if more { a.button href=(queue_link(&p, page_no + 1)) rel="next" { "Older →" } } @else { span {} }
                }
            }
        }
    };
    Ok(page(&frame(&st, &a, title.clone(), "queue"), body).into_response())
}

/// The same tickets as a queue's filters, in the search grammar (bulk
/// "select all matching" runs on it).
fn queue_search(p: &QueueParams) -> String {
    let mut q = Vec::new();
    match nonempty(&p.status).unwrap_or("active") {
        "all" | "any" => {}
        s => q.push(format!("status:{s}")),
    }
    match nonempty(&p.assignee).unwrap_or("any") {
        "any" | "anyone" => {}
        "mine" => q.push("assignee:me".into()),
        "unassigned" => q.push("assignee:none".into()),
        a => q.push(format!("assignee:{a}")),
    }
    for (k, v) in [("priority", &p.priority), ("category", &p.category), ("dept", &p.department)] {
        if let Some(v) = nonempty(v) {
            q.push(format!("{k}:\"{v}\""));
        }
    }
    q.join(" ")
}

/// The views sidebar with live counts; `active` names the view shown.
pub(crate) fn sidebar(st: &AppState, a: &Agent, active: &str) -> Result<Markup, DeskError> {
    let c = st.desk.sidebar_counts(&a.person)?;
    let on = |k: &str| if k == active { "on" } else { "" };
    let count = |n: u64| html! { span.count { (n) } };
    let enc = super::search::enc;
    let pending = c.by_status.iter().find(|(s, _)| *s == Status::Pending).map(|x| x.1).unwrap_or(0);
    let on_hold = c.by_status.iter().find(|(s, _)| *s == Status::OnHold).map(|x| x.1).unwrap_or(0);
    Ok(html! {
        aside.sidebar {
            h2 { "Views" }
            nav.views {
                a href="/tickets?assignee=me" class=(on("mine")) { "My open tickets" (count(c.my_open)) }
                a href="/tickets?assignee=unassigned" class=(on("unassigned")) { "Unassigned" (count(c.unassigned)) }
                a href="/tickets?assignee=unassigned&priority=urgent" class=(on("urgent")) { "Urgent unassigned" (count(c.urgent_unassigned)) }
                a href="/tickets/following" class=(on("following")) { "Following" (count(c.following)) }
                a href="/tickets?status=pending" class=(on("pending")) { "Pending" (count(pending)) }
                a href="/tickets?status=on_hold" class=(on("on_hold")) { "On hold" (count(on_hold)) }
                a href="/tickets?status=all&sort=updated" class=(on("recent")) { "Recently updated" }
                a href="/tickets" class=(on("open")) { "All open" (count(c.all_open)) }
                a href="/junk" class=(on("junk")) { "Junk" (count(c.junk)) }
                a href="/trash" class=(on("trash")) { "Trash" (count(c.trash)) }
            }
            @if !c.shared.is_empty() {
                h2 { "Team views" }
                nav.views {
                    @for v in &c.shared {
                        a href=(format!("/search?q={}&cols={}", enc(&v.query), enc(&v.columns))) title=(v.query) {
                            (v.name) @if let Some(n) = v.count { span.count { (n) } }
                        }
                    }
                }
            }
            @if !c.saved.is_empty() {
                h2 { "My searches" }
                nav.views {
                    @for v in &c.saved {
                        a href=(format!("/search?q={}&cols={}", enc(&v.query), enc(&v.columns))) title=(v.query) {
                            (v.name) @if let Some(n) = v.count { span.count { (n) } }
                        }
                    }
                }
            }
            h2 { "By status" }
            nav.views {
                @for (s, n) in &c.by_status {
                    a href=(format!("/tickets?status={}", s.key())) class=(on(s.key())) { (status_badge(*s)) span.count { (n) } }
                }
            }
        }
    })
}

/// The bulk-action bar above a list: acts on the ticked rows, or on every
/// ticket matching `all_query` ("select all matching").
pub(crate) fn bulk_bar(st: &AppState, a: &Agent, all_query: &str, total: usize) -> Markup {
    let agents = st.desk.agents().unwrap_or_default();
    let cfg = &st.desk.config.desk;
    html! {
        form #bulk .bulkbar method="post" action="/tickets/bulk" {
            (views::csrf_field(&a.csrf))
            input type="hidden" name="all_query" value=(all_query);
            label.selall { input type="checkbox" name="all" value="1"; " all matching" @if total != usize::MAX { " (" (total) ")" } }
            select name="action" aria-label="Bulk action" {
                option value="" { "Bulk action…" }
                optgroup label="Assign" {
                    option value="assign:me" { "Assign to me" }
                    option value="assign:none" { "Unassign" }
                    @for g in &agents { option value=(format!("assign:{}", g.id)) { "Assign to " (g.display()) } }
                }
                optgroup label="Status" { @for s in Status::ALL { option value=(format!("status:{}", s.key())) { "Status → " (s.label()) } } }
                optgroup label="Priority" { @for p in Priority::ALL { option value=(format!("priority:{}", p.key())) { "Priority → " (p.label()) } } }
                optgroup label="Category" { @for c in &cfg.categories { option value=(format!("category:{c}")) { "Category → " (c) } } }
                optgroup label="Other" {
                    option value="tag" { "Add tag (type it →)" }
                    option value="untag" { "Remove tag (type it →)" }
                    option value="merge" { "Merge into the oldest selected" }
                    @if a.person.is_admin() { option value="trash" { "Move to Trash" } }
                    @if a.person.is_admin() { option value="junk" { "Junk and ban sender" } }
                }
            }
            input type="text" name="value" placeholder="tag" aria-label="Tag for add/remove tag" size="10";
            button type="submit" { "Apply" }
        }
    }
}

// ---------------------------------------------------------------- ticket page

fn lookup(st: &AppState, a: &Agent, reference: &str) -> Result<TicketView, Response> {
    let id = st.desk.parse_reference(reference).ok_or_else(|| fail(st, DeskError::NotFound))?;
    match st.desk.ticket_view(&a.person, id) {
        Err(DeskError::NotFound) => {
            // A merged-away reference still resolves: to the survivor.
            let to = st.desk.survivor(id).map_err(|e| fail(st, e))?;
            if to != id {
                return Err(Redirect::to(&format!("/tickets/{}?merged={}", st.desk.reference(to), st.desk.reference(id))).into_response());
            }
            Err(fail(st, DeskError::NotFound))
        }
        other => other.map_err(|e| fail(st, e)),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DoneQuery {
    done: Option<String>,
    merged: Option<String>,
}

fn done_message(done: Option<&str>) -> Option<&'static str> {
    match done? {
        "reply" => Some("Reply added."),
        "note" => Some("Internal note added."),
        "saved" => Some("Changes saved."),
        "created" => Some("Ticket created."),
        "unchanged" => Some("Nothing changed."),
        "merged" => Some("Tickets merged."),
        "linked" => Some("Link saved."),
        "trashed" => Some("Moved to Trash."),
        "restored" => Some("Restored from Trash."),
        _ => None,
    }
}

fn cfg_days(st: &AppState) -> u32 {
    st.desk.config.workflow.trash_days
}

fn ticket_body(st: &AppState, a: &Agent, v: &TicketView, agents: &[Person], flash: Option<(&str, String)>, draft: &str) -> Markup {
    let desk = &st.desk;
    let t = &v.ticket;
    let r = desk.reference(t.id);
    let now = desk.now();
    let requester = v.people.get(&t.requester);
    let closed = t.is_closed();
    let cfg = &desk.config.desk;
    let next_statuses: Vec<Status> = Status::ALL.iter().copied().filter(|s| t.status.can_become(*s)).collect();
    html! {
        div.ticket-head {
            div.crumbs { a href="/tickets" { "Queue" } " / " span.ref { (r) } }
            h1 #subject { (t.subject) }
            @if !closed {
                details.subject-edit {
                    summary title="Edit the subject (e)" { "Edit subject" }
                    form.inline method="post" action=(format!("/tickets/{r}/subject")) {
                        (csrf_field(&a.csrf))
                        input type="text" name="subject" value=(t.subject) aria-label="Subject" required maxlength=(desk.config.limits.subject_max_chars);
                        input type="text" name="reason" placeholder="Reason (optional, goes in the log)" aria-label="Reason for the change";
                        button type="submit" { "Save" }
                    }
                }
            }
            div.meta {
                (status_badge(t.status)) (priority_badge(t.priority))
                span.muted { "opened " (t.created_at.ago(now)) " via " (t.channel.label()) }
                @if let Some(p) = requester { span { "by " a href=(format!("/requesters/{}", p.id)) { (p.display()) } } }
            }
        }
        @if let Some((kind, msg)) = &flash { (views::notice(if *kind == "collision" { "error" } else { kind }, msg)) }
        div #presence .presence role="status" aria-live="polite" data-url=(format!("/tickets/{r}/presence")) {}
        @if let Some(at) = v.trashed_at {
            div.notice.error role="status" {
                "This ticket is in Trash since " (at.short()) "; it is purged after " (cfg_days(st)) " days."
                @if a.person.is_admin() {
                    form.inline method="post" action=(format!("/tickets/{r}/trash")) { (csrf_field(&a.csrf)) input type="hidden" name="on" value="0"; button type="submit" { "Restore" } }
                }
            }
        }
        div.ticket-layout {
            section.thread aria-label="Conversation" {
                @for e in &v.entries {
                    @match e.kind {
                        EntryKind::Event => {
                            div.event id=(format!("e{}", e.seq)) {
                                span.who { (v.name_of(e.author)) } " " (e.text()) " "
                                time.muted datetime=(e.created_at.rfc3339()) title=(e.created_at.rfc3339()) { (e.created_at.ago(now)) }
                            }
                        }
                        kind => {
                            @let is_requester = e.author == Some(t.requester);
                            article id=(format!("e{}", e.seq)) class=(match (kind, is_requester) { (EntryKind::Note, _) => "entry note", (_, true) => "entry customer", _ => "entry reply" }) {
                                @let mail = v.mail.get(&e.seq);
                                header {
                                    span.who { (v.name_of(e.author)) }
                                    span.kind { @if kind == EntryKind::Note { "Internal note" } @else if is_requester { "Requester" } @else { "Public reply" } @if mail.is_some() { " · by email" } }
                                    time.muted datetime=(e.created_at.rfc3339()) title=(e.created_at.rfc3339()) { (e.created_at.short()) }
                                }
                                @if let Some(m) = mail {
                                    div.mailmeta {
                                        div { span.k { "From" } (m.from) @if let Some(f) = &m.forwarded_by { span.muted { " (forwarded by " (f) ")" } } }
                                        @if !m.to.is_empty() { div { span.k { "To" } (m.to.join(", ")) } }
                                        @if !m.cc.is_empty() { div { span.k { "Cc" } (m.cc.join(", ")) } }
                                    }
                                }
                                @if e.body.trim().is_empty() { div.textbody.muted { "(no text)" } } @else { (views::text_block(&e.body)) }
                                @if !e.attachments.is_empty() {
                                    ul.attachments {
                                        @for (i, att) in e.attachments.iter().enumerate() {
                                            @let url = format!("/tickets/{r}/attachments/{}/{i}", e.seq);
                                            li {
                                                @if super::mail::previewable(&att.content_type) {
                                                    a.preview href=(format!("{url}?inline=1")) target="_blank" rel="noopener" { img src=(format!("{url}?inline=1")) alt=(att.filename) loading="lazy"; }
                                                }
                                                a href=(url) download { (att.filename) } " " span.muted { (human_size(att.size)) }
                                            }
                                        }
                                    }
                                }
                                @if let Some(m) = mail {
                                    div.mailtools {
                                        @if let Some(full) = &m.full_text { details { summary { "Show quoted text" } (views::text_block(full)) } }
                                        @if m.html_blob.is_some() {
                                            details.htmlview { summary { "Show formatted (HTML)" } iframe sandbox="allow-popups allow-popups-to-escape-sandbox" src=(format!("/tickets/{r}/entries/{}/html", e.seq)) loading="lazy" title="Formatted message" {} }
                                        }
                                        a href=(format!("/tickets/{r}/entries/{}/source", e.seq)) target="_blank" { "View original" }
                                    }
                                }
                            }
                        }
                    }
                }
                @if closed {
                    div.closed-note { "This ticket is closed and read-only." @if a.person.is_admin() { " Reopen it from the panel to write to it." } @else { " Only an admin can reopen it." } }
                } @else {
                    form.replybox #reply method="post" enctype="multipart/form-data" action=(format!("/tickets/{r}/reply?_csrf={}", a.csrf)) {
                        @let canned = desk.canned_for(t, &a.person);
                        @if !canned.is_empty() {
                            div.canned-pick {
                                input #canned type="search" list="canned-list" placeholder="Insert a canned response… (type to search)" aria-label="Search and insert a canned response" data-url=(format!("/tickets/{r}/canned/")) autocomplete="off";
                                datalist #canned-list { @for (key, name) in &canned { option value=(name) data-key=(key) {} } }
                            }
                        }
                        input type="hidden" name="seen" value=(v.entries.last().map(|e| e.seq).unwrap_or(0));
                        @if matches!(flash, Some(("collision", _))) { input type="hidden" name="force" value="1"; }
                        textarea #replytext name="body" rows="6" placeholder="Write a reply to the requester… (r)" { (draft) }
                        div.reply-actions {
                            label.files title="Attach files" { "Attach " input type="file" name="files" multiple; }
                            label.toggle { input #internal type="checkbox" name="internal" value="1"; " Internal note (agents only)" }
                            label { "Then set status "
                                select name="status" {
                                    option value="" { "Automatic" }
                                    @for s in &next_statuses { option value=(s.key()) { (s.label()) } }
                                }
                            }
                            button.primary #sendbtn type="submit" title="Ctrl+Enter" { "Send reply" }
                        }
                    }
                }
            }
            aside.panel aria-label="Ticket fields" {
                @let following = desk.is_following(&a.person, t.id).unwrap_or(false);
                form.follow method="post" action=(format!("/tickets/{r}/follow")) {
                    (csrf_field(&a.csrf))
                    input type="hidden" name="on" value=(if following { "0" } else { "1" });
                    button type="submit" title="Followers get this ticket's notes and requester replies by mail" { @if following { "★ Following — stop" } @else { "☆ Follow" } }
                }
                @if !closed {
                    form.claim method="post" action=(format!("/tickets/{r}/update")) {
                        (csrf_field(&a.csrf))
                        @if t.assignee == Some(a.person.id) {
                            input type="hidden" name="assignee" value="";
                            button #claimbtn type="submit" title="Release (m)" { "Release: unassign me" }
                        } @else {
                            input type="hidden" name="assignee" value=(a.person.id);
                            button.primary #claimbtn type="submit" title="Take it (m)" { @if t.assignee.is_some() { "Take over" } @else { "Take it" } }
                        }
                    }
                }
                @if closed {
                    dl.fields {
                        dt { "Status" } dd { (status_badge(t.status)) }
                        dt { "Priority" } dd { (t.priority.label()) }
                        dt { "Category" } dd { (t.category) }
                        dt { "Department" } dd { (t.department) }
                        dt { "Assignee" } dd { (v.name_of(t.assignee).replace("System", "Unassigned")) }
                    }
                    @if a.person.is_admin() {
                        form method="post" action=(format!("/tickets/{r}/update")) {
                            (csrf_field(&a.csrf))
                            input type="hidden" name="status" value="open";
                            button.primary type="submit" { "Reopen ticket" }
                        }
                    }
                } @else {
                    form.fields method="post" action=(format!("/tickets/{r}/update")) {
                        (csrf_field(&a.csrf))
                        label { "Status" select name="status" {
                            option value=(t.status.key()) selected { (t.status.label()) }
                            @for s in &next_statuses { option value=(s.key()) { (s.label()) } }
                        } }
                        label { "Priority" select name="priority" { (options(Priority::ALL.iter().map(|p| (p.key(), p.label())), t.priority.key())) } }
                        label { "Assignee" select name="assignee" {
                            option value="" { "Unassigned" }
                            @for g in agents.iter().filter(|g| g.works_in(&t.department)) { option value=(g.id) selected[t.assignee == Some(g.id)] { (g.display()) } }
                        } }
                        label { "Category" select name="category" { (options(cfg.categories.iter().map(|c| (c.as_str(), c.as_str())), &t.category)) } }
                        @if cfg.departments.len() > 1 {
                            label { "Department" select name="department" { (options(cfg.departments.iter().map(|c| (c.as_str(), c.as_str())), &t.department)) } }
                        }
                        label { "Due date" input type="date" name="due" value=(t.due.map(|d| d.to_string()).unwrap_or_default()); }
                        label { "Tags" input type="text" name="tags" value=(t.tags.join(", ")) placeholder="comma, separated"; }
                        label { "Reason (optional)" input type="text" name="reason" placeholder="recorded in the log"; }
                        button type="submit" { "Save changes" }
                    }
                }
                (super::workflow::related_box(st, a, v))
                div.infobox {
                    h3 { "Requester" }
                    @if let Some(p) = requester {
                        p { a href=(format!("/requesters/{}", p.id)) { (p.display()) } br; span.muted { (p.email) } }
                    }
                    @if !v.collaborators.is_empty() {
                        h3 { "Collaborators" }
                        @for c in &v.collaborators { p { a href=(format!("/requesters/{}", c.id)) { (c.display()) } br; span.muted { (c.email) } } }
                    }
                    h3 { "Details" }
                    dl.fields.small {
                        dt { "Reference" } dd { (r) }
                        dt { "Channel" } dd { (t.channel.label()) }
                        dt { "Created" } dd { (t.created_at.short()) }
                        dt { "Updated" } dd { (t.updated_at.short()) }
                        @if let Some(d) = t.due { dt { "Due" } dd { (d.to_string()) } }
                        @if !t.tags.is_empty() { dt { "Tags" } dd { @for tag in &t.tags { span.tag { (tag) } " " } } }
                    }
                }
            }
        }
    }
}

pub async fn ticket_page(State(st): State<AppState>, a: Agent, Path(reference): Path<String>, Query(q): Query<DoneQuery>) -> PageResult {
    let v = lookup(&st, &a, &reference)?;
    if reference != st.desk.reference(v.ticket.id) {
        return Ok(Redirect::to(&format!("/tickets/{}", st.desk.reference(v.ticket.id))).into_response());
    }
    let agents = st.desk.agents().map_err(|e| fail(&st, e))?;
    let flash = match &q.merged {
        Some(old) => Some(("ok", format!("{old} was merged into this ticket."))),
        None => done_message(q.done.as_deref()).map(|m| ("ok", m.to_string())),
    };
    let title = format!("{} {}", st.desk.reference(v.ticket.id), v.ticket.subject);
    Ok(page(&frame(&st, &a, title, "queue"), ticket_body(&st, &a, &v, &agents, flash, "")).into_response())
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
}

/// Re-renders the ticket page with an error and the user's draft kept.
fn ticket_error(st: &AppState, a: &Agent, reference: &str, e: DeskError, draft: &str) -> Response {
    if matches!(e, DeskError::NotFound | DeskError::Store(_)) {
        return fail(st, e);
    }
    let status = super::status_of(&e);
    match (lookup(st, a, reference), st.desk.agents()) {
        (Ok(v), Ok(agents)) => {
            let title = format!("{} {}", st.desk.reference(v.ticket.id), v.ticket.subject);
            (status, page(&frame(st, a, title, "queue"), ticket_body(st, a, &v, &agents, Some(("error", e.to_string())), draft)))
                .into_response()
        }
        (Err(r), _) => r,
        (_, Err(e)) => fail(st, e),
    }
}

/// Reads the reply form: urlencoded, or multipart with attached files.
async fn read_reply_form(st: &AppState, req: axum::extract::Request) -> Result<(ReplyForm, Vec<(String, String, Vec<u8>)>), DeskError> {
    use axum::extract::FromRequest;
    let bad = |m: String| DeskError::Invalid { field: "form", message: m };
    let is_multipart =
        req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("multipart/form-data"));
    if !is_multipart {
        let Form(f) = Form::<ReplyForm>::from_request(req, st).await.map_err(|e| bad(e.body_text()))?;
        return Ok((f, Vec::new()));
    }
    let mut mp = axum::extract::Multipart::from_request(req, st).await.map_err(|e| bad(e.body_text()))?;
    let mut f = ReplyForm::default();
    let mut files = Vec::new();
    while let Some(field) = mp.next_field().await.map_err(|e| bad(e.body_text()))? {
        let name = field.name().unwrap_or("").to_string();
        if name == "files" {
            let filename = field.file_name().unwrap_or("attachment").to_string();
            let ctype = field.content_type().unwrap_or("application/octet-stream").to_string();
            let data = field.bytes().await.map_err(|e| bad(e.body_text()))?;
            if !data.is_empty() {
                files.push((filename, ctype, data.to_vec()));
            }
            continue;
        }
        let value = field.text().await.map_err(|e| bad(e.body_text()))?;
        match name.as_str() {
            "body" => f.body = value,
            "internal" => f.internal = Some(value),
            "status" => f.status = Some(value),
            "seen" => f.seen = Some(value),
            "force" => f.force = Some(value),
            _ => {}
        }
    }
    Ok((f, files))
}

pub async fn reply(State(st): State<AppState>, a: Agent, Path(reference): Path<String>, req: axum::extract::Request) -> PageResult {
    let id = st.desk.parse_reference(&reference).ok_or_else(|| fail(&st, DeskError::NotFound))?;
    let (f, files) = read_reply_form(&st, req).await.map_err(|e| ticket_error(&st, &a, &reference, e, ""))?;
    let internal = f.internal.is_some();
    let status = match nonempty(&f.status) {
        Some(s) => Some(Status::parse(s).ok_or_else(|| {
            ticket_error(&st, &a, &reference, DeskError::Invalid { field: "status", message: format!("{s:?} is not a status") }, &f.body)
        })?),
        None => None,
    };
    // Collision: another agent answered the requester after this page was drawn.
    if !internal
        && f.force.is_none()
        && let Some(seen) = f.seen.as_deref().and_then(|s| s.parse::<u32>().ok())
    {
        let v = st.desk.ticket_view(&a.person, id).map_err(|e| fail(&st, e))?;
        let crossed: Vec<String> = v
            .entries
            .iter()
            .filter(|e| {
                e.seq > seen
                    && e.kind == EntryKind::Reply
                    && e.author.is_some_and(|w| w != a.person.id && v.people.get(&w).is_some_and(|p| p.is_staff()))
            })
            .map(|e| v.name_of(e.author))
            .collect();
        if let Some(who) = crossed.first() {
            let agents = st.desk.agents().map_err(|e| fail(&st, e))?;
            let msg = format!(
                "{who} replied to the requester while you were writing (see the thread). Your reply was not sent; read theirs, then send yours again to send it anyway."
            );
            let title = format!("{} {}", st.desk.reference(id), v.ticket.subject);
            return Err((
                StatusCode::CONFLICT,
                page(&frame(&st, &a, title, "queue"), ticket_body(&st, &a, &v, &agents, Some(("collision", msg)), &f.body)),
            )
                .into_response());
        }
    }
    let e = st
        .desk
        .add_entry_with(&a.person, id, &f.body, internal, status, files)
        .map_err(|e| ticket_error(&st, &a, &reference, e, &f.body))?;
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
}

fn parse_patch(f: &UpdateForm) -> Result<TicketPatch, DeskError> {
    let bad = |field: &'static str, v: &str| DeskError::Invalid { field, message: format!("{v:?} is not valid") };
    Ok(TicketPatch {
        subject: None,
        status: nonempty(&f.status).map(|s| Status::parse(s).ok_or_else(|| bad("status", s))).transpose()?,
        priority: nonempty(&f.priority).map(|s| Priority::parse(s).ok_or_else(|| bad("priority", s))).transpose()?,
        category: nonempty(&f.category).map(str::to_string),
        department: nonempty(&f.department).map(str::to_string),
        assignee: match &f.assignee {
            None => None,
            Some(s) if s.trim().is_empty() => Some(None),
            Some(s) => Some(Some(s.trim().parse::<u64>().map_err(|_| bad("assignee", s))?)),
        },
        due: match &f.due {
            None => None,
            Some(s) if s.trim().is_empty() => Some(None),
            Some(s) => Some(Some(Date::parse(s).ok_or_else(|| bad("due", s))?)),
        },
        tags: f.tags.as_ref().map(|t| vec![t.clone()]),
    })
}

pub async fn update(State(st): State<AppState>, a: Agent, Path(reference): Path<String>, Form(f): Form<UpdateForm>) -> PageResult {
    let id = st.desk.parse_reference(&reference).ok_or_else(|| fail(&st, DeskError::NotFound))?;
    let patch = parse_patch(&f).map_err(|e| ticket_error(&st, &a, &reference, e, ""))?;
    let before = st.desk.ticket_view(&a.person, id).map_err(|e| fail(&st, e))?.ticket;
    let after = st
        .desk
        .update_ticket_because(&a.person, id, patch, f.reason.as_deref().unwrap_or(""))
        .map_err(|e| ticket_error(&st, &a, &reference, e, ""))?;
    let done = if after == before { "unchanged" } else { "saved" };
    Ok(Redirect::to(&format!("/tickets/{}?done={done}", st.desk.reference(id))).into_response())
}

/// A canned response rendered for this ticket (plain text, for the reply box).
pub async fn canned(State(st): State<AppState>, a: Agent, Path((reference, idx)): Path<(String, String)>) -> Response {
    let Some(id) = st.desk.parse_reference(&reference) else { return fail(&st, DeskError::NotFound) };
    let actor = a.person.clone();
    match super::blocking(&st.desk, move |d| d.render_canned(&actor, id, &idx)).await {
        Ok(text) => ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response(),
        Err(e) => fail(&st, e),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct FollowForm {
    on: String,
}

pub async fn follow(State(st): State<AppState>, a: Agent, Path(reference): Path<String>, Form(f): Form<FollowForm>) -> PageResult {
    let id = st.desk.parse_reference(&reference).ok_or_else(|| fail(&st, DeskError::NotFound))?;
    st.desk.set_following(&a.person, id, f.on == "1").map_err(|e| fail(&st, e))?;
    Ok(Redirect::to(&format!("/tickets/{}", st.desk.reference(id))).into_response())
}

/// The tickets the agent follows.
pub async fn following(State(st): State<AppState>, a: Agent) -> PageResult {
    let (tickets, people) = st.desk.following(&a.person).map_err(|e| fail(&st, e))?;
    let body = html! {
        div.narrow-page.wide-ok {
            div.crumbs { a href="/tickets" { "Queue" } " / following" }
            h1 { "Following" }
            p.muted { "Tickets you follow: you get their internal notes and requester replies by mail." }
            @if tickets.is_empty() { (views::empty("You follow no tickets. Use ☆ Follow on a ticket.")) } @else { (ticket_table(&st, &tickets, &people, true)) }
        }
    };
    Ok(page(&frame(&st, &a, "Following".into(), "queue"), body).into_response())
}
