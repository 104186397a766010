//! Delivery status notifications (RFC 3464): which recipients of a mail the
//! desk sent failed, and why, read from the `message/delivery-status` part
//! of a bounce. Pure; a malformed report just yields no recipients (the
//! bounce is then only mail, as before).

#![deny(clippy::string_slice)]

/// One per-recipient block of a DSN.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DsnRecipient {
    /// `Final-Recipient` (or `Original-Recipient`), without its `rfc822;`.
    pub recipient: String,
    /// `Action`: failed, delayed, delivered, relayed, expanded.
    pub action: String,
    /// `Status`: 5.1.1 and the like.
    pub status: String,
    /// `Diagnostic-Code` without its type, e.g. "550 5.1.1 User unknown".
    pub diagnostic: String,
}

impl DsnRecipient {
    /// Delivery to it failed for good (not just delayed).
    pub fn failed(&self) -> bool {
        self.action.eq_ignore_ascii_case("failed")
    }

    /// A permanent failure (5.x.x): the address does not take mail.
    pub fn hard(&self) -> bool {
        self.failed() && self.status.trim_start().starts_with('5')
    }

    /// Why, in the remote server's words when it gave them.
    pub fn reason(&self) -> String {
        let d = self.diagnostic.trim();
        if d.is_empty() { format!("status {}", self.status.trim()) } else { d.chars().take(300).collect() }
    }
}

/// The field blocks of a delivery-status body (blank-line separated,
/// continuation lines unfolded), each as (lower-case name, value) pairs.
fn blocks(text: &str) -> Vec<Vec<(String, String)>> {
    let mut out: Vec<Vec<(String, String)>> = vec![Vec::new()];
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            if out.last().is_some_and(|b| !b.is_empty()) {
                out.push(Vec::new());
            }
            continue;
        }
        let Some(block) = out.last_mut() else { continue };
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = block.last_mut() {
                v.push(' ');
                v.push_str(line.trim());
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            block.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    out.retain(|b| !b.is_empty());
    out
}

/// The value after a DSN type prefix (`rfc822; a@b` → `a@b`).
fn typed(v: &str) -> &str {
    v.split_once(';').map(|(_, rest)| rest).unwrap_or(v).trim()
}

/// The recipients of one `message/delivery-status` body.
pub fn parse_delivery_status(text: &str) -> Vec<DsnRecipient> {
    let mut out = Vec::new();
    for block in blocks(text) {
        let get = |name: &str| block.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let Some(rcpt) = get("final-recipient").or_else(|| get("original-recipient")) else { continue };
        let recipient = typed(rcpt).trim_matches(['<', '>']).to_ascii_lowercase();
        if recipient.is_empty() || !recipient.contains('@') {
            continue;
        }
        out.push(DsnRecipient {
            recipient,
            action: get("action").unwrap_or_default().to_ascii_lowercase(),
            status: get("status").unwrap_or_default().to_string(),
            diagnostic: get("diagnostic-code").map(typed).unwrap_or_default().to_string(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_postfix_style_report() {
        let body = "Reporting-MTA: dns; mx.example.net\r\nArrival-Date: Wed, 2 Dec 2026 05:00:00 +0000\r\n\r\n\
                    Final-Recipient: rfc822; Gone@Customer.test\r\nOriginal-Recipient: rfc822;gone@customer.test\r\nAction: failed\r\n\
                    Status: 5.1.1\r\nRemote-MTA: dns; mx.customer.test\r\nDiagnostic-Code: smtp; 550 5.1.1 <gone@customer.test>:\r\n    \
                    Recipient address rejected: User unknown\r\n\r\nFinal-Recipient: rfc822; slow@customer.test\r\nAction: delayed\r\nStatus: 4.4.1\r\n";
        let r = parse_delivery_status(body);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].recipient, "gone@customer.test");
        assert!(r[0].hard());
        assert_eq!(r[0].reason(), "550 5.1.1 <gone@customer.test>: Recipient address rejected: User unknown");
        assert!(!r[1].failed() && !r[1].hard());
        assert_eq!(r[1].reason(), "status 4.4.1");
    }

    #[test]
    fn malformed_reports_give_nothing() {
        assert!(parse_delivery_status("").is_empty());
        assert!(parse_delivery_status("just text\nno fields").is_empty());
        assert!(parse_delivery_status("Final-Recipient: rfc822; not-an-address\nAction: failed\n").is_empty());
        assert!(parse_delivery_status("\n\n  continued first\nAction failed").is_empty());
    }
}
