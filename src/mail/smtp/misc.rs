//! The rest: NOOP, VRFY (252), EXPN (502), HELP, and refusals of AUTH and the
//! extensions an MX does not offer.

use smtp_proto::Request;

use super::session::{Flow, Session};

impl Session<'_> {
    pub(super) fn misc(&mut self, req: Request<String>) -> Flow {
        match req {
            Request::Noop { .. } => self.reply("250 2.0.0 OK"),
            Request::Vrfy { .. } => self.reply("252 2.5.0 Cannot VRFY user, but will accept mail for the desk's mailboxes"),
            Request::Expn { .. } => self.error("502 5.5.1 EXPN not available"),
            Request::Help { .. } => self
                .reply("214 2.0.0 frontdesk: an MX for a help desk. Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP VRFY STARTTLS QUIT"),
            Request::Auth { .. } => self.error("502 5.5.1 AUTH not available: this is an MX, not a submission server"),
            Request::Lhlo { .. } => self.error("502 5.5.1 LMTP not available"),
            other => {
                let name = other.name();
                self.error(&format!("502 5.5.1 {name} not available"));
            }
        }
        Flow::Continue
    }
}
