//! The audit log table: entries under increasing ids, appended in the
//! transaction of what they record, read newest first, dropped only by age.

use redb::{ReadableTable, TableDefinition};

use super::{Read, Result, Write, codec};
use crate::domain::audit::{AuditEntry, AuditFilter};
use crate::domain::{AuditId, Timestamp};

/// Entry id → entry.
pub(crate) const AUDIT: TableDefinition<u64, &[u8]> = TableDefinition::new("audit_log");

impl Read {
    /// Up to `limit` entries matching `filter`, newest first, older than the
    /// id `before` when given; with each its id.
    pub fn audit_entries(&self, filter: &AuditFilter, before: Option<AuditId>, limit: usize) -> Result<Vec<(AuditId, AuditEntry)>> {
        let t = self.tx.open_table(AUDIT)?;
        let mut out = Vec::new();
        let rows = match before {
            Some(b) => t.range(..b.0)?,
            None => t.range(0..)?,
        };
        for row in rows.rev() {
            let (k, v) = row?;
            let e: AuditEntry = codec::decode(v.value(), "audit_log")?;
            if filter.until.is_some_and(|u| e.at.0 >= u.0) {
                continue;
            }
            if filter.from.is_some_and(|f| e.at.0 < f.0) {
                // Ids grow with time: nothing older can match.
                break;
            }
            if filter.matches(&e) {
                out.push((AuditId(k.value()), e));
                if out.len() >= limit {
                    break;
                }
            }
        }
        Ok(out)
    }
}

impl Write {
    /// Appends an entry; its id.
    pub fn append_audit(&mut self, e: &AuditEntry) -> Result<AuditId> {
        let id = self.next_id("audit")?;
        self.tx.open_table(AUDIT)?.insert(id, codec::encode(e).as_slice())?;
        Ok(AuditId(id))
    }

    /// Drops up to `max` entries from before `cutoff`, oldest first; how many.
    pub fn drop_audit_before(&mut self, cutoff: Timestamp, max: usize) -> Result<usize> {
        let mut t = self.tx.open_table(AUDIT)?;
        let mut doomed = Vec::new();
        for row in t.iter()? {
            let (k, v) = row?;
            let e: AuditEntry = codec::decode(v.value(), "audit_log")?;
            if e.at.0 >= cutoff.0 || doomed.len() >= max {
                break;
            }
            doomed.push(k.value());
        }
        for k in &doomed {
            t.remove(k)?;
        }
        Ok(doomed.len())
    }
}
