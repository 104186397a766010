//! `/metrics` (issue 16 part 7) read as Prometheus reads it: after mail over
//! SMTP, web requests and a backup, the text parses with a Prometheus
//! text-format parser and carries every family with values that follow what
//! happened (counters by code and class, histograms cumulative, gauges).

use std::collections::BTreeMap;

use crate::common::smtp::Smtp;
use crate::common::*;

fn parse(text: &str) -> prometheus_parse::Scrape {
    prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).expect("the Prometheus parser reads /metrics")
}

/// Sum of a family's samples whose labels include `want`.
fn value(s: &prometheus_parse::Scrape, name: &str, want: &[(&str, &str)]) -> Option<f64> {
    let mut found = None;
    for x in s.samples.iter().filter(|x| x.metric == name) {
        if want.iter().all(|(k, v)| x.labels.get(k) == Some(*v)) {
            let v = match x.value {
                prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Gauge(v) | prometheus_parse::Value::Untyped(v) => v,
                _ => continue,
            };
            found = Some(found.unwrap_or(0.0) + v);
        }
    }
    found
}

#[tokio::test]
async fn metrics_parse_as_prometheus_text_and_follow_what_happened() {
    let d = MailDesk::start();
    let before = parse(&reqwest::get(d.server.url("/metrics")).await.unwrap().text().await.unwrap());
    let replies_250 = value(&before, "frontdesk_smtp_replies_total", &[("code", "250")]).unwrap_or(0.0);
    for i in 0..3 {
        let msg = format!("From: m{i}@client.test\r\nTo: support@example.test\r\nSubject: Metrics {i}\r\n\r\nhello\r\n");
        assert_eq!(Smtp::send_mail(&d.smtp, &format!("m{i}@client.test"), &["support@example.test"], msg.as_bytes()).0, 250);
    }
    // A refused recipient: a 550.
    let (mut c, _) = Smtp::connect(&d.smtp);
    c.cmd("EHLO client.test");
    c.cmd("MAIL FROM:<x@client.test>");
    assert_eq!(c.cmd("RCPT TO:<nobody@example.test>").0, 550);
    c.cmd("QUIT");
    d.wait_tickets(3).await;
    assert_eq!(reqwest::get(d.server.url("/login")).await.unwrap().status(), 200);
    assert_eq!(reqwest::get(d.server.url("/no/such/page")).await.unwrap().status(), 404);
    let text = d.settle().await;
    assert!(text.contains("# TYPE frontdesk_http_request_duration_seconds histogram"), "{text}");
    let s = parse(&text);

    assert!(value(&s, "frontdesk_smtp_sessions_total", &[]).unwrap() >= 4.0);
    assert!(
        value(&s, "frontdesk_smtp_replies_total", &[("code", "250")]).unwrap() >= replies_250 + 3.0 * 3.0,
        "MAIL, RCPT and DATA of 3 mails"
    );
    assert!(value(&s, "frontdesk_smtp_replies_total", &[("code", "550")]).unwrap() >= 1.0);
    assert!(value(&s, "frontdesk_smtp_replies_total", &[("code", "220")]).is_some(), "greetings are replies too");
    assert!(value(&s, "frontdesk_smtp_accepted_total", &[]).unwrap() >= 3.0);
    assert_eq!(value(&s, "frontdesk_spool_depth", &[]), Some(0.0));
    assert_eq!(value(&s, "frontdesk_spool_oldest_age_seconds", &[]), Some(0.0));
    assert!(value(&s, "frontdesk_http_requests_total", &[("class", "2xx")]).unwrap() >= 1.0);
    assert!(value(&s, "frontdesk_http_requests_total", &[("class", "4xx")]).unwrap() >= 1.0);
    assert!(value(&s, "frontdesk_resident_memory_bytes", &[]).unwrap() > 1e6);
    assert!(value(&s, "frontdesk_outbox_queued", &[]).is_some() && value(&s, "frontdesk_outbox_oldest_age_seconds", &[]).is_some());
    assert_eq!(value(&s, "frontdesk_workers_down", &[]), Some(0.0));
    assert!(value(&s, "frontdesk_index_queue", &[]).is_some());
    // Histograms: cumulative buckets ending at +Inf = count.
    for name in ["frontdesk_http_request_duration_seconds", "frontdesk_accept_to_ticket_seconds"] {
        let h = s
            .samples
            .iter()
            .find_map(|x| match (&x.value, x.metric == name) {
                (prometheus_parse::Value::Histogram(h), true) => Some(h.clone()),
                _ => None,
            })
            .unwrap_or_else(|| panic!("{name} is a histogram: {text}"));
        let counts: Vec<f64> = h.iter().map(|b| b.count).collect();
        assert!(counts.windows(2).all(|w| w[0] <= w[1]), "{name} buckets are cumulative: {counts:?}");
        assert!(h.last().is_some_and(|b| b.less_than.is_infinite() && b.count >= 3.0), "{name}: {counts:?}");
    }
    // Every family has its TYPE, and no sample appears twice.
    let mut seen = BTreeMap::new();
    for x in &s.samples {
        let key = format!("{}{:?}", x.metric, x.labels);
        assert!(seen.insert(key.clone(), ()).is_none(), "{key} twice");
    }
    // A scheduled-backup-free desk reports no backup age yet.
    assert!(value(&s, "frontdesk_backup_age_seconds", &[]).is_none());
}
