//! Backup archives: one file holding a desk's databases, keys and config.
//!
//! Layout (all integers little-endian):
//!
//! ```text
//! "FRONTDESK-BACKUP" format:u32
//! ( 'F' name_len:u16 name size:u64
//!       ( raw_len:u32 stored_len:u32 codec:u8 sha256(raw):32 stored )*   -- ceil(size / 1 MiB) chunks
//! )*
//! 'M' json_len:u32 manifest-json sha256(json):32
//! 'E'
//! ```
//!
//! Each chunk is lz4-compressed (or stored as it is when that is no smaller)
//! and carries the SHA-256 of its raw bytes; the manifest lists every file
//! with its size and the SHA-256 over its chunk digests. Reading checks every
//! chunk, so `verify` and `restore` name the first bad part (file, chunk, byte
//! offset) of a damaged or truncated archive. Names are relative paths of
//! plain components; extraction stages everything and moves it into place only
//! when the whole archive checked out. This module knows files, not the desk:
//! `desk/backup.rs` takes the snapshot it writes.

use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

pub mod restore;

/// The first bytes of every archive.
pub const MAGIC: &[u8; 16] = b"FRONTDESK-BACKUP";
/// The archive format this build writes and reads.
pub const FORMAT: u32 = 1;
/// Raw bytes per chunk.
const CHUNK: usize = 1 << 20;
const CODEC_RAW: u8 = 0;
const CODEC_LZ4: u8 = 1;

/// One file in the archive, as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    pub name: String,
    pub bytes: u64,
    /// SHA-256 over the SHA-256 digests of its chunks, hex.
    pub sha256: String,
}

/// What the desk held when the snapshot was taken (compared after restore).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub tickets: u64,
    pub entries: u64,
    pub people: u64,
    pub spooled: u64,
}

/// The archive's table of contents, written last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    /// The release that wrote it (`frontdesk --version`).
    pub frontdesk: String,
    /// When the snapshot was taken (ms since the epoch).
    pub created_ms: i64,
    pub schema_version: u64,
    pub counts: Counts,
    pub files: Vec<FileEntry>,
}

impl Manifest {
    /// All files' bytes together.
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.bytes).sum()
    }
}

/// A damaged, truncated or foreign archive: the part that is bad and how.
#[derive(Debug, thiserror::Error)]
#[error("{part}: {problem}")]
pub struct BadArchive {
    pub part: String,
    pub problem: String,
}

fn bad(part: impl Into<String>, problem: impl Into<String>) -> BadArchive {
    BadArchive { part: part.into(), problem: problem.into() }
}

fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `name` is a safe relative path inside a data directory.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 512
        && !name.contains('\\')
        && Path::new(name).components().all(|c| matches!(c, Component::Normal(_)))
        && name.split('/').all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)))
}

/// Writes an archive: files one after the other, then the manifest.
pub struct Writer<W: Write> {
    out: W,
    files: Vec<FileEntry>,
    /// Raw bytes added so far (for progress).
    pub done: u64,
}

impl<W: Write> Writer<W> {
    pub fn new(mut out: W) -> std::io::Result<Self> {
        out.write_all(MAGIC)?;
        out.write_all(&FORMAT.to_le_bytes())?;
        Ok(Writer { out, files: Vec::new(), done: 0 })
    }

    /// Adds `size` bytes read from `src` as `name`; `progress` hears the
    /// running total after each chunk.
    pub fn add(&mut self, name: &str, src: &mut dyn Read, size: u64, progress: &mut dyn FnMut(u64)) -> std::io::Result<()> {
        if !valid_name(name) {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{name:?} is not a file name for a backup")));
        }
        self.out.write_all(b"F")?;
        self.out.write_all(&(name.len() as u16).to_le_bytes())?;
        self.out.write_all(name.as_bytes())?;
        self.out.write_all(&size.to_le_bytes())?;
        let mut digests = ring::digest::Context::new(&ring::digest::SHA256);
        let mut buf = vec![0u8; CHUNK];
        let mut left = size;
        while left > 0 {
            let n = left.min(CHUNK as u64) as usize;
            src.read_exact(&mut buf[..n])
                .map_err(|e| std::io::Error::new(e.kind(), format!("{name}: the file ended before its {size} bytes: {e}")))?;
            let raw = &buf[..n];
            let digest = ring::digest::digest(&ring::digest::SHA256, raw);
            digests.update(digest.as_ref());
            let packed = lz4_flex::block::compress(raw);
            let (codec, stored) = if packed.len() < raw.len() { (CODEC_LZ4, packed.as_slice()) } else { (CODEC_RAW, raw) };
            self.out.write_all(&(n as u32).to_le_bytes())?;
            self.out.write_all(&(stored.len() as u32).to_le_bytes())?;
            self.out.write_all(&[codec])?;
            self.out.write_all(digest.as_ref())?;
            self.out.write_all(stored)?;
            left -= n as u64;
            self.done += n as u64;
            progress(self.done);
        }
        self.files.push(FileEntry { name: name.to_string(), bytes: size, sha256: hex(digests.finish().as_ref()) });
        Ok(())
    }

    /// Writes the manifest (the files added, with `head`'s other fields) and
    /// the end mark; returns the output and the manifest.
    pub fn finish(mut self, head: Manifest) -> std::io::Result<(W, Manifest)> {
        let manifest = Manifest { files: std::mem::take(&mut self.files), ..head };
        let json = serde_json::to_vec(&manifest).map_err(std::io::Error::other)?;
        self.out.write_all(b"M")?;
        self.out.write_all(&(json.len() as u32).to_le_bytes())?;
        self.out.write_all(&json)?;
        self.out.write_all(ring::digest::digest(&ring::digest::SHA256, &json).as_ref())?;
        self.out.write_all(b"E")?;
        self.out.flush()?;
        Ok((self.out, manifest))
    }
}

/// What reading an archive meets, in order.
pub enum Item<'a> {
    File { name: &'a str, size: u64 },
    Data(&'a [u8]),
}

/// Reads exactly `buf.len()` bytes or names what was cut short.
fn take(r: &mut dyn Read, buf: &mut [u8], part: &dyn Fn() -> String) -> Result<(), BadArchive> {
    r.read_exact(buf).map_err(|e| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => bad(part(), "the archive ends here (truncated)"),
        _ => bad(part(), format!("cannot read: {e}")),
    })
}

fn u32_at(r: &mut dyn Read, part: &dyn Fn() -> String) -> Result<u32, BadArchive> {
    let mut b = [0u8; 4];
    take(r, &mut b, part)?;
    Ok(u32::from_le_bytes(b))
}

/// Reads a whole archive, checking every chunk and the manifest against what
/// was read; `sink` gets each file's start and its raw bytes (an error from
/// it stops the read). Returns the manifest.
pub fn read(r: &mut dyn Read, sink: &mut dyn FnMut(Item) -> std::io::Result<()>) -> Result<Manifest, BadArchive> {
    let mut head = [0u8; 20];
    take(r, &mut head, &|| "the header".into())?;
    if &head[..16] != MAGIC {
        return Err(bad("the header", "this is not a frontdesk backup"));
    }
    let format = u32::from_le_bytes([head[16], head[17], head[18], head[19]]);
    if format != FORMAT {
        return Err(bad(
            "the header",
            format!("archive format {format}; this release reads format {FORMAT} (use the release that wrote it)"),
        ));
    }
    let mut seen: Vec<FileEntry> = Vec::new();
    let mut stored = Vec::new();
    loop {
        let after = || match seen.last() {
            Some(f) => format!("after {}", f.name),
            None => "after the header".to_string(),
        };
        let mut tag = [0u8; 1];
        take(r, &mut tag, &after)?;
        match tag[0] {
            b'F' => {
                let mut nl = [0u8; 2];
                take(r, &mut nl, &after)?;
                let mut name = vec![0u8; u16::from_le_bytes(nl) as usize];
                take(r, &mut name, &after)?;
                let name = String::from_utf8(name)
                    .ok()
                    .filter(|n| valid_name(n))
                    .ok_or_else(|| bad(after(), "a file name that is not allowed"))?;
                let mut sz = [0u8; 8];
                take(r, &mut sz, &|| name.clone())?;
                let size = u64::from_le_bytes(sz);
                sink(Item::File { name: &name, size }).map_err(|e| bad(name.clone(), e.to_string()))?;
                let mut digests = ring::digest::Context::new(&ring::digest::SHA256);
                let (mut at, mut chunk) = (0u64, 0u64);
                while at < size {
                    let part = || format!("{name}, chunk {chunk} (from byte {at})");
                    let raw_len = u32_at(r, &part)? as usize;
                    let stored_len = u32_at(r, &part)? as usize;
                    let mut cd = [0u8; 33];
                    take(r, &mut cd, &part)?;
                    if raw_len == 0 || raw_len > CHUNK || stored_len > CHUNK + 1024 || raw_len as u64 > size - at {
                        return Err(bad(part(), "chunk lengths out of range (damaged)"));
                    }
                    stored.resize(stored_len, 0);
                    take(r, &mut stored, &part)?;
                    let raw = match cd[0] {
                        CODEC_RAW if stored_len == raw_len => std::borrow::Cow::Borrowed(stored.as_slice()),
                        CODEC_LZ4 => std::borrow::Cow::Owned(
                            lz4_flex::block::decompress(&stored, raw_len).map_err(|e| bad(part(), format!("does not decompress: {e}")))?,
                        ),
                        _ => return Err(bad(part(), "unknown chunk encoding (damaged)")),
                    };
                    if raw.len() != raw_len {
                        return Err(bad(part(), "wrong length after decompression (damaged)"));
                    }
                    let digest = ring::digest::digest(&ring::digest::SHA256, &raw);
                    if digest.as_ref() != &cd[1..] {
                        return Err(bad(part(), "checksum mismatch (damaged)"));
                    }
                    digests.update(digest.as_ref());
                    sink(Item::Data(&raw)).map_err(|e| bad(part(), e.to_string()))?;
                    at += raw_len as u64;
                    chunk += 1;
                }
                seen.push(FileEntry { name, bytes: size, sha256: hex(digests.finish().as_ref()) });
            }
            b'M' => {
                let part = || "the manifest".to_string();
                let len = u32_at(r, &part)? as usize;
                if len > 16 << 20 {
                    return Err(bad(part(), "too large (damaged)"));
                }
                let mut json = vec![0u8; len];
                take(r, &mut json, &part)?;
                let mut sum = [0u8; 32];
                take(r, &mut sum, &part)?;
                if ring::digest::digest(&ring::digest::SHA256, &json).as_ref() != sum {
                    return Err(bad(part(), "checksum mismatch (damaged)"));
                }
                let m: Manifest = serde_json::from_slice(&json).map_err(|e| bad(part(), format!("unreadable: {e}")))?;
                if m.files != seen {
                    return Err(bad(part(), "it does not list the files the archive holds (damaged)"));
                }
                let mut end = [0u8; 1];
                take(r, &mut end, &|| "the end mark".into())?;
                if &end != b"E" {
                    return Err(bad("the end mark", "missing (damaged)"));
                }
                return Ok(m);
            }
            _ => return Err(bad(after(), "unexpected bytes where a file or the manifest starts (damaged)")),
        }
    }
}

/// Checks a whole archive file; its manifest when every part is sound.
pub fn verify(path: &Path) -> Result<Manifest, BadArchive> {
    let f = std::fs::File::open(path).map_err(|e| bad(path.display().to_string(), format!("cannot open: {e}")))?;
    let mut r = std::io::BufReader::with_capacity(1 << 20, f);
    read(&mut r, &mut |_| Ok(()))
}

/// Creates `path` afresh, readable by this user only from the first byte
/// (a file or link left there before is removed, never followed).
pub fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)
}

/// The path of `name` under `dir` (names are checked when read).
pub fn path_in(dir: &Path, name: &str) -> PathBuf {
    name.split('/').fold(dir.to_path_buf(), |p, c| p.join(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive(files: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut w = Writer::new(Vec::new()).unwrap();
        for (n, data) in files {
            w.add(n, &mut data.as_slice(), data.len() as u64, &mut |_| {}).unwrap();
        }
        let head = Manifest {
            format: FORMAT,
            frontdesk: "test".into(),
            created_ms: 1,
            schema_version: 3,
            counts: Counts::default(),
            files: vec![],
        };
        w.finish(head).unwrap().0
    }

    fn contents(bytes: &[u8]) -> Result<Vec<(String, Vec<u8>)>, BadArchive> {
        let mut out: Vec<(String, Vec<u8>)> = Vec::new();
        read(&mut &bytes[..], &mut |i| {
            match i {
                Item::File { name, .. } => out.push((name.to_string(), Vec::new())),
                Item::Data(d) => out.last_mut().unwrap().1.extend_from_slice(d),
            }
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn round_trip_of_files_large_small_and_empty() {
        let big: Vec<u8> = (0..(CHUNK * 2 + 123)).map(|i| (i % 251) as u8 ^ (i / 7919) as u8).collect();
        let noise: Vec<u8> = (0..5000u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
        let files = vec![("frontdesk.redb", big), ("dkim/ed25519.key", noise), ("config.toml", Vec::new())];
        let bytes = archive(&files);
        let got = contents(&bytes).unwrap();
        assert_eq!(got, files.iter().map(|(n, d)| (n.to_string(), d.clone())).collect::<Vec<_>>());
        let m = read(&mut &bytes[..], &mut |_| Ok(())).unwrap();
        assert_eq!(m.files.len(), 3);
        assert_eq!(m.total_bytes(), (CHUNK * 2 + 123 + 5000) as u64);
    }

    #[test]
    fn damage_and_truncation_name_the_part() {
        let data: Vec<u8> = (0..(CHUNK + 10)).map(|i| (i % 13) as u8).collect();
        let bytes = archive(&[("frontdesk.redb", data), ("spool.redb", vec![7; 100])]);
        // A flipped byte inside the second chunk of the first file.
        let second = bytes.windows(4).position(|w| w == 10u32.to_le_bytes()).unwrap();
        let mut flipped = bytes.clone();
        flipped[second + 4 + 4 + 1 + 32] ^= 0xff;
        let e = contents(&flipped).unwrap_err();
        assert!(e.part.starts_with("frontdesk.redb, chunk 1 (from byte 1048576)"), "{e}");
        // Cut anywhere: never accepted, always located.
        for cut in [3, 21, 40, bytes.len() / 2, bytes.len() - 40, bytes.len() - 1] {
            let e = contents(&bytes[..cut]).unwrap_err();
            assert!(e.problem.contains("truncated"), "cut at {cut}: {e}");
        }
        assert!(contents(b"PK\x03\x04 not ours at all....").unwrap_err().problem.contains("not a frontdesk backup"));
    }

    #[test]
    fn an_archive_naming_a_path_outside_is_refused() {
        let bytes = archive(&[("dkim/x.key", b"secret".to_vec())]);
        let at = bytes.windows(10).position(|w| w == b"dkim/x.key").unwrap();
        let mut evil = bytes.clone();
        evil[at..at + 10].copy_from_slice(b"../../xkey");
        let e = contents(&evil).unwrap_err();
        assert!(e.problem.contains("file name that is not allowed"), "{e}");
    }

    #[test]
    fn names_stay_inside_the_data_dir() {
        for n in ["frontdesk.redb", "dkim/rsa.key", "acme/account.json"] {
            assert!(valid_name(n), "{n}");
        }
        for n in ["", "/etc/passwd", "../x", "a/../b", "a//b", "a\\b", "./x", "tls/", "x y"] {
            assert!(!valid_name(n), "{n}");
        }
    }
}
