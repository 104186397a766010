//! The help widget's server side (issue 15 part 2) over real HTTP and SMTP:
//! `/widget.js` loads anywhere; the form endpoint, the suggestions and the
//! request accept a page of a `portal.widget_origins` site (CORS names that
//! origin, never `*`) and refuse any other site's page before anything is
//! done; a request from the widget follows the help page's rules (a filled
//! honeypot dropped, the stamp checked, the first request confirmed by the
//! mailed link) and answers in JSON; a bad origin in the config is an error
//! naming the key.

use serde_json::Value;

use crate::common::capture::Capture;
use crate::common::{MAIL_CONFIG, MailDesk, cli, multipart, tempdir};

const SITE: &str = "https://www.shop.example";

async fn call(
    d: &MailDesk,
    method: reqwest::Method,
    path: &str,
    origin: Option<&str>,
    body: Option<(String, Vec<u8>)>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let http = reqwest::Client::new();
    let mut req = http.request(method, format!("{}{path}", d.server.base));
    if let Some(o) = origin {
        req = req.header("origin", o);
    }
    if let Some((ctype, bytes)) = body {
        req = req.header("content-type", ctype).body(bytes);
    }
    let res = req.send().await.expect("request");
    let (status, headers) = (res.status().as_u16(), res.headers().clone());
    let text = res.text().await.unwrap_or_default();
    (status, headers, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn allow_origin(h: &reqwest::header::HeaderMap) -> Option<&str> {
    h.get("access-control-allow-origin").and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn the_widget_serves_listed_sites_and_refuses_others() {
    let (cap, _h) = Capture::start_on("127.0.0.1:0").await;
    let d = MailDesk::start_with_config(&format!(
        "{MAIL_CONFIG}\n[outgoing]\nsmarthost = \"{}\"\nretry_secs = [1]\n\n[portal]\nmin_fill_secs = 0\nwidget_origins = [\"{SITE}/\"]\n",
        cap.addr
    ));
    // The script loads from anywhere.
    let res = reqwest::get(format!("{}/widget.js", d.server.base)).await.expect("GET");
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.headers().get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/javascript")));
    assert!(res.text().await.unwrap_or_default().contains("attachShadow"));

    // The listed site reads the form; another site is refused.
    let (st, h, form) = call(&d, reqwest::Method::GET, "/help/widget/form", Some(SITE), None).await;
    assert_eq!((st, allow_origin(&h)), (200, Some(SITE)), "{form}");
    assert_eq!(form["departments"], serde_json::json!(["Support", "Sales"]));
    let stamp = form["stamp"].as_str().expect("a stamp").to_string();
    let (st, h, _) = call(&d, reqwest::Method::GET, "/help/widget/form", Some("https://evil.example"), None).await;
    assert_eq!((st, allow_origin(&h)), (403, None));
    let (st, h, _) = call(&d, reqwest::Method::GET, "/help/suggest?q=printer", Some("https://evil.example"), None).await;
    assert_eq!((st, allow_origin(&h)), (403, None));
    let (st, h, _) = call(&d, reqwest::Method::GET, "/help/suggest?q=printer", Some(SITE), None).await;
    assert_eq!((st, allow_origin(&h)), (200, Some(SITE)));
    let (st, h, _) = call(&d, reqwest::Method::OPTIONS, "/help/widget", Some(SITE), None).await;
    assert_eq!((st, allow_origin(&h)), (204, Some(SITE)));
    assert!(h.get("access-control-allow-methods").is_some_and(|v| v.to_str().unwrap_or("").contains("POST")));

    // Another site's page cannot send a request at all.
    let fields = |email: &'static str, website: &'static str| {
        multipart(
            &[
                ("name", "Erin"),
                ("email", email),
                ("department", "Sales"),
                ("subject", "Quote for 40 seats"),
                ("body", "Please send a quote."),
                ("website", website),
            ],
            &[("seats.txt", b"40 seats".as_slice())],
        )
    };
    let path = format!("/help/widget?stamp={stamp}");
    let (st, h, v) = call(&d, reqwest::Method::POST, &path, Some("https://evil.example"), Some(fields("erin@buyer.test", ""))).await;
    assert_eq!((st, allow_origin(&h)), (403, None), "{v}");

    // A bot's honeypot is answered alike and does nothing.
    let (st, _, v) = call(&d, reqwest::Method::POST, &path, Some(SITE), Some(fields("bot@buyer.test", "http://spam.test"))).await;
    assert_eq!((st, v["ok"].as_bool()), (200, Some(true)), "{v}");
    // A forged stamp is refused.
    let (st, _, v) = call(&d, reqwest::Method::POST, "/help/widget?stamp=1.forged", Some(SITE), Some(fields("erin@buyer.test", ""))).await;
    assert!(st >= 400 && v["ok"] == false, "{st} {v}");

    // The listed site's request: confirmed by the mailed link, then a ticket.
    let (st, h, v) = call(&d, reqwest::Method::POST, &path, Some(SITE), Some(fields("erin@buyer.test", ""))).await;
    assert_eq!((st, allow_origin(&h)), (200, Some(SITE)), "{v}");
    assert!(v["message"].as_str().is_some_and(|m| m.contains("erin@buyer.test")), "{v}");
    let mail = cap.wait_for(|m| m.rcpt_to == ["erin@buyer.test"]).await;
    let text = mail.data.replace("=\r\n", "").replace("=3D", "=");
    let link = text.lines().find_map(|l| l.find("/help/confirm?").map(|i| l[i..].trim().to_string())).expect("the confirmation link");
    let res = reqwest::get(format!("{}{link}", d.server.base)).await.expect("GET");
    assert_eq!(res.status().as_u16(), 200);
    let all = d.wait_tickets(1).await;
    assert_eq!(all.len(), 1, "the bot's request opened nothing: {all:?}");
    let t = d.ticket(all[0]["ref"].as_str().unwrap_or_default()).await;
    assert_eq!(
        (t["subject"].as_str(), t["department"].as_str(), t["channel"].as_str()),
        (Some("Quote for 40 seats"), Some("Sales"), Some("web")),
        "{t}"
    );
    assert!(t.to_string().contains("seats.txt"), "the file came along: {t}");
}

#[test]
fn bad_portal_settings_are_config_errors_naming_the_key() {
    let dir = tempdir();
    let config = dir.path().join("frontdesk.toml");
    std::fs::write(&config, "[portal]\nwidget_origins = [\"www.shop.example/contact\"]\n").expect("write");
    let (code, out, err) = cli(dir.path(), &["--config", config.to_str().unwrap_or_default(), "check-config"], None);
    assert_ne!(code, 0, "{out}");
    assert!(err.contains("portal.widget_origins") || out.contains("portal.widget_origins"), "{out}{err}");
    // The brand's keys likewise.
    for (key, text) in [("accent_colour", "accent_colour = \"green\""), ("logo_file", "logo_file = \"/nonexistent/logo.png\"")] {
        std::fs::write(&config, format!("[portal]\n{text}\n")).expect("write");
        let (code, out, err) = cli(dir.path(), &["--config", config.to_str().unwrap_or_default(), "check-config"], None);
        assert_ne!(code, 0, "{out}");
        assert!(format!("{out}{err}").contains(&format!("portal.{key}")), "{out}{err}");
    }
}
