//! `frontdesk import` (issue 16 part 5) as an admin runs it: an mbox and a
//! Maildir come in as tickets with their threads rebuilt (a reply stored
//! before the message it answers still joins it), their own dates, the
//! chosen status, and nothing mailed; a rerun skips everything; an import
//! killed with SIGKILL half-way resumes without a duplicate; a dry run counts.

use std::io::BufRead;

use crate::common::*;

/// An mbox of `threads` threads: a first message and a reply each, the
/// replies written first (as an unsorted export has them), ">From " quoted.
fn mbox(threads: usize) -> String {
    let mut replies = String::new();
    let mut firsts = String::new();
    for i in 0..threads {
        let day = 1 + i % 28;
        replies.push_str(&format!(
            "From c{i}@old.test Thu Jan  1 00:00:00 2015\nFrom: Customer {i} <c{i}@old.test>\nTo: help@example.test\n\
             Subject: Re: Old case {i:05}\nMessage-ID: <reply{i}@old.test>\nIn-Reply-To: <first{i}@old.test>\n\
             Date: Tue, {day} Dec 2015 15:00:00 +0000\n\nStill broken.\n>From the logs: nothing\n\n"
        ));
        firsts.push_str(&format!(
            "From c{i}@old.test Thu Jan  1 00:00:00 2015\nFrom: Customer {i} <c{i}@old.test>\nTo: help@example.test\n\
             Subject: Old case {i:05}\nMessage-ID: <first{i}@old.test>\nDate: Tue, {day} Dec 2015 09:00:00 +0000\n\n\
             The printer in room {i} is broken.\n\n"
        ));
    }
    replies + &firsts
}

#[tokio::test]
async fn an_mbox_and_a_maildir_come_in_threaded_dated_quiet_and_once() {
    let dir = tempdir();
    let data = dir.path().join("data");
    let config = dir.path().join("frontdesk.toml");
    std::fs::write(&config, MAIL_CONFIG).unwrap();
    let c = config.to_str().unwrap();
    add_user_with(&data, &["--config", c], ADMIN_EMAIL, "Ada Admin", "admin", ADMIN_PASSWORD);
    let token = create_token_with(&data, &["--config", c], ADMIN_EMAIL, "t");
    let file = dir.path().join("old.mbox");
    std::fs::write(&file, mbox(5)).unwrap();
    let f = file.to_str().unwrap();

    let (code, out, err) = cli(&data, &["--config", c, "import", "mbox", f, "--dry-run"], None);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("10 messages, dated 2015-12-01 09:00 to 2015-12-05 15:00") && out.contains("dry run"), "{out}");
    let (code, out, err) = cli(&data, &["--config", c, "import", "mbox", f, "--mailbox", "sales@example.test"], None);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("imported 10 messages") && out.contains("5 new tickets, 5 replies"), "{out}");
    // A rerun imports nothing twice.
    let (code, out, _) = cli(&data, &["--config", c, "import", "mbox", f], None);
    assert_eq!(code, 0);
    assert!(out.contains("0 new tickets, 0 replies") && out.contains("10 known already"), "{out}");

    // A Maildir (cur/ and new/) with a reply to one of the mbox's tickets.
    let md = dir.path().join("Maildir");
    std::fs::create_dir_all(md.join("cur")).unwrap();
    std::fs::create_dir_all(md.join("new")).unwrap();
    std::fs::write(
        md.join("cur/1.eml"),
        "From: Customer 2 <c2@old.test>\r\nTo: help@example.test\r\nSubject: Re: Old case 00002\r\nMessage-ID: <md1@old.test>\r\n\
         References: <first2@old.test> <reply2@old.test>\r\nDate: Wed, 6 Jan 2016 08:00:00 +0100\r\n\r\nFixed now, thanks.\r\n",
    )
    .unwrap();
    std::fs::write(
        md.join("new/2.eml"),
        "From: Someone New <new@old.test>\r\nTo: help@example.test\r\nSubject: A new question\r\n\r\nNo Message-ID, no date.\r\n",
    )
    .unwrap();
    let (code, out, err) = cli(&data, &["--config", c, "import", "maildir", md.to_str().unwrap(), "--status", "resolved"], None);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("1 new tickets, 1 replies"), "{out}");
    let (_, out, _) = cli(&data, &["--config", c, "import", "maildir", md.to_str().unwrap()], None);
    assert!(out.contains("2 known already"), "a message without Message-ID is imported once too: {out}");

    let server = Server::start_with(&data, &["--config", c, "--no-outgoing"]);
    let api = Api::new(&server.base, &token);
    let (st, v) = api.call("GET", "/tickets?status=all&limit=100", None).await;
    assert_eq!(st, 200, "{v}");
    let tickets = v["tickets"].as_array().unwrap();
    assert_eq!(tickets.len(), 6, "{v}");
    for t in tickets {
        let full = api.call("GET", &format!("/tickets/{}", t["ref"].as_str().unwrap()), None).await.1;
        let subject = full["subject"].as_str().unwrap();
        let bodies: Vec<&str> =
            full["entries"].as_array().unwrap().iter().filter(|e| e["kind"] == "reply").map(|e| e["body"].as_str().unwrap()).collect();
        if let Some(i) = subject.strip_prefix("Old case ") {
            let i: usize = i.parse().unwrap();
            assert_eq!(full["department"], "Sales", "{full}");
            assert!(bodies.first().is_some_and(|b| b.contains(&format!("room {i} is broken"))), "{bodies:?}");
            assert!(bodies.get(1).is_some_and(|b| b.contains("Still broken.") && b.contains("From the logs")), "{bodies:?}");
            assert!(full["created_at"].as_str().unwrap().starts_with(&format!("2015-12-{:02}T09:00:00", 1 + i % 28)), "{full}");
            let want = if i == 2 { "open" } else { "closed" };
            if i == 2 {
                assert_eq!(bodies.len(), 3, "the Maildir reply joined its thread: {bodies:?}");
                assert_eq!(full["status"], "resolved", "the later import's status: {full}");
            } else {
                assert_eq!(full["status"], want, "{full}");
            }
        } else {
            assert_eq!(subject, "A new question");
            assert_eq!(full["status"], "resolved");
        }
    }
    // Nothing was queued to mail anyone.
    let m = reqwest::get(server.url("/metrics")).await.unwrap().text().await.unwrap();
    assert_eq!(metric(&m, "frontdesk_outbox_queued"), 0, "imports mail nobody: {m}");
}

#[test]
fn an_import_killed_half_way_resumes_without_duplicates() {
    let dir = tempdir();
    let data = dir.path().join("data");
    let config = dir.path().join("frontdesk.toml");
    std::fs::write(&config, MAIL_CONFIG).unwrap();
    let c = config.to_str().unwrap();
    let file = dir.path().join("big.mbox");
    std::fs::write(&file, mbox(3000)).unwrap();
    let mut child = std::process::Command::new(BIN)
        .args(["--data-dir", data.to_str().unwrap(), "--config", c, "import", "mbox", file.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Killed once it has committed some batches and has more to go.
    let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        assert!(err.read_line(&mut line).unwrap() > 0, "the import ended before it could be killed");
        let done: u64 = line.split_whitespace().nth(2).and_then(|d| d.split('/').next()).and_then(|d| d.parse().ok()).unwrap_or(0);
        if (600..6000).contains(&done) {
            break;
        }
    }
    child.kill().unwrap();
    let _ = child.wait();
    let (code, out, err) = cli(&data, &["--config", c, "import", "mbox", file.to_str().unwrap()], None);
    assert_eq!(code, 0, "{out}\n{err}");
    let known: u64 = out.split(", ").find_map(|p| p.strip_suffix(" known already (skipped)")).and_then(|n| n.parse().ok()).unwrap_or(0);
    assert!((600..6000).contains(&known), "resumed after what was done: {out}");
    // Every thread exactly once: the new tickets of both runs are 3000.
    let (_, out, _) = cli(&data, &["--config", c, "import", "mbox", file.to_str().unwrap()], None);
    assert!(out.contains("6000 known already"), "{out}");
    let (code, out, err) = cli(&data, &["--config", c, "backup", "--to", dir.path().join("b").to_str().unwrap()], None);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("backed up 3000 tickets,"), "3000 threads, each one ticket: {out}");
}
