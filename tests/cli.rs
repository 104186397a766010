//! The command line: config validation, check-config, user and token commands.

mod common;

use common::*;

#[test]
fn config_errors_exit_2_naming_key_and_line() {
    let dir = tempdir();
    let cfg = dir.path().join("bad.toml");
    std::fs::write(&cfg, "[desk]\nname = \"Acme\"\n\n[server]\nhttp = \"not an address\"\n").unwrap();
    let (code, _, err) = cli(dir.path(), &["--config", cfg.to_str().unwrap(), "check-config"], None);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("line 5") && err.contains("server.http"), "{err}");

    std::fs::write(&cfg, "[limits]\npage_size = \"fifty\"\n").unwrap();
    let (code, _, err) = cli(dir.path(), &["--config", cfg.to_str().unwrap(), "serve"], None);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("line 2") && err.contains("limits.page_size"), "{err}");

    std::fs::write(&cfg, "[sever]\nhttp = \"127.0.0.1:1\"\n").unwrap();
    let (code, _, err) = cli(dir.path(), &["--config", cfg.to_str().unwrap(), "check-config"], None);
    assert_eq!(code, 2);
    assert!(err.contains("line 1") && err.contains("sever"), "{err}");

    // FRONTDESK_CONFIG works as well as --config.
    let out = std::process::Command::new(BIN).arg("check-config").env("FRONTDESK_CONFIG", &cfg).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn check_config_prints_effective_settings_with_overrides() {
    let dir = tempdir();
    let cfg = dir.path().join("ok.toml");
    std::fs::write(&cfg, "[desk]\nname = \"Acme IT\"\nreference_prefix = \"IT\"\n").unwrap();
    let (code, out, err) = cli(dir.path(), &["--config", cfg.to_str().unwrap(), "--http", "0.0.0.0:9000", "check-config"], None);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("name = \"Acme IT\""));
    assert!(out.contains("reference_prefix = \"IT\""));
    assert!(out.contains("http = \"0.0.0.0:9000\""), "--http overrides the file: {out}");
    assert!(out.contains(&format!("data_dir = \"{}\"", dir.path().display())), "--data-dir overrides: {out}");
    assert!(out.contains("categories = ["));
    // The example config is valid.
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/config.example.toml");
    let (code, _, err) = cli(dir.path(), &["--config", example, "check-config"], None);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn user_and_token_commands_validate_input() {
    let dir = tempdir();
    let (code, _, err) =
        cli(dir.path(), &["user", "add", "--email", "a@b.test", "--name", "A", "--role", "admin", "--password-stdin"], Some("short\n"));
    assert_ne!(code, 0);
    assert!(err.contains("at least 10 characters"), "{err}");
    let (code, _, err) = cli(
        dir.path(),
        &["user", "add", "--email", "a@b.test", "--name", "A", "--role", "boss", "--password-stdin"],
        Some("long enough pw\n"),
    );
    assert_ne!(code, 0);
    assert!(err.contains("--role"), "{err}");
    add_user(dir.path(), "a@b.test", "A", "admin", "long enough pw");
    let (code, _, err) = cli(
        dir.path(),
        &["user", "add", "--email", "A@b.test", "--name", "A", "--role", "admin", "--password-stdin"],
        Some("long enough pw\n"),
    );
    assert_ne!(code, 0);
    assert!(err.contains("already an agent"), "{err}");
    let (code, _, err) = cli(dir.path(), &["token", "create", "--email", "nobody@b.test", "--name", "x"], None);
    assert_ne!(code, 0);
    assert!(err.contains("not an active agent"), "{err}");
    let t1 = create_token(dir.path(), "a@b.test");
    let t2 = create_token(dir.path(), "a@b.test");
    assert_ne!(t1, t2);
    assert_eq!(t1.lines().count(), 1);
    // A common password is refused with the reason.
    let (code, _, err) = cli(
        dir.path(),
        &["user", "add", "--email", "c@b.test", "--name", "C", "--role", "agent", "--password-stdin"],
        Some("1qaz2wsx3edc\n"),
    );
    assert_ne!(code, 0);
    assert!(err.contains("10,000 most common"), "{err}");
}

#[test]
fn tokens_get_scopes_expiry_and_addresses_on_the_command_line() {
    let dir = tempdir();
    add_user(dir.path(), "a@b.test", "A", "admin", "long enough pw");
    let args = [
        "token",
        "create",
        "--email",
        "a@b.test",
        "--name",
        "backup",
        "--scopes",
        "tickets:read,admin",
        "--expires",
        "2099-01-31",
        "--allow-ip",
        "10.0.0.0/8",
        "--allow-ip",
        "192.0.2.7",
    ];
    let (code, out, err) = cli(dir.path(), &args, None);
    assert_eq!(code, 0, "{err}");
    assert!(out.trim().starts_with("fd_"));
    let (code, list, err) = cli(dir.path(), &["token", "list"], None);
    assert_eq!(code, 0, "{err}");
    assert!(list.contains("backup  [tickets:read,admin]  expires 2099-01-31 23:59  from 10.0.0.0/8,192.0.2.7  last used never"), "{list}");
    for (bad, says) in [
        (&["--scopes", "tickets:delete"][..], "\"tickets:delete\" is not a scope"),
        (&["--expires", "soon"][..], "is not a date"),
        (&["--allow-ip", "10.0.0.0/99"][..], "CIDR"),
    ] {
        let mut a = vec!["token", "create", "--email", "a@b.test", "--name", "x"];
        a.extend_from_slice(bad);
        let (code, _, err) = cli(dir.path(), &a, None);
        assert_ne!(code, 0, "{bad:?}");
        assert!(err.contains(says), "{bad:?}: {err}");
    }
}

#[test]
fn a_second_process_on_the_same_data_dir_is_refused_clearly() {
    let (dir, _s) = desk_with_admin();
    let (code, _, err) = cli(dir.path(), &["token", "create", "--email", ADMIN_EMAIL, "--name", "x"], None);
    assert_ne!(code, 0);
    assert!(err.contains("in use by another frontdesk process"), "{err}");
}

#[test]
fn check_config_renders_templates_and_reports_errors() {
    let dir = tempdir();
    let tpl = dir.path().join("templates");
    std::fs::create_dir_all(&tpl).unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, format!("[outgoing]\ntemplate_dir = \"{}\"\n", tpl.display())).unwrap();
    std::fs::write(tpl.join("ack.txt"), "Subject: Got it {{ ticket.ref }}\n\nThanks {{ requester.name }}.\n").unwrap();
    let (code, _, err) = cli(dir.path(), &["--config", cfg.to_str().unwrap(), "check-config"], None);
    assert_eq!(code, 0, "{err}");
    std::fs::write(tpl.join("reply.txt"), "Subject: x\n\n{{ message | no_such_filter }}\n").unwrap();
    let (code, _, err) = cli(dir.path(), &["--config", cfg.to_str().unwrap(), "check-config"], None);
    assert_eq!(code, 2);
    assert!(err.contains("outgoing.template_dir") && err.contains("reply"), "{err}");
}

/// Every duration and size setting is bounded, and a missing template
/// directory is a config error naming the key and line.
#[test]
fn absurd_settings_are_config_errors() {
    let dir = tempdir();
    for (text, key) in [
        ("[smtp]\ncommand_timeout_secs = 18446744073709551615\n", "smtp.command_timeout_secs"),
        ("[smtp]\ndata_timeout_secs = 999999999\n", "smtp.data_timeout_secs"),
        ("[outgoing]\ntemplate_dir = \"/nonexistent/templates\"\n", "outgoing.template_dir"),
        ("[outgoing]\ncommand_token_days = 0\n", "outgoing.command_token_days"),
        ("[limits]\nbody_timeout_secs = 0\n", "limits.body_timeout_secs"),
        ("[smtp]\ntrusted_relays = [\"10.0.0.0/33\"]\n", "smtp.trusted_relays"),
        ("[server]\nhealth_spool_age_secs = 0\n", "server.health_spool_age_secs"),
    ] {
        let cfg = dir.path().join("bad.toml");
        std::fs::write(&cfg, text).unwrap();
        let (code, _, err) = cli(dir.path(), &["--config", cfg.to_str().unwrap(), "check-config"], None);
        assert_ne!(code, 0, "{text}");
        assert!(err.contains(key) && err.contains("line 2"), "{text}: {err}");
    }
}

/// `frontdesk ingest` (server stopped) of the mail that once panicked the
/// worker: it becomes a ticket, exit code 0, and the next one too.
#[test]
fn ingest_survives_case_folding_forwards() {
    let dir = tempdir();
    let cfg = dir.path().join("fd.toml");
    std::fs::write(&cfg, "[[mailbox]]\naddress = \"support@example.test\"\n").unwrap();
    let cfg = cfg.to_str().unwrap();
    let poison = "From: Fay <fay@customer.test>\r\nTo: support@example.test\r\nSubject: Fwd: x\r\n\r\n\u{212A}\u{212A}\u{212A}\u{212A} forwarded message\r\nFrom: \u{130}\u{130}\u{130}\u{130} <a> <\r\n\r\nbody\r\n";
    let (code, out, err) = cli(dir.path(), &["--config", cfg, "ingest"], Some(poison));
    assert_eq!(code, 0, "{out}{err}");
    let (code, _, err) = cli(dir.path(), &["--config", cfg, "ingest"], Some("From: g@customer.test\r\nSubject: next\r\n\r\nhi\r\n"));
    assert_eq!(code, 0, "{err}");
}

/// Every key can be set from the environment (`FRONTDESK_<SECTION>__<KEY>`),
/// over the file; a bad value names the key.
#[test]
fn environment_overrides_every_key() {
    let dir = tempdir();
    let cfg = dir.path().join("fd.toml");
    std::fs::write(&cfg, "[smtp]\nhostname = \"from-file.example\"\nmax_connections = 100\n").unwrap();
    let run = |env: &[(&str, &str)]| {
        let out = std::process::Command::new(BIN)
            .args(["--config", cfg.to_str().unwrap(), "check-config"])
            .envs(env.iter().copied())
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, err) = run(&[
        ("FRONTDESK_SMTP__LISTEN", "0.0.0.0:2626"),
        ("FRONTDESK_SMTP__MAX_CONNECTIONS", "77"),
        ("FRONTDESK_DESK__DEPARTMENTS", "[\"Support\", \"Billing\"]"),
        ("FRONTDESK_DESK__NAME", "Env Desk"),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("listen = \"0.0.0.0:2626\""), "{out}");
    assert!(out.contains("max_connections = 77"), "{out}");
    assert!(out.contains("hostname = \"from-file.example\""), "the file's other keys stay: {out}");
    assert!(out.contains("\"Billing\"") && out.contains("name = \"Env Desk\""), "{out}");
    let (code, _, err) = run(&[("FRONTDESK_SMTP__MAX_CONNECTIONS", "0")]);
    assert_ne!(code, 0);
    assert!(err.contains("smtp.max_connections") && err.contains("environment"), "{err}");
    let (code, _, err) = run(&[("FRONTDESK_SMTP__NO_SUCH_KEY", "1")]);
    assert_ne!(code, 0);
    assert!(err.contains("no_such_key"), "{err}");
}

#[test]
fn logs_are_json_lines_when_asked_and_plain_under_journald() {
    let dir = tempdir();
    let data = dir.path().join("data");
    let to = dir.path().join("b.fdbackup");
    let run = |env: (&str, &str)| {
        let _ = std::fs::remove_file(&to);
        let out = std::process::Command::new(BIN)
            .args(["--data-dir", data.to_str().unwrap(), "backup", "--to", to.to_str().unwrap()])
            .env(env.0, env.1)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    // A data dir without a desk (a mistyped --data-dir) is no backup.
    let out = std::process::Command::new(BIN)
        .args(["--data-dir", data.to_str().unwrap(), "backup", "--to", to.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("holds no desk data"), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!data.join("frontdesk.redb").exists() && !to.exists(), "nothing was created");
    // A stopped desk is backed up from its files, which it logs.
    add_user(&data, "ada@example.test", "Ada", "admin", "correct horse battery");
    let err = run(("FRONTDESK_LOG_FORMAT", "json"));
    let logs: Vec<&str> = err.lines().filter(|l| l.starts_with('{')).collect();
    assert!(!logs.is_empty(), "{err}");
    for l in &logs {
        let v: serde_json::Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}"));
        assert!(v["level"].is_string() && v["fields"]["message"].is_string(), "{l}");
    }
    let err = run(("JOURNAL_STREAM", "8:12345"));
    let line = err.lines().find(|l| l.contains("backing up from its files")).unwrap_or_else(|| panic!("{err}"));
    assert!(line.starts_with(" INFO") || line.starts_with("INFO"), "no timestamp (journald adds one): {line:?}");
    assert!(!err.contains('\u{1b}'), "no colours for the journal: {err:?}");
}

#[test]
fn doctor_names_each_problem_with_its_fix_and_fails_on_the_serious_ones() {
    let dir = tempdir();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let dns = common::dns::TestDns::start();
    // A port another program holds, and a smarthost port nobody answers on.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let config = |smtp: &str, smarthost: &str| {
        format!(
            "[server]\nhttp = \"127.0.0.1:0\"\n[smtp]\nlisten = \"{smtp}\"\nhostname = \"desk.example.test\"\n\
             [dns]\nresolver = \"{}\"\n[outgoing]\nsmarthost = \"{smarthost}\"\n\
             [[mailbox]]\naddress = \"support@example.test\"\n",
            dns.addr
        )
    };
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, config(&taken.local_addr().unwrap().to_string(), &closed.to_string())).unwrap();
    let (code, out, err) = cli(&data, &["--config", cfg.to_str().unwrap(), "doctor"], None);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.contains("WARN  data dir") && out.contains("fix: chmod 700"), "{out}");
    assert!(out.contains("FAIL  smtp.listen") && out.contains("another program listens there"), "{out}");
    assert!(out.contains(&format!("FAIL  smarthost {closed}")) && out.contains("fix: check outgoing.smarthost"), "{out}");
    assert!(out.contains("DNS records missing") && out.contains("example.test"), "{out}");
    assert!(out.contains("free disk space for the data dir: "), "{out}");

    // Mended: a private dir, a free port, a smarthost that greets.
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let greeter = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let relay = greeter.local_addr().unwrap();
    std::thread::spawn(move || {
        use std::io::Write;
        for s in greeter.incoming().flatten() {
            let mut s = s;
            let _ = s.write_all(b"220 relay.test ESMTP ready\r\n");
        }
    });
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    std::fs::write(&cfg, config(&free.to_string(), &relay.to_string())).unwrap();
    let (code, out, err) = cli(&data, &["--config", cfg.to_str().unwrap(), "doctor"], None);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("ok    data dir") && out.contains("ok    smtp.listen") && out.contains("ok    smarthost"), "{out}");
    assert!(out.contains(" 0 failed"), "{out}");
    assert!(dns.queries.load(std::sync::atomic::Ordering::SeqCst) > 0, "DNS was asked on loopback, nowhere else");
}

/// Starts `frontdesk serve` the way systemd's socket activation does: the
/// HTTP and SMTP sockets are bound and listening before the desk starts and
/// handed over as descriptors 3 and 4 (a Python wrapper binds them, then
/// execs the desk in its own process, LISTEN_PID included).
#[test]
fn socket_activation_and_sd_notify() {
    use std::io::{BufRead, Read, Write};
    use std::os::unix::net::UnixDatagram;
    let dir = tempdir();
    let notify_path = dir.path().join("notify.sock");
    let notify = UnixDatagram::bind(&notify_path).unwrap();
    notify.set_read_timeout(Some(std::time::Duration::from_secs(60))).unwrap();
    let wrapper = r#"
import os, socket, sys
socks = []
for _ in range(2):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(128)
    socks.append(s)
for i, s in enumerate(socks):
    os.dup2(s.fileno(), 3 + i)
    os.set_inheritable(3 + i, True)
http, smtp = (s.getsockname()[1] for s in socks)
print(http, smtp, flush=True)
env = dict(os.environ, LISTEN_FDS="2", LISTEN_PID=str(os.getpid()))
exe, data = sys.argv[1], sys.argv[2]
os.execve(exe, [exe, "--data-dir", data, "--http", f"127.0.0.1:{http}", "--smtp", f"127.0.0.1:{smtp}", "--no-outgoing", "serve"], env)
"#;
    let mut child = std::process::Command::new("python3")
        .args(["-c", wrapper, BIN, dir.path().join("data").to_str().unwrap()])
        .env("NOTIFY_SOCKET", &notify_path)
        .env("WATCHDOG_USEC", "2000000")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("python3 (installed by .ci/run) runs the wrapper");
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let ports = lines.next().unwrap().unwrap();
    let (http, smtp) = ports.split_once(' ').unwrap();
    // Connected before the desk is ready: the kernel queues it on the
    // inherited socket, and the desk answers once it runs.
    let mut early = std::net::TcpStream::connect(format!("127.0.0.1:{smtp}")).unwrap();
    early.set_read_timeout(Some(std::time::Duration::from_secs(60))).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    while got.len() < 2 {
        let n = notify.recv(&mut buf).expect("a notification from the desk");
        got.push(String::from_utf8_lossy(&buf[..n]).to_string());
        if got[0] != "READY=1" {
            got.remove(0);
        }
    }
    assert_eq!(got[0], "READY=1", "{got:?}");
    assert_eq!(got[1], "WATCHDOG=1", "the watchdog pings while the store answers: {got:?}");
    let mut greeting = [0u8; 64];
    let n = early.read(&mut greeting).unwrap();
    assert!(greeting[..n].starts_with(b"220 "), "{:?}", String::from_utf8_lossy(&greeting[..n]));
    // The desk serves HTTP on the inherited socket (the port is held by the
    // socket it was given: binding it anew would have failed).
    let mut web = std::net::TcpStream::connect(format!("127.0.0.1:{http}")).unwrap();
    web.write_all(b"GET /healthz HTTP/1.0\r\n\r\n").unwrap();
    let mut answer = String::new();
    web.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200"), "{answer}");
    // Stopping says so first.
    assert!(std::process::Command::new("kill").arg(child.id().to_string()).status().unwrap().success());
    let mut last = String::new();
    for _ in 0..10 {
        let n = notify.recv(&mut buf).unwrap();
        last = String::from_utf8_lossy(&buf[..n]).to_string();
        if last == "STOPPING=1" {
            break;
        }
    }
    assert_eq!(last, "STOPPING=1");
    assert!(child.wait().unwrap().success());
}

#[test]
fn version_names_the_commit_and_the_build_date() {
    let out = std::process::Command::new(BIN).arg("--version").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let rest = text.strip_prefix(&format!("frontdesk {} (", env!("CARGO_PKG_VERSION"))).unwrap_or_else(|| panic!("{text}"));
    let (commit, date) = rest.strip_suffix(')').and_then(|r| r.split_once(", built ")).unwrap_or_else(|| panic!("{text}"));
    let head = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    match head {
        Some(h) => assert_eq!(commit, h, "{text}"),
        None => assert_eq!(commit, "unknown commit", "{text}"),
    }
    assert!(date.len() == 10 && date.as_bytes()[4] == b'-' && date.as_bytes()[7] == b'-', "{text}");
}
