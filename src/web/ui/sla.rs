//! How an SLA looks: each target of a ticket ("first response due in 1 h 20 m
//! business time"), amber once its policy's warning share is spent, red when
//! overdue; the queue's SLA cell (the most pressing running target).

use std::collections::HashMap;

use maud::{Markup, html};

use crate::config::Config;
use crate::domain::Timestamp;
use crate::domain::calendar::Calendar;
use crate::domain::sla::{Clock, Clocks, SlaState, SlaTarget};
use crate::tr;

/// A length of time, e.g. "45 m", "1 h 20 m", "3 h".
pub fn span(ms: i64) -> String {
    let minutes = ms.unsigned_abs().div_ceil(60_000);
    match (minutes / 60, minutes % 60) {
        (0, m) => tr!("{m} m", m = m),
        (h, 0) => tr!("{h} h", h = h),
        (h, m) => tr!("{h} h {m} m", h = h, m = m),
    }
}

/// How pressing a target is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Urgency {
    Ok,
    Warn,
    Late,
}

impl Urgency {
    fn of(c: &Clock, now: Timestamp) -> Urgency {
        if c.breached_at.is_some() || c.due.is_some_and(|d| d <= now) {
            Urgency::Late
        } else if c.warned || c.warn_at.is_some_and(|w| w <= now) {
            Urgency::Warn
        } else {
            Urgency::Ok
        }
    }

    fn class(self) -> &'static str {
        match self {
            Urgency::Ok => "sla sla-ok",
            Urgency::Warn => "sla sla-warn",
            Urgency::Late => "sla sla-late",
        }
    }
}

/// The calendars of policies, built once per page.
pub struct Calendars<'a> {
    cfg: &'a Config,
    built: HashMap<String, Calendar>,
}

impl<'a> Calendars<'a> {
    pub fn new(cfg: &'a Config) -> Calendars<'a> {
        Calendars { cfg, built: HashMap::new() }
    }

    fn of(&mut self, sla: &SlaState) -> &Calendar {
        let cfg = self.cfg;
        self.built.entry(sla.policy.clone()).or_insert_with(|| cfg.calendar(cfg.sla_named(&sla.policy).map_or("", |p| p.calendar.as_str())))
    }
}

/// One line about a target's state.
fn line(target: SlaTarget, c: &Clock, cal: &Calendar, now: Timestamp) -> (Urgency, String) {
    let name = crate::i18n::dynamic(target.label());
    let urgency = Urgency::of(c, now);
    if let Some(met) = c.met_at {
        let late = c.breached_at.is_some();
        let text = if late {
            tr!("{name} met late, {at}", name = name, at = met.short())
        } else {
            tr!("{name} met {at}", name = name, at = met.short())
        };
        return (if late { Urgency::Late } else { Urgency::Ok }, text);
    }
    let left = c.left(now, cal);
    let text = match (c.running(), left > 0) {
        (true, true) => tr!("{name} due in {time} business time", name = name, time = span(left)),
        (true, false) => tr!("{name} overdue by {time} business time", name = name, time = span(left)),
        (false, true) => tr!("{name} paused, {time} left", name = name, time = span(left)),
        (false, false) => tr!("{name} paused, overdue by {time}", name = name, time = span(left)),
    };
    (urgency, text)
}

/// Every target of a ticket's SLA, for the ticket page.
pub fn targets(cfg: &Config, sla: &SlaState, now: Timestamp) -> Markup {
    let mut cals = Calendars::new(cfg);
    let cal = cals.of(sla).clone();
    html! {
        ul.sla-targets aria-label=(format!("SLA {}", sla.policy)) {
            @for t in SlaTarget::ALL {
                @if let Some(c) = sla.clock(t) {
                    @let (u, text) = line(t, c, &cal, now);
                    li { span class=(u.class()) title=(c.due.map(|d| tr!("due {at} UTC", at = d.short())).unwrap_or_default()) { (text) } }
                }
            }
        }
    }
}

/// The queue's SLA cell: the running target due first, else the state.
pub fn cell(cals: &mut Calendars, clocks: Option<&Clocks>, now: Timestamp) -> Markup {
    let Some(sla) = clocks.and_then(|c| c.sla.as_ref()) else { return html! {} };
    let pressing = SlaTarget::ALL
        .into_iter()
        .filter_map(|t| sla.clock(t).filter(|c| c.met_at.is_none()).map(|c| (t, c)))
        .min_by_key(|(_, c)| (c.due.is_none(), c.due));
    match pressing {
        Some((t, c)) => {
            let cal = cals.of(sla).clone();
            let (u, text) = line(t, c, &cal, now);
            html! { span class=(u.class()) title=(text) { (short(c, &cal, now)) } }
        }
        None if sla.breached().is_empty() => html! { span.sla.sla-ok { (tr!("met")) } },
        None => html! { span.sla.sla-late { (tr!("met late")) } },
    }
}

fn short(c: &Clock, cal: &Calendar, now: Timestamp) -> String {
    let left = c.left(now, cal);
    match (c.running(), left > 0) {
        (true, true) => tr!("in {time}", time = span(left)),
        (true, false) => tr!("{time} over", time = span(left)),
        (false, _) => tr!("paused").into(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn spans_read_well() {
        assert_eq!(super::span(45 * 60_000), "45 m");
        assert_eq!(super::span(80 * 60_000), "1 h 20 m");
        assert_eq!(super::span(-3 * 3_600_000), "3 h");
        assert_eq!(super::span(1), "1 m");
    }
}
