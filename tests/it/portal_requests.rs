//! The help page's request form (issue 15 part 1) as customers and bots
//! meet it, over the real HTTP server with mail out over SMTP: a request
//! waits for the link mailed to its address (which carries none of its
//! words) and opens once — channel web, its files, the department chosen,
//! an acknowledgement — known address or not, unless the customer is signed
//! in on the help page as that address; a filled honeypot or an agent's
//! address is answered alike and does nothing; bad input keeps what was
//! typed; a forged form stamp is refused; one client address is stopped
//! after `portal.requests_per_ip`.

use serde_json::json;

use crate::common::capture::{Capture, Captured};
use crate::common::{Browser, MAIL_CONFIG, MailDesk, multipart};

fn text_of(m: &Captured) -> String {
    m.data.replace("=\r\n", "").replace("=3D", "=")
}

/// A visitor with the help page open: its cookies, form token and stamp.
struct Visitor {
    b: Browser,
    stamp: String,
}

impl Visitor {
    async fn open(base: &str) -> Visitor {
        let mut b = Browser::new(base);
        let page = b.get("/help").await;
        assert_eq!(page.status, 200, "{}", page.body);
        let stamp = page.body.split("&amp;stamp=").nth(1).and_then(|s| s.split('"').next()).expect("the form's stamp").to_string();
        Visitor { b, stamp }
    }

    async fn send(&self, fields: &[(&str, &str)], files: &[(&str, &[u8])]) -> (u16, String) {
        let mut all: Vec<(&str, &str)> = vec![("_csrf", self.b.csrf.as_str()), ("stamp", self.stamp.as_str())];
        all.extend_from_slice(fields);
        let (ctype, body) = multipart(&all, files);
        let res = self
            .b
            .http
            .post(format!("{}/help/request?_csrf={}&stamp={}", self.b.base, self.b.csrf, self.stamp))
            .header("cookie", self.b.cookie_header())
            .header("content-type", ctype)
            .body(body)
            .send()
            .await
            .expect("POST");
        let status = res.status().as_u16();
        (status, res.text().await.unwrap_or_default())
    }
}

async fn count_tickets(d: &MailDesk) -> usize {
    let (_, v) = d.api.call("GET", "/tickets?status=all&limit=100", None).await;
    v["tickets"].as_array().map(Vec::len).unwrap_or(0)
}

#[tokio::test]
async fn requests_from_the_help_page() {
    let (cap, _h) = Capture::start_on("127.0.0.1:0").await;
    let config = format!(
        "{MAIL_CONFIG}\n[outgoing]\nsmarthost = \"{}\"\nretry_secs = [1]\n\n[portal]\nmin_fill_secs = 0\nrequests_per_ip = 12\n",
        cap.addr
    );
    let d = MailDesk::start_with_config(&config);
    // Carol is known: she wrote before.
    let (st, _) = d
        .api
        .call("POST", "/tickets", Some(json!({"subject": "Earlier", "body": "Hi.", "requester": {"email": "carol@customer.test"}})))
        .await;
    assert_eq!(st, 201);
    let v = Visitor::open(&d.server.base).await;

    // Even a known customer's request waits for the link mailed to her: the
    // answer never tells whether an address is known, and no one opens a
    // ticket in her name.
    let fields = [
        ("name", "Carol"),
        ("email", "carol@customer.test"),
        ("department", "Sales"),
        ("subject", "Quote for 20 seats"),
        ("body", "Please send a quote."),
        ("website", ""),
    ];
    let (st, page) = v.send(&fields, &[("seats.txt", b"20 seats")]).await;
    assert_eq!(st, 200, "{page}");
    assert!(page.contains("We have mailed a link to carol@customer.test") && !page.contains("/t/"), "{page}");
    assert_eq!(count_tickets(&d).await, 1, "not opened yet");
    let mail = cap.wait_for(|m| m.rcpt_to == ["carol@customer.test"] && text_of(m).contains("/help/confirm?t=")).await;
    let link = text_of(&mail).lines().find_map(|l| l.find("/help/confirm?t=").map(|i| l[i..].trim().to_string())).expect("the link");
    let opened = Browser::new(&d.server.base).get(&link).await;
    assert!(opened.body.contains("Your request is ticket TKT-000002"), "{}", opened.body);
    let (_, t) = d.api.call("GET", "/tickets/TKT-000002", None).await;
    assert_eq!((t["channel"].as_str(), t["department"].as_str()), (Some("web"), Some("Sales")), "{t}");
    assert_eq!(t["requester"]["email"], "carol@customer.test");
    let first = t["entries"].as_array().and_then(|e| e.iter().find(|e| e["kind"] == "reply")).cloned().unwrap_or_default();
    assert_eq!(first["body"], "Please send a quote.");
    assert_eq!(first["attachments"][0]["filename"], "seats.txt", "{t}");
    cap.wait_for(|m| m.rcpt_to == ["carol@customer.test"] && text_of(m).contains("TKT-000002")).await;
    // A second request within the minute: said so, the form kept.
    let (st, page) = v.send(&fields, &[]).await;
    assert_eq!(st, 409, "{page}");
    assert!(page.contains("less than a minute ago") && page.contains("Quote for 20 seats"), "{page}");

    // An unknown address: nothing opens until the mailed link is used.
    let fields =
        [("name", "Eve"), ("email", "eve@elsewhere.test"), ("subject", "Buy cheap pills"), ("body", "Visit spam.test"), ("website", "")];
    let (st, page) = v.send(&fields, &[]).await;
    assert_eq!(st, 200, "{page}");
    assert!(page.contains("We have mailed a link to eve@elsewhere.test"), "{page}");
    assert_eq!(count_tickets(&d).await, 2, "not opened yet");
    let mail = cap.wait_for(|m| m.rcpt_to == ["eve@elsewhere.test"]).await;
    let text = text_of(&mail);
    assert!(!text.contains("pills") && !text.contains("spam.test"), "the sender's words stay out: {text}");
    let link = text.lines().find_map(|l| l.find("/help/confirm?t=").map(|i| l[i..].trim().to_string())).expect("the confirmation link");
    let mut eve = Browser::new(&d.server.base);
    let opened = eve.get(&link).await;
    assert_eq!(opened.status, 200, "{}", opened.body);
    assert!(opened.body.contains("Your request is ticket TKT-000003"), "{}", opened.body);
    assert_eq!(eve.get(&link).await.status, 404, "the link works once");
    assert_eq!(count_tickets(&d).await, 3);

    // A bot fills the hidden field: the same answer, nothing done, no mail.
    let bot = [("name", "x"), ("email", "bot@elsewhere.test"), ("subject", "x"), ("body", "x"), ("website", "http://spam.test")];
    let (st, page) = v.send(&bot, &[]).await;
    assert_eq!(st, 200);
    assert!(page.contains("We have mailed a link to bot@elsewhere.test"));
    // An agent's address: answered alike, nothing mailed or opened.
    let agent = [("email", "agent@example.test"), ("subject", "Let me in"), ("body", "x"), ("website", "")];
    let (st, page) = v.send(&agent, &[]).await;
    assert_eq!(st, 200);
    assert!(page.contains("We have mailed a link to agent@example.test"), "{page}");
    // Bad input: the reason, and everything typed kept.
    let bad = [("name", "Dan"), ("email", "not an address"), ("subject", "Keep this subject"), ("body", "And this text."), ("website", "")];
    let (st, page) = v.send(&bad, &[]).await;
    assert_eq!(st, 400, "{page}");
    assert!(page.contains("Keep this subject") && page.contains("And this text.") && page.contains("not an email address"), "{page}");
    // A forged stamp.
    let forged = Visitor {
        b: Browser { cookies: v.b.cookies.clone(), csrf: v.b.csrf.clone(), ..Browser::new(&d.server.base) },
        stamp: "1.abc".into(),
    };
    let (st, page) = forged.send(&[("email", "carol@customer.test"), ("subject", "s"), ("body", "b")], &[]).await;
    assert_eq!(st, 400, "{page}");
    assert!(page.contains("the form was too old"), "{page}");
    // A later request's mail arrives: the ones above would have by now.
    let marker = [("email", "fay@elsewhere.test"), ("subject", "Marker"), ("body", "x"), ("website", "")];
    assert_eq!(v.send(&marker, &[]).await.0, 200);
    cap.wait_for(|m| m.rcpt_to == ["fay@elsewhere.test"]).await;
    assert!(cap.all().iter().all(|m| m.rcpt_to != ["bot@elsewhere.test"]), "the bot got no mail");
    assert!(cap.all().iter().all(|m| !(m.rcpt_to == ["agent@example.test"] && text_of(m).contains("/help/confirm"))), "nor the agent");
    assert_eq!(count_tickets(&d).await, 3);
    // One client address is stopped after requests_per_ip.
    let mut stopped = false;
    for _ in 0..10 {
        let (st, _) = v.send(&fields, &[]).await;
        if st == 429 {
            stopped = true;
            break;
        }
    }
    assert!(stopped, "requests_per_ip stops a flood");
}

/// A form sent faster than a person fills it in is a bot's: answered like
/// any other, nothing opened; the same form a little later opens (the
/// injected clock stands for the person's typing).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_sent_too_fast_is_dropped() {
    let d = crate::inprocess::InProcess::start().await;
    let desk = d.running.desk.clone();
    let new = frontdesk::desk::NewTicket {
        subject: "Earlier".into(),
        body: "Hi.".into(),
        requester_email: "kim@customer.test".into(),
        ..Default::default()
    };
    desk.create_ticket(&d.admin, new).expect("ticket");
    let v = Visitor::open(&d.base).await;
    let fields = [("email", "kim@customer.test"), ("subject", "Too quick"), ("body", "Typed in no time."), ("website", "")];
    let (st, page) = v.send(&fields, &[]).await;
    assert_eq!(st, 200, "{page}");
    assert!(page.contains("We have mailed a link"), "answered like any other: {page}");
    let all = frontdesk::store::TicketQuery { limit: 10, ..Default::default() };
    let count = || desk.queue(&d.admin, all.clone()).map(|(t, _, _)| t.len()).unwrap_or(0);
    assert_eq!(count(), 1, "nothing opened");
    d.clock.advance_ms(5_000);
    let (st, page) = v.send(&fields, &[]).await;
    assert_eq!(st, 200, "{page}");
    assert!(page.contains("Your request is ticket"), "{page}");
    assert_eq!(count(), 2);
}

/// Help topics (`[[topic]]`): the form asks what a request is about and the
/// chosen topic's fields; the topic sends it to its department and category
/// with the field values; no topic, or a value the field cannot take, is
/// refused with everything typed kept.
#[tokio::test]
async fn help_topics_route_requests_and_ask_their_fields() {
    let (cap, _h) = Capture::start_on("127.0.0.1:0").await;
    let config = format!(
        "{MAIL_CONFIG}\n[outgoing]\nsmarthost = \"{}\"\nretry_secs = [1]\n\n[portal]\nmin_fill_secs = 0\n\n\
         [[field]]\nname = \"order_number\"\nlabel = \"Order number\"\nkind = \"text\"\ndepartments = [\"Sales\"]\n\n\
         [[field]]\nname = \"seats\"\nkind = \"number\"\n\n\
         [[topic]]\nname = \"Something else\"\n\n\
         [[topic]]\nname = \"Order problem\"\ndepartment = \"Sales\"\ncategory = \"Billing\"\nfields = [\"order_number\", \"seats\"]\n",
        cap.addr
    );
    let d = MailDesk::start_with_config(&config);
    let v = Visitor::open(&d.server.base).await;
    let page = v.b.http.get(format!("{}/help", d.server.base)).send().await.expect("GET").text().await.unwrap_or_default();
    assert!(page.contains("name=\"topic\"") && page.contains(">Order problem<") && page.contains("data-topic=\"Order problem\""), "{page}");
    assert!(page.contains("name=\"field.1.order_number\"") && !page.contains("name=\"department\""), "{page}");

    // No topic: refused, kept.
    let base = [
        ("name", "Fay"),
        ("email", "fay@buyer.test"),
        ("subject", "Order 77 arrived broken"),
        ("body", "The box was crushed."),
        ("website", ""),
    ];
    let (st, page) = v.send(&base, &[]).await;
    assert_eq!(st, 400, "{page}");
    assert!(page.contains("Choose what your request is about.") && page.contains("The box was crushed."), "{page}");
    // A number field given words: refused, kept.
    let mut bad = base.to_vec();
    bad.extend([("topic", "Order problem"), ("field.1.order_number", "A-77"), ("field.1.seats", "many")]);
    let (st, page) = v.send(&bad, &[]).await;
    assert_eq!(st, 400, "{page}");
    assert!(page.contains("is not a number") && page.contains("value=\"A-77\""), "{page}");

    let mut good = base.to_vec();
    good.extend([
        ("topic", "Order problem"),
        ("field.1.order_number", "A-77"),
        ("field.1.seats", "3"),
        ("field.0.order_number", "ignored"),
    ]);
    let (st, page) = v.send(&good, &[("photo.txt", b"crushed box")]).await;
    assert_eq!(st, 200, "{page}");
    let mail = cap.wait_for(|m| m.rcpt_to == ["fay@buyer.test"]).await;
    let link = text_of(&mail).lines().find_map(|l| l.find("/help/confirm?t=").map(|i| l[i..].trim().to_string())).expect("the link");
    assert_eq!(Browser::new(&d.server.base).get(&link).await.status, 200);
    let all = d.wait_tickets(1).await;
    let t = d.ticket(all[0]["ref"].as_str().unwrap_or_default()).await;
    assert_eq!((t["department"].as_str(), t["category"].as_str()), (Some("Sales"), Some("Billing")), "{t}");
    assert_eq!((t["fields"]["order_number"].as_str(), t["fields"]["seats"].as_str()), (Some("A-77"), Some("3")), "{t}");
    assert!(t.to_string().contains("photo.txt"), "{t}");
}

/// The help page in the desk's colours (issue 15 part 1): its logo, accent
/// colour and a Markdown welcome (cleaned) from `[portal]`.
#[tokio::test]
async fn the_help_page_wears_the_desks_brand() {
    let files = crate::common::tempdir();
    let logo = files.path().join("logo.png");
    std::fs::write(&logo, b"\x89PNG\r\n\x1a\nlogo").expect("write the logo");
    let config = format!(
        "{MAIL_CONFIG}\n[portal]\nlogo_file = {:?}\naccent_colour = \"#0A7D3B\"\nwelcome = \"Welcome to **Acme** support.\\n\\n<script>alert(1)</script>\"\n",
        logo.to_string_lossy()
    );
    let d = MailDesk::start_with_config(&config);
    let mut b = Browser::new(&d.server.base);
    let page = b.get("/help").await;
    assert!(page.body.contains("Welcome to <strong>Acme</strong> support.") && !page.body.contains("alert(1)"), "{}", page.body);
    assert!(page.body.contains("src=\"/help/logo\"") && page.body.contains("href=\"/help/brand.css\""), "{}", page.body);
    let res = reqwest::get(format!("{}/help/logo", d.server.base)).await.expect("GET");
    assert_eq!(res.headers().get("content-type").and_then(|v| v.to_str().ok()), Some("image/png"));
    assert_eq!(res.bytes().await.expect("bytes").as_ref(), b"\x89PNG\r\n\x1a\nlogo");
    let css = b.get("/help/brand.css").await;
    assert!(css.body.contains("--accent: #0a7d3b;") && css.body.contains("--accent-soft: rgb("), "{}", css.body);
}
