//! The search page: one box for free text and tokens, ranked results with
//! highlighted snippets, saved searches, and a bulk-action bar on the results.

use std::collections::HashMap;

use axum::extract::{Form, Query, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use maud::{Markup, html};
use serde::Deserialize;

use crate::desk::workflow::SearchOutcome;
use crate::domain::TicketId;
use crate::i18n::format::num;
use crate::search::query::FIELDS;
use crate::web::pages::frame;
use crate::web::ui::{self, csrf_field, page};
use crate::web::{Agent, AppState, WebResult, run_as};
use crate::{tr, trn};
use ui::table::{Column, TableOpts, column_picker, ticket_list};

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SearchParams {
    pub q: String,
    pub page: Option<usize>,
    /// Chosen columns as one comma list (or the picker's repeated `col=`).
    pub cols: Option<String>,
    /// A bulk job that just returned here: its outcome is said.
    pub bulk: Option<crate::domain::JobId>,
}

/// The column picker's ticked boxes (`col=a&col=b`) as a comma list; they win
/// over a `cols=` the list's links carry.
pub fn picked_columns(raw: Option<&str>) -> Option<String> {
    let picked: Vec<String> =
        form_urlencoded::parse(raw.unwrap_or("").as_bytes()).filter(|(k, _)| k == "col").map(|(_, v)| v.into_owned()).collect();
    if picked.is_empty() { None } else { Some(picked.join(",")) }
}

pub(crate) fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn order_label(p: &crate::search::query::Parsed) -> &'static str {
    use crate::search::query::SortBy;
    match p.sort {
        None if p.has_text() => tr!("best matches first"),
        None => tr!("most recently updated first"),
        Some(SortBy::Relevance) => tr!("best matches first"),
        Some(SortBy::Updated) => tr!("most recently updated first"),
        Some(SortBy::UpdatedAsc) => tr!("least recently updated first"),
        Some(SortBy::Created) => tr!("newest first"),
        Some(SortBy::CreatedAsc) => tr!("oldest first"),
        Some(SortBy::Priority) => tr!("most urgent first"),
    }
}

/// The search help shown under the box.
fn help() -> Markup {
    html! {
        details.search-help {
            summary { (tr!("Search tokens")) }
            p.muted {
                (tr!("Free words and \"exact phrases\" search subjects, every message and note, names, addresses and attachment names."))
                " "
                (tr!("A ticket reference jumps straight to it. Put - before a word or token to exclude it."))
            }
            ul.tokens {
                li { code { "status:open,pending" } " " code { "status:active" } }
                li { code { "assignee:me" } " " code { "assignee:none" } " " code { "assignee:bo@desk" } }
                li { code { "priority:urgent" } " " code { "category:billing" } " " code { "tag:vpn" } " " code { "dept:support" } }
                li { code { "from:alice@example.com" } " " code { "from:@example.com" } " " code { "requester:\"Alice Smith\"" } }
                li { code { "created:>2026-11-01" } " " code { "created:2026-11-01..2026-11-30" } " " code { "updated:<7d" } " " (tr!("(younger than 7 days)")) }
                li { code { "has:attachment" } " " code { "in:trash" } }
                li { code { "sort:updated" } " " code { "sort:created_asc" } " " code { "sort:priority" } " " code { "sort:relevance" } " " (tr!("(order; saved with a search)")) }
            }
        }
    }
}

pub async fn search_page(State(st): State<AppState>, a: Agent, RawQuery(raw): RawQuery, Query(p): Query<SearchParams>) -> WebResult {
    crate::web::off_runtime(move || search_now(st, a, raw, p)).await
}

/// The search page, built from the index and the store (off the async runtime).
fn search_now(st: AppState, a: Agent, raw: Option<String>, mut p: SearchParams) -> WebResult {
    if let Some(picked) = picked_columns(raw.as_deref()) {
        p.cols = Some(picked);
    }
    let q = p.q.trim().to_string();
    let limit = st.desk.config().limits.page_size;
    let page_no = p.page.unwrap_or(1).clamp(1, crate::desk::workflow::MAX_SEARCH_OFFSET / limit.max(1) + 1);
    let cols = Column::parse_list(p.cols.as_deref());
    let saved = st.desk.saved_searches(&a.person)?;
    let outcome = if q.is_empty() { None } else { Some(st.desk.search(&a.person, &q, (page_no - 1) * limit, limit)?) };
    if let Some(SearchOutcome::Jump(id)) = &outcome {
        return Ok(Redirect::to(&format!("/tickets/{}", st.desk.reference(TicketId(*id)))).into_response());
    }
    let mut status = StatusCode::OK;
    let link = |n: usize| format!("/search?q={}&cols={}&page={n}", enc(&q), enc(&Column::list_key(&cols)));
    let results = match &outcome {
        None => html! {
            @if saved.is_empty() { (ui::empty(tr!("Type words, a reference or tokens above."))) }
        },
        Some(SearchOutcome::Invalid(e)) => {
            status = StatusCode::BAD_REQUEST;
            let (s, end) = (e.start.min(q.len()), e.end.min(q.len()));
            let (s, end) = if q.is_char_boundary(s) && q.is_char_boundary(end) { (s, end) } else { (0, 0) };
            html! {
                div.notice.error role="alert" {
                    strong { (tr!("Cannot search:")) " " } (e.message)
                    div.badquery { code { (&q[..s]) mark { (&q[s..end]) } (&q[end..]) } }
                    p.muted { (tr!("Known fields: {fields}", fields = FIELDS.join(", "))) }
                }
            }
        }
        Some(SearchOutcome::Jump(_)) => html! {},
        Some(SearchOutcome::Results(r)) => {
            let tickets: Vec<_> = r.hits.iter().map(|(t, _)| t.clone()).collect();
            let snippets: HashMap<TicketId, String> = r.hits.iter().filter_map(|(t, s)| s.clone().map(|s| (t.id, s))).collect();
            let more = page_no * limit < r.total;
            html! {
                @if let Some(n) = super::bulk::job_notice(&st, &a, p.bulk) { (n) }
                @if let Some((done, total)) = r.building {
                    (ui::notice("info", &tr!(
                        "The search index is being built ({done} of {total} tickets); results are incomplete until it finishes.",
                        done = num(done as i64),
                        total = num(total as i64)
                    )))
                }
                p.muted.result-count { (trn!(r.total, "{n} matching ticket, {order}", "{n} matching tickets, {order}", order = order_label(&r.parsed))) }
                @if tickets.is_empty() {
                    (ui::empty(tr!("No tickets match.")))
                } @else {
                    (super::list::bulk_bar(&st, &a, &q, r.total))
                    (ticket_list(&st, &tickets, &r.people, &TableOpts { columns: &cols, select: st.desk.may(&a.person, crate::domain::roles::Permission::Bulk), snippets: Some(&snippets), viewer: &a.person }))
                }
                nav.pager {
                    @if page_no > 1 { a.button href=(link(page_no - 1)) rel="prev" { (tr!("← Previous")) } } @else { span {} }
                    span.muted { (tr!("Page {n}", n = num(page_no as i64))) " · " a href=(format!("/tickets.csv?q={}", enc(&q))) { (tr!("Export CSV")) } }
                    @if more { a.button href=(link(page_no + 1)) rel="next" { (tr!("Next →")) } } @else { span {} }
                }
            }
        }
    };
    let body = html! {
        div.queue-layout {
            (super::list::sidebar(&st, &a, "search")?)
            section.queue {
                div.queue-head { h1 { (tr!("Search")) } }
                form.searchbar method="get" action="/search" role="search" aria-label=(tr!("Search tickets")) {
                    input #q type="search" name="q" value=(q) placeholder="printer status:open assignee:me updated:<7d" aria-label=(tr!("Search tickets")) autofocus;
                    input type="hidden" name="cols" value=(Column::list_key(&cols));
                    button.primary type="submit" { (tr!("Search")) }
                }
                div.searchtools {
                    form.filters method="get" action="/search" {
                        input type="hidden" name="q" value=(q);
                        (column_picker(&cols))
                        noscript { button type="submit" { (tr!("Apply columns")) } }
                    }
                    @if !q.is_empty() && !matches!(outcome, Some(SearchOutcome::Invalid(_))) {
                        form.inline.save-search method="post" action="/search/saved" {
                            (csrf_field(&a.csrf))
                            input type="hidden" name="q" value=(q);
                            input type="hidden" name="cols" value=(Column::list_key(&cols));
                            input type="text" name="name" placeholder=(tr!("Name this search")) aria-label=(tr!("Name for the saved search")) required maxlength="60";
                            button type="submit" { (tr!("Save search")) }
                        }
                    }
                    (help())
                    @if !saved.is_empty() {
                        details.saved-list {
                            summary { (tr!("My saved searches ({n})", n = num(saved.len() as i64))) }
                            ul {
                                @for (name, query, cols) in &saved {
                                    li {
                                        a href=(format!("/search?q={}&cols={}", enc(query), enc(cols))) { (name) } " "
                                        code.muted { (query) } " "
                                        form.inline method="post" action="/search/saved" {
                                            (csrf_field(&a.csrf))
                                            input type="hidden" name="name" value=(name);
                                            input type="hidden" name="delete" value="1";
                                            button.linkish type="submit" aria-label=(tr!("Delete the saved search {name}", name = name)) { (tr!("Delete")) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                (results)
            }
        }
    };
    let title = if q.is_empty() { tr!("Search").to_string() } else { tr!("Search: {query}", query = q) };
    Ok((status, page(&frame(&st, &a, title, "queue"), body)).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SaveForm {
    name: String,
    q: String,
    cols: String,
    delete: String,
}

/// Saves (or with `delete=1` removes) one of the agent's own searches.
pub async fn save(State(st): State<AppState>, a: Agent, Form(f): Form<SaveForm>) -> WebResult {
    if f.delete == "1" {
        let name = f.name.clone();
        run_as(&st.desk, &a.person, move |d, me| d.delete_saved_search(me, &name)).await?;
        return Ok(Redirect::to("/tickets").into_response());
    }
    let stored = if f.cols.is_empty() { f.q.clone() } else { format!("{}\u{1f}{}", f.q, f.cols) };
    let name = f.name.clone();
    run_as(&st.desk, &a.person, move |d, me| d.save_search(me, &name, &stored)).await?;
    Ok(Redirect::to(&format!("/search?q={}&cols={}", enc(&f.q), enc(&f.cols))).into_response())
}
