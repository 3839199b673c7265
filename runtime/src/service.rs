//! What generated code hands to the runtime: one gRPC service ready to be served ([`ServiceDef`]),
//! built with the message-size [`Limits`] the server is configured with.

use std::convert::Infallible;
use std::fmt;

use tonic::server::NamedService;
use tonic::service::Routes;

use crate::method::MethodDef;

/// Default largest message a server accepts: 4 MiB, gRPC's own default, so clients written in
/// any language see the same limit they see elsewhere.
pub const DEFAULT_MAX_DECODING_MESSAGE_SIZE: usize = 4 * 1024 * 1024;

/// Default largest message a server sends: 32 MiB. Unbounded (tonic's default) lets one runaway
/// response take a small Cloud Run instance's memory; 32 MiB is the request size Cloud Run itself
/// allows over HTTP/1, a bound users already know.
pub const DEFAULT_MAX_ENCODING_MESSAGE_SIZE: usize = 32 * 1024 * 1024;

/// Message-size limits every served service is built with.
///
/// Set them with [`Server::max_decoding_message_size`](crate::Server::max_decoding_message_size)
/// and [`Server::max_encoding_message_size`](crate::Server::max_encoding_message_size), or the
/// `CLOUDRUN_MAX_RECV_MESSAGE_BYTES` and `CLOUDRUN_MAX_SEND_MESSAGE_BYTES` environment variables.
///
/// ```
/// let limits = cloudrun_runtime::Limits::default();
/// assert_eq!(limits.max_decoding_message_size, 4 * 1024 * 1024);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest encoded request message accepted, in bytes; larger ones fail the call.
    pub max_decoding_message_size: usize,
    /// Largest encoded response message sent, in bytes; larger ones fail the call.
    pub max_encoding_message_size: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_decoding_message_size: DEFAULT_MAX_DECODING_MESSAGE_SIZE,
            max_encoding_message_size: DEFAULT_MAX_ENCODING_MESSAGE_SIZE,
        }
    }
}

type AddToRoutes = Box<dyn FnOnce(&Limits, Routes) -> Routes + Send>;

/// One gRPC service ready to be served: its full proto name, the descriptors reflection serves for
/// it, and how to build its tonic server once the limits are known.
///
/// Generated code makes these; a hand-written tonic service can be wrapped the same way:
///
/// ```
/// use cloudrun_runtime::ServiceDef;
/// # use std::{convert::Infallible, future::Ready, task::{Context, Poll}};
/// # #[derive(Clone)]
/// # struct GreeterServer;
/// # impl GreeterServer {
/// #     fn max_decoding_message_size(self, _: usize) -> Self { self }
/// # }
/// # impl tonic::server::NamedService for GreeterServer { const NAME: &'static str = "hello.Greeter"; }
/// # impl tower::Service<http::Request<tonic::body::Body>> for GreeterServer {
/// #     type Response = http::Response<tonic::body::Body>;
/// #     type Error = Infallible;
/// #     type Future = Ready<Result<Self::Response, Infallible>>;
/// #     fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> { Poll::Ready(Ok(())) }
/// #     fn call(&mut self, _: http::Request<tonic::body::Body>) -> Self::Future {
/// #         std::future::ready(Ok(tonic::Status::unimplemented("").into_http()))
/// #     }
/// # }
/// # static FILE_DESCRIPTOR_SET: &[u8] = &[];
/// let def = ServiceDef::new("hello.Greeter", FILE_DESCRIPTOR_SET, |limits| {
///     GreeterServer.max_decoding_message_size(limits.max_decoding_message_size)
/// });
/// assert_eq!(def.name(), "hello.Greeter");
/// ```
pub struct ServiceDef {
    name: &'static str,
    routed_name: &'static str,
    encoded_file_descriptor_set: &'static [u8],
    methods: &'static [MethodDef],
    add_to: AddToRoutes,
}

impl ServiceDef {
    /// `name`: full proto name (`"catalog.ProductCatalog"`); `encoded_file_descriptor_set`: an
    /// encoded `google.protobuf.FileDescriptorSet` holding the service's file and all its
    /// transitive imports (fed to reflection); `make` builds the tonic server given the configured
    /// limits.
    ///
    /// Nothing is checked here; [`Server::serve`](crate::Server::serve) reports a name that does not
    /// match the tonic server's `NamedService::NAME` or the descriptors as an [`Error`](crate::Error).
    pub fn new<S, F>(
        name: &'static str,
        encoded_file_descriptor_set: &'static [u8],
        make: F,
    ) -> Self
    where
        F: FnOnce(&Limits) -> S + Send + 'static,
        S: tower::Service<http::Request<tonic::body::Body>, Error = Infallible>
            + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Response: axum::response::IntoResponse,
        S::Future: Send + 'static,
    {
        ServiceDef {
            name,
            routed_name: S::NAME,
            encoded_file_descriptor_set,
            methods: &[],
            add_to: Box::new(move |limits, routes| routes.add_service(make(limits))),
        }
    }

    /// The service's methods as generated code declares them (its glue's `METHODS`): who may
    /// call each one, for the server's caller identity checks. Methods left out follow the
    /// server's `CLOUDRUN_AUTH_ALLOWED` list.
    pub fn methods(mut self, methods: &'static [MethodDef]) -> Self {
        self.methods = methods;
        self
    }

    /// The methods set with [`methods`](Self::methods).
    pub fn method_defs(&self) -> &'static [MethodDef] {
        self.methods
    }

    /// The service's full proto name, e.g. `"catalog.ProductCatalog"`.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The name tonic routes the service under (`NamedService::NAME`); must equal [`name`](Self::name).
    pub(crate) fn routed_name(&self) -> &'static str {
        self.routed_name
    }

    pub(crate) fn encoded_file_descriptor_set(&self) -> &'static [u8] {
        self.encoded_file_descriptor_set
    }

    pub(crate) fn add_to(self, limits: &Limits, routes: Routes) -> Routes {
        (self.add_to)(limits, routes)
    }
}

impl fmt::Debug for ServiceDef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceDef")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Whether `name` is a full proto name (`pkg.sub.Service`, identifiers joined by dots). Anything
/// else would be spliced into a route pattern that the router rejects by panicking.
pub(crate) fn is_full_proto_name(name: &str) -> bool {
    !name.is_empty()
        && name.split('.').all(|part| {
            let mut chars = part.chars();
            matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_proto_names_are_dotted_identifiers() {
        for good in ["catalog.ProductCatalog", "Greeter", "a.b_c.D9", "_x.Y"] {
            assert!(is_full_proto_name(good), "{good}");
        }
        for bad in ["", ".x", "x.", "a..b", "9a.B", "a/b", "a.{b}", "a b", "a.*"] {
            assert!(!is_full_proto_name(bad), "{bad}");
        }
    }
}
