//! Charts as inline SVG drawn by the server (the Reports page): grouped
//! vertical bars over time and grouped horizontal bars per name. No script;
//! colours come from classes in app.css (the style policy allows no inline
//! styles); every bar has a `<title>` for hover, and every chart sits beside
//! a table with the same numbers.

use maud::{Markup, html};

/// One series of a chart.
pub struct Series<'a> {
    pub name: &'a str,
    /// Its CSS class (`s1`, `s2` …).
    pub class: &'a str,
    pub values: Vec<u64>,
}

const W: f64 = 720.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 8.0;

/// A round axis maximum at or above `max` (1, 2, 5 × 10ⁿ), and its step.
fn axis(max: u64) -> (u64, u64) {
    let max = max.max(1);
    let mut unit = 1u64;
    loop {
        for m in [1, 2, 5] {
            let step = unit * m;
            if step * 4 >= max {
                return (step * 4, step);
            }
        }
        unit = unit.saturating_mul(10);
    }
}

fn legend(series: &[Series]) -> Markup {
    html! {
        p.chart-legend aria-hidden="true" {
            @for s in series { span { span class=(format!("swatch {}", s.class)) {} (s.name) } }
        }
    }
}

/// Grouped vertical bars, one group per label (time buckets); at most
/// about twelve labels are written under the axis.
pub fn columns(title: &str, labels: &[String], series: &[Series]) -> Markup {
    let h = 220.0;
    let (top, bottom) = (10.0, 34.0);
    let plot_h = h - top - bottom;
    let max = series.iter().flat_map(|s| s.values.iter().copied()).max().unwrap_or(0);
    let (ymax, ystep) = axis(max);
    let n = labels.len().max(1) as f64;
    let slot = (W - LEFT - RIGHT) / n;
    let bar = (slot * 0.8 / series.len().max(1) as f64).max(0.5);
    let every = labels.len().div_ceil(12).max(1);
    let y = |v: u64| top + plot_h - plot_h * v as f64 / ymax as f64;
    html! {
        figure.chart tabindex="0" {
            svg viewBox=(format!("0 0 {W} {h}")) role="img" aria-label=(title) preserveAspectRatio="xMidYMid meet" {
                @for i in 0..=4u64 {
                    @let v = ystep * i;
                    line.grid x1=(LEFT) x2=(W - RIGHT) y1=(fmt(y(v))) y2=(fmt(y(v))) {}
                    text.tick x=(LEFT - 4.0) y=(fmt(y(v) + 4.0)) text-anchor="end" { (num(v)) }
                }
                @for (i, label) in labels.iter().enumerate() {
                    @for (k, s) in series.iter().enumerate() {
                        @let v = s.values.get(i).copied().unwrap_or(0);
                        @let x = LEFT + slot * i as f64 + slot * 0.1 + bar * k as f64;
                        rect class=(s.class) x=(fmt(x)) y=(fmt(y(v))) width=(fmt(bar)) height=(fmt(top + plot_h - y(v))) {
                            title { (label) ": " (num(v)) " " (s.name) }
                        }
                    }
                    @if i % every == 0 {
                        text.tick x=(fmt(LEFT + slot * i as f64 + slot / 2.0)) y=(fmt(h - bottom + 16.0)) text-anchor="middle" { (label) }
                    }
                }
            }
            (legend(series))
        }
    }
}

/// Grouped horizontal bars, one row per label (names).
pub fn rows(title: &str, labels: &[String], series: &[Series]) -> Markup {
    let label_w = 170.0;
    let row_h = 8.0 + 12.0 * series.len() as f64;
    let h = row_h * labels.len().max(1) as f64 + 24.0;
    let max = series.iter().flat_map(|s| s.values.iter().copied()).max().unwrap_or(0);
    let (xmax, xstep) = axis(max);
    let plot_w = W - label_w - RIGHT - 30.0;
    let x = |v: u64| label_w + plot_w * v as f64 / xmax as f64;
    html! {
        figure.chart tabindex="0" {
            svg viewBox=(format!("0 0 {W} {}", fmt(h))) role="img" aria-label=(title) preserveAspectRatio="xMidYMid meet" {
                @for i in 0..=4u64 {
                    @let v = xstep * i;
                    line.grid x1=(fmt(x(v))) x2=(fmt(x(v))) y1="0" y2=(fmt(h - 20.0)) {}
                    text.tick x=(fmt(x(v))) y=(fmt(h - 6.0)) text-anchor="middle" { (num(v)) }
                }
                @for (i, label) in labels.iter().enumerate() {
                    @let y0 = row_h * i as f64;
                    text.label x=(label_w - 6.0) y=(fmt(y0 + row_h / 2.0 + 4.0)) text-anchor="end" { (short(label)) }
                    @for (k, s) in series.iter().enumerate() {
                        @let v = s.values.get(i).copied().unwrap_or(0);
                        rect class=(s.class) x=(label_w) y=(fmt(y0 + 4.0 + 12.0 * k as f64)) width=(fmt(x(v) - label_w)) height="10" {
                            title { (label) ": " (num(v)) " " (s.name) }
                        }
                        text.value x=(fmt(x(v) + 4.0)) y=(fmt(y0 + 13.0 + 12.0 * k as f64)) { (num(v)) }
                    }
                }
            }
            @if series.len() > 1 { (legend(series)) }
        }
    }
}

/// A label cut to fit beside the bars.
fn short(s: &str) -> String {
    if s.chars().count() <= 24 { s.to_string() } else { format!("{}…", s.chars().take(23).collect::<String>()) }
}

/// A count as the reader's language writes it (`1,234` / `1.234`).
fn num(v: u64) -> String {
    crate::i18n::format::num(i64::try_from(v).unwrap_or(i64::MAX))
}

fn fmt(v: f64) -> String {
    format!("{v:.1}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_are_round() {
        assert_eq!(axis(0), (4, 1));
        assert_eq!(axis(3), (4, 1));
        assert_eq!(axis(7), (8, 2));
        assert_eq!(axis(9), (20, 5));
        assert_eq!(axis(41), (80, 20));
        assert_eq!(axis(1000), (2000, 500));
    }

    #[test]
    fn bars_scale_to_the_axis() {
        let s = [Series { name: "created", class: "s1", values: vec![0, 4] }];
        let svg = columns("t", &["a".into(), "b".into()], &s).into_string();
        // The taller bar fills the plot (176 high from y = 10).
        assert!(svg.contains("height=\"176.0\""), "{svg}");
        assert!(svg.contains("<title>b: 4 created</title>"), "{svg}");
        let svg = rows("t", &["<x>".into()], &s).into_string();
        assert!(svg.contains("&lt;x&gt;"), "labels are escaped: {svg}");
    }
}
