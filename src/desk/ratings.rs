//! Satisfaction ratings: the resolved mail carries two signed links, good
//! and bad, made for each recipient as the portal link is; the page they
//! open shows the answer chosen with a box for a comment, and recording
//! takes that page's button (link scanners in mail systems open every link
//! of a mail, so a bare click must not decide). A bad rating tells the
//! assignee (or, unassigned, the department's agents).

use super::notify::Notice;
use super::{Desk, DeskError, Result};
use crate::domain::rating::{COMMENT_MAX, Rating, Score, clean_comment};
use crate::domain::{Event, PersonId, Status, Ticket, TicketId};

/// Stand for the recipient's own rating links in a rendered mail (filled
/// per recipient when the mail is built, like the portal link).
pub const RATE_GOOD_MARKER: &str = "[[frontdesk:rate-good]]";
pub const RATE_BAD_MARKER: &str = "[[frontdesk:rate-bad]]";

/// The message a rating link signs: ticket, the person and until when.
pub(crate) fn rating_claim(ticket: u64, person: u64, expires: i64) -> String {
    format!("rate:{ticket}:{person}:{expires}")
}

/// What the rating page shows.
pub struct RatingView {
    pub ticket: Ticket,
    pub rating: Option<Rating>,
}

impl Desk {
    /// A rendered mail's text for one recipient: their ticket link and
    /// rating links in place of the markers.
    pub fn personalize(&self, ticket: Option<TicketId>, recipient: &str, text: &str) -> String {
        let base = self.config().server.public_url.clone();
        let portal = ticket.map(|t| self.portal_link_for(t, recipient)).unwrap_or_else(|| base.clone());
        let mut out = text.replace(super::notify::PORTAL_LINK_MARKER, &portal);
        for (marker, score) in [(RATE_GOOD_MARKER, Score::Good), (RATE_BAD_MARKER, Score::Bad)] {
            if out.contains(marker) {
                let link = ticket.and_then(|t| self.rating_link_for(t, recipient, score)).unwrap_or_else(|| base.clone());
                out = out.replace(marker, &link);
            }
        }
        out
    }

    /// Whether a rendered mail has a marker to fill per recipient.
    pub fn is_personal(text: &str) -> bool {
        text.contains(super::notify::PORTAL_LINK_MARKER) || text.contains(RATE_GOOD_MARKER) || text.contains(RATE_BAD_MARKER)
    }

    /// The signed rating link for the requester (`None` for anyone else:
    /// the rating is theirs); it works `outgoing.rating_days` days.
    pub fn rating_link_for(&self, ticket: TicketId, email: &str, score: Score) -> Option<String> {
        let cfg = self.config();
        let r = self.store.read().ok()?;
        let t = r.ticket(ticket).ok()??;
        let p = r.person_by_email(&email.trim().to_lowercase()).ok()??;
        if p.id != t.requester {
            return None;
        }
        let expires = self.now().0 / 1000 + cfg.outgoing.rating_days as i64 * 86_400;
        let sig = self.sign(&rating_claim(ticket.0, p.id.0, expires)).ok()?;
        let base = cfg.server.public_url.trim_end_matches('/');
        Some(format!("{base}/t/{}/rate?p={}&e={expires}&s={sig}&r={}", self.reference(ticket), p.id, score.key()))
    }

    /// Checks a rating link: the ticket and its requester, who it acts as.
    fn rating_ticket(&self, id: TicketId, person: PersonId, expires: i64, sig: &str) -> Result<(Ticket, PersonId)> {
        let r = self.store.read()?;
        let t = r.ticket(id)?.ok_or(DeskError::NotFound)?;
        // Not for a ticket in Trash (gone for its customer, as in the portal).
        if r.trashed_at(id)?.is_some() {
            return Err(DeskError::NotFound);
        }
        if expires < self.now().0 / 1000 || !self.verify(&rating_claim(t.id.0, person.0, expires), sig) {
            return Err(DeskError::NotFound);
        }
        if person != t.requester {
            return Err(DeskError::NotFound);
        }
        Ok((t, person))
    }

    /// The ticket behind a rating link and its rating so far.
    pub fn rating_view(&self, id: TicketId, person: PersonId, (expires, sig): (i64, &str)) -> Result<RatingView> {
        let (ticket, _) = self.rating_ticket(id, person, expires, sig)?;
        let rating = self.store.read()?.rating(id)?;
        Ok(RatingView { ticket, rating })
    }

    /// Records the rating of a resolved (or closed) ticket through its link;
    /// a later answer replaces the earlier. The same answer again changes
    /// nothing.
    pub fn rate(&self, id: TicketId, person: PersonId, (expires, sig): (i64, &str), score: Score, comment: &str) -> Result<Rating> {
        let comment =
            clean_comment(comment).map_err(|_| DeskError::TooLarge { field: "comment", limit: format!("{COMMENT_MAX} characters") })?;
        let (t, who) = self.rating_ticket(id, person, expires, sig)?;
        if !matches!(t.status, Status::Resolved | Status::Closed) {
            return Err(DeskError::Conflict(crate::tr!("this ticket is open again; you can rate it once it is resolved").into()));
        }
        let now = self.now();
        self.store.write(|w| {
            let t = super::portal::live_ticket(w, id)?;
            if let Some(old) = w.rating(id)?
                && old.score == score
                && old.comment == comment
            {
                return Ok(old);
            }
            let author = w.person(who)?.ok_or(DeskError::NotFound)?;
            let rating = Rating { score, comment: comment.clone(), at: now, by: who };
            w.put_rating(id, &rating)?;
            let ev = Event::Rated { score: score.key().into(), comment };
            w.append_entry(&mut Self::event(id, Some(who), ev, now))?;
            if score == Score::Bad {
                self.notify(w, &t, Some(&author), Notice::BadRating { rating: &rating }, now)?;
            }
            Ok(rating)
        })
    }

    /// The ratings of these tickets (those that have one), in their order.
    pub fn ratings(&self, ids: &[TicketId]) -> Result<Vec<(TicketId, Rating)>> {
        let r = self.store.read()?;
        let mut out = Vec::new();
        for id in ids {
            if let Some(x) = r.rating(*id)? {
                out.push((*id, x));
            }
        }
        Ok(out)
    }

    /// A ticket's rating (agents' view and the API).
    pub fn rating(&self, id: TicketId) -> Result<Option<Rating>> {
        Ok(self.store.read()?.rating(id)?)
    }
}
