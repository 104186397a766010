//! `frontdesk-bench storage`: where the bytes of a data dir go. Fills fresh
//! data dirs three ways — 4 KB mails of varied text over SMTP, the real
//! corpus over SMTP, tickets with short entries as the API makes them — and
//! prints bytes on disk per ticket and per raw mail byte, file by file and
//! table by table (redb's own figures), with the ratios of the storage issue.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use frontdesk::config::Config;
use frontdesk::store::{FileUse, Store};

use crate::smtp::{Client, Desk, wait_drained};
use crate::web::{Rng, WORDS};

/// A 4 KB mail of varied words (text compresses as real mail does, not as a
/// repeated line would), CRLF line ends, dot-stuffing not needed.
fn varied_mail(i: usize, size: usize, rng: &mut Rng) -> Vec<u8> {
    let mut m = format!(
        "From: Customer {i} <customer{i}@customer.example>\r\nTo: bench@bench.example\r\nSubject: {} {i}\r\nMessage-ID: <store-{i}@customer.example>\r\nDate: Tue, 01 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
        WORDS[rng.below(WORDS.len() as u64) as usize]
    )
    .into_bytes();
    let mut line = String::new();
    while m.len() < size {
        line.clear();
        for _ in 0..10 {
            line.push_str(WORDS[rng.below(WORDS.len() as u64) as usize]);
            line.push(' ');
        }
        line.push_str(&format!("{}\r\n", rng.below(100_000)));
        m.extend_from_slice(line.as_bytes());
    }
    m
}

/// A corpus message made unique (its own Message-ID, the original kept
/// under another name, so it is a new mail and its own blob), CRLF line ends
/// and dot-stuffed for DATA.
fn corpus_copy(raw: &[u8], copy: usize) -> Vec<u8> {
    let mut out = format!("Message-ID: <copy-{copy}@bench.example>\r\n").into_bytes();
    let mut in_header = true;
    for line in raw.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            in_header = false;
        }
        if in_header && line.len() > 11 && line[..11].eq_ignore_ascii_case(b"message-id:") {
            out.extend_from_slice(b"X-Original-");
        }
        if line.first() == Some(&b'.') {
            out.push(b'.');
        }
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Sends `mails` over 4 connections to a fresh desk in `dir`, which sends
/// its acknowledgements to a local sink as it goes (a live desk's outbox
/// empties; its pages are reused); returns the raw bytes and count of the
/// accepted ones once every mail is a ticket and the outbox is empty.
fn fill_by_mail(dir: &Path, mails: Vec<Vec<u8>>) -> anyhow::Result<(u64, usize)> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let smarthost = listener.local_addr()?.to_string();
        tokio::spawn(crate::outbox::sink(listener, Default::default()));
        let desk = Desk::start_delivering(dir, 4, &smarthost)?;
        let shares: Vec<Vec<Vec<u8>>> = (0..4).map(|k| mails.iter().skip(k).step_by(4).cloned().collect()).collect();
        let mut tasks = Vec::new();
        for share in shares {
            let smtp = desk.smtp.clone();
            tasks.push(tokio::spawn(async move {
                let mut c = Client::connect(&smtp).await?;
                let (mut bytes, mut accepted) = (0u64, 0usize);
                for m in share {
                    if c.offer(&m).await?.0 == 250 {
                        bytes += m.len() as u64;
                        accepted += 1;
                    }
                }
                Ok::<_, anyhow::Error>((bytes, accepted))
            }));
        }
        let (mut bytes, mut accepted) = (0u64, 0usize);
        for t in tasks {
            let (b, a) = t.await??;
            bytes += b;
            accepted += a;
        }
        wait_drained(&desk.http, accepted as f64).await?;
        wait_sent(&desk.http).await?;
        desk.stop();
        Ok((bytes, accepted))
    })
}

/// Waits until the desk's outbox is empty.
async fn wait_sent(http: &str) -> anyhow::Result<()> {
    for _ in 0..6000 {
        if crate::smtp::metric(&crate::smtp::metrics(http).await?, "frontdesk_outbox_queued") == 0.0 {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    bail!("the outbox did not empty")
}

/// Every `.eml` file under `dir`, read.
fn eml_files(dir: &Path, out: &mut Vec<Vec<u8>>) -> anyhow::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            eml_files(&p, out)?;
        } else if p.extension().is_some_and(|x| x == "eml") {
            out.push(std::fs::read(&p)?);
        }
    }
    Ok(())
}

/// Bytes the files under `dir` take on the disk (holes take none).
fn dir_bytes(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_bytes(&e.path()),
            Ok(m) => m.blocks() * 512,
            Err(_) => 0,
        })
        .sum()
}

fn mib(b: u64) -> f64 {
    b as f64 / (1024.0 * 1024.0)
}

/// What one filled data dir holds; prints it and returns (database bytes,
/// whole dir bytes).
fn report(title: &str, dir: &Path, tickets: u64, raw: Option<u64>) -> anyhow::Result<(u64, u64)> {
    let files: Vec<FileUse> = Store::open(dir)?.storage_use()?;
    // On the disk: redb's not yet written tail of a file is a hole.
    let db: u64 = files.iter().map(|f| f.disk_bytes).sum();
    let all = dir_bytes(dir);
    let index = dir_bytes(&dir.join("search"));
    println!("\n{title}: {tickets} tickets in {}", dir.display());
    print!("  database files {:.1} MiB on disk = {:.0} bytes per ticket", mib(db), db as f64 / tickets.max(1) as f64);
    if let Some(raw) = raw {
        print!(" = {:.2}× the {:.1} MiB of raw mail", db as f64 / raw.max(1) as f64, mib(raw));
    }
    println!("\n  search index {:.1} MiB; the whole data dir {:.1} MiB", mib(index), mib(all));
    for f in &files {
        println!(
            "  {}: file {:.1} MiB long, {:.1} MiB on disk, pages in use {:.1} MiB, free {:.1} MiB ({} B pages)",
            f.file,
            mib(f.file_bytes),
            mib(f.disk_bytes),
            mib(f.allocated_bytes),
            mib(f.free_bytes()),
            f.page_size
        );
        println!(
            "    {:<18} {:>9} {:>10} {:>10} {:>10} {:>10} {:>8}",
            "table", "entries", "pages MiB", "data MiB", "meta MiB", "slack MiB", "B/ticket"
        );
        for t in f.tables.iter().filter(|t| t.page_bytes > 0) {
            println!(
                "    {:<18} {:>9} {:>10.2} {:>10.2} {:>10.2} {:>10.2} {:>8.0}",
                t.name,
                t.entries,
                mib(t.page_bytes),
                mib(t.stored_bytes),
                mib(t.metadata_bytes),
                mib(t.fragmented_bytes),
                t.page_bytes as f64 / tickets.max(1) as f64
            );
        }
    }
    Ok((db, all))
}

/// The database files' bytes on disk after the server's hourly housekeeping
/// (`Store::compact_when_free` at the default threshold), printed.
fn housekept(dir: &Path, percent: u64) -> anyhow::Result<u64> {
    let store = Store::open(dir)?;
    let done = store.compact_when_free(percent)?;
    let db: u64 = store.storage_use()?.iter().map(|f| f.disk_bytes).sum();
    match done {
        Some(_) => println!("  after the hourly housekeeping (compacted): {:.1} MiB on disk", mib(db)),
        None => println!("  after the hourly housekeeping: not compacted (under {percent} % free)"),
    }
    Ok(db)
}

fn fresh(dir: &Path) -> anyhow::Result<PathBuf> {
    if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
        bail!("{} is not empty; point --data-dir at a new directory", dir.display());
    }
    std::fs::create_dir_all(dir)?;
    Ok(dir.to_path_buf())
}

/// Runs the three fills under `cfg.server.data_dir` and prints the ratios.
pub fn run(cfg: &Config, messages: usize, tickets: u64, corpus: &Path) -> anyhow::Result<()> {
    let root = fresh(&cfg.server.data_dir)?;
    let mut rng = Rng(0x5eed_1234_abcd_ef01);

    let mails: Vec<Vec<u8>> = (0..messages).map(|i| varied_mail(i, 4096, &mut rng)).collect();
    let (raw4k, n4k) = fill_by_mail(&root.join("mail-4k"), mails)?;

    let mut sources = Vec::new();
    eml_files(corpus, &mut sources).with_context(|| format!("the corpus {} (--corpus)", corpus.display()))?;
    sources.sort();
    if sources.is_empty() {
        bail!("no .eml files in {}", corpus.display());
    }
    let copies: Vec<Vec<u8>> = (0..messages).map(|i| corpus_copy(&sources[i % sources.len()], i)).collect();
    let (raw_corpus, n_corpus) = fill_by_mail(&root.join("mail-corpus"), copies)?;

    let mut api_cfg = cfg.clone();
    api_cfg.server.data_dir = root.join("api");
    let n_api = crate::web::fill(&api_cfg, tickets, 5)?;

    println!("\nfrontdesk bench storage: data dirs under {}", root.display());
    let (db4k, _) = report("4 KB mails over SMTP", &root.join("mail-4k"), n4k as u64, Some(raw4k))?;
    let (db_corpus, _) = report(
        &format!("the corpus over SMTP ({} messages, each copied)", sources.len()),
        &root.join("mail-corpus"),
        n_corpus as u64,
        Some(raw_corpus),
    )?;
    let (db_api, _) = report("API tickets, 5 short entries each", &root.join("api"), n_api, None)?;

    println!();
    let percent = cfg.server.compact_free_percent;
    let kept4k = housekept(&root.join("mail-4k"), percent)?;
    let kept_corpus = housekept(&root.join("mail-corpus"), percent)?;
    let kept_api = housekept(&root.join("api"), percent)?;

    println!("\nratios (≤ 1 meets the target), right after the fill / after the hourly housekeeping:");
    let row = |what: &str, now: f64, later: f64| println!("  {what:<42} {now:>6.2} {later:>6.2}");
    row("4 KB mails: database ÷ raw mail ÷ 1.2", db4k as f64 / raw4k.max(1) as f64 / 1.2, kept4k as f64 / raw4k.max(1) as f64 / 1.2);
    row(
        "corpus: database ÷ raw mail ÷ 1.2",
        db_corpus as f64 / raw_corpus.max(1) as f64 / 1.2,
        kept_corpus as f64 / raw_corpus.max(1) as f64 / 1.2,
    );
    row(
        "API tickets: bytes per ticket ÷ 2048",
        db_api as f64 / n_api.max(1) as f64 / 2048.0,
        kept_api as f64 / n_api.max(1) as f64 / 2048.0,
    );
    Ok(())
}
