//! `frontdesk import imap`: an IMAP folder as the source of an import. The
//! folder is opened read-only (EXAMINE: nothing is flagged or moved); the
//! first pass lists each message's UID and arrival date, the second fetches
//! the bodies a batch at a time. A connection that drops is made again (a
//! few times) and the batch fetched again; a changed UIDVALIDITY stops the
//! import (a rerun skips what came in).

use std::sync::Arc;
use std::time::Duration;

use futures_util::TryStreamExt;

use super::conn::{self, Session, step};
use crate::config::ImapConfig;
use crate::domain::Timestamp;
use crate::mail::dns::Dns;

/// Tries to reconnect before an import gives up.
const RECONNECTS: u32 = 5;

/// An open, read-only IMAP folder on a runtime of its own (the import is
/// synchronous).
pub struct Remote {
    rt: tokio::runtime::Runtime,
    cfg: ImapConfig,
    dns: Arc<Dns>,
    session: Option<Session>,
    uidvalidity: u32,
}

impl Remote {
    /// Connects, logs in and opens the folder read-only.
    pub fn open(cfg: ImapConfig, dns: Arc<Dns>) -> Result<Remote, String> {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
        let mut r = Remote { rt, cfg, dns, session: None, uidvalidity: 0 };
        r.uidvalidity = r.connect()?;
        Ok(r)
    }

    fn connect(&mut self) -> Result<u32, String> {
        let (cfg, dns) = (&self.cfg, &self.dns);
        let (s, uv) = self.rt.block_on(async {
            let mut s = conn::open(cfg, dns).await?;
            let m = step(&format!("EXAMINE {}", cfg.folder), s.examine(&cfg.folder)).await?;
            Ok::<_, String>((s, m.uid_validity.unwrap_or(0)))
        })?;
        self.session = Some(s);
        Ok(uv)
    }

    /// Runs `f` on the session; on a failure connects again (a few times,
    /// waiting longer each time) and runs it again.
    fn with_retry<T>(&mut self, what: &str, f: impl for<'a> Fn(&'a mut Session) -> BoxFuture<'a, T>) -> Result<T, String> {
        let mut tries = 0;
        loop {
            let outcome = match self.session.as_mut() {
                Some(s) => self.rt.block_on(f(s)),
                None => Err("not connected".into()),
            };
            match outcome {
                Ok(v) => return Ok(v),
                Err(e) if tries < RECONNECTS => {
                    tries += 1;
                    eprintln!("\nimport: {what}: {e}; connecting again ({tries}/{RECONNECTS})");
                    self.session = None;
                    std::thread::sleep(Duration::from_secs(u64::from(tries)));
                    match self.connect() {
                        Ok(uv) if uv != self.uidvalidity => {
                            return Err(format!("the folder's UIDVALIDITY changed ({} → {uv}): run the import again", self.uidvalidity));
                        }
                        Ok(_) => {}
                        Err(e) => eprintln!("import: {e}"),
                    }
                }
                Err(e) => return Err(format!("{what}: {e}")),
            }
        }
    }

    /// Every message's UID and date (its Date header, else its arrival:
    /// INTERNALDATE), in UID order; read as a stream, so only these pairs
    /// are held.
    pub fn scan(&mut self) -> Result<Vec<(u32, Option<Timestamp>)>, String> {
        self.with_retry("listing the folder", |s| {
            Box::pin(async move {
                let mut out: Vec<(u32, Option<Timestamp>)> = Vec::new();
                step("UID FETCH", async {
                    let mut stream = s.uid_fetch("1:*", "(UID INTERNALDATE BODY.PEEK[HEADER.FIELDS (DATE)])").await?;
                    while let Some(f) = stream.try_next().await? {
                        let Some(uid) = f.uid else { continue };
                        let header = f.header().map(|h| crate::mail::import::header_date(&String::from_utf8_lossy(h)));
                        let arrived = f.internal_date().map(|d| Timestamp(d.timestamp().saturating_mul(1000)));
                        out.push((uid, header.flatten().or(arrived)));
                    }
                    Ok::<_, async_imap::error::Error>(())
                })
                .await?;
                out.sort_unstable_by_key(|(u, _)| *u);
                Ok(out)
            })
        })
    }

    /// The messages with these UIDs, as (UID, bytes); one gone since the
    /// scan is left out.
    pub fn fetch(&mut self, uids: &[u32]) -> Result<Vec<(u32, Vec<u8>)>, String> {
        let set = uids.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
        self.with_retry("fetching messages", move |s| {
            let set = set.clone();
            Box::pin(async move {
                let fetches: Vec<_> =
                    step("UID FETCH", async { s.uid_fetch(&set, "(UID BODY.PEEK[])").await?.try_collect().await }).await?;
                Ok(fetches.iter().filter_map(|f| Some((f.uid?, f.body()?.to_vec()))).collect())
            })
        })
    }

    /// Logs out (best effort).
    pub fn close(mut self) {
        if let Some(mut s) = self.session.take() {
            let _ = self.rt.block_on(async { tokio::time::timeout(Duration::from_secs(5), s.logout()).await });
        }
    }
}

type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, String>> + 'a>>;
