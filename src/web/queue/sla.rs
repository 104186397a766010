//! The SLA views of the sidebar: "SLA breaching" (a running target overdue
//! now) and "Due soon" (due within `workflow.due_soon_minutes`), soonest
//! first, with each ticket's SLA state in the table.

use axum::extract::State;
use maud::{Markup, html};

use super::list::own_list;
use crate::desk::sla::SlaView;
use crate::i18n::format::num;
use crate::tr;
use crate::web::{Agent, AppState, WebResult};

/// Most tickets a view lists (and counts).
pub(crate) const MAX: usize = 200;

pub async fn breaching(State(st): State<AppState>, a: Agent) -> WebResult {
    let (tickets, people) = st.desk.sla_view(&a.person, SlaView::Breaching, MAX)?;
    let intro = tr!("Tickets with an SLA target overdue now, the longest overdue first.");
    own_list(&st, &a, "sla_breaching", (tr!("SLA breaching"), intro, tr!("No SLA target is overdue.")), &tickets, &people)
}

pub async fn due_soon(State(st): State<AppState>, a: Agent) -> WebResult {
    let (tickets, people) = st.desk.sla_view(&a.person, SlaView::DueSoon, MAX)?;
    let minutes = st.desk.config().workflow.due_soon_minutes;
    let intro =
        tr!("Tickets with an SLA target due within {span}, the soonest first.", span = crate::web::ui::sla::span(minutes as i64 * 60_000));
    own_list(&st, &a, "due_soon", (tr!("Due soon"), &intro, tr!("No SLA target is due soon.")), &tickets, &people)
}

/// The two sidebar links with their counts (only on desks with policies).
pub(crate) fn sidebar_links(st: &AppState, a: &Agent, on: &dyn Fn(&str) -> &'static str) -> Markup {
    if st.desk.config().sla.is_empty() {
        return html! {};
    }
    let count = |v: SlaView| st.desk.sla_view(&a.person, v, MAX).map(|(t, _)| t.len()).unwrap_or(0);
    let shown = |n: usize| if n >= MAX { format!("{}+", num(MAX as i64)) } else { num(n as i64) };
    html! {
        a href="/tickets/sla-breaching" class=(on("sla_breaching")) { (tr!("SLA breaching")) span.count { (shown(count(SlaView::Breaching))) } }
        a href="/tickets/due-soon" class=(on("due_soon")) { (tr!("Due soon")) span.count { (shown(count(SlaView::DueSoon))) } }
    }
}
