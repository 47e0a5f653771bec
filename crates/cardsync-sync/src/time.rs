//! Caller-supplied time, one type for every state machine of the crate.
//!
//! No state machine here reads a clock: that is what lets one test drive a week of
//! reconnects in microseconds, and what lets the same code run under tokio and in a browser
//! tab (where `std::time::Instant` does not exist on `wasm32-unknown-unknown`). Drivers pass
//! an [`Instant`] built from whatever monotonic clock they have (`performance.now()`,
//! `tokio::time::Instant` minus a start point, a simulated counter). The client side (the
//! connection, the session, the [`SyncMachine`](crate::client::SyncMachine)) and the server's
//! [`Room`](crate::room::Room) take the same type, so a simulation runs both on one clock.
//!
//! Milliseconds are the unit because that is what browsers and WebSocket timeouts work in;
//! finer resolution would only pretend to a precision the timers do not have. Spans of time
//! stay [`std::time::Duration`], which is plain data and exists on every target.

use std::fmt;
use std::ops::Add;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A point in time: milliseconds since an arbitrary epoch chosen by the driver.
///
/// Only differences between instants mean anything, so the epoch can be process start,
/// page load or zero in a test. Arithmetic saturates instead of panicking: an instant near
/// `u64::MAX` is a driver bug, but it must not take the state machine down with it.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Instant(pub u64);

impl Instant {
    /// The epoch itself. Handy as the start of a simulated clock.
    pub const ZERO: Instant = Instant(0);

    /// An instant `ms` milliseconds after the epoch.
    pub const fn from_millis(ms: u64) -> Self {
        Instant(ms)
    }

    /// Milliseconds since the epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// How long after `earlier` this instant is, or zero if it is not after it.
    ///
    /// Saturating, like `std::time::Instant::saturating_duration_since`, so that a driver
    /// that hands in a slightly stale `now` gets a zero age instead of a panic.
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }
}

/// Rounds a span up to whole milliseconds, saturating at `u64::MAX`.
///
/// Rounding *up* means a deadline never fires before the configured span has elapsed.
pub(crate) fn ceil_millis(d: Duration) -> u64 {
    let extra = u128::from(!d.subsec_nanos().is_multiple_of(1_000_000));
    u64::try_from(d.as_millis() + extra).unwrap_or(u64::MAX)
}

impl Add<Duration> for Instant {
    type Output = Instant;

    /// Saturating addition, rounding sub-millisecond spans up.
    fn add(self, rhs: Duration) -> Instant {
        Instant(self.0.saturating_add(ceil_millis(rhs)))
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ms", self.0)
    }
}

/// Serde adapter: a [`Duration`] as integer milliseconds, for configs and status snapshots
/// read by JavaScript. Serializing rounds up, so a fast local round trip never shows as 0 ms.
pub(crate) mod serde_millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(super::ceil_millis(*d))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_rounds_up_and_saturates() {
        assert_eq!(Instant(5) + Duration::from_micros(1), Instant(6));
        assert_eq!(Instant(5) + Duration::from_millis(2), Instant(7));
        assert_eq!(
            Instant(u64::MAX - 1) + Duration::from_secs(1),
            Instant(u64::MAX)
        );
    }

    #[test]
    fn duration_since_saturates() {
        assert_eq!(
            Instant(10).saturating_duration_since(Instant(4)),
            Duration::from_millis(6)
        );
        assert_eq!(
            Instant(4).saturating_duration_since(Instant(10)),
            Duration::ZERO
        );
    }
}
