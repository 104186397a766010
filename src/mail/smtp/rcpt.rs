//! RCPT TO: only the desk's own mailboxes (with +tag) and postmaster, never
//! relay; greylisting (`mail::screen`) answers here.

use smtp_proto::RcptTo;

use super::session::{Flow, Session};

impl Session<'_> {
    pub(super) fn rcpt(&mut self, to: RcptTo<String>) -> Flow {
        if self.mail_from.is_none() {
            self.error("503 5.5.1 Need MAIL FROM before RCPT TO");
            return Flow::Continue;
        }
        if self.rcpts.len() >= self.srv.config().smtp.max_recipients {
            self.reply(&format!("452 4.5.3 Too many recipients (limit {})", self.srv.config().smtp.max_recipients));
            return Flow::Continue;
        }
        let addr = to.address.trim().to_lowercase();
        // smtp-proto hands a bare <postmaster> over as the empty address.
        let addr = if addr.is_empty() { "postmaster".to_string() } else { addr };
        // RFC 5321 4.5.1: postmaster (bare, or at one of our domains) must be
        // accepted; the worker routes its mail to the admins.
        let postmaster = self.srv.config().is_postmaster(&addr);
        if self.srv.config().mailbox_for(&addr).is_none() && !postmaster {
            let shown: String = addr.chars().filter(|c| !c.is_control()).take(100).collect();
            self.error(&format!("550 5.1.1 <{shown}>: no such mailbox here; this server only accepts mail for its own addresses"));
            return Flow::Continue;
        }
        if let Some(wait) = self
            .srv
            .checks
            .screen
            .as_ref()
            .filter(|_| !self.srv.config().trusted_relay(self.remote.ip()))
            .and_then(|s| s.greylisted(self.remote.ip(), self.mail_from.as_deref().unwrap_or_default(), &addr))
        {
            self.reply(&format!("451 4.7.1 Greylisted: please try again in {wait} seconds"));
            return Flow::Continue;
        }
        if !self.rcpts.contains(&addr) {
            self.rcpts.push(addr.clone());
        }
        self.reply(&format!("250 2.1.5 Recipient <{addr}> OK"));
        Flow::Continue
    }
}
