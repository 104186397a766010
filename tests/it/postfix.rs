//! Real mail software in front of the desk: a Postfix 3.7 instance (Debian's
//! `postfix`, started by the test from its own config in a temp dir, on
//! 127.0.0.1 only, relaying only to the desk) takes a burst from Postfix's
//! own load tool `smtp-source` and delivers it to the desk at its default
//! concurrency. Nothing may be deferred: the desk's per-address connection
//! limit must let one front MTA in.
//!
//! A second instance is the desk's smarthost: a reply to an internationalized
//! address goes through it with SMTPUTF8 (issue 17 bug 3).
//!
//! Needs root (Postfix's master runs as root) and the Debian packages;
//! `.ci/run` installs them and sets FRONTDESK_POSTFIX_REQUIRED=1.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::capture::Capture;
use crate::common::smtp::Smtp;
use crate::common::*;

const MASTER: &str = "/usr/lib/postfix/sbin/master";

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

/// A command run as root: directly when the tests are, else through
/// passwordless sudo.
fn root(program: &str) -> Command {
    if is_root() {
        Command::new(program)
    } else {
        let mut c = Command::new("sudo");
        c.arg("-n").arg(program);
        c
    }
}

fn available() -> bool {
    let privileged = is_root() || Command::new("sudo").args(["-n", "true"]).status().is_ok_and(|s| s.success());
    let ok = privileged && Path::new(MASTER).exists() && Path::new("/usr/sbin/smtp-source").exists();
    if !ok {
        assert!(std::env::var("FRONTDESK_POSTFIX_REQUIRED").is_err(), "Postfix (Debian package, root or sudo) is required here");
        eprintln!("skipping: needs root (or sudo) and Debian's postfix (smtp-source); .ci/run installs it");
    }
    ok
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Writes a private Postfix instance into `dir` relaying what loopback
/// clients send to 127.0.0.1:`next_port` (the desk, or a capture server);
/// returns the running master. SMTPUTF8 is on (Postfix 3.7's default).
fn start_postfix(dir: &Path, listen: u16, next_port: u16) -> Child {
    let conf = dir.join("conf");
    std::fs::create_dir_all(&conf).unwrap();
    let mut master = String::new();
    let mut skip = false;
    for line in std::fs::read_to_string("/etc/postfix/master.cf").unwrap().lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if !skip {
                master.push_str(line);
                master.push('\n');
            }
            continue;
        }
        let mut f: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        skip = matches!(f[0].as_str(), "maildrop" | "uucp" | "ifmail" | "bsmtp" | "scalemail-backend" | "mailman");
        if skip {
            continue;
        }
        if f[0] == "smtp" && f[1] == "inet" {
            f[0] = format!("127.0.0.1:{listen}");
        }
        if f.len() >= 5 {
            f[4] = "n".into(); // no chroot: the queue is in the temp dir
        }
        master.push_str(&f.join("  "));
        master.push('\n');
    }
    std::fs::write(conf.join("master.cf"), master).unwrap();
    let d = dir.display();
    std::fs::write(
        conf.join("main.cf"),
        format!(
            "compatibility_level = 3.6\nqueue_directory = {d}/queue\ndata_directory = {d}/data\nmail_owner = postfix\nsetgid_group = postdrop\n\
             inet_interfaces = 127.0.0.1\ninet_protocols = ipv4\nmyhostname = relay.test\nmydestination =\nrelay_domains = example.test\n\
             relayhost = [127.0.0.1]:{next_port}\nsmtp_tls_security_level = none\n\
             smtpd_tls_security_level = none\nmaillog_file_prefixes = /var, /dev/stdout, /tmp\nmaillog_file = {d}/maillog\n\
             mynetworks = 127.0.0.0/8\nsmtpd_relay_restrictions = permit_mynetworks, reject\nalias_maps =\nlocal_recipient_maps =\n\
             smtp_dns_support_level = disabled\n"
        ),
    )
    .unwrap();
    let q = dir.join("queue");
    for sub in ["active", "bounce", "corrupt", "defer", "deferred", "flush", "hold", "incoming", "private", "saved", "trace"] {
        std::fs::create_dir_all(q.join(sub)).unwrap();
        root("chown").arg("postfix:root").arg(q.join(sub)).status().unwrap();
        root("chmod").arg("700").arg(q.join(sub)).status().unwrap();
    }
    for (sub, mode) in [("maildrop", "730"), ("public", "710")] {
        std::fs::create_dir_all(q.join(sub)).unwrap();
        root("chown").arg("postfix:postdrop").arg(q.join(sub)).status().unwrap();
        root("chmod").arg(mode).arg(q.join(sub)).status().unwrap();
    }
    std::fs::create_dir_all(q.join("pid")).unwrap();
    std::fs::create_dir_all(dir.join("data")).unwrap();
    root("chown").arg("root:root").arg(&q).arg(q.join("pid")).status().unwrap();
    root("chown").arg("postfix:postfix").arg(dir.join("data")).status().unwrap();
    // The temp dir itself must be reachable by the postfix user.
    root("chmod").arg("755").arg(dir).status().unwrap();
    root(MASTER).arg("-c").arg(&conf).arg("-d").stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("postfix master")
}

/// Waits until the instance listens on `listen`.
fn wait_listening(listen: u16) {
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", listen)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(20), "postfix did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Stops the instance and returns its mail log.
fn stop_postfix(dir: &Path, master: &mut Child) -> String {
    let log = root("cat").arg(dir.join("maillog")).output().map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default();
    let _ = root("pkill").arg("-f").arg(dir.display().to_string()).status();
    let _ = master.kill();
    let _ = master.wait();
    // The queue belongs to postfix now: give it back so the temp dir can go.
    let _ = root("chown").arg("-R").arg(nix_uid()).arg(dir).status();
    log
}

fn nix_uid() -> String {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string()).unwrap_or_else(|_| "0".into())
}

#[tokio::test]
async fn postfix_in_front_delivers_a_burst_with_no_deferrals() {
    if !available() {
        return;
    }
    // The desk on its defaults for connection limits.
    let config = MAIL_CONFIG.replace("max_connections_per_ip = 40\n", "");
    let d = MailDesk::start_with_config(&config);
    let desk_port: u16 = d.smtp.rsplit(':').next().unwrap().parse().unwrap();
    let pf_dir = tempdir();
    let listen = free_port();
    let mut master = start_postfix(pf_dir.path(), listen, desk_port);
    let started = Instant::now();
    wait_listening(listen);
    let messages = 1500;
    let st = Command::new("smtp-source")
        .args(["-s", "20", "-m", &messages.to_string(), "-l", "2000", "-f", "burst@customer.test", "-t", "support@example.test"])
        .arg(format!("127.0.0.1:{listen}"))
        .status()
        .unwrap();
    assert!(st.success());
    let mut n = 0;
    let deadline = Instant::now() + Duration::from_secs(300);
    while Instant::now() < deadline {
        n = d.all_tickets().await.len();
        if n >= messages {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let took = started.elapsed();
    let log = stop_postfix(pf_dir.path(), &mut master);
    let deferred = log.lines().filter(|l| l.contains("status=deferred")).count();
    let sent = log.lines().filter(|l| l.contains("status=sent")).count();
    eprintln!("postfix relayed {sent} of {messages} in {took:?}, {deferred} deferred");
    assert_eq!(
        deferred,
        0,
        "deferred deliveries:\n{}",
        log.lines().filter(|l| l.contains("deferred")).take(5).collect::<Vec<_>>().join("\n")
    );
    assert_eq!(n, messages, "every message became a ticket");
}

#[tokio::test]
async fn a_reply_to_an_internationalized_address_goes_through_a_postfix_smarthost() {
    if !available() {
        return;
    }
    // Postfix relays to a capture server that offers SMTPUTF8, as a mail
    // provider's server does.
    let (cap, _h) = Capture::start_on("127.0.0.1:0").await;
    cap.smtputf8.store(true, std::sync::atomic::Ordering::SeqCst);
    let cap_port: u16 = cap.addr.rsplit(':').next().unwrap().parse().unwrap();
    let pf_dir = tempdir();
    let listen = free_port();
    let mut master = start_postfix(pf_dir.path(), listen, cap_port);
    wait_listening(listen);
    let d = MailDesk::start_with_config(&format!(
        "{MAIL_CONFIG}\n[outgoing]\nsmarthost = \"127.0.0.1:{listen}\"\nfrom_name = \"Example Support\"\nretry_secs = [1]\nnotify_new_ticket = false\n"
    ));
    // Jörg writes from his internationalized address (declared with SMTPUTF8).
    let msg = "From: Jörg Müller <jörg@bücher.example>\r\nTo: support@example.test\r\nSubject: Bestellung\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nWo bleibt meine Bestellung?\r\n";
    let (mut c, _) = Smtp::connect(&d.smtp);
    assert_eq!(c.cmd("EHLO client.example.org").0, 250);
    assert_eq!(c.cmd("MAIL FROM:<jörg@bücher.example> SMTPUTF8").0, 250);
    assert_eq!(c.cmd("RCPT TO:<support@example.test>").0, 250);
    assert_eq!(c.cmd("DATA").0, 354);
    c.send(&Smtp::data_bytes(msg.as_bytes()));
    assert_eq!(c.reply().0, 250);
    d.settle().await;
    // The acknowledgement and an agent's reply both reach the next hop.
    let (st, _) = d.api.call("POST", "/tickets/TKT-000001/entries", Some(serde_json::json!({"body": "Sie ist unterwegs."}))).await;
    assert_eq!(st, 201);
    let deadline = Instant::now() + Duration::from_secs(60);
    while cap.all().len() < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    d.outbox_idle().await;
    let log = stop_postfix(pf_dir.path(), &mut master);
    let mails = cap.all();
    assert_eq!(mails.len(), 2, "both mails relayed; postfix log:\n{log}\nticket: {:#}", d.ticket("TKT-000001").await);
    for m in &mails {
        assert_eq!(m.rcpt_to, vec!["jörg@xn--bcher-kva.example".to_string()], "{log}");
        assert!(m.mail_params.to_uppercase().contains("SMTPUTF8"), "postfix relayed it as SMTPUTF8 mail: {:?}", m.mail_params);
        let parsed = mail_parser::MessageParser::default().parse(m.data.as_bytes()).expect("a message");
        let to = parsed.to().and_then(|a| a.first()).expect("a To address");
        assert_eq!(to.name(), Some("Jörg Müller"), "To carries the display name");
        assert_eq!(to.address(), Some("jörg@bücher.example"));
    }
    let t = d.ticket("TKT-000001").await;
    assert!(!t.to_string().contains("could not deliver"), "{t:#}");
    assert!(!log.contains("status=bounced") && !log.contains("status=deferred"), "{log}");
}
