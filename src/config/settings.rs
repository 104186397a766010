//! How a setting is declared: once, with its type, default, bounds and doc, in
//! a `section!` block (see `sections.rs`). From that one declaration come the
//! struct field, its `Default`, the bounds check (an error naming the key), and
//! its lines in `config.example.toml`, which is generated (`frontdesk
//! check-config --example`) and kept identical by a test.

/// One key of a `[section]`: its name, doc (the comment in the example file)
/// and, for numbers, the inclusive range it must lie in.
pub struct Key {
    pub name: &'static str,
    pub doc: &'static str,
    pub range: Option<(u64, u64)>,
}

/// A `[section]` of the config file declared with `section!`.
pub trait Section: Default + serde::Serialize {
    /// Its name in the file.
    const NAME: &'static str;
    /// What it is for (the comment under its header in the example file).
    const DOC: &'static str;
    /// Its keys in order.
    const KEYS: &'static [Key];
    /// Every number against its declared range: (key, message) of the first
    /// one outside it.
    fn check_ranges(&self) -> Result<(), (&'static str, String)>;
}

/// Declares a config section: a struct whose fields each carry their doc,
/// default and (for numbers) `in LO..=HI` bounds.
macro_rules! section {
    (
        $(#[doc = $sdoc:literal])*
        $name:ident $section:literal {
            $(
                $(#[doc = $doc:literal])*
                $field:ident : $ty:ty = $default:expr $(, in $lo:literal ..= $hi:literal)? ;
            )*
        }
    ) => {
        $(#[doc = $sdoc])*
        #[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct $name {
            $( $(#[doc = $doc])* pub $field: $ty, )*
        }

        impl Default for $name {
            fn default() -> Self {
                $name { $( $field: $default, )* }
            }
        }

        impl $crate::config::settings::Section for $name {
            const NAME: &'static str = $section;
            const DOC: &'static str = concat!($($sdoc, "\n"),*);
            const KEYS: &'static [$crate::config::settings::Key] = &[
                $( $crate::config::settings::Key {
                    name: stringify!($field),
                    doc: concat!($($doc, "\n"),*),
                    range: section!(@range $($lo, $hi)?),
                }, )*
            ];

            fn check_ranges(&self) -> Result<(), (&'static str, String)> {
                $( section!(@check self, $field $(, $lo, $hi)?); )*
                Ok(())
            }
        }
    };
    (@range) => { None };
    (@range $lo:literal, $hi:literal) => { Some(($lo, $hi)) };
    (@check $s:ident, $field:ident) => {};
    (@check $s:ident, $field:ident, $lo:literal, $hi:literal) => {
        #[allow(clippy::unnecessary_cast)]
        let v = $s.$field as u64;
        let (lo, hi): (u64, u64) = ($lo, $hi);
        if !(lo..=hi).contains(&v) {
            return Err((stringify!($field), format!("{v} must be between {lo} and {hi}")));
        }
    };
}
pub(crate) use section;

/// The lines of one section in the example file: header, what it is for,
/// then each key's doc as comments above `key = default`.
pub fn example_section<S: Section>(out: &mut String) {
    let defaults = toml::Table::try_from(S::default()).unwrap_or_default();
    out.push_str(&format!("[{}]\n", S::NAME));
    comment(out, S::DOC.lines());
    for key in S::KEYS {
        comment(out, key.doc.lines());
        if let Some((lo, hi)) = key.range {
            out.push_str(&format!("# Allowed: {lo} to {hi}.\n"));
        }
        match defaults.get(key.name) {
            Some(v) => out.push_str(&format!("{} = {}\n", key.name, v)),
            None => out.push_str(&format!("# {} = (not set)\n", key.name)),
        }
    }
    out.push('\n');
}

/// Doc lines as `# ` comments (a doc line keeps its own leading space).
pub fn comment<'a>(out: &mut String, lines: impl Iterator<Item = &'a str>) {
    for l in lines {
        let l = l.strip_prefix(' ').unwrap_or(l);
        if l.is_empty() {
            out.push_str("#\n");
        } else {
            out.push_str(&format!("# {l}\n"));
        }
    }
}
