//! The trainer's schedule, in memory (seed 001 keeps it in Firestore). An hour nobody has
//! updated is free: the example trainer works around the clock.

use std::collections::HashMap;
use std::sync::Mutex;

use prost_types::Timestamp;
use tonic::{Request, Response, Status};
use workouts_api::trainer::trainer_service_server::TrainerService;
use workouts_api::trainer::{
    EmptyResponse, IsHourAvailableRequest, IsHourAvailableResponse, UpdateHourRequest,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Hour {
    available: bool,
    has_training_scheduled: bool,
}

/// The schedule: full hours (seconds since the epoch) the trainer has set.
#[derive(Debug, Default)]
pub struct Trainer {
    hours: Mutex<HashMap<i64, Hour>>,
}

/// The full hour a request names, or INVALID_ARGUMENT saying what is wrong.
fn full_hour(time: Option<&Timestamp>) -> Result<i64, Status> {
    let time = time.ok_or_else(|| Status::invalid_argument("time is missing"))?;
    if time.nanos != 0 || time.seconds % 3600 != 0 {
        return Err(Status::invalid_argument(
            "time must be a full hour (minutes, seconds and nanos zero)",
        ));
    }
    Ok(time.seconds)
}

#[tonic::async_trait]
impl TrainerService for Trainer {
    async fn is_hour_available(
        &self,
        request: Request<IsHourAvailableRequest>,
    ) -> Result<Response<IsHourAvailableResponse>, Status> {
        let hour = full_hour(request.get_ref().time.as_ref())?;
        let hours = self.hours.lock().unwrap_or_else(|e| e.into_inner());
        let is_available = hours
            .get(&hour)
            .is_none_or(|h| h.available && !h.has_training_scheduled);
        Ok(Response::new(IsHourAvailableResponse { is_available }))
    }

    async fn update_hour(
        &self,
        request: Request<UpdateHourRequest>,
    ) -> Result<Response<EmptyResponse>, Status> {
        let update = request.into_inner();
        let hour = full_hour(update.time.as_ref())?;
        self.hours.lock().unwrap_or_else(|e| e.into_inner()).insert(
            hour,
            Hour {
                available: update.available,
                has_training_scheduled: update.has_training_scheduled,
            },
        );
        Ok(Response::new(EmptyResponse {}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Option<Timestamp> {
        Some(Timestamp { seconds, nanos: 0 })
    }

    #[tokio::test]
    async fn hours_are_free_until_booked_and_only_full_hours_are_accepted() {
        let trainer = Trainer::default();
        let ask = |seconds| Request::new(IsHourAvailableRequest { time: at(seconds) });
        assert!(
            trainer
                .is_hour_available(ask(7200))
                .await
                .unwrap()
                .get_ref()
                .is_available
        );

        trainer
            .update_hour(Request::new(UpdateHourRequest {
                time: at(7200),
                has_training_scheduled: true,
                available: false,
            }))
            .await
            .unwrap();
        assert!(
            !trainer
                .is_hour_available(ask(7200))
                .await
                .unwrap()
                .get_ref()
                .is_available
        );
        assert!(
            trainer
                .is_hour_available(ask(10800))
                .await
                .unwrap()
                .get_ref()
                .is_available
        );

        let status = trainer.is_hour_available(ask(7201)).await.unwrap_err();
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        let status = trainer
            .is_hour_available(Request::new(IsHourAvailableRequest { time: None }))
            .await
            .unwrap_err();
        assert_eq!(status.message(), "time is missing");
    }
}
