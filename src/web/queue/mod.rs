//! The agent's lists: the queue with its filters, sidebar and bulk bar, the
//! search page and saved views, bulk jobs, Trash, and the CSV export.

pub mod bulk;
pub mod export;
pub mod list;
pub mod search;
pub mod sla;

use axum::Router;
use axum::routing::{get, post};

use super::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/tickets", get(list::queue))
        .route("/tickets/following", get(list::following))
        .route("/tickets/columns", post(list::save_columns))
        .route("/tickets/mentions", get(list::mentions))
        .route("/tickets/sla-breaching", get(sla::breaching))
        .route("/tickets/due-soon", get(sla::due_soon))
        .route("/tickets.csv", get(export::csv))
        .route("/search", get(search::search_page))
        .route("/search/saved", post(search::save))
        .route("/tickets/bulk", post(bulk::bulk))
        .route("/jobs/{id}", get(bulk::job_page))
        .route("/trash", get(bulk::trash_page))
}
