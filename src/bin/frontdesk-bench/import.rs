//! `frontdesk-bench import`: `frontdesk import mbox` of a generated mbox
//! (threads of a first message and replies, 2 KB bodies, dates over years)
//! at 10 000 and at N messages: messages/s and the importer's peak RSS at
//! both sizes, to show the memory does not grow with the mailbox.

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::bail;

use crate::web::rss_kib;

/// Writes an mbox of `n` messages: threads of four (a question, three replies).
fn write_mbox(path: &Path, n: usize) -> anyhow::Result<u64> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    let body: String = (0..30).map(|i| format!("Line {i} of the customer's long explanation of what went wrong.\n")).collect();
    for i in 0..n {
        let thread = i / 4;
        let (day, month, year) = (1 + thread % 28, 1 + (thread / 28) % 12, 2015 + (thread / 336) % 10);
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
        let date = format!("{day} {} {year} {:02}:00:00 +0000", months[month - 1], 8 + i % 4);
        let reply = if i % 4 == 0 { String::new() } else { format!("In-Reply-To: <t{thread}.{}@old.test>\n", i % 4 - 1) };
        write!(
            f,
            "From c{thread}@old.test Thu Jan  1 00:00:00 2015\nFrom: Customer {thread} <c{thread}@client{}.test>\nTo: help@example.test\n\
             Subject: {}Case {thread}\nMessage-ID: <t{thread}.{}@old.test>\n{reply}Date: {date}\n\n{body}\n",
            thread % 500,
            if i % 4 == 0 { "" } else { "Re: " },
            i % 4
        )?;
    }
    f.flush()?;
    Ok(std::fs::metadata(path)?.len())
}

/// Imports `mbox` into a fresh data dir; (seconds, peak RSS KiB).
fn import(dir: &Path, mbox: &Path) -> anyhow::Result<(f64, u64)> {
    let _ = std::fs::remove_dir_all(dir);
    let config = dir.with_extension("toml");
    std::fs::write(&config, "[[mailbox]]\naddress = \"help@example.test\"\n")?;
    let exe = std::env::current_exe()?.with_file_name("frontdesk");
    let started = Instant::now();
    let mut child = Command::new(exe)
        .arg("--data-dir")
        .arg(dir)
        .arg("--config")
        .arg(&config)
        .args(["import", "mbox"])
        .arg(mbox)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let pid = child.id();
    let mut peak = 0;
    let status = loop {
        peak = peak.max(rss_kib(pid, "VmHWM:"));
        if let Some(s) = child.try_wait()? {
            break s;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let secs = started.elapsed().as_secs_f64();
    let mut out = String::new();
    if let Some(mut o) = child.stdout.take() {
        std::io::Read::read_to_string(&mut o, &mut out)?;
    }
    if !status.success() {
        bail!("frontdesk import failed: {out}");
    }
    println!("  {}", out.trim());
    Ok((secs, peak))
}

pub fn run(base: &Path, messages: usize) -> anyhow::Result<()> {
    std::fs::create_dir_all(base)?;
    let mut results = Vec::new();
    for n in [10_000, messages] {
        let mbox = base.join(format!("bench-{n}.mbox"));
        let bytes = write_mbox(&mbox, n)?;
        println!("import of {n} messages ({:.1} MB mbox):", bytes as f64 / 1e6);
        let (secs, peak) = import(&base.join(format!("data-{n}")), &mbox)?;
        let rate = n as f64 / secs;
        println!("  {secs:.1} s = {rate:.0} messages/s, importer peak RSS {:.1} MiB", peak as f64 / 1024.0);
        results.push((n, rate, peak));
        let _ = std::fs::remove_file(&mbox);
    }
    let (small, large) = (results[0], results[results.len() - 1]);
    println!("\ntargets (measured / target = ratio):");
    println!("  import rate at {}   {:>8.0} msgs/s / 1000 = {:.2} (above 1.0 meets it)", large.0, large.1, large.1 / 1000.0);
    println!(
        "  peak RSS {} vs {} messages: {:.1} / {:.1} MiB = {:.2} (flat: about 1.0 while the mailbox grows {}x)",
        large.0,
        small.0,
        large.2 as f64 / 1024.0,
        small.2 as f64 / 1024.0,
        large.2 as f64 / small.2.max(1) as f64,
        large.0 / small.0
    );
    Ok(())
}
