//! Fuzz the SMTP command path: arbitrary bytes from a client into a session.
#![no_main]

use std::sync::{Arc, OnceLock};

use frontdesk::clock::SystemClock;
use frontdesk::config::Config;
use frontdesk::desk::Desk;
use frontdesk::mail::smtp::{Checks, Server};
use frontdesk::mail::spool::Spooler;
use frontdesk::mail::worker::MailStats;
use frontdesk::store::Store;
use libfuzzer_sys::fuzz_target;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct World {
    rt: tokio::runtime::Runtime,
    server: Arc<Server>,
    _dir: tempfile::TempDir,
}

fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cfg = Config::parse("[smtp]\nmax_message_size = 100000\n[[mailbox]]\naddress = \"support@example.test\"\n", "fuzz").expect("config");
        cfg.server.data_dir = dir.path().to_path_buf();
        let cfg = Arc::new(cfg);
        let desk = Desk::new(Store::open(dir.path()).expect("store"), cfg.clone(), Arc::new(SystemClock));
        let shared = desk.shared_config();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let spooler = rt.block_on(async { Spooler::start(desk) });
        let server = Server::new(shared, spooler, None, Arc::new(MailStats::default()), Checks::default());
        World { rt, server, _dir: dir }
    })
}

fuzz_target!(|data: &[u8]| {
    let w = world();
    w.rt.block_on(async {
        let (mut client, mut server_side) = tokio::io::duplex(1 << 20);
        let input = data.to_vec();
        let feeder = tokio::spawn(async move {
            let _ = client.write_all(&input).await;
            let _ = client.shutdown().await;
            let mut out = Vec::new();
            let _ = client.read_to_end(&mut out).await;
            out
        });
        w.server.run_session(&mut server_side).await;
        drop(server_side);
        let out = feeder.await.expect("feeder");
        // Every reply line is a 3-digit code.
        for line in out.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            assert!(line.len() >= 3 && line[..3].iter().all(u8::is_ascii_digit), "bad reply line {:?}", String::from_utf8_lossy(line));
        }
    });
});
