//! API tokens in the UI: each agent's own on their settings page (made with
//! scopes, expiry and an address allow-list, shown once; their last use;
//! revoked), and every token of the desk on the admins' Tokens page.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use maud::{Markup, html};

use crate::desk::tokens::{TokenInfo, TokenSpec, parse_expiry};
use crate::domain::Person;
use crate::domain::access::Scope;
use crate::tr;
use crate::web::pages::{field, fields, frame, refusal, to, with_code, with_markup};
use crate::web::ui::{self, csrf_field, page};
use crate::web::{Admin, Agent, AppState, WebResult, blocking};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/settings/tokens", post(create))
        .route("/settings/tokens/{id}/revoke", post(revoke_own))
        .route("/admin/tokens", get(all_page))
        .route("/admin/tokens/{id}/revoke", post(revoke_any))
}

/// One token's line: name, id, scopes, limits, last use.
fn token_row(t: &TokenInfo, show_owner: bool, revoke_to: &str, csrf: &str) -> Markup {
    let r = &t.token;
    html! {
        div.card.canned-item {
            strong { (r.name) } " " span.muted { code { (t.id) } @if show_owner { " · " (t.email) } }
            div.muted {
                @for s in &r.scopes { span.badge { (s.key()) } " " }
                " · " (tr!("expires {when}", when = r.expires_at.map(crate::web::ui::when).unwrap_or_else(|| tr!("never").into())))
                " · " (tr!("from {addresses}", addresses = if r.allowed_ips.is_empty() { tr!("any address").to_string() } else { r.allowed_ips.join(", ") }))
                " · " (tr!("last used {when}", when = r.last_used.map(crate::web::ui::when).unwrap_or_else(|| tr!("never").into())))
                " · " (with_markup(tr!("created {when}"), &[("when", crate::web::ui::when_at(r.created_at))]))
            }
            form.inline method="post" action=(revoke_to) {
                (csrf_field(csrf))
                button.linkish type="submit" { (tr!("Revoke")) }
            }
        }
    }
}

/// The settings page's section: the agent's tokens and a form for a new one.
pub fn own_section(me: &Person, tokens: &[TokenInfo], csrf: &str) -> Markup {
    html! {
        h2 #tokens { (tr!("My API tokens")) }
        p.muted { (with_code(tr!("For scripts and integrations ({header} on {path}). A token never does more than you may do here. A password reset or deactivation revokes them all."), &[("header", "Authorization: Bearer …"), ("path", "/api/v1")])) }
        @if tokens.is_empty() { p.muted { (tr!("None.")) } }
        @for t in tokens { (token_row(t, false, &format!("/settings/tokens/{}/revoke", t.id), csrf)) }
        form.card.form-grid method="post" action="/settings/tokens" {
            (csrf_field(csrf))
            label { (tr!("Name")) input type="text" name="name" required maxlength="80" placeholder=(tr!("e.g. monitoring script")); }
            fieldset { legend { (tr!("Scopes")) }
                @for s in Scope::ALL {
                    @if s != Scope::Admin || me.is_admin() {
                        label.check { input type="checkbox" name="scope" value=(s.key()) checked[TokenSpec::DEFAULT_SCOPES.contains(&s)]; " " code { (s.key()) } }
                    }
                }
            }
            div.row {
                label { (tr!("Expires (YYYY-MM-DD or 90d; empty = never)")) input type="text" name="expires" maxlength="20"; }
                label { (tr!("Allowed addresses (CIDR, comma-separated; empty = any)")) input type="text" name="allowed_ips" maxlength="500"; }
            }
            div.actions { button type="submit" { (tr!("Create token")) } }
        }
    }
}

/// `POST /settings/tokens`: makes a token for the agent and shows it once.
async fn create(State(st): State<AppState>, a: Agent, body: Bytes) -> WebResult {
    let f = fields(&body);
    let scopes: Vec<Scope> = f.iter().filter(|(k, _)| k == "scope").filter_map(|(_, v)| Scope::parse(v)).collect();
    let name = field(&f, "name").to_string();
    let expires = field(&f, "expires").to_string();
    let ips: Vec<String> = field(&f, "allowed_ips").split([',', ' ']).map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect();
    let actor = a.person.clone();
    let made = blocking(&st.desk, move |d| {
        let spec = TokenSpec { name, scopes, expires_at: parse_expiry(&expires, d.now())?, allowed_ips: ips };
        d.create_api_token(Some(&actor), &actor.email, spec)
    })
    .await;
    let token = match made {
        Ok(t) => t,
        Err(e) => return Err(refusal(&st, &a, e, tr!("API token"), "settings", ("/settings#tokens", tr!("Back to my settings")))),
    };
    let body = html! {
        div.narrow-page {
            h1 { (tr!("Your new API token")) }
            (ui::notice("ok", tr!("Copy it now: it is shown only this once (the desk keeps only its hash).")))
            pre.token-once { code { (token) } }
            p { a href="/settings#tokens" { (tr!("Back to my settings")) } }
        }
    };
    Ok(page(&frame(&st, &a, tr!("API token").into(), "settings"), body).into_response())
}

async fn revoke_own(State(st): State<AppState>, a: Agent, Path(id): Path<String>) -> WebResult {
    // Only their own, even for an admin (the admins' page revokes any).
    let me_only = crate::domain::Person { role: crate::domain::Role::Agent, ..a.person.clone() };
    match blocking(&st.desk, move |d| d.revoke_api_token(Some(&me_only), &id)).await {
        Ok(()) => Ok(to("/settings?done=revoked#tokens")),
        Err(e) => Err(e.into()),
    }
}

/// `GET /admin/tokens`: every token of the desk.
async fn all_page(State(st): State<AppState>, Admin(a): Admin) -> WebResult {
    let tokens = st.desk.api_tokens(Some(&a.person))?;
    let body = html! {
        div.narrow-page.wide-ok {
            (super::audit::admin_nav("/admin/tokens"))
            h1 { (tr!("API tokens")) }
            p.muted { (with_code(tr!("Every agent's tokens. Agents make their own under My settings; {command} makes them from the command line."), &[("command", "frontdesk token create")])) }
            @if tokens.is_empty() { p.muted { (tr!("None.")) } }
            @for t in &tokens { (token_row(t, true, &format!("/admin/tokens/{}/revoke", t.id), &a.csrf)) }
        }
    };
    Ok(page(&frame(&st, &a, tr!("API tokens").into(), "admin"), body).into_response())
}

async fn revoke_any(State(st): State<AppState>, Admin(a): Admin, Path(id): Path<String>) -> WebResult {
    let actor = a.person.clone();
    match blocking(&st.desk, move |d| d.revoke_api_token(Some(&actor), &id)).await {
        Ok(()) => Ok(to("/admin/tokens")),
        Err(e) => Err(e.into()),
    }
}
