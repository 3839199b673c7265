//! When and how often a failed call is sent again.

use std::time::Duration;

/// Retries of calls that failed with `UNAVAILABLE`: the server was scaling in (a GOAWAY), the
/// connection dropped, or the frontend had no instance ready.
///
/// Only methods that are safe to repeat are retried: `idempotency_level` `NO_SIDE_EFFECTS` or
/// `IDEMPOTENT` in the proto, or marked with
/// [`ClientConfig::idempotent_method`](super::ClientConfig::idempotent_method). Streams the server
/// refused before reading them (HTTP/2 `REFUSED_STREAM`) are retried for every method whose
/// request is not a stream, since they never reached the handler. Client-streaming calls are
/// never repeated: their requests are not buffered.
///
/// The delay before retry *n* is drawn uniformly from zero to
/// `min(initial_backoff × multiplierⁿ⁻¹, max_backoff)` (gRPC's retry design, "full jitter"), and
/// no retry starts after the call's deadline.
///
/// ```
/// use std::time::Duration;
/// use cloudrun_runtime::client::RetryPolicy;
///
/// let policy = RetryPolicy::default()
///     .max_attempts(5)
///     .initial_backoff(Duration::from_millis(50));
/// # let _ = policy;
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    multiplier: f64,
}

impl Default for RetryPolicy {
    /// 4 attempts, backoff from 100 ms doubling up to 2 s.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            multiplier: 2.0,
        }
    }
}

impl RetryPolicy {
    /// No retries: every call is attempted once.
    pub fn never() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// Attempts in all, the first included (at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The upper bound of the first delay.
    pub fn initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }

    /// The largest upper bound any delay can have.
    pub fn max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }

    /// How much the upper bound grows per retry (at least 1).
    pub fn multiplier(mut self, multiplier: f64) -> Self {
        self.multiplier = if multiplier.is_finite() && multiplier >= 1.0 {
            multiplier
        } else {
            1.0
        };
        self
    }

    pub(crate) fn attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The delay before retry number `retry` (1 for the first retry).
    pub(crate) fn backoff(&self, retry: u32) -> Duration {
        let exponent = i32::try_from(retry.saturating_sub(1)).unwrap_or(i32::MAX);
        let bound = self.initial_backoff.as_secs_f64() * self.multiplier.powi(exponent);
        let bound = bound.min(self.max_backoff.as_secs_f64());
        Duration::from_secs_f64(bound * fastrand::f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_stay_under_a_bound_that_grows_to_the_maximum() {
        let policy = RetryPolicy::default();
        for _ in 0..200 {
            assert!(policy.backoff(1) <= Duration::from_millis(100));
            assert!(policy.backoff(2) <= Duration::from_millis(200));
            assert!(policy.backoff(10) <= Duration::from_secs(2));
        }
        // Jitter: the delays are not all the same.
        let delays: std::collections::HashSet<_> = (0..20).map(|_| policy.backoff(3)).collect();
        assert!(delays.len() > 1, "{delays:?}");
    }

    #[test]
    fn nonsense_settings_are_clamped() {
        let policy = RetryPolicy::default().max_attempts(0).multiplier(f64::NAN);
        assert_eq!(policy.attempts(), 1);
        assert!(policy.backoff(5) <= Duration::from_millis(100));
    }
}
