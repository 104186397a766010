//! Webhook deliveries: a durable queue written in the same transaction as
//! the change it reports (like the outbox), due times for retries, and a
//! bounded log of what each attempt came to. Also what a write transaction
//! appended, for the desk's pre-commit hook that turns changes into
//! deliveries.

use redb::{ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use super::{Read, Result, Write, codec};
use crate::domain::{DeliveryId, ThreadEntry, TicketId, Timestamp};

/// Delivery id → `Delivery`.
pub(crate) const WEBHOOK_QUEUE: TableDefinition<u64, &[u8]> = TableDefinition::new("webhook_queue");
/// Log id → `DeliveryLog` (the newest `LOG_MAX` kept).
pub(crate) const WEBHOOK_LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("webhook_log");

/// Log entries kept.
const LOG_MAX: u64 = 2000;

/// One queued delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: DeliveryId,
    /// The `[[webhook]]` name.
    pub webhook: String,
    /// The event key (`ticket.created` …).
    pub event: String,
    /// The JSON body, as it will be posted (and signed).
    pub payload: String,
    pub created_at: Timestamp,
    pub attempts: u32,
    pub next_attempt: Timestamp,
    pub last_error: String,
}

/// What one attempt (or the decision not to try) came to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryLog {
    /// The log entry's number.
    pub id: u64,
    pub delivery: DeliveryId,
    pub webhook: String,
    pub event: String,
    pub at: Timestamp,
    /// HTTP status, when the receiver answered.
    pub status: Option<u16>,
    /// "delivered", "retrying at …: why", "gave up: why".
    pub outcome: String,
}

/// What a write transaction did that webhooks may report.
#[derive(Debug, Default)]
pub struct Appended {
    /// Tickets stored for the first time.
    pub created: Vec<TicketId>,
    /// Thread entries appended.
    pub entries: Vec<ThreadEntry>,
}

impl Read {
    /// Deliveries due at `now`, oldest first, at most `max`.
    pub fn webhooks_due(&self, now: Timestamp, max: usize) -> Result<Vec<Delivery>> {
        let mut out = Vec::new();
        for row in self.tx.open_table(WEBHOOK_QUEUE)?.iter()? {
            let d: Delivery = codec::decode(row?.1.value(), "webhook_queue")?;
            if d.next_attempt <= now {
                out.push(d);
                if out.len() >= max {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// Every queued delivery (the admin page), oldest first, at most `max`.
    pub fn webhook_queue(&self, max: usize) -> Result<Vec<Delivery>> {
        let mut out = Vec::new();
        for row in self.tx.open_table(WEBHOOK_QUEUE)?.iter()?.take(max) {
            out.push(codec::decode(row?.1.value(), "webhook_queue")?);
        }
        Ok(out)
    }

    /// The newest log entries first, at most `max`.
    pub fn webhook_log(&self, max: usize) -> Result<Vec<DeliveryLog>> {
        let mut out = Vec::new();
        for row in self.tx.open_table(WEBHOOK_LOG)?.iter()?.rev().take(max) {
            out.push(codec::decode(row?.1.value(), "webhook_log")?);
        }
        Ok(out)
    }
}

impl Write {
    /// Queues a delivery (in the transaction of the change it reports).
    pub fn queue_webhook(&mut self, d: &mut Delivery) -> Result<()> {
        d.id = DeliveryId(self.next_id("webhook")?);
        self.tx.open_table(WEBHOOK_QUEUE)?.insert(d.id.0, codec::encode(d).as_slice())?;
        Ok(())
    }

    /// Records an attempt: `next` reschedules it, `None` takes it off the
    /// queue (delivered or given up).
    pub fn settle_webhook(&mut self, id: DeliveryId, next: Option<&Delivery>, log: &mut DeliveryLog) -> Result<()> {
        {
            let mut q = self.tx.open_table(WEBHOOK_QUEUE)?;
            match next {
                Some(d) => q.insert(id.0, codec::encode(d).as_slice())?,
                None => q.remove(id.0)?,
            };
        }
        log.id = self.next_id("webhook_log")?;
        let mut t = self.tx.open_table(WEBHOOK_LOG)?;
        t.insert(log.id, codec::encode(log).as_slice())?;
        if log.id > LOG_MAX {
            let cut = log.id - LOG_MAX;
            let old: Vec<u64> = t.range(..cut)?.map(|r| r.map(|(k, _)| k.value())).collect::<std::result::Result<_, _>>()?;
            for k in old {
                t.remove(k)?;
            }
        }
        Ok(())
    }

    /// What this transaction has appended so far (for the pre-commit hook).
    pub fn take_appended(&mut self) -> Appended {
        std::mem::take(&mut self.appended)
    }
}

/// The tables, created at open.
pub(crate) fn create_tables(tx: &redb::WriteTransaction) -> Result<()> {
    tx.open_table(WEBHOOK_QUEUE)?;
    tx.open_table(WEBHOOK_LOG)?;
    Ok(())
}
