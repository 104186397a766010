//! The public knowledge base under the help page: the articles by category
//! with a search, each article (its files, "did this help?", related
//! articles, a way to ask when it did not), and `GET /help/suggest`: the
//! articles matching what a customer types (the help page's form and the
//! widget). Drafts and internal articles are "not found" here.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use super::help::{customer_error, customer_page};
use super::pre_token;
use crate::domain::kb::{Article, excerpt, id_of_path};
use crate::tr;
use crate::web::kb::article_html;
use crate::web::{AppState, WebError, cookie, set_cookie};

/// Articles per category on the knowledge base's first page, and per page
/// of a category.
const PER_SECTION: usize = 10;
const PER_PAGE: usize = 50;

/// The cookie listing the articles this browser voted on.
const VOTED_COOKIE: &str = "fd_kbv";

pub(super) fn search_form(q: &str) -> maud::Markup {
    html! {
        form.kb-search method="get" action="/help/kb/search" role="search" {
            input type="search" name="q" value=(q) aria-label=(tr!("Search our articles")) placeholder=(tr!("Search our articles…"));
            button type="submit" { (tr!("Search")) }
        }
    }
}

fn article_list(list: &[Article]) -> maud::Markup {
    html! {
        ul.kb-list {
            @for a in list {
                li { a href=(a.public_path()) { (a.title) } br; span.muted { (excerpt(&a.body, 160)) } }
            }
        }
    }
}

/// `GET /help/kb`.
pub async fn home(State(st): State<AppState>) -> Response {
    let sections = match st.desk.public_kb(PER_SECTION) {
        Ok(s) => s,
        Err(e) => return WebError::from(e).into_response(),
    };
    let body = html! {
        p.muted { a href="/help" { (tr!("Help")) } }
        h1 { (tr!("Articles")) }
        (search_form(""))
        @if sections.is_empty() { p { (tr!("There are no articles yet.")) } }
        @for s in &sections {
            @match &s.category {
                Some(c) => { h2.kb-text { (c.name) } @if !c.description.is_empty() { p.muted.kb-text { (c.description) } } }
                None => { h2 { (tr!("Other")) } }
            }
            ul.kb-list { @for a in &s.articles { li { a href=(a.public_path()) { (a.title) } } } }
            @if s.total > s.articles.len() {
                p { a href=(category_path(s.category.as_ref().map(|c| c.id), 0)) { (crate::trn!(s.total, "All {n} article", "All {n} articles")) } }
            }
        }
        p { (tr!("Did not find what you need?")) " " a href="/help" { (tr!("Ask us")) } }
    };
    customer_page(&st, tr!("Articles"), body, StatusCode::OK, None)
}

fn category_path(id: Option<crate::domain::KbCategoryId>, page: usize) -> String {
    let id = id.map_or_else(|| "none".to_string(), |c| c.to_string());
    if page == 0 { format!("/help/kb/category/{id}") } else { format!("/help/kb/category/{id}?page={page}") }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PageQuery {
    page: usize,
}

/// `GET /help/kb/category/{id}` (`none`: articles in no category).
pub async fn category(State(st): State<AppState>, Path(id): Path<String>, Query(q): Query<PageQuery>) -> Response {
    let cat = match id.as_str() {
        "none" => None,
        n => match n.parse() {
            Ok(n) => Some(crate::domain::KbCategoryId(n)),
            Err(_) => return customer_error(&st, crate::desk::DeskError::NotFound),
        },
    };
    let page = q.page.min(10_000);
    let s = match st.desk.public_category(cat, page * PER_PAGE, PER_PAGE) {
        Ok(s) => s,
        Err(e) => return customer_error(&st, e),
    };
    let name = s.category.as_ref().map_or_else(|| tr!("Other").to_string(), |c| c.name.clone());
    let body = html! {
        p.muted { a href="/help" { (tr!("Help")) } " / " a href="/help/kb" { (tr!("Articles")) } }
        h1.kb-text { (name) }
        @if let Some(c) = s.category.as_ref().filter(|c| !c.description.is_empty()) { p.muted.kb-text { (c.description) } }
        (article_list(&s.articles))
        p {
            @if page > 0 { a href=(category_path(cat, page - 1)) { (tr!("Newer")) } " " }
            @if (page + 1) * PER_PAGE < s.total { a href=(category_path(cat, page + 1)) { (tr!("Older")) } }
        }
    };
    customer_page(&st, &name, body, StatusCode::OK, None)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SearchQuery {
    q: String,
}

/// `GET /help/kb/search?q=`.
pub async fn search(State(st): State<AppState>, Query(q): Query<SearchQuery>) -> Response {
    let text: String = q.q.chars().take(300).collect();
    let found = match st.desk.kb_search(None, &text, false, false, 20) {
        Ok(f) => f,
        Err(e) => return WebError::from(e).into_response(),
    };
    let body = html! {
        p.muted { a href="/help" { (tr!("Help")) } " / " a href="/help/kb" { (tr!("Articles")) } }
        h1 { (tr!("Search our articles")) }
        (search_form(&text))
        @if text.trim().is_empty() {
        } @else if found.is_empty() {
            p { (tr!("No article matches. Try other words, or ask us.")) }
        } @else {
            (article_list(&found))
        }
        p { (tr!("Did not find what you need?")) " " a href="/help" { (tr!("Ask us")) } }
    };
    customer_page(&st, tr!("Search our articles"), body, StatusCode::OK, None)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ArticleQuery {
    /// Opened from a suggestion while typing a request.
    from: String,
    voted: String,
}

fn voted(headers: &HeaderMap) -> Vec<String> {
    cookie(headers, VOTED_COOKIE).map(|v| v.split('.').map(str::to_string).collect()).unwrap_or_default()
}

/// `GET /help/kb/{id-slug}`.
pub async fn article(State(st): State<AppState>, headers: HeaderMap, Path(part): Path<String>, Query(q): Query<ArticleQuery>) -> Response {
    let Some(id) = id_of_path(&part) else { return customer_error(&st, crate::desk::DeskError::NotFound) };
    let a = match st.desk.public_article(id) {
        Ok(a) => a,
        Err(e) => return customer_error(&st, e),
    };
    let suggested = q.from == "suggest";
    if q.voted.is_empty()
        && let Err(e) = st.desk.count_article_view(id, suggested)
    {
        tracing::warn!("article view not counted: {e}");
    }
    let pre = match pre_token(&headers) {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    let related = st.desk.related_articles(&a).unwrap_or_default();
    let category = a.category.and_then(|c| st.desk.kb_categories().ok()?.into_iter().find(|x| x.id == c));
    let files = format!("/help/kb/{}/files", a.id);
    let downloads: Vec<_> = a.files.iter().filter(|f| !f.content_type.starts_with("image/")).collect();
    let already = voted(&headers).contains(&a.id.to_string());
    let body = html! {
        p.muted {
            a href="/help" { (tr!("Help")) } " / " a href="/help/kb" { (tr!("Articles")) }
            @if let Some(c) = &category { " / " span.kb-text { (c.name) } }
        }
        h1.kb-text { (a.title) }
        p.muted { (tr!("Updated")) " " (crate::web::ui::when_at(a.updated_at)) }
        (article_html(&files, &a.body))
        @if !downloads.is_empty() {
            h2 { (tr!("Files")) }
            ul { @for f in &downloads { li { a href=(format!("{files}/{}", crate::domain::markdown::file_part(&f.filename))) { (f.filename) } " " span.muted { (super::size(f.size)) } } } }
        }
        section.kb-feedback aria-label=(tr!("Did this help?")) {
            @if !q.voted.is_empty() || already {
                p { (tr!("Thank you for telling us.")) }
                @if q.voted == "no" { p { (tr!("Sorry it did not help.")) " " a.button.primary href="/help" { (tr!("Ask us")) } } }
            } @else {
                form.inline method="post" action=(format!("/help/kb/{}/feedback", a.id)) {
                    input type="hidden" name="_csrf" value=(pre);
                    input type="hidden" name="from" value=(q.from);
                    span { (tr!("Did this help?")) } " "
                    button type="submit" name="helpful" value="yes" { (tr!("Yes")) } " "
                    button type="submit" name="helpful" value="no" { (tr!("No")) }
                }
            }
        }
        @if !related.is_empty() {
            h2 { (tr!("Related articles")) }
            ul.kb-list { @for r in &related { li { a href=(r.public_path()) { (r.title) } } } }
        }
        p { (tr!("Still need help?")) " " a href="/help" { (tr!("Ask us")) } }
    };
    customer_page(&st, &a.title, body, StatusCode::OK, Some(&pre))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct FeedbackForm {
    helpful: String,
    from: String,
}

/// `POST /help/kb/{id}/feedback`: counted once per browser.
pub async fn feedback(State(st): State<AppState>, headers: HeaderMap, Path(part): Path<String>, Form(f): Form<FeedbackForm>) -> Response {
    let Some(id) = id_of_path(&part) else { return customer_error(&st, crate::desk::DeskError::NotFound) };
    let helpful = match f.helpful.as_str() {
        "yes" => true,
        "no" => false,
        _ => return WebError::new(StatusCode::BAD_REQUEST, tr!("Not saved"), tr!("Say yes or no.")).into_response(),
    };
    let mut seen = voted(&headers);
    let answer = if helpful { "yes" } else { "no" };
    let a = match st.desk.public_article(id) {
        Ok(a) => a,
        Err(e) => return customer_error(&st, e),
    };
    if !seen.contains(&id.to_string()) {
        let suggested = f.from == "suggest";
        if let Err(e) = crate::web::blocking(&st.desk, move |d| d.article_feedback(id, helpful, suggested)).await {
            return customer_error(&st, e);
        }
        seen.push(id.to_string());
    }
    let keep: Vec<&str> = seen.iter().rev().take(50).map(String::as_str).collect();
    let mut res = Redirect::to(&format!("{}?voted={answer}", a.public_path())).into_response();
    if let Ok(v) = set_cookie(&st.desk, VOTED_COOKIE, &keep.join("."), 365 * 86_400).parse() {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

/// `GET /help/kb/{id}/files/{name}`.
pub async fn file(State(st): State<AppState>, Path((part, name)): Path<(String, String)>) -> Response {
    let Some(id) = id_of_path(&part) else { return customer_error(&st, crate::desk::DeskError::NotFound) };
    match st.desk.article_file(None, id, &name) {
        Ok((att, data)) => crate::web::kb::file_response(&att, data),
        Err(e) => customer_error(&st, e),
    }
}

/// `GET /help/suggest?q=`: up to five public articles for what is typed
/// (readable by the widget's sites).
pub async fn suggest(State(st): State<AppState>, headers: HeaderMap, Query(q): Query<SearchQuery>) -> Response {
    let res = suggestions(&st, &q.q);
    super::widget::suggest_cors(&st, &headers, res)
}

fn suggestions(st: &AppState, q: &str) -> Response {
    match st.desk.suggest_articles(q, true) {
        Ok(list) => {
            let base = st.desk.config().server.public_url.trim_end_matches('/').to_string();
            let articles: Vec<serde_json::Value> = list
                .iter()
                .map(|a| {
                    let path = format!("{}?from=suggest", a.public_path());
                    serde_json::json!({"title": a.title, "url": format!("{base}{path}"), "path": path, "excerpt": excerpt(&a.body, 120)})
                })
                .collect();
            axum::Json(serde_json::json!({ "articles": articles })).into_response()
        }
        Err(e) => WebError::from(e).into_response(),
    }
}
