//! `frontdesk bench web`: fills a data dir with synthetic tickets and measures the
//! queue and ticket pages through the real HTTP server (a child process), printing
//! latency percentiles and the server's RSS.

use crate::config::Config;

pub fn web(_cfg: &Config, _tickets: u64, _entries: u32, _requests: usize) -> anyhow::Result<()> {
    anyhow::bail!("not built yet")
}
