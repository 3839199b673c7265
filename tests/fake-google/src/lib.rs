//! Google's side of service-to-service identity, on loopback, for tests: a metadata server that
//! mints ID tokens, an OIDC issuer (discovery document and JWKS) whose keys sign them and can
//! rotate, the IAM Credentials `generateIdToken` endpoint and an OAuth token endpoint (for
//! impersonation). Every fetch is counted, so tests can assert how often clients and servers
//! came asking.
//!
//! Tokens are RS256 JWTs signed with fixed test keys (`keys/test-key-*.pem`, made for these
//! tests and used nowhere else), shaped like Google's: `iss`, `aud`, `azp`, `sub`, `email`,
//! `email_verified`, `iat`, `exp`.
//!
//! ```no_run
//! # async fn run() {
//! let google = cloudrun_fake_google::FakeGoogle::start().await;
//! // Point google-cloud-auth at it: GCE_METADATA_HOST=<google.metadata_host()>, and a server
//! // at CLOUDRUN_AUTH_ISSUER=<google.issuer()>.
//! let token = google.mint_for("caller@test.iam.gserviceaccount.com", "https://callee");
//! # let _ = token; }
//! ```

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// The service account the metadata server speaks for unless told otherwise.
pub const DEFAULT_SERVICE_ACCOUNT: &str = "caller@fake-project.iam.gserviceaccount.com";

const KEYS: [&str; 3] = [
    include_str!("../keys/test-key-1.pem"),
    include_str!("../keys/test-key-2.pem"),
    include_str!("../keys/test-key-3.pem"),
];

/// One signing key and its public JWK.
struct Key {
    kid: String,
    encoding: EncodingKey,
    jwk: Value,
    public_pem: String,
}

fn load_key(index: usize) -> Key {
    let pem = KEYS[index];
    let private = rsa::RsaPrivateKey::from_pkcs8_pem(pem).expect("the test key parses");
    let public = private.to_public_key();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let kid = format!("test-key-{}", index + 1);
    let jwk = json!({
        "kty": "RSA",
        "alg": "RS256",
        "use": "sig",
        "kid": kid,
        "n": b64.encode(public.n().to_bytes_be()),
        "e": b64.encode(public.e().to_bytes_be()),
    });
    let public_pem = {
        use rsa::pkcs8::{EncodePublicKey, LineEnding};
        public
            .to_public_key_pem(LineEnding::LF)
            .expect("the public key encodes")
    };
    Key {
        kid,
        encoding: EncodingKey::from_rsa_pem(pem.as_bytes()).expect("the test key loads"),
        jwk,
        public_pem,
    }
}

/// What the metadata server answers identity requests with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MetadataBehaviour {
    /// Tokens, as usual.
    Tokens,
    /// This HTTP status and body, as a metadata server without an identity would.
    Fail(u16, String),
}

struct State {
    keys: Vec<Key>,
    /// Index into `keys` of the key that signs.
    signing: Mutex<usize>,
    /// Indices of keys published in the JWKS.
    published: Mutex<Vec<usize>>,
    service_account: Mutex<String>,
    lifetime: Mutex<Duration>,
    metadata: Mutex<MetadataBehaviour>,
    identity_fetches: AtomicUsize,
    identity_audiences: Mutex<Vec<String>>,
    access_token_fetches: AtomicUsize,
    oauth_fetches: AtomicUsize,
    generate_id_token_fetches: AtomicUsize,
    discovery_fetches: AtomicUsize,
    jwks_fetches: AtomicUsize,
    issuer: String,
}

/// The fake, serving on `127.0.0.1` until dropped.
pub struct FakeGoogle {
    addr: SocketAddr,
    state: Arc<State>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeGoogle {
    /// Starts the fake on its own thread (with its own runtime), so it serves whatever the
    /// caller's runtime does, blocking tests included.
    pub async fn start() -> FakeGoogle {
        Self::spawn()
    }

    /// [`start`](Self::start) for tests that are not async.
    pub fn spawn() -> FakeGoogle {
        let std_listener =
            std::net::TcpListener::bind("127.0.0.1:0").expect("binds a loopback port");
        std_listener
            .set_nonblocking(true)
            .expect("the listener goes non-blocking");
        let addr = std_listener.local_addr().expect("has an address");
        let state = Arc::new(State {
            keys: (0..KEYS.len()).map(load_key).collect(),
            signing: Mutex::new(0),
            published: Mutex::new(vec![0]),
            service_account: Mutex::new(DEFAULT_SERVICE_ACCOUNT.to_owned()),
            lifetime: Mutex::new(Duration::from_secs(3600)),
            metadata: Mutex::new(MetadataBehaviour::Tokens),
            identity_fetches: AtomicUsize::new(0),
            identity_audiences: Mutex::new(Vec::new()),
            access_token_fetches: AtomicUsize::new(0),
            oauth_fetches: AtomicUsize::new(0),
            generate_id_token_fetches: AtomicUsize::new(0),
            discovery_fetches: AtomicUsize::new(0),
            jwks_fetches: AtomicUsize::new(0),
            issuer: format!("http://{addr}"),
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = Arc::clone(&state);
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the fake");
            runtime.block_on(async move {
                let listener = TcpListener::from_std(std_listener).expect("tokio takes it");
                tokio::select! {
                    () = accept_loop(listener, serving) => {}
                    _ = stopped => {}
                }
            });
        });
        FakeGoogle {
            addr,
            state,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// `127.0.0.1:PORT`, for `GCE_METADATA_HOST`.
    pub fn metadata_host(&self) -> String {
        self.addr.to_string()
    }

    /// `http://127.0.0.1:PORT`, the metadata server's root URL.
    pub fn metadata_endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The issuer URL (`http://127.0.0.1:PORT`): the `iss` of every token, and where
    /// `/.well-known/openid-configuration` is served.
    pub fn issuer(&self) -> String {
        self.state.issuer.clone()
    }

    /// Where the JWKS is served.
    pub fn jwks_url(&self) -> String {
        format!("{}/jwks", self.state.issuer)
    }

    /// The token endpoint of OAuth refresh grants (`token_uri` of `authorized_user` credentials).
    pub fn oauth_token_url(&self) -> String {
        format!("{}/token", self.state.issuer)
    }

    /// The impersonation URL for `email`, as an `impersonated_service_account` file holds it.
    pub fn impersonation_url(&self, email: &str) -> String {
        format!(
            "{}/v1/projects/-/serviceAccounts/{email}:generateAccessToken",
            self.state.issuer
        )
    }

    /// The account the metadata server's tokens are for.
    pub fn set_service_account(&self, email: &str) {
        *self.state.service_account.lock().unwrap() = email.to_owned();
    }

    /// How long minted tokens live (an hour unless set; JWTs count whole seconds).
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        *self.state.lifetime.lock().unwrap() = lifetime;
    }

    /// Makes the metadata server fail (or work again).
    pub fn set_metadata_behaviour(&self, behaviour: MetadataBehaviour) {
        *self.state.metadata.lock().unwrap() = behaviour;
    }

    /// Identity tokens the metadata server was asked for.
    pub fn identity_fetches(&self) -> usize {
        self.state.identity_fetches.load(Ordering::SeqCst)
    }

    /// The audiences of those requests, in order.
    pub fn identity_audiences(&self) -> Vec<String> {
        self.state.identity_audiences.lock().unwrap().clone()
    }

    /// Access tokens the metadata server was asked for.
    pub fn access_token_fetches(&self) -> usize {
        self.state.access_token_fetches.load(Ordering::SeqCst)
    }

    /// OAuth refresh grants served.
    pub fn oauth_fetches(&self) -> usize {
        self.state.oauth_fetches.load(Ordering::SeqCst)
    }

    /// `generateIdToken` calls served.
    pub fn generate_id_token_fetches(&self) -> usize {
        self.state.generate_id_token_fetches.load(Ordering::SeqCst)
    }

    /// Discovery documents served.
    pub fn discovery_fetches(&self) -> usize {
        self.state.discovery_fetches.load(Ordering::SeqCst)
    }

    /// JWKS documents served.
    pub fn jwks_fetches(&self) -> usize {
        self.state.jwks_fetches.load(Ordering::SeqCst)
    }

    /// Rotates keys the way Google does: the next key signs from now on and is published next
    /// to the old one, which keeps verifying tokens already issued.
    pub fn rotate_keys(&self) {
        let mut signing = self.state.signing.lock().unwrap();
        let next = (*signing + 1) % 2;
        *signing = next;
        let mut published = self.state.published.lock().unwrap();
        if !published.contains(&next) {
            published.push(next);
        }
    }

    /// Stops publishing every key but the one that signs.
    pub fn retire_old_keys(&self) {
        let signing = *self.state.signing.lock().unwrap();
        *self.state.published.lock().unwrap() = vec![signing];
    }

    /// The `kid` of the key that signs now.
    pub fn current_kid(&self) -> String {
        self.state.keys[*self.state.signing.lock().unwrap()]
            .kid
            .clone()
    }

    /// Google-shaped claims for `email` and `audience`, issued now, living the configured
    /// lifetime.
    pub fn claims_for(&self, email: &str, audience: &str) -> Value {
        self.state.claims_for(email, audience)
    }

    /// A token for `email` and `audience`, signed by the current key.
    pub fn mint_for(&self, email: &str, audience: &str) -> String {
        self.mint(&self.claims_for(email, audience))
    }

    /// A token with exactly these claims, signed by the current key.
    pub fn mint(&self, claims: &Value) -> String {
        self.state.mint(claims)
    }

    /// A token signed by a key that is never published.
    pub fn mint_with_unpublished_key(&self, claims: &Value) -> String {
        sign(&self.state.keys[2], claims)
    }

    /// A token whose header says `alg: none`, with no signature.
    pub fn mint_alg_none(&self, claims: &Value) -> String {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header = json!({"alg": "none", "typ": "JWT", "kid": self.current_kid()});
        format!(
            "{}.{}.",
            b64.encode(header.to_string()),
            b64.encode(claims.to_string())
        )
    }

    /// A token signed with HS256 using the current public key's PEM as the HMAC secret: the
    /// classic key-confusion attack on verifiers that trust the header's `alg`.
    pub fn mint_hs256_with_public_key(&self, claims: &Value) -> String {
        let key = &self.state.keys[*self.state.signing.lock().unwrap()];
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(key.kid.clone());
        jsonwebtoken::encode(
            &header,
            claims,
            &EncodingKey::from_secret(key.public_pem.as_bytes()),
        )
        .expect("HS256 signs")
    }
}

impl Drop for FakeGoogle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A token whose signature no longer matches its content (its payload re-encoded with one more
/// claim).
pub fn tamper(token: &str) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature)) = (parts.next(), parts.next(), parts.next())
    else {
        panic!("not a JWT");
    };
    let mut claims: Value =
        serde_json::from_slice(&b64.decode(payload).expect("base64")).expect("JSON");
    claims["email"] = json!("admin@fake-project.iam.gserviceaccount.com");
    format!("{header}.{}.{signature}", b64.encode(claims.to_string()))
}

/// Seconds since the epoch.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs()
}

/// A stable numeric subject per email, as Google gives each account one.
fn subject_of(email: &str) -> String {
    let mut hash: u64 = 1469598103934665603;
    for byte in email.bytes() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(1099511628211);
    }
    format!("1{hash:020}")
}

fn sign(key: &Key, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(key.kid.clone());
    jsonwebtoken::encode(&header, claims, &key.encoding).expect("RS256 signs")
}

impl State {
    fn mint(&self, claims: &Value) -> String {
        sign(&self.keys[*self.signing.lock().unwrap()], claims)
    }

    fn claims_for(&self, email: &str, audience: &str) -> Value {
        let now = unix_now();
        let lifetime = self.lifetime.lock().unwrap().as_secs().max(1);
        json!({
            "iss": self.issuer,
            "aud": audience,
            "azp": "fake-client-id",
            "sub": subject_of(email),
            "email": email,
            "email_verified": true,
            "iat": now,
            "exp": now + lifetime,
        })
    }
}

async fn accept_loop(listener: TcpListener, state: Arc<State>) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let state = Arc::clone(&state);
                async move { Ok::<_, Infallible>(handle(&state, request).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tcp), service)
                .await;
        });
    }
}

fn respond(
    status: StatusCode,
    content_type: &str,
    body: impl Into<Bytes>,
) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Full::new(body.into()))
        .expect("a valid response")
}

fn json_response(value: &Value) -> Response<Full<Bytes>> {
    respond(StatusCode::OK, "application/json", value.to_string())
}

fn query_param(request: &Request<Incoming>, name: &str) -> Option<String> {
    let query = request.uri().query()?;
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name).then(|| percent_decode(value))
    })
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(byte) => {
                        out.push(byte);
                        i += 3;
                    }
                    Err(_) => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn handle(state: &State, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    match (method, path.as_str()) {
        (Method::GET, "/.well-known/openid-configuration") => {
            state.discovery_fetches.fetch_add(1, Ordering::SeqCst);
            json_response(&json!({
                "issuer": state.issuer,
                "jwks_uri": format!("{}/jwks", state.issuer),
                "id_token_signing_alg_values_supported": ["RS256"],
            }))
        }
        (Method::GET, "/jwks") => {
            state.jwks_fetches.fetch_add(1, Ordering::SeqCst);
            let published = state.published.lock().unwrap().clone();
            let keys: Vec<Value> = published
                .iter()
                .map(|&i| state.keys[i].jwk.clone())
                .collect();
            let mut response = json_response(&json!({ "keys": keys }));
            response.headers_mut().insert(
                "cache-control",
                http::HeaderValue::from_static("public, max-age=3600"),
            );
            response
        }
        (Method::GET, "/computeMetadata/v1/instance/service-accounts/default/identity") => {
            if request
                .headers()
                .get("metadata-flavor")
                .map(|v| v.as_bytes())
                != Some(b"Google")
            {
                return respond(
                    StatusCode::FORBIDDEN,
                    "text/plain",
                    "Missing Metadata-Flavor",
                );
            }
            state.identity_fetches.fetch_add(1, Ordering::SeqCst);
            let behaviour = state.metadata.lock().unwrap().clone();
            if let MetadataBehaviour::Fail(status, body) = behaviour {
                return respond(
                    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                    "text/plain",
                    body,
                );
            }
            let Some(audience) = query_param(&request, "audience") else {
                return respond(
                    StatusCode::BAD_REQUEST,
                    "text/plain",
                    "non-empty audience parameter required",
                );
            };
            state
                .identity_audiences
                .lock()
                .unwrap()
                .push(audience.clone());
            let email = state.service_account.lock().unwrap().clone();
            let mut claims = state.claims_for(&email, &audience);
            if query_param(&request, "format").as_deref() != Some("full") {
                // The standard format leaves the email out, as Google's metadata server does.
                if let Some(map) = claims.as_object_mut() {
                    map.remove("email");
                    map.remove("email_verified");
                }
            }
            respond(StatusCode::OK, "text/html", state.mint(&claims))
        }
        (Method::GET, "/computeMetadata/v1/instance/service-accounts/default/token") => {
            state.access_token_fetches.fetch_add(1, Ordering::SeqCst);
            json_response(&json!({
                "access_token": "fake-access-token",
                "expires_in": 3600,
                "token_type": "Bearer",
            }))
        }
        (Method::GET, "/computeMetadata/v1/instance/service-accounts/default/email") => {
            let email = state.service_account.lock().unwrap().clone();
            respond(StatusCode::OK, "text/plain", email)
        }
        (Method::POST, "/token") => {
            state.oauth_fetches.fetch_add(1, Ordering::SeqCst);
            json_response(&json!({
                "access_token": "fake-access-token",
                "expires_in": 3600,
                "token_type": "Bearer",
            }))
        }
        (Method::POST, path) if path.ends_with(":generateIdToken") => {
            state
                .generate_id_token_fetches
                .fetch_add(1, Ordering::SeqCst);
            let authorized = request
                .headers()
                .get("authorization")
                .is_some_and(|v| v.as_bytes() == b"Bearer fake-access-token");
            if !authorized {
                return respond(
                    StatusCode::UNAUTHORIZED,
                    "application/json",
                    r#"{"error":"unauthenticated"}"#,
                );
            }
            let email = path
                .trim_end_matches(":generateIdToken")
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_owned();
            let body = request
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            let Ok(body) = serde_json::from_slice::<Value>(&body) else {
                return respond(
                    StatusCode::BAD_REQUEST,
                    "text/plain",
                    "the body is not JSON",
                );
            };
            let audience = body["audience"].as_str().unwrap_or_default().to_owned();
            let mut claims = state.claims_for(&email, &audience);
            if body["includeEmail"] != json!(true)
                && let Some(map) = claims.as_object_mut()
            {
                map.remove("email");
                map.remove("email_verified");
            }
            json_response(&json!({ "token": state.mint(&claims) }))
        }
        _ => respond(StatusCode::NOT_FOUND, "text/plain", "not found"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_handles_urls() {
        assert_eq!(
            percent_decode("https%3A%2F%2Fx.run.app"),
            "https://x.run.app"
        );
        assert_eq!(percent_decode("a+b%"), "a b%");
    }

    #[test]
    fn tokens_carry_the_current_kid_and_verify_with_the_published_key() {
        let google = FakeGoogle::spawn();
        let token = google.mint_for("a@b.c", "https://aud");
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.kid.as_deref(), Some("test-key-1"));
        google.rotate_keys();
        assert_eq!(google.current_kid(), "test-key-2");
        let header = jsonwebtoken::decode_header(google.mint_for("a@b.c", "x")).unwrap();
        assert_eq!(header.kid.as_deref(), Some("test-key-2"));
    }
}
