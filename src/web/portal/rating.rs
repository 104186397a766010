//! The satisfaction rating page, opened from the good or bad link of the
//! resolved mail: the answer the link chose, a box for a comment, and the
//! button that records them (a link scanner opening the link decides
//! nothing). No login; the signed link is the key.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;

use super::help::{customer_error, expired};
use super::pre_token;
use crate::desk::DeskError;
use crate::domain::PersonId;
use crate::domain::rating::{COMMENT_MAX, Score};
use crate::tr;
use crate::web::ui;
use crate::web::{AppState, WebError, blocking};

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RateForm {
    p: u64,
    e: i64,
    s: String,
    /// The answer: from the link (`r`) or the page's choice (`score`).
    r: String,
    score: String,
    comment: String,
}

/// What the page says above the form.
enum Said {
    Nothing,
    Thanks,
    Refused(String),
}

pub async fn page(State(st): State<AppState>, headers: HeaderMap, Path(reference): Path<String>, Query(q): Query<RateForm>) -> Response {
    let Some(id) = st.desk.parse_reference(&reference) else { return expired(&st) };
    let choice = Score::parse(&q.r);
    draw(&st, &headers, id, &q, choice, None, Said::Nothing, StatusCode::OK)
}

pub async fn rate(State(st): State<AppState>, headers: HeaderMap, Path(reference): Path<String>, Form(f): Form<RateForm>) -> Response {
    let Some(id) = st.desk.parse_reference(&reference) else { return expired(&st) };
    let Some(score) = Score::parse(&f.score) else {
        let said = Said::Refused(tr!("Please choose good or bad.").into());
        return draw(&st, &headers, id, &f, None, Some(&f.comment), said, StatusCode::BAD_REQUEST);
    };
    let (p, e, s, comment) = (PersonId(f.p), f.e, f.s.clone(), f.comment.clone());
    match blocking(&st.desk, move |d| d.rate(id, p, (e, &s), score, &comment)).await {
        Ok(_) => draw(&st, &headers, id, &f, Some(score), None, Said::Thanks, StatusCode::OK),
        Err(DeskError::NotFound) => expired(&st),
        Err(err @ (DeskError::TooLarge { .. } | DeskError::Conflict(_))) => {
            let status = if matches!(err, DeskError::TooLarge { .. }) { StatusCode::PAYLOAD_TOO_LARGE } else { StatusCode::CONFLICT };
            let said = Said::Refused(crate::web::error::desk_message(&err));
            draw(&st, &headers, id, &f, Some(score), Some(&f.comment), said, status)
        }
        Err(e) => WebError::from(e).into_response(),
    }
}

/// The page: the ticket, what was said, the choice and the comment box.
#[allow(clippy::too_many_arguments)]
fn draw(
    st: &AppState,
    headers: &HeaderMap,
    id: crate::domain::TicketId,
    q: &RateForm,
    choice: Option<Score>,
    comment: Option<&str>,
    said: Said,
    status: StatusCode,
) -> Response {
    let view = match st.desk.rating_view(id, PersonId(q.p), (q.e, &q.s)) {
        Ok(v) => v,
        Err(e) => return customer_error(st, e),
    };
    let pre = match pre_token(headers) {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    let r = st.desk.reference(id);
    let chosen = choice.or(view.rating.as_ref().map(|x| x.score));
    let comment = comment.map(str::to_string).or_else(|| view.rating.as_ref().map(|x| x.comment.clone())).unwrap_or_default();
    let s: String = q.s.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    let body = html! {
        p.muted { (tr!("Ticket {reference}", reference = r)) }
        h1 { (view.ticket.subject) }
        @match &said {
            Said::Thanks => (ui::notice("ok", tr!("Thank you, your rating was recorded. You can change it here while the link works."))),
            Said::Refused(why) => (ui::notice("error", why)),
            Said::Nothing => @if let Some(old) = &view.rating {
                (ui::notice("ok", &tr!("You rated this {score}.", score = crate::i18n::dynamic(old.score.label()))))
            },
        }
        form.card.form-grid method="post" action=(format!("/t/{r}/rate")) {
            input type="hidden" name="_csrf" value=(pre);
            input type="hidden" name="p" value=(q.p);
            input type="hidden" name="e" value=(q.e);
            input type="hidden" name="s" value=(s);
            fieldset.rating-choice {
                legend { (tr!("How did we do?")) }
                @for score in Score::ALL {
                    label {
                        input type="radio" name="score" value=(score.key()) checked[chosen == Some(score)] required;
                        " " (crate::i18n::dynamic(score.label()))
                    }
                }
            }
            label { (tr!("Anything you want to tell us? (optional)"))
                textarea name="comment" rows="4" maxlength=(COMMENT_MAX) { (comment) }
            }
            div.actions { button.primary type="submit" { (tr!("Send rating")) } }
        }
    };
    super::help::customer_page(st, &tr!("Rate ticket {reference}", reference = r), body, status, Some(&pre))
}
