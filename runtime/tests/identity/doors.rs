//! `cloudrun.test.Doors` and `cloudrun.test.Lobby`: each method answers with what the handler
//! sees of its caller (`principal|email|subject`, or `nobody`), under the rules generated code
//! would declare for this proto:
//!
//! ```text
//! service Doors {
//!   option (cloudrun.auth.service) = { allowed_principals: ["domain:example.com"] };
//!   rpc Open(..)  { option (cloudrun.auth.method) = { allowed_principals: ["alice@example.com"]
//!                                                     required_claims: [{ name: "hd" value: "example.com" }] }; }
//!   rpc Peek(..)  { option (cloudrun.auth.method) = { allow_unauthenticated: true }; }
//!   rpc Knock(..);   // the service's rule
//! }
//! service Lobby { rpc Enter(..); }   // no rule: CLOUDRUN_AUTH_ALLOWED
//! ```

#![allow(dead_code)]

use std::convert::Infallible;
use std::sync::OnceLock;
use std::task::{Context, Poll};

use cloudrun_runtime::{Caller, Limits, MethodAuth, MethodDef, ServiceDef};
use prost::Message;
use prost_types::{
    DescriptorProto, FieldDescriptorProto, FileDescriptorProto, FileDescriptorSet,
    MethodDescriptorProto, ServiceDescriptorProto, field_descriptor_proto,
};
use tonic::body::Body;
use tonic::codegen::BoxFuture;
use tonic::server::{Grpc, NamedService, UnaryService};
use tonic::{Request, Response, Status};
use tonic_prost::ProstCodec;

pub const OPEN: &str = "/cloudrun.test.Doors/Open";
pub const PEEK: &str = "/cloudrun.test.Doors/Peek";
pub const KNOCK: &str = "/cloudrun.test.Doors/Knock";
pub const ENTER: &str = "/cloudrun.test.Lobby/Enter";

static DOOR_METHODS: &[MethodDef] = &[
    MethodDef::new(OPEN).auth(
        MethodAuth::new()
            .allowed_principals(&["alice@example.com"])
            .required_claims(&[("hd", "example.com")]),
    ),
    MethodDef::new(PEEK).auth(MethodAuth::new().allow_unauthenticated()),
    MethodDef::new(KNOCK).auth(MethodAuth::new().allowed_principals(&["domain:example.com"])),
];

static LOBBY_METHODS: &[MethodDef] = &[MethodDef::new(ENTER)];

pub fn service() -> ServiceDef {
    ServiceDef::new("cloudrun.test.Doors", descriptors(), |_: &Limits| {
        DoorsServer::<0>
    })
    .methods(DOOR_METHODS)
}

pub fn lobby() -> ServiceDef {
    ServiceDef::new("cloudrun.test.Lobby", descriptors(), |_: &Limits| {
        DoorsServer::<1>
    })
    .methods(LOBBY_METHODS)
}

#[derive(Clone)]
pub struct DoorsServer<const N: usize>;

impl NamedService for DoorsServer<0> {
    const NAME: &'static str = "cloudrun.test.Doors";
}

impl NamedService for DoorsServer<1> {
    const NAME: &'static str = "cloudrun.test.Lobby";
}

struct WhoAmI;

impl UnaryService<String> for WhoAmI {
    type Response = String;
    type Future = BoxFuture<Response<String>, Status>;

    fn call(&mut self, request: Request<String>) -> Self::Future {
        let seen = match Caller::of(&request) {
            Some(caller) => format!(
                "{}|{}|{}",
                caller.principal(),
                caller.email().unwrap_or("-"),
                caller.subject()
            ),
            None => "nobody".to_owned(),
        };
        Box::pin(async move { Ok(Response::new(seen)) })
    }
}

impl<const N: usize> tower::Service<http::Request<Body>> for DoorsServer<N> {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Infallible>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        Box::pin(async move {
            let mut grpc = Grpc::new(ProstCodec::<String, String>::default());
            Ok(grpc.unary(WhoAmI, request).await)
        })
    }
}

fn method(name: &str) -> MethodDescriptorProto {
    MethodDescriptorProto {
        name: Some(name.into()),
        input_type: Some(".cloudrun.test.Text".into()),
        output_type: Some(".cloudrun.test.Text".into()),
        ..Default::default()
    }
}

fn descriptors() -> &'static [u8] {
    static SET: OnceLock<Vec<u8>> = OnceLock::new();
    SET.get_or_init(|| {
        let file = FileDescriptorProto {
            name: Some("cloudrun/test/doors.proto".into()),
            package: Some("cloudrun.test".into()),
            message_type: vec![DescriptorProto {
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
            }],
            service: vec![
                ServiceDescriptorProto {
                    name: Some("Doors".into()),
                    method: vec![method("Open"), method("Peek"), method("Knock")],
                    ..Default::default()
                },
                ServiceDescriptorProto {
                    name: Some("Lobby".into()),
                    method: vec![method("Enter")],
                    ..Default::default()
                },
            ],
            syntax: Some("proto3".into()),
            ..Default::default()
        };
        FileDescriptorSet { file: vec![file] }.encode_to_vec()
    })
}

/// Calls `path` with an optional `authorization` header value.
pub async fn call(
    channel: &tonic::transport::Channel,
    path: &'static str,
    authorization: Option<&str>,
) -> Result<String, Status> {
    match authorization {
        Some(value) => call_with_headers(channel, path, &[("authorization", value)]).await,
        None => call_with_headers(channel, path, &[]).await,
    }
}

/// Calls `path` with these request headers.
pub async fn call_with_headers(
    channel: &tonic::transport::Channel,
    path: &'static str,
    headers: &[(&'static str, &str)],
) -> Result<String, Status> {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready()
        .await
        .map_err(|e| Status::unavailable(e.to_string()))?;
    let mut request = Request::new(String::new());
    for (name, value) in headers {
        request
            .metadata_mut()
            .insert(*name, value.parse().expect("ASCII"));
    }
    grpc.unary(
        request,
        http::uri::PathAndQuery::from_static(path),
        ProstCodec::<String, String>::default(),
    )
    .await
    .map(Response::into_inner)
}
