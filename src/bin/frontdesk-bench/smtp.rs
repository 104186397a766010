//! `frontdesk-bench smtp`: a load generator for the SMTP receiver. Starts a
//! real `frontdesk serve` on a fresh data dir, measures the disk's plain fsync
//! rate, then (1) sends at a fixed rate and reads accept→ticket latency from
//! the server's /metrics, (2) sends N messages from 4 sequential senders and
//! (3) N messages over C concurrent connections as fast as they are accepted,
//! each phase on a fresh server. Prints messages/s, DATA→250 latency p50/p99,
//! accept→ticket p50/p99, peak server RSS, and ratios against the targets.
//! The steady and burst phases run again with sender authentication on
//! (SPF, DKIM, DMARC, ARC against a DNS server on 127.0.0.1 that publishes the
//! senders' SPF and DMARC records, its answers cached after the first mail),
//! for the cost of authentication.

use std::io::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::bail;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader as ABufReader};
use tokio::net::TcpStream;

/// Plain fsync rate of the disk under `dir`: 4 KiB write + fsync, repeated
/// for about two seconds (the rate of this disk varies from run to run).
fn fsync_rate(dir: &Path) -> anyhow::Result<f64> {
    let path = dir.join("fsync-probe");
    let mut f = std::fs::File::create(&path)?;
    let block = [7u8; 4096];
    let start = Instant::now();
    let mut n = 0u32;
    while start.elapsed() < Duration::from_secs(2) {
        f.write_all(&block)?;
        f.sync_data()?;
        n += 1;
    }
    let rate = f64::from(n) / start.elapsed().as_secs_f64();
    drop(f);
    let _ = std::fs::remove_file(&path);
    Ok(rate)
}

fn message(i: usize, size: usize) -> Vec<u8> {
    let head = format!(
        "From: Load {i} <load{i}@customer.example>\r\nTo: bench@bench.example\r\nSubject: load test message {i}\r\nMessage-ID: <load-{i}@customer.example>\r\n\r\n"
    );
    let mut m = head.into_bytes();
    let line = b"The quick brown fox jumps over the lazy dog; load test body line.\r\n";
    while m.len() + line.len() <= size {
        m.extend_from_slice(line);
    }
    m
}

pub(crate) struct Client {
    r: ABufReader<tokio::net::tcp::OwnedReadHalf>,
    w: tokio::net::tcp::OwnedWriteHalf,
}

impl Client {
    pub(crate) async fn connect(addr: &str) -> anyhow::Result<Client> {
        let s = TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        let (r, w) = s.into_split();
        let mut c = Client { r: ABufReader::new(r), w };
        c.reply().await?;
        c.w.write_all(b"EHLO bench.example\r\n").await?;
        c.reply().await?;
        Ok(c)
    }

    async fn reply(&mut self) -> anyhow::Result<u16> {
        let mut line = String::new();
        loop {
            line.clear();
            if self.r.read_line(&mut line).await? == 0 {
                bail!("connection closed");
            }
            if line.as_bytes().get(3) != Some(&b'-') {
                return Ok(line.get(..3).and_then(|c| c.parse().ok()).unwrap_or(0));
            }
        }
    }

    /// Pipelined envelope, then the content; returns DATA-end→250 time.
    async fn send(&mut self, msg: &[u8]) -> anyhow::Result<Duration> {
        let (code, took) = self.offer(msg).await?;
        if code != 250 {
            bail!("message refused with {code}");
        }
        Ok(took)
    }

    /// Like `send` for a message that may be refused: the final reply code
    /// and how long it took. `msg` must be dot-stuffed and end with CRLF.
    pub(crate) async fn offer(&mut self, msg: &[u8]) -> anyhow::Result<(u16, Duration)> {
        self.w.write_all(b"MAIL FROM:<load@customer.example>\r\nRCPT TO:<bench@bench.example>\r\nDATA\r\n").await?;
        for want in [250, 250, 354] {
            let got = self.reply().await?;
            if got != want {
                bail!("expected {want}, got {got}");
            }
        }
        self.w.write_all(msg).await?;
        let t = Instant::now();
        self.w.write_all(b".\r\n").await?;
        let code = self.reply().await?;
        Ok((code, t.elapsed()))
    }
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[(((sorted.len() - 1) as f64) * p).round() as usize].as_secs_f64() * 1e3
}

fn proc_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

pub(crate) async fn metrics(http: &str) -> anyhow::Result<String> {
    let mut s = TcpStream::connect(http).await?;
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n").await?;
    let mut out = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut s, &mut out).await?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

pub(crate) fn metric(text: &str, name: &str) -> f64 {
    text.lines().find(|l| l.starts_with(name)).and_then(|l| l.rsplit(' ').next()).and_then(|v| v.parse().ok()).unwrap_or(0.0)
}

pub(crate) async fn wait_drained(http: &str, want: f64) -> anyhow::Result<String> {
    for _ in 0..6000 {
        let m = metrics(http).await?;
        if metric(&m, "frontdesk_mail_processed_total") >= want && metric(&m, "frontdesk_spool_depth") == 0.0 {
            return Ok(m);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    bail!("the spool did not drain")
}

/// A fresh `frontdesk serve` on its own data dir under the bench dir.
pub(crate) struct Desk {
    child: std::process::Child,
    pid: u32,
    pub(crate) http: String,
    pub(crate) smtp: String,
}

impl Desk {
    pub(crate) fn start(dir: &Path, connections: usize) -> anyhow::Result<Desk> {
        Self::start_auth(dir, connections, None)
    }

    /// With `dns`, sender authentication is on, against that resolver.
    fn start_auth(dir: &Path, connections: usize, dns: Option<&str>) -> anyhow::Result<Desk> {
        let auth = match dns {
            Some(addr) => format!("[dns]\nresolver = \"{addr}\"\n\n[mail_auth]\nverify = true\n"),
            None => "[mail_auth]\nverify = false\n".to_string(),
        };
        Self::spawn(dir, connections, &auth, None)
    }

    /// One that sends its mail (acknowledgements) to `smarthost` as it
    /// goes, as a live desk does.
    pub(crate) fn start_delivering(dir: &Path, connections: usize, smarthost: &str) -> anyhow::Result<Desk> {
        Self::spawn(dir, connections, "[mail_auth]\nverify = false\n", Some(smarthost))
    }

    fn spawn(dir: &Path, connections: usize, auth: &str, smarthost: Option<&str>) -> anyhow::Result<Desk> {
        std::fs::create_dir_all(dir)?;
        let auth = match smarthost {
            Some(host) => format!("{auth}\n[outgoing]\nsmarthost = \"{host}\"\n"),
            None => auth.to_string(),
        };
        let cfg_path = dir.join("bench.toml");
        std::fs::write(
            &cfg_path,
            format!(
                "[smtp]\nhostname = \"bench.example\"\nmax_connections = {0}\nmax_connections_per_ip = {0}\nmax_commands = 1000000\n\n{auth}\n[[mailbox]]\naddress = \"bench@bench.example\"\n",
                connections + 8
            ),
        )?;
        let cfg_arg = cfg_path.to_string_lossy().into_owned();
        let dir_arg = dir.to_string_lossy().into_owned();
        let mut args = vec!["--config", &cfg_arg, "--data-dir", &dir_arg];
        if smarthost.is_none() {
            args.push("--no-outgoing");
        }
        let (child, addrs) = crate::web::spawn_server(&args, &["http://", "smtp://"])?;
        let pid = child.id();
        Ok(Desk { child, pid, http: addrs[0].clone(), smtp: addrs[1].clone() })
    }

    pub(crate) fn stop(mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.pid.to_string()).status();
        let _ = self.child.wait();
    }
}

/// What one as-fast-as-accepted phase measured.
struct Burst {
    total: usize,
    secs: f64,
    /// DATA-end→250, sorted.
    lat: Vec<Duration>,
    drain_secs: f64,
    a2t50: f64,
    a2t99: f64,
    rss_peak_kib: u64,
    /// Heap and file-backed (mapped index files, binary) parts of the
    /// highest RSS sampled.
    rss_anon_kib: u64,
    rss_file_kib: u64,
}

impl Burst {
    fn rate(&self) -> f64 {
        self.total as f64 / self.secs
    }
}

/// Sends `total` messages over `connections` sessions as fast as each is
/// accepted (every session sends one after another, reusing its connection
/// as an MTA does), then waits until all are tickets. RSS is sampled every
/// 20 ms while it runs.
async fn burst(desk: &Desk, first: usize, total: usize, size: usize, connections: usize) -> anyhow::Result<Burst> {
    let per = total.div_ceil(connections);
    let pid = desk.pid;
    let sampling = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let sampling = sampling.clone();
        tokio::spawn(async move {
            // (VmRSS, RssAnon, RssFile) at the highest VmRSS seen.
            let mut peak = (0, 0, 0);
            while sampling.load(std::sync::atomic::Ordering::Relaxed) {
                let rss = proc_kib(pid, "VmRSS:");
                if rss > peak.0 {
                    peak = (rss, proc_kib(pid, "RssAnon:"), proc_kib(pid, "RssFile:"));
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            peak
        })
    };
    let start = Instant::now();
    let mut handles = Vec::new();
    for c in 0..connections {
        let smtp = desk.smtp.clone();
        handles.push(tokio::spawn(async move {
            let mut client = Client::connect(&smtp).await?;
            let mut lat = Vec::with_capacity(per);
            for k in 0..per {
                let msg = message(first + c * per + k, size);
                lat.push(client.send(&msg).await?);
            }
            Ok::<_, anyhow::Error>(lat)
        }));
    }
    let mut lat = Vec::new();
    for h in handles {
        lat.extend(h.await??);
    }
    let secs = start.elapsed().as_secs_f64();
    lat.sort();
    let total = lat.len();
    let m = wait_drained(&desk.http, (first + total) as f64).await?;
    let drain_secs = start.elapsed().as_secs_f64();
    sampling.store(false, std::sync::atomic::Ordering::Relaxed);
    let (sampled, rss_anon_kib, rss_file_kib) = sampler.await?;
    let rss_peak_kib = sampled.max(proc_kib(pid, "VmHWM:"));
    Ok(Burst {
        total,
        secs,
        lat,
        drain_secs,
        a2t50: metric(&m, "frontdesk_accept_to_ticket_ms{quantile=\"0.5\"}"),
        a2t99: metric(&m, "frontdesk_accept_to_ticket_ms{quantile=\"0.99\"}"),
        rss_peak_kib,
        rss_anon_kib,
        rss_file_kib,
    })
}

fn print_burst(title: &str, b: &Burst) {
    println!("\n{title}: {} messages", b.total);
    println!("  durably accepted                  {:>10.0} msg/s", b.rate());
    println!("  DATA→250 latency                  p50 {:>6.2} ms   p99 {:>6.2} ms", pct(&b.lat, 0.5), pct(&b.lat, 0.99));
    println!("  accept→ticket latency             p50 {:>6.0} ms   p99 {:>6.0} ms", b.a2t50, b.a2t99);
    println!("  all turned into tickets after {:.1} s ({:.0} tickets/s)", b.drain_secs, b.total as f64 / b.drain_secs);
    println!(
        "  server RSS peak                   {:>6.1} MiB  (sampled peak: {:.1} MiB anonymous, {:.1} MiB file-backed)",
        b.rss_peak_kib as f64 / 1024.0,
        b.rss_anon_kib as f64 / 1024.0,
        b.rss_file_kib as f64 / 1024.0
    );
}

/// What a steady-rate phase measured.
struct Steady {
    n: usize,
    secs: f64,
    a2t50: f64,
    a2t99: f64,
    /// DATA-end→250, sorted.
    lat: Vec<Duration>,
    rss_idle_kib: u64,
    rss_peak_kib: u64,
}

/// Messages released on a fixed schedule over 4 connections, whatever the
/// server does, on a fresh server (authentication on with `dns`).
async fn steady(dir: &Path, dns: Option<&str>, rate: usize, size: usize) -> anyhow::Result<Steady> {
    let desk = Desk::start_auth(dir, 4, dns)?;
    let rss_idle_kib = proc_kib(desk.pid, "VmRSS:");
    let n = (rate * 5).max(100);
    let interval = Duration::from_secs_f64(1.0 / rate.max(1) as f64);
    let (tx, rx) = tokio::sync::mpsc::channel::<usize>(n);
    let rx = std::sync::Arc::new(tokio::sync::Mutex::new(rx));
    let start = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..4 {
        let (smtp, rx) = (desk.smtp.clone(), rx.clone());
        workers.push(tokio::spawn(async move {
            let mut c = Client::connect(&smtp).await?;
            let mut lat = Vec::new();
            loop {
                let next = rx.lock().await.recv().await;
                let Some(i) = next else { return Ok::<_, anyhow::Error>(lat) };
                lat.push(c.send(&message(i, size)).await?);
            }
        }));
    }
    for i in 0..n {
        tokio::time::sleep_until((start + interval * i as u32).into()).await;
        tx.send(i).await?;
    }
    drop(tx);
    let mut lat = Vec::new();
    for w in workers {
        lat.extend(w.await??);
    }
    lat.sort();
    let secs = start.elapsed().as_secs_f64();
    let m = wait_drained(&desk.http, n as f64).await?;
    let (a2t50, a2t99) =
        (metric(&m, "frontdesk_accept_to_ticket_ms{quantile=\"0.5\"}"), metric(&m, "frontdesk_accept_to_ticket_ms{quantile=\"0.99\"}"));
    let rss_peak_kib = proc_kib(desk.pid, "VmHWM:");
    desk.stop();
    Ok(Steady { n, secs, a2t50, a2t99, lat, rss_idle_kib, rss_peak_kib })
}

fn print_steady(title: &str, s: &Steady, rate: usize) {
    println!("\n{title}: {} messages at {rate}/s over 4 connections ({:.1} s)", s.n, s.secs);
    println!("  DATA→250 latency                  p50 {:>6.2} ms   p99 {:>6.2} ms", pct(&s.lat, 0.5), pct(&s.lat, 0.99));
    println!("  accept→ticket latency             p50 {:>6.1} ms   p99 {:>6.1} ms", s.a2t50, s.a2t99);
    println!("  server RSS idle {:.1} MiB, peak {:.1} MiB", s.rss_idle_kib as f64 / 1024.0, s.rss_peak_kib as f64 / 1024.0);
}

/// Three phases, each on a fresh server and data dir (so each one's latency
/// percentiles and peak RSS are its own): a steady rate over 4 connections;
/// 4 sequential senders; `connections` concurrent senders. Prints the ratios
/// against the targets of the structure issue, all measured in this one run.
pub fn run(data_dir: &Path, messages: usize, size: usize, connections: usize, rate: usize) -> anyhow::Result<()> {
    if data_dir.exists() && std::fs::read_dir(data_dir)?.next().is_some() {
        bail!("{} is not empty; point --data-dir at a new directory", data_dir.display());
    }
    std::fs::create_dir_all(data_dir)?;
    let fsync = fsync_rate(data_dir)?;
    // A real zone lets resolvers cache its negative answers (the HELO name
    // has no SPF record) for its SOA minimum.
    let dns = crate::dns::TestDns::start();
    dns.negative_ttl(300);
    dns.txt("customer.example", "v=spf1 ip4:127.0.0.1 -all").txt("_dmarc.customer.example", "v=DMARC1; p=reject");
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async {
        // Phase 1: a steady rate, to see how fast an accepted mail is a ticket.
        let st = steady(&data_dir.join("steady"), None, rate, size).await?;
        let q0 = dns.queries.load(std::sync::atomic::Ordering::Relaxed);
        let st_auth = steady(&data_dir.join("steady-auth"), Some(&dns.addr), rate, size).await?;
        let steady_queries = dns.queries.load(std::sync::atomic::Ordering::Relaxed) - q0;

        // Phase 2: 4 sequential senders (each one message after another).
        let desk = Desk::start(&data_dir.join("seq4"), 4)?;
        let seq = burst(&desk, 0, messages, size, 4).await?;
        desk.stop();

        // Phase 3: the burst over C connections, between two fsync probes
        // (the ratio uses their mean: the disk's rate drifts).
        let fsync_before = fsync_rate(data_dir)?;
        let desk = Desk::start(&data_dir.join("burst"), connections)?;
        let b = burst(&desk, 0, messages, size, connections).await?;
        desk.stop();
        let fsync_after = fsync_rate(data_dir)?;
        let fsync_burst = (fsync_before + fsync_after) / 2.0;
        // Phase 4: the same burst with sender authentication on.
        let desk = Desk::start_auth(&data_dir.join("burst-auth"), connections, Some(&dns.addr))?;
        let q0 = dns.queries.load(std::sync::atomic::Ordering::Relaxed);
        let ba = burst(&desk, 0, messages, size, connections).await?;
        let burst_queries = dns.queries.load(std::sync::atomic::Ordering::Relaxed) - q0;
        desk.stop();

        println!("\nfrontdesk bench smtp: {messages} messages of {size} bytes per phase; data dirs under {}", data_dir.display());
        println!(
            "\ndisk: plain 4 KiB write+fsync        {fsync:>10.0} /s at start; {fsync_before:.0} /s before and {fsync_after:.0} /s after the burst"
        );
        print_steady("steady phase", &st, rate);
        print_steady("steady phase, authentication on", &st_auth, rate);
        print_burst("4 sequential senders", &seq);
        print_burst(&format!("burst over {connections} connections"), &b);
        print_burst(&format!("burst over {connections} connections, authentication on"), &ba);
        println!(
            "\nDNS queries answered: {steady_queries} in the steady phase with authentication ({:.2} per mail), {burst_queries} in its burst ({:.2} per mail)",
            steady_queries as f64 / st_auth.n as f64,
            burst_queries as f64 / ba.total as f64
        );
        println!("\nratios (≥ 1 meets the target; the RSS and latency ones ≤ 1):");
        println!("  burst msg/s ÷ plain fsync/s       {:>8.2}  (target ≥ 1.0: commits are shared)", b.rate() / fsync_burst);
        println!("  4 sequential msg/s ÷ 2500         {:>8.2}", seq.rate() / 2500.0);
        println!("  burst peak RSS ÷ 64 MiB           {:>8.2}", b.rss_peak_kib as f64 / 1024.0 / 64.0);
        println!("  burst accept→ticket p99 ÷ 50 ms   {:>8.2}", b.a2t99 / 50.0);
        println!("  steady accept→ticket p99 ÷ 50 ms  {:>8.2}", st.a2t99 / 50.0);
        println!("  burst msg/s, auth on ÷ off         {:>8.2}  (target ≥ 0.80)", ba.rate() / b.rate());
        let added = |with: &[Duration], without: &[Duration]| pct(with, 0.99) - pct(without, 0.99);
        println!("  burst DATA→250 p99 added by auth  {:>8.1} ms  (target < 20: authentication runs before the 250)", added(&ba.lat, &b.lat));
        println!("  steady accept→ticket p99 added    {:>8.1} ms  (target < 20)", st_auth.a2t99 - st.a2t99);
        println!("  steady DATA→250 p99 added by auth {:>8.1} ms  (target < 20)", added(&st_auth.lat, &st.lat));
        Ok::<(), anyhow::Error>(())
    })
}
