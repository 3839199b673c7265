//! What tonic's own server tells handlers about their connection: it inserts a
//! [`TcpConnectInfo`] into every request's extensions, which is where
//! `tonic::Request::remote_addr()` and `local_addr()` look. The runtime builds one per accepted
//! connection and clones it into each request (two socket addresses, no reference counting).

use std::task::{Context, Poll};

use http::Request;
use tonic::transport::server::TcpConnectInfo;

/// The service wrapper of one connection, giving each request that connection's addresses.
#[derive(Clone, Debug)]
pub(crate) struct ConnectInfo<S> {
    inner: S,
    info: TcpConnectInfo,
}

impl<S> ConnectInfo<S> {
    pub(crate) fn new(inner: S, info: TcpConnectInfo) -> Self {
        ConnectInfo { inner, info }
    }
}

impl<S, ReqBody> tower::Service<Request<ReqBody>> for ConnectInfo<S>
where
    S: tower::Service<Request<ReqBody>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        request.extensions_mut().insert(self.info.clone());
        self.inner.call(request)
    }
}
