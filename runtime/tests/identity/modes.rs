//! Each token verified once; keys fetched through discovery and again on rotation; the issuer
//! unreachable; the platform mode; the off mode.

use std::time::Duration;

use cloudrun_fake_google::{FakeGoogle, unix_now};
use cloudrun_runtime::AuthConfig;
use serde_json::json;
use tonic::Code;

use crate::doors::{ENTER, KNOCK, PEEK, call_with_headers};
use crate::tokens::with;
use crate::{ALICE, AUDIENCE, BOB, Doors, verify};

#[tokio::test]
async fn each_distinct_token_is_verified_once_and_its_caller_logged_on_every_call() {
    let google = FakeGoogle::start().await;
    let doors = Doors::start_with(verify(&google), "info,cloudrun_runtime::auth=debug").await;
    let alice = google.mint_for(ALICE, AUDIENCE);
    let bob = google.mint_for(BOB, AUDIENCE);
    let channel = doors.channel().await;
    for _ in 0..50 {
        crate::doors::call(&channel, ENTER, Some(&format!("Bearer {alice}")))
            .await
            .unwrap();
    }
    crate::doors::call(&channel, ENTER, Some(&format!("Bearer {bob}")))
        .await
        .unwrap();

    let lines = doors.logs.lines();
    let verified: Vec<_> = lines
        .iter()
        .filter(|l| l["message"] == "verified an ID token not seen before")
        .map(|l| l["principal"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        verified,
        [ALICE, BOB],
        "one verification per distinct token"
    );
    let calls: Vec<_> = lines.iter().filter(|l| l["method"] == ENTER).collect();
    assert_eq!(calls.len(), 51);
    assert!(calls[..50].iter().all(|l| l["principal"] == ALICE));
    assert_eq!(calls[50]["principal"], BOB);
    assert!(!doors.logs.text().contains(&alice));
    // Keys were found through the issuer's discovery document, once.
    assert_eq!(google.discovery_fetches(), 1);
    assert_eq!(google.jwks_fetches(), 1);
}

#[tokio::test]
async fn a_rotated_key_is_fetched_when_a_token_names_it() {
    let google = FakeGoogle::start().await;
    let doors = Doors::start(verify(&google).jwks_min_refresh_interval(Duration::ZERO)).await;
    let before = google.mint_for(ALICE, AUDIENCE);
    assert!(doors.call(ENTER, Some(&before)).await.is_ok());
    let fetches = google.jwks_fetches();

    google.rotate_keys();
    let after = google.mint_for(BOB, AUDIENCE);
    assert!(
        doors.call(ENTER, Some(&after)).await.is_ok(),
        "the new key is fetched"
    );
    assert_eq!(google.jwks_fetches(), fetches + 1);
    // Tokens signed before the rotation keep working while the old key is published.
    assert!(doors.call(ENTER, Some(&before)).await.is_ok());

    // A retired key's new tokens are refused once the JWKS no longer has it.
    google.retire_old_keys();
    let stray = google.mint_with_unpublished_key(&google.claims_for(BOB, AUDIENCE));
    let status = doors.call(ENTER, Some(&stray)).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
}

#[tokio::test]
async fn unknown_keys_cannot_make_the_server_hammer_the_issuer() {
    let google = FakeGoogle::start().await;
    let doors = Doors::start(verify(&google)).await;
    assert!(
        doors
            .call(ENTER, Some(&google.mint_for(ALICE, AUDIENCE)))
            .await
            .is_ok()
    );
    let fetches = google.jwks_fetches();
    let stray = format!(
        "Bearer {}",
        google.mint_with_unpublished_key(&google.claims_for(BOB, AUDIENCE))
    );
    let channel = doors.channel().await;
    let started = std::time::Instant::now();
    for _ in 0..200 {
        let status = crate::doors::call(&channel, ENTER, Some(&stray))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated);
    }
    // One refetch per minimum interval (1 s) at most, however many such calls arrive.
    let allowed = 1 + started.elapsed().as_secs() as usize;
    let refetches = google.jwks_fetches() - fetches;
    assert!(
        refetches <= allowed,
        "{refetches} refetches in {:?} for 200 calls",
        started.elapsed()
    );
}

#[tokio::test]
async fn an_unreachable_issuer_makes_calls_unavailable_not_unauthenticated() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let issuer = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let doors = Doors::start(AuthConfig::verify([AUDIENCE]).issuer(&issuer)).await;
    let google = FakeGoogle::start().await;
    let token = google.mint(&with(
        &google.claims_for(ALICE, AUDIENCE),
        json!({"iss": issuer}),
    ));
    let status = doors.call(ENTER, Some(&token)).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert!(
        status.message().contains("cannot fetch the keys"),
        "{}",
        status.message()
    );
}

#[tokio::test]
async fn platform_mode_reads_the_claims_cloud_run_passed_on_without_a_signature() {
    let google = FakeGoogle::start().await;
    let doors = Doors::start(AuthConfig::platform().audiences([AUDIENCE])).await;
    // Cloud Run replaces the signature of the token it verified.
    let token = google.mint_for(ALICE, AUDIENCE);
    let (signed, _) = token.rsplit_once('.').unwrap();
    let stripped = format!("{signed}.SIGNATURE_REMOVED_BY_GOOGLE");
    assert!(
        doors
            .call(KNOCK, Some(&stripped))
            .await
            .unwrap()
            .starts_with(ALICE)
    );

    let expired = google.mint(&with(
        &google.claims_for(ALICE, AUDIENCE),
        json!({"exp": unix_now() - 600}),
    ));
    let status = doors.call(KNOCK, Some(&expired)).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert!(status.message().contains("expired"));

    let elsewhere = google.mint_for(ALICE, "https://other.test");
    let status = doors.call(KNOCK, Some(&elsewhere)).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(
        doors.call(KNOCK, None).await.unwrap_err().code(),
        Code::Unauthenticated
    );
    assert_eq!(google.jwks_fetches(), 0, "no keys in platform mode");
}

#[tokio::test]
async fn off_mode_checks_nothing_and_warns_that_declared_rules_are_not_enforced() {
    let doors = Doors::start(AuthConfig::off()).await;
    assert_eq!(doors.call(KNOCK, None).await.unwrap(), "nobody");
    assert_eq!(doors.call(PEEK, Some("anything")).await.unwrap(), "nobody");
    let warned = doors.logs.lines().into_iter().any(|l| {
        l["severity"] == "WARNING"
            && l["message"]
                .as_str()
                .unwrap()
                .contains("CLOUDRUN_AUTH_MODE is off")
    });
    assert!(warned, "{}", doors.logs.text());
}

#[tokio::test]
async fn x_serverless_authorization_names_the_caller_before_authorization_in_both_modes() {
    let google = FakeGoogle::start().await;
    let verifying = Doors::start(verify(&google)).await;
    let platform = Doors::start(AuthConfig::platform().audiences([AUDIENCE])).await;
    let alice = format!("Bearer {}", google.mint_for(ALICE, AUDIENCE));
    let bob = format!("Bearer {}", google.mint_for(BOB, AUDIENCE));
    let expired = format!(
        "Bearer {}",
        google.mint(&with(
            &google.claims_for(ALICE, AUDIENCE),
            json!({"exp": unix_now() - 600}),
        ))
    );
    let channels = [
        ("verify", verifying.channel().await),
        ("platform", platform.channel().await),
    ];
    for (mode, channel) in &channels {
        // Alone, as generated clients send it.
        let answer = call_with_headers(channel, KNOCK, &[("x-serverless-authorization", &alice)])
            .await
            .unwrap_or_else(|s| panic!("{mode}: {s:?}"));
        assert!(answer.starts_with(ALICE), "{mode}: {answer}");
        // With the application's own `authorization` next to it: the ID token names the caller.
        let answer = call_with_headers(
            channel,
            KNOCK,
            &[
                ("x-serverless-authorization", &alice),
                ("authorization", &bob),
            ],
        )
        .await
        .unwrap_or_else(|s| panic!("{mode}: {s:?}"));
        assert!(answer.starts_with(ALICE), "{mode}: {answer}");
        // A bad one is not rescued by a good `authorization`.
        let status = call_with_headers(
            channel,
            KNOCK,
            &[
                ("x-serverless-authorization", &expired),
                ("authorization", &bob),
            ],
        )
        .await
        .unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated, "{mode}");
        assert!(status.message().contains("expired"), "{mode}: {status:?}");
    }
}
