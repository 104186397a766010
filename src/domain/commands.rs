//! Email commands: `#`-lines at the top of a mail that act on its ticket
//! (seed 002's "email commands"). Agents (from a verified reply) may use
//! all of them; a collaborator only `#unsubscribe`. Reading stops at the
//! first line that is not a known command, so `#1 priority is …` in a text
//! is text.

use super::ticket::{Priority, Status, normalize_tags};

/// Who `#assign` / `#tech` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assignee {
    /// The sender.
    Me,
    /// An agent's address (lower-cased).
    Email(String),
    /// An agent's name as typed ("Ada", "Ada Lovelace").
    Name(String),
}

/// One command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Keep the mail as an internal note.
    Note,
    Status(Status),
    /// A status by a name that is not a built-in one (the desk's `[[status]]`).
    CustomStatus(String),
    Assign(Assignee),
    Priority(Priority),
    /// Tags to add (normalised).
    Tags(Vec<String>),
    Category(String),
    /// A collaborator leaves the conversation.
    Unsubscribe,
    /// Mail the sender the list of commands.
    Help,
}

impl Command {
    pub fn status(&self) -> Option<Status> {
        match self {
            Command::Status(s) => Some(*s),
            _ => None,
        }
    }

    pub fn custom_status(&self) -> Option<&str> {
        match self {
            Command::CustomStatus(s) => Some(s),
            _ => None,
        }
    }

    pub fn assignee(&self) -> Option<&Assignee> {
        match self {
            Command::Assign(a) => Some(a),
            _ => None,
        }
    }

    /// Whether it changes the ticket's fields (needs `tickets.edit`).
    pub fn edits(&self) -> bool {
        matches!(
            self,
            Command::Status(_)
                | Command::CustomStatus(_)
                | Command::Assign(_)
                | Command::Priority(_)
                | Command::Tags(_)
                | Command::Category(_)
        )
    }
}

/// The text `#help` mails back (statuses and priorities as the desk has
/// them; `custom`: its own statuses).
pub fn help_text(custom: &[String]) -> String {
    let keys = |k: Vec<&str>| k.join(", ");
    format!(
        "Commands go at the top of your reply, one per line; the first line that is\n\
         not a command starts your message.\n\n\
         \x20 #note                 keep this mail as an internal note (no customer mail)\n\
         \x20 #close / #resolve     close or resolve the ticket\n\
         \x20 #status <status>      {}\n\
         \x20 #assign me            assign the ticket to yourself\n\
         \x20 #assign <name|email>  assign it to an agent (also #tech)\n\
         \x20 #priority <priority>  {}\n\
         \x20 #tag <a, b>           add tags\n\
         \x20 #category <name>      set the category\n\
         \x20 #help                 this list\n\n\
         A mail of commands only is kept as an internal note.\n\
         Customers copied on a ticket may send #unsubscribe to stop its mail.\n",
        keys(Status::ALL.iter().filter(|s| **s != Status::Snoozed).map(|s| s.key()).chain(custom.iter().map(String::as_str)).collect()),
        keys(Priority::ALL.iter().map(|p| p.key()).collect()),
    )
}

/// Reads the commands at the top of `text`; returns them and the text
/// without them. A command with a bad argument ends the reading (it stays
/// in the text, where the agents see it).
pub fn parse(text: &str) -> (Vec<Command>, String) {
    let mut cmds = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.peek() {
        let l = line.trim();
        if l.is_empty() && !cmds.is_empty() {
            lines.next();
            continue;
        }
        let Some(cmd) = l.strip_prefix('#').and_then(one) else { break };
        cmds.push(cmd);
        lines.next();
    }
    (cmds, lines.collect::<Vec<_>>().join("\n"))
}

/// One command line without its `#`.
fn one(rest: &str) -> Option<Command> {
    let (word, arg) = rest.split_once(char::is_whitespace).map(|(w, a)| (w, a.trim())).unwrap_or((rest, ""));
    let word = word.to_lowercase();
    let single = !arg.is_empty() && !arg.contains(char::is_whitespace);
    Some(match (word.as_str(), arg) {
        ("note", "") => Command::Note,
        ("close", "") => Command::Status(Status::Closed),
        ("resolve", "") => Command::Status(Status::Resolved),
        ("status", s) if single && Status::parse(s).is_some() => Command::Status(Status::parse(s).filter(|s| *s != Status::Snoozed)?),
        ("status", s) if !s.is_empty() && s.chars().count() <= 40 => Command::CustomStatus(s.to_string()),
        ("assign" | "tech", w) if w.eq_ignore_ascii_case("me") => Command::Assign(Assignee::Me),
        ("assign" | "tech", w) if single && w.contains('@') => Command::Assign(Assignee::Email(w.trim_matches(['<', '>']).to_lowercase())),
        ("assign" | "tech", w) if !w.is_empty() && w.chars().count() <= 100 => {
            Command::Assign(Assignee::Name(w.split_whitespace().collect::<Vec<_>>().join(" ")))
        }
        ("priority", p) if single => Command::Priority(Priority::parse(p)?),
        ("tag" | "tags", t) if !t.is_empty() => {
            let tags = normalize_tags([t]);
            if tags.is_empty() {
                return None;
            }
            Command::Tags(tags)
        }
        ("category", c) if !c.is_empty() && c.chars().count() <= 100 => Command::Category(c.to_string()),
        ("unsubscribe", "") => Command::Unsubscribe,
        ("help", "") => Command::Help,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn commands_are_read_from_the_top_only() {
        let (c, rest) = parse("#note\n#assign me\n#status pending\n\nChecked the logs.\n#close");
        assert_eq!(c, vec![Command::Note, Command::Assign(Assignee::Me), Command::Status(Status::Pending)]);
        assert_eq!(rest, "Checked the logs.\n#close");
        let (c, rest) = parse("#1 priority is the VPN\nrest");
        assert!(c.is_empty());
        assert_eq!(rest, "#1 priority is the VPN\nrest");
        let (c, _) = parse("#assign Bob@Example.test\n#close\nok");
        assert_eq!(c, vec![Command::Assign(Assignee::Email("bob@example.test".into())), Command::Status(Status::Closed)]);
    }

    #[test]
    fn the_full_set() {
        let (c, rest) = parse("#tech  Ada   Lovelace\n#priority high\n#tag VPN, Remote work\n#category Network\n#help\nThanks");
        assert_eq!(
            c,
            vec![
                Command::Assign(Assignee::Name("Ada Lovelace".into())),
                Command::Priority(Priority::High),
                Command::Tags(vec!["vpn".into(), "remote-work".into()]),
                Command::Category("Network".into()),
                Command::Help,
            ]
        );
        assert_eq!(rest, "Thanks");
        assert_eq!(parse("#unsubscribe\n").0, vec![Command::Unsubscribe]);
        // A bad argument ends the commands; the line stays in the text.
        let (c, rest) = parse("#priority whenever\nhi");
        assert!(c.is_empty() && rest.starts_with("#priority whenever"));
        assert!(parse("#status\n").0.is_empty());
        assert!(parse("#tag ,,\n").0.is_empty());
        assert!(parse("#help me please\n").0.is_empty(), "#help takes no argument");
        let help = help_text(&["Waiting for vendor".to_string()]);
        assert!(help.contains("on_hold") && help.contains("medium") && help.contains("  #tag <a, b>"), "{help}");
        assert!(help.contains("closed, Waiting for vendor") && !help.contains("snoozed"), "{help}");
        assert_eq!(
            parse(
                "#status Waiting for vendor
Ordered."
            )
            .0,
            vec![Command::CustomStatus("Waiting for vendor".into())]
        );
    }

    proptest! {
        #[test]
        fn parsing_never_panics_and_keeps_the_rest(text in "(#?[a-zA-Z ,@.é]{0,20}\n){0,6}[^#]{0,20}") {
            let (cmds, rest) = parse(&text);
            prop_assert!(cmds.len() <= text.lines().count());
            // What is left is the tail of the mail's lines, unchanged.
            let lines: Vec<&str> = text.lines().collect();
            let left: Vec<&str> = if rest.is_empty() { Vec::new() } else { rest.split('\n').collect() };
            prop_assert!(left.len() <= lines.len());
            prop_assert_eq!(&lines[lines.len() - left.len()..], left.as_slice());
        }
    }
}
