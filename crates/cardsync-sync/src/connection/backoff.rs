//! Exponential backoff with symmetric jitter.
//!
//! Kept apart from the state machine as pure functions of (config, failure count, RNG) so
//! the delay schedule can be tested and reasoned about without driving sockets.
//!
//! The formula, for the `n`th consecutive failure (`n ≥ 1`):
//!
//! ```text
//! nominal(n) = min(cap, base · multiplier^(n−1))          // 2 s, 4 s, 8 s, 8 s, ...
//! span       = round(nominal · jitter)                     // in whole milliseconds
//! delay      = nominal − span + (rng() mod (2·span + 1))   // uniform in [d(1−j), d(1+j)]
//! ```
//!
//! Symmetric jitter was chosen over AWS "full jitter" (`[0, d]`) because full jitter lets a
//! client retry almost at once after a failure, and over "decorrelated jitter" because that
//! carries state between delays, which makes the bound `delay ≤ cap·(1+jitter)` harder to
//! state. The modulo bias is below 2⁻⁴⁰ for any delay under a year, far below what a
//! reconnect schedule can notice.

use std::time::Duration;

use super::config::ConnectionConfig;
use super::rng::Rng;
use crate::time::ceil_millis;

/// The delay before retrying after the `failures`th consecutive failure, before jitter.
///
/// `failures == 0` is treated as 1: the first retry waits `backoff_base`.
pub(crate) fn nominal_delay(config: &ConnectionConfig, failures: u32) -> Duration {
    let cap = config.backoff_cap;
    let mut delay = config.backoff_base.min(cap);
    for _ in 1..failures {
        if delay >= cap {
            break; // Stop early: also keeps the loop short for huge failure counts.
        }
        delay = delay.saturating_mul(config.backoff_multiplier).min(cap);
    }
    delay
}

/// The jittered delay before retrying after the `failures`th consecutive failure.
///
/// Draws exactly one value from `rng` (none when jitter rounds to zero), so a seeded run is
/// reproducible. The result lies in `[nominal·(1−j), nominal·(1+j)]` rounded to whole ms.
pub(crate) fn retry_delay(
    config: &ConnectionConfig,
    failures: u32,
    rng: &mut impl Rng,
) -> Duration {
    let nominal = ceil_millis(nominal_delay(config, failures));
    let jitter = config.backoff_jitter.clamp(0.0, 1.0);
    // `as` saturates for floats; nominal·jitter ≤ nominal, so nothing is lost.
    let span = (nominal as f64 * jitter).round() as u64;
    if span == 0 {
        return Duration::from_millis(nominal);
    }
    let low = nominal - span.min(nominal);
    let width = span.saturating_mul(2).saturating_add(1);
    Duration::from_millis(low.saturating_add(rng.next_u64() % width))
}

/// The largest delay `retry_delay` can ever return: `cap·(1+jitter)`, rounded up.
pub(crate) fn max_retry_delay(config: &ConnectionConfig) -> Duration {
    let cap = ceil_millis(config.backoff_cap);
    let span = (cap as f64 * config.backoff_jitter.clamp(0.0, 1.0)).round() as u64;
    Duration::from_millis(cap.saturating_add(span))
}

#[cfg(test)]
mod tests {
    use super::super::rng::SplitMix64;
    use super::*;

    #[test]
    fn nominal_schedule_doubles_up_to_the_cap() {
        let c = ConnectionConfig::default();
        let secs: Vec<u64> = (1..=6).map(|n| nominal_delay(&c, n).as_secs()).collect();
        assert_eq!(secs, [2, 4, 8, 8, 8, 8]);
        assert_eq!(nominal_delay(&c, 0), Duration::from_secs(2));
        assert_eq!(nominal_delay(&c, u32::MAX), Duration::from_secs(8));
    }

    #[test]
    fn jitter_stays_within_bounds_and_spreads() {
        let c = ConnectionConfig::default();
        let mut rng = SplitMix64::new(7);
        for n in 1..=5 {
            let nominal = nominal_delay(&c, n);
            let (lo, hi) = (nominal.mul_f64(0.5), nominal.mul_f64(1.5));
            let delays: Vec<Duration> = (0..200).map(|_| retry_delay(&c, n, &mut rng)).collect();
            assert!(
                delays.iter().all(|d| (lo..=hi).contains(d)),
                "{n}: {delays:?}"
            );
            assert!(delays.iter().all(|d| *d <= max_retry_delay(&c)));
            // 200 draws from a 2001+ ms window are not all in one half of it.
            assert!(delays.iter().any(|d| *d < nominal) && delays.iter().any(|d| *d > nominal));
        }
    }

    #[test]
    fn zero_jitter_is_exact_and_draws_nothing() {
        let c = ConnectionConfig {
            backoff_jitter: 0.0,
            ..ConnectionConfig::default()
        };
        let mut rng = SplitMix64::new(1);
        assert_eq!(retry_delay(&c, 2, &mut rng), Duration::from_secs(4));
        assert_eq!(rng, SplitMix64::new(1));
    }
}
