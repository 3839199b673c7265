//! Scheduling a training: the trainer must be free, the user must have a training left, and
//! the hour is booked last (the training is given back if booking fails).

use cloudrun_runtime::Caller;
use tonic::{Code, Request, Response, Status};
use workouts_api::trainer::trainer_service_cloudrun::Client as TrainerClient;
use workouts_api::trainer::{IsHourAvailableRequest, UpdateHourRequest};
use workouts_api::trainings::trainings_service_server::TrainingsService;
use workouts_api::trainings::{ScheduleTrainingRequest, ScheduleTrainingResponse};
use workouts_api::users::users_service_cloudrun::Client as UsersClient;
use workouts_api::users::{GetTrainingBalanceRequest, UpdateTrainingBalanceRequest};

/// The service, holding one client per callee (clones share their connection and tokens).
#[derive(Debug)]
pub struct Trainings {
    trainer: TrainerClient,
    users: UsersClient,
}

impl Trainings {
    pub fn new(trainer: TrainerClient, users: UsersClient) -> Self {
        Trainings { trainer, users }
    }
}

/// Turns a callee's failure into this service's answer: the caller's own mistakes keep their
/// code, the rest says which callee failed.
fn upstream(callee: &'static str) -> impl Fn(Status) -> Status {
    move |status| match status.code() {
        Code::InvalidArgument | Code::FailedPrecondition | Code::NotFound => {
            Status::new(status.code(), format!("{callee}: {}", status.message()))
        }
        Code::Unavailable | Code::DeadlineExceeded => Status::unavailable(format!(
            "the {callee} service is unavailable: {}",
            status.message()
        )),
        code => Status::internal(format!(
            "calling the {callee} service failed ({code:?}): {}",
            status.message()
        )),
    }
}

/// Who the training is for: the verified caller when identity checks are on, else the
/// request's `user_id`.
fn user_of(caller: Option<&Caller>, requested: &str) -> Result<String, Status> {
    let requested = requested.trim();
    match caller {
        Some(caller) if requested.is_empty() || requested == caller.principal() => {
            Ok(caller.principal().to_owned())
        }
        Some(caller) => Err(Status::permission_denied(format!(
            "{} cannot schedule trainings for {requested}",
            caller.principal()
        ))),
        None if requested.is_empty() => Err(Status::invalid_argument(
            "user_id is empty: with caller identity off, the request names the user",
        )),
        None => Ok(requested.to_owned()),
    }
}

#[tonic::async_trait]
impl TrainingsService for Trainings {
    async fn schedule_training(
        &self,
        request: Request<ScheduleTrainingRequest>,
    ) -> Result<Response<ScheduleTrainingResponse>, Status> {
        let user = user_of(Caller::of(&request), &request.get_ref().user_id)?;
        let time = request
            .into_inner()
            .time
            .ok_or_else(|| Status::invalid_argument("time is missing"))?;

        let mut trainer = self.trainer.clone();
        let available = trainer
            .is_hour_available(IsHourAvailableRequest { time: Some(time) })
            .await
            .map_err(upstream("trainer"))?
            .into_inner()
            .is_available;
        if !available {
            return Err(Status::failed_precondition(
                "the trainer is not available at that hour",
            ));
        }

        let mut users = self.users.clone();
        users
            .update_training_balance(UpdateTrainingBalanceRequest {
                user_id: user.clone(),
                amount_change: -1,
            })
            .await
            .map_err(upstream("users"))?;

        let booked = trainer
            .update_hour(UpdateHourRequest {
                time: Some(time),
                has_training_scheduled: true,
                available: false,
            })
            .await;
        if let Err(status) = booked {
            // Give the training back; if that fails too, say so in the answer.
            let refund = users
                .update_training_balance(UpdateTrainingBalanceRequest {
                    user_id: user.clone(),
                    amount_change: 1,
                })
                .await;
            let status = upstream("trainer")(status);
            return Err(match refund {
                Ok(_) => status,
                Err(refund) => Status::internal(format!(
                    "{} (and giving the training back failed: {})",
                    status.message(),
                    refund.message()
                )),
            });
        }

        let balance_left = users
            .get_training_balance(GetTrainingBalanceRequest { user_id: user })
            .await
            .map_err(upstream("users"))?
            .into_inner()
            .amount;
        Ok(Response::new(ScheduleTrainingResponse { balance_left }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_identity_the_request_names_the_user() {
        assert_eq!(user_of(None, "u1").unwrap(), "u1");
        let status = user_of(None, " ").unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
    }

    #[test]
    fn callee_failures_keep_the_callers_mistakes_and_name_the_callee_otherwise() {
        let status = upstream("users")(Status::failed_precondition("no trainings left"));
        assert_eq!(status.code(), Code::FailedPrecondition);
        assert_eq!(status.message(), "users: no trainings left");
        let status = upstream("trainer")(Status::permission_denied("x may not call"));
        assert_eq!(status.code(), Code::Internal);
        assert!(status.message().contains("trainer"));
        let status = upstream("trainer")(Status::unavailable("gone"));
        assert_eq!(status.code(), Code::Unavailable);
    }
}
