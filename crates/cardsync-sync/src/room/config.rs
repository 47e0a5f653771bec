//! Limits and policy of a room, as one serde value with defaults.
//!
//! Every limit protects the *other* peers: a peer past a limit gets a clear refusal (a
//! `Reject` with `TooLarge` or `RateLimited`, or a `Close` for an oversize frame), or, for a
//! stock client past its rate, a pause of its socket, and nobody else notices. Missing fields take their defaults and unknown fields are refused, so a
//! misspelt knob fails loudly instead of silently keeping its default.

use serde::{Deserialize, Serialize};

use super::auth::{Permissions, Role};
use super::bucket::RateLimit;

/// Configuration of a [`Room`](super::Room).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RoomConfig {
    /// Largest update (batch, stock update or sync step 2) the room decodes. Decoding and
    /// validating cost time linear in the update, so this bounds the work one message causes.
    /// It also sets the largest frame the room reads ([`RoomConfig::max_frame_bytes`]).
    pub max_update_bytes: usize,
    /// Batches (and stock updates) per peer. Past it, a cardsync client gets
    /// `Reject { code: RateLimited }` and resends later; a stock client, which never resends,
    /// has its update judged all the same and is paused ([`RoomAction::Pause`]) until its
    /// bucket has refilled.
    ///
    /// [`RoomAction::Pause`]: super::RoomAction::Pause
    pub batch_rate: RateLimit,
    /// Rejections per peer: past it, the peer is closed (`TooManyRejections`). Every
    /// rejection after validation rebuilds the room's validation replica, O(document).
    pub rejection_rate: RateLimit,
    /// How long a peer may stay silent after connecting before it is closed.
    pub hello_timeout_ms: u64,
    /// The role of a peer that syncs without a `Hello` (a stock `y-websocket` client, which
    /// knows nothing of cardsync's extension). `None` refuses such peers. The default is
    /// read-only; set `Some(Role::Editor)` for two-way sync with stock clients, or have the
    /// driver authenticate them from the URL (`Room::handle_connect_with_token`).
    pub hello_less_role: Option<Role>,
    /// The write policy.
    pub permissions: Permissions,
    /// How far (milliseconds) a time-ordered register's stamp may be ahead of the room's
    /// wall clock ([`Room::handle_wall_clock`](super::Room::handle_wall_clock)). Past it the
    /// write is refused (`StampAhead`): a client with a clock in the future would otherwise
    /// win every later conflict of that register (docs/design.md §3).
    pub max_stamp_skew_ms: u64,
    /// Awareness (presence) messages per peer. Past it, a message is dropped: neither
    /// relayed nor remembered, and counted ([`Verdicts::awareness_rate_limited`]). Presence is
    /// renewed every 15 s by y-protocols clients and cardsync's, so a dropped state is stale
    /// for at most that long; the npm client sends at most one message per 50 ms, inside the
    /// default (docs/design.md §6, "Presence").
    ///
    /// [`Verdicts::awareness_rate_limited`]: super::Verdicts::awareness_rate_limited
    pub awareness_rate: RateLimit,
    /// Largest awareness update (bytes, after the message header) a peer may send; larger
    /// ones are dropped and counted ([`Verdicts::awareness_too_large`]). It bounds what the
    /// room remembers per peer (16 states at most) and what every other peer receives.
    ///
    /// [`Verdicts::awareness_too_large`]: super::Verdicts::awareness_too_large
    pub max_awareness_bytes: usize,
}

impl Default for RoomConfig {
    fn default() -> Self {
        Self {
            max_update_bytes: 4 << 20,
            batch_rate: RateLimit {
                burst: 100,
                refill_ms: 20,
            },
            rejection_rate: RateLimit {
                burst: 5,
                refill_ms: 2_000,
            },
            hello_timeout_ms: 10_000,
            hello_less_role: Some(Role::Viewer),
            permissions: Permissions::default(),
            max_stamp_skew_ms: 60_000,
            awareness_rate: RateLimit {
                burst: 30,
                refill_ms: 50,
            },
            max_awareness_bytes: 8 << 10,
        }
    }
}

/// Bytes a frame may add around the largest update: the message type, the extension kind, a
/// batch id and the length prefixes, each a varint of at most 10 bytes (a `SubmitBatch` needs
/// at most 42).
pub const FRAME_OVERHEAD: usize = 64;

impl RoomConfig {
    /// Largest frame the room reads: the update limit plus [`FRAME_OVERHEAD`]. Bigger frames
    /// close the connection unread (`FrameTooLarge`). A frame is the unit a driver buffers,
    /// so this bounds the memory one read takes; tied to the update limit, no frame is read
    /// whole only to be refused as `TooLarge` (docs/design.md §10).
    pub fn max_frame_bytes(&self) -> usize {
        self.max_update_bytes.saturating_add(FRAME_OVERHEAD)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_round_trip_with_defaults_and_strictness() {
        let config: RoomConfig =
            serde_json::from_str(r#"{"hello_less_role":"editor","max_update_bytes":10}"#).unwrap();
        assert_eq!(config.hello_less_role, Some(Role::Editor));
        assert_eq!(config.max_update_bytes, 10);
        assert_eq!(config.batch_rate, RoomConfig::default().batch_rate);
        let json = serde_json::to_string(&config).unwrap();
        assert_eq!(serde_json::from_str::<RoomConfig>(&json).unwrap(), config);
        assert!(serde_json::from_str::<RoomConfig>(r#"{"max_frame_byte":1}"#).is_err());
        // The frame limit follows the update limit: one knob, no gap between the two.
        assert_eq!(config.max_frame_bytes(), 10 + FRAME_OVERHEAD);
        assert!(serde_json::from_str::<RoomConfig>(r#"{"max_frame_bytes":1}"#).is_err());
    }
}
