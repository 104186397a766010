//! The UI's languages (issue 18 part 11) through the real HTTP server: a
//! signed-out visitor and a customer get the language their browser asks
//! for, an agent the one in their profile (else their browser's); dates are
//! written the language's way; the API stays English whatever is asked.

use crate::common::Browser;
use crate::inprocess::{InProcess, PASSWORD};
use frontdesk::desk::NewTicket;

fn lang_of(page: &str) -> Option<&str> {
    let at = page.find("<html")?;
    let rest = &page[at..];
    let v = rest.split("lang=\"").nth(1)?;
    v.split('"').next()
}

/// Whether `page` has text of `shape`: `9` a digit, anything else itself.
fn has_shape(page: &str, shape: &str) -> bool {
    let shape = shape.as_bytes();
    page.as_bytes().windows(shape.len()).any(|w| w.iter().zip(shape).all(|(c, s)| if *s == b'9' { c.is_ascii_digit() } else { c == s }))
}

/// A date written `dd.mm.yyyy hh:mm`.
fn has_german_date(page: &str) -> bool {
    has_shape(page, "99.99.9999 99:99")
}

/// A date written `yyyy-mm-dd hh:mm`.
fn has_iso_date(page: &str) -> bool {
    has_shape(page, "9999-99-99 99:99")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_browser_asks_and_the_profile_decides() {
    let d = InProcess::start().await;
    let new = NewTicket {
        subject: "Drucker streikt".into(),
        body: "Seit heute früh.".into(),
        requester_email: "kim@customer.test".into(),
        requester_name: "Kim".into(),
        ..Default::default()
    };
    let t = d.running.desk.create_ticket(&d.admin, new).expect("ticket");
    let reference = d.running.desk.reference(t.id);

    // Signed out: the browser's weights decide; a language the desk does not
    // speak falls back to English.
    let mut de = Browser::with_language(&d.base, "fr-FR,de;q=0.8,en;q=0.5");
    let login = de.get("/login").await;
    assert_eq!(lang_of(&login.body), Some("de"), "{}", login.body);
    assert!(login.body.contains("Anmelden") && !login.body.contains(">Log in<"), "{}", login.body);
    let missing = de.get("/no/such/page").await;
    assert_eq!(missing.status, 404);
    assert_eq!(lang_of(&missing.body), Some("de"));
    assert!(missing.body.contains("Nicht gefunden"), "the error page speaks German: {}", missing.body);
    let mut fr = Browser::with_language(&d.base, "fr-FR,fr;q=0.9");
    let login = fr.get("/login").await;
    assert_eq!(lang_of(&login.body), Some("en"));
    assert!(login.body.contains(">Log in<"));
    // The script's texts come along only on German pages.
    let r = de.login("ada@example.test", PASSWORD).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let queue = de.get("/tickets").await.body;
    assert_eq!(lang_of(&queue), Some("de"));
    assert!(queue.contains("Warteschlange") && queue.contains("Abmelden"), "{queue}");
    assert!(queue.contains("id=\"fd-i18n\""), "the German page carries app.js's texts");
    let ticket = de.get(&format!("/tickets/{reference}")).await.body;
    assert!(has_german_date(&ticket), "dates as dd.mm.yyyy hh:mm: {ticket}");
    assert!(!has_iso_date(&ticket), "no ISO dates on the German page");

    // The profile wins over the browser, both ways.
    let r = de.post("/settings/profile", &[("name", "Ada"), ("signature", ""), ("time_zone", ""), ("language", "en")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let queue = de.get("/tickets").await.body;
    assert_eq!(lang_of(&queue), Some("en"), "the profile's English over the browser's German");
    assert!(!queue.contains("id=\"fd-i18n\""));
    let ticket = de.get(&format!("/tickets/{reference}")).await.body;
    assert!(has_iso_date(&ticket) && !has_german_date(&ticket));
    let profile = de.get("/settings/profile").await.body;
    assert!(profile.contains("<option value=\"en\" lang=\"en\" selected>"), "the choice is shown: {profile}");

    let mut en = Browser::with_language(&d.base, "en-GB");
    assert_eq!(en.login("ada@example.test", PASSWORD).await.status, 303);
    assert_eq!(lang_of(&en.get("/tickets").await.body), Some("en"));
    let r = en.post("/settings/profile", &[("name", "Ada"), ("signature", ""), ("time_zone", ""), ("language", "de")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(lang_of(&en.get("/tickets").await.body), Some("de"), "the profile's German over the browser's English");
    // Empty: the browser's choice again.
    let r = en.post("/settings/profile", &[("name", "Ada"), ("signature", ""), ("time_zone", ""), ("language", "")]).await;
    assert_eq!(r.status, 303);
    assert_eq!(lang_of(&en.get("/tickets").await.body), Some("en"));
    // A language the desk does not have is refused, and nothing changes.
    let r = en.post("/settings/profile", &[("name", "Ada"), ("signature", ""), ("time_zone", ""), ("language", "xx")]).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(lang_of(&en.get("/tickets").await.body), Some("en"));
    assert_eq!(d.running.desk.profile(&d.admin).expect("profile").language, "");

    // The customer's page follows their browser.
    let link = d.running.desk.portal_link_for(t.id, "kim@customer.test");
    let path = link.find("/t/").map(|i| link[i..].to_string()).expect("a ticket link");
    let mut customer = Browser::with_language(&d.base, "de-AT");
    let page = customer.get(&path).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(lang_of(&page.body), Some("de"));
    assert!(page.body.contains("Drucker streikt"));

    // The API answers in English, whatever is asked.
    let res = reqwest::Client::new()
        .get(format!("{}/api/v1/tickets/TKT-999999", d.base))
        .header("accept-language", "de")
        .header("authorization", "Bearer nope")
        .send()
        .await
        .expect("GET");
    let body = res.text().await.unwrap_or_default();
    assert!(body.contains("\"error\"") && !body.contains("Nicht") && !body.contains("nicht"), "{body}");
}
