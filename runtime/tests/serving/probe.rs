//! A small gRPC service for the tests, written the way tonic's generator writes servers (a
//! `NamedService` tower service dispatching on the path to `tonic::server::Grpc`), with
//! behaviours chosen by the request text:
//!
//! `Echo` (unary): `panic` panics; `sleep:MS` sleeps then answers `slept`; `fail:CODE` fails
//! with that code; `peer` answers `remote=ADDR local=ADDR` from `Request::remote_addr()` and
//! `local_addr()` (`none` where absent); anything else is echoed back.
//! `Count` (server streaming): `N` streams `1`..=`N`; `N,panic@K` panics while producing item
//! K; `N,fail@K` ends with NOT_FOUND at item K; `forever` sends `1` and then nothing, forever.

#![allow(dead_code)]

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};
use std::time::Duration;

use cloudrun_runtime::{Limits, ServiceDef};
use prost::Message;
use prost_types::{
    DescriptorProto, FieldDescriptorProto, FileDescriptorProto, FileDescriptorSet,
    MethodDescriptorProto, ServiceDescriptorProto, field_descriptor_proto,
};
use tokio_stream::{Stream, StreamExt};
use tonic::body::Body;
use tonic::codegen::BoxFuture;
use tonic::server::{Grpc, NamedService, ServerStreamingService, UnaryService};
use tonic::transport::Channel;
use tonic::{Code, Request, Response, Status};
use tonic_prost::ProstCodec;

pub const PROBE: &str = "cloudrun.test.Probe";
pub const SECOND: &str = "cloudrun.test.Second";
pub const ECHO_PATH: &str = "/cloudrun.test.Probe/Echo";
pub const COUNT_PATH: &str = "/cloudrun.test.Probe/Count";
pub const PANIC_TEXT: &str = "probe panicked on purpose";

/// The probe served under `cloudrun.test.Probe`.
pub fn service() -> ServiceDef {
    ServiceDef::new(PROBE, probe_descriptors(), |limits: &Limits| {
        ProbeServer::<0>::new(limits)
    })
}

/// The same behaviour under `cloudrun.test.Second`, declared in a second file that imports the
/// first: the two services share `cloudrun/test/probe.proto`.
pub fn second_service() -> ServiceDef {
    ServiceDef::new(SECOND, second_descriptors(), |limits: &Limits| {
        ProbeServer::<1>::new(limits)
    })
}

/// `NAME_INDEX` picks the `NamedService::NAME`: 0 is Probe, 1 is Second.
#[derive(Clone)]
pub struct ProbeServer<const NAME_INDEX: usize> {
    max_decoding: usize,
    max_encoding: usize,
}

impl<const N: usize> ProbeServer<N> {
    pub fn new(limits: &Limits) -> Self {
        ProbeServer {
            max_decoding: limits.max_decoding_message_size,
            max_encoding: limits.max_encoding_message_size,
        }
    }
}

impl NamedService for ProbeServer<0> {
    const NAME: &'static str = PROBE;
}

impl NamedService for ProbeServer<1> {
    const NAME: &'static str = SECOND;
}

struct Echo;

impl UnaryService<String> for Echo {
    type Response = String;
    type Future = BoxFuture<Response<String>, Status>;

    fn call(&mut self, request: Request<String>) -> Self::Future {
        if request.get_ref() == "peer" {
            let [remote, local] = [request.remote_addr(), request.local_addr()]
                .map(|a| a.map_or_else(|| "none".to_owned(), |a| a.to_string()));
            let answer = format!("remote={remote} local={local}");
            return Box::pin(async move { Ok(Response::new(answer)) });
        }
        Box::pin(async move {
            let text = request.into_inner();
            if text == "panic" {
                panic!("{PANIC_TEXT}");
            }
            if let Some(ms) = text.strip_prefix("sleep:") {
                let ms: u64 = ms
                    .parse()
                    .map_err(|_| Status::invalid_argument("sleep:MS"))?;
                tokio::time::sleep(Duration::from_millis(ms)).await;
                return Ok(Response::new("slept".to_owned()));
            }
            if let Some(code) = text.strip_prefix("fail:") {
                let code: i32 = code
                    .parse()
                    .map_err(|_| Status::invalid_argument("fail:CODE"))?;
                return Err(Status::new(Code::from_i32(code), "failed on purpose"));
            }
            Ok(Response::new(text))
        })
    }
}

type CountStream = Pin<Box<dyn Stream<Item = Result<String, Status>> + Send>>;

struct Count;

impl ServerStreamingService<String> for Count {
    type Response = String;
    type ResponseStream = CountStream;
    type Future = BoxFuture<Response<CountStream>, Status>;

    fn call(&mut self, request: Request<String>) -> Self::Future {
        Box::pin(async move {
            let text = request.into_inner();
            if text == "forever" {
                let stream =
                    tokio_stream::iter([Ok("1".to_owned())]).chain(tokio_stream::pending());
                return Ok(Response::new(Box::pin(stream) as CountStream));
            }
            let (n, twist) = text.split_once(',').unwrap_or((&text, ""));
            let n: u32 = n
                .parse()
                .map_err(|_| Status::invalid_argument("N[,panic@K|fail@K]"))?;
            let panic_at: Option<u32> = twist.strip_prefix("panic@").and_then(|k| k.parse().ok());
            let fail_at: Option<u32> = twist.strip_prefix("fail@").and_then(|k| k.parse().ok());
            // A pause before each item makes each one its own HTTP/2 frame, as a real
            // producer's would be, so items sent before a failure reach the client.
            let paced = tokio_stream::iter(1..=n).then(|i| async move {
                tokio::time::sleep(Duration::from_millis(2)).await;
                i
            });
            let stream = paced.map(move |i| {
                if Some(i) == panic_at {
                    panic!("{PANIC_TEXT} at item {i}");
                }
                if Some(i) == fail_at {
                    return Err(Status::not_found(format!("no item {i}")));
                }
                Ok(i.to_string())
            });
            Ok(Response::new(Box::pin(stream) as CountStream))
        })
    }
}

impl<const N: usize> tower::Service<http::Request<Body>> for ProbeServer<N> {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Infallible>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let (max_decoding, max_encoding) = (self.max_decoding, self.max_encoding);
        let method = request
            .uri()
            .path()
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        Box::pin(async move {
            let mut grpc = Grpc::new(ProstCodec::<String, String>::default())
                .apply_max_message_size_config(Some(max_decoding), Some(max_encoding));
            Ok(match method.as_str() {
                "Echo" => grpc.unary(Echo, request).await,
                "Count" => grpc.server_streaming(Count, request).await,
                _ => Status::unimplemented("").into_http(),
            })
        })
    }
}

fn text_message() -> DescriptorProto {
    DescriptorProto {
        name: Some("Text".into()),
        field: vec![FieldDescriptorProto {
            name: Some("value".into()),
            number: Some(1),
            label: Some(field_descriptor_proto::Label::Optional as i32),
            r#type: Some(field_descriptor_proto::Type::String as i32),
            json_name: Some("value".into()),
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn method(name: &str, server_streaming: bool) -> MethodDescriptorProto {
    MethodDescriptorProto {
        name: Some(name.into()),
        input_type: Some(".cloudrun.test.Text".into()),
        output_type: Some(".cloudrun.test.Text".into()),
        server_streaming: Some(server_streaming),
        ..Default::default()
    }
}

pub fn probe_file() -> FileDescriptorProto {
    FileDescriptorProto {
        name: Some("cloudrun/test/probe.proto".into()),
        package: Some("cloudrun.test".into()),
        message_type: vec![text_message()],
        service: vec![ServiceDescriptorProto {
            name: Some("Probe".into()),
            method: vec![method("Echo", false), method("Count", true)],
            ..Default::default()
        }],
        syntax: Some("proto3".into()),
        ..Default::default()
    }
}

fn second_file() -> FileDescriptorProto {
    FileDescriptorProto {
        name: Some("cloudrun/test/second.proto".into()),
        package: Some("cloudrun.test".into()),
        dependency: vec!["cloudrun/test/probe.proto".into()],
        service: vec![ServiceDescriptorProto {
            name: Some("Second".into()),
            method: vec![method("Echo", false), method("Count", true)],
            ..Default::default()
        }],
        syntax: Some("proto3".into()),
        ..Default::default()
    }
}

fn probe_descriptors() -> &'static [u8] {
    static SET: OnceLock<Vec<u8>> = OnceLock::new();
    SET.get_or_init(|| {
        FileDescriptorSet {
            file: vec![probe_file()],
        }
        .encode_to_vec()
    })
}

fn second_descriptors() -> &'static [u8] {
    static SET: OnceLock<Vec<u8>> = OnceLock::new();
    SET.get_or_init(|| {
        FileDescriptorSet {
            file: vec![probe_file(), second_file()],
        }
        .encode_to_vec()
    })
}

/// Calls `Echo` (on `path`'s service) with `text`, adding `metadata` headers.
pub async fn call_echo(
    channel: &Channel,
    path: &'static str,
    text: &str,
    metadata: &[(&'static str, &str)],
) -> Result<String, Status> {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready()
        .await
        .map_err(|e| Status::unavailable(e.to_string()))?;
    let mut request = Request::new(text.to_owned());
    for (key, value) in metadata {
        request
            .metadata_mut()
            .insert(*key, value.parse().expect("ASCII metadata"));
    }
    grpc.unary(
        request,
        http::uri::PathAndQuery::from_static(path),
        ProstCodec::<String, String>::default(),
    )
    .await
    .map(Response::into_inner)
}

pub async fn echo(channel: &Channel, text: &str) -> Result<String, Status> {
    call_echo(channel, ECHO_PATH, text, &[]).await
}

/// Calls `Count` and collects what arrives: the items, then the final status.
pub async fn count(channel: &Channel, text: &str) -> (Vec<String>, Result<(), Status>) {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    if let Err(e) = grpc.ready().await {
        return (Vec::new(), Err(Status::unavailable(e.to_string())));
    }
    let response = grpc
        .server_streaming(
            Request::new(text.to_owned()),
            http::uri::PathAndQuery::from_static(COUNT_PATH),
            ProstCodec::<String, String>::default(),
        )
        .await;
    let mut stream = match response {
        Ok(r) => r.into_inner(),
        Err(status) => return (Vec::new(), Err(status)),
    };
    let mut items = Vec::new();
    loop {
        match stream.message().await {
            Ok(Some(item)) => items.push(item),
            Ok(None) => return (items, Ok(())),
            Err(status) => return (items, Err(status)),
        }
    }
}
