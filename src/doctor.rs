//! `frontdesk doctor`: checks what a desk needs from its machine and prints
//! a fix for each problem — the data directory (writable, private, disk
//! space), the listen ports (free, or answered by the running desk), the
//! HTTPS certificate's expiry, time synchronisation, the smarthost, the
//! running desk's health, and the DNS records of every mailbox domain.
//! Problems that stop mail or the web UI fail (exit 1); the rest warn.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use crate::config::Config;

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Ok,
    Warn,
    Fail,
}

/// One check's outcome, with what to do about it.
#[derive(Debug)]
pub struct Finding {
    pub level: Level,
    pub what: String,
    pub fix: Option<String>,
}

fn ok(what: impl Into<String>) -> Finding {
    Finding { level: Level::Ok, what: what.into(), fix: None }
}

fn warn(what: impl Into<String>, fix: impl Into<String>) -> Finding {
    Finding { level: Level::Warn, what: what.into(), fix: Some(fix.into()) }
}

fn fail(what: impl Into<String>, fix: impl Into<String>) -> Finding {
    Finding { level: Level::Fail, what: what.into(), fix: Some(fix.into()) }
}

/// Runs every check; the findings in order.
pub fn run(cfg: &Config) -> Vec<Finding> {
    let running = crate::backup::restore::in_use(&cfg.server.data_dir);
    let mut out = vec![data_dir(&cfg.server.data_dir), disk_space(&cfg.server.data_dir)];
    let mut ports = vec![("server.http", cfg.server.http.as_str())];
    if cfg.https_on() {
        ports.push(("server.https", cfg.server.https.as_str()));
    }
    if cfg.smtp.enabled {
        ports.push(("smtp.listen", cfg.smtp.listen.as_str()));
    }
    for (key, addr) in ports {
        out.push(port(key, addr, running));
    }
    if running {
        out.push(health(&cfg.server.http));
    }
    if cfg.https_on() {
        out.push(certificate(cfg));
    }
    out.push(time_sync());
    if cfg.outgoing.enabled && !cfg.outgoing.smarthost.is_empty() {
        out.push(smarthost(cfg, &cfg.outgoing.smarthost));
    }
    out.push(dns(cfg));
    out
}

/// The findings as text, and whether none failed.
pub fn report(findings: &[Finding]) -> (String, bool) {
    let mut text = String::new();
    for f in findings {
        let tag = match f.level {
            Level::Ok => "ok  ",
            Level::Warn => "WARN",
            Level::Fail => "FAIL",
        };
        let _ = writeln!(text, "{tag}  {}", f.what);
        if let Some(fix) = &f.fix {
            for line in fix.lines() {
                let _ = writeln!(text, "      fix: {line}");
            }
        }
    }
    let failed = findings.iter().filter(|f| f.level == Level::Fail).count();
    let warned = findings.iter().filter(|f| f.level == Level::Warn).count();
    let _ = writeln!(text, "\n{} checks: {failed} failed, {warned} warnings", findings.len());
    (text, failed == 0)
}

fn data_dir(dir: &Path) -> Finding {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let shown = dir.display();
    let made = {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
    };
    if let Err(e) = made {
        return fail(format!("data dir {shown}: cannot create it: {e}"), "create it and give it to the desk's user (chown frontdesk: …)");
    }
    let probe = dir.join(format!(".doctor-{}", std::process::id()));
    if let Err(e) = std::fs::write(&probe, b"probe").and_then(|()| std::fs::remove_file(&probe)) {
        return fail(format!("data dir {shown} is not writable: {e}"), format!("chown -R <the desk's user> {shown}"));
    }
    match std::fs::metadata(dir) {
        Ok(m) if m.permissions().mode() & 0o077 != 0 => warn(
            format!("data dir {shown} is readable by other users (mode {:o}): it holds mail and keys", m.permissions().mode() & 0o777),
            format!("chmod 700 {shown}"),
        ),
        Ok(m) if m.uid() != rustix::process::geteuid().as_raw() => warn(
            format!("data dir {shown} belongs to uid {}, not to this user", m.uid()),
            "run the desk and its commands as the directory's owner",
        ),
        Ok(_) => ok(format!("data dir {shown}: writable, private")),
        Err(e) => fail(format!("data dir {shown}: {e}"), "check the path (server.data_dir, --data-dir)"),
    }
}

fn disk_space(dir: &Path) -> Finding {
    let st = match rustix::fs::statvfs(dir) {
        Ok(s) => s,
        Err(e) => return warn(format!("free disk space: cannot tell ({e})"), "check `df -h` by hand"),
    };
    let (free, total) = (st.f_bavail.saturating_mul(st.f_frsize), st.f_blocks.saturating_mul(st.f_frsize));
    let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
    let text = format!("free disk space for the data dir: {:.1} GiB of {:.1} GiB", gib(free), gib(total));
    if free < 256 << 20 {
        fail(text, "free space now: mail is refused (451) when the disk is full; `frontdesk compact` gives free pages back")
    } else if free < 2 << 30 || free.saturating_mul(10) < total {
        warn(text, "add space or move server.data_dir soon; a backup needs room too")
    } else {
        ok(text)
    }
}

/// Whether `addr` can be bound now (the desk stopped), or answers (running).
fn port(key: &str, addr: &str, running: bool) -> Finding {
    let Ok(sa) = addr.parse::<SocketAddr>() else {
        return fail(format!("{key} = {addr:?} is not an address"), format!("set {key} like 0.0.0.0:25"));
    };
    if running {
        let probe = if sa.ip().is_unspecified() { SocketAddr::new([127, 0, 0, 1].into(), sa.port()) } else { sa };
        return match TcpStream::connect_timeout(&probe, Duration::from_secs(3)) {
            Ok(_) => ok(format!("{key} {addr}: the running desk answers")),
            Err(e) => fail(format!("{key} {addr}: nothing answers ({e})"), "look at the desk's log: did it bind the port?"),
        };
    }
    match std::net::TcpListener::bind(sa) {
        Ok(_) => ok(format!("{key} {addr}: free to listen on")),
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => fail(
            format!("{key} {addr}: ports below 1024 need a privilege this user lacks"),
            "run under systemd/frontdesk.service (AmbientCapabilities=CAP_NET_BIND_SERVICE), or setcap cap_net_bind_service=+ep on the binary",
        ),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => fail(
            format!("{key} {addr}: another program listens there"),
            format!("find it with `ss -ltnp 'sport = :{}'` and stop it (a system MTA on :25?)", sa.port()),
        ),
        Err(e) => fail(format!("{key} {addr}: cannot listen ({e})"), format!("check {key}")),
    }
}

/// The running desk's own `/healthz`.
fn health(http: &str) -> Finding {
    let Ok(mut sa) = http.parse::<SocketAddr>() else { return warn("desk health: server.http is not an address", "check server.http") };
    if sa.ip().is_unspecified() {
        sa.set_ip([127, 0, 0, 1].into());
    }
    let ask = || -> std::io::Result<String> {
        let mut s = TcpStream::connect_timeout(&sa, Duration::from_secs(3))?;
        s.set_read_timeout(Some(Duration::from_secs(5)))?;
        s.write_all(format!("GET /healthz HTTP/1.0\r\nHost: {sa}\r\n\r\n").as_bytes())?;
        let mut body = String::new();
        s.take(1 << 20).read_to_string(&mut body)?;
        Ok(body)
    };
    match ask() {
        Ok(r) if r.starts_with("HTTP/1.0 200") || r.starts_with("HTTP/1.1 200") => ok("the running desk reports itself healthy (/healthz)"),
        Ok(r) => {
            let problems = r.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
            fail(format!("the running desk reports problems: {problems}"), "see /healthz and the log for the worker or store named")
        }
        Err(e) => warn(format!("desk health: /healthz did not answer ({e})"), "is server.http reachable from this machine?"),
    }
}

fn certificate(cfg: &Config) -> Finding {
    let loaded = if !cfg.server.tls_cert.is_empty() {
        crate::tls::load_files(cfg).map(Some)
    } else if cfg.acme.enabled {
        Ok(crate::tls::acme::stored(cfg))
    } else {
        Ok(None)
    };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
    match loaded {
        Err(e) => fail(format!("HTTPS certificate: {e:#}"), "fix server.tls_cert / server.tls_key (PEM files readable by the desk)"),
        Ok(None) if cfg.acme.enabled => warn(
            "HTTPS certificate: ACME has not issued one yet",
            "the desk orders it at start; see /healthz's tls part if it does not come",
        ),
        Ok(None) => warn(
            "HTTPS certificate: the desk's self-signed one (browsers warn)",
            "set server.tls_cert and server.tls_key, or [acme] enabled = true",
        ),
        Ok(Some(l)) => {
            let days = (l.info.not_after - now) / 86_400_000;
            let text = format!("HTTPS certificate for {}: expires in {days} days", l.info.names.join(", "));
            if days < 0 {
                fail(text, "replace it now (or enable [acme])")
            } else if days < 14 {
                warn(text, "renew it (ACME renews by itself `acme.renew_days` before expiry)")
            } else {
                ok(text)
            }
        }
    }
}

/// Whether a time service keeps the clock right (DKIM signatures, 2FA codes,
/// SLA clocks and certificates depend on it).
fn time_sync() -> Finding {
    if Path::new("/run/systemd/timesync/synchronized").exists() {
        return ok("time: synchronised (systemd-timesyncd)");
    }
    let daemons = ["chronyd", "ntpd", "systemd-timesyn", "openntpd", "ntpsec"];
    let running = std::fs::read_dir("/proc")
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter_map(|e| std::fs::read_to_string(e.path().join("comm")).ok())
                .find(|c| daemons.contains(&c.trim()))
        })
        .ok()
        .flatten();
    match running {
        Some(d) => ok(format!("time: {} runs", d.trim())),
        None => warn(
            "time: no time synchronisation service found",
            "install and enable one (apt install systemd-timesyncd, or chrony): DKIM, 2FA codes and SLA clocks need the right time",
        ),
    }
}

/// The smarthost answers SMTP (a 220 greeting within 10 s).
fn smarthost(cfg: &Config, host: &str) -> Finding {
    let target = if host.rsplit_once(':').is_some_and(|(_, p)| p.parse::<u16>().is_ok()) { host.to_string() } else { format!("{host}:25") };
    let greet = || -> Result<String, String> {
        // The desk's resolver, as the desk itself uses.
        let (name, port) = target.rsplit_once(':').map(|(h, p)| (h, p.parse::<u16>().unwrap_or(25))).ok_or("no port")?;
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
        let dns = crate::mail::dns::Dns::from_config(cfg)?;
        let addrs = rt.block_on(dns.socket_addrs(name, port)).map_err(|e| format!("cannot resolve: {e}"))?;
        let mut tried = Vec::new();
        let mut s = addrs
            .iter()
            .find_map(|a| TcpStream::connect_timeout(a, Duration::from_secs(10)).map_err(|e| tried.push(format!("{a}: {e}"))).ok())
            .ok_or_else(|| format!("cannot connect: {}", tried.join("; ")))?;
        s.set_read_timeout(Some(Duration::from_secs(10))).map_err(|e| e.to_string())?;
        let mut buf = [0u8; 512];
        let n = s.read(&mut buf).map_err(|e| format!("no greeting: {e}"))?;
        let _ = s.write_all(b"QUIT\r\n");
        Ok(String::from_utf8_lossy(&buf[..n]).lines().next().unwrap_or("").to_string())
    };
    match greet() {
        Ok(line) if line.starts_with("220") => ok(format!("smarthost {target}: {line}")),
        Ok(line) => fail(format!("smarthost {target} answered {line:?}"), "check outgoing.smarthost and that it accepts this machine"),
        Err(e) => fail(format!("smarthost {target}: {e}"), "check outgoing.smarthost, the firewall, and `frontdesk mail test --to you@…`"),
    }
}

/// `frontdesk dns`'s report: the records each mailbox domain needs.
fn dns(cfg: &Config) -> Finding {
    let run = || -> Result<(String, bool), String> {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
        let dns = crate::mail::dns::Dns::from_config(cfg)?;
        let signer = crate::mail::dkim::Signer::load(cfg)?;
        Ok(rt.block_on(crate::mail::records::report(cfg, &dns, &signer)))
    };
    match run() {
        Ok((_, true)) => ok(format!("DNS: MX, SPF, DKIM and DMARC published for {}", cfg.mailbox_domains().join(", "))),
        Ok((text, false)) if cfg.mailbox.is_empty() => {
            warn(format!("DNS: {}", text.trim()), "add [[mailbox]] sections for the addresses customers write to")
        }
        Ok((text, false)) => {
            warn(format!("DNS records missing or wrong:\n{}", text.trim_end()), "publish the records shown (`frontdesk dns` prints them)")
        }
        Err(e) => warn(format!("DNS: cannot check ({e})"), "set dns.resolver, or check /etc/resolv.conf"),
    }
}
