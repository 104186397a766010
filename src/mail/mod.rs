//! Mail: the SMTP receiver (`smtp/`), the durable spool with group commit
//! (`spool`), parsing and classifying inbound messages (`inbound`), the worker
//! that turns spooled mail into tickets (`worker`), and STARTTLS keys (`tls`).
//!
//! No byte offset found in one string may cut another (lower-casing changes
//! byte lengths): string slicing by index is denied here; use `str::get`,
//! `split_once` or `domain::text`.
#![deny(clippy::string_slice)]

pub mod dns;
pub mod inbound;
pub mod ingest;
pub mod outbound;
pub mod smtp;
pub mod spool;
pub mod templates;
pub mod tls;
pub mod worker;
