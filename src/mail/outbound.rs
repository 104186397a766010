//! Outgoing mail: builds each queued `OutMail` into a message (mail-builder)
//! and delivers it through the smarthost (mail-send; plain, STARTTLS or TLS,
//! AUTH when configured). Temporary failures retry with backoff; permanent
//! ones, and mail older than `outgoing.max_queue_hours`, are recorded on the
//! ticket. Each recipient gets its own SMTP transaction, so one bad address
//! never stops the others. Delivery is at least once: a crash between the
//! smarthost's 250 and our commit sends that mail again (same Message-ID).
//!
//! The envelope sender is the mailbox for every mail, acknowledgements
//! included (RFC 3834 §3.3 recommends the null sender for auto-replies; we
//! chose otherwise): a bounce of an acknowledgement then comes back and
//! marks the address bounced, and SPF stays aligned for DMARC. Loops are
//! kept off the other way: no acknowledgement for auto-submitted mail,
//! bounces or list mail, `Auto-Submitted: auto-replied` on ours, and at
//! most one per address per `outgoing.ack_window_minutes`.

use std::sync::Arc;
use std::time::Duration;

use mail_send::SmtpClientBuilder;
use mail_send::mail_builder::MessageBuilder;
use mail_send::mail_builder::headers::raw::Raw;
use mail_send::smtp::message::Message;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::desk::Desk;
use crate::desk::outbox::Delivery;
use crate::domain::Timestamp;
use crate::store::OutMail;

fn html_of(text: &str) -> String {
    let esc = text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    format!("<div style=\"font-family:system-ui,sans-serif;font-size:14px;white-space:pre-wrap\">{esc}</div>")
}

/// Address → display name, for the To and Cc headers.
pub type Names = std::collections::HashMap<String, String>;

/// `To:`/`Cc:` with each address's display name when the desk knows one.
fn address_list(addresses: &[String], names: &Names) -> Raw<'static> {
    let named = addresses.iter().map(|a| (names.get(a).map(String::as_str).unwrap_or(""), a.as_str()));
    Raw::new(crate::domain::header::mailbox_list(named))
}

/// The RFC 5322 message of a queued mail; `reply_to` is its mailbox's
/// Reply-To; `unsubscribe` is the recipient's own link when they may leave
/// the conversation.
pub fn build(
    m: &OutMail,
    names: &Names,
    reply_to: &str,
    attachments: &[(String, String, Vec<u8>)],
    unsubscribe: Option<&str>,
) -> std::io::Result<Vec<u8>> {
    let text = match unsubscribe {
        Some(url) => format!("{}\n--\nYou get this because you were copied on this conversation. Stop: {url}\n", m.text.trim_end()),
        None => m.text.clone(),
    };
    // The From name is written by `domain::header` (encoded words never in
    // quotes, each within 75 characters); Date is when the mail was written,
    // not when an attempt finally got through.
    let mut b = MessageBuilder::new()
        .header("From", Raw::new(crate::domain::header::mailbox(&m.from_name, &m.from)))
        .reply_to(reply_to)
        .subject(m.subject.as_str())
        .message_id(m.message_id.as_str())
        .date(m.created_at.0 / 1000)
        .html_body(html_of(&text))
        .text_body(text);
    if !m.to.is_empty() {
        b = b.header("To", address_list(&m.to, names));
    }
    if !m.cc.is_empty() {
        b = b.header("Cc", address_list(&m.cc, names));
    }
    if let Some(irt) = &m.in_reply_to {
        b = b.in_reply_to(irt.as_str());
    }
    if !m.references.is_empty() {
        b = b.references(m.references.iter().map(|a| a.as_str()).collect::<Vec<_>>());
    }
    if let Some(a) = &m.auto_submitted {
        b = b.header("Auto-Submitted", Raw::new(a.clone())).header("X-Auto-Response-Suppress", Raw::new("All"));
    }
    if let Some(url) = unsubscribe {
        b = b
            .header("List-Unsubscribe", Raw::new(format!("<{url}>")))
            .header("List-Unsubscribe-Post", Raw::new("List-Unsubscribe=One-Click"));
    }
    for (name, ctype, data) in attachments {
        b = b.attachment(ctype.clone(), name.clone(), data.clone());
    }
    b.write_to_vec()
}

fn classify(e: &mail_send::Error) -> Delivery {
    match e {
        mail_send::Error::UnexpectedReply(r) if (500..600).contains(&r.code()) => {
            Delivery::Permanent(format!("{} {}", r.code(), r.message()))
        }
        mail_send::Error::AuthenticationFailed(r) => Delivery::Temporary(format!("smarthost AUTH failed: {} {}", r.code(), r.message())),
        other => Delivery::Temporary(other.to_string()),
    }
}

/// Whether a message's header section carries UTF-8 (an address beyond
/// ASCII in To or Cc: RFC 6532).
fn utf8_headers(body: &[u8]) -> bool {
    let end = body.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(body.len());
    body.iter().take(end).any(|b| !b.is_ascii())
}

/// The SMTP transaction for one recipient: envelope addresses with A-label
/// domains and SMTPUTF8 when an address or the headers need it and the next
/// hop offers it. A Unicode local part the next hop cannot take is a
/// permanent failure that says so; UTF-8 only in headers (a copy to someone
/// else) goes out without the parameter, as most servers take it.
fn transaction<'a>(from: &str, rcpt: &str, body: &'a [u8], smtputf8: bool) -> Result<Message<'a>, Delivery> {
    use crate::domain::header::envelope;
    let bad = |e: String| Delivery::Permanent(format!("cannot send to this address: {e}"));
    let (from, to) = (envelope(from).map_err(bad)?, envelope(rcpt).map_err(bad)?);
    if (from.needs_smtputf8 || to.needs_smtputf8) && !smtputf8 {
        return Err(Delivery::Permanent(format!(
            "the next mail server does not offer SMTPUTF8 (RFC 6531), which mail to or from an address like {} needs",
            if to.needs_smtputf8 { rcpt } else { from.address.as_str() }
        )));
    }
    let mut params = mail_send::smtp::message::Parameters::new();
    if smtputf8 && (from.needs_smtputf8 || to.needs_smtputf8 || utf8_headers(body)) {
        params.add("SMTPUTF8");
    }
    Ok(Message {
        mail_from: mail_send::smtp::message::Address::new(from.address, params),
        rcpt_to: vec![mail_send::smtp::message::Address::new(to.address, Default::default())],
        body: body.into(),
    })
}

/// Says EHLO (after STARTTLS, or on the implicit TLS or plain connection),
/// authenticates when asked, and tells whether SMTPUTF8 is offered.
async fn greet<T: AsyncRead + AsyncWrite + Unpin>(
    client: &mut mail_send::SmtpClient<T>,
    helo: &str,
    credentials: Option<&mail_send::Credentials<String>>,
) -> mail_send::Result<bool> {
    let caps = client.capabilities(helo, false).await?;
    if let Some(c) = credentials {
        client.authenticate(c, &caps).await?;
    }
    Ok(caps.has_capability(smtp_proto::EXT_SMTP_UTF8))
}

async fn send_each<T: AsyncRead + AsyncWrite + Unpin>(
    client: &mut mail_send::SmtpClient<T>,
    smtputf8: bool,
    from: &str,
    rcpts: &[(String, Vec<u8>)],
) -> Vec<(String, Delivery)> {
    let mut out = Vec::new();
    for (r, body) in rcpts {
        let msg = match transaction(from, r, body, smtputf8) {
            Ok(msg) => msg,
            Err(refused) => {
                out.push((r.clone(), refused));
                continue;
            }
        };
        let res = client.send(msg).await;
        let outcome = match res {
            Ok(()) => Delivery::Delivered,
            Err(e) => {
                // Start the next transaction from a clean state.
                let _ = client.rset().await;
                classify(&e)
            }
        };
        out.push((r.clone(), outcome));
    }
    out
}

/// What delivery needs besides the desk: the resolver (direct delivery) and
/// the DKIM signer.
#[derive(Clone)]
pub struct Mailer {
    pub dns: Arc<super::dns::Dns>,
    pub signer: Option<Arc<super::dkim::Signer>>,
}

/// Per-mail delivery results.
type Results = Vec<(String, Delivery)>;

/// Each pending recipient with the exact bytes they get.
type Bodies = Vec<(String, Vec<u8>)>;

fn temp_all(m: &OutMail, why: &str) -> Results {
    m.pending.iter().map(|r| (r.clone(), Delivery::Temporary(why.to_string()))).collect()
}

/// Sends mails over one smarthost connection, each to its pending recipients.
async fn deliver_batch(desk: &Desk, mailer: &Mailer, batch: &[(OutMail, Bodies)]) -> Vec<Results> {
    let o = &desk.config().outgoing;
    let all_temp = |why: String| batch.iter().map(|(m, _)| temp_all(m, &why)).collect::<Vec<_>>();
    if o.smarthost.is_empty() {
        return deliver_direct(desk, &mailer.dns, batch).await;
    }
    match smarthost(&desk.config(), Duration::from_secs(60)) {
        Ok(mut sh) => match sh.resolve(&mailer.dns).await {
            Ok(()) => sh.deliver(batch).await.unwrap_or_else(|e| all_temp(connect_error(o, &e))),
            Err(e) => all_temp(e),
        },
        Err(e) => all_temp(e),
    }
}

/// The configured smarthost: where, how (TLS trust from `ca_file`), as whom.
struct Smarthost {
    builder: SmtpClientBuilder<String>,
    credentials: Option<mail_send::Credentials<String>>,
    helo: String,
    security: crate::config::SmarthostSecurity,
}

/// The smarthost of the config, or why it cannot be used (an admin's words).
fn smarthost(cfg: &crate::config::Config, timeout: Duration) -> Result<Smarthost, String> {
    let o = &cfg.outgoing;
    let Some((host, port)) = o.smarthost.rsplit_once(':').and_then(|(h, p)| Some((h.to_string(), p.parse::<u16>().ok()?))) else {
        return Err(format!("outgoing.smarthost {:?} is not host:port", o.smarthost));
    };
    // EHLO and AUTH are ours (`greet`): mail-send's own would not tell
    // whether SMTPUTF8 is offered.
    let helo = cfg.smtp.hostname.clone();
    let mut builder = SmtpClientBuilder::new(host, port)
        .implicit_tls(o.security == crate::config::SmarthostSecurity::Tls)
        .helo_host(helo.clone())
        .say_ehlo(false)
        .timeout(timeout);
    builder.tls_connector = crate::tls::client::connector(&o.ca_file).map_err(|e| format!("outgoing.ca_file: {e}"))?;
    let credentials = if o.username.is_empty() {
        None
    } else {
        let p = std::fs::read_to_string(&o.password_file).map_err(|e| format!("cannot read outgoing.password_file: {e}"))?;
        Some(mail_send::Credentials::new(o.username.clone(), p.trim().to_string()))
    };
    Ok(Smarthost { builder, credentials, helo, security: o.security })
}

impl Smarthost {
    /// Points the connection at the first of the smarthost's addresses (on
    /// the desk's resolver, not the system's name service) that accepts a
    /// TCP connection; TLS still checks the host's name.
    async fn resolve(&mut self, dns: &super::dns::Dns) -> Result<(), String> {
        let (host, port) =
            self.builder.addr.rsplit_once(':').map(|(h, p)| (h.to_string(), p.parse::<u16>().unwrap_or(25))).unwrap_or_default();
        let addrs = dns.socket_addrs(&host, port).await.map_err(|e| format!("outgoing.smarthost: {e}"))?;
        let mut last = String::new();
        for a in &addrs {
            match tokio::time::timeout(Duration::from_secs(10), tokio::net::TcpStream::connect(a)).await {
                Ok(Ok(_probe)) => {
                    self.builder.addr = a.to_string();
                    return Ok(());
                }
                Ok(Err(e)) => last = format!("{a}: {e}"),
                Err(_) => last = format!("{a}: no answer within 10 s"),
            }
        }
        Err(format!("cannot connect to the smarthost {host}:{port}: {last}"))
    }

    /// Sends the batch over one connection.
    async fn deliver(&self, batch: &[(OutMail, Bodies)]) -> Result<Vec<Results>, mail_send::Error> {
        // The message is written in several small pieces: without TCP_NODELAY
        // each mail waits for a delayed ACK (tens of milliseconds).
        if self.security == crate::config::SmarthostSecurity::None {
            let c = self.builder.connect_plain().await?;
            let _ = c.stream.set_nodelay(true);
            self.each(c, batch).await
        } else {
            let c = self.builder.connect().await?;
            let _ = c.stream.get_ref().0.set_nodelay(true);
            self.each(c, batch).await
        }
    }

    async fn each<T: AsyncRead + AsyncWrite + Unpin>(
        &self,
        mut c: mail_send::SmtpClient<T>,
        batch: &[(OutMail, Bodies)],
    ) -> Result<Vec<Results>, mail_send::Error> {
        let smtputf8 = greet(&mut c, &self.helo, self.credentials.as_ref()).await?;
        let mut out = Vec::with_capacity(batch.len());
        for (m, bodies) in batch {
            out.push(send_each(&mut c, smtputf8, &m.from, bodies).await);
        }
        let _ = c.quit().await;
        Ok(out)
    }
}

/// Why the smarthost could not be used, in an admin's words.
fn connect_error(o: &crate::config::OutgoingConfig, e: &mail_send::Error) -> String {
    match e {
        mail_send::Error::AuthenticationFailed(r) => {
            format!("the smarthost {} refused AUTH as {:?}: {} {}", o.smarthost, o.username, r.code(), r.message())
        }
        other => format!("cannot connect to the smarthost {}: {other}", o.smarthost),
    }
}

/// Direct delivery: each recipient's MX hosts in order of preference, STARTTLS
/// when offered (opportunistic, as between MX hosts), plain otherwise.
async fn deliver_direct(desk: &Desk, dns: &super::dns::Dns, batch: &[(OutMail, Bodies)]) -> Vec<Results> {
    let mut hosts_of: std::collections::HashMap<String, Result<Vec<String>, String>> = std::collections::HashMap::new();
    let mut out = Vec::with_capacity(batch.len());
    for (m, bodies) in batch {
        let mut results = Vec::new();
        for (rcpt, body) in bodies {
            // The MX of the domain's A-label (a Unicode domain has no other).
            let envelope = crate::domain::header::envelope(rcpt).map(|e| e.address).unwrap_or_else(|_| rcpt.clone());
            let domain = envelope.rsplit_once('@').map(|(_, d)| d.to_string()).unwrap_or_default();
            if !hosts_of.contains_key(&domain) {
                hosts_of.insert(domain.clone(), dns.mail_hosts(&domain).await);
            }
            let outcome = match &hosts_of[&domain] {
                Err(e) => Delivery::Temporary(e.clone()),
                Ok(hosts) => deliver_to_hosts(desk, dns, hosts, &m.from, rcpt, body).await,
            };
            results.push((rcpt.clone(), outcome));
        }
        out.push(results);
    }
    out
}

async fn deliver_to_hosts(desk: &Desk, dns: &super::dns::Dns, hosts: &[String], from: &str, rcpt: &str, body: &[u8]) -> Delivery {
    let cfg = desk.config();
    let port = cfg.outgoing.direct_port;
    let mut last = Delivery::Temporary("no mail host".into());
    let one = [(rcpt.to_string(), body.to_vec())];
    // Each host's addresses come from the same resolver as its MX record.
    let mut addresses = Vec::new();
    for host in hosts.iter().take(5) {
        match dns.addresses(host).await {
            Ok(ips) => addresses.extend(ips.into_iter().take(2).map(|ip| (host.clone(), ip))),
            Err(e) => last = Delivery::Temporary(e),
        }
    }
    for (host, ip) in addresses.iter().take(5) {
        let helo = cfg.smtp.hostname.as_str();
        let builder = SmtpClientBuilder::new(ip.to_string(), port)
            .allow_invalid_certs()
            .helo_host(helo)
            .say_ehlo(false)
            .timeout(Duration::from_secs(60));
        async fn one_host<T: AsyncRead + AsyncWrite + Unpin>(
            mut c: mail_send::SmtpClient<T>,
            helo: &str,
            from: &str,
            one: &[(String, Vec<u8>)],
        ) -> Results {
            let r = match greet(&mut c, helo, None).await {
                Ok(smtputf8) => send_each(&mut c, smtputf8, from, one).await,
                Err(e) => one.iter().map(|(r, _)| (r.clone(), classify(&e))).collect(),
            };
            let _ = c.quit().await;
            r
        }
        let sent = match builder.connect().await {
            Ok(c) => {
                let _ = c.stream.get_ref().0.set_nodelay(true);
                Some(one_host(c, helo, from, &one).await)
            }
            Err(_) => match builder.connect_plain().await {
                Ok(c) => {
                    let _ = c.stream.set_nodelay(true);
                    Some(one_host(c, helo, from, &one).await)
                }
                Err(e) => {
                    last = Delivery::Temporary(format!("cannot connect to {host}:{port}: {e}"));
                    None
                }
            },
        };
        if let Some(mut r) = sent
            && let Some((_, outcome)) = r.pop()
        {
            match outcome {
                // A temporary refusal may be one host's problem: try the next.
                Delivery::Temporary(why) => last = Delivery::Temporary(format!("{host}: {why}")),
                done => return done,
            }
        }
    }
    last
}

/// The mail's attachments; one that cannot be read fails the build (the mail
/// must not go out without it).
fn attachments_of(desk: &Desk, m: &OutMail) -> std::io::Result<Vec<(String, String, Vec<u8>)>> {
    m.attachments
        .iter()
        .map(|a| {
            desk.blob(&a.blob)
                .map(|d| (a.filename.clone(), a.content_type.clone(), d))
                .map_err(|e| std::io::Error::other(format!("attachment {}: {e}", a.filename)))
        })
        .collect()
}

/// The message for each pending recipient (one build unless someone has an
/// unsubscribe link of their own).
/// A mail that names the ticket's page gets one build per recipient, each
/// with that recipient's own signed link (a collaborator never gets the
/// requester's key).
fn bodies_of(desk: &Desk, signer: Option<&super::dkim::Signer>, m: &OutMail) -> std::io::Result<Bodies> {
    let bodies = unsigned_bodies_of(desk, m)?;
    let Some(signer) = signer else { return Ok(bodies) };
    // One signature per distinct body (most mails have one for everyone).
    let mut signed: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    Ok(bodies
        .into_iter()
        .map(|(r, b)| {
            let s = match signed.iter().find(|(plain, _)| *plain == b) {
                Some((_, s)) => s.clone(),
                None => {
                    let s = signer.sign(b.clone(), &m.from);
                    signed.push((b, s.clone()));
                    s
                }
            };
            (r, s)
        })
        .collect())
}

fn unsigned_bodies_of(desk: &Desk, m: &OutMail) -> std::io::Result<Bodies> {
    let cfg = desk.config();
    let atts = attachments_of(desk, m)?;
    let addresses: Vec<String> = m.to.iter().chain(&m.cc).cloned().collect();
    // Names are a courtesy: a store that cannot be read for them (it can
    // for the attempt's own records) leaves bare addresses, not a failed mail.
    let names = desk.display_names(&addresses).unwrap_or_else(|e| {
        tracing::warn!(mail = m.id.0, "display names left out: {e}");
        Names::new()
    });
    let personal = Desk::is_personal(&m.text);
    let reply_to = cfg.reply_to_of(&m.from);
    let common = if personal { Vec::new() } else { build(m, &names, reply_to, &atts, None)? };
    m.pending
        .iter()
        .map(|r| {
            let unsubscribe = m.unsubscribe.iter().find(|(a, _)| a == r).map(|(_, url)| url.as_str());
            if personal {
                let mine = OutMail { text: desk.personalize(m.ticket, r, &m.text), ..m.clone() };
                return build(&mine, &names, reply_to, &atts, unsubscribe).map(|b| (r.clone(), b));
            }
            match unsubscribe {
                Some(url) => build(m, &names, reply_to, &atts, Some(url)).map(|b| (r.clone(), b)),
                None => Ok((r.clone(), common.clone())),
            }
        })
        .collect()
}

/// Connections opened to the smarthost at once.
const CONNECTIONS: usize = 4;

/// Delivers everything due now over up to four connections; returns how many
/// mails were tried.
pub async fn run_once(desk: &Desk, mailer: &Mailer) -> usize {
    let due = match desk.outbox_due(256) {
        Ok(d) => d,
        Err(e) => {
            tracing::error!("cannot read the outbox: {e}");
            return 0;
        }
    };
    let n = due.len();
    if n == 0 {
        return 0;
    }
    let mut built = Vec::with_capacity(n);
    // A mail that cannot be built never will be: a permanent failure on
    // record (the outbox shows it), not a mail that stays due and is tried
    // again at once, for ever.
    let mut done: Vec<(OutMail, Results)> = Vec::new();
    for m in due {
        match bodies_of(desk, mailer.signer.as_deref(), &m) {
            Ok(b) => built.push((m, b)),
            Err(e) => {
                tracing::error!(mail = m.id.0, "cannot build mail: {e}");
                let why = format!("the desk could not build this mail: {e}");
                let failed = m.pending.iter().map(|r| (r.clone(), Delivery::Permanent(why.clone()))).collect();
                done.push((m, failed));
            }
        }
    }
    let per = built.len().div_ceil(CONNECTIONS).max(1);
    let groups: Vec<Vec<(OutMail, Bodies)>> = built.chunks(per).map(|c| c.to_vec()).collect();
    let results = futures_join(groups.iter().map(|g| deliver_batch(desk, mailer, g))).await;
    done.extend(groups.into_iter().zip(results).flat_map(|(g, r)| g.into_iter().map(|(m, _)| m).zip(r)));
    if let Err(e) = desk.settle_outbox(done) {
        tracing::error!("cannot record deliveries: {e}");
    }
    n
}

/// Runs futures concurrently on this task and collects their outputs in order.
async fn futures_join<F: std::future::Future>(futs: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut futs: Vec<std::pin::Pin<Box<F>>> = futs.map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = futs.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in futs.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending { std::task::Poll::Pending } else { std::task::Poll::Ready(()) }
    })
    .await;
    out.into_iter().flatten().collect()
}

/// Runs the sender until the process ends. It looks again as soon as a
/// commit queues or reschedules mail (the store's change feed, the one
/// wake-up source) and when the next retry falls due.
pub fn start(desk: Arc<Desk>, mailer: Mailer) {
    let jobs = desk.jobs.clone();
    jobs.task("outbox", move || {
        let desk = desk.clone();
        let mailer = mailer.clone();
        async move {
            // Subscribed before the first look, so no commit after it is missed.
            let mut changes = desk.subscribe();
            while !desk.jobs.stopping() {
                let sending = desk.config().outgoing.enabled;
                let tried = if sending { run_once(&desk, &mailer).await } else { 0 };
                if tried > 0 {
                    continue;
                }
                // Not sending: queued mail waits; only the stop matters.
                let wait = if sending { next_wait(&desk) } else { Duration::from_secs(3600) };
                tokio::select! {
                    stop = outbox_changed(&mut changes) => {
                        if stop {
                            return;
                        }
                    }
                    _ = tokio::time::sleep(wait) => {}
                    _ = desk.jobs.stopped() => {}
                }
            }
        }
    });
}

/// Waits for a commit that queued or rescheduled mail (a lagged feed counts:
/// something may have been missed); true when the feed has closed.
async fn outbox_changed(changes: &mut tokio::sync::broadcast::Receiver<crate::store::Change>) -> bool {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        match changes.recv().await {
            Ok(c) if !c.outbox => continue,
            Ok(_) | Err(RecvError::Lagged(_)) => return false,
            Err(RecvError::Closed) => return true,
        }
    }
}

/// How long until the next queued mail is due: at least 10 ms, at most 5 s
/// (so a changed clock is noticed).
fn next_wait(desk: &Desk) -> Duration {
    let now = desk.now().0;
    match desk.outbox_next_due() {
        Ok(Some(t)) => Duration::from_millis((t.0 - now).clamp(10, 5000) as u64),
        _ => Duration::from_secs(5),
    }
}

/// Sends a test message straight to the smarthost and reports its answer
/// (`frontdesk mail test`, the Outbox page's button). Nothing is queued.
pub async fn send_test(cfg: &crate::config::Config, to: &str) -> Result<String, String> {
    let to = crate::domain::people::normalize_email(to).ok_or_else(|| format!("{to:?} is not an email address"))?;
    let mailbox = cfg.mailbox.first().ok_or("no [[mailbox]] is configured to send from")?;
    let from = mailbox.address.clone();
    let o = &cfg.outgoing;
    if o.smarthost.is_empty() {
        return Err("no smarthost is configured (outgoing.smarthost)".into());
    }
    let now = Timestamp(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0));
    let from_name = cfg.from_name_of(mailbox, None);
    let mut m = OutMail::new(
        "test",
        &from,
        &from_name,
        vec![to.clone()],
        Vec::new(),
        format!("{}: test message", cfg.desk.name),
        format!("This is a test message from {} sent through {}.\n", cfg.desk.name, o.smarthost),
        format!("test.{}@{}", now.0, cfg.smtp.hostname),
        now,
    );
    m.auto_submitted = Some("auto-generated".into());
    let body = build(&m, &Names::new(), cfg.reply_to_of(&from), &[], None).map_err(|e| e.to_string())?;
    let mut sh = smarthost(cfg, Duration::from_secs(30))?;
    sh.resolve(&*super::dns::Dns::from_config(cfg)?).await?;
    let batch = [(m, vec![(to.clone(), body)])];
    let results = sh.deliver(&batch).await.map_err(|e| connect_error(o, &e))?;
    match results.into_iter().flatten().next().map(|(_, d)| d) {
        Some(Delivery::Delivered) => Ok(format!("{} accepted the test message to {to}", o.smarthost)),
        Some(Delivery::Permanent(why) | Delivery::Temporary(why)) => Err(format!("{} refused the test message: {why}", o.smarthost)),
        None => Err("nothing was sent".into()),
    }
}
