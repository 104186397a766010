//! `frontdesk-bench backup`: at 100 000 tickets, `frontdesk backup` from the
//! running server (MB/s of data), `backup verify`, and a restore into a new
//! directory followed by the search index rebuild the next start does
//! (seconds against the 2-minute target), each as the real binary runs it.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::bail;

use crate::web::{fill, spawn_server};
use frontdesk::config::Config;
use frontdesk::search::SearchIndex;
use frontdesk::store::Store;

/// Runs the `frontdesk` binary next to this one; fails on a non-zero exit.
fn frontdesk(args: &[&str]) -> anyhow::Result<String> {
    let exe = std::env::current_exe()?.with_file_name("frontdesk");
    let out = Command::new(&exe).args(args).output()?;
    if !out.status.success() {
        bail!("frontdesk {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| match e.file_type() {
                    Ok(t) if t.is_dir() => dir_bytes(&e.path()),
                    _ => e.metadata().map(|m| m.len()).unwrap_or(0),
                })
                .sum()
        })
        .unwrap_or(0)
}

pub fn run(cfg: &Config, tickets: u64) -> anyhow::Result<()> {
    let total = fill(cfg, tickets, 5)?;
    let dir = cfg.server.data_dir.clone();
    let d = dir.to_string_lossy().to_string();
    let data = ["frontdesk.redb", "spool.redb"].iter().map(|f| std::fs::metadata(dir.join(f)).map(|m| m.len()).unwrap_or(0)).sum::<u64>();
    let file = dir.with_extension("fdbackup");
    let f = file.to_string_lossy().to_string();
    let (mut child, _) = spawn_server(&["--data-dir", &d, "--no-outgoing"], &["http://"])?;
    let started = Instant::now();
    let result = frontdesk(&["--data-dir", &d, "backup", "--to", &f]);
    let backup_secs = started.elapsed().as_secs_f64();
    let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    let _ = child.wait();
    println!("{}", result?);
    let size = std::fs::metadata(&file)?.len();
    let mb = |b: u64| b as f64 / 1e6;
    let backup_rate = mb(data) / backup_secs;
    println!(
        "backup (server running): {total} tickets, {:.1} MB of database files → {:.1} MB file ({:.0}%) in {backup_secs:.2} s = {backup_rate:.0} MB/s",
        mb(data),
        mb(size),
        100.0 * size as f64 / data.max(1) as f64
    );
    // How long writers wait: the snapshot alone (both files copied under the lock).
    {
        let store = Store::open_with_cache(&dir, cfg.server.cache_mib * 1024 * 1024)?;
        let tmp = dir.join("tmp").join("bench-snapshot");
        std::fs::create_dir_all(&tmp)?;
        let started = Instant::now();
        store.snapshot(&tmp)?;
        println!("snapshot (writes wait this long): {:.0} ms", started.elapsed().as_secs_f64() * 1e3);
        let _ = std::fs::remove_dir_all(&tmp);
    }
    let started = Instant::now();
    frontdesk(&["backup", "verify", &f])?;
    let verify_secs = started.elapsed().as_secs_f64();
    println!("verify: {verify_secs:.2} s = {:.0} MB/s of data", mb(data) / verify_secs);

    let target = dir.with_extension("restored");
    let _ = std::fs::remove_dir_all(&target);
    let t = target.to_string_lossy().to_string();
    let started = Instant::now();
    frontdesk(&["--data-dir", &t, "restore", "--from", &f])?;
    let restore_secs = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let store = Store::open_with_cache(&target, cfg.server.cache_mib * 1024 * 1024)?;
    let (index, _) = SearchIndex::open(&target, 96 << 20)?;
    let entries = index.rebuild(&store, |_, _, _| {})?;
    let reindex_secs = started.elapsed().as_secs_f64();
    let whole = restore_secs + reindex_secs;
    println!(
        "restore: files and check {restore_secs:.1} s, search index ({entries} entries) {reindex_secs:.1} s: {whole:.1} s in all; restored dir {:.1} MB",
        mb(dir_bytes(&target))
    );
    println!("\ntargets (measured / target = ratio):");
    println!("  backup rate      {backup_rate:>8.0} MB/s / 100 MB/s = {:.2} (above 1.0 meets it)", backup_rate / 100.0);
    println!("  restore + index  {whole:>8.1} s / 120 s        = {:.2} (below 1.0 meets it)", whole / 120.0);
    let _ = std::fs::remove_dir_all(&target);
    let _ = std::fs::remove_file(&file);
    Ok(())
}
