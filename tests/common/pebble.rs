//! A real ACME CA for a test: Let's Encrypt's `pebble` (Debian package), on
//! free ports of 127.0.0.1 with its own HTTPS certificate made here, resolving
//! names through the test's DNS server and validating challenges on the
//! desk's ports. Missing pebble skips the test with a message, unless
//! FRONTDESK_PEBBLE_REQUIRED=1 (set by `.ci/run`).

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct TestPebble {
    child: Child,
    dir: tempfile::TempDir,
    /// The ACME directory URL.
    pub directory: String,
    management: SocketAddr,
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl TestPebble {
    /// A running pebble that validates HTTP-01 on `http_port` and TLS-ALPN-01
    /// on `tls_port` of the names `dns` resolves, or None where it is not installed.
    pub fn start(dns: &str, http_port: u16, tls_port: u16) -> Option<TestPebble> {
        if !Path::new("/usr/bin/pebble").exists() {
            assert!(std::env::var("FRONTDESK_PEBBLE_REQUIRED").is_err(), "pebble (Debian package) is required here");
            eprintln!("skipping: needs Debian's pebble; .ci/run installs it");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = super::tls::make_cert(&["127.0.0.1", "localhost"]);
        std::fs::write(dir.path().join("cert.pem"), &cert).unwrap();
        std::fs::write(dir.path().join("key.pem"), &key).unwrap();
        let (listen, mgmt) = (free_port(), free_port());
        let config = serde_json::json!({
            "pebble": {
                "listenAddress": format!("127.0.0.1:{listen}"),
                "managementListenAddress": format!("127.0.0.1:{mgmt}"),
                "certificate": dir.path().join("cert.pem"),
                "privateKey": dir.path().join("key.pem"),
                "httpPort": http_port,
                "tlsPort": tls_port,
                "ocspResponderURL": "",
                "externalAccountBindingRequired": false
            }
        });
        std::fs::write(dir.path().join("pebble.json"), config.to_string()).unwrap();
        let log = std::fs::File::create(dir.path().join("pebble.log")).unwrap();
        let child = Command::new("/usr/bin/pebble")
            .arg("-config")
            .arg(dir.path().join("pebble.json"))
            .arg("-dnsserver")
            .arg(dns)
            .env("PEBBLE_VA_NOSLEEP", "1")
            .env("PEBBLE_WFE_NONCEREJECT", "0")
            .env("PEBBLE_AUTHZREUSE", "0")
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        let p = TestPebble {
            child,
            directory: format!("https://127.0.0.1:{listen}/dir"),
            management: format!("127.0.0.1:{mgmt}").parse().unwrap(),
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", listen)).is_err() || TcpStream::connect(p.management).is_err() {
            assert!(Instant::now() < deadline, "pebble did not start:\n{}", p.log());
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(p)
    }

    /// The CA certificate pebble's own HTTPS shows (for `acme.ca_file`).
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("cert.pem")
    }

    /// The root pebble signs issued certificates under (made at its start).
    pub async fn root(&self) -> String {
        let x = super::tls::get(self.management, "127.0.0.1", "/roots/0", None).await.unwrap();
        assert_eq!(x.status, 200, "{}", x.head);
        x.body
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("pebble.log")).unwrap_or_default()
    }
}

impl Drop for TestPebble {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
