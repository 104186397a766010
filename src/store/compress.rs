//! Compression for what the store keeps: records and blobs are stored
//! compressed when that saves at least an eighth. New values are zstd
//! (schema 13: about 2.0× on 4 KB blocks of the mail corpus at ~370 MB/s,
//! where lz4 gave 1.5×); values written by schemas 6–12 are lz4 and are
//! always read: the upgrade's conversion rewrites blobs and the big tables
//! (tickets, entries, mail details, outbox, junk, people), the rest when
//! next written. A length header in
//! front of the block caps what decompressing a damaged value may allocate.

use std::cell::RefCell;

/// Values shorter than this are kept as they are (too little to win).
pub(crate) const MIN_BYTES: usize = 128;

/// The zstd level of new values: level 1 compresses about 40 % faster than
/// the default 3 for about 1 % more bytes on mail, and it runs on the
/// ingest path.
const LEVEL: i32 = 1;

/// How a stored value was compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Codec {
    /// Schemas 6–12.
    Lz4,
    /// Schema 13 on.
    Zstd,
}

thread_local! {
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { RefCell::new(None) };
}

/// The zstd form of `data` (length header, then one zstd frame), when it is
/// at least an eighth smaller.
pub(crate) fn squeeze(data: &[u8]) -> Option<Vec<u8>> {
    if data.len() < MIN_BYTES || u32::try_from(data.len()).is_err() {
        return None;
    }
    let frame = COMPRESSOR.with(|c| {
        let mut c = c.borrow_mut();
        if c.is_none() {
            *c = zstd::bulk::Compressor::new(LEVEL).ok();
        }
        c.as_mut()?.compress(data).ok()
    })?;
    let mut out = Vec::with_capacity(4 + frame.len());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&frame);
    (out.len() <= data.len() - data.len() / 8).then_some(out)
}

/// The bytes `squeeze` compressed (or lz4 of older schemas); a claimed
/// length over `max` is damage.
pub(crate) fn unsqueeze(codec: Codec, packed: &[u8], max: usize) -> Result<Vec<u8>, String> {
    let Some((len, block)) = packed.split_first_chunk::<4>() else {
        return Err("compressed value without its length".into());
    };
    let len = u32::from_le_bytes(*len) as usize;
    let out = match codec {
        Codec::Lz4 => {
            // lz4 expands at most ~255×: a larger claim is damage, whatever `max` allows.
            let max = max.min(block.len().saturating_mul(255).saturating_add(64));
            if len > max {
                return Err(format!("compressed value claims {len} bytes, more than {max}"));
            }
            lz4_flex::block::decompress(block, len).map_err(|e| format!("compressed value is damaged: {e}"))?
        }
        Codec::Zstd => {
            if len > max {
                return Err(format!("compressed value claims {len} bytes, more than {max}"));
            }
            // The frame states its size too: both must agree before anything
            // is allocated, so one damaged header cannot ask for a huge buffer.
            match zstd::zstd_safe::get_frame_content_size(block) {
                Ok(Some(n)) if n == len as u64 => {}
                _ => return Err(format!("compressed value is damaged: its frame does not hold {len} bytes")),
            }
            DECOMPRESSOR.with(|d| {
                let mut d = d.borrow_mut();
                if d.is_none() {
                    *d = zstd::bulk::Decompressor::new().ok();
                }
                let Some(d) = d.as_mut() else { return Err("no memory for decompression".to_string()) };
                d.decompress(block, len).map_err(|e| format!("compressed value is damaged: {e}"))
            })?
        }
    };
    if out.len() != len {
        return Err(format!("compressed value is damaged: {} bytes instead of {len}", out.len()));
    }
    Ok(out)
}

/// `data` lz4-compressed as schemas 6–12 stored it (tests of the upgrade).
#[cfg(test)]
pub(crate) fn squeeze_lz4(data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_le_bytes().to_vec();
    out.extend_from_slice(&lz4_flex::block::compress(data));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_damage() {
        let text = "The printer on the third floor prints blank pages again. ".repeat(40);
        let packed = squeeze(text.as_bytes()).expect("text compresses");
        assert!(packed.len() < text.len() / 4);
        assert_eq!(unsqueeze(Codec::Zstd, &packed, 1 << 20).unwrap(), text.as_bytes());
        // What older schemas wrote reads alike.
        assert_eq!(unsqueeze(Codec::Lz4, &squeeze_lz4(text.as_bytes()), 1 << 20).unwrap(), text.as_bytes());
        // Short or incompressible values stay as they are.
        assert!(squeeze(b"short").is_none());
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let noise: Vec<u8> = (0..4096)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 32) as u8
            })
            .collect();
        assert!(squeeze(&noise).is_none());
        // A length over the cap, a cut block, garbage, a header and frame that
        // disagree: errors, not panics or huge allocations.
        for codec in [Codec::Zstd, Codec::Lz4] {
            assert!(unsqueeze(codec, &packed, 100).is_err());
            assert!(unsqueeze(codec, &packed[..packed.len() / 2], 1 << 20).is_err());
            assert!(unsqueeze(codec, &[0xff, 0xff, 0xff, 0x7f, 1, 2, 3], usize::MAX).is_err());
            assert!(unsqueeze(codec, &[1], 10).is_err());
        }
        let mut claims_more = packed.clone();
        claims_more[..4].copy_from_slice(&(200_000_000u32).to_le_bytes());
        assert!(unsqueeze(Codec::Zstd, &claims_more, usize::MAX).is_err());
    }
}
