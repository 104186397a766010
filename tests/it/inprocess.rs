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
const PASSWORD: &str = "correct horse battery";

struct InProcess {
    running: Running,
    clock: ManualClock,
    admin: Person,
    base: String,
    _dir: tempfile::TempDir,
}

impl InProcess {
    async fn start() -> InProcess {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut cfg = Config::default();
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
