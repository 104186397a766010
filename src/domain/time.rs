//! Timestamps (milliseconds since the Unix epoch, UTC) and calendar formatting.
//!
//! Civil-date conversion follows the well-known days-from-civil algorithm; it is
//! small enough that a date crate is not worth its build time here.

use serde::{Deserialize, Serialize};

/// Milliseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
pub struct Timestamp(pub i64);

/// A calendar date (UTC), used for due dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Date {
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_in_month(y: i32, m: u8) -> u8 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

impl Date {
    /// Parses `YYYY-MM-DD`; `None` if it is not a real calendar date.
    pub fn parse(s: &str) -> Option<Date> {
        let s = s.trim();
        let mut parts = s.split('-');
        let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return None;
        }
        let year: i32 = y.parse().ok()?;
        let month: u8 = m.parse().ok()?;
        let day: u8 = d.parse().ok()?;
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Date { year, month, day })
    }

    /// The date a timestamp falls on (UTC).
    pub fn of(ts: Timestamp) -> Date {
        let days = ts.0.div_euclid(86_400_000);
        let (y, m, d) = civil_from_days(days);
        Date { year: y as i32, month: m as u8, day: d as u8 }
    }

    /// Midnight UTC at the start of this date.
    pub fn start(self) -> Timestamp {
        Timestamp(days_from_civil(self.year as i64, self.month as i64, self.day as i64) * 86_400_000)
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Timestamp {
    /// RFC 3339 in UTC with second precision, e.g. `2026-11-23T10:21:00Z`.
    pub fn rfc3339(self) -> String {
        let d = Date::of(self);
        let ms = self.0.rem_euclid(86_400_000) / 1000;
        format!("{d}T{:02}:{:02}:{:02}Z", ms / 3600, (ms / 60) % 60, ms % 60)
    }

    /// Short human form for tables: `2026-11-23 10:21`.
    pub fn short(self) -> String {
        let d = Date::of(self);
        let ms = self.0.rem_euclid(86_400_000) / 1000;
        format!("{d} {:02}:{:02}", ms / 3600, (ms / 60) % 60)
    }

    /// RFC 5322 date in UTC, e.g. `Mon, 23 Nov 2026 10:21:00 +0000`.
    pub fn rfc5322(self) -> String {
        const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
        const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
        let days = self.0.div_euclid(86_400_000);
        let d = Date::of(self);
        let s = self.0.rem_euclid(86_400_000) / 1000;
        format!(
            "{}, {:02} {} {:04} {:02}:{:02}:{:02} +0000",
            DAYS[days.rem_euclid(7) as usize],
            d.day,
            MONTHS[(d.month as usize).saturating_sub(1).min(11)],
            d.year,
            s / 3600,
            (s / 60) % 60,
            s % 60
        )
    }

    /// When a future instant comes, against `now`: "in 4 min (2026-12-02
    /// 14:05 UTC)"; "now" once it has come.
    pub fn until(self, now: Timestamp) -> String {
        let s = (self.0 - now.0) / 1000;
        let when = match s {
            ..=0 => return "now".to_string(),
            1..=59 => "in under a minute".to_string(),
            60..=3599 => format!("in {} min", s / 60),
            3600..=86_399 => format!("in {} h", s / 3600),
            _ => format!("in {} d", s / 86_400),
        };
        format!("{when} ({} UTC)", self.short())
    }

    /// "3 min ago" style relative age against `now`.
    pub fn ago(self, now: Timestamp) -> String {
        let s = (now.0 - self.0).max(0) / 1000;
        match s {
            0..=59 => "just now".to_string(),
            60..=3599 => format!("{} min ago", s / 60),
            3600..=86_399 => format!("{} h ago", s / 3600),
            86_400..=2_591_999 => format!("{} d ago", s / 86_400),
            _ => Date::of(self).to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip_over_centuries() {
        for days in (-800_000i64..800_000).step_by(97) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn formats_known_instants() {
        assert_eq!(Timestamp(0).rfc3339(), "1970-01-01T00:00:00Z");
        assert_eq!(Timestamp(1_795_429_260_000).rfc3339(), "2026-11-23T10:21:00Z");
        assert_eq!(Timestamp(951_782_400_000).short(), "2000-02-29 00:00");
        assert_eq!(Timestamp(1_795_429_260_000).rfc5322(), "Mon, 23 Nov 2026 10:21:00 +0000");
        assert_eq!(Timestamp(0).rfc5322(), "Thu, 01 Jan 1970 00:00:00 +0000");
    }

    #[test]
    fn parses_only_real_dates() {
        assert_eq!(Date::parse("2024-02-29").map(|d| d.to_string()).as_deref(), Some("2024-02-29"));
        assert!(Date::parse("2023-02-29").is_none());
        assert!(Date::parse("2023-13-01").is_none());
        assert!(Date::parse("2023-1-01").is_none());
        assert!(Date::parse("tomorrow").is_none());
        let d = Date::parse("2026-11-23").unwrap();
        assert_eq!(Date::of(d.start()), d);
    }

    #[test]
    fn relative_ages() {
        let now = Timestamp(10_000_000_000);
        assert_eq!(Timestamp(now.0 - 5_000).ago(now), "just now");
        assert_eq!(Timestamp(now.0 - 180_000).ago(now), "3 min ago");
        assert_eq!(Timestamp(now.0 - 7_200_000).ago(now), "2 h ago");
        assert_eq!(Timestamp(now.0 - 3 * 86_400_000).ago(now), "3 d ago");
        // A future time is not "just now" (the outbox's next retry).
        assert_eq!(Timestamp(now.0 + 240_000).until(now), format!("in 4 min ({} UTC)", Timestamp(now.0 + 240_000).short()));
        assert_eq!(Timestamp(now.0 + 7_200_000).until(now), format!("in 2 h ({} UTC)", Timestamp(now.0 + 7_200_000).short()));
        assert_eq!(Timestamp(now.0 - 1).until(now), "now");
    }
}
