//! Two-factor pages: the login's second step (`/login/2fa`: a code from the
//! app, a recovery code, or one mailed on request; "remember this
//! browser"), the agent's own enrolment and removal (`/settings/2fa`), and
//! the admin's reset of an agent's second factor.

use std::net::SocketAddr;

use axum::Form;
use axum::Router;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;

use crate::desk::DeskError;
use crate::web::pages::{frame, refusal, safe_next, to, with_markup};
use crate::web::ui::{self, csrf_field, page};
use crate::web::{Admin, Agent, AppState, PRE_COOKIE, SESSION_COOKIE, WebError, WebResult, blocking, cookie, set_cookie};
use crate::{tr, trn};

/// The pending login's cookie (5 minutes).
pub const PENDING_COOKIE: &str = "fd_2fa";
/// A browser the agent chose to trust.
pub const TRUST_COOKIE: &str = "fd_trust";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login/2fa", get(step_page).post(step_submit))
        .route("/login/2fa/mail", post(mail_code))
        .route("/settings/2fa", get(settings_page))
        .route("/settings/2fa/confirm", post(confirm))
        .route("/settings/2fa/remove", post(remove))
        .route("/admin/agents/{id}/2fa-reset", post(admin_reset))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct StepForm {
    code: String,
    remember: Option<String>,
    next: Option<String>,
    #[serde(rename = "_csrf")]
    csrf: String,
}

fn step_form(st: &AppState, pre: &str, next: &str, notice: Option<(&str, &str)>) -> Markup {
    let name = &st.desk.config().desk.name;
    let days = st.desk.config().security.remember_browser_days;
    ui::card_page(
        tr!("Two-factor login"),
        name,
        html! {
            div.login-stack {
            form.card.narrow.login method="post" action="/login/2fa" {
                div.brand.big { span.logo { "fd" } span { (name) } }
                h1 { (tr!("Second step")) }
                @if let Some((kind, text)) = notice { (ui::notice(kind, text)) }
                input type="hidden" name="_csrf" value=(pre);
                input type="hidden" name="next" value=(next);
                label { (tr!("Code from your authenticator app, or a recovery code"))
                    input type="text" name="code" required autofocus autocomplete="one-time-code" inputmode="text" maxlength="20"; }
                @if days > 0 { label.check { input type="checkbox" name="remember" value="1"; " " (trn!(days, "Remember this browser for {n} day", "Remember this browser for {n} days")) } }
                button.primary type="submit" { (tr!("Log in")) }
            }
            @if st.desk.email_codes_available() {
                form.narrow method="post" action="/login/2fa/mail" {
                    input type="hidden" name="_csrf" value=(pre);
                    input type="hidden" name="next" value=(next);
                    button.linkish type="submit" { (tr!("No phone at hand? Email me a code")) }
                }
            }
            p.narrow.muted { a href="/login" { (tr!("Start again")) } }
            }
        },
    )
}

/// The pending login this browser holds, when it is still waiting.
fn pending_of(st: &AppState, headers: &HeaderMap) -> Result<Option<String>, DeskError> {
    let Some(token) = cookie(headers, PENDING_COOKIE) else { return Ok(None) };
    Ok(st.desk.pending_login(token)?.map(|_| token.to_string()))
}

fn expired() -> Response {
    Redirect::to("/login").into_response()
}

async fn step_page(State(st): State<AppState>, headers: HeaderMap, Query(f): Query<StepForm>) -> Response {
    match pending_of(&st, &headers) {
        Ok(Some(_)) => {}
        Ok(None) => return expired(),
        Err(e) => return WebError::from(e).into_response(),
    }
    let pre = cookie(&headers, PRE_COOKIE).unwrap_or("").to_string();
    step_form(&st, &pre, &safe_next(f.next.as_deref()), None).into_response()
}

async fn step_submit(
    State(st): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<StepForm>,
) -> Response {
    let pending = match pending_of(&st, &headers) {
        Ok(Some(p)) => p,
        Ok(None) => return expired(),
        Err(e) => return WebError::from(e).into_response(),
    };
    let next = safe_next(f.next.as_deref());
    let (code, remember, ip) = (f.code.clone(), f.remember.is_some(), addr.ip().to_string());
    let outcome = blocking(&st.desk, move |d| d.second_factor(&pending, &code, &ip, remember)).await;
    match outcome {
        Ok((session, trust, _)) => {
            let desk = &st.desk;
            let mut res = Redirect::to(&next).into_response();
            let max_age = desk.config().security.session_idle_hours as i64 * 3600;
            let mut cookies = vec![
                set_cookie(desk, SESSION_COOKIE, &session, max_age),
                set_cookie(desk, PENDING_COOKIE, "", 0),
                set_cookie(desk, PRE_COOKIE, "", 0),
            ];
            if let Some(t) = trust {
                cookies.push(set_cookie(desk, TRUST_COOKIE, &t, i64::from(desk.config().security.remember_browser_days) * 86_400));
            }
            for c in cookies {
                if let Ok(v) = c.parse() {
                    res.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            res
        }
        Err(DeskError::BadCredentials) => (
            StatusCode::UNAUTHORIZED,
            step_form(&st, &f.csrf, &next, Some(("error", tr!("That code is not right (or was used already).")))),
        )
            .into_response(),
        Err(e @ DeskError::RateLimited { .. }) => {
            (StatusCode::TOO_MANY_REQUESTS, step_form(&st, &f.csrf, &next, Some(("error", &crate::web::error::desk_message(&e)))))
                .into_response()
        }
        Err(DeskError::NotFound) => expired(),
        Err(e) => WebError::from(e).into_response(),
    }
}

async fn mail_code(State(st): State<AppState>, headers: HeaderMap, Form(f): Form<StepForm>) -> Response {
    let pending = match pending_of(&st, &headers) {
        Ok(Some(p)) => p,
        Ok(None) => return expired(),
        Err(e) => return WebError::from(e).into_response(),
    };
    let next = safe_next(f.next.as_deref());
    match blocking(&st.desk, move |d| d.mail_login_code(&pending)).await {
        Ok(()) => step_form(&st, &f.csrf, &next, Some(("ok", tr!("A code is on its way to your address. It works once, for 10 minutes."))))
            .into_response(),
        Err(e) => (crate::web::status_of(&e), step_form(&st, &f.csrf, &next, Some(("error", &crate::web::error::desk_message(&e)))))
            .into_response(),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CodeForm {
    code: String,
    password: String,
}

async fn settings_page(State(st): State<AppState>, a: Agent) -> WebResult {
    let status = st.desk.two_factor_status(&a.person)?;
    let enrolment = if status.enabled {
        None
    } else {
        let me = a.person.clone();
        Some(blocking(&st.desk, move |d| d.begin_two_factor(&me)).await?)
    };
    let body = html! {
        div.narrow-page {
            h1 { (tr!("Two-factor login")) }
            @if status.required && !status.enabled { (ui::notice("error", tr!("This desk requires a second factor for your account: set it up to continue."))) }
            @match &enrolment {
                None => {
                    (ui::notice("ok", tr!("Two-factor login is on.")))
                    p { (with_markup(tr!("Recovery codes left: {count}. Each works once, when your phone is not at hand."), &[("count", html! { strong { (status.recovery_left) } })])) }
                    @if !status.required {
                        form.card.form-grid method="post" action="/settings/2fa/remove" {
                            (csrf_field(&a.csrf))
                            label { (tr!("Your password, to turn it off")) input type="password" name="password" required autocomplete="current-password"; }
                            div.actions { button.danger type="submit" { (tr!("Turn off two-factor login")) } }
                        }
                    }
                }
                Some(e) => {
                    ol {
                        li { (tr!("Scan this code with an authenticator app (Aegis, Google Authenticator, Microsoft Authenticator, 1Password, …).")) }
                        li { (tr!("Type the 6-digit code it shows.")) }
                    }
                    div.qr { (PreEscaped(&e.qr_svg)) }
                    p.muted { (tr!("Cannot scan? Enter this key by hand:")) " " code.secret { (e.secret) } }
                    form.card.form-grid method="post" action="/settings/2fa/confirm" {
                        (csrf_field(&a.csrf))
                        input type="hidden" name="username" value=(a.person.email) autocomplete="username";
                        label { (tr!("Your password")) input type="password" name="password" required autocomplete="current-password"; }
                        label { (tr!("Code from the app")) input type="text" name="code" required inputmode="numeric" autocomplete="one-time-code" maxlength="9"; }
                        div.actions { button.primary type="submit" { (tr!("Turn on")) } }
                    }
                }
            }
        }
    };
    Ok(page(&frame(&st, &a, tr!("Two-factor login").into(), "settings"), body).into_response())
}

async fn confirm(State(st): State<AppState>, a: Agent, Form(f): Form<CodeForm>) -> WebResult {
    let me = a.person.clone();
    let codes = match blocking(&st.desk, move |d| d.confirm_two_factor(&me, &f.password, &f.code)).await {
        Ok(c) => c,
        Err(e) => return Err(refusal(&st, &a, e, tr!("Two-factor login"), "settings", ("/settings/2fa", tr!("Try again")))),
    };
    let body = html! {
        div.narrow-page {
            h1 { (tr!("Two-factor login is on")) }
            (ui::notice("ok", tr!("Keep these recovery codes somewhere safe: each logs you in once without your phone. They are shown only now.")))
            ul.recovery-codes { @for c in &codes { li { code { (c) } } } }
            p { a href="/tickets" { (tr!("Go to the queue")) } }
        }
    };
    Ok(page(&frame(&st, &a, tr!("Recovery codes").into(), "settings"), body).into_response())
}

async fn remove(State(st): State<AppState>, a: Agent, Form(f): Form<CodeForm>) -> WebResult {
    let me = a.person.clone();
    match blocking(&st.desk, move |d| d.remove_own_two_factor(&me, &f.password)).await {
        Ok(()) => Ok(to("/settings/2fa")),
        Err(e) => Err(refusal(&st, &a, e, tr!("Two-factor login"), "settings", ("/settings/2fa", tr!("Back")))),
    }
}

async fn admin_reset(State(st): State<AppState>, Admin(a): Admin, Path(id): Path<u64>) -> WebResult {
    let me = a.person.clone();
    match blocking(&st.desk, move |d| d.reset_two_factor(&me, crate::domain::PersonId(id))).await {
        Ok(()) => Ok(to("/admin/agents?done=2fa-reset")),
        Err(e) => Err(refusal(&st, &a, e, tr!("Agents"), "admin", ("/admin/agents", tr!("Back to agents")))),
    }
}
