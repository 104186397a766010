//! The store's queues: Junk and the outbox of mail to send (the spool of
//! accepted mail is `spool.rs`).

use redb::ReadableTable;

use super::{JUNK, JunkMail, OUTBOX, OUTBOX_DUE, OutMail, Read, Result, Timestamp, Write, codec};
use crate::domain::{JunkId, OutMailId};

impl Read {
    /// Junk mail, newest first.
    pub fn junk(&self, max: usize) -> Result<Vec<JunkMail>> {
        let t = self.tx.open_table(JUNK)?;
        let mut out = Vec::new();
        for row in t.iter()?.rev() {
            out.push(codec::decode(row?.1.value(), "junk")?);
            if out.len() >= max {
                break;
            }
        }
        Ok(out)
    }

    /// Outbox entries: due (or all queued when `due_before` is None), oldest first.
    pub fn outbox_due(&self, due_before: Timestamp, max: usize) -> Result<Vec<OutMail>> {
        let due = self.tx.open_table(OUTBOX_DUE)?;
        let out_t = self.tx.open_table(OUTBOX)?;
        let mut out = Vec::new();
        for row in due.range((i64::MIN, 0)..=(due_before.0, u64::MAX))? {
            let id = row?.0.value().1;
            if let Some(v) = out_t.get(id)? {
                out.push(codec::decode(v.value(), "outbox")?);
            }
            if out.len() >= max {
                break;
            }
        }
        Ok(out)
    }

    /// Outbox entries waiting for an attempt: (due at `now`, all waiting).
    /// Nothing due means the sender has tried everything it can for now.
    pub fn outbox_counts(&self, now: Timestamp) -> Result<(u64, u64)> {
        use redb::ReadableTableMetadata;
        let due = self.tx.open_table(OUTBOX_DUE)?;
        let mut n = 0;
        for row in due.range((i64::MIN, 0)..=(now.0, u64::MAX))? {
            row?;
            n += 1;
        }
        Ok((n, due.len()?))
    }

    /// When the oldest mail still in the outbox (queued or failed) was queued.
    pub fn outbox_oldest(&self) -> Result<Option<Timestamp>> {
        let t = self.tx.open_table(OUTBOX)?;
        let Some(row) = t.first()? else { return Ok(None) };
        let m: OutMail = codec::decode(row.1.value(), "outbox")?;
        Ok(Some(m.created_at))
    }

    /// When the next queued mail is due, if any is waiting.
    pub fn outbox_next_due(&self) -> Result<Option<Timestamp>> {
        let due = self.tx.open_table(OUTBOX_DUE)?;
        Ok(due.first()?.map(|(k, _)| Timestamp(k.value().0)))
    }

    /// Every outbox entry (queued and failed), newest first.
    pub fn outbox_all(&self, max: usize) -> Result<Vec<OutMail>> {
        let t = self.tx.open_table(OUTBOX)?;
        let mut out = Vec::new();
        for row in t.iter()?.rev() {
            out.push(codec::decode(row?.1.value(), "outbox")?);
            if out.len() >= max {
                break;
            }
        }
        Ok(out)
    }
}

impl Write {
    /// Records a message in Junk; the record holds its raw source blob.
    pub fn put_junk(&mut self, junk: &mut JunkMail) -> Result<JunkId> {
        junk.id = JunkId(self.next_id("junk")?);
        self.tx.open_table(JUNK)?.insert(junk.id.0, codec::encode(&*junk).as_slice())?;
        self.hold_blob(&junk.raw_blob)?;
        Ok(junk.id)
    }

    /// Deletes a junk record (and its raw source, unless something else
    /// holds it); whether there was one.
    pub fn delete_junk(&mut self, id: JunkId) -> Result<bool> {
        let Some(junk) = self.junk_item(id)? else { return Ok(false) };
        self.tx.open_table(JUNK)?.remove(id.0)?;
        self.release_blob(&junk.raw_blob)?;
        Ok(true)
    }

    /// Queues a mail (or rewrites one: `old` is the stored one), keeping the
    /// due index in step. The mail holds the blobs of its attachments.
    pub fn put_outmail(&mut self, old: Option<&OutMail>, m: &mut OutMail) -> Result<OutMailId> {
        for a in &m.attachments {
            self.hold_blob(&a.blob)?;
        }
        for a in old.iter().flat_map(|o| o.attachments.iter()) {
            self.release_blob(&a.blob)?;
        }
        if m.id.0 == 0 {
            m.id = OutMailId(self.next_id("outmail")?);
        }
        self.outbox = true;
        if let Some(o) = old
            && !o.failed
        {
            self.tx.open_table(OUTBOX_DUE)?.remove((o.next_attempt.0, o.id.0))?;
        }
        self.tx.open_table(OUTBOX)?.insert(m.id.0, codec::encode(&*m).as_slice())?;
        if !m.failed {
            self.tx.open_table(OUTBOX_DUE)?.insert((m.next_attempt.0, m.id.0), ())?;
        }
        Ok(m.id)
    }

    /// Removes a delivered or discarded mail (`m` as stored, as for the due
    /// index) and lets go of its attachments.
    pub fn delete_outmail(&mut self, m: &OutMail) -> Result<bool> {
        if !m.failed {
            self.tx.open_table(OUTBOX_DUE)?.remove((m.next_attempt.0, m.id.0))?;
        }
        if self.tx.open_table(OUTBOX)?.remove(m.id.0)?.is_none() {
            return Ok(false);
        }
        for a in &m.attachments {
            self.release_blob(&a.blob)?;
        }
        Ok(true)
    }
}

#[cfg(test)]
impl JunkMail {
    /// A junk record holding `blob` (store tests).
    pub(crate) fn sample(id: u64, blob: &str) -> JunkMail {
        JunkMail {
            id: JunkId(id),
            received_at: Timestamp(1),
            from: "x@example.org".into(),
            subject: "s".into(),
            reason: "r".into(),
            raw_blob: blob.into(),
            mail_from: String::new(),
            rcpt_to: Vec::new(),
        }
    }
}
