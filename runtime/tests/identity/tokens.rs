//! Every kind of bad token answers UNAUTHENTICATED, saying what is wrong.

use cloudrun_fake_google::{FakeGoogle, tamper, unix_now};
use serde_json::json;
use tonic::Code;

use crate::doors::KNOCK;
use crate::{ALICE, AUDIENCE, Doors, verify};

async fn refused(doors: &Doors, authorization: Option<&str>) -> String {
    let status = doors.call_with(KNOCK, authorization).await.unwrap_err();
    assert_eq!(
        status.code(),
        Code::Unauthenticated,
        "{authorization:?}: {status:?}"
    );
    status.message().to_owned()
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[tokio::test]
async fn a_valid_token_passes_and_every_bad_one_is_unauthenticated_with_its_reason() {
    let google = FakeGoogle::start().await;
    let doors = Doors::start(verify(&google)).await;
    let claims = google.claims_for(ALICE, AUDIENCE);

    let good = google.mint(&claims);
    assert_eq!(
        doors.call(KNOCK, Some(&good)).await.unwrap(),
        format!("{ALICE}|{ALICE}|{}", claims["sub"].as_str().unwrap())
    );

    let cases: Vec<(&str, Option<String>, &str)> = vec![
        ("no token", None, "carries no ID token"),
        (
            "not bearer",
            Some("Basic YWxpY2U6cHc=".into()),
            "is not `Bearer <token>`",
        ),
        ("not a JWT", Some(bearer("not-a-jwt")), "malformed"),
        ("garbage parts", Some(bearer("a.b.c")), "malformed"),
        (
            "expired",
            Some(bearer(&google.mint(&with(
                &claims,
                json!({"exp": unix_now() - 600, "iat": unix_now() - 4200}),
            )))),
            "expired",
        ),
        (
            "not yet valid",
            Some(bearer(
                &google.mint(&with(&claims, json!({"nbf": unix_now() + 3600}))),
            )),
            "not valid yet",
        ),
        (
            "wrong audience",
            Some(bearer(&google.mint_for(ALICE, "https://someone-else.test"))),
            "is for audience [\"https://someone-else.test\"]",
        ),
        (
            "wrong issuer",
            Some(bearer(&google.mint(&with(
                &claims,
                json!({"iss": "https://evil.example.com"}),
            )))),
            "issued by \"https://evil.example.com\"",
        ),
        (
            "bad signature",
            Some(bearer(&tamper(&good))),
            "signature does not match",
        ),
        (
            "unknown key",
            Some(bearer(&google.mint_with_unpublished_key(&claims))),
            "does not publish",
        ),
        (
            "alg none",
            Some(bearer(&google.mint_alg_none(&claims))),
            "alg: none",
        ),
        (
            "HS256 signed with the public key",
            Some(bearer(&google.mint_hs256_with_public_key(&claims))),
            "shared-secret algorithm",
        ),
        (
            "no subject",
            Some(bearer(&google.mint(&without(&claims, "sub")))),
            "no sub claim",
        ),
    ];
    for (case, authorization, expected) in cases {
        let message = refused(&doors, authorization.as_deref()).await;
        assert!(message.contains(expected), "{case}: {message}");
        if let Some(value) = &authorization {
            let token = value.trim_start_matches("Bearer ");
            assert!(!message.contains(token), "{case}: the token is echoed");
        }
    }

    // None of the tokens reached the logs.
    let logs = doors.logs.text();
    assert!(!logs.contains(&good), "a token was logged");
    assert!(
        !logs.contains(good.split('.').nth(2).unwrap()),
        "a signature was logged"
    );
}

/// `claims` with the fields of `changes` replaced or added.
pub fn with(claims: &serde_json::Value, changes: serde_json::Value) -> serde_json::Value {
    let mut claims = claims.clone();
    for (name, value) in changes.as_object().unwrap() {
        claims[name] = value.clone();
    }
    claims
}

fn without(claims: &serde_json::Value, name: &str) -> serde_json::Value {
    let mut claims = claims.clone();
    claims.as_object_mut().unwrap().remove(name);
    claims
}
