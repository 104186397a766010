//! `[[field]]`: the desk's custom fields — a name (used in search as
//! `field.<name>:` and in the API), a label, a kind, the options of a
//! select, the departments it is shown in and whether a ticket needs it
//! before it is resolved.

use super::Config;
use crate::domain::fields::FieldKind;

/// One custom field.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldConfig {
    /// Lower-case letters, digits and `_`.
    pub name: String,
    /// What agents see; empty: the name.
    #[serde(default)]
    pub label: String,
    pub kind: FieldKind,
    /// The choices of a select or multi_select.
    #[serde(default)]
    pub options: Vec<String>,
    /// Shown only for tickets of these departments; empty: all.
    #[serde(default)]
    pub departments: Vec<String>,
    /// A ticket cannot be resolved or closed without it.
    #[serde(default)]
    pub required_to_resolve: bool,
}

impl FieldConfig {
    /// Its commented example in `config.example.toml`.
    pub const EXAMPLE: &'static str = "\
# Custom fields (one [[field]] each): kind is text, long_text, number, date,
# checkbox, select or multi_select (with options). They show in the ticket's
# side panel and the new-ticket form (only for `departments`, if listed), are
# set by the API (`fields`), exported to CSV and searched as
# field.<name>:value. required_to_resolve keeps a ticket from Resolved and
# Closed until it is set.
# [[field]]
# name = \"device\"
# label = \"Device\"
# kind = \"select\"
# options = [\"Laptop\", \"Desktop\", \"Phone\"]
# departments = [\"Support\"]
# required_to_resolve = true
";

    /// What agents see.
    pub fn label(&self) -> &str {
        if self.label.trim().is_empty() { &self.name } else { &self.label }
    }

    /// Whether tickets of `department` have it.
    pub fn applies_to(&self, department: &str) -> bool {
        self.departments.is_empty() || self.departments.iter().any(|d| d.eq_ignore_ascii_case(department))
    }
}

impl Config {
    /// The `[[field]]` called `name`.
    pub fn field(&self, name: &str) -> Option<&FieldConfig> {
        self.field.iter().find(|f| f.name.eq_ignore_ascii_case(name.trim()))
    }

    /// The fields tickets of `department` have, in config order.
    pub fn fields_for<'a>(&'a self, department: &'a str) -> impl Iterator<Item = &'a FieldConfig> + 'a {
        self.field.iter().filter(move |f| f.applies_to(department))
    }

    /// Checks `[[field]]`.
    pub(super) fn check_fields(&self) -> Result<(), (&'static str, &'static str, String)> {
        for (i, f) in self.field.iter().enumerate() {
            let n = i + 1;
            if f.name.is_empty() || f.name.len() > 40 || !f.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
                return Err(("field", "name", format!("field {n}: {:?} must be 1-40 lower-case letters, digits or _", f.name)));
            }
            if self.field[..i].iter().any(|o| o.name == f.name) {
                return Err(("field", "name", format!("{:?} is listed twice", f.name)));
            }
            // The log names a field by its label; a built-in's name would pass for it.
            const BUILT_IN: [&str; 8] = ["subject", "status", "priority", "category", "department", "team", "due date", "tags"];
            if BUILT_IN.iter().any(|b| b.eq_ignore_ascii_case(f.label().trim())) {
                return Err(("field", "label", format!("field {:?}: {:?} is the name of a built-in field", f.name, f.label())));
            }
            if f.label.chars().count() > 60 || f.label.contains(['\n', '\r']) {
                return Err(("field", "label", format!("field {:?}: a label is one line of at most 60 characters", f.name)));
            }
            if f.kind.has_options() {
                if f.options.is_empty() {
                    return Err(("field", "options", format!("field {:?}: a {} lists its options", f.name, f.kind.key())));
                }
                for (j, o) in f.options.iter().enumerate() {
                    if o.trim().is_empty() || o.trim() != o || o.contains([',', '\n', '\r']) || o.chars().count() > 60 {
                        return Err((
                            "field",
                            "options",
                            format!("field {:?}: option {:?} must be 1-60 characters without commas", f.name, o),
                        ));
                    }
                    if f.options[..j].iter().any(|x| x.eq_ignore_ascii_case(o)) {
                        return Err(("field", "options", format!("field {:?}: {o:?} is listed twice", f.name)));
                    }
                }
            } else if !f.options.is_empty() {
                return Err(("field", "options", format!("field {:?}: only select and multi_select have options", f.name)));
            }
            if let Some(d) = f.departments.iter().find(|d| self.department(d).is_none()) {
                return Err(("field", "departments", format!("field {:?}: {d:?} is not one of desk.departments", f.name)));
            }
        }
        Ok(())
    }
}
