//! New ticket on behalf of a customer (phone, chat, walk-in).

use axum::extract::State;
use axum::response::{IntoResponse, Redirect};
use maud::{Markup, html};
use serde::Deserialize;

use crate::desk::{DeskError, NewTicket};
use crate::domain::time::Date;
use crate::domain::{Channel, Person, Priority};
use crate::tr;
use crate::web::pages::frame;
use crate::web::ui::{self, csrf_field, options, page};
use crate::web::{Agent, AppState, WebError, WebResult, run_as};

// ---------------------------------------------------------------- new ticket

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct NewTicketForm {
    requester_email: String,
    requester_name: String,
    /// A walk-in's or caller's number, for a requester without email.
    requester_phone: String,
    subject: String,
    body: String,
    channel: String,
    priority: String,
    category: String,
    department: String,
    assignee: String,
    due: String,
    tags: String,
    /// "on": mail the requester that the ticket was opened for them.
    notify: String,
}

fn new_ticket_form(
    st: &AppState,
    a: &Agent,
    f: &NewTicketForm,
    fields: &[(String, String)],
    agents: &[Person],
    error: Option<&str>,
) -> Markup {
    let cfg = &st.desk.config().desk;
    let channel = if f.channel.is_empty() { "phone" } else { f.channel.as_str() };
    let prio = if f.priority.is_empty() { cfg.default_priority.as_str() } else { f.priority.as_str() };
    let cat = if f.category.is_empty() { cfg.default_category.as_str() } else { f.category.as_str() };
    let dept = if f.department.is_empty() { cfg.default_department.as_str() } else { f.department.as_str() };
    let channels: Vec<(&str, String)> = Channel::ALL.iter().map(|c| (c.key(), crate::i18n::dynamic(c.label()))).collect();
    let priorities: Vec<(&str, String)> = Priority::ALL.iter().map(|p| (p.key(), crate::i18n::dynamic(p.label()))).collect();
    html! {
        div.narrow-page {
            h1 { (tr!("New ticket")) }
            p.muted { (tr!("For a customer who phoned, chatted or walked in. The ticket is theirs; you are recorded as its creator.")) }
            @if let Some(e) = error { (ui::notice("error", e)) }
            form.card.form-grid method="post" action="/tickets" {
                (csrf_field(&a.csrf))
                fieldset {
                    legend { (tr!("Requester")) }
                    label { (tr!("Email")) input type="email" name="requester_email" value=(f.requester_email) autofocus placeholder="customer@example.com" list="people-suggest" autocomplete="off" data-suggest="/people/suggest"; }
                    datalist #people-suggest {}
                    label { (tr!("Name")) input type="text" name="requester_name" value=(f.requester_name) placeholder=(tr!("Optional")); }
                    label { (tr!("Phone (when there is no email)")) input type="tel" name="requester_phone" value=(f.requester_phone) maxlength="40" autocomplete="off"; }
                }
                label.wide { (tr!("Subject")) input type="text" name="subject" value=(f.subject) required maxlength=(st.desk.config().limits.subject_max_chars); }
                label.wide { (tr!("Description")) textarea name="body" rows="7" placeholder=(tr!("What did the customer report?")) { (f.body) } }
                div.row {
                    label { (tr!("Channel")) select name="channel" { (options(channels.iter().map(|(k, l)| (*k, l.as_str())), channel)) } }
                    label { (tr!("Priority")) select name="priority" { (options(priorities.iter().map(|(k, l)| (*k, l.as_str())), prio)) } }
                    label { (tr!("Category")) select name="category" { (options(cfg.categories.iter().map(|c| (c.as_str(), c.as_str())), cat)) } }
                    @if cfg.departments.len() > 1 {
                        label { (tr!("Department")) select name="department" { (options(cfg.departments.iter().map(|c| (c.as_str(), c.as_str())), dept)) } }
                    }
                }
                div.row {
                    label { (tr!("Assignee")) select name="assignee" {
                        option value="" { (tr!("Unassigned")) }
                        @for g in agents { option value=(g.id) selected[f.assignee == g.id.to_string()] { (g.display()) } }
                    } }
                    label { (tr!("Due date")) input type="date" name="due" value=(f.due); }
                    label { (tr!("Tags")) input type="text" name="tags" value=(f.tags) placeholder=(tr!("comma, separated")); }
                }
                (super::fields::inputs(&st.desk.config(), dept, |n| fields.iter().find(|(k, _)| k.strip_prefix("field.") == Some(n)).map(|(_, v)| v.as_str())))
                label.check {
                    input type="checkbox" name="notify" value="on" checked[f.notify == "on"];
                    " " (tr!("Mail the requester that this ticket was opened for them"))
                }
                div.actions { button.primary type="submit" { (tr!("Create ticket")) } a.button href="/tickets" { (tr!("Cancel")) } }
            }
        }
    }
}

pub async fn new_ticket_page(State(st): State<AppState>, a: Agent) -> WebResult {
    st.desk.require(&a.person, crate::domain::roles::Permission::Create)?;
    let agents = st.desk.agents()?;
    let f = NewTicketForm {
        notify: if st.desk.config().outgoing.notify_agent_ticket { "on".into() } else { String::new() },
        ..Default::default()
    };
    Ok(page(&frame(&st, &a, tr!("New ticket").into(), "new"), new_ticket_form(&st, &a, &f, &[], &agents, None)).into_response())
}

pub async fn create_ticket(State(st): State<AppState>, a: Agent, body: axum::body::Bytes) -> WebResult {
    let cfg = st.desk.config();
    // A role without tickets.create is told so, not shown the form again.
    st.desk.require(&a.person, crate::domain::roles::Permission::Create)?;
    let agents = st.desk.agents()?;
    let bad_form = |e: serde_urlencoded::de::Error| WebError::from(DeskError::Invalid { field: "form", message: e.to_string() });
    let f: NewTicketForm = serde_urlencoded::from_bytes(&body).map_err(bad_form)?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).map_err(bad_form)?;
    let show_error = |e: DeskError| {
        if matches!(e, DeskError::Store(_)) {
            return WebError::from(e).into_response();
        }
        (
            crate::web::status_of(&e),
            page(
                &frame(&st, &a, tr!("New ticket").into(), "new"),
                new_ticket_form(&st, &a, &f, &pairs, &agents, Some(&crate::web::error::desk_message(&e))),
            ),
        )
            .into_response()
    };
    let bad = |field: &'static str, v: &str| DeskError::Invalid { field, message: tr!("{value} is not valid", value = format!("{v:?}")) };
    // No email, a phone number: the requester is known by phone only (an
    // address at the reserved phone.invalid that no mail goes to).
    let phone = crate::desk::contacts::check_phone(&f.requester_phone)
        .map_err(|m| show_error(DeskError::Invalid { field: "phone", message: m }))?;
    let email = match (f.requester_email.trim().is_empty(), crate::domain::people::phone_only_address(&phone)) {
        (true, Some(address)) => address,
        (true, None) => {
            return Ok(show_error(DeskError::Invalid {
                field: "requester",
                message: tr!("Give the requester's email address or phone number.").into(),
            }));
        }
        (false, _) => f.requester_email.clone(),
    };
    let new = (|| {
        Ok::<_, DeskError>(NewTicket {
            subject: f.subject.clone(),
            body: f.body.clone(),
            requester_name: f.requester_name.clone(),
            requester_email: email.clone(),
            channel: Some(Channel::parse(&f.channel).ok_or_else(|| bad("channel", &f.channel))?),
            priority: Some(Priority::parse(&f.priority).ok_or_else(|| bad("priority", &f.priority))?),
            category: Some(f.category.clone()).filter(|s| !s.is_empty()),
            department: Some(f.department.clone()).filter(|s| !s.is_empty()),
            assignee: if f.assignee.trim().is_empty() {
                None
            } else {
                Some(f.assignee.trim().parse().map_err(|_| bad("assignee", &f.assignee))?)
            },
            due: if f.due.trim().is_empty() { None } else { Some(Date::parse(&f.due).ok_or_else(|| bad("due", &f.due))?) },
            tags: vec![f.tags.clone()],
            notify_requester: Some(f.notify == "on"),
            fields: super::fields::from_form(
                &cfg,
                if f.department.is_empty() { &cfg.desk.default_department } else { &f.department },
                &pairs,
            ),
        })
    })()
    .map_err(show_error)?;
    let t = run_as(&st.desk, &a.person, move |d, me| {
        let t = d.create_ticket(me, new)?;
        // The number goes with the requester when the agent may keep it (the
        // ticket stands either way; a phone-only address holds it anyway).
        if !phone.is_empty()
            && d.may(me, crate::domain::roles::Permission::People)
            && let Err(e) = d.set_person_phone(me, t.requester, &phone)
        {
            tracing::info!("the new ticket's phone number was not kept on the requester: {e}");
        }
        Ok(t)
    })
    .await
    .map_err(show_error)?;
    Ok(Redirect::to(&format!("/tickets/{}?done=created", st.desk.reference(t.id))).into_response())
}
