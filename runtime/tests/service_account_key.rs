//! Service-account keys on the success path, end to end: google-cloud-auth signs a JWT assertion
//! with the key and exchanges it at Google's OAuth token endpoint, whose address it hard-codes
//! (`https://oauth2.googleapis.com/token`). The test reaches that address the way any deployment
//! behind a corporate proxy would: `HTTPS_PROXY` names a CONNECT proxy on loopback, which stands
//! in for Google by terminating TLS with a certificate for `oauth2.googleapis.com` from a test CA
//! that `SSL_CERT_FILE` makes the only trusted root (reqwest's rustls verifier loads its roots
//! through rustls-native-certs, which reads that variable on Linux). The endpoint checks the
//! assertion as Google would, against the public half of a key made for this run.
//!
//! One test in its own binary, because it sets process-wide environment variables.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine;
use bytes::Bytes;
use cloudrun_fake_google::FakeGoogle;
use cloudrun_runtime::client::{Channel, ClientConfig, GoogleIdToken};
use http_body_util::{BodyExt, Full};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rsa::pkcs8::{EncodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic_prost::ProstCodec;

const TOKEN_HOST: &str = "oauth2.googleapis.com";
const TOKEN_URL: &str = "https://oauth2.googleapis.com/token";
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const CLIENT_EMAIL: &str = "keyholder@fake-project.iam.gserviceaccount.com";
const PRIVATE_KEY_ID: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678";
const CALLS: usize = 200;

/// A service-account key made for this run, as `gcloud iam service-accounts keys create` writes
/// it, and the verifying half of it.
fn service_account_key() -> (Value, jsonwebtoken::DecodingKey) {
    let private = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
    let public = private.to_public_key();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let verifying = jsonwebtoken::DecodingKey::from_rsa_components(
        &b64.encode(public.n().to_bytes_be()),
        &b64.encode(public.e().to_bytes_be()),
    )
    .unwrap();
    let key = json!({
        "type": "service_account",
        "project_id": "fake-project",
        "private_key_id": PRIVATE_KEY_ID,
        "private_key": private.to_pkcs8_pem(LineEnding::LF).unwrap().as_str(),
        "client_email": CLIENT_EMAIL,
        "client_id": "109876543210987654321",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": TOKEN_URL,
    });
    (key, verifying)
}

/// A CA and a server configuration for `oauth2.googleapis.com` that it signed: (CA PEM, config).
fn token_host_tls() -> (String, rustls::ServerConfig) {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "cloudrun test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let server_key = KeyPair::generate().unwrap();
    let server_cert = CertificateParams::new(vec![TOKEN_HOST.to_owned()])
        .unwrap()
        .signed_by(&server_key, &ca)
        .unwrap();
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![server_cert.der().clone()],
        rustls::pki_types::PrivatePkcs8KeyDer::from(server_key.serialize_der()).into(),
    )
    .unwrap();
    // google-cloud-auth's reqwest speaks HTTP/1.1 only; saying so keeps ALPN honest.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    (ca.pem(), config)
}

/// Google's OAuth token endpoint for the JWT-bearer grant, as far as ID tokens go.
struct TokenEndpoint {
    google: FakeGoogle,
    verifying: jsonwebtoken::DecodingKey,
    /// The `target_audience` the next exchanges must ask for.
    audience: Mutex<String>,
    /// CONNECT targets the proxy was asked for, in order.
    tunnels: Mutex<Vec<String>>,
    /// Exchanges answered with an ID token.
    exchanges: AtomicUsize,
    /// The ID tokens handed out, in order.
    minted: Mutex<Vec<String>>,
    /// Why requests were turned away, so a failure says what the client got wrong.
    rejections: Mutex<Vec<String>>,
}

impl TokenEndpoint {
    /// Checks a token request the way Google does and answers with an ID token for the key's
    /// account and the asked-for audience.
    fn exchange(
        &self,
        method: &http::Method,
        path: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<String, String> {
        if method != http::Method::POST || path != "/token" {
            return Err(format!("{method} {path} is not the token endpoint"));
        }
        if content_type != Some("application/x-www-form-urlencoded") {
            return Err(format!("the body is {content_type:?}, not a form"));
        }
        let form = parse_form(body)?;
        let field = |name: &str| {
            form.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
                .ok_or_else(|| format!("the form has no {name}"))
        };
        let grant_type = field("grant_type")?;
        if grant_type != JWT_BEARER {
            return Err(format!("unsupported grant_type {grant_type}"));
        }
        let assertion = field("assertion")?;

        let header = jsonwebtoken::decode_header(assertion).map_err(|e| e.to_string())?;
        if header.kid.as_deref() != Some(PRIVATE_KEY_ID) {
            return Err(format!("the assertion names key {:?}", header.kid));
        }
        // The signature, issuer, subject, expiry and audience (the token endpoint itself) of
        // the assertion; `target_audience` is the audience the ID token is for.
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.set_audience(&[TOKEN_URL]);
        validation.set_issuer(&[CLIENT_EMAIL]);
        validation.sub = Some(CLIENT_EMAIL.to_owned());
        validation.set_required_spec_claims(&["exp", "iat", "aud", "iss", "sub"]);
        let claims = jsonwebtoken::decode::<Value>(assertion, &self.verifying, &validation)
            .map_err(|e| format!("the assertion does not verify: {e}"))?
            .claims;
        let expected = self.audience.lock().unwrap().clone();
        if claims["target_audience"] != expected.as_str() {
            return Err(format!(
                "target_audience {} is not {expected}",
                claims["target_audience"]
            ));
        }
        let token = self.google.mint_for(CLIENT_EMAIL, &expected);
        self.exchanges.fetch_add(1, Ordering::SeqCst);
        self.minted.lock().unwrap().push(token.clone());
        Ok(token)
    }

    fn tunnels(&self) -> Vec<String> {
        self.tunnels.lock().unwrap().clone()
    }

    fn minted(&self) -> Vec<String> {
        self.minted.lock().unwrap().clone()
    }

    fn rejections(&self) -> Vec<String> {
        self.rejections.lock().unwrap().clone()
    }
}

/// `application/x-www-form-urlencoded`, decoded.
fn parse_form(body: &[u8]) -> Result<Vec<(String, String)>, String> {
    fn decode(part: &str) -> Result<String, String> {
        let bytes = part.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' => {
                    let hex = part
                        .get(i + 1..i + 3)
                        .ok_or_else(|| format!("truncated escape in {part}"))?;
                    out.push(
                        u8::from_str_radix(hex, 16)
                            .map_err(|_| format!("bad escape %{hex} in {part}"))?,
                    );
                    i += 2;
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8(out).map_err(|e| e.to_string())
    }
    let body = std::str::from_utf8(body).map_err(|e| e.to_string())?;
    body.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((decode(k)?, decode(v)?))
        })
        .collect()
}

/// A CONNECT proxy on loopback that lets tunnels to the token host only, and answers them
/// itself: TLS with the test CA's certificate, then the token endpoint over HTTP/1.1. Returns
/// the proxy's URL.
async fn proxy(endpoint: Arc<TokenEndpoint>, tls: rustls::ServerConfig) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    tokio::spawn(async move {
        loop {
            let (mut tcp, _) = listener.accept().await.unwrap();
            let endpoint = Arc::clone(&endpoint);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // The client sends nothing past the CONNECT head until it has the answer.
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tcp.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let request_line = head.lines().next().unwrap_or_default().to_owned();
                let mut parts = request_line.split_whitespace();
                let (method, target) = (parts.next(), parts.next().unwrap_or_default());
                endpoint.tunnels.lock().unwrap().push(target.to_owned());
                if method != Some("CONNECT") || target != format!("{TOKEN_HOST}:443") {
                    let _ = tcp.write_all(b"HTTP/1.1 403 Forbidden\r\n\r\n").await;
                    return;
                }
                if tcp
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .await
                    .is_err()
                {
                    return;
                }
                let tls = match acceptor.accept(tcp).await {
                    Ok(tls) => tls,
                    Err(e) => {
                        endpoint
                            .rejections
                            .lock()
                            .unwrap()
                            .push(format!("TLS handshake: {e}"));
                        return;
                    }
                };
                let service = hyper::service::service_fn(
                    move |request: http::Request<hyper::body::Incoming>| {
                        let endpoint = Arc::clone(&endpoint);
                        async move {
                            let (parts, body) = request.into_parts();
                            let body = body.collect().await.map(|b| b.to_bytes());
                            let answer = match body {
                                Ok(body) => endpoint.exchange(
                                    &parts.method,
                                    parts.uri.path(),
                                    parts
                                        .headers
                                        .get(http::header::CONTENT_TYPE)
                                        .and_then(|v| v.to_str().ok()),
                                    &body,
                                ),
                                Err(e) => Err(format!("reading the body: {e}")),
                            };
                            let (status, json) = match answer {
                                Ok(token) => (200, json!({ "id_token": token })),
                                Err(reason) => {
                                    endpoint.rejections.lock().unwrap().push(reason.clone());
                                    (
                                        400,
                                        json!({
                                            "error": "invalid_grant",
                                            "error_description": reason,
                                        }),
                                    )
                                }
                            };
                            Ok::<_, Infallible>(
                                http::Response::builder()
                                    .status(status)
                                    .header(http::header::CONTENT_TYPE, "application/json")
                                    .body(Full::new(Bytes::from(json.to_string())))
                                    .unwrap(),
                            )
                        }
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    format!("http://{addr}")
}

/// A server that answers every call UNIMPLEMENTED, recording the bearer header the client
/// sends by default (`x-serverless-authorization`), or `None` when a call carries none.
async fn recorder() -> (String, Arc<Mutex<Vec<Option<String>>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let record = Arc::clone(&seen);
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let record = Arc::clone(&record);
            tokio::spawn(async move {
                let service = hyper::service::service_fn(
                    move |request: http::Request<hyper::body::Incoming>| {
                        record.lock().unwrap().push(
                            request
                                .headers()
                                .get("x-serverless-authorization")
                                .map(|v| v.to_str().unwrap().to_owned()),
                        );
                        async {
                            Ok::<_, Infallible>(
                                tonic::Status::unimplemented("recorded")
                                    .into_http::<tonic::body::Body>(),
                            )
                        }
                    },
                );
                let _ =
                    hyper::server::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
                        .serve_connection(hyper_util::rt::TokioIo::new(tcp), service)
                        .await;
            });
        }
    });
    (format!("http://{addr}"), seen)
}

async fn call(channel: &Channel) -> Result<String, tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready()
        .await
        .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    grpc.unary(
        tonic::Request::new("x".to_owned()),
        http::uri::PathAndQuery::from_static("/cloudrun.test.Anything/Call"),
        ProstCodec::<String, String>::default(),
    )
    .await
    .map(tonic::Response::into_inner)
}

/// Calls through `channel` many times and checks that every call carried the one ID token the
/// endpoint minted for `audience` in a single exchange.
async fn calls_carry_one_exchanged_token(
    channel: &Channel,
    endpoint: &TokenEndpoint,
    seen: &Mutex<Vec<Option<String>>>,
    audience: &str,
) {
    seen.lock().unwrap().clear();
    let exchanges_before = endpoint.exchanges.load(Ordering::SeqCst);
    for _ in 0..CALLS {
        let status = call(channel).await.unwrap_err();
        assert_eq!(
            status.message(),
            "recorded",
            "{status:?}; the token endpoint turned away: {:?}",
            endpoint.rejections()
        );
    }
    assert_eq!(endpoint.rejections(), Vec::<String>::new());
    assert_eq!(
        endpoint.exchanges.load(Ordering::SeqCst) - exchanges_before,
        1,
        "one exchange serves every call"
    );
    assert_eq!(channel.token_fetches(), 1);
    let token = endpoint.minted().last().unwrap().clone();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), CALLS);
    let expected = format!("Bearer {token}");
    for (i, header) in seen.iter().enumerate() {
        assert_eq!(header.as_deref(), Some(expected.as_str()), "call {i}");
    }
    let claims: Value = jsonwebtoken::dangerous::insecure_decode_claims(&token).unwrap();
    assert_eq!(claims["email"], CLIENT_EMAIL);
    assert_eq!(claims["aud"], audience);
}

#[tokio::test]
async fn a_service_account_key_is_exchanged_once_for_an_id_token_that_every_call_carries() {
    // Verifying the assertion needs jsonwebtoken's process-wide crypto provider.
    let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
    let dir = tempfile::tempdir().unwrap();
    let (key, verifying) = service_account_key();
    let key_file = dir.path().join("key.json");
    std::fs::write(&key_file, key.to_string()).unwrap();
    let (ca_pem, tls) = token_host_tls();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca_pem).unwrap();

    let endpoint = Arc::new(TokenEndpoint {
        google: FakeGoogle::start().await,
        verifying,
        audience: Mutex::new(String::new()),
        tunnels: Mutex::new(Vec::new()),
        exchanges: AtomicUsize::new(0),
        minted: Mutex::new(Vec::new()),
        rejections: Mutex::new(Vec::new()),
    });
    let proxy_url = proxy(Arc::clone(&endpoint), tls).await;
    // SAFETY: this binary's only test, before it starts any client that reads the environment.
    unsafe {
        // The proxy and the CA are the only way to the token host; nothing may bypass them.
        std::env::set_var("HTTPS_PROXY", &proxy_url);
        for variable in [
            "https_proxy",
            "ALL_PROXY",
            "all_proxy",
            "NO_PROXY",
            "no_proxy",
        ] {
            std::env::remove_var(variable);
        }
        std::env::set_var("SSL_CERT_FILE", &ca_file);
        // A directory would be read instead of the file.
        std::env::remove_var("SSL_CERT_DIR");
        // Application Default Credentials must not find a gcloud file of the machine's.
        std::env::set_var("HOME", dir.path());
        std::env::remove_var("GOOGLE_APPLICATION_CREDENTIALS");
    }
    let (url, seen) = recorder().await;

    // The key file named explicitly.
    let audience = "https://keyed-callee.test";
    *endpoint.audience.lock().unwrap() = audience.to_owned();
    let channel = ClientConfig::new(&url)
        .audience(audience)
        .token_source(GoogleIdToken::service_account_key_file(&key_file).unwrap())
        .connect()
        .await
        .unwrap();
    calls_carry_one_exchanged_token(&channel, &endpoint, &seen, audience).await;
    assert_eq!(endpoint.exchanges.load(Ordering::SeqCst), 1);

    // The same key through Application Default Credentials.
    // SAFETY: as above; nothing else runs in this binary.
    unsafe {
        std::env::set_var("GOOGLE_APPLICATION_CREDENTIALS", &key_file);
    }
    let audience = "https://adc-callee.test";
    *endpoint.audience.lock().unwrap() = audience.to_owned();
    let channel = ClientConfig::new(&url)
        .audience(audience)
        .token_source(GoogleIdToken::application_default())
        .connect()
        .await
        .unwrap();
    let source = channel.token_source().unwrap().to_owned();
    assert!(source.contains(&key_file.display().to_string()), "{source}");
    calls_carry_one_exchanged_token(&channel, &endpoint, &seen, audience).await;
    assert_eq!(endpoint.exchanges.load(Ordering::SeqCst), 2);

    // Every token request went through the proxy, to the token host and nowhere else.
    let tunnels = endpoint.tunnels();
    assert!(!tunnels.is_empty());
    assert!(
        tunnels.iter().all(|t| t == "oauth2.googleapis.com:443"),
        "{tunnels:?}"
    );
}
