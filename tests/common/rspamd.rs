//! A real rspamd (Debian package `rspamd`) for a test: its own minimal
//! config in a temp dir, a normal worker and a controller on free ports of
//! 127.0.0.1, Bayes statistics in SQLite files there, one Lua rule of its
//! own ("cheap pills" scores 8), no maps
//! and no DNS past loopback. Missing rspamd skips the test with a message,
//! unless FRONTDESK_RSPAMD_REQUIRED=1 (set by `.ci/run`).

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The controller's password; each instance adds its ports to it, so a
/// test can tell its own controller from another test's.
const PASSWORD: &str = "test-controller-secret";

/// The GTUBE test string: rspamd answers it with its reject score.
pub const GTUBE: &str = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";

const RULES: &str = r#"rspamd_config.FD_TEST_PILLS = {
  callback = function(task)
    return tostring(task:get_content()):lower():find('cheap pills', 1, true) ~= nil
  end,
  score = 8.0,
  description = 'test rule: cheap pills',
}
"#;

pub struct TestRspamd {
    child: Child,
    _dir: tempfile::TempDir,
    pub normal: String,
    pub controller: String,
    password: String,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl TestRspamd {
    /// A running rspamd, or None (with a message) where it is not installed.
    pub fn start() -> Option<TestRspamd> {
        if !Path::new("/usr/bin/rspamd").exists() {
            assert!(std::env::var("FRONTDESK_RSPAMD_REQUIRED").is_err(), "rspamd (Debian package) is required here");
            eprintln!("skipping: needs Debian's rspamd; .ci/run installs it");
            return None;
        }
        // A port picked free may be taken before rspamd binds it (another
        // test's server, another rspamd): rspamd then exits, and the test
        // would talk to whoever holds the port. Such a start is tried again
        // on other ports.
        for _ in 0..5 {
            if let Some(r) = Self::launch() {
                return Some(r);
            }
        }
        panic!("rspamd did not start (5 tries)");
    }

    /// One start on fresh ports: None when rspamd exits (a port was taken).
    fn launch() -> Option<TestRspamd> {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        let (normal, controller) = (free_port(), free_port());
        let password = format!("{PASSWORD}-{normal}-{controller}");
        let config = format!(
            r#"lua = "{d}/rules.lua";
options {{
  pidfile = "{d}/rspamd.pid";
  dns {{ nameserver = ["127.0.0.1:9"]; timeout = 1s; retransmits = 1; }}
  filters = "";
  gtube_patterns = "all";
  local_addrs = [];
  tempdir = "{d}";
}}
logging {{ type = "file"; filename = "{d}/rspamd.log"; level = "warning"; }}
actions {{ reject = 15; add_header = 6; greylist = null; }}
classifier "bayes" {{
  tokenizer {{ name = "osb"; }}
  backend = "sqlite3";
  min_learns = 1;
  min_tokens = 1;
  cache {{ path = "{d}/learn_cache.sqlite"; }}
  statfile {{ symbol = "BAYES_HAM"; spam = false; path = "{d}/ham.sqlite"; }}
  statfile {{ symbol = "BAYES_SPAM"; spam = true; path = "{d}/spam.sqlite"; }}
}}
worker "normal" {{ bind_socket = "127.0.0.1:{normal}"; count = 1; }}
worker "controller" {{ bind_socket = "127.0.0.1:{controller}"; count = 1; password = "{password}"; enable_password = "{password}"; }}
"#
        );
        // One rule of our own: "cheap pills" scores 8 (Junk from 6, below
        // the reject score of 15), so a test has spam that rspamd can learn
        // (it skips learning GTUBE mail).
        std::fs::write(dir.path().join("rules.lua"), RULES).unwrap();
        let conf = dir.path().join("rspamd.conf");
        std::fs::write(&conf, config).unwrap();
        // -i: CI runs as root, and the workers may stay root in a test.
        let child = Command::new("/usr/bin/rspamd")
            .args(["-f", "-i", "-c"])
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start rspamd");
        let mut r =
            TestRspamd { child, _dir: dir, normal: format!("127.0.0.1:{normal}"), controller: format!("127.0.0.1:{controller}"), password };
        // rspamd takes a few seconds to load (more with the suite running).
        // Ready: it still runs, its normal port answers and the controller
        // takes this instance's password (a port another process held would
        // answer someone else, and this rspamd would exit).
        let deadline = Instant::now() + Duration::from_secs(90);
        while Instant::now() < deadline {
            if r.child.try_wait().ok().flatten().is_some() {
                return None;
            }
            if TcpStream::connect(&r.normal).is_ok() && r.controller_is_ours() {
                std::thread::sleep(Duration::from_millis(300));
                if r.child.try_wait().ok().flatten().is_some() {
                    return None;
                }
                return Some(r);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("rspamd did not start within 90 s");
    }

    /// Whether the controller port answers /stat to this instance's password.
    fn controller_is_ours(&self) -> bool {
        use std::io::{Read, Write};
        let Ok(mut s) = TcpStream::connect(&self.controller) else { return false };
        let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
        let req = format!("GET /stat HTTP/1.0\r\nPassword: {}\r\n\r\n", self.password);
        let mut answer = Vec::new();
        s.write_all(req.as_bytes()).is_ok()
            && s.take(64).read_to_end(&mut answer).is_ok()
            && (answer.starts_with(b"HTTP/1.0 200") || answer.starts_with(b"HTTP/1.1 200"))
    }

    /// The `[rspamd]` config section for a desk using this rspamd.
    pub fn config(&self, extra: &str) -> String {
        format!(
            "[rspamd]\nurl = \"http://{}\"\ncontroller_url = \"http://{}\"\npassword = \"{}\"\n{extra}",
            self.normal, self.controller, self.password
        )
    }

    /// How many messages the statfile `symbol` (BAYES_HAM, BAYES_SPAM) has
    /// learned, from the controller's /stat.
    pub async fn learned(&self, symbol: &str) -> u64 {
        let stat: serde_json::Value = reqwest::Client::new()
            .get(format!("http://{}/stat", self.controller))
            .header("Password", &self.password)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        stat["statfiles"].as_array().into_iter().flatten().find(|s| s["symbol"] == symbol).and_then(|s| s["revision"].as_u64()).unwrap_or(0)
    }

    /// Waits until `symbol` has learned at least `n`: up to 150 s, the
    /// desk's whole retry budget for a lesson (5 tries of up to 20 s, 15 s
    /// of waits between them) when rspamd is slow under a loaded machine.
    pub async fn wait_learned(&self, symbol: &str, n: u64) -> u64 {
        let mut got = 0;
        for _ in 0..750 {
            got = self.learned(symbol).await;
            if got >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        got
    }
}

impl Drop for TestRspamd {
    fn drop(&mut self) {
        // The main process stops its workers on SIGTERM; SIGKILL would leave them.
        let _ = Command::new("kill").arg(self.child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
