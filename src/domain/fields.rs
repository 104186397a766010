//! Custom fields (`[[field]]`): their kinds and the one canonical text form
//! a value is stored, searched and exported in. A value arrives as the
//! strings a form or the API sent and is checked against the field's kind.

use serde::{Deserialize, Serialize};

use super::time::Date;

/// What a custom field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Text,
    LongText,
    Number,
    Date,
    Checkbox,
    Select,
    MultiSelect,
}

impl FieldKind {
    pub fn key(self) -> &'static str {
        match self {
            FieldKind::Text => "text",
            FieldKind::LongText => "long_text",
            FieldKind::Number => "number",
            FieldKind::Date => "date",
            FieldKind::Checkbox => "checkbox",
            FieldKind::Select => "select",
            FieldKind::MultiSelect => "multi_select",
        }
    }

    /// Whether it picks from `options`.
    pub fn has_options(self) -> bool {
        matches!(self, FieldKind::Select | FieldKind::MultiSelect)
    }
}

/// Longest text value.
pub const MAX_TEXT: usize = 4000;

/// The canonical stored form of `raw` for a field of `kind` (`None`: no
/// value), or why it is not one. Text is trimmed; a number is a decimal
/// without exponent; a date is YYYY-MM-DD; a checkbox is "yes" when ticked;
/// a choice is the option as the config spells it; several choices are
/// joined with ", " in the options' order.
pub fn canonical(kind: FieldKind, options: &[String], raw: &[&str]) -> Result<Option<String>, String> {
    let values: Vec<&str> = raw.iter().map(|v| v.trim()).filter(|v| !v.is_empty()).collect();
    let one = || -> Result<Option<&str>, String> {
        match values.as_slice() {
            [] => Ok(None),
            [v] => Ok(Some(v)),
            _ => Err("takes one value".into()),
        }
    };
    let pick = |v: &str| {
        options.iter().find(|o| o.eq_ignore_ascii_case(v)).cloned().ok_or_else(|| format!("{v:?} is not one of {}", options.join(", ")))
    };
    Ok(match kind {
        FieldKind::Text | FieldKind::LongText => match one()? {
            Some(v) if v.chars().count() > MAX_TEXT => return Err(format!("is longer than {MAX_TEXT} characters")),
            Some(v) if kind == FieldKind::Text && v.contains(['\n', '\r']) => return Err("is one line".into()),
            v => v.map(str::to_string),
        },
        FieldKind::Number => match one()? {
            Some(v) => Some(number(v).ok_or_else(|| format!("{v:?} is not a number"))?),
            None => None,
        },
        FieldKind::Date => match one()? {
            Some(v) => Some(Date::parse(v).ok_or_else(|| format!("{v:?} is not a date like 2026-12-31"))?.to_string()),
            None => None,
        },
        FieldKind::Checkbox => match one()? {
            Some(v) if matches!(v.to_ascii_lowercase().as_str(), "yes" | "true" | "on" | "1") => Some("yes".into()),
            Some(v) if matches!(v.to_ascii_lowercase().as_str(), "no" | "false" | "off" | "0") => None,
            Some(v) => return Err(format!("{v:?} is not yes or no")),
            None => None,
        },
        FieldKind::Select => one()?.map(pick).transpose()?,
        FieldKind::MultiSelect => {
            let mut chosen = Vec::new();
            for v in values.iter().flat_map(|v| v.split(',')).map(str::trim).filter(|v| !v.is_empty()) {
                let o = pick(v)?;
                if !chosen.contains(&o) {
                    chosen.push(o);
                }
            }
            chosen.sort_by_key(|c| options.iter().position(|o| o == c));
            (!chosen.is_empty()).then(|| chosen.join(", "))
        }
    })
}

/// A decimal number in its plain form: optional minus, digits, optional
/// fraction without trailing zeros ("1.50" → "1.5", "-0" → "0").
fn number(v: &str) -> Option<String> {
    let (neg, digits) = match v.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, v.strip_prefix('+').unwrap_or(v)),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty() && frac.is_empty() || !int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit()) || digits.len() > 30 {
        return None;
    }
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let body = if frac.is_empty() { int.to_string() } else { format!("{int}.{frac}") };
    Some(if neg && body != "0" { format!("-{body}") } else { body })
}

/// The single values of a stored value (several for a multi-select).
pub fn parts(kind: FieldKind, stored: &str) -> Vec<&str> {
    if kind == FieldKind::MultiSelect { stored.split(", ").collect() } else { vec![stored] }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn opts() -> Vec<String> {
        vec!["Laptop".into(), "Desktop".into(), "Phone".into()]
    }

    #[test]
    fn values_take_their_canonical_form() {
        assert_eq!(canonical(FieldKind::Number, &[], &[" 0012.500 "]), Ok(Some("12.5".into())));
        assert_eq!(canonical(FieldKind::Number, &[], &["-0.0"]), Ok(Some("0".into())));
        assert!(canonical(FieldKind::Number, &[], &["1e5"]).is_err());
        assert_eq!(canonical(FieldKind::Date, &[], &["2026-02-03"]), Ok(Some("2026-02-03".into())));
        assert!(canonical(FieldKind::Date, &[], &["tomorrow"]).is_err());
        assert_eq!(canonical(FieldKind::Checkbox, &[], &["on"]), Ok(Some("yes".into())));
        assert_eq!(canonical(FieldKind::Checkbox, &[], &[]), Ok(None));
        assert_eq!(canonical(FieldKind::Select, &opts(), &["laptop"]), Ok(Some("Laptop".into())));
        assert!(canonical(FieldKind::Select, &opts(), &["Tablet"]).is_err());
        assert_eq!(canonical(FieldKind::MultiSelect, &opts(), &["phone", "Laptop, phone"]), Ok(Some("Laptop, Phone".into())));
        assert!(canonical(FieldKind::Text, &[], &["two\nlines"]).is_err());
        assert_eq!(canonical(FieldKind::LongText, &[], &["two\nlines"]), Ok(Some("two\nlines".into())));
        assert_eq!(canonical(FieldKind::Text, &[], &["  "]), Ok(None));
    }

    proptest! {
        #[test]
        fn any_input_is_a_value_or_a_reason_and_canonical_forms_are_stable(raw in "\\PC{0,40}", k in 0usize..7) {
            let kind = [FieldKind::Text, FieldKind::LongText, FieldKind::Number, FieldKind::Date, FieldKind::Checkbox, FieldKind::Select, FieldKind::MultiSelect][k];
            if let Ok(Some(v)) = canonical(kind, &opts(), &[raw.as_str()]) {
                let again = canonical(kind, &opts(), &[v.as_str()]);
                prop_assert_eq!(again, Ok(Some(v)));
            }
        }
    }
}
