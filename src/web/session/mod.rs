//! Logging in and out, and creating the first admin with the one-time link.

pub mod password;
pub mod twofactor;

use axum::Router;
use axum::routing::{get, post};
use std::net::SocketAddr;

use axum::Form;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use crate::desk::DeskError;
use crate::desk::auth::LoginStep;
use crate::tr;
use crate::web::pages::safe_next;
use crate::web::ui;
use crate::web::{Agent, AppState, PRE_COOKIE, SESSION_COOKIE, WebError, blocking, cookie, set_cookie};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", post(logout))
        .route("/setup", get(setup_page).post(setup_submit))
        .merge(twofactor::routes())
        .merge(password::routes())
}

// ---------------------------------------------------------------- login

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LoginQuery {
    next: Option<String>,
    done: Option<String>,
}

fn login_form(st: &AppState, pre: &str, next: &str, email: &str, error: Option<&str>) -> Markup {
    login_form_with(st, pre, next, email, error.map(|e| ("error", e)))
}

fn login_form_with(st: &AppState, pre: &str, next: &str, email: &str, notice: Option<(&str, &str)>) -> Markup {
    let name = &st.desk.config().desk.name;
    ui::card_page(
        tr!("Log in"),
        name,
        html! {
                    div.card.narrow.login {
                        div.brand.big { span.logo { "fd" } span { (name) } }
                        h1 { (tr!("Log in")) }
                        @if let Some((kind, text)) = notice { (ui::notice(kind, text)) }
                        @if st.sso.is_some() {
                            a.button.primary.sso href=(format!("/login/sso?next={}", percent_encoding::utf8_percent_encode(next, percent_encoding::NON_ALPHANUMERIC))) { (st.desk.config().sso.button_label) }
                        }
                        @if st.desk.config().sso.password_login {
                            form method="post" action="/login" {
                                input type="hidden" name="_csrf" value=(pre);
                                input type="hidden" name="next" value=(next);
                                label { (tr!("Email")) input type="email" name="email" value=(email) required autofocus autocomplete="username"; }
                                label { (tr!("Password")) input type="password" name="password" required autocomplete="current-password"; }
                                button.primary type="submit" { (tr!("Log in")) }
                                p.muted { a href="/password/forgot" { (tr!("Forgot your password?")) } }
                            }
                        }
                    }
        },
    )
}

pub async fn login_page(State(st): State<AppState>, agent: Option<Agent>, headers: HeaderMap, Query(q): Query<LoginQuery>) -> Response {
    if agent.is_some() {
        return Redirect::to(&safe_next(q.next.as_deref())).into_response();
    }
    let pre = match pre_token(&headers) {
        Ok(t) => t,
        Err(e) => return WebError::from(e).into_response(),
    };
    let notice = (q.done.as_deref() == Some("password")).then_some(("ok", tr!("Your password is saved. Log in with it.")));
    let body = login_form_with(&st, &pre, &safe_next(q.next.as_deref()), "", notice);
    ([(header::SET_COOKIE, set_cookie(&st.desk, PRE_COOKIE, &pre, 3600))], body).into_response()
}

/// The pre-login CSRF token: the browser's, or a fresh one.
pub(super) fn pre_token(headers: &HeaderMap) -> Result<String, DeskError> {
    match cookie(headers, PRE_COOKIE) {
        Some(v) if v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()) => Ok(v.to_string()),
        _ => crate::desk::auth::random_token(),
    }
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: Option<String>,
    #[serde(rename = "_csrf", default)]
    csrf: String,
}

pub async fn login_submit(
    State(st): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    if !st.desk.config().sso.password_login {
        return (
            StatusCode::FORBIDDEN,
            login_form(
                &st,
                &f.csrf,
                &safe_next(f.next.as_deref()),
                &f.email,
                Some(tr!("Password login is off on this desk: use single sign-on.")),
            ),
        )
            .into_response();
    }
    let desk = st.desk.clone();
    let (email, password, ip) = (f.email.clone(), f.password.clone(), addr.ip().to_string());
    let trusted = cookie(&headers, twofactor::TRUST_COOKIE).map(str::to_string);
    let outcome = tokio::task::spawn_blocking(move || desk.login(&email, &password, &ip, trusted.as_deref())).await;
    let next = safe_next(f.next.as_deref());
    match outcome {
        Ok(Ok(LoginStep::SecondFactor { pending, .. })) => {
            let enc = percent_encoding::utf8_percent_encode(&next, percent_encoding::NON_ALPHANUMERIC).to_string();
            let mut res = Redirect::to(&format!("/login/2fa?next={enc}")).into_response();
            if let Ok(v) = set_cookie(&st.desk, twofactor::PENDING_COOKIE, &pending, 300).parse() {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
            res
        }
        Ok(Ok(LoginStep::Session { token, .. })) => {
            let max_age = st.desk.config().security.session_idle_hours as i64 * 3600;
            let mut res = Redirect::to(&next).into_response();
            if let Ok(v) = set_cookie(&st.desk, SESSION_COOKIE, &token, max_age).parse() {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
            if let Ok(v) = set_cookie(&st.desk, PRE_COOKIE, "", 0).parse() {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
            res
        }
        Ok(Err(DeskError::BadCredentials)) => {
            (StatusCode::UNAUTHORIZED, login_form(&st, &f.csrf, &next, &f.email, Some(tr!("Wrong email or password.")))).into_response()
        }
        Ok(Err(e @ DeskError::RateLimited { .. })) => {
            (StatusCode::TOO_MANY_REQUESTS, login_form(&st, &f.csrf, &next, &f.email, Some(&crate::web::error::desk_message(&e))))
                .into_response()
        }
        Ok(Err(e)) => WebError::from(e).into_response(),
        Err(_) => WebError::new(StatusCode::INTERNAL_SERVER_ERROR, tr!("Login failed"), tr!("The login was interrupted; try again."))
            .into_response(),
    }
}

pub async fn logout(State(st): State<AppState>, ConnectInfo(addr): ConnectInfo<SocketAddr>, agent: Option<Agent>) -> Response {
    if let Some(a) = agent
        && let Err(e) = blocking(&st.desk, move |d| d.logout(&a.token, &addr.ip().to_string())).await
    {
        return WebError::from(e).into_response();
    }
    ([(header::SET_COOKIE, set_cookie(&st.desk, SESSION_COOKIE, "", 0))], Redirect::to("/login")).into_response()
}

// ---------------------------------------------------------------- first admin

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SetupForm {
    token: String,
    name: String,
    email: String,
    password: String,
}

fn setup_form(st: &AppState, pre: &str, f: &SetupForm, error: Option<&str>) -> Markup {
    let name = &st.desk.config().desk.name;
    ui::card_page(
        tr!("Set up"),
        name,
        html! {
                    form.card.narrow.login method="post" action="/setup" {
                        div.brand.big { span.logo { "fd" } span { (name) } }
                        h1 { (tr!("Create the first admin")) }
                        p.muted { (tr!("This page works once, with the link printed when the server started.")) }
                        @if let Some(e) = error { (ui::notice("error", e)) }
                        input type="hidden" name="_csrf" value=(pre);
                        input type="hidden" name="token" value=(f.token);
                        label { (tr!("Name")) input type="text" name="name" value=(f.name) required autofocus; }
                        label { (tr!("Email")) input type="email" name="email" value=(f.email) required autocomplete="username"; }
                        label { (tr!("Password (at least {n} characters)", n = st.desk.config().security.password_min_chars))
                            input type="password" name="password" required autocomplete="new-password"; }
                        button.primary type="submit" { (tr!("Create admin and log in")) }
                    }
        },
    )
}

/// The setup link is valid while no admin exists and the token matches.
fn setup_allowed(st: &AppState, token: &str) -> Result<bool, DeskError> {
    let Some(expected) = &st.setup_token else { return Ok(false) };
    Ok(!token.is_empty() && crate::web::guard::constant_time_eq(token.as_bytes(), expected.as_bytes()) && !st.desk.has_admin()?)
}

pub async fn setup_page(State(st): State<AppState>, headers: HeaderMap, Query(f): Query<SetupForm>) -> Response {
    match setup_allowed(&st, &f.token) {
        Ok(true) => {}
        Ok(false) => return WebError::from(DeskError::NotFound).into_response(),
        Err(e) => return WebError::from(e).into_response(),
    }
    let pre = match pre_token(&headers) {
        Ok(t) => t,
        Err(e) => return WebError::from(e).into_response(),
    };
    ([(header::SET_COOKIE, set_cookie(&st.desk, PRE_COOKIE, &pre, 3600))], setup_form(&st, &pre, &f, None)).into_response()
}

pub async fn setup_submit(
    State(st): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<SetupForm>,
) -> Response {
    match setup_allowed(&st, &f.token) {
        Ok(true) => {}
        Ok(false) => return WebError::from(DeskError::NotFound).into_response(),
        Err(e) => return WebError::from(e).into_response(),
    }
    let pre = cookie(&headers, PRE_COOKIE).unwrap_or("").to_string();
    let new = crate::desk::auth::NewAgent {
        email: f.email.clone(),
        name: f.name.clone(),
        role: crate::domain::Role::Admin,
        password: f.password.clone(),
        departments: Vec::new(),
    };
    let desk = st.desk.clone();
    let ip = addr.ip().to_string();
    let created = tokio::task::spawn_blocking(move || {
        desk.add_agent_as(crate::desk::audit::Actor::SetupLink, &ip, new).and_then(|p| desk.open_session(&p, &ip))
    })
    .await;
    match created {
        Ok(Ok(token)) => {
            let max_age = st.desk.config().security.session_idle_hours as i64 * 3600;
            ([(header::SET_COOKIE, set_cookie(&st.desk, SESSION_COOKIE, &token, max_age))], Redirect::to("/tickets")).into_response()
        }
        Ok(Err(e @ (DeskError::Store(_) | DeskError::NotFound))) => WebError::from(e).into_response(),
        Ok(Err(e)) => (crate::web::status_of(&e), setup_form(&st, &pre, &f, Some(&crate::web::error::desk_message(&e)))).into_response(),
        Err(_) => WebError::new(StatusCode::INTERNAL_SERVER_ERROR, tr!("Setup failed"), tr!("The setup was interrupted; try again."))
            .into_response(),
    }
}
