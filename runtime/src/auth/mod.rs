//! Caller identity on the server: who is calling, checked before the handler runs.
//!
//! Set by the environment, like everything on Cloud Run:
//!
//! | Variable | Meaning | Default |
//! |---|---|---|
//! | `CLOUDRUN_AUTH_MODE` | `off`, `verify` or `platform` (below) | `off` |
//! | `CLOUDRUN_AUTH_AUDIENCE` | audiences accepted, comma-separated (the service's URL) | required for `verify` |
//! | `CLOUDRUN_AUTH_ISSUER` | the OIDC issuer whose tokens are accepted | `https://accounts.google.com` |
//! | `CLOUDRUN_AUTH_JWKS_URL` | where its signing keys are | from the issuer's discovery document |
//! | `CLOUDRUN_AUTH_ALLOWED` | principals allowed on methods whose proto declares no rule, comma-separated | any verified caller |
//!
//! - **`off`**: no checks; handlers see no caller.
//! - **`verify`**: every call (health checks excepted) must carry `Bearer <ID token>` (in
//!   `x-serverless-authorization` or `authorization`, below): an RS256/ES256 (or other
//!   asymmetric) JWT signed by one of the issuer's keys, for one of the audiences, within its
//!   validity period (30 s of clock skew allowed). Keys come from the issuer's JWKS, cached for
//!   as long as its `Cache-Control` says (an hour otherwise) and fetched again when a token
//!   names a key not seen yet, so key rotation is followed. Each distinct token is verified once
//!   and remembered until it expires.
//! - **`platform`**: the service sits behind Cloud Run's IAM check (`--no-allow-unauthenticated`),
//!   which has verified the token already and strips its signature: claims are read without
//!   checking a signature (expiry, and the audience when `CLOUDRUN_AUTH_AUDIENCE` is set, are
//!   still checked). **Safe only when the service is not publicly invocable**: anyone who can
//!   reach the container directly can claim to be anyone.
//!
//! In both modes the token is read from `x-serverless-authorization` when present, else from
//! `authorization`: Cloud Run's own order, which leaves `authorization` to the application (an
//! end user's credentials, say). The generated clients send `x-serverless-authorization`
//! (see [`TokenHeader`](crate::client::TokenHeader)); Python, Go and `grpcurl` callers usually
//! send `authorization`.
//!
//! A missing, malformed, expired or not-yet-valid token, a wrong audience or issuer, a bad
//! signature, an unknown key or a forbidden algorithm (`none`, or HMAC, which would let a public
//! key serve as a shared secret) answers `UNAUTHENTICATED`, with a message that says which (an
//! expired token says "expired", so clients fetch a new one). A verified caller whom the rules
//! do not allow answers `PERMISSION_DENIED`.
//!
//! Rules come from the proto (`(cloudrun.auth.method)` and `(cloudrun.auth.service)` options,
//! see [`MethodAuth`](crate::MethodAuth)); methods without a rule allow the principals in
//! `CLOUDRUN_AUTH_ALLOWED`, or any verified caller when it is unset. `grpc.health.v1.Health`
//! needs no token, so Cloud Run's probes keep working; reflection follows the allow-list.
//!
//! Handlers read the verified caller from the request:
//!
//! ```
//! use cloudrun_runtime::Caller;
//!
//! fn who(request: &tonic::Request<()>) -> String {
//!     match Caller::of(request) {
//!         Some(caller) => caller.principal().to_owned(),
//!         None => "nobody (identity checks are off)".to_owned(),
//!     }
//! }
//! ```
//!
//! Tokens never reach the logs; each call's log line names the caller's principal.

mod keys;
pub(crate) mod layer;
mod principal;
mod verify;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::Value;

use crate::Error;

pub(crate) use principal::Principal;

/// `CLOUDRUN_AUTH_MODE`.
pub const MODE: &str = "CLOUDRUN_AUTH_MODE";
/// `CLOUDRUN_AUTH_AUDIENCE`.
pub const AUDIENCE: &str = "CLOUDRUN_AUTH_AUDIENCE";
/// `CLOUDRUN_AUTH_ISSUER`.
pub const ISSUER: &str = "CLOUDRUN_AUTH_ISSUER";
/// `CLOUDRUN_AUTH_JWKS_URL`.
pub const JWKS_URL: &str = "CLOUDRUN_AUTH_JWKS_URL";
/// `CLOUDRUN_AUTH_ALLOWED`.
pub const ALLOWED: &str = "CLOUDRUN_AUTH_ALLOWED";

/// Google's issuer, the default.
pub const GOOGLE_ISSUER: &str = "https://accounts.google.com";

/// How callers are identified. See the [module documentation](self).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum AuthMode {
    /// No checks.
    #[default]
    Off,
    /// Verify ID tokens against the issuer's keys.
    Verify,
    /// Trust Cloud Run's IAM check and read the claims it passed on.
    Platform,
}

impl fmt::Display for AuthMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AuthMode::Off => "off",
            AuthMode::Verify => "verify",
            AuthMode::Platform => "platform",
        })
    }
}

/// Caller identity settings: [`AuthConfig::from_env`] reads the variables in the
/// [module documentation](self); the constructors and setters configure the same from code.
///
/// ```
/// use cloudrun_runtime::AuthConfig;
///
/// let config = AuthConfig::verify(["https://trainer-xyz-uc.a.run.app"])
///     .allowed(["trainings@my-project.iam.gserviceaccount.com"]);
/// # let _ = config;
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub struct AuthConfig {
    pub(crate) mode: AuthMode,
    pub(crate) audiences: Vec<String>,
    pub(crate) issuer: String,
    pub(crate) jwks_url: Option<String>,
    pub(crate) allowed: Vec<String>,
    pub(crate) clock_skew: Duration,
    pub(crate) jwks_min_refresh_interval: Duration,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig::off()
    }
}

impl AuthConfig {
    /// No identity checks.
    pub fn off() -> Self {
        AuthConfig {
            mode: AuthMode::Off,
            audiences: Vec::new(),
            issuer: GOOGLE_ISSUER.to_owned(),
            jwks_url: None,
            allowed: Vec::new(),
            clock_skew: Duration::from_secs(30),
            jwks_min_refresh_interval: Duration::from_secs(1),
        }
    }

    /// Verify ID tokens issued for one of `audiences` (Google's issuer unless
    /// [`issuer`](Self::issuer) says otherwise).
    pub fn verify<I, S>(audiences: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        AuthConfig {
            mode: AuthMode::Verify,
            audiences: audiences.into_iter().map(Into::into).collect(),
            ..AuthConfig::off()
        }
    }

    /// Read the claims Cloud Run's IAM check passed on, without verifying a signature. Only for
    /// services that are not publicly invocable.
    pub fn platform() -> Self {
        AuthConfig {
            mode: AuthMode::Platform,
            ..AuthConfig::off()
        }
    }

    /// The mode.
    pub fn mode(&self) -> AuthMode {
        self.mode
    }

    /// The audiences accepted (in `platform` mode, checked only when given).
    pub fn audiences<I, S>(mut self, audiences: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.audiences = audiences.into_iter().map(Into::into).collect();
        self
    }

    /// The OIDC issuer whose tokens are accepted: its `iss`, and where its discovery document
    /// is (`<issuer>/.well-known/openid-configuration`).
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = issuer.into();
        self
    }

    /// Where the issuer's keys are, instead of its discovery document's `jwks_uri`.
    pub fn jwks_url(mut self, url: impl Into<String>) -> Self {
        self.jwks_url = Some(url.into());
        self
    }

    /// Principals allowed on methods whose proto declares no rule (syntax as in
    /// [`MethodAuth`](crate::MethodAuth)); empty allows any verified caller.
    pub fn allowed<I, S>(mut self, principals: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.allowed = principals.into_iter().map(Into::into).collect();
        self
    }

    /// How far the clocks of issuer and server may disagree when checking `exp` and `nbf`
    /// (30 s unless set).
    pub fn clock_skew(mut self, skew: Duration) -> Self {
        self.clock_skew = skew;
        self
    }

    /// The shortest time between two fetches of the keys caused by tokens naming unknown keys
    /// (1 s unless set), so that made-up key ids cannot make the server hammer the issuer.
    pub fn jwks_min_refresh_interval(mut self, interval: Duration) -> Self {
        self.jwks_min_refresh_interval = interval;
        self
    }

    /// Reads the `CLOUDRUN_AUTH_*` variables; a bad value is an [`Error`] that names the
    /// variable, its value and what is allowed.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|name| std::env::var_os(name))
    }

    pub(crate) fn from_lookup(
        lookup: impl Fn(&str) -> Option<std::ffi::OsString>,
    ) -> Result<Self, Error> {
        let text = |name: &'static str| -> Result<Option<String>, Error> {
            match lookup(name) {
                None => Ok(None),
                Some(value) => match value.into_string() {
                    Ok(value) if value.trim().is_empty() => Ok(None),
                    Ok(value) => Ok(Some(value.trim().to_owned())),
                    Err(value) => Err(Error::env(name, &value.to_string_lossy(), "UTF-8 text")),
                },
            }
        };
        let list = |value: Option<String>| -> Vec<String> {
            value
                .map(|v| {
                    v.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        let mode = match text(MODE)?.as_deref() {
            None | Some("off") => AuthMode::Off,
            Some("verify") => AuthMode::Verify,
            Some("platform") => AuthMode::Platform,
            Some(other) => {
                return Err(Error::env(
                    MODE,
                    other,
                    "off (no identity checks), verify (verify ID tokens against the issuer's \
                     keys) or platform (behind Cloud Run's IAM check, which verified them)",
                ));
            }
        };
        let mut config = AuthConfig {
            mode,
            audiences: list(text(AUDIENCE)?),
            issuer: text(ISSUER)?.unwrap_or_else(|| GOOGLE_ISSUER.to_owned()),
            jwks_url: text(JWKS_URL)?,
            allowed: list(text(ALLOWED)?),
            ..AuthConfig::off()
        };
        if config.mode == AuthMode::Verify && config.audiences.is_empty() {
            return Err(Error::env(
                AUDIENCE,
                "",
                "one or more audiences, comma-separated, when CLOUDRUN_AUTH_MODE=verify: the \
                 service's URL, e.g. https://trainer-xyz-uc.a.run.app, as its callers' tokens \
                 name it",
            ));
        }
        for principal in &config.allowed {
            if let Err(problem) = Principal::parse(principal) {
                return Err(Error::env(
                    ALLOWED,
                    principal,
                    format!("comma-separated principals; this one {problem}"),
                ));
            }
        }
        for (name, url) in [
            (ISSUER, Some(&config.issuer)),
            (JWKS_URL, config.jwks_url.as_ref()),
        ] {
            if let Some(url) = url
                && (reqwest::Url::parse(url).is_err()
                    || !(url.starts_with("https://") || url.starts_with("http://")))
            {
                return Err(Error::env(
                    name,
                    url,
                    "an https:// URL such as https://accounts.google.com",
                ));
            }
        }
        config.issuer = config.issuer.trim_end_matches('/').to_owned();
        Ok(config)
    }

    /// Checks a configuration made in code; `Server::auth` reports the problem.
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.mode == AuthMode::Verify && self.audiences.is_empty() {
            return Err("verify mode needs at least one audience (the service's URL)".to_owned());
        }
        for principal in &self.allowed {
            Principal::parse(principal).map_err(|problem| format!("{principal:?} {problem}"))?;
        }
        Ok(())
    }
}

/// The verified caller of a call, in the request's extensions when identity checks are on.
///
/// Cheap to clone. `Debug` shows who the caller is, never a token.
#[derive(Clone)]
pub struct Caller(Arc<CallerData>);

pub(crate) struct CallerData {
    pub(crate) principal: String,
    pub(crate) subject: String,
    pub(crate) email: Option<String>,
    pub(crate) email_verified: Option<bool>,
    pub(crate) issuer: Option<String>,
    pub(crate) audiences: Vec<String>,
    pub(crate) expires_at: Option<SystemTime>,
    pub(crate) claims: BTreeMap<String, Value>,
}

impl Caller {
    /// The caller of `request`, when identity checks are on and it carried a token.
    pub fn of<T>(request: &tonic::Request<T>) -> Option<&Caller> {
        request.extensions().get::<Caller>()
    }

    /// Who the caller is, as logs and allow-lists name it: the email when the token has one,
    /// else `subject:<sub>`.
    pub fn principal(&self) -> &str {
        &self.0.principal
    }

    /// The `sub` claim: the account's stable id.
    pub fn subject(&self) -> &str {
        &self.0.subject
    }

    /// The `email` claim.
    pub fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }

    /// Whether the issuer vouches for the email (`email_verified`, when given).
    pub fn email_verified(&self) -> Option<bool> {
        self.0.email_verified
    }

    /// The `iss` claim.
    pub fn issuer(&self) -> Option<&str> {
        self.0.issuer.as_deref()
    }

    /// The `aud` claim.
    pub fn audiences(&self) -> &[String] {
        &self.0.audiences
    }

    /// When the token expires.
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.0.expires_at
    }

    /// One claim.
    pub fn claim(&self, name: &str) -> Option<&Value> {
        self.0.claims.get(name)
    }

    /// Every claim.
    pub fn claims(&self) -> &BTreeMap<String, Value> {
        &self.0.claims
    }

    pub(crate) fn new(data: CallerData) -> Self {
        Caller(Arc::new(data))
    }
}

impl fmt::Debug for Caller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Caller")
            .field("principal", &self.0.principal)
            .field("subject", &self.0.subject)
            .field("issuer", &self.0.issuer)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn unset_means_off_with_googles_issuer() {
        let config = AuthConfig::from_lookup(env(&[])).unwrap();
        assert_eq!(config, AuthConfig::off());
        assert_eq!(config.issuer, GOOGLE_ISSUER);
    }

    #[test]
    fn every_variable_is_read() {
        let config = AuthConfig::from_lookup(env(&[
            (MODE, "verify"),
            (AUDIENCE, "https://a.run.app, https://a.example.com"),
            (ISSUER, "https://issuer.example.com/"),
            (JWKS_URL, "https://issuer.example.com/keys"),
            (ALLOWED, "x@y.z,domain:example.com"),
        ]))
        .unwrap();
        assert_eq!(config.mode, AuthMode::Verify);
        assert_eq!(
            config.audiences,
            ["https://a.run.app", "https://a.example.com"]
        );
        assert_eq!(config.issuer, "https://issuer.example.com");
        assert_eq!(
            config.jwks_url.as_deref(),
            Some("https://issuer.example.com/keys")
        );
        assert_eq!(config.allowed, ["x@y.z", "domain:example.com"]);
    }

    #[test]
    fn bad_values_name_the_variable_and_what_is_allowed() {
        let err = AuthConfig::from_lookup(env(&[(MODE, "on")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(r#"CLOUDRUN_AUTH_MODE="on" is not valid: expected off"#),
            "{err}"
        );

        let err = AuthConfig::from_lookup(env(&[(MODE, "verify")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("CLOUDRUN_AUTH_AUDIENCE=\"\" is not valid"),
            "{err}"
        );
        assert!(err.contains("https://trainer-xyz-uc.a.run.app"), "{err}");

        let err = AuthConfig::from_lookup(env(&[(ALLOWED, "ops")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(r#"CLOUDRUN_AUTH_ALLOWED="ops" is not valid"#),
            "{err}"
        );

        let err = AuthConfig::from_lookup(env(&[(ISSUER, "accounts.google.com")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("an https:// URL"), "{err}");
    }

    #[test]
    fn code_configurations_are_checked_too() {
        assert!(AuthConfig::verify(Vec::<String>::new()).check().is_err());
        assert!(AuthConfig::verify(["https://a"]).check().is_ok());
        assert!(AuthConfig::platform().allowed(["nope"]).check().is_err());
    }
}
