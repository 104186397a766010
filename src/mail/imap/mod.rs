//! Fetching mail from `[[imap]]` mailboxes, for desks that cannot be the MX.
//! One supervised task per mailbox logs in (`conn`), takes what is new, and
//! waits with IDLE (or polls every `poll_secs` when the server has none).
//!
//! Exactly once: messages are fetched in UID order in small batches, and a
//! batch goes into the spool log in one commit together with the mailbox's
//! mark (UIDVALIDITY and the last UID taken, `store::imap`). A dropped
//! connection or a crash before the commit fetches the batch again; after
//! it, the mark keeps it from being fetched twice. Only then is a message
//! flagged \Seen, moved or deleted (`after`); when the connection drops
//! before that, the next connection of this process does it.
//!
//! The first look at a folder (or one after its UIDVALIDITY changed: the
//! UIDs mean nothing any more) takes only unread messages up to the newest,
//! skipping any whose Message-ID a ticket has already; everything newer is
//! taken whatever its flags. A message over `smtp.max_message_size` is left
//! untouched on the server, with a warning.

pub mod conn;
pub mod import;

use std::sync::Arc;
use std::time::Duration;

use futures_util::TryStreamExt;

use self::conn::{Session, step};
use crate::config::{ImapAfter, ImapConfig};
use crate::desk::Desk;
use crate::desk::intake::ImapState;
use crate::mail::dns::Dns;
use crate::store::SpoolEntry;
use crate::store::imap::ImapMark;

/// Most messages, and bytes, per batch (one spool commit).
const BATCH: usize = 20;
const BATCH_BYTES: u64 = 32 * 1024 * 1024;
/// IDLE is renewed this often: servers drop it after 30 minutes, and many
/// NATs forget a quiet connection after about 5; a dead connection is
/// noticed by then at the latest.
const IDLE_RENEW: Duration = Duration::from_secs(4 * 60);
/// Connections whose first act (the after-action left from the last one)
/// fails before the messages are given up on, with a warning.
const PENDING_TRIES: u32 = 3;
const BACKOFF_MAX: Duration = Duration::from_secs(300);

/// Starts one fetcher per `[[imap]]` mailbox.
pub fn start(desk: Arc<Desk>, dns: Arc<Dns>) {
    for cfg in desk.config().imap.clone() {
        let key = cfg.name();
        // Workers are named for /healthz; one name per mailbox, made once.
        let name: &'static str = Box::leak(format!("imap {key}").into_boxed_str());
        let (d, dns) = (desk.clone(), dns.clone());
        desk.jobs.task(name, move || run(d.clone(), dns.clone(), key.clone()));
    }
}

/// Messages taken whose `after` the server has not done yet (a connection
/// dropped in between): done first on the next connection.
#[derive(Default)]
struct Pending {
    uidvalidity: u32,
    uids: Vec<u32>,
    tries: u32,
}

async fn run(desk: Arc<Desk>, dns: Arc<Dns>, key: String) {
    let mut backoff = Duration::from_secs(1);
    let mut pending = Pending::default();
    while !desk.jobs.stopping() {
        let Some(cfg) = desk.config().imap.iter().find(|c| c.name() == key).cloned() else {
            // Taken out of the config by a reload: nothing to do until a restart.
            desk.imap.report(&key, ImapState::Failing, desk.now(), 0, Some("no longer configured".into()));
            return;
        };
        desk.imap.report(&key, ImapState::Connecting, desk.now(), 0, None);
        let outcome = tokio::select! {
            r = serve(&desk, &dns, &cfg, &key, &mut backoff, &mut pending) => r,
            _ = desk.jobs.stopped() => return,
        };
        if let Err(e) = outcome {
            tracing::warn!("imap {key}: {e}; trying again in {} s", backoff.as_secs());
            crate::metrics::METRICS.imap.add(&[&key, "error"]);
            desk.imap.report(&key, ImapState::Failing, desk.now(), 0, Some(e));
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = desk.jobs.stopped() => return,
            }
            backoff = (backoff * 2).min(BACKOFF_MAX);
        }
    }
}

/// One connection: log in, take what is new, wait for more; returns only
/// with the error that ended it.
async fn serve(
    desk: &Arc<Desk>,
    dns: &Arc<Dns>,
    cfg: &ImapConfig,
    key: &str,
    backoff: &mut Duration,
    pending: &mut Pending,
) -> Result<(), String> {
    let mut s = conn::open(cfg, dns).await?;
    let caps = step("CAPABILITY", s.capabilities()).await?;
    let (idle, moves) = (caps.has_str("IDLE"), caps.has_str("MOVE"));
    let expunges_only_ours = caps.has_str("UIDPLUS") || (cfg.after == ImapAfter::Move && moves);
    if cfg.after != ImapAfter::Seen && !expunges_only_ours {
        tracing::warn!("imap {key}: the server has no UIDPLUS: removing taken mail also expunges what other clients marked deleted");
    }
    if cfg.after == ImapAfter::Move {
        // The folder mail is moved to is made when missing (an error here
        // means it exists; a real problem shows at the first move).
        let _ = step("CREATE", s.create(&cfg.move_to)).await;
    }
    let mailbox = step(&format!("SELECT {}", cfg.folder), s.select(&cfg.folder)).await?;
    let uidvalidity = mailbox.uid_validity.ok_or("the server gave no UIDVALIDITY")?;
    let known = {
        let (d, k) = (desk.clone(), key.to_string());
        tokio::task::spawn_blocking(move || d.imap_mark(&k)).await.map_err(|e| e.to_string())?.map_err(|e| e.to_string())?
    };
    let mut mark = match known {
        Some(m) if m.uidvalidity == uidvalidity => m,
        old => {
            // A first look, or the UIDs changed meaning: the folder's mail
            // up to now is backlog (unread only, known Message-IDs skipped).
            let newest = match mailbox.uid_next {
                Some(n) => n.saturating_sub(1),
                None => step("UID SEARCH", s.uid_search("ALL")).await?.into_iter().max().unwrap_or(0),
            };
            if old.is_some() {
                tracing::warn!("imap {key}: UIDVALIDITY changed; taking the unread messages again, skipping those already on tickets");
            }
            let m = ImapMark { uidvalidity, last_uid: 0, backlog_until: newest };
            commit(desk, Vec::new(), key, m).await?;
            m
        }
    };
    if pending.uidvalidity == uidvalidity && !pending.uids.is_empty() {
        pending.tries += 1;
        if pending.tries > PENDING_TRIES {
            tracing::warn!("imap {key}: giving up flagging/moving UIDs {:?} (taken already) after {PENDING_TRIES} tries", pending.uids);
        } else {
            after(&mut s, cfg, moves, &pending.uids).await?;
        }
    }
    pending.uids.clear();
    pending.tries = 0;
    pending.uidvalidity = uidvalidity;
    let state = if idle { ImapState::Idle } else { ImapState::Polling };
    loop {
        let n = fetch_new(desk, &mut s, cfg, key, &mut mark, moves, pending).await?;
        // Only a connection that got through a whole round resets the
        // back-off: one failing right after login must not reconnect at once.
        *backoff = Duration::from_secs(1);
        if n > 0 {
            crate::metrics::METRICS.imap.add_n(&[key, "fetched"], n);
        }
        desk.imap.report(key, state, desk.now(), n, None);
        if idle {
            s = wait_idle(s).await?;
        } else {
            tokio::time::sleep(Duration::from_secs(cfg.poll_secs)).await;
            step("NOOP", s.noop()).await?;
        }
    }
}

/// IDLE until the server has news (or it is time to renew); the session back.
async fn wait_idle(s: Session) -> Result<Session, String> {
    use async_imap::types::UnsolicitedResponse as U;
    // What came with the last SEARCH is kept: an EXISTS there is news the
    // search may not have seen (a stale one costs one more search).
    let queue = s.unsolicited_responses.clone();
    let mut h = s.idle();
    step("IDLE", h.init()).await?;
    // News that came before the server took IDLE (a message that arrived
    // after the last look) is in the unsolicited queue: no waiting then.
    let mut news = false;
    while let Ok(r) = queue.try_recv() {
        news |= matches!(r, U::Exists(_) | U::Recent(_));
    }
    if !news {
        let (wait, _stop) = h.wait_with_timeout(IDLE_RENEW);
        wait.await.map_err(|e| format!("IDLE: {e}"))?;
    }
    step("DONE", h.done()).await
}

/// UIDs after the mark worth taking, ascending.
async fn candidates(s: &mut Session, mark: &ImapMark) -> Result<Vec<u32>, String> {
    let mut out = Vec::new();
    let Some(after_last) = mark.last_uid.checked_add(1) else { return Ok(out) };
    if mark.last_uid < mark.backlog_until {
        let q = format!("UID {after_last}:{} UNSEEN", mark.backlog_until);
        let found = step("UID SEARCH", s.uid_search(&q)).await?;
        out.extend(found.into_iter().filter(|u| *u > mark.last_uid && *u <= mark.backlog_until));
    }
    let Some(from) = mark.last_uid.max(mark.backlog_until).checked_add(1) else { return Ok(out) };
    // "n:*" also matches the newest message when it is below n: filtered.
    let found = step("UID SEARCH", s.uid_search(format!("UID {from}:*"))).await?;
    out.extend(found.into_iter().filter(|u| *u >= from));
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// Takes every new message in batches; returns how many went to the spool.
async fn fetch_new(
    desk: &Arc<Desk>,
    s: &mut Session,
    cfg: &ImapConfig,
    key: &str,
    mark: &mut ImapMark,
    moves: bool,
    pending: &mut Pending,
) -> Result<u64, String> {
    let max = desk.config().smtp.max_message_size as u64;
    let mut total = 0u64;
    loop {
        let uids = candidates(s, mark).await?;
        if uids.is_empty() {
            if mark.last_uid < mark.backlog_until {
                // No unread backlog left: the rest of it stays where it is.
                mark.last_uid = mark.backlog_until;
                commit(desk, Vec::new(), key, *mark).await?;
            }
            return Ok(total);
        }
        let head: Vec<u32> = uids.iter().take(BATCH).copied().collect();
        let sizes: std::collections::HashMap<u32, u64> = {
            let mut stream = step("UID FETCH sizes", s.uid_fetch(uid_set(&head), "(UID RFC822.SIZE)")).await?;
            let mut out = std::collections::HashMap::new();
            while let Some(f) = step("UID FETCH sizes", stream.try_next()).await? {
                if let (Some(u), Some(n)) = (f.uid, f.size) {
                    out.insert(u, u64::from(n));
                }
            }
            out
        };
        // A prefix of the candidates (so the mark covers all it passes),
        // within the byte budget but at least one.
        let (mut batch, mut bytes, mut too_big, mut settled) = (Vec::new(), 0u64, Vec::new(), mark.last_uid);
        for &u in &head {
            let size = sizes.get(&u).copied().unwrap_or(0);
            if size > max {
                too_big.push(u);
            } else if !batch.is_empty() && bytes + size > BATCH_BYTES {
                break;
            } else {
                bytes += size;
                batch.push(u);
            }
            settled = u;
        }
        let bodies: Vec<(u32, Vec<u8>)> = if batch.is_empty() {
            Vec::new()
        } else {
            // A deadline on each message, not the batch: a slow link still
            // gets through a big one.
            let mut stream = step("UID FETCH", s.uid_fetch(uid_set(&batch), "(UID BODY.PEEK[])")).await?;
            let mut out: Vec<(u32, Vec<u8>)> = Vec::new();
            while let Some(f) = step("UID FETCH", stream.try_next()).await? {
                if let (Some(u), Some(body)) = (f.uid, f.body())
                    && batch.contains(&u)
                    && !out.iter().any(|(o, _)| *o == u)
                {
                    out.push((u, body.to_vec()));
                }
            }
            out.sort_unstable_by_key(|(u, _)| *u);
            out
        };
        for u in batch.iter().filter(|u| !bodies.iter().any(|(b, _)| b == *u)) {
            tracing::warn!("imap {key}: the server sent no body for UID {u} (gone, or it failed): passed over");
        }
        let now = desk.now();
        let cfg_now = desk.config();
        let mut items: Vec<(SpoolEntry, Vec<u8>)> = Vec::new();
        let mut taken: Vec<u32> = Vec::new();
        let backlog = mark.backlog_until;
        let known = {
            let d = desk.clone();
            let heads: Vec<Option<String>> = bodies.iter().map(|(uid, raw)| if *uid <= backlog { message_id(raw) } else { None }).collect();
            tokio::task::spawn_blocking(move || {
                heads.iter().map(|id| id.as_deref().map_or(Ok(false), |id| d.knows_message_id(id))).collect::<Result<Vec<bool>, _>>()
            })
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?
        };
        for ((uid, raw), known) in bodies.into_iter().zip(known) {
            if known {
                taken.push(uid);
                continue;
            }
            let entry = SpoolEntry {
                received_at: now,
                mail_from: crate::mail::ingest::sender_of(&raw),
                rcpt_to: vec![cfg.mailbox().to_string()],
                size: raw.len() as u64,
                source: format!("imap {key}"),
            };
            let stamped = crate::mail::ingest::stamped(&cfg_now, &format!("IMAP from {key}"), now, &raw);
            items.push((entry, stamped));
            taken.push(uid);
        }
        for u in &too_big {
            tracing::warn!("imap {key}: message UID {u} is larger than smtp.max_message_size ({max} bytes): left on the server");
        }
        let spooled = items.len() as u64;
        let next = ImapMark { last_uid: settled.max(mark.last_uid), ..*mark };
        commit(desk, items, key, next).await?;
        *mark = next;
        total += spooled;
        pending.uids = taken.clone();
        pending.tries = 0;
        after(s, cfg, moves, &taken).await?;
        pending.uids.clear();
    }
}

/// The message's Message-ID.
fn message_id(raw: &[u8]) -> Option<String> {
    mail_parser::MessageParser::default().parse_headers(raw).and_then(|m| m.message_id().map(str::to_string))
}

/// The spool commit (messages and mark together), off the async threads.
async fn commit(desk: &Arc<Desk>, items: Vec<(SpoolEntry, Vec<u8>)>, key: &str, mark: ImapMark) -> Result<(), String> {
    let (d, key) = (desk.clone(), key.to_string());
    tokio::task::spawn_blocking(move || {
        let refs: Vec<(&SpoolEntry, &[u8])> = items.iter().map(|(e, r)| (e, r.as_slice())).collect();
        d.spool_fetched(&refs, &key, &mark).map(|_| ())
    })
    .await
    .map_err(|e| format!("the spool commit stopped: {e}"))?
    .map_err(|e| format!("cannot store fetched mail: {e}"))
}

/// What `after` asks for the messages taken.
async fn after(s: &mut Session, cfg: &ImapConfig, moves: bool, uids: &[u32]) -> Result<(), String> {
    if uids.is_empty() {
        return Ok(());
    }
    let set = uid_set(uids);
    match cfg.after {
        ImapAfter::Seen => drain_store(s, &set, "+FLAGS.SILENT (\\Seen)").await,
        ImapAfter::Move if moves => step("UID MOVE", s.uid_mv(&set, &cfg.move_to)).await,
        ImapAfter::Move => {
            step("UID COPY", s.uid_copy(&set, &cfg.move_to)).await?;
            drain_store(s, &set, "+FLAGS.SILENT (\\Deleted)").await?;
            expunge(s, &set).await
        }
        ImapAfter::Delete => {
            drain_store(s, &set, "+FLAGS.SILENT (\\Deleted)").await?;
            expunge(s, &set).await
        }
    }
}

async fn drain_store(s: &mut Session, set: &str, flags: &str) -> Result<(), String> {
    step("UID STORE", async {
        let _: Vec<_> = s.uid_store(set, flags).await?.try_collect().await?;
        Ok::<_, async_imap::error::Error>(())
    })
    .await
}

/// UID EXPUNGE of just these (UIDPLUS), else EXPUNGE.
async fn expunge(s: &mut Session, set: &str) -> Result<(), String> {
    let uidplus = step("CAPABILITY", s.capabilities()).await?.has_str("UIDPLUS");
    step("EXPUNGE", async {
        if uidplus {
            let _: Vec<_> = s.uid_expunge(set).await?.try_collect().await?;
        } else {
            let _: Vec<_> = s.expunge().await?.try_collect().await?;
        }
        Ok::<_, async_imap::error::Error>(())
    })
    .await
}

/// "1,2,5" (UIDs as an IMAP set).
fn uid_set(uids: &[u32]) -> String {
    uids.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
}
