//! `grpc.health.v1.Health` for `""` (the whole server) and every registered service, through
//! tonic-health. Nothing reports SERVING before the listener is bound.
//!
//! At shutdown every registered name answers NOT_SERVING until the process exits, and open `Watch`
//! streams receive NOT_SERVING and then end, so they do not hold the drain open. tonic-health ends
//! a `Watch` stream only when its status is cleared, and a cleared status answers NOT_FOUND; so
//! the service is wrapped ([`DrainAwareHealth`]): from the moment shutdown starts, a registered
//! name is NOT_SERVING whatever tonic-health's table says, and a `Watch` opened then gets that one
//! status and ends.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use tonic::codegen::tokio_stream::Stream;
use tonic::{Code, Request, Response, Status};
use tonic_health::ServingStatus;
use tonic_health::pb::health_check_response::ServingStatus as WireStatus;
use tonic_health::pb::health_server::{self, HealthServer};
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};
use tonic_health::server::{HealthReporter, HealthService, WatchStream};

/// The health service's own full name, reserved for the runtime.
pub(crate) const HEALTH_SERVICE: &str = "grpc.health.v1.Health";

/// The statuses this server reports.
#[derive(Clone, Debug)]
pub(crate) struct Health {
    reporter: HealthReporter,
    /// `""` first, then each registered service.
    names: Arc<[&'static str]>,
    shutting_down: Arc<AtomicBool>,
}

impl Health {
    /// Every name starts NOT_SERVING; tonic-health's reporter would start `""` at SERVING.
    pub(crate) async fn new(
        services: impl IntoIterator<Item = &'static str>,
    ) -> (Health, HealthServer<DrainAwareHealth>) {
        let reporter = HealthReporter::new();
        let names: Arc<[&'static str]> = std::iter::once("").chain(services).collect();
        let health = Health {
            reporter,
            names,
            shutting_down: Arc::new(AtomicBool::new(false)),
        };
        health.set_all(ServingStatus::NotServing).await;
        let server = HealthServer::new(health.service());
        (health, server)
    }

    fn service(&self) -> DrainAwareHealth {
        DrainAwareHealth {
            inner: HealthService::from_health_reporter(self.reporter.clone()),
            names: Arc::clone(&self.names),
            shutting_down: Arc::clone(&self.shutting_down),
        }
    }

    pub(crate) async fn set_all(&self, status: ServingStatus) {
        for name in self.names.iter() {
            self.reporter.set_service_status(name, status).await;
        }
    }

    /// Shutdown has started: from now on every registered name answers NOT_SERVING, and open
    /// `Watch` streams are sent NOT_SERVING.
    pub(crate) async fn start_shutdown(&self) {
        // First, so no Check or Watch can see anything but NOT_SERVING from here on.
        self.shutting_down.store(true, Ordering::Release);
        self.set_all(ServingStatus::NotServing).await;
    }

    /// Ends every open `Watch` stream after it has seen NOT_SERVING. Dropping a status channel's
    /// sender (clearing the status) is the only way tonic-health ends its streams; a `Watch`
    /// stream yields the change it has not seen yet before it sees the end.
    pub(crate) async fn end_watches(&self) {
        debug_assert!(self.shutting_down.load(Ordering::Acquire));
        let mut reporter = self.reporter.clone();
        for name in self.names.iter() {
            reporter.clear_service_status(name).await;
        }
    }
}

/// tonic-health's service, answering NOT_SERVING for every registered name once shutdown has
/// started (see the module documentation).
#[derive(Debug)]
pub(crate) struct DrainAwareHealth {
    inner: HealthService,
    names: Arc<[&'static str]>,
    shutting_down: Arc<AtomicBool>,
}

impl DrainAwareHealth {
    fn is_registered(&self, name: &str) -> bool {
        self.names.contains(&name)
    }

    fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Acquire)
    }
}

fn not_serving() -> HealthCheckResponse {
    HealthCheckResponse {
        status: WireStatus::NotServing as i32,
    }
}

#[tonic::async_trait]
impl health_server::Health for DrainAwareHealth {
    async fn check(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<HealthCheckResponse>, Status> {
        let registered = self.is_registered(&request.get_ref().service);
        if registered && self.is_shutting_down() {
            return Ok(Response::new(not_serving()));
        }
        match self.inner.check(request).await {
            // Shutdown started after the flag was read above and the status is already cleared.
            Err(status) if status.code() == Code::NotFound && registered => {
                Ok(Response::new(not_serving()))
            }
            answer => answer,
        }
    }

    type WatchStream = HealthWatch;

    async fn watch(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<HealthWatch>, Status> {
        let registered = self.is_registered(&request.get_ref().service);
        if registered && self.is_shutting_down() {
            return Ok(Response::new(HealthWatch::Last(Some(not_serving()))));
        }
        match self.inner.watch(request).await {
            Ok(response) => Ok(response.map(HealthWatch::Live)),
            // As in `check`: cleared between the flag and the lookup.
            Err(status) if status.code() == Code::NotFound && registered => {
                Ok(Response::new(HealthWatch::Last(Some(not_serving()))))
            }
            Err(status) => Err(status),
        }
    }
}

/// A `Watch` stream: tonic-health's, or, once shutdown has started, NOT_SERVING and the end.
#[derive(Debug)]
pub(crate) enum HealthWatch {
    Live(WatchStream),
    Last(Option<HealthCheckResponse>),
}

impl Stream for HealthWatch {
    type Item = Result<HealthCheckResponse, Status>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.get_mut() {
            HealthWatch::Live(stream) => Pin::new(stream).poll_next(cx),
            HealthWatch::Last(last) => Poll::Ready(last.take().map(Ok)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::codegen::tokio_stream::StreamExt;
    use tonic_health::pb::health_server::Health as _;

    fn request(name: &str) -> Request<HealthCheckRequest> {
        Request::new(HealthCheckRequest {
            service: name.to_owned(),
        })
    }

    async fn status(health: &Health, name: &str) -> Result<WireStatus, Code> {
        match health.service().check(request(name)).await {
            Ok(response) => Ok(WireStatus::try_from(response.into_inner().status).unwrap()),
            Err(status) => Err(status.code()),
        }
    }

    /// Every status a `Watch` stream yields until it ends (or 5 s pass).
    async fn watched(mut stream: HealthWatch) -> Vec<WireStatus> {
        let mut seen = Vec::new();
        let collect = async {
            while let Some(item) = stream.next().await {
                seen.push(WireStatus::try_from(item.unwrap().status).unwrap());
            }
        };
        tokio::time::timeout(std::time::Duration::from_secs(5), collect)
            .await
            .expect("the watch stream ends");
        seen
    }

    #[tokio::test]
    async fn nothing_is_serving_until_told_and_everything_is_not_serving_after_shutdown() {
        let (health, _server) = Health::new(["shop.Catalog"]).await;
        for name in ["", "shop.Catalog"] {
            assert_eq!(
                status(&health, name).await,
                Ok(WireStatus::NotServing),
                "{name:?}"
            );
        }
        health.set_all(ServingStatus::Serving).await;
        for name in ["", "shop.Catalog"] {
            assert_eq!(
                status(&health, name).await,
                Ok(WireStatus::Serving),
                "{name:?}"
            );
        }
        assert_eq!(status(&health, "shop.Other").await, Err(Code::NotFound));

        health.start_shutdown().await;
        for name in ["", "shop.Catalog"] {
            assert_eq!(
                status(&health, name).await,
                Ok(WireStatus::NotServing),
                "{name:?}"
            );
        }
        health.end_watches().await;
        for name in ["", "shop.Catalog"] {
            assert_eq!(
                status(&health, name).await,
                Ok(WireStatus::NotServing),
                "{name:?} after the watches ended"
            );
        }
        assert_eq!(status(&health, "shop.Other").await, Err(Code::NotFound));
    }

    #[tokio::test]
    async fn a_check_that_finds_a_registered_status_already_cleared_answers_not_serving() {
        // A Check that read "not shutting down" just before shutdown started, then looked its name
        // up just after end_watches cleared it: tonic-health alone answers NOT_FOUND there.
        let (health, _server) = Health::new(["shop.Catalog"]).await;
        health.set_all(ServingStatus::Serving).await;
        let mut reporter = health.reporter.clone();
        reporter.clear_service_status("shop.Catalog").await;
        reporter.clear_service_status("").await;
        for name in ["", "shop.Catalog"] {
            assert_eq!(
                status(&health, name).await,
                Ok(WireStatus::NotServing),
                "{name:?}"
            );
            let watch = health.service().watch(request(name)).await.unwrap();
            assert_eq!(
                watched(watch.into_inner()).await,
                [WireStatus::NotServing],
                "{name:?}"
            );
        }
    }

    #[tokio::test]
    async fn watches_see_not_serving_before_they_end_whenever_they_were_opened() {
        let (health, _server) = Health::new(["shop.Catalog"]).await;
        health.set_all(ServingStatus::Serving).await;
        let service = health.service();
        let before = service.watch(request("shop.Catalog")).await.unwrap();
        let whole = service.watch(request("")).await.unwrap();
        health.start_shutdown().await;
        let during = service.watch(request("shop.Catalog")).await.unwrap();
        health.end_watches().await;
        let after = service.watch(request("")).await.unwrap();

        // A stream that was not polled before the change yields only the latest status.
        let opened_before = watched(before.into_inner()).await;
        assert_eq!(opened_before.last(), Some(&WireStatus::NotServing));
        assert_eq!(
            watched(whole.into_inner()).await.last(),
            Some(&WireStatus::NotServing)
        );
        assert_eq!(watched(during.into_inner()).await, [WireStatus::NotServing]);
        assert_eq!(watched(after.into_inner()).await, [WireStatus::NotServing]);
        let unknown = service.watch(request("shop.Other")).await.unwrap_err();
        assert_eq!(unknown.code(), Code::NotFound);
    }
}
