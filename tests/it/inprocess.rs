//! The in-process harness: the whole desk (HTTP, workers, SMTP) runs inside
//! the test on a `ManualClock`, through `frontdesk::app::start`, so time
//! rules are tested by moving the clock instead of waiting, and the test can
//! reach the desk directly. Requests still go over real TCP to the real
//! router. (Process-spawning stays for the CLI, crash and browser tests.)

use std::sync::Arc;

use crate::common::Browser;
use frontdesk::app::{self, Running};
use frontdesk::clock::ManualClock;
use frontdesk::config::Config;
use frontdesk::desk::NewTicket;
use frontdesk::desk::auth::NewAgent;
use frontdesk::domain::{Person, Role, Timestamp};

const HOUR_MS: i64 = 3_600_000;
pub(crate) const PASSWORD: &str = "correct horse battery";

/// A desk in this process on a ManualClock, with an admin ada@example.test.
pub(crate) struct InProcess {
    pub(crate) running: Running,
    pub(crate) clock: ManualClock,
    pub(crate) admin: Person,
    pub(crate) base: String,
    _dir: tempfile::TempDir,
}

impl InProcess {
    /// Adds an agent (password `PASSWORD`, every department) through the desk.
    pub(crate) fn add(&self, email: &str, name: &str, role: Role) -> Person {
        let new = NewAgent { email: email.into(), name: name.into(), role, password: PASSWORD.into(), departments: vec![] };
        self.running.desk.add_agent(None, new).expect("add an agent")
    }

    pub(crate) async fn start() -> InProcess {
        Self::start_with("").await
    }

    /// With more config (TOML) after the test mailbox.
    pub(crate) async fn start_with(extra_config: &str) -> InProcess {
        let dir = tempfile::tempdir().expect("temp dir");
        // A mailbox, so replies are queued (sending is off: they wait in the outbox).
        let text = format!("[[mailbox]]\naddress = \"support@example.test\"\n{extra_config}");
        let mut cfg = Config::parse(&text, "test config").expect("config");
        cfg.server.data_dir = dir.path().to_path_buf();
        cfg.server.http = "127.0.0.1:0".into();
        cfg.smtp.listen = "127.0.0.1:0".into();
        cfg.outgoing.enabled = false;
        let clock = ManualClock::new(Timestamp(1_800_000_000_000));
        let running = app::start(Arc::new(cfg), Arc::new(clock.clone())).await.expect("the desk starts in-process");
        let admin = running
            .desk
            .add_agent(
                None,
                NewAgent {
                    email: "ada@example.test".into(),
                    name: "Ada".into(),
                    role: Role::Admin,
                    password: PASSWORD.into(),
                    departments: vec![],
                },
            )
            .expect("first admin");
        let base = format!("http://{}", running.http);
        InProcess { running, clock, admin, base, _dir: dir }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_session_ends_on_the_injected_clock() {
    let d = InProcess::start().await;
    let mut b = Browser::logged_in(&d.base, "ada@example.test", PASSWORD).await;
    d.clock.advance_ms(100 * HOUR_MS);
    assert_eq!(b.get("/tickets").await.status, 200, "within security.session_idle_hours (168)");
    // The visit above counted as activity: the idle time starts again from it.
    d.clock.advance_ms(167 * HOUR_MS);
    assert_eq!(b.get("/tickets").await.status, 200);
    d.clock.advance_ms(169 * HOUR_MS);
    let r = b.get("/tickets").await;
    assert_eq!(r.status, 303, "an idle session is over");
    assert!(r.location.as_deref().is_some_and(|l| l.starts_with("/login")), "{:?}", r.location);
    d.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_requester_link_expires_on_the_injected_clock() {
    let d = InProcess::start().await;
    let desk = d.running.desk.clone();
    let t = desk
        .create_ticket(
            &d.admin,
            NewTicket {
                subject: "Printer jam".into(),
                body: "Tray 2 jams".into(),
                requester_email: "carol@customer.test".into(),
                ..Default::default()
            },
        )
        .expect("ticket");
    let link = desk.portal_link_for(t.id, "carol@customer.test");
    let path = link.split_once("/t/").map(|(_, rest)| format!("/t/{rest}")).expect("a signed ticket link");
    let mut b = Browser::new(&d.base);
    let page = b.get(&path).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Printer jam"));
    // outgoing.link_days = 3: good on day 3, gone after it.
    d.clock.advance_ms(71 * HOUR_MS);
    assert_eq!(b.get(&path).await.status, 200);
    d.clock.advance_ms(2 * HOUR_MS);
    let gone = b.get(&path).await;
    assert_eq!(gone.status, 404);
    assert!(gone.body.contains("not valid any more"), "{}", gone.body);
    d.running.stop().await;
}

/// Purging Trash (after `workflow.trash_days`, on the injected clock) frees
/// a ticket's attachments, except those another ticket, or mail still in the
/// outbox, holds (blobs are stored once by content).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purging_trash_frees_blobs_no_other_ticket_holds() {
    let d = InProcess::start().await;
    let desk = d.running.desk.clone();
    let ticket = |subject: &str| {
        desk.create_ticket(
            &d.admin,
            NewTicket {
                subject: subject.into(),
                body: "see attached".into(),
                requester_email: "carol@customer.test".into(),
                ..Default::default()
            },
        )
        .expect("ticket")
    };
    let (a, b) = (ticket("shared one"), ticket("shared two"));
    let shared = b"the same quarterly report, attached to two tickets\n".repeat(50);
    let own = b"a report only the first ticket has\n".repeat(50);
    let file = |name: &str, data: &[u8]| (name.to_string(), "text/plain".to_string(), data.to_vec());
    let first = desk
        .add_entry_with(&d.admin, a.id, "reports", false, None, vec![file("shared.txt", &shared), file("own.txt", &own)])
        .expect("reply with files");
    desk.add_entry_with(&d.admin, b.id, "report", false, None, vec![file("shared.txt", &shared)]).expect("reply with a file");
    let (shared_id, own_id) = (first.attachments[0].blob.clone(), first.attachments[1].blob.clone());
    let stored = |id: &str| desk.store_for_tests().read().unwrap().blob(id).unwrap();
    assert_eq!(desk.store_for_tests().read().unwrap().blob_refs(&shared_id).unwrap(), Some(4), "two replies and their two queued mails");
    desk.set_trashed(&d.admin, a.id, true).expect("to Trash");
    assert_eq!(desk.purge_trash().expect("purge"), 0, "not before workflow.trash_days");
    d.clock.advance_ms(31 * 24 * HOUR_MS);
    assert_eq!(desk.purge_trash().expect("purge"), 1);
    // Sending is off here: the replies to Carol wait in the outbox, and a
    // queued mail keeps its attachments.
    assert_eq!(stored(&own_id).as_deref(), Some(&own[..]), "the queued reply still holds it");
    let queued = desk.outbox(&d.admin, 100).expect("outbox");
    let mine = queued.iter().find(|m| m.attachments.iter().any(|a| a.blob == own_id)).expect("the queued reply with the files");
    desk.outbox_discard(&d.admin, mine.id).expect("discard");
    assert_eq!(stored(&own_id), None, "the purged ticket's own attachment is gone once nothing holds it");
    assert_eq!(stored(&shared_id).as_deref(), Some(&shared[..]), "the other ticket still has the shared one");
    for m in desk.outbox(&d.admin, 100).expect("outbox") {
        desk.outbox_discard(&d.admin, m.id).expect("discard");
    }
    assert_eq!(desk.store_for_tests().read().unwrap().blob_refs(&shared_id).unwrap(), Some(1), "held by the other ticket's entry");
    d.running.stop().await;
}
