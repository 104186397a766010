//! Admin pages: add, edit, deactivate and reset agents. Agents who are not
//! admins get a 404 here (they may not see these pages), enforced in `desk`.

pub mod audit;
mod backups;
mod config;
mod profile;
mod tokens;

use axum::Form;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use maud::{Markup, html};
use serde::Deserialize;

use crate::desk::DeskError;
use crate::desk::profile::Invite;
use crate::domain::{OutMailId, Person, PersonId, Role};
use crate::web::pages::{frame, to};
use crate::web::ui::{self, csrf_field, page};
use crate::web::{Admin, Agent, AppState, WebError, WebResult, run_as, status_of};
use crate::{tr, trn};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/agents", get(agents_page).post(add_agent))
        .route("/admin/agents/{id}/active", post(set_active))
        .route("/admin/agents/{id}/password", post(reset_password))
        .route("/admin/agents/{id}/edit", post(edit_agent))
        .route("/settings", get(settings_page).post(save_settings))
        .route("/settings/canned", post(save_canned))
        .route("/admin/outbox", get(outbox_page))
        .route("/admin/config", get(config::config_page))
        .route("/admin/config/reload", post(config::reload))
        .route("/admin/webhooks", get(crate::web::webhooks::page))
        .route("/admin/outbox/test", post(outbox_test))
        .route("/admin/outbox/{id}/retry", post(outbox_retry))
        .route("/admin/outbox/{id}/discard", post(outbox_discard))
        .merge(tokens::routes())
        .merge(audit::routes())
        .merge(backups::routes())
        .merge(profile::routes())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DoneQuery {
    done: Option<String>,
}

fn agents_body(st: &AppState, a: &Agent, staff: &[Person], flash: Option<(&str, String)>) -> Markup {
    let cfg = st.desk.config();
    let min_chars = cfg.security.password_min_chars;
    let depts = &cfg.desk.departments;
    let roles = cfg.roles();
    let teams: Vec<&str> = cfg.team.iter().map(|t| t.name.as_str()).collect();
    let role_of = |p: &Person| {
        if p.role == Role::Admin {
            "admin".to_string()
        } else if p.role_name.is_empty() {
            "agent".to_string()
        } else {
            p.role_name.clone()
        }
    };
    html! {
        div.narrow-page.wide-ok {
            (audit::admin_nav("/admin/agents"))
            h1 { (tr!("Agents")) }
            @if let Some((k, m)) = &flash { (ui::notice(k, m)) }
            div.scroll-x tabindex="0" role="region" aria-label=(tr!("Agents")) {
            table.tickets.agents {
                thead { tr { th { (tr!("Name")) } th { (tr!("Email")) } th { (tr!("Role")) } th.hide-sm { (tr!("Departments")) } th.hide-sm { (tr!("Teams")) } th { (tr!("Status")) } th { span.sr-only { (tr!("Actions")) } } } }
                tbody {
                    @for p in staff {
                        tr class=(if p.active { "" } else { "inactive" }) {
                            td { (p.name) }
                            td { (p.email) }
                            td { (crate::i18n::dynamic(&st.desk.role_label(p))) }
                            td.hide-sm { @if p.departments.is_empty() { span.muted { (tr!("All")) } } @else { (p.departments.join(", ")) } }
                            td.hide-sm { (p.teams.join(", ")) }
                            td { @if p.active { span.badge.st-open { (tr!("Active")) } } @else { span.badge.st-closed { (tr!("Deactivated")) } } }
                            td.actions {
                                details.menu {
                                    summary { (tr!("Manage")) }
                                    div.menu-body {
                                        @if p.id != a.person.id {
                                            form method="post" action=(format!("/admin/agents/{}/active", p.id)) {
                                                (csrf_field(&a.csrf))
                                                input type="hidden" name="active" value=(if p.active { "0" } else { "1" });
                                                button type="submit" class=(if p.active { "danger" } else { "" }) { @if p.active { (tr!("Deactivate")) } @else { (tr!("Reactivate")) } }
                                            }
                                        }
                                        form method="post" action=(format!("/admin/agents/{}/2fa-reset", p.id)) {
                                            (csrf_field(&a.csrf))
                                            button type="submit" title=(tr!("For a lost phone: they set up two-factor login again")) { (tr!("Reset two-factor")) }
                                        }
                                        form method="post" action=(format!("/admin/agents/{}/password", p.id)) {
                                            (csrf_field(&a.csrf))
                                            button type="submit" title=(tr!("They choose a new password through a one-time link")) { (tr!("Send password reset link")) }
                                        }
                                        form method="post" action=(format!("/admin/agents/{}/edit", p.id)) {
                                            (csrf_field(&a.csrf))
                                            label { (tr!("Name")) input type="text" name="name" value=(p.name) required maxlength="120"; }
                                            label { (tr!("Email")) input type="email" name="email" value=(p.email) required; }
                                            label { (tr!("Role")) select name="role" {
                                                @for (key, label) in &roles { option value=(key) selected[*key == role_of(p)] { (crate::i18n::dynamic(label)) } }
                                            } }
                                            @if depts.len() > 1 {
                                                fieldset { legend { (tr!("Departments (none = all)")) }
                                                    @for d in depts { label.check { input type="checkbox" name="departments" value=(d) checked[p.departments.contains(d)]; " " (d) } }
                                                }
                                            }
                                            @if !teams.is_empty() {
                                                fieldset { legend { (tr!("Teams")) }
                                                    @for t in &teams { label.check { input type="checkbox" name="teams" value=(t) checked[p.teams.iter().any(|x| x == t)]; " " (t) } }
                                                }
                                            }
                                            button type="submit" { (tr!("Save")) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            }
            h2 { (tr!("Add an agent")) }
            form.card.form-grid method="post" action="/admin/agents" {
                (csrf_field(&a.csrf))
                div.row {
                    label { (tr!("Name")) input type="text" name="name" required; }
                    label { (tr!("Email")) input type="email" name="email" required; }
                }
                div.row {
                    label { (tr!("Role")) select name="role" { @for (key, label) in &roles { option value=(key) selected[key == "agent"] { (crate::i18n::dynamic(label)) } } } }
                }
                p.muted { (tr!("They get a mail with a one-time link to choose their own password (at least {n} characters).", n = min_chars)) }
                @if depts.len() > 1 {
                    fieldset { legend { (tr!("Departments (none = all)")) }
                        @for d in depts { label.check { input type="checkbox" name="departments" value=(d); " " (d) } }
                    }
                }
                @if !teams.is_empty() {
                    fieldset { legend { (tr!("Teams")) }
                        @for t in &teams { label.check { input type="checkbox" name="teams" value=(t); " " (t) } }
                    }
                }
                div.actions { button.primary type="submit" { (tr!("Invite agent")) } }
            }
        }
    }
}

fn render(st: &AppState, a: &Agent, flash: Option<(&str, String)>, status: axum::http::StatusCode) -> WebResult {
    let staff = st.desk.staff(&a.person)?;
    Ok((status, page(&frame(st, a, tr!("Agents").into(), "admin"), agents_body(st, a, &staff, flash))).into_response())
}

pub async fn agents_page(State(st): State<AppState>, Admin(a): Admin, Query(q): Query<DoneQuery>) -> WebResult {
    let flash = match q.done.as_deref() {
        Some("invited") => {
            Some(("ok", tr!("Invited: they got a mail with a link to choose their password (it works for 7 days).").to_string()))
        }
        Some("saved") => Some(("ok", tr!("Saved.").to_string())),
        Some("password") => Some(("ok", tr!("A link to choose a new password is on its way to them (it works for an hour).").to_string())),
        Some("2fa-reset") => Some((
            "ok",
            tr!("Their second factor is removed; they set it up again at their next login if the desk requires it.").to_string(),
        )),
        _ => None,
    };
    render(&st, &a, flash, axum::http::StatusCode::OK)
}

/// Form with repeated `departments` fields (checkboxes).
fn departments_of(raw: &str) -> Vec<String> {
    repeated(raw, "departments")
}

/// Every value of a repeated form field (checkboxes).
fn repeated(raw: &str, key: &str) -> Vec<String> {
    form_urlencoded::parse(raw.as_bytes()).filter(|(k, _)| k == key).map(|(_, v)| v.into_owned()).collect()
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AddForm {
    name: String,
    email: String,
    role: String,
}

/// The agents page again, with the refusal on top.
fn on_error(st: &AppState, a: &Agent, e: DeskError) -> WebError {
    match e {
        DeskError::NotFound | DeskError::Store(_) => e.into(),
        e => match render(st, a, Some(("error", crate::web::error::desk_message(&e))), status_of(&e)) {
            Ok(page) => page.into(),
            Err(other) => other,
        },
    }
}

pub async fn add_agent(State(st): State<AppState>, Admin(a): Admin, body: String) -> WebResult {
    let f: AddForm = match serde_urlencoded_lite(&body) {
        Ok(f) => f,
        Err(e) => return Err(on_error(&st, &a, e)),
    };
    let invite = Invite { email: f.email, name: f.name, role: f.role, departments: departments_of(&body), teams: repeated(&body, "teams") };
    match run_as(&st.desk, &a.person, move |d, me| d.invite_agent(me, invite)).await {
        Ok((_, None)) => Ok(to("/admin/agents?done=invited")),
        Ok((p, Some(link))) => render(&st, &a, Some(("ok", link_notice(&p.email, true, &link))), axum::http::StatusCode::OK),
        Err(e) => Err(on_error(&st, &a, e)),
    }
}

/// Where the desk cannot mail: the link for the admin to pass on (to choose
/// a first password after an invitation, or a new one).
fn link_notice(email: &str, invite: bool, link: &str) -> String {
    if invite {
        tr!(
            "This desk cannot send mail: give {email} this one-time link to choose their password (it works once): {link}",
            email = email,
            link = link
        )
    } else {
        tr!(
            "This desk cannot send mail: give {email} this one-time link to set a new password (it works once): {link}",
            email = email,
            link = link
        )
    }
}

fn serde_urlencoded_lite<T: serde::de::DeserializeOwned>(body: &str) -> Result<T, DeskError> {
    // Repeated `departments` keys are not fields of the struct and are skipped here.
    serde_urlencoded::from_str(body).map_err(|e| DeskError::Invalid { field: "form", message: e.to_string() })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ActiveForm {
    active: String,
}

pub async fn set_active(State(st): State<AppState>, Admin(a): Admin, Path(id): Path<u64>, Form(f): Form<ActiveForm>) -> WebResult {
    let active = f.active == "1";
    match run_as(&st.desk, &a.person, move |d, me| d.set_agent_active(me, PersonId(id), active)).await {
        Ok(_) => Ok(to("/admin/agents?done=saved")),
        Err(e) => Err(on_error(&st, &a, e)),
    }
}

/// Sends an agent a link to choose a new password (the admin never sets it).
pub async fn reset_password(State(st): State<AppState>, Admin(a): Admin, Path(id): Path<u64>) -> WebResult {
    match run_as(&st.desk, &a.person, move |d, me| d.send_reset_link(me, PersonId(id))).await {
        Ok(None) => Ok(to("/admin/agents?done=password")),
        Ok(Some(link)) => {
            let email = st.desk.agents()?.into_iter().find(|p| p.id == PersonId(id)).map(|p| p.email).unwrap_or_default();
            render(&st, &a, Some(("ok", link_notice(&email, false, &link))), axum::http::StatusCode::OK)
        }
        Err(e) => Err(on_error(&st, &a, e)),
    }
}

pub async fn edit_agent(State(st): State<AppState>, Admin(a): Admin, Path(id): Path<u64>, body: String) -> WebResult {
    let role = repeated(&body, "role").into_iter().next().unwrap_or_default();
    let (departments, teams) = (departments_of(&body), repeated(&body, "teams"));
    let field = |key: &str| form_urlencoded::parse(body.as_bytes()).find(|(k, _)| k == key).map(|(_, v)| v.into_owned());
    let (name, email) = (field("name"), field("email"));
    let res = run_as(&st.desk, &a.person, move |d, me| {
        if let (Some(name), Some(email)) = (name, email) {
            d.rename_agent(me, PersonId(id), &name, &email)?;
        }
        d.edit_agent(me, PersonId(id), &role, &departments, &teams)
    })
    .await;
    match res {
        Ok(_) => Ok(to("/admin/agents?done=saved")),
        Err(e) => Err(on_error(&st, &a, e)),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TestMailForm {
    to: String,
}

pub async fn outbox_test(State(st): State<AppState>, Admin(a): Admin, Form(f): Form<TestMailForm>) -> WebResult {
    let (kind, msg) = match crate::mail::outbound::send_test(&st.desk.config(), &f.to).await {
        Ok(m) => ("ok", crate::i18n::dynamic(&m)),
        Err(m) => ("error", crate::i18n::dynamic(&m)),
    };
    let f = frame(&st, &a, tr!("Outbox").into(), "outbox");
    let body = html! { div.narrow-page { h1 { (tr!("Test message")) } (ui::notice(kind, &msg)) p { a href="/admin/outbox" { (tr!("Back to the outbox")) } } } };
    let status = if kind == "ok" { axum::http::StatusCode::OK } else { axum::http::StatusCode::BAD_GATEWAY };
    Ok((status, page(&f, body)).into_response())
}

pub async fn outbox_page(State(st): State<AppState>, Admin(a): Admin) -> WebResult {
    let items = match st.desk.outbox(&a.person, 500) {
        Ok(x) => x,
        Err(e) => return Err(e.into()),
    };
    let bounced = st.desk.bounced_addresses(&a.person, 50)?;
    let now = st.desk.now();
    let o = &st.desk.config().outgoing;
    let body = html! {
        div.narrow-page.wide-ok {
            h1 { (tr!("Outbox")) }
            p.muted {
                @if !o.enabled { (tr!("Sending is turned off (outgoing.enabled / --no-outgoing): mail waits here.")) " " }
                @if o.smarthost.is_empty() { (tr!("No smarthost is configured (outgoing.smarthost).")) } @else { (tr!("Mail goes out through {host} ({security}).", host = o.smarthost, security = o.security.as_str())) }
                " " (tr!("Delivered mail leaves this list and is recorded on its ticket."))
                @if !st.desk.config().webhook.is_empty() { " " a href="/admin/webhooks" { (tr!("Webhook deliveries")) } }
            }
            form.card.testmail method="post" action="/admin/outbox/test" {
                (csrf_field(&a.csrf))
                label { (tr!("Send a test message to")) input type="email" name="to" required placeholder="you@example.com"; }
                button type="submit" { (tr!("Send test")) }
            }
            @if items.is_empty() {
                (ui::empty(tr!("Nothing waiting: all mail has been delivered.")))
            } @else {
                div.scroll-x tabindex="0" role="region" aria-label=(tr!("Outgoing mail")) { table.tickets {
                    thead { tr { th { (tr!("Ticket")) } th { (tr!("Mail")) } th { (tr!("To")) } th { (tr!("State")) } th.hide-sm { (tr!("Queued")) } th { span.sr-only { (tr!("Actions")) } } } }
                    tbody {
                        @for m in &items {
                            tr {
                                td.ref { @if let Some(t) = m.ticket { a href=(format!("/tickets/{}", st.desk.reference(t))) { (st.desk.reference(t)) } } }
                                td.subject { (m.subject) div.sub { (m.kind.replace('_', " ")) } }
                                td { (m.pending.join(", ")) }
                                td {
                                    @if m.failed { span.badge.st-closed { (tr!("Failed")) } } @else { span.badge.st-pending { (tr!("Queued")) } }
                                    @if !m.last_error.is_empty() { div.sub { (m.last_error) } }
                                    @if !m.failed && m.attempts > 0 { div.sub { (trn!(m.attempts, "{n} attempt; next {when}", "{n} attempts; next {when}", when = crate::web::ui::until(m.next_attempt, now))) } }
                                }
                                td.hide-sm.nowrap { (crate::web::ui::ago(m.created_at, now)) }
                                td.actions {
                                    form method="post" action=(format!("/admin/outbox/{}/retry", m.id)) { (csrf_field(&a.csrf)) button type="submit" { (tr!("Retry now")) } }
                                    form method="post" action=(format!("/admin/outbox/{}/discard", m.id)) { (csrf_field(&a.csrf)) button.danger type="submit" { (tr!("Discard")) } }
                                }
                            }
                        }
                    }
                } }
            }
            @if !bounced.is_empty() {
                h2 { (tr!("Addresses that bounced")) }
                p.muted { (tr!("A delivery report said mail to these cannot be delivered. They are copied on no conversation until mail comes from them again.")) }
                div.scroll-x tabindex="0" role="region" aria-label=(tr!("Addresses that bounced")) { table.tickets.bounced {
                    thead { tr { th { (tr!("Address")) } th { (tr!("Bounced")) } th { (tr!("Reason")) } } }
                    tbody {
                        @for (addr, b) in &bounced {
                            tr { td { (addr) } td.nowrap { (crate::web::ui::ago(b.at, now)) } td { (tr!("bounced: {reason}", reason = b.reason)) } }
                        }
                    }
                } }
            }
        }
    };
    let f = frame(&st, &a, tr!("Outbox").into(), "outbox");
    Ok(page(&f, body).into_response())
}

pub async fn outbox_retry(State(st): State<AppState>, Admin(a): Admin, Path(id): Path<OutMailId>) -> WebResult {
    match run_as(&st.desk, &a.person, move |d, me| d.outbox_retry(me, id)).await {
        Ok(()) => Ok(to("/admin/outbox")),
        Err(e) => Err(e.into()),
    }
}

pub async fn outbox_discard(State(st): State<AppState>, Admin(a): Admin, Path(id): Path<OutMailId>) -> WebResult {
    match run_as(&st.desk, &a.person, move |d, me| d.outbox_discard(me, id)).await {
        Ok(()) => Ok(to("/admin/outbox")),
        Err(e) => Err(e.into()),
    }
}

/// Each agent's own settings: which notifications they get by mail.
pub async fn settings_page(State(st): State<AppState>, a: Agent, Query(q): Query<DoneQuery>) -> WebResult {
    let prefs = match st.desk.my_notifications(&a.person) {
        Ok(p) => p,
        Err(e) => return Err(e.into()),
    };
    let mine = match st.desk.personal_canned(&a.person) {
        Ok(m) => m,
        Err(e) => return Err(e.into()),
    };
    // Only their own tokens, even for an admin (who has the Tokens page).
    let me_only = crate::domain::Person { role: crate::domain::Role::Agent, ..a.person.clone() };
    let tokens = match st.desk.api_tokens(Some(&me_only)) {
        Ok(t) => t,
        Err(e) => return Err(e.into()),
    };
    let body = html! {
        div.narrow-page {
            p { a href="/settings/profile" { (tr!("My profile")) } " · " a href="/settings/2fa" { (tr!("Two-factor login")) } " · " a href="#canned" { (tr!("My canned responses")) } " · " a href="#tokens" { (tr!("My API tokens")) } }
            h1 { (tr!("My notifications")) }
            @if q.done.is_some() { (ui::notice("ok", tr!("Saved."))) }
            p.muted { (tr!("Mail you get from {desk}. You never get mail about your own changes. Reply to a notification to answer on the ticket; commands such as #note, #assign me or #status pending at the top of your reply act on it.", desk = st.desk.config().desk.name)) }
            form.card.form-grid method="post" action="/settings" {
                (csrf_field(&a.csrf))
                @for (kind, on) in &prefs {
                    label.check { input type="checkbox" name="on" value=(kind.key()) checked[*on]; " " (crate::i18n::dynamic(kind.setting_label())) }
                }
                div.actions { button.primary type="submit" { (tr!("Save")) } }
            }
            h2 #canned { (tr!("My canned responses")) }
            p.muted { (tr!("Only you see these in the reply box. They may use {{ requester.name }}, {{ ticket.ref }}, {{ ticket.subject }}, {{ agent.name }} and {{ desk.name }}.")) }
            @for (title, text) in &mine {
                div.card.canned-item {
                    strong { (title) }
                    (ui::text_block(text))
                    form.inline method="post" action="/settings/canned" {
                        (csrf_field(&a.csrf))
                        input type="hidden" name="title" value=(title);
                        input type="hidden" name="delete" value="1";
                        button.linkish type="submit" { (tr!("Delete")) }
                    }
                }
            }
            form.card.form-grid method="post" action="/settings/canned" {
                (csrf_field(&a.csrf))
                label { (tr!("Title")) input type="text" name="title" required maxlength="80"; }
                label { (tr!("Text")) textarea name="text" rows="4" required {} }
                div.actions { button type="submit" { (tr!("Add canned response")) } }
            }
            (tokens::own_section(&a.person, &tokens, &a.csrf))
        }
    };
    let f = frame(&st, &a, tr!("My notifications").into(), "settings");
    Ok(page(&f, body).into_response())
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct CannedForm {
    title: String,
    text: String,
    delete: String,
}

/// Adds or deletes one of the agent's own canned responses.
pub async fn save_canned(State(st): State<AppState>, a: Agent, axum::extract::Form(f): axum::extract::Form<CannedForm>) -> WebResult {
    let actor = a.person.clone();
    let res = super::blocking(&st.desk, move |d| {
        if f.delete == "1" { d.delete_personal_canned(&actor, &f.title) } else { d.save_personal_canned(&actor, &f.title, &f.text) }
    })
    .await;
    match res {
        Ok(()) => Ok(to("/settings?done=saved#canned")),
        Err(e) => Err(e.into()),
    }
}

pub async fn save_settings(State(st): State<AppState>, a: Agent, body: String) -> WebResult {
    let on: Vec<String> = body
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .filter(|(k, _)| *k == "on")
        .map(|(_, v)| percent_encoding::percent_decode_str(v).decode_utf8_lossy().into_owned())
        .collect();
    match run_as(&st.desk, &a.person, move |d, me| d.set_my_notifications(me, &on)).await {
        Ok(()) => Ok(to("/settings?done=saved")),
        Err(e) => Err(e.into()),
    }
}
