//! The request form of the help page: name, address, department (when the
//! desk has more than one), subject, description and files. What a refused
//! request typed stays in the form; a dropped one (a bot's) is answered as a
//! good one.

use axum::extract::{ConnectInfo, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::help::{customer_error, customer_page, expired};
use super::pre_token;
use crate::desk::DeskError;
use crate::desk::requests::{RequestOutcome, WebRequest};
use crate::tr;
use crate::web::ui;
use crate::web::{AppState, WebError, blocking};

/// The form, filled with `r` (empty for a new one).
pub fn request_form(st: &AppState, pre: &str, stamp: &str, r: &WebRequest, error: Option<&str>) -> Markup {
    let cfg = st.desk.config();
    let departments = &cfg.desk.departments;
    let max = cfg.limits.attachment_max_bytes;
    html! {
        form.form-grid.request method="post" enctype="multipart/form-data" action=(format!("/help/request?_csrf={pre}&stamp={stamp}")) {
            input type="hidden" name="_csrf" value=(pre);
            input type="hidden" name="stamp" value=(stamp);
            @if let Some(e) = error { (ui::notice("error", e)) }
            // People leave this empty; it is hidden from them and from screen readers.
            div.hp aria-hidden="true" {
                label { "Website" input type="text" name="website" tabindex="-1" autocomplete="off"; }
            }
            label { (tr!("Your name")) input type="text" name="name" value=(r.name) maxlength="200" autocomplete="name"; }
            label { (tr!("Your email address")) input type="email" name="email" value=(r.email) required autocomplete="email"; }
            @if !cfg.topic.is_empty() {
                (topic_inputs(&cfg, r))
            } @else if departments.len() > 1 {
                label { (tr!("Department"))
                    select name="department" {
                        @for d in departments { option value=(d) selected[*d == r.department] { (d) } }
                    }
                }
            }
            label { (tr!("Subject")) input #subject type="text" name="subject" value=(r.subject) required maxlength="300" data-suggest=[st.desk.has_public_articles().then_some("/help/suggest")] aria-describedby="suggestions"; }
            // Articles matching the subject as it is typed (help.js).
            div #suggestions .suggestions aria-live="polite" hidden {}
            label { (tr!("How can we help?")) textarea name="body" rows="6" required { (r.body) } }
            label { (tr!("Attach files")) " " span.muted { (tr!("(up to {size} each)", size = super::size(max))) }
                input type="file" name="files" multiple;
            }
            div.actions { button.primary type="submit" { (tr!("Send request")) } }
        }
    }
}

/// The help topics to choose from and each one's fields (`field.<topic
/// number>.<name>`; help.js shows the chosen topic's only).
fn topic_inputs(cfg: &crate::config::Config, r: &WebRequest) -> Markup {
    html! {
        label { (tr!("What is it about?"))
            select #topic name="topic" required {
                option value="" { (tr!("Choose…")) }
                @for t in &cfg.topic { option value=(t.name) selected[t.name.eq_ignore_ascii_case(&r.topic)] { (t.name) } }
            }
        }
        @for (i, t) in cfg.topic.iter().enumerate() {
            @let fields = cfg.topic_fields(t);
            @if !fields.is_empty() {
                fieldset.topic-fields data-topic=(t.name) {
                    legend { (tr!("For “{topic}”", topic = t.name)) }
                    (crate::web::ticket::fields::inputs_of(&fields, &format!("field.{i}."), |n| {
                        r.fields.iter().find(|(k, _)| k == n && t.name.eq_ignore_ascii_case(&r.topic)).and_then(|(_, v)| v.first()).map(String::as_str)
                    }))
                }
            }
        }
    }
}

/// The chosen topic's field values of a form's `field.<topic>.<name>` pairs.
pub(super) fn topic_fields(cfg: &crate::config::Config, topic: &str, pairs: &[(String, String)]) -> Vec<(String, Vec<String>)> {
    let Some(i) = cfg.topic.iter().position(|t| t.name.eq_ignore_ascii_case(topic.trim())) else { return Vec::new() };
    let prefix = format!("field.{i}.");
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for (k, v) in pairs {
        let Some(name) = k.strip_prefix(&prefix) else { continue };
        if v.trim().is_empty() {
            continue;
        }
        match out.iter_mut().find(|(n, _)| n == name) {
            Some((_, vs)) => vs.push(v.clone()),
            None => out.push((name.to_string(), vec![v.clone()])),
        }
    }
    out
}

/// Reads the form's fields and files.
pub(super) async fn read(st: &AppState, req: axum::extract::Request) -> Result<WebRequest, String> {
    let (fields, files) = crate::web::body::fields_and_files(st, req).await?;
    let mut r = WebRequest { files, ..Default::default() };
    let pairs = fields.clone();
    for (name, value) in fields {
        match name.as_str() {
            "name" => r.name = value,
            "email" => r.email = value,
            "department" => r.department = value,
            "subject" => r.subject = value,
            "body" => r.body = value,
            "website" => r.honeypot = value,
            "stamp" => r.stamp = value,
            "topic" => r.topic = value,
            _ => {}
        }
    }
    r.fields = topic_fields(&st.desk.config(), &r.topic, &pairs);
    Ok(r)
}

pub async fn submit(
    State(st): State<AppState>,
    ConnectInfo(addr): ConnectInfo<std::net::SocketAddr>,
    req: axum::extract::Request,
) -> Response {
    let headers = req.headers().clone();
    let r = match read(&st, req).await {
        Ok(r) => r,
        Err(why) => return WebError::new(StatusCode::BAD_REQUEST, tr!("The request could not be read"), &why).into_response(),
    };
    let ip = addr.ip().to_string();
    let kept = WebRequest { files: Vec::new(), ..r.clone() };
    // A customer signed in on the help page has proven their address.
    let signed_in = super::help::signed_in(&st, &headers);
    match blocking(&st.desk, move |d| d.submit_request(r, &ip, signed_in.as_ref())).await {
        Ok(RequestOutcome::Opened(id)) => {
            let reference = st.desk.reference(id);
            let body = html! {
                h1 { (tr!("Thank you")) }
                p { (tr!("Your request is ticket {reference}. We have sent a confirmation to {email}.", reference = reference, email = kept.email)) }
                p { a href="/help" { (tr!("Back")) } }
            };
            customer_page(&st, tr!("Thank you"), body, StatusCode::OK, None)
        }
        Ok(RequestOutcome::Confirm | RequestOutcome::Dropped) => {
            let body = html! {
                h1 { (tr!("Almost done")) }
                p { (tr!("We have mailed a link to {email}. Open it to send your request; it works for a day.", email = kept.email)) }
            };
            customer_page(&st, tr!("Almost done"), body, StatusCode::OK, None)
        }
        Err(DeskError::NotFound) => expired(&st),
        // Refused: the form again, everything typed kept, the reason said.
        Err(err @ (DeskError::Invalid { .. } | DeskError::TooLarge { .. } | DeskError::Conflict(_))) => {
            let status = match err {
                DeskError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
                DeskError::Conflict(_) => StatusCode::CONFLICT,
                _ => StatusCode::BAD_REQUEST,
            };
            let (pre, stamp) = match (pre_token(&headers), st.desk.request_stamp()) {
                (Ok(p), Ok(s)) => (p, s),
                (Err(e), _) => return e.into_response(),
                (_, Err(e)) => return WebError::from(e).into_response(),
            };
            let body = html! {
                h1 { (tr!("Help")) }
                (request_form(&st, &pre, &stamp, &kept, Some(&crate::web::error::desk_message(&err))))
            };
            customer_page(&st, tr!("Help"), body, status, Some(&pre))
        }
        Err(e) => WebError::from(e).into_response(),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ConfirmQuery {
    t: String,
}

/// The mailed link of a first request: it opens the ticket (once).
pub async fn confirm(State(st): State<AppState>, Query(q): Query<ConfirmQuery>) -> Response {
    let token = q.t.clone();
    match blocking(&st.desk, move |d| d.confirm_request(&token)).await {
        Ok(t) => {
            let body = html! {
                h1 { (tr!("Thank you")) }
                p { (tr!("Your request is ticket {reference}. We will answer by email.", reference = st.desk.reference(t.id))) }
            };
            customer_page(&st, tr!("Thank you"), body, StatusCode::OK, None)
        }
        Err(e) => customer_error(&st, e),
    }
}
