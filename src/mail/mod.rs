//! Mail adapters: the SMTP receiver (`smtp/`), the durable spool with group
//! commit (`spool`), the worker that turns spooled mail into tickets
//! (`worker`), sender authentication (`auth`), DNSBL and greylisting (`screen`), outgoing delivery (`outbound`,
//! DKIM signing in `dkim`), the one DNS resolver (`dns`), the records to
//! publish (`records`, `frontdesk dns`), `ingest`, fetching from `[[imap]]`
//! mailboxes (`imap`) and
//! STARTTLS keys (`tls`). Parsing (`inbound`, in `domain::mail`) and the templates (in
//! `desk::templates`) are re-exported here under their old names.
//!
//! No byte offset found in one string may cut another (lower-casing changes
//! byte lengths): string slicing by index is denied here; use `str::get`,
//! `split_once` or `domain::text`.
#![deny(clippy::string_slice)]

pub mod auth;
pub mod dkim;
pub mod dns;
/// Parsing and classifying inbound mail lives in `domain::mail` (pure).
pub use crate::domain::mail as inbound;
pub mod imap;
pub mod import;
pub mod ingest;
pub mod outbound;
pub mod records;
pub mod rspamd;
pub mod screen;
pub mod smtp;
pub mod spool;
/// The mail templates live with the desk that renders them.
pub use crate::desk::templates;
pub mod tls;
pub mod worker;
