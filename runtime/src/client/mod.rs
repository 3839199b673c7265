//! Clients for services on Cloud Run: TLS on 443, a Google ID token on every call (fetched once
//! per token lifetime, not per call), a deadline on every call, and retries where they are safe.
//!
//! Generated code gives each service one-call constructors in its glue module
//! (`trainer_service_cloudrun::client(url)`, `client_from_env()`); they build a [`Channel`] from a
//! [`ClientConfig`] and wrap it in the tonic client:
//!
//! ```no_run
//! # mod trainer_service_cloudrun {
//! #     pub async fn client(_: &str) -> Result<(), cloudrun_runtime::client::ClientError> { Ok(()) }
//! # }
//! # async fn run() -> Result<(), cloudrun_runtime::client::ClientError> {
//! let trainer = trainer_service_cloudrun::client("https://trainer-xyz-uc.a.run.app").await?;
//! # Ok(()) }
//! ```
//!
//! # Addresses
//!
//! | Address | Transport | Token (audience) |
//! |---|---|---|
//! | `https://host[:port]` (a Cloud Run URL or a custom domain) | TLS, port 443 by default | yes (`https://host`) |
//! | `host[:port]` (seed 001's `TRAINER_GRPC_ADDR` style) | TLS, port 443 by default | yes (`https://host`) |
//! | `http://host[:port]` | plaintext h2c, port 80 by default | only with an explicit audience or token source |
//! | any, with `GRPC_NO_TLS=1` ([`ClientConfig::from_env`]) | plaintext h2c | none, unless a token source is set in code |
//!
//! The audience is `https://` and the host, without port or path, which is what Cloud Run's IAM
//! check expects; [`ClientConfig::audience`] (or `<NAME>_GRPC_AUDIENCE` next to
//! `<NAME>_GRPC_ADDR`) overrides it, e.g. for a custom domain whose tokens must name the
//! `run.app` URL.
//!
//! # Tokens
//!
//! Tokens come from a [`TokenSource`]: [`GoogleIdToken`] (Application Default Credentials by
//! default: `GOOGLE_APPLICATION_CREDENTIALS`, else the metadata server, honouring
//! `GCE_METADATA_HOST`; or explicitly the metadata server, a service-account key, or
//! impersonation), a [`StaticToken`], a closure ([`from_fn`]) or your own implementation. The
//! channel caches the token and refreshes it in the background before it expires (5 minutes
//! before, or halfway through the life of a short-lived token), with at most one fetch in
//! flight. When no token can be had, calls fail at once with `UNAUTHENTICATED` and a message
//! naming the source, the audience and the reason. A call answered `UNAUTHENTICATED` makes the
//! channel drop the token, fetch a new one and try that call once more.
//!
//! The token travels as `x-serverless-authorization: Bearer <token>` by default, the header
//! Cloud Run's IAM check reads first; [`ClientConfig::token_header`] switches to `authorization`
//! for servers elsewhere. The reason is cost: HTTP/2 clients never add `authorization` to the
//! connection's header table, so a Google ID token (about 900 bytes) would be Huffman-coded,
//! sent and decoded again on every call, which made authenticated calls about 12 % slower than
//! unauthenticated ones. Any other header enters the table on the first call and costs a byte or
//! two per call after that. A JWT is far too random for HPACK's indexing to leak it: a guess
//! only matches as the whole value (RFC 7541, section 7.1).
//!
//! # Deadlines and retries
//!
//! Every call has a deadline: the one set with `tonic::Request::set_timeout`, else the
//! channel's default (30 s). The deadline also travels to the server as `grpc-timeout`, bounds
//! retries, and ends a response stream that outlives it. `UNAVAILABLE` (an instance scaling in
//! with GOAWAY, a dropped connection) is retried with jittered exponential backoff for methods
//! that are safe to repeat; see [`RetryPolicy`].

mod address;
mod cache;
mod channel;
mod google;
mod grpc_timeout;
mod retry;
mod token;

use std::collections::HashMap;
use std::time::Duration;

pub use channel::{Channel, ResponseBody, ResponseFuture};
pub use google::GoogleIdToken;
pub use retry::RetryPolicy;
pub use token::{FnSource, StaticToken, Token, TokenError, TokenFuture, TokenSource, from_fn};

use crate::method::MethodDef;
use cache::{CacheSettings, TokenCache};
use channel::{MethodPolicy, Shared};

/// Which request header carries the ID token.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TokenHeader {
    /// `x-serverless-authorization: Bearer <token>`: what Cloud Run's IAM check reads first, and
    /// what `cloudrun-runtime` servers read first in every identity mode. It leaves
    /// `authorization` to the application, and HTTP/2 sends it once per connection instead of
    /// once per call (see the [module documentation](self)).
    #[default]
    ServerlessAuthorization,
    /// `authorization: Bearer <token>`, for servers that read only that header. Sent in full on
    /// every call.
    Authorization,
}

impl TokenHeader {
    fn name(self) -> http::HeaderName {
        match self {
            TokenHeader::ServerlessAuthorization => {
                http::HeaderName::from_static("x-serverless-authorization")
            }
            TokenHeader::Authorization => http::header::AUTHORIZATION,
        }
    }
}

/// The variable that turns TLS and tokens off for local setups, as in seed 001.
pub const GRPC_NO_TLS: &str = "GRPC_NO_TLS";

/// Default deadline of a call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default limit on connecting (TCP and TLS).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time before expiry at which a token is refreshed.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(300);
/// Default limit on one token fetch.
pub const DEFAULT_TOKEN_FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a client could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The address cannot be used.
    #[error("the address {address:?} cannot be used: {reason}")]
    InvalidAddress {
        /// The address as given.
        address: String,
        /// What is wrong and the way out.
        reason: String,
    },
    /// The variable that should hold the address is not set.
    #[error(
        "{variable} is not set: set it to the service's address, e.g. \
         {variable}=https://my-service-abc123-uc.a.run.app (Cloud Run, TLS and ID tokens) or \
         {variable}=my-service:8080 with {GRPC_NO_TLS}=1 (a local plaintext setup)"
    )]
    MissingAddress {
        /// The variable.
        variable: String,
    },
    /// An environment variable holds an unusable value.
    #[error("{variable}={value:?} is not valid: expected {expected}")]
    InvalidEnv {
        /// The variable.
        variable: String,
        /// Its value.
        value: String,
        /// What is allowed.
        expected: String,
    },
    /// A TLS setting cannot be used.
    #[error("TLS for {address}: {reason}")]
    Tls {
        /// The address.
        address: String,
        /// What is wrong.
        reason: String,
    },
}

#[derive(Default)]
enum TokenChoice {
    /// Google ID tokens for TLS connections (and for `http://` ones with an explicit audience).
    #[default]
    Default,
    None,
    Source(Box<dyn TokenSource>),
}

/// How to reach a service: address, tokens, deadlines, retries. See the
/// [module documentation](self) for the rules.
///
/// ```no_run
/// use std::time::Duration;
/// use cloudrun_runtime::client::{ClientConfig, GoogleIdToken};
///
/// # async fn run() -> Result<(), cloudrun_runtime::client::ClientError> {
/// let channel = ClientConfig::new("https://trainer-xyz-uc.a.run.app")
///     .token_source(GoogleIdToken::impersonate("caller@my-project.iam.gserviceaccount.com"))
///     .default_timeout(Duration::from_secs(5))
///     .connect()
///     .await?;
/// # let _ = channel; Ok(()) }
/// ```
#[must_use]
pub struct ClientConfig {
    address: String,
    no_tls: bool,
    audience: Option<String>,
    token: TokenChoice,
    token_header: TokenHeader,
    default_timeout: Duration,
    connect_timeout: Duration,
    retry: RetryPolicy,
    methods: Vec<&'static [MethodDef]>,
    idempotent: Vec<String>,
    ca_certificates: Vec<Vec<u8>>,
    tls_domain: Option<String>,
    refresh_margin: Duration,
    token_fetch_timeout: Duration,
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("address", &self.address)
            .field("no_tls", &self.no_tls)
            .field("audience", &self.audience)
            .field("default_timeout", &self.default_timeout)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl ClientConfig {
    /// A client of the service at `address` (see the address table in the
    /// [module documentation](self)). The environment is not read.
    pub fn new(address: impl Into<String>) -> Self {
        ClientConfig {
            address: address.into(),
            no_tls: false,
            audience: None,
            token: TokenChoice::Default,
            token_header: TokenHeader::default(),
            default_timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            retry: RetryPolicy::default(),
            methods: Vec::new(),
            idempotent: Vec::new(),
            ca_certificates: Vec::new(),
            tls_domain: None,
            refresh_margin: DEFAULT_REFRESH_MARGIN,
            token_fetch_timeout: DEFAULT_TOKEN_FETCH_TIMEOUT,
        }
    }

    /// Seed 001's convention: the address from `variable` (generated code passes
    /// `TRAINER_GRPC_ADDR` for a service `TrainerService`), `GRPC_NO_TLS=1` for plaintext without
    /// tokens, and, when `variable` ends in `_ADDR`, an audience override from the same name
    /// ending in `_AUDIENCE` (`TRAINER_GRPC_AUDIENCE`).
    pub fn from_env(variable: &str) -> Result<Self, ClientError> {
        Self::from_lookup(variable, |name| std::env::var(name).ok())
    }

    fn from_lookup(
        variable: &str,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ClientError> {
        let address = lookup(variable)
            .filter(|value| !value.trim().is_empty())
            .ok_or_else(|| ClientError::MissingAddress {
                variable: variable.to_owned(),
            })?;
        let no_tls_value = lookup(GRPC_NO_TLS).unwrap_or_default();
        let no_tls = address::parse_bool(&no_tls_value).ok_or_else(|| ClientError::InvalidEnv {
            variable: GRPC_NO_TLS.to_owned(),
            value: no_tls_value.clone(),
            expected: "a boolean: 1, t, true, TRUE, True to turn TLS and tokens off; 0, f, \
                       false, FALSE, False or unset to keep them"
                .to_owned(),
        })?;
        let audience_variable = audience_variable(variable);
        let audience = lookup(&audience_variable).filter(|a| !a.trim().is_empty());
        let mut config = ClientConfig::new(address);
        config.no_tls = no_tls;
        config.audience = audience;
        Ok(config)
    }

    /// Plaintext h2c without tokens (what `GRPC_NO_TLS=1` does), or back to the address's own
    /// scheme.
    pub fn plaintext(mut self, plaintext: bool) -> Self {
        self.no_tls = plaintext;
        self
    }

    /// The audience of the ID tokens, instead of `https://<host>`.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// Where tokens come from (Google's Application Default Credentials unless set). Setting a
    /// source attaches tokens to every call, whatever the transport.
    pub fn token_source(mut self, source: impl TokenSource) -> Self {
        self.token = TokenChoice::Source(Box::new(source));
        self
    }

    /// The header the token travels in (`x-serverless-authorization` unless set).
    pub fn token_header(mut self, header: TokenHeader) -> Self {
        self.token_header = header;
        self
    }

    /// Calls carry no token, whatever the transport.
    pub fn without_token(mut self) -> Self {
        self.token = TokenChoice::None;
        self
    }

    /// The deadline of calls that do not set one (30 s unless set).
    pub fn default_timeout(mut self, timeout: Duration) -> Self {
        self.default_timeout = timeout;
        self
    }

    /// The limit on establishing a connection (10 s unless set).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How `UNAVAILABLE` answers are retried.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The methods of a service, as generated code declares them (`METHODS` in its glue
    /// module): which are safe to retry and which stream their requests.
    pub fn methods(mut self, methods: &'static [MethodDef]) -> Self {
        self.methods.push(methods);
        self
    }

    /// Treats the method at `path` (`/package.Service/Method`) as safe to repeat, for protos
    /// that do not declare an `idempotency_level`.
    pub fn idempotent_method(mut self, path: impl Into<String>) -> Self {
        self.idempotent.push(path.into());
        self
    }

    /// Trusts this PEM-encoded CA as well as the system's and Mozilla's roots (for a private CA,
    /// or a test server).
    pub fn ca_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.ca_certificates.push(pem.into());
        self
    }

    /// Checks the server certificate against `domain` instead of the address's host.
    pub fn tls_domain(mut self, domain: impl Into<String>) -> Self {
        self.tls_domain = Some(domain.into());
        self
    }

    /// How long before expiry tokens are refreshed (5 minutes unless set; tokens that live less
    /// than twice this are refreshed halfway through their life).
    pub fn token_refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = margin;
        self
    }

    /// The limit on one token fetch (10 s unless set).
    pub fn token_fetch_timeout(mut self, timeout: Duration) -> Self {
        self.token_fetch_timeout = timeout;
        self
    }

    /// Sets up the channel. Nothing is dialled yet: the connection is made by the first call
    /// (and made again after it drops), so a service can start before the ones it calls.
    pub async fn connect(self) -> Result<Channel, ClientError> {
        let target = address::parse(&self.address, self.no_tls)?;
        let mut endpoint = tonic::transport::Endpoint::from(target.uri.clone())
            .connect_timeout(self.connect_timeout)
            .tcp_nodelay(true);
        if target.tls {
            crate::tls::install_ring_provider();
            let mut tls = tonic::transport::ClientTlsConfig::new().with_enabled_roots();
            for pem in &self.ca_certificates {
                if !pem.windows(11).any(|w| w == b"-----BEGIN ") {
                    return Err(ClientError::Tls {
                        address: self.address.clone(),
                        reason: "a CA certificate given is not PEM (no -----BEGIN line)".into(),
                    });
                }
                tls = tls.ca_certificate(tonic::transport::Certificate::from_pem(pem));
            }
            if let Some(domain) = &self.tls_domain {
                tls = tls.domain_name(domain.clone());
            }
            endpoint = endpoint.tls_config(tls).map_err(|e| ClientError::Tls {
                address: self.address.clone(),
                reason: e.to_string(),
            })?;
        }

        let source: Option<Box<dyn TokenSource>> = match self.token {
            TokenChoice::None => None,
            TokenChoice::Source(source) => Some(source),
            TokenChoice::Default if target.tls => {
                Some(Box::new(GoogleIdToken::application_default()))
            }
            TokenChoice::Default
                if target.explicit_http && !self.no_tls && self.audience.is_some() =>
            {
                Some(Box::new(GoogleIdToken::application_default()))
            }
            TokenChoice::Default => None,
        };
        let tokens = source.map(|source| {
            let audience = self
                .audience
                .clone()
                .unwrap_or_else(|| target.default_audience());
            std::sync::Arc::new(TokenCache::new(
                source,
                audience,
                CacheSettings {
                    refresh_margin: self.refresh_margin,
                    fetch_timeout: self.token_fetch_timeout,
                    hpack_indexable: self.token_header != TokenHeader::Authorization,
                },
            ))
        });

        let mut methods: HashMap<Box<str>, MethodPolicy> = HashMap::new();
        for method in self.methods.iter().flat_map(|m| m.iter()) {
            methods.insert(
                method.path().into(),
                MethodPolicy {
                    retry_unavailable: method.idempotency_level().is_safe_to_retry(),
                    replayable: !method.is_client_streaming(),
                },
            );
        }
        for path in self.idempotent {
            let entry = methods
                .entry(path.into_boxed_str())
                .or_insert(MethodPolicy {
                    retry_unavailable: false,
                    replayable: true,
                });
            entry.retry_unavailable = true;
        }

        let mut target_text = target.uri.to_string();
        if target_text.ends_with('/') {
            target_text.pop();
        }
        Ok(Channel::new(
            endpoint.connect_lazy(),
            Shared {
                tokens,
                token_header: self.token_header.name(),
                default_timeout: self.default_timeout,
                retry: self.retry,
                methods,
                target: target_text,
            },
        ))
    }
}

/// `TRAINER_GRPC_ADDR` → `TRAINER_GRPC_AUDIENCE`; any other name gets `_AUDIENCE` appended.
fn audience_variable(variable: &str) -> String {
    match variable.strip_suffix("_ADDR") {
        Some(prefix) => format!("{prefix}_AUDIENCE"),
        None => format!("{variable}_AUDIENCE"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn from_env_reads_the_address_grpc_no_tls_and_the_audience_override() {
        let config = ClientConfig::from_lookup(
            "TRAINER_GRPC_ADDR",
            env(&[
                ("TRAINER_GRPC_ADDR", "trainer:3000"),
                ("GRPC_NO_TLS", "true"),
                ("TRAINER_GRPC_AUDIENCE", "https://trainer.example.com"),
            ]),
        )
        .unwrap();
        assert_eq!(config.address, "trainer:3000");
        assert!(config.no_tls);
        assert_eq!(
            config.audience.as_deref(),
            Some("https://trainer.example.com")
        );
    }

    #[test]
    fn from_env_errors_name_the_variable_and_the_way_out() {
        let err = ClientConfig::from_lookup("USERS_GRPC_ADDR", env(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("USERS_GRPC_ADDR is not set"), "{err}");
        assert!(err.contains("GRPC_NO_TLS=1"), "{err}");

        let err = ClientConfig::from_lookup(
            "USERS_GRPC_ADDR",
            env(&[("USERS_GRPC_ADDR", "users:3000"), ("GRPC_NO_TLS", "yes")]),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with(r#"GRPC_NO_TLS="yes" is not valid"#),
            "{err}"
        );
    }

    #[test]
    fn audience_variables_follow_the_address_variable() {
        assert_eq!(
            audience_variable("TRAINER_GRPC_ADDR"),
            "TRAINER_GRPC_AUDIENCE"
        );
        assert_eq!(audience_variable("BACKEND"), "BACKEND_AUDIENCE");
    }
}
