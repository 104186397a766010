//! `[[calendar]]` (business hours in a time zone, holidays) and `[[sla]]`
//! (service-level policies: which tickets, what targets in business time,
//! when the clock pauses, who hears of a warning or a breach), and
//! `[workflow] aging_*` urgency aging, which counts on a calendar too.

use super::{Audience, Config};
use crate::domain::calendar::{Calendar, Holiday, parse_range};
use crate::domain::{Priority, Status, Ticket};

/// One business calendar.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarConfig {
    pub name: String,
    /// An IANA zone, e.g. "Europe/Berlin".
    #[serde(default = "utc")]
    pub time_zone: String,
    /// The calendar of policies that name none (else the first).
    #[serde(default)]
    pub default: bool,
    #[serde(default)]
    pub monday: Vec<String>,
    #[serde(default)]
    pub tuesday: Vec<String>,
    #[serde(default)]
    pub wednesday: Vec<String>,
    #[serde(default)]
    pub thursday: Vec<String>,
    #[serde(default)]
    pub friday: Vec<String>,
    #[serde(default)]
    pub saturday: Vec<String>,
    #[serde(default)]
    pub sunday: Vec<String>,
    /// "2026-12-24" (that day) or "12-25" (every year).
    #[serde(default)]
    pub holidays: Vec<String>,
}

fn utc() -> String {
    "UTC".into()
}

const WEEKDAYS: [&str; 7] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

impl CalendarConfig {
    pub const EXAMPLE: &'static str = "\
# Business calendars (one [[calendar]] each): working hours per weekday
# (several ranges a day; \"24:00\" ends at midnight) in a time zone, and
# holidays (\"2026-12-24\" that day, \"12-25\" every year). SLA targets and
# urgency aging count business time on one. Without a calendar, time counts
# round the clock.
# [[calendar]]
# name = \"office\"
# time_zone = \"Europe/Berlin\"
# default = true
# monday = [\"08:00-12:00\", \"13:00-17:00\"]
# tuesday = [\"08:00-12:00\", \"13:00-17:00\"]
# wednesday = [\"08:00-12:00\", \"13:00-17:00\"]
# thursday = [\"08:00-12:00\", \"13:00-17:00\"]
# friday = [\"08:00-14:00\"]
# holidays = [\"01-01\", \"12-25\", \"12-26\", \"2026-04-03\"]
";

    fn days(&self) -> [&Vec<String>; 7] {
        [&self.monday, &self.tuesday, &self.wednesday, &self.thursday, &self.friday, &self.saturday, &self.sunday]
    }

    /// The calendar it describes; the error names the key.
    pub fn build(&self) -> Result<Calendar, (&'static str, String)> {
        let tz = jiff::tz::TimeZone::get(&self.time_zone)
            .map_err(|_| ("time_zone", format!("calendar {:?}: {:?} is not a known time zone", self.name, self.time_zone)))?;
        let mut week: [Vec<(u16, u16)>; 7] = Default::default();
        for (i, day) in self.days().into_iter().enumerate() {
            for r in day {
                let range = parse_range(r)
                    .ok_or_else(|| (WEEKDAYS[i], format!("calendar {:?}: {r:?} is not a range like \"09:00-17:00\"", self.name)))?;
                week[i].push(range);
            }
        }
        let mut holidays = Vec::new();
        for h in &self.holidays {
            let day = Holiday::parse(h)
                .ok_or_else(|| ("holidays", format!("calendar {:?}: {h:?} is not a date like \"2026-12-24\" or \"12-25\"", self.name)))?;
            holidays.push(day);
        }
        Calendar::new(tz, week, holidays).map_err(|e| ("monday", format!("calendar {:?} {e}", self.name)))
    }
}

/// Parses a business-time length: "45m", "4h", "1h30m".
pub fn parse_duration(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let (mut total, mut num) = (0i64, String::new());
    for c in s.chars() {
        match c {
            '0'..='9' => num.push(c),
            'h' | 'm' if !num.is_empty() => {
                let n: i64 = num.parse().ok()?;
                total = total.checked_add(n.checked_mul(if c == 'h' { 3_600_000 } else { 60_000 })?)?;
                num.clear();
            }
            _ => return None,
        }
    }
    (num.is_empty() && total > 0 && total <= 10_000 * 3_600_000).then_some(total)
}

/// One service-level policy.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaConfig {
    pub name: String,
    /// A `[[calendar]]` name; empty: the default calendar.
    #[serde(default)]
    pub calendar: String,
    /// Which tickets: every list given must match one of its entries.
    #[serde(default)]
    pub departments: Vec<String>,
    #[serde(default)]
    pub priorities: Vec<String>,
    #[serde(default)]
    pub categories: Vec<String>,
    /// Requester address domains ("example.com" also covers its subdomains).
    #[serde(default)]
    pub domains: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Targets in business time ("1h", "30m", "2h30m"); empty: none.
    #[serde(default)]
    pub first_response: String,
    #[serde(default)]
    pub next_response: String,
    #[serde(default)]
    pub resolution: String,
    /// States in which the clock stops.
    #[serde(default = "paused")]
    pub pause_in: Vec<String>,
    /// Share of a target spent when the warning goes out (1-99 %).
    #[serde(default = "warn_percent")]
    pub warn_percent: u8,
    /// Who hears of a warning or a breach: "assignee", "members" (the
    /// ticket's team, else its department), "assignee_or_members", "none".
    #[serde(default = "assignee_or_members")]
    pub notify: Audience,
}

fn paused() -> Vec<String> {
    [Status::Pending, Status::OnHold, Status::Snoozed].iter().map(|s| s.key().to_string()).collect()
}

fn warn_percent() -> u8 {
    75
}

fn assignee_or_members() -> Audience {
    Audience::AssigneeOrMembers
}

impl SlaConfig {
    pub const EXAMPLE: &'static str = "\
# Service-level policies (one [[sla]] each; the first that matches a ticket
# applies, again whenever its priority, department, category or tags change).
# Targets are business time on `calendar` (empty: the default calendar):
# first_response (to the first agent reply), next_response (to the agent's
# answer after each later customer message), resolution (to Resolved). The
# clock stops in the `pause_in` states. A warning at warn_percent of a target
# and a breach are logged on the ticket and mailed to `notify`: \"assignee\",
# \"members\" (the ticket's team, else its department), \"assignee_or_members\"
# or \"none\".
# [[sla]]
# name = \"Urgent\"
# priorities = [\"urgent\"]
# first_response = \"30m\"
# next_response = \"2h\"
# resolution = \"8h\"
#
# [[sla]]
# name = \"Standard\"
# calendar = \"office\"
# first_response = \"4h\"
# next_response = \"8h\"
# resolution = \"40h\"
# pause_in = [\"pending\", \"on_hold\", \"snoozed\"]
# warn_percent = 75
# notify = \"assignee_or_members\"
";

    /// Whether it covers `t`, whose requester writes from `email`.
    pub fn matches(&self, t: &Ticket, email: &str) -> bool {
        let any = |list: &[String], v: &str| list.is_empty() || list.iter().any(|x| x.eq_ignore_ascii_case(v));
        let domain = email.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase()).unwrap_or_default();
        any(&self.departments, &t.department)
            && any(&self.categories, &t.category)
            && (self.priorities.is_empty() || self.priorities.iter().any(|p| Priority::parse(p) == Some(t.priority)))
            && (self.tags.is_empty() || self.tags.iter().any(|g| t.tags.iter().any(|x| x.eq_ignore_ascii_case(g))))
            && (self.domains.is_empty()
                || self.domains.iter().any(|d| {
                    let d = d.to_ascii_lowercase();
                    domain == d || domain.strip_suffix(&d).is_some_and(|head| head.ends_with('.'))
                }))
    }

    /// Whether its clock stops in `s`.
    pub fn pauses_in(&self, s: Status) -> bool {
        self.pause_in.iter().any(|p| Status::parse(p) == Some(s))
    }

    /// Its targets in business milliseconds: first response, next response, resolution.
    pub fn targets(&self) -> [Option<i64>; 3] {
        [parse_duration(&self.first_response), parse_duration(&self.next_response), parse_duration(&self.resolution)]
    }
}

impl Config {
    /// The calendar called `name` (empty: the default one; round the clock
    /// when the desk has none).
    pub fn calendar(&self, name: &str) -> Calendar {
        let found = if name.is_empty() {
            self.calendar.iter().find(|c| c.default).or(self.calendar.first())
        } else {
            self.calendar.iter().find(|c| c.name.eq_ignore_ascii_case(name))
        };
        found.and_then(|c| c.build().ok()).unwrap_or_else(Calendar::always)
    }

    /// The policy for `t`, whose requester writes from `email`.
    pub fn sla_for(&self, t: &Ticket, email: &str) -> Option<&SlaConfig> {
        self.sla.iter().find(|s| s.matches(t, email))
    }

    /// The `[[sla]]` called `name`.
    pub fn sla_named(&self, name: &str) -> Option<&SlaConfig> {
        self.sla.iter().find(|s| s.name == name)
    }

    /// Checks `[[calendar]]` and `[[sla]]`.
    pub(super) fn check_sla(&self) -> Result<(), (&'static str, &'static str, String)> {
        for (i, c) in self.calendar.iter().enumerate() {
            if c.name.trim().is_empty() || c.name.len() > 60 {
                return Err(("calendar", "name", format!("calendar {}: a name is 1-60 characters", i + 1)));
            }
            if self.calendar[..i].iter().any(|o| o.name.eq_ignore_ascii_case(&c.name)) {
                return Err(("calendar", "name", format!("{:?} is listed twice", c.name)));
            }
            c.build().map_err(|(key, e)| ("calendar", key, e))?;
        }
        if self.calendar.iter().filter(|c| c.default).count() > 1 {
            return Err(("calendar", "default", "only one calendar can be the default".into()));
        }
        for (i, s) in self.sla.iter().enumerate() {
            if s.name.trim().is_empty() || s.name.len() > 60 {
                return Err(("sla", "name", format!("sla {}: a name is 1-60 characters", i + 1)));
            }
            if self.sla[..i].iter().any(|o| o.name == s.name) {
                return Err(("sla", "name", format!("{:?} is listed twice", s.name)));
            }
            if !s.calendar.is_empty() && !self.calendar.iter().any(|c| c.name.eq_ignore_ascii_case(&s.calendar)) {
                return Err(("sla", "calendar", format!("sla {:?}: {:?} is not a [[calendar]]", s.name, s.calendar)));
            }
            for (key, v) in [("first_response", &s.first_response), ("next_response", &s.next_response), ("resolution", &s.resolution)] {
                if !v.is_empty() && parse_duration(v).is_none() {
                    return Err(("sla", key, format!("sla {:?}: {v:?} is not a length like \"30m\", \"4h\" or \"1h30m\"", s.name)));
                }
            }
            if s.targets().iter().all(Option::is_none) {
                return Err(("sla", "first_response", format!("sla {:?} sets no target", s.name)));
            }
            if !(1..=99).contains(&s.warn_percent) {
                return Err(("sla", "warn_percent", format!("sla {:?}: must be 1-99", s.name)));
            }
            for p in &s.pause_in {
                match Status::parse(p) {
                    None => return Err(("sla", "pause_in", format!("sla {:?}: {p:?} is not a status", s.name))),
                    Some(Status::Resolved | Status::Closed) => {
                        return Err((
                            "sla",
                            "pause_in",
                            format!("sla {:?}: the clock stops anyway once a ticket is resolved or closed", s.name),
                        ));
                    }
                    Some(_) => {}
                }
            }
            if let Some(p) = s.priorities.iter().find(|p| Priority::parse(p).is_none()) {
                return Err(("sla", "priorities", format!("sla {:?}: {p:?} is not a priority", s.name)));
            }
            if let Some(d) = s.departments.iter().find(|d| self.department(d).is_none()) {
                return Err(("sla", "departments", format!("sla {:?}: {d:?} is not one of desk.departments", s.name)));
            }
            if let Some(c) = s.categories.iter().find(|c| !self.desk.categories.iter().any(|x| x.eq_ignore_ascii_case(c))) {
                return Err(("sla", "categories", format!("sla {:?}: {c:?} is not one of desk.categories", s.name)));
            }
        }
        let aging = &self.workflow.aging_calendar;
        if !aging.is_empty() && !self.calendar.iter().any(|c| c.name.eq_ignore_ascii_case(aging)) {
            return Err(("workflow", "aging_calendar", format!("{aging:?} is not a [[calendar]]")));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("45m"), Some(45 * 60_000));
        assert_eq!(parse_duration("1h30m"), Some(90 * 60_000));
        assert_eq!(parse_duration("8h"), Some(8 * 3_600_000));
        for bad in ["", "0m", "h", "5", "2d", "1.5h", "m5", "-1h", "99999999999999h"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn bad_calendars_and_policies_are_located() {
        let err = |extra: &str| Config::parse(&format!("[desk]\ndepartments = [\"Support\"]\n{extra}"), "x.toml").unwrap_err();
        let e = err("[[calendar]]\nname = \"office\"\ntime_zone = \"Europe/Berlin\"\n");
        assert!(e.message.contains("no working hours"), "{e}");
        let e = err("[[calendar]]\nname = \"office\"\ntime_zone = \"Mars/Olympus\"\nmonday = [\"09:00-17:00\"]\n");
        assert_eq!((e.key.as_str(), e.line), ("calendar.time_zone", 5), "{e}");
        let e = err("[[calendar]]\nname = \"office\"\nmonday = [\"9 to 5\"]\n");
        assert_eq!(e.key, "calendar.monday", "{e}");
        let e = err("[[sla]]\nname = \"x\"\nfirst_response = \"2 days\"\n");
        assert_eq!((e.key.as_str(), e.line), ("sla.first_response", 5), "{e}");
        let e = err("[[sla]]\nname = \"x\"\ncalendar = \"nope\"\nresolution = \"8h\"\n");
        assert_eq!(e.key, "sla.calendar", "{e}");
        let e = err("[[sla]]\nname = \"x\"\n");
        assert!(e.message.contains("no target"), "{e}");
    }
}
