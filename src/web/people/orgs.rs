//! Organizations in the agent UI: the list (with a form for a new one),
//! each organization's page (domains, notes, its people, its tickets by
//! search `org:`), editing and merging, and putting a requester in one.

use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use maud::html;
use serde::Deserialize;

use crate::desk::DeskError;
use crate::desk::orgs::OrgInput;
use crate::domain::roles::Permission;
use crate::domain::{OrgId, PersonId};
use crate::i18n::format::num;
use crate::web::pages::frame;
use crate::web::queue::list::ticket_table;
use crate::web::ui::{self, page};
use crate::web::{Agent, AppState, WebError, WebResult, run_as};
use crate::{tr, trn};

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct OrgForm {
    name: String,
    /// Comma- or space-separated.
    domains: String,
    notes: String,
    shared: Option<String>,
    /// Merge: the organization to keep (its name).
    into: String,
    /// A requester's organization: its id, or empty for none.
    org: String,
}

impl OrgForm {
    fn input(&self) -> OrgInput {
        let domains = self.domains.split([',', ' ', '\n']).map(str::trim).filter(|d| !d.is_empty()).map(str::to_string).collect();
        OrgInput { name: self.name.clone(), domains, notes: self.notes.clone(), shared: self.shared.is_some() }
    }
}

fn org_error(st: &AppState, a: &Agent, back: &str, e: DeskError) -> WebError {
    crate::web::pages::refusal(st, a, e, tr!("Not saved"), "people", (back, tr!("Back")))
}

/// The fields of an organization's form.
fn fields(name: &str, domains: &str, notes: &str, shared: bool) -> maud::Markup {
    html! {
        label { (tr!("Name")) input type="text" name="name" value=(name) required maxlength="120"; }
        label { (tr!("Address domains (people at these join it)")) input type="text" name="domains" value=(domains) placeholder="acme.example, acme-group.example"; }
        label { (tr!("Notes (agents only)")) textarea name="notes" rows="3" { (notes) } }
        label.toggle { input type="checkbox" name="shared" value="1" checked[shared]; " " (tr!("Members see each other's tickets")) }
    }
}

/// `GET /organizations`.
pub async fn list(State(st): State<AppState>, a: Agent) -> WebResult {
    let orgs = st.desk.organizations(&a.person)?;
    let may_edit = st.desk.may(&a.person, Permission::People);
    let body = html! {
        div.narrow-page.wide-ok {
            div.crumbs { a href="/people" { (tr!("People")) } " / " (tr!("organizations")) }
            h1 { (tr!("Organizations")) }
            @if orgs.is_empty() { (ui::empty(tr!("No organizations yet."))) } @else {
                table.tickets {
                    thead { tr { th { (tr!("Name")) } th { (tr!("Domains")) } th { (tr!("People")) } } }
                    tbody {
                        @for (o, n) in &orgs {
                            tr.row data-href=(format!("/organizations/{}", o.id)) {
                                td.subject { a href=(format!("/organizations/{}", o.id)) { (o.name) } }
                                td { (o.domains.join(", ")) }
                                td { (num(*n as i64)) }
                            }
                        }
                    }
                }
            }
            @if may_edit {
                details.org-new {
                    summary { (tr!("New organization…")) }
                    form.fields method="post" action="/organizations" {
                        (ui::csrf_field(&a.csrf))
                        (fields("", "", "", false))
                        button.primary type="submit" { (tr!("Create")) }
                    }
                }
            }
        }
    };
    Ok(page(&frame(&st, &a, tr!("Organizations").into(), "people"), body).into_response())
}

/// `POST /organizations`.
pub async fn create(State(st): State<AppState>, a: Agent, Form(f): Form<OrgForm>) -> WebResult {
    let input = f.input();
    let org =
        run_as(&st.desk, &a.person, move |d, me| d.create_org(me, input)).await.map_err(|e| org_error(&st, &a, "/organizations", e))?;
    Ok(Redirect::to(&format!("/organizations/{}", org.id)).into_response())
}

/// `GET /organizations/{id}`.
pub async fn show(State(st): State<AppState>, a: Agent, Path(id): Path<u64>) -> WebResult {
    let v = st.desk.organization(&a.person, OrgId(id))?;
    let q = format!("org:\"{}\"", v.org.name.replace('"', ""));
    let found = match st.desk.search(&a.person, &q, 0, 50) {
        Ok(crate::desk::workflow::SearchOutcome::Results(r)) => Some((r.hits.into_iter().map(|(t, _)| t).collect::<Vec<_>>(), r.people)),
        _ => None,
    };
    let may_edit = st.desk.may(&a.person, Permission::People);
    let o = &v.org;
    let body = html! {
        div.narrow-page.wide-ok {
            div.crumbs { a href="/people" { (tr!("People")) } " / " a href="/organizations" { (tr!("organizations")) } }
            h1 { (o.name) }
            p.muted {
                @if o.domains.is_empty() { (tr!("No domains")) } @else { (o.domains.join(", ")) }
                " · " (trn!(v.size, "{n} person", "{n} people")) @if o.shared { " · " (tr!("members see each other's tickets")) }
            }
            @if !o.notes.is_empty() { div.notice.info.person-notes { strong { (tr!("Notes:")) " " } (ui::text_block(&o.notes)) } }
            @if may_edit {
                details.org-edit {
                    summary { (tr!("Edit")) }
                    form.fields method="post" action=(format!("/organizations/{id}")) {
                        (ui::csrf_field(&a.csrf))
                        (fields(&o.name, &o.domains.join(", "), &o.notes, o.shared))
                        button type="submit" { (tr!("Save")) }
                    }
                }
                details.org-merge {
                    summary { (tr!("Merge into another organization…")) }
                    form.inline method="post" action=(format!("/organizations/{id}/merge")) {
                        (ui::csrf_field(&a.csrf))
                        input type="text" name="into" placeholder=(tr!("its name")) aria-label=(tr!("Name of the organization to keep")) required;
                        button type="submit" { (tr!("Merge")) }
                    }
                }
            }
            h2 { (tr!("People")) }
            @if v.people.is_empty() { (ui::empty(tr!("Nobody you can see belongs to it."))) } @else {
                ul.org-people { @for p in &v.people { li { a href=(format!("/requesters/{}", p.id)) { (p.display()) } @if !p.name.is_empty() { " " span.muted { (p.email) } } } } }
            }
            h2 { (tr!("Tickets")) }
            @match &found {
                Some((tickets, people)) if !tickets.is_empty() => { (ticket_table(&st, &a, tickets, people, true)) p.small { a href=(format!("/search?q={}", crate::web::queue::search::enc(&q))) { (tr!("All in search →")) } } }
                _ => { (ui::empty(tr!("No tickets from its people that you can see."))) }
            }
        }
    };
    Ok(page(&frame(&st, &a, o.name.clone(), "people"), body).into_response())
}

/// `POST /organizations/{id}`.
pub async fn update(State(st): State<AppState>, a: Agent, Path(id): Path<u64>, Form(f): Form<OrgForm>) -> WebResult {
    let input = f.input();
    let back = format!("/organizations/{id}");
    run_as(&st.desk, &a.person, move |d, me| d.update_org(me, OrgId(id), input)).await.map_err(|e| org_error(&st, &a, &back, e))?;
    Ok(Redirect::to(&format!("/organizations/{id}")).into_response())
}

/// `POST /organizations/{id}/merge`: into the one named.
pub async fn merge(State(st): State<AppState>, a: Agent, Path(id): Path<u64>, Form(f): Form<OrgForm>) -> WebResult {
    let back = format!("/organizations/{id}");
    let into = match st.desk.org_named(&f.into)? {
        Some(o) => o.id,
        None => {
            return Err(org_error(
                &st,
                &a,
                &back,
                DeskError::Invalid { field: "into", message: tr!("no organization is called {name}", name = format!("{:?}", f.into)) },
            ));
        }
    };
    let kept =
        run_as(&st.desk, &a.person, move |d, me| d.merge_orgs(me, OrgId(id), into)).await.map_err(|e| org_error(&st, &a, &back, e))?;
    Ok(Redirect::to(&format!("/organizations/{}", kept.id)).into_response())
}

/// `POST /requesters/{id}/org`: the requester's organization (empty: none).
pub async fn set_for_person(State(st): State<AppState>, a: Agent, Path(id): Path<u64>, Form(f): Form<OrgForm>) -> WebResult {
    let back = format!("/requesters/{id}");
    let org = match f.org.trim() {
        "" => None,
        v => Some(OrgId(v.parse().map_err(|_| WebError::not_found())?)),
    };
    run_as(&st.desk, &a.person, move |d, me| d.set_person_org(me, PersonId(id), org)).await.map_err(|e| org_error(&st, &a, &back, e))?;
    Ok(Redirect::to(&back).into_response())
}

/// The requester page's organization line and its form.
pub fn person_box(st: &AppState, a: &Agent, person: &crate::domain::Person) -> maud::Markup {
    if person.is_staff() {
        return html! {};
    }
    let current = st.desk.org_of_person(person.id).ok().flatten();
    let all = if st.desk.may(&a.person, Permission::People) { st.desk.organizations(&a.person).unwrap_or_default() } else { Vec::new() };
    html! {
        p.org-line {
            (tr!("Organization:")) " "
            @match &current { Some(o) => { a href=(format!("/organizations/{}", o.id)) { (o.name) } }, None => { span.muted { (tr!("none")) } } }
        }
        @if !all.is_empty() {
            form.inline method="post" action=(format!("/requesters/{}/org", person.id)) {
                (ui::csrf_field(&a.csrf))
                select name="org" aria-label=(tr!("Organization")) {
                    option value="" { (tr!("No organization")) }
                    @for (o, _) in &all { option value=(o.id) selected[current.as_ref().is_some_and(|c| c.id == o.id)] { (o.name) } }
                }
                button type="submit" { (tr!("Set")) }
            }
        }
    }
}
