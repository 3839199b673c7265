use std::time::Duration;

use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};

use crate::harness::TestServer;
use crate::probe::{self, PROBE, SECOND};

fn request(service: &str) -> HealthCheckRequest {
    HealthCheckRequest {
        service: service.to_owned(),
    }
}

fn status(response: HealthCheckResponse) -> ServingStatus {
    ServingStatus::try_from(response.status).expect("a known status")
}

#[tokio::test]
async fn the_server_and_every_service_are_serving_and_unknown_names_are_not_found() {
    let server = TestServer::start_with(|s| s.add_service(probe::second_service())).await;
    let mut health = HealthClient::new(server.channel().await);
    for name in ["", PROBE, SECOND] {
        let response = health.check(request(name)).await.unwrap().into_inner();
        assert_eq!(status(response), ServingStatus::Serving, "{name:?}");
    }
    let err = health.check(request("no.such.Service")).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let err = health.watch(request("no.such.Service")).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
}

#[tokio::test]
async fn watch_streams_the_change_to_not_serving_at_shutdown_then_ends_without_holding_the_drain() {
    // A long grace period: the drain must end because the watch ends, not because time ran out.
    let mut server = TestServer::start_with(|s| s.shutdown_grace(Duration::from_secs(30))).await;
    let mut health = HealthClient::new(server.channel().await);
    let mut watch = health.watch(request(PROBE)).await.unwrap().into_inner();
    let first = watch.message().await.unwrap().expect("a first status");
    assert_eq!(status(first), ServingStatus::Serving);

    server.shut_down();
    let next = tokio::time::timeout(Duration::from_secs(5), watch.message())
        .await
        .expect("a status change within 5 s")
        .unwrap()
        .expect("the change, not the end of the stream");
    assert_eq!(status(next), ServingStatus::NotServing);
    let end = tokio::time::timeout(Duration::from_secs(5), watch.message())
        .await
        .expect("the stream ends within 5 s");
    assert!(matches!(end, Ok(None)), "the watch ends cleanly: {end:?}");

    server.finished(Duration::from_secs(5)).await.unwrap();
    let done = server
        .logs
        .wait_for("shutdown complete", |l| l["message"] == "shutdown complete")
        .await;
    assert_eq!(done["drained"], true, "{done}");
}
