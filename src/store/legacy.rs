//! Shapes of records that older releases wrote under a version byte that
//! today's shape shares: mail details (version 2) whose authentication
//! results had no `note` and `dnsbl` yet (schema 6; found by the schema-6
//! upgrade fixture), or `note` but no `dnsbl` (a release of the same day).
//! Decoding tries today's shape first, then these, newest first; the
//! fields they lack read as empty.

use serde::Deserialize;

use super::MailMeta;
use crate::domain::auth::{AuthResult, DmarcPolicy, MailAuth};

/// Authentication results with the fields up to `arc`; `note` where the
/// shape had it (postcard has no optional trailing fields: each shape is
/// its own type).
#[derive(Deserialize)]
struct AuthV2a {
    spf: AuthResult,
    spf_domain: String,
    helo: AuthResult,
    helo_domain: String,
    dkim: AuthResult,
    dkim_domains: Vec<String>,
    dmarc: AuthResult,
    dmarc_policy: DmarcPolicy,
    from_domain: String,
    arc: AuthResult,
}

#[derive(Deserialize)]
struct AuthV2b {
    first: AuthV2a,
    note: String,
}

impl AuthV2a {
    fn upgrade(self, note: String) -> MailAuth {
        MailAuth {
            spf: self.spf,
            spf_domain: self.spf_domain,
            helo: self.helo,
            helo_domain: self.helo_domain,
            dkim: self.dkim,
            dkim_domains: self.dkim_domains,
            dmarc: self.dmarc,
            dmarc_policy: self.dmarc_policy,
            from_domain: self.from_domain,
            arc: self.arc,
            note,
            dnsbl: String::new(),
        }
    }
}

/// Mail details of version 2 with authentication results of shape `A`.
#[derive(Deserialize)]
struct MetaWith<A> {
    from: String,
    to: Vec<String>,
    cc: Vec<String>,
    subject: String,
    message_id: String,
    raw_blob: String,
    html_blob: Option<String>,
    full_text: Option<String>,
    cids: Vec<(String, usize)>,
    forwarded_by: Option<String>,
    auth: Option<A>,
}

impl<A> MetaWith<A> {
    fn upgrade(self, auth: impl FnOnce(A) -> MailAuth) -> MailMeta {
        MailMeta {
            from: self.from,
            to: self.to,
            cc: self.cc,
            subject: self.subject,
            message_id: self.message_id,
            raw_blob: self.raw_blob,
            html_blob: self.html_blob,
            full_text: self.full_text,
            cids: self.cids,
            forwarded_by: self.forwarded_by,
            auth: self.auth.map(auth),
        }
    }
}

/// Version-2 mail details in an older shape, if `bytes` is one.
pub(crate) fn mail_meta_v2(bytes: &[u8]) -> Option<MailMeta> {
    // A struct's fields are a plain sequence in postcard, so `AuthV2b`
    // (AuthV2a's fields, then `note`) reads the same bytes as one flat struct.
    if let Ok(m) = postcard::from_bytes::<MetaWith<AuthV2b>>(bytes) {
        return Some(m.upgrade(|a| a.first.upgrade(a.note)));
    }
    postcard::from_bytes::<MetaWith<AuthV2a>>(bytes).ok().map(|m| m.upgrade(|a| a.upgrade(String::new())))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The three shapes of version 2 all decode; the missing fields are empty.
    #[test]
    fn every_shape_of_version_2_mail_details_decodes() {
        let auth = MailAuth {
            spf: AuthResult::Pass,
            spf_domain: "customer.test".into(),
            dkim_domains: vec!["customer.test".into()],
            note: "dns timeout".into(),
            dnsbl: "zen.example".into(),
            ..MailAuth::default()
        };
        let meta = MailMeta {
            from: "a@customer.test".into(),
            to: vec!["support@example.test".into()],
            cc: Vec::new(),
            subject: "Printer".into(),
            message_id: "x@customer.test".into(),
            raw_blob: "abc".into(),
            html_blob: None,
            full_text: None,
            cids: Vec::new(),
            forwarded_by: None,
            auth: Some(auth.clone()),
        };
        let today = super::super::codec::encode_mail_meta(&meta);
        assert_eq!(super::super::codec::decode_mail_meta(&today).unwrap().auth, Some(auth.clone()));
        // Older shapes: the same bytes without `dnsbl`, and without `note` too
        // (both strings are last: cut their length-prefixed bytes off the end).
        let plain = postcard::to_allocvec(&meta).unwrap();
        let cut = |n: usize| [&[2u8][..], &plain[..plain.len() - n]].concat();
        let no_dnsbl = super::super::codec::decode_mail_meta(&cut(1 + "zen.example".len())).unwrap();
        assert_eq!(no_dnsbl.auth.as_ref().map(|a| (a.note.as_str(), a.dnsbl.as_str())), Some(("dns timeout", "")));
        let neither = super::super::codec::decode_mail_meta(&cut(2 + "zen.example".len() + "dns timeout".len())).unwrap();
        assert_eq!(neither.auth.map(|a| (a.spf_domain, a.note, a.dnsbl)), Some(("customer.test".into(), String::new(), String::new())));
        assert_eq!(neither.subject, "Printer");
    }
}
