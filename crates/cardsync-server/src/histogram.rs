//! A latency histogram with fixed buckets, as Prometheus scrapes it.
//!
//! The JSON metrics keep a window of recent samples for exact percentiles, which only this
//! process can compute. A monitoring system instead sums counts across scrapes and nodes, so it
//! needs cumulative bucket counts over the process's lifetime: from those it derives p50, p90
//! and p99 (`histogram_quantile`) for any interval, on one node or many. Buckets are fixed and
//! shared by every histogram here, so two nodes' (or two histograms') buckets line up.
//! Recording is a few relaxed atomic adds: no lock on the ack path.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the buckets, in seconds (`+Inf` is implied): from half a millisecond (an
/// ack on a quiet server with a fast disk) to ten seconds (a store retrying an outage).
pub const BOUNDS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Counts of observations per bucket, their sum and their count.
#[derive(Debug, Default)]
pub struct Histogram {
    /// Non-cumulative: `buckets[i]` counts observations in `(BOUNDS[i-1], BOUNDS[i]]`; the last
    /// one counts those above every bound.
    buckets: [AtomicU64; BOUNDS.len() + 1],
    sum_micros: AtomicU64,
    count: AtomicU64,
}

/// A histogram's figures at one moment, as the exposition format wants them.
#[derive(Clone, Debug, PartialEq)]
pub struct HistogramSnapshot {
    /// `(upper bound in seconds, observations at or below it)`, cumulative, in bound order.
    pub buckets: Vec<(f64, u64)>,
    /// Observations in total (the `+Inf` bucket).
    pub count: u64,
    /// Sum of the observations, in seconds.
    pub sum_seconds: f64,
}

impl Histogram {
    /// Records one observation.
    pub fn observe(&self, latency: Duration) {
        let seconds = latency.as_secs_f64();
        let bucket = BOUNDS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(BOUNDS.len());
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// The cumulative figures. Read without a lock, so a scrape racing an observation may see
    /// it in `count` and not yet in a bucket, never the reverse within one bucket.
    pub fn snapshot(&self) -> HistogramSnapshot {
        let mut running = 0;
        let buckets = BOUNDS
            .iter()
            .zip(&self.buckets)
            .map(|(bound, n)| {
                running += n.load(Ordering::Relaxed);
                (*bound, running)
            })
            .collect();
        let above = self.buckets[BOUNDS.len()].load(Ordering::Relaxed);
        HistogramSnapshot {
            buckets,
            // At least the sum of the buckets, so `+Inf` is never below a finite bucket.
            count: (running + above).max(self.count.load(Ordering::Relaxed)),
            sum_seconds: self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_bounds_inclusive() {
        let h = Histogram::default();
        h.observe(Duration::from_micros(500)); // exactly the first bound
        h.observe(Duration::from_millis(3));
        h.observe(Duration::from_secs(60));
        let s = h.snapshot();
        assert_eq!(s.buckets[0], (0.0005, 1));
        assert_eq!(s.buckets[2], (0.0025, 1));
        assert_eq!(s.buckets[3], (0.005, 2));
        assert_eq!(s.buckets.last(), Some(&(10.0, 2)));
        assert_eq!(s.count, 3);
        assert!((s.sum_seconds - 60.0035).abs() < 1e-9);
    }
}
