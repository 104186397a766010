//! The conversion of existing data to today's stored form (schema 6 brought
//! it, schema 13 runs it again): records and blobs written plain or
//! lz4-compressed are rewritten zstd-compressed, tickets drop the description
//! schema 13 no longer keeps, blobs are cut in today's chunks. It runs in
//! batches of their own transactions after the schema migration, so a large
//! data dir converts with progress in the log and a stop or crash part-way
//! resumes where it left off (a cursor per record table in `meta`; blobs
//! are looked at again from the first, those done skipped). Until it is
//! done, every form is read alike. Blob references are counted only for
//! data from before schema 6 (`COUNT_REFS`).

use std::time::{Duration, Instant};

use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata};

use super::blobs::blob_codec;
use super::{
    BLOB_CHUNK, BLOB_CHUNKS, BLOB_PACKED, BLOB_ZSTD, BLOBS, ENTRIES, ENTRY_MAIL, JUNK, META, OUTBOX, PEOPLE, Result, TICKETS, blob_size,
    codec, compress, packs,
};

/// `meta` key present while the conversion still has work.
pub(crate) const PENDING: &str = "recompress.pending";
/// The prefix of the conversion's cursors in `meta`.
pub(crate) const CURSORS: &str = "recompress.";
/// `meta` key present when the conversion must also count every blob's
/// references (data from before schema 6, which counted none).
pub(crate) const COUNT_REFS: &str = "recompress.count_refs";
/// Records per transaction.
const BATCH: usize = 2000;

/// Rewrites one codec table from its cursor on with `$convert` (the new
/// bytes of a record, or `None` to leave it), `BATCH` rows per transaction;
/// the cursor (`meta` `recompress.<table>`, and `.seq` for pair keys) is
/// the next key to look at.
macro_rules! convert {
    ($db:expr, $table:expr, $name:literal, $progress:expr, $convert:expr, single) => {{
        let cursor = concat!("recompress.", $name);
        let total = $db.begin_read()?.open_table($table)?.len()?;
        let mut seen = 0u64;
        loop {
            let tx = $db.begin_write()?;
            let from = tx.open_table(META)?.get(cursor)?.map(|v| v.value()).unwrap_or(0);
            let mut rows: Vec<(u64, Option<Vec<u8>>)> = Vec::new();
            for row in tx.open_table($table)?.range(from..)?.take(BATCH) {
                let (k, v) = row?;
                rows.push((k.value(), $convert(v.value())));
            }
            let Some(&(last, _)) = rows.last() else { break };
            {
                let mut t = tx.open_table($table)?;
                for (k, packed) in &rows {
                    if let Some(p) = packed {
                        t.insert(*k, p.as_slice())?;
                        $progress.done += 1;
                    }
                }
            }
            // The last possible key ends the table.
            let Some(next) = last.checked_add(1) else {
                tx.commit()?;
                break;
            };
            tx.open_table(META)?.insert(cursor, next)?;
            tx.commit()?;
            seen += rows.len() as u64;
            $progress.tick($name, seen, total);
        }
    }};
    ($db:expr, $table:expr, $name:literal, $progress:expr, $convert:expr, pair) => {{
        let (cursor, cursor_seq) = (concat!("recompress.", $name), concat!("recompress.", $name, ".seq"));
        let total = $db.begin_read()?.open_table($table)?.len()?;
        let mut seen = 0u64;
        loop {
            let tx = $db.begin_write()?;
            let from = {
                let meta = tx.open_table(META)?;
                let a = meta.get(cursor)?.map(|v| v.value()).unwrap_or(0);
                let b = meta.get(cursor_seq)?.map(|v| v.value()).unwrap_or(0);
                (a, b as u32)
            };
            let mut rows: Vec<((u64, u32), Option<Vec<u8>>)> = Vec::new();
            for row in tx.open_table($table)?.range(from..)?.take(BATCH) {
                let (k, v) = row?;
                rows.push((k.value(), $convert(v.value())));
            }
            let Some(&((ticket, seq), _)) = rows.last() else { break };
            {
                let mut t = tx.open_table($table)?;
                for (k, packed) in &rows {
                    if let Some(p) = packed {
                        t.insert(*k, p.as_slice())?;
                        $progress.done += 1;
                    }
                }
            }
            let next = match seq.checked_add(1) {
                Some(s) => (ticket, s),
                None => match ticket.checked_add(1) {
                    Some(t) => (t, 0),
                    // The last possible key ends the table.
                    None => {
                        tx.commit()?;
                        break;
                    }
                },
            };
            {
                let mut meta = tx.open_table(META)?;
                meta.insert(cursor, next.0)?;
                meta.insert(cursor_seq, u64::from(next.1))?;
            }
            tx.commit()?;
            seen += rows.len() as u64;
            $progress.tick($name, seen, total);
        }
    }};
}

/// Runs the conversion if it is pending; returns the records rewritten.
pub(crate) fn run(db: &Database) -> Result<u64> {
    {
        let r = db.begin_read()?;
        if r.open_table(META)?.get(PENDING)?.is_none() {
            return Ok(0);
        }
    }
    let mut progress = Progress { started: Instant::now(), last: Instant::now(), done: 0 };
    convert!(db, TICKETS, "tickets", progress, codec::reencode_ticket, single);
    convert!(db, ENTRIES, "entries", progress, codec::recompress, pair);
    convert!(db, ENTRY_MAIL, "entry_mail", progress, codec::recompress, pair);
    convert!(db, OUTBOX, "outbox", progress, codec::recompress, single);
    convert!(db, JUNK, "junk", progress, codec::recompress, single);
    convert!(db, PEOPLE, "people", progress, codec::recompress, single);
    blobs(db, &mut progress)?;
    // Counting references (when asked) and removing the marks commit together.
    let tx = db.begin_write()?;
    if tx.open_table(META)?.get(COUNT_REFS)?.is_some() {
        count_references(&tx)?;
        tx.open_table(META)?.remove(COUNT_REFS)?;
    }
    tx.open_table(META)?.remove(PENDING)?;
    tx.commit()?;
    if progress.done > 0 {
        tracing::info!("stored data compressed: {} records and blobs in {:.1} s", progress.done, progress.started.elapsed().as_secs_f64());
    }
    Ok(progress.done)
}

struct Progress {
    started: Instant,
    last: Instant,
    done: u64,
}

impl Progress {
    fn tick(&mut self, what: &str, at: u64, of: u64) {
        if self.last.elapsed() >= Duration::from_secs(2) {
            self.last = Instant::now();
            tracing::info!("compressing stored data: {what} {at}/{of}");
        }
    }
}

/// Counts, in one transaction, the records that name each blob (entries'
/// attachments, mail details' raw source and HTML, junk's raw source) and
/// deletes the blobs nothing names: before schema 6 nothing was counted and
/// nothing was ever deleted.
///
/// It reads records as schemas before 15 stored them: it runs (for data from
/// before schema 6) before `store::sourced::convert` stores any record
/// against its mail's source, and no mail arrives before both are done.
fn count_references(tx: &redb::WriteTransaction) -> Result<()> {
    use std::collections::HashMap;
    let mut refs: HashMap<String, u64> = HashMap::new();
    // A record that cannot be read names blobs no one can know: it is
    // skipped (and logged), and then no blob is taken for an orphan.
    let mut unreadable = 0u64;
    let mut note = |table: &str, e: super::StoreError| {
        unreadable += 1;
        tracing::warn!("counting blob references: a record in {table} cannot be read ({e}); unreferenced blobs are kept");
    };
    for row in tx.open_table(ENTRIES)?.iter()? {
        let (_, v) = row?;
        match codec::decode::<crate::domain::ThreadEntry>(v.value(), "entries") {
            Ok(e) => e.attachments.into_iter().for_each(|a| *refs.entry(a.blob).or_default() += 1),
            Err(e) => note("entries", e),
        }
    }
    for row in tx.open_table(ENTRY_MAIL)?.iter()? {
        let (_, v) = row?;
        match codec::decode_mail_meta(v.value()) {
            Ok(m) => m.blobs().for_each(|id| *refs.entry(id.to_string()).or_default() += 1),
            Err(e) => note("entry_mail", e),
        }
    }
    for row in tx.open_table(JUNK)?.iter()? {
        let (_, v) = row?;
        match codec::decode::<super::JunkMail>(v.value(), "junk") {
            Ok(j) => *refs.entry(j.raw_blob).or_default() += 1,
            Err(e) => note("junk", e),
        }
    }
    for row in tx.open_table(OUTBOX)?.iter()? {
        let (_, v) = row?;
        match codec::decode::<super::OutMail>(v.value(), "outbox") {
            Ok(m) => m.attachments.into_iter().for_each(|a| *refs.entry(a.blob).or_default() += 1),
            Err(e) => note("outbox", e),
        }
    }
    for row in tx.open_table(super::kb::KB_ARTICLES)?.iter()? {
        let (_, v) = row?;
        match codec::decode::<crate::domain::kb::Article>(v.value(), "kb_articles") {
            Ok(a) => super::kb::blobs_of(Some(&a)).into_iter().for_each(|b| *refs.entry(b).or_default() += 1),
            Err(e) => note("kb_articles", e),
        }
    }
    let mut orphans = Vec::new();
    if unreadable == 0 {
        for row in tx.open_table(BLOBS)?.iter()? {
            let (k, _) = row?;
            if !refs.contains_key(k.value()) {
                orphans.push(k.value().to_string());
            }
        }
    }
    {
        let mut counts = tx.open_table(super::blobs::BLOB_REFS)?;
        for (id, n) in &refs {
            counts.insert(id.as_str(), *n)?;
        }
    }
    for id in &orphans {
        super::blobs::delete_blob(tx, id)?;
        tx.open_table(super::blobs::BLOB_REFS)?.remove(id.as_str())?;
    }
    if !orphans.is_empty() {
        tracing::info!("deleted {} stored blobs nothing referenced", orphans.len());
    }
    Ok(())
}

/// Rewrites blobs not yet in today's form (zstd; packed when small, else in
/// today's chunks), in blob id order; those done are skipped when a
/// stopped conversion resumes.
fn blobs(db: &Database, progress: &mut Progress) -> Result<()> {
    let total = db.begin_read()?.open_table(BLOBS)?.len()?;
    let mut seen = 0u64;
    let mut after = String::new();
    loop {
        let tx = db.begin_write()?;
        let mut batch: Vec<(String, u64)> = Vec::new();
        let mut bytes = 0u64;
        {
            let t = tx.open_table(BLOBS)?;
            for row in t.range(after.as_str()..)? {
                let (k, v) = row?;
                if k.value() == after {
                    continue;
                }
                batch.push((k.value().to_string(), v.value()));
                // At most 200 blobs or 64 MiB of content per transaction.
                bytes += blob_size(v.value());
                if batch.len() >= BATCH / 10 || bytes >= 64 << 20 {
                    break;
                }
            }
        }
        let Some((last, _)) = batch.last() else {
            tx.abort()?;
            return Ok(());
        };
        after = last.clone();
        let mut packer = packs::Appender::default();
        for (id, header) in &batch {
            seen += 1;
            if header & (BLOB_ZSTD | BLOB_PACKED) != 0 {
                continue;
            }
            let size = blob_size(*header);
            let mut stored = Vec::with_capacity((size as usize).min(BLOB_CHUNK * 16));
            let mut sizes = Vec::new();
            let keys: Vec<u32> = {
                let chunks = tx.open_table(BLOB_CHUNKS)?;
                let mut keys = Vec::new();
                for row in chunks.range((id.as_str(), 0)..=(id.as_str(), u32::MAX))? {
                    let (k, v) = row?;
                    keys.push(k.value().1);
                    sizes.push(v.value().len());
                    stored.extend_from_slice(v.value());
                }
                keys
            };
            let codec = blob_codec(*header);
            let data = match codec {
                Some(c) => match compress::unsqueeze(c, &stored, size as usize) {
                    Ok(d) => d,
                    Err(e) => {
                        // Left as it is: reading it says what is wrong.
                        tracing::warn!("converting stored blob {id}: {e}; left as it is");
                        continue;
                    }
                },
                None => stored,
            };
            let today: Vec<usize> = data.chunks(BLOB_CHUNK).map(<[u8]>::len).collect();
            if codec.is_none()
                && (data.is_empty() || data.len() > packs::PACK_LIMIT)
                && sizes == today
                && compress::squeeze(&data).is_none()
            {
                // Plain, incompressible, too large to pack and in today's chunks already.
                continue;
            }
            {
                let mut chunks = tx.open_table(BLOB_CHUNKS)?;
                for i in keys {
                    chunks.remove((id.as_str(), i))?;
                }
            }
            super::blobs::store_content(&tx, &mut packer, id, &data)?;
            progress.done += 1;
        }
        packer.flush(&tx)?;
        tx.commit()?;
        progress.tick("blobs", seen, total);
    }
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use crate::domain::{Channel, EntryKind, JunkId, PersonId, Priority, Status, ThreadEntry, TicketId, Timestamp};

    /// A record that cannot be read does not stop the upgrade, and then no
    /// blob is taken for an orphan (what it named cannot be known).
    #[test]
    fn an_unreadable_record_keeps_every_blob() {
        let dir = tempfile::tempdir().unwrap();
        let content = b"an attachment some damaged entry may name".repeat(4);
        let id = sha256_hex(&content);
        {
            let store = Store::open(dir.path()).unwrap();
            store
                .write(|w| -> Result<()> {
                    w.tx.open_table(ENTRIES)?.insert((1, 1), &[1u8, 0xff, 0xff, 0xff][..])?;
                    w.tx.open_table(BLOBS)?.insert(id.as_str(), content.len() as u64)?;
                    w.tx.open_table(BLOB_CHUNKS)?.insert((id.as_str(), 0), content.as_slice())?;
                    w.tx.open_table(META)?.insert(super::PENDING, 1)?;
                    w.tx.open_table(META)?.insert(super::COUNT_REFS, 1)?;
                    Ok(())
                })
                .unwrap();
        }
        let store = Store::open(dir.path()).expect("opens despite the damaged entry");
        let r = store.read().unwrap();
        assert_eq!(r.blob(&id).unwrap().as_deref(), Some(&content[..]));
        assert!(r.tx.open_table(META).unwrap().get(super::PENDING).unwrap().is_none());
    }

    /// What schema 5 wrote (plain records and blobs) reads the same after
    /// the upgrade and is then stored compressed.
    #[test]
    fn data_written_before_schema_6_is_compressed_on_upgrade() {
        let dir = tempfile::tempdir().unwrap();
        let long = "The VPN drops every few minutes since the update on Monday. ".repeat(60);
        let ticket = migrate::TicketV1 {
            id: 1,
            subject: "vpn".into(),
            description: long.clone(),
            requester: 1,
            channel: Channel::Email,
            status: Status::Open,
            priority: Priority::Medium,
            category: "General".into(),
            department: "Support".into(),
            assignee: None,
            created_at: Timestamp(1),
            updated_at: Timestamp(1),
        };
        let raw = long.as_bytes().to_vec();
        let blob = sha256_hex(&raw);
        let orphan = b"a blob no record names, left by an older release".repeat(4);
        let picture = b"a picture of the VPN dialog".repeat(8);
        let picture_id = sha256_hex(&picture);
        let mut article = crate::domain::kb::sample_article(3, "VPN");
        article.files = vec![crate::domain::thread::AttachmentRef {
            filename: "dialog.png".into(),
            content_type: "image/png".into(),
            size: picture.len() as u64,
            blob: picture_id.clone(),
        }];
        let orphan_id = sha256_hex(&orphan);
        {
            let store = Store::open(dir.path()).unwrap();
            store
                .write(|w| -> Result<()> {
                    let mut plain = vec![codec::RECORD_V1];
                    plain.extend(postcard::to_allocvec(&ticket).unwrap());
                    w.tx.open_table(TICKETS)?.insert(1, plain.as_slice())?;
                    w.tx.open_table(BLOBS)?.insert(blob.as_str(), raw.len() as u64)?;
                    w.tx.open_table(BLOB_CHUNKS)?.insert((blob.as_str(), 0), raw.as_slice())?;
                    w.tx.open_table(BLOBS)?.insert(orphan_id.as_str(), orphan.len() as u64)?;
                    w.tx.open_table(BLOB_CHUNKS)?.insert((orphan_id.as_str(), 0), orphan.as_slice())?;
                    // A junk record names the first blob (schema 5 counted nothing).
                    w.tx.open_table(JUNK)?.insert(7, codec::encode(&JunkMail::sample(7, &blob)).as_slice())?;
                    // A knowledge base article's file, named by nothing else.
                    w.tx.open_table(BLOBS)?.insert(picture_id.as_str(), picture.len() as u64)?;
                    w.tx.open_table(BLOB_CHUNKS)?.insert((picture_id.as_str(), 0), picture.as_slice())?;
                    w.tx.open_table(kb::KB_ARTICLES)?.insert(3, codec::encode(&article).as_slice())?;
                    w.tx.open_table(META)?.insert(super::PENDING, 1)?;
                    w.tx.open_table(META)?.insert(super::COUNT_REFS, 1)?;
                    Ok(())
                })
                .unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let r = store.read().unwrap();
        assert_eq!(r.blob(&picture_id).unwrap().as_ref(), Some(&picture), "an article's file is kept");
        assert_eq!(r.blob_refs(&picture_id).unwrap(), Some(1));
        assert_eq!(r.ticket(TicketId(1)).unwrap().unwrap().subject, "vpn");
        assert_eq!(r.blob(&blob).unwrap().unwrap(), raw);
        let tickets = r.tx.open_table(TICKETS).unwrap();
        let stored = tickets.get(1).unwrap().unwrap();
        // Today's record version, without the description's second copy.
        assert_eq!(stored.value()[0], codec::TICKET_V5);
        assert!(stored.value().len() < 64, "{} bytes", stored.value().len());
        let header = r.tx.open_table(BLOBS).unwrap().get(blob.as_str()).unwrap().unwrap().value();
        assert_eq!(header, raw.len() as u64 | BLOB_ZSTD | BLOB_PACKED, "compressed and packed");
        assert!(r.tx.open_table(META).unwrap().get(super::PENDING).unwrap().is_none(), "the conversion finished");
        assert_eq!(r.blob_refs(&blob).unwrap(), Some(1), "the junk record's reference is counted");
        assert_eq!(r.blob(&orphan_id).unwrap(), None, "a blob nothing names is deleted");
        drop(r);
        // Deleting the junk record deletes the blob it alone held.
        store.write(|w| w.delete_junk(JunkId(7))).unwrap();
        assert_eq!(store.read().unwrap().blob(&blob).unwrap(), None);
        // A blob stored and named by nothing in the same transaction is not kept.
        let dropped = store.write(|w| w.put_blob(&raw[..2000])).unwrap();
        assert_eq!(store.read().unwrap().blob(&dropped).unwrap(), None);
    }

    /// What schemas 6–12 wrote (lz4 records and blobs in 64 KiB chunks, the
    /// ticket with its description) reads the same after the upgrade and is
    /// then stored zstd-compressed in today's chunks, the ticket without
    /// the description.
    #[test]
    fn lz4_data_of_schema_12_is_converted_to_zstd() {
        let dir = tempfile::tempdir().unwrap();
        let long = "The printer on the third floor prints blank pages since Monday. ".repeat(40);
        // Record version 4 of a ticket: version 2's fields, the team, then
        // custom status, mailbox and fields (nested tuples: postcard
        // writes them one after the other).
        let v4 = (
            (1u64, "printer".to_string(), long.clone(), PersonId(2), Channel::Email, Status::Open, Priority::High),
            ("General".to_string(), "Support".to_string(), None::<PersonId>, None::<crate::domain::time::Date>, vec!["print".to_string()]),
            (Timestamp(5), Timestamp(6), None::<String>, Some("Waiting".to_string()), Some("help@x.test".to_string())),
            vec![("device".to_string(), "Laptop".to_string())],
        );
        let lz4 = |version: u8, plain: &[u8]| {
            let mut out = vec![version | codec::COMPRESSED];
            out.extend(compress::squeeze_lz4(plain));
            out
        };
        let entry = ThreadEntry {
            ticket: TicketId(1),
            seq: 1,
            kind: EntryKind::Reply,
            author: Some(PersonId(2)),
            body: long.clone(),
            event: None,
            attachments: Vec::new(),
            created_at: Timestamp(5),
        };
        // A blob of 200 KB, lz4-compressed in chunks of 64 KiB.
        let raw: Vec<u8> = (0..200_000u32).map(|i| b"abcdefghij"[(i % 7 + i / 5000 % 3) as usize]).collect();
        let blob = sha256_hex(&raw);
        let packed = compress::squeeze_lz4(&raw);
        {
            let store = Store::open(dir.path()).unwrap();
            store
                .write(|w| -> Result<()> {
                    w.tx.open_table(TICKETS)?.insert(1, lz4(codec::TICKET_V4, &postcard::to_allocvec(&v4).unwrap()).as_slice())?;
                    w.tx.open_table(ENTRIES)?.insert((1, 1), lz4(codec::RECORD_V1, &postcard::to_allocvec(&entry).unwrap()).as_slice())?;
                    w.tx.open_table(BLOBS)?.insert(blob.as_str(), raw.len() as u64 | BLOB_LZ4)?;
                    let mut chunks = w.tx.open_table(BLOB_CHUNKS)?;
                    for (i, c) in packed.chunks(64 * 1024).enumerate() {
                        chunks.insert((blob.as_str(), i as u32), c)?;
                    }
                    // A junk record names the blob, so it is kept.
                    w.tx.open_table(JUNK)?.insert(7, codec::encode(&JunkMail::sample(7, &blob)).as_slice())?;
                    w.tx.open_table(META)?.insert(super::PENDING, 1)?;
                    Ok(())
                })
                .unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let r = store.read().unwrap();
        let t = r.ticket(TicketId(1)).unwrap().unwrap();
        assert_eq!((t.subject.as_str(), t.priority, t.custom_status.as_deref()), ("printer", Priority::High, Some("Waiting")));
        assert_eq!(t.fields, v4.3);
        assert_eq!(r.entries(TicketId(1)).unwrap(), vec![entry]);
        assert_eq!(r.first_message(&t).unwrap(), long);
        assert_eq!(r.blob(&blob).unwrap().unwrap(), raw);
        let stored_ticket = r.tx.open_table(TICKETS).unwrap().get(1).unwrap().unwrap().value().to_vec();
        assert_eq!(stored_ticket[0] & !codec::ZSTD, codec::TICKET_V5);
        assert!(stored_ticket.len() < 128, "the ticket keeps no description: {} bytes", stored_ticket.len());
        let stored_entry = r.tx.open_table(ENTRIES).unwrap().get((1, 1)).unwrap().unwrap().value().to_vec();
        assert_eq!(stored_entry[0], codec::RECORD_V1 | codec::ZSTD);
        let header = r.tx.open_table(BLOBS).unwrap().get(blob.as_str()).unwrap().unwrap().value();
        assert_eq!(header, raw.len() as u64 | BLOB_ZSTD | BLOB_PACKED, "compressed and packed");
        let chunks = r.tx.open_table(BLOB_CHUNKS).unwrap();
        for row in chunks.range((blob.as_str(), 0)..=(blob.as_str(), u32::MAX)).unwrap() {
            assert!(row.unwrap().1.value().len() <= BLOB_CHUNK);
        }
        assert!(r.tx.open_table(META).unwrap().get(super::PENDING).unwrap().is_none(), "the conversion finished");
    }

    /// Data of schemas 6–12 has its references counted already: upgrading
    /// it recounts nothing, so a file only a knowledge base article holds
    /// stays, with its count.
    #[test]
    fn an_upgrade_from_schema_12_keeps_an_articles_file() {
        let dir = tempfile::tempdir().unwrap();
        let picture = b"a screenshot of the printer's menu".repeat(8);
        let id = {
            let store = Store::open(dir.path()).unwrap();
            store
                .write(|w| -> Result<String> {
                    let id = w.put_blob(&picture)?;
                    let mut article = crate::domain::kb::sample_article(1, "Printer");
                    article.files = vec![crate::domain::thread::AttachmentRef {
                        filename: "menu.png".into(),
                        content_type: "image/png".into(),
                        size: picture.len() as u64,
                        blob: id.clone(),
                    }];
                    w.put_article(None, &article)?;
                    w.put_ticket(
                        None,
                        &migrate::TicketV1 {
                            id: 1,
                            subject: "s".into(),
                            description: String::new(),
                            requester: 1,
                            channel: Channel::Email,
                            status: Status::Open,
                            priority: Priority::Medium,
                            category: "General".into(),
                            department: "Support".into(),
                            assignee: None,
                            created_at: Timestamp(1),
                            updated_at: Timestamp(1),
                        }
                        .upgrade(),
                    )?;
                    w.set_meta("schema_version", 12)?;
                    Ok(id)
                })
                .unwrap()
        };
        let store = Store::open(dir.path()).unwrap();
        let r = store.read().unwrap();
        assert_eq!(r.meta("schema_version").unwrap(), SCHEMA_VERSION);
        assert_eq!(r.blob(&id).unwrap(), Some(picture));
        assert_eq!(r.blob_refs(&id).unwrap(), Some(1));
    }
}
