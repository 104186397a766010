//! The ticket list every view, search and requester page shows: choosable
//! columns, optional selection boxes (bulk actions) and search snippets.

use std::collections::HashMap;

use maud::{Markup, PreEscaped, html};

use super::priority_badge;
use crate::domain::{Person, PersonId, Ticket, TicketId};
use crate::tr;
use crate::web::AppState;

/// A column an agent can show or hide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Requester,
    Status,
    Priority,
    Assignee,
    Updated,
    Created,
    Category,
    Department,
    Tags,
    Due,
    Sla,
    Org,
    /// Who wrote the newest public reply (customer or agent), and when.
    Last,
    /// Since when the customer waits for an answer.
    Waiting,
}

impl Column {
    pub const ALL: &'static [Column] = &[
        Column::Requester,
        Column::Status,
        Column::Priority,
        Column::Assignee,
        Column::Updated,
        Column::Created,
        Column::Category,
        Column::Department,
        Column::Tags,
        Column::Due,
        Column::Sla,
        Column::Org,
        Column::Last,
        Column::Waiting,
    ];
    pub const DEFAULT: &'static [Column] =
        &[Column::Requester, Column::Status, Column::Priority, Column::Assignee, Column::Last, Column::Waiting];

    pub fn key(self) -> &'static str {
        match self {
            Column::Requester => "requester",
            Column::Status => "status",
            Column::Priority => "priority",
            Column::Assignee => "assignee",
            Column::Updated => "updated",
            Column::Created => "created",
            Column::Category => "category",
            Column::Department => "department",
            Column::Tags => "tags",
            Column::Due => "due",
            Column::Sla => "sla",
            Column::Org => "org",
            Column::Last => "last",
            Column::Waiting => "waiting",
        }
    }
    /// The column's heading, in the reader's language.
    pub fn label(self) -> &'static str {
        match self {
            Column::Requester => tr!("Requester"),
            Column::Status => tr!("Status"),
            Column::Priority => tr!("Priority"),
            Column::Assignee => tr!("Assignee"),
            Column::Updated => tr!("Updated"),
            Column::Created => tr!("Created"),
            Column::Category => tr!("Category"),
            Column::Department => tr!("Department"),
            Column::Tags => tr!("Tags"),
            Column::Due => tr!("Due date"),
            Column::Sla => tr!("SLA"),
            Column::Org => tr!("Organization"),
            Column::Last => tr!("Last reply"),
            Column::Waiting => tr!("Waiting since"),
        }
    }

    /// Parses a comma list like `status,assignee,updated`; unknown names are
    /// dropped, an empty result means the defaults.
    pub fn parse_list(s: Option<&str>) -> Vec<Column> {
        let list: Vec<Column> = s.unwrap_or("").split(',').filter_map(|k| Column::ALL.iter().copied().find(|c| c.key() == k.trim())).fold(
            Vec::new(),
            |mut v, c| {
                if !v.contains(&c) {
                    v.push(c);
                }
                v
            },
        );
        if list.is_empty() { Column::DEFAULT.to_vec() } else { list }
    }

    pub fn list_key(cols: &[Column]) -> String {
        cols.iter().map(|c| c.key()).collect::<Vec<_>>().join(",")
    }
}

/// How to draw the list.
pub struct TableOpts<'a> {
    pub columns: &'a [Column],
    /// Checkboxes that belong to the form with id `bulk`.
    pub select: bool,
    pub snippets: Option<&'a HashMap<TicketId, String>>,
    /// Who looks: the unread markers are theirs.
    pub viewer: &'a Person,
}

pub fn ticket_list(st: &AppState, tickets: &[Ticket], people: &HashMap<PersonId, Person>, o: &TableOpts) -> Markup {
    let now = st.desk.now();
    let cfg = &st.desk.config();
    let name = |id: Option<PersonId>| id.and_then(|i| people.get(&i)).map(|p| p.display());
    let ids: Vec<TicketId> = tickets.iter().map(|t| t.id).collect();
    let checklists = st.desk.checklist_progress(&ids);
    let clocks = if o.columns.contains(&Column::Sla) { st.desk.clocks_of(&ids).unwrap_or_default() } else { Vec::new() };
    let mut cals = super::sla::Calendars::new(cfg);
    let orgs = if o.columns.contains(&Column::Org) {
        st.desk.org_names_of(&tickets.iter().map(|t| t.requester).collect::<Vec<_>>()).unwrap_or_default()
    } else {
        Default::default()
    };
    let rows = st.desk.queue_rows(o.viewer, tickets).unwrap_or_default();
    // "Today" in the viewer's zone: a ticket due today is not overdue yet.
    let today = jiff::Timestamp::from_millisecond(now.0)
        .ok()
        .map(|t| t.to_zoned(super::viewer_tz()).date())
        .and_then(|d| {
            Some(crate::domain::time::Date {
                year: i32::from(d.year()),
                month: u8::try_from(d.month()).ok()?,
                day: u8::try_from(d.day()).ok()?,
            })
        })
        .unwrap_or_else(|| crate::domain::time::Date::of(now));
    let overdue = |t: &Ticket| t.status.is_active() && t.due.is_some_and(|d| d < today);
    let secondary = |c: Column| !matches!(c, Column::Status);
    html! {
        table.tickets {
            thead { tr {
                @if o.select { th.sel { input type="checkbox" data-select-all aria-label=(tr!("Select all on this page")); } }
                th { (tr!("Ticket")) } th { (tr!("Subject")) }
                @for c in o.columns { th class=(if secondary(*c) { "hide-sm" } else { "" }) { (c.label()) } }
            } }
            tbody {
                @for (i, t) in tickets.iter().enumerate() {
                    @let r = st.desk.reference(t.id);
                    @let facts = rows.get(&t.id);
                    @let unread = facts.is_some_and(|f| f.unread);
                    tr.row.unread[unread] data-href=(format!("/tickets/{r}")) {
                        @if o.select { td.sel { input type="checkbox" name="id" value=(t.id) form="bulk" aria-label=(tr!("Select {reference}", reference = r)); } }
                        td.ref { a href=(format!("/tickets/{r}")) { (r) } }
                        td.subject {
                            @if unread { span.dot title=(tr!("The customer wrote since you last opened it")) {} span.sr-only { (tr!("Unread:")) " " } }
                            a href=(format!("/tickets/{r}")) { (t.subject) }
                            @if overdue(t) && !o.columns.contains(&Column::Due) { " " span.tag.overdue { (tr!("overdue")) } }
                            @if let Some((text, note)) = facts.and_then(|f| f.preview.as_ref()) {
                                " " span.preview { @if *note { (tr!("Note:")) " " } (text) }
                            }
                            @if let Some((done, total)) = checklists.get(&t.id) {
                                " " span.tag.progress title=(tr!("Checklist items done")) { (done) "/" (total) }
                            }
                            div.sub.show-sm { (name(Some(t.requester)).unwrap_or_default()) " · " (crate::web::ui::ago(t.updated_at, now)) }
                            @if let Some(s) = o.snippets.and_then(|m| m.get(&t.id)) { div.snippet { (PreEscaped(s)) } }
                        }
                        @for c in o.columns {
                            @match c {
                                Column::Requester => td.hide-sm { (name(Some(t.requester)).unwrap_or_default()) },
                                Column::Status => td { (super::ticket_status(cfg, t)) },
                                Column::Priority => td.hide-sm { (priority_badge(t.priority)) },
                                Column::Assignee => td.hide-sm { @match name(t.assignee) { Some(n) => { (n) }, None => { span.muted { (tr!("Unassigned")) } } } },
                                Column::Updated => td.hide-sm.nowrap title=(t.updated_at.rfc3339()) { (crate::web::ui::ago(t.updated_at, now)) },
                                Column::Created => td.hide-sm.nowrap { (crate::web::ui::when_at(t.created_at)) },
                                Column::Category => td.hide-sm { (t.category) },
                                Column::Department => td.hide-sm { (t.department) },
                                Column::Tags => td.hide-sm { @for tag in &t.tags { span.tag { (tag) } " " } },
                                Column::Due => td.hide-sm.nowrap.overdue[overdue(t)] { @if let Some(d) = t.due { (d.to_string()) @if overdue(t) { " " (tr!("overdue")) } } },
                                Column::Sla => td.hide-sm.nowrap { (super::sla::cell(&mut cals, clocks.get(i).and_then(|c| c.as_ref()), now)) },
                                Column::Org => td.hide-sm { @if let Some(n) = orgs.get(&t.requester) { (n) } },
                                Column::Last => td.hide-sm.nowrap { @if let Some((at, staff)) = facts.and_then(|f| f.last_reply) {
                                    span class=(if staff { "who agent" } else { "who customer" }) { (if staff { tr!("Agent") } else { tr!("Customer") }) }
                                    " " span.muted title=(at.rfc3339()) { (crate::web::ui::ago(at, now)) }
                                } },
                                Column::Waiting => td.hide-sm.nowrap { @if let Some(at) = facts.and_then(|f| f.waiting_since).filter(|_| t.status.is_active()) {
                                    span.waiting title=(at.rfc3339()) { (crate::web::ui::ago(at, now)) }
                                } },
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A column picker (checkboxes named `col`) for a GET filter form.
pub fn column_picker(cols: &[Column]) -> Markup {
    html! {
        details.colpick {
            summary { (tr!("Columns")) }
            div.colpick-list {
                @for c in Column::ALL {
                    label { input type="checkbox" name="col" value=(c.key()) checked[cols.contains(c)]; " " (c.label()) }
                }
            }
        }
    }
}
