//! `frontdesk-bench search`: at 100 000 tickets / 500 000 thread entries,
//! measures a full reindex (entries/s), the sidebar view counts, and search
//! latency (free text plus two tokens) through the real HTTP server, with the
//! server's RSS while the index is open.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;

use crate::web::{Conn, Rng, WORDS, fill, percentile, rss_kib, spawn_server};
use frontdesk::clock::SystemClock;
use frontdesk::config::Config;
use frontdesk::desk::Desk;
use frontdesk::search::SearchIndex;
use frontdesk::store::Store;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

pub fn run(cfg: &Config, tickets: u64, entries: u32, requests: usize) -> anyhow::Result<()> {
    let total = fill(cfg, tickets, entries)?;
    let dir = &cfg.server.data_dir;
    // 1. Full reindex, as `frontdesk reindex` does it.
    let store = Store::open_with_cache(dir, cfg.server.cache_mib * 1024 * 1024)?;
    let (index, _) = SearchIndex::open(dir, 96 << 20)?;
    let started = Instant::now();
    let n = index.rebuild(&store, |_, _, _| {})?;
    let secs = started.elapsed().as_secs_f64();
    let rate = n as f64 / secs;
    println!("reindex: {total} tickets, {n} thread entries in {secs:.1} s = {rate:.0} entries/s");
    // 2. Sidebar counts (counters + saved-search counts through the index).
    let desk = Desk::new(store, Arc::new(cfg.clone()), Arc::new(SystemClock));
    let _ = desk.search.set(Arc::new(index));
    let admin = desk
        .store_for_tests()
        .read()?
        .person_by_email("bench-admin@example.test")?
        .ok_or_else(|| anyhow::anyhow!("bench admin missing"))?;
    for (name, q) in
        [("VPN open", "vpn status:open"), ("Urgent printers", "printer priority:urgent"), ("Mine this week", "assignee:me updated:<7d")]
    {
        desk.save_search(&admin, name, q)?;
    }
    let mut lat = Vec::new();
    for _ in 0..300 {
        let t = Instant::now();
        let c = desk.sidebar_counts(&admin)?;
        lat.push(t.elapsed());
        std::hint::black_box(c.all_open);
    }
    lat.sort();
    let counts_p50 = percentile(&lat, 0.5);
    println!("sidebar counts (10 views + 3 saved searches): p50 {:.3} ms, p99 {:.3} ms", ms(counts_p50), ms(percentile(&lat, 0.99)));
    drop(desk);
    // 3. Search through the server.
    let (mut child, addrs) = spawn_server(&["--data-dir", &dir.to_string_lossy(), "--no-outgoing"], &["http://"])?;
    let pid = child.id();
    let result = (|| -> anyhow::Result<()> {
        let mut conn = Conn::open(&addrs[0])?;
        let mut rng = Rng(7);
        let prios = ["urgent", "high", "medium", "low"];
        let statuses = ["open", "pending", "in_progress", "on_hold"];
        type Gen<'a> = Box<dyn Fn(&mut Rng) -> String + 'a>;
        let kinds: Vec<(&str, Gen)> = vec![
            (
                "free text + 2 tokens",
                Box::new(|r: &mut Rng| {
                    format!(
                        "/search?q={}+status:{}+priority:{}",
                        WORDS[r.below(WORDS.len() as u64) as usize],
                        statuses[r.below(4) as usize],
                        prios[r.below(4) as usize]
                    )
                }),
            ),
            (
                "two words + phrase",
                Box::new(|r: &mut Rng| {
                    let (a, b) = (WORDS[r.below(WORDS.len() as u64) as usize], WORDS[r.below(WORDS.len() as u64) as usize]);
                    format!("/search?q={a}+%22{b}+{a}%22")
                }),
            ),
            ("tokens only", Box::new(|r: &mut Rng| format!("/search?q=status:{}+updated:%3C30d", statuses[r.below(4) as usize]))),
        ];
        println!("\nserver pid {pid}; {requests} searches per kind, one keep-alive connection\n");
        println!("{:<26} {:>9} {:>9} {:>9}", "search", "p50 ms", "p99 ms", "max ms");
        let mut first = (Duration::ZERO, Duration::ZERO);
        for (i, (name, gen_)) in kinds.iter().enumerate() {
            for _ in 0..30 {
                conn.get(&gen_(&mut rng))?;
            }
            let mut lat = Vec::with_capacity(requests);
            for _ in 0..requests {
                let p = gen_(&mut rng);
                let t = Instant::now();
                let (status, _) = conn.get(&p)?;
                lat.push(t.elapsed());
                if status != 200 {
                    bail!("{p} answered {status}");
                }
            }
            lat.sort();
            let (p50, p99) = (percentile(&lat, 0.5), percentile(&lat, 0.99));
            if i == 0 {
                first = (p50, p99);
            }
            println!("{:<26} {:>9.3} {:>9.3} {:>9.3}", name, ms(p50), ms(p99), ms(lat.last().copied().unwrap_or_default()));
        }
        let hwm = rss_kib(pid, "VmHWM:") as f64 / 1024.0;
        let rss = rss_kib(pid, "VmRSS:") as f64 / 1024.0;
        println!("\nserver RSS with the index open: now {rss:.1} MiB, peak {hwm:.1} MiB");
        println!("\ntargets (measured / target = ratio; below 1.0 meets it):");
        println!("  search p50 (text + 2 tokens) {:>8.3} ms / 30 ms   = {:.3}", ms(first.0), ms(first.0) / 30.0);
        println!("  search p99 (text + 2 tokens) {:>8.3} ms / 100 ms  = {:.3}", ms(first.1), ms(first.1) / 100.0);
        println!("  sidebar counts p50           {:>8.3} ms / 5 ms    = {:.3}", ms(counts_p50), ms(counts_p50) / 5.0);
        println!("  reindex                      {rate:>8.0} entries/s / 20000 = {:.3} (above 1.0 meets it)", rate / 20_000.0);
        println!("  server peak RSS              {hwm:>8.1} MiB / 128 MiB = {:.3}", hwm / 128.0);
        Ok(())
    })();
    let _ = std::process::Command::new("kill").arg("-TERM").arg(pid.to_string()).status();
    let _ = child.wait();
    result
}
