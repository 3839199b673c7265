//! The client against real servers on loopback: token fetching and caching against a fake
//! metadata server, refresh before expiry and after `UNAUTHENTICATED`, failures that name their
//! source, plaintext and TLS (a test CA), deadlines, and retries only where they are safe.

mod backend;
mod deadlines;
mod retries;
mod sources;
mod tls;
mod tokens;

use cloudrun_fake_google::FakeGoogle;
use cloudrun_runtime::client::{Channel, ClientConfig, GoogleIdToken};

/// A channel to `backend` over h2c whose tokens come from `google`'s metadata server.
pub async fn metadata_channel(backend: &backend::Backend, google: &FakeGoogle) -> Channel {
    ClientConfig::new(backend.http_url())
        .methods(backend::METHODS)
        .audience("https://backend.test")
        .token_source(GoogleIdToken::metadata_server_at(
            google.metadata_endpoint(),
        ))
        .connect()
        .await
        .expect("the channel is set up")
}

/// The claims of a `Bearer` header, read without checking the signature.
pub fn claims_of(authorization: &str) -> serde_json::Value {
    let token = authorization
        .strip_prefix("Bearer ")
        .unwrap_or_else(|| panic!("not a bearer header: {authorization}"));
    jsonwebtoken::dangerous::insecure_decode_claims(token).expect("a JWT")
}
