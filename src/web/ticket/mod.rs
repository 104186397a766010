//! One ticket: its page and reply box, field edits, mail parts
//! (attachments, source, HTML), the side panel's actions, print and PDF, and
//! the new-ticket form.

pub mod actions;
pub mod checklist;
pub mod drafts;
pub mod fields;
pub mod mentions;
pub mod new;
pub mod page;
pub mod parts;
pub mod people;
pub mod snooze;
pub mod thread;

use axum::Router;
use axum::routing::{get, post};

use super::AppState;

/// A translated sentence with markup in its placeholders (a link, a
/// `<time>`): the sentence is escaped, each value must be markup already
/// (render plain text through `html!`).
pub(crate) fn rich(template: &str, args: &[(&str, &dyn std::fmt::Display)]) -> maud::PreEscaped<String> {
    let escaped = maud::html! { (template) }.into_string();
    maud::PreEscaped(crate::i18n::fill(&escaped, args))
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/tickets", post(new::create_ticket))
        .route("/tickets/new", get(new::new_ticket_page))
        .route("/tickets/{reference}", get(page::ticket_page))
        .route("/tickets/{reference}/reply", post(page::reply))
        .route("/tickets/{reference}/draft", post(drafts::save))
        .route("/tickets/{reference}/canned/{idx}", get(page::canned))
        .route("/tickets/{reference}/update", post(page::update))
        .route("/tickets/{reference}/follow", post(page::follow))
        .route("/tickets/{reference}/collaborators", post(people::add_collaborator))
        .route("/tickets/{reference}/collaborators/{person}/remove", post(people::remove_collaborator))
        .route("/tickets/{reference}/requester", post(people::change_requester))
        .route("/tickets/{reference}/checklist", post(checklist::add))
        .route("/tickets/{reference}/checklist/{item}", post(checklist::change))
        .route("/tickets/{reference}/checklist/{item}/remove", post(checklist::remove))
        .route("/tickets/{reference}/attachments/{seq}/{idx}", get(parts::attachment))
        .route("/tickets/{reference}/entries/{seq}/source", get(parts::source))
        .route("/tickets/{reference}/entries/{seq}/html", get(parts::html_body))
        .route("/tickets/{reference}/trash", post(actions::set_trash))
        .route("/tickets/{reference}/junk", post(actions::junk))
        .route("/tickets/{reference}/merge", post(actions::merge))
        .route("/tickets/{reference}/link", post(actions::link))
        .route("/tickets/{reference}/subject", post(actions::subject))
        .route("/tickets/{reference}/print", get(actions::print))
        .route("/tickets/{reference}/pdf", get(actions::pdf))
}
