//! Single sign-on with OpenID Connect: `/login/sso` sends the browser to the
//! provider (authorization code flow with PKCE S256, a state bound to this
//! browser by a cookie, a nonce), `/login/sso/callback` exchanges the code
//! and verifies the ID token (signature from the provider's JWKS, issuer,
//! audience, expiry, nonce) and hands the address to `Desk::sso_login`. The
//! discovery document is cached for an hour; a provider that does not answer
//! gives a page saying so (password login still works unless turned off).
//! HTTP goes through hyper with rustls (ring), no redirects followed, a
//! deadline and a size cap on every answer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use http_body_util::BodyExt;
use maud::html;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreJwsSigningAlgorithm, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    TokenResponse,
};
use serde::Deserialize;

use crate::config::Config;
use crate::tr;
use crate::web::pages::safe_next;
use crate::web::{AppState, SESSION_COOKIE, WebError, blocking, cookie, set_cookie, ui};

/// The cookie that ties a sign-on to the browser that started it.
const FLOW_COOKIE: &str = "fd_sso";
/// How long a started sign-on may take.
const FLOW_TTL: Duration = Duration::from_secs(600);
/// Most sign-ons in progress at once (the oldest go first).
const MAX_FLOWS: usize = 10_000;
/// How long the provider's discovery document is kept.
const METADATA_TTL: Duration = Duration::from_secs(3600);
/// Longest a call to the provider may take, and its largest answer.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);
const HTTP_MAX_BYTES: usize = 1 << 20;

type HttpsClient = hyper_util::client::legacy::Client<crate::tls::client::HttpsConnector, http_body_util::Full<bytes::Bytes>>;

struct Flow {
    browser: String,
    verifier: PkceCodeVerifier,
    nonce: Nonce,
    next: String,
    started: Instant,
}

/// The sign-on client: settings, HTTP, the cached provider metadata and the
/// sign-ons in progress.
pub struct Sso {
    issuer: String,
    client_id: String,
    secret: String,
    redirect: String,
    http: HttpsClient,
    metadata: Mutex<Option<(CoreProviderMetadata, Instant)>>,
    flows: Mutex<HashMap<String, Flow>>,
}

/// An HTTP failure talking to the provider.
#[derive(Debug)]
pub struct HttpError(String);

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HttpError {}

impl Sso {
    /// From `[sso]`; None when it is off. The secret file must be readable.
    pub fn from_config(cfg: &Config, lookup: crate::tls::client::Lookup) -> anyhow::Result<Option<Arc<Sso>>> {
        let s = &cfg.sso;
        if !s.enabled {
            return Ok(None);
        }
        let secret = std::fs::read_to_string(&s.client_secret_file)
            .map_err(|e| anyhow::anyhow!("sso.client_secret_file: cannot read {}: {e}", s.client_secret_file))?
            .trim()
            .to_string();
        // Names through the desk's resolver; Mozilla's roots (a bare machine
        // has no certificate store).
        let connector = crate::tls::client::https_connector(lookup, "", false).map_err(anyhow::Error::msg)?;
        let http = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build(connector);
        Ok(Some(Arc::new(Sso {
            issuer: s.issuer.trim_end_matches('/').to_string(),
            client_id: s.client_id.clone(),
            secret,
            redirect: format!("{}/login/sso/callback", cfg.server.public_url.trim_end_matches('/')),
            http,
            metadata: Mutex::new(None),
            flows: Mutex::new(HashMap::new()),
        })))
    }

    /// The HTTP client openidconnect calls: each call owns its connection pool handle.
    fn http_client(
        &self,
    ) -> impl Fn(
        openidconnect::HttpRequest,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<openidconnect::HttpResponse, HttpError>> + Send>>
    + Send
    + Sync
    + 'static {
        let client = self.http.clone();
        move |req| Box::pin(call(client.clone(), req))
    }
}

/// One HTTP exchange with the provider.
async fn call(http: HttpsClient, req: openidconnect::HttpRequest) -> Result<openidconnect::HttpResponse, HttpError> {
    {
        let (parts, body) = req.into_parts();
        let req = axum::http::Request::from_parts(parts, http_body_util::Full::new(bytes::Bytes::from(body)));
        let res = tokio::time::timeout(HTTP_TIMEOUT, http.request(req))
            .await
            .map_err(|_| HttpError(format!("no answer within {} s", HTTP_TIMEOUT.as_secs())))?
            .map_err(|e| HttpError(format!("{e}")))?;
        let (parts, body) = res.into_parts();
        let limited = http_body_util::Limited::new(body, HTTP_MAX_BYTES);
        let bytes = tokio::time::timeout(HTTP_TIMEOUT, limited.collect())
            .await
            .map_err(|_| HttpError("the answer took too long".into()))?
            .map_err(|e| HttpError(format!("reading the answer: {e}")))?
            .to_bytes();
        Ok(axum::http::Response::from_parts(parts, bytes.to_vec()))
    }
}

impl Sso {
    async fn metadata(&self) -> Result<CoreProviderMetadata, String> {
        if let Ok(m) = self.metadata.lock()
            && let Some((meta, at)) = m.as_ref()
            && at.elapsed() < METADATA_TTL
        {
            return Ok(meta.clone());
        }
        let issuer = IssuerUrl::new(self.issuer.clone()).map_err(|e| format!("sso.issuer: {e}"))?;
        let http = self.http_client();
        let meta = CoreProviderMetadata::discover_async(issuer, &http).await.map_err(|e| describe(&e))?;
        if let Ok(mut m) = self.metadata.lock() {
            *m = Some((meta.clone(), Instant::now()));
        }
        Ok(meta)
    }

    fn flows(&self) -> std::sync::MutexGuard<'_, HashMap<String, Flow>> {
        match self.flows.lock() {
            Ok(f) => f,
            Err(p) => p.into_inner(),
        }
    }
}

/// An error with its causes, for the page and the log.
fn describe(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/login/sso", get(start)).route("/login/sso/callback", get(callback))
}

fn trouble(st: &AppState, status: StatusCode, text: &str) -> Response {
    let password = st.desk.config().sso.password_login;
    let body = ui::card_page(
        tr!("Single sign-on"),
        &st.desk.config().desk.name,
        html! {
            div.card.narrow.login {
                h1 { (tr!("Single sign-on did not work")) }
                (ui::notice("error", text))
                p { a href="/login/sso" { (tr!("Try again")) } @if password { " · " a href="/login" { (tr!("Log in with your password")) } } }
            }
        },
    );
    (status, body).into_response()
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct StartQuery {
    next: Option<String>,
}

/// `GET /login/sso`: to the provider.
async fn start(State(st): State<AppState>, Query(q): Query<StartQuery>) -> Response {
    let Some(sso) = st.sso.clone() else { return WebError::not_found().into_response() };
    let meta = match sso.metadata().await {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!("single sign-on: the provider {} did not answer: {e}", sso.issuer);
            return trouble(
                &st,
                StatusCode::BAD_GATEWAY,
                &tr!("The sign-on service ({issuer}) did not answer: {error}.", issuer = sso.issuer, error = e),
            );
        }
    };
    let redirect = match RedirectUrl::new(sso.redirect.clone()) {
        Ok(r) => r,
        Err(e) => {
            return trouble(&st, StatusCode::INTERNAL_SERVER_ERROR, &tr!("server.public_url makes no redirect URL: {error}", error = e));
        }
    };
    let client =
        CoreClient::from_provider_metadata(meta, ClientId::new(sso.client_id.clone()), Some(ClientSecret::new(sso.secret.clone())))
            .set_redirect_uri(redirect);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    let browser = match crate::desk::auth::random_token() {
        Ok(b) => b,
        Err(e) => return WebError::from(e).into_response(),
    };
    {
        let mut flows = sso.flows();
        flows.retain(|_, f| f.started.elapsed() < FLOW_TTL);
        if flows.len() >= MAX_FLOWS
            && let Some(oldest) = flows.iter().min_by_key(|(_, f)| f.started).map(|(k, _)| k.clone())
        {
            flows.remove(&oldest);
        }
        let next = safe_next(q.next.as_deref());
        flows.insert(state.secret().clone(), Flow { browser: browser.clone(), verifier, nonce, next, started: Instant::now() });
    }
    let mut res = Redirect::to(url.as_str()).into_response();
    if let Ok(v) = set_cookie(&st.desk, FLOW_COOKIE, &browser, FLOW_TTL.as_secs() as i64).parse() {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /login/sso/callback`: the provider's answer.
async fn callback(
    State(st): State<AppState>,
    ConnectInfo(addr): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> Response {
    let Some(sso) = st.sso.clone() else { return WebError::not_found().into_response() };
    if let Some(e) = &q.error {
        let detail: String = q.error_description.as_deref().unwrap_or("").chars().take(300).collect();
        return trouble(&st, StatusCode::FORBIDDEN, &tr!("The sign-on service refused: {error} {detail}", error = e, detail = detail));
    }
    let (Some(code), Some(state)) = (q.code, q.state) else {
        return trouble(&st, StatusCode::BAD_REQUEST, tr!("The sign-on service sent no code back."));
    };
    // Single use, and only in the browser that started it.
    let flow = sso.flows().remove(&state).filter(|f| f.started.elapsed() < FLOW_TTL);
    let browser = cookie(&headers, FLOW_COOKIE).unwrap_or("");
    let Some(flow) = flow.filter(|f| crate::web::guard::constant_time_eq(f.browser.as_bytes(), browser.as_bytes())) else {
        return trouble(&st, StatusCode::BAD_REQUEST, tr!("This sign-on has expired, was used already or was started in another browser."));
    };
    let claims = match exchange(&sso, code, flow.verifier, &flow.nonce).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!("single sign-on failed: {e}");
            return trouble(&st, StatusCode::BAD_GATEWAY, &tr!("The sign-on could not be completed: {error}.", error = e));
        }
    };
    let ip = addr.ip().to_string();
    let (email, name, verified) = claims;
    let outcome = blocking(&st.desk, move |d| d.sso_login(&email, &name, verified, &ip)).await;
    match outcome {
        Ok(Ok((token, _))) => {
            let max_age = st.desk.config().security.session_idle_hours as i64 * 3600;
            let mut res = Redirect::to(&flow.next).into_response();
            for c in [set_cookie(&st.desk, SESSION_COOKIE, &token, max_age), set_cookie(&st.desk, FLOW_COOKIE, "", 0)] {
                if let Ok(v) = c.parse() {
                    res.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            res
        }
        Ok(Err(refusal)) => {
            use crate::desk::sso::SsoRefusal;
            let text = match refusal {
                SsoRefusal::NoAgent => tr!("You signed on, but no agent of this desk has that address; an admin must invite you first."),
                SsoRefusal::Deactivated => tr!("You signed on, but this agent account is deactivated."),
                SsoRefusal::Unverified => tr!("You signed on, but the sign-on service did not confirm that the address is yours."),
            };
            trouble(&st, StatusCode::FORBIDDEN, text)
        }
        Err(e) => WebError::from(e).into_response(),
    }
}

/// Exchanges the code (with the PKCE verifier) and verifies the ID token:
/// (email, name, email_verified).
async fn exchange(sso: &Sso, code: String, verifier: PkceCodeVerifier, nonce: &Nonce) -> Result<(String, String, Option<bool>), String> {
    let meta = sso.metadata().await?;
    let redirect = RedirectUrl::new(sso.redirect.clone()).map_err(|e| e.to_string())?;
    let client =
        CoreClient::from_provider_metadata(meta, ClientId::new(sso.client_id.clone()), Some(ClientSecret::new(sso.secret.clone())))
            .set_redirect_uri(redirect);
    let http = sso.http_client();
    let token = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|e| describe(&e))?
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .map_err(|e| format!("the token endpoint: {}", describe(&e)))?;
    let id_token = token.id_token().ok_or("the provider sent no ID token")?;
    use CoreJwsSigningAlgorithm as A;
    let verifier = client.id_token_verifier().set_allowed_algs(vec![
        A::RsaSsaPkcs1V15Sha256,
        A::RsaSsaPkcs1V15Sha384,
        A::RsaSsaPkcs1V15Sha512,
        A::RsaSsaPssSha256,
        A::RsaSsaPssSha384,
        A::RsaSsaPssSha512,
        A::EcdsaP256Sha256,
        A::EcdsaP384Sha384,
        A::EdDsa,
    ]);
    let claims = id_token.claims(&verifier, nonce).map_err(|e| format!("the ID token: {}", describe(&e)))?;
    let email = claims.email().map(|e| e.as_str().to_string()).ok_or("the ID token names no email address (ask for the email scope)")?;
    let name = claims.name().and_then(|n| n.get(None)).map(|n| n.as_str().to_string()).unwrap_or_default();
    Ok((email, name, claims.email_verified()))
}
