//! Process-wide counters and histograms for `/metrics` (Prometheus text
//! format): HTTP requests and latency, SMTP sessions and replies by code, DNS
//! lookups and sender-authentication results by outcome. Plain atomics and
//! small maps behind a mutex, recorded where things happen (web middleware,
//! SMTP session, resolver, authentication) and written out by `web/ops.rs`
//! with the desk's gauges. Imports nothing of the application.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Upper bounds (seconds) of the latency histograms' buckets.
pub const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

/// A cumulative latency histogram.
pub struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    const fn new() -> Self {
        Histogram { buckets: [const { AtomicU64::new(0) }; BUCKETS.len()], count: AtomicU64::new(0), sum_micros: AtomicU64::new(0) }
    }

    pub fn observe(&self, d: std::time::Duration) {
        let secs = d.as_secs_f64();
        for (b, bound) in self.buckets.iter().zip(BUCKETS) {
            if secs <= bound {
                b.fetch_add(1, Relaxed);
            }
        }
        self.count.fetch_add(1, Relaxed);
        self.sum_micros.fetch_add(d.as_micros().min(u128::from(u64::MAX)) as u64, Relaxed);
    }

    /// Writes the `_bucket`, `_sum` and `_count` lines of `name`.
    pub fn write(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        for (b, bound) in self.buckets.iter().zip(BUCKETS) {
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {}", b.load(Relaxed));
        }
        let count = self.count.load(Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(out, "{name}_sum {}", self.sum_micros.load(Relaxed) as f64 / 1e6);
        let _ = writeln!(out, "{name}_count {count}");
    }
}

/// Counters keyed by a few label values.
pub struct Counters(Mutex<BTreeMap<Vec<String>, u64>>);

impl Counters {
    const fn new() -> Self {
        Counters(Mutex::new(BTreeMap::new()))
    }

    pub fn add(&self, labels: &[&str]) {
        self.add_n(labels, 1);
    }

    pub fn add_n(&self, labels: &[&str], n: u64) {
        if let Ok(mut m) = self.0.lock() {
            *m.entry(labels.iter().map(|l| l.to_string()).collect()).or_default() += n;
        }
    }

    /// Writes one line per label set; `names` are the label names.
    pub fn write(&self, out: &mut String, name: &str, help: &str, names: &[&str]) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
        let Ok(m) = self.0.lock() else { return };
        for (values, n) in m.iter() {
            let labels: Vec<String> = names.iter().zip(values).map(|(k, v)| format!("{k}=\"{}\"", escape(v))).collect();
            let _ = writeln!(out, "{name}{{{}}} {n}", labels.join(","));
        }
    }
}

/// A label value as the text format wants it.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Everything recorded in this process.
pub struct Metrics {
    /// HTTP requests by status class ("2xx" …).
    pub http_requests: Counters,
    pub http_latency: Histogram,
    pub smtp_sessions: AtomicU64,
    /// SMTP replies sent, by code.
    pub smtp_replies: Counters,
    /// DNS lookups by record type and outcome (ok, nxdomain, error, timeout).
    pub dns: Counters,
    /// Sender authentication by method (spf, dkim, dmarc) and result.
    pub mail_auth: Counters,
    /// Accepted mail: accept→ticket latency.
    pub accept_to_ticket: Histogram,
    /// IMAP fetching by mailbox and outcome (fetched messages, errors).
    pub imap: Counters,
}

pub static METRICS: Metrics = Metrics {
    http_requests: Counters::new(),
    http_latency: Histogram::new(),
    smtp_sessions: AtomicU64::new(0),
    smtp_replies: Counters::new(),
    dns: Counters::new(),
    mail_auth: Counters::new(),
    accept_to_ticket: Histogram::new(),
    imap: Counters::new(),
};

/// Counts an SMTP reply by its code (the first three digits of `line`).
pub fn smtp_reply(line: &str) {
    if let Some(code) = line.get(..3).filter(|c| c.bytes().all(|b| b.is_ascii_digit())) {
        METRICS.smtp_replies.add(&[code]);
    }
}

/// The process's resident memory in bytes (Linux; 0 elsewhere).
pub fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok()))
        .map_or(0, |kib| kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative_and_labels_escaped() {
        let h = Histogram::new();
        h.observe(std::time::Duration::from_micros(800));
        h.observe(std::time::Duration::from_millis(30));
        h.observe(std::time::Duration::from_secs(9));
        let mut out = String::new();
        h.write(&mut out, "x_seconds", "test");
        assert!(out.contains("x_seconds_bucket{le=\"0.001\"} 1\n"), "{out}");
        assert!(out.contains("x_seconds_bucket{le=\"0.05\"} 2\n"), "{out}");
        assert!(out.contains("x_seconds_bucket{le=\"5\"} 2\n"), "{out}");
        assert!(out.contains("x_seconds_bucket{le=\"+Inf\"} 3\nx_seconds_sum 9.0308\nx_seconds_count 3\n"), "{out}");
        let c = Counters::new();
        c.add(&["a\"b\\c"]);
        let mut out = String::new();
        c.write(&mut out, "y_total", "test", &["v"]);
        assert!(out.ends_with("y_total{v=\"a\\\"b\\\\c\"} 1\n"), "{out}");
    }
}
