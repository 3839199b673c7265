//! Tokens from a (fake) metadata server: fetched once per lifetime, refreshed before expiry,
//! replaced after `UNAUTHENTICATED`, and failures that say where and why.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cloudrun_fake_google::{FakeGoogle, MetadataBehaviour};
use cloudrun_runtime::client::{ClientConfig, GoogleIdToken, StaticToken, Token, TokenHeader};
use tonic::Code;

use crate::backend::{Backend, READ, WRITE, unary};
use crate::{claims_of, metadata_channel};

#[tokio::test]
async fn a_thousand_concurrent_calls_cost_one_token_fetch() {
    let google = FakeGoogle::start().await;
    let backend = Backend::start().await;
    let channel = metadata_channel(&backend, &google).await;

    // 50 tasks start at once with an empty cache: they must share the first fetch.
    let mut tasks = Vec::new();
    for task in 0..50 {
        let channel = channel.clone();
        tasks.push(tokio::spawn(async move {
            for call in 0..20 {
                let text = format!("{task}-{call}");
                let answer = unary(&channel, READ, &text, None)
                    .await
                    .expect("the call succeeds");
                assert_eq!(answer, text);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }

    assert_eq!(google.identity_fetches(), 1, "one fetch for 1,000 calls");
    assert_eq!(channel.token_fetches(), 1);
    let seen = backend.record.authorizations();
    assert_eq!(seen.len(), 1000);
    let distinct: HashSet<_> = seen.iter().collect();
    assert_eq!(distinct.len(), 1, "every call carried the same token");
    let claims = claims_of(seen[0].as_deref().expect("calls carry a token"));
    assert_eq!(claims["aud"], "https://backend.test");
    assert_eq!(
        claims["email"],
        cloudrun_fake_google::DEFAULT_SERVICE_ACCOUNT
    );
    assert_eq!(google.identity_audiences(), ["https://backend.test"]);
}

#[tokio::test]
async fn the_token_travels_in_x_serverless_authorization_unless_told_otherwise() {
    let backend = Backend::start().await;
    let config = || {
        ClientConfig::new(backend.http_url())
            .methods(crate::backend::METHODS)
            .token_source(StaticToken::new(Token::new("opaque-token")))
    };
    let default = config().connect().await.unwrap();
    let classic = config()
        .token_header(TokenHeader::Authorization)
        .connect()
        .await
        .unwrap();
    unary(&default, READ, "a", None).await.unwrap();
    unary(&classic, READ, "b", None).await.unwrap();
    // The backend reads x-serverless-authorization first: the classic call had none.
    assert_eq!(
        backend.record.token_headers(),
        [Some("x-serverless-authorization"), Some("authorization")]
    );
    assert_eq!(
        backend.record.authorizations(),
        [
            Some("Bearer opaque-token".to_owned()),
            Some("Bearer opaque-token".to_owned())
        ]
    );
}

#[tokio::test]
async fn short_lived_tokens_are_replaced_before_they_expire_without_making_calls_wait() {
    let google = FakeGoogle::start().await;
    google.set_token_lifetime(Duration::from_secs(4));
    let backend = Backend::start().await;
    let channel = metadata_channel(&backend, &google).await;

    // Call every 50 ms until well past the first token's expiry; each call must carry a token
    // that is still valid when it is sent.
    let mut first_exp: Option<u64> = None;
    let mut slowest = Duration::ZERO;
    let mut distinct = HashSet::new();
    loop {
        let call = Instant::now();
        unary(&channel, READ, "x", None)
            .await
            .expect("the call succeeds");
        slowest = slowest.max(call.elapsed());
        let sent_ms = unix_millis();
        let seen = backend.record.authorizations();
        let authorization = seen.last().unwrap().clone().unwrap();
        let exp = claims_of(&authorization)["exp"].as_u64().unwrap();
        assert!(
            exp * 1000 > sent_ms,
            "a call carried a token that had expired (exp {exp}, sent at {sent_ms} ms)"
        );
        distinct.insert(authorization);
        let first = *first_exp.get_or_insert(exp);
        if sent_ms > (first + 1) * 1000 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let fetches = google.identity_fetches();
    assert!(
        (2..=6).contains(&fetches),
        "tokens living ~4 s are refreshed halfway through their life: {fetches} fetches"
    );
    assert!(distinct.len() >= 2, "the token was replaced");
    assert!(
        slowest < Duration::from_millis(1000),
        "refreshing happens in the background; the slowest call took {slowest:?}"
    );
}

fn unix_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

#[tokio::test]
async fn unauthenticated_makes_the_client_fetch_a_new_token_and_retry_once() {
    let google = FakeGoogle::start().await;
    let backend = Backend::start().await;
    let channel = metadata_channel(&backend, &google).await;

    unary(&channel, WRITE, "warm-up", None).await.unwrap();
    assert_eq!(google.identity_fetches(), 1);
    // JWTs count whole seconds: wait for the next second so the new token differs.
    tokio::time::sleep(Duration::from_millis(1100)).await;

    // The server now revokes the token it sees first: the call is answered UNAUTHENTICATED,
    // the client fetches a fresh token and repeats the call, which then succeeds. Write is not
    // idempotent: the retry is safe because the server rejected the call before running it.
    *backend.record.reject_first_sight.lock().unwrap() = true;
    let answer = unary(&channel, WRITE, "after-revocation", None).await;
    assert_eq!(answer.unwrap(), "after-revocation");
    assert_eq!(google.identity_fetches(), 2);
    let seen = backend.record.authorizations();
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[0], seen[1], "the revoked token was the cached one");
    assert_ne!(seen[1], seen[2], "the retry carried a fresh token");
}

#[tokio::test]
async fn a_second_unauthenticated_answer_is_final() {
    let google = FakeGoogle::start().await;
    let backend = Backend::start().await;
    let channel = metadata_channel(&backend, &google).await;
    *backend.record.reject_all.lock().unwrap() = true;

    let status = unary(&channel, READ, "x", None).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(status.message(), "every token is refused");
    assert_eq!(backend.record.calls(), 2, "one call and one retry, no loop");
    assert_eq!(google.identity_fetches(), 2);
}

#[tokio::test]
async fn without_a_token_calls_fail_fast_naming_the_source_and_the_reason_then_recover() {
    let google = FakeGoogle::start().await;
    google.set_metadata_behaviour(MetadataBehaviour::Fail(
        404,
        "no service account is attached to this instance".into(),
    ));
    let backend = Backend::start().await;
    let channel = metadata_channel(&backend, &google).await;

    let started = Instant::now();
    let status = unary(&channel, READ, "x", None).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    let message = status.message();
    assert!(
        message.contains(&format!(
            "from the metadata server at {}",
            google.metadata_endpoint()
        )),
        "{message}"
    );
    assert!(message.contains("\"https://backend.test\""), "{message}");
    assert!(message.contains("404"), "{message}");
    assert!(
        message.contains("no service account is attached"),
        "{message}"
    );
    assert!(started.elapsed() < Duration::from_secs(2), "fails fast");
    assert_eq!(backend.record.calls(), 0, "nothing is sent without a token");

    // A burst of calls right after shares the failure instead of queueing fetches.
    for _ in 0..20 {
        let status = unary(&channel, READ, "x", None).await.unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated);
    }
    assert_eq!(google.identity_fetches(), 1);

    // Once the metadata server works again, so do calls.
    google.set_metadata_behaviour(MetadataBehaviour::Tokens);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(unary(&channel, READ, "back", None).await.unwrap(), "back");
}

#[tokio::test]
async fn an_unreachable_metadata_server_is_named_in_the_failure() {
    // A port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let backend = Backend::start().await;
    let channel = ClientConfig::new(backend.http_url())
        .audience("https://backend.test")
        .token_source(GoogleIdToken::metadata_server_at(endpoint.clone()))
        .connect()
        .await
        .unwrap();

    let status = unary(&channel, READ, "x", None).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert!(
        status
            .message()
            .contains(&format!("from the metadata server at {endpoint}")),
        "{}",
        status.message()
    );
    assert_eq!(backend.record.calls(), 0);
}

#[tokio::test]
async fn clones_share_one_cache() {
    let google = FakeGoogle::start().await;
    let backend = Backend::start().await;
    let channel = Arc::new(metadata_channel(&backend, &google).await);
    let clones: Vec<_> = (0..8).map(|_| (*channel).clone()).collect();
    for clone in &clones {
        unary(clone, READ, "x", None).await.unwrap();
    }
    assert_eq!(google.identity_fetches(), 1);
}
