//! A small authoritative DNS server for tests, on 127.0.0.1 (UDP and TCP on
//! one port), answering A, AAAA, MX and TXT from records the test sets, with
//! NXDOMAIN for unknown names, and names that get SERVFAIL or no answer at
//! all (timeouts). It runs on its own threads, so a test that blocks on an
//! SMTP exchange does not stall it.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, TcpListener, UdpSocket};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Clone, Debug)]
pub enum Rec {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    Mx(u16, String),
    Txt(String),
}

impl Rec {
    fn qtype(&self) -> u16 {
        match self {
            Rec::A(_) => 1,
            Rec::Aaaa(_) => 28,
            Rec::Mx(..) => 15,
            Rec::Txt(_) => 16,
        }
    }
}

#[derive(Default)]
struct Zone {
    records: HashMap<String, Vec<Rec>>,
    servfail: Vec<String>,
    silent: Vec<String>,
}

/// The running server; records can change while it runs.
#[derive(Clone)]
pub struct TestDns {
    pub addr: String,
    zone: Arc<Mutex<Zone>>,
    /// Queries answered so far.
    pub queries: Arc<AtomicUsize>,
    /// The SOA minimum sent with negative answers (RFC 2308): how long a
    /// resolver may cache "no such name / no such record". 0 (the default,
    /// so a test may publish a record after asking) keeps them uncached.
    negative_ttl: Arc<std::sync::atomic::AtomicU32>,
}

fn key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

fn encode_name(name: &str, out: &mut Vec<u8>) {
    for label in key(name).split('.').filter(|l| !l.is_empty()) {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
}

impl TestDns {
    pub fn start() -> TestDns {
        // The same port for UDP and TCP: a UDP port whose TCP twin is taken
        // (another test's listener) is given back and another one tried.
        let (udp, tcp, port) = (0..50)
            .find_map(|_| {
                let udp = UdpSocket::bind("127.0.0.1:0").ok()?;
                let port = udp.local_addr().ok()?.port();
                let tcp = TcpListener::bind(("127.0.0.1", port)).ok()?;
                Some((udp, tcp, port))
            })
            .expect("a free UDP+TCP port pair on 127.0.0.1");
        let dns =
            TestDns { addr: format!("127.0.0.1:{port}"), zone: Arc::default(), queries: Arc::default(), negative_ttl: Arc::default() };
        let d = dns.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok((n, from)) = udp.recv_from(&mut buf) {
                if let Some(mut r) = d.answer(&buf[..n]) {
                    if r.len() > 1232 {
                        // Too long for UDP: truncated, the client asks again over TCP.
                        r.truncate(12);
                        r[2] |= 0x02;
                        r[6..12].fill(0);
                    }
                    let _ = udp.send_to(&r, from);
                }
            }
        });
        let d = dns.clone();
        std::thread::spawn(move || {
            for mut s in tcp.incoming().flatten() {
                let d = d.clone();
                std::thread::spawn(move || {
                    loop {
                        let mut len = [0u8; 2];
                        if s.read_exact(&mut len).is_err() {
                            return;
                        }
                        let mut q = vec![0u8; u16::from_be_bytes(len) as usize];
                        if s.read_exact(&mut q).is_err() {
                            return;
                        }
                        let Some(r) = d.answer(&q) else { return };
                        let mut framed = (r.len() as u16).to_be_bytes().to_vec();
                        framed.extend(r);
                        if s.write_all(&framed).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        dns
    }

    /// Negative answers may be cached for `secs` (as a real zone's SOA says).
    pub fn negative_ttl(&self, secs: u32) -> &Self {
        self.negative_ttl.store(secs, Ordering::Relaxed);
        self
    }

    /// The authority section of a negative answer: the SOA of the name's
    /// (guessed) zone, its minimum the negative TTL.
    fn soa(&self, name: &str, r: &mut Vec<u8>) {
        let labels: Vec<&str> = name.split('.').collect();
        let apex = labels[labels.len().saturating_sub(2)..].join(".");
        let ttl = self.negative_ttl.load(Ordering::Relaxed);
        let mut data = Vec::new();
        encode_name(&format!("ns.{apex}"), &mut data);
        encode_name(&format!("hostmaster.{apex}"), &mut data);
        for v in [1u32, 3600, 600, 86400, ttl] {
            data.extend_from_slice(&v.to_be_bytes());
        }
        encode_name(&apex, r);
        r.extend_from_slice(&[0, 6, 0, 1]);
        r.extend_from_slice(&ttl.to_be_bytes());
        r.extend_from_slice(&(data.len() as u16).to_be_bytes());
        r.extend(data);
        r[8..10].copy_from_slice(&1u16.to_be_bytes());
    }

    pub fn add(&self, name: &str, rec: Rec) -> &Self {
        self.zone.lock().unwrap().records.entry(key(name)).or_default().push(rec);
        self
    }

    pub fn txt(&self, name: &str, value: &str) -> &Self {
        self.add(name, Rec::Txt(value.to_string()))
    }

    /// Drops every record of a name.
    pub fn remove(&self, name: &str) {
        self.zone.lock().unwrap().records.remove(&key(name));
    }

    /// Queries for this name (and below it) get SERVFAIL.
    pub fn servfail(&self, name: &str) {
        self.zone.lock().unwrap().servfail.push(key(name));
    }

    /// Queries for this name (and below it) get no answer.
    pub fn silent(&self, name: &str) {
        self.zone.lock().unwrap().silent.push(key(name));
    }

    fn answer(&self, q: &[u8]) -> Option<Vec<u8>> {
        self.queries.fetch_add(1, Ordering::SeqCst);
        if q.len() < 12 {
            return None;
        }
        // The question: labels, then type and class.
        let mut pos = 12;
        let mut labels = Vec::new();
        loop {
            let len = *q.get(pos)? as usize;
            pos += 1;
            if len == 0 {
                break;
            }
            labels.push(String::from_utf8_lossy(q.get(pos..pos + len)?).to_ascii_lowercase());
            pos += len;
        }
        let qtype = u16::from_be_bytes([*q.get(pos)?, *q.get(pos + 1)?]);
        let question_end = pos + 4;
        let name = labels.join(".");
        let zone = self.zone.lock().unwrap();
        let under = |list: &Vec<String>| list.iter().any(|z| name == *z || name.ends_with(&format!(".{z}")));
        if under(&zone.silent) {
            return None;
        }
        let mut r = q.get(..question_end)?.to_vec();
        r[2] = 0x84 | (q[2] & 0x01); // QR, AA, RD as asked
        r[3] = 0x80; // RA, NOERROR
        r[4..6].copy_from_slice(&[0, 1]);
        r[6..12].fill(0);
        if under(&zone.servfail) {
            r[3] |= 2;
            return Some(r);
        }
        let Some(recs) = zone.records.get(&name) else {
            r[3] |= 3; // NXDOMAIN
            self.soa(&name, &mut r);
            return Some(r);
        };
        let mut count = 0u16;
        for rec in recs.iter().filter(|r| r.qtype() == qtype) {
            let mut data = Vec::new();
            match rec {
                Rec::A(ip) => data.extend_from_slice(&ip.octets()),
                Rec::Aaaa(ip) => data.extend_from_slice(&ip.octets()),
                Rec::Mx(pref, host) => {
                    data.extend_from_slice(&pref.to_be_bytes());
                    encode_name(host, &mut data);
                }
                Rec::Txt(text) => {
                    for chunk in text.as_bytes().chunks(255) {
                        data.push(chunk.len() as u8);
                        data.extend_from_slice(chunk);
                    }
                }
            }
            r.extend_from_slice(&[0xc0, 0x0c]);
            r.extend_from_slice(&qtype.to_be_bytes());
            r.extend_from_slice(&[0, 1, 0, 0, 1, 44]); // IN, TTL 300
            r.extend_from_slice(&(data.len() as u16).to_be_bytes());
            r.extend(data);
            count += 1;
        }
        r[6..8].copy_from_slice(&count.to_be_bytes());
        if count == 0 {
            self.soa(&name, &mut r);
        }
        Some(r)
    }
}
