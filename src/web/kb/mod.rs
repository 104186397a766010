//! The knowledge base in the agent UI (issue 15 part 3): the list of
//! articles with their counters and a search, the categories, and
//! (`editor`) writing an article, its history and files, and the reply
//! box's article search.

mod editor;

pub(crate) use editor::{article_html, file_response};

use axum::Form;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use maud::{Markup, html};
use serde::Deserialize;

use crate::domain::KbCategoryId;
use crate::domain::kb::{Article, ArticleState, Audience, KbCategory};
use crate::domain::roles::Permission;
use crate::i18n::format::num;
use crate::web::pages::frame;
use crate::web::ui::{self, page};
use crate::web::{Agent, AppState, WebResult, run_as};
use crate::{tr, trn};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/kb", get(list))
        .route("/kb/new", get(editor::new_page).post(editor::create))
        .route("/kb/insert", get(editor::insert))
        .route("/kb/categories", post(create_category))
        .route("/kb/categories/{id}", post(update_category))
        .route("/kb/categories/{id}/delete", post(delete_category))
        .route("/kb/{id}", get(editor::edit_page).post(editor::save))
        .route("/kb/{id}/delete", post(editor::delete))
        .route("/kb/{id}/history", get(editor::history))
        .route("/kb/{id}/history/{rev}", get(editor::revision))
        .route("/kb/{id}/history/{rev}/restore", post(editor::restore))
        .route("/kb/{id}/files/{name}", get(editor::file))
}

pub(super) fn state_label(s: ArticleState) -> &'static str {
    match s {
        ArticleState::Draft => tr!("Draft"),
        ArticleState::Published => tr!("Published"),
    }
}

pub(super) fn audience_label(a: Audience) -> &'static str {
    match a {
        Audience::Public => tr!("Public (help page)"),
        Audience::Internal => tr!("Internal (agents only)"),
    }
}

/// An article's state and audience as badges.
fn badges(a: &Article) -> Markup {
    html! {
        span class=(format!("badge kb-{}", a.state.key())) { (state_label(a.state)) }
        @if a.audience == Audience::Internal { " " span.badge.kb-internal { (tr!("Internal")) } }
    }
}

fn category_name(cats: &[KbCategory], id: Option<KbCategoryId>) -> String {
    id.and_then(|id| cats.iter().find(|c| c.id == id)).map(|c| c.name.clone()).unwrap_or_default()
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    q: String,
}

/// `GET /kb`.
pub async fn list(State(st): State<AppState>, a: Agent, Query(lq): Query<ListQuery>) -> WebResult {
    let cats = st.desk.kb_categories()?;
    let all = st.desk.kb_articles(&a.person)?;
    let q = lq.q.trim();
    let shown: Vec<(Article, crate::domain::kb::ArticleStats)> = if q.is_empty() {
        all.clone()
    } else {
        let found = st.desk.kb_search(Some(&a.person), q, false, true, 100)?;
        found.into_iter().filter_map(|f| all.iter().find(|(x, _)| x.id == f.id).cloned()).collect()
    };
    let totals = st.desk.kb_totals()?;
    let may_edit = st.desk.may(&a.person, Permission::Kb);
    let body = html! {
        div.narrow-page.wide-ok {
            h1 { (tr!("Knowledge base")) }
            p.muted {
                (trn!(all.len(), "{n} article", "{n} articles")) " · "
                (trn!(totals.views, "{n} view", "{n} views")) " · "
                (trn!(totals.suggested_opens, "{n} opened from a suggestion", "{n} opened from suggestions")) " · "
                (trn!(totals.deflections, "{n} request answered by an article", "{n} requests answered by an article"))
            }
            div.kb-tools {
                form.kb-search method="get" action="/kb" role="search" {
                    input type="search" name="q" value=(q) aria-label=(tr!("Search articles")) placeholder=(tr!("Search articles…"));
                    button type="submit" { (tr!("Search")) }
                }
                @if may_edit { a.button.primary href="/kb/new" { (tr!("New article")) } }
                a href="/help/kb" { (tr!("The help page's articles")) }
            }
            @if shown.is_empty() {
                (ui::empty(if q.is_empty() { tr!("No articles yet.") } else { tr!("No article matches.") }))
            } @else {
                div.scroll-x tabindex="0" role="region" aria-label=(tr!("Articles")) {
                    table.tickets {
                        thead { tr {
                            th { (tr!("Title")) } th { (tr!("Category")) } th { (tr!("State")) } th.hide-sm { (tr!("Updated")) }
                            th.hide-sm { (tr!("Helpful")) } th.hide-sm { (tr!("Views")) }
                        } }
                        tbody {
                            @for (art, s) in &shown {
                                tr.row data-href=(format!("/kb/{}", art.id)) {
                                    td.subject { a href=(format!("/kb/{}", art.id)) { (art.title) } }
                                    td { (category_name(&cats, art.category)) }
                                    td { (badges(art)) }
                                    td.hide-sm.nowrap { (ui::when_at(art.updated_at)) }
                                    td.hide-sm.nowrap { "👍 " (num(s.helpful as i64)) " · 👎 " (num(s.unhelpful as i64)) }
                                    td.hide-sm { (num(s.views as i64)) }
                                }
                            }
                        }
                    }
                }
            }
            h2 { (tr!("Categories")) }
            @if cats.is_empty() { p.muted { (tr!("No categories yet: articles show under “Other” on the help page.")) } }
            @for c in &cats {
                @if may_edit {
                    form.kb-category method="post" action=(format!("/kb/categories/{}", c.id)) {
                        (ui::csrf_field(&a.csrf))
                        label { (tr!("Name")) input type="text" name="name" value=(c.name) required maxlength="80"; }
                        label { (tr!("Description")) input type="text" name="description" value=(c.description); }
                        label.narrow { (tr!("Order")) input type="number" name="position" value=(c.position) min="0" max="9999"; }
                        button type="submit" { (tr!("Save")) }
                        button.linkish type="submit" formaction=(format!("/kb/categories/{}/delete", c.id)) { (tr!("Delete")) }
                    }
                } @else {
                    p.kb-text { strong { (c.name) } @if !c.description.is_empty() { " — " (c.description) } }
                }
            }
            @if may_edit {
                details.org-new {
                    summary { (tr!("New category…")) }
                    form.fields method="post" action="/kb/categories" {
                        (ui::csrf_field(&a.csrf))
                        label { (tr!("Name")) input type="text" name="name" required maxlength="80"; }
                        label { (tr!("Description")) input type="text" name="description"; }
                        button.primary type="submit" { (tr!("Create")) }
                    }
                }
            }
        }
    };
    Ok(page(&frame(&st, &a, tr!("Knowledge base").into(), "kb"), body).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CategoryForm {
    name: String,
    description: String,
    position: u32,
}

fn kb_refusal(st: &AppState, a: &Agent, e: crate::desk::DeskError) -> crate::web::WebError {
    crate::web::pages::refusal(st, a, e, tr!("Not saved"), "kb", ("/kb", tr!("Back")))
}

/// `POST /kb/categories`.
pub async fn create_category(State(st): State<AppState>, a: Agent, Form(f): Form<CategoryForm>) -> WebResult {
    run_as(&st.desk, &a.person, move |d, me| d.create_kb_category(me, &f.name, &f.description))
        .await
        .map_err(|e| kb_refusal(&st, &a, e))?;
    Ok(Redirect::to("/kb").into_response())
}

/// `POST /kb/categories/{id}`.
pub async fn update_category(State(st): State<AppState>, a: Agent, Path(id): Path<u64>, Form(f): Form<CategoryForm>) -> WebResult {
    run_as(&st.desk, &a.person, move |d, me| d.update_kb_category(me, KbCategoryId(id), &f.name, &f.description, f.position))
        .await
        .map_err(|e| kb_refusal(&st, &a, e))?;
    Ok(Redirect::to("/kb").into_response())
}

/// `POST /kb/categories/{id}/delete`.
pub async fn delete_category(State(st): State<AppState>, a: Agent, Path(id): Path<u64>) -> WebResult {
    run_as(&st.desk, &a.person, move |d, me| d.delete_kb_category(me, KbCategoryId(id))).await.map_err(|e| kb_refusal(&st, &a, e))?;
    Ok(Redirect::to("/kb").into_response())
}
