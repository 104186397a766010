//! Versioned record codec: one version byte, then the record in postcard.
//!
//! A record type changes shape only with a new version byte and a decoder for
//! the old one, so a newer binary can always read what an older one wrote.
//! A flag in the version byte says the postcard bytes are compressed
//! (`store::compress`): `ZSTD` from schema 13, `COMPRESSED` (lz4) for what
//! schemas 6–12 wrote. Records of a few hundred bytes and more — thread
//! entries, mail details, outgoing mail — are kept compressed when that
//! saves at least an eighth.

use std::borrow::Cow;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::compress::Codec;
use super::{Result, StoreError};
use crate::domain::Ticket;

/// Version byte of every record type other than tickets.
pub const RECORD_V1: u8 = 1;
/// Tickets gained `due` and `tags` in version 2.
pub const TICKET_V2: u8 = 2;

pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    encode_with(RECORD_V1, value)
}

/// The version byte's flag for a record lz4-compressed by schemas 6–12.
pub const COMPRESSED: u8 = 0x80;
/// The version byte's flag for a zstd-compressed record (schema 13 on).
pub const ZSTD: u8 = 0x40;
const FLAGS: u8 = COMPRESSED | ZSTD;
/// Both flags: a record zstd-compressed against its mail's raw source
/// (schema 15, `store::sourced`); reading it needs that source.
pub const AGAINST_SOURCE: u8 = FLAGS;

/// Whether a stored record was compressed against its mail's source.
pub fn needs_source(bytes: &[u8]) -> bool {
    bytes.first().is_some_and(|v| v & FLAGS == AGAINST_SOURCE)
}

/// The stored form of a record compressed against `source` (when that
/// saves an eighth; else as `encode_with` stores it).
pub(crate) fn encode_against<T: Serialize>(version: u8, value: &T, source: &[u8]) -> Vec<u8> {
    let Ok(plain) = postcard::to_allocvec(value) else { return vec![0] };
    match super::compress::squeeze_against(&plain, source) {
        Some(body) => {
            let mut out = Vec::with_capacity(1 + body.len());
            out.push(version | AGAINST_SOURCE);
            out.extend_from_slice(&body);
            out
        }
        None => pack(version, &plain),
    }
}

/// Largest record a compressed value may claim to hold.
const MAX_RECORD: usize = 256 << 20;

pub(crate) fn encode_with<T: Serialize>(version: u8, value: &T) -> Vec<u8> {
    // Serializing our own in-memory types to a Vec cannot fail for postcard
    // (no maps with non-string keys, no unsized sequences); keep it total anyway.
    let Ok(plain) = postcard::to_allocvec(value) else { return vec![0] };
    pack(version, &plain)
}

/// The stored form of a record's postcard bytes: compressed when that wins.
fn pack(version: u8, plain: &[u8]) -> Vec<u8> {
    let packed = super::compress::squeeze(plain);
    let (flag, body) = match &packed {
        Some(p) => (ZSTD, p.as_slice()),
        None => (0, plain),
    };
    let mut out = Vec::with_capacity(1 + body.len());
    out.push(version | flag);
    out.extend_from_slice(body);
    out
}

/// A record's version and its postcard bytes (decompressed when needed).
fn open<'a>(bytes: &'a [u8], table: &'static str) -> Result<(u8, Cow<'a, [u8]>)> {
    open_with(bytes, table, None)
}

/// `open` for a record that may be compressed against its mail's source.
pub(crate) fn open_with<'a>(bytes: &'a [u8], table: &'static str, source: Option<&[u8]>) -> Result<(u8, Cow<'a, [u8]>)> {
    let Some((&v, rest)) = bytes.split_first() else {
        return Err(StoreError::Corrupt { table, detail: "empty record".into() });
    };
    if v & FLAGS == AGAINST_SOURCE {
        let Some(source) = source else {
            return Err(StoreError::Corrupt { table, detail: "a record compressed against its mail's source, read without it".into() });
        };
        let plain = super::compress::unsqueeze_against(rest, source, MAX_RECORD).map_err(|detail| StoreError::Corrupt { table, detail })?;
        return Ok((v & !FLAGS, Cow::Owned(plain)));
    }
    let codec = if v & ZSTD != 0 {
        Codec::Zstd
    } else if v & COMPRESSED != 0 {
        Codec::Lz4
    } else {
        return Ok((v, Cow::Borrowed(rest)));
    };
    let plain = super::compress::unsqueeze(codec, rest, MAX_RECORD).map_err(|detail| StoreError::Corrupt { table, detail })?;
    Ok((v & !FLAGS, Cow::Owned(plain)))
}

/// A stored record in today's form, if it is not already (the upgrade's
/// conversion): plain or lz4 bytes of older schemas become zstd when that
/// wins (an lz4 record that zstd cannot shrink is kept plain); `None`
/// leaves it as it is.
pub(crate) fn recompress(bytes: &[u8]) -> Option<Vec<u8>> {
    let (&v, _) = bytes.split_first()?;
    if v & ZSTD != 0 {
        return None;
    }
    let (version, plain) = open(bytes, "").ok()?;
    let out = pack(version, &plain);
    (out != bytes).then_some(out)
}

/// A stored ticket rewritten in today's record version (schema 13 stopped
/// keeping the description), compressed as `recompress` does.
pub(crate) fn reencode_ticket(bytes: &[u8]) -> Option<Vec<u8>> {
    let out = encode_ticket(&decode_ticket(bytes).ok()?);
    (out != bytes).then_some(out)
}

pub fn decode<T: DeserializeOwned>(bytes: &[u8], table: &'static str) -> Result<T> {
    decode_with(bytes, table, None)
}

/// `decode` of a record that may be compressed against its mail's source.
pub(crate) fn decode_with<T: DeserializeOwned>(bytes: &[u8], table: &'static str, source: Option<&[u8]>) -> Result<T> {
    match open_with(bytes, table, source)? {
        (RECORD_V1, rest) => postcard::from_bytes(&rest).map_err(|e| StoreError::Corrupt { table, detail: e.to_string() }),
        (v, _) => Err(StoreError::Corrupt { table, detail: format!("unknown record version {v}") }),
    }
}

/// Mail details gained the sender authentication results in version 2.
pub const MAIL_META_V2: u8 = 2;

pub fn encode_mail_meta(m: &super::MailMeta) -> Vec<u8> {
    encode_with(MAIL_META_V2, m)
}

/// Decodes mail details of any version this binary knows.
/// Version 2 was written in three shapes (see `store::legacy`): today's is
/// tried first.
pub fn decode_mail_meta(bytes: &[u8]) -> Result<super::MailMeta> {
    decode_mail_meta_with(bytes, None)
}

/// `decode_mail_meta` of details that may be compressed against their
/// mail's source (given without `store::sourced`'s header).
pub(crate) fn decode_mail_meta_with(bytes: &[u8], source: Option<&[u8]>) -> Result<super::MailMeta> {
    decode_upgrading(bytes, "entry_mail", "mail details", MAIL_META_V2, source, super::migrate::MailMetaV1::upgrade).or_else(|e| {
        match open_with(bytes, "entry_mail", source)? {
            (MAIL_META_V2, rest) => super::legacy::mail_meta_v2(&rest).ok_or(e),
            _ => Err(e),
        }
    })
}

/// Decodes a record kept as `current` or, read as `Old` and upgraded, as
/// version 1; `what` names the record in the error for other versions.
fn decode_upgrading<T: DeserializeOwned, Old: DeserializeOwned>(
    bytes: &[u8],
    table: &'static str,
    what: &str,
    current: u8,
    source: Option<&[u8]>,
    upgrade: impl FnOnce(Old) -> T,
) -> Result<T> {
    let corrupt = |e: postcard::Error| StoreError::Corrupt { table, detail: e.to_string() };
    match open_with(bytes, table, source)? {
        (v, rest) if v == current => postcard::from_bytes(&rest).map_err(corrupt),
        (RECORD_V1, rest) => Ok(upgrade(postcard::from_bytes(&rest).map_err(corrupt)?)),
        (v, _) => Err(StoreError::Corrupt { table, detail: format!("unknown {what} version {v}") }),
    }
}

/// API tokens gained scopes, expiry, an address allow-list and their last
/// use in version 2 (schema 8).
pub const API_TOKEN_V2: u8 = 2;

pub fn encode_api_token(t: &super::ApiToken) -> Vec<u8> {
    encode_with(API_TOKEN_V2, t)
}

/// Decodes an API token of any version this binary knows.
pub fn decode_api_token(bytes: &[u8]) -> Result<super::ApiToken> {
    decode_upgrading(bytes, "api_tokens", "API token", API_TOKEN_V2, None, super::migrate::ApiTokenV1::upgrade)
}

/// People gained a role name and teams in version 2 (schema 9).
pub const PERSON_V2: u8 = 2;

pub fn encode_person(p: &crate::domain::Person) -> Vec<u8> {
    encode_with(PERSON_V2, p)
}

/// Decodes a person of any version this binary knows.
pub fn decode_person(bytes: &[u8]) -> Result<crate::domain::Person> {
    decode_upgrading(bytes, "people", "person", PERSON_V2, None, super::migrate::PersonV1::upgrade)
}

/// Tickets gained their team in version 3 (schema 9).
pub const TICKET_V3: u8 = 3;
/// Tickets gained their custom status and mailbox in version 4 (schema 10).
pub const TICKET_V4: u8 = 4;
/// Tickets stopped keeping a description in version 5 (schema 13): it was
/// a second copy of the first message, which the thread keeps.
pub const TICKET_V5: u8 = 5;

pub fn encode_ticket(t: &Ticket) -> Vec<u8> {
    encode_with(TICKET_V5, t)
}

/// Decodes a ticket of any version this binary knows.
pub fn decode_ticket(bytes: &[u8]) -> Result<Ticket> {
    let corrupt = |e: postcard::Error| StoreError::Corrupt { table: "tickets", detail: e.to_string() };
    match open(bytes, "tickets")? {
        (TICKET_V2, rest) => Ok(postcard::from_bytes::<super::migrate::TicketV2>(&rest).map_err(corrupt)?.upgrade()),
        (TICKET_V3, rest) => Ok(postcard::from_bytes::<super::migrate::TicketV3>(&rest).map_err(corrupt)?.upgrade()),
        (TICKET_V4, rest) => Ok(postcard::from_bytes::<super::migrate::TicketV4>(&rest).map_err(corrupt)?.upgrade()),
        _ => decode_upgrading(bytes, "tickets", "ticket", TICKET_V5, None, super::migrate::TicketV1::upgrade),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Channel, Person, PersonId, Priority, Role, Status, TicketId, Timestamp};

    #[test]
    fn tickets_and_people_of_schema_8_read_as_today_with_no_team_and_the_agent_role() {
        // The field order of record version 2 (tickets) and 1 (people).
        let v2 = (
            TicketId(7),
            "vpn".to_string(),
            "drops".to_string(),
            PersonId(3),
            Channel::Email,
            Status::Open,
            Priority::High,
            "General".to_string(),
            "Support".to_string(),
            Some(PersonId(2)),
            None::<crate::domain::time::Date>,
            vec!["vpn".to_string()],
            Timestamp(1),
            Timestamp(2),
        );
        let t = decode_ticket(&encode_with(TICKET_V2, &v2)).unwrap();
        assert_eq!(
            (t.id, t.priority, t.assignee, t.tags.clone(), t.team.clone()),
            (TicketId(7), Priority::High, Some(PersonId(2)), v2.11.clone(), None)
        );
        let mut now = t.clone();
        now.team = Some("Network".into());
        // Schema 9 (record version 3) kept the team, not the rest.
        let v3 = (
            v2.0,
            v2.1.clone(),
            v2.2.clone(),
            v2.3,
            v2.4,
            v2.5,
            v2.6,
            v2.7.clone(),
            v2.8.clone(),
            v2.9,
            v2.10,
            v2.11.clone(),
            v2.12,
            v2.13,
            now.team.clone(),
        );
        assert_eq!(decode_ticket(&encode_with(TICKET_V3, &v3)).unwrap(), now);
        now.custom_status = Some("Waiting for vendor".into());
        now.mailbox = Some("support@x.test".into());
        now.fields = vec![("device".into(), "Laptop".into())];
        assert_eq!(decode_ticket(&encode_ticket(&now)).unwrap(), now);
        let p1 = (
            PersonId(2),
            "bob@x.test".to_string(),
            "Bob".to_string(),
            Role::Agent,
            String::new(),
            true,
            vec!["Sales".to_string()],
            Timestamp(5),
        );
        let p: Person = decode_person(&encode(&p1)).unwrap();
        assert_eq!((p.role, p.role_name.as_str(), p.teams.len(), p.departments.clone()), (Role::Agent, "", 0, vec!["Sales".to_string()]));
        let mut q = p.clone();
        q.role_name = "light_agent".into();
        q.teams = vec!["Network".into()];
        assert_eq!(decode_person(&encode_person(&q)).unwrap(), q);
    }
}
