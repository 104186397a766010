//! Numbers and dates as the current language writes them: `1,234.5` and
//! `2026-12-04 16:42` in English, `1.234,5` and `04.12.2026 16:42` in German.

use super::{Lang, current};

/// A whole number with the language's group separator.
pub fn num(n: i64) -> String {
    num_in(current(), n)
}

pub fn num_in(lang: Lang, n: i64) -> String {
    let sep = match lang {
        Lang::En => ',',
        Lang::De => '.',
    };
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

/// A decimal with `places` digits after the language's decimal mark.
pub fn decimal(x: f64, places: usize) -> String {
    decimal_in(current(), x, places)
}

pub fn decimal_in(lang: Lang, x: f64, places: usize) -> String {
    if !x.is_finite() {
        return "–".to_string();
    }
    let plain = format!("{:.*}", places, x.abs());
    let (whole, frac) = plain.split_once('.').unwrap_or((plain.as_str(), ""));
    let whole: i64 = whole.parse().unwrap_or(0);
    let sign = if x < 0.0 && plain.bytes().any(|b| b.is_ascii_digit() && b != b'0') { "-" } else { "" };
    let mark = match lang {
        Lang::En => ".",
        Lang::De => ",",
    };
    if frac.is_empty() { format!("{sign}{}", num_in(lang, whole)) } else { format!("{sign}{}{mark}{frac}", num_in(lang, whole)) }
}

/// The strftime pattern of a date with time (`%Y-%m-%d %H:%M`).
pub fn date_time_pattern() -> &'static str {
    match current() {
        Lang::En => "%Y-%m-%d %H:%M",
        Lang::De => "%d.%m.%Y %H:%M",
    }
}

/// The strftime pattern of a date alone.
pub fn date_pattern() -> &'static str {
    match current() {
        Lang::En => "%Y-%m-%d",
        Lang::De => "%d.%m.%Y",
    }
}

/// A day and month for chart axes (`Dec 4` / `4.12.`).
pub fn day_month_pattern() -> &'static str {
    match current() {
        Lang::En => "%b %-d",
        Lang::De => "%-d.%-m.",
    }
}
