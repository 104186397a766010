//! `frontdesk ingest`: one RFC 5322 message on stdin, delivered through the same
//! path as SMTP (for a Postfix pipe or an alias). While `serve` runs it owns
//! the database, so the message is handed to it over SMTP on `smtp.listen`;
//! otherwise it is spooled and processed here. Exit codes follow sysexits:
//! 0 delivered, 65 malformed (permanent), 75 temporary failure (retry).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use crate::clock::SystemClock;
use crate::config::Config;
use crate::desk::Desk;
use crate::domain::Timestamp;
use crate::store::{SpoolEntry, Store, StoreError};

pub const EX_OK: u8 = 0;
pub const EX_DATAERR: u8 = 65;
pub const EX_TEMPFAIL: u8 = 75;

/// Does this look like a message at all (a header field first)?
pub fn looks_like_mail(raw: &[u8]) -> bool {
    let first = raw.split(|&b| b == b'\n').next().unwrap_or(b"");
    match first.iter().position(|&b| b == b':') {
        Some(i) if i > 0 => first[..i].iter().all(|&b| (33..127).contains(&b)),
        _ => false,
    }
}

fn header_addr(raw: &[u8], name: &str) -> Option<String> {
    let head_end = raw.windows(4).position(|w| w == b"\r\n\r\n").or_else(|| raw.windows(2).position(|w| w == b"\n\n")).unwrap_or(raw.len());
    let head = String::from_utf8_lossy(&raw[..head_end]);
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        if !k.trim().eq_ignore_ascii_case(name) {
            return None;
        }
        let v = v.trim();
        let addr = crate::domain::text::enclosed(v, "<", '>').map(|(_, a)| a).unwrap_or(v);
        Some(addr.trim().to_string())
    })
}

/// The envelope sender of a message handed over without one: its
/// Return-Path, else its From address.
pub fn sender_of(raw: &[u8]) -> String {
    header_addr(raw, "Return-Path").or_else(|| header_addr(raw, "From")).unwrap_or_default()
}

/// The mailbox a message handed over without an envelope is for: the first
/// of Delivered-To, X-Original-To, To and Cc that is one, else the first
/// mailbox.
pub fn recipient_of(cfg: &Config, raw: &[u8]) -> Option<String> {
    ["Delivered-To", "X-Original-To", "To", "Cc"]
        .iter()
        .filter_map(|h| header_addr(raw, h))
        .find(|a| cfg.mailbox_for(a).is_some())
        .or_else(|| cfg.mailbox.first().map(|m| m.address.clone()))
}

/// The message with a Received line saying how it was handed over.
pub fn stamped(cfg: &Config, via: &str, now: Timestamp, raw: &[u8]) -> Vec<u8> {
    [format!("Received: by {} ({via}); {}\r\n", cfg.smtp.hostname, now.rfc5322()).into_bytes(), raw.to_vec()].concat()
}

/// Reads the message, picks the envelope and delivers it; returns the exit code.
pub fn run(cfg: Arc<Config>, sender: Option<String>, recipient: Option<String>) -> u8 {
    let max = cfg.smtp.max_message_size;
    let mut raw = Vec::new();
    if let Err(e) = std::io::stdin().take(max as u64 + 1).read_to_end(&mut raw) {
        eprintln!("frontdesk ingest: cannot read standard input: {e}");
        return EX_TEMPFAIL;
    }
    // An mbox "From " line from a local delivery agent is not part of the message.
    if raw.starts_with(b"From ")
        && let Some(i) = raw.iter().position(|&b| b == b'\n')
    {
        raw.drain(..=i);
    }
    if raw.len() > max {
        eprintln!("frontdesk ingest: message larger than smtp.max_message_size ({max} bytes)");
        return EX_DATAERR;
    }
    if raw.is_empty() || !looks_like_mail(&raw) {
        eprintln!("frontdesk ingest: standard input is not an RFC 5322 message (no header section)");
        return EX_DATAERR;
    }
    let mail_from = sender.unwrap_or_else(|| sender_of(&raw));
    let rcpt = recipient.filter(|r| cfg.mailbox_for(r).is_some()).or_else(|| recipient_of(&cfg, &raw));
    match Store::open_with_cache(&cfg.server.data_dir, cfg.server.cache_mib * 1024 * 1024) {
        Ok(store) => deliver_local(cfg, store, raw, mail_from, rcpt),
        Err(StoreError::Locked(_)) => match rcpt {
            Some(r) => deliver_smtp(&cfg, &raw, &mail_from, &r),
            None => {
                eprintln!("frontdesk ingest: the server is running but no [[mailbox]] is configured to hand the message to");
                EX_TEMPFAIL
            }
        },
        Err(e) => {
            eprintln!("frontdesk ingest: cannot open the data directory: {e}");
            EX_TEMPFAIL
        }
    }
}

fn deliver_local(cfg: Arc<Config>, store: Store, raw: Vec<u8>, mail_from: String, rcpt: Option<String>) -> u8 {
    let desk = Desk::new(store, cfg, Arc::new(SystemClock));
    let entry = SpoolEntry {
        received_at: desk.now(),
        mail_from,
        rcpt_to: rcpt.into_iter().collect(),
        size: raw.len() as u64,
        source: "ingest".into(),
    };
    let stamped = stamped(&desk.config(), "frontdesk ingest", desk.now(), &raw);
    if let Err(e) = desk.spool_mail(&[(&entry, &stamped)]) {
        eprintln!("frontdesk ingest: cannot store the message: {e}");
        return EX_TEMPFAIL;
    }
    // Safe on disk now; turn it (and anything left over) into tickets.
    crate::mail::worker::drain(&desk, &crate::mail::worker::MailStats::default());
    EX_OK
}

/// A minimal SMTP client to the running server.
fn deliver_smtp(cfg: &Config, raw: &[u8], mail_from: &str, rcpt: &str) -> u8 {
    let mut addr: SocketAddr = match cfg.smtp.listen.parse() {
        Ok(a) => a,
        Err(_) => return EX_TEMPFAIL,
    };
    if addr.ip().is_unspecified() {
        addr.set_ip(if addr.is_ipv4() { [127, 0, 0, 1].into() } else { std::net::Ipv6Addr::LOCALHOST.into() });
    }
    let result = (|| -> std::io::Result<(u16, String)> {
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10))?;
        stream.set_read_timeout(Some(Duration::from_secs(120)))?;
        let mut reader = BufReader::new(stream.try_clone()?);
        let mut w = stream;
        let mut read_reply = || -> std::io::Result<(u16, String)> {
            let mut text = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line)? == 0 {
                    return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "connection closed"));
                }
                text.push_str(&line);
                if line.as_bytes().get(3) != Some(&b'-') {
                    let code = line.get(..3).and_then(|c| c.parse().ok()).unwrap_or(451);
                    return Ok((code, text.trim_end().to_string()));
                }
            }
        };
        let expect =
            |r: (u16, String), ok: u16| -> std::io::Result<Option<(u16, String)>> { if r.0 == ok { Ok(None) } else { Ok(Some(r)) } };
        macro_rules! step {
            ($cmd:expr, $ok:expr) => {{
                if let Some(c) = $cmd {
                    w.write_all(c.as_bytes())?;
                }
                if let Some(fail) = expect(read_reply()?, $ok)? {
                    let _ = w.write_all(b"QUIT\r\n");
                    return Ok(fail);
                }
            }};
        }
        step!(None::<String>, 220);
        step!(Some("EHLO localhost\r\n".to_string()), 250);
        step!(Some(format!("MAIL FROM:<{mail_from}>\r\n")), 250);
        step!(Some(format!("RCPT TO:<{rcpt}>\r\n")), 250);
        step!(Some("DATA\r\n".to_string()), 354);
        let mut body = Vec::with_capacity(raw.len() + 64);
        for line in raw.split_inclusive(|&b| b == b'\n') {
            if line.first() == Some(&b'.') {
                body.push(b'.');
            }
            let l = line.strip_suffix(b"\n").unwrap_or(line);
            let l = l.strip_suffix(b"\r").unwrap_or(l);
            body.extend_from_slice(l);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(b".\r\n");
        w.write_all(&body)?;
        let r = read_reply()?;
        let _ = w.write_all(b"QUIT\r\n");
        Ok(r)
    })();
    match result {
        Ok((code, _)) if (200..300).contains(&code) => EX_OK,
        Ok((code, text)) if (500..600).contains(&code) => {
            eprintln!("frontdesk ingest: refused: {text}");
            EX_DATAERR
        }
        Ok((_, text)) => {
            eprintln!("frontdesk ingest: temporary failure: {text}");
            EX_TEMPFAIL
        }
        Err(e) => {
            eprintln!("frontdesk ingest: cannot reach the running server's SMTP listener at {addr}: {e}");
            EX_TEMPFAIL
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_messages() {
        assert!(looks_like_mail(b"From: a@b\r\n\r\nx"));
        assert!(looks_like_mail(b"Received: x\r\nSubject: y\r\n\r\n"));
        assert!(!looks_like_mail(b"hello world\r\n"));
        assert!(!looks_like_mail(b": empty name\r\n"));
        assert!(!looks_like_mail(b"bad name: x\r\n"));
        assert_eq!(header_addr(b"From: Carol <c@x.test>\r\nTo: s@d.test\r\n\r\nFrom: no", "from").as_deref(), Some("c@x.test"));
        assert_eq!(header_addr(b"To: s@d.test\r\n\r\n", "to").as_deref(), Some("s@d.test"));
    }
}
