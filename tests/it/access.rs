//! Who may do what, through the real server: API token scopes, expiry (on
//! the injected clock), address allow-lists, the per-token rate limit with
//! 429 and Retry-After, last use shown and revocation from the UI; the
//! password policy (common passwords, the owner's address, the configured
//! minimum).

use frontdesk::clock::Clock;
use frontdesk::desk::tokens::TokenSpec;
use frontdesk::domain::Role;
use frontdesk::domain::access::Scope;
use serde_json::json;

use crate::common::{Browser, password_link_in, set_password_via};
use crate::inprocess::{InProcess, PASSWORD};

const DAY_MS: i64 = 86_400_000;

async fn call(base: &str, token: &str, method: &str, path: &str, body: Option<serde_json::Value>) -> reqwest::Response {
    let c = reqwest::Client::new();
    let mut r = c.request(method.parse().unwrap(), format!("{base}/api/v1{path}")).bearer_auth(token);
    if let Some(b) = body {
        r = r.json(&b);
    }
    r.send().await.unwrap()
}

async fn error_of(r: reqwest::Response) -> (u16, String) {
    let status = r.status().as_u16();
    let v: serde_json::Value = r.json().await.unwrap_or_default();
    (status, v["error"].as_str().unwrap_or_default().to_string())
}

fn new_ticket() -> serde_json::Value {
    json!({"subject": "Printer", "body": "It jams.", "requester": {"name": "Carol", "email": "carol@customer.test"}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_scopes_expiry_and_addresses_are_enforced() {
    let d = InProcess::start().await;
    let desk = d.running.desk.clone();
    let spec = |scopes: Vec<Scope>| TokenSpec { name: "t".into(), scopes, ..TokenSpec::default() };
    let reader = desk.create_api_token(None, "ada@example.test", spec(vec![Scope::TicketsRead])).unwrap();
    let writer = desk.create_api_token(None, "ada@example.test", spec(vec![Scope::TicketsWrite])).unwrap();

    // Read-only: lists tickets, may not create one; the error names the scope.
    assert_eq!(call(&d.base, &reader, "GET", "/tickets", None).await.status(), 200);
    let (st, e) = error_of(call(&d.base, &reader, "POST", "/tickets", Some(new_ticket())).await).await;
    assert_eq!((st, e.as_str()), (403, "token lacks the tickets:write scope"));
    // Write implies read.
    assert_eq!(call(&d.base, &writer, "POST", "/tickets", Some(new_ticket())).await.status(), 201);
    assert_eq!(call(&d.base, &writer, "GET", "/tickets/1", None).await.status(), 200);
    // An unknown token is 401 with a Bearer challenge.
    let r = call(&d.base, "fd_nope", "GET", "/tickets", None).await;
    assert_eq!(r.status(), 401);
    assert!(r.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));

    // The admin scope is only for admins.
    let agent = d.add("bob@example.test", "Bob", Role::Agent);
    let e = desk.create_api_token(None, &agent.email, spec(vec![Scope::Admin])).unwrap_err();
    assert!(e.to_string().contains("not an admin"), "{e}");

    // Expiry on the desk's clock.
    let mut expiring = spec(vec![Scope::TicketsRead]);
    expiring.expires_at = Some(frontdesk::domain::Timestamp(d.clock.now().0 + DAY_MS));
    let expiring = desk.create_api_token(None, "ada@example.test", expiring).unwrap();
    assert_eq!(call(&d.base, &expiring, "GET", "/tickets", None).await.status(), 200);
    d.clock.advance_ms(DAY_MS + 1);
    assert_eq!(error_of(call(&d.base, &expiring, "GET", "/tickets", None).await).await, (403, "token expired".to_string()));

    // An address allow-list: 127.0.0.2 is inside, 127.0.0.1 is not.
    let mut fenced = spec(vec![Scope::TicketsRead]);
    fenced.allowed_ips = vec!["127.0.0.2/32".into(), "10.0.0.0/8".into()];
    let fenced = desk.create_api_token(None, "ada@example.test", fenced).unwrap();
    assert_eq!(
        error_of(call(&d.base, &fenced, "GET", "/tickets", None).await).await,
        (403, "token not allowed from 127.0.0.1".to_string())
    );
    let from_2 = reqwest::Client::builder().local_address("127.0.0.2".parse::<std::net::IpAddr>().unwrap()).build().unwrap();
    let r = from_2.get(format!("{}/api/v1/tickets", d.base)).bearer_auth(&fenced).send().await.unwrap();
    assert_eq!(r.status(), 200);
    // A range that is no range is refused when the token is made.
    let mut bad = spec(vec![Scope::TicketsRead]);
    bad.allowed_ips = vec!["10.0.0.0/40".into()];
    assert!(desk.create_api_token(None, "ada@example.test", bad).unwrap_err().to_string().contains("CIDR"));
    d.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_past_its_rate_gets_429_with_retry_after() {
    let d = InProcess::start_with("[security]\napi_rate_per_minute = 3\n").await;
    let desk = d.running.desk.clone();
    let token = desk.create_api_token(None, "ada@example.test", TokenSpec::standard("busy")).unwrap();
    let other = desk.create_api_token(None, "ada@example.test", TokenSpec::standard("calm")).unwrap();
    for _ in 0..3 {
        assert_eq!(call(&d.base, &token, "GET", "/tickets", None).await.status(), 200);
    }
    let r = call(&d.base, &token, "GET", "/tickets", None).await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "20", "one request comes back every 20 s at 3 a minute");
    assert_eq!(call(&d.base, &other, "GET", "/tickets", None).await.status(), 200, "each token has its own budget");
    d.clock.advance_ms(20_000);
    assert_eq!(call(&d.base, &token, "GET", "/tickets", None).await.status(), 200);
    d.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_make_list_and_revoke_tokens_in_the_ui() {
    let d = InProcess::start().await;
    let mut b = Browser::logged_in(&d.base, "ada@example.test", PASSWORD).await;
    let settings = b.get("/settings").await;
    assert!(settings.body.contains("My API tokens") && settings.body.contains("value=\"admin\""), "an admin may pick the admin scope");
    let fields: Vec<(String, String)> = [
        ("name", "nightly export"),
        ("scope", "tickets:read"),
        ("expires", "30d"),
        ("allowed_ips", "127.0.0.1, 10.0.0.0/8"),
        ("_csrf", b.csrf.as_str()),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let made = b.post_raw("/settings/tokens", &fields).await;
    assert_eq!(made.status, 200, "{}", made.body);
    let token = made.body.split("<code>").nth(1).and_then(|r| r.split("</code>").next()).unwrap().to_string();
    // The audit entry names the address the agent acted from.
    let log = d.running.desk.audit_log(&d.admin, &Default::default(), None, 5).unwrap();
    let made_entry = log.iter().find(|(_, e)| e.event.describe().contains("(nightly export)")).expect("the token in the audit log");
    assert_eq!(made_entry.1.ip, "127.0.0.1");
    assert!(token.starts_with("fd_"), "the token is shown once: {token}");
    let page = b.get("/settings").await;
    assert!(page.body.contains("nightly export") && page.body.contains("tickets:read") && page.body.contains("127.0.0.1, 10.0.0.0/8"));
    assert!(page.body.contains("last used never"));
    assert!(!page.body.contains(&token), "the secret is never shown again");

    // Used once: the settings page and the admins' page say when.
    assert_eq!(call(&d.base, &token, "GET", "/tickets", None).await.status(), 200);
    let now = frontdesk::domain::Timestamp(d.clock.now().0).short();
    let page = b.get_until("/settings", |body| !body.contains("last used never")).await;
    assert!(page.body.contains(&format!("last used {now}")), "{}", page.body);

    // Bad input is a clear refusal that keeps the agent on the page.
    let bad: Vec<(String, String)> = [("name", "x"), ("scope", "tickets:read"), ("expires", "tomorrow"), ("_csrf", b.csrf.as_str())]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let r = b.post_raw("/settings/tokens", &bad).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("is not a date"), "{}", r.body);

    // An agent sees only their own tokens, and not the admins' page.
    d.add("bob@example.test", "Bob", Role::Agent);
    let mut bob = Browser::logged_in(&d.base, "bob@example.test", PASSWORD).await;
    let bobs = bob.get("/settings").await;
    assert!(!bobs.body.contains("nightly export") && !bobs.body.contains("value=\"admin\""));
    assert_eq!(bob.get("/admin/tokens").await.status, 404);

    // The admin revokes it from the Tokens page; the token stops working.
    let all = b.get("/admin/tokens").await;
    assert!(all.body.contains("nightly export") && all.body.contains("ada@example.test"));
    let id = frontdesk::store::token_id(&token);
    let r = b.post(&format!("/admin/tokens/{id}/revoke"), &[]).await;
    assert_eq!(r.status, 303);
    assert_eq!(call(&d.base, &token, "GET", "/tickets", None).await.status(), 401);
    d.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_password_policy_refuses_common_and_own_address_passwords() {
    let d = InProcess::start_with("[security]\npassword_min_chars = 12\n").await;
    let mut b = Browser::logged_in(&d.base, "ada@example.test", PASSWORD).await;
    b.get("/admin/agents").await;
    let r = b.post("/admin/agents", &[("name", "Bob"), ("email", "bob.builder@example.test"), ("role", "agent")]).await;
    let link = password_link_in(&r.body).expect("the invitation link");
    assert!(Browser::new(&d.base).get(&link).await.body.contains("minlength=\"12\""), "the form says the configured minimum");
    for (password, says) in
        [("1qaz2wsx3edc", "10,000 most common"), ("bob.builder@example.test", "email address"), ("eleven char", "at least 12 characters")]
    {
        let r = set_password_via(&d.base, &link, password).await;
        assert_eq!(r.status, 400, "{password}: {}", r.body);
        assert!(r.body.contains(says), "{password}: {}", r.body);
    }
    let r = set_password_via(&d.base, &link, "violet stapler runs east").await;
    assert_eq!(r.status, 303, "{}", r.body);
    Browser::logged_in(&d.base, "bob.builder@example.test", "violet stapler runs east").await;
    d.running.stop().await;
}

/// Regression from the outside read: one agent cannot multiply their API
/// budget with endless tokens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_holds_at_most_twenty_tokens() {
    let d = InProcess::start().await;
    let desk = d.running.desk.clone();
    for i in 0..20 {
        desk.create_api_token(None, "ada@example.test", TokenSpec::standard(&format!("t{i}"))).unwrap();
    }
    let e = desk.create_api_token(None, "ada@example.test", TokenSpec::standard("one too many")).unwrap_err();
    assert!(e.to_string().contains("20 API tokens already"), "{e}");
    d.running.stop().await;
}
