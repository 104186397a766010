//! lz4 for what the store keeps: records and blobs are stored compressed
//! when that saves at least an eighth. A length header in front of the lz4
//! block caps what decompressing a damaged value may allocate.

/// Values shorter than this are kept as they are (lz4 cannot win much).
pub(crate) const MIN_BYTES: usize = 128;

/// The compressed form of `data` (length header, then the lz4 block), when
/// it is at least an eighth smaller.
pub(crate) fn squeeze(data: &[u8]) -> Option<Vec<u8>> {
    if data.len() < MIN_BYTES || u32::try_from(data.len()).is_err() {
        return None;
    }
    let mut out = Vec::with_capacity(4 + lz4_flex::block::get_maximum_output_size(data.len()));
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.resize(4 + lz4_flex::block::get_maximum_output_size(data.len()), 0);
    let n = lz4_flex::block::compress_into(data, &mut out[4..]).ok()?;
    out.truncate(4 + n);
    (out.len() <= data.len() - data.len() / 8).then_some(out)
}

/// The bytes `squeeze` compressed; a claimed length over `max` is damage.
pub(crate) fn unsqueeze(packed: &[u8], max: usize) -> Result<Vec<u8>, String> {
    let Some((len, block)) = packed.split_first_chunk::<4>() else {
        return Err("compressed value without its length".into());
    };
    let len = u32::from_le_bytes(*len) as usize;
    // lz4 expands at most ~255×: a larger claim is damage, whatever `max` allows.
    let max = max.min(block.len().saturating_mul(255).saturating_add(64));
    if len > max {
        return Err(format!("compressed value claims {len} bytes, more than {max}"));
    }
    let out = lz4_flex::block::decompress(block, len).map_err(|e| format!("compressed value is damaged: {e}"))?;
    if out.len() != len {
        return Err(format!("compressed value is damaged: {} bytes instead of {len}", out.len()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_damage() {
        let text = "The printer on the third floor prints blank pages again. ".repeat(40);
        let packed = squeeze(text.as_bytes()).expect("text compresses");
        assert!(packed.len() < text.len() / 4);
        assert_eq!(unsqueeze(&packed, 1 << 20).unwrap(), text.as_bytes());
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
        // A length over the cap, a cut block, garbage: errors, not panics or huge allocations.
        assert!(unsqueeze(&packed, 100).is_err());
        assert!(unsqueeze(&packed[..packed.len() / 2], 1 << 20).is_err());
        assert!(unsqueeze(&[0xff, 0xff, 0xff, 0x7f, 1, 2, 3], usize::MAX).is_err());
        assert!(unsqueeze(&[1], 10).is_err());
    }
}
