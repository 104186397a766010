//! DATA and BDAT: receive the message within the limits, verify its sender
//! (`mail::auth`: 550 when the policy says reject), prepend the results and a
//! Received header, and commit it to the spool before answering 250 (promise 1).

use std::slice::Iter;
use std::time::Instant;

use smtp_proto::request::receiver::{BdatReceiver, DataReceiver};

use super::session::{Flow, Receiving, Session};
use crate::domain::Timestamp;
use crate::domain::verdict::SpamVerdict;
use crate::mail::rspamd::{Envelope, Outcome};
use crate::store::SpoolEntry;

/// Number of header fields (lines not starting with white space) before the
/// first empty line.
pub(super) fn count_headers(msg: &[u8]) -> usize {
    let mut count = 0;
    for line in msg.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        if !matches!(line.first(), Some(b' ' | b'\t')) {
            count += 1;
        }
    }
    count
}

impl Session<'_> {
    fn check_transaction(&mut self) -> Option<&'static str> {
        if self.mail_from.is_none() {
            Some("503 5.5.1 Need MAIL FROM first")
        } else if self.rcpts.is_empty() {
            Some("554 5.5.1 No valid recipients")
        } else {
            None
        }
    }

    pub(super) fn data(&mut self) -> Flow {
        if self.in_bdat {
            // RFC 3030: after a BDAT without LAST only BDAT (or RSET) may follow.
            self.error("503 5.5.1 DATA not allowed after BDAT; send BDAT LAST or RSET");
            return Flow::Continue;
        }
        if let Some(e) = self.check_transaction() {
            self.error(e);
            return Flow::Continue;
        }
        self.reply("354 Start mail input; end with <CRLF>.<CRLF>");
        // The CRLF that ended the DATA command counts as the start of the first
        // line (RFC 5321 4.1.1.4): an immediate "." ends an empty message and a
        // leading ".." is unstuffed. Prime the receiver with it.
        let mut receiver = DataReceiver::new();
        let mut primed = Vec::new();
        receiver.ingest(&mut b"\r\n".iter(), &mut primed);
        self.receiving = Some(Receiving::Data(receiver));
        self.data_started = Some(Instant::now());
        Flow::Continue
    }

    pub(super) fn bdat(&mut self, chunk_size: usize, is_last: bool) -> Flow {
        if self.bdat_refusal.is_none()
            && let Some(e) = self.check_transaction()
        {
            // The chunk still has to be read to stay in step with the client.
            self.bdat_refusal = Some(e);
        }
        if self.data_started.is_none() {
            self.data_started = Some(Instant::now());
        }
        self.in_bdat = true;
        self.receiving = Some(Receiving::Bdat(BdatReceiver::new(chunk_size, is_last)));
        if chunk_size == 0 { Flow::FinishChunk } else { Flow::Continue }
    }

    /// Feeds message bytes; true when the DATA/BDAT chunk is complete (the
    /// rest of the buffer holds commands again).
    pub(super) async fn receive(&mut self, iter: &mut Iter<'_, u8>) -> bool {
        let start = self.message.len();
        let done = match self.receiving.as_mut() {
            Some(Receiving::Data(r)) => r.ingest(iter, &mut self.message),
            Some(Receiving::Bdat(r)) => r.ingest(iter, &mut self.message),
            None => return true,
        };
        let added = self.message.len().saturating_sub(start);
        self.lines.feed(&self.message[start.min(self.message.len())..]);
        self.received_bytes += added;
        if self.received_bytes > self.srv.config().smtp.max_message_size {
            self.too_big = true;
        } else if !self.over_budget && !self.too_big && !self.reserve(added) {
            // All sessions together hold at most smtp.max_data_memory bytes.
            self.over_budget = true;
        }
        if self.too_big || self.over_budget {
            // Keep reading to the end so the reply lands in the right place,
            // but stop keeping the bytes.
            self.message = Vec::new();
        }
        if done {
            self.chunk_done().await;
        }
        done
    }

    /// A DATA transfer or a BDAT chunk is complete.
    pub(super) async fn chunk_done(&mut self) {
        let last = match &self.receiving {
            Some(Receiving::Bdat(r)) => r.is_last,
            _ => true,
        };
        if !last {
            self.receiving = None;
            let n = self.received_bytes;
            self.reply(&format!("250 2.0.0 {n} octets received"));
            return;
        }
        self.finish().await;
    }

    async fn finish(&mut self) {
        let smtp = &self.srv.config().smtp;
        let (max_size, max_line, max_headers) = (smtp.max_message_size, smtp.max_line_length, smtp.max_header_count);
        if let Some(refusal) = self.bdat_refusal.take() {
            self.error(refusal);
        } else if self.too_big {
            self.error(&format!("552 5.3.4 Message size exceeds the limit of {max_size} bytes"));
        } else if self.over_budget {
            self.reply("452 4.3.1 Insufficient system storage, try again later");
        } else if self.lines.longest > max_line {
            self.error(&format!("554 5.6.0 Message has a line longer than {max_line} bytes"));
        } else if count_headers(&self.message) > max_headers {
            self.error(&format!("554 5.6.0 Message has more than {max_headers} header fields"));
        } else {
            self.spool().await;
        }
        self.reset_transaction();
    }

    async fn spool(&mut self) {
        let now = Timestamp(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0));
        let proto = match (self.esmtp, self.tls) {
            (true, true) => "ESMTPS",
            (true, false) => "ESMTP",
            (false, true) => "SMTPS",
            (false, false) => "SMTP",
        };
        self.messages += 1;
        let helo = self.helo.clone().unwrap_or_default();
        let for_clause = if self.rcpts.len() == 1 { format!("\r\n\tfor <{}>", self.rcpts[0]) } else { String::new() };
        // Session and message number: the id in our Received header and rspamd's Queue-Id.
        let queue_id = format!("{}.{}", self.id, self.messages);
        let received = format!(
            "Received: from {helo} ([{}])\r\n\tby {} (frontdesk) with {proto} id {queue_id}{for_clause};\r\n\t{}\r\n",
            self.remote.ip(),
            self.srv.config().smtp.hostname,
            now.rfc5322()
        );
        let body = std::mem::take(&mut self.message);
        // Sender authentication and the spam engine, side by side, unless the
        // client is a front MTA the desk trusts (it saw the real sender; its
        // IP would fail every SPF check and mislead rspamd).
        let mail_from = self.mail_from.clone().unwrap_or_default();
        let ip = self.remote.ip();
        let outside = !self.srv.config().trusted_relay(ip);
        let env = Envelope { ip, helo: &helo, mail_from: &mail_from, rcpts: &self.rcpts, queue_id: &queue_id };
        let srv = self.srv;
        let checks = &srv.checks;
        let (checked, spam) = tokio::join!(
            async {
                match &checks.verifier {
                    Some(v) if outside => Some(v.check(ip, &helo, &mail_from, &body).await),
                    _ => None,
                }
            },
            async {
                match &checks.rspamd {
                    Some(r) if outside => Some(r.check(&env, &body).await),
                    _ => None,
                }
            },
        );
        // A "=junk" DNSBL listing travels in the same header.
        let checked = match (checked, &self.dnsbl) {
            (Some(a), zone) => Some(crate::domain::auth::MailAuth { dnsbl: zone.clone().unwrap_or_default(), ..a }),
            (None, Some(zone)) => Some(crate::domain::auth::MailAuth { dnsbl: zone.clone(), ..Default::default() }),
            (None, None) => None,
        };
        if let Some(a) = &checked
            && let crate::mail::auth::Decision::Reject(answer) = crate::mail::auth::decide(&self.srv.config(), a)
        {
            tracing::info!(from = %mail_from, %ip, "{answer}");
            self.error(&answer);
            return;
        }
        // An allow-listed sender is never refused as spam when the mail
        // proves its From (`AllowList::admits`, as in the worker).
        let allowed = || checks.allow.admits(&crate::mail::auth::from_address(&body), checked.as_ref());
        let spam = match spam {
            Some(Outcome::Reject(answer)) if !allowed() => {
                tracing::info!(from = %mail_from, %ip, "{answer}");
                self.error(&answer);
                return;
            }
            Some(Outcome::Reject(_)) => Some(SpamVerdict::Unchecked { why: "refused by rspamd, but the sender is allow-listed".into() }),
            Some(Outcome::Accept(v)) => Some(v),
            None => None,
        };
        let results = checked.map(|a| a.header(&self.srv.config().smtp.hostname)).unwrap_or_default();
        // Results on top, then our Received: a results header with our name
        // further down was forged by the sender and is never read.
        let spam = spam.map(|v| v.header()).unwrap_or_default();
        let mut raw = Vec::with_capacity(results.len() + spam.len() + received.len() + body.len());
        raw.extend_from_slice(results.as_bytes());
        raw.extend_from_slice(spam.as_bytes());
        raw.extend_from_slice(received.as_bytes());
        raw.extend_from_slice(&body);
        let entry = SpoolEntry {
            received_at: now,
            mail_from,
            rcpt_to: self.rcpts.clone(),
            size: raw.len() as u64,
            source: format!("smtp {}", self.remote.ip()),
        };
        match self.srv.spooler.put(entry, raw).await {
            Ok(id) => {
                self.srv.stats.accepted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                self.reply(&format!("250 2.0.0 Ok: queued as {id}"));
            }
            Err(e) => {
                tracing::error!("spool write failed: {e}");
                self.reply("451 4.3.0 Temporary failure storing the message, please try again later");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::count_headers;

    #[test]
    fn counts_header_fields_not_continuations() {
        assert_eq!(count_headers(b"A: 1\r\nB: 2\r\n  continued\r\n\r\nbody: not a header\r\n"), 2);
        assert_eq!(count_headers(b"\r\nbody"), 0);
        assert_eq!(count_headers(b"A: 1\nB: 2\n"), 2);
    }
}
