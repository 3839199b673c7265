//! Server-side deadlines from `grpc-timeout`.
//!
//! The calls go over a bare HTTP/2 client: tonic's client would enforce the same header itself
//! and race the server to end the call, so what the server answered would not be observable.

use std::time::Duration;

use tokio::net::TcpStream;

use crate::harness::{Reply, TestServer, raw_call};
use crate::probe::{COUNT_PATH, ECHO_PATH};

/// Longer than any deadline here, shorter than the calls that must be cut.
const CALL_LIMIT: Duration = Duration::from_secs(4);

/// One call on a fresh connection; fails the test if it has not ended within [`CALL_LIMIT`].
async fn call(server: &TestServer, path: &str, text: &str, headers: &[(&str, &str)]) -> Reply {
    let tcp = TcpStream::connect(server.addr).await.unwrap();
    tokio::time::timeout(
        CALL_LIMIT,
        raw_call(tcp, &server.uri(), path, text, headers),
    )
    .await
    .unwrap_or_else(|_| {
        panic!("{path} {text:?} with {headers:?} still running after {CALL_LIMIT:?}")
    })
}

#[tokio::test]
async fn a_unary_call_past_its_grpc_timeout_ends_with_deadline_exceeded_and_is_logged_so() {
    let server = TestServer::start().await;
    // The same deadline in three units (8 digits at most).
    for timeout in ["90m", "90000u", "90000000n"] {
        let reply = call(
            &server,
            ECHO_PATH,
            "sleep:5000",
            &[("grpc-timeout", timeout)],
        )
        .await;
        assert_eq!(reply.status, "4", "grpc-timeout {timeout}: {reply:?}");
        assert!(
            reply.elapsed >= Duration::from_millis(90) && reply.elapsed < Duration::from_secs(3),
            "grpc-timeout {timeout}: ended after {:?}",
            reply.elapsed
        );
    }
    let line = server
        .logs
        .wait_for("for the call past its deadline", |l| {
            l["method"] == ECHO_PATH && l["code"] == "DEADLINE_EXCEEDED"
        })
        .await;
    assert_eq!(line["severity"], "WARNING", "{line}");
    assert_eq!(line["codeNumber"], 4, "{line}");
    assert!(
        line["statusMessage"]
            .as_str()
            .is_some_and(|m| m.contains("grpc-timeout")),
        "{line}"
    );
    assert_eq!(
        server
            .logs
            .calls(ECHO_PATH)
            .iter()
            .filter(|l| l["code"] == "DEADLINE_EXCEEDED")
            .count(),
        3,
        "one line per call"
    );
}

#[tokio::test]
async fn a_stream_past_its_grpc_timeout_ends_with_deadline_exceeded_after_what_it_sent() {
    let server = TestServer::start().await;
    let reply = call(&server, COUNT_PATH, "forever", &[("grpc-timeout", "300m")]).await;
    assert_eq!(reply.status, "4", "{reply:?}");
    assert_eq!(reply.messages, ["1"]);
    assert!(
        reply.elapsed < Duration::from_secs(3),
        "ended after {:?}",
        reply.elapsed
    );
    server
        .logs
        .wait_for("for the stream past its deadline", |l| {
            l["method"] == COUNT_PATH && l["code"] == "DEADLINE_EXCEEDED"
        })
        .await;
}

#[tokio::test]
async fn calls_within_their_grpc_timeout_and_malformed_values_are_left_alone() {
    let server = TestServer::start().await;
    let reply = call(&server, ECHO_PATH, "sleep:50", &[("grpc-timeout", "10S")]).await;
    assert_eq!(
        (reply.status.as_str(), &reply.messages[..]),
        ("0", &["slept".to_owned()][..])
    );
    let reply = call(&server, COUNT_PATH, "3", &[("grpc-timeout", "1M")]).await;
    assert_eq!(reply.status, "0", "{reply:?}");
    assert_eq!(reply.messages, ["1", "2", "3"]);

    // Malformed values are ignored, as tonic's server ignores them: no deadline at all.
    for malformed in ["1x", "123456789m", "m", "1.5S", "-1m"] {
        let reply = call(
            &server,
            ECHO_PATH,
            "sleep:200",
            &[("grpc-timeout", malformed)],
        )
        .await;
        assert_eq!(reply.status, "0", "grpc-timeout {malformed:?}: {reply:?}");
        assert_eq!(reply.messages, ["slept"], "grpc-timeout {malformed:?}");
    }
}
