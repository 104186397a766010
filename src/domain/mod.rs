//! Pure help-desk rules: tickets, statuses, thread entries, people, permissions
//! (`roles`: what an agent's role allows),
//! sender authentication results (`auth`), delivery reports (`dsn`), the spam
//! rule score (`spam`), satisfaction ratings (`rating`), knowledge base
//! articles (`kb`) and their Markdown (`markdown`),
//! the mail vocabulary (parsing and classifying a message: `mail`), the search
//! box grammar (`query`), text matching (`text`), filling `{name}` templates
//! (`template`) and the workflow's closed sets
//! (`workflow`: mail kinds, bulk actions).
//!
//! Nothing in here touches I/O or reads the clock; callers pass `now` in. This is
//! where the business rules live and where they are unit-tested exhaustively.

pub mod access;
pub mod audit;
pub mod auth;
pub mod calendar;
pub mod checklist;
pub mod commands;
pub mod csv;
pub mod dsn;
pub mod fields;
pub mod header;
pub mod htmltext;
pub mod ids;
pub mod kb;
pub mod mail;
pub mod markdown;
pub mod mentions;
pub mod net;
pub mod orgs;
pub mod password;
pub mod people;
pub mod query;
pub mod rating;
pub mod rawheaders;
pub mod report;
pub mod roles;
pub mod sla;
pub mod spam;
pub mod template;
pub mod text;
pub mod thread;
pub mod ticket;
pub mod time;
pub mod twofactor;
pub mod verdict;
pub mod webhook;
pub mod workflow;

pub use ids::{
    ArticleId, AuditId, ChecklistItemId, DeliveryId, JobId, JunkId, KbCategoryId, OrgId, OutMailId, PersonId, SpoolId, TicketId,
};
pub use people::{Person, Role};
pub use thread::{EntryKind, Event, ThreadEntry};
pub use ticket::{Channel, Priority, Status, Ticket, TicketRef, TransitionError};
pub use time::Timestamp;
pub use workflow::{BulkAction, MailKind, NoticeKind};
