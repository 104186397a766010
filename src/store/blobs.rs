//! Blobs: raw mail, HTML bodies and attachments, each stored once by the
//! hash of its content, zstd-compressed when that saves enough, in a pack
//! when small (`store::packs`), else in chunks.
//!
//! Every record that names a blob holds a reference (`BLOB_REFS`): a thread
//! entry for each attachment, a mail's details for its raw source and HTML,
//! a junk record for its raw source, a queued mail for its attachments, a
//! knowledge base article for its files. Removing the record (purging a ticket
//! from Trash, deleting or converting junk) releases them, and a blob no one
//! references any more is deleted with its chunks. A blob stored by a
//! transaction that in the end references it nowhere is dropped before that
//! transaction commits, so nothing is left behind.

use redb::{ReadableTable, TableDefinition};

use super::compress::Codec;
use super::{
    BLOB_CHUNK, BLOB_CHUNKS, BLOB_LZ4, BLOB_PACKED, BLOB_ZSTD, BLOBS, Read, Result, StoreError, Write, blob_size, compress, packs,
    sha256_hex,
};

/// Blob id → how many records reference it (schema 6; a blob without a row
/// is never deleted).
pub(crate) const BLOB_REFS: TableDefinition<&str, u64> = TableDefinition::new("blob_refs");

/// Deletes a blob's head and chunks, or its place in a pack (not its
/// reference count).
pub(crate) fn delete_blob(tx: &redb::WriteTransaction, id: &str) -> Result<()> {
    let header = tx.open_table(BLOBS)?.remove(id)?.map(|v| v.value());
    if header.is_some_and(|h| h & BLOB_PACKED != 0) {
        return packs::remove(tx, id);
    }
    let mut chunks = tx.open_table(BLOB_CHUNKS)?;
    let keys: Vec<u32> =
        chunks.range((id, 0)..=(id, u32::MAX))?.map(|r| r.map(|(k, _)| k.value().1)).collect::<std::result::Result<_, _>>()?;
    for i in keys {
        chunks.remove((id, i))?;
    }
    Ok(())
}

/// Stores a blob's content (compressed when that saves enough): packed
/// when small (`store::packs`), else in chunks, with its `BLOBS` value.
/// The blob has no chunks or place yet.
pub(crate) fn store_content(tx: &redb::WriteTransaction, packer: &mut packs::Appender, id: &str, data: &[u8]) -> Result<()> {
    let packed = compress::squeeze(data);
    let (mut header, stored) = match &packed {
        Some(p) => (data.len() as u64 | BLOB_ZSTD, p.as_slice()),
        None => (data.len() as u64, data),
    };
    // An empty blob has nothing to pack (and would share its place's key
    // with the next blob): it is a head without chunks.
    if !stored.is_empty() && stored.len() <= packs::PACK_LIMIT {
        packer.put(tx, id, stored)?;
        header |= BLOB_PACKED;
    } else {
        let mut chunks = tx.open_table(BLOB_CHUNKS)?;
        for (i, c) in stored.chunks(BLOB_CHUNK).enumerate() {
            chunks.insert((id, i as u32), c)?;
        }
    }
    tx.open_table(BLOBS)?.insert(id, header)?;
    Ok(())
}

/// How a blob's chunks are compressed, by its `BLOBS` value.
pub(crate) fn blob_codec(header: u64) -> Option<Codec> {
    if header & BLOB_ZSTD != 0 {
        Some(Codec::Zstd)
    } else if header & BLOB_LZ4 != 0 {
        Some(Codec::Lz4)
    } else {
        None
    }
}

/// A blob's content, reassembled from its chunks or its pack (and
/// decompressed), from the tables of any transaction.
pub(crate) fn content(
    heads: &impl ReadableTable<&'static str, u64>,
    chunks: &impl ReadableTable<(&'static str, u32), &'static [u8]>,
    packed: &impl ReadableTable<u64, &'static [u8]>,
    open: Option<&packs::Appender>,
    id: &str,
) -> Result<Option<Vec<u8>>> {
    let Some(header) = heads.get(id)?.map(|v| v.value()) else {
        return Ok(None);
    };
    let size = blob_size(header) as usize;
    let codec = blob_codec(header);
    let mut out = if header & BLOB_PACKED != 0 {
        let place = packs::place_of(chunks, id)?;
        match open.and_then(|a| a.read_open(place)) {
            Some(bytes) => bytes,
            None => packs::read(packed, place)?,
        }
    } else {
        // The size comes from the stored header: capped, so a damaged one
        // cannot make us reserve more than the chunks could hold.
        let mut out = Vec::with_capacity((if codec.is_none() { size } else { size / 2 }).min(BLOB_CHUNK * 16));
        for row in chunks.range((id, 0)..=(id, u32::MAX))? {
            let (_, v) = row?;
            out.extend_from_slice(v.value());
        }
        out
    };
    if let Some(codec) = codec {
        out = compress::unsqueeze(codec, &out, size).map_err(|detail| StoreError::Corrupt { table: "blob_chunks", detail })?;
    }
    Ok(Some(out))
}

impl Read {
    /// A blob's content, reassembled from its chunks or pack (and decompressed).
    pub fn blob(&self, id: &str) -> Result<Option<Vec<u8>>> {
        content(&self.tx.open_table(BLOBS)?, &self.tx.open_table(BLOB_CHUNKS)?, &self.tx.open_table(packs::BLOB_PACKS)?, None, id)
    }

    /// How many records reference a blob (None: not counted).
    pub fn blob_refs(&self, id: &str) -> Result<Option<u64>> {
        Ok(self.tx.open_table(BLOB_REFS)?.get(id)?.map(|v| v.value()))
    }
}

impl Write {
    /// A blob's content as this transaction sees it (a blob it packed is
    /// read from the pack it has not written yet).
    pub(crate) fn blob(&self, id: &str) -> Result<Option<Vec<u8>>> {
        let (heads, chunks, packed) =
            (self.tx.open_table(BLOBS)?, self.tx.open_table(BLOB_CHUNKS)?, self.tx.open_table(packs::BLOB_PACKS)?);
        content(&heads, &chunks, &packed, Some(&self.packer), id)
    }

    /// Stores content once by hash (compressed when that saves enough);
    /// returns the blob id, the hash of the content as given. The caller
    /// references it in a record (which holds it) in this transaction, or
    /// a new blob is dropped again at commit.
    pub fn put_blob(&mut self, data: &[u8]) -> Result<String> {
        let id = sha256_hex(data);
        if self.tx.open_table(BLOBS)?.get(id.as_str())?.is_none() {
            store_content(&self.tx, &mut self.packer, &id, data)?;
            self.fresh_blobs.push((id.clone(), 0));
        }
        Ok(id)
    }

    /// One more record references the blob (a blob new in this transaction
    /// is counted in memory and written once, at commit).
    pub(crate) fn hold_blob(&mut self, id: &str) -> Result<()> {
        if let Some((_, n)) = self.fresh_blobs.iter_mut().find(|(b, _)| b == id) {
            *n += 1;
            return Ok(());
        }
        let mut refs = self.tx.open_table(BLOB_REFS)?;
        let n = refs.get(id)?.map(|v| v.value()).unwrap_or(0);
        refs.insert(id, n + 1)?;
        Ok(())
    }

    /// One record less references the blob; after the last one the blob is
    /// deleted at commit (unless the transaction came to hold it again). A
    /// blob whose references were never counted stays.
    pub(crate) fn release_blob(&mut self, id: &str) -> Result<()> {
        if let Some((_, n)) = self.fresh_blobs.iter_mut().find(|(b, _)| b == id) {
            *n = n.saturating_sub(1);
            return Ok(());
        }
        let mut refs = self.tx.open_table(BLOB_REFS)?;
        let Some(n) = refs.get(id)?.map(|v| v.value()) else { return Ok(()) };
        refs.insert(id, n.saturating_sub(1))?;
        if n <= 1 {
            self.released_blobs.push(id.to_string());
        }
        Ok(())
    }

    fn delete_blob(&mut self, id: &str) -> Result<()> {
        delete_blob(&self.tx, id)
    }

    /// Before commit: the open pack is written, the blobs this transaction
    /// stored get their count
    /// (added to one that records naming a missing blob may have left), and
    /// those no record references any more are deleted.
    pub(crate) fn drop_unreferenced_blobs(&mut self) -> Result<()> {
        // The open pack first: deleting a blob reads its pack.
        self.packer.flush(&self.tx)?;
        let fresh = std::mem::take(&mut self.fresh_blobs);
        let released = std::mem::take(&mut self.released_blobs);
        if fresh.is_empty() && released.is_empty() {
            return Ok(());
        }
        let mut refs = self.tx.open_table(BLOB_REFS)?;
        let mut unreferenced = Vec::new();
        for (id, n) in fresh {
            let before = refs.get(id.as_str())?.map(|v| v.value()).unwrap_or(0);
            if before + n == 0 {
                unreferenced.push(id);
            } else {
                refs.insert(id.as_str(), before + n)?;
            }
        }
        for id in released {
            if refs.get(id.as_str())?.is_some_and(|v| v.value() == 0) {
                unreferenced.push(id);
            }
        }
        for id in &unreferenced {
            refs.remove(id.as_str())?;
        }
        drop(refs);
        for id in unreferenced {
            self.delete_blob(&id)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use crate::domain::JunkId;

    /// Releasing a blob's last holder and holding it again in the same
    /// transaction keeps it: deletion waits for the commit.
    #[test]
    fn a_blob_released_and_held_again_in_one_transaction_stays() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let content = b"the raw source of a junk mail".repeat(10);
        let (id, first) = store
            .write(|w| -> Result<(String, JunkId)> {
                let id = w.put_blob(&content)?;
                let n = w.put_junk(&mut JunkMail::sample(0, &id))?;
                Ok((id, n))
            })
            .unwrap();
        store
            .write(|w| -> Result<()> {
                // Stored already: put_blob finds it, then its last holder goes.
                let again = w.put_blob(&content)?;
                w.delete_junk(first)?;
                w.put_junk(&mut JunkMail::sample(0, &again))?;
                Ok(())
            })
            .unwrap();
        let r = store.read().unwrap();
        assert_eq!(r.blob(&id).unwrap().as_deref(), Some(&content[..]));
        assert_eq!(r.blob_refs(&id).unwrap(), Some(1));
    }
}
