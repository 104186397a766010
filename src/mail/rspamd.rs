//! rspamd, the optional spam engine, over its HTTP protocol: `/checkv2` on
//! its normal worker for every mail at the end of DATA (the score against
//! `rspamd.junk_score` / `reject_score` gives a `domain::verdict::SpamVerdict`),
//! and `/learnham` / `/learnspam` on its controller when an agent says
//! "Not junk" or "Junk" (a background task fed by the desk's training queue,
//! so a slow rspamd never holds up a page). Plain HTTP/1.1 on hyper's client;
//! every call has the configured time limit, and a failure only means the
//! mail goes unchecked.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;

use crate::config::{Config, http_authority};
use crate::desk::Desk;
use crate::domain::verdict::{Lesson, SpamVerdict};

/// The largest answer read from rspamd.
const MAX_ANSWER: usize = 1 << 20;

/// The symbols named in a Junk reason, at most.
const SYMBOLS_SHOWN: usize = 8;

/// One mail as rspamd is told about it.
pub struct Envelope<'a> {
    pub ip: IpAddr,
    pub helo: &'a str,
    pub mail_from: &'a str,
    pub rcpts: &'a [String],
    pub queue_id: &'a str,
}

/// What the SMTP session does with the verdict.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Accept, with this verdict on top of the message.
    Accept(SpamVerdict),
    /// Refuse: the SMTP answer.
    Reject(String),
}

/// Time limit of one lesson (at least; a longer `timeout_secs` wins).
const LEARN_TIMEOUT: Duration = Duration::from_secs(20);
/// Tries of one lesson while rspamd cannot be reached or times out.
const LEARN_ATTEMPTS: u32 = 5;

/// Why a lesson was not learned.
#[derive(Debug)]
pub enum LearnError {
    /// rspamd was down, slow or failed (worth another try).
    Unreachable(String),
    /// rspamd (or the config) said no; trying again would not help.
    Refused(String),
}

impl std::fmt::Display for LearnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LearnError::Unreachable(m) | LearnError::Refused(m) => f.write_str(m),
        }
    }
}

/// The client the SMTP sessions and the trainer share.
pub struct Rspamd {
    normal: String,
    controller: Option<String>,
    password: String,
    timeout: Duration,
    junk_score: f64,
    reject_score: f64,
    /// The desk's resolver for a host name in the URLs (never the system's
    /// name service); without one (tests) the system's.
    dns: Option<Arc<super::dns::Dns>>,
}

impl Rspamd {
    /// The client for `[rspamd]`, or None while `rspamd.url` is empty.
    pub fn new(cfg: &Config) -> Option<Rspamd> {
        let r = &cfg.rspamd;
        let normal = http_authority(&r.url).ok()?;
        Some(Rspamd {
            normal,
            controller: http_authority(&r.controller_url).ok(),
            password: r.password.clone(),
            timeout: Duration::from_secs(r.timeout_secs),
            junk_score: r.junk_score,
            reject_score: r.reject_score,
            dns: None,
        })
    }

    /// Looks host names up on the desk's resolver.
    pub fn with_resolver(mut self, dns: Arc<super::dns::Dns>) -> Rspamd {
        self.dns = Some(dns);
        self
    }

    /// Whether the agents' decisions can teach it.
    pub fn learns(&self) -> bool {
        self.controller.is_some()
    }

    /// Asks rspamd about one message. Unreachable, slow or nonsense answers
    /// accept the mail unchecked.
    pub async fn check(&self, env: &Envelope<'_>, raw: &[u8]) -> Outcome {
        let mut headers = vec![
            ("IP", env.ip.to_string()),
            ("Helo", env.helo.to_string()),
            ("From", env.mail_from.to_string()),
            ("Queue-Id", env.queue_id.to_string()),
        ];
        headers.extend(env.rcpts.iter().map(|r| ("Rcpt", r.clone())));
        let answer = match self.post(&self.normal, "/checkv2", &headers, raw.to_vec()).await {
            Ok((200, body)) => body,
            Ok((status, _)) => return unchecked(format!("rspamd answered HTTP {status}")),
            Err(e) => return unchecked(e),
        };
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(&answer) else {
            return unchecked("rspamd's answer is not JSON".into());
        };
        let Some(score) = v["score"].as_f64() else {
            return unchecked("rspamd's answer has no score".into());
        };
        self.judge(score, &symbols(&v))
    }

    /// The verdict for a score and the symbols that made it.
    fn judge(&self, score: f64, symbols: &str) -> Outcome {
        if self.reject_score > 0.0 && score >= self.reject_score {
            return Outcome::Reject(format!("550 5.7.1 Message refused as spam (rspamd score {score:.1})"));
        }
        if self.junk_score > 0.0 && score >= self.junk_score {
            let reason = format!("rspamd score {score:.1} (Junk from {:.1}): {symbols}", self.junk_score);
            return Outcome::Accept(SpamVerdict::Junk { reason });
        }
        Outcome::Accept(SpamVerdict::Ham { score })
    }

    /// Teaches rspamd one message; an "already learned" answer is success.
    /// Learning is off the mail path, so it gets a longer time limit than a
    /// check (a busy rspamd writing its statistics can take seconds).
    pub async fn learn(&self, lesson: Lesson, raw: Vec<u8>) -> Result<(), LearnError> {
        let controller = self.controller.as_deref().ok_or(LearnError::Refused("rspamd.controller_url is not set".into()))?;
        let path = match lesson {
            Lesson::Ham => "/learnham",
            Lesson::Spam => "/learnspam",
        };
        let limit = self.timeout.max(LEARN_TIMEOUT);
        let (status, body) = self
            .post_within(limit, controller, path, &[("Password", self.password.clone())], raw)
            .await
            .map_err(LearnError::Unreachable)?;
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let error = v["error"].as_str().unwrap_or_default();
        if (status == 200 && v["success"].as_bool() == Some(true)) || error.contains("already learned") {
            Ok(())
        } else if status >= 500 && error.is_empty() {
            Err(LearnError::Unreachable(format!("rspamd answered HTTP {status} to {path}")))
        } else if error.is_empty() {
            Err(LearnError::Refused(format!("rspamd answered HTTP {status} to {path}")))
        } else {
            Err(LearnError::Refused(format!("rspamd: {error}")))
        }
    }

    /// One POST within the check's time limit: the status and the (bounded) body.
    async fn post(&self, authority: &str, path: &str, headers: &[(&str, String)], body: Vec<u8>) -> Result<(u16, Vec<u8>), String> {
        self.post_within(self.timeout, authority, path, headers, body).await
    }

    async fn post_within(
        &self,
        limit: Duration,
        authority: &str,
        path: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
    ) -> Result<(u16, Vec<u8>), String> {
        let call = async {
            let stream = match (&self.dns, authority.rsplit_once(':').and_then(|(h, p)| Some((h, p.parse::<u16>().ok()?)))) {
                (Some(dns), Some((host, port))) => {
                    let addrs = dns.socket_addrs(host, port).await.map_err(|e| format!("cannot resolve rspamd's {host}: {e}"))?;
                    tokio::net::TcpStream::connect(addrs.as_slice()).await
                }
                _ => tokio::net::TcpStream::connect(authority).await,
            }
            .map_err(|e| format!("cannot reach rspamd at {authority}: {e}"))?;
            let (mut sender, conn) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| format!("rspamd: {e}"))?;
            let conn = tokio::spawn(conn);
            let mut req = hyper::Request::post(path).header(hyper::header::HOST, authority);
            for (name, value) in headers {
                // A value that is no header value (control characters) is left out.
                if let Ok(v) = hyper::header::HeaderValue::from_str(value) {
                    req = req.header(*name, v);
                }
            }
            let req = req.body(Full::new(Bytes::from(body))).map_err(|e| format!("rspamd request: {e}"))?;
            let resp = sender.send_request(req).await.map_err(|e| format!("rspamd: {e}"))?;
            let status = resp.status().as_u16();
            let bytes = Limited::new(resp.into_body(), MAX_ANSWER).collect().await.map_err(|e| format!("rspamd's answer: {e}"))?.to_bytes();
            conn.abort();
            Ok((status, bytes.to_vec()))
        };
        match tokio::time::timeout(limit, call).await {
            Ok(r) => r,
            Err(_) => Err(format!("rspamd did not answer within {} s", limit.as_secs())),
        }
    }
}

/// Starts the trainer: lessons the desk queues (`Desk::teach`, a message's
/// blob id) are read and posted to the controller one by one. An rspamd that
/// is down or too slow is tried again (`LEARN_ATTEMPTS` times, waits doubling
/// from 1 s); a lesson rspamd refuses is logged and dropped, never retried
/// for ever.
pub fn start_trainer(desk: Arc<Desk>, rspamd: Arc<Rspamd>) {
    let (tx, rx) = tokio::sync::mpsc::channel(crate::desk::junk::LESSONS_QUEUED);
    desk.set_trainer(tx);
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    let jobs = desk.jobs.clone();
    jobs.task("spam training", move || {
        let (desk, rspamd, rx) = (desk.clone(), rspamd.clone(), rx.clone());
        async move {
            let mut rx = rx.lock().await;
            loop {
                let next = tokio::select! {
                    l = rx.recv() => l,
                    _ = desk.jobs.stopped() => None,
                };
                let Some((lesson, blob)) = next else { return };
                let d = desk.clone();
                let read = tokio::task::spawn_blocking(move || d.lesson_message(&blob).map_err(|e| e.to_string())).await;
                let raw = match read.map_err(|e| e.to_string()).and_then(|r| r) {
                    Ok(Some(raw)) => raw,
                    Ok(None) => continue,
                    Err(e) => {
                        tracing::warn!("no {} lesson: {e}", lesson.as_str());
                        continue;
                    }
                };
                let mut wait = Duration::from_secs(1);
                for attempt in 1..=LEARN_ATTEMPTS {
                    match rspamd.learn(lesson, raw.clone()).await {
                        Ok(()) => tracing::info!("rspamd learned a {} message", lesson.as_str()),
                        Err(LearnError::Unreachable(e)) if attempt < LEARN_ATTEMPTS => {
                            tracing::info!(
                                "rspamd could not learn a {} message yet ({e}); trying again in {} s",
                                lesson.as_str(),
                                wait.as_secs()
                            );
                            tokio::select! {
                                _ = tokio::time::sleep(wait) => {}
                                _ = desk.jobs.stopped() => return,
                            }
                            wait *= 2;
                            continue;
                        }
                        Err(e) => tracing::warn!("rspamd could not learn a {} message: {e}", lesson.as_str()),
                    }
                    break;
                }
            }
        }
    });
}

fn unchecked(why: String) -> Outcome {
    tracing::warn!("mail accepted without a spam check: {why}");
    Outcome::Accept(SpamVerdict::Unchecked { why })
}

/// The symbols of a `/checkv2` answer, highest score first: "GTUBE (15.0), …";
/// rspamd's SMTP message (e.g. "Gtube pattern") when it gave one.
fn symbols(v: &serde_json::Value) -> String {
    let mut list: Vec<(String, f64)> = v["symbols"]
        .as_object()
        .map(|m| m.iter().map(|(name, s)| (name.clone(), s["score"].as_f64().unwrap_or(0.0))).collect())
        .unwrap_or_default();
    list.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut out: Vec<String> = list.iter().take(SYMBOLS_SHOWN).map(|(n, s)| format!("{n} ({s:.1})")).collect();
    if let Some(m) = v["messages"]["smtp_message"].as_str().filter(|m| !m.is_empty()) {
        out.push(format!("\"{m}\""));
    }
    if out.is_empty() { "no symbols".into() } else { out.join(", ") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(junk: f64, reject: f64) -> Rspamd {
        let mut cfg = Config::default();
        cfg.rspamd.url = "http://127.0.0.1:11333".into();
        cfg.rspamd.junk_score = junk;
        cfg.rspamd.reject_score = reject;
        Rspamd::new(&cfg).unwrap()
    }

    #[test]
    fn the_thresholds_decide() {
        let c = client(6.0, 15.0);
        assert_eq!(c.judge(1.0, "X"), Outcome::Accept(SpamVerdict::Ham { score: 1.0 }));
        assert!(
            matches!(c.judge(7.5, "BAYES_SPAM (5.1)"), Outcome::Accept(SpamVerdict::Junk { reason }) if reason == "rspamd score 7.5 (Junk from 6.0): BAYES_SPAM (5.1)")
        );
        assert!(matches!(c.judge(15.0, "X"), Outcome::Reject(a) if a.starts_with("550 5.7.1")));
        // 0 = never.
        assert!(matches!(client(0.0, 0.0).judge(99.0, "X"), Outcome::Accept(SpamVerdict::Ham { .. })));
        assert!(matches!(client(6.0, 0.0).judge(99.0, "X"), Outcome::Accept(SpamVerdict::Junk { .. })));
    }

    #[test]
    fn symbols_are_listed_highest_first() {
        let v: serde_json::Value = serde_json::from_str(
            r#"{"score":9,"symbols":{"A":{"score":1.0},"B":{"score":5.5},"C":{"score":-1}},"messages":{"smtp_message":"Gtube pattern"}}"#,
        )
        .unwrap();
        assert_eq!(symbols(&v), "B (5.5), A (1.0), C (-1.0), \"Gtube pattern\"");
        assert_eq!(symbols(&serde_json::json!({})), "no symbols");
    }

    #[tokio::test]
    async fn an_unreachable_rspamd_leaves_the_mail_unchecked() {
        // A port nothing listens on (bound, then closed).
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut cfg = Config::default();
        cfg.rspamd.url = format!("http://127.0.0.1:{port}");
        let c = Rspamd::new(&cfg).unwrap();
        let env = Envelope { ip: "192.0.2.1".parse().unwrap(), helo: "h", mail_from: "a@b.example", rcpts: &[], queue_id: "1" };
        assert!(matches!(c.check(&env, b"Subject: x\r\n\r\nhi").await, Outcome::Accept(SpamVerdict::Unchecked { .. })));
        assert!(matches!(c.learn(Lesson::Ham, b"x".to_vec()).await, Err(LearnError::Refused(_))), "no controller set");
    }

    /// A controller answering each connection with the next canned response.
    async fn controller(answers: Vec<(&'static str, &'static str)>) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            for (status, body) in answers {
                let a = format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\n\r\n{body}", body.len());
                let (mut s, _) = l.accept().await.unwrap();
                let mut buf = vec![0u8; 4096];
                let _ = s.read(&mut buf).await;
                let _ = s.write_all(a.as_bytes()).await;
            }
        });
        format!("http://{addr}")
    }

    #[tokio::test]
    async fn a_failing_controller_is_worth_another_try_and_a_refusal_is_not() {
        let mut cfg = Config::default();
        cfg.rspamd.url = "http://127.0.0.1:1".into();
        cfg.rspamd.controller_url =
            controller(vec![("503 Busy", ""), ("200 OK", r#"{"error":"too few tokens: 3"}"#), ("200 OK", r#"{"success":true}"#)]).await;
        let c = Rspamd::new(&cfg).unwrap();
        assert!(matches!(c.learn(Lesson::Spam, b"x".to_vec()).await, Err(LearnError::Unreachable(_))));
        assert!(matches!(c.learn(Lesson::Spam, b"x".to_vec()).await, Err(LearnError::Refused(m)) if m.contains("too few tokens")));
        assert!(c.learn(Lesson::Spam, b"x".to_vec()).await.is_ok());
    }
}
