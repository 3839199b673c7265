//! `grpc.health.v1.Health` for `""` (the whole server) and every registered service, through
//! tonic-health. Nothing reports SERVING before the listener is bound; shutdown turns everything
//! NOT_SERVING and then ends open `Watch` streams so they do not hold the drain open.

use tonic_health::ServingStatus;
use tonic_health::pb::health_server::HealthServer;
use tonic_health::server::{HealthReporter, HealthService};

/// The health service's own full name, reserved for the runtime.
pub(crate) const HEALTH_SERVICE: &str = "grpc.health.v1.Health";

/// The statuses this server reports.
#[derive(Clone, Debug)]
pub(crate) struct Health {
    reporter: HealthReporter,
    /// `""` first, then each registered service.
    names: Vec<&'static str>,
}

impl Health {
    /// Every name starts NOT_SERVING; tonic-health's reporter would start `""` at SERVING.
    pub(crate) async fn new(
        services: impl IntoIterator<Item = &'static str>,
    ) -> (Health, HealthServer<HealthService>) {
        let reporter = HealthReporter::new();
        let names: Vec<&'static str> = std::iter::once("").chain(services).collect();
        let health = Health { reporter, names };
        health.set_all(ServingStatus::NotServing).await;
        let server =
            HealthServer::new(HealthService::from_health_reporter(health.reporter.clone()));
        (health, server)
    }

    pub(crate) async fn set_all(&self, status: ServingStatus) {
        for name in &self.names {
            self.reporter.set_service_status(name, status).await;
        }
    }

    /// Ends every open `Watch` stream after it has seen the latest status, keeping NOT_SERVING
    /// for later checks. A `Watch` stream ends when its status channel's sender is dropped, so
    /// each channel is replaced by a fresh one; a `Check` landing between the two steps sees
    /// NOT_FOUND, which only a client that ignored the GOAWAY already sent could hit.
    pub(crate) async fn end_watches(&self) {
        let mut reporter = self.reporter.clone();
        for name in &self.names {
            reporter.clear_service_status(name).await;
            reporter
                .set_service_status(name, ServingStatus::NotServing)
                .await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::Request;
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_check_response::ServingStatus as Wire;
    use tonic_health::pb::health_server::Health as _;

    async fn status(health: &Health, name: &str) -> Result<Wire, tonic::Code> {
        let service = HealthService::from_health_reporter(health.reporter.clone());
        let request = Request::new(HealthCheckRequest {
            service: name.to_owned(),
        });
        match service.check(request).await {
            Ok(response) => Ok(Wire::try_from(response.into_inner().status).unwrap()),
            Err(status) => Err(status.code()),
        }
    }

    #[tokio::test]
    async fn nothing_is_serving_until_told_and_end_watches_keeps_not_serving() {
        let (health, _server) = Health::new(["shop.Catalog"]).await;
        for name in ["", "shop.Catalog"] {
            assert_eq!(
                status(&health, name).await,
                Ok(Wire::NotServing),
                "{name:?}"
            );
        }
        health.set_all(ServingStatus::Serving).await;
        for name in ["", "shop.Catalog"] {
            assert_eq!(status(&health, name).await, Ok(Wire::Serving), "{name:?}");
        }
        assert_eq!(
            status(&health, "shop.Other").await,
            Err(tonic::Code::NotFound)
        );
        health.set_all(ServingStatus::NotServing).await;
        health.end_watches().await;
        for name in ["", "shop.Catalog"] {
            assert_eq!(
                status(&health, name).await,
                Ok(Wire::NotServing),
                "{name:?}"
            );
        }
    }
}
