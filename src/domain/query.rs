//! The search box grammar: free words, "exact phrases" and `field:value` tokens.
//!
//! ```text
//! status:open,pending  assignee:me|none|<email or name>  priority:urgent
//! category:billing  tag:vpn  from:alice@example.com|@example.com
//! requester:"Alice Smith"  dept:Support  created:>2026-11-01
//! updated:<7d  has:attachment  auth:fail  in:trash  "exact phrase"  -word  -tag:spam
//! ```
//!
//! Dates: `2026-11-01` is that day; `>`, `>=`, `<`, `<=` compare with it, and
//! `2026-11-01..2026-11-30` is a range of whole days. `sort:` picks the order
//! (relevance, updated, updated_asc, created, created_asc, priority). Relative values are ages:
//! `updated:<7d` means updated less than 7 days ago, `created:>2w` more than two
//! weeks ago (units h, d, w). A mistake is reported with the token it is in.

use crate::domain::time::Date;
use crate::domain::{Person, Priority, Status, Timestamp};

/// A syntax or value error, pointing at the bad token (byte offsets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchError {
    pub message: String,
    pub start: usize,
    pub end: usize,
}

impl std::fmt::Display for SearchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// An inclusive range of Unix milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    pub from: i64,
    pub to: i64,
}

/// One filter token, already resolved to index values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    Status(Vec<Status>),
    /// Base states and custom statuses (lower-case names), any of them.
    Statuses(Vec<Status>, Vec<String>),
    /// 0 = unassigned.
    Assignee(u64),
    Priority(Vec<Priority>),
    Category(String),
    Tag(String),
    /// A sender address or `@domain`.
    From(String),
    /// Words that must appear in the requester's name or address.
    Requester(String),
    Dept(String),
    Created(TimeRange),
    Updated(TimeRange),
    Has(String),
    InTrash,
    /// A custom field's value: (name, value), both lower-case.
    Field(String, String),
    /// An SLA target due in this range (running targets only).
    SlaDue(TimeRange),
    /// The requester's organization (lower-case name).
    Org(String),
}

/// Free text: a word or a phrase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub text: String,
    pub phrase: bool,
}

/// A parsed search. `negated` items must not match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    pub text: Vec<(Text, bool)>,
    pub filters: Vec<(Filter, bool)>,
    /// `sort:`; `None` means best match first with free text, else most
    /// recently updated first.
    pub sort: Option<SortBy>,
}

/// The order a search (or a saved search or view) lists tickets in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    Relevance,
    Updated,
    UpdatedAsc,
    Created,
    CreatedAsc,
    Priority,
}

impl SortBy {
    pub fn parse(v: &str) -> Option<SortBy> {
        Some(match v.to_ascii_lowercase().as_str() {
            "relevance" | "best" => SortBy::Relevance,
            "updated" | "-updated" => SortBy::Updated,
            "updated_asc" | "+updated" | "oldest_update" => SortBy::UpdatedAsc,
            "created" | "newest" | "-created" => SortBy::Created,
            "created_asc" | "oldest" | "+created" => SortBy::CreatedAsc,
            "priority" => SortBy::Priority,
            _ => return None,
        })
    }
}

impl Parsed {
    pub fn has_text(&self) -> bool {
        self.text.iter().any(|(_, neg)| !neg)
    }
    pub fn in_trash(&self) -> bool {
        self.filters.iter().any(|(f, neg)| *f == Filter::InTrash && !neg)
    }
}

/// What resolving a query needs to know.
pub struct Context<'a> {
    pub me: u64,
    pub agents: &'a [Person],
    pub now: Timestamp,
    /// The desk's custom status names (`[[status]]`).
    pub statuses: &'a [String],
    /// The desk's custom field names (`[[field]]`).
    pub fields: &'a [String],
}

/// The field names, for error messages and the help text.
pub const FIELDS: &[&str] = &[
    "status",
    "assignee",
    "priority",
    "category",
    "tag",
    "from",
    "requester",
    "dept",
    "created",
    "updated",
    "has",
    "in",
    "auth",
    "sla",
    "rating",
    "sort",
];

/// Splits the query into raw tokens: (negated, key, value, value quoted, start, end).
struct Raw<'q> {
    neg: bool,
    key: Option<&'q str>,
    value: String,
    quoted: bool,
    start: usize,
    end: usize,
}

fn tokenize(q: &str) -> Result<Vec<Raw<'_>>, SearchError> {
    let b = q.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        if b[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let neg = b[i] == b'-' && i + 1 < b.len() && !b[i + 1].is_ascii_whitespace();
        if neg {
            i += 1;
        }
        // key: only letters followed by ':' (and not a URL's "://"), or
        // `field.<name>` (a custom field).
        let mut key = None;
        let mut j = i;
        while j < b.len() && b[j].is_ascii_alphabetic() {
            j += 1;
        }
        if q[i..j].eq_ignore_ascii_case("field") && j < b.len() && b[j] == b'.' {
            j += 1;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                j += 1;
            }
        }
        if j > i && j < b.len() && b[j] == b':' && !q[j..].starts_with("://") {
            key = Some(&q[i..j]);
            i = j + 1;
        }
        let (value, quoted) = if i < b.len() && b[i] == b'"' {
            let close = q[i + 1..].find('"').ok_or_else(|| SearchError {
                message: "this quote is never closed: add a closing \" after the phrase".into(),
                start: i,
                end: q.len(),
            })?;
            let v = q[i + 1..i + 1 + close].to_string();
            i = i + 1 + close + 1;
            (v, true)
        } else {
            let s = i;
            while i < b.len() && !b[i].is_ascii_whitespace() {
                i += 1;
            }
            (q[s..i].to_string(), false)
        };
        out.push(Raw { neg, key, value, quoted, start, end: i });
    }
    Ok(out)
}

/// Parses and resolves a query.
pub fn parse(q: &str, cx: &Context) -> Result<Parsed, SearchError> {
    let mut p = Parsed::default();
    for raw in tokenize(q)? {
        let err = |message: String| SearchError { message, start: raw.start, end: raw.end };
        let Some(key) = raw.key else {
            if !raw.value.trim().is_empty() {
                p.text.push((Text { text: raw.value.clone(), phrase: raw.quoted }, raw.neg));
            }
            continue;
        };
        let key_l = key.to_ascii_lowercase();
        let v = raw.value.trim();
        if v.is_empty() {
            return Err(err(format!("{key}: needs a value, e.g. {}", example(&key_l))));
        }
        let f = match key_l.as_str() {
            "status" | "is" => {
                let (mut list, mut custom) = (Vec::new(), Vec::new());
                for part in v.split(',') {
                    match part.trim().to_ascii_lowercase().as_str() {
                        "active" => list.extend(Status::ALL.iter().copied().filter(|s| s.is_active())),
                        other => match Status::parse(other) {
                            Some(s) => list.push(s),
                            None if cx.statuses.iter().any(|c| c.eq_ignore_ascii_case(other)) => custom.push(other.to_string()),
                            None => {
                                let more: String = cx.statuses.iter().map(|c| format!(", \"{c}\"")).collect();
                                return Err(err(format!(
                                    "{key}:{part} — unknown status; use open, pending, in_progress, on_hold, resolved, closed{more} or active"
                                )));
                            }
                        },
                    }
                }
                if custom.is_empty() { Filter::Status(list) } else { Filter::Statuses(list, custom) }
            }
            "assignee" | "assigned" => Filter::Assignee(resolve_agent(v, cx).map_err(|m| err(format!("{key}:{v} — {m}")))?),
            "priority" | "prio" => {
                let mut list = Vec::new();
                for part in v.split(',') {
                    list.push(
                        Priority::parse(part)
                            .ok_or_else(|| err(format!("{key}:{part} — unknown priority; use urgent, high, medium or low")))?,
                    );
                }
                Filter::Priority(list)
            }
            "category" | "cat" => Filter::Category(v.to_lowercase()),
            "tag" => Filter::Tag(v.to_lowercase()),
            "from" => Filter::From(v.to_lowercase()),
            "requester" => Filter::Requester(v.to_string()),
            "dept" | "department" => Filter::Dept(v.to_lowercase()),
            "created" => Filter::Created(time_range(v, cx.now).map_err(|m| err(format!("{key}:{v} — {m}")))?),
            "updated" => Filter::Updated(time_range(v, cx.now).map_err(|m| err(format!("{key}:{v} — {m}")))?),
            "sla" => sla_filter(v, cx.now).map_err(|m| err(format!("{key}:{v} — {m}")))?,
            "org" | "organization" => Filter::Org(v.to_lowercase()),
            "has" => match v.to_ascii_lowercase().as_str() {
                "attachment" | "attachments" | "file" => Filter::Has("attachment".into()),
                _ => return Err(err(format!("{key}:{v} — use has:attachment"))),
            },
            "sort" | "order" => {
                if raw.neg {
                    return Err(err(format!("{key}: cannot be negated")));
                }
                p.sort = Some(SortBy::parse(v).ok_or_else(|| {
                    err(format!("{key}:{v} — use sort:relevance, updated, updated_asc, created, created_asc or priority"))
                })?);
                continue;
            }
            "auth" => match v.to_ascii_lowercase().as_str() {
                // A mail on the ticket failed SPF/DKIM/DMARC (`domain::auth`).
                "fail" | "failed" => Filter::Has("auth-fail".into()),
                _ => return Err(err(format!("{key}:{v} — use auth:fail"))),
            },
            // The requester's satisfaction rating (`domain::rating`).
            "rating" => match super::rating::Score::parse(v) {
                Some(score) => Filter::Has(format!("rating-{}", score.key())),
                None => return Err(err(format!("{key}:{v} — use rating:good or rating:bad"))),
            },
            "in" => match v.to_ascii_lowercase().as_str() {
                "trash" => Filter::InTrash,
                _ => return Err(err(format!("{key}:{v} — use in:trash"))),
            },
            other if other.starts_with("field.") => {
                let name = other.trim_start_matches("field.");
                if !cx.fields.iter().any(|f| f == name) {
                    let known: Vec<String> = cx.fields.iter().map(|f| format!("field.{f}:")).collect();
                    let known =
                        if known.is_empty() { "the desk has no custom fields".to_string() } else { format!("use {}", known.join(", ")) };
                    return Err(err(format!("{key}: — unknown custom field; {known}")));
                }
                Filter::Field(name.to_string(), v.to_lowercase())
            }
            _ => {
                return Err(err(format!("unknown search field \"{key}:\"; known fields are {}", FIELDS.join(":, ") + ":, field.<name>:")));
            }
        };
        p.filters.push((f, raw.neg));
    }
    Ok(p)
}

fn example(key: &str) -> &'static str {
    match key {
        "status" | "is" => "status:open",
        "assignee" | "assigned" => "assignee:me",
        "priority" | "prio" => "priority:urgent",
        "created" | "updated" => "updated:<7d",
        "has" => "has:attachment",
        "auth" => "auth:fail",
        "rating" => "rating:bad",
        "sla" => "sla:due<2h",
        "org" | "organization" => "org:\"Acme Ltd\"",
        "from" => "from:alice@example.com",
        _ => "tag:vpn",
    }
}

fn resolve_agent(v: &str, cx: &Context) -> Result<u64, String> {
    let l = v.to_lowercase();
    match l.as_str() {
        "me" | "mine" => return Ok(cx.me),
        "none" | "nobody" | "unassigned" => return Ok(0),
        _ => {}
    }
    if let Some(a) = cx.agents.iter().find(|a| a.email == l || a.id.to_string() == l) {
        return Ok(a.id.0);
    }
    let hits: Vec<&Person> = cx
        .agents
        .iter()
        .filter(|a| {
            a.name.to_lowercase().split_whitespace().any(|w| w == l) || a.name.to_lowercase() == l || a.email.starts_with(&format!("{l}@"))
        })
        .collect();
    match hits.as_slice() {
        [one] => Ok(one.id.0),
        [] => Err("no agent by that name or address; use me, none, an address or a name".into()),
        _ => Err(format!("{} agents match; use an address", hits.len())),
    }
}

/// Timestamps are Unix milliseconds.
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

/// `sla:breached` (a target fell due unmet, met late or not), `sla:breaching`
/// (overdue now), `sla:any` (under a policy), `sla:due<2h` / `sla:due>30m`
/// (a running target due within / after that long from now).
fn sla_filter(v: &str, now: Timestamp) -> Result<Filter, String> {
    let v = v.to_ascii_lowercase();
    let flag = |f: &str| Ok(Filter::Has(f.to_string()));
    match v.as_str() {
        "breached" => return flag("sla-breached"),
        "breaching" | "overdue" => return flag("sla-breaching"),
        "any" | "yes" => return flag("sla"),
        _ => {}
    }
    let usage = "use sla:breached, sla:breaching, sla:any, or sla:due<2h / sla:due>30m";
    let rest = v.strip_prefix("due").ok_or(usage)?;
    let (before, amount) = match (rest.strip_prefix('<'), rest.strip_prefix('>')) {
        (Some(a), _) => (true, a.trim_start_matches('=')),
        (_, Some(a)) => (false, a.trim_start_matches('=')),
        _ => return Err(usage.into()),
    };
    let span = match amount.strip_suffix('m').and_then(|n| n.parse::<i64>().ok()) {
        Some(minutes) => minutes.checked_mul(60_000),
        None => parse_age(amount),
    }
    .ok_or("the time is like 30m, 2h or 1d")?;
    let at = now.0.saturating_add(span);
    Ok(Filter::SlaDue(if before { TimeRange { from: i64::MIN, to: at } } else { TimeRange { from: at, to: i64::MAX } }))
}

fn time_range(v: &str, now: Timestamp) -> Result<TimeRange, String> {
    let (op, rest) = if let Some(r) = v.strip_prefix(">=") {
        (">=", r)
    } else if let Some(r) = v.strip_prefix("<=") {
        ("<=", r)
    } else if let Some(r) = v.strip_prefix('>') {
        (">", r)
    } else if let Some(r) = v.strip_prefix('<') {
        ("<", r)
    } else {
        ("=", v)
    };
    if let Some((a, b)) = rest.split_once("..") {
        let a = Date::parse(a).ok_or("the range start is not a date like 2026-11-01")?;
        let b = Date::parse(b).ok_or("the range end is not a date like 2026-11-30")?;
        return Ok(TimeRange { from: a.start().0, to: b.start().0 + DAY - 1 });
    }
    if let Some(age) = parse_age(rest) {
        let at = now.0 - age;
        // Ages: "<7d" = less than 7 days old = after now-7d.
        return Ok(match op {
            "<" | "<=" => TimeRange { from: at, to: i64::MAX },
            ">" | ">=" => TimeRange { from: i64::MIN, to: at },
            _ => TimeRange { from: at - DAY / 2, to: at + DAY / 2 },
        });
    }
    let d = Date::parse(rest).ok_or("use a date like 2026-11-01, a range 2026-11-01..2026-11-30, or an age like 7d, 24h, 2w")?;
    let (s, e) = (d.start().0, d.start().0 + DAY - 1);
    Ok(match op {
        ">" => TimeRange { from: e + 1, to: i64::MAX },
        ">=" => TimeRange { from: s, to: i64::MAX },
        "<" => TimeRange { from: i64::MIN, to: s - 1 },
        "<=" => TimeRange { from: i64::MIN, to: e },
        _ => TimeRange { from: s, to: e },
    })
}

fn parse_age(s: &str) -> Option<i64> {
    let unit = s.chars().last()?;
    let n: i64 = s[..s.len() - unit.len_utf8()].parse().ok()?;
    let secs = match unit {
        'h' => HOUR,
        'd' => DAY,
        'w' => 7 * DAY,
        _ => return None,
    };
    n.checked_mul(secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::PersonId;
    use crate::domain::Role;

    fn agent(id: u64, name: &str, email: &str) -> Person {
        Person {
            id: PersonId(id),
            email: email.into(),
            name: name.into(),
            role: Role::Agent,
            password_hash: String::new(),
            active: true,
            departments: vec![],
            created_at: Timestamp(0),
            role_name: String::new(),
            teams: Vec::new(),
        }
    }

    fn cx(agents: &[Person]) -> Context<'_> {
        Context { me: 7, agents, now: Date::parse("2026-11-23").map(|d| d.start()).unwrap_or(Timestamp(0)), statuses: &[], fields: &[] }
    }

    #[test]
    fn custom_fields_and_statuses_are_keys_of_their_own() {
        let (fields, statuses) = (["device".to_string()], ["Waiting for vendor".to_string()]);
        let c = Context { statuses: &statuses, fields: &fields, ..cx(&[]) };
        let p = parse("field.device:Laptop -status:\"waiting for vendor\" vpn", &c).unwrap();
        assert_eq!(p.filters[0], (Filter::Field("device".into(), "laptop".into()), false));
        assert_eq!(p.filters[1], (Filter::Statuses(vec![], vec!["waiting for vendor".into()]), true));
        assert_eq!(p.text.len(), 1);
        let e = parse("field.colour:red", &c).unwrap_err();
        assert!(e.message.contains("use field.device:"), "{}", e.message);
        assert!(parse("status:later", &c).unwrap_err().message.contains("\"Waiting for vendor\""));
    }

    #[test]
    fn full_example_parses() {
        let agents = [agent(3, "Bo Lind", "bo@desk.test")];
        let p = parse(
            r#"status:open assignee:me priority:urgent category:Billing tag:vpn from:alice@x.test requester:"Alice" dept:Support created:>2026-11-01 updated:<7d has:attachment "exact phrase" printer -spam"#,
            &cx(&agents),
        )
        .unwrap_or_default();
        assert_eq!(p.filters.len(), 11);
        assert_eq!(p.filters[0].0, Filter::Status(vec![Status::Open]));
        assert_eq!(p.filters[1].0, Filter::Assignee(7));
        assert_eq!(p.filters[3].0, Filter::Category("billing".into()));
        assert_eq!(p.filters[6].0, Filter::Requester("Alice".into()));
        let nov2 = Date::parse("2026-11-02").map(|d| d.start().0).unwrap_or(0);
        assert_eq!(p.filters[8].0, Filter::Created(TimeRange { from: nov2, to: i64::MAX }));
        let now = cx(&agents).now.0;
        assert_eq!(p.filters[9].0, Filter::Updated(TimeRange { from: now - 7 * DAY, to: i64::MAX }));
        assert_eq!(
            p.text,
            vec![
                (Text { text: "exact phrase".into(), phrase: true }, false),
                (Text { text: "printer".into(), phrase: false }, false),
                (Text { text: "spam".into(), phrase: false }, true)
            ]
        );
    }

    #[test]
    fn agents_resolve_by_name_and_address() {
        let agents = [agent(3, "Bo Lind", "bo@desk.test"), agent(4, "Ann Bo", "ann@desk.test")];
        let c = cx(&agents);
        assert_eq!(parse("assignee:ann@desk.test", &c).map(|p| p.filters[0].0.clone()), Ok(Filter::Assignee(4)));
        assert_eq!(parse("assignee:lind", &c).map(|p| p.filters[0].0.clone()), Ok(Filter::Assignee(3)));
        assert_eq!(parse("assignee:none", &c).map(|p| p.filters[0].0.clone()), Ok(Filter::Assignee(0)));
        assert_eq!(parse("assignee:4", &c).map(|p| p.filters[0].0.clone()), Ok(Filter::Assignee(4)), "the queue's agent ids");
        let e = parse("status:open assignee:bo", &c).err().map(|e| (e.start, e.end));
        assert_eq!(e, Some((12, 23)), "ambiguous name points at its token");
    }

    #[test]
    fn mistakes_point_at_the_token() {
        let c = cx(&[]);
        let q = "printer staus:open";
        let e = parse(q, &c).err();
        assert_eq!(e.as_ref().map(|e| &q[e.start..e.end]), Some("staus:open"));
        assert!(e.is_some_and(|e| e.message.contains("unknown search field")));
        let e = parse("status:bogus", &c).err();
        assert!(e.is_some_and(|e| e.message.contains("unknown status")));
        let e = parse("created:>yesterday", &c).err();
        assert!(e.is_some_and(|e| e.message.contains("date like")));
        let e = parse("vpn \"never closed", &c).err();
        assert_eq!(e.map(|e| e.start), Some(4));
        assert!(parse("tag:", &c).is_err());
    }

    #[test]
    fn urls_and_colons_stay_text() {
        let p = parse("https://vpn.example.com/login 10:30", &cx(&[])).unwrap_or_default();
        assert_eq!(p.filters.len(), 0);
        assert_eq!(p.text.len(), 2);
    }

    #[test]
    fn date_forms() {
        let now = Timestamp(100 * DAY);
        let d = Date::parse("2026-11-01").map(|d| d.start().0).unwrap_or(0);
        assert_eq!(time_range("2026-11-01", now), Ok(TimeRange { from: d, to: d + DAY - 1 }));
        assert_eq!(time_range("<2026-11-01", now), Ok(TimeRange { from: i64::MIN, to: d - 1 }));
        assert_eq!(time_range("<=2026-11-01", now), Ok(TimeRange { from: i64::MIN, to: d + DAY - 1 }));
        assert_eq!(time_range(">=2026-11-01", now), Ok(TimeRange { from: d, to: i64::MAX }));
        assert_eq!(time_range("2026-11-01..2026-11-02", now), Ok(TimeRange { from: d, to: d + 2 * DAY - 1 }));
        assert_eq!(time_range(">2w", now), Ok(TimeRange { from: i64::MIN, to: 86 * DAY }));
        assert_eq!(time_range("<24h", now), Ok(TimeRange { from: 99 * DAY, to: i64::MAX }));
    }
}
