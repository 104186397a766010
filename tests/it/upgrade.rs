//! Upgrades keep data: a data dir written by a real older release (the
//! `frontdesk` binary of that commit, `tests/fixtures/make-fixture.py`) is
//! opened by this one — migrated, its records and blobs converted to the
//! compressed form, references counted — and every ticket, entry,
//! attachment and original message reads exactly as the old release
//! served it.

use crate::common::*;

const FIXTURE_CONFIG: &str = "[smtp]\nhostname = \"desk.example.test\"\n\n[[mailbox]]\naddress = \"support@example.test\"\n";

/// Unpacks a fixture into a fresh dir; returns it and the config path.
fn unpack(name: &str) -> (tempfile::TempDir, String) {
    let dir = tempdir();
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let status = std::process::Command::new("tar").arg("xzf").arg(fixture.join("data.tar.gz")).arg("-C").arg(&data).status().unwrap();
    assert!(status.success(), "tar");
    let config = dir.path().join("frontdesk.toml");
    std::fs::write(&config, FIXTURE_CONFIG).unwrap();
    (dir, config.to_str().unwrap().to_string())
}

#[tokio::test]
async fn a_schema_5_data_dir_from_the_real_older_release_reads_the_same() {
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/schema5/expected.json")).unwrap(),
    )
    .unwrap();
    let (dir, config) = unpack("schema5");
    let data = dir.path().join("data");
    let with = ["--config", config.as_str()];
    // Opening it migrates it (here through what `token create` does).
    let token = create_token_with(&data, &with, ADMIN_EMAIL, "upgrade");
    // The fixture's queued mail stays queued: nothing may leave loopback.
    let mut server = Server::start_with(&data, &["--config", config.as_str(), "--no-outgoing"]);
    let api = Api::new(&server.base, &token);
    let mut b = Browser::logged_in(&server.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let sent: Vec<&str> = expected["mails"].as_array().unwrap().iter().map(|m| m.as_str().unwrap()).collect();
    let (mut attachments, mut originals) = (0, 0);
    for old in expected["tickets"].as_array().unwrap() {
        let reference = old["ref"].as_str().unwrap();
        let (st, mut now) = api.call("GET", &format!("/tickets/{reference}"), None).await;
        assert_eq!(st, 200, "{reference}");
        // Keys the API gained since (schema 9: a ticket's team), empty for old tickets.
        let added = now.as_object_mut().and_then(|o| o.remove("team"));
        assert_eq!(added, Some(serde_json::Value::Null), "{reference}: team");
        // And the collaborators (issue 17), a list.
        let listed = now.as_object_mut().and_then(|o| o.remove("collaborators"));
        assert!(listed.as_ref().is_some_and(|c| c.is_array()), "{reference}: collaborators {listed:?}");
        let checklist = now.as_object_mut().and_then(|o| o.remove("checklist"));
        assert_eq!(checklist, Some(serde_json::json!([])), "{reference}: no checklist yet");
        // Schema 10: the custom status (none) and the status's shown name.
        let custom = now.as_object_mut().and_then(|o| o.remove("custom_status"));
        assert_eq!(custom, Some(serde_json::Value::Null), "{reference}: custom status");
        let name = now.as_object_mut().and_then(|o| o.remove("status_name"));
        assert!(name.as_ref().and_then(|n| n.as_str()).is_some_and(|n| !n.is_empty()), "{reference}: status name {name:?}");
        // The API's later keys: each attachment's download URL, links,
        // Trash and custom fields (none here).
        for e in now["entries"].as_array_mut().unwrap() {
            let spent = e.as_object_mut().and_then(|e| e.remove("time_spent"));
            assert_eq!(spent, Some(serde_json::Value::Null), "{reference}: no time recorded");
            for a in e["attachments"].as_array_mut().unwrap() {
                let url = a.as_object_mut().and_then(|a| a.remove("url"));
                assert!(url.as_ref().is_some_and(|u| u.as_str().is_some_and(|u| u.contains("/attachments/"))), "{reference}: {url:?}");
            }
        }
        let o = now.as_object_mut().unwrap();
        assert_eq!(o.remove("links"), Some(serde_json::json!([])), "{reference}: links");
        assert_eq!(o.remove("trashed_at"), Some(serde_json::Value::Null), "{reference}: trashed_at");
        assert_eq!(o.remove("snoozed_until"), Some(serde_json::Value::Null), "{reference}: snoozed_until");
        assert_eq!(o.remove("rating"), Some(serde_json::Value::Null), "{reference}: rating");
        assert_eq!(o.remove("sla"), Some(serde_json::Value::Null), "{reference}: sla");
        assert_eq!(o.remove("time_spent"), Some(serde_json::json!(0)), "{reference}: time_spent");
        assert_eq!(o.remove("time_by_agent"), Some(serde_json::json!([])), "{reference}: time_by_agent");
        assert_eq!(o.remove("fields"), Some(serde_json::json!({})), "{reference}: fields");
        assert_eq!(&now, old, "{reference} reads as the old release served it");
        let (a, o) = files_read_the_same(&mut b, "", reference, old, &expected, &sent).await;
        attachments += a;
        originals += o;
    }
    assert_eq!((attachments, originals), (1, sent.len()), "every mail's attachment and original");
    // The search index, not kept in the fixture, is rebuilt from the data.
    let found = b.get_until("/search?q=printer", |body| body.contains("Printer on floor 3")).await;
    assert!(found.body.contains("Printer on floor 3"));
    server.stop();
    let store = frontdesk::store::Store::open(&data).unwrap();
    let r = store.read().unwrap();
    assert_eq!(r.meta("schema_version").unwrap(), frontdesk::store::SCHEMA_VERSION);
    let files = store.storage_use().unwrap();
    let tickets = files[0].tables.iter().find(|t| t.name == "tickets").unwrap();
    assert_eq!(tickets.entries, 4);
    // The conversion counted the references the old release never kept.
    assert_eq!(r.blob_refs(expected["attachment_sha"].as_str().unwrap()).unwrap(), Some(1));
}

#[test]
fn migrate_dry_run_says_what_would_change_and_changes_nothing_and_newer_data_is_refused() {
    let (dir, config) = unpack("schema5");
    let data = dir.path().join("data");
    let db = data.join("frontdesk.redb");
    let before = std::fs::read(&db).unwrap();
    let (code, out, err) = cli(&data, &["--config", &config, "migrate", "--dry-run"], None);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("schema 5") && out.contains("this release writes schema"), "{out}");
    for v in 6..=10 {
        assert!(out.contains(&format!("  schema {v}: ")), "step {v}: {out}");
    }
    assert!(!out.contains("  schema 5: "), "{out}");
    assert!(out.contains("compressed in the background") && out.contains("dry run: nothing was changed"), "{out}");
    assert!(std::fs::read(&db).unwrap() == before, "a dry run leaves the file as it was");

    let (code, out, err) = cli(&data, &["--config", &config, "migrate"], None);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("migrated to schema"), "{out}");
    let (code, out, _) = cli(&data, &["--config", &config, "migrate", "--dry-run"], None);
    assert_eq!(code, 0);
    assert!(out.contains("nothing to migrate"), "{out}");

    // Data from a newer release (as a later schema would write it) is
    // refused by every command, the file untouched.
    {
        use redb::ReadableTable;
        let db = redb::Database::open(&db).unwrap();
        let tx = db.begin_write().unwrap();
        {
            let mut meta = tx.open_table(redb::TableDefinition::<&str, u64>::new("meta")).unwrap();
            let v = meta.get("schema_version").unwrap().unwrap().value();
            meta.insert("schema_version", v + 1).unwrap();
        }
        tx.commit().unwrap();
    }
    let newer = std::fs::read(&db).unwrap();
    for args in [&["migrate", "--dry-run"][..], &["migrate"][..], &["token", "list"][..]] {
        let mut all = vec!["--config", config.as_str()];
        all.extend_from_slice(args);
        let (code, out, err) = cli(&data, &all, None);
        assert_ne!(code, 0, "{args:?}: {out}");
        assert!(err.contains("written by a newer frontdesk") && err.contains("run that release"), "{args:?}: {err}");
    }
    assert!(std::fs::read(&db).unwrap() == newer, "refused without a write");
}

/// Every attachment of `old`'s replies downloads byte for byte, and each
/// original message is one that was sent; returns how many of each.
async fn files_read_the_same(
    b: &mut Browser,
    name: &str,
    reference: &str,
    old: &serde_json::Value,
    expected: &serde_json::Value,
    sent: &[&str],
) -> (usize, usize) {
    let (mut attachments, mut originals) = (0, 0);
    for e in old["entries"].as_array().unwrap().iter().filter(|e| e["kind"] == "reply") {
        let seq = e["seq"].as_u64().unwrap();
        for (i, a) in e["attachments"].as_array().unwrap().iter().enumerate() {
            let dl = b.get(&format!("/tickets/{reference}/attachments/{seq}/{i}")).await;
            assert_eq!(dl.status, 200, "{name} {reference}");
            assert_eq!(dl.body.len() as u64, a["size"].as_u64().unwrap(), "{name} {reference}");
            assert_eq!(frontdesk::store::sha256_hex(dl.body.as_bytes()), expected["attachment_sha"].as_str().unwrap(), "{name}");
            attachments += 1;
        }
        let original = b.get(&format!("/tickets/{reference}/entries/{seq}/source?download=1")).await;
        if original.status == 200 {
            assert!(sent.iter().any(|m| original.body.ends_with(m)), "{name} {reference} #{seq}: the original is what was sent");
            originals += 1;
        }
    }
    (attachments, originals)
}

/// Every key `old` has reads the same in `now` (keys added since are
/// allowed; lists keep their length and order).
fn reads_the_same(now: &serde_json::Value, old: &serde_json::Value, at: &str) -> Result<(), String> {
    use serde_json::Value;
    match (now, old) {
        (Value::Object(n), Value::Object(o)) => {
            for (k, v) in o {
                let here = n.get(k).ok_or_else(|| format!("{at}.{k}: gone"))?;
                reads_the_same(here, v, &format!("{at}.{k}"))?;
            }
            Ok(())
        }
        (Value::Array(n), Value::Array(o)) if n.len() == o.len() => {
            n.iter().zip(o).enumerate().try_for_each(|(i, (n, o))| reads_the_same(n, o, &format!("{at}[{i}]")))
        }
        _ if now == old => Ok(()),
        _ => Err(format!("{at}: was {old}, now {now}")),
    }
}

/// Each fixture in tests/fixtures/schema*/ (written by the real binary of
/// the last commit of that schema, `make-fixture.py`) upgrades to this
/// release: every ticket and entry reads as the old release served it,
/// every attachment and original message is there byte for byte, search
/// finds them after the rebuild, and the schema is the current one.
#[tokio::test]
async fn every_earlier_release_upgrades_and_reads_the_same() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut names: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().to_string()))
        .filter(|n| n.starts_with("schema") && root.join(n).join("data.tar.gz").exists())
        .collect();
    names.sort_by_key(|n| n.trim_start_matches("schema").parse::<u32>().unwrap_or(0));
    assert!(names.len() >= 2, "fixtures: {names:?}");
    for name in &names {
        let expected: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(root.join(name).join("expected.json")).unwrap()).unwrap();
        let (dir, config) = unpack(name);
        let data = dir.path().join("data");
        let token = create_token_with(&data, &["--config", config.as_str()], ADMIN_EMAIL, "upgrade");
        let mut server = Server::start_with(&data, &["--config", config.as_str(), "--no-outgoing"]);
        let api = Api::new(&server.base, &token);
        let mut b = Browser::logged_in(&server.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let sent: Vec<&str> = expected["mails"].as_array().unwrap().iter().map(|m| m.as_str().unwrap()).collect();
        let (mut attachments, mut originals) = (0, 0);
        let tickets = expected["tickets"].as_array().unwrap();
        assert_eq!(tickets.len(), 4, "{name}");
        for old in tickets {
            let reference = old["ref"].as_str().unwrap();
            let (st, now) = api.call("GET", &format!("/tickets/{reference}"), None).await;
            assert_eq!(st, 200, "{name} {reference}");
            if let Err(e) = reads_the_same(&now, old, reference) {
                panic!("{name}: {e}");
            }
            let (a, o) = files_read_the_same(&mut b, name, reference, old, &expected, &sent).await;
            attachments += a;
            originals += o;
        }
        assert_eq!((attachments, originals), (1, sent.len()), "{name}: every mail's attachment and original");
        let found = b.get_until("/search?q=printer", |body| body.contains("Printer on floor 3")).await;
        assert!(found.body.contains("Printer on floor 3"), "{name}");
        // The report facts were filled from the old threads (schema 11).
        let days: Vec<&str> = tickets.iter().filter_map(|t| t["created_at"].as_str().and_then(|c| c.get(..10))).collect();
        let (first, last) = (days.iter().min().unwrap(), days.iter().max().unwrap());
        let answered = tickets
            .iter()
            .filter(|t| t["entries"].as_array().unwrap().iter().any(|e| e["kind"] == "reply" && e["author"]["email"] == ADMIN_EMAIL))
            .count();
        let report = b.get(&format!("/reports?from={first}&to={last}")).await.body;
        assert!(report.contains("<dt>Created</dt><dd>4</dd>"), "{name}: {report}");
        let unanswered = format!("<dt>Not answered yet</dt><dd>{}</dd>", 4 - answered);
        assert!(answered > 0 && report.contains(&unanswered), "{name}: {unanswered} in {report}");
        server.stop();
        let store = frontdesk::store::Store::open(&data).unwrap();
        assert_eq!(store.read().unwrap().meta("schema_version").unwrap(), frontdesk::store::SCHEMA_VERSION, "{name}");
        // Schema 12: every collaborator of the old tickets is in the index.
        let r = store.read().unwrap();
        // Schema 15: the old mail was stored against its source (at the open).
        assert_eq!(r.meta("sourced.pending").unwrap(), 0, "{name}");
        for t in tickets.iter() {
            let digits: String = t["ref"].as_str().unwrap_or_default().chars().filter(char::is_ascii_digit).collect();
            let id = frontdesk::domain::TicketId(digits.parse().unwrap_or_default());
            for p in r.collaborators(id).unwrap() {
                assert!(r.collaborating(p).unwrap().contains(&id), "{name}: {p} on {id}");
            }
        }
        drop(r);
        eprintln!("{name}: upgraded to schema {}, {} tickets read the same", frontdesk::store::SCHEMA_VERSION, tickets.len());
    }
}
