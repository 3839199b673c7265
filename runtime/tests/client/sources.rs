//! Token sources other than the metadata server: a static token, a closure, impersonation
//! through the IAM Credentials API, a service-account key; and channels without tokens.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use cloudrun_fake_google::FakeGoogle;
use cloudrun_runtime::client::{
    ClientConfig, GoogleIdToken, StaticToken, Token, TokenError, from_fn,
};
use tonic::Code;

use crate::backend::{Backend, METHODS, READ, unary};
use crate::claims_of;

#[tokio::test]
async fn a_static_token_is_sent_as_is() {
    let backend = Backend::start().await;
    let channel = ClientConfig::new(backend.http_url())
        .methods(METHODS)
        .token_source(StaticToken::new(Token::new("static-abc")))
        .connect()
        .await
        .unwrap();
    for _ in 0..10 {
        unary(&channel, READ, "x", None).await.unwrap();
    }
    assert_eq!(channel.token_fetches(), 1);
    assert!(
        backend
            .record
            .authorizations()
            .iter()
            .all(|a| a.as_deref() == Some("Bearer static-abc"))
    );
}

#[tokio::test]
async fn a_custom_source_is_asked_once_for_the_configured_audience() {
    let backend = Backend::start().await;
    let asked = Arc::new(AtomicUsize::new(0));
    let audiences = Arc::new(std::sync::Mutex::new(Vec::new()));
    let source = {
        let asked = Arc::clone(&asked);
        let audiences = Arc::clone(&audiences);
        from_fn("the test vault", move |audience: String| {
            asked.fetch_add(1, Ordering::SeqCst);
            audiences.lock().unwrap().push(audience.clone());
            async move {
                Ok(Token::with_expiry(
                    format!("vault-{audience}"),
                    SystemTime::now() + Duration::from_secs(600),
                ))
            }
        })
    };
    let channel = ClientConfig::new(backend.http_url())
        .audience("https://users.example.com")
        .token_source(source)
        .connect()
        .await
        .unwrap();
    for _ in 0..10 {
        unary(&channel, READ, "x", None).await.unwrap();
    }
    assert_eq!(asked.load(Ordering::SeqCst), 1);
    assert_eq!(*audiences.lock().unwrap(), ["https://users.example.com"]);
    assert_eq!(
        backend.record.authorizations()[0].as_deref(),
        Some("Bearer vault-https://users.example.com")
    );
    assert_eq!(channel.audience(), Some("https://users.example.com"));
    assert_eq!(channel.token_source(), Some("the test vault"));
}

#[tokio::test]
async fn a_failing_custom_source_is_named_with_its_reason() {
    let backend = Backend::start().await;
    let channel = ClientConfig::new(backend.http_url())
        .audience("https://users.example.com")
        .token_source(from_fn("the test vault", |_audience: String| async {
            Err(TokenError::new("the vault is sealed"))
        }))
        .connect()
        .await
        .unwrap();
    let status = unary(&channel, READ, "x", None).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(
        status.message(),
        "cannot get an ID token for audience \"https://users.example.com\" from the test \
         vault: the vault is sealed"
    );
}

#[tokio::test]
async fn impersonation_mints_tokens_for_the_target_account_through_iam_credentials() {
    let google = FakeGoogle::start().await;
    let backend = Backend::start().await;
    let target = "deployer@fake-project.iam.gserviceaccount.com";
    let config = serde_json::json!({
        "type": "impersonated_service_account",
        "service_account_impersonation_url": google.impersonation_url(target),
        "source_credentials": {
            "type": "authorized_user",
            "client_id": "fake-client-id",
            "client_secret": "fake-client-secret",
            "refresh_token": "fake-refresh-token",
            "token_uri": google.oauth_token_url(),
        },
    });
    let channel = ClientConfig::new(backend.http_url())
        .audience("https://backend.test")
        .token_source(GoogleIdToken::impersonated(config))
        .connect()
        .await
        .unwrap();
    for _ in 0..5 {
        unary(&channel, READ, "x", None).await.unwrap();
    }
    assert_eq!(google.generate_id_token_fetches(), 1);
    let claims = claims_of(backend.record.authorizations()[0].as_deref().unwrap());
    assert_eq!(claims["email"], target);
    assert_eq!(claims["aud"], "https://backend.test");
}

#[tokio::test]
async fn a_broken_service_account_key_is_named_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key.json");
    std::fs::write(
        &path,
        serde_json::json!({
            "type": "service_account",
            "client_email": "caller@fake-project.iam.gserviceaccount.com",
            "private_key_id": "abc",
            "private_key": "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n",
            "project_id": "fake-project",
        })
        .to_string(),
    )
    .unwrap();
    let backend = Backend::start().await;
    let channel = ClientConfig::new(backend.http_url())
        .audience("https://backend.test")
        .token_source(GoogleIdToken::service_account_key_file(&path).unwrap())
        .connect()
        .await
        .unwrap();
    let status = unary(&channel, READ, "x", None).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    let message = status.message();
    assert!(
        message.contains(&format!("from the service-account key {}", path.display())),
        "{message}"
    );
    assert_eq!(backend.record.calls(), 0);

    let missing =
        GoogleIdToken::service_account_key_file(dir.path().join("absent.json")).unwrap_err();
    assert!(missing.reason().contains("absent.json"), "{missing}");
}

#[tokio::test]
async fn plaintext_channels_send_no_token_unless_asked_to() {
    let backend = Backend::start().await;
    // What GRPC_NO_TLS=1 does to an https:// address: h2c on the same port, no token.
    let no_tls = ClientConfig::new(format!("https://{}", backend.addr))
        .plaintext(true)
        .connect()
        .await
        .unwrap();
    assert_eq!(no_tls.audience(), None);
    assert_eq!(no_tls.target(), format!("http://{}", backend.addr));
    unary(&no_tls, READ, "x", None).await.unwrap();

    // An http:// address without an audience: no token either.
    let plain = ClientConfig::new(backend.http_url())
        .connect()
        .await
        .unwrap();
    assert_eq!(plain.audience(), None);
    unary(&plain, READ, "x", None).await.unwrap();

    assert_eq!(backend.record.authorizations(), [None, None]);
}
