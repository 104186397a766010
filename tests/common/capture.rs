//! An in-process capture SMTP server acting as the desk's smarthost: it
//! records every message, and can refuse recipients or be taken down. It
//! offers SMTPUTF8 only when asked, and then, like Postfix, refuses a
//! Unicode address in a transaction that did not declare it.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// A session's stream: plain TCP or TLS.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {
    fn is_tls(&self) -> bool;
}

impl Io for tokio::net::TcpStream {
    fn is_tls(&self) -> bool {
        false
    }
}

impl Io for tokio_rustls::server::TlsStream<Box<dyn Io>> {
    fn is_tls(&self) -> bool {
        true
    }
}

impl Io for tokio_rustls::server::TlsStream<tokio::net::TcpStream> {
    fn is_tls(&self) -> bool {
        true
    }
}

fn tls_on(io: &BufReader<Box<dyn Io>>) -> bool {
    io.get_ref().is_tls()
}

#[derive(Debug, Clone)]
pub struct Captured {
    pub mail_from: String,
    /// Whether the message came over TLS (STARTTLS or implicit).
    pub tls: bool,
    /// The MAIL FROM parameters (`SMTPUTF8`, …).
    pub mail_params: String,
    pub rcpt_to: Vec<String>,
    pub data: String,
}

impl Captured {
    /// The decoded text body.
    pub fn text(&self) -> String {
        mail_parser::MessageParser::default()
            .parse(self.data.as_bytes())
            .and_then(|m| m.body_text(0).map(|t| t.into_owned()))
            .unwrap_or_default()
    }

    /// The value of a header (first occurrence, unfolded).
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next().unwrap_or("");
        let mut out: Option<String> = None;
        for line in head.split("\r\n") {
            if line.starts_with([' ', '\t']) {
                if let Some(o) = out.as_mut() {
                    o.push(' ');
                    o.push_str(line.trim());
                }
                continue;
            }
            if out.is_some() {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case(name)
            {
                out = Some(v.trim().to_string());
            }
        }
        out
    }
}

#[derive(Clone, Default)]
pub struct Capture {
    pub messages: Arc<Mutex<Vec<Captured>>>,
    /// Recipients answered with 550.
    pub refuse: Arc<Mutex<Vec<String>>>,
    /// When set, AUTH PLAIN/LOGIN with these credentials is required.
    pub auth: Arc<Mutex<Option<(String, String)>>>,
    /// Offer SMTPUTF8 (RFC 6531) in the EHLO reply.
    pub smtputf8: Arc<std::sync::atomic::AtomicBool>,
    /// Successful AUTH logins seen.
    pub logins: Arc<Mutex<Vec<String>>>,
    pub addr: String,
}

impl Capture {
    /// Listens on an ephemeral port (or `addr`, to come back after a stop).
    pub async fn start_on(addr: &str) -> (Capture, tokio::task::JoinHandle<()>) {
        Self::start_with(addr, None).await
    }

    /// With TLS: STARTTLS offered, or (`implicit`) TLS from the first byte.
    pub async fn start_tls(config: Arc<rustls::ServerConfig>, implicit: bool) -> (Capture, tokio::task::JoinHandle<()>) {
        Self::start_with("127.0.0.1:0", Some((tokio_rustls::TlsAcceptor::from(config), implicit))).await
    }

    async fn start_with(addr: &str, tls: Option<(tokio_rustls::TlsAcceptor, bool)>) -> (Capture, tokio::task::JoinHandle<()>) {
        let listener = TcpListener::bind(addr).await.expect("bind capture");
        let cap = Capture { addr: listener.local_addr().unwrap().to_string(), ..Default::default() };
        let c = cap.clone();
        let handle = tokio::spawn(async move {
            loop {
                let Ok((s, _)) = listener.accept().await else { return };
                let c = c.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    let (mut io, mut starttls): (BufReader<Box<dyn Io>>, _) = match tls {
                        Some((acceptor, true)) => match acceptor.accept(s).await {
                            Ok(t) => (BufReader::new(Box::new(t)), None),
                            Err(_) => return,
                        },
                        Some((acceptor, false)) => (BufReader::new(Box::new(s)), Some(acceptor)),
                        None => (BufReader::new(Box::new(s)), None),
                    };
                    let mut secure = tls_on(&io);
                    let _ = io.write_all(b"220 capture ESMTP\r\n").await;
                    let _ = io.flush().await;
                    let (mut from, mut params, mut rcpts) = (String::new(), String::new(), Vec::new());
                    let mut authed = false;
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if io.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let upper = line.to_uppercase();
                        let need_auth = c.auth.lock().unwrap().clone();
                        let utf8 = c.smtputf8.load(std::sync::atomic::Ordering::SeqCst);
                        let declared = params.to_uppercase().split_whitespace().any(|p| p == "SMTPUTF8");
                        let reply: String = if upper.starts_with("STARTTLS") && starttls.is_some() {
                            let _ = io.write_all(b"220 2.0.0 go ahead\r\n").await;
                            let _ = io.flush().await;
                            let Some(acceptor) = starttls.take() else { return };
                            let plain = io.into_inner();
                            match acceptor.accept(plain).await {
                                Ok(t) => io = BufReader::new(Box::new(t)),
                                Err(_) => return,
                            }
                            secure = true;
                            continue;
                        } else if upper.starts_with("EHLO") {
                            let utf8 = if utf8 { "250-SMTPUTF8\r\n" } else { "" };
                            let utf8 = if starttls.is_some() { format!("{utf8}250-STARTTLS\r\n") } else { utf8.to_string() };
                            if need_auth.is_some() {
                                format!("250-capture\r\n{utf8}250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n")
                            } else {
                                format!("250-capture\r\n{utf8}250-PIPELINING\r\n250 8BITMIME\r\n")
                            }
                        } else if upper.starts_with("AUTH PLAIN") {
                            let arg = line[10..].trim();
                            let decoded = super::base64_decode(arg);
                            let parts: Vec<&[u8]> = decoded.split(|&b| b == 0).collect();
                            let ok = match (&need_auth, parts.as_slice()) {
                                (Some((u, p)), [_, user, pass]) => user == &u.as_bytes() && pass == &p.as_bytes(),
                                _ => false,
                            };
                            if ok {
                                authed = true;
                                c.logins.lock().unwrap().push(String::from_utf8_lossy(parts[1]).into_owned());
                                "235 2.7.0 ok\r\n".into()
                            } else {
                                "535 5.7.8 bad credentials\r\n".into()
                            }
                        } else if upper.starts_with("MAIL FROM:") && need_auth.is_some() && !authed {
                            "530 5.7.0 authentication required\r\n".into()
                        } else if upper.starts_with("MAIL FROM:") {
                            let rest = line["MAIL FROM:".len()..].trim();
                            let (addr, rest) = rest.split_once('>').unwrap_or((rest, ""));
                            from = addr.trim_start_matches('<').to_string();
                            params = rest.trim().to_string();
                            rcpts.clear();
                            let declared = params.to_uppercase().split_whitespace().any(|p| p == "SMTPUTF8");
                            if declared && !utf8 {
                                "555 5.5.4 SMTPUTF8 is not offered here\r\n".into()
                            } else if !from.is_ascii() && !declared {
                                "553 5.6.7 Must declare SMTPUTF8 to send unicode address\r\n".into()
                            } else {
                                "250 ok\r\n".into()
                            }
                        } else if upper.starts_with("RCPT TO:") {
                            let a = line[8..].trim().trim_matches(['<', '>']).to_string();
                            if !a.is_ascii() && !declared {
                                "553 5.6.7 Must declare SMTPUTF8 to send unicode address\r\n".into()
                            } else if c.refuse.lock().unwrap().contains(&a) {
                                "550 5.1.1 no such user\r\n".into()
                            } else {
                                rcpts.push(a);
                                "250 ok\r\n".into()
                            }
                        } else if upper.starts_with("DATA") {
                            let _ = io.write_all(b"354 go\r\n").await;
                            let _ = io.flush().await;
                            let mut data = String::new();
                            loop {
                                line.clear();
                                if io.read_line(&mut line).await.unwrap_or(0) == 0 {
                                    return;
                                }
                                if line == ".\r\n" {
                                    break;
                                }
                                data.push_str(line.strip_prefix('.').filter(|_| line.starts_with("..")).unwrap_or(&line));
                            }
                            c.messages.lock().unwrap().push(Captured {
                                mail_from: from.clone(),
                                mail_params: params.clone(),
                                rcpt_to: rcpts.clone(),
                                data,
                                tls: secure,
                            });
                            "250 queued\r\n".into()
                        } else if upper.starts_with("QUIT") {
                            let _ = io.write_all(b"221 bye\r\n").await;
                            let _ = io.flush().await;
                            return;
                        } else {
                            "250 ok\r\n".into()
                        };
                        if io.write_all(reply.as_bytes()).await.is_err() || io.flush().await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        (cap, handle)
    }

    pub fn all(&self) -> Vec<Captured> {
        self.messages.lock().unwrap().clone()
    }

    /// Waits until a captured message passes `wanted` (at most ~10 s).
    pub async fn wait_for(&self, wanted: impl Fn(&Captured) -> bool) -> Captured {
        for _ in 0..400 {
            if let Some(m) = self.all().into_iter().find(|m| wanted(m)) {
                return m;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("no captured mail is the one expected: {:#?}", self.all());
    }

    /// Waits until at least `n` messages were captured.
    pub async fn wait(&self, n: usize) -> Vec<Captured> {
        for _ in 0..400 {
            let all = self.all();
            if all.len() >= n {
                return all;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("expected {n} captured mails, got {}: {:#?}", self.all().len(), self.all());
    }
}
