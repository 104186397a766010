//! Every message of the shared corpus (real and broken mail) is sent over SMTP:
//! each gets 250 or a clean 5xx, the server never panics or hangs, and each
//! accepted one becomes a ticket or a junk record with readable text.

use crate::common::smtp::{self, Smtp};
use crate::common::*;

const CONFIG: &str = r#"
[smtp]
hostname = "desk.example.test"
max_errors = 1000
max_commands = 100000

[[mailbox]]
address = "support@example.test"
"#;

#[tokio::test]
async fn the_whole_corpus_over_smtp() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/eml");
    let mut files: Vec<_> = walk(&root).into_iter().filter(|p| p.extension().is_some_and(|e| e == "eml")).collect();
    files.sort();
    assert!(files.len() >= 100, "corpus not found at {}", root.display());
    let d = MailDesk::start_with_config(CONFIG);
    let (mut c, _) = Smtp::connect(&d.smtp);
    assert_eq!(c.cmd("EHLO corpus.example.org").0, 250);
    let (mut accepted, mut refused) = (0u64, Vec::new());
    // What the desk received of each accepted message: the DATA bytes,
    // unstuffed, without the final dot.
    let mut received: Vec<Vec<u8>> = Vec::new();
    for f in &files {
        let raw = std::fs::read(f).unwrap();
        let r = c.transaction("corpus@example.org", &["support@example.test"], &raw);
        match r.0 {
            250 => {
                accepted += 1;
                let data = smtp::Smtp::data_bytes(&raw);
                let body = &data[..data.len() - 3];
                let unstuffed: Vec<u8> =
                    body.split_inclusive(|&b| b == b'\n').flat_map(|l| if l.starts_with(b"..") { &l[1..] } else { l }.to_vec()).collect();
                received.push(unstuffed);
            }
            500..=599 => refused.push(format!("{}: {}", f.display(), r.1)),
            other => panic!("{}: unexpected reply {other} {}", f.display(), r.1),
        }
    }
    c.cmd("QUIT");
    let metrics = d.settle().await;
    assert_eq!(metric(&metrics, "frontdesk_smtp_accepted_total"), accepted);
    eprintln!("corpus: {} files, {accepted} accepted, {} refused with 5xx", files.len(), refused.len());
    for r in &refused {
        eprintln!("  refused {r}");
    }
    let tickets = d.all_tickets().await;
    let mut b = Browser::logged_in(&d.server.base, ADMIN_EMAIL, "correct horse battery").await;
    let junk = b.get("/junk").await.body.matches(">Not junk</button>").count() as u64;
    assert_eq!(tickets.len() as u64 + junk, accepted, "every accepted message is a ticket or junk, exactly once");
    let mut empty = 0;
    for t in &tickets {
        let full = d.ticket(t["ref"].as_str().unwrap()).await;
        assert!(!full["subject"].as_str().unwrap().is_empty());
        let text: String = full["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "reply")
            .map(|e| e["body"].as_str().unwrap().to_string())
            .collect();
        assert!(!text.contains('\0'), "{}: NUL in text", t["ref"]);
        let atts = full["entries"].as_array().unwrap().iter().map(|e| e["attachments"].as_array().unwrap().len()).sum::<usize>();
        if text.trim().is_empty() && atts == 0 {
            empty += 1;
        }
        // The ticket page renders.
        let reference = t["ref"].as_str().unwrap();
        assert_eq!(b.get(&format!("/tickets/{reference}")).await.status, 200);
        // The original, stored compressed, comes back byte for byte: our
        // Received header, then exactly what was sent.
        let first = full["entries"].as_array().unwrap().iter().find(|e| e["kind"] == "reply").unwrap()["seq"].as_u64().unwrap();
        let res = b
            .http
            .get(b.base.clone() + &format!("/tickets/{reference}/entries/{first}/source?download=1"))
            .header("cookie", b.cookie_header())
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["content-type"], "message/rfc822");
        let original = res.bytes().await.unwrap();
        assert!(original.starts_with(b"Received: "), "{reference}");
        assert!(received.iter().any(|sent| original.ends_with(sent)), "{reference}: the original is not what was received");
    }
    eprintln!("corpus: {} tickets ({empty} without any text or attachment), {junk} junk", tickets.len());
    assert!(empty * 10 <= tickets.len(), "{empty} of {} tickets have no readable text", tickets.len());
    // Still healthy and still taking mail.
    assert_eq!(reqwest::get(d.server.url("/healthz")).await.unwrap().status(), 200);
    let r =
        Smtp::send_mail(&d.smtp, "x@example.org", &["support@example.test"], b"From: x@example.org\r\nSubject: after corpus\r\n\r\nok\r\n");
    assert_eq!(r.0, 250);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
        }
    }
    out
}
