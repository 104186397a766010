//! Test harness: runs the real `frontdesk` binary on a temp data dir and an
//! ephemeral port, and talks to it over HTTP like a browser or API client would.
#![allow(dead_code)]

pub mod capture;
pub mod dns;
pub mod dovecot;
pub mod inproc;
pub mod oidc;
pub mod pebble;
pub mod rspamd;
pub mod smtp;
pub mod tls;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_frontdesk");
pub const ADMIN_EMAIL: &str = "admin@example.test";
pub const ADMIN_PASSWORD: &str = "correct horse battery";

/// Runs a CLI command against a data dir; returns (exit code, stdout, stderr).
pub fn cli(dir: &Path, args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    let mut cmd = Command::new(BIN);
    cmd.arg("--data-dir").arg(dir).args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    if args.contains(&"check-config") {
        // Its DKIM check would ask the system's DNS about the test domains.
        cmd.env("FRONTDESK_MAIL_AUTH__SIGN", "false");
    }
    let mut child = cmd.spawn().expect("spawn frontdesk");
    if let Some(s) = stdin {
        // The process may exit before reading (bad arguments); that is its answer.
        let _ = child.stdin.take().expect("stdin").write_all(s.as_bytes());
    } else {
        drop(child.stdin.take());
    }
    let out = child.wait_with_output().expect("wait");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Adds an agent or admin to a data dir whose desk is not running (what
/// `frontdesk user add` does, without a process).
pub fn add_user(dir: &Path, email: &str, name: &str, role: &str, password: &str) {
    add_user_with(dir, &[], email, name, role, password);
}

/// Like `add_user`, with the command line's `--config`.
pub fn add_user_with(dir: &Path, extra: &[&str], email: &str, name: &str, role: &str, password: &str) {
    let desk = open(dir, extra);
    let role = frontdesk::domain::Role::parse(role).expect("role");
    let agent = frontdesk::desk::auth::NewAgent {
        email: email.into(),
        name: name.into(),
        role,
        password: password.into(),
        departments: Vec::new(),
    };
    desk.add_agent(None, agent).expect("user add");
}

/// Creates an API token for an agent (what `frontdesk token create` does).
pub fn create_token(dir: &Path, email: &str) -> String {
    create_token_with(dir, &[], email, "tests")
}

pub fn create_token_with(dir: &Path, extra: &[&str], email: &str, name: &str) -> String {
    open(dir, extra).create_api_token(None, email, frontdesk::desk::tokens::TokenSpec::standard(name)).expect("token create")
}

/// The desk of a data dir, opened without serving it.
fn open(dir: &Path, extra: &[&str]) -> std::sync::Arc<frontdesk::desk::Desk> {
    let cfg = std::sync::Arc::new(inproc::config(dir, extra));
    frontdesk::app::open_desk(cfg, std::sync::Arc::new(frontdesk::clock::SystemClock)).expect("open the data dir")
}

/// A running desk: inside this test process on its own runtime (the
/// default), or a real `frontdesk serve` process (`spawn*`, for tests that
/// need a process: signals, kills, limits, fault injection, its output).
pub struct Server {
    child: Option<Child>,
    inproc: Option<inproc::Desk>,
    pub base: String,
    pub dir: PathBuf,
    pub stdout_first: String,
    /// Everything the server has printed on stdout so far (in-process: its
    /// addresses and the setup link).
    pub stdout: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Server {
    pub fn start(dir: &Path) -> Server {
        Self::start_with(dir, &[])
    }

    /// An in-process desk; `extra` takes the command line's `--config`,
    /// `--smtp`, `--http` and `--no-outgoing`.
    pub fn start_with(dir: &Path, extra: &[&str]) -> Server {
        let desk = inproc::Desk::start(dir, extra);
        let first = format!("frontdesk: web UI and API on http://{} (data in {})", desk.http, dir.display());
        let mut all = format!("{first}\n");
        if let Some(smtp) = desk.smtp {
            all.push_str(&format!("frontdesk: mail (SMTP) on smtp://{smtp}\n"));
        }
        if let Some(token) = &desk.setup_token {
            all.push_str(&format!("frontdesk: first run: http://{}/setup?token={token}\n", desk.http));
        }
        Server {
            child: None,
            base: format!("http://{}", desk.http),
            inproc: Some(desk),
            dir: dir.to_path_buf(),
            stdout_first: first,
            stdout: std::sync::Arc::new(std::sync::Mutex::new(all)),
        }
    }

    /// Like `start_with`, with extra environment variables for the server:
    /// these need a process of its own.
    pub fn start_env(dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Server {
        if env.is_empty() { Self::start_with(dir, extra) } else { Self::spawn_env(dir, extra, env) }
    }

    /// A real `frontdesk serve` process.
    pub fn spawn(dir: &Path) -> Server {
        Self::spawn_env(dir, &[], &[])
    }

    pub fn spawn_with(dir: &Path, extra: &[&str]) -> Server {
        Self::spawn_env(dir, extra, &[])
    }

    pub fn spawn_env(dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Server {
        // As in-process: without a `[dns]` section (a test resolver) no
        // sender is verified, so nothing asks DNS past loopback.
        let config_text = extra
            .iter()
            .position(|a| *a == "--config")
            .and_then(|i| extra.get(i + 1))
            .and_then(|f| std::fs::read_to_string(f).ok())
            .unwrap_or_default();
        let offline: &[(&str, &str)] = if config_text.contains("[dns]") { &[] } else { &[("FRONTDESK_MAIL_AUTH__VERIFY", "false")] };
        let mut child = Command::new(BIN)
            .arg("--data-dir")
            .arg(dir)
            .args(["--http", "127.0.0.1:0"])
            .args(if extra.contains(&"--smtp") { &[][..] } else { &["--smtp", "127.0.0.1:0"][..] })
            .args(extra)
            .arg("serve")
            .env("FRONTDESK_LOG", "warn")
            .envs(offline.iter().copied())
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn serve");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        let all = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let sink = all.clone();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let mut sent = false;
            while let Some(Ok(line)) = lines.next() {
                if let Ok(mut a) = sink.lock() {
                    a.push_str(&line);
                    a.push('\n');
                }
                if !sent && line.contains("http://") {
                    let _ = tx.send(line.clone());
                    sent = true;
                }
            }
        });
        let line = rx.recv_timeout(Duration::from_secs(20)).expect("server did not start");
        let addr = line.split("http://").nth(1).and_then(|s| s.split_whitespace().next()).expect("address").to_string();
        Server { child: Some(child), inproc: None, base: format!("http://{addr}"), dir: dir.to_path_buf(), stdout_first: line, stdout: all }
    }

    fn process(&mut self) -> &mut Child {
        self.child.as_mut().expect("this test needs a process of its own: start the desk with Server::spawn*")
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).expect("this test needs a process of its own: start the desk with Server::spawn*")
    }

    /// SIGTERM, then waits (at most `limit`) for the process to exit; returns
    /// its exit code and how long it took, or None if it did not exit.
    pub fn terminate(&mut self, limit: Duration) -> Option<(i32, Duration)> {
        self.process();
        let mut c = self.child.take()?;
        let started = std::time::Instant::now();
        let _ = Command::new("kill").arg("-TERM").arg(c.id().to_string()).status();
        while started.elapsed() < limit {
            if let Ok(Some(status)) = c.try_wait() {
                return Some((status.code().unwrap_or(-1), started.elapsed()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = c.kill();
        let _ = c.wait();
        None
    }

    /// Waits (at most `limit`) for the process to exit by itself; its exit
    /// code (-1 for a signal), or None if it is still running.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<i32> {
        self.process();
        let started = std::time::Instant::now();
        while started.elapsed() < limit {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
                self.child = None;
                return Some(status.code().unwrap_or(-1));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// SIGKILL: no chance to clean up, like a power cut for the process.
    pub fn kill_hard(&mut self) {
        self.process();
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Graceful stop (SIGTERM, or the in-process desk's own stop), waiting
    /// until the data dir is closed.
    pub fn stop(&mut self) {
        if let Some(desk) = self.inproc.take() {
            desk.stop();
        }
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill").arg("-TERM").arg(c.id().to_string()).status();
            for _ in 0..100 {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Waits until stdout contains `needle`; returns all of stdout.
    pub fn wait_stdout(&self, needle: &str) -> String {
        for _ in 0..100 {
            let text = self.stdout.lock().map(|s| s.clone()).unwrap_or_default();
            if text.contains(needle) {
                return text;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("server never printed {needle:?}");
    }

    /// The SMTP listener's address (start the server with `--smtp 127.0.0.1:0`).
    pub fn smtp_addr(&self) -> String {
        let out = self.wait_stdout("smtp://");
        out.split("smtp://").nth(1).and_then(|s| s.split_whitespace().next()).expect("smtp address").to_string()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(desk) = self.inproc.take() {
            desk.stop();
        }
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("fdtest").tempdir().expect("tempdir")
}

/// A fresh data dir with an admin, and the server running on it.
pub fn desk_with_admin() -> (tempfile::TempDir, Server) {
    let dir = tempdir();
    add_user(dir.path(), ADMIN_EMAIL, "Ada Admin", "admin", ADMIN_PASSWORD);
    let s = Server::start(dir.path());
    (dir, s)
}

pub struct Response {
    pub status: u16,
    pub body: String,
    pub location: Option<String>,
    pub headers: reqwest::header::HeaderMap,
}

/// A browser-like client: keeps cookies by hand, does not follow redirects,
/// adds the CSRF token to forms.
pub struct Browser {
    pub http: reqwest::Client,
    pub base: String,
    pub cookies: Vec<(String, String)>,
    pub csrf: String,
}

fn csrf_in(html: &str) -> Option<String> {
    let i = html.find("name=\"_csrf\" value=\"")?;
    let rest = &html[i + 20..];
    Some(rest[..rest.find('"')?].to_string())
}

impl Browser {
    pub fn new(base: &str) -> Browser {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        Browser { http, base: base.to_string(), cookies: Vec::new(), csrf: String::new() }
    }

    /// A browser that asks for pages in `accept_language` (the header).
    pub fn with_language(base: &str, accept_language: &str) -> Browser {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::ACCEPT_LANGUAGE, accept_language.parse().expect("header value"));
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).default_headers(headers).build().expect("client");
        Browser { http, base: base.to_string(), cookies: Vec::new(), csrf: String::new() }
    }

    /// A browser whose connections come from `ip` (any 127.x address works
    /// on Linux loopback): another client address for the server.
    pub fn from_ip(base: &str, ip: &str) -> Browser {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .local_address(ip.parse::<std::net::IpAddr>().expect("ip"))
            .build()
            .expect("client");
        Browser { http, base: base.to_string(), cookies: Vec::new(), csrf: String::new() }
    }

    pub fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    fn absorb(&mut self, res: &reqwest::Response) {
        for v in res.headers().get_all(reqwest::header::SET_COOKIE) {
            let s = v.to_str().unwrap_or("");
            let first = s.split(';').next().unwrap_or("");
            if let Some((k, val)) = first.split_once('=') {
                self.cookies.retain(|(n, _)| n != k);
                if !val.is_empty() && !s.contains("Max-Age=0") {
                    self.cookies.push((k.to_string(), val.to_string()));
                }
            }
        }
    }

    async fn finish(&mut self, res: reqwest::Response) -> Response {
        self.absorb(&res);
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let location = headers.get("location").and_then(|v| v.to_str().ok()).map(str::to_string);
        let body = res.text().await.unwrap_or_default();
        if let Some(c) = csrf_in(&body) {
            self.csrf = c;
        }
        Response { status, body, location, headers }
    }

    /// POSTs a multipart form (`multipart`) to `path`, the CSRF token in the
    /// address as the pages' upload forms carry it.
    pub async fn post_multipart(&mut self, path: &str, fields: &[(&str, &str)], files: &[(&str, &[u8])]) -> Response {
        let (ctype, body) = multipart(fields, files);
        let sep = if path.contains('?') { '&' } else { '?' };
        let url = format!("{}{path}{sep}_csrf={}", self.base, self.csrf);
        let res =
            self.http.post(url).header("cookie", self.cookie_header()).header("content-type", ctype).body(body).send().await.expect("POST");
        self.finish(res).await
    }

    pub async fn get(&mut self, path: &str) -> Response {
        let res = self.http.get(format!("{}{}", self.base, path)).header("cookie", self.cookie_header()).send().await.expect("GET");
        self.finish(res).await
    }

    /// GETs `path` until its body passes `done` (at most ~10 s); the last answer.
    pub async fn get_until(&mut self, path: &str, done: impl Fn(&str) -> bool) -> Response {
        let mut page = self.get(path).await;
        for _ in 0..400 {
            if done(&page.body) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
            page = self.get(path).await;
        }
        page
    }

    /// Posts a form with the page's CSRF token added.
    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Response {
        let mut fields: Vec<(String, String)> = form.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        if !form.iter().any(|(k, _)| *k == "_csrf") {
            fields.push(("_csrf".into(), self.csrf.clone()));
        }
        self.post_raw(path, &fields).await
    }

    pub async fn post_raw(&mut self, path: &str, fields: &[(String, String)]) -> Response {
        let body = serde_urlencoded_encode(fields);
        let res = self
            .http
            .post(format!("{}{}", self.base, path))
            .header("cookie", self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("POST");
        self.finish(res).await
    }

    pub async fn login(&mut self, email: &str, password: &str) -> Response {
        let page = self.get("/login").await;
        assert_eq!(page.status, 200);
        self.post("/login", &[("email", email), ("password", password), ("next", "/tickets")]).await
    }

    pub async fn logged_in(base: &str, email: &str, password: &str) -> Browser {
        let mut b = Browser::new(base);
        let r = b.login(email, password).await;
        assert_eq!(r.status, 303, "login failed: {}", r.body);
        let q = b.get("/tickets").await;
        assert_eq!(q.status, 200);
        b
    }
}

pub fn serde_urlencoded_encode(fields: &[(String, String)]) -> String {
    fields.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&")
}

fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// An API client with a bearer token.
pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
}

impl Api {
    pub fn new(base: &str, token: &str) -> Api {
        Api { http: reqwest::Client::new(), base: base.to_string(), token: token.to_string() }
    }

    pub async fn call(&self, method: &str, path: &str, body: Option<serde_json::Value>) -> (u16, serde_json::Value) {
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.http.request(m, format!("{}/api/v1{}", self.base, path)).bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("api call");
        let status = res.status().as_u16();
        let text = res.text().await.unwrap_or_default();
        let v = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
        (status, v)
    }
}

/// A desk with mailboxes, an admin and an agent, SMTP on an ephemeral port.
pub struct MailDesk {
    /// Declared before `dir`: fields drop in order, so the server is stopped
    /// before its data directory is removed.
    pub server: Server,
    pub dir: tempfile::TempDir,
    pub smtp: String,
    pub api: Api,
    pub config: PathBuf,
}

pub const MAIL_CONFIG: &str = r#"
[desk]
departments = ["Support", "Sales"]

[smtp]
hostname = "desk.example.test"
max_message_size = 200000
max_line_length = 2000
max_recipients = 5
max_errors = 12
max_connections_per_ip = 40
banned_senders = ["spammer@bad.test", "worse.test"]

[[mailbox]]
address = "support@example.test"
department = "Support"

[[mailbox]]
address = "sales@example.test"
department = "Sales"
"#;

impl MailDesk {
    pub fn start() -> MailDesk {
        Self::start_with_config(MAIL_CONFIG)
    }

    pub fn start_with_config(config_text: &str) -> MailDesk {
        Self::start_on(config_text, "127.0.0.1:0")
    }

    /// Like `start_with_config`, with the SMTP listener on a chosen address.
    pub fn start_on(config_text: &str, smtp_addr: &str) -> MailDesk {
        Self::start_env(config_text, smtp_addr, &[])
    }

    /// Like `start_on`, with extra environment variables for the server (a
    /// process of its own when there are any).
    pub fn start_env(config_text: &str, smtp_addr: &str, env: &[(&str, &str)]) -> MailDesk {
        Self::launch(config_text, smtp_addr, env, !env.is_empty())
    }

    /// A desk in a `frontdesk serve` process of its own (for signals, kills
    /// and resource limits).
    pub fn spawn() -> MailDesk {
        Self::launch(MAIL_CONFIG, "127.0.0.1:0", &[], true)
    }

    /// A `frontdesk serve` process with this config.
    pub fn spawn_with_config(config_text: &str) -> MailDesk {
        Self::launch(config_text, "127.0.0.1:0", &[], true)
    }

    fn launch(config_text: &str, smtp_addr: &str, env: &[(&str, &str)], process: bool) -> MailDesk {
        let dir = tempdir();
        let config = dir.path().join("frontdesk.toml");
        std::fs::write(&config, config_text).unwrap();
        let c = config.to_str().unwrap().to_string();
        let with = ["--config", c.as_str()];
        add_user_with(dir.path(), &with, ADMIN_EMAIL, "Ada Admin", "admin", ADMIN_PASSWORD);
        add_user_with(dir.path(), &with, "agent@example.test", "Bob Agent", "agent", "bob's long password");
        let token = create_token_with(dir.path(), &with, ADMIN_EMAIL, "t");
        // Tests that do not set up a smarthost send nothing (no DNS, no network).
        let mut args = vec!["--config", c.as_str(), "--smtp", smtp_addr];
        if !config_text.contains("[outgoing]") {
            args.push("--no-outgoing");
        }
        let server = if process { Server::spawn_env(dir.path(), &args, env) } else { Server::start_with(dir.path(), &args) };
        let smtp = server.smtp_addr();
        let api = Api::new(&server.base, &token);
        MailDesk { dir, server, smtp, api, config }
    }

    /// Restarts the server on the same data dir (after a stop or a kill).
    pub fn restart(&mut self) {
        let c = self.config.to_str().unwrap().to_string();
        let text = std::fs::read_to_string(&self.config).unwrap_or_default();
        let mut args = vec!["--config", c.as_str(), "--smtp", "127.0.0.1:0"];
        if !text.contains("[outgoing]") {
            args.push("--no-outgoing");
        }
        self.server = Server::start_with(self.dir.path(), &args);
        self.smtp = self.server.smtp_addr();
        self.api = Api::new(&self.server.base, &self.api.token);
    }

    /// Waits until the API lists `n` tickets (all statuses); returns them.
    /// A 503 (storage recovering, "nothing was changed") is waited out too.
    pub async fn wait_tickets(&self, n: usize) -> Vec<serde_json::Value> {
        for _ in 0..200 {
            if let Some(all) = self.listed_tickets().await
                && all.len() >= n
            {
                return all;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("expected {n} tickets, have {}", self.all_tickets().await.len());
    }

    pub async fn all_tickets(&self) -> Vec<serde_json::Value> {
        match self.listed_tickets().await {
            Some(all) => all,
            None => panic!("the API answered 503 (storage unavailable)"),
        }
    }

    /// Every ticket through the API; None while it answers 503.
    async fn listed_tickets(&self) -> Option<Vec<serde_json::Value>> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/tickets?status=all&limit=500&sort=created_asc&cursor={c}"),
                None => "/tickets?status=all&limit=500&sort=created_asc".to_string(),
            };
            let (st, page) = self.api.call("GET", &path, None).await;
            if st == 503 {
                return None;
            }
            assert_eq!(st, 200, "{page}");
            out.extend(page["tickets"].as_array().cloned().unwrap_or_default());
            match page["next"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => return Some(out),
            }
        }
    }

    pub async fn ticket(&self, reference: &str) -> serde_json::Value {
        let (st, t) = self.api.call("GET", &format!("/tickets/{reference}"), None).await;
        assert_eq!(st, 200, "{t}");
        t
    }

    /// Waits until the spool is empty and the outbox has tried every mail due
    /// now (delivered, failed, or waiting for a later retry); returns /metrics.
    pub async fn outbox_idle(&self) -> String {
        for _ in 0..400 {
            let m = self.settle().await;
            if metric(&m, "frontdesk_outbox_due") == 0 {
                return m;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the outbox never went idle");
    }

    /// Waits until the spool is empty and returns /metrics text.
    pub async fn settle(&self) -> String {
        for _ in 0..400 {
            let m = reqwest::get(self.server.url("/metrics")).await.unwrap().text().await.unwrap();
            let accepted = metric(&m, "frontdesk_smtp_accepted_total");
            if metric(&m, "frontdesk_spool_depth") == 0 && metric(&m, "frontdesk_mail_processed_total") >= accepted {
                return m;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("spool never drained");
    }
}

/// Every entry text of a ticket's API JSON, one per line (the log read as a whole).
pub fn thread_text(t: &serde_json::Value) -> String {
    t["entries"].as_array().map(|a| a.iter().map(|e| e["body"].as_str().unwrap_or("")).collect::<Vec<_>>().join("\n")).unwrap_or_default()
}

pub fn metric(text: &str, name: &str) -> u64 {
    text.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Standard base64 (for building MIME test messages by hand).
pub fn base64(d: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in d.chunks(3) {
        let n = (c[0] as u32) << 16 | (*c.get(1).unwrap_or(&0) as u32) << 8 | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() { s.push(T[(n >> (18 - 6 * i) & 63) as usize] as char) } else { s.push('=') }
        }
    }
    s
}

/// Decodes standard base64 (ignores anything else).
pub fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let digits: Vec<u8> = s.bytes().filter_map(val).collect();
    let mut out = Vec::new();
    for c in digits.chunks(4) {
        let n = c.iter().enumerate().fold(0u32, |acc, (i, d)| acc | (*d as u32) << (18 - 6 * i));
        out.push((n >> 16) as u8);
        if c.len() > 2 {
            out.push((n >> 8) as u8);
        }
        if c.len() > 3 {
            out.push(n as u8);
        }
    }
    out
}

/// The ids of the junk items a Junk page lists, in order.
pub fn junk_ids(body: &str) -> Vec<String> {
    body.split("href=\"/junk/")
        .skip(1)
        .filter_map(|s| s.split_once("/source\"").map(|(id, _)| id))
        .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
        .map(str::to_string)
        .collect()
}

/// The one-time password link a page shows (a desk that cannot mail gives
/// it to the admin to pass on), as a path.
pub fn password_link_in(html: &str) -> Option<String> {
    let rest = html.split("/password/").nth(1)?;
    let token: String = rest.chars().take_while(|c| c.is_ascii_hexdigit()).collect();
    (token.len() == 64).then(|| format!("/password/{token}"))
}

/// Sets a password through a one-time link, as the agent's browser would.
pub async fn set_password_via(base: &str, link: &str, password: &str) -> Response {
    let mut b = Browser::new(base);
    let page = b.get(link).await;
    if page.status != 200 {
        return page;
    }
    b.post(link, &[("password", password), ("again", password)]).await
}

/// Invites an agent on the admin's Agents page (`fields`: name, email, role,
/// departments) and sets their password through the link the page shows.
pub async fn invite_agent(admin: &mut Browser, fields: &[(&str, &str)], password: &str) {
    admin.get("/admin/agents").await;
    let r = admin.post("/admin/agents", fields).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let link = password_link_in(&r.body).expect("the invitation link on the page");
    let r = set_password_via(&admin.base, &link, password).await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some("/login?done=password")), "{}", r.body);
}

/// A multipart/form-data body of `fields` and `files` (field "files"; a
/// `.png` is sent as a picture, anything else as text): its content type and bytes.
pub fn multipart(fields: &[(&str, &str)], files: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----fdtestboundary7MA4YWxk";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes());
    }
    for (name, data) in files {
        let ctype = if name.ends_with(".png") { "image/png" } else { "text/plain" };
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\nContent-Type: {ctype}\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// An API client whose token (made on the admin's token page) has `scopes`.
pub async fn scoped_api(admin: &mut Browser, scopes: &[&str]) -> Api {
    let mut fields = vec![("name".to_string(), "scoped".to_string()), ("_csrf".to_string(), admin.csrf.clone())];
    fields.extend(scopes.iter().map(|s| ("scope".to_string(), s.to_string())));
    let made = admin.post_raw("/settings/tokens", &fields).await;
    let token = made.body.split("<code>").nth(1).and_then(|r| r.split("</code>").next()).expect("the new token").to_string();
    Api::new(&admin.base, &token)
}
