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

pub const PASSWORD: &str = "test-controller-secret";

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
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        let (normal, controller) = (free_port(), free_port());
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
worker "controller" {{ bind_socket = "127.0.0.1:{controller}"; count = 1; password = "{PASSWORD}"; enable_password = "{PASSWORD}"; }}
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
        let r = TestRspamd { child, _dir: dir, normal: format!("127.0.0.1:{normal}"), controller: format!("127.0.0.1:{controller}") };
        // rspamd takes a few seconds to load (more with the suite running).
        let deadline = Instant::now() + Duration::from_secs(90);
        while Instant::now() < deadline {
            if TcpStream::connect(&r.normal).is_ok() && TcpStream::connect(&r.controller).is_ok() {
                return Some(r);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("rspamd did not start within 90 s");
    }

    /// The `[rspamd]` config section for a desk using this rspamd.
    pub fn config(&self, extra: &str) -> String {
        format!(
            "[rspamd]\nurl = \"http://{}\"\ncontroller_url = \"http://{}\"\npassword = \"{PASSWORD}\"\n{extra}",
            self.normal, self.controller
        )
    }

    /// How many messages the statfile `symbol` (BAYES_HAM, BAYES_SPAM) has
    /// learned, from the controller's /stat.
    pub async fn learned(&self, symbol: &str) -> u64 {
        let stat: serde_json::Value = reqwest::Client::new()
            .get(format!("http://{}/stat", self.controller))
            .header("Password", PASSWORD)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        stat["statfiles"].as_array().into_iter().flatten().find(|s| s["symbol"] == symbol).and_then(|s| s["revision"].as_u64()).unwrap_or(0)
    }

    /// Waits (up to a minute) until `symbol` has learned at least `n`.
    pub async fn wait_learned(&self, symbol: &str, n: u64) -> u64 {
        let mut got = 0;
        for _ in 0..300 {
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
