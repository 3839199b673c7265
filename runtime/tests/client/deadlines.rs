//! Every call has a deadline: the channel's default or the call's own, sent to the server,
//! enforced on the client, bounding retries and streams.

use std::time::{Duration, Instant};

use cloudrun_runtime::client::{ClientConfig, RetryPolicy};
use tonic::Code;

use crate::backend::{Backend, METHODS, READ, unary, watch};

async fn channel(
    backend: &Backend,
    default_timeout: Duration,
) -> cloudrun_runtime::client::Channel {
    ClientConfig::new(backend.http_url())
        .methods(METHODS)
        .default_timeout(default_timeout)
        .connect()
        .await
        .unwrap()
}

#[tokio::test]
async fn calls_without_a_deadline_get_the_default_and_the_server_is_told() {
    let backend = Backend::start().await;
    let channel = channel(&backend, Duration::from_millis(300)).await;

    let started = Instant::now();
    let status = unary(&channel, READ, "sleep:3000", None).await.unwrap_err();
    let took = started.elapsed();
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    assert!(status.message().contains("300 ms"), "{}", status.message());
    assert!(
        took >= Duration::from_millis(290) && took < Duration::from_millis(1500),
        "{took:?}"
    );
    let sent = backend.record.timeouts.lock().unwrap()[0].clone().unwrap();
    assert_eq!(sent, "300000u", "the server learns the deadline");
}

#[tokio::test]
async fn a_per_call_deadline_overrides_the_default_either_way() {
    let backend = Backend::start().await;

    let short_default = channel(&backend, Duration::from_millis(200)).await;
    let answer = unary(
        &short_default,
        READ,
        "sleep:500",
        Some(Duration::from_secs(3)),
    )
    .await;
    assert_eq!(answer.unwrap(), "slept", "a longer per-call deadline wins");

    let long_default = channel(&backend, Duration::from_secs(30)).await;
    let started = Instant::now();
    let status = unary(
        &long_default,
        READ,
        "sleep:3000",
        Some(Duration::from_millis(150)),
    )
    .await
    .unwrap_err();
    assert_eq!(status.code(), Code::DeadlineExceeded);
    assert!(started.elapsed() < Duration::from_millis(1500));
}

#[tokio::test]
async fn a_stream_that_outlives_its_deadline_ends_with_deadline_exceeded() {
    let backend = Backend::start().await;
    let channel = channel(&backend, Duration::from_millis(300)).await;

    let started = Instant::now();
    let (items, end) = watch(&channel).await;
    assert_eq!(items, ["1"]);
    let status = end.unwrap_err();
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    assert!(started.elapsed() < Duration::from_millis(2000));
}

#[tokio::test]
async fn retries_never_outlive_the_deadline() {
    let backend = Backend::start().await;
    let channel = ClientConfig::new(backend.http_url())
        .methods(METHODS)
        .default_timeout(Duration::from_millis(400))
        .retry_policy(
            RetryPolicy::default()
                .max_attempts(1000)
                .initial_backoff(Duration::from_millis(50))
                .max_backoff(Duration::from_millis(50)),
        )
        .connect()
        .await
        .unwrap();
    backend
        .record
        .unavailable_first
        .store(1_000_000, std::sync::atomic::Ordering::SeqCst);

    let started = Instant::now();
    let status = unary(&channel, READ, "x", None).await.unwrap_err();
    assert!(
        matches!(status.code(), Code::Unavailable | Code::DeadlineExceeded),
        "{status:?}"
    );
    assert!(
        started.elapsed() < Duration::from_millis(1000),
        "{:?}",
        started.elapsed()
    );
    let attempts = backend
        .record
        .reads
        .load(std::sync::atomic::Ordering::SeqCst);
    assert!(attempts > 2, "it did retry: {attempts}");
    // Retries tell the server the time that is left, not the original deadline.
    let timeouts = backend.record.timeouts.lock().unwrap().clone();
    let last = timeouts.last().unwrap().clone().unwrap();
    assert_ne!(last, "400000u", "{timeouts:?}");
}
