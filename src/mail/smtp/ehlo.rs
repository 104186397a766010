//! EHLO and HELO: greet, reset the transaction, advertise extensions; a
//! client from outside that names itself as this server is refused (a
//! forger's trick: no real server calls itself by its receiver's name).

use super::session::{Flow, Session};

impl Session<'_> {
    pub(super) fn ehlo(&mut self, host: String, extended: bool) -> Flow {
        let host: String = host.chars().filter(|c| !c.is_control() && !c.is_whitespace()).take(255).collect();
        if host.is_empty() {
            self.error("501 5.5.4 Syntax: EHLO hostname");
            return Flow::Continue;
        }
        if self.claims_to_be_us(&host) {
            self.error(&format!("550 5.7.1 {host} is this server's own name: say EHLO with yours"));
            return Flow::Continue;
        }
        self.reset_transaction();
        self.helo = Some(host.clone());
        self.esmtp = extended;
        let smtp = &self.srv.config().smtp;
        let me = smtp.hostname.clone();
        if !extended {
            self.reply(&format!("250 {me} Hello {host}"));
            return Flow::Continue;
        }
        let mut lines = vec![
            format!("{me} Hello {host} [{}]", self.remote.ip()),
            format!("SIZE {}", smtp.max_message_size),
            "8BITMIME".to_string(),
            "PIPELINING".to_string(),
            "ENHANCEDSTATUSCODES".to_string(),
            "SMTPUTF8".to_string(),
            "CHUNKING".to_string(),
        ];
        if self.srv.tls.is_some() && !self.tls {
            lines.push("STARTTLS".to_string());
        }
        let last = lines.len() - 1;
        for (i, l) in lines.iter().enumerate() {
            let sep = if i == last { ' ' } else { '-' };
            self.reply(&format!("250{sep}{l}"));
        }
        Flow::Continue
    }

    /// The HELO name is this server's (`smtp.hostname` or our address
    /// literal) while the client is neither this host (127.0.0.1, ::1: local
    /// tools) nor a trusted relay. A mailbox domain is not refused: a
    /// company's own mail server may greet with its bare domain.
    fn claims_to_be_us(&self, host: &str) -> bool {
        let ip = self.remote.ip();
        let local = ip == std::net::IpAddr::from([127, 0, 0, 1]) || ip == std::net::IpAddr::from(std::net::Ipv6Addr::LOCALHOST);
        if local || self.srv.config().trusted_relay(ip) {
            return false;
        }
        let cfg = &self.srv.config();
        let name = host.trim_end_matches('.');
        (name.eq_ignore_ascii_case(&cfg.smtp.hostname) && !name.eq_ignore_ascii_case("localhost"))
            || self.local.is_some_and(|me| name.trim_matches(['[', ']']) == me.ip().to_string())
    }
}
