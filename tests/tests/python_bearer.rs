//! Python grpcio as the outside caller of a service with caller identity on: ID tokens from a
//! fake issuer sent as bearer tokens (plain metadata, and grpcio's call credentials), the bad
//! ones refused with the right codes, health open without a token.

use cloudrun_fake_google::{FakeGoogle, unix_now};
use cloudrun_tests::{ServiceProcess, run_python};

const AUDIENCE: &str = "https://trainer.test";

#[test]
fn python_grpcio_calls_with_bearer_tokens() {
    let google = FakeGoogle::spawn();
    let home = tempfile::tempdir().unwrap();
    let trainer = ServiceProcess::start(
        "trainer",
        "trainer",
        home.path(),
        &[
            ("CLOUDRUN_AUTH_MODE", "verify".to_owned()),
            ("CLOUDRUN_AUTH_AUDIENCE", AUDIENCE.to_owned()),
            ("CLOUDRUN_AUTH_ISSUER", google.issuer()),
        ],
    );
    let alice = google.mint_for("alice@example.com", AUDIENCE);
    let mut expired_claims = google.claims_for("alice@example.com", AUDIENCE);
    expired_claims["iat"] = serde_json::json!(unix_now() - 4000);
    expired_claims["exp"] = serde_json::json!(unix_now() - 400);
    let expired = google.mint(&expired_claims);
    let trainings = google.mint_for("trainings@wild-workouts.iam.gserviceaccount.com", AUDIENCE);
    let elsewhere = google.mint_for("alice@example.com", "https://users.test");

    let (ok, stdout, stderr) = run_python(
        "identity_checks.py",
        &[&trainer.address(), &alice, &expired, &trainings, &elsewhere],
    );
    assert!(
        ok,
        "identity checks failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert_eq!(stdout.matches("ok: ").count(), 8, "{stdout}");

    let log = trainer.stdout_lines().join("\n");
    assert!(
        !log.contains(&alice) && !log.contains(&trainings),
        "a token was logged"
    );
    assert!(
        log.contains("\"principal\":\"trainings@wild-workouts.iam.gserviceaccount.com\""),
        "{log}"
    );
}
