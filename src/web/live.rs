//! Live updates: a server-sent event stream of the tickets that change, so
//! queues and open tickets refresh without reload when mail arrives or another
//! agent acts. Only tickets the agent may see are announced.

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::stream::{self, Stream};
use tokio::sync::broadcast::error::RecvError;

use super::{Agent, AppState, TicketPath, WebResult};

pub fn routes() -> Router<AppState> {
    Router::new().route("/events", get(events)).route("/tickets/{reference}/presence", post(presence))
}

/// How often an open stream checks that its session still exists.
const SESSION_CHECK: Duration = Duration::from_secs(5);

/// The stream ends when the agent logs out (the session is gone) or the
/// server shuts down.
pub async fn events(State(st): State<AppState>, a: Agent) -> Response {
    let rx = st.desk.subscribe();
    let desk = st.desk.clone();
    let person = a.person.clone();
    let token = a.token.clone();
    let s: std::pin::Pin<Box<dyn Stream<Item = Result<Event, Infallible>> + Send>> = Box::pin(stream::unfold(rx, move |mut rx| {
        let (desk, person, token) = (desk.clone(), person.clone(), token.clone());
        async move {
            loop {
                let received = tokio::select! {
                    r = rx.recv() => r,
                    _ = tokio::time::sleep(SESSION_CHECK) => {
                        let alive = desk.session_exists(&token);
                        if !alive {
                            return None;
                        }
                        continue;
                    }
                    _ = desk.jobs.stopped() => return None,
                };
                match received {
                    Ok(change) => {
                        let visible = desk.visible_references(&person, change.tickets);
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

/// Agents seen on a ticket page in the last `PRESENCE_TTL`: ticket → agent →
/// (name, writing a reply, last seen). In memory: presence is live state.
#[derive(Default)]
pub struct Presence {
    seen: std::sync::Mutex<std::collections::HashMap<u64, OnTicket>>,
}

/// Agent id → (name, writing a reply, last seen).
type OnTicket = std::collections::HashMap<u64, (String, bool, std::time::Instant)>;

/// A page pings every few seconds; silence for this long means gone.
const PRESENCE_TTL: std::time::Duration = std::time::Duration::from_secs(15);

impl Presence {
    /// Records the agent on the ticket and returns the others: (name, replying).
    pub fn ping(&self, ticket: u64, agent: u64, name: &str, replying: bool, leaving: bool) -> Vec<(String, bool)> {
        let mut map = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let now = std::time::Instant::now();
        map.retain(|_, m| {
            m.retain(|_, (_, _, at)| now.duration_since(*at) < PRESENCE_TTL);
            !m.is_empty()
        });
        let here = map.entry(ticket).or_default();
        if leaving {
            here.remove(&agent);
        } else {
            here.insert(agent, (name.to_string(), replying, now));
        }
        let mut others: Vec<(String, bool)> = here.iter().filter(|(id, _)| **id != agent).map(|(_, (n, r, _))| (n.clone(), *r)).collect();
        others.sort();
        others
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct PresenceForm {
    replying: String,
    leaving: String,
}

/// `POST /tickets/{ref}/presence`: "I am here (and writing)"; answers who else is.
pub async fn presence(
    State(st): State<AppState>,
    a: Agent,
    t: TicketPath,
    axum::extract::Form(f): axum::extract::Form<PresenceForm>,
) -> WebResult {
    let id = t.id;
    st.desk.ticket_view(&a.person, id)?;
    let others = st.presence.ping(id.0, a.person.id.0, &a.person.display(), f.replying == "1", f.leaving == "1");
    let list: Vec<serde_json::Value> =
        others.into_iter().map(|(name, replying)| serde_json::json!({"name": name, "replying": replying})).collect();
    Ok(axum::Json(serde_json::json!({ "others": list })).into_response())
}
