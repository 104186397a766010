//! The Backups page (admins): the schedule of `[backup]`, the last outcome,
//! the backups in its directory, "Back up now", and the commands for a
//! backup by hand, a check and a restore.

use axum::Router;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use maud::html;

use super::DoneQuery;
use crate::web::pages::{frame, to, with_code};
use crate::web::ui::{self, csrf_field, page};
use crate::web::{Admin, AppState, WebResult, run_as};
use crate::{tr, trn};

pub fn routes() -> Router<AppState> {
    Router::new().route("/admin/backups", get(backups_page)).route("/admin/backups/now", post(backup_now))
}

fn mb(b: u64) -> String {
    use crate::i18n::format::{decimal, num};
    if b < 1_000_000 { format!("{} KB", num(b.div_ceil(1000) as i64)) } else { format!("{} MB", decimal(b as f64 / 1e6, 1)) }
}

/// A moment in UTC, as the language writes dates (the page says "UTC").
fn utc(t: crate::domain::Timestamp) -> String {
    match jiff::Timestamp::from_millisecond(t.0) {
        Ok(x) => x.to_zoned(jiff::tz::TimeZone::UTC).strftime(crate::i18n::format::date_time_pattern()).to_string(),
        Err(_) => t.short(),
    }
}

async fn backups_page(State(st): State<AppState>, Admin(a): Admin, Query(q): Query<DoneQuery>) -> WebResult {
    let (status, files) = run_as(&st.desk, &a.person, |d, me| d.backups_overview(me)).await?;
    let cfg = st.desk.config();
    let b = &cfg.backup;
    let data = cfg.server.data_dir.display().to_string();
    let body = html! {
        div.narrow-page.wide-ok {
            (super::audit::admin_nav("/admin/backups"))
            h1 { (tr!("Backups")) }
            @if q.done.as_deref() == Some("backup") { (ui::notice("ok", tr!("Backup written."))) }
            @if let Some(e) = &status.last_error {
                @match status.last_error_at {
                    Some(t) => (ui::notice("error", &tr!("The last backup failed at {when} UTC: {error}", when = utc(t), error = e))),
                    None => (ui::notice("error", &tr!("The last backup failed: {error}", error = e))),
                }
            }
            @if b.dir.trim().is_empty() {
                p { (with_code(tr!("No scheduled backups: set {dir} in the config (with {every} and {keep}) and reload."), &[("dir", "[backup] dir"), ("every", "every_hours"), ("keep", "keep")])) }
            } @else {
                p { (with_code(&trn!(b.every_hours, "Every hour into {dir}, keeping the newest {keep}.", "Every {n} hours into {dir}, keeping the newest {keep}.", keep = b.keep), &[("dir", b.dir.as_str())]))
                    " "
                    @match status.last_ok_at {
                        Some(t) => {
                            @if status.last_secs > 0.0 {
                                (tr!("Last good backup: {when} UTC, {size} in {secs} s.", when = utc(t), size = mb(status.last_bytes), secs = crate::i18n::format::decimal(status.last_secs, 1)))
                            } @else {
                                (tr!("Last good backup: {when} UTC, {size}.", when = utc(t), size = mb(status.last_bytes)))
                            }
                        }
                        None => { (tr!("No backup taken since the desk started.")) }
                    }
                }
                form method="post" action="/admin/backups/now" {
                    (csrf_field(&a.csrf))
                    button type="submit" { (tr!("Back up now")) }
                }
                @if files.is_empty() {
                    (ui::empty(tr!("No backups in the directory yet.")))
                } @else {
                    table.tickets {
                        thead { tr { th { (tr!("Backup")) } th { (tr!("Taken (UTC)")) } th { (tr!("Size")) } } }
                        tbody {
                            @for (t, path, size) in files.iter().rev() {
                                tr { td { code { (path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default()) } } td { (utc(*t)) } td { (mb(*size)) } }
                            }
                        }
                    }
                }
            }
            h2 { (tr!("By hand")) }
            p.muted { (tr!("As the desk's user, with the same config; the desk keeps running:")) }
            pre.commands { "frontdesk --data-dir " (data) " backup --to /somewhere/desk.fdbackup\nfrontdesk backup verify /somewhere/desk.fdbackup\nfrontdesk --data-dir NEW_DIR restore --from /somewhere/desk.fdbackup" }
            p.muted { (tr!("A backup holds the database, mail waiting in the spool, the DKIM/TLS/ACME keys and the config. The search index is rebuilt when a restored desk starts.")) }
        }
    };
    Ok(page(&frame(&st, &a, tr!("Backups").into(), "admin"), body).into_response())
}

async fn backup_now(State(st): State<AppState>, Admin(a): Admin) -> WebResult {
    run_as(&st.desk, &a.person, |d, me| d.backup_now(me)).await?;
    Ok(to("/admin/backups?done=backup"))
}
