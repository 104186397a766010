//! The queue: filters, the views sidebar with live counts, the bulk bar, and
//! the tickets an agent follows.

use std::collections::HashMap;

use axum::extract::{Query, RawQuery, State};
use axum::response::IntoResponse;
use maud::{Markup, html};
use serde::Deserialize;

use crate::desk::DeskError;
use crate::domain::roles::Permission;
use crate::domain::{BulkAction, Person, PersonId, Priority, Status, Ticket};
use crate::i18n::{dynamic, format::num};
use crate::store::{AssigneeFilter, Sort, TicketQuery};
use crate::tr;
use crate::web::pages::{frame, nonempty};
use crate::web::ui::table::{Column, TableOpts, ticket_list};
use crate::web::ui::{self, options, page, status_badge};
use crate::web::{Agent, AppState, WebResult};

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct QueueParams {
    pub status: Option<String>,
    pub assignee: Option<String>,
    pub priority: Option<String>,
    pub category: Option<String>,
    pub department: Option<String>,
    /// A team queue: tickets assigned to this team.
    pub team: Option<String>,
    pub sort: Option<String>,
    pub page: Option<usize>,
    /// Chosen columns as one comma list (the picker's `col` boxes are read
    /// from the raw query).
    pub cols: Option<String>,
    /// A bulk job that just returned here: its outcome is said.
    pub bulk: Option<crate::domain::JobId>,
}

/// Turns queue parameters (UI or API) into a query; bad values name their field.
pub fn build_query(
    st: &AppState,
    me: &Person,
    p: &QueueParams,
    resolve_assignee: impl Fn(&str) -> Option<u64>,
) -> Result<TicketQuery, DeskError> {
    let bad = |field: &'static str, v: &str, hint: &str| DeskError::Invalid {
        field,
        message: tr!("{value} is not valid; use {hint}", value = format!("{v:?}"), hint = hint),
    };
    let statuses = match nonempty(&p.status).unwrap_or("active") {
        "active" => Status::ALL.iter().copied().filter(|s| s.is_active()).collect(),
        "all" | "any" => Vec::new(),
        s => {
            let hint = tr!("active, all, open, pending, in_progress, on_hold, resolved or closed");
            vec![Status::parse(s).ok_or_else(|| bad("status", s, hint))?]
        }
    };
    let assignee = match nonempty(&p.assignee).unwrap_or("any") {
        "any" | "anyone" => AssigneeFilter::Any,
        "me" | "mine" => AssigneeFilter::Person(me.id.0),
        "unassigned" | "none" => AssigneeFilter::Unassigned,
        other => {
            let hint = tr!("me, unassigned, any, or an agent");
            AssigneeFilter::Person(resolve_assignee(other).ok_or_else(|| bad("assignee", other, hint))?)
        }
    };
    let priority = nonempty(&p.priority)
        .map(|v| Priority::parse(v).ok_or_else(|| bad("priority", v, tr!("urgent, high, medium or low"))))
        .transpose()?;
    let category = nonempty(&p.category)
        .map(|v| st.desk.config().category(v).map(str::to_string).ok_or_else(|| bad("category", v, tr!("a configured category"))))
        .transpose()?;
    let department = nonempty(&p.department)
        .map(|v| st.desk.config().department(v).map(str::to_string).ok_or_else(|| bad("department", v, tr!("a configured department"))))
        .transpose()?;
    let team = nonempty(&p.team)
        .map(|v| st.desk.config().team(v).map(|t| t.name.clone()).ok_or_else(|| bad("team", v, tr!("a configured team"))))
        .transpose()?;
    let sort = match nonempty(&p.sort) {
        None => Sort::Updated,
        Some(v) => Sort::parse(v).ok_or_else(|| bad("sort", v, tr!("updated, updated_asc, created, created_asc or priority")))?,
    };
    let limit = st.desk.config().limits.page_size;
    let page = p.page.unwrap_or(1).clamp(1, crate::desk::workflow::MAX_QUEUE_OFFSET / limit.max(1) + 1);
    Ok(TicketQuery {
        statuses,
        assignee,
        priority,
        category,
        department,
        team,
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
        ("team", &p.team),
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

pub(crate) fn ticket_table(
    st: &AppState,
    a: &Agent,
    tickets: &[Ticket],
    people: &HashMap<PersonId, Person>,
    show_requester: bool,
) -> Markup {
    let cols: Vec<Column> = Column::DEFAULT.iter().copied().filter(|c| show_requester || *c != Column::Requester).collect();
    ticket_list(st, tickets, people, &TableOpts { columns: &cols, select: false, snippets: None, viewer: &a.person })
}

/// The views of the sidebar: key, name (in the request's language), link.
fn views() -> [(&'static str, &'static str, &'static str); 11] {
    [
        ("mine", tr!("My open tickets"), "/tickets?assignee=me"),
        ("unassigned", tr!("Unassigned"), "/tickets?assignee=unassigned"),
        ("urgent", tr!("Urgent unassigned"), "/tickets?assignee=unassigned&priority=urgent"),
        ("following", tr!("Following"), "/tickets/following"),
        ("mentions", tr!("Mentions"), "/tickets/mentions"),
        ("pending", tr!("Pending"), "/tickets?status=pending"),
        ("on_hold", tr!("On hold"), "/tickets?status=on_hold"),
        ("recent", tr!("Recently updated"), "/tickets?status=all&sort=updated"),
        ("open", tr!("All open"), "/tickets"),
        ("junk", tr!("Junk"), "/junk"),
        ("trash", tr!("Trash"), "/trash"),
    ]
}

pub async fn queue(State(st): State<AppState>, a: Agent, RawQuery(raw): RawQuery, Query(mut p): Query<QueueParams>) -> WebResult {
    if let Some(picked) = super::search::picked_columns(raw.as_deref()) {
        p.cols = Some(picked);
    }
    // Without columns in the link, the agent's own choice applies.
    if nonempty(&p.cols).is_none() {
        p.cols = st.desk.queue_columns(&a.person)?;
    }
    let desk = &st.desk;
    let agents = desk.agents()?;
    let q = build_query(&st, &a.person, &p, |s| s.parse::<u64>().ok().filter(|id| agents.iter().any(|g| g.id == PersonId(*id))))?;
    let page_no = q.offset / q.limit + 1;
    let (tickets, more, people) = desk.queue(&a.person, q)?;
    let cfg = &desk.config().desk;
    // An empty default view teaches where tickets come from.
    let plain_view = [&p.status, &p.assignee, &p.priority, &p.category, &p.department]
        .iter()
        .all(|f| nonempty(f).is_none_or(|v| v == "active" || v == "any"));
    let teach = match desk.config().mailbox.first() {
        Some(mb) => tr!(
            "Nothing waiting. Mail to {address} becomes a ticket here at once; New ticket records a call or a visit.",
            address = mb.address
        ),
        None => tr!("Nothing waiting. Add a [[mailbox]] to the config so mail becomes tickets; New ticket records a call or a visit.")
            .to_string(),
    };
    let status_v = nonempty(&p.status).unwrap_or("active");
    let assignee_v = nonempty(&p.assignee).unwrap_or("any");
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
    // A single status also lights its line under "By status" (`status:<key>`).
    let status_key = match (Status::parse(status_v), assignee_v, prio_v) {
        (Some(s), "any", "") => Some(format!("status:{}", s.key())),
        _ => None,
    };
    // The heading is the sidebar's name of the view (or says what is filtered).
    let title = match views().iter().find(|v| v.0 == view_key) {
        Some(v) => v.1.to_string(),
        None => match Status::parse(status_v) {
            Some(s) => tr!("{status} tickets", status = dynamic(s.label())),
            None if status_v == "all" => tr!("All tickets").to_string(),
            None => tr!("Active tickets").to_string(),
        },
    };
    let title = match nonempty(&p.category).or(nonempty(&p.department)) {
        Some(f) if view_key.is_empty() => format!("{title} · {f}"),
        _ => title,
    };
    let team_key = nonempty(&p.team).map(|t| format!("team:{t}"));
    let title = match nonempty(&p.team) {
        // English writes the view in lower case after the colon ("Team
        // Network: my open tickets"); German nouns keep their capitals.
        Some(t) => {
            let view = if crate::i18n::current() == crate::i18n::Lang::En { title.to_lowercase() } else { title };
            tr!("Team {team}: {view}", team = t, view = view)
        }
        None => title,
    };
    let mut status_opts: Vec<(String, String)> =
        vec![("active".into(), tr!("Active (not resolved/closed)").into()), ("all".into(), tr!("All statuses").into())];
    status_opts.extend(Status::ALL.iter().map(|s| (s.key().to_string(), dynamic(s.label()))));
    let mut assignee_opts: Vec<(String, String)> =
        vec![("any".into(), tr!("Anyone").into()), ("me".into(), tr!("Me").into()), ("unassigned".into(), tr!("Unassigned").into())];
    assignee_opts.extend(agents.iter().map(|g| (g.id.to_string(), g.display())));
    let sel = |v: &Option<String>| nonempty(v).unwrap_or("").to_string();
    let sidebar = sidebar(&st, &a, team_key.as_deref().or(status_key.as_deref().filter(|_| view_key.is_empty())).unwrap_or(view_key))?;
    let cols = Column::parse_list(p.cols.as_deref());
    let body = html! {
        div.queue-layout {
            (sidebar)
            section.queue {
                div.queue-head {
                    h1 { (title) }
                    @if st.desk.may(&a.person, Permission::Create) { a.button.primary href="/tickets/new" { (tr!("New ticket")) } }
                }
                details.drawer open data-drawer {
                summary { (tr!("Filters")) }
                form.filters method="get" action="/tickets" data-autosubmit {
                    @if let Some(t) = nonempty(&p.team) { input type="hidden" name="team" value=(t); }
                    label { (tr!("Status")) select name="status" { @for (v, l) in &status_opts { option value=(v) selected[*v == status_v] { (l) } } } }
                    label { (tr!("Assignee")) select name="assignee" { @for (v, l) in &assignee_opts { option value=(v) selected[*v == assignee_v] { (l) } } } }
                    label { (tr!("Priority")) select name="priority" { option value="" { (tr!("Any")) } (options(Priority::ALL.iter().map(|p| (p.key(), dynamic(p.label()))), &sel(&p.priority))) } }
                    label { (tr!("Category")) select name="category" { option value="" { (tr!("Any")) } (options(cfg.categories.iter().map(|c| (c.as_str(), c.as_str())), &sel(&p.category))) } }
                    @if cfg.departments.len() > 1 {
                        label { (tr!("Department")) select name="department" { option value="" { (tr!("Any")) } (options(cfg.departments.iter().map(|c| (c.as_str(), c.as_str())), &sel(&p.department))) } }
                    }
                    label { (tr!("Sort")) select name="sort" { (options(Sort::ALL.iter().map(|s| (s.key(), dynamic(s.label()))), nonempty(&p.sort).unwrap_or("updated"))) } }
                    (ui::table::column_picker(&cols))
                    noscript { button type="submit" { (tr!("Apply")) } }
                }
                }
                @if let Some(n) = super::bulk::job_notice(&st, &a, p.bulk) { (n) }
                @if tickets.is_empty() && plain_view && page_no == 1 {
                    (ui::empty(&teach))
                } @else if tickets.is_empty() {
                    (ui::empty(tr!("No tickets match these filters.")))
                } @else {
                    (bulk_bar(&st, &a, &queue_search(&p), usize::MAX))
                    (ticket_list(&st, &tickets, &people, &TableOpts { columns: &cols, select: st.desk.may(&a.person, Permission::Bulk), snippets: None, viewer: &a.person }))
                }
                nav.pager {
                    @if page_no > 1 { a.button href=(queue_link(&p, page_no - 1)) rel="prev" { (tr!("← Newer")) } } @else { span {} }
                    span.muted { (tr!("Page {n}", n = num(page_no as i64))) @if st.desk.may(&a.person, Permission::Export) { " · " a href=(queue_link(&p, 1).replacen("/tickets", "/tickets.csv", 1)) { (tr!("Export CSV")) } } }
                    @if more { a.button href=(queue_link(&p, page_no + 1)) rel="next" { (tr!("Older →")) } } @else { span {} }
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
    let on = |k: &str| -> &'static str { if k == active { "on" } else { "" } };
    let count = |n: u64| html! { span.count { (num(n as i64)) } };
    let enc = super::search::enc;
    let pending = c.by_status.iter().find(|(s, _)| *s == Status::Pending).map(|x| x.1).unwrap_or(0);
    let on_hold = c.by_status.iter().find(|(s, _)| *s == Status::OnHold).map(|x| x.1).unwrap_or(0);
    let all: u64 = c.by_status.iter().map(|(_, n)| n).sum();
    let mentions = st.desk.mention_count(&a.person)? as u64;
    let n_of = |key: &str| match key {
        "mine" => c.my_open,
        "unassigned" => c.unassigned,
        "urgent" => c.urgent_unassigned,
        "following" => c.following,
        "mentions" => mentions,
        "pending" => pending,
        "on_hold" => on_hold,
        "recent" => all,
        "open" => c.all_open,
        "junk" => c.junk,
        _ => c.trash,
    };
    Ok(html! {
        aside.sidebar aria-label=(tr!("Views")) {
            details.drawer open data-drawer {
            summary { (tr!("Views")) }
            h2 { (tr!("Views")) }
            nav.views aria-label=(tr!("Views")) {
                @for (key, name, href) in views() {
                    @if key == "pending" { (super::sla::sidebar_links(st, a, &on)) }
                    a href=(href) class=(on(key)) aria-current=[(key == active).then_some("page")] { (name) (count(n_of(key))) }
                }
            }
            @if !c.teams.is_empty() {
                h2 { (tr!("My teams")) }
                nav.views aria-label=(tr!("My teams")) {
                    @for (team, n) in &c.teams {
                        a href=(format!("/tickets?team={}", enc(team))) class=(on(&format!("team:{team}"))) { (team) (count(*n)) }
                    }
                }
            }
            @if !c.shared.is_empty() {
                h2 { (tr!("Team views")) }
                nav.views aria-label=(tr!("Team views")) {
                    @for v in &c.shared {
                        a href=(format!("/search?q={}&cols={}", enc(&v.query), enc(&v.columns))) title=(v.query) {
                            (v.name) @if let Some(n) = v.count { (count(n as u64)) }
                        }
                    }
                }
            }
            @if !c.saved.is_empty() {
                h2 { (tr!("My searches")) }
                nav.views aria-label=(tr!("My searches")) {
                    @for v in &c.saved {
                        a href=(format!("/search?q={}&cols={}", enc(&v.query), enc(&v.columns))) title=(v.query) {
                            (v.name) @if let Some(n) = v.count { (count(n as u64)) }
                        }
                    }
                }
            }
            h2 { (tr!("By status")) }
            nav.views aria-label=(tr!("By status")) {
                @for (s, n) in &c.by_status {
                    a href=(format!("/tickets?status={}", s.key())) class=(on(&format!("status:{}", s.key()))) aria-current=[(format!("status:{}", s.key()) == active).then_some("page")] { (status_badge(*s)) (count(*n)) }
                }
            }
            }
        }
    })
}

/// The bulk-action bar above a list: acts on the ticked rows, or on every
/// ticket matching `all_query` ("select all matching").
pub(crate) fn bulk_bar(st: &AppState, a: &Agent, all_query: &str, total: usize) -> Markup {
    let agents = st.desk.agents().unwrap_or_default();
    let cfg = &st.desk.config().desk;
    let perms = st.desk.permissions(&a.person);
    if !perms.has(Permission::Bulk) {
        return html! {};
    }
    html! {
        form #bulk .bulkbar method="post" action="/tickets/bulk" data-when-ticked {
            (ui::csrf_field(&a.csrf))
            input type="hidden" name="all_query" value=(all_query);
            label.selall {
                input type="checkbox" name="all" value="1";
                " "
                @if total != usize::MAX { (tr!("all matching ({n})", n = num(total as i64))) } @else { (tr!("all matching")) }
            }
            select name="action" aria-label=(tr!("Bulk action")) {
                option value="" { (tr!("Bulk action…")) }
                optgroup label=(tr!("Assign")) {
                    option value=(BulkAction::AssignMe.form_value()) { (tr!("Assign to me")) }
                    option value=(BulkAction::Unassign.form_value()) { (tr!("Unassign")) }
                    @if perms.has(Permission::Assign) {
                        @for g in &agents { option value=(BulkAction::AssignTo(g.id).form_value()) { (tr!("Assign to {name}", name = g.display())) } }
                    }
                }
                @if perms.has(Permission::Assign) && !st.desk.config().team.is_empty() {
                    optgroup label=(tr!("Team")) {
                        @for t in &st.desk.config().team { option value=(BulkAction::SetTeam(Some(t.name.clone())).form_value()) { (tr!("Team → {team}", team = t.name)) } }
                        option value=(BulkAction::SetTeam(None).form_value()) { (tr!("No team")) }
                    }
                }
                optgroup label=(tr!("Status")) {
                    @for s in Status::ALL.iter().filter(|s| **s != Status::Snoozed) { option value=(BulkAction::SetStatus(*s).form_value()) { (tr!("Status → {status}", status = dynamic(s.label()))) } }
                    @for c in &st.desk.config().status { option value=(BulkAction::SetCustomStatus(c.name.clone()).form_value()) { (tr!("Status → {status}", status = c.name)) } }
                }
                optgroup label=(tr!("Priority")) { @for p in Priority::ALL { option value=(BulkAction::SetPriority(*p).form_value()) { (tr!("Priority → {priority}", priority = dynamic(p.label()))) } } }
                optgroup label=(tr!("Category")) { @for c in &cfg.categories { option value=(BulkAction::SetCategory(c.clone()).form_value()) { (tr!("Category → {category}", category = c)) } } }
                optgroup label=(tr!("Other")) {
                    option value=(BulkAction::AddTag(String::new()).form_value()) { (tr!("Add tag (type it →)")) }
                    option value=(BulkAction::RemoveTag(String::new()).form_value()) { (tr!("Remove tag (type it →)")) }
                    option value=(BulkAction::Merge.form_value()) { (tr!("Merge into the oldest selected")) }
                    @if perms.has(Permission::Delete) { option value=(BulkAction::Trash.form_value()) { (tr!("Move to Trash")) } }
                    @if perms.has(Permission::Delete) { option value=(BulkAction::Junk.form_value()) { (tr!("Junk and ban sender")) } }
                }
            }
            input type="text" name="value" placeholder=(tr!("tag")) aria-label=(tr!("Tag for add/remove tag")) size="10";
            button type="submit" { (tr!("Apply")) }
            span.bulk-msg role="alert" {}
        }
    }
}

/// A page of the agent's own list of tickets (Following, Mentions), beside
/// the views: `view` is its sidebar key; title, what it is, and what it
/// says when empty.
pub(super) fn own_list(
    st: &AppState,
    a: &Agent,
    view: &str,
    (title, intro, none): (&str, &str, &str),
    tickets: &[Ticket],
    people: &HashMap<PersonId, Person>,
) -> WebResult {
    let body = html! {
        div.queue-layout {
            (sidebar(st, a, view)?)
            section.queue {
                div.queue-head { h1 { (title) } }
                p.muted { (intro) }
                @if tickets.is_empty() { (ui::empty(none)) } @else { (ticket_table(st, a, tickets, people, true)) }
            }
        }
    };
    Ok(page(&frame(st, a, title.into(), "queue"), body).into_response())
}

/// The tickets the agent was @mentioned on, latest mention first.
pub async fn mentions(State(st): State<AppState>, a: Agent) -> WebResult {
    let (tickets, people) = st.desk.mentioned(&a.person, 200)?;
    let intro = tr!("Tickets where someone @mentioned you in an internal note, the latest first.");
    own_list(&st, &a, "mentions", (tr!("Mentions"), intro, tr!("Nobody has mentioned you yet.")), &tickets, &people)
}

/// The tickets the agent follows.
pub async fn following(State(st): State<AppState>, a: Agent) -> WebResult {
    let (tickets, people) = st.desk.following(&a.person)?;
    let intro = tr!("Tickets you follow: you get their internal notes and requester replies by mail.");
    own_list(&st, &a, "following", (tr!("Following"), intro, tr!("You follow no tickets. Use ☆ Follow on a ticket.")), &tickets, &people)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ColumnsForm {
    cols: String,
}

/// Remembers the agent's queue columns (the column picker posts them
/// before it reloads the list); unknown names are dropped.
pub async fn save_columns(State(st): State<AppState>, a: Agent, axum::Form(f): axum::Form<ColumnsForm>) -> WebResult {
    let picked = Column::parse_list(Some(&f.cols));
    let cols = if picked == Column::DEFAULT { String::new() } else { Column::list_key(&picked) };
    crate::web::run_as(&st.desk, &a.person, move |d, who| d.set_queue_columns(who, &cols)).await?;
    Ok(axum::http::StatusCode::NO_CONTENT.into_response())
}
