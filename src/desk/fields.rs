//! Custom field values on tickets: checked against their `[[field]]`, logged
//! when they change, and required (where the config says) before a ticket
//! is resolved or closed.

use super::{Desk, Result, invalid};
use crate::domain::{Event, Status, Ticket, fields};

impl Desk {
    /// Applies raw values (`name` → the strings a form or the API sent; none
    /// clears it) to `t`, returning the log events. Every field must exist
    /// and belong to the ticket's department.
    pub(crate) fn apply_fields(&self, t: &mut Ticket, raw: &[(String, Vec<String>)]) -> Result<Vec<Event>> {
        let cfg = self.config();
        let mut events = Vec::new();
        for (name, values) in raw {
            let f = cfg.field(name).ok_or_else(|| invalid("fields", format!("{name:?} is not a field of the desk")))?;
            if !f.applies_to(&t.department) {
                return Err(invalid("fields", format!("{} is not a field of {}", f.label(), t.department)));
            }
            let values: Vec<&str> = values.iter().map(String::as_str).collect();
            let value = fields::canonical(f.kind, &f.options, &values).map_err(|e| invalid("fields", format!("{}: {e}", f.label())))?;
            let old = t.field(&f.name).map(str::to_string);
            if old == value {
                continue;
            }
            events.push(Event::FieldChanged {
                field: f.label().to_string(),
                from: old.unwrap_or_default(),
                to: value.clone().unwrap_or_default(),
            });
            t.fields.retain(|(n, _)| *n != f.name);
            if let Some(v) = value {
                t.fields.push((f.name.clone(), v));
                t.fields.sort_by_key(|(n, _)| cfg.field.iter().position(|f| f.name == *n));
            }
        }
        Ok(events)
    }

    /// Refuses to resolve or close `t` (going from `from`) while a field its
    /// department requires for that is empty.
    pub(crate) fn check_required_fields(&self, from: Status, t: &Ticket) -> Result<()> {
        let ending = matches!(t.status, Status::Resolved | Status::Closed) && !matches!(from, Status::Resolved | Status::Closed);
        if !ending {
            return Ok(());
        }
        let cfg = self.config();
        let missing: Vec<&str> =
            cfg.fields_for(&t.department).filter(|f| f.required_to_resolve && t.field(&f.name).is_none()).map(|f| f.label()).collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(invalid("fields", format!("set {} before the ticket is {}", missing.join(", "), t.status.label().to_lowercase())))
        }
    }
}
