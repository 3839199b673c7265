//! Server-side deadlines: a call whose client sent `grpc-timeout` ends with `DEADLINE_EXCEEDED`
//! once that much time has passed, whether its handler is still working out the response or a
//! streaming response is still being produced.
//!
//! tonic's own server does the same for the response future only (its `GrpcTimeout` layer, which
//! is private to `tonic::transport`) and answers `CANCELLED` ("Timeout expired"); gRPC's C core
//! and Go servers answer `DEADLINE_EXCEEDED`, the code the gRPC specification gives an expired
//! deadline, and so does this layer. The handler's future (or its stream) is dropped at the
//! deadline, so work that only awaits stops there.
//!
//! The header is read as gRPC over HTTP/2 defines it: `TimeoutValue` is 1 to 8 ASCII digits and
//! `TimeoutUnit` one of `H M S m u n` (tonic reads it the same way, except that it also lets a
//! leading `+` through). A malformed value is ignored, as tonic ignores it: the call runs without
//! a deadline. A call without the header costs one header lookup and no allocation.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue, Request, Response};
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use tokio::time::Sleep;
use tonic::Status;

/// A ready-made name: looking it up skips parsing and validating a string key on every call.
const GRPC_TIMEOUT: HeaderName = HeaderName::from_static("grpc-timeout");

/// What the client is told when its deadline passes.
const DEADLINE_MESSAGE: &str = "deadline exceeded: the call ran past its grpc-timeout";

/// The service wrapper that enforces each call's `grpc-timeout`.
#[derive(Clone, Debug)]
pub(crate) struct Deadline<S> {
    inner: S,
}

impl<S> Deadline<S> {
    pub(crate) fn new(inner: S) -> Self {
        Deadline { inner }
    }
}

impl<S, ReqBody, ResBody> tower::Service<Request<ReqBody>> for Deadline<S>
where
    S: tower::Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<DeadlineBody<ResBody>>;
    type Error = S::Error;
    type Future = DeadlineFuture<S::Future>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        // Boxed so the timer can move from the response future into the body; only calls that
        // carry a deadline pay for it.
        let sleep = grpc_timeout(request.headers()).map(|t| Box::pin(tokio::time::sleep(t)));
        DeadlineFuture {
            inner: self.inner.call(request),
            sleep,
        }
    }
}

/// The `grpc-timeout` of a request: `None` when it has none or it is malformed.
pub(crate) fn grpc_timeout(headers: &HeaderMap) -> Option<Duration> {
    headers.get(&GRPC_TIMEOUT).and_then(parse_grpc_timeout)
}

/// `TimeoutValue TimeoutUnit` from gRPC over HTTP/2: at most 8 digits, then `H`, `M`, `S`, `m`,
/// `u` or `n`. At most 8 digits keeps every product below `u64::MAX`.
fn parse_grpc_timeout(value: &HeaderValue) -> Option<Duration> {
    let (unit, digits) = value.as_bytes().split_last()?;
    if digits.is_empty() || digits.len() > 8 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let amount = digits
        .iter()
        .fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
    Some(match unit {
        b'H' => Duration::from_secs(amount * 60 * 60),
        b'M' => Duration::from_secs(amount * 60),
        b'S' => Duration::from_secs(amount),
        b'm' => Duration::from_millis(amount),
        b'u' => Duration::from_micros(amount),
        b'n' => Duration::from_nanos(amount),
        _ => return None,
    })
}

/// Whether the call's deadline (if any) has passed; the timer is dropped once it has fired.
fn expired(sleep: &mut Option<Pin<Box<Sleep>>>, cx: &mut Context<'_>) -> bool {
    let fired = sleep
        .as_mut()
        .is_some_and(|timer| timer.as_mut().poll(cx).is_ready());
    if fired {
        *sleep = None;
    }
    fired
}

fn deadline_trailers() -> HeaderMap {
    let mut trailers = HeaderMap::with_capacity(2);
    trailers.insert("grpc-status", HeaderValue::from_static("4"));
    trailers.insert("grpc-message", HeaderValue::from_static(DEADLINE_MESSAGE));
    trailers
}

pin_project! {
    /// The response future of a call, cut short with `DEADLINE_EXCEEDED` at its deadline.
    pub(crate) struct DeadlineFuture<F> {
        #[pin]
        inner: F,
        sleep: Option<Pin<Box<Sleep>>>,
    }
}

impl<F, ResBody, E> Future for DeadlineFuture<F>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
{
    type Output = Result<Response<DeadlineBody<ResBody>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        // The handler first: a response ready at the deadline is still sent.
        if let Poll::Ready(result) = this.inner.poll(cx) {
            let sleep = this.sleep.take();
            return Poll::Ready(result.map(|response| {
                response.map(|body| DeadlineBody {
                    inner: Some(body),
                    sleep,
                })
            }));
        }
        if expired(this.sleep, cx) {
            // Trailers-only, as every gRPC error before the first message.
            let (parts, ()) = Status::deadline_exceeded(DEADLINE_MESSAGE)
                .into_http::<()>()
                .into_parts();
            let body = DeadlineBody {
                inner: None,
                sleep: None,
            };
            Poll::Ready(Ok(Response::from_parts(parts, body)))
        } else {
            Poll::Pending
        }
    }
}

pin_project! {
    /// The response body of a call, ended with `DEADLINE_EXCEEDED` trailers at its deadline.
    pub(crate) struct DeadlineBody<B> {
        // `None` once the deadline ended the stream (the handler's body is dropped then), or for
        // the trailers-only response of a call whose handler missed the deadline.
        #[pin]
        inner: Option<B>,
        sleep: Option<Pin<Box<Sleep>>>,
    }
}

impl<B> Body for DeadlineBody<B>
where
    B: Body,
{
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let mut this = self.project();
        let Some(inner) = this.inner.as_mut().as_pin_mut() else {
            return Poll::Ready(None);
        };
        match inner.poll_frame(cx) {
            Poll::Ready(frame) => {
                let ended = match &frame {
                    Some(Ok(frame)) => frame.is_trailers(),
                    Some(Err(_)) | None => true,
                };
                if ended {
                    // The call has its final status; the deadline no longer applies.
                    *this.sleep = None;
                }
                Poll::Ready(frame)
            }
            Poll::Pending if expired(this.sleep, cx) => {
                this.inner.set(None);
                Poll::Ready(Some(Ok(Frame::trailers(deadline_trailers()))))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(B::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        match &self.inner {
            Some(body) => body.size_hint(),
            None => SizeHint::with_exact(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(value: &str) -> Option<Duration> {
        let mut headers = HeaderMap::new();
        headers.insert(GRPC_TIMEOUT, HeaderValue::from_str(value).unwrap());
        grpc_timeout(&headers)
    }

    #[test]
    fn every_unit_is_read() {
        assert_eq!(parse("3H"), Some(Duration::from_secs(3 * 60 * 60)));
        assert_eq!(parse("2M"), Some(Duration::from_secs(120)));
        assert_eq!(parse("42S"), Some(Duration::from_secs(42)));
        assert_eq!(parse("13m"), Some(Duration::from_millis(13)));
        assert_eq!(parse("7u"), Some(Duration::from_micros(7)));
        assert_eq!(parse("82n"), Some(Duration::from_nanos(82)));
        assert_eq!(parse("0m"), Some(Duration::ZERO));
        assert_eq!(
            parse("99999999H"),
            Some(Duration::from_secs(99_999_999 * 3600))
        );
    }

    #[test]
    fn malformed_values_give_no_deadline() {
        for value in [
            "",
            "S",
            "5",
            "5s",
            "5x",
            "123456789S",
            "-5S",
            "+5S",
            " 5S",
            "5 S",
            "5.0S",
            "oneS",
        ] {
            assert_eq!(parse(value), None, "{value:?}");
        }
        let mut headers = HeaderMap::new();
        headers.insert(GRPC_TIMEOUT, HeaderValue::from_bytes(b"5\xffS").unwrap());
        assert_eq!(grpc_timeout(&headers), None);
        assert_eq!(grpc_timeout(&HeaderMap::new()), None);
    }

    #[test]
    fn the_trailers_say_deadline_exceeded() {
        let status = Status::from_header_map(&deadline_trailers()).unwrap();
        assert_eq!(status.code(), tonic::Code::DeadlineExceeded);
        assert_eq!(status.message(), DEADLINE_MESSAGE);
    }
}
