//! Blob packs (schema 13): small blobs — most mails' raw source, once
//! compressed — are kept one after another in pack values of up to
//! `BLOB_CHUNK` bytes instead of one value each. redb puts a value of a
//! kilobyte or two in a 4 KiB leaf with room for one or two, so such values
//! left about 45 % of their pages empty; a full pack fills a 64 KiB run.
//!
//! A packed blob's one `BLOB_CHUNKS` row holds its place (pack, offset,
//! length) instead of content. `PACK_CONTENTS` lists what each pack holds,
//! so removing a blob can delete an empty pack or rewrite one that is more
//! than half dead. New blobs go at the end of the last pack while it has
//! room; a transaction's appends are written once, before it commits.

use redb::{ReadableTable, TableDefinition};

use super::{BLOB_CHUNK, BLOB_CHUNKS, BLOB_PACKED, BLOBS, Result, StoreError};

/// Pack id → the stored (compressed) bytes of small blobs, one after another.
pub(crate) const BLOB_PACKS: TableDefinition<u64, &[u8]> = TableDefinition::new("blob_packs");
/// (pack, offset) → (blob id, stored length): what each pack holds.
pub(crate) const PACK_CONTENTS: TableDefinition<(u64, u32), (&str, u32)> = TableDefinition::new("pack_contents");

/// Stored blobs up to this size are packed; larger ones keep their chunks
/// (a pack closes with at most this much room left, so packs are ≥ 75 % full).
pub(crate) const PACK_LIMIT: usize = 16 * 1024;

/// Where a packed blob's stored bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Place {
    pub pack: u64,
    pub offset: u32,
    pub len: u32,
}

impl Place {
    fn encode(self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&self.pack.to_le_bytes());
        out[8..12].copy_from_slice(&self.offset.to_le_bytes());
        out[12..].copy_from_slice(&self.len.to_le_bytes());
        out
    }

    fn decode(bytes: &[u8]) -> Result<Place> {
        let corrupt = || StoreError::Corrupt { table: "blob_chunks", detail: format!("a packed blob's place of {} bytes", bytes.len()) };
        let b: &[u8; 16] = bytes.try_into().map_err(|_| corrupt())?;
        let (pack, rest) = b.split_first_chunk::<8>().ok_or_else(corrupt)?;
        let (offset, len) = rest.split_first_chunk::<4>().ok_or_else(corrupt)?;
        let len: &[u8; 4] = len.try_into().map_err(|_| corrupt())?;
        Ok(Place { pack: u64::from_le_bytes(*pack), offset: u32::from_le_bytes(*offset), len: u32::from_le_bytes(*len) })
    }
}

/// A packed blob's place, from its `BLOB_CHUNKS` row.
pub(crate) fn place_of(chunks: &impl ReadableTable<(&'static str, u32), &'static [u8]>, id: &str) -> Result<Place> {
    match chunks.get((id, 0))? {
        Some(v) => Place::decode(v.value()),
        None => Err(StoreError::Corrupt { table: "blob_chunks", detail: format!("packed blob {id} has no place") }),
    }
}

/// A packed blob's stored bytes.
pub(crate) fn read(packs: &impl ReadableTable<u64, &'static [u8]>, place: Place) -> Result<Vec<u8>> {
    let pack = packs
        .get(place.pack)?
        .ok_or_else(|| StoreError::Corrupt { table: "blob_packs", detail: format!("pack {} is missing", place.pack) })?;
    Ok(read_slice(pack.value(), place.pack, place.offset, place.len)?.to_vec())
}

/// The pack new blobs go into, kept in memory while a transaction appends
/// to it and written once before the transaction commits (`flush`), so a
/// batch of mails writes each pack once instead of once per mail.
#[derive(Default)]
pub(crate) struct Appender {
    /// The open pack: its id, its bytes, and whether anything was appended.
    open: Option<(u64, Vec<u8>, bool)>,
}

impl Appender {
    /// Appends a blob's stored bytes to the last pack (or a new one when it
    /// is full) and records its place in its `BLOB_CHUNKS` row.
    pub(crate) fn put(&mut self, tx: &redb::WriteTransaction, id: &str, stored: &[u8]) -> Result<()> {
        if stored.is_empty() {
            // Its place would be the next blob's key in `PACK_CONTENTS`.
            return Err(StoreError::Corrupt { table: "blob_packs", detail: "an empty blob cannot be packed".into() });
        }
        let len = u32::try_from(stored.len())
            .map_err(|_| StoreError::Corrupt { table: "blob_packs", detail: "blob too large to pack".into() })?;
        let (pack, full) = match &self.open {
            Some((pack, bytes, _)) => (*pack, bytes.len() + stored.len() > BLOB_CHUNK),
            None => {
                let last = tx.open_table(BLOB_PACKS)?.last()?.map(|(k, v)| (k.value(), v.value().to_vec()));
                let (pack, mut bytes) = last.unwrap_or((1, Vec::new()));
                // The pack was written padded (`flush`): it holds what its
                // contents say, up to the end of the last blob listed.
                let used = match tx.open_table(PACK_CONTENTS)?.range((pack, 0)..=(pack, u32::MAX))?.next_back() {
                    Some(row) => {
                        let (k, v) = row?;
                        k.value().1 as usize + v.value().1 as usize
                    }
                    None => 0,
                };
                bytes.truncate(used);
                let full = bytes.len() + stored.len() > BLOB_CHUNK;
                self.open = Some((pack, bytes, false));
                (pack, full)
            }
        };
        if full {
            self.flush(tx)?;
            self.open = Some((pack + 1, Vec::new(), false));
        }
        let Some((pack, bytes, appended)) = self.open.as_mut() else { return Ok(()) };
        let place = Place { pack: *pack, offset: bytes.len() as u32, len };
        bytes.extend_from_slice(stored);
        *appended = true;
        tx.open_table(PACK_CONTENTS)?.insert((place.pack, place.offset), (id, len))?;
        tx.open_table(BLOB_CHUNKS)?.insert((id, 0), place.encode().as_slice())?;
        Ok(())
    }

    /// A blob's stored bytes when its place is in the open pack, which may
    /// hold appends not written yet (`None`: another pack, read it).
    pub(crate) fn read_open(&self, place: Place) -> Option<Vec<u8>> {
        let (pack, bytes, _) = self.open.as_ref()?;
        if *pack != place.pack {
            return None;
        }
        read_slice(bytes, place.pack, place.offset, place.len).ok().map(<[u8]>::to_vec)
    }

    /// Writes the open pack if anything was appended to it, padded to its
    /// full size: every pack then takes the same pages (redb rounds a value
    /// up to a power of two of them), so the copy a later append frees is a
    /// hole the next pack fits, instead of holes of every size that a
    /// compaction cannot fill. The next `put` reads the last pack again.
    pub(crate) fn flush(&mut self, tx: &redb::WriteTransaction) -> Result<()> {
        if let Some((pack, mut bytes, true)) = self.open.take() {
            if bytes.len() < BLOB_CHUNK {
                bytes.resize(BLOB_CHUNK, 0);
            }
            tx.open_table(BLOB_PACKS)?.insert(pack, bytes.as_slice())?;
        }
        Ok(())
    }
}

/// Removes a packed blob: its place row, its line in the pack's contents,
/// and the pack when nothing is left in it; a pack more than half dead is
/// rewritten with what is left (their places move).
pub(crate) fn remove(tx: &redb::WriteTransaction, id: &str) -> Result<()> {
    // A damaged place, or one whose contents row names another blob, is
    // dropped with its row: deleting never fails on it and never takes
    // another blob's row (the pack keeps the dead bytes until a rewrite).
    let place = place_of(&tx.open_table(BLOB_CHUNKS)?, id);
    tx.open_table(BLOB_CHUNKS)?.remove((id, 0))?;
    let mut contents = tx.open_table(PACK_CONTENTS)?;
    let place = match place {
        Ok(p) if contents.get((p.pack, p.offset))?.is_some_and(|v| v.value() == (id, p.len)) => p,
        Ok(p) => {
            tracing::warn!("deleting blob {id}: pack {} does not list it at {}; its place is dropped", p.pack, p.offset);
            return Ok(());
        }
        Err(e) => {
            tracing::warn!("deleting blob {id}: {e}; its place is dropped");
            return Ok(());
        }
    };
    contents.remove((place.pack, place.offset))?;
    // What the pack still holds: rows of blobs that are gone (a place
    // dropped as damaged) count as dead and go.
    let heads = tx.open_table(BLOBS)?;
    let mut live: Vec<(u32, String, u32)> = Vec::new();
    let mut dead: Vec<u32> = Vec::new();
    // How much of the pack its blobs span (the value is padded, `flush`).
    let mut span = place.offset as usize + place.len as usize;
    for row in contents.range((place.pack, 0)..=(place.pack, u32::MAX))? {
        let (k, v) = row?;
        let (blob, len) = v.value();
        span = span.max(k.value().1 as usize + len as usize);
        if heads.get(blob)?.is_some_and(|h| h.value() & BLOB_PACKED != 0) {
            live.push((k.value().1, blob.to_string(), len));
        } else {
            dead.push(k.value().1);
        }
    }
    drop(heads);
    for offset in dead {
        contents.remove((place.pack, offset))?;
    }
    let mut packs = tx.open_table(BLOB_PACKS)?;
    if live.is_empty() {
        packs.remove(place.pack)?;
        return Ok(());
    }
    let old = match packs.get(place.pack)? {
        Some(v) => v.value().to_vec(),
        None => return Ok(()),
    };
    let live_bytes: usize = live.iter().map(|(_, _, n)| *n as usize).sum();
    if live_bytes * 2 >= span.min(old.len()) {
        return Ok(());
    }
    // A pack shorter than its contents say is left as it is (reading what
    // it cannot hold says so), not rewritten.
    if let Some((offset, _, len)) = live.iter().find(|(o, _, n)| read_slice(&old, place.pack, *o, *n).is_err()) {
        tracing::warn!("pack {} does not hold {len} bytes at {offset}; left as it is", place.pack);
        return Ok(());
    }
    let mut chunks = tx.open_table(BLOB_CHUNKS)?;
    let mut bytes = Vec::with_capacity(live_bytes);
    for (offset, blob, len) in &live {
        let piece = read_slice(&old, place.pack, *offset, *len)?;
        let moved = Place { pack: place.pack, offset: bytes.len() as u32, len: *len };
        bytes.extend_from_slice(piece);
        contents.remove((place.pack, *offset))?;
        contents.insert((place.pack, moved.offset), (blob.as_str(), *len))?;
        chunks.insert((blob.as_str(), 0), moved.encode().as_slice())?;
    }
    packs.insert(place.pack, bytes.as_slice())?;
    Ok(())
}

fn read_slice(pack: &[u8], id: u64, offset: u32, len: u32) -> Result<&[u8]> {
    let start = offset as usize;
    start
        .checked_add(len as usize)
        .and_then(|end| pack.get(start..end))
        .ok_or_else(|| StoreError::Corrupt { table: "blob_packs", detail: format!("pack {id} is shorter than its contents say") })
}

#[cfg(test)]
mod tests {
    use redb::ReadableTableMetadata;

    use super::super::{BLOB_PACKED, BLOBS, Store};
    use super::*;

    /// A blob's content that zstd can barely shrink, so a pack holds few.
    fn noisy(seed: u64, len: usize) -> Vec<u8> {
        let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 32) as u8
            })
            .collect()
    }

    /// Small blobs share packs; removing them rewrites a pack once more than
    /// half of it is dead and deletes an empty one, and every blob left
    /// reads back byte for byte.
    #[test]
    fn small_blobs_share_packs_and_removing_them_gives_the_room_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let blobs: Vec<Vec<u8>> = (0..60).map(|i| noisy(i, 3000 + i as usize * 10)).collect();
        let ids: Vec<String> = store
            .write(|w| -> super::super::Result<Vec<String>> {
                let ids: Vec<String> = blobs.iter().map(|b| w.put_blob(b)).collect::<super::super::Result<_>>()?;
                ids.iter().try_for_each(|id| w.hold_blob(id))?;
                Ok(ids)
            })
            .unwrap();
        let pack_count = |store: &Store| store.read().unwrap().tx.open_table(BLOB_PACKS).unwrap().len().unwrap();
        let r = store.read().unwrap();
        for (id, b) in ids.iter().zip(&blobs) {
            let header = r.tx.open_table(BLOBS).unwrap().get(id.as_str()).unwrap().unwrap().value();
            assert_ne!(header & BLOB_PACKED, 0);
            assert_eq!(r.blob(id).unwrap().as_ref(), Some(b));
        }
        drop(r);
        // 60 blobs of ~3.3 KB in packs of up to 64 KiB.
        let packs = pack_count(&store);
        assert!((3..=4).contains(&packs), "{packs} packs");
        let first_pack_len =
            |store: &Store| store.read().unwrap().tx.open_table(BLOB_PACKS).unwrap().get(1).unwrap().unwrap().value().len();
        let full = first_pack_len(&store);
        // Release two of every three of the first pack's blobs: it is rewritten smaller.
        let in_first: Vec<usize> = (0..ids.len())
            .filter(|&i| {
                let r = store.read().unwrap();
                place_of(&r.tx.open_table(BLOB_CHUNKS).unwrap(), &ids[i]).unwrap().pack == 1
            })
            .collect();
        let gone: Vec<usize> = in_first.iter().copied().filter(|i| i % 3 != 0).collect();
        store.write(|w| gone.iter().try_for_each(|&i| w.release_blob(&ids[i]))).unwrap();
        assert!(first_pack_len(&store) * 2 < full + 4096, "{} of {full} bytes", first_pack_len(&store));
        let r = store.read().unwrap();
        for (i, (id, b)) in ids.iter().zip(&blobs).enumerate() {
            let want = if gone.contains(&i) { None } else { Some(b) };
            assert_eq!(r.blob(id).unwrap().as_ref(), want, "blob {i}");
        }
        drop(r);
        // Releasing every blob leaves no pack.
        store.write(|w| ids.iter().enumerate().filter(|(i, _)| !gone.contains(i)).try_for_each(|(_, id)| w.release_blob(id))).unwrap();
        assert_eq!(pack_count(&store), 0);
        assert_eq!(store.read().unwrap().tx.open_table(PACK_CONTENTS).unwrap().len().unwrap(), 0);
    }

    /// The open pack is written padded to its full size; what counts as
    /// dead is measured against what its blobs span, not the padding, and an
    /// append after a release goes after the last blob listed.
    #[test]
    fn the_padded_open_pack_is_judged_by_what_its_blobs_span() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let blobs: Vec<Vec<u8>> = (0..3).map(|i| noisy(100 + i, 4000)).collect();
        let put = |b: &Vec<u8>| store.write(|w| w.put_blob(b).and_then(|id| w.hold_blob(&id).map(|_| id))).unwrap();
        let a = put(&blobs[0]);
        let b = put(&blobs[1]);
        let pack_len = || store.read().unwrap().tx.open_table(BLOB_PACKS).unwrap().get(1).unwrap().unwrap().value().len();
        assert_eq!(pack_len(), BLOB_CHUNK, "padded");
        // Half of what the two span is still live: not rewritten.
        store.write(|w| w.release_blob(&a)).unwrap();
        assert_eq!(pack_len(), BLOB_CHUNK);
        let c = put(&blobs[2]);
        let r = store.read().unwrap();
        assert_eq!(r.blob(&a).unwrap(), None);
        assert_eq!(r.blob(&b).unwrap().as_ref(), Some(&blobs[1]));
        assert_eq!(r.blob(&c).unwrap().as_ref(), Some(&blobs[2]));
        let place = place_of(&r.tx.open_table(BLOB_CHUNKS).unwrap(), &c).unwrap();
        let after_b = place_of(&r.tx.open_table(BLOB_CHUNKS).unwrap(), &b).unwrap();
        assert_eq!(place.offset, after_b.offset + after_b.len, "appended after the last blob listed");
    }

    #[test]
    fn a_place_round_trips_and_a_damaged_one_is_an_error() {
        let p = Place { pack: 7, offset: 4096, len: 1500 };
        assert_eq!(Place::decode(&p.encode()).unwrap(), p);
        assert!(Place::decode(&[1, 2, 3]).is_err());
    }

    /// An empty blob is not packed (its place would be the next blob's key
    /// in the pack's contents): releasing it leaves the blob after it whole.
    #[test]
    fn an_empty_blob_is_not_packed_and_releasing_it_leaves_the_next_one() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let other = noisy(1, 2000);
        let (empty, next) = store
            .write(|w| -> super::super::Result<(String, String)> {
                let (empty, next) = (w.put_blob(b"")?, w.put_blob(&other)?);
                w.hold_blob(&empty)?;
                w.hold_blob(&next)?;
                Ok((empty, next))
            })
            .unwrap();
        let header = store.read().unwrap().tx.open_table(BLOBS).unwrap().get(empty.as_str()).unwrap().unwrap().value();
        assert_eq!(header & BLOB_PACKED, 0);
        assert_eq!(store.read().unwrap().blob(&empty).unwrap(), Some(Vec::new()));
        store.write(|w| w.release_blob(&empty)).unwrap();
        assert_eq!(store.read().unwrap().blob(&next).unwrap(), Some(other));
        assert_eq!(store.read().unwrap().blob(&empty).unwrap(), None);
        store.write(|w| w.release_blob(&next)).unwrap();
        assert_eq!(store.read().unwrap().tx.open_table(BLOB_PACKS).unwrap().len().unwrap(), 0);
    }

    /// A damaged place that points at another blob is dropped on deletion:
    /// the other blob keeps its row and its bytes, also through a rewrite.
    #[test]
    fn deleting_a_blob_whose_place_points_elsewhere_leaves_the_other_whole() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (a, b) = (noisy(7, 3000), noisy(8, 3000));
        let (ida, idb) = store
            .write(|w| -> super::super::Result<(String, String)> {
                let (ida, idb) = (w.put_blob(&a)?, w.put_blob(&b)?);
                w.hold_blob(&ida)?;
                w.hold_blob(&idb)?;
                Ok((ida, idb))
            })
            .unwrap();
        // Damage: a's place names b's offset.
        store
            .write(|w| -> super::super::Result<()> {
                let pb = place_of(&w.tx.open_table(BLOB_CHUNKS)?, &idb)?;
                w.tx.open_table(BLOB_CHUNKS)?.insert((ida.as_str(), 0), pb.encode().as_slice())?;
                Ok(())
            })
            .unwrap();
        store.write(|w| w.release_blob(&ida)).unwrap();
        assert_eq!(store.read().unwrap().blob(&idb).unwrap(), Some(b.clone()));
        // a's bytes are dead but still listed: the next removal drops them.
        let more = noisy(9, 3000);
        let idc = store
            .write(|w| -> super::super::Result<String> {
                let id = w.put_blob(&more)?;
                w.hold_blob(&id)?;
                Ok(id)
            })
            .unwrap();
        store.write(|w| w.release_blob(&idc)).unwrap();
        assert_eq!(store.read().unwrap().blob(&idb).unwrap(), Some(b));
        let r = store.read().unwrap();
        let listed: Vec<String> =
            r.tx.open_table(PACK_CONTENTS).unwrap().iter().unwrap().map(|row| row.unwrap().1.value().0.to_string()).collect();
        assert_eq!(listed, vec![idb]);
    }
}
