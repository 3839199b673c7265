//! Seed 001's trainer service: whether the trainer is free at an hour, and booking it.
//!
//! Run it locally with `PORT=3000 cargo run -p trainer`. On Cloud Run behind IAM
//! (`--no-allow-unauthenticated`, as `examples/workouts-api/service-trainer.yaml` deploys it), set
//! `CLOUDRUN_AUTH_MODE=platform`; on a publicly invocable service, `CLOUDRUN_AUTH_MODE=verify` and
//! `CLOUDRUN_AUTH_AUDIENCE` to the service's URL. Either way only the trainings service's account
//! may book hours (the proto says so), and every call must carry an ID token.

mod hours;

#[tokio::main]
async fn main() -> Result<(), cloudrun_runtime::Error> {
    workouts_api::trainer::trainer_service_cloudrun::serve(hours::Trainer::default()).await
}
