//! The Reports page's numbers (issue 16 part 6): a date range in the
//! viewer's time zone becomes day or week buckets, and the store's report
//! facts of the range (`store::reports`) are folded by
//! `domain::report::Aggregator`. Agents see the departments they work in;
//! admins and unlimited agents see all.

use jiff::ToSpan;
use jiff::civil::Date;
use jiff::tz::TimeZone;

use super::{Desk, DeskError, Result};
use crate::domain::report::{AgentFilter, Aggregator, Filter, Grain, GroupBy, Report};
use crate::domain::{Channel, Person, Timestamp};
use crate::store::FactSet;

/// The longest range a report covers (about five years).
pub const MAX_DAYS: i64 = 5 * 366;
/// Day buckets up to this many days; longer ranges are shown by week.
pub const MAX_DAY_BUCKETS: i64 = 400;

/// What the viewer asked for (all optional: the last 30 days, by day, by agent).
#[derive(Debug, Clone, Default)]
pub struct ReportAsk {
    pub from: Option<Date>,
    pub to: Option<Date>,
    pub grain: Option<Grain>,
    pub department: Option<String>,
    pub agent: Option<AgentFilter>,
    pub channel: Option<Channel>,
    pub category: Option<String>,
    pub group_by: Option<GroupBy>,
}

/// A report and what it was made of.
#[derive(Debug, Clone)]
pub struct ReportView {
    pub report: Report,
    /// First and last day (inclusive), in `tz`.
    pub from: Date,
    pub to: Date,
    pub grain: Grain,
    pub group_by: GroupBy,
    /// The first day of each bucket.
    pub bucket_days: Vec<Date>,
    pub tz: TimeZone,
    /// Adjustments made to the request, said on the page.
    pub notes: Vec<String>,
}

fn start_of(d: Date, tz: &TimeZone) -> Result<Timestamp> {
    let z = d.to_zoned(tz.clone()).map_err(|e| DeskError::Invalid { field: "from", message: format!("{d}: {e}") })?;
    Ok(Timestamp(z.timestamp().as_millisecond()))
}

fn invalid(field: &'static str, message: String) -> DeskError {
    DeskError::Invalid { field, message }
}

impl Desk {
    /// The report `ask` describes, as `actor` may see it; days are read in
    /// `tz`.
    pub fn report(&self, actor: &Person, ask: &ReportAsk, tz: &TimeZone) -> Result<ReportView> {
        if !actor.is_staff() {
            return Err(DeskError::Forbidden("reports are for agents".into()));
        }
        let now = self.now();
        let today =
            jiff::Timestamp::from_millisecond(now.0).map(|t| t.to_zoned(tz.clone()).date()).map_err(|e| invalid("to", e.to_string()))?;
        let mut notes = Vec::new();
        let to = ask.to.unwrap_or(today);
        let mut from = match ask.from {
            Some(f) => f,
            None => to.checked_sub(29.days()).map_err(|e| invalid("from", e.to_string()))?,
        };
        if from > to {
            return Err(invalid(
                "from",
                crate::tr!(
                    "the range starts ({from}) after it ends ({to})",
                    from = from.strftime(crate::i18n::format::date_pattern()),
                    to = to.strftime(crate::i18n::format::date_pattern())
                ),
            ));
        }
        let days = |a: Date, b: Date| (b - a).get_days() as i64 + 1;
        if days(from, to) > MAX_DAYS {
            from = to.checked_sub((MAX_DAYS - 1).days()).map_err(|e| invalid("from", e.to_string()))?;
            notes.push(crate::tr!(
                "A report covers at most {days} days: it starts on {from}.",
                days = MAX_DAYS,
                from = from.strftime(crate::i18n::format::date_pattern())
            ));
        }
        let span = days(from, to);
        let mut grain = ask.grain.unwrap_or(if span > 62 { Grain::Week } else { Grain::Day });
        if grain == Grain::Day && span > MAX_DAY_BUCKETS {
            grain = Grain::Week;
            notes.push(crate::tr!("More than {days} days are shown by week.", days = MAX_DAY_BUCKETS));
        }
        let end = to.checked_add(1.day()).map_err(|e| invalid("to", e.to_string()))?;
        let mut bucket_days = Vec::new();
        let mut d = match grain {
            Grain::Day => from,
            // Weeks start on Monday; the first is cut at `from`.
            Grain::Week => from.checked_sub((from.weekday().to_monday_zero_offset() as i64).days()).unwrap_or(from),
        };
        let step = match grain {
            Grain::Day => 1.day(),
            Grain::Week => 7.days(),
        };
        while d < end {
            bucket_days.push(d.max(from));
            d = d.checked_add(step).map_err(|e| invalid("to", e.to_string()))?;
        }
        let starts = bucket_days.iter().map(|d| start_of(*d, tz)).collect::<Result<Vec<_>>>()?;
        let filter = Filter {
            from: start_of(from, tz)?,
            to: start_of(end, tz)?,
            department: ask.department.clone(),
            agent: ask.agent,
            channel: ask.channel,
            category: ask.category.clone(),
            walls: Self::walls(actor).map(|w| w.to_vec()),
            group_by: ask.group_by.unwrap_or(GroupBy::Agent),
        };
        let (lo, hi) = (filter.from, filter.to);
        let group_by = filter.group_by;
        let mut agg = Aggregator::new(filter.clone(), starts.clone(), now);
        let mut other = Aggregator::new(filter, starts, now);
        // One snapshot, read on two threads: the tickets created in the
        // range on one, those resolved in it and the unresolved on the other.
        let r = self.store.read()?;
        let (a, b) = std::thread::scope(|s| {
            let created = s.spawn(|| r.scan_facts(FactSet::Created, lo, hi, |f| agg.created(f)));
            let rest = r
                .scan_facts(FactSet::Resolved, lo, hi, |f| other.resolved(f))
                .and_then(|_| r.scan_facts(FactSet::Open, lo, hi, |f| other.open(f)));
            (created.join(), rest)
        });
        a.map_err(|_| crate::store::StoreError::Io(std::io::Error::other("a report scan stopped")))??;
        b?;
        agg.absorb(other);
        Ok(ReportView { report: agg.finish(), from, to, grain, group_by, bucket_days, tz: tz.clone(), notes })
    }
}
