//! Filling `{name}` placeholders of a text template, the one rule the UI's
//! translations (`i18n`) and the thread's event lines (`thread`) share.

use std::fmt::{Display, Write};

/// `template` with each `{name}` that `args` names replaced by its value;
/// other braces stay as they are. Values are written once, never read again
/// as template text.
pub fn fill(template: &str, args: &[(&str, &dyn Display)]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some((before, after)) = rest.split_once('{') {
        out.push_str(before);
        let named = after.split_once('}').and_then(|(name, tail)| args.iter().find(|(k, _)| *k == name).map(|(_, v)| (v, tail)));
        match named {
            Some((value, tail)) => {
                let _ = write!(out, "{value}");
                rest = tail;
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::fill;

    #[test]
    fn only_named_placeholders_are_filled() {
        assert_eq!(fill("{n} of {total}", &[("n", &3), ("total", &"10")]), "3 of 10");
        assert_eq!(fill("{x} {unknown} {", &[("x", &1)]), "1 {unknown} {");
        assert_eq!(fill("{}", &[]), "{}");
        assert_eq!(fill("{a}{a}", &[("a", &"{a}")]), "{a}{a}", "values are not templates");
        assert_eq!(fill("äö{a}ü", &[("a", &"ß")]), "äößü");
    }
}
