//! `frontdesk-bench https`: the desk's built-in HTTPS against its plain HTTP,
//! through one real `frontdesk serve` process with its self-signed
//! certificate (verified by the client as a pinned root): a returning agent's
//! TLS handshake plus first page (the queue) (full handshakes, and resumed ones), and the
//! queue page on one keep-alive connection over each, with their ratio.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rustls::pki_types::ServerName;

use crate::web::{Conn, fill, percentile, spawn_server, tcp};
use frontdesk::config::Config;

/// A rustls client (ring, as the desk) that trusts the desk's certificate.
fn client(cert_pem: &[u8], resume: bool) -> anyhow::Result<Arc<rustls::ClientConfig>> {
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls_pemfile::certs(&mut &cert_pem[..]) {
        roots.add(c?)?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    if !resume {
        config.resumption = rustls::client::Resumption::disabled();
    }
    Ok(Arc::new(config))
}

type TlsConn = Conn<rustls::StreamOwned<rustls::ClientConnection, std::net::TcpStream>>;

fn tls_conn(addr: &str, config: &Arc<rustls::ClientConfig>) -> anyhow::Result<TlsConn> {
    let name = ServerName::try_from("localhost")?;
    let session = rustls::ClientConnection::new(config.clone(), name)?;
    Ok(Conn::over(rustls::StreamOwned::new(session, tcp(addr)?)))
}

/// p50 and p99 of `n` runs of `f`, after a few unmeasured ones.
fn measure(n: usize, mut f: impl FnMut() -> anyhow::Result<()>) -> anyhow::Result<(Duration, Duration)> {
    for _ in 0..20.min(n) {
        f()?;
    }
    let mut lat = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        f()?;
        lat.push(t.elapsed());
    }
    lat.sort();
    Ok((percentile(&lat, 0.5), percentile(&lat, 0.99)))
}

fn ok(status: u16, what: &str) -> anyhow::Result<()> {
    if status != 200 {
        bail!("{what} answered {status}");
    }
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

pub fn run(cfg: &Config, tickets: u64, requests: usize) -> anyhow::Result<()> {
    let total = fill(cfg, tickets, 3)?;
    let dir = cfg.server.data_dir.to_string_lossy().to_string();
    // Plain HTTP answers pages itself here (no redirect), so both are measured.
    let config_path = cfg.server.data_dir.join("bench-https.toml");
    std::fs::write(&config_path, "[server]\nredirect_http = false\n")?;
    let config_arg = config_path.to_string_lossy().to_string();
    let (mut child, addrs) =
        spawn_server(&["--data-dir", &dir, "--config", &config_arg, "--no-outgoing", "--https", "127.0.0.1:0"], &["http://", "https://"])?;
    let pid = child.id();
    let result = (|| -> anyhow::Result<Duration> {
        let (plain, secure) = (addrs[0].clone(), addrs[1].clone());
        let cert = std::fs::read(cfg.server.data_dir.join("tls/cert.pem")).context("the desk's self-signed certificate")?;
        let (fresh, resumed) = (client(&cert, false)?, client(&cert, true)?);
        println!("\nserver pid {pid}: http://{plain} and https://{secure}; {total} tickets; {requests} requests per row\n");
        println!("{:<52} {:>9} {:>9}", "measurement", "p50 ms", "p99 ms");
        let row = |name: &str, (p50, p99): (Duration, Duration)| println!("{name:<52} {:>9.3} {:>9.3}", ms(p50), ms(p99));

        let first_page = |c: &mut TlsConn| -> anyhow::Result<()> { c.get("/tickets").map(|(s, _)| s).and_then(|s| ok(s, "/tickets")) };
        let handshake = measure(requests / 4, || first_page(&mut tls_conn(&secure, &fresh)?))?;
        row("new connection: full TLS handshake + queue page", handshake);
        let resumed_handshake = measure(requests / 4, || first_page(&mut tls_conn(&secure, &resumed)?))?;
        row("new connection: resumed TLS handshake + queue page", resumed_handshake);
        let plain_first = measure(requests / 4, || {
            let (s, _) = Conn::open(&plain)?.get("/tickets")?;
            ok(s, "/tickets")
        })?;
        row("new connection: plain TCP + queue page", plain_first);

        let mut over_tls = tls_conn(&secure, &fresh)?;
        let tls_queue = measure(requests, || over_tls.get("/tickets").and_then(|(s, _)| ok(s, "/tickets over HTTPS")))?;
        row("queue page, keep-alive, HTTPS", tls_queue);
        let mut over_tcp = Conn::open(&plain)?;
        let tcp_queue = measure(requests, || over_tcp.get("/tickets").and_then(|(s, _)| ok(s, "/tickets over HTTP")))?;
        row("queue page, keep-alive, plain HTTP", tcp_queue);

        println!("\ntargets (measured / target = ratio; below 1.0 meets it):");
        println!("  full handshake + first page p50  {:>8.3} ms / 10 ms = {:.3}", ms(handshake.0), ms(handshake.0) / 10.0);
        let ratio = tls_queue.0.as_secs_f64() / tcp_queue.0.as_secs_f64().max(1e-9);
        println!("  queue p50 HTTPS / HTTP           {ratio:>8.3}       / 1.2   = {:.3}", ratio / 1.2);
        Ok(tcp_queue.0)
    })();
    let _ = std::process::Command::new("kill").arg("-TERM").arg(pid.to_string()).status();
    let _ = child.wait();
    let without = result?;
    // The same queue page once the agent has a second factor and the desk
    // requires one from everybody (what pages check after login).
    let store = frontdesk::store::Store::open(&cfg.server.data_dir)?;
    store.write(|w| -> anyhow::Result<()> {
        let admin = w.person_by_email("bench-admin@example.test")?.context("the bench admin")?;
        let second = frontdesk::store::TwoFactor {
            secret: vec![7; 20],
            enabled: true,
            created_at: frontdesk::domain::Timestamp(0),
            recovery: Vec::new(),
            last_step: 0,
        };
        w.put_two_factor(admin.id, &second)?;
        Ok(())
    })?;
    drop(store);
    std::fs::write(&config_path, "[server]\nredirect_http = false\n[security]\nrequire_2fa = \"all\"\n")?;
    let (mut child, addrs) = spawn_server(&["--data-dir", &dir, "--config", &config_arg, "--no-outgoing"], &["http://"])?;
    let pid = child.id();
    let with = (|| -> anyhow::Result<(Duration, Duration)> {
        let mut conn = Conn::open(&addrs[0])?;
        measure(requests, || conn.get("/tickets").and_then(|(s, _)| ok(s, "/tickets with 2FA required")))
    })();
    let _ = std::process::Command::new("kill").arg("-TERM").arg(pid.to_string()).status();
    let _ = child.wait();
    let _ = std::fs::remove_file(&config_path);
    let with = with?;
    println!("{:<52} {:>9.3} {:>9.3}", "queue page, keep-alive, HTTP, 2FA on and required", ms(with.0), ms(with.1));
    let ratio = with.0.as_secs_f64() / without.as_secs_f64().max(1e-9);
    println!("  queue p50 with 2FA / without     {ratio:>8.3}  (1.0 = no cost)");
    Ok(())
}
