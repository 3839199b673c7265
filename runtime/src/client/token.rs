//! Where a client's ID tokens come from: the [`TokenSource`] trait, a fixed token
//! ([`StaticToken`]), a closure ([`from_fn`]), and Google's sources
//! ([`GoogleIdToken`](super::GoogleIdToken)). Sources only fetch; the client caches what they
//! return and decides when to fetch again.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A bearer token and when it stops being valid.
///
/// `Debug` never prints the token itself.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    value: String,
    expires_at: Option<SystemTime>,
}

impl Token {
    /// A token whose expiry is read from its `exp` claim when it is a JWT (as Google ID tokens
    /// are); other tokens never expire as far as the cache knows.
    pub fn new(value: impl Into<String>) -> Self {
        let value = value.into();
        let expires_at = jwt_expiry(&value);
        Token { value, expires_at }
    }

    /// A token with a known expiry.
    pub fn with_expiry(value: impl Into<String>, expires_at: SystemTime) -> Self {
        Token {
            value: value.into(),
            expires_at: Some(expires_at),
        }
    }

    /// The token, as sent after `Bearer `.
    pub fn secret(&self) -> &str {
        &self.value
    }

    /// When the token expires, if known.
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.expires_at
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("value", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// The `exp` claim of a JWT, without checking anything else: the client only needs to know when
/// to fetch a fresh token, and the server it is sent to does the verifying.
fn jwt_expiry(token: &str) -> Option<SystemTime> {
    #[derive(serde::Deserialize)]
    struct Expiry {
        exp: Option<u64>,
    }
    let claims: Expiry = jsonwebtoken::dangerous::insecure_decode_claims(token).ok()?;
    claims
        .exp
        .map(|seconds| UNIX_EPOCH + Duration::from_secs(seconds))
}

/// Why a token source could not give a token.
///
/// The client turns it into an `UNAUTHENTICATED` status whose message names the source, the
/// audience and this reason.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{reason}")]
pub struct TokenError {
    reason: String,
}

impl TokenError {
    /// An error with a reason that says what failed and, where it can, the way out.
    pub fn new(reason: impl Into<String>) -> Self {
        TokenError {
            reason: reason.into(),
        }
    }

    /// An error from `error` and everything it was caused by, joined with `: `.
    pub fn from_error(context: &str, error: &(dyn std::error::Error + 'static)) -> Self {
        let mut reason = format!("{context}: {error}");
        let mut source = error.source();
        while let Some(cause) = source {
            let text = cause.to_string();
            // Wrapping errors often repeat their cause's text; say each thing once.
            if !reason.contains(&text) {
                reason.push_str(": ");
                reason.push_str(&text);
            }
            source = cause.source();
        }
        TokenError { reason }
    }

    /// The reason, as given.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// A boxed future returned by [`TokenSource::fetch`].
pub type TokenFuture<'a> = Pin<Box<dyn Future<Output = Result<Token, TokenError>> + Send + 'a>>;

/// Fetches ID tokens for an audience.
///
/// Implement it for an identity provider the runtime does not know; the client calls
/// [`fetch`](Self::fetch) only when its cache has no fresh token, never once per call.
///
/// ```
/// use cloudrun_runtime::client::{Token, TokenError, TokenFuture, TokenSource};
///
/// struct FromVault;
///
/// impl TokenSource for FromVault {
///     fn fetch<'a>(&'a self, audience: &'a str) -> TokenFuture<'a> {
///         Box::pin(async move {
///             let _ = audience; // ask the vault for a token for this audience
///             Err(TokenError::new("the vault is sealed"))
///         })
///     }
///
///     fn describe(&self) -> String {
///         "the vault".to_owned()
///     }
/// }
/// ```
pub trait TokenSource: Send + Sync + 'static {
    /// Fetches a token whose audience is `audience`.
    fn fetch<'a>(&'a self, audience: &'a str) -> TokenFuture<'a>;

    /// Names the source in error messages, e.g. `the metadata server at
    /// http://metadata.google.internal`.
    fn describe(&self) -> String;
}

impl<T: TokenSource + ?Sized> TokenSource for Arc<T> {
    fn fetch<'a>(&'a self, audience: &'a str) -> TokenFuture<'a> {
        (**self).fetch(audience)
    }

    fn describe(&self) -> String {
        (**self).describe()
    }
}

/// Always the same token, whatever the audience: for tests, and for tokens minted elsewhere.
///
/// The cache still honours its expiry: once it has expired, calls fail with `UNAUTHENTICATED`
/// instead of sending it.
#[derive(Clone, Debug)]
pub struct StaticToken {
    token: Token,
}

impl StaticToken {
    /// A source that always gives `token`.
    pub fn new(token: Token) -> Self {
        StaticToken { token }
    }
}

impl TokenSource for StaticToken {
    fn fetch<'a>(&'a self, _audience: &'a str) -> TokenFuture<'a> {
        let token = self.token.clone();
        Box::pin(async move {
            match token.expires_at {
                Some(at) if at <= SystemTime::now() => Err(TokenError::new(
                    "the static token has expired; supply a fresh one",
                )),
                _ => Ok(token),
            }
        })
    }

    fn describe(&self) -> String {
        "a static token".to_owned()
    }
}

/// A source from an async closure that receives the audience.
///
/// ```
/// use cloudrun_runtime::client::{Token, from_fn};
///
/// let source = from_fn("the test issuer", |audience: String| async move {
///     Ok(Token::new(format!("token-for-{audience}")))
/// });
/// # let _ = source;
/// ```
pub fn from_fn<F, Fut>(name: impl Into<String>, fetch: F) -> FnSource<F>
where
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Token, TokenError>> + Send + 'static,
{
    FnSource {
        name: name.into(),
        fetch,
    }
}

/// The source [`from_fn`] returns.
pub struct FnSource<F> {
    name: String,
    fetch: F,
}

impl<F> fmt::Debug for FnSource<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FnSource")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl<F, Fut> TokenSource for FnSource<F>
where
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Token, TokenError>> + Send + 'static,
{
    fn fetch<'a>(&'a self, audience: &'a str) -> TokenFuture<'a> {
        Box::pin((self.fetch)(audience.to_owned()))
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An unsigned JWT with the given payload (the client never checks signatures).
    fn jwt(payload: &str) -> String {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.c2ln",
            b64.encode(r#"{"alg":"RS256","typ":"JWT"}"#),
            b64.encode(payload)
        )
    }

    #[test]
    fn jwt_expiry_comes_from_exp_and_opaque_tokens_have_none() {
        let token = Token::new(jwt(r#"{"exp":2000000000,"aud":"x"}"#));
        assert_eq!(
            token.expires_at(),
            Some(UNIX_EPOCH + Duration::from_secs(2_000_000_000))
        );
        assert_eq!(Token::new("opaque").expires_at(), None);
        assert_eq!(Token::new(jwt(r#"{"aud":"x"}"#)).expires_at(), None);
    }

    #[test]
    fn debug_never_shows_the_token() {
        let token = Token::new("super-secret-value");
        let text = format!("{token:?}");
        assert!(!text.contains("super-secret"), "{text}");
    }

    #[test]
    fn error_chains_are_joined_once() {
        #[derive(Debug, thiserror::Error)]
        #[error("outer failed")]
        struct Outer(#[source] std::io::Error);
        let error = Outer(std::io::Error::other("connection refused"));
        let token_error = TokenError::from_error("fetching", &error);
        assert_eq!(
            token_error.reason(),
            "fetching: outer failed: connection refused"
        );
    }

    #[tokio::test]
    async fn an_expired_static_token_is_refused() {
        let past = SystemTime::now() - Duration::from_secs(10);
        let source = StaticToken::new(Token::with_expiry("t", past));
        let error = source.fetch("aud").await.unwrap_err();
        assert!(error.reason().contains("expired"), "{error}");
        let fresh = StaticToken::new(Token::new("t"));
        assert_eq!(fresh.fetch("aud").await.unwrap().secret(), "t");
    }
}
