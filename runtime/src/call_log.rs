//! One log line per call, and the count of calls in flight that the drain waits on.
//!
//! [`CallLog`] wraps the whole service stack. Each call gets a [`CallRecord`] (method, start time,
//! trace context) that travels with the response future and then the response body, and writes
//! the line when the final status is known: from the headers of a trailers-only response, from
//! the trailers of a streamed one, or, if neither ever comes, when it is dropped (the client went
//! away, or the shutdown deadline cut the call).
//!
//! The body wrapper also catches panics raised while a streaming body is produced and ends that
//! stream with `INTERNAL` trailers, leaving the connection's other streams alone.
//!
//! Per call this costs a clone of the request path (a reference count), two atomic updates, and
//! the line itself, formatted straight into the log buffer (see [`logging`](crate::logging)).

use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Instant;

use bytes::Bytes;
use http::uri::PathAndQuery;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use tokio::sync::Notify;
use tonic::{Code, Status};
use tracing::Level;

use crate::auth::Caller;
use crate::logging::{CallLine, Logging};
use crate::panic::{PANIC_STATUS_MESSAGE, PanicMessage, internal_trailers, panic_message};
use crate::trace_context::TraceContext;

/// State shared by every call of one server.
pub(crate) struct Calls {
    logging: Logging,
    /// Trace headers are only parsed when a project id makes them usable in the log.
    read_trace_context: bool,
    in_flight: AtomicUsize,
    draining: AtomicBool,
    cut: AtomicBool,
    idle: Notify,
}

impl Calls {
    pub(crate) fn new(logging: Logging, read_trace_context: bool) -> Self {
        Calls {
            logging,
            read_trace_context,
            in_flight: AtomicUsize::new(0),
            draining: AtomicBool::new(false),
            cut: AtomicBool::new(false),
            idle: Notify::new(),
        }
    }

    pub(crate) fn logging(&self) -> &Logging {
        &self.logging
    }

    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }

    /// From now on the last call to finish wakes [`wait_idle`](Self::wait_idle).
    pub(crate) fn start_draining(&self) {
        self.draining.store(true, Ordering::Release);
    }

    /// Calls that end from now on were cut by the shutdown deadline, not by their client.
    pub(crate) fn mark_cut(&self) {
        self.cut.store(true, Ordering::Release);
    }

    /// Resolves once no call is in flight. Only meaningful after [`start_draining`](Self::start_draining).
    pub(crate) async fn wait_idle(&self) {
        loop {
            let notified = self.idle.notified();
            tokio::pin!(notified);
            // Registered before the check, so a call ending in between still wakes us.
            notified.as_mut().enable();
            if self.in_flight() == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// The service wrapper that logs every call.
#[derive(Clone)]
pub(crate) struct CallLog<S> {
    inner: S,
    calls: Arc<Calls>,
}

impl<S> CallLog<S> {
    pub(crate) fn new(inner: S, calls: Arc<Calls>) -> Self {
        CallLog { inner, calls }
    }
}

impl<S, ReqBody, ResBody> tower::Service<Request<ReqBody>> for CallLog<S>
where
    S: tower::Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: Body<Data = Bytes>,
    ResBody::Error: fmt::Display,
{
    type Response = Response<CallBody<ResBody>>;
    type Error = S::Error;
    type Future = CallFuture<S::Future>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let record = CallRecord::start(&self.calls, &request);
        CallFuture {
            inner: self.inner.call(request),
            record: Some(record),
        }
    }
}

/// One call, from its request until its line is written.
pub(crate) struct CallRecord {
    calls: Arc<Calls>,
    method: Option<PathAndQuery>,
    started: Instant,
    trace: Option<TraceContext>,
    http_status: StatusCode,
    /// The verified caller, when identity checks are on and the call carried a token.
    caller: Option<Caller>,
    logged: bool,
}

impl CallRecord {
    fn start<B>(calls: &Arc<Calls>, request: &Request<B>) -> Self {
        calls.in_flight.fetch_add(1, Ordering::AcqRel);
        CallRecord {
            calls: Arc::clone(calls),
            method: request.uri().path_and_query().cloned(),
            started: Instant::now(),
            trace: if calls.read_trace_context {
                TraceContext::from_headers(request.headers())
            } else {
                None
            },
            http_status: StatusCode::OK,
            caller: None,
            logged: false,
        }
    }

    /// Logs now if the response headers already carry the final status (trailers-only
    /// responses, including every error a unary call returns); otherwise hands the record back
    /// to travel with the body.
    fn on_headers(
        mut self,
        headers: &HeaderMap,
        status: StatusCode,
        panic: Option<PanicMessage>,
        body_is_empty: bool,
    ) -> Option<Self> {
        self.http_status = status;
        if let Some(code) = headers.get("grpc-status") {
            let code = Code::from_bytes(code.as_bytes());
            self.finish_with(code, headers, panic.as_ref().map(|p| p.0.as_str()));
            None
        } else if body_is_empty {
            self.finish_without_status();
            None
        } else {
            Some(self)
        }
    }

    fn on_trailers(self, trailers: &HeaderMap) {
        match trailers.get("grpc-status") {
            Some(code) => {
                let code = Code::from_bytes(code.as_bytes());
                self.finish_with(code, trailers, None);
            }
            None => self.finish(
                Code::Unknown,
                Some("the response trailers carry no grpc-status"),
                None,
            ),
        }
    }

    /// The message is only decoded (and allocated) for calls that failed.
    fn finish_with(self, code: Code, headers: &HeaderMap, panic: Option<&str>) {
        if code == Code::Ok {
            self.finish(code, None, panic);
        } else {
            let status = Status::from_header_map(headers);
            let message = status
                .as_ref()
                .map(Status::message)
                .filter(|m| !m.is_empty());
            self.finish(code, message, panic);
        }
    }

    /// A response that ended without any grpc-status: the code a gRPC client derives from the
    /// HTTP status (gRPC's "HTTP to gRPC status code mapping").
    fn finish_without_status(self) {
        let code = match self.http_status.as_u16() {
            400 => Code::Internal,
            401 => Code::Unauthenticated,
            403 => Code::PermissionDenied,
            404 => Code::Unimplemented,
            429 | 502..=504 => Code::Unavailable,
            _ => Code::Unknown,
        };
        let message = format!(
            "the response (HTTP {}) ended without a grpc-status",
            self.http_status.as_u16()
        );
        self.finish(code, Some(&message), None);
    }

    fn finish(mut self, code: Code, status_message: Option<&str>, panic: Option<&str>) {
        self.emit(code, status_message, panic);
        self.logged = true;
    }

    fn emit(&self, code: Code, status_message: Option<&str>, panic: Option<&str>) {
        self.calls.logging.call(&CallLine {
            level: level(code, panic.is_some()),
            method: self.method.as_ref().map_or("", PathAndQuery::path),
            code,
            latency_us: u64::try_from(self.started.elapsed().as_micros()).unwrap_or(u64::MAX),
            status_message,
            panic,
            principal: self.caller.as_ref().map(Caller::principal),
            trace: self.trace.as_ref(),
        });
    }
}

impl Drop for CallRecord {
    fn drop(&mut self) {
        if !self.logged {
            // The call never reached a final status: its future or body was dropped.
            if self.calls.cut.load(Ordering::Acquire) {
                self.emit(
                    Code::Unavailable,
                    Some("cut: still running when the shutdown grace period ended"),
                    None,
                );
            } else {
                self.emit(
                    Code::Cancelled,
                    Some("cancelled: the client reset the stream or the connection closed"),
                    None,
                );
            }
        }
        if self.calls.in_flight.fetch_sub(1, Ordering::AcqRel) == 1
            && self.calls.draining.load(Ordering::Acquire)
        {
            self.calls.idle.notify_waiters();
        }
    }
}

/// Severity by outcome: the caller's own mistakes are INFO, conditions worth a look WARNING,
/// server faults ERROR (the split go-grpc-middleware's logging uses).
fn level(code: Code, panicked: bool) -> Level {
    if panicked {
        return Level::ERROR;
    }
    match code {
        Code::Ok
        | Code::Cancelled
        | Code::InvalidArgument
        | Code::NotFound
        | Code::AlreadyExists
        | Code::Unauthenticated => Level::INFO,
        Code::DeadlineExceeded
        | Code::PermissionDenied
        | Code::ResourceExhausted
        | Code::FailedPrecondition
        | Code::Aborted
        | Code::OutOfRange
        | Code::Unavailable => Level::WARN,
        Code::Unknown | Code::Unimplemented | Code::Internal | Code::DataLoss => Level::ERROR,
    }
}

/// The canonical name of a status code, as gRPC's documentation and other languages print it.
pub(crate) fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

pin_project! {
    /// The response future of a logged call.
    pub(crate) struct CallFuture<F> {
        #[pin]
        inner: F,
        record: Option<CallRecord>,
    }
}

impl<F, ResBody, E> Future for CallFuture<F>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
    ResBody: Body,
{
    type Output = Result<Response<CallBody<ResBody>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        let record = this.record.take();
        Poll::Ready(match result {
            Ok(response) => {
                let (mut parts, body) = response.into_parts();
                let panic = parts.extensions.remove::<PanicMessage>();
                let caller = parts.extensions.remove::<Caller>();
                let record = record.and_then(|mut r| {
                    r.caller = caller;
                    r.on_headers(&parts.headers, parts.status, panic, body.is_end_stream())
                });
                Ok(Response::from_parts(
                    parts,
                    CallBody {
                        inner: body,
                        record,
                        poisoned: false,
                    },
                ))
            }
            Err(error) => {
                if let Some(record) = record {
                    record.finish(Code::Internal, Some("the service returned an error"), None);
                }
                Err(error)
            }
        })
    }
}

pin_project! {
    /// The response body of a logged call.
    pub(crate) struct CallBody<B> {
        #[pin]
        inner: B,
        record: Option<CallRecord>,
        // Set once the inner body panicked; it is never polled again.
        poisoned: bool,
    }
}

impl<B> Body for CallBody<B>
where
    B: Body<Data = Bytes>,
    B::Error: fmt::Display,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let this = self.project();
        if *this.poisoned {
            return Poll::Ready(None);
        }
        let inner = this.inner;
        match catch_unwind(AssertUnwindSafe(|| inner.poll_frame(cx))) {
            Ok(Poll::Ready(Some(Ok(frame)))) => {
                if let Some(trailers) = frame.trailers_ref()
                    && let Some(record) = this.record.take()
                {
                    record.on_trailers(trailers);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Ok(Poll::Ready(Some(Err(error)))) => {
                if let Some(record) = this.record.take() {
                    let message = format!("the response body failed: {error}");
                    record.finish(Code::Internal, Some(&message), None);
                }
                Poll::Ready(Some(Err(error)))
            }
            Ok(Poll::Ready(None)) => {
                if let Some(record) = this.record.take() {
                    record.finish_without_status();
                }
                Poll::Ready(None)
            }
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => {
                *this.poisoned = true;
                let panic = panic_message(&*payload);
                if let Some(record) = this.record.take() {
                    record.finish(Code::Internal, Some(PANIC_STATUS_MESSAGE), Some(&panic));
                }
                Poll::Ready(Some(Ok(Frame::trailers(internal_trailers()))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.poisoned || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        if self.poisoned {
            SizeHint::with_exact(0)
        } else {
            self.inner.size_hint()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_its_canonical_name() {
        for n in 0..=16 {
            let code = Code::from_i32(n);
            let name = code_name(code);
            // The names are the upper snake case of tonic's variant names.
            let mut expected = String::new();
            for (i, c) in format!("{code:?}").chars().enumerate() {
                if c.is_ascii_uppercase() && i > 0 {
                    expected.push('_');
                }
                expected.push(c.to_ascii_uppercase());
            }
            assert_eq!(name, expected, "code {n}");
        }
    }

    #[test]
    fn severity_follows_who_is_at_fault() {
        assert_eq!(level(Code::Ok, false), Level::INFO);
        assert_eq!(level(Code::NotFound, false), Level::INFO);
        assert_eq!(level(Code::Unavailable, false), Level::WARN);
        assert_eq!(level(Code::Internal, false), Level::ERROR);
        assert_eq!(level(Code::Ok, true), Level::ERROR);
    }
}
