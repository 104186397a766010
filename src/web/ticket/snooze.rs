//! Snoozing from the ticket page: the shortcuts (tomorrow 9:00, next Monday
//! 9:00, in a week — in the agent's own time zone) and a date and time, and
//! reading a time an agent or the API gave.

use jiff::civil::{DateTime, Time};
use jiff::tz::TimeZone;
use maud::{Markup, html};

use crate::domain::Timestamp;
use crate::tr;

/// A time as RFC 3339 (with `Z` or an offset), or a local `YYYY-MM-DDTHH:MM`
/// in `tz` (UTC when none).
pub fn parse_instant(s: &str, tz: Option<&TimeZone>) -> Option<Timestamp> {
    let s = s.trim();
    if let Ok(t) = s.parse::<jiff::Timestamp>() {
        return Some(Timestamp(t.as_millisecond()));
    }
    let local: DateTime = s.parse().ok()?;
    let zoned = local.to_zoned(tz.cloned().unwrap_or(TimeZone::UTC)).ok()?;
    Some(Timestamp(zoned.timestamp().as_millisecond()))
}

/// (value, label) of each shortcut from `now` in `tz`.
pub fn shortcuts(now: Timestamp, tz: &TimeZone) -> Vec<(String, String)> {
    let Ok(now) = jiff::Timestamp::from_millisecond(now.0) else { return Vec::new() };
    let today = now.to_zoned(tz.clone()).date();
    let nine = Time::constant(9, 0, 0, 0);
    let at = |d: jiff::civil::Date| d.to_datetime(nine).to_zoned(tz.clone()).ok().map(|z| z.timestamp().to_string());
    let mut out = Vec::new();
    if let Some(v) = today.tomorrow().ok().and_then(at) {
        out.push((v, tr!("Tomorrow 9:00").to_string()));
    }
    let days_to_monday = 7 - today.weekday().to_monday_zero_offset() as i64;
    if let Some(v) = today.checked_add(jiff::Span::new().days(days_to_monday)).ok().and_then(at) {
        out.push((v, tr!("Next Monday 9:00").to_string()));
    }
    if let Some(v) = today.checked_add(jiff::Span::new().days(7)).ok().and_then(at) {
        out.push((v, tr!("In a week, 9:00").to_string()));
    }
    out
}

/// The snooze form of the side panel (posts to the ticket's update).
pub fn snooze_box(r: &str, csrf: &str, now: Timestamp, tz: &TimeZone, until: Option<Timestamp>) -> Markup {
    html! {
        details.snooze open[until.is_some()] {
            summary { @if let Some(u) = until { (super::rich(tr!("Snoozed until {when}"), &[("when", &crate::web::ui::when_at(u).into_string())])) } @else { (tr!("Snooze…")) } }
            form.inline method="post" action=(format!("/tickets/{r}/update")) {
                (crate::web::ui::csrf_field(csrf))
                label { (tr!("Until")) select name="snooze_until" {
                    @for (v, l) in shortcuts(now, tz) { option value=(v) { (l) } }
                } }
                button type="submit" { (tr!("Snooze")) }
            }
            form.inline method="post" action=(format!("/tickets/{r}/update")) {
                (crate::web::ui::csrf_field(csrf))
                label { (tr!("Or at")) input type="datetime-local" name="snooze_until" required; }
                button type="submit" { (tr!("Snooze")) }
            }
            p.muted.small { (tr!("It leaves the active views and comes back as Open then (sooner if the requester replies).")) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_read_in_the_agents_zone_and_shortcuts_land_at_nine() {
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        // Winter: UTC+1.
        assert_eq!(parse_instant("2026-12-05T09:00", Some(&berlin)), parse_instant("2026-12-05T08:00:00Z", None));
        assert_eq!(parse_instant("2026-07-05T09:00", Some(&berlin)), parse_instant("2026-07-05T07:00:00Z", None));
        assert!(parse_instant("next week", None).is_none());
        // Thursday 2026-12-03 22:00 UTC is Thursday 23:00 in Berlin.
        let now = parse_instant("2026-12-03T22:00:00Z", None).unwrap();
        let s = shortcuts(now, &berlin);
        assert_eq!(s[0].0, "2026-12-04T08:00:00Z");
        assert_eq!(s[1].0, "2026-12-07T08:00:00Z");
        assert_eq!(s[2].0, "2026-12-10T08:00:00Z");
    }
}
