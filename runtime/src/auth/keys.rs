//! The issuer's signing keys: found through its discovery document (or configured), fetched as
//! a JWKS, cached for as long as its `Cache-Control` allows, and fetched again when a token
//! names a key not seen yet (key rotation), at most once per interval and one fetch at a time.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey};
use tokio::time::Instant;

/// How long keys are kept when the JWKS response does not say.
const DEFAULT_MAX_AGE: Duration = Duration::from_secs(3600);
/// The longest keys are kept whatever the response says.
const LONGEST_MAX_AGE: Duration = Duration::from_secs(24 * 3600);
/// Limit on one discovery or JWKS request.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// One key and the algorithm tokens signed with it must declare.
pub(crate) struct Key {
    pub(crate) decoding: DecodingKey,
    pub(crate) algorithm: Algorithm,
}

struct KeySet {
    keys: HashMap<String, Arc<Key>>,
    fetched: Instant,
    max_age: Duration,
}

/// What a lookup found.
pub(crate) enum Lookup {
    /// The keys a token may have been signed with (one for a token that names its key).
    Found(Vec<Arc<Key>>),
    /// No such key in the current set; a fetch may find it.
    Unknown { may_fetch: bool },
    /// No keys yet.
    NotLoaded,
}

pub(crate) struct Jwks {
    http: reqwest::Client,
    issuer: String,
    configured_url: Option<String>,
    discovered_url: Mutex<Option<String>>,
    current: RwLock<Option<Arc<KeySet>>>,
    fetch_lock: tokio::sync::Mutex<()>,
    last_fetch: Mutex<Option<Instant>>,
    min_interval: Duration,
    epoch: AtomicU64,
}

impl Jwks {
    pub(crate) fn new(
        issuer: &str,
        configured_url: Option<String>,
        min_interval: Duration,
    ) -> Self {
        crate::tls::install_ring_provider();
        // Building fails only when TLS cannot be set up at all; a client without a timeout is
        // then better than none (requests are bounded by `timeout` below anyway).
        let http = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Jwks {
            http,
            issuer: issuer.to_owned(),
            configured_url,
            discovered_url: Mutex::new(None),
            current: RwLock::new(None),
            fetch_lock: tokio::sync::Mutex::new(()),
            last_fetch: Mutex::new(None),
            min_interval,
            epoch: AtomicU64::new(0),
        }
    }

    /// Where the keys come from, for messages.
    pub(crate) fn source_text(&self) -> String {
        match (&self.configured_url, self.discovered()) {
            (Some(url), _) => url.clone(),
            (None, Some(url)) => url,
            (None, None) => format!("{}/.well-known/openid-configuration", self.issuer),
        }
    }

    fn discovered(&self) -> Option<String> {
        self.discovered_url
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The keys for a token's `kid` (every key when it names none), and whether they are due
    /// for a refresh.
    pub(crate) fn lookup(&self, kid: Option<&str>) -> (Lookup, bool) {
        let current = self
            .current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let Some(set) = current else {
            return (Lookup::NotLoaded, false);
        };
        let stale = set.fetched.elapsed() > set.max_age;
        let found: Vec<Arc<Key>> = match kid {
            Some(kid) => set.keys.get(kid).cloned().into_iter().collect(),
            None => set.keys.values().cloned().collect(),
        };
        if found.is_empty() {
            let may_fetch = self
                .last_fetch
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .is_none_or(|at| at.elapsed() >= self.min_interval);
            (Lookup::Unknown { may_fetch }, stale)
        } else {
            (Lookup::Found(found), stale)
        }
    }

    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Fetches the keys, unless another fetch completed since `seen_epoch` (then its result
    /// stands). Keeps the current keys when the fetch fails.
    pub(crate) async fn refresh(&self, seen_epoch: u64) -> Result<(), String> {
        let _guard = self.fetch_lock.lock().await;
        if self.epoch() != seen_epoch {
            return Ok(());
        }
        *self
            .last_fetch
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
        let result = self.fetch().await;
        self.epoch.fetch_add(1, Ordering::AcqRel);
        let set = result?;
        let count = set.keys.len();
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(set));
        tracing::debug!(
            issuer = self.issuer.as_str(),
            keys = count as u64,
            "fetched the issuer's signing keys"
        );
        Ok(())
    }

    async fn jwks_url(&self) -> Result<String, String> {
        if let Some(url) = &self.configured_url {
            return Ok(url.clone());
        }
        if let Some(url) = self.discovered() {
            return Ok(url);
        }
        #[derive(serde::Deserialize)]
        struct Discovery {
            jwks_uri: Option<String>,
        }
        let url = format!("{}/.well-known/openid-configuration", self.issuer);
        let response = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| format!("cannot fetch {url}: {}", error_chain(&e)))?;
        if !response.status().is_success() {
            return Err(format!(
                "{url} answered HTTP {}",
                response.status().as_u16()
            ));
        }
        let discovery: Discovery = response
            .json()
            .await
            .map_err(|e| format!("{url} is not a discovery document: {e}"))?;
        let jwks = discovery
            .jwks_uri
            .ok_or_else(|| format!("{url} names no jwks_uri; set CLOUDRUN_AUTH_JWKS_URL"))?;
        *self
            .discovered_url
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(jwks.clone());
        Ok(jwks)
    }

    async fn fetch(&self) -> Result<KeySet, String> {
        let url = self.jwks_url().await?;
        let response = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| format!("cannot fetch {url}: {}", error_chain(&e)))?;
        if !response.status().is_success() {
            return Err(format!(
                "{url} answered HTTP {}",
                response.status().as_u16()
            ));
        }
        let max_age = response
            .headers()
            .get(http::header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .and_then(max_age)
            .unwrap_or(DEFAULT_MAX_AGE)
            .min(LONGEST_MAX_AGE);
        let set: JwkSet = response
            .json()
            .await
            .map_err(|e| format!("{url} is not a JWKS: {e}"))?;
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            let Some(kid) = jwk.common.key_id.clone() else {
                continue;
            };
            let Some(algorithm) = algorithm_of(jwk) else {
                tracing::debug!(kid, "skipping a key of a kind tokens are not verified with");
                continue;
            };
            match DecodingKey::from_jwk(jwk) {
                Ok(decoding) => {
                    keys.insert(
                        kid,
                        Arc::new(Key {
                            decoding,
                            algorithm,
                        }),
                    );
                }
                Err(error) => tracing::warn!(kid, %error, "skipping a key that cannot be read"),
            }
        }
        if keys.is_empty() {
            return Err(format!("{url} holds no usable signing key"));
        }
        Ok(KeySet {
            keys,
            fetched: Instant::now(),
            max_age,
        })
    }
}

/// The algorithm of an asymmetric key: its `alg`, else what its type implies. Symmetric keys
/// (`oct`) are never used: a JWKS is public.
fn algorithm_of(jwk: &jsonwebtoken::jwk::Jwk) -> Option<Algorithm> {
    let declared = jwk.common.key_algorithm.and_then(|alg| match alg {
        KeyAlgorithm::RS256 => Some(Algorithm::RS256),
        KeyAlgorithm::RS384 => Some(Algorithm::RS384),
        KeyAlgorithm::RS512 => Some(Algorithm::RS512),
        KeyAlgorithm::PS256 => Some(Algorithm::PS256),
        KeyAlgorithm::PS384 => Some(Algorithm::PS384),
        KeyAlgorithm::PS512 => Some(Algorithm::PS512),
        KeyAlgorithm::ES256 => Some(Algorithm::ES256),
        KeyAlgorithm::ES384 => Some(Algorithm::ES384),
        KeyAlgorithm::EdDSA => Some(Algorithm::EdDSA),
        _ => None,
    });
    match (&jwk.algorithm, declared) {
        (AlgorithmParameters::OctetKey(_), _) => None,
        (_, Some(alg)) => Some(alg),
        (AlgorithmParameters::RSA(_), None) => Some(Algorithm::RS256),
        (AlgorithmParameters::EllipticCurve(ec), None) => match ec.curve {
            EllipticCurve::P256 => Some(Algorithm::ES256),
            EllipticCurve::P384 => Some(Algorithm::ES384),
            _ => None,
        },
        (AlgorithmParameters::OctetKeyPair(_), None) => Some(Algorithm::EdDSA),
        _ => None,
    }
}

/// `max-age` of a `Cache-Control` value.
fn max_age(cache_control: &str) -> Option<Duration> {
    cache_control.split(',').find_map(|directive| {
        let (name, value) = directive.trim().split_once('=')?;
        (name.eq_ignore_ascii_case("max-age"))
            .then(|| value.trim().parse().ok())
            .flatten()
            .map(Duration::from_secs)
    })
}

fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_age_is_read_from_cache_control() {
        assert_eq!(
            max_age("public, max-age=19263, must-revalidate, no-transform"),
            Some(Duration::from_secs(19263))
        );
        assert_eq!(max_age("no-cache"), None);
        assert_eq!(max_age("max-age=abc"), None);
    }

    #[test]
    fn symmetric_keys_are_never_used() {
        let set: JwkSet = serde_json::from_value(serde_json::json!({"keys": [
            {"kty": "oct", "kid": "s", "k": "c2VjcmV0", "alg": "HS256"},
            {"kty": "RSA", "kid": "r", "n": "AQAB", "e": "AQAB"},
            {"kty": "EC", "kid": "e", "crv": "P-256", "x": "AQAB", "y": "AQAB"}
        ]}))
        .unwrap();
        let algorithms: Vec<_> = set.keys.iter().map(algorithm_of).collect();
        assert_eq!(
            algorithms,
            [None, Some(Algorithm::RS256), Some(Algorithm::ES256)]
        );
    }
}
