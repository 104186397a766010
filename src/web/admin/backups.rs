//! The Backups page (admins): the schedule of `[backup]`, the last outcome,
//! the backups in its directory, "Back up now", and the commands for a
//! backup by hand, a check and a restore.

use axum::Router;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use maud::html;

use super::DoneQuery;
use crate::web::pages::{frame, to};
use crate::web::ui::{self, csrf_field, page};
use crate::web::{Admin, AppState, WebResult, run_as};

pub fn routes() -> Router<AppState> {
    Router::new().route("/admin/backups", get(backups_page)).route("/admin/backups/now", post(backup_now))
}

fn mb(b: u64) -> String {
    if b < 1_000_000 { format!("{} KB", b.div_ceil(1000)) } else { format!("{:.1} MB", b as f64 / 1e6) }
}

async fn backups_page(State(st): State<AppState>, Admin(a): Admin, Query(q): Query<DoneQuery>) -> WebResult {
    let (status, files) = run_as(&st.desk, &a.person, |d, me| d.backups_overview(me)).await?;
    let cfg = st.desk.config();
    let b = &cfg.backup;
    let data = cfg.server.data_dir.display().to_string();
    let body = html! {
        div.narrow-page.wide-ok {
            (super::audit::admin_nav("/admin/backups"))
            h1 { "Backups" }
            @if q.done.as_deref() == Some("backup") { (ui::notice("ok", "Backup written.")) }
            @if let Some(e) = &status.last_error {
                (ui::notice("error", &format!("The last backup failed{}: {e}", status.last_error_at.map(|t| format!(" at {}", t.short())).unwrap_or_default())))
            }
            @if b.dir.trim().is_empty() {
                p { "No scheduled backups: set " code { "[backup] dir" } " in the config (with " code { "every_hours" } " and " code { "keep" } ") and reload." }
            } @else {
                p { "Every " (b.every_hours) " hours into " code { (b.dir) } ", keeping the newest " (b.keep) ". "
                    @match status.last_ok_at {
                        Some(t) => {
                            "Last good backup: " (t.short()) " UTC, " (mb(status.last_bytes))
                            @if status.last_secs > 0.0 { " in " (format!("{:.1}", status.last_secs)) " s" } "."
                        }
                        None => { "No backup taken since the desk started." }
                    }
                }
                form method="post" action="/admin/backups/now" {
                    (csrf_field(&a.csrf))
                    button type="submit" { "Back up now" }
                }
                @if files.is_empty() {
                    (ui::empty("No backups in the directory yet."))
                } @else {
                    table.tickets {
                        thead { tr { th { "Backup" } th { "Taken (UTC)" } th { "Size" } } }
                        tbody {
                            @for (t, path, size) in files.iter().rev() {
                                tr { td { code { (path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default()) } } td { (t.short()) } td { (mb(*size)) } }
                            }
                        }
                    }
                }
            }
            h2 { "By hand" }
            p.muted { "As the desk's user, with the same config; the desk keeps running:" }
            pre.commands { "frontdesk --data-dir " (data) " backup --to /somewhere/desk.fdbackup\nfrontdesk backup verify /somewhere/desk.fdbackup\nfrontdesk --data-dir NEW_DIR restore --from /somewhere/desk.fdbackup" }
            p.muted { "A backup holds the database, mail waiting in the spool, the DKIM/TLS/ACME keys and the config. The search index is rebuilt when a restored desk starts." }
        }
    };
    Ok(page(&frame(&st, &a, "Backups".into(), "admin"), body).into_response())
}

async fn backup_now(State(st): State<AppState>, Admin(a): Admin) -> WebResult {
    run_as(&st.desk, &a.person, |d, me| d.backup_now(me)).await?;
    Ok(to("/admin/backups?done=backup"))
}
