//! Seed 001's users service: each user's training balance.
//!
//! Run it locally with `PORT=3001 cargo run -p users`. Every user starts with
//! `USERS_INITIAL_BALANCE` trainings (3 unless set). On Cloud Run behind IAM, set
//! `CLOUDRUN_AUTH_MODE=platform` (as `examples/workouts-api/service-users.yaml` does); on a
//! publicly invocable service, `CLOUDRUN_AUTH_MODE=verify` and `CLOUDRUN_AUTH_AUDIENCE`. Either
//! way only the trainings service's account may read or change balances (the proto says so).

mod balances;

#[tokio::main]
async fn main() -> Result<(), cloudrun_runtime::Error> {
    let users = balances::Users::from_env()?;
    workouts_api::users::users_service_cloudrun::serve(users).await
}
