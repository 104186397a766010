//! `frontdesk-bench outbox`: outbox throughput. Queues N mails in a fresh data
//! dir, starts a local sink SMTP server as the smarthost, and measures how fast
//! the delivery worker empties the outbox (4 connections to the smarthost).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::bail;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use frontdesk::clock::SystemClock;
use frontdesk::config::Config;
use frontdesk::desk::{Desk, DeskError};
use frontdesk::domain::Timestamp;
use frontdesk::store::{OutMail, Store};

/// A smarthost that accepts everything and counts messages.
pub(crate) async fn sink(listener: tokio::net::TcpListener, count: Arc<AtomicUsize>) {
    loop {
        let Ok((s, _)) = listener.accept().await else { return };
        let _ = s.set_nodelay(true);
        let count = count.clone();
        tokio::spawn(async move {
            let (r, mut w) = s.into_split();
            let mut r = BufReader::new(r);
            let _ = w.write_all(b"220 sink\r\n").await;
            let mut line = String::new();
            loop {
                line.clear();
                if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                    return;
                }
                let up = line.to_ascii_uppercase();
                let reply: &[u8] = if up.starts_with("EHLO") {
                    b"250-sink\r\n250-PIPELINING\r\n250 8BITMIME\r\n"
                } else if up.starts_with("DATA") {
                    let _ = w.write_all(b"354 go\r\n").await;
                    loop {
                        line.clear();
                        if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        if line == ".\r\n" {
                            break;
                        }
                    }
                    count.fetch_add(1, Ordering::Relaxed);
                    b"250 ok\r\n"
                } else if up.starts_with("QUIT") {
                    let _ = w.write_all(b"221 bye\r\n").await;
                    return;
                } else {
                    b"250 ok\r\n"
                };
                if w.write_all(reply).await.is_err() {
                    return;
                }
            }
        });
    }
}

pub fn run(data_dir: &Path, messages: usize) -> anyhow::Result<()> {
    if data_dir.join(frontdesk::store::DB_FILE).exists() {
        bail!("{} already holds a database; point --data-dir at a new directory", data_dir.display());
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let smarthost = listener.local_addr()?.to_string();
        let count = Arc::new(AtomicUsize::new(0));
        tokio::spawn(sink(listener, count.clone()));
        let mut cfg = Config::parse(
            &format!("[outgoing]\nsmarthost = \"{smarthost}\"\n[[mailbox]]\naddress = \"support@bench.example\"\n"),
            "bench",
        )?;
        cfg.server.data_dir = data_dir.to_path_buf();
        let desk = Desk::new(Store::open(data_dir)?, Arc::new(cfg), Arc::new(SystemClock));
        let now = desk.now();
        let text = "Thank you for your message. ".repeat(40);
        let mut queued = 0;
        while queued < messages {
            let n = (messages - queued).min(1000);
            desk.store_for_tests().write_fast(|w| {
                for i in queued..queued + n {
                    let to = format!("customer{i}@example.org");
                    let mut m = OutMail::new(
                        "reply",
                        "support@bench.example",
                        "Bench",
                        vec![to],
                        Vec::new(),
                        format!("[TKT-{i:06}] bench"),
                        text.clone(),
                        format!("bench.{i}@bench.example"),
                        now,
                    );
                    m.next_attempt = Timestamp(now.0 - 1);
                    w.put_outmail(None, &mut m)?;
                }
                Ok::<_, DeskError>(())
            })?;
            queued += n;
        }
        // Signed as the desk signs (both DKIM signatures on every mail).
        let signer = frontdesk::mail::dkim::Signer::load(&desk.config()).map_err(anyhow::Error::msg)?;
        let dns = frontdesk::mail::dns::Dns::from_config(&desk.config()).map_err(anyhow::Error::msg)?;
        let mailer = frontdesk::mail::outbound::Mailer { dns, signer: Some(std::sync::Arc::new(signer)) };
        let start = Instant::now();
        while frontdesk::mail::outbound::run_once(&desk, &mailer).await > 0 {}
        let secs = start.elapsed().as_secs_f64();
        let delivered = count.load(Ordering::Relaxed);
        let left = desk.store_for_tests().read()?.outbox_all(10)?.len();
        println!("\nfrontdesk bench outbox: {messages} mails of ~{} bytes to a local smarthost over 4 connections", text.len() + 600);
        println!("  delivered          {delivered} in {secs:.2} s = {:.0} msg/s (target ≥ 500)", delivered as f64 / secs);
        println!("  left in the outbox {left}");
        println!("  ratio to target    {:.2}", delivered as f64 / secs / 500.0);
        Ok(())
    })
}
