//! Fuzz the message → ticket path: parse, classify, route into a real store.
#![no_main]

use std::sync::{Arc, OnceLock};

use frontdesk::clock::SystemClock;
use frontdesk::config::Config;
use frontdesk::desk::Desk;
use frontdesk::domain::Timestamp;
use frontdesk::mail::inbound;
use frontdesk::store::{SpoolEntry, Store};
use libfuzzer_sys::fuzz_target;

fn desk() -> &'static (Arc<Desk>, tempfile::TempDir) {
    static DESK: OnceLock<(Arc<Desk>, tempfile::TempDir)> = OnceLock::new();
    DESK.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cfg = Config::parse("[[mailbox]]\naddress = \"support@example.test\"\n", "fuzz").expect("config");
        cfg.server.data_dir = dir.path().to_path_buf();
        let store = Store::open(dir.path()).expect("store");
        (Desk::new(store, Arc::new(cfg), Arc::new(SystemClock)), dir)
    })
}

fuzz_target!(|data: &[u8]| {
    let (desk, _) = desk();
    // The envelope sender comes from the first byte so bounces are reached too.
    let from = if data.first().is_some_and(|b| b % 4 == 0) { "" } else { "fuzz@customer.test" };
    let parsed = inbound::parse(data, from, 1 << 20);
    let _ = inbound::strip_quoted(&parsed.text);
    let _ = inbound::subject_reference(&parsed.subject, "TKT");
    let entry = SpoolEntry { received_at: Timestamp(0), mail_from: from.into(), rcpt_to: vec!["support@example.test".into()], size: data.len() as u64, source: "fuzz".into() };
    let id = desk.spool_mail(&[(&entry, data)]).expect("spool")[0];
    desk.receive_mail(id, &entry, data, &parsed).expect("a message always has an outcome");
    desk.drop_spooled(&[id]).expect("spool entry dropped");
});
