//! Tuning knobs for reconnects and liveness, and the checks that keep them sane.
//!
//! The defaults follow docs/design.md §6 (backoff 2 s, 4 s, 8 s max) and what browsers do to
//! background tabs: Chrome throttles timers in hidden pages to about once a minute, so a
//! 10 s heartbeat there would be late by construction and would look like missed pongs.
//!
//! Durations serialize as integer milliseconds so that a JavaScript caller can write
//! `{ "heartbeatInterval": 5000 }` (camelCase, as every JavaScript-facing field name); missing fields take their defaults and unknown fields
//! are rejected, because a misspelt knob that silently keeps its default is a bug that only
//! shows up in production.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// How a [`Connection`](super::Connection) backs off, times out and checks liveness.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ConnectionConfig {
    /// Nominal delay after the first failure. Later failures multiply it.
    #[serde(with = "crate::time::serde_millis")]
    pub backoff_base: Duration,
    /// Largest nominal delay. Without a cap, a long outage would leave clients waiting
    /// minutes after the server is back.
    #[serde(with = "crate::time::serde_millis")]
    pub backoff_cap: Duration,
    /// Growth factor per consecutive failure (2 gives 2 s, 4 s, 8 s, 8 s with the defaults).
    pub backoff_multiplier: u32,
    /// Symmetric jitter as a fraction of the nominal delay, in `0.0..=1.0`: a delay `d`
    /// becomes uniform in `[d·(1−j), d·(1+j)]`. The default 0.5 spreads a herd of clients over
    /// a window as wide as the delay itself while keeping every delay at least half the
    /// nominal one, so no client reconnects in a hot loop (which "full jitter", `[0, d]`,
    /// allows).
    pub backoff_jitter: f64,
    /// Time between pings while the page is visible. Pings both detect a dead socket that
    /// the OS has not noticed (NAT timeouts, sleeping laptops) and feed the RTT estimate.
    #[serde(with = "crate::time::serde_millis")]
    pub heartbeat_interval: Duration,
    /// Time between pings while the page is hidden; see the module docs for why it is longer.
    #[serde(with = "crate::time::serde_millis")]
    pub heartbeat_interval_hidden: Duration,
    /// Heartbeat ticks without any inbound traffic after which the socket is declared dead.
    /// With the defaults a silent socket is dropped 30 s after the last message heard.
    pub missed_pongs_before_dead: u32,
    /// How long an `OpenSocket` may take to report `socket_opened`.
    #[serde(with = "crate::time::serde_millis")]
    pub connect_timeout: Duration,
    /// Longest silence allowed while syncing. It is an *idle* timeout, reset by every inbound
    /// message, because a fixed deadline would make a large document on a slow link time out
    /// forever, one retry after another, while a stalled server is still caught.
    #[serde(with = "crate::time::serde_millis")]
    pub sync_timeout: Duration,
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        ConnectionConfig {
            backoff_base: Duration::from_secs(2),
            backoff_cap: Duration::from_secs(8),
            backoff_multiplier: 2,
            backoff_jitter: 0.5,
            heartbeat_interval: Duration::from_secs(10),
            heartbeat_interval_hidden: Duration::from_secs(60),
            missed_pongs_before_dead: 2,
            connect_timeout: Duration::from_secs(10),
            sync_timeout: Duration::from_secs(15),
        }
    }
}

/// Why a [`ConnectionConfig`] was refused. (The server's `cardsync_server::cli::ConfigError` is
/// about reading its config files.)
///
/// Every variant is a value that would make the machine spin: a zero interval or timeout
/// would put `poll_timeout` at `now` forever and hang a driver that follows the drain rule.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ConnectionConfigError {
    /// The named interval or timeout is zero.
    #[error("{field} must be greater than zero")]
    ZeroDuration {
        /// The config field at fault.
        field: &'static str,
    },
    /// `backoff_cap` is below `backoff_base`, so the cap could never be reached.
    #[error("backoff_cap must be at least backoff_base")]
    CapBelowBase,
    /// `backoff_multiplier` is zero, which would make every delay after the first zero.
    #[error("backoff_multiplier must be at least 1")]
    ZeroMultiplier,
    /// `backoff_jitter` is NaN or outside `0.0..=1.0`.
    #[error("backoff_jitter must be within 0.0..=1.0")]
    JitterOutOfRange,
    /// `missed_pongs_before_dead` is zero, which would drop every socket at the first tick.
    #[error("missed_pongs_before_dead must be at least 1")]
    ZeroMissedPongs,
}

impl ConnectionConfig {
    /// Checks the invariants the state machine relies on; see [`ConnectionConfigError`].
    pub fn validate(&self) -> Result<(), ConnectionConfigError> {
        for (field, d) in [
            ("backoff_base", self.backoff_base),
            ("heartbeat_interval", self.heartbeat_interval),
            ("heartbeat_interval_hidden", self.heartbeat_interval_hidden),
            ("connect_timeout", self.connect_timeout),
            ("sync_timeout", self.sync_timeout),
        ] {
            // Sub-millisecond spans round up to 1 ms, so only a true zero spins.
            if d.is_zero() {
                return Err(ConnectionConfigError::ZeroDuration { field });
            }
        }
        if self.backoff_cap < self.backoff_base {
            return Err(ConnectionConfigError::CapBelowBase);
        }
        if self.backoff_multiplier == 0 {
            return Err(ConnectionConfigError::ZeroMultiplier);
        }
        if !(0.0..=1.0).contains(&self.backoff_jitter) {
            return Err(ConnectionConfigError::JitterOutOfRange);
        }
        if self.missed_pongs_before_dead == 0 {
            return Err(ConnectionConfigError::ZeroMissedPongs);
        }
        Ok(())
    }

    /// The longest backoff delay this config can produce: `backoff_cap·(1+backoff_jitter)`,
    /// in whole milliseconds. Useful to size a "reconnecting…" indicator.
    pub fn max_retry_delay(&self) -> Duration {
        super::backoff::max_retry_delay(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_matches_design() {
        let c = ConnectionConfig::default();
        assert_eq!(c.validate(), Ok(()));
        assert_eq!(
            (c.backoff_base, c.backoff_cap),
            (Duration::from_secs(2), Duration::from_secs(8))
        );
    }

    #[test]
    fn json_uses_millis_and_defaults_missing_fields() {
        let c: ConnectionConfig = serde_json::from_str(r#"{"heartbeatInterval": 5000}"#).unwrap();
        assert_eq!(c.heartbeat_interval, Duration::from_millis(5000));
        assert_eq!(c.backoff_cap, Duration::from_secs(8));
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["backoffBase"], 2000);
        assert!(serde_json::from_str::<ConnectionConfig>(r#"{"heartbeatIntreval": 1}"#).is_err());
    }

    #[test]
    fn rejects_values_that_would_spin() {
        let bad = |f: fn(&mut ConnectionConfig)| {
            let mut c = ConnectionConfig::default();
            f(&mut c);
            c.validate().unwrap_err()
        };
        assert_eq!(
            bad(|c| c.heartbeat_interval = Duration::ZERO),
            ConnectionConfigError::ZeroDuration {
                field: "heartbeat_interval"
            }
        );
        assert_eq!(
            bad(|c| c.backoff_cap = Duration::from_secs(1)),
            ConnectionConfigError::CapBelowBase
        );
        assert_eq!(
            bad(|c| c.backoff_multiplier = 0),
            ConnectionConfigError::ZeroMultiplier
        );
        assert_eq!(
            bad(|c| c.backoff_jitter = f64::NAN),
            ConnectionConfigError::JitterOutOfRange
        );
        assert_eq!(
            bad(|c| c.backoff_jitter = 1.5),
            ConnectionConfigError::JitterOutOfRange
        );
        assert_eq!(
            bad(|c| c.missed_pongs_before_dead = 0),
            ConnectionConfigError::ZeroMissedPongs
        );
    }
}
