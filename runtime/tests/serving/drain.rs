//! The graceful shutdown, driven through the builder's hook (the path SIGTERM takes; the
//! signal itself is tested in tests/process.rs).

use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::net::TcpStream;
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

use crate::harness::TestServer;
use crate::probe::{COUNT_PATH, ECHO_PATH, count, echo};

#[tokio::test]
async fn in_flight_calls_finish_new_connections_are_refused_and_serve_returns_ok() {
    let mut server = TestServer::start_with(|s| s.shutdown_grace(Duration::from_secs(5))).await;
    let channel = server.channel().await;
    let in_flight = tokio::spawn({
        let channel = channel.clone();
        async move { echo(&channel, "sleep:400").await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    server.shut_down();

    assert_eq!(in_flight.await.unwrap().unwrap(), "slept");
    server.finished(Duration::from_secs(5)).await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "drained in {:?}",
        started.elapsed()
    );
    assert!(
        TcpStream::connect(server.addr).await.is_err(),
        "the listener is closed"
    );

    let done = server
        .logs
        .wait_for("shutdown complete", |l| l["message"] == "shutdown complete")
        .await;
    assert_eq!(done["drained"], true);
    assert_eq!(done["cut"], 0);
    let call = server
        .logs
        .wait_for("for the drained call", |l| l["method"] == ECHO_PATH)
        .await;
    assert_eq!(call["code"], "OK");
}

#[tokio::test]
async fn health_turns_not_serving_as_soon_as_the_drain_starts() {
    let mut server = TestServer::start_with(|s| s.shutdown_grace(Duration::from_secs(5))).await;
    let channel = server.channel().await;
    let mut health = HealthClient::new(channel.clone());
    // Keep the drain open with a call in flight, then check health on a stream opened before
    // the GOAWAY took effect: the connection stays up for the in-flight call.
    let in_flight = tokio::spawn({
        let channel = channel.clone();
        async move { echo(&channel, "sleep:600").await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut watch = health
        .watch(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        watch.message().await.unwrap().unwrap().status,
        1,
        "SERVING before"
    );
    server.shut_down();
    let after = watch.message().await.unwrap().expect("a change");
    assert_eq!(after.status, 2, "NOT_SERVING after");
    in_flight.await.unwrap().unwrap();
    server.finished(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn the_drain_sends_goaway_so_an_open_connection_takes_no_new_streams() {
    let mut server = TestServer::start_with(|s| s.shutdown_grace(Duration::from_secs(5))).await;
    let tcp = TcpStream::connect(server.addr).await.unwrap();
    let (client, connection) = h2::client::handshake(tcp).await.unwrap();
    let connection = tokio::spawn(connection);
    let mut client = client.ready().await.unwrap();

    // One stream in flight keeps the connection open through the drain.
    let uri = server.uri();
    let request = |path: &str| {
        http::Request::post(format!("{uri}{path}"))
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .body(())
            .unwrap()
    };
    let (long, mut send) = client.send_request(request(ECHO_PATH), false).unwrap();
    // "sleep:800" as a length-prefixed protobuf string (field 1).
    send.send_data(
        Bytes::from_static(b"\x00\x00\x00\x00\x0b\x0a\x09sleep:800"),
        true,
    )
    .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;

    server.shut_down();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // A stream opened after the GOAWAY is refused, by the client library itself or the server.
    let refused = match client.clone().ready().await {
        Err(_) => true,
        Ok(mut c) => match c.send_request(request(ECHO_PATH), true) {
            Err(_) => true,
            Ok((response, _)) => response.await.is_err(),
        },
    };
    assert!(refused, "a new stream was accepted after GOAWAY");

    // The in-flight one still completes with OK.
    let response = long.await.unwrap();
    let mut body = response.into_body();
    while let Some(chunk) = body.data().await {
        chunk.unwrap();
    }
    let trailers = body.trailers().await.unwrap().unwrap();
    assert_eq!(trailers["grpc-status"], "0");
    server.finished(Duration::from_secs(5)).await.unwrap();
    let _ = connection.await;
}

#[tokio::test]
async fn calls_still_running_at_the_deadline_are_cut_and_logged() {
    let mut server = TestServer::start_with(|s| s.shutdown_grace(Duration::from_millis(300))).await;
    let channel = server.channel().await;
    let unary = tokio::spawn({
        let channel = channel.clone();
        async move { echo(&channel, "sleep:60000").await }
    });
    let stream = tokio::spawn({
        let channel = channel.clone();
        async move { count(&channel, "forever").await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    server.shut_down();
    server.finished(Duration::from_secs(5)).await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );

    let err = unary.await.unwrap().unwrap_err();
    assert!(
        matches!(
            err.code(),
            Code::Unavailable | Code::Unknown | Code::Internal | Code::Cancelled
        ),
        "{err:?}"
    );
    let (items, end) = stream.await.unwrap();
    assert_eq!(items, ["1"]);
    assert!(end.is_err());

    for method in [ECHO_PATH, COUNT_PATH] {
        let line = server
            .logs
            .wait_for("for the cut call", |l| {
                l["method"] == method && l["code"] == "UNAVAILABLE"
            })
            .await;
        assert_eq!(line["severity"], "WARNING");
        assert!(
            line["statusMessage"].as_str().unwrap().starts_with("cut:"),
            "{line}"
        );
    }
    let done = server
        .logs
        .wait_for("shutdown complete", |l| l["message"] == "shutdown complete")
        .await;
    assert_eq!(done["drained"], false);
    assert_eq!(done["cut"], 2);
}

#[tokio::test]
async fn a_call_cancelled_by_its_client_is_logged_as_cancelled() {
    let server = TestServer::start().await;
    let channel = server.channel().await;
    let call = tokio::spawn({
        let channel = channel.clone();
        async move { echo(&channel, "sleep:60000").await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    call.abort();
    let line = server
        .logs
        .wait_for("for the cancelled call", |l| {
            l["method"] == ECHO_PATH && l["code"] == "CANCELLED"
        })
        .await;
    assert_eq!(line["severity"], "INFO");
}
