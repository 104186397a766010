//! A small OpenID Connect provider for the SSO tests, on 127.0.0.1: the
//! discovery document, a JWKS with one Ed25519 key, an authorization endpoint
//! that signs in whoever the test named (no login page) and redirects back
//! with a code, and a token endpoint that checks the client secret and the
//! PKCE verifier and returns a signed ID token with the nonce. Nothing leaves
//! loopback.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use openidconnect::core::{CoreEdDsaPrivateSigningKey, CoreIdToken, CoreIdTokenClaims, CoreJwsSigningAlgorithm};
use openidconnect::{
    Audience, EmptyAdditionalClaims, EndUserEmail, EndUserName, IssuerUrl, JsonWebKeyId, LocalizedClaim, Nonce, PrivateSigningKey,
    StandardClaims, SubjectIdentifier,
};
use sha2::{Digest, Sha256};

/// Who the provider signs in next, and how.
#[derive(Clone)]
pub struct Person {
    pub email: String,
    pub name: String,
    pub email_verified: bool,
}

struct Pending {
    nonce: String,
    challenge: String,
    person: Person,
}

struct Inner {
    issuer: String,
    client_id: String,
    secret: String,
    key: CoreEdDsaPrivateSigningKey,
    next: Mutex<Person>,
    codes: Mutex<HashMap<String, Pending>>,
    tokens_issued: Mutex<u32>,
}

pub struct TestIdp {
    pub issuer: String,
    inner: Arc<Inner>,
    task: tokio::task::JoinHandle<()>,
}

impl TestIdp {
    pub async fn start(client_id: &str, secret: &str) -> TestIdp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let issuer = format!("http://{addr}");
        let pem = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap().serialize_pem();
        let key = CoreEdDsaPrivateSigningKey::from_ed25519_pem(&pem, Some(JsonWebKeyId::new("k1".into()))).unwrap();
        let inner = Arc::new(Inner {
            issuer: issuer.clone(),
            client_id: client_id.into(),
            secret: secret.into(),
            key,
            next: Mutex::new(Person { email: String::new(), name: String::new(), email_verified: true }),
            codes: Mutex::default(),
            tokens_issued: Mutex::new(0),
        });
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .with_state(inner.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        TestIdp { issuer, inner, task }
    }

    /// Signs in `p` at the next authorization.
    pub fn sign_in(&self, p: Person) {
        *self.inner.next.lock().unwrap() = p;
    }

    pub fn tokens_issued(&self) -> u32 {
        *self.inner.tokens_issued.lock().unwrap()
    }

    /// Stops answering (the provider is down).
    pub fn stop(&self) {
        self.task.abort();
    }
}

impl Drop for TestIdp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn discovery(State(i): State<Arc<Inner>>) -> Response {
    axum::Json(serde_json::json!({
        "issuer": i.issuer,
        "authorization_endpoint": format!("{}/authorize", i.issuer),
        "token_endpoint": format!("{}/token", i.issuer),
        "jwks_uri": format!("{}/jwks", i.issuer),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["EdDSA"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": ["openid", "email", "profile"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
    }))
    .into_response()
}

async fn jwks(State(i): State<Arc<Inner>>) -> Response {
    axum::Json(serde_json::json!({ "keys": [i.key.as_verification_key()] })).into_response()
}

async fn authorize(State(i): State<Arc<Inner>>, Query(q): Query<HashMap<String, String>>) -> Response {
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    if get("client_id") != i.client_id
        || get("response_type") != "code"
        || get("code_challenge_method") != "S256"
        || get("code_challenge").is_empty()
    {
        return (StatusCode::BAD_REQUEST, format!("bad authorization request: {q:?}")).into_response();
    }
    let code = format!("code-{}", rand_hex());
    let person = i.next.lock().unwrap().clone();
    i.codes.lock().unwrap().insert(code.clone(), Pending { nonce: get("nonce"), challenge: get("code_challenge"), person });
    let state = get("state");
    let redirect = get("redirect_uri");
    Redirect::to(&format!("{redirect}?code={code}&state={}", percent(&state))).into_response()
}

async fn token(State(i): State<Arc<Inner>>, headers: HeaderMap, Form(f): Form<HashMap<String, String>>) -> Response {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let expected = format!("Basic {}", b64.encode(format!("{}:{}", i.client_id, i.secret)));
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return (StatusCode::UNAUTHORIZED, axum::Json(serde_json::json!({"error": "invalid_client"}))).into_response();
    }
    let Some(p) = f.get("code").and_then(|c| i.codes.lock().unwrap().remove(c)) else {
        return (StatusCode::BAD_REQUEST, axum::Json(serde_json::json!({"error": "invalid_grant"}))).into_response();
    };
    let verifier = f.get("code_verifier").cloned().unwrap_or_default();
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    if challenge != p.challenge {
        return (StatusCode::BAD_REQUEST, axum::Json(serde_json::json!({"error": "invalid_grant", "error_description": "PKCE"})))
            .into_response();
    }
    let now = chrono::Utc::now();
    let standard = StandardClaims::new(SubjectIdentifier::new(format!("sub-{}", p.person.email)))
        .set_email(Some(EndUserEmail::new(p.person.email.clone())))
        .set_email_verified(Some(p.person.email_verified))
        .set_name(Some(LocalizedClaim::from(EndUserName::new(p.person.name.clone()))));
    let claims = CoreIdTokenClaims::new(
        IssuerUrl::new(i.issuer.clone()).unwrap(),
        vec![Audience::new(i.client_id.clone())],
        now + chrono::Duration::minutes(5),
        now,
        standard,
        EmptyAdditionalClaims {},
    )
    .set_nonce(Some(Nonce::new(p.nonce)));
    let id_token = CoreIdToken::new(claims, &i.key, CoreJwsSigningAlgorithm::EdDsa, None, None).unwrap();
    *i.tokens_issued.lock().unwrap() += 1;
    axum::Json(serde_json::json!({
        "access_token": format!("at-{}", rand_hex()),
        "token_type": "Bearer",
        "expires_in": 3600,
        "id_token": id_token.to_string(),
    }))
    .into_response()
}

fn rand_hex() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).unwrap();
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn percent(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}
