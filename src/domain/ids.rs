//! Typed ids: a ticket's number and a person's number are different things,
//! and the compiler keeps them apart. Both serialize as the bare number
//! (`serde(transparent)`), so records written before the types existed read
//! the same.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub u64);

        impl $name {
            /// The number, for storage keys and URLs.
            pub fn get(self) -> u64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($name)
            }
        }
    };
}

id_type!(
    /// A ticket's number (the digits of its reference, `TKT-000123`).
    TicketId
);
id_type!(
    /// A person's number: requester, agent or admin.
    PersonId
);
id_type!(
    /// An organization's number (a customer company).
    OrgId
);
id_type!(
    /// A knowledge base article's number.
    ArticleId
);
id_type!(
    /// A knowledge base category's number.
    KbCategoryId
);
id_type!(
    /// A junk item's number (mail that did not become a ticket).
    JunkId
);
id_type!(
    /// An outgoing mail's number in the outbox.
    OutMailId
);
id_type!(
    /// A bulk job's number.
    JobId
);
id_type!(
    /// An accepted mail's number in the spool (until it is processed).
    SpoolId
);
id_type!(
    /// A webhook delivery's number (queued, then in the delivery log).
    DeliveryId
);
id_type!(
    /// A checklist item's number, unique across the desk.
    ChecklistItemId
);
id_type!(
    /// An audit log entry's number (they grow with time).
    AuditId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_encode_as_the_bare_number() {
        assert_eq!(postcard::to_allocvec(&TicketId(300)).ok(), postcard::to_allocvec(&300u64).ok());
        assert_eq!(serde_json::to_string(&PersonId(7)).ok().as_deref(), Some("7"));
        assert_eq!("42".parse::<TicketId>().ok(), Some(TicketId(42)));
        assert!("x".parse::<PersonId>().is_err());
    }
}
