//! Seed 001's flow end to end: the trainings service schedules a training by calling the trainer
//! and users services through their generated clients, each service its own process. With
//! identity on, tokens come from a fake metadata server and are verified against a fake OIDC
//! issuer; locally, GRPC_NO_TLS=1 gives plaintext without tokens.

use cloudrun_fake_google::FakeGoogle;
use cloudrun_runtime::client::{ClientConfig, StaticToken, Token};
use cloudrun_tests::ServiceProcess;
use prost_types::Timestamp;
use tonic::Code;
use workouts_api::trainer::{IsHourAvailableRequest, UpdateHourRequest, trainer_service_cloudrun};
use workouts_api::trainings::{ScheduleTrainingRequest, trainings_service_cloudrun};
use workouts_api::users::{GetTrainingBalanceRequest, users_service_cloudrun};

const TRAININGS_ACCOUNT: &str = "trainings@wild-workouts.iam.gserviceaccount.com";
const ALICE: &str = "alice@example.com";
/// 2030-01-01 10:00 and 11:00 UTC.
const TEN: i64 = 1_893_492_000;
const ELEVEN: i64 = TEN + 3600;

fn at(seconds: i64) -> Option<Timestamp> {
    Some(Timestamp { seconds, nanos: 0 })
}

fn schedule(seconds: i64) -> ScheduleTrainingRequest {
    ScheduleTrainingRequest {
        time: at(seconds),
        user_id: String::new(),
    }
}

/// A config for `url` that sends `token`.
fn with_token(url: &str, token: &str) -> ClientConfig {
    ClientConfig::new(url).token_source(StaticToken::new(Token::new(token)))
}

fn verify_env(google: &FakeGoogle, audience: &str) -> Vec<(&'static str, String)> {
    vec![
        ("CLOUDRUN_AUTH_MODE", "verify".to_owned()),
        ("CLOUDRUN_AUTH_AUDIENCE", audience.to_owned()),
        ("CLOUDRUN_AUTH_ISSUER", google.issuer()),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn scheduling_a_training_calls_both_services_with_identity_on() {
    let google = FakeGoogle::start().await;
    google.set_service_account(TRAININGS_ACCOUNT);
    let home = tempfile::tempdir().unwrap();

    let mut users_env = verify_env(&google, "https://users.test");
    users_env.push(("USERS_INITIAL_BALANCE", "2".to_owned()));
    let users = ServiceProcess::start("users", "users", home.path(), &users_env);
    let trainer = ServiceProcess::start(
        "trainer",
        "trainer",
        home.path(),
        &verify_env(&google, "https://trainer.test"),
    );
    let mut trainings_env = verify_env(&google, "https://trainings.test");
    trainings_env.extend([
        ("TRAINER_GRPC_ADDR", trainer.url()),
        ("TRAINER_GRPC_AUDIENCE", "https://trainer.test".to_owned()),
        ("USERS_GRPC_ADDR", users.url()),
        ("USERS_GRPC_AUDIENCE", "https://users.test".to_owned()),
        ("GCE_METADATA_HOST", google.metadata_host()),
    ]);
    let trainings = ServiceProcess::start("trainings", "trainings", home.path(), &trainings_env);

    // Alice, with a token for the trainings service.
    let alice_token = google.mint_for(ALICE, "https://trainings.test");
    let mut alice =
        trainings_service_cloudrun::client_with(with_token(&trainings.url(), &alice_token))
            .await
            .unwrap();

    let booked = alice
        .schedule_training(schedule(TEN))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(booked.balance_left, 1);
    let status = alice.schedule_training(schedule(TEN)).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert_eq!(
        status.message(),
        "the trainer is not available at that hour"
    );
    let booked = alice
        .schedule_training(schedule(ELEVEN))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(booked.balance_left, 0);
    let status = alice
        .schedule_training(schedule(ELEVEN + 3600))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert_eq!(
        status.message(),
        "users: alice@example.com has 0 trainings left, cannot take 1"
    );

    // The trainings service fetched one token per callee, for all those calls.
    assert_eq!(
        google.identity_fetches(),
        2,
        "{:?}",
        google.identity_audiences()
    );
    let mut audiences = google.identity_audiences();
    audiences.sort();
    assert_eq!(audiences, ["https://trainer.test", "https://users.test"]);

    // Without a token, the trainings service refuses; so do the others when Alice calls them
    // herself, where their rules do not allow her.
    let mut anonymous = trainings_service_cloudrun::client(&trainings.url())
        .await
        .unwrap();
    let status = anonymous
        .schedule_training(schedule(TEN))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);

    let mut alice_at_trainer = trainer_service_cloudrun::client_with(with_token(
        &trainer.url(),
        &google.mint_for(ALICE, "https://trainer.test"),
    ))
    .await
    .unwrap();
    // IsHourAvailable has no rule: any verified caller may ask.
    let free = alice_at_trainer
        .is_hour_available(IsHourAvailableRequest {
            time: at(ELEVEN + 3600),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(free.is_available, "the refused booking left the hour free");
    let status = alice_at_trainer
        .update_hour(UpdateHourRequest {
            time: at(TEN),
            has_training_scheduled: false,
            available: true,
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert_eq!(
        status.message(),
        "alice@example.com may not call /trainer.TrainerService/UpdateHour"
    );

    let mut alice_at_users = users_service_cloudrun::client_with(with_token(
        &users.url(),
        &google.mint_for(ALICE, "https://users.test"),
    ))
    .await
    .unwrap();
    let status = alice_at_users
        .get_training_balance(GetTrainingBalanceRequest {
            user_id: ALICE.to_owned(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);

    // The audit trail: the trainer's log names who booked, and no log holds a token.
    let trainer_log = trainer.stdout_lines().join("\n");
    let booking = trainer
        .stdout_lines()
        .iter()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|l| l["method"] == "/trainer.TrainerService/UpdateHour" && l["code"] == "OK")
        .expect("a log line for the booking");
    assert_eq!(booking["principal"], TRAININGS_ACCOUNT);
    for service in [&trainer, &users, &trainings] {
        let log = service.stdout_lines().join("\n");
        assert!(
            !log.contains(&alice_token),
            "{} logged a token",
            service.name
        );
        assert!(
            !log.contains("eyJ"),
            "{} logged something like a JWT:\n{log}",
            service.name
        );
    }
    assert!(
        trainer_log.contains(ALICE),
        "denied calls are logged with their principal"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_flow_runs_locally_with_grpc_no_tls_and_identity_off() {
    let home = tempfile::tempdir().unwrap();
    let users = ServiceProcess::start("users", "users", home.path(), &[]);
    let trainer = ServiceProcess::start("trainer", "trainer", home.path(), &[]);
    // Seed 001's compose style: host:port addresses and GRPC_NO_TLS=1; no metadata server.
    let trainings = ServiceProcess::start(
        "trainings",
        "trainings",
        home.path(),
        &[
            ("GRPC_NO_TLS", "1".to_owned()),
            ("TRAINER_GRPC_ADDR", trainer.address()),
            ("USERS_GRPC_ADDR", users.address()),
        ],
    );

    let mut client = trainings_service_cloudrun::client(&trainings.url())
        .await
        .unwrap();
    let booked = client
        .schedule_training(ScheduleTrainingRequest {
            time: at(TEN),
            user_id: "user-1".to_owned(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(booked.balance_left, 2, "users start with 3 trainings");
    let status = client
        .schedule_training(schedule(ELEVEN))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
}

#[test]
fn a_missing_address_stops_the_caller_at_start_up_naming_the_variable() {
    let home = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(cloudrun_tests::cargo_bin("trainings", "trainings"))
        .env("PORT", "0")
        .env("HOME", home.path())
        .env_remove("TRAINER_GRPC_ADDR")
        .env_remove("USERS_GRPC_ADDR")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot set up the trainer service's client")
            && stderr.contains("TRAINER_GRPC_ADDR is not set"),
        "{stderr}"
    );
}
