use std::collections::BTreeSet;

use prost::Message;
use prost_types::FileDescriptorProto;
use tokio_stream::StreamExt;

use crate::harness::TestServer;
use crate::probe::{self, PROBE, SECOND};

const EXPECTED_SERVICES: [&str; 5] = [
    PROBE,
    SECOND,
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
];

mod v1 {
    pub use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    pub use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    pub use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    pub use tonic_reflection::pb::v1::{ServerReflectionRequest, ServerReflectionResponse};
}

mod v1alpha {
    pub use tonic_reflection::pb::v1alpha::ServerReflectionRequest;
    pub use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient;
    pub use tonic_reflection::pb::v1alpha::server_reflection_request::MessageRequest;
    pub use tonic_reflection::pb::v1alpha::server_reflection_response::MessageResponse;
}

async fn try_v1(
    server: &TestServer,
    request: v1::MessageRequest,
) -> Result<v1::MessageResponse, tonic::Status> {
    let mut client = v1::ServerReflectionClient::new(server.channel().await);
    let request = v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(request),
    };
    let mut responses = client
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .expect("reflection v1 answers")
        .into_inner();
    let response: v1::ServerReflectionResponse = responses.next().await.expect("one response")?;
    Ok(response.message_response.expect("a message"))
}

async fn ask_v1(server: &TestServer, request: v1::MessageRequest) -> v1::MessageResponse {
    try_v1(server, request).await.expect("not an error")
}

async fn ask_v1alpha(
    server: &TestServer,
    request: v1alpha::MessageRequest,
) -> v1alpha::MessageResponse {
    let mut client = v1alpha::ServerReflectionClient::new(server.channel().await);
    let request = v1alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(request),
    };
    let mut responses = client
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .expect("reflection v1alpha answers")
        .into_inner();
    let response = responses
        .next()
        .await
        .expect("one response")
        .expect("not an error");
    response.message_response.expect("a message")
}

fn file_names(encoded: &[Vec<u8>]) -> BTreeSet<String> {
    encoded
        .iter()
        .map(|bytes| {
            FileDescriptorProto::decode(bytes.as_slice())
                .unwrap()
                .name()
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn v1_lists_exactly_the_served_services() {
    let server = TestServer::start_with(|s| s.add_service(probe::second_service())).await;
    let v1::MessageResponse::ListServicesResponse(list) =
        ask_v1(&server, v1::MessageRequest::ListServices(String::new())).await
    else {
        panic!("not a service list");
    };
    let names: BTreeSet<_> = list.service.into_iter().map(|s| s.name).collect();
    assert_eq!(
        names,
        EXPECTED_SERVICES.iter().map(|s| s.to_string()).collect()
    );
}

#[tokio::test]
async fn v1alpha_lists_exactly_the_served_services() {
    let server = TestServer::start_with(|s| s.add_service(probe::second_service())).await;
    let v1alpha::MessageResponse::ListServicesResponse(list) = ask_v1alpha(
        &server,
        v1alpha::MessageRequest::ListServices(String::new()),
    )
    .await
    else {
        panic!("not a service list");
    };
    let names: BTreeSet<_> = list.service.into_iter().map(|s| s.name).collect();
    assert_eq!(
        names,
        EXPECTED_SERVICES.iter().map(|s| s.to_string()).collect()
    );
}

#[tokio::test]
async fn symbols_resolve_to_their_files_and_shared_files_are_served_once() {
    let server = TestServer::start_with(|s| s.add_service(probe::second_service())).await;
    for (symbol, file) in [
        ("cloudrun.test.Second", "cloudrun/test/second.proto"),
        ("cloudrun.test.Probe.Echo", "cloudrun/test/probe.proto"),
        ("cloudrun.test.Text", "cloudrun/test/probe.proto"),
        ("grpc.health.v1.Health", "health.proto"),
    ] {
        let v1::MessageResponse::FileDescriptorResponse(found) = ask_v1(
            &server,
            v1::MessageRequest::FileContainingSymbol(symbol.to_owned()),
        )
        .await
        else {
            panic!("no file for {symbol}");
        };
        assert!(
            file_names(&found.file_descriptor_proto).contains(file),
            "{symbol} is in {file}"
        );
    }
    // The shared file, by name, is the probe's own (the first registered).
    let v1::MessageResponse::FileDescriptorResponse(found) = ask_v1(
        &server,
        v1::MessageRequest::FileByFilename("cloudrun/test/probe.proto".into()),
    )
    .await
    else {
        panic!("no probe.proto");
    };
    let file = FileDescriptorProto::decode(found.file_descriptor_proto[0].as_slice()).unwrap();
    assert_eq!(file, probe::probe_file());

    // tonic-reflection answers an unknown symbol with a NOT_FOUND status on the stream.
    let unknown = try_v1(
        &server,
        v1::MessageRequest::FileContainingSymbol("no.such.Thing".into()),
    )
    .await;
    assert_eq!(unknown.unwrap_err().code(), tonic::Code::NotFound);
}
