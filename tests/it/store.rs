//! The store on its own: schema migration from a fixture written as schema 1,
//! index-driven queue queries, blobs.

use frontdesk::domain::{PersonId, TicketId};
use std::sync::Arc;

use frontdesk::clock::ManualClock;
use frontdesk::config::Config;
use frontdesk::desk::auth::NewAgent;
use frontdesk::desk::{Desk, NewTicket, TicketPatch};
use frontdesk::domain::{Channel, Person, Priority, Role, Status, Timestamp};
use frontdesk::store::migrate::{TicketV1, write_v1_fixture};
use frontdesk::store::{AssigneeFilter, SCHEMA_VERSION, Sort, Store, TicketQuery};

fn v1_ticket(id: u64, status: Status, priority: Priority, updated: i64) -> TicketV1 {
    TicketV1 {
        id,
        subject: format!("old ticket {id}"),
        description: "written by schema 1".into(),
        requester: 2,
        channel: Channel::Email,
        status,
        priority,
        category: "General".into(),
        department: "Support".into(),
        assignee: Some(1),
        created_at: Timestamp(updated - 1000),
        updated_at: Timestamp(updated),
    }
}

fn person(id: u64, email: &str, role: Role) -> Person {
    Person {
        id: PersonId(id),
        email: email.into(),
        name: email.into(),
        role,
        password_hash: String::new(),
        active: true,
        departments: vec![],
        created_at: Timestamp(0),
        role_name: String::new(),
        teams: Vec::new(),
    }
}

#[test]
fn schema_1_data_dir_is_migrated_and_keeps_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let tickets = vec![
        v1_ticket(1, Status::Open, Priority::Low, 10_000),
        v1_ticket(2, Status::Pending, Priority::Urgent, 20_000),
        v1_ticket(3, Status::Closed, Priority::High, 30_000),
    ];
    write_v1_fixture(
        dir.path(),
        &tickets,
        &[person(1, "agent@example.test", Role::Agent), person(2, "cust@example.test", Role::Requester)],
    )
    .unwrap();

    let store = Store::open(dir.path()).unwrap();
    let r = store.read().unwrap();
    assert_eq!(r.meta("schema_version").unwrap(), SCHEMA_VERSION);
    for old in &tickets {
        let t = r.ticket(TicketId(old.id)).unwrap().expect("ticket survives");
        assert_eq!(t.subject, old.subject);
        assert_eq!(t.status, old.status);
        assert_eq!(t.priority, old.priority);
        assert_eq!(t.updated_at, old.updated_at);
        assert!(t.tags.is_empty() && t.due.is_none());
    }
    // The priority index did not exist in schema 1; the migration built it.
    let (page, _) = r.query(&TicketQuery { sort: Sort::Priority, limit: 10, ..Default::default() }).unwrap();
    assert_eq!(page.iter().map(|t| t.id.0).collect::<Vec<_>>(), vec![2, 3, 1]);
    // The staff index too.
    assert_eq!(r.staff().unwrap().iter().map(|p| p.email.as_str()).collect::<Vec<_>>(), vec!["agent@example.test"]);
    assert_eq!(r.status_count(Status::Pending).unwrap(), 1);
    // Schema 3 counts per assignee for the sidebar: every fixture ticket is agent 1's.
    let active = tickets.iter().filter(|t| t.status.is_active()).count() as u64;
    assert_eq!(r.active_count_of(Some(PersonId(1))).unwrap(), active);
    drop(r);
    drop(store);

    // A desk on the migrated dir continues numbering and can edit old tickets.
    let clock = ManualClock::new(Timestamp(1_800_000_000_000));
    let desk = Desk::new(Store::open(dir.path()).unwrap(), Arc::new(Config::default()), Arc::new(clock));
    let admin = desk
        .add_agent(
            None,
            NewAgent {
                email: "boss@example.test".into(),
                name: "Boss".into(),
                role: Role::Admin,
                password: "long enough pw".into(),
                departments: vec![],
            },
        )
        .unwrap();
    let t = desk
        .create_ticket(&admin, NewTicket { subject: "new".into(), requester_email: "cust@example.test".into(), ..Default::default() })
        .unwrap();
    assert_eq!(t.id, TicketId(4));
    assert_eq!(t.requester, PersonId(2), "the schema-1 contact is found by email");
    let t = desk.update_ticket(&admin, TicketId(1), TicketPatch { tags: Some(vec!["legacy".into()]), ..Default::default() }).unwrap();
    assert_eq!(t.tags, vec!["legacy"]);
}

#[test]
fn a_newer_schema_is_refused_not_misread() {
    let dir = tempfile::tempdir().unwrap();
    {
        let _s = Store::open(dir.path()).unwrap();
    }
    {
        let s = Store::open(dir.path()).unwrap();
        s.write(|w| w.set_meta("schema_version", SCHEMA_VERSION + 1).map_err(frontdesk::desk::DeskError::from)).unwrap();
    }
    let err = Store::open(dir.path()).err().expect("refused");
    assert!(err.to_string().contains("newer frontdesk"), "{err}");
}

fn staff(desk: &Desk, email: &str, role: Role) -> Person {
    let name = email.split('@').next().unwrap_or("x").to_uppercase();
    desk.add_agent(None, NewAgent { email: email.into(), name, role, password: "long enough pw".into(), departments: vec![] }).unwrap()
}

/// Queue queries through the desk, on a simulated clock.
#[test]
fn queue_queries_filter_sort_and_page() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(Timestamp(1_800_000_000_000));
    let desk = Desk::new(Store::open(dir.path()).unwrap(), Arc::new(Config::default()), Arc::new(clock.clone()));
    let admin = staff(&desk, "a@x.test", Role::Admin);
    let bob = staff(&desk, "b@x.test", Role::Agent);
    let prios = [Priority::Low, Priority::Urgent, Priority::Medium, Priority::High];
    for i in 0..40u64 {
        clock.advance_ms(1000);
        let t = desk
            .create_ticket(
                &admin,
                NewTicket {
                    subject: format!("t{i}"),
                    requester_email: format!("c{}@x.test", i % 3),
                    priority: Some(prios[(i % 4) as usize]),
                    assignee: (i % 5 == 0).then_some(bob.id),
                    ..Default::default()
                },
            )
            .unwrap();
        if i % 4 == 1 {
            desk.update_ticket(&admin, t.id, TicketPatch { status: Some(Status::Resolved), ..Default::default() }).unwrap();
        }
    }
    // Touch an old ticket: it moves to the top of "recently updated".
    clock.advance_ms(1000);
    desk.add_entry(&admin, TicketId(3), "bump", true, None).unwrap();
    let q = |q: TicketQuery| desk.queue(&admin, TicketQuery { limit: if q.limit == 0 { 100 } else { q.limit }, ..q }).unwrap();

    let (all, more, _) = q(TicketQuery::default());
    assert_eq!(all.len(), 40);
    assert!(!more);
    assert_eq!(all[0].id, TicketId(3));
    assert!(all.windows(2).all(|w| w[0].updated_at >= w[1].updated_at));

    let active = vec![Status::Open, Status::Pending, Status::InProgress, Status::OnHold];
    let (open, _, _) = q(TicketQuery { statuses: active.clone(), ..Default::default() });
    assert_eq!(open.len(), 30);
    assert!(open.windows(2).all(|w| w[0].updated_at >= w[1].updated_at), "merged status streams stay ordered");

    let (mine, _, _) = q(TicketQuery { assignee: AssigneeFilter::Person(bob.id.0), statuses: active.clone(), ..Default::default() });
    assert_eq!(mine.len(), 6, "8 assigned to Bob, of which 2 (t5, t25) are resolved");
    assert!(mine.iter().all(|t| t.assignee == Some(bob.id)));
    assert!(mine.windows(2).all(|w| w[0].updated_at >= w[1].updated_at), "Bob's open work, newest first");
    // One of Bob's open tickets handed to the admin leaves his open work
    // for the admin's; his resolved ones are still found by status.
    clock.advance_ms(1000);
    desk.update_ticket(&admin, mine[0].id, TicketPatch { assignee: Some(Some(admin.id)), ..Default::default() }).unwrap();
    let (mine_now, _, _) = q(TicketQuery { assignee: AssigneeFilter::Person(bob.id.0), statuses: active.clone(), ..Default::default() });
    assert_eq!(mine_now.len(), 5);
    assert!(!mine_now.iter().any(|t| t.id == mine[0].id));
    let (admins, _, _) = q(TicketQuery { assignee: AssigneeFilter::Person(admin.id.0), statuses: active.clone(), ..Default::default() });
    assert_eq!(admins.iter().map(|t| t.id).collect::<Vec<_>>(), vec![mine[0].id]);
    let (resolved, _, _) =
        q(TicketQuery { assignee: AssigneeFilter::Person(bob.id.0), statuses: vec![Status::Resolved], ..Default::default() });
    assert_eq!(resolved.len(), 2);
    assert!(resolved.iter().all(|t| t.status == Status::Resolved && t.assignee == Some(bob.id)));
    desk.update_ticket(&admin, mine[0].id, TicketPatch { assignee: Some(Some(bob.id)), ..Default::default() }).unwrap();
    let (unassigned, _, _) = q(TicketQuery { assignee: AssigneeFilter::Unassigned, ..Default::default() });
    assert_eq!(unassigned.len(), 32);

    let (by_prio, _, _) = q(TicketQuery { sort: Sort::Priority, ..Default::default() });
    assert!(by_prio.windows(2).all(|w| w[0].priority <= w[1].priority));
    let (urgent, _, _) = q(TicketQuery { priority: Some(Priority::Urgent), ..Default::default() });
    assert_eq!(urgent.len(), 10);

    let (oldest, _, _) = q(TicketQuery { sort: Sort::CreatedAsc, limit: 3, ..Default::default() });
    assert_eq!(oldest.iter().map(|t| t.id.0).collect::<Vec<_>>(), vec![1, 2, 3]);

    // Pages do not overlap and cover everything.
    let mut ids = Vec::new();
    for page in 0..5 {
        let (p, more, _) = q(TicketQuery { limit: 9, offset: page * 9, ..Default::default() });
        ids.extend(p.iter().map(|t| t.id.0));
        assert_eq!(more, page < 4);
    }
    ids.sort();
    assert_eq!(ids, (1..=40).collect::<Vec<_>>());

    let req = desk.store_for_tests().read().unwrap().person_by_email("c1@x.test").unwrap().unwrap();
    let (theirs, _, _) = q(TicketQuery { requester: Some(req.id.0), ..Default::default() });
    assert_eq!(theirs.len(), 13);

    // Counters follow every change.
    let counts = desk.status_counts().unwrap();
    let get = |s: Status| counts.iter().find(|(x, _)| *x == s).unwrap().1;
    assert_eq!(get(Status::Open), 30);
    assert_eq!(get(Status::Resolved), 10);
}

#[test]
fn blobs_are_content_addressed_and_chunked() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    // Incompressible, so it spans several 64 KiB chunks as it is.
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let big: Vec<u8> = (0..300_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    // Each junk record names (holds) the blob it stores.
    let keep = |raw: &[u8]| {
        store
            .write(|w| {
                let id = w.put_blob(raw)?;
                let mut j = frontdesk::store::JunkMail {
                    id: frontdesk::domain::JunkId(0),
                    received_at: Timestamp(1),
                    from: "x@example.org".into(),
                    subject: "s".into(),
                    reason: "r".into(),
                    raw_blob: id.clone(),
                    mail_from: String::new(),
                    rcpt_to: Vec::new(),
                };
                w.put_junk(&mut j)?;
                Ok::<_, frontdesk::store::StoreError>(id)
            })
            .unwrap()
    };
    let (id1, id2) = (keep(&big), keep(&big));
    assert_eq!(id1, id2);
    assert_eq!(store.read().unwrap().blob(&id1).unwrap().unwrap(), big);
    assert_eq!(store.read().unwrap().blob_refs(&id1).unwrap(), Some(2), "stored once, held twice");
    assert!(store.read().unwrap().blob("nope").unwrap().is_none());
    // A blob no record names is not kept past its transaction.
    let loose = store.write(|w| w.put_blob(b"nobody names this").map_err(frontdesk::desk::DeskError::from)).unwrap();
    assert!(store.read().unwrap().blob(&loose).unwrap().is_none());
}

/// Trash leaves queues and counts, restores, and purges after `trash_days` on
/// the simulated clock; counters stay exact through merge and Trash.
#[test]
fn trash_purges_after_the_configured_days_and_counts_stay_exact() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(Timestamp(1_800_000_000_000));
    let mut cfg = Config::default();
    cfg.workflow.trash_days = 3;
    let desk = Desk::new(Store::open(dir.path()).unwrap(), Arc::new(cfg), Arc::new(clock.clone()));
    let admin = staff(&desk, "a@x.test", Role::Admin);
    let mut ids = Vec::new();
    for i in 0..4 {
        let t = desk
            .create_ticket(
                &admin,
                NewTicket {
                    subject: format!("t{i}"),
                    requester_email: "c@x.test".into(),
                    priority: Some(Priority::Urgent),
                    assignee: (i < 2).then_some(admin.id),
                    ..Default::default()
                },
            )
            .unwrap();
        ids.push(t.id);
    }
    let counts = |d: &Desk| {
        let c = d.sidebar_counts(&admin).unwrap();
        (c.my_open, c.unassigned, c.urgent_unassigned, c.all_open, c.trash)
    };
    assert_eq!(counts(&desk), (2, 2, 2, 4, 0));
    desk.set_trashed(&admin, ids[3], true).unwrap();
    assert_eq!(counts(&desk), (2, 1, 1, 3, 1));
    desk.merge(&admin, ids[1], ids[0]).unwrap();
    assert_eq!(counts(&desk), (1, 1, 1, 2, 1));
    assert_eq!(desk.survivor(ids[1]).unwrap(), ids[0]);
    desk.set_trashed(&admin, ids[3], false).unwrap();
    assert_eq!(counts(&desk), (1, 2, 2, 3, 0));
    desk.set_trashed(&admin, ids[3], true).unwrap();
    clock.advance_ms(2 * 86_400_000);
    assert_eq!(desk.purge_trash().unwrap(), 0, "not yet");
    clock.advance_ms(86_400_000);
    assert_eq!(desk.purge_trash().unwrap(), 1);
    assert_eq!(counts(&desk), (1, 1, 1, 2, 0));
    assert!(desk.store_for_tests().read().unwrap().ticket(ids[3]).unwrap().is_none());
    assert!(desk.store_for_tests().read().unwrap().entries(ids[3]).unwrap().is_empty());
}

/// Every change lands on the index queue in its own transaction, and draining
/// the queue makes the index answer for it (no indexer thread involved).
#[test]
fn every_change_is_queued_for_the_index_in_the_same_transaction() {
    use frontdesk::search::SearchIndex;
    use frontdesk::search::query::{Context, parse};
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(Timestamp(1_800_000_000_000));
    let desk = Desk::new(Store::open(dir.path()).unwrap(), Arc::new(Config::default()), Arc::new(clock.clone()));
    let admin = staff(&desk, "a@x.test", Role::Admin);
    let t = desk
        .create_ticket(&admin, NewTicket { subject: "Printer".into(), requester_email: "c@x.test".into(), ..Default::default() })
        .unwrap();
    let (index, fresh) = SearchIndex::open(dir.path(), 15 << 20).unwrap();
    assert!(fresh);
    let queued = |d: &Desk| d.store_for_tests().read().unwrap().index_queue(100).unwrap().into_iter().map(|(id, _)| id).collect::<Vec<_>>();
    assert_eq!(queued(&desk), vec![t.id.0]);
    let count = |q: &str| {
        let agents = desk.store_for_tests().read().unwrap().staff().unwrap();
        let p = parse(q, &Context { me: admin.id.0, agents: &agents, now: desk.now(), statuses: &[], fields: &[] }).unwrap();
        index.count(&p, None).unwrap()
    };
    while index.drain_queue(desk.store_for_tests()).unwrap() > 0 {}
    assert!(queued(&desk).is_empty());
    assert_eq!(count("printer"), 1);
    // A note, a field change and a requester rename are each queued and found.
    desk.add_entry(&admin, t.id, "zebra crossing", true, None).unwrap();
    assert_eq!(queued(&desk), vec![t.id.0]);
    while index.drain_queue(desk.store_for_tests()).unwrap() > 0 {}
    assert_eq!(count("zebra"), 1);
    desk.update_ticket(&admin, t.id, TicketPatch { priority: Some(Priority::Urgent), ..Default::default() }).unwrap();
    while index.drain_queue(desk.store_for_tests()).unwrap() > 0 {}
    assert_eq!(count("priority:urgent"), 1);
    let requester = desk.store_for_tests().read().unwrap().person_by_email("c@x.test").unwrap().unwrap();
    desk.update_person(&admin, requester.id, "Quentin Quux", "").unwrap();
    assert_eq!(queued(&desk), vec![t.id.0], "a rename requeues the person's tickets");
    while index.drain_queue(desk.store_for_tests()).unwrap() > 0 {}
    assert_eq!(count("requester:quux"), 1);
}

/// Schema 3 stored Message-IDs lower-cased (and sent them back so); schema 4
/// restores each one from the mail's raw source, so replies thread in the
/// customer's client again.
#[test]
fn schema_3_message_ids_get_their_case_back() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        store
            .write(|w| {
                let raw = b"From: m@vm\r\nMessage-ID:\r\n <awSATHlpiZjs3SLj@vm>\r\nSubject: x\r\n\r\nbody\r\n";
                let blob = w.put_blob(raw)?;
                let meta = frontdesk::store::MailMeta { message_id: "awsathlpizjs3slj@vm".into(), raw_blob: blob, ..Default::default() };
                w.put_entry_mail(TicketId(7), 1, &meta)?;
                w.add_thread_id(TicketId(7), "first@customer.test")?;
                w.add_thread_id(TicketId(7), "awsathlpizjs3slj@vm")?;
                w.set_meta("schema_version", 3)?;
                Ok::<_, frontdesk::store::StoreError>(())
            })
            .unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    let r = store.read().unwrap();
    assert_eq!(r.meta("schema_version").unwrap(), SCHEMA_VERSION);
    drop(r);
    let (ids, found) = store
        .write(|w| Ok::<_, frontdesk::store::StoreError>((w.thread_ids(TicketId(7))?, w.message_ticket("AWSATHLPIZJS3SLJ@VM")?)))
        .unwrap();
    assert_eq!(ids, vec!["first@customer.test".to_string(), "awSATHlpiZjs3SLj@vm".to_string()]);
    assert_eq!(found, Some(TicketId(7)), "looked up case-insensitively");
}

/// Schema 4 kept accepted mail in the database's own spool table; schema 5
/// keeps it in `spool.redb`. Mail a schema-4 desk left unprocessed moves over
/// on open and becomes a ticket once; the done marks are pruned after.
#[test]
fn schema_4_spool_moves_to_its_own_file_and_is_processed_once() {
    let dir = tempfile::tempdir().unwrap();
    let entry = frontdesk::store::SpoolEntry {
        received_at: Timestamp(1_700_000_000_000),
        mail_from: "left@customer.test".into(),
        rcpt_to: vec!["support@example.test".into()],
        size: 0,
        source: "smtp 192.0.2.1".into(),
    };
    let raw = b"From: Left Over <left@customer.test>\r\nTo: support@example.test\r\nSubject: left in the old spool\r\nMessage-ID: <left@customer.test>\r\n\r\nstill here\r\n";
    {
        let store = Store::open(dir.path()).unwrap();
        store
            .write(|w| {
                w.put_spool(&entry, raw)?;
                w.put_spool(&entry, b"From: second@customer.test\r\nSubject: second one\r\n\r\nx\r\n")?;
                w.set_meta("schema_version", 4)
            })
            .unwrap();
    }
    // A schema-4 data directory has no spool log yet.
    std::fs::remove_file(dir.path().join(frontdesk::store::SPOOL_FILE)).unwrap();

    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.read().unwrap().meta("schema_version").unwrap(), SCHEMA_VERSION);
    assert_eq!(store.read().unwrap().spool_len().unwrap(), 0, "the old table is emptied");
    assert_eq!(store.spool().len().unwrap(), 2, "both messages moved to the spool log");
    let moved = store.spool().ids(10).unwrap();
    let (e, bytes) = store.spool().entry(moved[0]).unwrap().unwrap();
    assert_eq!((e.mail_from.as_str(), bytes.as_slice()), ("left@customer.test", &raw[..]));

    let clock = ManualClock::new(Timestamp(1_700_000_100_000));
    let desk = Desk::new(store, Arc::new(Config::default()), Arc::new(clock));
    let stats = frontdesk::mail::worker::MailStats::default();
    assert_eq!(frontdesk::mail::worker::drain(&desk, &stats), 2);
    assert_eq!(desk.store_for_tests().spool().len().unwrap(), 0);
    assert!(desk.store_for_tests().read().unwrap().spool_done(10).unwrap().is_empty(), "marks pruned once the entries are gone");
    // New mail gets ids after the moved ones (ids are never reused).
    let third = b"From: third@customer.test\r\nSubject: third one\r\nMessage-ID: <third@customer.test>\r\n\r\nx\r\n";
    let next = desk.store_for_tests().spool().put_batch(&[(&entry, &third[..])]).unwrap();
    assert!(next[0] > moved[1], "{next:?} after {moved:?}");
    drop(desk);
    // Opened again: nothing is processed twice.
    let desk =
        Desk::new(Store::open(dir.path()).unwrap(), Arc::new(Config::default()), Arc::new(ManualClock::new(Timestamp(1_700_000_200_000))));
    assert_eq!(frontdesk::mail::worker::drain(&desk, &stats), 1);
    let r = desk.store_for_tests().read().unwrap();
    let mut subjects: Vec<String> =
        r.ticket_ids().unwrap().into_iter().map(|id| r.ticket(TicketId(id)).unwrap().unwrap().subject).collect();
    subjects.sort();
    assert_eq!(subjects, vec!["left in the old spool", "second one", "third one"]);
}

/// A done mark left in the database (a crash after the ticket commit) must
/// never match a new message, even when the spool log is moved away and
/// made anew: new spool ids start after every marked one.
#[test]
fn a_new_spool_log_never_reuses_a_marked_id() {
    let dir = tempfile::tempdir().unwrap();
    let entry = frontdesk::store::SpoolEntry {
        received_at: Timestamp(1_700_000_000_000),
        mail_from: "new@customer.test".into(),
        rcpt_to: vec!["support@example.test".into()],
        size: 0,
        source: "smtp 192.0.2.1".into(),
    };
    let first = {
        let store = Store::open(dir.path()).unwrap();
        let id = store.spool().put_batch(&[(&entry, &b"From: a@customer.test\r\nSubject: one\r\n\r\nx\r\n"[..])]).unwrap()[0];
        store.write(|w| w.mark_spool_done(id).map(|_| ())).unwrap();
        id
    };
    std::fs::remove_file(dir.path().join(frontdesk::store::SPOOL_FILE)).unwrap();
    let store = Store::open(dir.path()).unwrap();
    let raw = b"From: New <new@customer.test>\r\nSubject: after the move\r\nMessage-ID: <moved@customer.test>\r\n\r\nhello\r\n";
    let next = store.spool().put_batch(&[(&entry, &raw[..])]).unwrap()[0];
    assert!(next > first, "id {next} after the marked {first}");
    let desk = Desk::new(store, Arc::new(Config::default()), Arc::new(ManualClock::new(Timestamp(1_700_000_100_000))));
    assert_eq!(frontdesk::mail::worker::drain(&desk, &frontdesk::mail::worker::MailStats::default()), 1);
    let r = desk.store_for_tests().read().unwrap();
    let subjects: Vec<String> = r.ticket_ids().unwrap().into_iter().map(|id| r.ticket(TicketId(id)).unwrap().unwrap().subject).collect();
    assert_eq!(subjects, vec!["after the move"]);
}

/// `frontdesk compact` on a data dir full of freed pages keeps every ticket,
/// entry and attachment byte for byte, and the file does not grow.
#[tokio::test]
async fn compaction_keeps_every_ticket_entry_and_attachment() {
    use crate::common::smtp::Smtp;
    use crate::common::*;
    let mut d = MailDesk::start();
    let attachment = "Quarterly report line with numbers 1234 5678 and words.\n".repeat(300);
    let encoded = base64(attachment.as_bytes());
    let wrapped: Vec<String> = encoded.as_bytes().chunks(76).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
    for i in 0..30 {
        let msg = format!(
            "From: c{i}@customer.test\r\nSubject: report {i}\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n{}\r\n--b\r\nContent-Type: text/plain; name=report.txt\r\nContent-Disposition: attachment; filename=report.txt\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--b--\r\n",
            "Please see the attached report; the numbers look wrong. ".repeat(20),
            wrapped.join("\r\n")
        );
        assert_eq!(Smtp::send_mail(&d.smtp, &format!("c{i}@customer.test"), &["support@example.test"], msg.as_bytes()).0, 250);
    }
    let before = d.wait_tickets(30).await;
    // Churn: every ticket changed many times leaves freed pages behind.
    for t in &before {
        for p in ["high", "low", "urgent", "medium"] {
            let (st, _) =
                d.api.call("PATCH", &format!("/tickets/{}", t["ref"].as_str().unwrap()), Some(serde_json::json!({"priority": p}))).await;
            assert_eq!(st, 200);
        }
    }
    let mut full = Vec::new();
    for t in &before {
        full.push(d.ticket(t["ref"].as_str().unwrap()).await);
    }
    d.server.stop();
    let db = d.dir.path().join("frontdesk.redb");
    let len = std::fs::metadata(&db).unwrap().len();
    let cfg = d.config.to_str().unwrap().to_string();
    let (code, out, err) = cli(d.dir.path(), &["--config", &cfg, "compact"], None);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("compacted:"), "{out}");
    assert!(std::fs::metadata(&db).unwrap().len() <= len);
    d.restart();
    let mut b = Browser::logged_in(&d.server.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    for t in &full {
        let reference = t["ref"].as_str().unwrap();
        assert_eq!(&d.ticket(reference).await, t, "{reference} is unchanged");
        let reply = t["entries"].as_array().unwrap().iter().find(|e| e["kind"] == "reply").unwrap();
        let dl = b.get(&format!("/tickets/{reference}/attachments/{}/0", reply["seq"])).await;
        assert_eq!(dl.status, 200);
        assert_eq!(dl.body, attachment, "{reference}: the attachment comes back whole");
    }
}
