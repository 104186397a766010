//! The Junk list: bounces, auto-replies and mail without a usable sender;
//! its raw source, and turning one into a ticket.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use maud::html;

use crate::web::pages::frame;
use crate::web::ticket::parts::raw_text;
use crate::web::ui::{self, csrf_field, page};
use crate::web::{Agent, AppState, WebResult, run_as};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/junk", get(junk_page))
        .route("/junk/{id}/source", get(junk_source))
        .route("/junk/{id}/ticket", post(junk_to_ticket))
}

pub async fn junk_page(State(st): State<AppState>, a: Agent) -> WebResult {
    let items = st.desk.junk(&a.person, 500)?;
    let now = st.desk.now();
    let body = html! {
        div.narrow-page.wide-ok {
            h1 { "Junk mail" }
            p.muted { "Bounces, auto-replies and mail without a usable sender. They never create tickets or get automatic answers. If one is real, turn it into a ticket." }
            @if items.is_empty() {
                (ui::empty("No junk mail."))
            } @else {
                table.tickets {
                    thead { tr { th { "From" } th { "Subject" } th.hide-sm { "Why" } th.hide-sm { "Received" } th { "" } } }
                    tbody {
                        @for j in &items {
                            tr {
                                td { (j.from) }
                                td.subject { a href=(format!("/junk/{}/source", j.id)) { @if j.subject.is_empty() { "(no subject)" } @else { (j.subject) } } }
                                td.hide-sm.muted { (j.reason) }
                                td.hide-sm.nowrap title=(j.received_at.rfc3339()) { (j.received_at.ago(now)) }
                                td.actions {
                                    form method="post" action=(format!("/junk/{}/ticket", j.id)) {
                                        (csrf_field(&a.csrf))
                                        button type="submit" { "Make ticket" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(page(&frame(&st, &a, "Junk mail".into(), "junk"), body).into_response())
}

pub async fn junk_source(State(st): State<AppState>, a: Agent, Path(id): Path<u64>) -> WebResult {
    let raw = st.desk.junk_item(&a.person, id).and_then(|j| st.desk.blob(&j.raw_blob))?;
    Ok(raw_text(raw))
}

pub async fn junk_to_ticket(State(st): State<AppState>, a: Agent, Path(id): Path<u64>) -> WebResult {
    let t = run_as(&st.desk, &a.person, move |d, me| d.junk_to_ticket(me, id)).await?;
    Ok(Redirect::to(&format!("/tickets/{}?done=created", st.desk.reference(t))).into_response())
}
