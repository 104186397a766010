//! The reply box's draft saves (issue 18 part 1): `POST
//! /tickets/{ref}/draft` with the text every few seconds while the agent
//! writes. A save after the session ended meets the login check and fails,
//! which is how the page learns at once that it must say so.

use axum::Form;
use axum::extract::State;
use axum::response::IntoResponse;
use serde::Deserialize;

use crate::web::{Agent, AppState, TicketPath, WebResult, run_as};

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DraftForm {
    body: String,
    internal: Option<String>,
    /// The last entry of the page it was written on.
    seen: Option<String>,
}

pub async fn save(State(st): State<AppState>, a: Agent, t: TicketPath, Form(f): Form<DraftForm>) -> WebResult {
    let id = t.id;
    let internal = f.internal.is_some_and(|v| v == "1");
    let seen = f.seen.as_deref().and_then(|s| s.trim().parse::<u32>().ok());
    let at = run_as(&st.desk, &a.person, move |d, me| d.save_draft(me, id, &f.body, internal, seen)).await?;
    let answer = match at {
        Some(at) => serde_json::json!({ "saved_at": at.rfc3339(), "shown": crate::web::ui::when(at) }),
        // Written on a page from before the agent's own last post here.
        None => serde_json::json!({ "dropped": true }),
    };
    Ok(axum::Json(answer).into_response())
}
