//! Business calendars: the working hours of a week in a time zone, less
//! holidays, and business-time arithmetic on them — "4 business hours after
//! Friday 15:00" and "business time between two instants". Each working
//! range is turned into instants through the zone on its own date, so a
//! DST change moves the hours with the wall clock (09:00–17:00 is 8 hours on
//! every working day, 7 or 9 only if a range spans the change itself).

use jiff::civil::{Date as CivilDate, Time};
use jiff::tz::TimeZone;

use super::time::Timestamp;

/// Minutes in a day; a range may end at 24:00.
const DAY_MINUTES: u16 = 24 * 60;
/// The furthest a computation looks (ten years of days): a calendar has
/// working hours, so only a pathological one runs out.
const MAX_DAYS: i32 = 3660;

/// A day off: one date, or the same month and day every year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holiday {
    On(CivilDate),
    Yearly { month: i8, day: i8 },
}

impl Holiday {
    /// `2026-12-24` (that day) or `12-25` (every year).
    pub fn parse(s: &str) -> Option<Holiday> {
        let s = s.trim();
        if s.len() == 10 {
            return s.parse::<CivilDate>().ok().map(Holiday::On);
        }
        let (m, d) = s.split_once('-')?;
        if m.len() != 2 || d.len() != 2 {
            return None;
        }
        let (month, day): (i8, i8) = (m.parse().ok()?, d.parse().ok()?);
        // 2024 is a leap year: 02-29 is a yearly holiday that some years lack.
        CivilDate::new(2024, month, day).ok()?;
        Some(Holiday::Yearly { month, day })
    }

    fn falls_on(self, d: CivilDate) -> bool {
        match self {
            Holiday::On(h) => h == d,
            Holiday::Yearly { month, day } => d.month() == month && d.day() == day,
        }
    }
}

/// Parses `09:00-17:00` into minutes since midnight (end may be `24:00`).
pub fn parse_range(s: &str) -> Option<(u16, u16)> {
    let (a, b) = s.trim().split_once('-')?;
    let minutes = |t: &str| -> Option<u16> {
        let (h, m) = t.trim().split_once(':')?;
        if h.is_empty() || h.len() > 2 || m.len() != 2 {
            return None;
        }
        let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
        (m < 60 && h * 60 + m <= DAY_MINUTES).then_some(h * 60 + m)
    };
    let (start, end) = (minutes(a)?, minutes(b)?);
    (start < end).then_some((start, end))
}

/// A week of working hours in a zone, less holidays.
#[derive(Debug, Clone)]
pub struct Calendar {
    tz: TimeZone,
    /// Ranges per weekday, Monday first: minutes since midnight, sorted,
    /// not overlapping.
    week: [Vec<(u16, u16)>; 7],
    holidays: Vec<Holiday>,
    /// Every minute of every day (no arithmetic needed).
    always: bool,
}

impl Calendar {
    /// Round the clock, every day: the calendar of a desk that defines none.
    pub fn always() -> Calendar {
        Calendar { tz: TimeZone::UTC, week: std::array::from_fn(|_| vec![(0, DAY_MINUTES)]), holidays: Vec::new(), always: true }
    }

    /// A calendar; refuses a week with no working hours and overlapping ranges.
    pub fn new(tz: TimeZone, mut week: [Vec<(u16, u16)>; 7], holidays: Vec<Holiday>) -> Result<Calendar, String> {
        if week.iter().all(Vec::is_empty) {
            return Err("has no working hours".into());
        }
        for day in week.iter_mut() {
            day.sort_unstable();
            if day.windows(2).any(|w| w[0].1 > w[1].0) {
                return Err("has overlapping working hours on one day".into());
            }
        }
        let always = holidays.is_empty() && week.iter().all(|d| d == &[(0, DAY_MINUTES)]) && tz == TimeZone::UTC;
        Ok(Calendar { tz, week, holidays, always })
    }

    fn civil(&self, t: Timestamp) -> Option<CivilDate> {
        jiff::Timestamp::from_millisecond(t.0).ok().map(|ts| ts.to_zoned(self.tz.clone()).date())
    }

    /// The instant of `minutes` past local midnight of `d` (24:00 is the
    /// next midnight); a wall time skipped by DST moves on with the clock.
    fn instant(&self, d: CivilDate, minutes: u16) -> Option<i64> {
        let (day, minutes) = if minutes >= DAY_MINUTES { (d.tomorrow().ok()?, 0) } else { (d, minutes) };
        let time = Time::new((minutes / 60) as i8, (minutes % 60) as i8, 0, 0).ok()?;
        day.to_datetime(time).to_zoned(self.tz.clone()).ok().map(|z| z.timestamp().as_millisecond())
    }

    /// The working intervals of local date `d`, as instants.
    fn intervals(&self, d: CivilDate) -> Vec<(i64, i64)> {
        if self.holidays.iter().any(|h| h.falls_on(d)) {
            return Vec::new();
        }
        let weekday = d.weekday().to_monday_zero_offset() as usize;
        self.week[weekday].iter().filter_map(|&(a, b)| Some((self.instant(d, a)?, self.instant(d, b)?))).filter(|(a, b)| a < b).collect()
    }

    /// Whether `t` falls in working hours.
    pub fn is_open(&self, t: Timestamp) -> bool {
        self.always || self.civil(t).is_some_and(|d| self.intervals(d).iter().any(|&(a, b)| a <= t.0 && t.0 < b))
    }

    /// The instant `business_ms` of working time after `from` (`from` itself
    /// when there is nothing left to spend).
    pub fn add(&self, from: Timestamp, business_ms: i64) -> Timestamp {
        if business_ms <= 0 {
            return from;
        }
        if self.always {
            return Timestamp(from.0.saturating_add(business_ms));
        }
        let Some(mut day) = self.civil(from) else { return Timestamp(i64::MAX) };
        let mut left = business_ms;
        for _ in 0..MAX_DAYS {
            for (a, b) in self.intervals(day) {
                let start = a.max(from.0);
                if start >= b {
                    continue;
                }
                if b - start >= left {
                    return Timestamp(start + left);
                }
                left -= b - start;
            }
            match day.tomorrow() {
                Ok(d) => day = d,
                Err(_) => break,
            }
        }
        Timestamp(i64::MAX)
    }

    /// The working time between `from` and `to` (0 when `to` is not later).
    pub fn between(&self, from: Timestamp, to: Timestamp) -> i64 {
        if to.0 <= from.0 {
            return 0;
        }
        if self.always {
            return to.0 - from.0;
        }
        let (Some(mut day), Some(last)) = (self.civil(from), self.civil(to)) else { return 0 };
        let mut sum = 0;
        for _ in 0..MAX_DAYS {
            for (a, b) in self.intervals(day) {
                let (a, b) = (a.max(from.0), b.min(to.0));
                if a < b {
                    sum += b - a;
                }
            }
            if day >= last {
                break;
            }
            match day.tomorrow() {
                Ok(d) => day = d,
                Err(_) => break,
            }
        }
        sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    fn berlin() -> Calendar {
        let nine_to_five = || vec![(9 * 60, 17 * 60)];
        let week = [nine_to_five(), nine_to_five(), nine_to_five(), nine_to_five(), nine_to_five(), vec![], vec![]];
        let holidays = vec![Holiday::parse("12-25").unwrap(), Holiday::parse("2026-12-24").unwrap()];
        Calendar::new(TimeZone::get("Europe/Berlin").unwrap(), week, holidays).unwrap()
    }

    fn at(s: &str) -> Timestamp {
        Timestamp(s.parse::<jiff::Timestamp>().unwrap().as_millisecond())
    }

    #[test]
    fn ranges_and_holidays_parse() {
        assert_eq!(parse_range("09:00-17:30"), Some((540, 1050)));
        assert_eq!(parse_range("0:00-24:00"), Some((0, 1440)));
        for bad in ["17:00-09:00", "9-17", "09:00-24:01", "09:60-10:00", "", "09:00"] {
            assert_eq!(parse_range(bad), None, "{bad}");
        }
        assert!(matches!(Holiday::parse("02-29"), Some(Holiday::Yearly { month: 2, day: 29 })));
        assert_eq!(Holiday::parse("13-01"), None);
        assert_eq!(Holiday::parse("2026-02-30"), None);
    }

    #[test]
    fn a_weekend_is_skipped() {
        let c = berlin();
        // Friday 2026-03-06 15:00 CET (14:00 UTC) + 4 h: 2 h on Friday, 2 on Monday.
        assert_eq!(c.add(at("2026-03-06T14:00:00Z"), 4 * H), at("2026-03-09T10:00:00Z"));
        assert_eq!(c.between(at("2026-03-06T14:00:00Z"), at("2026-03-09T10:00:00Z")), 4 * H);
        assert!(!c.is_open(at("2026-03-07T10:00:00Z")));
        // Starting on a Saturday counts from Monday 09:00.
        assert_eq!(c.add(at("2026-03-07T10:00:00Z"), H), at("2026-03-09T09:00:00Z"));
    }

    #[test]
    fn holidays_are_skipped() {
        let c = berlin();
        // Wednesday 2026-12-23 16:00 CET + 3 h: 1 h that day, then 24th and 25th
        // (a dated and a yearly holiday) are off, 2 h on Monday the 28th
        // (26th/27th a weekend).
        assert_eq!(c.add(at("2026-12-23T15:00:00Z"), 3 * H), at("2026-12-28T10:00:00Z"));
    }

    #[test]
    fn dst_changes_move_hours_with_the_wall_clock() {
        let c = berlin();
        // Spring: Friday 27 March 2026 16:00 CET (15:00 UTC) + 2 h = Monday
        // 30 March 10:00 CEST (08:00 UTC).
        assert_eq!(c.add(at("2026-03-27T15:00:00Z"), 2 * H), at("2026-03-30T08:00:00Z"));
        // Autumn: Friday 23 October 16:00 CEST (14:00 UTC) + 2 h = Monday 26
        // October 10:00 CET (09:00 UTC).
        assert_eq!(c.add(at("2026-10-23T14:00:00Z"), 2 * H), at("2026-10-26T09:00:00Z"));
        assert_eq!(c.between(at("2026-10-23T14:00:00Z"), at("2026-10-26T09:00:00Z")), 2 * H);
        // A range over the change itself is one hour shorter (spring) in instants.
        let night = Calendar::new(TimeZone::get("Europe/Berlin").unwrap(), std::array::from_fn(|_| vec![(60, 240)]), vec![]).unwrap();
        assert_eq!(night.between(at("2026-03-29T00:00:00Z"), at("2026-03-29T03:00:00Z")), 2 * H);
    }

    #[test]
    fn a_week_without_hours_is_refused() {
        assert!(Calendar::new(TimeZone::UTC, std::array::from_fn(|_| vec![]), vec![]).is_err());
        assert!(Calendar::new(TimeZone::UTC, std::array::from_fn(|_| vec![(60, 120), (100, 200)]), vec![]).is_err());
    }

    #[test]
    fn add_and_between_agree() {
        let c = berlin();
        let start = at("2026-03-25T07:13:00Z");
        for minutes in [1, 59, 60, 61, 479, 480, 481, 2000, 10_000] {
            let end = c.add(start, minutes * 60_000);
            assert_eq!(c.between(start, end), minutes * 60_000, "{minutes}");
        }
        assert_eq!(Calendar::always().add(start, 5), Timestamp(start.0 + 5));
    }
}
