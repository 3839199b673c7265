//! [`Channel`]: the transport generated clients run on. Each call gets a deadline, a bearer token
//! from the cache, and, when it fails in a way that a repeat can fix, another attempt.
//!
//! Retries follow gRPC's own rule: a call is committed once response headers arrive, so only
//! trailers-only answers (`UNAVAILABLE`, `UNAUTHENTICATED`) and transport failures are retried,
//! never a response that has started to stream. Requests that may be replayed (every method
//! whose request is not a stream) are buffered, one encoded message, before the first attempt.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, Response};
use http_body::{Body as HttpBody, Frame, SizeHint};
use http_body_util::{BodyExt, Full};
use pin_project_lite::pin_project;
use tokio::time::{Instant, Sleep};
use tonic::Status;
use tonic::body::Body;
use tower::{Service, ServiceExt};

use super::cache::{CachedToken, TokenCache};
use super::grpc_timeout::{self, GRPC_TIMEOUT};
use super::retry::RetryPolicy;

/// What the channel knows about one method.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct MethodPolicy {
    /// `UNAVAILABLE` may be retried (the method is safe to repeat).
    pub(crate) retry_unavailable: bool,
    /// The request is one message that can be buffered and sent again.
    pub(crate) replayable: bool,
}

pub(crate) struct Shared {
    pub(crate) tokens: Option<Arc<TokenCache>>,
    pub(crate) token_header: http::HeaderName,
    pub(crate) default_timeout: Duration,
    pub(crate) retry: RetryPolicy,
    pub(crate) methods: HashMap<Box<str>, MethodPolicy>,
    pub(crate) target: String,
}

/// A connection to one service (TLS or h2c), shared by every clone, that attaches an ID token
/// and a deadline to each call and retries what is safe to retry.
///
/// Made by [`ClientConfig::connect`](super::ClientConfig::connect); generated clients wrap it
/// (`TrainerServiceClient<Channel>`). Cloning is cheap: clones share the connection and the
/// token cache.
#[derive(Clone)]
pub struct Channel {
    inner: tonic::transport::Channel,
    shared: Arc<Shared>,
}

impl fmt::Debug for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Channel")
            .field("target", &self.shared.target)
            .field("audience", &self.audience())
            .finish_non_exhaustive()
    }
}

impl Channel {
    pub(crate) fn new(inner: tonic::transport::Channel, shared: Shared) -> Self {
        Channel {
            inner,
            shared: Arc::new(shared),
        }
    }

    /// The audience of the tokens sent, or `None` when calls carry no token.
    pub fn audience(&self) -> Option<&str> {
        self.shared.tokens.as_ref().map(|t| t.audience())
    }

    /// What the tokens come from, or `None` when calls carry no token.
    pub fn token_source(&self) -> Option<&str> {
        self.shared.tokens.as_ref().map(|t| t.source_text())
    }

    /// How many times the token source was asked for a token so far (one per token lifetime
    /// when all goes well, whatever the number of calls).
    pub fn token_fetches(&self) -> u64 {
        self.shared.tokens.as_ref().map_or(0, |t| t.fetches())
    }

    /// The address calls go to, `https://host:port` or `http://host:port`.
    pub fn target(&self) -> &str {
        &self.shared.target
    }
}

impl Service<Request<Body>> for Channel {
    type Response = Response<ResponseBody>;
    type Error = tonic::transport::Error;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // Readiness of the connection is awaited per attempt, inside the call.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        ResponseFuture {
            inner: Box::pin(call(self.inner.clone(), Arc::clone(&self.shared), request)),
        }
    }
}

/// The future of one call through a [`Channel`].
pub struct ResponseFuture {
    inner: Pin<
        Box<dyn Future<Output = Result<Response<ResponseBody>, tonic::transport::Error>> + Send>,
    >,
}

impl fmt::Debug for ResponseFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl Future for ResponseFuture {
    type Output = Result<Response<ResponseBody>, tonic::transport::Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx)
    }
}

async fn call(
    inner: tonic::transport::Channel,
    shared: Arc<Shared>,
    mut request: Request<Body>,
) -> Result<Response<ResponseBody>, tonic::transport::Error> {
    let timeout = request
        .headers()
        .get(GRPC_TIMEOUT)
        .and_then(grpc_timeout::parse)
        .unwrap_or(shared.default_timeout);
    let deadline = Instant::now() + timeout;
    let policy = shared
        .methods
        .get(request.uri().path())
        .copied()
        .unwrap_or_default();
    // The server learns the deadline too, so it can stop working on a call nobody awaits.
    request
        .headers_mut()
        .insert(GRPC_TIMEOUT, grpc_timeout::format(timeout));

    let attempts = attempts(inner, &shared, request, policy, deadline);
    let expired = || {
        status_response(Status::deadline_exceeded(format!(
            "no answer from {} within the call's deadline of {} ms (set a longer one with \
             tonic::Request::set_timeout or ClientConfig::default_timeout)",
            shared.target,
            timeout.as_millis()
        )))
        .map(|body| ResponseBody::new(body, None))
    };
    match tokio::time::timeout_at(deadline, attempts).await {
        Ok(Ok(response)) => Ok(response.map(|body| ResponseBody::new(body, Some(deadline)))),
        // tonic's channel enforces the grpc-timeout header too, and may notice first.
        Ok(Err(error)) if is_timeout(&error) => Ok(expired()),
        Ok(Err(error)) => Err(error),
        Err(_) => Ok(expired()),
    }
}

/// How an attempt ended, for the retry decision.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Final,
    Unavailable { refused: bool },
    Unauthenticated,
}

async fn attempts(
    inner: tonic::transport::Channel,
    shared: &Shared,
    request: Request<Body>,
    policy: MethodPolicy,
    deadline: Instant,
) -> Result<Response<Body>, tonic::transport::Error> {
    let (parts, body) = request.into_parts();
    if !policy.replayable {
        let token = match token(shared).await {
            Ok(token) => token,
            Err(response) => return Ok(response),
        };
        let mut request = Request::from_parts(parts, body);
        if let Some(token) = &token {
            request
                .headers_mut()
                .insert(shared.token_header.clone(), token.header.clone());
        }
        return send(inner, request).await;
    }

    let message = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(status) => return Ok(status_response(status)),
    };
    let mut attempt: u32 = 1;
    let mut refreshed = false;
    loop {
        let token = match token(shared).await {
            Ok(token) => token,
            Err(response) => return Ok(response),
        };
        let mut headers = parts.headers.clone();
        if let Some(token) = &token {
            headers.insert(shared.token_header.clone(), token.header.clone());
        }
        if attempt > 1 || refreshed {
            let left = deadline.saturating_duration_since(Instant::now());
            headers.insert(GRPC_TIMEOUT, grpc_timeout::format(left));
        }
        let mut request = Request::new(Body::new(Full::new(message.clone())));
        *request.method_mut() = parts.method.clone();
        *request.uri_mut() = parts.uri.clone();
        *request.version_mut() = parts.version;
        *request.headers_mut() = headers;

        let result = send(inner.clone(), request).await;
        match outcome(&result) {
            Outcome::Final => return result,
            Outcome::Unauthenticated => match (&shared.tokens, &token) {
                (Some(cache), Some(used)) if !refreshed => {
                    // The token was refused (revoked, expired early, wrong audience after a
                    // config change): fetch a new one and try once more.
                    tracing::debug!(
                        target = shared.target.as_str(),
                        "UNAUTHENTICATED: fetching a fresh ID token and retrying once"
                    );
                    cache.invalidate(used);
                    refreshed = true;
                }
                _ => return result,
            },
            Outcome::Unavailable { refused } => {
                if !(policy.retry_unavailable || refused) || attempt >= shared.retry.attempts() {
                    return result;
                }
                let pause = shared.retry.backoff(attempt);
                if Instant::now() + pause >= deadline {
                    return result;
                }
                tracing::debug!(
                    target = shared.target.as_str(),
                    attempt,
                    refused,
                    "UNAVAILABLE: retrying after {} ms",
                    pause.as_millis()
                );
                tokio::time::sleep(pause).await;
                attempt += 1;
            }
        }
    }
}

/// The current token, or the `UNAUTHENTICATED` answer to give instead of calling.
async fn token(shared: &Shared) -> Result<Option<Arc<CachedToken>>, Response<Body>> {
    match &shared.tokens {
        None => Ok(None),
        Some(cache) => cache
            .get()
            .await
            .map(Some)
            .map_err(|message| status_response(Status::unauthenticated(message.as_ref()))),
    }
}

async fn send(
    mut inner: tonic::transport::Channel,
    request: Request<Body>,
) -> Result<Response<Body>, tonic::transport::Error> {
    inner.ready().await?;
    inner.call(request).await
}

fn outcome(result: &Result<Response<Body>, tonic::transport::Error>) -> Outcome {
    match result {
        Ok(response) => match response.headers().get("grpc-status").map(|v| v.as_bytes()) {
            Some(b"14") => Outcome::Unavailable { refused: false },
            Some(b"16") => Outcome::Unauthenticated,
            Some(_) => Outcome::Final,
            // No gRPC status: an HTTP answer from a proxy or the frontend, mapped the way gRPC
            // clients map it (401 is what Cloud Run's IAM check answers a bad token with).
            None => match response.status().as_u16() {
                401 => Outcome::Unauthenticated,
                429 | 502 | 503 | 504 => Outcome::Unavailable { refused: false },
                _ => Outcome::Final,
            },
        },
        Err(error) if is_timeout(error) => Outcome::Final,
        Err(error) => Outcome::Unavailable {
            refused: is_refused_stream(error),
        },
    }
}

/// Whether tonic gave up because the call's `grpc-timeout` passed.
fn is_timeout(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(error) = source {
        if error.is::<tonic::TimeoutExpired>() {
            return true;
        }
        source = error.source();
    }
    false
}

/// Whether the server refused the stream before processing it (HTTP/2 `REFUSED_STREAM`, which a
/// GOAWAY implies for streams above its last id).
fn is_refused_stream(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(error) = source {
        if let Some(h2) = error.downcast_ref::<h2::Error>() {
            return h2.reason() == Some(h2::Reason::REFUSED_STREAM);
        }
        source = error.source();
    }
    false
}

fn status_response(status: Status) -> Response<Body> {
    status.into_http()
}

pin_project! {
    /// The response body of a call through a [`Channel`]: the server's, ended with
    /// `DEADLINE_EXCEEDED` trailers if the call's deadline passes while it streams.
    pub struct ResponseBody {
        #[pin]
        inner: Body,
        deadline: Option<Instant>,
        // Created only if the body ever has to wait, so complete unary answers never arm a timer.
        sleep: Option<Pin<Box<Sleep>>>,
        expired: bool,
    }
}

impl ResponseBody {
    fn new(inner: Body, deadline: Option<Instant>) -> Self {
        ResponseBody {
            inner,
            deadline,
            sleep: None,
            expired: false,
        }
    }
}

impl fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseBody")
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

impl HttpBody for ResponseBody {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let this = self.project();
        if *this.expired {
            return Poll::Ready(None);
        }
        match this.inner.poll_frame(cx) {
            Poll::Ready(frame) => Poll::Ready(frame),
            Poll::Pending => {
                let Some(deadline) = *this.deadline else {
                    return Poll::Pending;
                };
                let sleep = this
                    .sleep
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                match sleep.as_mut().poll(cx) {
                    Poll::Pending => Poll::Pending,
                    Poll::Ready(()) => {
                        *this.expired = true;
                        let mut trailers = HeaderMap::new();
                        let status = Status::deadline_exceeded(
                            "the call's deadline passed while the response was streaming",
                        );
                        // Only fails for messages that cannot be encoded; this one can.
                        let _ = status.add_header(&mut trailers);
                        Poll::Ready(Some(Ok(Frame::trailers(trailers))))
                    }
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.expired || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        if self.expired {
            SizeHint::with_exact(0)
        } else {
            self.inner.size_hint()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(grpc_status: Option<&'static str>, http: u16) -> Response<Body> {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = http::StatusCode::from_u16(http).unwrap();
        if let Some(code) = grpc_status {
            response
                .headers_mut()
                .insert("grpc-status", http::HeaderValue::from_static(code));
        }
        response
    }

    #[test]
    fn trailers_only_answers_and_http_errors_are_classified_like_grpc_does() {
        assert_eq!(outcome(&Ok(answer(Some("0"), 200))), Outcome::Final);
        assert_eq!(
            outcome(&Ok(answer(Some("14"), 200))),
            Outcome::Unavailable { refused: false }
        );
        assert_eq!(
            outcome(&Ok(answer(Some("16"), 200))),
            Outcome::Unauthenticated
        );
        assert_eq!(outcome(&Ok(answer(Some("7"), 200))), Outcome::Final);
        assert_eq!(outcome(&Ok(answer(None, 401))), Outcome::Unauthenticated);
        assert_eq!(
            outcome(&Ok(answer(None, 503))),
            Outcome::Unavailable { refused: false }
        );
        assert_eq!(outcome(&Ok(answer(None, 200))), Outcome::Final);
        assert_eq!(outcome(&Ok(answer(None, 403))), Outcome::Final);
    }

    #[test]
    fn refused_streams_are_found_anywhere_in_the_error_chain() {
        #[derive(Debug, thiserror::Error)]
        #[error("wrapped")]
        struct Wrapped(#[source] h2::Error);
        let refused = Wrapped(h2::Error::from(h2::Reason::REFUSED_STREAM));
        assert!(is_refused_stream(&refused));
        let other = Wrapped(h2::Error::from(h2::Reason::INTERNAL_ERROR));
        assert!(!is_refused_stream(&other));
        assert!(!is_refused_stream(&std::io::Error::other("x")));
    }
}
