//! A panicking handler fails its own call with `INTERNAL`, never the connection or the server.
//!
//! Panics while the handler's future runs are caught by tower-http's `CatchPanicLayer`, given a
//! gRPC-shaped response here ([`GrpcInternalOnPanic`]). Panics while a streaming response body is
//! being produced happen later, inside hyper's stream task, where that layer cannot reach; the
//! per-call body wrapper in [`call_log`](crate::call_log) catches those and ends the stream with
//! [`internal_trailers`].

use std::any::Any;

use http::{HeaderMap, HeaderValue, Response};
use tonic::Status;
use tonic::body::Body;
use tower_http::catch_panic::ResponseForPanic;

/// What the client is told. The panic's own message stays in the server log: it may hold
/// anything, including data the caller must not see.
pub(crate) const PANIC_STATUS_MESSAGE: &str = "internal error: the handler panicked";

/// The panic message, handed from the panic response to the per-call log line through the
/// response's extensions, so one ERROR line carries both the method and the panic.
#[derive(Clone, Debug)]
pub(crate) struct PanicMessage(pub(crate) String);

/// Turns a caught panic into a trailers-only gRPC response with status `INTERNAL`.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct GrpcInternalOnPanic;

impl ResponseForPanic for GrpcInternalOnPanic {
    type ResponseBody = Body;

    fn response_for_panic(&mut self, err: Box<dyn Any + Send + 'static>) -> Response<Body> {
        let mut response = Status::internal(PANIC_STATUS_MESSAGE).into_http::<Body>();
        response
            .extensions_mut()
            .insert(PanicMessage(panic_message(&*err)));
        response
    }
}

/// The text a panic was raised with (`panic!("...")` gives a `&str` or a `String`).
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a text message".to_owned()
    }
}

/// Trailers that end a stream whose body panicked.
pub(crate) fn internal_trailers() -> HeaderMap {
    let mut trailers = HeaderMap::with_capacity(2);
    trailers.insert("grpc-status", HeaderValue::from_static("13"));
    trailers.insert(
        "grpc-message",
        HeaderValue::from_static(PANIC_STATUS_MESSAGE),
    );
    trailers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caught_panic_becomes_a_grpc_internal_response_carrying_the_message() {
        let response = GrpcInternalOnPanic.response_for_panic(Box::new("boom"));
        assert_eq!(response.status(), http::StatusCode::OK);
        assert_eq!(response.headers()["grpc-status"], "13");
        assert_eq!(response.headers()["content-type"], "application/grpc");
        assert_eq!(
            response.extensions().get::<PanicMessage>().unwrap().0,
            "boom"
        );
    }

    #[test]
    fn panic_messages_from_str_string_and_other_payloads() {
        assert_eq!(panic_message(&"a"), "a");
        assert_eq!(panic_message(&String::from("b")), "b");
        assert_eq!(panic_message(&42u8), "a panic without a text message");
    }

    #[test]
    fn trailers_say_internal() {
        let status = Status::from_header_map(&internal_trailers()).unwrap();
        assert_eq!(status.code(), tonic::Code::Internal);
        assert_eq!(status.message(), PANIC_STATUS_MESSAGE);
    }
}
