//! Google ID tokens through google-cloud-auth: the metadata server, a service-account key,
//! impersonation, or Application Default Credentials choosing among them.
//!
//! google-cloud-auth's credentials keep their own cache, refreshed by a background task that
//! cannot be asked to fetch early and that stops for good after an error it deems permanent.
//! The client needs both (a fresh token after an `UNAUTHENTICATED` answer, recovery once the
//! metadata server is back), so every fetch builds the credentials anew and takes their first
//! token: google-cloud-auth does the protocol work, the client's cache decides when.

use std::path::PathBuf;
use std::sync::Arc;

use google_cloud_auth::credentials::idtoken::{self, IDTokenCredentials};

use super::token::{Token, TokenError, TokenFuture, TokenSource};

/// The variable google-cloud-auth reads for the metadata server's host.
const GCE_METADATA_HOST: &str = "GCE_METADATA_HOST";
/// The variable Application Default Credentials read for a key file.
const GOOGLE_APPLICATION_CREDENTIALS: &str = "GOOGLE_APPLICATION_CREDENTIALS";

#[derive(Clone, Debug)]
enum Kind {
    ApplicationDefault,
    MetadataServer {
        endpoint: Option<String>,
    },
    ServiceAccountKey {
        key: Arc<serde_json::Value>,
        origin: String,
    },
    Impersonated {
        config: Arc<serde_json::Value>,
        origin: String,
    },
    Impersonate {
        target_principal: String,
    },
}

/// Google-signed ID tokens, fetched with google-cloud-auth (feature `idtoken`).
///
/// Tokens carry the caller's `email` claim (the metadata server is asked for the `full` format,
/// impersonation for `includeEmail`), so that servers can match principals by email.
///
/// ```no_run
/// use cloudrun_runtime::client::{ClientConfig, GoogleIdToken};
///
/// # async fn run() -> Result<(), cloudrun_runtime::client::ClientError> {
/// let channel = ClientConfig::new("https://trainer-xyz-uc.a.run.app")
///     .token_source(GoogleIdToken::metadata_server())
///     .connect()
///     .await?;
/// # let _ = channel; Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct GoogleIdToken {
    kind: Kind,
}

impl GoogleIdToken {
    /// Application Default Credentials: the key file named by `GOOGLE_APPLICATION_CREDENTIALS`
    /// (a service-account key or an impersonation configuration) when set, gcloud's
    /// application-default file when present, the metadata server otherwise. What clients use
    /// unless told otherwise.
    pub fn application_default() -> Self {
        GoogleIdToken {
            kind: Kind::ApplicationDefault,
        }
    }

    /// The metadata server of Cloud Run, GCE or GKE (`metadata.google.internal`, or the host in
    /// `GCE_METADATA_HOST`).
    pub fn metadata_server() -> Self {
        GoogleIdToken {
            kind: Kind::MetadataServer { endpoint: None },
        }
    }

    /// A metadata server at `endpoint` (`http://127.0.0.1:8080`, no trailing slash).
    /// `GCE_METADATA_HOST`, when set, still wins, as in every Google client library.
    pub fn metadata_server_at(endpoint: impl Into<String>) -> Self {
        GoogleIdToken {
            kind: Kind::MetadataServer {
                endpoint: Some(endpoint.into()),
            },
        }
    }

    /// A service-account key, as the JSON that `gcloud iam service-accounts keys create` writes.
    pub fn service_account_key(key: serde_json::Value) -> Self {
        GoogleIdToken {
            kind: Kind::ServiceAccountKey {
                key: Arc::new(key),
                origin: "a service-account key".to_owned(),
            },
        }
    }

    /// A service-account key read from `path` (read now; a missing or malformed file is an
    /// error that names it).
    pub fn service_account_key_file(path: impl Into<PathBuf>) -> Result<Self, TokenError> {
        let path = path.into();
        let key = read_json(&path)?;
        Ok(GoogleIdToken {
            kind: Kind::ServiceAccountKey {
                key: Arc::new(key),
                origin: format!("the service-account key {}", path.display()),
            },
        })
    }

    /// An `impersonated_service_account` configuration, as `gcloud auth application-default
    /// login --impersonate-service-account` writes it: tokens are minted by the IAM Credentials
    /// API for the impersonated account.
    pub fn impersonated(config: serde_json::Value) -> Self {
        GoogleIdToken {
            kind: Kind::Impersonated {
                config: Arc::new(config),
                origin: "an impersonation configuration".to_owned(),
            },
        }
    }

    /// Impersonates `target_principal` (a service-account email) with the Application Default
    /// Credentials as the source; they need `roles/iam.serviceAccountTokenCreator` on it.
    pub fn impersonate(target_principal: impl Into<String>) -> Self {
        GoogleIdToken {
            kind: Kind::Impersonate {
                target_principal: target_principal.into(),
            },
        }
    }

    fn credentials(&self, audience: &str) -> Result<IDTokenCredentials, TokenError> {
        let built = match &self.kind {
            Kind::ApplicationDefault => {
                idtoken::Builder::new(audience).with_include_email().build()
            }
            Kind::MetadataServer { endpoint } => {
                let builder =
                    idtoken::mds::Builder::new(audience).with_format(idtoken::mds::Format::Full);
                match endpoint {
                    Some(endpoint) => builder.with_endpoint(endpoint.clone()).build(),
                    None => builder.build(),
                }
            }
            Kind::ServiceAccountKey { key, .. } => {
                idtoken::service_account::Builder::new(audience, (**key).clone()).build()
            }
            Kind::Impersonated { config, .. } => {
                idtoken::impersonated::Builder::new(audience, (**config).clone())
                    .with_include_email()
                    .build()
            }
            Kind::Impersonate { target_principal } => {
                let source = google_cloud_auth::credentials::Builder::default()
                    .build()
                    .map_err(|e| {
                        TokenError::from_error(
                            "cannot load the Application Default Credentials to impersonate with",
                            &e,
                        )
                    })?;
                idtoken::impersonated::Builder::from_source_credentials(
                    audience,
                    target_principal.clone(),
                    source,
                )
                .with_include_email()
                .build()
            }
        };
        built.map_err(|e| TokenError::from_error("cannot set up the credentials", &e))
    }
}

impl TokenSource for GoogleIdToken {
    fn fetch<'a>(&'a self, audience: &'a str) -> TokenFuture<'a> {
        Box::pin(async move {
            crate::tls::install_ring_provider();
            let credentials = self.credentials(audience)?;
            let token = credentials
                .id_token()
                .await
                .map_err(|e| TokenError::from_error("the token request failed", &e))?;
            Ok(Token::new(token))
        })
    }

    fn describe(&self) -> String {
        match &self.kind {
            Kind::ApplicationDefault => match std::env::var_os(GOOGLE_APPLICATION_CREDENTIALS) {
                Some(path) => format!(
                    "Application Default Credentials (the key file {GOOGLE_APPLICATION_CREDENTIALS}={})",
                    PathBuf::from(path).display()
                ),
                None => format!(
                    "Application Default Credentials (no {GOOGLE_APPLICATION_CREDENTIALS}, so \
                     gcloud's application-default file if present, else {})",
                    metadata_server_text(None)
                ),
            },
            Kind::MetadataServer { endpoint } => metadata_server_text(endpoint.as_deref()),
            Kind::ServiceAccountKey { origin, .. } | Kind::Impersonated { origin, .. } => {
                origin.clone()
            }
            Kind::Impersonate { target_principal } => format!(
                "impersonation of {target_principal} with the Application Default Credentials"
            ),
        }
    }
}

fn metadata_server_text(endpoint: Option<&str>) -> String {
    match (std::env::var(GCE_METADATA_HOST), endpoint) {
        (Ok(host), _) => format!("the metadata server at http://{host} (from {GCE_METADATA_HOST})"),
        (Err(_), Some(endpoint)) => format!("the metadata server at {endpoint}"),
        (Err(_), None) => format!(
            "the metadata server at http://metadata.google.internal (outside Google Cloud, set \
             {GOOGLE_APPLICATION_CREDENTIALS} to a key file, or GRPC_NO_TLS=1 for plaintext \
             without tokens)"
        ),
    }
}

fn read_json(path: &std::path::Path) -> Result<serde_json::Value, TokenError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| TokenError::new(format!("cannot read {}: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| {
        TokenError::new(format!(
            "{} is not JSON ({e}); expected a service-account key as `gcloud iam \
             service-accounts keys create` writes it",
            path.display()
        ))
    })
}
