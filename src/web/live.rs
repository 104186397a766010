//! Live updates: a server-sent event stream of the tickets that change, so
//! queues and open tickets refresh without reload when mail arrives or another
//! agent acts. Only tickets the agent may see are announced.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use tokio::sync::broadcast::error::RecvError;

use super::{Agent, AppState};

pub async fn events(State(st): State<AppState>, a: Agent) -> Response {
    let rx = st.desk.store.subscribe();
    let desk = st.desk.clone();
    let person = a.person.clone();
    let s: std::pin::Pin<Box<dyn Stream<Item = Result<Event, Infallible>> + Send>> = Box::pin(stream::unfold(rx, move |mut rx| {
        let (desk, person) = (desk.clone(), person.clone());
        async move {
            loop {
                match rx.recv().await {
                    Ok(ids) => {
                        let visible: Vec<String> = match desk.store.read() {
                            Ok(r) => ids
                                .into_iter()
                                .filter(|id| r.ticket(*id).ok().flatten().is_some_and(|t| person.can_see(&t)))
                                .map(|id| desk.reference(id))
                                .collect(),
                            Err(_) => Vec::new(),
                        };
                        if visible.is_empty() {
                            continue;
                        }
                        let data = serde_json::json!({ "tickets": visible }).to_string();
                        return Some((Ok(Event::default().event("tickets").data(data)), rx));
                    }
                    // Missed some: tell the page to refresh whatever it shows.
                    Err(RecvError::Lagged(_)) => return Some((Ok(Event::default().event("tickets").data("{\"tickets\":[\"*\"]}")), rx)),
                    Err(RecvError::Closed) => return None,
                }
            }
        }
    }));
    Sse::new(s).keep_alive(KeepAlive::new().interval(Duration::from_secs(20))).into_response()
}
