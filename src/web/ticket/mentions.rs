//! @mentions on the ticket page: a note's text with each mention of an
//! agent as a link to their queue (and web addresses as links), and the agents the reply box offers
//! when an agent types `@`.

use maud::{Markup, html};

use crate::domain::{Person, mentions};

/// A note's text, mentions linked.
pub fn note_text(body: &str, agents: &[Person]) -> Markup {
    let mut parts: Vec<(String, Option<&Person>)> = Vec::new();
    let mut at = 0;
    for (start, end, handle) in mentions::spans(body) {
        let Some(p) = mentions::resolve(&handle, agents) else { continue };
        parts.push((body.get(at..start).unwrap_or("").to_string(), None));
        parts.push((body.get(start..end).unwrap_or("").to_string(), Some(p)));
        at = end;
    }
    parts.push((body.get(at..).unwrap_or("").to_string(), None));
    html! {
        div.textbody {
            @for (text, who) in &parts {
                @match who {
                    Some(p) => a.mention href=(format!("/tickets?assignee={}", p.id)) title=(p.display()) { (text) },
                    None => (crate::web::ui::links::linked(text)),
                }
            }
        }
    }
}

/// `handle|name` of each active agent, one per line, for the reply box.
pub fn offered(agents: &[Person]) -> String {
    agents
        .iter()
        .filter(|p| p.active)
        .map(|p| format!("{}|{}", p.email.split('@').next().unwrap_or(""), p.display()))
        .collect::<Vec<_>>()
        .join("\n")
}
