//! Passwords without an admin: "Forgot your password?" on the login page
//! mails a one-time link; `/password/{token}` (a reset or an invitation)
//! lets the agent choose a password once. A used or expired link says so.

use std::net::SocketAddr;

use axum::Form;
use axum::Router;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use maud::{Markup, html};
use serde::Deserialize;

use crate::desk::DeskError;
use crate::desk::profile::LinkState;
use crate::store::LinkKind;
use crate::tr;
use crate::web::ui;
use crate::web::{Agent, AppState, PRE_COOKIE, WebError, blocking, cookie, set_cookie};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/password/forgot", get(forgot_page).post(forgot_submit))
        .route("/password/{token}", get(link_page).post(link_submit))
}

fn card(st: &AppState, title: &str, inner: Markup) -> Markup {
    let name = &st.desk.config().desk.name;
    ui::card_page(title, name, html! { div.card.narrow.login { div.brand.big { span.logo { "fd" } span { (name) } } (inner) } })
}

/// The form's CSRF token: a logged-in agent's session one; else the
/// pre-login one, the browser's or a fresh one (set on the answer).
fn pre(headers: &HeaderMap, agent: &Option<Agent>) -> Result<(String, bool), DeskError> {
    if let Some(a) = agent {
        return Ok((a.csrf.clone(), false));
    }
    let token = super::pre_token(headers)?;
    let fresh = cookie(headers, PRE_COOKIE) != Some(token.as_str());
    Ok((token, fresh))
}

fn with_pre(st: &AppState, status: StatusCode, (token, fresh): (String, bool), body: Markup) -> Response {
    let mut res = (status, body).into_response();
    if fresh && let Ok(v) = set_cookie(&st.desk, PRE_COOKIE, &token, 3600).parse() {
        res.headers_mut().append(axum::http::header::SET_COOKIE, v);
    }
    res
}

fn forgot_form(st: &AppState, pre: &str, notice: Option<(&str, &str)>) -> Markup {
    card(
        st,
        tr!("Forgot your password?"),
        html! {
            h1 { (tr!("Forgot your password?")) }
            @if let Some((k, t)) = notice { (ui::notice(k, t)) }
            form method="post" action="/password/forgot" {
                input type="hidden" name="_csrf" value=(pre);
                label { (tr!("Your email")) input type="email" name="email" required autofocus autocomplete="username"; }
                button.primary type="submit" { (tr!("Mail me a link")) }
            }
            p.muted { a href="/login" { (tr!("Back to log in")) } }
        },
    )
}

async fn forgot_page(State(st): State<AppState>, agent: Option<Agent>, headers: HeaderMap) -> Response {
    match pre(&headers, &agent) {
        Ok(p) => {
            let body = forgot_form(&st, &p.0, None);
            with_pre(&st, StatusCode::OK, p, body)
        }
        Err(e) => WebError::from(e).into_response(),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ForgotForm {
    email: String,
    #[serde(rename = "_csrf")]
    csrf: String,
}

async fn forgot_submit(State(st): State<AppState>, ConnectInfo(addr): ConnectInfo<SocketAddr>, Form(f): Form<ForgotForm>) -> Response {
    let (email, ip) = (f.email.clone(), addr.ip().to_string());
    match blocking(&st.desk, move |d| d.request_password_reset(&email, &ip)).await {
        // The same answer whether or not the address is an agent's.
        Ok(()) => forgot_form(
            &st,
            &f.csrf,
            Some(("ok", tr!("If that address belongs to an agent of this desk, a link is on its way. It works once, within an hour."))),
        )
        .into_response(),
        Err(e @ (DeskError::Conflict(_) | DeskError::RateLimited { .. })) => {
            (crate::web::status_of(&e), forgot_form(&st, &f.csrf, Some(("error", &crate::web::error::desk_message(&e))))).into_response()
        }
        Err(e) => WebError::from(e).into_response(),
    }
}

fn gone(st: &AppState) -> Response {
    let body = card(
        st,
        tr!("Link expired"),
        html! {
            h1 { (tr!("This link has expired or was used already")) }
            p { (crate::web::pages::with_markup(tr!("Each link works once, for a limited time. {ask}, or ask an admin to send you one."), &[("ask", html! { a href="/password/forgot" { (tr!("Ask for a new one")) } })])) }
        },
    );
    (StatusCode::GONE, body).into_response()
}

fn choose_form(st: &AppState, pre: &str, token: &str, email: &str, kind: LinkKind, error: Option<&str>) -> Markup {
    let min = st.desk.config().security.password_min_chars;
    let title = if kind == LinkKind::Invite { tr!("Welcome: choose your password") } else { tr!("Choose a new password") };
    card(
        st,
        title,
        html! {
            h1 { (title) }
            @if let Some(e) = error { (ui::notice("error", e)) }
            form method="post" action=(format!("/password/{token}")) {
                input type="hidden" name="_csrf" value=(pre);
                input type="hidden" name="username" value=(email) autocomplete="username";
                p.muted { (crate::web::pages::with_markup(&tr!("For {email}. At least {n} characters; a few unrelated words make a good one.", n = min), &[("email", html! { strong { (email) } })])) }
                label { (tr!("New password")) input type="password" name="password" required minlength=(min) autofocus autocomplete="new-password"; }
                label { (tr!("Once more")) input type="password" name="again" required minlength=(min) autocomplete="new-password"; }
                button.primary type="submit" { (tr!("Save password")) }
            }
        },
    )
}

async fn link_page(State(st): State<AppState>, agent: Option<Agent>, headers: HeaderMap, Path(token): Path<String>) -> Response {
    let t = token.clone();
    let state = match blocking(&st.desk, move |d| d.password_link(&t)).await {
        Ok(s) => s,
        Err(e) => return WebError::from(e).into_response(),
    };
    let LinkState::Valid { person, kind } = state else { return gone(&st) };
    match pre(&headers, &agent) {
        Ok(p) => {
            let body = choose_form(&st, &p.0, &token, &person.email, kind, None);
            with_pre(&st, StatusCode::OK, p, body)
        }
        Err(e) => WebError::from(e).into_response(),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ChooseForm {
    password: String,
    again: String,
    #[serde(rename = "_csrf")]
    csrf: String,
}

async fn link_submit(
    State(st): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Path(token): Path<String>,
    Form(f): Form<ChooseForm>,
) -> Response {
    let t = token.clone();
    let state = match blocking(&st.desk, move |d| d.password_link(&t)).await {
        Ok(s) => s,
        Err(e) => return WebError::from(e).into_response(),
    };
    let LinkState::Valid { person, kind } = state else { return gone(&st) };
    if f.password != f.again {
        return (StatusCode::BAD_REQUEST, choose_form(&st, &f.csrf, &token, &person.email, kind, Some(tr!("The two passwords differ."))))
            .into_response();
    }
    let (password, ip, t) = (f.password.clone(), addr.ip().to_string(), token.clone());
    match blocking(&st.desk, move |d| d.use_password_link(&t, &password, &ip)).await {
        Ok(_) => Redirect::to("/login?done=password").into_response(),
        Err(DeskError::Conflict(_)) => gone(&st),
        Err(e @ (DeskError::Invalid { .. } | DeskError::TooLarge { .. })) => {
            let msg = match &e {
                DeskError::Invalid { message, .. } => password_problem(message),
                other => crate::web::error::desk_message(other),
            };
            (crate::web::status_of(&e), choose_form(&st, &f.csrf, &token, &person.email, kind, Some(&msg))).into_response()
        }
        Err(e) => WebError::from(e).into_response(),
    }
}

/// What is wrong with a new password, as a sentence: the desk says it as
/// the end of one ("must be at least 12 characters").
fn password_problem(message: &str) -> String {
    let min = message.strip_prefix("must be at least ").and_then(|r| r.strip_suffix(" characters")).and_then(|n| n.parse::<usize>().ok());
    match (min, message) {
        (Some(n), _) => tr!("The password must be at least {n} characters.", n = n),
        (None, "must not be your email address or its name part") => {
            tr!("The password must not be your email address or its name part.").to_string()
        }
        (None, m) if m.starts_with("is one of the 10,000 most common passwords") => {
            tr!("The password is one of the 10,000 most common passwords; choose another (a few unrelated words make a good one).")
                .to_string()
        }
        (None, m) => tr!("The password {problem}.", problem = crate::i18n::dynamic(m)),
    }
}
