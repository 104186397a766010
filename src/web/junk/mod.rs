//! The Junk list: bounces, auto-replies, spam and mail without a usable
//! sender; its raw source; "Not junk" (the ticket it should have been, and a
//! lesson for the spam engine), "Delete", "Empty junk", and the sender
//! allow-list (an address or a whole domain whose mail the spam checks never
//! hold here).

use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{PreEscaped, html};
use serde::Deserialize;

use crate::desk::DeskError;
use crate::domain::JunkId;
use crate::i18n::format::num;
use crate::tr;
use crate::web::pages::frame;
use crate::web::ticket::parts::raw_text;
use crate::web::ui::{self, csrf_field, page};
use crate::web::{Agent, AppState, WebResult, run_as};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/junk", get(junk_page))
        .route("/junk/{id}/source", get(junk_source))
        .route("/junk/{id}/ticket", post(junk_to_ticket))
        .route("/junk/{id}/delete", post(delete))
        .route("/junk/{id}/allow", post(allow_and_ticket))
        .route("/junk/empty", get(empty_confirm).post(empty))
        .route("/junk/allowed", post(allow))
        .route("/junk/allowed/remove", post(disallow))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Done {
    done: String,
    n: usize,
}

pub async fn junk_page(State(st): State<AppState>, a: Agent, Query(d): Query<Done>) -> WebResult {
    let notice = match d.done.as_str() {
        "deleted" => Some(("ok", tr!("Deleted.").to_string())),
        "emptied" => Some(("ok", tr!("Junk emptied: {n} deleted.", n = num(d.n as i64)))),
        "allowed" => Some(("ok", tr!("Added to the allow-list.").to_string())),
        "removed" => Some(("ok", tr!("Taken off the allow-list.").to_string())),
        _ => None,
    };
    render(&st, &a, notice)
}

fn render(st: &AppState, a: &Agent, notice: Option<(&str, String)>) -> WebResult {
    let items = st.desk.junk(&a.person, 500)?;
    let keeps_list = st.desk.keeps_allow_list(&a.person);
    let manages = st.desk.may(&a.person, crate::domain::roles::Permission::Junk);
    let allowed = if keeps_list { st.desk.allowed_senders(&a.person)? } else { Vec::new() };
    let now = st.desk.now();
    let sidebar = crate::web::queue::list::sidebar(st, a, "junk")?;
    let body = html! {
        div.queue-layout {
        (sidebar)
        section.queue {
            div.queue-head { h1 { (tr!("Junk mail")) } }
            @if let Some((kind, text)) = &notice { (ui::notice(kind, text)) }
            p.muted { (tr!("Bounces, auto-replies, spam and mail without a usable sender. They never create tickets or get automatic answers. If one is real, say so: it becomes a ticket, and the spam engine learns from it.")) }
            @if items.is_empty() {
                (ui::empty(tr!("No junk mail.")))
            } @else {
                @if manages { p { a.button href="/junk/empty" { (tr!("Empty junk…")) } } }
                table.tickets {
                    thead { tr { th { (tr!("From")) } th { (tr!("Subject")) } th.hide-sm { (tr!("Why")) } th.hide-sm { (tr!("Received")) } th { span.sr-only { (tr!("Actions")) } } } }
                    tbody {
                        @for j in &items {
                            tr {
                                td.junk-from { (j.from) }
                                td.subject { a href=(format!("/junk/{}/source", j.id)) { @if j.subject.is_empty() { (tr!("(no subject)")) } @else { (j.subject) } } }
                                // Said when the mail came in, in English (stored).
                                td.hide-sm.muted lang="en" { (j.reason) }
                                td.hide-sm.nowrap title=(j.received_at.rfc3339()) { (crate::web::ui::ago(j.received_at, now)) }
                                td.junk-actions {
                                    @if manages {
                                    form method="post" action=(format!("/junk/{}/ticket", j.id)) {
                                        (csrf_field(&a.csrf))
                                        button type="submit" { (tr!("Not junk")) }
                                    }
                                    @if keeps_list {
                                        form.hide-sm method="post" action=(format!("/junk/{}/allow", j.id)) {
                                            (csrf_field(&a.csrf))
                                            button type="submit" name="scope" value="sender" title=(tr!("Not junk, and never hold mail from this address again")) { (tr!("Allow sender")) }
                                            button type="submit" name="scope" value="domain" title=(tr!("Not junk, and never hold mail from this domain again")) { (tr!("Allow domain")) }
                                        }
                                    }
                                    form method="post" action=(format!("/junk/{}/delete", j.id)) {
                                        (csrf_field(&a.csrf))
                                        button type="submit" { (tr!("Delete")) }
                                    }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if keeps_list {
            h2 id="allowed" { (tr!("Allow-list")) }
            p.muted { (tr!("Mail from these addresses and domains is never held as spam (DNSBL, rspamd, the rule score) or refused by rspamd, when it proves it is from them (an aligned SPF or DKIM pass; with sender verification off, always). A forger gains nothing from the list.")) }
            @if allowed.is_empty() {
                p.muted { (tr!("Nobody yet.")) }
            } @else {
                table.tickets {
                    thead { tr { th { (tr!("Address or domain")) } th.hide-sm { (tr!("Added")) } th { span.sr-only { (tr!("Actions")) } } } }
                    tbody {
                        @for (entry, at) in &allowed {
                            tr {
                                td { (entry) }
                                td.hide-sm.nowrap title=(at.rfc3339()) { (crate::web::ui::ago(*at, now)) }
                                td.actions {
                                    form method="post" action="/junk/allowed/remove" {
                                        (csrf_field(&a.csrf))
                                        input type="hidden" name="entry" value=(entry);
                                        button type="submit" { (tr!("Remove")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            form.inline method="post" action="/junk/allowed" {
                (csrf_field(&a.csrf))
                label for="allow-entry" { (tr!("Allow an address or a domain")) }
                input type="text" id="allow-entry" name="entry" size="32" placeholder=(tr!("ada@partner.example or partner.example")) required;
                button type="submit" { (tr!("Allow")) }
            }
            }
        }
        }
    };
    Ok(page(&frame(st, a, tr!("Junk mail").into(), "junk"), body).into_response())
}

pub async fn junk_source(State(st): State<AppState>, a: Agent, Path(id): Path<JunkId>) -> WebResult {
    let raw = st.desk.junk_item(&a.person, id).and_then(|j| st.desk.blob(&j.raw_blob))?;
    Ok(raw_text(raw))
}

pub async fn junk_to_ticket(State(st): State<AppState>, a: Agent, Path(id): Path<JunkId>) -> WebResult {
    let t = run_as(&st.desk, &a.person, move |d, me| d.junk_to_ticket(me, id)).await?;
    Ok(Redirect::to(&format!("/tickets/{}?done=created", st.desk.reference(t))).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ScopeForm {
    scope: String,
}

/// "Allow sender" / "Allow domain": on the list, then the ticket it should
/// have been.
pub async fn allow_and_ticket(State(st): State<AppState>, a: Agent, Path(id): Path<JunkId>, Form(f): Form<ScopeForm>) -> WebResult {
    let domain = f.scope == "domain";
    let t = run_as(&st.desk, &a.person, move |d, me| {
        let item = d.junk_item(me, id)?;
        let email = item.from_email();
        let entry = if domain { email.rsplit_once('@').map(|(_, d)| d.to_string()).unwrap_or_default() } else { email };
        d.allow_sender(me, &entry)?;
        d.junk_to_ticket(me, id)
    })
    .await?;
    Ok(Redirect::to(&format!("/tickets/{}?done=created", st.desk.reference(t))).into_response())
}

pub async fn delete(State(st): State<AppState>, a: Agent, Path(id): Path<JunkId>) -> WebResult {
    run_as(&st.desk, &a.person, move |d, me| d.delete_junk(me, id)).await?;
    Ok(Redirect::to("/junk?done=deleted").into_response())
}

pub async fn empty_confirm(State(st): State<AppState>, a: Agent) -> WebResult {
    let items = run_as(&st.desk, &a.person, |d, me| d.junk(me, usize::MAX)).await?;
    let (n, upto) = (items.len(), items.iter().map(|j| j.id).max().unwrap_or_default());
    let body = html! {
        div.narrow-page {
            h1 { (tr!("Empty junk")) }
            // The count is bold inside the sentence: the sentence is our own
            // catalog text, the count markup is made here.
            p { (PreEscaped(tr!(
                "Delete all {n} junk mails you can see, with their raw sources? This cannot be undone.",
                n = html! { strong { (num(n as i64)) } }.into_string()
            ))) }
            form method="post" action="/junk/empty" {
                (csrf_field(&a.csrf))
                input type="hidden" name="upto" value=(upto.0);
                button.danger type="submit" { (tr!("Delete them all")) }
                " "
                a href="/junk" { (tr!("Cancel")) }
            }
        }
    };
    Ok(page(&frame(&st, &a, tr!("Empty junk").into(), "junk"), body).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct EmptyForm {
    /// The newest junk id the confirmation showed.
    upto: JunkId,
}

pub async fn empty(State(st): State<AppState>, a: Agent, Form(f): Form<EmptyForm>) -> WebResult {
    let n = run_as(&st.desk, &a.person, move |d, me| d.empty_junk(me, f.upto)).await?;
    Ok(Redirect::to(&format!("/junk?done=emptied&n={n}")).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct EntryForm {
    entry: String,
}

pub async fn allow(State(st): State<AppState>, a: Agent, Form(f): Form<EntryForm>) -> WebResult {
    match run_as(&st.desk, &a.person, move |d, me| d.allow_sender(me, &f.entry)).await {
        Ok(_) => Ok(Redirect::to("/junk?done=allowed#allowed").into_response()),
        Err(e @ DeskError::Invalid { .. }) => {
            with_status(render(&st, &a, Some(("error", e.to_string()))), StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn disallow(State(st): State<AppState>, a: Agent, Form(f): Form<EntryForm>) -> WebResult {
    run_as(&st.desk, &a.person, move |d, me| d.disallow_sender(me, &f.entry)).await?;
    Ok(Redirect::to("/junk?done=removed#allowed").into_response())
}

/// The Junk page drawn again (with its notice) under another status.
fn with_status(r: WebResult, status: StatusCode) -> WebResult {
    let mut r: Response = r?;
    *r.status_mut() = status;
    Ok(r)
}
