//! `frontdesk-bench portal`: the customers' pages at 100 000 tickets and
//! 10 000 knowledge base articles, through the real HTTP server — the help
//! page, the articles' home, an article, a category, a search, and the
//! suggestions while a subject is typed (the last word unfinished) — with
//! latency percentiles against the targets (pages p50 < 5 ms, suggestions
//! p50 < 20 ms).

use std::process::Command;
use std::time::Instant;

use anyhow::bail;

use crate::web::{Conn, Rng, fill, percentile, spawn_server};
use frontdesk::config::Config;
use frontdesk::desk::DeskError;
use frontdesk::domain::kb::{Article, ArticleState, Audience, KbCategory};
use frontdesk::domain::{ArticleId, KbCategoryId, PersonId, Timestamp};
use frontdesk::store::Store;

const CATEGORIES: u64 = 25;

/// A word of a synthetic vocabulary: common ones far more often (the
/// square of a uniform draw leans to the low numbers), as in real text.
fn word(rng: &mut Rng, vocabulary: &[String]) -> String {
    let n = vocabulary.len() as u64;
    let x = rng.below(n);
    vocabulary[(x * x / n) as usize].clone()
}

fn vocabulary(rng: &mut Rng, n: usize) -> Vec<String> {
    const SYL: &[&str] = &["ka", "lo", "mi", "ter", "san", "vo", "rel", "dan", "pri", "nex", "tor", "ul", "bes", "ga", "fi", "mon"];
    let mut out: Vec<String> = crate::web::WORDS.iter().map(|w| w.to_string()).collect();
    while out.len() < n {
        let parts = 2 + rng.below(3);
        let w: String = (0..parts).map(|_| SYL[rng.below(SYL.len() as u64) as usize]).collect();
        if !out.contains(&w) {
            out.push(w);
        }
    }
    out
}

fn words(rng: &mut Rng, vocabulary: &[String], n: usize) -> String {
    (0..n).map(|_| word(rng, vocabulary)).collect::<Vec<_>>().join(" ")
}

/// Adds articles (and categories) up to `articles`; returns the number of
/// articles the store holds.
fn seed(cfg: &Config, articles: u64, vocabulary: &[String]) -> anyhow::Result<u64> {
    let store = Store::open_with_cache(&cfg.server.data_dir, 256 * 1024 * 1024)?;
    let have = store.read()?.articles()?.len() as u64;
    let now = Timestamp(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis() as i64);
    let mut rng = Rng(7 + have);
    if store.read()?.kb_categories()?.is_empty() {
        store.write(|w| -> Result<(), DeskError> {
            for i in 0..CATEGORIES {
                let c = KbCategory {
                    id: KbCategoryId(w.next_id("kb_category")?),
                    name: format!("Topic {i}"),
                    description: String::new(),
                    position: i as u32,
                };
                w.put_kb_category(&c)?;
            }
            Ok(())
        })?;
    }
    let started = Instant::now();
    let mut done = have;
    while done < articles {
        let batch = (articles - done).min(500);
        store.write(|w| -> Result<(), DeskError> {
            for _ in 0..batch {
                let id = ArticleId(w.next_id("kb_article")?);
                let body = (0..4).map(|_| format!("{}.", words(&mut rng, vocabulary, 40))).collect::<Vec<_>>().join("\n\n");
                let a = Article {
                    id,
                    title: words(&mut rng, vocabulary, 5),
                    body,
                    category: Some(KbCategoryId(1 + rng.below(CATEGORIES))),
                    state: ArticleState::Published,
                    audience: if rng.below(10) == 0 { Audience::Internal } else { Audience::Public },
                    created_at: now,
                    created_by: PersonId(1),
                    updated_at: Timestamp(now.0 - rng.below(86_400_000 * 365) as i64),
                    updated_by: PersonId(1),
                    revision: 1,
                    files: vec![],
                };
                w.put_article(None, &a)?;
            }
            Ok(())
        })?;
        done += batch;
    }
    if done > have {
        println!("articles: {} added in {:.1}s", done - have, started.elapsed().as_secs_f64());
    }
    // The index, built before the server starts (as the server would at start).
    let ix = frontdesk::search::kb::KbIndex::open(&cfg.server.data_dir)?;
    let r = store.read()?;
    let generation = r.kb_generation()?;
    if ix.generation() != generation {
        let started = Instant::now();
        let all: Vec<_> = r.articles()?.into_iter().map(|a| (a.id, Some(a))).collect();
        ix.write(&all, generation, true)?;
        println!("knowledge base index: {} articles in {:.1}s", all.len(), started.elapsed().as_secs_f64());
    }
    Ok(done)
}

pub fn run(cfg: &Config, tickets: u64, articles: u64, requests: usize) -> anyhow::Result<()> {
    let total = fill(cfg, tickets, 5)?;
    let mut rng = Rng(99);
    let vocab = vocabulary(&mut rng, 5000);
    let count = seed(cfg, articles, &vocab)?;
    let (mut child, addrs) = spawn_server(&["--data-dir", &cfg.server.data_dir.to_string_lossy(), "--no-outgoing"], &["http://"])?;
    let pid = child.id();
    let result = (|| -> anyhow::Result<()> {
        let addr = addrs[0].clone();
        let mut conn = Conn::open(&addr)?;
        type Gen<'a> = Box<dyn Fn(&mut Rng) -> String + 'a>;
        let v = &vocab;
        let typed = move |r: &mut Rng| {
            // Two to four words, the last one cut short as while typing.
            let n = 2 + r.below(3) as usize;
            let mut s = words(r, v, n);
            let keep = s.len().saturating_sub(1 + r.below(2) as usize);
            s.truncate(s.floor_char_boundary(keep));
            s.replace(' ', "+")
        };
        let kinds: Vec<(&str, Gen, f64)> = vec![
            ("help page", Box::new(|_| "/help".to_string()), 5.0),
            ("articles home", Box::new(|_| "/help/kb".to_string()), 5.0),
            ("article (random)", Box::new(move |r: &mut Rng| format!("/help/kb/{}", 1 + r.below(count))), 5.0),
            ("category (random)", Box::new(|r: &mut Rng| format!("/help/kb/category/{}", 1 + r.below(CATEGORIES))), 5.0),
            ("article search", Box::new(move |r: &mut Rng| format!("/help/kb/search?q={}", words(r, v, 2).replace(' ', "+"))), 5.0),
            ("suggestions while typing", Box::new(move |r: &mut Rng| format!("/help/suggest?q={}", typed(r))), 20.0),
        ];
        println!(
            "\nserver pid {pid} on {addr}; {total} tickets, {count} articles; {requests} requests per kind, one keep-alive connection\n"
        );
        println!("{:<28} {:>9} {:>9} {:>9} {:>10} {:>8}", "page", "p50 ms", "p99 ms", "max ms", "target ms", "ratio");
        for (name, path, target) in &kinds {
            for _ in 0..20 {
                conn.get(&path(&mut rng))?;
            }
            let mut lat = Vec::with_capacity(requests);
            for _ in 0..requests {
                let p = path(&mut rng);
                let t = Instant::now();
                let (status, _) = conn.get(&p)?;
                lat.push(t.elapsed());
                // An internal article is "not found" on the help page.
                if status != 200 && !(status == 404 && p.starts_with("/help/kb/") && !p.contains('?')) {
                    bail!("{p} answered {status}");
                }
            }
            lat.sort();
            let (p50, p99) = (percentile(&lat, 0.5), percentile(&lat, 0.99));
            let max = lat.last().copied().unwrap_or_default();
            let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
            println!("{:<28} {:>9.3} {:>9.3} {:>9.3} {:>10.0} {:>8.3}", name, ms(p50), ms(p99), ms(max), target, ms(p50) / target);
        }
        println!("\n(ratio = p50 / target; below 1.0 meets it)");
        Ok(())
    })();
    let _ = Command::new("kill").arg("-TERM").arg(pid.to_string()).status();
    let _ = child.wait();
    result
}
