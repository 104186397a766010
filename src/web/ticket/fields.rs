//! Custom field inputs (`[[field]]`) in the ticket's side panel and the
//! new-ticket form, and reading them back from a submitted form: each is
//! `field.<name>` (repeated for a multi-select), with `fields_shown` saying
//! the form had them (so an untouched checkbox means "no").

use maud::{Markup, html};

use crate::config::{Config, FieldConfig};
use crate::domain::fields::{FieldKind, parts};
use crate::tr;

/// The inputs of `department`'s fields, filled from `value`.
pub fn inputs<'a>(cfg: &Config, department: &str, value: impl Fn(&str) -> Option<&'a str>) -> Markup {
    let fields: Vec<&FieldConfig> = cfg.fields_for(department).collect();
    html! {
        @if !fields.is_empty() {
            input type="hidden" name="fields_shown" value="1";
            (inputs_of(&fields, "field.", value))
        }
    }
}

/// Inputs of `fields`, each named `prefix` + its name, filled from `value`.
pub fn inputs_of<'a>(fields: &[&FieldConfig], prefix: &str, value: impl Fn(&str) -> Option<&'a str>) -> Markup {
    html! {
            @for f in fields {
                @let name = format!("{prefix}{}", f.name);
                @let v = value(&f.name).unwrap_or("");
                @let label = if f.required_to_resolve { tr!("{label} (needed to resolve)", label = f.label()) } else { f.label().to_string() };
                @match f.kind {
                    FieldKind::Text => label { (label) input type="text" name=(name) value=(v); },
                    FieldKind::LongText => label { (label) textarea name=(name) rows="3" { (v) } },
                    FieldKind::Number => label { (label) input type="text" inputmode="decimal" name=(name) value=(v); },
                    FieldKind::Date => label { (label) input type="date" name=(name) value=(v); },
                    FieldKind::Checkbox => label.check { input type="checkbox" name=(name) value="yes" checked[v == "yes"]; " " (label) },
                    FieldKind::Select => label { (label) select name=(name) {
                        option value="" { "—" }
                        @for o in &f.options { option value=(o) selected[v == o] { (o) } }
                    } },
                    FieldKind::MultiSelect => fieldset.multi {
                        legend { (label) }
                        @let chosen = if v.is_empty() { Vec::new() } else { parts(f.kind, v) };
                        @for o in &f.options {
                            label.check { input type="checkbox" name=(name) value=(o) checked[chosen.contains(&o.as_str())]; " " (o) }
                        }
                    },
                }
            }
    }
}

/// The custom fields of a submitted form: every field of `department` the
/// form showed (unticked boxes clear), as name → values.
pub fn from_form(cfg: &Config, department: &str, pairs: &[(String, String)]) -> Vec<(String, Vec<String>)> {
    if !pairs.iter().any(|(k, _)| k == "fields_shown") {
        return Vec::new();
    }
    cfg.fields_for(department)
        .map(|f| {
            let key = format!("field.{}", f.name);
            (f.name.clone(), pairs.iter().filter(|(k, _)| *k == key).map(|(_, v)| v.clone()).collect())
        })
        .collect()
}

/// The values shown in the details box: (label, value).
pub fn shown<'a>(cfg: &'a Config, t: &'a crate::domain::Ticket) -> Vec<(&'a str, &'a str)> {
    t.fields.iter().filter_map(|(n, v)| cfg.field(n).map(|f| (f.label(), v.as_str()))).collect()
}
