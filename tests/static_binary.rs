//! The static binary (`scripts/build-static`, issue 16 part 3) in a bare
//! directory: no /etc (no nsswitch.conf, resolv.conf or hosts), no /lib, no
//! /dev, no /proc — only the binary, a config and a data dir. It tells its
//! version, starts, serves the web UI and `/healthz`, and turns a message
//! taken over SMTP into a ticket. `.ci/run` builds it and sets
//! FRONTDESK_STATIC_BIN; without it this test is skipped with a message,
//! unless FRONTDESK_STATIC_REQUIRED=1.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::smtp::Smtp;

/// `args` run inside `root` as its `/`, with an empty environment but for
/// `env` (sudo drops it: pass settings as arguments): chroot as root; else through `sudo -n` as this user again (a
/// numeric --userspec needs no user database); else in a user namespace.
fn jailed(root: &Path, env: &[(&str, &str)], args: &[&str]) -> Command {
    let id = |flag: &str| {
        Command::new("id").arg(flag).output().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string()).unwrap_or_default()
    };
    let sudo = || Command::new("sudo").args(["-n", "true"]).status().is_ok_and(|s| s.success());
    let mut c = if id("-u") == "0" {
        Command::new("/usr/sbin/chroot")
    } else if sudo() {
        let mut c = Command::new("sudo");
        c.args(["-n", "/usr/sbin/chroot", &format!("--userspec={}:{}", id("-u"), id("-g"))]);
        c
    } else {
        let mut c = Command::new("unshare");
        c.args(["--user", "--map-root-user", "/usr/sbin/chroot"]);
        c
    };
    c.arg(root).arg("/frontdesk").args(args).env_clear();
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn get(port: u16, path: &str) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let status = out.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, out))
}

#[test]
fn the_static_binary_serves_and_takes_mail_in_a_bare_directory() {
    let Some(bin) = std::env::var_os("FRONTDESK_STATIC_BIN").map(PathBuf::from) else {
        assert!(
            std::env::var("FRONTDESK_STATIC_REQUIRED").is_err(),
            "FRONTDESK_STATIC_BIN must name the static binary (scripts/build-static)"
        );
        eprintln!("skipping: set FRONTDESK_STATIC_BIN to the binary scripts/build-static makes");
        return;
    };
    let out = Command::new("readelf").arg("-d").arg(&bin).output().expect("readelf");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("NEEDED"), "no shared library may be needed");
    eprintln!("static binary: {} bytes", std::fs::metadata(&bin).unwrap().len());

    let jail = tempfile::tempdir().unwrap();
    let root = jail.path();
    std::fs::copy(&bin, root.join("frontdesk")).unwrap();
    std::fs::create_dir(root.join("data")).unwrap();
    let (http, smtp) = (free_port(), free_port());
    std::fs::write(
        root.join("frontdesk.toml"),
        format!(
            "[server]\nhttp = \"127.0.0.1:{http}\"\ndata_dir = \"/data\"\n[smtp]\nlisten = \"127.0.0.1:{smtp}\"\nhostname = \"desk.example.test\"\n\
             [outgoing]\nenabled = false\n[mail_auth]\nverify = false\n\
             # No /etc/resolv.conf here: the desk's resolver is named (nothing is looked up in this test).\n\
             [dns]\nresolver = \"127.0.0.1:53\"\n\
             [[mailbox]]\naddress = \"support@example.test\"\n"
        ),
    )
    .unwrap();
    let entries: Vec<String> = std::fs::read_dir(root).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().to_string()).collect();
    assert_eq!(entries.len(), 3, "only the binary, its config and the data dir: {entries:?}");

    let version = jailed(root, &[], &["--version"]).output().unwrap();
    let v = String::from_utf8_lossy(&version.stdout);
    assert!(version.status.success() && v.starts_with("frontdesk ") && v.contains(", built "), "{v}");

    let mut server =
        jailed(root, &[], &["--config", "/frontdesk.toml", "serve"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let start = Instant::now();
    let mut login = None;
    while start.elapsed() < Duration::from_secs(30) && login.is_none() {
        if let Some(exit) = server.try_wait().unwrap() {
            let out = server.wait_with_output().unwrap();
            panic!("the desk exited ({exit}): {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        }
        login = get(http, "/login");
        std::thread::sleep(Duration::from_millis(100));
    }
    let (status, page) = login.expect("the web UI answers");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("<form"), "{page}");

    let r = Smtp::send_mail(
        &format!("127.0.0.1:{smtp}"),
        "customer@example.org",
        &["support@example.test"],
        b"From: Customer <customer@example.org>\r\nTo: support@example.test\r\nSubject: Printer\r\nMessage-ID: <static@example.org>\r\n\r\nIt jams.\r\n",
    );
    assert_eq!(r.0, 250, "{}", r.1);
    // The spool empties: the message became a ticket.
    let mut health = String::new();
    while start.elapsed() < Duration::from_secs(60) {
        health = get(http, "/healthz").map(|(_, b)| b).unwrap_or_default();
        if health.contains("\"depth\":0") && health.contains("\"status\":\"ok\"") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(health.contains("\"depth\":0") && health.contains("\"status\":\"ok\""), "{health}");
    let _ = Command::new("kill").arg(server.id().to_string()).status();
    let out = server.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(!log.contains("ERROR"), "{log}");
    // The data the static binary wrote, read back here: the ticket is there.
    let store = frontdesk::store::Store::open_with_cache(&root.join("data"), 8 << 20).expect("the data dir opens");
    let r = store.read().unwrap();
    assert!(r.message_ticket("static@example.org").unwrap().is_some(), "the message became a ticket");
}
