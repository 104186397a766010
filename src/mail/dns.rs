//! A minimal DNS client for MX lookups (direct delivery without a smarthost):
//! one UDP query to the configured or system resolver, answers parsed with
//! name compression. Host addresses then come from the system resolver.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::UdpSocket;

/// The first `nameserver` of /etc/resolv.conf.
pub fn system_resolver() -> Option<SocketAddr> {
    let conf = std::fs::read_to_string("/etc/resolv.conf").ok()?;
    conf.lines().find_map(|l| {
        let mut w = l.split_whitespace();
        (w.next() == Some("nameserver"))
            .then(|| w.next())
            .flatten()
            .and_then(|ip| ip.parse::<std::net::IpAddr>().ok())
            .map(|ip| SocketAddr::new(ip, 53))
    })
}

fn query(id: u16, domain: &str) -> Vec<u8> {
    let mut q = Vec::with_capacity(32 + domain.len());
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]); // RD; one question
    for label in domain.trim_end_matches('.').split('.') {
        q.push(label.len().min(63) as u8);
        q.extend_from_slice(&label.as_bytes()[..label.len().min(63)]);
    }
    q.push(0);
    q.extend_from_slice(&[0, 15, 0, 1]); // QTYPE MX, QCLASS IN
    q
}

/// Reads a (possibly compressed) name at `pos`; returns it and the position after it.
fn name(msg: &[u8], mut pos: usize) -> Option<(String, usize)> {
    let mut labels = Vec::new();
    let mut end = None;
    for _ in 0..64 {
        let len = *msg.get(pos)? as usize;
        if len == 0 {
            return Some((labels.join("."), end.unwrap_or(pos + 1)));
        }
        if len & 0xc0 == 0xc0 {
            let ptr = ((len & 0x3f) << 8) | *msg.get(pos + 1)? as usize;
            end.get_or_insert(pos + 2);
            pos = ptr;
            continue;
        }
        labels.push(String::from_utf8_lossy(msg.get(pos + 1..pos + 1 + len)?).into_owned());
        pos += 1 + len;
    }
    None
}

/// MX hosts from a response, lowest preference first.
fn parse(msg: &[u8], id: u16) -> Option<Vec<(u16, String)>> {
    if msg.len() < 12 || u16::from_be_bytes([msg[0], msg[1]]) != id {
        return None;
    }
    let rcode = msg[3] & 0x0f;
    if rcode == 3 {
        return Some(Vec::new()); // NXDOMAIN
    }
    let qd = u16::from_be_bytes([msg[4], msg[5]]) as usize;
    let an = u16::from_be_bytes([msg[6], msg[7]]) as usize;
    let mut pos = 12;
    for _ in 0..qd {
        pos = name(msg, pos)?.1 + 4;
    }
    let mut out = Vec::new();
    for _ in 0..an {
        pos = name(msg, pos)?.1;
        let rtype = u16::from_be_bytes([*msg.get(pos)?, *msg.get(pos + 1)?]);
        let rdlen = u16::from_be_bytes([*msg.get(pos + 8)?, *msg.get(pos + 9)?]) as usize;
        let rdata = pos + 10;
        if rtype == 15 {
            let pref = u16::from_be_bytes([*msg.get(rdata)?, *msg.get(rdata + 1)?]);
            out.push((pref, name(msg, rdata + 2)?.0));
        }
        pos = rdata + rdlen;
    }
    out.sort();
    Some(out)
}

/// The mail hosts for a domain: its MX records by preference, or the domain
/// itself when it has none (RFC 5321 5.1 implicit MX).
pub async fn mail_hosts(domain: &str, resolver: SocketAddr) -> Result<Vec<String>, String> {
    let sock = UdpSocket::bind(if resolver.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" }).await.map_err(|e| e.to_string())?;
    let id = (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(7) & 0xffff) as u16;
    let q = query(id, domain);
    let mut buf = vec![0u8; 4096];
    for _ in 0..3 {
        sock.send_to(&q, resolver).await.map_err(|e| e.to_string())?;
        if let Ok(Ok((n, _))) = tokio::time::timeout(Duration::from_secs(3), sock.recv_from(&mut buf)).await
            && let Some(mx) = parse(&buf[..n], id)
        {
            let hosts: Vec<String> = mx.into_iter().map(|(_, h)| h).filter(|h| !h.is_empty()).collect();
            return Ok(if hosts.is_empty() { vec![domain.to_string()] } else { hosts });
        }
    }
    Err(format!("no answer from the DNS resolver {resolver} for the MX of {domain}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_compressed_mx_answer() {
        let mut r = query(0x1234, "example.com");
        r[2] = 0x81;
        r[3] = 0x80;
        r[7] = 2; // two answers
        for (pref, host) in [(20u16, &b"\x03mx2\xc0\x0c"[..]), (10, &b"\x03mx1\xc0\x0c"[..])] {
            r.extend_from_slice(&[0xc0, 0x0c, 0, 15, 0, 1, 0, 0, 0, 60]);
            r.extend_from_slice(&((host.len() + 2) as u16).to_be_bytes());
            r.extend_from_slice(&pref.to_be_bytes());
            r.extend_from_slice(host);
        }
        assert_eq!(parse(&r, 0x1234), Some(vec![(10, "mx1.example.com".into()), (20, "mx2.example.com".into())]));
        assert_eq!(parse(&r, 0x9999), None, "wrong id");
        assert_eq!(parse(&r[..20], 0x1234), None, "truncated");
    }
}
