//! Webhooks (Zammad, FreeScout): the closed set of events a `[[webhook]]`
//! subscribes to, which thread entry is which event, the HMAC-SHA256
//! signature of a delivery, and which addresses are private (never called
//! unless the webhook is configured to allow it).

use std::net::IpAddr;

use super::net::Cidr;
use super::thread::{EntryKind, Event};

/// What happened to a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WebhookEvent {
    /// A new ticket (mail, web, API).
    Created,
    /// A public message on it: an agent's reply or the requester's.
    Replied,
    /// An internal note.
    Note,
    /// Its status changed.
    StatusChanged,
    /// Any other change: fields, assignee, team, requester, collaborators,
    /// links, merge, Trash.
    Updated,
    /// An SLA target fell due unmet.
    SlaBreached,
}

impl WebhookEvent {
    pub const ALL: [WebhookEvent; 6] = [
        WebhookEvent::Created,
        WebhookEvent::Replied,
        WebhookEvent::Note,
        WebhookEvent::StatusChanged,
        WebhookEvent::Updated,
        WebhookEvent::SlaBreached,
    ];

    /// The name in `[[webhook]] events` and in each delivery.
    pub fn key(self) -> &'static str {
        match self {
            WebhookEvent::Created => "ticket.created",
            WebhookEvent::Replied => "ticket.replied",
            WebhookEvent::Note => "ticket.note",
            WebhookEvent::StatusChanged => "ticket.status_changed",
            WebhookEvent::Updated => "ticket.updated",
            WebhookEvent::SlaBreached => "sla.breached",
        }
    }

    pub fn parse(s: &str) -> Option<WebhookEvent> {
        Self::ALL.into_iter().find(|e| e.key() == s.trim())
    }

    /// The event a new thread entry is (`None`: mail bookkeeping and the
    /// like, which no one subscribes to). A ticket's first entry is its
    /// creation, reported as `Created` by the caller.
    pub fn of_entry(kind: EntryKind, event: Option<&Event>) -> Option<WebhookEvent> {
        match (kind, event) {
            (EntryKind::Reply, _) => Some(WebhookEvent::Replied),
            (EntryKind::Note, _) => Some(WebhookEvent::Note),
            (_, Some(Event::StatusChanged { .. })) => Some(WebhookEvent::StatusChanged),
            (_, Some(Event::SlaBreached { .. })) => Some(WebhookEvent::SlaBreached),
            (_, Some(Event::Because { event, .. })) if matches!(**event, Event::StatusChanged { .. }) => Some(WebhookEvent::StatusChanged),
            (
                _,
                Some(
                    Event::FieldChanged { .. }
                    | Event::FieldChangedBecause { .. }
                    | Event::Because { .. }
                    | Event::Assigned { .. }
                    | Event::Linked { .. }
                    | Event::Unlinked { .. }
                    | Event::Merged { .. }
                    | Event::Trashed
                    | Event::Restored
                    | Event::CollaboratorAdded { .. }
                    | Event::CollaboratorRemoved { .. }
                    | Event::RequesterChanged { .. }
                    | Event::ChecklistAdded { .. }
                    | Event::ChecklistChecked { .. }
                    | Event::ChecklistRemoved { .. }
                    | Event::ChecklistChanged { .. }
                    | Event::TriggerAction { .. }
                    | Event::Rated { .. },
                ),
            ) => Some(WebhookEvent::Updated),
            _ => None,
        }
    }
}

/// HMAC-SHA256 of `message` with `key`, lower-case hex.
pub fn hmac_sha256_hex(key: &[u8], message: &[u8]) -> String {
    let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
    ring::hmac::sign(&k, message).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// The `X-Frontdesk-Signature` of a delivery: `sha256=` and the HMAC of
/// `{timestamp}.{body}` (the timestamp is sent too, so a receiver can
/// refuse old replays).
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut m = format!("{timestamp}.").into_bytes();
    m.extend_from_slice(body);
    format!("sha256={}", hmac_sha256_hex(secret, &m))
}

/// Addresses a webhook may reach only when configured with
/// `allow_private`: loopback, private, link-local (cloud metadata),
/// carrier-grade NAT, unique-local, unspecified, multicast, documentation.
pub fn is_private(ip: IpAddr) -> bool {
    const RANGES: [&str; 16] = [
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "224.0.0.0/3",
        "::/127",
        "fc00::/7",
        "fe80::/10",
        "ff00::/8",
        "2001:db8::/32",
    ];
    RANGES.iter().filter_map(|r| Cidr::parse(r)).any(|c| c.contains(ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        // RFC 4231 test case 2.
        assert_eq!(
            hmac_sha256_hex(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(signature(b"k", 5, b"{}").starts_with("sha256="));
    }

    #[test]
    fn private_addresses() {
        for ip in ["127.0.0.1", "10.1.2.3", "172.20.0.1", "192.168.1.1", "169.254.169.254", "::1", "fd00::1", "::ffff:127.0.0.1", "0.0.0.0"]
        {
            assert!(is_private(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:4700::1111", "172.32.0.1"] {
            assert!(!is_private(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn entries_map_to_events() {
        assert_eq!(WebhookEvent::of_entry(EntryKind::Reply, None), Some(WebhookEvent::Replied));
        let st = Event::StatusChanged { from: "Open".into(), to: "Pending".into() };
        assert_eq!(WebhookEvent::of_entry(EntryKind::Event, Some(&st)), Some(WebhookEvent::StatusChanged));
        let because = Event::Because { event: Box::new(st), reason: "x".into() };
        assert_eq!(WebhookEvent::of_entry(EntryKind::Event, Some(&because)), Some(WebhookEvent::StatusChanged));
        assert_eq!(WebhookEvent::of_entry(EntryKind::Event, Some(&Event::Trashed)), Some(WebhookEvent::Updated));
        let sent = Event::MailSent { kind: "ack".into(), to: vec![] };
        assert_eq!(WebhookEvent::of_entry(EntryKind::Event, Some(&sent)), None);
        for e in WebhookEvent::ALL {
            assert_eq!(WebhookEvent::parse(e.key()), Some(e));
        }
    }
}
