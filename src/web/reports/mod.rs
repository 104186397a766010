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
                Some(v) => v.parse().map(Some).map_err(|_| bad(field, format!("{v:?} is not a date (YYYY-MM-DD)"))),
            }
        };
        let grain = match set(&self.grain) {
            None => None,
            Some(g) => Some(Grain::parse(&g).ok_or_else(|| bad("grain", format!("{g:?}: use day or week")))?),
        };
        let group_by = match set(&self.group) {
            None => None,
            Some(g) => Some(GroupBy::parse(&g).ok_or_else(|| bad("group", format!("{g:?}: use agent, department, channel or category")))?),
        };
        let channel = match set(&self.channel) {
            None => None,
            Some(c) => Some(Channel::parse(&c).ok_or_else(|| bad("channel", format!("{c:?} is not a channel")))?),
        };
        let agent = match set(&self.agent) {
            None => None,
            Some(a) if a == "unassigned" => Some(AgentFilter::Unassigned),
            Some(a) => Some(AgentFilter::Agent(PersonId(a.parse().map_err(|_| bad("agent", format!("{a:?} is not an agent")))?))),
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
            format!("{} d {} h", h / 24, h % 24)
        }
        Some(ms) => ui::sla::span(ms),
    }
}

fn percent(c: &Compliance) -> String {
    c.percent().map_or("—".into(), |p| format!("{p:.1} %"))
}

/// The tables of a report: (section, title, header, rows). The page and the
/// CSV export are both made from these, so they never disagree.
struct Table {
    section: &'static str,
    title: String,
    head: Vec<String>,
    rows: Vec<Vec<String>>,
}

fn group_name(k: &GroupKey, agents: &[Person]) -> String {
    match k {
        GroupKey::Unassigned => "Unassigned".into(),
        GroupKey::Agent(id) => agents.iter().find(|a| a.id == *id).map_or(format!("agent #{}", id.0), |a| a.display()),
        GroupKey::Named(n) if n.is_empty() => "(none)".into(),
        GroupKey::Named(n) => n.clone(),
    }
}

fn tables(v: &ReportView, agents: &[Person], sla: bool) -> Vec<Table> {
    let r = &v.report;
    let s = |x: &dyn std::fmt::Display| x.to_string();
    let mut out = vec![
        Table {
            section: "volume",
            title: format!("Created and resolved per {}", v.grain.key()),
            head: vec![format!("{} starting", if v.grain == Grain::Day { "Day" } else { "Week" }), "Created".into(), "Resolved".into()],
            rows: v.bucket_days.iter().zip(&r.buckets).map(|(d, (_, c, res))| vec![d.to_string(), s(c), s(res)]).collect(),
        },
        Table {
            section: "backlog",
            title: "Backlog by age, now".into(),
            head: vec!["Age".into(), "Unresolved tickets".into()],
            rows: AGES.iter().zip(r.backlog).map(|((label, _), n)| vec![label.to_string(), s(&n)]).collect(),
        },
    ];
    let times = |name: &str, t: &Times| vec![name.to_string(), s(&t.count), took(t.p50), took(t.p90)];
    let mut time_rows = vec![times("First response", &r.first_response), times("Resolution", &r.resolution)];
    if sla {
        time_rows.push(times("First response, business time", &r.first_response_business));
        time_rows.push(times("Resolution, business time", &r.resolution_business));
    }
    out.push(Table {
        section: "times",
        title: "Response and resolution times".into(),
        head: vec!["Measure".into(), "Tickets".into(), "p50".into(), "p90".into()],
        rows: time_rows,
    });
    let mut head: Vec<String> = [
        v.group_by.label(),
        "Created",
        "Resolved",
        "Open now",
        "First response p50",
        "First response p90",
        "Resolution p50",
        "Resolution p90",
    ]
    .map(String::from)
    .to_vec();
    if sla {
        head.push("SLA met".into());
    }
    out.push(Table {
        section: "groups",
        title: format!("By {}", v.group_by.label().to_lowercase()),
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
            title: "SLA compliance".into(),
            head: vec!["Target".into(), "Met".into(), "Breached".into(), "Met in time".into()],
            rows: vec![row("First response (tickets created)", &r.sla_first), row("Resolution (tickets resolved)", &r.sla_resolution)],
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
        Err(e) => return Err(refusal(&st, &a, e, "Reports", "reports", ("/reports", "Back to the last 30 days"))),
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
                    summary { "Table" }
                    div.scroll-x tabindex="0" role="region" aria-label=(format!("{} (table)", t.title)) { (table(t)) }
                }
                @if may_export { p { a href=(csv) download { "Download CSV" } } }
            }
        }
    };
    let labels: Vec<String> = v.bucket_days.iter().map(|d| d.strftime("%b %-d").to_string()).collect();
    let volume = chart::columns(
        &format!("Tickets created and resolved per {}", v.grain.key()),
        &labels,
        &[
            Series { name: "created", class: "s1", values: r.buckets.iter().map(|b| b.1).collect() },
            Series { name: "resolved", class: "s2", values: r.buckets.iter().map(|b| b.2).collect() },
        ],
    );
    let ages: Vec<String> = AGES.iter().map(|(l, _)| l.to_string()).collect();
    let backlog =
        chart::rows("Unresolved tickets by age", &ages, &[Series { name: "unresolved", class: "s3", values: r.backlog.to_vec() }]);
    let top: Vec<_> = r.groups.iter().take(15).collect();
    let groups = chart::rows(
        &format!("Tickets by {}", v.group_by.label().to_lowercase()),
        &top.iter().map(|g| group_name(&g.key, &agents)).collect::<Vec<_>>(),
        &[
            Series { name: "created", class: "s1", values: top.iter().map(|g| g.created).collect() },
            Series { name: "resolved", class: "s2", values: top.iter().map(|g| g.resolved).collect() },
        ],
    );
    let tz_name = v.tz.iana_name().unwrap_or("UTC").to_string();
    let body = html! {
        div.narrow-page.wide-ok.reports {
            h1 { "Reports" }
            (filters(&st, &a.person, &p, &v, &agents))
            @for n in &v.notes { (ui::notice("info", n)) }
            p.muted { (v.from) " to " (v.to) ", days in " (tz_name) ". "
                "Created counts tickets created in the range; resolved, tickets whose latest resolution is in it; first response, from creation to the first public agent reply." }
            dl.tiles {
                div { dt { "Created" } dd { (r.created) } }
                div { dt { "Resolved" } dd { (r.resolved) } }
                div { dt { "Unresolved now" } dd { (r.open) } }
                div { dt { "First response p50" } dd { (took(r.first_response.p50)) } }
                div { dt { "Resolution p50" } dd { (took(r.resolution.p50)) } }
                div { dt { "Not answered yet" } dd { (r.unanswered) } }
                @if sla { div { dt { "SLA met" } dd { (percent(&sla_total(r))) } } }
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
    Ok(page(&frame(&st, &a, "Reports".into(), "reports"), body).into_response())
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
            label { "From " input type="date" name="from" value=(from); }
            label { "To " input type="date" name="to" value=(to); }
            label { "Per " select name="grain" { (ui::options([("", "auto"), ("day", "day"), ("week", "week")], p.grain.trim())) } }
            label { "Department " select name="department" {
                option value="" { "All" }
                (ui::options(depts.iter().map(|d| (*d, *d)), p.department.trim()))
            } }
            label { "Agent " select name="agent" {
                option value="" { "All" }
                option value="unassigned" selected[p.agent.trim() == "unassigned"] { "Unassigned" }
                (ui::options(agent_ids.iter().map(String::as_str).zip(agents.iter().map(|a| a.name.as_str())), p.agent.trim()))
            } }
            label { "Channel " select name="channel" {
                option value="" { "All" }
                (ui::options(Channel::ALL.iter().map(|c| (c.key(), c.label())), p.channel.trim()))
            } }
            label { "Category " select name="category" {
                option value="" { "All" }
                (ui::options(cfg.desk.categories.iter().map(|c| (c.as_str(), c.as_str())), p.category.trim()))
            } }
            label { "Break down by " select name="group" { (ui::options(GroupBy::ALL.iter().map(|g| (g.key(), g.label())), v.group_by.key())) } }
            button.primary type="submit" { "Show" }
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
    let Some(t) = tables(&v, &agents, sla).into_iter().find(|t| t.section == section) else {
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
