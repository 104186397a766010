//! `frontdesk import mbox FILE | maildir DIR | imap`: old mail in as tickets. A first
//! pass indexes the messages (where each is, its date) without keeping them;
//! the second reads them back oldest first — so a reply finds the ticket of
//! the message it answers — and imports them in transactions of 200 through
//! `Desk::import_batch` (quiet: nothing is mailed). Memory stays flat: only
//! the index (a few dozen bytes per message) and one batch are held. A
//! message already known by its Message-ID is skipped, which makes a rerun
//! after an interruption resume where it stopped; a message without one gets
//! an id made from its content, so it too is imported once.

use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::desk::Desk;
use crate::desk::import::{ImportOutcome, Imported};
use crate::domain::{Status, Timestamp};

/// Messages per transaction.
const BATCH: usize = 200;

/// Where one message is.
#[derive(Debug, Clone)]
enum Place {
    /// Byte range of the message in the mbox (after its "From " line).
    Mbox {
        at: u64,
        len: u64,
    },
    File(PathBuf),
    /// A message's UID in the IMAP folder.
    Imap(u32),
}

/// A message found by the first pass.
#[derive(Debug, Clone)]
struct Found {
    place: Place,
    date: Option<Timestamp>,
}

/// What an import (or its dry run) counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub messages: u64,
    pub new_tickets: u64,
    pub replies: u64,
    /// Events on tickets and Junk.
    pub other: u64,
    /// Known already (a rerun).
    pub skipped: u64,
    pub undated: u64,
    pub oldest: Option<Timestamp>,
    pub newest: Option<Timestamp>,
}

/// The Date header of a message's head, if it parses.
pub(crate) fn header_date(head: &str) -> Option<Timestamp> {
    let mut value: Option<String> = None;
    for line in head.lines() {
        if let Some(v) = value.as_mut() {
            if line.starts_with([' ', '\t']) {
                v.push_str(line);
                continue;
            }
            break;
        }
        if let Some((k, v)) = line.split_once(':')
            && k.eq_ignore_ascii_case("date")
        {
            value = Some(v.trim().to_string());
        }
    }
    let d = mail_parser::DateTime::parse_rfc822(value?.trim())?;
    Some(Timestamp(d.to_timestamp().checked_mul(1000)?))
}

/// First pass over an mbox: each message's byte range and date.
fn scan_mbox(path: &Path) -> std::io::Result<Vec<Found>> {
    let mut r = BufReader::with_capacity(1 << 20, std::fs::File::open(path)?);
    let (mut out, mut line, mut at) = (Vec::new(), Vec::new(), 0u64);
    let mut current: Option<(u64, String, bool)> = None; // (start, head so far, head done)
    // The length of the line before when it was blank (the separator's
    // blank line belongs to no message); the file's start counts as blank.
    let mut prev_blank: Option<u64> = Some(0);
    loop {
        line.clear();
        let n = r.read_until(b'\n', &mut line)? as u64;
        let separator = n > 0 && prev_blank.is_some() && line.starts_with(b"From ");
        if n == 0 || separator {
            if let Some((start, head, _)) = current.take() {
                let end = if n > 0 { at.saturating_sub(prev_blank.unwrap_or(0)) } else { at };
                out.push(Found { place: Place::Mbox { at: start, len: end.saturating_sub(start) }, date: header_date(&head) });
            }
            if n == 0 {
                return Ok(out);
            }
            at += n;
            current = Some((at, String::new(), false));
            prev_blank = None;
            continue;
        }
        at += n;
        let blank = line.iter().all(|b| *b == b'\n' || *b == b'\r');
        if let Some((_, head, done)) = current.as_mut()
            && !*done
        {
            if blank || head.len() > 64 * 1024 {
                *done = true;
            } else {
                head.push_str(&String::from_utf8_lossy(&line));
            }
        }
        prev_blank = blank.then_some(n);
    }
}

/// First pass over a Maildir (`cur/` and `new/`, or a folder of files).
fn scan_maildir(dir: &Path) -> std::io::Result<Vec<Found>> {
    let subdirs: Vec<PathBuf> = ["cur", "new"].iter().map(|s| dir.join(s)).filter(|d| d.is_dir()).collect();
    let dirs = if subdirs.is_empty() { vec![dir.to_path_buf()] } else { subdirs };
    let mut out = Vec::new();
    for d in dirs {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&d)?.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_file()).collect();
        names.sort();
        for p in names {
            let mut head = vec![0u8; 64 * 1024];
            let n = std::fs::File::open(&p)?.read(&mut head)?;
            head.truncate(n);
            let text = String::from_utf8_lossy(&head);
            let head_only = text.split("\n\n").next().unwrap_or("").split("\r\n\r\n").next().unwrap_or("");
            out.push(Found { date: header_date(head_only), place: Place::File(p) });
        }
    }
    Ok(out)
}

/// An mbox message's bytes: ">From " quoting undone (mboxrd), CRLF kept as is.
fn read_mbox(file: &mut std::fs::File, at: u64, len: u64) -> std::io::Result<Vec<u8>> {
    file.seek(SeekFrom::Start(at))?;
    let mut raw = Vec::with_capacity(len as usize);
    file.take(len).read_to_end(&mut raw)?;
    let mut out = Vec::with_capacity(raw.len());
    for line in raw.split_inclusive(|b| *b == b'\n') {
        let quoted = line.iter().take_while(|b| **b == b'>').count();
        if quoted > 0 && line.get(quoted..).is_some_and(|rest| rest.starts_with(b"From ")) {
            out.extend_from_slice(line.get(1..).unwrap_or_default());
        } else {
            out.extend_from_slice(line);
        }
    }
    Ok(out)
}

/// Where the old mail is.
#[derive(Debug, Clone)]
pub enum Source {
    Mbox(PathBuf),
    Maildir(PathBuf),
    /// A folder on an IMAP server (opened read-only).
    Imap(Box<crate::config::ImapConfig>),
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Mbox(p) | Source::Maildir(p) => write!(f, "{}", p.display()),
            Source::Imap(c) => write!(f, "imap://{}", c.name()),
        }
    }
}

/// Reads the messages of one batch, in its order (with the date to use).
fn read_batch(
    chunk: &[Found],
    mbox: &mut Option<std::fs::File>,
    remote: &mut Option<crate::mail::imap::import::Remote>,
) -> anyhow::Result<Vec<(Vec<u8>, Option<Timestamp>)>> {
    let uids: Vec<u32> = chunk.iter().filter_map(|f| if let Place::Imap(u) = f.place { Some(u) } else { None }).collect();
    let mut fetched: std::collections::HashMap<u32, Vec<u8>> = match remote.as_mut() {
        Some(r) if !uids.is_empty() => r.fetch(&uids).map_err(anyhow::Error::msg)?.into_iter().collect(),
        _ => Default::default(),
    };
    let mut out = Vec::with_capacity(chunk.len());
    for f in chunk {
        let raw = match (&f.place, mbox.as_mut()) {
            (Place::Mbox { at, len }, Some(file)) => read_mbox(file, *at, *len)?,
            (Place::File(p), _) => std::fs::read(p)?,
            (Place::Imap(u), _) => match fetched.remove(u) {
                // The message's own Date header, as for files; else its arrival.
                Some(raw) => {
                    let head_end = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(raw.len().min(64 * 1024));
                    let date = header_date(&String::from_utf8_lossy(raw.get(..head_end).unwrap_or_default())).or(f.date);
                    out.push((raw, date));
                    continue;
                }
                None => continue,
            },
            (Place::Mbox { .. }, None) => continue,
        };
        out.push((raw, f.date));
    }
    Ok(out)
}

/// Imports every message of `source` into `mailbox`'s department, leaving
/// the tickets in `status`; with `dry_run` only counts. `progress` hears
/// (done, total) after each batch.
pub fn run(
    desk: &Desk,
    source: &Source,
    mailbox: &str,
    status: Status,
    dry_run: bool,
    progress: &mut dyn FnMut(u64, u64),
) -> anyhow::Result<Counts> {
    let mut remote = None;
    let mut found = match source {
        Source::Mbox(path) => scan_mbox(path)?,
        Source::Maildir(path) => scan_maildir(path)?,
        Source::Imap(cfg) => {
            let dns = crate::mail::dns::Dns::from_config(&desk.config()).map_err(anyhow::Error::msg)?;
            let mut r = crate::mail::imap::import::Remote::open((**cfg).clone(), dns).map_err(anyhow::Error::msg)?;
            let listed = r.scan().map_err(anyhow::Error::msg)?;
            remote = Some(r);
            listed.into_iter().map(|(uid, date)| Found { place: Place::Imap(uid), date }).collect()
        }
    };
    let now = desk.now();
    // Oldest first (undated ones last, in their order), so replies find their ticket.
    found.sort_by_key(|f| f.date.unwrap_or(Timestamp(i64::MAX)));
    let mut c = Counts { messages: found.len() as u64, ..Counts::default() };
    c.undated = found.iter().filter(|f| f.date.is_none()).count() as u64;
    c.oldest = found.iter().filter_map(|f| f.date).min();
    c.newest = found.iter().filter_map(|f| f.date).max();
    if dry_run {
        return Ok(c);
    }
    desk.start_importing();
    let max_attachment = desk.config().limits.attachment_max_bytes;
    let mut mbox = match source {
        Source::Mbox(path) => Some(std::fs::File::open(path)?),
        _ => None,
    };
    let total = found.len() as u64;
    let mut done = 0u64;
    for chunk in found.chunks(BATCH) {
        let mut batch = Vec::with_capacity(chunk.len());
        for (raw, date) in read_batch(chunk, &mut mbox, &mut remote)? {
            // The From address stands in for the envelope sender an import
            // does not have (an empty one would read as a bounce's).
            let sender = mail_parser::MessageParser::default()
                .parse_headers(&raw)
                .and_then(|h| h.from().and_then(|f| f.first()).and_then(|a| a.address()).map(str::to_string))
                .unwrap_or_else(|| "unknown@import.invalid".to_string());
            let mut mail = crate::mail::inbound::parse(&raw, &sender, max_attachment);
            if mail.message_id.is_none() {
                let digest = ring::digest::digest(&ring::digest::SHA256, &raw);
                let hex: String = digest.as_ref().iter().take(16).map(|b| format!("{b:02x}")).collect();
                mail.message_id = Some(format!("import-{hex}@frontdesk.invalid"));
            }
            batch.push(Imported { raw, mail, date: date.unwrap_or(now) });
        }
        for o in desk.import_batch(&batch, mailbox, status)? {
            match o {
                ImportOutcome::NewTicket => c.new_tickets += 1,
                ImportOutcome::Reply => c.replies += 1,
                ImportOutcome::Other => c.other += 1,
                ImportOutcome::Skipped => c.skipped += 1,
            }
        }
        done += chunk.len() as u64;
        progress(done, total);
    }
    if let Some(r) = remote {
        r.close();
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mbox_messages_are_split_dated_and_unquoted() {
        let dir = std::env::temp_dir().join(format!("fd-mbox-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("m.mbox");
        let text = "From a@x.test Mon Jan  1 00:00:00 2024\nFrom: a@x.test\nDate: Tue, 2 Jan 2024 10:00:00 +0000\nSubject: one\n\nbody\n>From the start\n\n\
                    From b@x.test Mon Jan  1 00:00:00 2024\nFrom: b@x.test\nSubject: two (no date)\n\nfirst\nFrom is not a separator mid-paragraph\nsecond\n";
        std::fs::write(&p, text).unwrap();
        let found = scan_mbox(&p).unwrap();
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].date, Some(Timestamp(1_704_189_600_000)));
        assert_eq!(found[1].date, None);
        let mut f = std::fs::File::open(&p).unwrap();
        let Place::Mbox { at, len } = found[0].place else { panic!() };
        let one = String::from_utf8(read_mbox(&mut f, at, len).unwrap()).unwrap();
        assert!(one.starts_with("From: a@x.test\n") && one.contains("\nFrom the start\n") && !one.contains("two"), "{one:?}");
        let Place::Mbox { at, len } = found[1].place else { panic!() };
        let two = String::from_utf8(read_mbox(&mut f, at, len).unwrap()).unwrap();
        assert!(two.starts_with("From: b@x.test\n") && two.ends_with("second\n"), "{two:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
