//! `frontdesk-bench automation`: what SLA clocks and triggers cost at
//! 100 000 open tickets. Two fresh data dirs get the same tickets through
//! the store's write path (so the desk's pre-commit hook runs on each, as
//! for mail): one with no rules, one with three SLA policies on a business
//! calendar and ten triggers. Then, on the one with rules: a timer tick
//! with nothing due and one with due work, and the queue page with the SLA
//! column through the real HTTP server.

use std::sync::Arc;
use std::time::{Duration, Instant};

use frontdesk::clock::ManualClock;
use frontdesk::config::Config;
use frontdesk::desk::{Desk, DeskError};
use frontdesk::domain::{Channel, EntryKind, Event, Person, PersonId, Priority, Role, Status, ThreadEntry, Ticket, TicketId, Timestamp};
use frontdesk::store::{Session, Store};

use super::web::{Conn, Rng, page_latency, percentile};

const RULES: &str = r#"
[desk]
departments = ["Support", "Sales"]

[[calendar]]
name = "office"
time_zone = "Europe/Berlin"
monday = ["08:00-12:00", "13:00-17:00"]
tuesday = ["08:00-12:00", "13:00-17:00"]
wednesday = ["08:00-12:00", "13:00-17:00"]
thursday = ["08:00-12:00", "13:00-17:00"]
friday = ["08:00-14:00"]
holidays = ["01-01", "12-25", "12-26"]

[[sla]]
name = "Urgent"
priorities = ["urgent"]
first_response = "30m"
resolution = "4h"

[[sla]]
name = "Sales"
departments = ["Sales"]
calendar = "office"
first_response = "2h"
next_response = "4h"
resolution = "24h"

[[sla]]
name = "Standard"
calendar = "office"
first_response = "4h"
next_response = "8h"
resolution = "40h"
"#;

/// Ten triggers of the kinds desks use: most do not match a given ticket.
fn triggers() -> String {
    let mut out = String::new();
    for (i, word) in ["refund", "outage", "invoice", "password", "vpn"].iter().enumerate() {
        out.push_str(&format!(
            "\n[[trigger]]\nname = \"word {i}\"\non = [\"created\", \"customer_replied\"]\nsubject_contains = [\"{word}\"]\nadd_tags = [\"{word}\"]\n"
        ));
    }
    out.push_str("\n[[trigger]]\nname = \"vip\"\non = [\"created\"]\nfrom = [\"@vip.example\"]\nset_priority = \"high\"\n");
    out.push_str("\n[[trigger]]\nname = \"urgent words\"\non = [\"created\"]\nsubject_matches = \"(?i)\\\\b(down|urgent|asap)\\\\b\"\nset_priority = \"urgent\"\n");
    out.push_str(
        "\n[[trigger]]\nname = \"sales\"\non = [\"created\"]\nbody_contains = [\"quote\", \"pricing\"]\nset_department = \"Sales\"\n",
    );
    out.push_str("\n[[trigger]]\nname = \"turns\"\non = [\"created\"]\ndepartments = [\"Sales\"]\nassign = \"round_robin\"\n");
    out.push_str("\n[[trigger]]\nname = \"after hours\"\non = [\"created\"]\nbusiness_hours = false\ncalendar = \"office\"\nadd_tags = [\"after-hours\"]\n");
    out
}

/// A desk on a fresh data dir under `root` with `text` as its config.
fn desk(root: &std::path::Path, name: &str, text: &str, clock: &ManualClock) -> anyhow::Result<(Arc<Desk>, Config)> {
    let dir = root.join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    let mut cfg = Config::parse(text, name).map_err(|e| anyhow::anyhow!("{e}"))?;
    cfg.server.data_dir = dir.clone();
    cfg.outgoing.enabled = false;
    let store = Store::open_with_cache(&dir, 64 << 20)?;
    Ok((Desk::new(store, Arc::new(cfg.clone()), Arc::new(clock.clone())), cfg))
}

/// Fills `tickets` open tickets (a creation event and the customer's
/// message each) in commits of `batch`; returns the time spent.
fn fill(desk: &Desk, tickets: u64, batch: u64, now: Timestamp) -> anyhow::Result<Duration> {
    let words = super::web::WORDS;
    let mut rng = Rng(0x5eed);
    let started = Instant::now();
    let mut done = 0;
    while done < tickets {
        let n = batch.min(tickets - done);
        desk.store_for_tests().write(|w| -> Result<(), DeskError> {
            if done == 0 {
                for i in 0..5u64 {
                    let p = Person {
                        id: PersonId(w.next_id("person")?),
                        email: format!("agent{i}@example.test"),
                        name: format!("Agent {i}"),
                        role: if i == 0 { Role::Admin } else { Role::Agent },
                        password_hash: String::new(),
                        active: true,
                        departments: Vec::new(),
                        created_at: now,
                        role_name: String::new(),
                        teams: Vec::new(),
                    };
                    w.put_person(&p)?;
                    if i == 0 {
                        w.put_session(
                            super::web::BENCH_SESSION,
                            &Session { person: p.id, csrf: "bench".into(), created_at: now, last_seen: now },
                        )?;
                    }
                }
            }
            for _ in 0..n {
                let id = TicketId(w.next_id("ticket")?);
                let r = rng.below(20_000);
                let email = if r.is_multiple_of(50) { format!("boss{r}@vip.example") } else { format!("customer{r}@example.org") };
                let requester = Desk::requester_in(w, &email, "", now)?.id;
                let subject: Vec<&str> = (0..5).map(|_| words[rng.below(words.len() as u64) as usize]).collect();
                let t = Ticket {
                    id,
                    subject: subject.join(" "),
                    requester,
                    channel: Channel::Email,
                    status: Status::Open,
                    priority: Priority::ALL[rng.below(4) as usize],
                    category: "General".into(),
                    department: "Support".into(),
                    assignee: None,
                    due: None,
                    tags: Vec::new(),
                    created_at: now,
                    updated_at: now,
                    team: None,
                    custom_status: None,
                    mailbox: None,
                    fields: Vec::new(),
                };
                w.put_ticket(None, &t)?;
                let entry = |kind, author, body: &str, event| ThreadEntry {
                    ticket: id,
                    seq: 0,
                    kind,
                    author,
                    body: body.into(),
                    event,
                    attachments: Vec::new(),
                    created_at: now,
                };
                w.append_entry(&mut entry(EntryKind::Event, None, "", Some(Event::Created { channel: "Email".into() })))?;
                w.append_entry(&mut entry(EntryKind::Reply, Some(requester), "Please have a look at this.", None))?;
            }
            Ok(())
        })?;
        done += n;
    }
    Ok(started.elapsed())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

pub fn run(root: &std::path::Path, tickets: u64, requests: usize) -> anyhow::Result<()> {
    std::fs::create_dir_all(root)?;
    // Tuesday 2026-12-01 09:00 UTC: inside the office's hours.
    let start = Timestamp(1_764_579_600_000);
    let clock = ManualClock::new(start);
    println!("automation bench: {tickets} open tickets, commits of 200 (as the mail worker batches)");
    let (plain, _) = desk(root, "automation-plain", "", &clock)?;
    let base = fill(&plain, tickets, 200, start)?;
    drop(plain);
    let text = format!("{RULES}{}", triggers());
    let (rules, cfg) = desk(root, "automation-rules", &text, &clock)?;
    let with = fill(&rules, tickets, 200, start)?;
    let per = (with.as_secs_f64() - base.as_secs_f64()).max(0.0) / tickets as f64 * 1e3;
    println!("  fill without rules   {:>9.1} ms  ({:.3} ms/ticket)", ms(base), ms(base) / tickets as f64);
    println!("  fill with 3 SLA + 10 triggers {:>9.1} ms  ({:.3} ms/ticket)", ms(with), ms(with) / tickets as f64);
    println!("  rules cost per ticket {per:>8.4} ms / 1 ms = {per:.4}");

    // A tick with nothing due: one read of each index.
    let mut idle = Vec::new();
    for _ in 0..50 {
        let t = Instant::now();
        rules.run_timers()?;
        idle.push(t.elapsed());
    }
    idle.sort();
    let idle_p50 = ms(percentile(&idle, 0.5));
    println!("  timer tick, nothing due, p50 {idle_p50:>8.3} ms / 5 ms = {:.3}", idle_p50 / 5.0);
    // Half an hour on, every urgent ticket's first response is overdue: a
    // tick raises at most one batch of them.
    clock.advance_ms(31 * 60_000);
    let mut busy = Vec::new();
    let mut alarms = 0;
    for _ in 0..5 {
        let t = Instant::now();
        alarms += rules.run_timers()?.alarms;
        busy.push(t.elapsed());
    }
    busy.sort();
    println!("  timer tick, 200 due, p50 {:>8.3} ms ({alarms} alarms in 5 ticks)", ms(percentile(&busy, 0.5)));

    // The queue page with the SLA column, through the real HTTP server.
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().worker_threads(2).build()?;
    drop(rules);
    let mut serve_cfg = cfg.clone();
    serve_cfg.server.http = "127.0.0.1:0".into();
    serve_cfg.smtp.enabled = false;
    let running = rt.block_on(frontdesk::app::start(Arc::new(serve_cfg), Arc::new(clock.clone())))?;
    let addr = running.http.to_string();
    let mut conn = Conn::open(&addr)?;
    for (name, path) in
        [("queue", "/tickets"), ("queue + SLA column", "/tickets?cols=status,priority,sla"), ("SLA breaching", "/tickets/sla-breaching")]
    {
        let (p50, p99) = page_latency(&mut conn, path, requests)?;
        let p50 = ms(p50);
        println!("  {name:<20} p50 {p50:>8.3} ms / 5 ms = {:.3}   p99 {:>8.3} ms", p50 / 5.0, ms(p99));
    }
    rt.block_on(running.stop());
    Ok(())
}
