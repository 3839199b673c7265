//! Rules from the method table and the allow-list: who gets in, who gets PERMISSION_DENIED, and
//! what needs no token at all.

use cloudrun_fake_google::FakeGoogle;
use serde_json::json;
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::doors::{ENTER, KNOCK, OPEN, PEEK};
use crate::tokens::with;
use crate::{ALICE, AUDIENCE, BOB, Doors, verify};

#[tokio::test]
async fn declared_principals_and_claims_decide_and_the_denied_get_permission_denied() {
    let google = FakeGoogle::start().await;
    let doors = Doors::start(verify(&google)).await;
    let alice_hd = google.mint(&with(
        &google.claims_for(ALICE, AUDIENCE),
        json!({"hd": "example.com"}),
    ));
    let alice = google.mint_for(ALICE, AUDIENCE);
    let carol = google.mint_for("carol@example.com", AUDIENCE);
    let bob = google.mint_for(BOB, AUDIENCE);

    // Open: alice only, and only with hd=example.com.
    assert!(
        doors
            .call(OPEN, Some(&alice_hd))
            .await
            .unwrap()
            .starts_with(ALICE)
    );
    let status = doors.call(OPEN, Some(&alice)).await.unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert_eq!(
        status.message(),
        "alice@example.com may not call /cloudrun.test.Doors/Open: it requires the claim \
         hd=\"example.com\""
    );
    let status = doors.call(OPEN, Some(&carol)).await.unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert_eq!(
        status.message(),
        "carol@example.com may not call /cloudrun.test.Doors/Open"
    );

    // Knock: the service's rule, anyone at example.com.
    assert!(
        doors
            .call(KNOCK, Some(&carol))
            .await
            .unwrap()
            .starts_with("carol@example.com")
    );
    let status = doors.call(KNOCK, Some(&bob)).await.unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);

    // Peek: no token needed; a token sent is still verified, and its caller seen.
    assert_eq!(doors.call(PEEK, None).await.unwrap(), "nobody");
    assert!(doors.call(PEEK, Some(&bob)).await.unwrap().starts_with(BOB));
    let status = doors.call(PEEK, Some("not-a-jwt")).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);

    // Lobby: no rule and no allow-list: any verified caller, but a caller it must be.
    assert!(
        doors
            .call(ENTER, Some(&bob))
            .await
            .unwrap()
            .starts_with(BOB)
    );
    assert_eq!(
        doors.call(ENTER, None).await.unwrap_err().code(),
        Code::Unauthenticated
    );

    // The denied calls' log lines name who was denied.
    let lines = doors.logs.lines();
    let denied = lines
        .iter()
        .find(|l| l["method"] == KNOCK && l["code"] == "PERMISSION_DENIED")
        .expect("a log line for the denied call");
    assert_eq!(denied["principal"], BOB);
    let allowed = lines
        .iter()
        .find(|l| l["method"] == KNOCK && l["code"] == "OK")
        .expect("a log line for the allowed call");
    assert_eq!(allowed["principal"], "carol@example.com");
}

#[tokio::test]
async fn the_allow_list_covers_methods_without_rules_only() {
    let google = FakeGoogle::start().await;
    let doors = Doors::start(verify(&google).allowed([
        "serviceAccount:trainings@fake-project.iam.gserviceaccount.com",
        "domain:elsewhere.org",
    ]))
    .await;
    let trainings = google.mint_for("trainings@fake-project.iam.gserviceaccount.com", AUDIENCE);
    let bob = google.mint_for(BOB, AUDIENCE);
    let carol = google.mint_for("carol@example.com", AUDIENCE);

    assert!(doors.call(ENTER, Some(&trainings)).await.is_ok());
    assert!(doors.call(ENTER, Some(&bob)).await.is_ok());
    let status = doors.call(ENTER, Some(&carol)).await.unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert_eq!(
        status.message(),
        "carol@example.com may not call /cloudrun.test.Lobby/Enter (not in CLOUDRUN_AUTH_ALLOWED)"
    );
    // Knock has its own rule, which the list does not change.
    assert!(doors.call(KNOCK, Some(&carol)).await.is_ok());
}

#[tokio::test]
async fn health_needs_no_token_even_when_every_method_does() {
    let google = FakeGoogle::start().await;
    let doors = Doors::start(verify(&google)).await;
    let mut health = HealthClient::new(doors.channel().await);
    for service in ["", "cloudrun.test.Doors", "cloudrun.test.Lobby"] {
        let response = health
            .check(HealthCheckRequest {
                service: service.to_owned(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            response.status,
            ServingStatus::Serving as i32,
            "{service:?}"
        );
    }
}
