//! MAIL FROM: start a transaction; size and ban-list checks.

use smtp_proto::MailFrom;

use super::session::{Flow, Session};

impl Session<'_> {
    pub(super) fn mail(&mut self, from: MailFrom<String>) -> Flow {
        if self.helo.is_none() {
            self.error("503 5.5.1 Send EHLO or HELO first");
            return Flow::Continue;
        }
        if self.mail_from.is_some() {
            self.error("503 5.5.1 Sender already given; RSET to start over");
            return Flow::Continue;
        }
        let max = self.srv.config().smtp.max_message_size;
        if from.size > max {
            self.error(&format!("552 5.3.4 Message size exceeds the limit of {max} bytes"));
            return Flow::Continue;
        }
        if from.size > 0 && !self.srv.data_budget_has(from.size) {
            self.reply("452 4.3.1 Insufficient system storage, try again later");
            return Flow::Continue;
        }
        let address = from.address.trim().to_string();
        if !address.is_empty() && self.srv.config().sender_banned(&address) {
            self.error("550 5.7.1 Sender refused by policy");
            return Flow::Continue;
        }
        self.reply(&format!("250 2.1.0 Sender <{address}> OK"));
        self.mail_from = Some(address);
        Flow::Continue
    }
}
