//! Per-call behaviour: the log line, panics, bad input, message-size limits.

use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tonic::Code;

use crate::harness::{PROJECT, TestServer, raw_call};
use crate::probe::{self, COUNT_PATH, ECHO_PATH, PANIC_TEXT, call_echo, count, echo};

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

fn is_call(line: &Value, method: &str, code: &str) -> bool {
    line["method"] == method && line["code"] == code
}

#[tokio::test]
async fn every_line_is_cloud_logging_json_and_the_start_up_line_names_the_port() {
    let server = TestServer::start().await;
    echo(&server.channel().await, "hello").await.unwrap();
    server
        .logs
        .wait_for("for the call", |l| is_call(l, ECHO_PATH, "OK"))
        .await;
    let lines = server.logs.lines();
    for line in &lines {
        for key in ["severity", "message", "time"] {
            assert!(line.get(key).is_some(), "no {key} in {line}");
        }
    }
    let start = &lines[0];
    assert_eq!(start["port"], u64::from(server.addr.port()), "{start}");
    assert_eq!(start["severity"], "INFO");
    assert_eq!(start["services"], probe::PROBE);
}

#[tokio::test]
async fn a_unary_call_logs_method_code_latency_and_the_traceparent_trace() {
    let server = TestServer::start().await;
    let channel = server.channel().await;
    let traceparent = format!("00-{TRACE_ID}-00f067aa0ba902b7-01");
    call_echo(&channel, ECHO_PATH, "hi", &[("traceparent", &traceparent)])
        .await
        .unwrap();
    let line = server
        .logs
        .wait_for("for the call", |l| is_call(l, ECHO_PATH, "OK"))
        .await;
    assert_eq!(line["severity"], "INFO");
    assert_eq!(line["codeNumber"], 0);
    assert!(
        line["latencyMs"].as_f64().is_some_and(|ms| ms >= 0.0),
        "{line}"
    );
    assert!(
        line["message"]
            .as_str()
            .unwrap()
            .starts_with("/cloudrun.test.Probe/Echo OK "),
        "{line}"
    );
    assert_eq!(
        line["logging.googleapis.com/trace"],
        format!("projects/{PROJECT}/traces/{TRACE_ID}")
    );
    assert_eq!(line["logging.googleapis.com/spanId"], "00f067aa0ba902b7");
    assert_eq!(line["logging.googleapis.com/trace_sampled"], true);
}

#[tokio::test]
async fn the_cloud_trace_header_is_read_when_there_is_no_traceparent() {
    let server = TestServer::start().await;
    let channel = server.channel().await;
    let header = format!("{TRACE_ID}/1311768467294899695;o=0");
    call_echo(
        &channel,
        ECHO_PATH,
        "fail:5",
        &[("x-cloud-trace-context", &header)],
    )
    .await
    .unwrap_err();
    let line = server
        .logs
        .wait_for("for the call", |l| is_call(l, ECHO_PATH, "NOT_FOUND"))
        .await;
    assert_eq!(line["codeNumber"], 5);
    assert_eq!(line["severity"], "INFO");
    assert_eq!(line["statusMessage"], "failed on purpose");
    assert_eq!(
        line["logging.googleapis.com/trace"],
        format!("projects/{PROJECT}/traces/{TRACE_ID}")
    );
    assert_eq!(line["logging.googleapis.com/spanId"], "1234567890abcdef");
    assert!(
        line.get("logging.googleapis.com/trace_sampled").is_none(),
        "{line}"
    );
}

#[tokio::test]
async fn without_a_project_id_calls_carry_no_trace() {
    let server = TestServer::start_with(|s| s.project_id(None)).await;
    let traceparent = format!("00-{TRACE_ID}-00f067aa0ba902b7-01");
    call_echo(
        &server.channel().await,
        ECHO_PATH,
        "hi",
        &[("traceparent", &traceparent)],
    )
    .await
    .unwrap();
    let line = server
        .logs
        .wait_for("for the call", |l| is_call(l, ECHO_PATH, "OK"))
        .await;
    assert!(line.get("logging.googleapis.com/trace").is_none(), "{line}");
}

#[tokio::test]
async fn a_streaming_call_logs_the_final_status_from_its_trailers() {
    let server = TestServer::start().await;
    let channel = server.channel().await;
    let (items, end) = count(&channel, "3").await;
    assert_eq!(items, ["1", "2", "3"]);
    end.unwrap();
    server
        .logs
        .wait_for("for the good stream", |l| is_call(l, COUNT_PATH, "OK"))
        .await;

    let (items, end) = count(&channel, "5,fail@3").await;
    assert_eq!(items, ["1", "2"]);
    assert_eq!(end.unwrap_err().code(), Code::NotFound);
    let line = server
        .logs
        .wait_for("for the failed stream", |l| {
            is_call(l, COUNT_PATH, "NOT_FOUND")
        })
        .await;
    assert_eq!(line["statusMessage"], "no item 3");
}

#[tokio::test]
async fn an_unknown_method_is_unimplemented_and_logged() {
    let server = TestServer::start().await;
    let err = call_echo(
        &server.channel().await,
        "/cloudrun.test.Probe/Nope",
        "x",
        &[],
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), Code::Unimplemented);
    let err = call_echo(&server.channel().await, "/no.Such/Method", "x", &[])
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unimplemented);
    let line = server
        .logs
        .wait_for("for the unknown service", |l| {
            is_call(l, "/no.Such/Method", "UNIMPLEMENTED")
        })
        .await;
    assert_eq!(line["severity"], "ERROR");
}

#[tokio::test]
async fn handlers_see_both_ends_of_their_connection_as_under_tonic_s_server() {
    let server = TestServer::start().await;
    let tcp = TcpStream::connect(server.addr).await.unwrap();
    let client = tcp.local_addr().unwrap();
    let reply = raw_call(tcp, &server.uri(), ECHO_PATH, "peer", &[]).await;
    assert_eq!(reply.status, "0", "{reply:?}");
    assert_eq!(
        reply.messages,
        [format!("remote={client} local={}", server.addr)]
    );
    assert!(client.ip().is_loopback(), "{client}");

    // Every call on a connection sees the same addresses.
    let channel = server.channel().await;
    let first = echo(&channel, "peer").await.unwrap();
    assert!(first.starts_with("remote=127.0.0.1:"), "{first}");
    assert!(
        first.ends_with(&format!(" local={}", server.addr)),
        "{first}"
    );
    assert_eq!(echo(&channel, "peer").await.unwrap(), first);
}

#[tokio::test]
async fn a_panicking_handler_gives_internal_is_logged_at_error_and_the_next_call_succeeds() {
    let server = TestServer::start().await;
    let channel = server.channel().await;
    let err = echo(&channel, "panic").await.unwrap_err();
    assert_eq!(err.code(), Code::Internal);
    assert_eq!(err.message(), "internal error: the handler panicked");
    assert_eq!(echo(&channel, "still here").await.unwrap(), "still here");

    let line = server
        .logs
        .wait_for("for the panic", |l| is_call(l, ECHO_PATH, "INTERNAL"))
        .await;
    assert_eq!(line["severity"], "ERROR");
    assert_eq!(line["panic"], PANIC_TEXT);
}

#[tokio::test]
async fn a_panic_inside_a_stream_ends_that_stream_with_internal_and_spares_the_others() {
    let server = TestServer::start().await;
    let channel = server.channel().await;
    // Same connection, concurrent streams.
    let (panicking, healthy) = tokio::join!(count(&channel, "5,panic@3"), count(&channel, "50"));
    let (items, end) = panicking;
    assert_eq!(items, ["1", "2"]);
    let err = end.unwrap_err();
    assert_eq!(err.code(), Code::Internal, "{err:?}");
    let (items, end) = healthy;
    assert_eq!(items.len(), 50);
    end.unwrap();
    assert_eq!(echo(&channel, "after").await.unwrap(), "after");

    let line = server
        .logs
        .wait_for("for the stream panic", |l| {
            is_call(l, COUNT_PATH, "INTERNAL")
        })
        .await;
    assert_eq!(line["severity"], "ERROR");
    assert_eq!(line["panic"], format!("{PANIC_TEXT} at item 3"));
}

/// Sends one raw gRPC request body on a fresh HTTP/2 connection; returns the grpc-status the
/// server answered with (from headers or trailers).
async fn call_with_raw_body(server: &TestServer, path: &str, body: &'static [u8]) -> String {
    let tcp = TcpStream::connect(server.addr).await.unwrap();
    let (client, connection) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(connection);
    let mut client = client.ready().await.unwrap();
    let request = http::Request::post(format!("{}{path}", server.uri()))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(())
        .unwrap();
    let (response, mut send) = client.send_request(request, false).unwrap();
    send.send_data(Bytes::from_static(body), true).unwrap();
    let response = response.await.unwrap();
    assert_eq!(response.status(), http::StatusCode::OK);
    if let Some(status) = response.headers().get("grpc-status") {
        return status.to_str().unwrap().to_owned();
    }
    let mut body = response.into_body();
    while let Some(chunk) = body.data().await {
        chunk.unwrap();
    }
    let trailers = body.trailers().await.unwrap().expect("trailers");
    trailers["grpc-status"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn garbage_request_bytes_get_an_error_status_and_the_server_keeps_serving() {
    let server = TestServer::start().await;
    let cases: [(&str, &'static [u8]); 4] = [
        ("not protobuf", b"\x00\x00\x00\x00\x05\xff\xff\xff\xff\xff"),
        ("a frame longer than the body", b"\x00\x00\x00\x00\x64abc"),
        (
            "compressed without an encoding",
            b"\x01\x00\x00\x00\x02\x0a\x00",
        ),
        ("half a frame header", b"\x00\x00"),
    ];
    for (what, body) in cases {
        let status = call_with_raw_body(&server, ECHO_PATH, body).await;
        assert_ne!(status, "0", "{what} was accepted");
    }
    assert_eq!(echo(&server.channel().await, "fine").await.unwrap(), "fine");
}

#[tokio::test]
async fn an_http1_request_is_refused_and_the_server_keeps_serving() {
    let server = TestServer::start().await;
    let mut tcp = TcpStream::connect(server.addr).await.unwrap();
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut reply = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut reply)).await;
    assert!(
        !reply.starts_with(b"HTTP/1"),
        "answered HTTP/1: {:?}",
        String::from_utf8_lossy(&reply)
    );
    assert_eq!(echo(&server.channel().await, "fine").await.unwrap(), "fine");
}

#[tokio::test]
async fn message_size_limits_apply_to_requests_and_responses() {
    let server = TestServer::start_with(|s| s.max_decoding_message_size(1024)).await;
    let channel = server.channel().await;
    assert!(echo(&channel, &"x".repeat(900)).await.is_ok());
    let err = echo(&channel, &"x".repeat(2000)).await.unwrap_err();
    assert!(
        matches!(err.code(), Code::OutOfRange | Code::ResourceExhausted),
        "{err:?}"
    );
    assert!(echo(&channel, "small").await.is_ok());

    let server = TestServer::start_with(|s| s.max_encoding_message_size(1024)).await;
    let channel = server.channel().await;
    let err = echo(&channel, &"x".repeat(2000)).await.unwrap_err();
    assert!(
        matches!(err.code(), Code::OutOfRange | Code::ResourceExhausted),
        "{err:?}"
    );
    assert!(echo(&channel, "small").await.is_ok());
}
