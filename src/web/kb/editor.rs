//! Writing an article: the editor (title, category, state, audience,
//! Markdown, files; a refused save keeps everything typed), its preview as
//! saved, deleting, the history of versions with any one shown and brought
//! back, the article's files, and `GET /kb/insert`: articles for the reply
//! box (a link to a public one, or its text).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;

use super::{audience_label, badges, category_name, state_label};
use crate::desk::DeskError;
use crate::desk::kb::ArticleInput;
use crate::domain::kb::{Article, ArticleState, Audience, KbCategory, excerpt};
use crate::domain::markdown;
use crate::domain::roles::Permission;
use crate::domain::{ArticleId, KbCategoryId};
use crate::web::pages::frame;
use crate::web::ui::{self, page};
use crate::web::{Agent, AppState, WebError, WebResult, run_as};
use crate::{tr, trn};

/// What the editor shows: an article's fields as typed.
#[derive(Default, Clone)]
struct Draft {
    title: String,
    body: String,
    category: String,
    state: String,
    audience: String,
    remove: Vec<String>,
}

impl Draft {
    fn of(a: &Article) -> Draft {
        Draft {
            title: a.title.clone(),
            body: a.body.clone(),
            category: a.category.map(|c| c.to_string()).unwrap_or_default(),
            state: a.state.key().into(),
            audience: a.audience.key().into(),
            remove: Vec::new(),
        }
    }

    fn input(&self, files: Vec<crate::web::body::Upload>) -> ArticleInput {
        ArticleInput {
            title: self.title.clone(),
            body: self.body.clone(),
            category: self.category.parse().ok().map(KbCategoryId),
            state: ArticleState::parse(&self.state).unwrap_or_default(),
            audience: Audience::parse(&self.audience).unwrap_or_default(),
            remove_files: self.remove.clone(),
            files,
        }
    }
}

/// The editor page for a new article (`art` none) or an existing one.
fn editor(st: &AppState, a: &Agent, art: Option<&Article>, d: &Draft, error: Option<&str>, status: StatusCode) -> Response {
    let cats = st.desk.kb_categories().unwrap_or_default();
    let action = match art {
        Some(x) => format!("/kb/{}?_csrf={}", x.id, a.csrf),
        None => format!("/kb/new?_csrf={}", a.csrf),
    };
    let may_edit = st.desk.may(&a.person, Permission::Kb);
    let title = art.map_or_else(|| tr!("New article").to_string(), |x| x.title.clone());
    let body = html! {
        div.narrow-page.wide-ok {
            div.crumbs { a href="/kb" { (tr!("Knowledge base")) } }
            h1 { (title) }
            @if let Some(x) = art {
                p.muted {
                    (badges(x)) " "
                    (tr!("Version {n}", n = x.revision)) " · " (ui::when_at(x.updated_at)) " · "
                    a href=(format!("/kb/{}/history", x.id)) { (tr!("History")) }
                    @if x.is_public() { " · " a href=(x.public_path()) { (tr!("On the help page")) } }
                }
            }
            @if let Some(e) = error { (ui::notice("error", e)) }
            @if may_edit {
                form.fields.kb-editor method="post" enctype="multipart/form-data" action=(action) {
                    label { (tr!("Title")) input type="text" name="title" value=(d.title) required maxlength="200"; }
                    div.kb-row {
                        label { (tr!("Category"))
                            select name="category" {
                                option value="" { (tr!("None")) }
                                @for c in &cats { option value=(c.id) selected[d.category == c.id.to_string()] { (c.name) } }
                            }
                        }
                        label { (tr!("State"))
                            select name="state" {
                                @for s in ArticleState::ALL { option value=(s.key()) selected[d.state == s.key()] { (state_label(s)) } }
                            }
                        }
                        label { (tr!("Who may read it"))
                            select name="audience" {
                                @for x in Audience::ALL { option value=(x.key()) selected[d.audience == x.key()] { (audience_label(x)) } }
                            }
                        }
                    }
                    label { (tr!("Text (Markdown: **bold**, # heading, - list, [link](https://…), ![picture](file name))"))
                        textarea.kb-body name="body" rows="18" { (d.body) }
                    }
                    @if let Some(x) = art.filter(|x| !x.files.is_empty()) {
                        fieldset.kb-files {
                            legend { (tr!("Files (use a file's name in the text to show or link it)")) }
                            @for f in &x.files {
                                label.toggle {
                                    input type="checkbox" name="remove" value=(f.filename) checked[d.remove.contains(&f.filename)];
                                    " " (tr!("Remove")) " "
                                    a href=(format!("/kb/{}/files/{}", x.id, crate::domain::markdown::file_part(&f.filename))) { code { (f.filename) } }
                                }
                            }
                        }
                    }
                    label { (tr!("Add files or pictures")) input type="file" name="files" multiple; }
                    div.actions { button.primary type="submit" { (tr!("Save")) } }
                }
            }
            @if let Some(x) = art {
                h2 { (tr!("As saved")) }
                (article_html(&format!("/kb/{}/files", x.id), &x.body))
                @if may_edit {
                    form.kb-delete method="post" action=(format!("/kb/{}/delete", x.id)) {
                        (ui::csrf_field(&a.csrf))
                        button.danger type="submit" data-confirm=(tr!("Delete this article and its history?")) { (tr!("Delete article")) }
                    }
                }
            }
        }
    };
    (status, page(&frame(st, a, title, "kb"), body)).into_response()
}

/// An article's text as HTML, its files under `files`.
pub(crate) fn article_html(files: &str, body: &str) -> Markup {
    html! { div.kb-article.kb-text { (PreEscaped(markdown::to_html(body, files))) } }
}

/// `GET /kb/new`.
pub async fn new_page(State(st): State<AppState>, a: Agent) -> WebResult {
    st.desk.require(&a.person, Permission::Kb)?;
    Ok(editor(&st, &a, None, &Draft { state: "draft".into(), audience: "public".into(), ..Draft::default() }, None, StatusCode::OK))
}

/// `GET /kb/{id}`.
pub async fn edit_page(State(st): State<AppState>, a: Agent, Path(id): Path<u64>) -> WebResult {
    let (art, _) = st.desk.kb_article(&a.person, ArticleId(id))?;
    Ok(editor(&st, &a, Some(&art), &Draft::of(&art), None, StatusCode::OK))
}

/// Reads the editor's form (multipart, with files).
async fn read_form(st: &AppState, req: axum::extract::Request) -> Result<(Draft, Vec<crate::web::body::Upload>), WebError> {
    let (fields, files) =
        crate::web::body::fields_and_files(st, req).await.map_err(|m| WebError::from(DeskError::Invalid { field: "form", message: m }))?;
    let mut d = Draft::default();
    for (k, v) in fields {
        match k.as_str() {
            "title" => d.title = v,
            "body" => d.body = v,
            "category" => d.category = v,
            "state" => d.state = v,
            "audience" => d.audience = v,
            "remove" => d.remove.push(v),
            _ => {}
        }
    }
    Ok((d, files))
}

async fn save_as(st: AppState, a: Agent, id: Option<ArticleId>, req: axum::extract::Request) -> WebResult {
    let (d, files) = read_form(&st, req).await?;
    let input = d.input(files);
    match run_as(&st.desk, &a.person, move |desk, me| desk.save_article(me, id, input)).await {
        Ok(saved) => Ok(Redirect::to(&format!("/kb/{}", saved.id)).into_response()),
        Err(e @ (DeskError::NotFound | DeskError::Forbidden(_) | DeskError::Store(_))) => Err(e.into()),
        Err(e) => {
            let art = id.and_then(|id| st.desk.kb_article(&a.person, id).ok()).map(|(x, _)| x);
            let msg = match &e {
                DeskError::Invalid { message, .. } => crate::i18n::dynamic(message),
                other => crate::web::error::desk_message(other),
            };
            Ok(editor(&st, &a, art.as_ref(), &d, Some(&msg), crate::web::error::status_of(&e)))
        }
    }
}

/// `POST /kb/new`.
pub async fn create(State(st): State<AppState>, a: Agent, req: axum::extract::Request) -> WebResult {
    save_as(st, a, None, req).await
}

/// `POST /kb/{id}`.
pub async fn save(State(st): State<AppState>, a: Agent, Path(id): Path<u64>, req: axum::extract::Request) -> WebResult {
    save_as(st, a, Some(ArticleId(id)), req).await
}

/// `POST /kb/{id}/delete`.
pub async fn delete(State(st): State<AppState>, a: Agent, Path(id): Path<u64>) -> WebResult {
    run_as(&st.desk, &a.person, move |d, me| d.delete_article(me, ArticleId(id))).await?;
    Ok(Redirect::to("/kb").into_response())
}

fn person_name(st: &AppState, a: &Agent, id: crate::domain::PersonId) -> String {
    st.desk.person(&a.person, id).map(|p| p.display()).unwrap_or_else(|_| tr!("someone").to_string())
}

/// `GET /kb/{id}/history`.
pub async fn history(State(st): State<AppState>, a: Agent, Path(id): Path<u64>) -> WebResult {
    let (art, revs) = st.desk.article_history(&a.person, ArticleId(id))?;
    let cats: Vec<KbCategory> = st.desk.kb_categories()?;
    let body = html! {
        div.narrow-page.wide-ok {
            div.crumbs { a href="/kb" { (tr!("Knowledge base")) } " / " a href=(format!("/kb/{id}")) { (art.title) } }
            h1 { (tr!("History")) }
            p.muted { (trn!(revs.len(), "{n} version", "{n} versions")) }
            div.scroll-x tabindex="0" role="region" aria-label=(tr!("History")) {
            table.tickets {
                thead { tr { th { (tr!("Version")) } th { (tr!("Saved")) } th.hide-sm { (tr!("By")) } th { (tr!("Title")) } th.hide-sm { (tr!("State")) } th.hide-sm { (tr!("Category")) } } }
                tbody {
                    @for r in &revs {
                        tr {
                            td { a href=(format!("/kb/{id}/history/{}", r.rev)) { (r.rev) } }
                            td.nowrap { (ui::when_at(r.at)) }
                            td.hide-sm { (person_name(&st, &a, r.by)) }
                            td { (r.title) }
                            td.hide-sm { (state_label(r.state)) @if r.audience == Audience::Internal { " · " (tr!("Internal")) } }
                            td.hide-sm { (category_name(&cats, r.category)) }
                        }
                    }
                }
            }
            }
        }
    };
    Ok(page(&frame(&st, &a, tr!("History").into(), "kb"), body).into_response())
}

/// `GET /kb/{id}/history/{rev}`.
pub async fn revision(State(st): State<AppState>, a: Agent, Path((id, rev)): Path<(u64, u32)>) -> WebResult {
    let (art, r) = st.desk.article_revision(&a.person, ArticleId(id), rev)?;
    let may_edit = st.desk.may(&a.person, Permission::Kb);
    let body = html! {
        div.narrow-page.wide-ok {
            div.crumbs { a href="/kb" { (tr!("Knowledge base")) } " / " a href=(format!("/kb/{id}")) { (art.title) } " / " a href=(format!("/kb/{id}/history")) { (tr!("History")) } }
            h1 { (r.title) }
            p.muted { (tr!("Version {n}", n = r.rev)) " · " (ui::when_at(r.at)) " · " (person_name(&st, &a, r.by)) }
            @if may_edit && r.rev != art.revision {
                form method="post" action=(format!("/kb/{id}/history/{rev}/restore")) {
                    (ui::csrf_field(&a.csrf))
                    button.primary type="submit" { (tr!("Bring this version back")) }
                }
            }
            (article_html(&format!("/kb/{id}/files"), &r.body))
            h2 { (tr!("Markdown")) }
            pre.kb-source { (r.body) }
        }
    };
    Ok(page(&frame(&st, &a, r.title.clone(), "kb"), body).into_response())
}

/// `POST /kb/{id}/history/{rev}/restore`.
pub async fn restore(State(st): State<AppState>, a: Agent, Path((id, rev)): Path<(u64, u32)>) -> WebResult {
    run_as(&st.desk, &a.person, move |d, me| d.restore_revision(me, ArticleId(id), rev)).await?;
    Ok(Redirect::to(&format!("/kb/{id}")).into_response())
}

/// An article's file as a response: pictures of a safe type shown inline,
/// anything else downloaded; sandboxed either way.
pub(crate) fn file_response(att: &crate::domain::thread::AttachmentRef, data: Vec<u8>) -> Response {
    let inline = crate::web::ticket::parts::previewable(&att.content_type) && att.content_type.starts_with("image/");
    let mut res = data.into_response();
    let h = res.headers_mut();
    let ctype = if inline { att.content_type.as_str() } else { "application/octet-stream" };
    if let Ok(v) = HeaderValue::from_str(ctype) {
        h.insert(header::CONTENT_TYPE, v);
    }
    let disposition = crate::web::ticket::parts::disposition(if inline { "inline" } else { "attachment" }, &att.filename);
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=3600"));
    res
}

/// `GET /kb/{id}/files/{name}`.
pub async fn file(State(st): State<AppState>, a: Agent, Path((id, name)): Path<(u64, String)>) -> WebResult {
    let (att, data) = st.desk.article_file(Some(&a.person), ArticleId(id), &name)?;
    Ok(file_response(&att, data))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct InsertQuery {
    q: String,
}

/// `GET /kb/insert?q=`: published articles for the reply box, public and
/// internal: title, the public address (none for internal ones), an
/// excerpt and the plain text.
pub async fn insert(State(st): State<AppState>, a: Agent, Query(q): Query<InsertQuery>) -> WebResult {
    let found = st.desk.kb_search(Some(&a.person), &q.q, true, false, 8)?;
    let base = st.desk.config().server.public_url.trim_end_matches('/').to_string();
    let list: Vec<serde_json::Value> = found
        .iter()
        .map(|x| {
            serde_json::json!({
                "id": x.id,
                "title": x.title,
                "url": x.is_public().then(|| format!("{base}{}", x.public_path())),
                "excerpt": excerpt(&x.body, 140),
                "text": markdown::plain_text(&x.body),
            })
        })
        .collect();
    Ok(axum::Json(serde_json::json!({ "articles": list })).into_response())
}
