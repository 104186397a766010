//! EHLO and HELO: greet, reset the transaction, advertise extensions.

use super::session::{Flow, Session};

impl Session<'_> {
    pub(super) fn ehlo(&mut self, host: String, extended: bool) -> Flow {
        let host: String = host.chars().filter(|c| !c.is_control() && !c.is_whitespace()).take(255).collect();
        if host.is_empty() {
            self.error("501 5.5.4 Syntax: EHLO hostname");
            return Flow::Continue;
        }
        self.reset_transaction();
        self.helo = Some(host.clone());
        self.esmtp = extended;
        let smtp = &self.srv.config.smtp;
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
}
