//! One SMTP session: its state, the read loop with timeouts and limits, and the
//! dispatch of each parsed command to its phase's handler.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use smtp_proto::request::receiver::{BdatReceiver, DataReceiver, RequestReceiver};
use smtp_proto::{Error as ProtoError, Request};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::Server;

/// Longest command line accepted (RFC 5321 says 512; extensions need more).
const MAX_COMMAND_LINE: usize = 4096;

/// What the connection does after `run` returns.
pub enum Next {
    Close,
    StartTls,
}

/// What a command handler asks of the loop.
pub(super) enum Flow {
    Continue,
    Quit,
    StartTls,
    /// A zero-length BDAT chunk: the message part is complete already.
    FinishChunk,
}

/// Receiving message content.
pub(super) enum Receiving {
    Data(DataReceiver),
    Bdat(BdatReceiver),
}

/// Tracks the longest line seen in message content.
#[derive(Default)]
pub(super) struct LineCheck {
    current: usize,
    pub longest: usize,
}

impl LineCheck {
    pub fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if b == b'\n' {
                self.longest = self.longest.max(self.current);
                self.current = 0;
            } else {
                self.current += 1;
            }
        }
        self.longest = self.longest.max(self.current);
    }
}

pub(super) struct Session<'a> {
    pub srv: &'a Server,
    pub remote: SocketAddr,
    pub id: u64,
    pub helo: Option<String>,
    pub esmtp: bool,
    pub tls: bool,
    /// Envelope sender of the current transaction; `Some("")` is the null path.
    pub mail_from: Option<String>,
    pub rcpts: Vec<String>,
    pub commands: usize,
    pub errors: usize,
    pub out: Vec<u8>,
    pub receiving: Option<Receiving>,
    pub message: Vec<u8>,
    pub received_bytes: usize,
    pub too_big: bool,
    pub lines: LineCheck,
    pub data_started: Option<Instant>,
    /// For BDAT after a refused transaction: the reply to give at the end.
    pub bdat_refusal: Option<&'static str>,
    pub messages: u64,
    /// When the server started waiting for the current command: the command
    /// timeout counts from here, however the client trickles its bytes.
    pub waiting_since: Instant,
    /// Bytes of this session's message counted in the server-wide DATA budget.
    pub reserved: usize,
    /// The server-wide DATA budget was exhausted during this message.
    pub over_budget: bool,
    /// BDAT chunks of this transaction have been received (no DATA now).
    pub in_bdat: bool,
    /// The "=junk" DNSBL zone that lists the client, if one does.
    pub dnsbl: Option<String>,
    /// Our end of the connection (for HELO checks).
    pub local: Option<SocketAddr>,
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        self.release();
    }
}

impl<'a> Session<'a> {
    pub fn new(srv: &'a Server, remote: SocketAddr, id: u64) -> Self {
        Session {
            srv,
            remote,
            id,
            helo: None,
            esmtp: false,
            tls: false,
            mail_from: None,
            rcpts: Vec::new(),
            commands: 0,
            errors: 0,
            out: Vec::new(),
            receiving: None,
            message: Vec::new(),
            received_bytes: 0,
            too_big: false,
            lines: LineCheck::default(),
            data_started: None,
            bdat_refusal: None,
            messages: 0,
            waiting_since: Instant::now(),
            reserved: 0,
            over_budget: false,
            in_bdat: false,
            dnsbl: None,
            local: None,
        }
    }

    /// Takes `n` more bytes from the server-wide DATA budget; false when the
    /// budget is spent (the message is then refused with 452 4.3.1).
    pub fn reserve(&mut self, n: usize) -> bool {
        if self.srv.reserve_data(n) {
            self.reserved += n;
            true
        } else {
            false
        }
    }

    fn release(&mut self) {
        self.srv.release_data(self.reserved);
        self.reserved = 0;
    }

    pub fn reply(&mut self, line: &str) {
        crate::metrics::smtp_reply(line);
        self.out.extend_from_slice(line.as_bytes());
        self.out.extend_from_slice(b"\r\n");
    }

    /// A reply that counts as a client error.
    pub fn error(&mut self, line: &str) {
        self.errors += 1;
        self.reply(line);
    }

    /// Forgets the current transaction (RSET, after a message, new EHLO).
    pub fn reset_transaction(&mut self) {
        self.mail_from = None;
        self.rcpts.clear();
        self.message = Vec::new();
        self.received_bytes = 0;
        self.too_big = false;
        self.lines = LineCheck::default();
        self.receiving = None;
        self.data_started = None;
        self.bdat_refusal = None;
        self.over_budget = false;
        self.in_bdat = false;
        self.release();
    }

    /// RFC 3207: after STARTTLS the session starts over, EHLO included.
    pub fn after_starttls(&mut self) {
        self.reset_transaction();
        self.helo = None;
        self.esmtp = false;
        self.tls = true;
    }

    /// An absolute deadline: bytes trickling in do not move it; only a
    /// complete command (or the end of message content) does.
    fn deadline(&self) -> Instant {
        let smtp = &self.srv.config().smtp;
        match self.data_started {
            Some(start) => start + Duration::from_secs(smtp.data_timeout_secs),
            None => self.waiting_since + Duration::from_secs(smtp.command_timeout_secs),
        }
    }

    /// The read loop: reads, parses, answers (pipelined replies are sent in one
    /// write per read), until QUIT, STARTTLS, a limit, a timeout or EOF.
    pub async fn run<S: AsyncRead + AsyncWrite + Unpin>(&mut self, stream: &mut S) -> Next {
        let mut buf = vec![0u8; 16 * 1024];
        let mut receiver = RequestReceiver::default();
        let host = self.srv.config().smtp.hostname.clone();
        let jobs = self.srv.spooler.jobs.clone();
        loop {
            // At shutdown an idle session is closed at once; one in the middle
            // of a transaction finishes it first (its 250 means the mail is safe).
            let idle = self.mail_from.is_none() && self.receiving.is_none();
            let read = tokio::select! {
                r = tokio::time::timeout_at(self.deadline().into(), stream.read(&mut buf)) => r,
                _ = jobs.stopped(), if idle => {
                    let line = format!("421 4.3.2 {host} Shutting down, try again later\r\n");
                    crate::metrics::smtp_reply(&line);
                    let _ = stream.write_all(line.as_bytes()).await;
                    return Next::Close;
                }
            };
            let n = match read {
                Ok(Ok(0)) | Ok(Err(_)) => return Next::Close,
                Ok(Ok(n)) => n,
                Err(_) => {
                    let line = format!("421 4.4.2 {host} Timeout, closing connection\r\n");
                    crate::metrics::smtp_reply(&line);
                    let _ = stream.write_all(line.as_bytes()).await;
                    return Next::Close;
                }
            };
            let mut iter = buf[..n].iter();
            let mut flow = Flow::Continue;
            while iter.len() > 0 {
                if self.receiving.is_some() {
                    if self.receive(&mut iter).await {
                        self.waiting_since = Instant::now();
                        continue;
                    }
                    break;
                }
                // A command line longer than the limit is refused whole (smtp-proto
                // only checks lines it has to buffer across reads).
                let rest = iter.as_slice();
                if let Some(pos) = rest.iter().position(|&b| b == b'\n')
                    && pos > MAX_COMMAND_LINE
                {
                    iter = rest[pos + 1..].iter();
                    self.error("500 5.5.2 Line too long");
                    continue;
                }
                match receiver.ingest(&mut iter) {
                    Ok(req) => {
                        let req = req.into_owned();
                        self.waiting_since = Instant::now();
                        // Like Postfix's smtpd_junk_command_limit: only commands
                        // that move no mail count; a relay may deliver thousands
                        // of messages over one connection.
                        if matches!(
                            req,
                            Request::Noop { .. }
                                | Request::Rset
                                | Request::Vrfy { .. }
                                | Request::Expn { .. }
                                | Request::Help { .. }
                                | Request::Etrn { .. }
                                | Request::Ehlo { .. }
                                | Request::Helo { .. }
                        ) {
                            self.commands += 1;
                        }
                        if self.commands > self.srv.config().smtp.max_commands {
                            self.reply("421 4.7.0 Too many commands in one session, closing connection");
                            flow = Flow::Quit;
                            break;
                        }
                        flow = self.dispatch(req);
                        if matches!(flow, Flow::FinishChunk) {
                            self.chunk_done().await;
                            flow = Flow::Continue;
                        }
                        if !matches!(flow, Flow::Continue) {
                            break;
                        }
                    }
                    Err(ProtoError::NeedsMoreData { .. }) => break,
                    Err(e) => {
                        self.waiting_since = Instant::now();
                        self.protocol_error(e)
                    }
                }
                if self.errors >= self.srv.config().smtp.max_errors {
                    self.reply("421 4.7.0 Too many errors, closing connection");
                    flow = Flow::Quit;
                    break;
                }
            }
            if !self.out.is_empty() {
                let out = std::mem::take(&mut self.out);
                if stream.write_all(&out).await.is_err() || stream.flush().await.is_err() {
                    return Next::Close;
                }
            }
            match flow {
                Flow::Continue | Flow::FinishChunk => {}
                Flow::Quit => return Next::Close,
                // Anything pipelined after STARTTLS was sent in the clear and is
                // dropped with the buffer (no command injection, RFC 3207 §4.2).
                Flow::StartTls => return Next::StartTls,
            }
        }
    }

    fn protocol_error(&mut self, e: ProtoError) {
        match e {
            ProtoError::UnknownCommand => self.error("500 5.5.1 Command unrecognized"),
            ProtoError::ResponseTooLong => self.error("500 5.5.2 Line too long"),
            ProtoError::InvalidSenderAddress => self.error("501 5.1.7 Bad sender address syntax"),
            ProtoError::InvalidRecipientAddress => self.error("501 5.1.3 Bad recipient address syntax"),
            ProtoError::SyntaxError { syntax } => self.error(&format!("501 5.5.4 Syntax error, expected: {syntax}")),
            ProtoError::InvalidParameter { param } => self.error(&format!("501 5.5.4 Invalid parameter {param}")),
            ProtoError::UnsupportedParameter { param } => {
                let p: String = param.chars().filter(|c| !c.is_control()).take(40).collect();
                self.error(&format!("555 5.5.4 Unsupported parameter {p}"))
            }
            _ => self.error("500 5.5.2 Syntax error"),
        }
    }

    fn dispatch(&mut self, req: Request<String>) -> Flow {
        match req {
            Request::Ehlo { host } => self.ehlo(host, true),
            Request::Helo { host } => self.ehlo(host, false),
            Request::Mail { from } => self.mail(from),
            Request::Rcpt { to } => self.rcpt(to),
            Request::Data => self.data(),
            Request::Bdat { chunk_size, is_last } => {
                if chunk_size > self.srv.config().smtp.max_message_size {
                    // The chunk cannot be skipped without reading it all: refuse and close.
                    self.error(&format!("552 5.3.4 Message size exceeds the limit of {} bytes", self.srv.config().smtp.max_message_size));
                    self.reply("421 4.7.0 Closing connection");
                    return Flow::Quit;
                }
                self.bdat(chunk_size, is_last)
            }
            Request::StartTls => self.starttls(),
            Request::Rset => {
                self.reset_transaction();
                self.reply("250 2.0.0 Reset OK");
                Flow::Continue
            }
            Request::Quit => {
                self.reply(&format!("221 2.0.0 {} closing connection", self.srv.config().smtp.hostname));
                Flow::Quit
            }
            other => self.misc(other),
        }
    }
}
