//! One IMAP connection: TCP to the host (its addresses from the desk's own
//! resolver, no system name service), TLS from the first byte or after
//! STARTTLS, then LOGIN or XOAUTH2 — each step with a deadline, so a server
//! that stops answering is noticed and the connection made again.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::config::{ImapConfig, ImapSecurity};
use crate::mail::dns::Dns;

/// The longest any one exchange with the server may take.
pub const STEP: Duration = Duration::from_secs(60);

/// The connection under the IMAP client: plain (loopback, or before
/// STARTTLS) or TLS.
#[derive(Debug)]
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// A logged-in session.
pub type Session = async_imap::Session<Stream>;

/// `fut` within `STEP`, its error told with what was being done.
pub async fn step<T, E: std::fmt::Display>(what: &str, fut: impl std::future::Future<Output = Result<T, E>>) -> Result<T, String> {
    match tokio::time::timeout(STEP, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(format!("{what}: {e}")),
        Err(_) => Err(format!("{what}: no answer within {} s", STEP.as_secs())),
    }
}

/// XOAUTH2 (RFC 7628's Google/Microsoft form): the user and a bearer
/// token; to an error challenge it answers empty, as the mechanism asks.
struct XOauth2 {
    user: String,
    token: String,
    sent: bool,
}

impl async_imap::Authenticator for &mut XOauth2 {
    type Response = String;

    fn process(&mut self, _challenge: &[u8]) -> String {
        if self.sent {
            return String::new();
        }
        self.sent = true;
        format!("user={}\x01auth=Bearer {}\x01\x01", self.user, self.token)
    }
}

/// The server's first line must be a greeting, not BYE.
async fn greeting(c: &mut async_imap::Client<Stream>) -> Result<(), String> {
    match step("greeting", c.read_response()).await? {
        Some(r) if !matches!(r.parsed(), async_imap::imap_proto::Response::Data { status: async_imap::imap_proto::Status::Bye, .. }) => {
            Ok(())
        }
        Some(_) => Err("the server said BYE at once".into()),
        None => Err("the server closed the connection before its greeting".into()),
    }
}

async fn tls(cfg: &ImapConfig, tcp: TcpStream) -> Result<Stream, String> {
    let connector = crate::tls::client::connector(&cfg.ca_file)?;
    let name = rustls::pki_types::ServerName::try_from(cfg.host.clone()).map_err(|e| format!("{}: {e}", cfg.host))?;
    let s = step("TLS handshake", connector.connect(name, tcp)).await?;
    Ok(Stream::Tls(Box::new(s)))
}

/// Connects and logs in.
pub async fn open(cfg: &ImapConfig, dns: &Arc<Dns>) -> Result<Session, String> {
    let addrs = dns.addresses(&cfg.host).await?;
    let mut tcp = None;
    let mut last = String::from("no address");
    for ip in addrs {
        match tokio::time::timeout(Duration::from_secs(15), TcpStream::connect((ip, cfg.port()))).await {
            Ok(Ok(s)) => {
                tcp = Some(s);
                break;
            }
            Ok(Err(e)) => last = format!("{ip}: {e}"),
            Err(_) => last = format!("{ip}: no answer within 15 s"),
        }
    }
    let tcp = tcp.ok_or_else(|| format!("cannot connect to {}:{}: {last}", cfg.host, cfg.port()))?;
    let client = match cfg.security {
        ImapSecurity::Tls => {
            let mut c = async_imap::Client::new(tls(cfg, tcp).await?);
            greeting(&mut c).await?;
            c
        }
        ImapSecurity::None => {
            let mut c = async_imap::Client::new(Stream::Plain(tcp));
            greeting(&mut c).await?;
            c
        }
        ImapSecurity::Starttls => {
            let mut c = async_imap::Client::new(Stream::Plain(tcp));
            greeting(&mut c).await?;
            step("STARTTLS", c.run_command_and_check_ok("STARTTLS", None)).await?;
            let Stream::Plain(tcp) = c.into_inner() else { return Err("STARTTLS on a TLS connection".into()) };
            // No greeting after STARTTLS.
            async_imap::Client::new(tls(cfg, tcp).await?)
        }
    };
    let (oauth, secret) = cfg.secret().map_err(|e| format!("cannot read the login secret: {e}"))?;
    let login = if oauth {
        let mut auth = XOauth2 { user: cfg.user.clone(), token: secret, sent: false };
        tokio::time::timeout(STEP, client.authenticate("XOAUTH2", &mut auth)).await
    } else {
        tokio::time::timeout(STEP, client.login(&cfg.user, &secret)).await
    };
    match login {
        Ok(Ok(s)) => Ok(s),
        Ok(Err((e, _))) => Err(format!("login as {} refused: {e}", cfg.user)),
        Err(_) => Err(format!("login: no answer within {} s", STEP.as_secs())),
    }
}
