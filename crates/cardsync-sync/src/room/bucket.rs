//! Token buckets on the driver's clock, for per-peer rate limits.
//!
//! A bucket holds up to `burst` tokens and gains one every `refill_ms`. Refill is computed
//! lazily from `now` when a token is taken, so the room needs no timer for it, and integer
//! arithmetic keeps it exact and deterministic. A clock that steps backwards refills nothing
//! (it never panics or grants a windfall).
//!
//! A peer that cannot resend a refused update (a stock client) is never refused for its rate:
//! it takes a token it does not have ([`TokenBucket::take_owing`]), the bucket records a
//! *debt* that refills pay back first, and the caller learns when a token will be there
//! again, to stop reading that peer until then (docs/design.md §10). The long-run rate is the
//! same either way; only who waits differs.

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
    /// Tokens taken while the bucket was empty ([`TokenBucket::take_owing`]); refills pay
    /// this back before they add tokens.
    debt: u64,
    /// The instant up to which refills have been credited.
    credited_at: Instant,
}

impl TokenBucket {
    /// A full bucket at `now`.
    pub fn new(limit: RateLimit, now: Instant) -> Self {
        Self {
            limit,
            tokens: limit.burst,
            debt: 0,
            credited_at: now,
        }
    }

    /// Takes a token if one is available at `now`.
    pub fn try_take(&mut self, now: Instant) -> bool {
        if self.limit.refill_ms == 0 {
            return true;
        }
        self.refill(now);
        if self.tokens == 0 {
            return false;
        }
        self.tokens -= 1;
        true
    }

    /// Takes a token at `now` even if there is none, owing it. Returns `None` while tokens
    /// remain, else the instant at which the debt is paid and a token is there again: the
    /// caller stops reading the peer until then.
    pub fn take_owing(&mut self, now: Instant) -> Option<Instant> {
        if self.limit.refill_ms == 0 {
            return None;
        }
        self.refill(now);
        if self.tokens > 0 {
            self.tokens -= 1;
        } else {
            self.debt = self.debt.saturating_add(1);
        }
        if self.tokens > 0 {
            return None;
        }
        let wait = self
            .debt
            .saturating_add(1)
            .saturating_mul(self.limit.refill_ms);
        Some(Instant(self.credited_at.as_millis().saturating_add(wait)))
    }

    /// Credits the tokens gained since `credited_at`: the debt first, then up to the burst.
    fn refill(&mut self, now: Instant) {
        if now <= self.credited_at {
            return;
        }
        let gained = (now.as_millis() - self.credited_at.as_millis()) / self.limit.refill_ms;
        let room = self
            .debt
            .saturating_add(u64::from(self.limit.burst - self.tokens));
        if gained >= room {
            self.debt = 0;
            self.tokens = self.limit.burst;
            self.credited_at = now;
        } else {
            let paid = gained.min(self.debt);
            self.debt -= paid;
            // `gained - paid < burst - tokens <= u32::MAX`, so the cast is exact.
            self.tokens += (gained - paid) as u32;
            self.credited_at =
                Instant(self.credited_at.as_millis() + gained * self.limit.refill_ms);
        }
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

    #[test]
    fn owing_tokens_pays_back_before_refilling() {
        let limit = RateLimit {
            burst: 2,
            refill_ms: 100,
        };
        let mut b = TokenBucket::new(limit, Instant(1_000));
        assert_eq!(b.take_owing(Instant(1_000)), None);
        // The last token: the next one arrives one interval on.
        assert_eq!(b.take_owing(Instant(1_000)), Some(Instant(1_100)));
        // Owing one, then two: a token is there again after two, then three intervals.
        assert_eq!(b.take_owing(Instant(1_000)), Some(Instant(1_200)));
        assert_eq!(b.take_owing(Instant(1_000)), Some(Instant(1_300)));
        assert!(!b.try_take(Instant(1_250)));
        // At the instant it named, the debt is paid and one token is there.
        assert!(b.try_take(Instant(1_300)));
        assert!(!b.try_take(Instant(1_300)));
        // Unlimited buckets never ask to wait.
        let mut free = TokenBucket::new(
            RateLimit {
                burst: 0,
                refill_ms: 0,
            },
            Instant(0),
        );
        assert!((0..100).all(|_| free.take_owing(Instant(0)).is_none()));
    }
}
