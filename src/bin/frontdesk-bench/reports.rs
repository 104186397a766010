//! `frontdesk-bench reports`: the Reports page at 100 000 tickets spread
//! over a year, through the real HTTP server. The tickets go in through the
//! store's write path with the desk's pre-commit hook (so their report
//! facts are kept as for mail): three departments, four channels, five
//! categories, four agents and unassigned; most answered, most resolved.
//! Measured: the default page (last 30 days), the whole year by week (every
//! ticket in range), and the whole year broken down by category with a
//! department filter, each against the 50 ms target; and one CSV.

use std::sync::Arc;
use std::time::{Duration, Instant};

use frontdesk::clock::ManualClock;
use frontdesk::config::Config;
use frontdesk::desk::{Desk, DeskError};
use frontdesk::domain::{Channel, EntryKind, Event, Person, PersonId, Priority, Role, Status, ThreadEntry, Ticket, TicketId, Timestamp};
use frontdesk::store::{Session, Store};

use super::web::{BENCH_SESSION, Conn, Rng, page_latency};

const DAY: i64 = 86_400_000;
const DEPARTMENTS: [&str; 3] = ["Support", "Billing", "Sales"];
const CATEGORIES: [&str; 5] = ["General", "Hardware", "Software", "Network", "Access"];
const CONFIG: &str = "[desk]\ndepartments = [\"Support\", \"Billing\", \"Sales\"]\ncategories = [\"General\", \"Hardware\", \"Software\", \"Network\", \"Access\"]\n";

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Writes `tickets` tickets created evenly over the year from `start`.
fn fill(desk: &Desk, tickets: u64, start: Timestamp, now: Timestamp) -> anyhow::Result<(Duration, Vec<PersonId>)> {
    let mut rng = Rng(0x7e90);
    let mut agents = Vec::new();
    let began = Instant::now();
    let mut done = 0u64;
    while done < tickets {
        let n = 200.min(tickets - done);
        desk.store_for_tests().write(|w| -> Result<(), DeskError> {
            if done == 0 {
                for i in 0..4u64 {
                    let p = Person {
                        id: PersonId(w.next_id("person")?),
                        email: format!("agent{i}@example.test"),
                        name: format!("Agent {i}"),
                        role: if i == 0 { Role::Admin } else { Role::Agent },
                        password_hash: String::new(),
                        active: true,
                        departments: Vec::new(),
                        created_at: start,
                        role_name: String::new(),
                        teams: Vec::new(),
                    };
                    w.put_person(&p)?;
                    agents.push(p.id);
                    if i == 0 {
                        let s = Session { person: p.id, csrf: "bench".into(), created_at: now, last_seen: now };
                        w.put_session(BENCH_SESSION, &s)?;
                    }
                }
            }
            for k in 0..n {
                let i = done + k;
                let created = Timestamp(start.0 + (i as i64) * 365 * DAY / tickets as i64);
                let id = TicketId(w.next_id("ticket")?);
                let requester = Desk::requester_in(w, &format!("customer{}@example.org", rng.below(20_000)), "", created)?.id;
                let answered = rng.below(10) < 8;
                let resolved = rng.below(10) < 7;
                let replied = Timestamp(created.0 + 60_000 * (1 + rng.below(600) as i64));
                let closed = Timestamp(replied.0 + 60_000 * (1 + rng.below(5_000) as i64));
                let assignee = rng.below(5);
                let t = Ticket {
                    id,
                    subject: format!("Ticket {i}"),
                    requester,
                    channel: Channel::ALL[rng.below(4) as usize],
                    status: if resolved { Status::Resolved } else { Status::Open },
                    priority: Priority::ALL[rng.below(4) as usize],
                    category: CATEGORIES[rng.below(5) as usize].into(),
                    department: DEPARTMENTS[rng.below(3) as usize].into(),
                    assignee: agents.get(assignee as usize).copied(),
                    due: None,
                    tags: Vec::new(),
                    created_at: created,
                    updated_at: if resolved { closed } else { created },
                    team: None,
                    custom_status: None,
                    mailbox: None,
                    fields: Vec::new(),
                };
                w.put_ticket(None, &t)?;
                let entry = |kind, author, body: &str, event, at| ThreadEntry {
                    ticket: id,
                    seq: 0,
                    kind,
                    author,
                    body: body.into(),
                    event,
                    attachments: Vec::new(),
                    created_at: at,
                };
                w.append_entry(&mut entry(EntryKind::Event, None, "", Some(Event::Created { channel: "Email".into() }), created))?;
                w.append_entry(&mut entry(EntryKind::Reply, Some(requester), "Please have a look.", None, created))?;
                if answered {
                    w.append_entry(&mut entry(EntryKind::Reply, Some(agents[0]), "Looking.", None, replied))?;
                }
            }
            Ok(())
        })?;
        done += n;
    }
    Ok((began.elapsed(), agents))
}

pub fn run(root: &std::path::Path, tickets: u64, requests: usize) -> anyhow::Result<()> {
    let dir = root.join("reports");
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    // 2026-01-01 00:00 UTC; the clock stands at the end of the year.
    let start = Timestamp(1_767_225_600_000);
    let now = Timestamp(start.0 + 365 * DAY);
    let clock = ManualClock::new(now);
    let mut cfg = Config::parse(CONFIG, "reports bench").map_err(|e| anyhow::anyhow!("{e}"))?;
    cfg.server.data_dir = dir.clone();
    cfg.outgoing.enabled = false;
    println!("reports bench: {tickets} tickets over 2026 (80 % answered, 70 % resolved), commits of 200");
    let desk = Desk::new(Store::open_with_cache(&dir, 64 << 20)?, Arc::new(cfg.clone()), Arc::new(clock.clone()));
    let (took, _) = fill(&desk, tickets, start, now)?;
    println!("  fill, report facts kept   {:>9.1} ms  ({:.4} ms/ticket)", ms(took), ms(took) / tickets as f64);
    drop(desk);

    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().worker_threads(2).build()?;
    let mut serve = cfg;
    serve.server.http = "127.0.0.1:0".into();
    serve.smtp.enabled = false;
    let running = rt.block_on(frontdesk::app::start(Arc::new(serve), Arc::new(clock)))?;
    // Measured once the search index has caught up (it shares the CPU).
    let waited = Instant::now();
    while running.desk.gauges().index_queue > 0 && waited.elapsed() < Duration::from_secs(900) {
        std::thread::sleep(Duration::from_millis(250));
    }
    println!("  search index caught up in {:.1} s", waited.elapsed().as_secs_f64());
    let mut conn = Conn::open(&running.http.to_string())?;
    for (name, path) in [
        ("last 30 days (default)", "/reports"),
        ("whole year by week", "/reports?from=2026-01-01&to=2026-12-31"),
        ("year, Billing, by category", "/reports?from=2026-01-01&to=2026-12-31&department=Billing&group=category"),
        ("year by day (365 buckets)", "/reports?from=2026-01-01&to=2026-12-31&grain=day"),
        ("CSV, year by agent", "/reports/csv/groups?from=2026-01-01&to=2026-12-31"),
    ] {
        let (p50, p99) = page_latency(&mut conn, path, requests)?;
        let p50 = ms(p50);
        println!("  {name:<28} p50 {p50:>8.2} ms / 50 ms = {:.3}   p99 {:>8.2} ms", p50 / 50.0, ms(p99));
    }
    rt.block_on(running.stop());
    Ok(())
}
