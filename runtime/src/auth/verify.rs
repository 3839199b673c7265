//! From a bearer token to a [`Caller`], or the reason there is none.
//!
//! In `verify` mode a token is checked once (algorithm, key, signature, issuer, audience,
//! validity period) and its caller remembered until it expires, so a client sending the same
//! token on every call costs one hash lookup per call after the first. In `platform` mode the
//! claims are read as Cloud Run's IAM check passed them on.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde_json::{Map, Value};
use tonic::Code;

use super::keys::{Jwks, Lookup};
use super::{AuthConfig, AuthMode, Caller, CallerData, GOOGLE_ISSUER};
use crate::logging::Logging;

/// The target of the identity module's log events.
pub(crate) const AUTH_TARGET: &str = "cloudrun_runtime::auth";
/// Verified tokens remembered at most; beyond, expired ones go first, then all.
const CACHE_LIMIT: usize = 4096;

/// Why a call is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Rejection {
    pub(crate) code: Code,
    pub(crate) message: String,
}

impl Rejection {
    pub(crate) fn unauthenticated(message: impl Into<String>) -> Self {
        Rejection {
            code: Code::Unauthenticated,
            message: message.into(),
        }
    }
}

/// The outcome of reading a token without waiting.
pub(crate) enum Identified {
    Caller(Caller),
    /// The keys must be fetched first; `epoch` is the key set the lookup saw.
    NeedKeys {
        epoch: u64,
    },
    Rejected(Rejection),
}

struct Remembered {
    caller: Caller,
    expires: u64,
}

pub(crate) struct Identifier {
    mode: AuthMode,
    jwks: Option<Jwks>,
    audiences: Vec<String>,
    issuers: Vec<String>,
    skew: u64,
    remembered: RwLock<HashMap<Box<str>, Remembered>>,
    logging: Logging,
}

impl Identifier {
    pub(crate) fn new(config: &AuthConfig, logging: Logging) -> Self {
        crate::tls::install_jwt_provider();
        let mut issuers = vec![config.issuer.clone()];
        if config.issuer == GOOGLE_ISSUER {
            // Google signs some ID tokens with the issuer written without its scheme.
            issuers.push("accounts.google.com".to_owned());
        }
        Identifier {
            mode: config.mode,
            jwks: (config.mode == AuthMode::Verify).then(|| {
                Jwks::new(
                    &config.issuer,
                    config.jwks_url.clone(),
                    config.jwks_min_refresh_interval,
                )
            }),
            audiences: config.audiences.clone(),
            issuers,
            skew: config.clock_skew.as_secs(),
            remembered: RwLock::new(HashMap::new()),
            logging,
        }
    }

    /// Starts fetching the keys, so that the first call does not wait for them (and to follow
    /// a rotation before keys go stale).
    pub(crate) fn refresh_in_background(self: &Arc<Self>) {
        let Some(jwks) = &self.jwks else { return };
        let epoch = jwks.epoch();
        let this = Arc::clone(self);
        tokio::spawn(async move {
            // A failure is logged, and the next call that needs keys tries again.
            let _ = this.fetch_keys(epoch).await;
        });
    }

    /// Fetches the keys (one fetch for every caller that saw `epoch`).
    pub(crate) async fn fetch_keys(&self, epoch: u64) -> Result<(), Rejection> {
        let Some(jwks) = &self.jwks else {
            return Ok(());
        };
        jwks.refresh(epoch).await.map_err(|reason| {
            self.logging.scope(|| {
                tracing::warn!(target: AUTH_TARGET, "cannot fetch the ID token issuer's keys: {reason}")
            });
            Rejection {
                code: Code::Unavailable,
                message: format!(
                    "the server cannot fetch the keys of the token issuer {} ({reason}); try \
                     again later",
                    self.issuers[0]
                ),
            }
        })
    }

    /// Identifies the caller of `token` without waiting, unless keys must be fetched first
    /// (`may_fetch` false after a fetch: then a missing key is final).
    pub(crate) fn identify(self: &Arc<Self>, token: &str, may_fetch: bool) -> Identified {
        let now = unix_now();
        {
            let remembered = self
                .remembered
                .read()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(entry) = remembered.get(token) {
                if now <= entry.expires + self.skew {
                    return Identified::Caller(entry.caller.clone());
                }
                let expires = entry.expires;
                drop(remembered);
                self.remembered
                    .write()
                    .unwrap_or_else(PoisonError::into_inner)
                    .remove(token);
                return Identified::Rejected(expired(expires, now));
            }
        }
        let identified = match self.mode {
            AuthMode::Platform => self.read_platform(token, now),
            _ => self.verify(token, may_fetch),
        };
        if let Identified::Caller(caller) = &identified {
            self.remember(token, caller, now);
            self.logging.scope(|| {
                tracing::debug!(
                    target: AUTH_TARGET,
                    principal = caller.principal(),
                    "verified an ID token not seen before"
                )
            });
        }
        identified
    }

    fn remember(&self, token: &str, caller: &Caller, now: u64) {
        let expires = caller
            .expires_at()
            .and_then(|at| at.duration_since(UNIX_EPOCH).ok())
            .map_or(now + 300, |d| d.as_secs());
        let mut remembered = self
            .remembered
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if remembered.len() >= CACHE_LIMIT {
            let skew = self.skew;
            remembered.retain(|_, entry| now <= entry.expires + skew);
            if remembered.len() >= CACHE_LIMIT {
                remembered.clear();
            }
        }
        remembered.insert(
            token.into(),
            Remembered {
                caller: caller.clone(),
                expires,
            },
        );
    }

    fn verify(self: &Arc<Self>, token: &str, may_fetch: bool) -> Identified {
        let header = match jsonwebtoken::decode_header(token) {
            Ok(header) => header,
            Err(_) => return Identified::Rejected(unreadable_header(token)),
        };
        if !is_asymmetric(header.alg) {
            return Identified::Rejected(Rejection::unauthenticated(format!(
                "the token is signed with {:?}, a shared-secret algorithm this service never \
                 accepts: ID tokens are signed with the issuer's private key",
                header.alg
            )));
        }
        let Some(jwks) = &self.jwks else {
            return Identified::Rejected(Rejection::unauthenticated("no keys are configured"));
        };
        let (lookup, stale) = jwks.lookup(header.kid.as_deref());
        if stale {
            self.refresh_in_background();
        }
        let keys = match lookup {
            Lookup::Found(keys) => keys,
            Lookup::NotLoaded if may_fetch => {
                return Identified::NeedKeys {
                    epoch: jwks.epoch(),
                };
            }
            Lookup::Unknown { may_fetch: true } if may_fetch => {
                return Identified::NeedKeys {
                    epoch: jwks.epoch(),
                };
            }
            Lookup::NotLoaded => {
                return Identified::Rejected(Rejection {
                    code: Code::Unavailable,
                    message: format!(
                        "the server has no keys of the token issuer {} yet; try again later",
                        self.issuers[0]
                    ),
                });
            }
            Lookup::Unknown { .. } => {
                return Identified::Rejected(Rejection::unauthenticated(format!(
                    "the token is signed with a key the issuer {} does not publish (kid {:?}, \
                     keys from {})",
                    self.issuers[0],
                    header.kid.as_deref().unwrap_or(""),
                    jwks.source_text()
                )));
            }
        };

        let mut last = None;
        for key in keys {
            if key.algorithm != header.alg {
                last = Some(Rejection::unauthenticated(format!(
                    "the token says it is signed with {:?}, but its key {:?} is a {:?} key",
                    header.alg,
                    header.kid.as_deref().unwrap_or(""),
                    key.algorithm
                )));
                continue;
            }
            let mut validation = Validation::new(header.alg);
            validation.set_audience(&self.audiences);
            validation.set_issuer(&self.issuers);
            validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
            validation.leeway = self.skew;
            validation.validate_nbf = true;
            match jsonwebtoken::decode::<Map<String, Value>>(token, &key.decoding, &validation) {
                Ok(data) => return caller_from(data.claims),
                Err(error) => {
                    let rejection = self.explain(token, error.kind());
                    // Only a bad signature may mean "another key": anything else is final.
                    if !matches!(error.kind(), ErrorKind::InvalidSignature) {
                        return Identified::Rejected(rejection);
                    }
                    last = Some(rejection);
                }
            }
        }
        Identified::Rejected(last.unwrap_or_else(|| {
            Rejection::unauthenticated("no key of the issuer verifies the token's signature")
        }))
    }

    fn read_platform(&self, token: &str, now: u64) -> Identified {
        let claims: Map<String, Value> =
            match jsonwebtoken::dangerous::insecure_decode_claims(token) {
                Ok(claims) => claims,
                Err(error) => {
                    return Identified::Rejected(Rejection::unauthenticated(format!(
                        "the token is malformed: {error}"
                    )));
                }
            };
        match claims.get("exp").and_then(Value::as_u64) {
            None => {
                return Identified::Rejected(Rejection::unauthenticated(
                    "the token has no exp claim",
                ));
            }
            Some(exp) if now > exp + self.skew => return Identified::Rejected(expired(exp, now)),
            Some(_) => {}
        }
        if let Some(nbf) = claims.get("nbf").and_then(Value::as_u64)
            && nbf > now + self.skew
        {
            return Identified::Rejected(not_yet_valid(nbf, now));
        }
        if !self.audiences.is_empty() {
            let audiences = audiences_of(&claims);
            if !audiences.iter().any(|a| self.audiences.contains(a)) {
                return Identified::Rejected(wrong_audience(&audiences, &self.audiences));
            }
        }
        caller_from(claims)
    }

    /// Turns a verification failure into a message that says what is wrong with the token.
    fn explain(&self, token: &str, kind: &ErrorKind) -> Rejection {
        let claims: Map<String, Value> =
            jsonwebtoken::dangerous::insecure_decode_claims(token).unwrap_or_default();
        let now = unix_now();
        match kind {
            ErrorKind::ExpiredSignature => {
                expired(claims.get("exp").and_then(Value::as_u64).unwrap_or(0), now)
            }
            ErrorKind::ImmatureSignature => {
                not_yet_valid(claims.get("nbf").and_then(Value::as_u64).unwrap_or(0), now)
            }
            ErrorKind::InvalidAudience => wrong_audience(&audiences_of(&claims), &self.audiences),
            ErrorKind::InvalidIssuer => Rejection::unauthenticated(format!(
                "the token was issued by {:?}; this service accepts tokens from {:?}",
                claims.get("iss").and_then(Value::as_str).unwrap_or(""),
                self.issuers[0]
            )),
            ErrorKind::InvalidSignature => {
                Rejection::unauthenticated("the token's signature does not match its content")
            }
            ErrorKind::MissingRequiredClaim(claim) => {
                Rejection::unauthenticated(format!("the token has no {claim} claim"))
            }
            ErrorKind::InvalidAlgorithm | ErrorKind::InvalidKeyFormat => {
                Rejection::unauthenticated("the token's algorithm does not fit the key it names")
            }
            other => Rejection::unauthenticated(format!("the token is malformed: {other:?}")),
        }
    }
}

fn is_asymmetric(alg: Algorithm) -> bool {
    matches!(
        alg,
        Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512
            | Algorithm::ES256
            | Algorithm::ES384
            | Algorithm::EdDSA
    )
}

/// Explains a header jsonwebtoken cannot read, `alg: none` first of all.
fn unreadable_header(token: &str) -> Rejection {
    let header = token
        .split('.')
        .next()
        .and_then(|part| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(part)
                .ok()
        })
        .and_then(|bytes| serde_json::from_slice::<Map<String, Value>>(&bytes).ok());
    match header
        .as_ref()
        .and_then(|h| h.get("alg"))
        .and_then(Value::as_str)
    {
        Some(alg) if alg.eq_ignore_ascii_case("none") => Rejection::unauthenticated(
            "the token is not signed (alg: none); this service accepts only signed ID tokens",
        ),
        Some(alg) => Rejection::unauthenticated(format!(
            "the token's algorithm {alg:?} is not one this service accepts"
        )),
        None if token.split('.').count() != 3 => Rejection::unauthenticated(
            "the token is malformed: a JWT has three base64url parts separated by dots",
        ),
        None => Rejection::unauthenticated("the token is malformed: its header is not JSON"),
    }
}

fn expired(exp: u64, now: u64) -> Rejection {
    Rejection::unauthenticated(format!(
        "the token expired {} s ago (exp {exp}); fetch a new one",
        now.saturating_sub(exp)
    ))
}

fn not_yet_valid(nbf: u64, now: u64) -> Rejection {
    Rejection::unauthenticated(format!(
        "the token is not valid yet: its nbf is {} s from now (is a clock wrong?)",
        nbf.saturating_sub(now)
    ))
}

fn wrong_audience(found: &[String], accepted: &[String]) -> Rejection {
    Rejection::unauthenticated(format!(
        "the token is for audience {found:?}, not this service ({accepted:?}); ask for a \
         token whose audience is this service's URL"
    ))
}

fn audiences_of(claims: &Map<String, Value>) -> Vec<String> {
    match claims.get("aud") {
        Some(Value::String(aud)) => vec![aud.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

fn caller_from(claims: Map<String, Value>) -> Identified {
    let Some(subject) = claims.get("sub").and_then(Value::as_str).map(str::to_owned) else {
        return Identified::Rejected(Rejection::unauthenticated("the token has no sub claim"));
    };
    let email = claims
        .get("email")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let email_verified = match claims.get("email_verified") {
        Some(Value::Bool(verified)) => Some(*verified),
        Some(Value::String(text)) => Some(text == "true"),
        _ => None,
    };
    let principal = match &email {
        Some(email) => email.clone(),
        None => format!("subject:{subject}"),
    };
    let expires_at = claims
        .get("exp")
        .and_then(Value::as_u64)
        .map(|exp| UNIX_EPOCH + Duration::from_secs(exp));
    Identified::Caller(Caller::new(CallerData {
        principal,
        subject,
        email,
        email_verified,
        issuer: claims.get("iss").and_then(Value::as_str).map(str::to_owned),
        audiences: audiences_of(&claims),
        expires_at,
        claims: claims.into_iter().collect::<BTreeMap<_, _>>(),
    }))
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
