//! Single sign-on through the real server against an OpenID Connect
//! provider this test runs (`common::oidc`): discovery, PKCE, the ID token's
//! signature and nonce; agents matched by address, unknown ones refused or
//! created with the default role; a used or foreign callback refused; a
//! provider that is down gives a page saying so while passwords still work;
//! an SSO-only desk refuses password logins.

use crate::common::Browser;
use crate::common::oidc::{Person, TestIdp};
use crate::inprocess::{InProcess, PASSWORD};

const CLIENT: &str = "frontdesk-test";
const SECRET: &str = "s3cret-for-the-test";

async fn desk(idp: &TestIdp, extra: &str) -> (InProcess, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("sso-secret");
    std::fs::write(&secret, format!("{SECRET}\n")).unwrap();
    let cfg = format!(
        "[sso]\nenabled = true\nissuer = \"{}\"\nclient_id = \"{CLIENT}\"\nclient_secret_file = \"{}\"\nbutton_label = \"Log in with Corp ID\"\n{extra}",
        idp.issuer,
        secret.display()
    );
    (InProcess::start_with(&cfg).await, dir)
}

/// Path and query of an absolute URL.
fn path_of(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    rest.find('/').map(|i| rest[i..].to_string()).unwrap_or_else(|| "/".into())
}

/// Runs a sign-on in `b`: to the provider and back; the callback's path and the desk's answer.
async fn sign_on(b: &mut Browser) -> (String, crate::common::Response) {
    let start = b.get("/login/sso?next=%2Ftickets").await;
    assert_eq!(start.status, 303, "{}", start.body);
    let authorize = start.location.unwrap();
    assert!(
        authorize.contains("code_challenge_method=S256") && authorize.contains("nonce=") && authorize.contains("state="),
        "{authorize}"
    );
    let idp = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = idp.get(&authorize).send().await.unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap_or_default());
    let callback = path_of(r.headers()["location"].to_str().unwrap());
    assert!(callback.starts_with("/login/sso/callback?code="), "{callback}");
    let answer = b.get(&callback).await;
    (callback, answer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_sign_on_with_pkce_and_a_verified_id_token() {
    let idp = TestIdp::start(CLIENT, SECRET).await;
    let (d, _dir) = desk(&idp, "").await;
    let mut b = Browser::new(&d.base);
    let login = b.get("/login").await;
    assert!(login.body.contains("Log in with Corp ID") && login.body.contains("name=\"password\""), "both ways in");

    idp.sign_in(Person { email: "Ada@Example.test".into(), name: "Ada".into(), email_verified: true });
    let (callback, r) = sign_on(&mut b).await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some("/tickets")), "{}", r.body);
    assert_eq!(b.get("/tickets").await.status, 200, "a session for the agent with that address");
    assert_eq!(idp.tokens_issued(), 1);
    // The callback works once.
    let again = b.get(&callback).await;
    assert_eq!(again.status, 400);
    assert!(again.body.contains("expired, was used already or was started in another browser"));

    // A callback carried to another browser is refused (login CSRF).
    let mut other = Browser::new(&d.base);
    let start = b.get("/login/sso").await.location.unwrap();
    let idp_client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = idp_client.get(&start).send().await.unwrap();
    let stolen = path_of(r.headers()["location"].to_str().unwrap());
    let r = other.get(&stolen).await;
    assert_eq!(r.status, 400);
    assert_eq!(other.get("/tickets").await.status, 303, "no session");

    // No agent with the address (no auto_create): refused, and said why.
    idp.sign_in(Person { email: "mallory@elsewhere.test".into(), name: "M".into(), email_verified: true });
    let (_, r) = sign_on(&mut Browser::new(&d.base)).await;
    assert_eq!(r.status, 403);
    assert!(r.body.contains("no agent of this desk has that address"), "{}", r.body);
    // An address the provider did not verify is refused.
    idp.sign_in(Person { email: "ada@example.test".into(), name: "Ada".into(), email_verified: false });
    let (_, r) = sign_on(&mut Browser::new(&d.base)).await;
    assert_eq!(r.status, 403);
    assert!(r.body.contains("did not confirm"));

    let audit: Vec<String> =
        d.running.desk.audit_log(&d.admin, &Default::default(), None, 100).unwrap().iter().map(|(_, e)| e.event.describe()).collect();
    assert!(audit.iter().any(|a| a.starts_with("signed on through http://127.0.0.1")), "{audit:#?}");
    assert!(audit.iter().any(|a| a.contains("failed login as mallory@elsewhere.test: single sign-on: no agent")), "{audit:#?}");

    // The provider goes down: a page says so, and the password still works.
    idp.stop();
    // (The discovery document is cached for an hour; a new desk asks anew.)
    drop(d);
    let (d2, _dir2) = desk(&idp, "").await;
    let r = Browser::new(&d2.base).get("/login/sso").await;
    assert_eq!(r.status, 502);
    assert!(r.body.contains("did not answer") && r.body.contains("Log in with your password"), "{}", r.body);
    Browser::logged_in(&d2.base, "ada@example.test", PASSWORD).await;
    d2.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sso_only_desk_creates_agents_and_refuses_passwords() {
    let idp = TestIdp::start(CLIENT, SECRET).await;
    let (d, _dir) = desk(&idp, "auto_create = true\ndefault_role = \"agent\"\npassword_login = false\n").await;
    let mut b = Browser::new(&d.base);
    let login = b.get("/login").await;
    assert!(login.body.contains("Log in with Corp ID") && !login.body.contains("name=\"password\""), "only single sign-on");
    // A script posting the form anyway (with the pre-login token) is refused too.
    let pre = b.cookies.iter().find(|(k, _)| k == "fd_pre").map(|(_, v)| v.clone()).unwrap();
    let r = b.post("/login", &[("email", "ada@example.test"), ("password", PASSWORD), ("_csrf", &pre)]).await;
    assert_eq!(r.status, 403);
    assert!(r.body.contains("Password login is off"));
    idp.sign_in(Person { email: "carol@corp.test".into(), name: "Carol Corp".into(), email_verified: true });
    let (_, r) = sign_on(&mut b).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = b.get("/tickets").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Carol Corp"), "the new agent, named from the ID token");
    let carol = d.running.desk.agents().unwrap().into_iter().find(|p| p.email == "carol@corp.test").unwrap();
    assert_eq!(carol.role, frontdesk::domain::Role::Agent);
    let audit: Vec<(String, String)> = d
        .running
        .desk
        .audit_log(&d.admin, &Default::default(), None, 100)
        .unwrap()
        .into_iter()
        .map(|(_, e)| (e.actor_label, e.event.describe()))
        .collect();
    assert!(audit.contains(&("single sign-on".into(), "added carol@corp.test as agent".into())), "{audit:#?}");
    d.running.stop().await;
}
