//! STARTTLS (RFC 3207): answer 220 and hand the connection to rustls.

use super::session::{Flow, Session};

impl Session<'_> {
    pub(super) fn starttls(&mut self) -> Flow {
        if self.tls {
            self.error("503 5.5.1 TLS already active");
            return Flow::Continue;
        }
        if self.srv.tls.is_none() {
            self.error("502 5.5.1 STARTTLS not available");
            return Flow::Continue;
        }
        if self.mail_from.is_some() {
            self.error("503 5.5.1 STARTTLS not allowed during a mail transaction");
            return Flow::Continue;
        }
        self.reply("220 2.0.0 Ready to start TLS");
        Flow::StartTls
    }
}
