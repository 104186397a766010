//! A small blocking SMTP client for tests: speaks the protocol over real TCP.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

pub struct Smtp {
    r: BufReader<TcpStream>,
    w: TcpStream,
}

pub type Reply = (u16, String);

impl Smtp {
    /// Connects and reads the greeting.
    pub fn connect(addr: &str) -> (Smtp, Reply) {
        let s = TcpStream::connect(addr).expect("connect smtp");
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut c = Smtp { r: BufReader::new(s.try_clone().unwrap()), w: s };
        let g = c.reply();
        (c, g)
    }

    /// Connects from another local address (127.0.0.2 plays a client from
    /// outside) and reads the greeting.
    pub async fn connect_from(addr: &str, local: &str) -> (Smtp, Reply) {
        let sock = tokio::net::TcpSocket::new_v4().unwrap();
        sock.bind(format!("{local}:0").parse().unwrap()).unwrap();
        let s = sock.connect(addr.parse().unwrap()).await.expect("connect smtp").into_std().unwrap();
        s.set_nonblocking(false).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut c = Smtp { r: BufReader::new(s.try_clone().unwrap()), w: s };
        let g = c.reply();
        (c, g)
    }

    pub fn reply(&mut self) -> Reply {
        let mut text = String::new();
        loop {
            let mut line = String::new();
            let n = self.r.read_line(&mut line).unwrap_or(0);
            if n == 0 {
                return (0, text);
            }
            text.push_str(&line);
            if line.as_bytes().get(3) != Some(&b'-') {
                return (line.get(..3).and_then(|c| c.parse().ok()).unwrap_or(0), text.trim_end().to_string());
            }
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        let _ = self.w.write_all(bytes);
    }

    pub fn cmd(&mut self, line: &str) -> Reply {
        self.send(format!("{line}\r\n").as_bytes());
        self.reply()
    }

    /// Dot-stuffs and terminates message content.
    pub fn data_bytes(msg: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(msg.len() + 16);
        for line in msg.split_inclusive(|&b| b == b'\n') {
            if line.first() == Some(&b'.') {
                out.push(b'.');
            }
            let l = line.strip_suffix(b"\n").unwrap_or(line);
            let l = l.strip_suffix(b"\r").unwrap_or(l);
            out.extend_from_slice(l);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b".\r\n");
        out
    }

    /// One whole transaction on an open session; returns the final reply
    /// (or the first refusal).
    pub fn transaction(&mut self, from: &str, to: &[&str], msg: &[u8]) -> Reply {
        let r = self.cmd(&format!("MAIL FROM:<{from}>"));
        if r.0 != 250 {
            return r;
        }
        let mut ok = 0;
        let mut last = (0, String::new());
        for t in to {
            last = self.cmd(&format!("RCPT TO:<{t}>"));
            if last.0 == 250 {
                ok += 1;
            }
        }
        if ok == 0 {
            self.cmd("RSET");
            return last;
        }
        let r = self.cmd("DATA");
        if r.0 != 354 {
            return r;
        }
        self.send(&Self::data_bytes(msg));
        self.reply()
    }

    /// Connect, EHLO, one message, QUIT.
    pub fn send_mail(addr: &str, from: &str, to: &[&str], msg: &[u8]) -> Reply {
        let (mut c, _) = Smtp::connect(addr);
        let e = c.cmd("EHLO client.example.org");
        assert_eq!(e.0, 250, "{}", e.1);
        let r = c.transaction(from, to, msg);
        c.cmd("QUIT");
        r
    }
}
