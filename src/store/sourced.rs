//! Thread entries and mail details compressed against their mail's raw
//! source (schema 15). The raw source (a blob) is the truth; a mail's
//! thread entry repeats its text, and its details repeat its addresses,
//! subject and full text. Compressed alone, each kept its own copy of what
//! the source already holds; zstd with the source as its dictionary keeps
//! them as references into it (about 390 bytes less a mail on the corpus).
//!
//! Details compressed so name their source blob before the compressed part:
//! `[version | AGAINST_SOURCE] [id] [block]`, the id as its 32 bytes. An entry's record
//! finds its source through the details at the same (ticket, seq). The
//! details hold their source blob (`BLOB_REFS`), so it lives as long as the
//! entry; an entry and its details are removed and moved together (purge,
//! merge), and new details for an entry re-store the entry against the new
//! source. Records without the flag read as before.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata};

use super::{
    BLOB_CHUNKS, BLOBS, ENTRIES, ENTRY_MAIL, META, MailMeta, Read, Result, StoreError, Write, blob_size, blobs, codec, compress, packs,
};
use crate::domain::ThreadEntry;

/// `meta` key present while mail stored before schema 15 waits to be
/// stored against its source (`convert`).
pub(crate) const PENDING: &str = "sourced.pending";
/// The next (ticket, seq) `convert` looks at.
const CURSOR: (&str, &str) = ("sourced.ticket", "sourced.seq");
/// Mail entries per transaction of `convert`.
const BATCH: usize = 1000;
/// Bytes of mail sources `SourceCache` keeps.
const CACHE_BYTES: usize = 4 << 20;

/// Mail sources read lately, by blob id, so the queue's previews of the same
/// tickets do not read and decompress their mail every time (15 µs a 4 KB
/// mail, against 1 µs from here). Blobs are content-addressed: an id's
/// content never changes, so nothing here goes stale. The oldest go first.
#[derive(Default)]
pub(crate) struct SourceCache {
    kept: Mutex<Kept>,
}

/// The sources by id, their ids oldest first, and their bytes.
#[derive(Default)]
struct Kept {
    by_id: HashMap<String, Arc<Vec<u8>>>,
    order: VecDeque<String>,
    bytes: usize,
}

impl SourceCache {
    fn get(&self, id: &str) -> Option<Arc<Vec<u8>>> {
        self.kept.lock().ok()?.by_id.get(id).cloned()
    }

    fn put(&self, id: &str, source: Arc<Vec<u8>>) {
        let Ok(mut kept) = self.kept.lock() else { return };
        let Kept { by_id: map, order, bytes } = &mut *kept;
        if map.contains_key(id) {
            return;
        }
        *bytes += source.len();
        map.insert(id.to_string(), source);
        order.push_back(id.to_string());
        while *bytes > CACHE_BYTES {
            let Some(old) = order.pop_front() else { break };
            if let Some(s) = map.remove(&old) {
                *bytes -= s.len();
            }
        }
    }
}

fn corrupt(table: &'static str, detail: String) -> StoreError {
    StoreError::Corrupt { table, detail }
}

/// The length byte of a source named by its 32 bytes: a hex SHA-256 id
/// (every blob's) is kept as them; any other id as its text (shorter than
/// 128 bytes).
const BINARY_ID: u8 = 0x80 | 32;

/// The name of a source in front of compressed details.
fn put_id(out: &mut Vec<u8>, id: &str) -> bool {
    let bytes = id.as_bytes();
    if bytes.len() == 64 && bytes.iter().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b)) {
        out.push(BINARY_ID);
        for pair in bytes.chunks(2) {
            let digit = |b: u8| if b.is_ascii_digit() { b - b'0' } else { b - b'a' + 10 };
            out.push(pair.iter().fold(0, |n, &b| n * 16 + digit(b)));
        }
        return true;
    }
    let Ok(n) = u8::try_from(bytes.len()) else { return false };
    if n >= 0x80 {
        return false;
    }
    out.push(n);
    out.extend_from_slice(bytes);
    true
}

/// The id `put_id` wrote at the front of `bytes`, and what follows it.
fn take_id(bytes: &[u8]) -> Option<(String, &[u8])> {
    let (&n, rest) = bytes.split_first()?;
    if n == BINARY_ID {
        let (id, rest) = rest.split_first_chunk::<32>()?;
        return Some((id.iter().map(|b| format!("{b:02x}")).collect(), rest));
    }
    if n >= 0x80 {
        return None;
    }
    let (id, rest) = rest.split_at_checked(usize::from(n))?;
    Some((std::str::from_utf8(id).ok()?.to_string(), rest))
}

/// The stored form of mail details: compressed against `source` when that
/// is shorter than `encode_mail_meta`'s form.
fn encode_meta(meta: &MailMeta, source: &[u8]) -> Vec<u8> {
    let alone = codec::encode_mail_meta(meta);
    // The source's name is kept in front, not in the compressed part.
    let bare = MailMeta { raw_blob: String::new(), ..meta.clone() };
    let record = codec::encode_against(codec::MAIL_META_V2, &bare, source);
    let Some((&flag, block)) = record.split_first().filter(|_| codec::needs_source(&record)) else { return alone };
    let mut out = Vec::with_capacity(34 + block.len());
    out.push(flag);
    if !put_id(&mut out, &meta.raw_blob) {
        return alone;
    }
    out.extend_from_slice(block);
    if out.len() < alone.len() { out } else { alone }
}

/// Stored details compressed against their source: the source blob's id
/// and the record without it (`None`: details stored without a source).
fn split_meta(bytes: &[u8]) -> Result<Option<(String, Vec<u8>)>> {
    if !codec::needs_source(bytes) {
        return Ok(None);
    }
    let damaged = || corrupt("entry_mail", "mail details without the name of their source".into());
    let (&flag, rest) = bytes.split_first().ok_or_else(damaged)?;
    let (id, block) = take_id(rest).ok_or_else(damaged)?;
    let mut record = Vec::with_capacity(1 + block.len());
    record.push(flag);
    record.extend_from_slice(block);
    Ok(Some((id, record)))
}

/// Whether a blob is small enough to be read as a source (a larger mail,
/// one with attachments, is not read whole to store its entry).
fn small_enough(heads: &impl ReadableTable<&'static str, u64>, id: &str) -> Result<bool> {
    Ok(!id.is_empty() && heads.get(id)?.is_some_and(|h| blob_size(h.value()) <= compress::MAX_SOURCE as u64))
}

/// The source blob stored details name (from the front of compressed ones).
fn source_of(bytes: &[u8]) -> Result<String> {
    match split_meta(bytes)? {
        Some((id, _)) => Ok(id),
        None => Ok(codec::decode_mail_meta(bytes)?.raw_blob),
    }
}

/// Reading records stored against a source, for both transaction kinds
/// (a write transaction reads a source it packed but has not written yet).
macro_rules! sourced_reads {
    () => {
        /// Mail details as stored, of either form.
        pub(crate) fn mail_meta_from(&self, bytes: &[u8]) -> Result<MailMeta> {
            let Some((id, record)) = split_meta(bytes)? else { return codec::decode_mail_meta(bytes) };
            let source = self.mail_source(&id)?;
            let mut meta = codec::decode_mail_meta_with(&record, Some(&source))?;
            meta.raw_blob = id;
            Ok(meta)
        }

        /// The thread entry stored at `key`, of either form.
        pub(crate) fn entry_from(&self, key: (u64, u32), bytes: &[u8]) -> Result<ThreadEntry> {
            if !codec::needs_source(bytes) {
                return codec::decode(bytes, "entries");
            }
            let id = match self.tx.open_table(ENTRY_MAIL)?.get(key)? {
                Some(v) => source_of(v.value())?,
                None => {
                    let (t, s) = key;
                    return Err(corrupt("entries", format!("entry {t}/{s} is compressed against a mail with no details")));
                }
            };
            let source = self.mail_source(&id)?;
            codec::decode_with(bytes, "entries", Some(&source))
        }
    };
}

fn missing(id: &str) -> StoreError {
    corrupt("entry_mail", format!("the mail source {id} is missing"))
}

impl Read {
    sourced_reads!();

    fn mail_source(&self, id: &str) -> Result<Arc<Vec<u8>>> {
        if let Some(s) = self.sources.get(id) {
            return Ok(s);
        }
        let source = Arc::new(self.blob(id)?.ok_or_else(|| missing(id))?);
        self.sources.put(id, source.clone());
        Ok(source)
    }
}

impl Write {
    sourced_reads!();

    /// (Not cached: a transaction that fails leaves nothing behind.)
    fn mail_source(&self, id: &str) -> Result<Arc<Vec<u8>>> {
        Ok(Arc::new(self.blob(id)?.ok_or_else(|| missing(id))?))
    }

    /// Stores an entry's mail details, and stores the entry again, both
    /// compressed against the mail's raw source (plainly compressed when it
    /// is missing or they gain too little).
    pub(crate) fn store_mail_details(&mut self, ticket: u64, seq: u32, meta: &MailMeta) -> Result<()> {
        let small = small_enough(&self.tx.open_table(BLOBS)?, &meta.raw_blob)?;
        let source = match if small { self.blob(&meta.raw_blob) } else { Ok(None) } {
            Ok(s) => s,
            // A damaged source: the entry is kept as it is stored alone.
            Err(StoreError::Corrupt { detail, .. }) => {
                tracing::warn!("the source of mail {ticket}/{seq} cannot be read ({detail}); its entry is stored without it");
                None
            }
            Err(e) => return Err(e),
        };
        // Read with the details it was stored against, before they change.
        let stored = self.tx.open_table(ENTRIES)?.get((ticket, seq))?.map(|v| v.value().to_vec());
        let entry = match &stored {
            Some(bytes) => Some(self.entry_from((ticket, seq), bytes)?),
            None => None,
        };
        let details = match &source {
            Some(s) => encode_meta(meta, s),
            None => codec::encode_mail_meta(meta),
        };
        self.tx.open_table(ENTRY_MAIL)?.insert((ticket, seq), details.as_slice())?;
        if let Some(entry) = entry {
            let record = match &source {
                Some(s) => codec::encode_against(codec::RECORD_V1, &entry, s),
                None => codec::encode(&entry),
            };
            self.tx.open_table(ENTRIES)?.insert((ticket, seq), record.as_slice())?;
        }
        Ok(())
    }
}

/// A thread table's row: (ticket, seq) and its stored bytes.
type ThreadRow = ((u64, u32), Vec<u8>);

impl Write {
    /// The seqs of a ticket's thread rows and the blobs they hold, to remove
    /// them (purge). An entry or details that cannot be read — a source
    /// damaged or gone — is removed all the same, without releasing what
    /// only it named: a blob kept is better than a Trash never emptied.
    pub(crate) fn thread_rows(&self, ticket: u64) -> Result<(Vec<u32>, Vec<String>)> {
        let rows = |table: redb::TableDefinition<'static, (u64, u32), &'static [u8]>| -> Result<Vec<ThreadRow>> {
            let t = self.tx.open_table(table)?;
            let rows = t.range((ticket, 0)..=(ticket, u32::MAX))?.map(|r| r.map(|(k, v)| (k.value(), v.value().to_vec())));
            Ok(rows.collect::<std::result::Result<_, _>>()?)
        };
        let (mut seqs, mut held) = (Vec::new(), Vec::new());
        for (key, bytes) in rows(ENTRIES)? {
            seqs.push(key.1);
            match self.entry_from(key, &bytes) {
                Ok(e) => held.extend(e.attachments.into_iter().map(|a| a.blob)),
                Err(StoreError::Corrupt { detail, .. }) => tracing::warn!("entry {ticket}/{} cannot be read ({detail}); removed", key.1),
                Err(e) => return Err(e),
            }
        }
        for (key, bytes) in rows(ENTRY_MAIL)? {
            if !seqs.contains(&key.1) {
                seqs.push(key.1);
            }
            match self.mail_meta_from(&bytes) {
                Ok(m) => held.extend(m.blobs().map(str::to_string)),
                Err(StoreError::Corrupt { detail, .. }) => {
                    tracing::warn!("mail details {ticket}/{} cannot be read ({detail}); removed", key.1);
                    held.extend(source_of(&bytes).ok());
                }
                Err(e) => return Err(e),
            }
        }
        Ok((seqs, held))
    }
}

/// Stores the mail entries and details written before schema 15 against
/// their sources, `BATCH` a transaction from a cursor in `meta`, so a stop
/// part-way resumes (runs at open while `PENDING` is set; returns the
/// entries converted). A row that cannot be read or whose source is gone
/// is left as it is, and logged.
pub(crate) fn convert(db: &Database) -> Result<u64> {
    convert_batches(db, BATCH, usize::MAX)
}

/// `convert` in batches of `batch`, stopping after `max` of them as a stop
/// part-way would (tests).
fn convert_batches(db: &Database, batch: usize, max: usize) -> Result<u64> {
    if db.begin_read()?.open_table(META)?.get(PENDING)?.is_none() {
        return Ok(0);
    }
    let total = db.begin_read()?.open_table(ENTRY_MAIL)?.len()?;
    let (started, mut said) = (Instant::now(), Instant::now());
    let (mut seen, mut done, mut batches) = (0u64, 0u64, 0usize);
    while batches < max {
        batches += 1;
        let tx = db.begin_write()?;
        let from = {
            let meta = tx.open_table(META)?;
            let t = meta.get(CURSOR.0)?.map(|v| v.value()).unwrap_or(0);
            (t, meta.get(CURSOR.1)?.map(|v| v.value()).unwrap_or(0) as u32)
        };
        let keys: Vec<(u64, u32)> = tx
            .open_table(ENTRY_MAIL)?
            .range(from..)?
            .take(batch)
            .map(|r| r.map(|(k, _)| k.value()))
            .collect::<std::result::Result<_, _>>()?;
        let next = keys.last().and_then(|&(t, s)| s.checked_add(1).map(|s| (t, s)).or_else(|| t.checked_add(1).map(|t| (t, 0))));
        for &key in &keys {
            done += u64::from(convert_one(&tx, key)?);
        }
        let mut meta = tx.open_table(META)?;
        match next {
            Some((t, s)) if keys.len() == batch => {
                meta.insert(CURSOR.0, t)?;
                meta.insert(CURSOR.1, u64::from(s))?;
            }
            _ => {
                for k in [PENDING, CURSOR.0, CURSOR.1] {
                    meta.remove(k)?;
                }
                drop(meta);
                tx.commit()?;
                break;
            }
        }
        drop(meta);
        tx.commit()?;
        seen += keys.len() as u64;
        if said.elapsed() >= Duration::from_secs(2) {
            said = Instant::now();
            tracing::info!("storing mail against its source: {seen}/{total}");
        }
    }
    if done > 0 {
        tracing::info!("stored {done} mail entries against their source in {:.1} s", started.elapsed().as_secs_f64());
    }
    Ok(done)
}

/// Stores one mail entry and its details against their source; false when
/// they already are, or are left as they are.
fn convert_one(tx: &redb::WriteTransaction, key: (u64, u32)) -> Result<bool> {
    let (t, s) = key;
    let Some(bytes) = tx.open_table(ENTRY_MAIL)?.get(key)?.map(|v| v.value().to_vec()) else { return Ok(false) };
    if codec::needs_source(&bytes) {
        return Ok(false);
    }
    let meta = match codec::decode_mail_meta(&bytes) {
        Ok(m) if !m.raw_blob.is_empty() => m,
        Ok(_) => return Ok(false),
        Err(e) => {
            tracing::warn!("mail details {t}/{s} cannot be read ({e}); left as they are");
            return Ok(false);
        }
    };
    let source = {
        let (heads, chunks, packed) = (tx.open_table(BLOBS)?, tx.open_table(BLOB_CHUNKS)?, tx.open_table(packs::BLOB_PACKS)?);
        if !small_enough(&heads, &meta.raw_blob)? {
            return Ok(false);
        }
        blobs::content(&heads, &chunks, &packed, None, &meta.raw_blob)
    };
    let source = match source {
        Ok(Some(s)) => s,
        Ok(None) | Err(_) => {
            tracing::warn!("the source of mail {t}/{s} cannot be read; its entry is left as it is");
            return Ok(false);
        }
    };
    // Each is stored against the source when that gains (small details
    // may not); an entry done already is left.
    let mut changed = false;
    let mut entries = tx.open_table(ENTRIES)?;
    let entry = entries.get(key)?.map(|v| v.value().to_vec()).filter(|b| !codec::needs_source(b));
    match entry.map(|b| codec::decode::<ThreadEntry>(&b, "entries")) {
        Some(Ok(e)) => {
            let record = codec::encode_against(codec::RECORD_V1, &e, &source);
            if codec::needs_source(&record) {
                entries.insert(key, record.as_slice())?;
                changed = true;
            }
        }
        Some(Err(e)) => tracing::warn!("entry {t}/{s} cannot be read ({e}); left as it is"),
        None => {}
    }
    drop(entries);
    let details = encode_meta(&meta, &source);
    if codec::needs_source(&details) {
        tx.open_table(ENTRY_MAIL)?.insert(key, details.as_slice())?;
        changed = true;
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::super::{BLOBS, ENTRIES, ENTRY_MAIL, MailMeta, Result, Store, StoreError, codec};
    use crate::domain::{EntryKind, PersonId, ThreadEntry, Ticket, TicketId, Timestamp};
    use redb::ReadableTable;

    /// A mail's raw source and the text a thread entry keeps of it.
    fn mail(n: u64) -> (Vec<u8>, String) {
        let text: String =
            (0..40).map(|i| format!("Line {i} of mail {n}: the printer on floor {} jams after {} pages.\n", i % 7, i * 13)).collect();
        let raw = format!(
            "Received: from mx.example.org by desk.example.com; Thu, 3 Dec 2026 10:00:00 +0000\r\nFrom: Ann <ann@example.org>\r\n\
             To: help@example.com\r\nSubject: Printer {n}\r\nMessage-ID: <m{n}@example.org>\r\nContent-Type: text/plain\r\n\r\n{text}"
        );
        (raw.into_bytes(), text)
    }

    fn entry(ticket: u64, body: &str) -> ThreadEntry {
        ThreadEntry {
            ticket: TicketId(ticket),
            seq: 0,
            kind: EntryKind::Reply,
            author: Some(PersonId(2)),
            body: body.into(),
            event: None,
            attachments: Vec::new(),
            created_at: Timestamp(ticket as i64),
        }
    }

    fn details(raw_blob: &str, n: u64, text: &str) -> MailMeta {
        MailMeta {
            from: "Ann <ann@example.org>".into(),
            to: vec!["help@example.com".into()],
            subject: format!("Printer {n}"),
            message_id: format!("m{n}@example.org"),
            raw_blob: raw_blob.into(),
            full_text: Some(format!("{text}\n> quoted history")),
            ..MailMeta::default()
        }
    }

    /// Stores ticket `t` with mail `n` as its one entry; returns the entry's seq.
    fn put_mail(w: &mut super::Write, t: u64, n: u64) -> Result<(u32, MailMeta)> {
        let (raw, text) = mail(n);
        w.put_ticket(None, &Ticket::sample(t, t as i64))?;
        let blob = w.put_blob(&raw)?;
        let mut e = entry(t, &text);
        let seq = w.append_entry(&mut e)?;
        let meta = details(&blob, n, &text);
        w.put_entry_mail(TicketId(t), seq, &meta)?;
        Ok((seq, meta))
    }

    /// `put_mail`, then both records stored as schema 14 stored them (not
    /// against the source); returns the details.
    fn put_mail_as_schema_14(w: &mut super::Write, t: u64) -> Result<MailMeta> {
        let (seq, meta) = put_mail(w, t, t)?;
        let e = w.entries(TicketId(t))?.remove(0);
        w.tx.open_table(ENTRIES)?.insert((t, seq), codec::encode(&e).as_slice())?;
        w.tx.open_table(ENTRY_MAIL)?.insert((t, seq), codec::encode_mail_meta(&meta).as_slice())?;
        Ok(meta)
    }

    /// A store with ticket 1's mail stored against its source, then the
    /// source's head removed (as damage would).
    fn mail_without_its_source(dir: &std::path::Path) -> Store {
        let store = Store::open(dir).unwrap();
        let (_, meta) = store.write(|w| put_mail(w, 1, 1)).unwrap();
        store
            .write(|w| -> Result<()> {
                w.tx.open_table(BLOBS)?.remove(meta.raw_blob.as_str())?;
                Ok(())
            })
            .unwrap();
        store
    }

    fn stored(store: &Store, key: (u64, u32)) -> (Vec<u8>, Vec<u8>) {
        let r = store.read().unwrap();
        let e = r.tx.open_table(ENTRIES).unwrap().get(key).unwrap().unwrap().value().to_vec();
        let m = r.tx.open_table(ENTRY_MAIL).unwrap().get(key).unwrap().unwrap().value().to_vec();
        (e, m)
    }

    /// The entry and the details read back as written — in the transaction
    /// that stored them (its source still in the unwritten pack) and after —
    /// and are kept as references into the source, a fraction of their size.
    #[test]
    fn a_mail_entry_and_its_details_are_kept_against_the_source() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (_, text) = mail(1);
        let (seq, meta) = store
            .write(|w| -> Result<(u32, MailMeta)> {
                let (seq, meta) = put_mail(w, 1, 1)?;
                assert_eq!(w.entries(TicketId(1))?[0].body, text);
                assert_eq!(w.entry_mail(TicketId(1), seq)?.map(|m| m.full_text), Some(meta.full_text.clone()));
                Ok((seq, meta))
            })
            .unwrap();
        let r = store.read().unwrap();
        assert_eq!(r.entries(TicketId(1)).unwrap()[0].body, text);
        assert_eq!(r.first_message(&Ticket::sample(1, 1)).unwrap(), text);
        let back = r.entry_mail(TicketId(1), seq).unwrap().unwrap();
        assert_eq!((back.raw_blob.as_str(), &back.full_text, &back.subject), (meta.raw_blob.as_str(), &meta.full_text, &meta.subject));
        assert_eq!(r.ticket_mail(TicketId(1)).unwrap()[0].1.message_id, meta.message_id);
        drop(r);
        let (e, m) = stored(&store, (1, seq));
        assert!(codec::needs_source(&e) && codec::needs_source(&m));
        let alone = codec::encode(&entry(1, &text));
        assert!(e.len() * 4 < alone.len(), "{} bytes against the source, {} alone", e.len(), alone.len());
        assert!(m.len() < codec::encode_mail_meta(&meta).len() / 2);
    }

    /// Merged, a mail entry moves with its details and still reads; new
    /// details for an entry store it against their own source.
    #[test]
    fn entries_stay_readable_when_merged_and_when_their_details_change() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store
            .write(|w| -> Result<()> {
                put_mail(w, 1, 1)?;
                put_mail(w, 2, 2)?;
                Ok(())
            })
            .unwrap();
        store.write(|w| w.merge_tickets(&Ticket::sample(2, 2), &Ticket::sample(1, 1))).unwrap();
        let r = store.read().unwrap();
        let bodies: Vec<String> = r.entries(TicketId(1)).unwrap().into_iter().map(|e| e.body).collect();
        assert_eq!(bodies, vec![mail(1).1, mail(2).1]);
        let subjects: Vec<String> = r.ticket_mail(TicketId(1)).unwrap().into_iter().map(|(_, m)| m.subject).collect();
        assert_eq!(subjects, vec!["Printer 1", "Printer 2"]);
        drop(r);
        assert!(codec::needs_source(&stored(&store, (1, 2)).0));
        // Mail 3's source replaces mail 1's under entry 1; mail 1's goes.
        let (old, new) = store
            .write(|w| -> Result<(String, String)> {
                let old = w.entry_mail(TicketId(1), 1)?.map(|m| m.raw_blob).unwrap_or_default();
                let new = w.put_blob(&mail(3).0)?;
                w.put_entry_mail(TicketId(1), 1, &details(&new, 3, "other"))?;
                Ok((old, new))
            })
            .unwrap();
        let r = store.read().unwrap();
        assert_eq!(r.blob(&old).unwrap(), None);
        assert_eq!(r.entries(TicketId(1)).unwrap()[0].body, mail(1).1);
        assert_eq!(r.entry_mail(TicketId(1), 1).unwrap().map(|m| m.raw_blob), Some(new));
    }

    /// A mail larger than a source may be (one with attachments) is not
    /// read whole: its entry and details are stored as before, and read.
    #[test]
    fn a_large_mail_is_stored_without_its_source() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (raw, text) = mail(1);
        let mut big = raw.clone();
        for i in 0..2000u32 {
            big.extend_from_slice(format!("attachment line {i} {}\r\n", i.wrapping_mul(2_654_435_761)).as_bytes());
        }
        assert!(big.len() > crate::store::compress::MAX_SOURCE);
        store
            .write(|w| -> Result<()> {
                w.put_ticket(None, &Ticket::sample(1, 1))?;
                let blob = w.put_blob(&big)?;
                let seq = w.append_entry(&mut entry(1, &text))?;
                w.put_entry_mail(TicketId(1), seq, &details(&blob, 1, &text))
            })
            .unwrap();
        let (e, m) = stored(&store, (1, 1));
        assert!(!codec::needs_source(&e) && !codec::needs_source(&m));
        assert_eq!(store.read().unwrap().entries(TicketId(1)).unwrap()[0].body, text);
    }

    /// A record whose source is gone reads as damage, not as a panic or
    /// as other text.
    #[test]
    fn a_missing_source_is_reported_as_damage() {
        let dir = tempfile::tempdir().unwrap();
        let store = mail_without_its_source(dir.path());
        let r = store.read().unwrap();
        assert!(matches!(r.entries(TicketId(1)), Err(StoreError::Corrupt { table: "entry_mail", .. })));
        assert!(matches!(r.entry_mail(TicketId(1), 1), Err(StoreError::Corrupt { .. })));
    }

    /// Mail stored before schema 15 is stored against its source at the
    /// next open and reads the same; a row whose source is gone is left.
    #[test]
    fn mail_stored_before_is_converted_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (text1, text2) = (mail(1).1, mail(2).1);
        store
            .write(|w| -> Result<()> {
                for t in [1, 2] {
                    let meta = put_mail_as_schema_14(w, t)?;
                    if t == 2 {
                        w.tx.open_table(BLOBS)?.remove(meta.raw_blob.as_str())?;
                    }
                }
                w.set_meta(super::PENDING, 1)
            })
            .unwrap();
        assert!(!codec::needs_source(&stored(&store, (1, 1)).0));
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        let (e, m) = stored(&store, (1, 1));
        assert!(codec::needs_source(&e) && codec::needs_source(&m));
        let r = store.read().unwrap();
        assert_eq!(r.entries(TicketId(1)).unwrap()[0].body, text1);
        assert_eq!(r.entry_mail(TicketId(1), 1).unwrap().map(|m| m.subject).as_deref(), Some("Printer 1"));
        assert_eq!(r.entries(TicketId(2)).unwrap()[0].body, text2);
        assert_eq!(r.meta(super::PENDING).unwrap(), 0);
        drop(r);
        assert!(!codec::needs_source(&stored(&store, (2, 1)).0));
    }

    /// A conversion stopped part-way resumes from its cursor at the next
    /// open, and what it did stays done.
    #[test]
    fn a_conversion_stopped_part_way_resumes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store
            .write(|w| -> Result<()> {
                for t in 1..=3 {
                    put_mail_as_schema_14(w, t)?;
                }
                w.set_meta(super::PENDING, 1)
            })
            .unwrap();
        assert_eq!(super::convert_batches(&store.main.db().unwrap(), 1, 1).unwrap(), 1);
        let sourced = |store: &Store| (1..=3).map(|t| codec::needs_source(&stored(store, (t, 1)).0)).collect::<Vec<_>>();
        assert_eq!(sourced(&store), vec![true, false, false]);
        assert_eq!(store.read().unwrap().meta(super::PENDING).unwrap(), 1);
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(sourced(&store), vec![true, true, true]);
        let r = store.read().unwrap();
        assert_eq!(r.meta(super::PENDING).unwrap(), 0);
        assert_eq!(
            (1..=3).map(|t| r.entries(TicketId(t)).unwrap().remove(0).body).collect::<Vec<_>>(),
            vec![mail(1).1, mail(2).1, mail(3).1]
        );
    }

    /// A purge removes a thread whose source is gone (its rows cannot be
    /// read): the Trash is emptied, not stopped by the damage.
    #[test]
    fn a_thread_whose_source_is_gone_is_purged() {
        let dir = tempfile::tempdir().unwrap();
        let store = mail_without_its_source(dir.path());
        store.write(|w| w.trash_ticket(&Ticket::sample(1, 1), Timestamp(5))).unwrap();
        assert!(store.read().unwrap().entries(TicketId(1)).is_err());
        assert!(store.write(|w| w.purge_ticket(1)).unwrap());
        let r = store.read().unwrap();
        assert!(r.entries(TicketId(1)).unwrap().is_empty());
        assert!(r.ticket_mail(TicketId(1)).unwrap().is_empty());
    }

    /// The cache of sources keeps the newest within its bytes.
    #[test]
    fn the_source_cache_keeps_the_newest_within_its_bytes() {
        let cache = super::SourceCache::default();
        let mib = std::sync::Arc::new(vec![0u8; 1 << 20]);
        for i in 0..6 {
            cache.put(&i.to_string(), mib.clone());
        }
        assert!(cache.get("0").is_none() && cache.get("1").is_none());
        assert!((2..6).all(|i| cache.get(&i.to_string()).is_some()));
    }

    proptest::proptest! {
        /// Any id reads back from the front of stored details as it was
        /// written, with what follows it; a hex SHA-256 takes 33 bytes.
        #[test]
        fn a_source_name_reads_back(id in "[0-9a-fA-Z@._-]{0,100}", hash in "[0-9a-f]{64}", tail in proptest::collection::vec(proptest::num::u8::ANY, 0..20)) {
            for id in [id.as_str(), hash.as_str()] {
                let mut out = Vec::new();
                proptest::prop_assert!(super::put_id(&mut out, id));
                if id == hash {
                    proptest::prop_assert_eq!(out.len(), 33);
                }
                out.extend_from_slice(&tail);
                let (back, rest) = super::take_id(&out).unwrap();
                proptest::prop_assert_eq!((back.as_str(), rest), (id, tail.as_slice()));
            }
            // Cut short, or a length byte no writer makes: damage, not a panic.
            proptest::prop_assert!(super::take_id(&[super::BINARY_ID, 1, 2]).is_none());
            proptest::prop_assert!(super::take_id(&[0x90]).is_none());
        }
    }
}
