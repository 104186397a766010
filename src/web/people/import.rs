//! People as CSV in the agent UI: `GET /people.csv` (the export) and
//! `/people/import` (a file or pasted text; the result says what was added,
//! updated and skipped, row by row).

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use maud::html;

use crate::desk::DeskError;
use crate::desk::contacts::COLUMNS;
use crate::tr;
use crate::web::pages::frame;
use crate::web::ui::{self, page};
use crate::web::{Agent, AppState, WebError, WebResult, run_as};

/// `GET /people.csv`.
pub async fn export(State(st): State<AppState>, a: Agent) -> WebResult {
    let csv = run_as(&st.desk, &a.person, |d, me| d.people_csv(me)).await?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8"), (header::CONTENT_DISPOSITION, "attachment; filename=\"people.csv\"")], csv)
        .into_response())
}

fn form(a: &Agent, text: &str) -> maud::Markup {
    html! {
        form.fields method="post" enctype="multipart/form-data" action=(format!("/people/import?_csrf={}", a.csrf)) {
            p { (tr!("A CSV file whose first row names its columns: {columns} (email is needed; others may be left out, in any order).", columns = COLUMNS.join(", "))) }
            p.muted { (tr!("People the desk knows (by email) are updated; new ones are added; organizations are found by name, or made.")) }
            label { (tr!("CSV file")) input type="file" name="files" accept=".csv,text/csv"; }
            label { (tr!("Or paste the rows")) textarea name="text" rows="8" { (text) } }
            button.primary type="submit" { (tr!("Import")) }
        }
    }
}

/// `GET /people/import`.
pub async fn page_get(State(st): State<AppState>, a: Agent) -> WebResult {
    st.desk.require(&a.person, crate::domain::roles::Permission::People)?;
    let body = html! {
        div.narrow-page {
            div.crumbs { a href="/people" { (tr!("People")) } }
            h1 { (tr!("Import people")) }
            (form(&a, ""))
        }
    };
    Ok(page(&frame(&st, &a, tr!("Import people").into(), "people"), body).into_response())
}

/// `POST /people/import`.
pub async fn import(State(st): State<AppState>, a: Agent, req: axum::extract::Request) -> WebResult {
    let (fields, files) =
        crate::web::body::fields_and_files(&st, req).await.map_err(|m| WebError::from(DeskError::Invalid { field: "form", message: m }))?;
    let pasted = fields.iter().find(|(k, _)| k == "text").map(|(_, v)| v.clone()).unwrap_or_default();
    let text = match files.first() {
        Some((_, _, data)) => String::from_utf8_lossy(data).into_owned(),
        None => pasted.clone(),
    };
    let outcome = run_as(&st.desk, &a.person, move |d, me| d.import_people(me, &text)).await;
    let report = match outcome {
        Ok(r) => r,
        Err(e @ (DeskError::NotFound | DeskError::Forbidden(_) | DeskError::Store(_))) => return Err(e.into()),
        Err(e) => {
            let body = html! {
                div.narrow-page {
                    div.crumbs { a href="/people" { (tr!("People")) } }
                    h1 { (tr!("Import people")) }
                    (ui::notice("error", &crate::web::error::desk_message(&e)))
                    (form(&a, &pasted))
                }
            };
            return Ok(
                (crate::web::error::status_of(&e), page(&frame(&st, &a, tr!("Import people").into(), "people"), body)).into_response()
            );
        }
    };
    let body = html! {
        div.narrow-page {
            div.crumbs { a href="/people" { (tr!("People")) } }
            h1 { (tr!("Import people")) }
            (ui::notice("ok", &tr!("{created} added, {updated} updated, {orgs} organizations made, {skipped} rows skipped.",
                created = report.created, updated = report.updated, orgs = report.organizations_created, skipped = report.skipped.len())))
            @if !report.skipped.is_empty() {
                h2 { (tr!("Skipped rows")) }
                ul { @for (row, why) in &report.skipped { li { (tr!("Row {n}: {why}", n = row, why = why)) } } }
            }
            p { a href="/people" { (tr!("Back to People")) } }
        }
    };
    Ok(page(&frame(&st, &a, tr!("Import people").into(), "people"), body).into_response())
}
