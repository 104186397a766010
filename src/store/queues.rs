//! The store's queues: the spool of accepted mail, Junk, and the outbox of
//! mail to send.

use redb::ReadableTable;

use super::{
    BLOB_CHUNK, JUNK, JunkMail, OUTBOX, OUTBOX_DUE, OutMail, Read, Result, SPOOL, SPOOL_CHUNKS, SpoolEntry, Timestamp, Write, codec,
};

impl Read {
    /// Spool ids waiting to be processed, oldest first.
    pub fn spool_ids(&self, max: usize) -> Result<Vec<u64>> {
        let t = self.tx.open_table(SPOOL)?;
        let mut out = Vec::new();
        for row in t.iter()? {
            out.push(row?.0.value());
            if out.len() >= max {
                break;
            }
        }
        Ok(out)
    }

    pub fn spool_entry(&self, id: u64) -> Result<Option<(SpoolEntry, Vec<u8>)>> {
        let t = self.tx.open_table(SPOOL)?;
        let Some(e) = t.get(id)?.map(|v| codec::decode::<SpoolEntry>(v.value(), "spool")).transpose()? else { return Ok(None) };
        let chunks = self.tx.open_table(SPOOL_CHUNKS)?;
        let mut raw = Vec::with_capacity(e.size as usize);
        for row in chunks.range((id, 0)..=(id, u32::MAX))? {
            raw.extend_from_slice(row?.1.value());
        }
        Ok(Some((e, raw)))
    }

    /// When the oldest message still in the spool was accepted.
    pub fn spool_oldest(&self) -> Result<Option<crate::domain::Timestamp>> {
        let t = self.tx.open_table(SPOOL)?;
        let Some(first) = t.first()? else { return Ok(None) };
        Ok(Some(codec::decode::<SpoolEntry>(first.1.value(), "spool")?.received_at))
    }

    pub fn spool_len(&self) -> Result<u64> {
        use redb::ReadableTableMetadata;
        Ok(self.tx.open_table(SPOOL)?.len()?)
    }

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
    /// Puts one accepted message in the spool; returns its id.
    pub fn put_spool(&mut self, entry: &SpoolEntry, raw: &[u8]) -> Result<u64> {
        let id = self.next_id("spool")?;
        self.tx.open_table(SPOOL)?.insert(id, codec::encode(entry).as_slice())?;
        let mut chunks = self.tx.open_table(SPOOL_CHUNKS)?;
        for (i, c) in raw.chunks(BLOB_CHUNK).enumerate() {
            chunks.insert((id, i as u32), c)?;
        }
        Ok(id)
    }

    pub fn delete_spool(&mut self, id: u64) -> Result<bool> {
        let existed = self.tx.open_table(SPOOL)?.remove(id)?.is_some();
        let mut chunks = self.tx.open_table(SPOOL_CHUNKS)?;
        let keys: Vec<(u64, u32)> =
            chunks.range((id, 0)..=(id, u32::MAX))?.map(|r| r.map(|(k, _)| k.value())).collect::<std::result::Result<_, _>>()?;
        for k in keys {
            chunks.remove(k)?;
        }
        Ok(existed)
    }

    pub fn put_junk(&mut self, junk: &mut JunkMail) -> Result<u64> {
        junk.id = self.next_id("junk")?;
        self.tx.open_table(JUNK)?.insert(junk.id, codec::encode(&*junk).as_slice())?;
        Ok(junk.id)
    }

    pub fn delete_junk(&mut self, id: u64) -> Result<bool> {
        Ok(self.tx.open_table(JUNK)?.remove(id)?.is_some())
    }

    /// Queues a mail (or rewrites one), keeping the due index in step.
    pub fn put_outmail(&mut self, old: Option<&OutMail>, m: &mut OutMail) -> Result<u64> {
        if m.id == 0 {
            m.id = self.next_id("outmail")?;
        }
        if let Some(o) = old
            && !o.failed
        {
            self.tx.open_table(OUTBOX_DUE)?.remove((o.next_attempt.0, o.id))?;
        }
        self.tx.open_table(OUTBOX)?.insert(m.id, codec::encode(&*m).as_slice())?;
        if !m.failed {
            self.tx.open_table(OUTBOX_DUE)?.insert((m.next_attempt.0, m.id), ())?;
        }
        Ok(m.id)
    }

    /// Removes a delivered or discarded mail.
    pub fn delete_outmail(&mut self, m: &OutMail) -> Result<bool> {
        if !m.failed {
            self.tx.open_table(OUTBOX_DUE)?.remove((m.next_attempt.0, m.id))?;
        }
        Ok(self.tx.open_table(OUTBOX)?.remove(m.id)?.is_some())
    }
}
