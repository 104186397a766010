//! Backup and restore (issue 16 part 1) as an admin runs them: `frontdesk
//! backup --to FILE` against a desk taking mail over SMTP, `backup verify`,
//! `restore` into another directory and a desk started there, compared
//! ticket by ticket (entries, attachment bytes, requesters, people) with the
//! original; damaged and truncated files refused with the part named; a
//! restore into a running desk's directory or over other data refused; the
//! scheduled backups of `[backup]` on the injected clock.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::common::smtp::Smtp;
use crate::common::*;
use crate::inprocess::InProcess;
use serde_json::Value;

/// A mail with a text part and a small binary attachment unique to `i`.
fn mail(i: usize) -> Vec<u8> {
    let blob: Vec<u8> = (0..(300 + i * 7)).map(|k| ((k * 31 + i * 17) % 256) as u8).collect();
    format!(
        "From: Customer {i} <c{i}@client{}.test>\r\nTo: support@example.test\r\nSubject: Backup case {i:04}\r\n\
         Message-ID: <case{i}@client.test>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n\
         --b{i}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPrinter {i} is on fire — Grüße.\r\n\
         --b{i}\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"log{i}.bin\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--b{i}--\r\n",
        i % 7,
        base64(&blob).as_bytes().chunks(76).map(|l| String::from_utf8_lossy(l).to_string()).collect::<Vec<_>>().join("\r\n")
    )
    .into_bytes()
}

/// A ticket as the comparison sees it: everything but times and ids, with
/// each attachment's bytes.
async fn normalized(d: &MailDesk, t: &Value) -> Value {
    let full = d.ticket(t["ref"].as_str().unwrap()).await;
    let client = reqwest::Client::new();
    let mut entries = Vec::new();
    for e in full["entries"].as_array().cloned().unwrap_or_default() {
        let mut files = Vec::new();
        for a in e["attachments"].as_array().cloned().unwrap_or_default() {
            let url = a["url"].as_str().unwrap();
            // The URL names the configured public address; ask this desk.
            let url = format!("{}{}", d.server.base, &url[url.find("/api/").expect("an API path")..]);
            let bytes = client.get(url).bearer_auth(&d.api.token).send().await.unwrap().bytes().await.unwrap();
            files.push(serde_json::json!([a["filename"], a["size"], a["content_type"], base64(&bytes)]));
        }
        entries.push(serde_json::json!([e["kind"], e["author"]["email"], e["body"], files]));
    }
    serde_json::json!({
        "subject": full["subject"], "status": full["status"], "priority": full["priority"],
        "department": full["department"], "requester": [full["requester"]["email"], full["requester"]["name"]], "entries": entries,
    })
}

async fn people(d: &MailDesk) -> Vec<(String, String)> {
    let (st, v) = d.api.call("GET", "/people?q=client&limit=500", None).await;
    assert_eq!(st, 200, "{v}");
    let mut out: Vec<(String, String)> = v["people"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| (p["email"].as_str().unwrap_or("").to_string(), p["name"].as_str().unwrap_or("").to_string()))
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_smtp_load_restores_elsewhere_with_every_ticket_intact() {
    let live = MailDesk::start();
    for i in 0..20 {
        assert_eq!(Smtp::send_mail(&live.smtp, &format!("c{i}@client.test"), &["support@example.test"], &mail(i)).0, 250);
    }
    live.wait_tickets(20).await;

    // SMTP load from another thread while the backup runs.
    let accepted = Arc::new(AtomicUsize::new(20));
    let load = {
        let (addr, accepted) = (live.smtp.clone(), accepted.clone());
        std::thread::spawn(move || {
            let (mut c, _) = Smtp::connect(&addr);
            assert_eq!(c.cmd("EHLO load.client.test").0, 250);
            for i in 20..260 {
                let r = c.transaction(&format!("c{i}@client.test"), &["support@example.test"], &mail(i));
                assert_eq!(r.0, 250, "{}", r.1);
                accepted.fetch_add(1, Ordering::SeqCst);
            }
            c.cmd("QUIT");
        })
    };
    while accepted.load(Ordering::SeqCst) < 60 {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let before = accepted.load(Ordering::SeqCst);
    let file = live.dir.path().join("desk.fdbackup");
    let conf = live.config.to_str().unwrap().to_string();
    let (code, out, err) = cli(live.dir.path(), &["--config", &conf, "backup", "--to", file.to_str().unwrap()], None);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("backed up"), "{out}");
    let during = accepted.load(Ordering::SeqCst);
    load.join().unwrap();
    assert!(during < 260, "the load was still running while the backup was taken ({during} accepted)");

    let (code, out, err) = cli(live.dir.path(), &["backup", "verify", file.to_str().unwrap()], None);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("sound"), "{out}");

    // Restore into an empty directory and start a desk there.
    let other = tempdir();
    let target = other.path().join("restored");
    let (code, out, err) = cli(&target, &["--config", &conf, "restore", "--from", file.to_str().unwrap()], None);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("restored"), "{out}");
    let restored_server = Server::start_with(&target, &["--config", &conf, "--smtp", "127.0.0.1:0", "--no-outgoing"]);
    let restored = MailDesk {
        smtp: restored_server.smtp_addr(),
        api: Api::new(&restored_server.base, &live.api.token),
        server: restored_server,
        dir: other,
        config: live.config.clone(),
    };
    restored.settle().await;
    live.settle().await;

    let live_all = live.all_tickets().await;
    let back_all = restored.all_tickets().await;
    assert_eq!(live_all.len(), 260);
    // Everything accepted before the backup began is there (from the
    // database or from the spool), nothing twice, nothing that came later
    // than the backup's end.
    let subjects: Vec<&str> = back_all.iter().map(|t| t["subject"].as_str().unwrap()).collect();
    let unique: std::collections::BTreeSet<&str> = subjects.iter().copied().collect();
    assert_eq!(unique.len(), subjects.len(), "a ticket made twice: {subjects:?}");
    assert!(back_all.len() >= before && back_all.len() <= during, "{} restored, {before} accepted before, {during} after", back_all.len());
    for i in 0..before {
        assert!(unique.contains(format!("Backup case {i:04}").as_str()), "case {i} is missing");
    }
    let by_subject: BTreeMap<&str, &Value> = live_all.iter().map(|t| (t["subject"].as_str().unwrap(), t)).collect();
    for t in &back_all {
        let original = by_subject[t["subject"].as_str().unwrap()];
        let (a, b) = (normalized(&restored, t).await, normalized(&live, original).await);
        assert_eq!(a, b, "ticket {} differs after restore", t["subject"]);
        let files: Vec<&Value> = a["entries"].as_array().unwrap().iter().flat_map(|e| e[3].as_array().unwrap()).collect();
        assert!(files.len() == 1 && files[0][3].as_str().is_some_and(|s| s.len() > 300), "the attachment came back: {a}");
    }
    let (live_people, back_people) = (people(&live).await, people(&restored).await);
    assert!(back_people.iter().all(|p| live_people.contains(p)), "{back_people:?}");
    assert!(back_people.len() >= before.min(100), "every requester: {back_people:?}");
    // The restored desk works: it takes new mail and searches the old.
    assert_eq!(Smtp::send_mail(&restored.smtp, "new@client.test", &["support@example.test"], &mail(999)).0, 250);
    restored.wait_tickets(back_all.len() + 1).await;
    let mut found = 0;
    for _ in 0..200 {
        let (_, v) = restored.api.call("GET", "/tickets?q=fire&status=all&limit=500", None).await;
        found = v["tickets"].as_array().map_or(0, |a| a.len());
        if found == back_all.len() + 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(found, back_all.len() + 1, "the rebuilt search index finds every ticket");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damaged_backups_and_unsafe_restores_are_refused() {
    let live = MailDesk::start();
    for i in 0..5 {
        assert_eq!(Smtp::send_mail(&live.smtp, &format!("c{i}@client.test"), &["support@example.test"], &mail(i)).0, 250);
    }
    live.wait_tickets(5).await;
    let file = live.dir.path().join("b.fdbackup");
    let conf = live.config.to_str().unwrap().to_string();
    let (code, out, err) = cli(live.dir.path(), &["--config", &conf, "backup", "--to", file.to_str().unwrap()], None);
    assert_eq!(code, 0, "{out}\n{err}");
    let good = std::fs::read(&file).unwrap();

    // A restore into the directory of the running desk is refused, even with --force.
    let (code, _, err) = cli(live.dir.path(), &["restore", "--force", "--from", file.to_str().unwrap()], None);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("is running"), "{err}");
    // So is one over other data without --force; the data stays.
    let busy = tempdir();
    std::fs::write(busy.path().join("notes.txt"), "mine").unwrap();
    let (code, _, err) = cli(busy.path(), &["restore", "--from", file.to_str().unwrap()], None);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("not empty") && err.contains("notes.txt") && err.contains("--force"), "{err}");
    assert_eq!(std::fs::read_to_string(busy.path().join("notes.txt")).unwrap(), "mine");

    // One flipped byte in the middle of the database file's data.
    let mut damaged = good.clone();
    let at = good.len() / 3;
    damaged[at] ^= 0x55;
    let bad = live.dir.path().join("damaged.fdbackup");
    std::fs::write(&bad, &damaged).unwrap();
    let (code, _, err) = cli(live.dir.path(), &["backup", "verify", bad.to_str().unwrap()], None);
    assert_eq!(code, 1, "{err}");
    // Where the flipped byte landed decides the part named: a chunk's data or
    // lengths, a record's tag, the manifest.
    assert!(err.contains("damaged") && ["chunk", "manifest", "after ", "end mark"].iter().any(|p| err.contains(p)), "{err}");
    let target = tempdir();
    let (code, _, err) = cli(target.path(), &["restore", "--from", bad.to_str().unwrap()], None);
    assert_eq!(code, 1, "{err}");
    assert!(std::fs::read_dir(target.path()).unwrap().next().is_none(), "a refused restore leaves nothing behind");

    // Cut short: the part where it ends is named.
    let cut = live.dir.path().join("cut.fdbackup");
    std::fs::write(&cut, &good[..good.len() * 2 / 3]).unwrap();
    let (code, _, err) = cli(live.dir.path(), &["backup", "verify", cut.to_str().unwrap()], None);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("truncated"), "{err}");
    let (code, _, err) = cli(target.path(), &["restore", "--from", cut.to_str().unwrap()], None);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("truncated"), "{err}");

    // --force replaces a stopped desk's data with the backup's.
    let (code, out, err) = cli(busy.path(), &["--config", &conf, "restore", "--force", "--from", file.to_str().unwrap()], None);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("restored 5 tickets"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_backups_run_on_time_keep_the_newest_and_show_in_health() {
    let dir = tempdir();
    let backups = dir.path().join("backups");
    let d = InProcess::start_with(&format!("[backup]\ndir = \"{}\"\nevery_hours = 6\nkeep = 2\n", backups.display())).await;
    let desk = &d.running.desk;
    // The desk's scheduled-backup job takes the first one at start (and
    // looks again a minute later: this test is done by then).
    let mut first = None;
    for _ in 0..1200 {
        let status = desk.backup_status();
        assert!(status.last_error.is_none(), "{:?}", status.last_error);
        first = status.last_file;
        if first.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let first = std::path::PathBuf::from(first.expect("the first scheduled backup at start"));
    assert!(desk.run_scheduled_backup().is_none(), "not due again yet");
    d.clock.advance_ms(5 * 3_600_000);
    assert!(desk.run_scheduled_backup().is_none(), "5 h < 6 h");
    d.clock.advance_ms(3_600_000);
    // The desk's own job looks every minute too: when it took the due
    // backup first, this call waits for it and finds none due.
    let take = |before: &std::path::Path| match desk.run_scheduled_backup() {
        Some(r) => r.expect("written"),
        None => std::path::PathBuf::from(desk.backup_status().last_file.filter(|f| f.as_str() != before.to_str().unwrap()).expect("due")),
    };
    let second = take(&first);
    d.clock.advance_ms(6 * 3_600_000);
    let third = take(&second);
    let mut names: Vec<String> =
        std::fs::read_dir(&backups).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().to_string()).collect();
    names.sort();
    let name = |p: &std::path::Path| p.file_name().unwrap().to_string_lossy().to_string();
    assert_eq!(names, vec![name(&second), name(&third)], "keep = 2 deletes {}", name(&first));
    assert!(frontdesk::backup::verify(&third).is_ok());

    let health: Value = reqwest::get(format!("{}/healthz", d.base)).await.unwrap().json().await.unwrap();
    assert_eq!(health["backup"]["last_file"], third.display().to_string(), "{health}");
    assert!(health["backup"]["last_error"].is_null(), "{health}");
    assert!(health["backup"]["last_bytes"].as_u64().unwrap() > 0, "{health}");

    // Two backups to one file at once: the second is refused before it
    // touches the first one's partial file, which lands whole.
    let same = dir.path().join("same.fdbackup");
    let results: Vec<Result<(), String>> = tokio::task::block_in_place(|| {
        std::thread::scope(|s| {
            let runs: Vec<_> =
                (0..2).map(|_| s.spawn(|| desk.backup_to_file(&same, &mut |_, _| {}).map(|_| ()).map_err(|e| e.to_string()))).collect();
            runs.into_iter().map(|h| h.join().unwrap()).collect()
        })
    });
    assert!(results.iter().any(|r| r.is_ok()), "{results:?}");
    assert!(results.iter().all(|r| r.as_ref().err().is_none_or(|e| e.contains("another backup is running"))), "{results:?}");
    assert!(frontdesk::backup::verify(&same).is_ok());

    // The admins' Backups page lists them; "Back up now" adds one; agents
    // do not see the page.
    let mut admin = Browser::logged_in(&d.base, "ada@example.test", crate::inprocess::PASSWORD).await;
    let p = admin.get("/admin/backups").await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains(&name(&second)) && p.body.contains(&name(&third)) && !p.body.contains(&name(&first)), "{}", p.body);
    assert!(p.body.contains("Every 6 hours") && p.body.contains("Last good backup"), "{}", p.body);
    d.clock.advance_ms(60_000);
    let r = admin.post("/admin/backups/now", &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(std::fs::read_dir(&backups).unwrap().count(), 2, "keep = 2 holds for backups by hand too");
    assert!(!backups.join(name(&second)).exists(), "the oldest made room");
    d.add("bob@example.test", "Bob", frontdesk::domain::Role::Agent);
    let mut agent = Browser::logged_in(&d.base, "bob@example.test", crate::inprocess::PASSWORD).await;
    assert_eq!(agent.get("/admin/backups").await.status, 404);
    assert_eq!(agent.post("/admin/backups/now", &[]).await.status, 404);

    // A directory it cannot write: the failure is reported, not hidden.
    std::fs::remove_dir_all(&backups).unwrap();
    std::fs::write(&backups, "a file where the directory was").unwrap();
    d.clock.advance_ms(6 * 3_600_000);
    assert!(desk.run_scheduled_backup().expect("due").is_err());
    let health: Value = reqwest::get(format!("{}/healthz", d.base)).await.unwrap().json().await.unwrap();
    assert!(health["backup"]["last_error"].as_str().is_some_and(|e| e.contains("cannot write")), "{health}");
}
