//! The client's token cache: one fetch per token lifetime, not per call.
//!
//! A call reads the current token under a read lock (no await, no allocation beyond a reference
//! count). Once a token reaches its refresh time (a margin before expiry, or halfway through the
//! life of a short-lived token) the next call starts one background refresh and keeps using the
//! still-valid token. Only when there is no valid token do calls wait, and then for a single
//! fetch they all share. A failed fetch is remembered for a moment so that a burst of calls
//! fails fast with the same message instead of queueing fetches.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, SystemTime};

use http::HeaderValue;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::token::{Token, TokenError, TokenSource};

/// How long a fetch failure is handed to new calls before another fetch is tried.
const FAILURE_HOLD: Duration = Duration::from_secs(1);
/// Pause before retrying a background refresh that failed (the current token is still valid).
const FAILED_REFRESH_PAUSE: Duration = Duration::from_secs(5);

/// Cache settings.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CacheSettings {
    /// Refresh this long before expiry (tokens living less than twice this are refreshed halfway).
    pub(crate) refresh_margin: Duration,
    /// A fetch that takes longer fails.
    pub(crate) fetch_timeout: Duration,
    /// Whether the header may enter HPACK's dynamic table (see [`TokenHeader`](super::TokenHeader)).
    pub(crate) hpack_indexable: bool,
}

/// A token ready to send.
pub(crate) struct CachedToken {
    /// `Bearer <token>`. Marked sensitive (never printed by `Debug`, never HPACK-indexed) unless
    /// it travels in a header meant to be indexed.
    pub(crate) header: HeaderValue,
    expires_at: Option<Instant>,
}

impl CachedToken {
    fn is_valid(&self, now: Instant) -> bool {
        self.expires_at.is_none_or(|at| now < at)
    }
}

impl fmt::Debug for CachedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedToken")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct State {
    current: Option<Arc<CachedToken>>,
    refresh_at: Option<Instant>,
    failure: Option<(Instant, Arc<str>)>,
    /// Bumped by every completed fetch, so that calls that waited can share its outcome.
    epoch: u64,
}

/// Tokens for one audience from one source.
pub(crate) struct TokenCache {
    source: Box<dyn TokenSource>,
    source_text: String,
    audience: String,
    settings: CacheSettings,
    state: RwLock<State>,
    /// Held for the whole of a fetch: at most one in flight.
    fetch_lock: Arc<Mutex<()>>,
    refreshing: AtomicBool,
    fetches: AtomicU64,
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCache")
            .field("source", &self.source_text)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

impl TokenCache {
    pub(crate) fn new(
        source: Box<dyn TokenSource>,
        audience: String,
        settings: CacheSettings,
    ) -> Self {
        TokenCache {
            source_text: source.describe(),
            source,
            audience,
            settings,
            state: RwLock::new(State::default()),
            fetch_lock: Arc::new(Mutex::new(())),
            refreshing: AtomicBool::new(false),
            fetches: AtomicU64::new(0),
        }
    }

    pub(crate) fn audience(&self) -> &str {
        &self.audience
    }

    pub(crate) fn source_text(&self) -> &str {
        &self.source_text
    }

    /// How many fetches were started.
    pub(crate) fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        // The lock guards plain data that every writer leaves consistent.
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// A valid token, or the message of the failure that left none.
    pub(crate) async fn get(self: &Arc<Self>) -> Result<Arc<CachedToken>, Arc<str>> {
        let now = Instant::now();
        let seen_epoch = {
            let state = self.read();
            if let Some(token) = &state.current
                && token.is_valid(now)
            {
                let token = Arc::clone(token);
                let due = state.refresh_at.is_some_and(|at| now >= at);
                drop(state);
                if due {
                    self.refresh_in_background();
                }
                return Ok(token);
            }
            if let Some((at, failure)) = &state.failure
                && now < *at + FAILURE_HOLD
            {
                return Err(Arc::clone(failure));
            }
            state.epoch
        };

        let guard = Arc::clone(&self.fetch_lock).lock_owned().await;
        {
            let state = self.read();
            if state.epoch != seen_epoch {
                if let Some(token) = &state.current
                    && token.is_valid(Instant::now())
                {
                    return Ok(Arc::clone(token));
                }
                if let Some((_, failure)) = &state.failure {
                    return Err(Arc::clone(failure));
                }
            }
        }
        // The fetch runs in its own task holding the lock: a call that gives up (its deadline)
        // does not abort a fetch other calls are waiting for, nor let a second one start.
        let this = Arc::clone(self);
        let fetch = tokio::spawn(async move {
            let _guard = guard;
            this.fetch_locked().await
        });
        match fetch.await {
            Ok(result) => result,
            Err(join_error) => Err(self
                .failure_text(&TokenError::new(format!(
                    "the token source panicked: {join_error}"
                )))
                .into()),
        }
    }

    /// Drops `used` if it is still the current token, after the server it was sent to
    /// answered `UNAUTHENTICATED`, so that the next call fetches a new one.
    pub(crate) fn invalidate(&self, used: &Arc<CachedToken>) {
        let mut state = self.write();
        if state
            .current
            .as_ref()
            .is_some_and(|current| Arc::ptr_eq(current, used))
        {
            state.current = None;
            state.failure = None;
        }
    }

    fn refresh_in_background(self: &Arc<Self>) {
        if self.refreshing.swap(true, Ordering::AcqRel) {
            return;
        }
        let this = Arc::clone(self);
        tokio::spawn(async move {
            let _guard = this.fetch_lock.lock().await;
            let due = {
                let state = this.read();
                state.current.is_none() || state.refresh_at.is_some_and(|at| Instant::now() >= at)
            };
            if due && let Err(message) = this.fetch_locked().await {
                tracing::warn!(
                    audience = this.audience.as_str(),
                    "refreshing the ID token failed (the current one stays in use until it \
                         expires): {message}"
                );
            }
            this.refreshing.store(false, Ordering::Release);
        });
    }

    /// Fetches and records the outcome; the caller holds `fetch_lock`.
    async fn fetch_locked(&self) -> Result<Arc<CachedToken>, Arc<str>> {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let fetched = tokio::time::timeout(
            self.settings.fetch_timeout,
            self.source.fetch(&self.audience),
        )
        .await;
        let result = match fetched {
            Ok(Ok(token)) => prepare(&token, self.settings.hpack_indexable),
            Ok(Err(error)) => Err(error),
            Err(_) => Err(TokenError::new(format!(
                "no token within {} ms",
                self.settings.fetch_timeout.as_millis()
            ))),
        };
        let now = Instant::now();
        let mut state = self.write();
        state.epoch += 1;
        match result {
            Ok(token) => {
                let token = Arc::new(token);
                state.refresh_at =
                    refresh_time(now, token.expires_at, self.settings.refresh_margin);
                state.current = Some(Arc::clone(&token));
                state.failure = None;
                Ok(token)
            }
            Err(error) => {
                let message: Arc<str> = self.failure_text(&error).into();
                state.failure = Some((now, Arc::clone(&message)));
                match &state.current {
                    Some(current) if current.is_valid(now) => {
                        let left = current
                            .expires_at
                            .map_or(FAILED_REFRESH_PAUSE, |at| (at - now) / 2);
                        state.refresh_at = Some(now + left.min(FAILED_REFRESH_PAUSE));
                    }
                    _ => state.current = None,
                }
                Err(message)
            }
        }
    }

    fn failure_text(&self, error: &TokenError) -> String {
        format!(
            "cannot get an ID token for audience {:?} from {}: {error}",
            self.audience, self.source_text
        )
    }
}

/// Checks and converts a fetched token.
fn prepare(token: &Token, hpack_indexable: bool) -> Result<CachedToken, TokenError> {
    let expires_at = match token.expires_at() {
        None => None,
        Some(at) => match at.duration_since(SystemTime::now()) {
            Ok(left) if !left.is_zero() => Some(Instant::now() + left),
            _ => {
                return Err(TokenError::new(
                    "the source returned a token that has already expired (is the clock right?)",
                ));
            }
        },
    };
    let mut header = HeaderValue::try_from(format!("Bearer {}", token.secret())).map_err(|_| {
        TokenError::new("the token holds characters that an HTTP header cannot carry")
    })?;
    header.set_sensitive(!hpack_indexable);
    Ok(CachedToken { header, expires_at })
}

/// When to refresh a token fetched at `now`: `margin` before it expires, or halfway through its
/// remaining life when that is shorter than twice the margin. Never for tokens without expiry.
fn refresh_time(now: Instant, expires_at: Option<Instant>, margin: Duration) -> Option<Instant> {
    let expires_at = expires_at?;
    let left = expires_at.saturating_duration_since(now);
    if left > margin * 2 {
        Some(expires_at - margin)
    } else {
        Some(now + left / 2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_comes_a_margin_early_or_halfway_for_short_tokens() {
        let now = Instant::now();
        let margin = Duration::from_secs(300);
        let hour = now + Duration::from_secs(3600);
        assert_eq!(refresh_time(now, Some(hour), margin), Some(hour - margin));
        let short = now + Duration::from_secs(60);
        assert_eq!(
            refresh_time(now, Some(short), margin),
            Some(now + Duration::from_secs(30))
        );
        assert_eq!(refresh_time(now, None, margin), None);
    }

    #[test]
    fn prepared_tokens_are_bearer_headers_sensitive_unless_meant_to_be_indexed() {
        let token = prepare(&Token::new("abc"), false).unwrap();
        assert_eq!(token.header, "Bearer abc");
        assert!(token.header.is_sensitive());
        let indexable = prepare(&Token::new("abc"), true).unwrap();
        assert_eq!(indexable.header, "Bearer abc");
        assert!(!indexable.header.is_sensitive());
        assert!(prepare(&Token::new("bad\nvalue"), true).is_err());
        let expired = Token::with_expiry("t", SystemTime::now() - Duration::from_secs(1));
        assert!(
            prepare(&expired, true)
                .unwrap_err()
                .reason()
                .contains("already expired")
        );
    }
}
