//! `frontdesk-bench web`: fills a data dir with synthetic tickets and measures the
//! queue and ticket pages through the real HTTP server (a child `frontdesk serve`
//! process), printing latency percentiles and the server's RSS against targets.

use frontdesk::domain::{PersonId, TicketId};
use std::io::{BufRead, BufReader, Read};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use frontdesk::config::Config;
use frontdesk::desk::DeskError;
use frontdesk::domain::{Channel, EntryKind, Person, Priority, Role, Status, ThreadEntry, Ticket, TicketRef, Timestamp};
use frontdesk::store::{Session, Store};

/// Session token the bench plants for its admin (only ever in a bench data dir).
pub(crate) const BENCH_SESSION: &str = "b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3";

pub(crate) struct Rng(pub(crate) u64);

/// Makes the next request path of one page kind.
type PathGen<'a> = Box<dyn Fn(&mut Rng) -> String + 'a>;
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

pub(crate) const WORDS: &[&str] = &[
    "printer", "vpn", "password", "laptop", "invoice", "outlook", "login", "slow", "error", "screen", "update", "license", "refund",
    "backup", "wifi", "phone", "account", "locked", "crash", "sync", "drive", "monitor", "access", "email", "calendar", "server",
    "network", "keyboard",
];

fn sentence(rng: &mut Rng, words: usize) -> String {
    let mut s = String::new();
    for i in 0..words {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(WORDS[rng.below(WORDS.len() as u64) as usize]);
    }
    s
}

/// Fills the store up to `tickets` tickets; returns how many it holds.
pub(crate) fn fill(cfg: &Config, tickets: u64, entries: u32) -> anyhow::Result<u64> {
    let store = Store::open_with_cache(&cfg.server.data_dir, 256 * 1024 * 1024)?;
    let have = store.read()?.meta("next.ticket")?.saturating_sub(1);
    let now = Timestamp(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis() as i64);
    // Staff: one admin (the bench logs in as them) and nine agents.
    let staff: Vec<u64> = store.write(|w| -> Result<Vec<u64>, DeskError> {
        let mut ids = Vec::new();
        for i in 0..10u64 {
            let email = if i == 0 { "bench-admin@example.test".to_string() } else { format!("agent{i}@example.test") };
            let p = match w.person_by_email(&email)? {
                Some(p) => p,
                None => {
                    let p = Person {
                        id: PersonId(w.next_id("person")?),
                        email,
                        name: if i == 0 { "Bench Admin".into() } else { format!("Agent {i}") },
                        role: if i == 0 { Role::Admin } else { Role::Agent },
                        password_hash: String::new(),
                        active: true,
                        departments: Vec::new(),
                        created_at: now,
                        role_name: String::new(),
                        teams: Vec::new(),
                    };
                    w.put_person(&p)?;
                    p
                }
            };
            ids.push(p.id);
        }
        w.put_session(BENCH_SESSION, &Session { person: ids[0], csrf: "bench".into(), created_at: now, last_seen: now })?;
        Ok(ids.into_iter().map(|i| i.0).collect())
    })?;
    if have >= tickets {
        return Ok(have);
    }
    let started = Instant::now();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ have);
    let requesters = (tickets / 5).max(1);
    let batch = 1000u64;
    let mut done = have;
    while done < tickets {
        let n = batch.min(tickets - done);
        store.write(|w| -> Result<(), DeskError> {
            for _ in 0..n {
                let id = w.next_id("ticket")?;
                let r = rng.below(requesters);
                let email = format!("customer{r}@example.org");
                let requester = frontdesk::desk::Desk::requester_in(w, &email, &format!("Customer {r}"), now)?.id;
                // Most history is closed; about 8% is still active work.
                let status = match rng.below(100) {
                    0..=3 => Status::Open,
                    4..=5 => Status::Pending,
                    6 => Status::InProgress,
                    7 => Status::OnHold,
                    8..=19 => Status::Resolved,
                    _ => Status::Closed,
                };
                let created = Timestamp(now.0 - ((tickets - id) as i64) * 60_000);
                let t = Ticket {
                    id: TicketId(id),
                    subject: format!("{} {}", sentence(&mut rng, 4), id),
                    requester,
                    channel: Channel::ALL[rng.below(5) as usize],
                    status,
                    priority: Priority::ALL[rng.below(4) as usize],
                    category: cfg.desk.categories[rng.below(cfg.desk.categories.len() as u64) as usize].clone(),
                    department: cfg.desk.departments[rng.below(cfg.desk.departments.len() as u64) as usize].clone(),
                    assignee: if rng.below(4) == 0 { None } else { Some(PersonId(staff[rng.below(staff.len() as u64) as usize])) },
                    due: None,
                    tags: vec![WORDS[rng.below(WORDS.len() as u64) as usize].to_string()],
                    created_at: created,
                    updated_at: Timestamp(created.0 + 30_000),
                    team: None,
                    custom_status: None,
                    mailbox: None,
                    fields: Vec::new(),
                };
                w.put_ticket(None, &t)?;
                for e in 0..entries {
                    let kind = if e % 3 == 2 { EntryKind::Note } else { EntryKind::Reply };
                    let author = if e % 2 == 0 { requester } else { PersonId(staff[rng.below(staff.len() as u64) as usize]) };
                    let mut entry = ThreadEntry {
                        ticket: TicketId(id),
                        seq: 0,
                        kind,
                        author: Some(author),
                        body: sentence(&mut rng, 50),
                        event: None,
                        attachments: Vec::new(),
                        created_at: Timestamp(created.0 + e as i64 * 1000),
                    };
                    w.append_entry(&mut entry)?;
                }
                // Every fourth ticket has a checklist (the queue shows its done/total).
                if id % 4 == 0 {
                    let item = |n: u64, done| frontdesk::domain::checklist::ChecklistItem {
                        id: frontdesk::domain::ChecklistItemId(id * 10 + n),
                        text: sentence(&mut Rng(id + n), 4),
                        done,
                        assignee: None,
                        due: None,
                        created_at: created,
                    };
                    w.put_checklist(TicketId(id), &[item(1, true), item(2, false), item(3, false)])?;
                }
            }
            Ok(())
        })?;
        done += n;
        if done % 10_000 == 0 || done == tickets {
            eprintln!("bench: filled {done}/{tickets} tickets ({:.1}s)", started.elapsed().as_secs_f64());
        }
    }
    // Each batch is a durable commit, as the desk writes: non-durable ones
    // would keep every freed page until the next durable commit and bloat
    // the file far beyond what a real desk holds.
    store.write(|w| w.set_meta("bench.filled", done).map_err(DeskError::from))?;
    println!("fill: {} tickets x {entries} entries in {:.1}s", done - have, started.elapsed().as_secs_f64());
    Ok(done)
}

/// One keep-alive HTTP/1.1 connection (plain TCP, or TLS for the https bench).
pub(crate) struct Conn<S: Read + std::io::Write = TcpStream> {
    stream: BufReader<S>,
}

/// A TCP connection with the bench's socket options.
pub(crate) fn tcp(addr: &str) -> anyhow::Result<TcpStream> {
    let s = TcpStream::connect(addr)?;
    s.set_nodelay(true)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    Ok(s)
}

impl Conn {
    pub(crate) fn open(addr: &str) -> anyhow::Result<Conn> {
        Ok(Conn { stream: BufReader::new(tcp(addr)?) })
    }
}

impl<S: Read + std::io::Write> Conn<S> {
    pub(crate) fn over(stream: S) -> Conn<S> {
        Conn { stream: BufReader::new(stream) }
    }

    /// GETs a path with the bench session; returns (status, body length).
    pub(crate) fn get(&mut self, path: &str) -> anyhow::Result<(u16, usize)> {
        let req = format!("GET {path} HTTP/1.1\r\nHost: bench\r\nCookie: fd_session={BENCH_SESSION}\r\n\r\n");
        self.stream.get_mut().write_all(req.as_bytes())?;
        let mut line = String::new();
        self.stream.read_line(&mut line)?;
        let status: u16 = line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).context("bad status line")?;
        let mut len = 0usize;
        loop {
            line.clear();
            self.stream.read_line(&mut line)?;
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                len = v.trim().parse()?;
            }
        }
        let mut body = vec![0u8; len];
        self.stream.read_exact(&mut body)?;
        Ok((status, len))
    }
}

/// p50 and p99 of `n` GETs of `path` on `conn`, each required to answer 200.
pub(crate) fn page_latency(conn: &mut Conn, path: &str, n: usize) -> anyhow::Result<(Duration, Duration)> {
    let mut lat = Vec::with_capacity(n);
    for _ in 0..n {
        let t = std::time::Instant::now();
        let (status, _) = conn.get(path)?;
        lat.push(t.elapsed());
        anyhow::ensure!(status == 200, "{path}: HTTP {status}");
    }
    lat.sort();
    Ok((percentile(&lat, 0.5), percentile(&lat, 0.99)))
}

pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub(crate) fn rss_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

/// Starts `frontdesk serve` on ephemeral ports as a child process and reads
/// the announced address for each scheme in `schemes` ("http://", "smtp://").
/// `GLIBC_TUNABLES` of `systemd/frontdesk.service`.
const SHIPPED_TUNABLES: &str = "glibc.malloc.mmap_threshold=131072:glibc.malloc.trim_threshold=262144";

pub(crate) fn spawn_server(args: &[&str], schemes: &[&str]) -> anyhow::Result<(std::process::Child, Vec<String>)> {
    // FRONTDESK_BENCH_WRAPPER (e.g. "heaptrack") runs the server under a
    // profiler; the RSS figures then include the wrapper's process.
    // The server binary sits next to this one (target/release/frontdesk).
    let exe = std::env::current_exe()?.with_file_name("frontdesk");
    if !exe.exists() {
        bail!("{} not found: build it first (cargo build --release)", exe.display());
    }
    let mut cmd = match std::env::var("FRONTDESK_BENCH_WRAPPER") {
        Ok(w) if !w.trim().is_empty() => {
            let mut parts = w.split_whitespace();
            let mut c = Command::new(parts.next().unwrap_or("env"));
            c.args(parts).arg(exe);
            c
        }
        _ => Command::new(exe),
    };
    // The allocator tuning of systemd/frontdesk.service, so the numbers are
    // those of the desk as shipped (FRONTDESK_BENCH_GLIBC_TUNABLES overrides;
    // empty measures glibc's defaults).
    let tunables = std::env::var("FRONTDESK_BENCH_GLIBC_TUNABLES").unwrap_or_else(|_| SHIPPED_TUNABLES.to_string());
    if !tunables.is_empty() {
        cmd.env("GLIBC_TUNABLES", tunables);
    }
    let mut child = cmd
        .args(args)
        .args(["--http", "127.0.0.1:0", "--smtp", "127.0.0.1:0", "serve"])
        .env("FRONTDESK_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut reader = BufReader::new(stdout);
    let mut found: Vec<Option<String>> = vec![None; schemes.len()];
    let mut line = String::new();
    while found.iter().any(Option::is_none) {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            bail!("the server exited before announcing its addresses");
        }
        for (i, scheme) in schemes.iter().enumerate() {
            if found[i].is_none()
                && let Some(a) = line.split(scheme).nth(1).and_then(|s| s.split_whitespace().next())
            {
                found[i] = Some(a.to_string());
            }
        }
    }
    // Keep draining the server's stdout so it never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    Ok((child, found.into_iter().flatten().collect()))
}

pub fn web(cfg: &Config, tickets: u64, entries: u32, requests: usize) -> anyhow::Result<()> {
    let total = fill(cfg, tickets, entries)?;
    // Build the search index first, so the server is not busy rebuilding it
    // while its pages are timed.
    {
        let store = Store::open_with_cache(&cfg.server.data_dir, cfg.server.cache_mib * 1024 * 1024)?;
        let (index, rebuild) = frontdesk::search::SearchIndex::open(&cfg.server.data_dir, 96 << 20)?;
        if rebuild || store.read()?.index_queue_len()? > 0 {
            let started = Instant::now();
            let n = index.rebuild(&store, |_, _, _| {})?;
            println!("search index: {n} entries in {:.1}s", started.elapsed().as_secs_f64());
        }
    }
    let (mut child, addrs) = spawn_server(&["--data-dir", &cfg.server.data_dir.to_string_lossy(), "--no-outgoing"], &["http://"])?;
    let pid = child.id();
    let result = (|| -> anyhow::Result<()> {
        let addr = addrs[0].clone();
        let mut conn = Conn::open(&addr)?;
        let rss_idle = rss_kib(pid, "VmRSS:");
        let prefix = &cfg.desk.reference_prefix;
        let mut rng = Rng(42);
        let kinds: Vec<(&str, PathGen)> = vec![
            ("queue: active, recently updated", Box::new(|_| "/tickets".to_string())),
            ("queue: my open tickets", Box::new(|_| "/tickets?assignee=me".to_string())),
            ("queue: all, by priority", Box::new(|_| "/tickets?status=all&sort=priority".to_string())),
            ("ticket page (random)", Box::new(move |r: &mut Rng| format!("/tickets/{}", TicketRef(1 + r.below(total)).format(prefix)))),
        ];
        println!("\nserver pid {pid} on {addr}; {total} tickets; {requests} requests per page kind, one keep-alive connection\n");
        println!("{:<34} {:>9} {:>9} {:>9} {:>9}", "page", "p50 ms", "p99 ms", "max ms", "KiB/page");
        let mut p50s = Vec::new();
        for (name, path) in &kinds {
            for _ in 0..50.min(requests) {
                conn.get(&path(&mut rng))?;
            }
            let mut lat = Vec::with_capacity(requests);
            let mut bytes = 0usize;
            for _ in 0..requests {
                let p = path(&mut rng);
                let t = Instant::now();
                let (status, len) = conn.get(&p)?;
                lat.push(t.elapsed());
                if status != 200 {
                    bail!("{p} answered {status}");
                }
                bytes += len;
            }
            lat.sort();
            let (p50, p99) = (percentile(&lat, 0.5), percentile(&lat, 0.99));
            p50s.push((name.to_string(), p50));
            println!(
                "{:<34} {:>9.3} {:>9.3} {:>9.3} {:>9.1}",
                name,
                p50.as_secs_f64() * 1e3,
                p99.as_secs_f64() * 1e3,
                lat.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
                bytes as f64 / requests as f64 / 1024.0
            );
        }
        let rss = rss_kib(pid, "VmRSS:");
        let hwm = rss_kib(pid, "VmHWM:");
        println!(
            "\nserver RSS: idle {:.1} MiB, after load {:.1} MiB, peak {:.1} MiB",
            rss_idle as f64 / 1024.0,
            rss as f64 / 1024.0,
            hwm as f64 / 1024.0
        );
        let queue_p50 = p50s[0].1.as_secs_f64() * 1e3;
        let ticket_p50 = p50s[3].1.as_secs_f64() * 1e3;
        println!("\ntargets at 100 000 tickets (measured / target = ratio; below 1.0 meets it):");
        println!("  queue page p50   {queue_p50:>8.3} ms / 5 ms  = {:.3}", queue_p50 / 5.0);
        println!("  ticket page p50  {ticket_p50:>8.3} ms / 5 ms  = {:.3}", ticket_p50 / 5.0);
        println!("  server peak RSS  {:>8.1} MiB / 64 MiB = {:.3}", hwm as f64 / 1024.0, hwm as f64 / 1024.0 / 64.0);
        Ok(())
    })();
    let _ = Command::new("kill").arg("-TERM").arg(pid.to_string()).status();
    let _ = child.wait();
    result
}
