//! The agent's own profile page (`/settings/profile`): name, signature
//! (added below their public replies), time zone (every date they see),
//! language (every page they see; empty = the browser's),
//! and changing their password with the current one.

use axum::Form;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use maud::html;
use serde::Deserialize;

use crate::tr;
use crate::web::pages::{frame, refusal, to};
use crate::web::ui::{self, csrf_field, page};
use crate::web::{Agent, AppState, WebResult, blocking};

pub fn routes() -> Router<AppState> {
    Router::new().route("/settings/profile", get(profile_page).post(save_profile)).route("/settings/password", post(change_password))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Done {
    done: Option<String>,
}

/// Every time zone the desk knows, sorted.
fn zones() -> Vec<String> {
    let mut z: Vec<String> =
        jiff::tz::db().available().map(|n| n.to_string()).filter(|n| n.contains('/') && !n.starts_with("Etc/")).collect();
    z.sort();
    z
}

async fn profile_page(State(st): State<AppState>, a: Agent, Query(q): Query<Done>) -> WebResult {
    let me = a.person.clone();
    let profile = blocking(&st.desk, move |d| d.profile(&me)).await?;
    let min = st.desk.config().security.password_min_chars;
    let body = html! {
        div.narrow-page {
            h1 { (tr!("My profile")) }
            @match q.done.as_deref() {
                Some("saved") => (ui::notice("ok", tr!("Saved."))),
                Some("password") => (ui::notice("ok", tr!("Password changed. Your other sessions were ended."))),
                _ => {}
            }
            form.card.form-grid method="post" action="/settings/profile" {
                (csrf_field(&a.csrf))
                label { (tr!("Name")) input type="text" name="name" value=(a.person.name) required maxlength="120"; }
                label { (tr!("Email")) input type="email" value=(a.person.email) disabled; }
                label { (tr!("Signature (added below your public replies)")) textarea name="signature" rows="3" maxlength="2000" { (profile.signature) } }
                label { (tr!("Time zone (for every date you see)"))
                    select name="time_zone" {
                        option value="" selected[profile.time_zone.is_empty()] { (tr!("UTC")) }
                        @for z in zones() { option value=(z) selected[z == profile.time_zone] { (z) } }
                    }
                }
                label { (tr!("Language"))
                    select name="language" {
                        option value="" selected[profile.language.is_empty()] { (tr!("As my browser asks")) }
                        @for l in crate::i18n::Lang::ALL { option value=(l.code()) lang=(l.code()) selected[l.code() == profile.language] { (l.native_name()) } }
                    }
                }
                div.actions { button.primary type="submit" { (tr!("Save")) } }
            }
            h2 { (tr!("Change password")) }
            form.card.form-grid method="post" action="/settings/password" {
                (csrf_field(&a.csrf))
                input type="hidden" name="username" value=(a.person.email) autocomplete="username";
                label { (tr!("Current password")) input type="password" name="current" required autocomplete="current-password"; }
                label { (tr!("New password (at least {n} characters)", n = min)) input type="password" name="password" required minlength=(min) autocomplete="new-password"; }
                div.actions { button type="submit" { (tr!("Change password")) } }
            }
            p { a href="/settings/2fa" { (tr!("Two-factor login")) } }
        }
    };
    Ok(page(&frame(&st, &a, tr!("My profile").into(), "settings"), body).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ProfileForm {
    name: String,
    signature: String,
    time_zone: String,
    language: String,
}

async fn save_profile(State(st): State<AppState>, a: Agent, Form(f): Form<ProfileForm>) -> WebResult {
    let me = a.person.clone();
    match blocking(&st.desk, move |d| d.update_profile(&me, &f.name, &f.signature, &f.time_zone, &f.language)).await {
        Ok(()) => Ok(to("/settings/profile?done=saved")),
        Err(e) => Err(refusal(&st, &a, e, tr!("My profile"), "settings", ("/settings/profile", tr!("Back to my profile")))),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PasswordForm {
    current: String,
    password: String,
}

async fn change_password(State(st): State<AppState>, a: Agent, Form(f): Form<PasswordForm>) -> WebResult {
    let (me, keep) = (a.person.clone(), a.token.clone());
    match blocking(&st.desk, move |d| d.change_password(&me, &f.current, &f.password, &keep)).await {
        Ok(()) => Ok(to("/settings/profile?done=password")),
        Err(e) => Err(refusal(&st, &a, e, tr!("My profile"), "settings", ("/settings/profile", tr!("Back to my profile")))),
    }
}
