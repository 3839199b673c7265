//! Serving gRPC services on Google Cloud Run: what protoc-gen-cloudrun's generated code calls.
//!
//! One call serves a service the way Cloud Run expects a container to behave:
//!
//! - listens on `[::]:$PORT` (8080 when unset) with HTTP/2 cleartext, prior knowledge only (what
//!   Cloud Run sends with `--use-http2`);
//! - serves `grpc.health.v1.Health` for `""` and every service (SERVING once the listener is
//!   bound), and reflection v1 and v1alpha, so grpcurl and `buf curl` work without proto files;
//! - logs one JSON object per line on stdout in Cloud Logging's shape: a start-up line naming
//!   `K_SERVICE`, `K_REVISION` and the bound port, and one line per call with its method, status
//!   code, latency and (when the project is known) `logging.googleapis.com/trace`. While serving,
//!   lines are written in batches at most 5 ms apart; all are written before `serve` returns.
//!   `CLOUDRUN_LOG_LEVEL` filters them (`info` by default; `info,cloudrun_runtime::rpc=warn`
//!   keeps only the calls that did not go well);
//! - ends a call with `DEADLINE_EXCEEDED` when it runs past the `grpc-timeout` its client sent;
//! - gives handlers their connection's addresses, as tonic's own server does
//!   (`tonic::Request::remote_addr()` and `local_addr()`);
//! - turns a panicking handler into an `INTERNAL` status for that call only;
//! - on SIGTERM or SIGINT turns health NOT_SERVING, stops accepting connections and streams
//!   (HTTP/2 GOAWAY), lets in-flight calls finish within a grace period (8 s, under Cloud Run's
//!   10 s), and returns `Ok(())` so the process exits 0.
//!
//! ```no_run
//! # mod catalog {
//! #     use std::{convert::Infallible, future::Ready, task::{Context, Poll}};
//! #     #[derive(Clone)]
//! #     pub struct ProductCatalogServer;
//! #     impl tonic::server::NamedService for ProductCatalogServer {
//! #         const NAME: &'static str = "catalog.ProductCatalog";
//! #     }
//! #     impl tower::Service<http::Request<tonic::body::Body>> for ProductCatalogServer {
//! #         type Response = http::Response<tonic::body::Body>;
//! #         type Error = Infallible;
//! #         type Future = Ready<Result<Self::Response, Infallible>>;
//! #         fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
//! #             Poll::Ready(Ok(()))
//! #         }
//! #         fn call(&mut self, _: http::Request<tonic::body::Body>) -> Self::Future {
//! #             std::future::ready(Ok(tonic::Status::unimplemented("").into_http()))
//! #         }
//! #     }
//! #     static FILE_DESCRIPTOR_SET: &[u8] = &[];
//! // What the generator emits for a service `catalog.ProductCatalog`:
//! pub fn service() -> cloudrun_runtime::ServiceDef {
//!     cloudrun_runtime::ServiceDef::new("catalog.ProductCatalog", FILE_DESCRIPTOR_SET, |_limits| {
//!         ProductCatalogServer
//!     })
//! }
//! # }
//!
//! // The whole of a service's `main`:
//! #[tokio::main]
//! async fn main() -> Result<(), cloudrun_runtime::Error> {
//!     cloudrun_runtime::serve(catalog::service()).await
//! }
//! ```
//!
//! [`Server`] configures the same from code (several services, limits, grace period, a log
//! writer, a shutdown hook); its documentation lists every environment variable read.
//!
//! Caller identity is checked when `CLOUDRUN_AUTH_MODE` says so ([`auth`]): ID tokens verified
//! against the issuer's keys (or read as Cloud Run's IAM check passed them on), per-method rules
//! from the proto, the verified [`Caller`] in each request's extensions, and its principal in
//! each call's log line.
//!
//! Services call each other through [`client`]: a [`client::Channel`] to a Cloud Run URL (TLS on
//! 443, a Google ID token for the audience `https://<host>` cached for its lifetime, a deadline
//! on every call, retries of `UNAVAILABLE` for methods that are safe to repeat), or plaintext
//! with `GRPC_NO_TLS=1`. Generated code describes each RPC to both sides with a [`MethodDef`].

pub mod auth;
mod call_log;
pub mod client;
mod config;
mod connect_info;
mod deadline;
mod error;
mod health;
mod logging;
mod method;
mod panic;
mod reflection;
mod server;
mod service;
mod shutdown;
mod stdout_batch;
mod tls;
mod trace_context;

pub use auth::{AuthConfig, AuthMode, Caller};
pub use error::Error;
pub use method::{Idempotency, MethodAuth, MethodDef};
pub use server::{Listening, Server};
pub use service::{
    DEFAULT_MAX_DECODING_MESSAGE_SIZE, DEFAULT_MAX_ENCODING_MESSAGE_SIZE, Limits, ServiceDef,
};

/// Serves `service` as configured by the environment until SIGTERM or SIGINT, then drains and
/// returns `Ok(())`. The same as `Server::from_env()?.add_service(service).serve().await`.
pub async fn serve(service: ServiceDef) -> Result<(), Error> {
    Server::from_env()?.add_service(service).serve().await
}
