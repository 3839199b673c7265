//! `UNAVAILABLE` is retried with backoff for methods that are safe to repeat, and only for them.

use std::time::Duration;

use cloudrun_runtime::client::{ClientConfig, RetryPolicy, StaticToken, Token};
use tokio::net::TcpListener;
use tonic::Code;

use crate::backend::{Backend, METHODS, READ, WRITE, unary, upload};

async fn channel(backend: &Backend) -> cloudrun_runtime::client::Channel {
    ClientConfig::new(backend.http_url())
        .methods(METHODS)
        .retry_policy(RetryPolicy::default().initial_backoff(Duration::from_millis(20)))
        .connect()
        .await
        .unwrap()
}

#[tokio::test]
async fn unavailable_is_retried_for_a_method_without_side_effects() {
    let backend = Backend::start().await;
    let channel = channel(&backend).await;
    backend
        .record
        .unavailable_first
        .store(2, std::sync::atomic::Ordering::SeqCst);

    assert_eq!(unary(&channel, READ, "x", None).await.unwrap(), "x");
    assert_eq!(
        backend
            .record
            .reads
            .load(std::sync::atomic::Ordering::SeqCst),
        3
    );
}

#[tokio::test]
async fn unavailable_is_final_for_a_method_that_may_have_side_effects() {
    let backend = Backend::start().await;
    let channel = channel(&backend).await;
    backend
        .record
        .unavailable_first
        .store(2, std::sync::atomic::Ordering::SeqCst);

    let status = unary(&channel, WRITE, "x", None).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(status.message(), "scaling in, try again");
    assert_eq!(
        backend
            .record
            .writes
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );
}

#[tokio::test]
async fn a_method_marked_idempotent_in_the_config_is_retried() {
    let backend = Backend::start().await;
    let channel = ClientConfig::new(backend.http_url())
        .methods(METHODS)
        .idempotent_method(WRITE)
        .retry_policy(RetryPolicy::default().initial_backoff(Duration::from_millis(20)))
        .connect()
        .await
        .unwrap();
    backend
        .record
        .unavailable_first
        .store(2, std::sync::atomic::Ordering::SeqCst);

    assert_eq!(unary(&channel, WRITE, "x", None).await.unwrap(), "x");
    assert_eq!(
        backend
            .record
            .writes
            .load(std::sync::atomic::Ordering::SeqCst),
        3
    );
}

#[tokio::test]
async fn retries_stop_after_the_policys_attempts() {
    let backend = Backend::start().await;
    let channel = channel(&backend).await;
    backend
        .record
        .unavailable_first
        .store(100, std::sync::atomic::Ordering::SeqCst);

    let status = unary(&channel, READ, "x", None).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(
        backend
            .record
            .reads
            .load(std::sync::atomic::Ordering::SeqCst),
        4
    );
}

#[tokio::test]
async fn a_server_that_is_not_up_yet_is_retried_for_reads_but_not_for_writes() {
    // Reserve a port, then free it: nothing listens there until the backend starts.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let address = format!("http://127.0.0.1:{port}");
    let policy = RetryPolicy::default()
        .max_attempts(20)
        .initial_backoff(Duration::from_millis(50))
        .max_backoff(Duration::from_millis(100));
    let reads = ClientConfig::new(&address)
        .methods(METHODS)
        .retry_policy(policy.clone())
        .connect()
        .await
        .unwrap();
    let writes = ClientConfig::new(&address)
        .methods(METHODS)
        .retry_policy(policy)
        .connect()
        .await
        .unwrap();

    let status = unary(&writes, WRITE, "x", None).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");

    let starter = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        Backend::start_on(listener, None).await
    });
    assert_eq!(unary(&reads, READ, "late", None).await.unwrap(), "late");
    let backend = starter.await.unwrap();
    assert_eq!(
        backend
            .record
            .writes
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
}

#[tokio::test]
async fn client_streaming_calls_pass_through_with_the_token_and_are_never_replayed() {
    let backend = Backend::start().await;
    let channel = ClientConfig::new(backend.http_url())
        .methods(METHODS)
        .token_source(StaticToken::new(Token::new("stream-token")))
        .connect()
        .await
        .unwrap();

    assert_eq!(upload(&channel, &["a", "b", "c"]).await.unwrap(), "a+b+c");
    assert_eq!(
        backend.record.authorizations(),
        [Some("Bearer stream-token".to_owned())]
    );

    backend
        .record
        .unavailable_first
        .store(1, std::sync::atomic::Ordering::SeqCst);
    let status = upload(&channel, &["a"]).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(
        backend
            .record
            .uploads
            .load(std::sync::atomic::Ordering::SeqCst),
        2
    );
}

#[tokio::test]
async fn calls_keep_working_when_the_server_goes_away_and_comes_back() {
    // Scale-in: the instance says GOAWAY and closes; the next instance answers on the same
    // address. Reads carry on.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let first = Backend::start_on(listener, None).await;
    let channel = ClientConfig::new(format!("http://{addr}"))
        .methods(METHODS)
        .retry_policy(
            RetryPolicy::default()
                .max_attempts(10)
                .initial_backoff(Duration::from_millis(50)),
        )
        .connect()
        .await
        .unwrap();
    assert_eq!(unary(&channel, READ, "one", None).await.unwrap(), "one");
    drop(first);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let second = Backend::start_on(TcpListener::bind(addr).await.unwrap(), None).await;
    assert_eq!(unary(&channel, READ, "two", None).await.unwrap(), "two");
    assert_eq!(
        second
            .record
            .reads
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );
}
