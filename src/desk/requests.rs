//! Requests from the help page's form: a ticket opened by a customer with
//! no mail client at hand. Against abuse, without CAPTCHAs that need the
//! internet: a hidden field people leave empty (a honeypot), a signed stamp
//! of when the form was drawn (bots answer faster than `portal.
//! min_fill_secs`), counts per client address (IPv6 by its /64) and per
//! address, and a mailed link that opens the request
//! (`portal.confirm_new_senders`) unless the sender is signed in on the help
//! page as that address — so no one opens tickets in another's name, the
//! answer never tells whether an address is known, and the desk mails no
//! one words they did not write. Dropped requests (honeypot, too fast, an
//! agent's or a banned address) get the same answer as good ones.

use super::notify::Notice;
use super::portal::stored_files;
use super::{Desk, DeskError, Result, invalid};
use crate::domain::people::normalize_email;
use crate::domain::workflow::NoticeKind;
use crate::domain::{Channel, EntryKind, Event, Status, ThreadEntry, Ticket, TicketId, Timestamp};
use crate::store::{PendingRequest, RequestDetails};

/// How long a form may stay open, and a confirmation link work.
const DAY_MS: i64 = 86_400_000;
/// Requests one address may send within the login window.
const PER_ADDRESS: u32 = 5;

/// A request as the form sent it.
#[derive(Debug, Clone, Default)]
pub struct WebRequest {
    pub name: String,
    pub email: String,
    pub subject: String,
    pub body: String,
    /// Empty: the desk's default department.
    pub department: String,
    /// (file name, content type, bytes).
    pub files: Vec<(String, String, Vec<u8>)>,
    /// The hidden field; people leave it empty.
    pub honeypot: String,
    /// The stamp the form was drawn with (`request_stamp`).
    pub stamp: String,
    /// The help topic (`[[topic]]`) chosen; needed when the desk has topics.
    pub topic: String,
    /// The topic's custom fields: name → the values sent.
    pub fields: Vec<(String, Vec<String>)>,
}

/// What became of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestOutcome {
    /// The ticket is open (the sender is signed in as the address, or
    /// confirmation is off).
    Opened(TicketId),
    /// A link to open it was mailed to the sender.
    Confirm,
    /// Taken for a bot, or from an address the form may not use: nothing
    /// done (answered like `Confirm`).
    Dropped,
}

/// The key a client address counts under: IPv6 by its /64 (one host's
/// many addresses), anything else as it is.
pub fn client_key(client: &str) -> String {
    match client.parse::<std::net::Ipv6Addr>() {
        Ok(v6) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        _ => client.to_string(),
    }
}

fn stamp_claim(ms: i64) -> String {
    format!("form:{ms}")
}

impl Desk {
    /// The stamp a request form is drawn with: when, signed.
    pub fn request_stamp(&self) -> Result<String> {
        let ms = self.now().0;
        Ok(format!("{ms}.{}", self.sign(&stamp_claim(ms))?))
    }

    /// Whether a form's stamp is ours and less than a day old (a read: the
    /// upload check before a request's body is accepted).
    pub fn request_stamp_fresh(&self, stamp: &str) -> bool {
        let (ms, sig) = stamp.split_once('.').unwrap_or(("", ""));
        let drawn: i64 = ms.parse().unwrap_or(0);
        self.signing_key().is_ok() && self.verify(&stamp_claim(drawn), sig) && self.now().0 - drawn <= DAY_MS
    }

    /// Whether a client may send a request now (a look: the upload check
    /// before a request's files are accepted).
    pub fn request_allowed(&self, client: &str) -> bool {
        self.attempts_left(&format!("request:ip:{}", client_key(client)), self.config().portal.requests_per_ip)
    }

    /// Takes a request from the form: opens its ticket (`signed_in`: the
    /// customer signed in on the help page, when they are), mails the link
    /// that opens it, or drops it.
    pub fn submit_request(&self, req: WebRequest, client: &str, signed_in: Option<&crate::domain::Person>) -> Result<RequestOutcome> {
        let cfg = self.config();
        if !cfg.portal.web_requests {
            return Err(DeskError::NotFound);
        }
        let now = self.now();
        if !self.request_stamp_fresh(&req.stamp) {
            return Err(invalid("form", crate::tr!("the form was too old; please send it again")));
        }
        let drawn: i64 = req.stamp.split_once('.').and_then(|(ms, _)| ms.parse().ok()).unwrap_or(0);
        self.count_attempt(&[(&format!("request:ip:{}", client_key(client)), cfg.portal.requests_per_ip)], now.0)?;
        if !req.honeypot.is_empty() || now.0 - drawn < cfg.portal.min_fill_secs as i64 * 1000 {
            return Ok(RequestOutcome::Dropped);
        }
        let email = normalize_email(&req.email)
            .ok_or_else(|| invalid("email", crate::tr!("{value} is not an email address", value = format!("{:?}", req.email))))?;
        self.count_attempt(&[(&format!("request:addr:{email}"), PER_ADDRESS)], now.0)?;
        let subject = self.check_subject(&req.subject)?;
        let body = self.check_body("body", &req.body, true)?;
        let (department, details) = self.request_topic(&req)?;
        self.check_files(&req.files)?;
        let name: String = req.name.trim().chars().take(200).collect();
        let pending = PendingRequest { name, email: email.clone(), subject, body, department, files: req.files, at: now };
        let pending = (pending, details);
        let r = self.store.read()?;
        let staff = r.person_by_email(&email)?.is_some_and(|p| p.is_staff());
        let refused = staff || r.is_banned(&email)?;
        drop(r);
        let proven = signed_in.is_some_and(|p| p.email.eq_ignore_ascii_case(&email));
        if !refused && (proven || !cfg.portal.confirm_new_senders || !self.can_mail_links()) {
            return self.open_request(pending).map(|t| RequestOutcome::Opened(t.id));
        }
        let token = super::auth::random_token()?;
        let url = format!("{}/help/confirm?t={token}", cfg.server.public_url.trim_end_matches('/'));
        let desk = cfg.desk.name.clone();
        let mail_subject = crate::tr!("{desk}: please confirm your request", desk = desk);
        // The sender's words stay out of this mail: it goes to an address no
        // one has proven yet.
        let text = crate::tr!(
            "Hello,\n\nsomeone asked {desk} for help from this address on our web page. To send the request, open:\n\n    {url}\n\nThe link works for a day. If it was not you, ignore this mail and nothing happens.\n",
            desk = desk,
            url = url
        );
        // An agent's or a banned address: the same work and answer, no mail
        // and nothing that could open.
        let token = if refused { format!("refused:{token}") } else { token };
        let sent = self.store.write(|w| {
            if !refused && !self.queue_notice(w, NoticeKind::RequestConfirm, &email, mail_subject.clone(), text.clone(), now)? {
                return Ok(false);
            }
            w.put_pending_request(&token, &pending.0, &pending.1, Timestamp(now.0 - DAY_MS))?;
            Ok::<bool, DeskError>(true)
        })?;
        match (sent, refused) {
            (false, _) => Err(DeskError::Conflict(
                crate::tr!("a link to confirm a request went to this address less than a minute ago; please wait a minute and send again")
                    .into(),
            )),
            (true, true) => Ok(RequestOutcome::Dropped),
            (true, false) => Ok(RequestOutcome::Confirm),
        }
    }

    /// A request's department and what its help topic adds: with topics,
    /// the chosen one's department, category and fields (each value checked
    /// now, so a refusal keeps the form); without, the department chosen.
    fn request_topic(&self, req: &WebRequest) -> Result<(String, RequestDetails)> {
        let cfg = self.config();
        if cfg.topic.is_empty() {
            let department = if req.department.trim().is_empty() { cfg.desk.default_department.clone() } else { req.department.clone() };
            return Ok((self.check_department(&department)?, RequestDetails::default()));
        }
        let topic = cfg.topic(&req.topic).ok_or_else(|| invalid("topic", crate::tr!("Choose what your request is about.")))?;
        let department = cfg.topic_department(topic).to_string();
        let asked: Vec<(String, Vec<String>)> =
            req.fields.iter().filter(|(n, v)| topic.fields.iter().any(|f| f.eq_ignore_ascii_case(n)) && !v.is_empty()).cloned().collect();
        // The values are checked now as the ticket will take them.
        for (name, values) in &asked {
            let Some(f) = cfg.field(name) else { continue };
            let values: Vec<&str> = values.iter().map(String::as_str).collect();
            crate::domain::fields::canonical(f.kind, &f.options, &values).map_err(|e| invalid("fields", format!("{}: {e}", f.label())))?;
        }
        Ok((department, RequestDetails { category: topic.category.clone(), fields: asked }))
    }

    /// Opens the request a mailed link stands for (once, within a day).
    pub fn confirm_request(&self, token: &str) -> Result<Ticket> {
        if token.len() > 200 {
            return Err(DeskError::NotFound);
        }
        let now = self.now();
        if token.starts_with("refused:") {
            return Err(DeskError::NotFound);
        }
        let pending = self.store.write(|w| w.take_pending_request(token).map_err(DeskError::from))?;
        match pending {
            Some(p) if now.0 - p.0.at.0 <= DAY_MS => self.open_request(p),
            _ => Err(DeskError::NotFound),
        }
    }

    /// The ticket of a request: its sender the requester, their words and
    /// files the first message, acknowledged as mail is.
    fn open_request(&self, (p, details): (PendingRequest, RequestDetails)) -> Result<Ticket> {
        let now = self.now();
        let cfg = self.config();
        self.store.write(|w| {
            let requester = Self::requester_in(w, &p.email, &p.name, now)?;
            let mut t = Ticket {
                id: TicketId(w.next_id("ticket")?),
                subject: p.subject.clone(),
                requester: requester.id,
                channel: Channel::Web,
                status: Status::Open,
                priority: cfg.default_priority(),
                category: if details.category.is_empty() { cfg.desk.default_category.clone() } else { details.category.clone() },
                department: p.department.clone(),
                assignee: None,
                due: None,
                tags: Vec::new(),
                created_at: now,
                updated_at: now,
                team: None,
                custom_status: None,
                mailbox: None,
                fields: Vec::new(),
            };
            // Fields a reload changed since the request was sent are left
            // out (logged): the request itself is never lost to them.
            let fields: Vec<(String, Vec<String>)> = details
                .fields
                .iter()
                .filter(|(name, values)| {
                    let values: Vec<&str> = values.iter().map(String::as_str).collect();
                    let ok = cfg.field(name).is_some_and(|f| {
                        f.applies_to(&t.department) && crate::domain::fields::canonical(f.kind, &f.options, &values).is_ok()
                    });
                    if !ok {
                        tracing::warn!("a confirmed request's field {name:?} no longer applies; left out");
                    }
                    ok
                })
                .cloned()
                .collect();
            self.apply_fields(&mut t, &fields)?;
            w.put_ticket(None, &t)?;
            let created = Event::Created { channel: Channel::Web.label().into() };
            w.append_entry(&mut Self::event(t.id, Some(requester.id), created, now))?;
            let mut first = ThreadEntry {
                ticket: t.id,
                seq: 0,
                kind: EntryKind::Reply,
                author: Some(requester.id),
                body: p.body.clone(),
                event: None,
                attachments: stored_files(w, &p.files)?,
                created_at: now,
            };
            w.append_entry(&mut first)?;
            self.notify(w, &t, Some(&requester), Notice::NewTicket { ack: true }, now)?;
            Ok(t)
        })
    }
}
