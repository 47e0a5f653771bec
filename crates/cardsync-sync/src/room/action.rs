//! What the room asks its driver to do: its one output, drained with `Room::poll_action`.
//!
//! The room never owns a socket or a file: it sends frames, closes and pauses peers, and asks
//! for persists, each through a [`RoomAction`] (the names it uses for peers and persist jobs
//! are in `names.rs`).

use std::fmt;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::audit::AuditRecord;
use super::judgement::Judgement;
use super::names::{PeerId, PersistToken};
use crate::protocol::close_code;

/// Why the room closes a peer. Each reason maps to a WebSocket close code ([`Self::ws_code`])
/// and is the close frame's reason text ([`Self::as_str`]).
///
/// Not the client's [`CloseCause`](crate::connection::CloseCause), which is why a client's
/// connection machine drops its own socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeerCloseReason {
    /// The token was refused, or hello-less peers are not admitted.
    AuthDenied,
    /// The peer said nothing (no hello, no sync) within `hello_timeout_ms`.
    HelloTimeout,
    /// A frame exceeded the frame limit (`max_update_bytes` plus framing); the room did not
    /// look inside it.
    FrameTooLarge,
    /// A frame did not decode as a protocol message.
    Malformed,
    /// The peer exceeded its rejection budget. Each rejection costs the room a rebuild of
    /// its validation replica, so a peer that keeps sending invalid batches is cut off.
    TooManyRejections,
}

impl PeerCloseReason {
    /// Stable string form, for logs and JavaScript.
    pub fn as_str(self) -> &'static str {
        match self {
            PeerCloseReason::AuthDenied => "auth_denied",
            PeerCloseReason::HelloTimeout => "hello_timeout",
            PeerCloseReason::FrameTooLarge => "frame_too_large",
            PeerCloseReason::Malformed => "malformed",
            PeerCloseReason::TooManyRejections => "too_many_rejections",
        }
    }

    /// The WebSocket close code to send: [`MESSAGE_TOO_BIG`](close_code::MESSAGE_TOO_BIG),
    /// [`PROTOCOL_ERROR`](close_code::PROTOCOL_ERROR), and
    /// [`POLICY_VIOLATION`](close_code::POLICY_VIOLATION) for the rest.
    pub fn ws_code(self) -> u16 {
        match self {
            PeerCloseReason::FrameTooLarge => close_code::MESSAGE_TOO_BIG,
            PeerCloseReason::Malformed => close_code::PROTOCOL_ERROR,
            PeerCloseReason::AuthDenied
            | PeerCloseReason::HelloTimeout
            | PeerCloseReason::TooManyRejections => close_code::POLICY_VIOLATION,
        }
    }
}

impl fmt::Display for PeerCloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An instruction for the driver, returned by [`Room::poll_action`](super::Room::poll_action).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoomAction {
    /// Send this frame (one binary WebSocket message) to the peer.
    Send {
        /// Recipient.
        peer: PeerId,
        /// An encoded [`Message`](crate::protocol::Message). A broadcast shares one buffer
        /// between all its recipients.
        frame: Bytes,
    },
    /// Close the peer's connection. The room has already forgotten it; a later
    /// `handle_disconnect` for it is accepted and does nothing.
    Close {
        /// Whom.
        peer: PeerId,
        /// Why.
        reason: PeerCloseReason,
    },
    /// Record that the room compensated a stock peer's update (see [`AuditRecord`]); the log
    /// append holding it is durable. Log it, count it; nothing to confirm.
    Audit(AuditRecord),
    /// What the room decided about one batch, for the driver's audit trail (see
    /// [`Judgement`]). Only from a room opened [`with_judgements`](super::Room::with_judgements).
    /// An accepted batch's judgement comes before the [`RoomAction::Persist`] it names.
    Judged(Judgement),
    /// Read no more frames from this peer before `until`. The peer sent faster than
    /// `batch_rate` allows and cannot resend a refused update (a stock client, no hello), so
    /// the room took its update anyway and owes the bucket; pausing its socket is the
    /// backpressure that keeps its long-run rate at the limit without dropping anything.
    /// Frames already read are still handed to the room. A later `Pause` for the same peer
    /// may name a later instant; the driver waits for the latest.
    Pause {
        /// Whom.
        peer: PeerId,
        /// On the driver's clock, as every `now` it passes in.
        until: crate::time::Instant,
    },
    /// Append this v1 update to the document's update log, make it durable, then call
    /// `handle_persisted(now, token)`. Replaying the log in order rebuilds the document.
    Persist {
        /// Pass back to `handle_persisted`.
        token: PersistToken,
        /// A v1 update, already validated and applied by the room.
        update: Vec<u8>,
    },
}
