//! Round-trip time estimate from ping/pong, smoothed as TCP does (RFC 6298 §2).
//!
//! A single ping is noisy (a GC pause, a busy event loop), so the status shows a smoothed
//! value: `srtt` follows the mean with gain 1/8 and `rttvar` the mean deviation with gain
//! 1/4. The UI can show `srtt` as "latency", and `srtt + 4·rttvar` is the same conservative
//! bound TCP uses for its retransmission timeout, should a later layer want one.
//!
//! Pings are never retransmitted and each carries a unique nonce, so every sample is
//! unambiguous and Karn's algorithm is not needed.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Smoothed round-trip time of the current connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RttEstimate {
    /// Smoothed RTT (RFC 6298 `SRTT`), serialized as milliseconds.
    #[serde(with = "crate::time::serde_millis")]
    pub srtt: Duration,
    /// RTT variation (RFC 6298 `RTTVAR`), serialized as whole milliseconds.
    #[serde(with = "crate::time::serde_millis")]
    pub rttvar: Duration,
    /// The most recent raw sample, serialized as whole milliseconds.
    #[serde(with = "crate::time::serde_millis")]
    pub latest: Duration,
    /// Samples taken on this connection; the first sample seeds the estimate.
    pub samples: u32,
}

impl RttEstimate {
    /// An estimate seeded from a first sample: `srtt = r`, `rttvar = r/2` (RFC 6298 §2.2).
    pub fn new(sample: Duration) -> Self {
        RttEstimate {
            srtt: sample,
            rttvar: sample / 2,
            latest: sample,
            samples: 1,
        }
    }

    /// Folds in a new sample (RFC 6298 §2.3): `rttvar` is updated before `srtt`, using the
    /// old `srtt`, as the RFC requires.
    pub fn update(&mut self, sample: Duration) {
        let deviation = self.srtt.abs_diff(sample);
        self.rttvar = (self.rttvar * 3 + deviation) / 4;
        self.srtt = (self.srtt * 7 + sample) / 8;
        self.latest = sample;
        self.samples = self.samples.saturating_add(1);
    }

    /// `srtt + 4·rttvar`: a timeout that a healthy round trip rarely exceeds.
    pub fn timeout_bound(&self) -> Duration {
        self.srtt.saturating_add(self.rttvar.saturating_mul(4))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn follows_rfc_6298() {
        let mut rtt = RttEstimate::new(MS(100));
        assert_eq!((rtt.srtt, rtt.rttvar), (MS(100), MS(50)));
        rtt.update(MS(200));
        // rttvar = 3/4·50 + 1/4·|100−200| = 62.5; srtt = 7/8·100 + 1/8·200 = 112.5
        assert_eq!(
            (rtt.srtt, rtt.rttvar),
            (
                Duration::from_micros(112_500),
                Duration::from_micros(62_500)
            )
        );
        assert_eq!((rtt.latest, rtt.samples), (MS(200), 2));
        assert_eq!(rtt.timeout_bound(), Duration::from_micros(362_500));
    }

    #[test]
    fn converges_to_a_steady_rtt() {
        let mut rtt = RttEstimate::new(MS(500));
        for _ in 0..100 {
            rtt.update(MS(40));
        }
        assert!(rtt.srtt.abs_diff(MS(40)) < MS(1), "{rtt:?}");
        assert!(rtt.rttvar < MS(1), "{rtt:?}");
    }
}
