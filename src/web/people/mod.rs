//! People in the agent UI: the requester directory and pages (edit, merge),
//! and the jump box that finds a ticket or a person.

use axum::Form;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use maud::{PreEscaped, html};
use serde::Deserialize;

mod import;
mod orgs;

use crate::desk::DeskError;
use crate::domain::{PersonId, TicketId};
use crate::i18n::{dynamic, format::num};
use crate::store::DirectorySort;
use crate::store::TicketQuery;
use crate::web::pages::frame;
use crate::web::queue::list::{QueueParams, ticket_table};
use crate::web::ui::{self, page};
use crate::web::{Agent, AppState, WebError, WebResult, run_as};
use crate::{tr, trn};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/go", get(jump))
        .route("/people", get(people))
        .route("/people.csv", get(import::export))
        .route("/people/import", get(import::page_get).post(import::import))
        .route("/people/suggest", get(suggest))
        .route("/requesters/{id}", get(requester_page).post(update_person))
        .route("/requesters/{id}/merge", post(merge_person))
        .route("/requesters/{id}/org", post(orgs::set_for_person))
        .route("/organizations", get(orgs::list).post(orgs::create))
        .route("/organizations/{id}", get(orgs::show).post(orgs::update))
        .route("/organizations/{id}/merge", post(orgs::merge))
}

// ---------------------------------------------------------------- jump box

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct JumpQuery {
    #[serde(rename = "ref")]
    reference: String,
}

pub async fn jump(State(st): State<AppState>, a: Agent, Query(q): Query<JumpQuery>) -> WebResult {
    let text = q.reference.trim();
    if let Some(id) = st.desk.parse_reference(text) {
        return match st.desk.ticket_view(&a.person, id) {
            Ok(_) => Ok(Redirect::to(&format!("/tickets/{}", st.desk.reference(id))).into_response()),
            Err(DeskError::NotFound) => Err((
                StatusCode::NOT_FOUND,
                page(
                    &frame(&st, &a, tr!("Not found").into(), "queue"),
                    ui::notice("error", &tr!("There is no ticket {reference} that you can see.", reference = st.desk.reference(id))),
                ),
            )
                .into_response()
                .into()),
            Err(e) => Err(e.into()),
        };
    }
    if text.contains('@') {
        let found = st.desk.find_person(&a.person, text)?;
        if let Some(p) = found {
            return Ok(Redirect::to(&format!("/requesters/{}", p.id)).into_response());
        }
    }
    let msg = tr!(
        "{text} is not a ticket reference. Type one like {example}.",
        text = format!("{text:?}"),
        example = st.desk.reference(TicketId(123))
    );
    Err((StatusCode::NOT_FOUND, page(&frame(&st, &a, tr!("Not found").into(), "queue"), ui::notice("error", &msg))).into_response().into())
}

// ---------------------------------------------------------------- requester page

/// A person's role as the directory names it (a requester is a "contact").
fn role_name(role: crate::domain::Role) -> &'static str {
    match role {
        crate::domain::Role::Requester => tr!("contact"),
        crate::domain::Role::Agent => tr!("agent"),
        crate::domain::Role::Admin => tr!("admin"),
    }
}

pub async fn requester_page(State(st): State<AppState>, a: Agent, Path(id): Path<String>, Query(p): Query<QueueParams>) -> WebResult {
    crate::web::off_runtime(move || requester_now(st, a, id, p)).await
}

/// A requester's page, built from the store (off the async runtime).
fn requester_now(st: AppState, a: Agent, id: String, p: QueueParams) -> WebResult {
    let id: u64 = id.parse().map_err(|_| WebError::not_found())?;
    let to = st.desk.person_survivor(PersonId(id))?;
    if to != PersonId(id) {
        return Ok(Redirect::to(&format!("/requesters/{to}")).into_response());
    }
    let person = st.desk.person(&a.person, PersonId(id))?;
    let notes = st.desk.person_notes(&a.person, PersonId(id))?;
    let phone = st.desk.person_phone(&a.person, PersonId(id))?;
    let limit = st.desk.config().limits.page_size;
    let page_no = p.page.unwrap_or(1).clamp(1, crate::desk::workflow::MAX_QUEUE_OFFSET / limit.max(1) + 1);
    let q = TicketQuery { requester: Some(id), limit, offset: (page_no - 1) * limit, ..Default::default() };
    let (tickets, more, people) = st.desk.queue(&a.person, q)?;
    // The ratings of the tickets on this page.
    let rated = st.desk.ratings(&tickets.iter().map(|t| t.id).collect::<Vec<_>>())?;
    let body = html! {
        div.narrow-page.wide-ok {
            div.crumbs { a href="/tickets" { (tr!("Queue")) } " / " (tr!("requester")) }
            h1 { (person.display()) }
            // The role is catalog text and the date a `<time>` made here.
            p.muted { (person.email) @if !phone.is_empty() { " · " a href=(format!("tel:{}", phone.replace(' ', ""))) { (phone) } } " · " (PreEscaped(tr!("{role} since {date}", role = role_name(person.role), date = crate::web::ui::when_at(person.created_at).into_string()))) }
            (orgs::person_box(&st, &a, &person))
            @if !notes.is_empty() { div.notice.info.person-notes { strong { (tr!("Notes:")) " " } (ui::text_block(&notes)) } }
            @if (!person.is_staff() || a.person.is_admin()) && st.desk.may(&a.person, crate::domain::roles::Permission::People) {
                details.person-edit {
                    summary { (tr!("Edit name, phone and notes")) }
                    form.fields method="post" action=(format!("/requesters/{id}")) {
                        (ui::csrf_field(&a.csrf))
                        label { (tr!("Name")) input type="text" name="name" value=(person.name) maxlength="200"; }
                        label { (tr!("Phone")) input type="tel" name="phone" value=(phone) maxlength="40" autocomplete="off"; }
                        label { (tr!("Notes (agents only)")) textarea name="notes" rows="4" { (notes) } }
                        button type="submit" { (tr!("Save")) }
                    }
                }
            }
            @if !person.is_staff() {
                details.person-merge {
                    summary { (tr!("Merge into another person…")) }
                    form.inline method="post" action=(format!("/requesters/{id}/merge")) {
                        (ui::csrf_field(&a.csrf))
                        input type="email" name="into" placeholder=(tr!("their other address")) aria-label=(tr!("Address of the person to merge into")) required;
                        button type="submit" { (tr!("Merge")) }
                    }
                    p.muted.small { (tr!("Same customer, two addresses: this person's tickets move over, and mail from either address goes to the other person from now on.")) }
                }
            }
            @if !rated.is_empty() {
                h2 { (tr!("Satisfaction")) }
                ul.ratings {
                    @for (tid, rating) in &rated {
                        li { a href=(format!("/tickets/{}", st.desk.reference(*tid))) { (st.desk.reference(*tid)) } " " (ui::rating(rating)) }
                    }
                }
            }
            div.queue-head { h2 { (tr!("Tickets")) } a.button.primary href="/tickets/new" { (tr!("New ticket")) } }
            @if tickets.is_empty() { (ui::empty(tr!("No tickets from this requester that you can see."))) } @else { (ticket_table(&st, &a, &tickets, &people, false)) }
            nav.pager {
                @if page_no > 1 { a.button href=(format!("/requesters/{id}?page={}", page_no - 1)) { (tr!("← Newer")) } } @else { span {} }
                span.muted { (tr!("Page {n}", n = num(page_no as i64))) }
                @if more { a.button href=(format!("/requesters/{id}?page={}", page_no + 1)) { (tr!("Older →")) } } @else { span {} }
            }
        }
    };
    Ok(page(&frame(&st, &a, person.display(), "people"), body).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PersonForm {
    name: String,
    notes: String,
    phone: Option<String>,
    into: String,
}

fn person_error(st: &AppState, a: &Agent, id: u64, e: DeskError) -> WebError {
    crate::web::pages::refusal(st, a, e, tr!("Not saved"), "people", (&format!("/requesters/{id}"), tr!("Back")))
}

pub async fn update_person(State(st): State<AppState>, a: Agent, Path(id): Path<u64>, Form(f): Form<PersonForm>) -> WebResult {
    let (name, notes, phone) = (f.name.clone(), f.notes.clone(), f.phone.clone());
    run_as(&st.desk, &a.person, move |d, me| {
        // A number refused changes nothing: checked first, saved after the
        // rest (under the same permissions, so it cannot fail then).
        if let Some(phone) = &phone {
            crate::desk::contacts::check_phone(phone).map_err(|m| DeskError::Invalid { field: "phone", message: m })?;
        }
        let p = d.update_person(me, PersonId(id), &name, &notes)?;
        if let Some(phone) = &phone {
            d.set_person_phone(me, PersonId(id), phone)?;
        }
        Ok(p)
    })
    .await
    .map_err(|e| person_error(&st, &a, id, e))?;
    Ok(Redirect::to(&format!("/requesters/{id}")).into_response())
}

pub async fn merge_person(State(st): State<AppState>, a: Agent, Path(id): Path<u64>, Form(f): Form<PersonForm>) -> WebResult {
    let target = f.into.clone();
    let into = run_as(&st.desk, &a.person, move |d, me| d.merge_people(me, PersonId(id), &target))
        .await
        .map_err(|e| person_error(&st, &a, id, e))?;
    Ok(Redirect::to(&format!("/requesters/{}", into.id)).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PeopleQuery {
    q: String,
    sort: String,
    page: Option<usize>,
}

/// People per directory page.
const PER_PAGE: usize = 50;

/// The people directory: everyone with their ticket counts, sorted as the
/// agent picks, or the people matching a name or address.
pub async fn people(State(st): State<AppState>, a: Agent, Query(q): Query<PeopleQuery>) -> WebResult {
    crate::web::off_runtime(move || people_now(st, a, q)).await
}

/// The people directory, built from the store (off the async runtime).
fn people_now(st: AppState, a: Agent, q: PeopleQuery) -> WebResult {
    let sort = DirectorySort::parse(&q.sort).unwrap_or_default();
    let searching = !q.q.trim().is_empty();
    let page_no = q.page.unwrap_or(1).clamp(1, 100_000);
    let (rows, total): (Vec<(crate::domain::Person, u64)>, usize) = if searching {
        let found = st.desk.search_people(&a.person, &q.q)?;
        let counts = st.desk.ticket_counts_of(&a.person, &found)?;
        let n = found.len();
        (found.into_iter().zip(counts).collect(), n)
    } else {
        st.desk.directory(&a.person, sort, (page_no - 1) * PER_PAGE, PER_PAGE)?
    };
    let link = |s: DirectorySort, p: usize| format!("/people?sort={}{}", s.key(), if p > 1 { format!("&page={p}") } else { String::new() });
    let body = html! {
        div.narrow-page.wide-ok {
            div.queue-head {
                h1 { (tr!("People")) }
                div.head-actions {
                    a.button href="/organizations" { (tr!("Organizations")) }
                    a.button href="/people.csv" { (tr!("Export CSV")) }
                    a.button href="/people/import" { (tr!("Import…")) }
                }
            }
            form.filters method="get" action="/people" role="search" aria-label=(tr!("Find people")) {
                label { (tr!("Name or email")) input type="search" name="q" value=(q.q) placeholder="alice, @example.com, Smith"; }
                button type="submit" { (tr!("Search")) }
            }
            @if !searching {
                p.muted {
                    (trn!(total, "{n} person.", "{n} people.")) " " (tr!("Sort by:")) " "
                    @for (i, s) in DirectorySort::ALL.iter().enumerate() {
                        @if i > 0 { " · " }
                        @if *s == sort { strong aria-current="true" { (dynamic(s.label())) } } @else { a href=(link(*s, 1)) { (dynamic(s.label())) } }
                    }
                }
            }
            @if rows.is_empty() { (ui::empty(if searching { tr!("Nobody matches.") } else { tr!("Nobody yet: people appear here with their first ticket.") })) } @else {
                div.scroll-x tabindex="0" role="region" aria-label=(tr!("People")) { table.tickets {
                    thead { tr { th { (tr!("Name")) } th { (tr!("Email")) } th.hide-sm { (tr!("Role")) } th { (tr!("Tickets")) } th.hide-sm { (tr!("Since")) } } }
                    tbody {
                        @for (p, n) in &rows {
                            tr.row data-href=(format!("/requesters/{}", p.id)) {
                                td.subject { a href=(format!("/requesters/{}", p.id)) { (p.display()) } }
                                td { (p.email) }
                                td.hide-sm { (role_name(p.role)) }
                                td.num { (num(*n as i64)) }
                                td.hide-sm { (crate::web::ui::when_at(p.created_at)) }
                            }
                        }
                    }
                } }
            }
            @if !searching && total > PER_PAGE {
                nav.pager aria-label=(tr!("Pages")) {
                    @if page_no > 1 { a.button href=(link(sort, page_no - 1)) rel="prev" { (tr!("← Previous")) } } @else { span {} }
                    span.muted { (tr!("Page {n} of {pages}", n = num(page_no as i64), pages = num(total.div_ceil(PER_PAGE) as i64))) }
                    @if page_no * PER_PAGE < total { a.button href=(link(sort, page_no + 1)) rel="next" { (tr!("Next →")) } } @else { span {} }
                }
            }
        }
    };
    Ok(page(&frame(&st, &a, tr!("People").into(), "people"), body).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SuggestQuery {
    q: String,
}

/// People matching what an agent types in an address field (New ticket's
/// requester): at most 8, as `{email, name}`, for the field's suggestions.
pub async fn suggest(State(st): State<AppState>, a: Agent, Query(q): Query<SuggestQuery>) -> WebResult {
    let found = if q.q.trim().chars().count() < 2 { Vec::new() } else { st.desk.search_people(&a.person, &q.q)? };
    let list: Vec<serde_json::Value> =
        found.iter().filter(|p| !p.is_staff()).take(8).map(|p| serde_json::json!({ "email": p.email, "name": p.name })).collect();
    Ok(axum::Json(serde_json::json!({ "people": list })).into_response())
}
