//! The help page for customers (`/help`): "see my tickets" mails a sign-in
//! link (no password; the same answer for any address), the link opens a
//! session listing their tickets, and each ticket opens through its own
//! signed link. Customers' pages never link into the agents' side.

use axum::Form;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::pre_token;
use crate::desk::DeskError;
use crate::domain::PersonId;
use crate::tr;
use crate::web::ui;
use crate::web::{AppState, PRE_COOKIE, WebError, blocking, cookie, set_cookie};

/// The customer's session cookie.
pub const CUSTOMER_COOKIE: &str = "fd_customer";

/// A customer page: the desk's name above `body`, with `status`, the form
/// token cookie set when the page has a form.
pub(super) fn customer_page(st: &AppState, title: &str, body: Markup, status: StatusCode, pre: Option<&str>) -> Response {
    let page = ui::customer_card_page(title, &st.desk.config().desk.name, html! { div.card.portal { (brand(st)) (body) } });
    match pre {
        Some(pre) => (status, [(header::SET_COOKIE, set_cookie(&st.desk, PRE_COOKIE, pre, 3600))], page).into_response(),
        None => (status, page).into_response(),
    }
}

/// The desk's name with its logo (`portal.logo_file`) or its initials.
fn brand(st: &AppState) -> Markup {
    let cfg = st.desk.config();
    html! {
        div.brand.big {
            @if cfg.portal.logo_file.is_empty() { span.logo { "fd" } } @else { img.logo-img src="/help/logo" alt=""; }
            span { (cfg.desk.name) }
        }
    }
}

/// `GET /help/brand.css`: the accent colour of `portal.accent_colour`.
pub async fn brand_css(State(st): State<AppState>) -> Response {
    let css = match crate::config::parse_colour(&st.desk.config().portal.accent_colour) {
        Some(c) => {
            let hex = c.trim_start_matches('#');
            let full: String = if hex.len() == 3 { hex.chars().flat_map(|c| [c, c]).collect() } else { hex.to_string() };
            let channel = |i: usize| full.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()).unwrap_or(0);
            let soft = |v: u8| 255 - (255 - v as u16) / 10;
            format!(
                ":root {{ --accent: #{full}; --accent-soft: rgb({}, {}, {}); }}\n",
                soft(channel(0)),
                soft(channel(2)),
                soft(channel(4))
            )
        }
        None => String::new(),
    };
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=300")], css).into_response()
}

/// `GET /help/logo`: the file of `portal.logo_file`.
pub async fn logo(State(st): State<AppState>) -> Response {
    let path = st.desk.config().portal.logo_file.clone();
    let Some(ctype) = crate::config::logo_type(&path) else { return WebError::not_found().into_response() };
    match tokio::fs::read(&path).await {
        Ok(data) if data.len() <= 512 * 1024 => (
            [
                (header::CONTENT_TYPE, ctype),
                (header::CACHE_CONTROL, "public, max-age=300"),
                (header::CONTENT_SECURITY_POLICY, "default-src 'none'; style-src 'unsafe-inline'; sandbox"),
            ],
            data,
        )
            .into_response(),
        _ => WebError::not_found().into_response(),
    }
}

/// The "mail me a link" form.
fn link_form(pre: &str, email: &str) -> Markup {
    html! {
        form.form-grid method="post" action="/help/link" {
            input type="hidden" name="_csrf" value=(pre);
            label { (tr!("Your email address")) input type="email" name="email" value=(email) required autocomplete="email"; }
            label { (tr!("Ticket number (optional)")) input type="text" name="reference" placeholder="TKT-000123" autocomplete="off"; }
            div.actions { button.primary type="submit" { (tr!("Mail me a link to my tickets")) } }
        }
    }
}

pub async fn home(State(st): State<AppState>, headers: HeaderMap) -> Response {
    let me = signed_in(&st, &headers);
    if me.is_some() && !st.desk.config().portal.web_requests {
        return Redirect::to("/help/tickets").into_response();
    }
    let pre = match pre_token(&headers) {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    let stamp = match st.desk.request_stamp() {
        Ok(s) => s,
        Err(e) => return WebError::from(e).into_response(),
    };
    let web_requests = st.desk.config().portal.web_requests;
    let welcome = st.desk.config().portal.welcome.clone();
    let body = html! {
        h1 { (tr!("Help")) }
        @if !welcome.trim().is_empty() {
            // The desk's own words (Markdown, cleaned like an article).
            div.welcome.kb-text { (maud::PreEscaped(crate::domain::markdown::to_html(&welcome, "/help"))) }
        }
        @if st.desk.has_public_articles() {
            // Answers first: the articles, searched or browsed.
            (super::kb::search_form(""))
            p { a href="/help/kb" { (tr!("Browse all articles")) } }
        }
        @if let Some(me) = &me {
            // Signed in: the form knows who they are; their list is a click away.
            p { a href="/help/tickets" { (tr!("Your tickets")) } }
            @let mine = crate::desk::requests::WebRequest { name: me.name.clone(), email: me.email.clone(), ..Default::default() };
            (super::request::request_form(&st, &pre, &stamp, &mine, None))
        } @else if web_requests {
            p { (tr!("Tell us what you need, here or by email; we answer by email.")) }
            (super::request::request_form(&st, &pre, &stamp, &Default::default(), None))
            h2 { (tr!("Your tickets")) }
            p { (tr!("To see your tickets and their answers, have a link mailed to you: no password needed.")) }
            (link_form(&pre, ""))
        } @else {
            p { (tr!("To ask us something, write to us by email. To see your tickets and their answers, have a link mailed to you: no password needed.")) }
            (link_form(&pre, ""))
        }
    };
    customer_page(&st, tr!("Help"), body, StatusCode::OK, Some(&pre))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LinkForm {
    email: String,
    reference: String,
}

pub async fn request_link(
    State(st): State<AppState>,
    ConnectInfo(addr): ConnectInfo<std::net::SocketAddr>,
    Form(f): Form<LinkForm>,
) -> Response {
    let ip = addr.ip().to_string();
    match blocking(&st.desk, move |d| d.count_portal_request(&ip)).await {
        Ok(()) => {
            // The rest (a read, perhaps a signed link and a mail) runs apart:
            // how long this answer takes says nothing about the address.
            let (desk, lang) = (st.desk.clone(), crate::i18n::current());
            tokio::task::spawn_blocking(move || {
                if let Err(e) = crate::i18n::with_lang(lang, || desk.send_portal_link(&f.email, &f.reference)) {
                    tracing::warn!("help page sign-in link not sent: {e}");
                }
            });
            let body = html! {
                h1 { (tr!("Check your mail")) }
                p { (tr!("If that address has tickets with us, a link to them is on its way. It works for {minutes} minutes.", minutes = st.desk.config().portal.link_minutes)) }
                p { a href="/help" { (tr!("Back")) } }
            };
            customer_page(&st, tr!("Check your mail"), body, StatusCode::OK, None)
        }
        Err(e) => WebError::from(e).into_response(),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SignInLink {
    p: u64,
    e: i64,
    s: String,
}

/// `GET /help/in`: the mailed link's page. Opening it uses nothing (mail
/// link scanners open every link); its button signs in.
pub async fn sign_in_page(State(st): State<AppState>, headers: HeaderMap, Query(q): Query<SignInLink>) -> Response {
    if !st.desk.sign_in_link_valid(PersonId(q.p), q.e, &q.s) {
        return expired(&st);
    }
    let pre = match pre_token(&headers) {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    let body = html! {
        h1 { (tr!("Your tickets")) }
        form method="post" action="/help/in" {
            input type="hidden" name="_csrf" value=(pre);
            input type="hidden" name="p" value=(q.p);
            input type="hidden" name="e" value=(q.e);
            input type="hidden" name="s" value=(q.s);
            button.primary type="submit" { (tr!("Show my tickets")) }
        }
    };
    customer_page(&st, tr!("Your tickets"), body, StatusCode::OK, Some(&pre))
}

/// `POST /help/in`: uses the link (once) and signs in.
pub async fn sign_in(State(st): State<AppState>, Form(q): Form<SignInLink>) -> Response {
    let desk = st.desk.clone();
    match blocking(&desk, move |d| d.customer_sign_in(PersonId(q.p), q.e, &q.s)).await {
        Ok((value, max_age)) => {
            let mut res = Redirect::to("/help/tickets").into_response();
            if let Ok(v) = set_cookie(&st.desk, CUSTOMER_COOKIE, &value, max_age).parse() {
                res.headers_mut().insert(header::SET_COOKIE, v);
            }
            res
        }
        Err(e) => customer_error(&st, e),
    }
}

/// The customer signed in by this request's cookie, if any.
pub(super) fn signed_in(st: &AppState, headers: &HeaderMap) -> Option<crate::domain::Person> {
    cookie(headers, CUSTOMER_COOKIE).and_then(|c| st.desk.customer_of(c))
}

pub async fn tickets(State(st): State<AppState>, headers: HeaderMap) -> Response {
    let Some(who) = signed_in(&st, &headers) else { return Redirect::to("/help").into_response() };
    let list = match st.desk.customer_tickets(&who) {
        Ok(l) => l,
        Err(e) => return WebError::from(e).into_response(),
    };
    let pre = match pre_token(&headers) {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    let cfg = st.desk.config();
    let body = html! {
        h1 { (tr!("Your tickets")) }
        p.muted { (who.email) }
        @if cfg.portal.web_requests { p { a.button.primary href="/help" { (tr!("New request")) } } }
        @if list.is_empty() {
            p { (tr!("You have no tickets with us yet. Write to us by email to open one.")) }
        } @else {
            div.scroll-x tabindex="0" role="region" aria-label=(tr!("Your tickets")) {
                table.tickets {
                    thead { tr { th { (tr!("Ticket")) } th { (tr!("Subject")) } th { (tr!("Status")) } th.hide-sm { (tr!("Updated")) } } }
                    tbody {
                        @for c in &list {
                            @let t = &c.ticket;
                            tr {
                                td.ref { (st.desk.reference(t.id)) }
                                td.subject {
                                    a href=(c.path) { (t.subject) }
                                    @if let Some(from) = &c.from { " " span.muted { (tr!("from {name}", name = from)) } }
                                }
                                td { (ui::customer_status(&cfg, t)) }
                                td.hide-sm.nowrap { (ui::when_at(t.updated_at)) }
                            }
                        }
                    }
                }
            }
        }
        form method="post" action="/help/out" {
            input type="hidden" name="_csrf" value=(pre);
            button.linkish type="submit" { (tr!("Sign out")) }
        }
    };
    customer_page(&st, tr!("Your tickets"), body, StatusCode::OK, Some(&pre))
}

pub async fn sign_out(State(st): State<AppState>, headers: HeaderMap) -> Response {
    // Every browser's session of this customer ends, not only this cookie.
    if let Some(who) = signed_in(&st, &headers)
        && let Err(e) = blocking(&st.desk, move |d| d.customer_sign_out(&who)).await
    {
        return WebError::from(e).into_response();
    }
    let mut res = Redirect::to("/help").into_response();
    if let Ok(v) = set_cookie(&st.desk, CUSTOMER_COOKIE, "", 0).parse() {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

/// A desk refusal on a customer's page: a link that no longer works (or
/// never did) gets `expired`, anything else the usual error page.
pub fn customer_error(st: &AppState, e: DeskError) -> Response {
    match e {
        DeskError::NotFound => expired(st),
        e => WebError::from(e).into_response(),
    }
}

/// A customer's link that no longer works: said to them, with the way to a
/// fresh one (no agents' links).
pub fn expired(st: &AppState) -> Response {
    let body = html! {
        h1 { (tr!("This link is not valid any more")) }
        p { (tr!("Links to a ticket work for a few days. Reply to any of our emails about it and the next answer brings a fresh link.")) }
        p { a.button.primary href="/help" { (tr!("Mail me a fresh link")) } }
    };
    customer_page(st, tr!("This link is not valid any more"), body, StatusCode::NOT_FOUND, None)
}
