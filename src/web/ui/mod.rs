//! Page layout and shared components (maud). Markup only; no store access.

pub mod assets;
pub mod chart;
pub mod links;
pub mod sla;
pub mod table;

use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::domain::{Person, Priority, Status};
use crate::tr;

/// What every page needs to draw its frame.
pub struct Frame<'a> {
    pub desk_name: String,
    pub title: String,
    pub user: Option<&'a Person>,
    pub csrf: &'a str,
    /// Which top-level area is active: "queue", "new", "admin".
    pub area: &'a str,
    /// Whether the agent's role creates tickets (the "New ticket" link).
    pub may_create: bool,
}

/// The `<head>` every page shares.
pub fn head(title: &str, desk_name: &str, with_js: bool) -> Markup {
    head_with(title, desk_name, with_js, html! {})
}

/// `head` with more at its end (the customers' pages' brand colours).
pub fn head_with(title: &str, desk_name: &str, with_js: bool, extra: Markup) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · " (desk_name) }
            link rel="stylesheet" href="/assets/app.css";
            link rel="stylesheet" href="/statuses.css";
            link rel="icon" href="/assets/icon.svg" type="image/svg+xml";
            @if with_js {
                @if let Some(texts) = crate::i18n::js_catalog() { script #fd-i18n type="application/json" { (PreEscaped(texts)) } }
                script src="/assets/app.js" defer {}
            }
            (extra)
        }
    }
}

/// A small centered card page without the app frame (login, setup, errors).
pub fn card_page(title: &str, desk_name: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(crate::i18n::current().code()) {
            (head(title, desk_name, false))
            body.center { main { (body) } }
        }
    }
}

/// A customer's card page: as `card_page`, with the help page's script
/// (suggested articles while typing a request).
pub fn customer_card_page(title: &str, desk_name: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(crate::i18n::current().code()) {
            (head_with(title, desk_name, false, html! { link rel="stylesheet" href="/help/brand.css"; }))
            body.center {
                main { (body) }
                @if let Some(texts) = crate::i18n::js_catalog() { script #fd-i18n type="application/json" { (PreEscaped(texts)) } }
                script src="/assets/help.js" defer {}
            }
        }
    }
}

pub fn page(f: &Frame, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html.no-js lang=(crate::i18n::current().code()) {
            (head(&f.title, &f.desk_name, true))
            body {
                a.skip href="#main" { (tr!("Skip to content")) }
                @if let Some(u) = f.user {
                    header.topbar {
                        a.brand href="/tickets" { span.logo { "fd" } span.brand-name { (f.desk_name) } }
                        button.menu-toggle type="button" aria-expanded="false" aria-controls="topmenu" { (tr!("Menu")) }
                        div #topmenu .topmenu {
                        nav.mainnav aria-label=(tr!("Main")) {
                            a href="/tickets" class=(if f.area == "queue" { "active" } else { "" }) { (tr!("Queue")) }
                            @if f.may_create {
                                a href="/tickets/new" class=(if f.area == "new" { "active" } else { "" }) title=(tr!("New ticket (c)")) { (tr!("New ticket")) }
                            }
                            a href="/people" class=(if f.area == "people" { "active" } else { "" }) { (tr!("People")) }
                            a href="/kb" class=(if f.area == "kb" { "active" } else { "" }) { (tr!("Knowledge base")) }
                            a href="/junk" class=(if f.area == "junk" { "active" } else { "" }) { (tr!("Junk")) }
                            a href="/reports" class=(if f.area == "reports" { "active" } else { "" }) { (tr!("Reports")) }
                            @if u.is_admin() {
                                a href="/admin/agents" class=(if f.area == "admin" { "active" } else { "" }) { (tr!("Agents")) }
                                a href="/admin/outbox" class=(if f.area == "outbox" { "active" } else { "" }) { (tr!("Outbox")) }
                            }
                        }
                        div.usermenu {
                            a.whoami href="/settings" title=(tr!("My notifications")) { (u.display()) }
                            form method="post" action="/logout" {
                                input type="hidden" name="_csrf" value=(f.csrf);
                                button.linkish type="submit" { (tr!("Log out")) }
                            }
                        }
                        }
                        form.jump method="get" action="/search" role="search" aria-label=(tr!("Quick search")) {
                            input #jump type="search" name="q" placeholder=(tr!("Search or go to ticket… (/)")) aria-label=(tr!("Search tickets or go to a reference")) autocomplete="off";
                        }
                    }
                }
                main #main .content tabindex="-1" { (body) }
            }
        }
    }
}

pub fn status_badge(s: Status) -> Markup {
    html! { span class=(format!("badge st-{}", s.key())) { (crate::i18n::dynamic(s.label())) } }
}

/// A ticket's status as shown everywhere: its custom status (with that
/// status's colour, from `/statuses.css`) or its base state.
pub fn ticket_status(cfg: &crate::config::Config, t: &crate::domain::Ticket) -> Markup {
    let custom = cfg.status_colour(t).and_then(|_| cfg.status.iter().position(|c| Some(c.name.as_str()) == t.custom_status.as_deref()));
    let class = match custom {
        Some(i) => format!("badge st-{} cs-{i}", t.status.key()),
        None => format!("badge st-{}", t.status.key()),
    };
    html! { span class=(class) { (status_text(cfg, t)) } }
}

/// The value a status choice has in forms: a custom status's name or the
/// base state's key.
pub fn status_value(c: &crate::config::StatusChoice) -> String {
    c.custom.clone().unwrap_or_else(|| c.base.key().to_string())
}

/// A ticket's status on the customer's pages: its customer name, in the
/// colour of its base state.
pub fn customer_status(cfg: &crate::config::Config, t: &crate::domain::Ticket) -> Markup {
    html! { span class=(format!("badge st-{}", t.status.key())) { (crate::i18n::dynamic(&cfg.customer_status(t))) } }
}

/// A ticket's status name in the viewer's language (a custom status is
/// shown as the config names it).
pub fn status_text(cfg: &crate::config::Config, t: &crate::domain::Ticket) -> String {
    crate::i18n::dynamic(&cfg.status_name(t))
}

/// A satisfaction rating: good or bad, and the comment quoted.
pub fn rating(r: &crate::domain::rating::Rating) -> Markup {
    html! {
        span class=(format!("rating rating-{}", r.score.key())) { (crate::i18n::dynamic(r.score.label())) }
        @if !r.comment.is_empty() { " " q.rating-comment { (r.comment) } }
    }
}

/// The label of a status choice.
pub fn status_label(c: &crate::config::StatusChoice) -> String {
    c.custom.clone().unwrap_or_else(|| crate::i18n::dynamic(c.base.label()))
}

/// The colours of the desk's custom statuses (`/statuses.css`): the page's
/// style policy allows no inline styles.
pub fn statuses_css(cfg: &crate::config::Config) -> String {
    let mut out = String::new();
    for (i, c) in cfg.status.iter().enumerate().filter(|(_, c)| !c.colour.is_empty()) {
        let hex: Vec<u32> = c.colour.trim_start_matches('#').chars().filter_map(|d| d.to_digit(16)).collect();
        let (r, g, b) = match hex.as_slice() {
            [r, g, b] => (r * 17, g * 17, b * 17),
            [r1, r2, g1, g2, b1, b2] => (r1 * 16 + r2, g1 * 16 + g2, b1 * 16 + b2),
            _ => continue,
        };
        // Dark text on light colours, white on dark (WCAG relative luminance).
        let lin = |v: u32| {
            let v = v as f64 / 255.0;
            if v <= 0.03928 { v / 12.92 } else { ((v + 0.055) / 1.055).powf(2.4) }
        };
        let lum = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
        let text = if lum > 0.179 { "#111" } else { "#fff" };
        out.push_str(&format!(".badge.cs-{i}{{background:{};color:{text}}}\n", c.colour));
    }
    out
}

pub fn priority_badge(p: Priority) -> Markup {
    html! { span class=(format!("prio pr-{}", p.key())) { span.dot {} (crate::i18n::dynamic(p.label())) } }
}

tokio::task_local! {
    /// The logged-in agent's time zone (their profile), for this request.
    pub static VIEWER_TZ: Option<jiff::tz::TimeZone>;
    /// The request's client address (for the audit log of desk work it starts).
    pub static CLIENT_IP: String;
}

/// The viewing agent's time zone for this request (UTC when none is set).
pub fn viewer_tz() -> jiff::tz::TimeZone {
    VIEWER_TZ.try_with(|t| t.clone()).ok().flatten().unwrap_or(jiff::tz::TimeZone::UTC)
}

/// A moment as the viewing agent reads it: `2026-12-03 16:42` in their time
/// zone (with its abbreviation), else in UTC.
pub fn when(ts: crate::domain::Timestamp) -> String {
    let tz = VIEWER_TZ.try_with(|t| t.clone()).ok().flatten();
    match (tz, jiff::Timestamp::from_millisecond(ts.0)) {
        (Some(tz), Ok(t)) => {
            let z = t.to_zoned(tz);
            format!("{} {}", z.strftime(crate::i18n::format::date_time_pattern()), z.strftime("%Z"))
        }
        (None, Ok(t)) => format!("{} UTC", t.to_zoned(jiff::tz::TimeZone::UTC).strftime(crate::i18n::format::date_time_pattern())),
        _ => ts.short(),
    }
}

/// How long ago `ts` was, in the viewer's language: "3 min ago", "vor 3 Min.";
/// past a month, the date.
pub fn ago(ts: crate::domain::Timestamp, now: crate::domain::Timestamp) -> String {
    let s = (now.0 - ts.0).max(0) / 1000;
    match s {
        0..=59 => tr!("just now").to_string(),
        60..=3599 => tr!("{n} min ago", n = s / 60),
        3600..=86_399 => tr!("{n} h ago", n = s / 3600),
        86_400..=2_591_999 => tr!("{n} d ago", n = s / 86_400),
        _ => match jiff::Timestamp::from_millisecond(ts.0) {
            Ok(t) => t.to_zoned(viewer_tz()).strftime(crate::i18n::format::date_pattern()).to_string(),
            Err(_) => ts.short(),
        },
    }
}

/// When a future instant comes, in the viewer's language: "in 4 min
/// (2026-12-02 14:05 UTC)"; "now" once it has come.
pub fn until(ts: crate::domain::Timestamp, now: crate::domain::Timestamp) -> String {
    let s = (ts.0 - now.0) / 1000;
    let soon = match s {
        ..=0 => return tr!("now").to_string(),
        1..=59 => tr!("in under a minute").to_string(),
        60..=3599 => tr!("in {n} min", n = s / 60),
        3600..=86_399 => tr!("in {n} h", n = s / 3600),
        _ => tr!("in {n} d", n = s / 86_400),
    };
    format!("{soon} ({})", when(ts))
}

/// `when(ts)` as a `<time>` whose hover names the zone it is shown in.
pub fn when_at(ts: crate::domain::Timestamp) -> Markup {
    html! { time datetime=(ts.rfc3339()) title=(zone_title(ts)) { (when(ts)) } }
}

/// The viewer's zone in words, for hovers: `Europe/Berlin (UTC+01:00)`.
pub fn zone_title(ts: crate::domain::Timestamp) -> String {
    let tz = viewer_tz();
    let name = tz.iana_name().unwrap_or("UTC").to_string();
    match jiff::Timestamp::from_millisecond(ts.0) {
        Ok(t) => format!("{name} ({})", t.to_zoned(tz).strftime("UTC%:z")),
        Err(_) => name,
    }
}

/// A one-line notice above the content.
pub fn notice(kind: &str, text: &str) -> Markup {
    html! { div class=(format!("notice {kind}")) role=(if kind == "error" { "alert" } else { "status" }) { (text) } }
}

/// Hidden CSRF field for every form.
pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="_csrf" value=(token); }
}

/// `<option>`s with one selected. Labels may be owned (a translated enum
/// label, `crate::i18n::dynamic(p.label())`) or borrowed.
pub fn options<V: AsRef<str>, L: AsRef<str>>(items: impl IntoIterator<Item = (V, L)>, selected: &str) -> Markup {
    html! {
        @for (value, label) in items {
            option value=(value.as_ref()) selected[value.as_ref() == selected] { (label.as_ref()) }
        }
    }
}

/// Renders plain text with line breaks kept; only web addresses become
/// links (`links`), nothing else is interpreted.
pub fn text_block(s: &str) -> Markup {
    html! { div.textbody { (links::linked(s)) } }
}

/// A standalone error page (404, 403, 413 …).
pub fn error_page(desk_name: &str, status: u16, title: &str, message: &str) -> Markup {
    card_page(
        title,
        desk_name,
        html! {
            div.card.narrow {
                p.muted { (tr!("Error {status}", status = status)) }
                h1 { (title) }
                p { (message) }
                p { a href="/tickets" { (tr!("Back to the queue")) } }
            }
        },
    )
}

/// Inline SVG-free empty state.
pub fn empty(text: &str) -> Markup {
    html! { div.empty { (PreEscaped("&#8709; ")) (text) } }
}
