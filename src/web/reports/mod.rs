//! The Reports page (issue 16 part 6), for admins and agents: created and
//! resolved per day or week, the backlog by age, first-response and
//! resolution times, a breakdown per agent, department, channel or
//! category, and SLA compliance — each chart an inline SVG beside its table,
//! each table also as CSV (`/reports/csv/<section>` with the same filters,
//! for roles that may export).
//! Days are the viewer's (their profile's time zone, else UTC).

use axum::Router;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use maud::{Markup, html};
use serde::Deserialize;

use crate::desk::DeskError;
use crate::desk::reports::{ReportAsk, ReportView};
use crate::domain::report::{AGES, AgentFilter, Compliance, Grain, GroupBy, GroupKey, Times};
use crate::domain::{Channel, Person, PersonId};
use crate::i18n::dynamic;
use crate::i18n::format::{date_pattern, day_month_pattern, decimal, num};
use crate::tr;
use crate::web::pages::{frame, refusal};
use crate::web::queue::export::cell;
use crate::web::ui::chart::{self, Series};
use crate::web::ui::{self, page};
use crate::web::{Agent, AppState, WebResult, run_as};

pub fn routes() -> Router<AppState> {
    Router::new().route("/reports", get(reports_page)).route("/reports/csv/{section}", get(csv))
}

/// The page's filters, as the form sends them (blank: not set).
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct ReportParams {
    from: String,
    to: String,
    grain: String,
    department: String,
    /// An agent's id or "unassigned".
    agent: String,
    channel: String,
    category: String,
    group: String,
}

fn bad(field: &'static str, message: String) -> DeskError {
    DeskError::Invalid { field, message }
}

impl ReportParams {
    fn ask(&self) -> Result<ReportAsk, DeskError> {
        let set = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        let date = |field: &'static str, s: &str| -> Result<Option<jiff::civil::Date>, DeskError> {
            match set(s) {
                None => Ok(None),
                Some(v) => v.parse().map(Some).map_err(|_| bad(field, tr!("{value} is not a date (YYYY-MM-DD)", value = format!("{v:?}")))),
            }
        };
        let grain = match set(&self.grain) {
            None => None,
            Some(g) => Some(Grain::parse(&g).ok_or_else(|| bad("grain", tr!("{value}: use day or week", value = format!("{g:?}"))))?),
        };
        let group_by = match set(&self.group) {
            None => None,
            Some(g) => Some(
                GroupBy::parse(&g)
                    .ok_or_else(|| bad("group", tr!("{value}: use agent, department, channel or category", value = format!("{g:?}"))))?,
            ),
        };
        let channel = match set(&self.channel) {
            None => None,
            Some(c) => Some(Channel::parse(&c).ok_or_else(|| bad("channel", tr!("{value} is not a channel", value = format!("{c:?}"))))?),
        };
        let agent = match set(&self.agent) {
            None => None,
            Some(a) if a == "unassigned" => Some(AgentFilter::Unassigned),
            Some(a) => Some(AgentFilter::Agent(PersonId(
                a.parse().map_err(|_| bad("agent", tr!("{value} is not an agent", value = format!("{a:?}"))))?,
            ))),
        };
        Ok(ReportAsk {
            from: date("from", &self.from)?,
            to: date("to", &self.to)?,
            grain,
            department: set(&self.department),
            agent,
            channel,
            category: set(&self.category),
            group_by,
        })
    }

    /// The query string of these filters (for the CSV links).
    fn query(&self) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("from", &self.from),
            ("to", &self.to),
            ("grain", &self.grain),
            ("department", &self.department),
            ("agent", &self.agent),
            ("channel", &self.channel),
            ("category", &self.category),
            ("group", &self.group),
        ] {
            if !v.trim().is_empty() {
                q.append_pair(k, v.trim());
            }
        }
        q.finish()
    }
}

/// A duration for the tables: "3 h 20 m", "2 d 4 h".
fn took(ms: Option<i64>) -> String {
    match ms {
        None => "—".into(),
        Some(ms) if ms >= 24 * 3_600_000 => {
            let h = ms / 3_600_000;
            tr!("{days} d {hours} h", days = h / 24, hours = h % 24)
        }
        Some(ms) => ui::sla::span(ms),
    }
}

fn percent(c: &Compliance) -> String {
    c.percent().map_or("—".into(), |p| format!("{} %", decimal(p, 1)))
}

/// The tables of a report: (section, title, header, rows). The page and the
/// CSV export are both made from these, so they never disagree (the CSV
/// makes them in English, `csv`).
struct Table {
    section: &'static str,
    title: String,
    head: Vec<String>,
    rows: Vec<Vec<String>>,
}

fn group_name(k: &GroupKey, agents: &[Person]) -> String {
    match k {
        GroupKey::Unassigned => tr!("Unassigned").into(),
        GroupKey::Agent(id) => agents.iter().find(|a| a.id == *id).map_or_else(|| tr!("agent #{id}", id = id.0), |a| a.display()),
        GroupKey::Named(n) if n.is_empty() => tr!("(none)").into(),
        GroupKey::Named(n) => n.clone(),
    }
}

fn tables(v: &ReportView, agents: &[Person], sla: bool) -> Vec<Table> {
    let r = &v.report;
    let s = |x: &dyn std::fmt::Display| x.to_string();
    let mut out = vec![
        Table {
            section: "volume",
            title: match v.grain {
                Grain::Day => tr!("Created and resolved per day"),
                Grain::Week => tr!("Created and resolved per week"),
            }
            .into(),
            head: vec![
                match v.grain {
                    Grain::Day => tr!("Day starting"),
                    Grain::Week => tr!("Week starting"),
                }
                .into(),
                tr!("Created").into(),
                tr!("Resolved").into(),
            ],
            rows: v
                .bucket_days
                .iter()
                .zip(&r.buckets)
                .map(|(d, (_, c, res))| vec![d.strftime(date_pattern()).to_string(), s(c), s(res)])
                .collect(),
        },
        Table {
            section: "backlog",
            title: tr!("Backlog by age, now").into(),
            head: vec![tr!("Age").into(), tr!("Unresolved tickets").into()],
            rows: AGES.iter().zip(r.backlog).map(|((label, _), n)| vec![dynamic(label), s(&n)]).collect(),
        },
    ];
    let times = |name: &str, t: &Times| vec![name.to_string(), s(&t.count), took(t.p50), took(t.p90)];
    let mut time_rows = vec![times(tr!("First response"), &r.first_response), times(tr!("Resolution"), &r.resolution)];
    if sla {
        time_rows.push(times(tr!("First response, business time"), &r.first_response_business));
        time_rows.push(times(tr!("Resolution, business time"), &r.resolution_business));
    }
    out.push(Table {
        section: "times",
        title: tr!("Response and resolution times").into(),
        head: vec![tr!("Measure").into(), tr!("Tickets").into(), "p50".into(), "p90".into()],
        rows: time_rows,
    });
    let mut head: Vec<String> = vec![
        dynamic(v.group_by.label()),
        tr!("Created").into(),
        tr!("Resolved").into(),
        tr!("Open now").into(),
        tr!("First response p50").into(),
        tr!("First response p90").into(),
        tr!("Resolution p50").into(),
        tr!("Resolution p90").into(),
    ];
    if sla {
        head.push(tr!("SLA met").into());
    }
    out.push(Table {
        section: "groups",
        title: match v.group_by {
            GroupBy::Agent => tr!("By agent"),
            GroupBy::Department => tr!("By department"),
            GroupBy::Channel => tr!("By channel"),
            GroupBy::Category => tr!("By category"),
        }
        .into(),
        head,
        rows: r
            .groups
            .iter()
            .map(|g| {
                let mut row = vec![
                    group_name(&g.key, agents),
                    s(&g.created),
                    s(&g.resolved),
                    s(&g.open),
                    took(g.first_response.p50),
                    took(g.first_response.p90),
                    took(g.resolution.p50),
                    took(g.resolution.p90),
                ];
                if sla {
                    row.push(percent(&g.sla));
                }
                row
            })
            .collect(),
    });
    if sla {
        let row = |name: &str, c: &Compliance| vec![name.to_string(), s(&c.met), s(&c.breached), percent(c)];
        out.push(Table {
            section: "sla",
            title: tr!("SLA compliance").into(),
            head: vec![tr!("Target").into(), tr!("Met").into(), tr!("Breached").into(), tr!("Met in time").into()],
            rows: vec![
                row(tr!("First response (tickets created)"), &r.sla_first),
                row(tr!("Resolution (tickets resolved)"), &r.sla_resolution),
            ],
        });
    }
    out
}

async fn make(st: &AppState, a: &Agent, p: &ReportParams) -> Result<(ReportView, Vec<Person>), DeskError> {
    let ask = p.ask()?;
    let tz = ui::viewer_tz();
    run_as(&st.desk, &a.person, move |d, me| Ok((d.report(me, &ask, &tz)?, d.agents()?))).await
}

async fn reports_page(State(st): State<AppState>, a: Agent, Query(p): Query<ReportParams>) -> WebResult {
    let (v, agents) = match make(&st, &a, &p).await {
        Ok(x) => x,
        Err(e) => return Err(refusal(&st, &a, e, tr!("Reports"), "reports", ("/reports", tr!("Back to the last 30 days")))),
    };
    let sla = !st.desk.config().sla.is_empty();
    let tabs = tables(&v, &agents, sla);
    let q = p.query();
    let may_export = st.desk.may(&a.person, crate::domain::roles::Permission::Export);
    let r = &v.report;
    let section = |t: &Table, chart: Markup| {
        let csv = if q.is_empty() { format!("/reports/csv/{}", t.section) } else { format!("/reports/csv/{}?{q}", t.section) };
        html! {
            section.report-part id=(t.section) aria-labelledby=(format!("{}-h", t.section)) {
                h2 id=(format!("{}-h", t.section)) { (t.title) }
                (chart)
                details open[t.rows.len() <= 12] {
                    summary { (tr!("Table")) }
                    div.scroll-x tabindex="0" role="region" aria-label=(tr!("{title} (table)", title = t.title)) { (table(t)) }
                }
                @if may_export { p { a href=(csv) download { (tr!("Download CSV")) } } }
            }
        }
    };
    // Month names of `%b` are English; German days are numeric (`4.12.`).
    let labels: Vec<String> = v.bucket_days.iter().map(|d| d.strftime(day_month_pattern()).to_string()).collect();
    let volume = chart::columns(
        match v.grain {
            Grain::Day => tr!("Tickets created and resolved per day"),
            Grain::Week => tr!("Tickets created and resolved per week"),
        },
        &labels,
        &[
            Series { name: tr!("created"), class: "s1", values: r.buckets.iter().map(|b| b.1).collect() },
            Series { name: tr!("resolved"), class: "s2", values: r.buckets.iter().map(|b| b.2).collect() },
        ],
    );
    let ages: Vec<String> = AGES.iter().map(|(l, _)| dynamic(l)).collect();
    let backlog = chart::rows(
        tr!("Unresolved tickets by age"),
        &ages,
        &[Series { name: tr!("unresolved"), class: "s3", values: r.backlog.to_vec() }],
    );
    let top: Vec<_> = r.groups.iter().take(15).collect();
    let groups = chart::rows(
        match v.group_by {
            GroupBy::Agent => tr!("Tickets by agent"),
            GroupBy::Department => tr!("Tickets by department"),
            GroupBy::Channel => tr!("Tickets by channel"),
            GroupBy::Category => tr!("Tickets by category"),
        },
        &top.iter().map(|g| group_name(&g.key, &agents)).collect::<Vec<_>>(),
        &[
            Series { name: tr!("created"), class: "s1", values: top.iter().map(|g| g.created).collect() },
            Series { name: tr!("resolved"), class: "s2", values: top.iter().map(|g| g.resolved).collect() },
        ],
    );
    let tz_name = v.tz.iana_name().unwrap_or("UTC").to_string();
    let body = html! {
        div.narrow-page.wide-ok.reports {
            h1 { (tr!("Reports")) }
            (filters(&st, &a.person, &p, &v, &agents))
            @for n in &v.notes { (ui::notice("info", n)) }
            p.muted {
                (tr!(
                    "{from} to {to}, days in {zone}.",
                    from = v.from.strftime(date_pattern()),
                    to = v.to.strftime(date_pattern()),
                    zone = tz_name
                ))
                " "
                (tr!("Created counts tickets created in the range; resolved, tickets whose latest resolution is in it; first response, from creation to the first public agent reply."))
            }
            dl.tiles {
                div { dt { (tr!("Created")) } dd { (num(r.created as i64)) } }
                div { dt { (tr!("Resolved")) } dd { (num(r.resolved as i64)) } }
                div { dt { (tr!("Unresolved now")) } dd { (num(r.open as i64)) } }
                div { dt { (tr!("First response p50")) } dd { (took(r.first_response.p50)) } }
                div { dt { (tr!("Resolution p50")) } dd { (took(r.resolution.p50)) } }
                div { dt { (tr!("Not answered yet")) } dd { (num(r.unanswered as i64)) } }
                @if sla { div { dt { (tr!("SLA met")) } dd { (percent(&sla_total(r))) } } }
            }
            @for t in &tabs {
                @match t.section {
                    "volume" => (section(t, volume.clone())),
                    "backlog" => (section(t, backlog.clone())),
                    "groups" => (section(t, groups.clone())),
                    _ => (section(t, html! {})),
                }
            }
        }
    };
    Ok(page(&frame(&st, &a, tr!("Reports").into(), "reports"), body).into_response())
}

fn sla_total(r: &crate::domain::report::Report) -> Compliance {
    Compliance { met: r.sla_first.met + r.sla_resolution.met, breached: r.sla_first.breached + r.sla_resolution.breached }
}

fn table(t: &Table) -> Markup {
    html! {
        table.tickets.report {
            thead { tr { @for h in &t.head { th scope="col" { (h) } } } }
            tbody {
                @for row in &t.rows {
                    tr { @for (i, c) in row.iter().enumerate() { @if i == 0 { th scope="row" { (c) } } @else { td.num { (c) } } } }
                }
            }
        }
    }
}

/// The filter form (GET, so a report is a link to share).
fn filters(st: &AppState, me: &Person, p: &ReportParams, v: &ReportView, agents: &[Person]) -> Markup {
    let cfg = st.desk.config();
    let depts: Vec<&str> = cfg.desk.departments.iter().map(String::as_str).filter(|d| me.works_in(d)).collect();
    let agent_ids: Vec<String> = agents.iter().map(|a| a.id.0.to_string()).collect();
    let from = v.from.to_string();
    let to = v.to.to_string();
    html! {
        form.report-filters method="get" action="/reports" {
            label { (tr!("From")) " " input type="date" name="from" value=(from); }
            label { (tr!("Until")) " " input type="date" name="to" value=(to); }
            label { (tr!("Per")) " " select name="grain" { (ui::options([("", tr!("auto")), ("day", tr!("day")), ("week", tr!("week"))], p.grain.trim())) } }
            label { (tr!("Department")) " " select name="department" {
                option value="" { (tr!("All")) }
                (ui::options(depts.iter().map(|d| (*d, *d)), p.department.trim()))
            } }
            label { (tr!("Agent")) " " select name="agent" {
                option value="" { (tr!("All")) }
                option value="unassigned" selected[p.agent.trim() == "unassigned"] { (tr!("Unassigned")) }
                (ui::options(agent_ids.iter().map(String::as_str).zip(agents.iter().map(|a| a.name.as_str())), p.agent.trim()))
            } }
            label { (tr!("Channel")) " " select name="channel" {
                option value="" { (tr!("All")) }
                (ui::options(Channel::ALL.iter().map(|c| (c.key(), dynamic(c.label()))), p.channel.trim()))
            } }
            label { (tr!("Category")) " " select name="category" {
                option value="" { (tr!("All")) }
                (ui::options(cfg.desk.categories.iter().map(|c| (c.as_str(), c.as_str())), p.category.trim()))
            } }
            label { (tr!("Break down by")) " " select name="group" { (ui::options(GroupBy::ALL.iter().map(|g| (g.key(), dynamic(g.label()))), v.group_by.key())) } }
            button.primary type="submit" { (tr!("Show")) }
        }
    }
}

/// One table of the report as CSV (the same rows the page shows).
async fn csv(
    State(st): State<AppState>,
    ConnectInfo(addr): ConnectInfo<std::net::SocketAddr>,
    a: Agent,
    Path(section): Path<String>,
    Query(p): Query<ReportParams>,
) -> WebResult {
    st.desk.require(&a.person, crate::domain::roles::Permission::Export)?;
    let (v, agents) = make(&st, &a, &p).await?;
    let sla = !st.desk.config().sla.is_empty();
    // A file's content is English, like the ticket export: its headers and
    // numbers read the same for every agent and every spreadsheet.
    let made = crate::i18n::with_lang(crate::i18n::Lang::En, || tables(&v, &agents, sla));
    let Some(t) = made.into_iter().find(|t| t.section == section) else {
        return Err(DeskError::NotFound.into());
    };
    let (actor, ip) = (a.person.clone(), addr.ip().to_string());
    let event = crate::domain::audit::AuditEvent::DataExported { what: format!("report {section} as CSV"), filter: p.query() };
    crate::web::blocking(&st.desk, move |d| d.record_audit(crate::desk::audit::Actor::Agent(&actor), &ip, event)).await?;
    let mut out = String::new();
    for row in std::iter::once(&t.head).chain(&t.rows) {
        out.push_str(&row.iter().map(|c| cell(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    let name = format!("attachment; filename=\"report-{section}-{}-{}.csv\"", v.from, v.to);
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()), (header::CONTENT_DISPOSITION, name)], out).into_response())
}
