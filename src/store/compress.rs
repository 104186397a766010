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
/// The same against a source: a short value (mail details of addresses
/// and a subject) is mostly references into it.
const MIN_AGAINST: usize = 32;

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

/// The zstd level against a source: level 1's fast matcher finds a line
/// of the source and loses it at each line end the entry changed (CRLF
/// became LF); level 7 follows them. Measured on 4 KB mails' entries: 750
/// bytes at level 1, 140 at 7, for 17 → 21 µs (and 1 µs to read back).
const SOURCE_LEVEL: i32 = 7;

/// The largest source values are compressed against: reading such a value
/// reads its whole source, and a larger mail (one with attachments) gains
/// little beside them.
pub(crate) const MAX_SOURCE: usize = 64 * 1024;

/// The first bytes of a zstd dictionary: a source starting with them would
/// be read as one, not as plain content.
const DICT_MAGIC: [u8; 4] = 0xEC30_A437u32.to_le_bytes();

thread_local! {
    /// The context, and the source its dictionary was loaded from (None:
    /// not set up, or a call failed part-way).
    static SOURCE_CCTX: RefCell<(zstd::zstd_safe::CCtx<'static>, Option<Vec<u8>>)> =
        RefCell::new((zstd::zstd_safe::CCtx::create(), None));
    static SOURCE_DCTX: RefCell<zstd::zstd_safe::DCtx<'static>> = RefCell::new(zstd::zstd_safe::DCtx::create());
}

/// `squeeze` against `source` (schema 15): zstd with the mail's raw source
/// as its dictionary, so what `data` repeats of it — a thread entry's text,
/// the addresses and subject of its mail details — costs a few bytes of
/// reference instead of its own compressed copy. Same form as `squeeze`
/// (length header, one frame); `None` when that saves less than an eighth.
pub(crate) fn squeeze_against(data: &[u8], source: &[u8]) -> Option<Vec<u8>> {
    if data.len() < MIN_AGAINST || u32::try_from(data.len()).is_err() || source.starts_with(&DICT_MAGIC) {
        return None;
    }
    if source.len() > MAX_SOURCE {
        return None;
    }
    let mut frame = Vec::with_capacity(zstd::zstd_safe::compress_bound(data.len()));
    SOURCE_CCTX
        .with(|c| {
            use zstd::zstd_safe::CParameter;
            let (c, loaded) = &mut *c.borrow_mut();
            // A mail's entry and its details go against the same source one
            // after the other: its tables are built once (the dictionary
            // stays loaded for the frames that follow).
            if loaded.as_deref() != Some(source) {
                *loaded = None;
                c.set_parameter(CParameter::CompressionLevel(SOURCE_LEVEL))?;
                // Read with another source, it would decompress to other
                // text of the right length: the checksum makes that an error.
                c.set_parameter(CParameter::ChecksumFlag(true))?;
                c.load_dictionary(source)?;
                *loaded = Some(source.to_vec());
            }
            let done = c.compress2(&mut frame, data);
            if done.is_err() {
                // Start clean next time.
                *loaded = None;
                c.reset(zstd::zstd_safe::ResetDirective::SessionAndParameters)?;
            }
            done
        })
        .ok()?;
    let mut out = Vec::with_capacity(4 + frame.len());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&frame);
    (out.len() <= data.len() - data.len() / 8).then_some(out)
}

/// The bytes `squeeze_against` compressed against `source`; a claimed
/// length over `max` is damage.
pub(crate) fn unsqueeze_against(packed: &[u8], source: &[u8], max: usize) -> Result<Vec<u8>, String> {
    let Some((len, block)) = packed.split_first_chunk::<4>() else {
        return Err("compressed value without its length".into());
    };
    let len = u32::from_le_bytes(*len) as usize;
    if len > max {
        return Err(format!("compressed value claims {len} bytes, more than {max}"));
    }
    match zstd::zstd_safe::get_frame_content_size(block) {
        Ok(Some(n)) if n == len as u64 => {}
        _ => return Err(format!("compressed value is damaged: its frame does not hold {len} bytes")),
    }
    let mut out = Vec::with_capacity(len);
    SOURCE_DCTX.with(|d| d.borrow_mut().decompress_using_dict(&mut out, block, source)).map_err(|e| {
        format!(
            "compressed value is damaged or its source is not the one it was compressed against: {}",
            zstd::zstd_safe::get_error_name(e)
        )
    })?;
    if out.len() != len {
        return Err(format!("compressed value is damaged: {} bytes instead of {len}", out.len()));
    }
    Ok(out)
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

    proptest::proptest! {
        /// Whatever the value and the source: what `squeeze_against` keeps
        /// reads back whole with that source, and with another one, or cut
        /// short, it is an error (never a panic or other bytes).
        #[test]
        fn against_a_source_round_trips(text in "[a-z .\\n]{0,600}", extra in proptest::collection::vec(proptest::num::u8::ANY, 0..300), start in 0usize..400) {
            let source: Vec<u8> = format!("Received: x\r\nSubject: s\r\n\r\n{text}").into_bytes();
            let mut data = text.as_bytes()[start.min(text.len())..].to_vec();
            data.extend_from_slice(&extra);
            if let Some(packed) = squeeze_against(&data, &source) {
                proptest::prop_assert_eq!(unsqueeze_against(&packed, &source, 1 << 20).unwrap(), data.clone());
                let other = b"Received: y\r\n\r\nsomething else entirely".to_vec();
                if let Ok(back) = unsqueeze_against(&packed, &other, 1 << 20) {
                    proptest::prop_assert_eq!(back, data.clone(), "read with another source: right, or an error");
                }
                proptest::prop_assert!(unsqueeze_against(&packed[..packed.len() / 2], &source, 1 << 20).is_err());
            }
        }
    }

    /// A source that starts as a zstd dictionary would be read as one: such
    /// values are not kept against it.
    #[test]
    fn a_source_that_looks_like_a_dictionary_is_not_used() {
        let text = "The printer on the third floor prints blank pages again. ".repeat(10);
        let mut source = DICT_MAGIC.to_vec();
        source.extend_from_slice(text.as_bytes());
        assert!(squeeze_against(text.as_bytes(), &source).is_none());
        let packed = squeeze_against(text.as_bytes(), text.as_bytes()).expect("compresses against itself");
        assert!(packed.len() < 40, "{} bytes", packed.len());
        // Read against other text: an error, not other text.
        let other = "The printer on the fourth floor prints blank pages again".repeat(10);
        assert!(unsqueeze_against(&packed, other.as_bytes(), 1 << 20).is_err());
        // A source too large to read for every entry is not used.
        let large = text.repeat(MAX_SOURCE / text.len() + 1);
        assert!(squeeze_against(text.as_bytes(), large.as_bytes()).is_none());
    }
}
