//! Versioned record codec: one version byte, then the record in postcard.
//!
//! A record type changes shape only with a new version byte and a decoder for
//! the old one, so a newer binary can always read what an older one wrote.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Result, StoreError};
use crate::domain::Ticket;

/// Version byte of every record type other than tickets.
pub const RECORD_V1: u8 = 1;
/// Tickets gained `due` and `tags` in version 2.
pub const TICKET_V2: u8 = 2;

pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    encode_with(RECORD_V1, value)
}

pub(crate) fn encode_with<T: Serialize>(version: u8, value: &T) -> Vec<u8> {
    let out = vec![version];
    // Serializing our own in-memory types to a Vec cannot fail for postcard
    // (no maps with non-string keys, no unsized sequences); keep it total anyway.
    match postcard::to_extend(value, out) {
        Ok(v) => v,
        Err(_) => vec![0],
    }
}

pub fn decode<T: DeserializeOwned>(bytes: &[u8], table: &'static str) -> Result<T> {
    match bytes.split_first() {
        Some((&RECORD_V1, rest)) => postcard::from_bytes(rest).map_err(|e| StoreError::Corrupt { table, detail: e.to_string() }),
        Some((v, _)) => Err(StoreError::Corrupt { table, detail: format!("unknown record version {v}") }),
        None => Err(StoreError::Corrupt { table, detail: "empty record".into() }),
    }
}

pub fn encode_ticket(t: &Ticket) -> Vec<u8> {
    encode_with(TICKET_V2, t)
}

/// Decodes a ticket of any version this binary knows.
pub fn decode_ticket(bytes: &[u8]) -> Result<Ticket> {
    let corrupt = |e: postcard::Error| StoreError::Corrupt { table: "tickets", detail: e.to_string() };
    match bytes.split_first() {
        Some((&TICKET_V2, rest)) => postcard::from_bytes(rest).map_err(corrupt),
        Some((&RECORD_V1, rest)) => {
            let old: super::migrate::TicketV1 = postcard::from_bytes(rest).map_err(corrupt)?;
            Ok(old.upgrade())
        }
        Some((v, _)) => Err(StoreError::Corrupt { table: "tickets", detail: format!("unknown ticket version {v}") }),
        None => Err(StoreError::Corrupt { table: "tickets", detail: "empty record".into() }),
    }
}
