//! `frontdesk-bench`: the benchmarks, outside the library and the server
//! binary. Each prints measured numbers and ratios against its targets from
//! one run. Build both binaries first (`cargo build --release`): the benches
//! start the `frontdesk` binary that sits next to this one.

// The test suite's small DNS server: the smtp bench's sender domain with
// SPF and DMARC records, for the phases with authentication on.
mod automation;
mod backup;
#[path = "../../../tests/common/dns.rs"]
mod dns;
mod https;
mod import;
mod outbox;
mod portal;
mod reports;
mod search;
mod smtp;
mod storage;
mod web;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Benchmarks of frontdesk through the real server.
#[derive(Parser)]
#[command(name = "frontdesk-bench")]
struct Cli {
    /// Config file for the benches that read one (web, search).
    #[arg(long, env = "FRONTDESK_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory the bench fills (a fresh one for smtp and outbox).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: BenchCmd,
}

#[derive(Subcommand)]
enum BenchCmd {
    /// Outbox throughput to a local smarthost, in a fresh data dir.
    Outbox {
        #[arg(long, default_value_t = 5000)]
        messages: usize,
    },
    /// Load-test the SMTP receiver through a real server on a fresh data dir.
    Smtp {
        /// Messages in the burst phase.
        #[arg(long, default_value_t = 20_000)]
        messages: usize,
        /// Message size in bytes.
        #[arg(long, default_value_t = 4096)]
        size: usize,
        /// Concurrent connections in the burst phase.
        #[arg(long, default_value_t = 32)]
        connections: usize,
        /// Messages per second in the steady (latency) phase.
        #[arg(long, default_value_t = 200)]
        rate: usize,
    },
    /// Reindex speed, sidebar counts and search latency at 100 000 tickets.
    Search {
        #[arg(long, default_value_t = 100_000)]
        tickets: u64,
        #[arg(long, default_value_t = 5)]
        entries: u32,
        #[arg(long, default_value_t = 500)]
        requests: usize,
    },
    /// Fill a data dir with synthetic tickets and measure queue and ticket pages
    /// through the real HTTP server.
    Web {
        /// Tickets to create (skipped if the data dir already holds them).
        #[arg(long, default_value_t = 100_000)]
        tickets: u64,
        /// Thread entries per ticket.
        #[arg(long, default_value_t = 5)]
        entries: u32,
        /// Requests per measured page kind.
        #[arg(long, default_value_t = 2000)]
        requests: usize,
    },
    /// HTTPS against plain HTTP through the real server: TLS handshake + first
    /// page (full and resumed), and the queue page on one keep-alive connection.
    Https {
        /// Tickets to create (skipped if the data dir already holds them).
        #[arg(long, default_value_t = 10_000)]
        tickets: u64,
        /// Requests per measurement.
        #[arg(long, default_value_t = 2000)]
        requests: usize,
    },
    /// What SLA clocks and triggers cost at 100 000 open tickets: the fill
    /// with and without rules, timer ticks, the queue with the SLA column.
    Automation {
        #[arg(long, default_value_t = 100_000)]
        tickets: u64,
        /// Requests per measured page.
        #[arg(long, default_value_t = 500)]
        requests: usize,
    },
    /// The customers' pages and the suggestions while typing at 100 000
    /// tickets and 10 000 knowledge base articles (targets: pages p50 < 5 ms,
    /// suggestions p50 < 20 ms).
    Portal {
        #[arg(long, default_value_t = 100_000)]
        tickets: u64,
        #[arg(long, default_value_t = 10_000)]
        articles: u64,
        #[arg(long, default_value_t = 300)]
        requests: usize,
    },
    /// Backup of the running server (MB/s), verify, restore + reindex at
    /// 100 000 tickets, through the real binary.
    Backup {
        #[arg(long, default_value_t = 100_000)]
        tickets: u64,
    },
    /// The Reports page at 100 000 tickets over a year, through the real
    /// HTTP server (target: p50 < 50 ms).
    Reports {
        #[arg(long, default_value_t = 100_000)]
        tickets: u64,
        /// Requests per measured page.
        #[arg(long, default_value_t = 50)]
        requests: usize,
    },
    /// `frontdesk import mbox` at 10 000 and N messages: rate and peak RSS.
    Import {
        #[arg(long, default_value_t = 100_000)]
        messages: usize,
    },
    /// Bytes on disk per ticket and per raw mail byte, by file and table, for
    /// mail over SMTP (4 KB and the corpus) and API tickets, in fresh data dirs.
    Storage {
        /// Mails per SMTP fill.
        #[arg(long, default_value_t = 5000)]
        messages: usize,
        /// API tickets (5 short entries each).
        #[arg(long, default_value_t = 100_000)]
        tickets: u64,
        /// Folder of .eml files for the corpus fill.
        #[arg(long, default_value = "../shared/corpus/eml")]
        corpus: std::path::PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("FRONTDESK_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let mut cfg = match frontdesk::config::Config::load_effective(cli.config.as_deref(), std::env::vars()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("frontdesk-bench: config error: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(d) = cli.data_dir {
        cfg.server.data_dir = d;
    }
    let result = match cli.command {
        BenchCmd::Outbox { messages } => outbox::run(&cfg.server.data_dir, messages),
        BenchCmd::Smtp { messages, size, connections, rate } => smtp::run(&cfg.server.data_dir, messages, size, connections, rate),
        BenchCmd::Search { tickets, entries, requests } => search::run(&cfg, tickets, entries, requests),
        BenchCmd::Web { tickets, entries, requests } => web::web(&cfg, tickets, entries, requests),
        BenchCmd::Portal { tickets, articles, requests } => portal::run(&cfg, tickets, articles, requests),
        BenchCmd::Https { tickets, requests } => https::run(&cfg, tickets, requests),
        BenchCmd::Storage { messages, tickets, corpus } => storage::run(&cfg, messages, tickets, &corpus),
        BenchCmd::Backup { tickets } => backup::run(&cfg, tickets),
        BenchCmd::Import { messages } => import::run(&cfg.server.data_dir, messages),
        BenchCmd::Automation { tickets, requests } => automation::run(&cfg.server.data_dir, tickets, requests),
        BenchCmd::Reports { tickets, requests } => reports::run(&cfg.server.data_dir, tickets, requests),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("frontdesk-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}
