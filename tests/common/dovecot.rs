//! A real Dovecot IMAP server (Debian package `dovecot-imapd`) for a test:
//! its own config, state and Maildir in a temp dir, one user (`desk`) with a
//! password from a file, plain IMAP on a free port of 127.0.0.1. Mail is
//! delivered the way a local delivery agent does it (a file into
//! `Maildir/new`), so IDLE hears of it. Missing Dovecot skips the test with
//! a message, unless FRONTDESK_DOVECOT_REQUIRED=1 (set by `.ci/run`).

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub const USER: &str = "desk";
pub const PASSWORD: &str = "imap-test-secret";
const DOVECOT: &str = "/usr/sbin/dovecot";

pub struct TestDovecot {
    child: Option<Child>,
    dir: tempfile::TempDir,
    pub port: u16,
    /// IMAP over TLS (993's job), when started with `start_tls`.
    pub tls_port: Option<u16>,
    /// (uid, gid) the mail files belong to.
    owner: (u32, u32),
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn id_of(flag: &str, name: &str) -> u32 {
    let out = Command::new("id").arg(flag).args(Some(name).filter(|n| !n.is_empty())).output().expect("id");
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or_else(|_| panic!("no user {name}"))
}

static SERIAL: AtomicU32 = AtomicU32::new(0);

impl TestDovecot {
    /// A running Dovecot, or None (with a message) where it is not installed.
    pub fn start() -> Option<TestDovecot> {
        Self::start_with(false)
    }

    /// Also serving IMAP over TLS on `tls_port`, with a certificate for
    /// 127.0.0.1 from a test CA (`ca_file`).
    pub fn start_tls() -> Option<TestDovecot> {
        Self::start_with(true)
    }

    fn start_with(tls: bool) -> Option<TestDovecot> {
        if !Path::new(DOVECOT).exists() {
            assert!(std::env::var("FRONTDESK_DOVECOT_REQUIRED").is_err(), "dovecot-imapd (Debian package) is required here");
            eprintln!("skipping: needs Debian's dovecot-imapd; .ci/run installs it");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let root = Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false);
        // Dovecot will not run its login or mail processes as root: as root
        // they run as the package's own users, which must reach the files.
        let owner = if root { (id_of("-u", "dovecot"), id_of("-g", "dovecot")) } else { (id_of("-u", ""), id_of("-g", "")) };
        let (login_user, internal_user) = if root {
            ("dovenull".to_string(), "dovecot".to_string())
        } else {
            let me = String::from_utf8_lossy(&Command::new("id").arg("-un").output().unwrap().stdout).trim().to_string();
            (me.clone(), me)
        };
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let d = dir.path().display().to_string();
        std::fs::write(dir.path().join("passwd"), format!("{USER}:{{PLAIN}}{PASSWORD}::::::\n")).unwrap();
        std::fs::write(dir.path().join("password"), PASSWORD).unwrap();
        let ssl = if tls {
            let ca_key = rcgen::KeyPair::generate().unwrap();
            let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
            ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
            ca_params.distinguished_name.push(rcgen::DnType::CommonName, "frontdesk test CA");
            let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
            let key = rcgen::KeyPair::generate().unwrap();
            let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap().signed_by(&key, &ca).unwrap();
            std::fs::write(dir.path().join("ca.pem"), ca.pem()).unwrap();
            std::fs::write(dir.path().join("cert.pem"), cert.pem()).unwrap();
            std::fs::write(dir.path().join("key.pem"), key.serialize_pem()).unwrap();
            format!("ssl = yes\nssl_cert = <{d}/cert.pem\nssl_key = <{d}/key.pem\n")
        } else {
            "ssl = no\n".to_string()
        };
        let mut me = TestDovecot { child: None, dir, port: 0, tls_port: None, owner };
        for sub in ["", "/cur", "/new", "/tmp"] {
            let p = PathBuf::from(format!("{}{sub}", me.maildir().display()));
            std::fs::create_dir_all(&p).unwrap();
        }
        me.chown_all(&PathBuf::from(format!("{d}/home")));
        for _ in 0..5 {
            let port = free_port();
            let tls_port = if tls { free_port() } else { 0 };
            let conf = format!(
                "base_dir = {d}/run\nstate_dir = {d}/state\nlog_path = {d}/dovecot.log\ninstance_name = fdtest-{port}\n\
                 protocols = imap\nlisten = 127.0.0.1\n{ssl}disable_plaintext_auth = no\nauth_mechanisms = plain login\n\
                 default_internal_user = {internal_user}\ndefault_internal_group = {internal_user}\ndefault_login_user = {login_user}\n\
                 first_valid_uid = 0\nmail_location = maildir:{d}/home/%u/Maildir\n\
                 passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u {d}/passwd\n}}\n\
                 userdb {{\n  driver = static\n  args = uid={} gid={} home={d}/home/%u\n}}\n\
                 service imap-login {{\n  chroot =\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n  inet_listener imaps {{\n    address = 127.0.0.1\n    port = {tls_port}\n  }}\n}}\n\
                 service anvil {{\n  chroot =\n}}\n",
                owner.0, owner.1
            );
            std::fs::write(me.dir.path().join("dovecot.conf"), conf).unwrap();
            me.port = port;
            me.tls_port = tls.then_some(tls_port);
            if me.launch() {
                return Some(me);
            }
        }
        panic!("dovecot did not start (5 tries): {}", std::fs::read_to_string(me.dir.path().join("dovecot.log")).unwrap_or_default());
    }

    /// Starts the server on its port; false when it exits or never greets.
    fn launch(&mut self) -> bool {
        let _ = std::fs::remove_file(self.dir.path().join("run/master.pid"));
        let child = Command::new(DOVECOT)
            .arg("-F")
            .arg("-c")
            .arg(self.dir.path().join("dovecot.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dovecot");
        self.child = Some(child);
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            if self.child.as_mut().unwrap().try_wait().ok().flatten().is_some() {
                self.child = None;
                return false;
            }
            if let Ok(s) = TcpStream::connect(("127.0.0.1", self.port)) {
                let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                let mut line = String::new();
                // "Waiting for authentication process" comes first at times.
                let mut r = BufReader::new(s);
                while r.read_line(&mut line).is_ok_and(|n| n > 0) {
                    if line.contains("ready") {
                        return true;
                    }
                    line.clear();
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    /// Stops the server (SIGTERM, then waits for it).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill").arg(c.id().to_string()).status();
            let _ = c.wait();
            // Its login and mail processes end with it.
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    /// Starts it again on the same port.
    pub fn restart(&mut self) {
        self.stop();
        for _ in 0..20 {
            if self.launch() {
                return;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        panic!("dovecot did not start again");
    }

    pub fn maildir(&self) -> PathBuf {
        self.dir.path().join(format!("home/{USER}/Maildir"))
    }

    /// The test CA's certificate (PEM), with `start_tls`.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    pub fn password_file(&self) -> PathBuf {
        self.dir.path().join("password")
    }

    fn chown_all(&self, p: &Path) {
        let _ = std::os::unix::fs::chown(p, Some(self.owner.0), Some(self.owner.1));
        if p.is_dir() {
            for e in std::fs::read_dir(p).unwrap().flatten() {
                self.chown_all(&e.path());
            }
        }
    }

    /// Delivers a message into INBOX as a delivery agent would; `seen`
    /// files it as read already.
    pub fn deliver(&self, raw: &str, seen: bool) {
        let n = SERIAL.fetch_add(1, Ordering::SeqCst);
        let name = format!("{}.M{n}P{}.fdtest", 1_700_000_000 + n, std::process::id());
        let tmp = self.maildir().join("tmp").join(&name);
        std::fs::write(&tmp, raw.replace('\n', "\r\n")).unwrap();
        self.chown_all(&tmp);
        let to = if seen { self.maildir().join("cur").join(format!("{name}:2,S")) } else { self.maildir().join("new").join(&name) };
        std::fs::rename(&tmp, to).unwrap();
    }

    /// The messages of a folder ("" = INBOX, else ".Name"): their flags.
    pub fn flags(&self, folder: &str) -> Vec<String> {
        let base = if folder.is_empty() { self.maildir() } else { self.maildir().join(folder) };
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            if let Ok(rd) = std::fs::read_dir(base.join(sub)) {
                for e in rd.flatten() {
                    let name = e.file_name().to_string_lossy().to_string();
                    out.push(name.split_once(":2,").map(|(_, f)| f.to_string()).unwrap_or_default());
                }
            }
        }
        out
    }

    /// Makes the INBOX messages containing `text` unread again (Maildir
    /// keeps flags in file names; the server must be stopped).
    pub fn mark_unread(&self, text: &str) {
        let cur = self.maildir().join("cur");
        for e in std::fs::read_dir(&cur).unwrap().flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if !std::fs::read_to_string(e.path()).unwrap_or_default().contains(text) {
                continue;
            }
            if let Some((base, flags)) = name.split_once(":2,") {
                let _ = std::fs::rename(e.path(), cur.join(format!("{base}:2,{}", flags.replace('S', ""))));
            }
        }
    }

    /// Forgets INBOX's UIDs (a new UIDVALIDITY at the next start, as after
    /// a mailbox rebuild); the server must be stopped.
    pub fn renumber(&mut self) {
        for e in std::fs::read_dir(self.maildir()).unwrap().flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if name.starts_with("dovecot-uidlist") || name.starts_with("dovecot.index") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }

    /// The `[[imap]]` section for the desk.
    pub fn config(&self, extra: &str) -> String {
        format!(
            "[[imap]]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\nuser = \"{USER}\"\npassword_file = \"{}\"\nmailbox = \"support@example.test\"\n{extra}\n",
            self.port,
            self.password_file().display()
        )
    }
}

impl Drop for TestDovecot {
    fn drop(&mut self) {
        self.stop();
    }
}
