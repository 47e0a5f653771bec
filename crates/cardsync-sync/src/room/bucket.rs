//! Token buckets on the driver's clock, for per-peer rate limits.
//!
//! A bucket holds up to `burst` tokens and gains one every `refill_ms`. Refill is computed
//! lazily from `now` when a token is taken, so the room needs no timer for it, and integer
//! arithmetic keeps it exact and deterministic. A clock that steps backwards refills nothing
//! (it never panics or grants a windfall).

use serde::{Deserialize, Serialize};

use crate::time::Instant;

/// A rate limit: bursts of `burst`, then one event per `refill_ms` on average.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Most events allowed back to back (0 allows nothing).
    pub burst: u32,
    /// Milliseconds per regained token (0: unlimited).
    pub refill_ms: u64,
}

/// The state of one limit for one peer.
#[derive(Clone, Debug)]
pub(crate) struct TokenBucket {
    limit: RateLimit,
    tokens: u32,
    /// The instant up to which refills have been credited.
    credited_at: Instant,
}

impl TokenBucket {
    /// A full bucket at `now`.
    pub fn new(limit: RateLimit, now: Instant) -> Self {
        Self {
            limit,
            tokens: limit.burst,
            credited_at: now,
        }
    }

    /// Takes a token if one is available at `now`.
    pub fn try_take(&mut self, now: Instant) -> bool {
        if self.limit.refill_ms == 0 {
            return true;
        }
        if now > self.credited_at {
            let gained = (now.as_millis() - self.credited_at.as_millis()) / self.limit.refill_ms;
            let room = u64::from(self.limit.burst - self.tokens);
            if gained >= room {
                self.tokens = self.limit.burst;
                self.credited_at = now;
            } else {
                // `gained < room <= u32::MAX`, so the casts below are exact.
                self.tokens += gained as u32;
                self.credited_at =
                    Instant(self.credited_at.as_millis() + gained * self.limit.refill_ms);
            }
        }
        if self.tokens == 0 {
            return false;
        }
        self.tokens -= 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_then_refills_one_per_interval() {
        let mut b = TokenBucket::new(
            RateLimit {
                burst: 2,
                refill_ms: 100,
            },
            Instant(1_000),
        );
        assert!(b.try_take(Instant(1_000)));
        assert!(b.try_take(Instant(1_000)));
        assert!(!b.try_take(Instant(1_050)));
        assert!(b.try_take(Instant(1_100)));
        assert!(!b.try_take(Instant(1_199)));
        // A long pause refills to the burst, not beyond.
        assert!(b.try_take(Instant(9_000)));
        assert!(b.try_take(Instant(9_000)));
        assert!(!b.try_take(Instant(9_000)));
        // Time going backwards grants nothing and does not panic.
        assert!(!b.try_take(Instant(5)));
    }

    #[test]
    fn zero_interval_is_unlimited() {
        let mut b = TokenBucket::new(
            RateLimit {
                burst: 0,
                refill_ms: 0,
            },
            Instant(0),
        );
        assert!((0..1000).all(|_| b.try_take(Instant(0))));
    }
}
