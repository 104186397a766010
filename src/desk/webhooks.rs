//! Webhooks on the desk's side: the pre-commit hook that turns what a
//! write transaction appended into queued deliveries (so a delivery exists
//! exactly when its change committed), the delivery worker's reads and
//! records (retry with back-off for a day, then give up, logged), and the
//! admin's view. The HTTP side is `web::webhooks`.

use serde_json::{Value, json};

use super::{Desk, DeskError, Result};
use crate::config::{Config, WebhookConfig};
use crate::domain::webhook::WebhookEvent;
use crate::domain::{DeliveryId, Person, PersonId, ThreadEntry, Ticket, TicketRef, Timestamp};
use crate::store::webhooks::{Delivery, DeliveryLog};
use crate::store::{Appended, Write};

/// Longest entry text a delivery carries.
const BODY_MAX: usize = 64 * 1024;
/// A failing delivery is retried for this long, then given up.
const GIVE_UP_MS: i64 = 86_400_000;

fn person_json(p: Option<Person>) -> Value {
    p.map(|p| json!({ "name": p.name, "email": p.email })).unwrap_or(Value::Null)
}

fn ticket_json(cfg: &Config, w: &Write, t: &Ticket, now: Timestamp) -> crate::store::Result<Value> {
    let reference = TicketRef(t.id.0).format(&cfg.desk.reference_prefix);
    let sla = w.clocks(t.id)?.and_then(|c| c.sla).map(|s| super::sla::sla_json(cfg, &s, now));
    Ok(json!({
        "ref": reference,
        "id": t.id,
        "subject": t.subject,
        "status": t.status.key(),
        "status_name": cfg.status_name(t),
        "priority": t.priority.key(),
        "category": t.category,
        "department": t.department,
        "team": t.team,
        "requester": person_json(w.person(t.requester)?),
        "assignee": person_json(t.assignee.map(|a| w.person(a)).transpose()?.flatten()),
        "tags": t.tags,
        "fields": t.fields.iter().map(|(n, v)| (n.clone(), Value::String(v.clone()))).collect::<serde_json::Map<String, Value>>(),
        "url": format!("{}/tickets/{reference}", cfg.server.public_url.trim_end_matches('/')),
        "sla": sla,
    }))
}

fn entry_json(w: &Write, e: &ThreadEntry) -> crate::store::Result<Value> {
    let text: String = e.text().chars().take(BODY_MAX).collect();
    Ok(json!({
        "seq": e.seq,
        "kind": e.kind.key(),
        "author": person_json(e.author.map(|a: PersonId| w.person(a)).transpose()?.flatten()),
        "text": text,
        "at": e.created_at.rfc3339(),
    }))
}

fn queue(cfg: &Config, w: &mut Write, event: WebhookEvent, payload: &Value, at: Timestamp) -> crate::store::Result<()> {
    for hook in cfg.webhook.iter().filter(|h| h.wants(event)) {
        let mut d = Delivery {
            id: DeliveryId(0),
            webhook: hook.name.clone(),
            event: event.key().to_string(),
            payload: payload.to_string(),
            created_at: at,
            attempts: 0,
            next_attempt: at,
            last_error: String::new(),
        };
        w.queue_webhook(&mut d)?;
    }
    Ok(())
}

/// Before each commit: a new ticket is one `ticket.created` (its first
/// entries are part of it); every other entry is the event
/// `WebhookEvent::of_entry` says.
pub(crate) fn on_commit(cfg: &Config, w: &mut Write, a: &Appended) -> crate::store::Result<()> {
    if cfg.webhook.is_empty() {
        return Ok(());
    }
    for id in &a.created {
        let Some(t) = w.ticket(*id)? else { continue };
        let mut payload = json!({ "event": WebhookEvent::Created.key(), "ticket": ticket_json(cfg, w, &t, t.created_at)? });
        if let Some(first) = a.entries.iter().find(|e| e.ticket == *id && e.kind != crate::domain::EntryKind::Event) {
            payload["entry"] = entry_json(w, first)?;
        }
        queue(cfg, w, WebhookEvent::Created, &payload, t.created_at)?;
    }
    for e in a.entries.iter().filter(|e| !a.created.contains(&e.ticket)) {
        let Some(event) = WebhookEvent::of_entry(e.kind, e.event.as_ref()) else { continue };
        if !cfg.webhook.iter().any(|h| h.wants(event)) {
            continue;
        }
        let Some(t) = w.ticket(e.ticket)? else { continue };
        let payload = json!({ "event": event.key(), "ticket": ticket_json(cfg, w, &t, e.created_at)?, "entry": entry_json(w, e)? });
        queue(cfg, w, event, &payload, e.created_at)?;
    }
    Ok(())
}

/// What became of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    Delivered {
        status: u16,
    },
    /// Try again later (no answer, 5xx, 429, …).
    Failed {
        status: Option<u16>,
        why: String,
    },
    /// Never to be tried again (a private address not allowed, a 4xx, …).
    Refused {
        status: Option<u16>,
        why: String,
    },
}

impl Desk {
    /// Deliveries due now (the worker's batch).
    pub fn webhooks_due(&self, max: usize) -> Result<Vec<Delivery>> {
        Ok(self.store.read()?.webhooks_due(self.now(), max)?)
    }

    /// Records an attempt: delivered and refused ones leave the queue; a
    /// failure waits the webhook's next `retry_secs`, until a day has passed.
    pub fn settle_webhook(&self, d: &Delivery, attempt: Attempt) -> Result<()> {
        let cfg = self.config();
        let now = self.now();
        let hook: Option<&WebhookConfig> = cfg.webhook(&d.webhook);
        let mut log = DeliveryLog {
            id: 0,
            delivery: d.id,
            webhook: d.webhook.clone(),
            event: d.event.clone(),
            at: now,
            status: None,
            outcome: String::new(),
        };
        let mut next = d.clone();
        next.attempts += 1;
        let keep = match attempt {
            Attempt::Delivered { status } => {
                log.status = Some(status);
                log.outcome = "delivered".into();
                false
            }
            Attempt::Refused { status, why } => {
                log.status = status;
                log.outcome = format!("gave up: {why}");
                false
            }
            Attempt::Failed { status, why } if hook.is_some() && now.0 - d.created_at.0 < GIVE_UP_MS => {
                let schedule = hook.map(|h| h.retry_secs.as_slice()).unwrap_or(&[]);
                let i = (next.attempts as usize).saturating_sub(1).min(schedule.len().saturating_sub(1));
                let wait = schedule.get(i).copied().unwrap_or(60) as i64 * 1000;
                next.next_attempt = Timestamp(now.0 + wait);
                next.last_error = why.clone();
                log.status = status;
                log.outcome = format!("retrying at {} UTC: {why}", next.next_attempt.rfc3339());
                true
            }
            Attempt::Failed { status, why } => {
                log.status = status;
                log.outcome = if hook.is_none() {
                    format!("gave up: the webhook is no longer configured ({why})")
                } else {
                    format!("gave up after a day: {why}")
                };
                false
            }
        };
        self.store.write(|w| w.settle_webhook(d.id, keep.then_some(&next), &mut log).map_err(DeskError::from))
    }

    /// The admin's view: queued deliveries and the newest log entries.
    pub fn webhook_status(&self, actor: &Person) -> Result<(Vec<Delivery>, Vec<DeliveryLog>)> {
        if !actor.is_admin() {
            return Err(DeskError::NotFound);
        }
        let r = self.store.read()?;
        Ok((r.webhook_queue(200)?, r.webhook_log(200)?))
    }
}
