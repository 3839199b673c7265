//! The service the client tests call: `cloudrun.test.Backend`, written the way tonic's generator
//! writes servers, recording what each call carried and misbehaving on demand.
//!
//! `Read` (declared `NO_SIDE_EFFECTS`) and `Write` (no idempotency level) are unary: `sleep:MS`
//! answers after MS milliseconds, anything else is echoed. `Upload` (client streaming) joins
//! what it receives. `Watch` (server streaming) sends `1` and then nothing, forever.

#![allow(dead_code)]

use std::collections::HashSet;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use cloudrun_runtime::{Idempotency, MethodDef};
use tokio::net::TcpListener;
use tokio_stream::{Stream, StreamExt};
use tonic::body::Body;
use tonic::codegen::BoxFuture;
use tonic::server::{
    ClientStreamingService, Grpc, NamedService, ServerStreamingService, UnaryService,
};
use tonic::transport::server::TcpIncoming;
use tonic::{Request, Response, Status, Streaming};
use tonic_prost::ProstCodec;

pub const READ: &str = "/cloudrun.test.Backend/Read";
pub const WRITE: &str = "/cloudrun.test.Backend/Write";
pub const UPLOAD: &str = "/cloudrun.test.Backend/Upload";
pub const WATCH: &str = "/cloudrun.test.Backend/Watch";

/// What generated code would declare for the backend.
pub static METHODS: &[MethodDef] = &[
    MethodDef::new(READ).idempotency(Idempotency::NoSideEffects),
    MethodDef::new(WRITE),
    MethodDef::new(UPLOAD).client_streaming(),
    MethodDef::new(WATCH)
        .server_streaming()
        .idempotency(Idempotency::NoSideEffects),
];

/// What the backend saw and how it misbehaves.
#[derive(Default)]
pub struct Record {
    /// Calls received, by method name.
    pub reads: AtomicUsize,
    pub writes: AtomicUsize,
    pub uploads: AtomicUsize,
    /// The bearer header of every call, in order: `x-serverless-authorization` (where the
    /// client puts its token by default), else `authorization`.
    pub authorizations: Mutex<Vec<Option<String>>>,
    /// Which of the two it was, for every call.
    pub token_headers: Mutex<Vec<Option<&'static str>>>,
    /// The `grpc-timeout` header of every call, in order.
    pub timeouts: Mutex<Vec<Option<String>>>,
    /// Answer this many calls (of any method) `UNAVAILABLE` before behaving.
    pub unavailable_first: AtomicUsize,
    /// Bearer tokens answered `UNAUTHENTICATED`.
    pub rejected_tokens: Mutex<HashSet<String>>,
    /// Reject every token the first time it is seen (a server that revoked them).
    pub reject_first_sight: Mutex<bool>,
    /// Reject every call with `UNAUTHENTICATED`.
    pub reject_all: Mutex<bool>,
}

impl Record {
    pub fn authorizations(&self) -> Vec<Option<String>> {
        self.authorizations.lock().unwrap().clone()
    }

    pub fn token_headers(&self) -> Vec<Option<&'static str>> {
        self.token_headers.lock().unwrap().clone()
    }

    pub fn calls(&self) -> usize {
        self.reads.load(Ordering::SeqCst)
            + self.writes.load(Ordering::SeqCst)
            + self.uploads.load(Ordering::SeqCst)
    }
}

#[derive(Clone)]
pub struct BackendServer {
    record: Arc<Record>,
}

impl NamedService for BackendServer {
    const NAME: &'static str = "cloudrun.test.Backend";
}

struct Echo;

impl UnaryService<String> for Echo {
    type Response = String;
    type Future = BoxFuture<Response<String>, Status>;

    fn call(&mut self, request: Request<String>) -> Self::Future {
        Box::pin(async move {
            let text = request.into_inner();
            if let Some(ms) = text.strip_prefix("sleep:") {
                let ms: u64 = ms
                    .parse()
                    .map_err(|_| Status::invalid_argument("sleep:MS"))?;
                tokio::time::sleep(Duration::from_millis(ms)).await;
                return Ok(Response::new("slept".to_owned()));
            }
            Ok(Response::new(text))
        })
    }
}

struct Join;

impl ClientStreamingService<String> for Join {
    type Response = String;
    type Future = BoxFuture<Response<String>, Status>;

    fn call(&mut self, request: Request<Streaming<String>>) -> Self::Future {
        Box::pin(async move {
            let mut stream = request.into_inner();
            let mut parts = Vec::new();
            while let Some(part) = stream.next().await {
                parts.push(part?);
            }
            Ok(Response::new(parts.join("+")))
        })
    }
}

type WatchStream = Pin<Box<dyn Stream<Item = Result<String, Status>> + Send>>;

struct Watch;

impl ServerStreamingService<String> for Watch {
    type Response = String;
    type ResponseStream = WatchStream;
    type Future = BoxFuture<Response<WatchStream>, Status>;

    fn call(&mut self, _request: Request<String>) -> Self::Future {
        Box::pin(async move {
            let stream = tokio_stream::iter([Ok("1".to_owned())]).chain(tokio_stream::pending());
            Ok(Response::new(Box::pin(stream) as WatchStream))
        })
    }
}

impl tower::Service<http::Request<Body>> for BackendServer {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Infallible>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let record = Arc::clone(&self.record);
        let header = |name: &str| {
            request
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let (token_header, authorization) = match ["x-serverless-authorization", "authorization"]
            .into_iter()
            .find_map(|name| header(name).map(|value| (name, value)))
        {
            Some((name, value)) => (Some(name), Some(value)),
            None => (None, None),
        };
        let timeout = header("grpc-timeout");
        let path = request.uri().path().to_owned();
        Box::pin(async move {
            record
                .authorizations
                .lock()
                .unwrap()
                .push(authorization.clone());
            record.token_headers.lock().unwrap().push(token_header);
            record.timeouts.lock().unwrap().push(timeout);
            match path.as_str() {
                READ => record.reads.fetch_add(1, Ordering::SeqCst),
                WRITE => record.writes.fetch_add(1, Ordering::SeqCst),
                UPLOAD => record.uploads.fetch_add(1, Ordering::SeqCst),
                _ => 0,
            };
            if *record.reject_all.lock().unwrap() {
                return Ok(Status::unauthenticated("every token is refused").into_http());
            }
            if let Some(token) = authorization
                .as_deref()
                .and_then(|a| a.strip_prefix("Bearer "))
            {
                let mut rejected = record.rejected_tokens.lock().unwrap();
                if rejected.contains(token) {
                    return Ok(Status::unauthenticated("this token was revoked").into_http());
                }
                if *record.reject_first_sight.lock().unwrap() {
                    rejected.insert(token.to_owned());
                    *record.reject_first_sight.lock().unwrap() = false;
                    return Ok(Status::unauthenticated("this token was revoked").into_http());
                }
            }
            let unavailable = record
                .unavailable_first
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            if unavailable {
                return Ok(Status::unavailable("scaling in, try again").into_http());
            }
            let mut grpc = Grpc::new(ProstCodec::<String, String>::default());
            Ok(match path.as_str() {
                READ | WRITE => grpc.unary(Echo, request).await,
                UPLOAD => grpc.client_streaming(Join, request).await,
                WATCH => grpc.server_streaming(Watch, request).await,
                _ => Status::unimplemented("").into_http(),
            })
        })
    }
}

/// A backend serving on loopback (plaintext, or TLS with `identity`).
pub struct Backend {
    pub addr: SocketAddr,
    pub record: Arc<Record>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Backend {
    pub async fn start() -> Backend {
        Self::start_on(TcpListener::bind("127.0.0.1:0").await.unwrap(), None).await
    }

    pub async fn start_tls(identity: tonic::transport::Identity) -> Backend {
        Self::start_on(
            TcpListener::bind("127.0.0.1:0").await.unwrap(),
            Some(identity),
        )
        .await
    }

    pub async fn start_on(
        listener: TcpListener,
        identity: Option<tonic::transport::Identity>,
    ) -> Backend {
        let addr = listener.local_addr().unwrap();
        let record = Arc::new(Record::default());
        let service = BackendServer {
            record: Arc::clone(&record),
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let mut builder = tonic::transport::Server::builder();
        if let Some(identity) = identity {
            builder = builder
                .tls_config(tonic::transport::ServerTlsConfig::new().identity(identity))
                .unwrap();
        }
        let incoming = TcpIncoming::from(listener);
        tokio::spawn(builder.add_service(service).serve_with_incoming_shutdown(
            incoming,
            async move {
                let _ = stopped.await;
            },
        ));
        Backend {
            addr,
            record,
            stop: Some(stop),
        }
    }

    pub fn http_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Calls a unary method with `text`, optionally with a per-call timeout.
pub async fn unary(
    channel: &cloudrun_runtime::client::Channel,
    path: &'static str,
    text: &str,
    timeout: Option<Duration>,
) -> Result<String, Status> {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready()
        .await
        .map_err(|e| Status::unavailable(e.to_string()))?;
    let mut request = Request::new(text.to_owned());
    if let Some(timeout) = timeout {
        request.set_timeout(timeout);
    }
    grpc.unary(
        request,
        http::uri::PathAndQuery::from_static(path),
        ProstCodec::<String, String>::default(),
    )
    .await
    .map(Response::into_inner)
}

/// Sends `parts` to `Upload`.
pub async fn upload(
    channel: &cloudrun_runtime::client::Channel,
    parts: &[&str],
) -> Result<String, Status> {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready()
        .await
        .map_err(|e| Status::unavailable(e.to_string()))?;
    let items: Vec<String> = parts.iter().map(|p| (*p).to_owned()).collect();
    grpc.client_streaming(
        Request::new(tokio_stream::iter(items)),
        http::uri::PathAndQuery::from_static(UPLOAD),
        ProstCodec::<String, String>::default(),
    )
    .await
    .map(Response::into_inner)
}

/// Calls `Watch` and reads until the stream ends; returns the items and the final status.
pub async fn watch(
    channel: &cloudrun_runtime::client::Channel,
) -> (Vec<String>, Result<(), Status>) {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    if let Err(e) = grpc.ready().await {
        return (Vec::new(), Err(Status::unavailable(e.to_string())));
    }
    let response = grpc
        .server_streaming(
            Request::new(String::new()),
            http::uri::PathAndQuery::from_static(WATCH),
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
