//! Seed 001's trainings service: schedules a training by calling the trainer and users services
//! through their generated, authenticated clients.
//!
//! The callees' addresses come from `TRAINER_GRPC_ADDR` and `USERS_GRPC_ADDR`, as in seed 001.
//! On Cloud Run they are the services' URLs, and each call carries a Google ID token from the
//! metadata server (fetched once per token lifetime). Locally:
//!
//! ```text
//! PORT=3000 cargo run -p trainer &
//! PORT=3001 cargo run -p users &
//! GRPC_NO_TLS=1 TRAINER_GRPC_ADDR=localhost:3000 USERS_GRPC_ADDR=localhost:3001 cargo run -p trainings
//! ```

mod schedule;

use anyhow::Context;
use workouts_api::trainer::trainer_service_cloudrun;
use workouts_api::trainings::trainings_service_cloudrun;
use workouts_api::users::users_service_cloudrun;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let trainer = trainer_service_cloudrun::client_from_env()
        .await
        .context("cannot set up the trainer service's client")?;
    let users = users_service_cloudrun::client_from_env()
        .await
        .context("cannot set up the users service's client")?;
    trainings_service_cloudrun::serve(schedule::Trainings::new(trainer, users)).await?;
    Ok(())
}
