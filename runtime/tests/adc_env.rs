//! Application Default Credentials as the environment configures them: `GCE_METADATA_HOST` for
//! the metadata server, `GOOGLE_APPLICATION_CREDENTIALS` for a key file. One test in its own
//! binary, because it sets process-wide environment variables.

use cloudrun_fake_google::FakeGoogle;
use cloudrun_runtime::client::ClientConfig;
use tonic_prost::ProstCodec;

async fn call(channel: &cloudrun_runtime::client::Channel) -> Result<String, tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready()
        .await
        .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    grpc.unary(
        tonic::Request::new("x".to_owned()),
        http::uri::PathAndQuery::from_static("/cloudrun.test.Anything/Call"),
        ProstCodec::<String, String>::default(),
    )
    .await
    .map(tonic::Response::into_inner)
}

/// A server that answers every call UNIMPLEMENTED, recording the bearer header the client
/// sends by default (`x-serverless-authorization`).
async fn recorder() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::convert::Infallible;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let record = std::sync::Arc::clone(&seen);
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let record = std::sync::Arc::clone(&record);
            tokio::spawn(async move {
                let service = hyper::service::service_fn(
                    move |request: http::Request<hyper::body::Incoming>| {
                        if let Some(value) = request.headers().get("x-serverless-authorization") {
                            record
                                .lock()
                                .unwrap()
                                .push(value.to_str().unwrap().to_owned());
                        }
                        async {
                            Ok::<_, Infallible>(
                                tonic::Status::unimplemented("recorded")
                                    .into_http::<tonic::body::Body>(),
                            )
                        }
                    },
                );
                let _ =
                    hyper::server::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
                        .serve_connection(hyper_util::rt::TokioIo::new(tcp), service)
                        .await;
            });
        }
    });
    (format!("http://{addr}"), seen)
}

fn claims(authorization: &str) -> serde_json::Value {
    jsonwebtoken::dangerous::insecure_decode_claims(authorization.strip_prefix("Bearer ").unwrap())
        .unwrap()
}

#[tokio::test]
async fn application_default_credentials_follow_the_environment() {
    let google = FakeGoogle::start().await;
    let home = tempfile::tempdir().unwrap();
    // SAFETY: this binary's only test, before it starts anything that reads the environment.
    unsafe {
        std::env::set_var("HOME", home.path());
        std::env::remove_var("GOOGLE_APPLICATION_CREDENTIALS");
        std::env::set_var("GCE_METADATA_HOST", google.metadata_host());
    }
    let (url, seen) = recorder().await;

    // No key file: the metadata server named by GCE_METADATA_HOST.
    let channel = ClientConfig::new(&url)
        .audience("https://callee.test")
        .connect()
        .await
        .unwrap();
    let source = channel.token_source().unwrap().to_owned();
    assert!(source.contains("GCE_METADATA_HOST"), "{source}");
    assert!(source.contains(&google.metadata_host()), "{source}");
    for _ in 0..3 {
        let status = call(&channel).await.unwrap_err();
        assert_eq!(status.message(), "recorded");
    }
    assert_eq!(google.identity_fetches(), 1);
    let first = seen.lock().unwrap()[0].clone();
    assert_eq!(claims(&first)["aud"], "https://callee.test");
    assert_eq!(
        claims(&first)["email"],
        cloudrun_fake_google::DEFAULT_SERVICE_ACCOUNT
    );

    // GOOGLE_APPLICATION_CREDENTIALS naming an impersonation configuration.
    let target = "impersonated@fake-project.iam.gserviceaccount.com";
    let file = home.path().join("adc.json");
    std::fs::write(
        &file,
        serde_json::json!({
            "type": "impersonated_service_account",
            "service_account_impersonation_url": google.impersonation_url(target),
            "source_credentials": {
                "type": "authorized_user",
                "client_id": "id",
                "client_secret": "secret",
                "refresh_token": "refresh",
                "token_uri": google.oauth_token_url(),
            },
        })
        .to_string(),
    )
    .unwrap();
    // SAFETY: as above; nothing else runs in this binary.
    unsafe {
        std::env::set_var("GOOGLE_APPLICATION_CREDENTIALS", &file);
    }
    let channel = ClientConfig::new(&url)
        .audience("https://callee.test")
        .connect()
        .await
        .unwrap();
    assert!(
        channel
            .token_source()
            .unwrap()
            .contains(&file.display().to_string()),
        "{:?}",
        channel.token_source()
    );
    call(&channel).await.unwrap_err();
    let last = seen.lock().unwrap().last().unwrap().clone();
    assert_eq!(claims(&last)["email"], target);
    assert_eq!(google.generate_id_token_fetches(), 1);
}
