//! The page for a form that came back without a valid security token (the
//! session ended, or the page was old): it says what happened and keeps
//! what the agent wrote (the `body` field of a reply, note or new ticket,
//! from a plain or a multipart form), with a way to sign in and go back.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::html;

use super::guard::form_urlencoded_field;
use super::ui;
use crate::tr;

/// Most text kept on the page (a reply is far shorter).
const MAX_KEPT: usize = 1 << 20;

/// The `body` field of a refused form, if it has one.
async fn kept_text(content_type: &str, bytes: &Bytes) -> Option<String> {
    let text = if content_type.starts_with("multipart/form-data") {
        let req = Request::builder().header(header::CONTENT_TYPE, content_type).body(Body::from(bytes.clone())).ok()?;
        let mut form = Multipart::from_request(req, &()).await.ok()?;
        let mut found = None;
        while let Ok(Some(field)) = form.next_field().await {
            if field.name() == Some("body") {
                found = field.text().await.ok();
                break;
            }
        }
        found?
    } else {
        form_urlencoded_field(bytes, "body")?
    };
    (!text.trim().is_empty() && text.len() <= MAX_KEPT).then_some(text)
}

/// Where to go back to: the ticket a reply was for, else the queue.
fn back_to(path: &str) -> String {
    let mut parts = path.trim_start_matches('/').split('/');
    match (parts.next(), parts.next()) {
        (Some("tickets"), Some(r)) if !r.is_empty() && r != "new" && r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') => {
            format!("/tickets/{r}")
        }
        (Some("tickets"), Some("new")) => "/tickets/new".into(),
        _ => "/tickets".into(),
    }
}

/// The 403 answer to a form without a valid token.
pub async fn page(desk_name: &str, path: &str, content_type: &str, bytes: &Bytes) -> Response {
    let kept = kept_text(content_type, bytes).await;
    let back = back_to(path);
    let login = format!("/login?next={}", percent_encoding::utf8_percent_encode(&back, percent_encoding::NON_ALPHANUMERIC));
    let body = html! {
        div.card.narrow {
            p.muted { (tr!("Error {status}", status = 403)) }
            h1 { (tr!("This form has expired")) }
            p { (tr!("It was sent without a valid security token: you were signed out (the session ended), or the page was open from before. Nothing was saved or sent.")) }
            @if let Some(text) = &kept {
                p { (tr!("Your text is kept here, and in this browser for the page it came from: copy it if you like, then sign in again — the ticket gives it back in its reply box.")) }
                textarea.kept readonly rows="10" aria-label=(tr!("Your text")) { (text) }
            }
            p { a.button.primary href=(login) { (tr!("Sign in and go back")) } " " a href=(back) { (tr!("Go back")) } }
        }
    };
    (StatusCode::FORBIDDEN, ui::card_page(tr!("This form has expired"), desk_name, body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_text_of_either_kind_of_form_is_kept() {
        let plain = Bytes::from_static(b"_csrf=x&body=Hello+there%21&status=");
        assert_eq!(kept_text("application/x-www-form-urlencoded", &plain).await.as_deref(), Some("Hello there!"));
        let multi = Bytes::from_static(
            b"--XX\r\nContent-Disposition: form-data; name=\"seen\"\r\n\r\n4\r\n--XX\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\nLine 1\r\nLine 2\r\n--XX--\r\n",
        );
        assert_eq!(kept_text("multipart/form-data; boundary=XX", &multi).await.as_deref(), Some("Line 1\r\nLine 2"));
        assert_eq!(kept_text("multipart/form-data; boundary=XX", &Bytes::from_static(b"garbage")).await, None);
        assert_eq!(back_to("/tickets/TKT-000004/reply"), "/tickets/TKT-000004");
        assert_eq!(back_to("/tickets/%2F%2Fevil/reply"), "/tickets");
        assert_eq!(back_to("/settings"), "/tickets");
    }
}
