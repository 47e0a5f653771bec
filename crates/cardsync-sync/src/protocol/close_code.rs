//! The WebSocket close codes cardsync sends and reads (RFC 6455 §7.4.1), in one place.
//!
//! A close code is part of the wire: the server picks one for every close it starts, the room
//! names the one for each of its [`PeerCloseReason`](crate::room::PeerCloseReason)s, and the
//! native and browser clients report the one they saw. Written as bare numbers they were
//! repeated in a score of places, where a typo (1088 for 1008) compiles and a reader has to
//! know the RFC by heart; here each has a name and the reason cardsync uses it.
//!
//! **What a client does on each.** The connection state machine treats every close alike: it
//! counts as [`Failure::SocketClosed`](crate::connection::Failure::SocketClosed) with the
//! code, the connection backs off (2 s, 4 s, 8 s… with jitter) and reconnects, and the code
//! stays in `last_failure` for a status display. The codes differ in what they tell the
//! person or the log reading that status, which each constant says.
//!
//! Only `u16`s: a peer may send any code, and a driver hands whatever it got to
//! `handle_socket_closed`. The JavaScript driver (`pkg/`) keeps its own copies of the numbers.

/// 1000, normal closure: the client closes its own socket (it stopped syncing, went offline,
/// or gave up on a socket that failed). Nobody is at fault.
pub const NORMAL: u16 = 1000;

/// 1001, going away: the server is shutting down, or closed a connection from which nothing
/// arrived for `idle_timeout_ms`. A client reconnects after its backoff; a restarted server
/// takes it back.
pub const GOING_AWAY: u16 = 1001;

/// 1002, protocol error: a frame did not decode as a protocol message (the room's
/// `PeerCloseReason::Malformed`). Reconnecting sends the same bytes again, so it points at a
/// client bug or an incompatible client version.
pub const PROTOCOL_ERROR: u16 = 1002;

/// 1003, unsupported data: a text frame arrived; cardsync speaks binary frames only.
pub const UNSUPPORTED_DATA: u16 = 1003;

/// 1005, no status: never sent. A driver reports it when the peer's close frame carried no
/// code.
pub const NO_STATUS: u16 = 1005;

/// 1006, abnormal closure: never sent. A driver reports it when the connection ended without
/// a close frame (a reset, a dropped network, a failed write).
pub const ABNORMAL: u16 = 1006;

/// 1008, policy violation: the room refused the token (`auth_denied`, after an auth message
/// that says why), heard no hello in time (`hello_timeout`), or cut a peer that keeps sending
/// rejected batches (`too_many_rejections`). The reason string says which.
pub const POLICY_VIOLATION: u16 = 1008;

/// 1009, message too big: a frame exceeded the room's frame limit (its `max_update_bytes` plus
/// framing), or the socket layer's limit just above it. Sending the same frame again meets the same limit.
pub const MESSAGE_TOO_BIG: u16 = 1009;

/// 1011, internal error: the server could not load the document or write it (a storage
/// failure). The room unloads; a reconnect reloads the document from what is durable, and the
/// client resends whatever was not acked.
pub const INTERNAL_ERROR: u16 = 1011;

/// 1013, try again later: the server is at its room or connection limit, the room's inbox is
/// full, or the connection fell too far behind reading what it was sent. Load, not a fault of
/// the client's data: reconnecting after the backoff is the cure.
pub const TRY_AGAIN_LATER: u16 = 1013;

#[cfg(test)]
mod tests {
    use super::*;

    /// The numbers are RFC 6455's and other peers (browsers, y-websocket, the JS driver) read
    /// them: a change here is a wire change, so pin them.
    #[test]
    fn codes_are_the_rfc_numbers() {
        let codes = [
            NORMAL,
            GOING_AWAY,
            PROTOCOL_ERROR,
            UNSUPPORTED_DATA,
            NO_STATUS,
            ABNORMAL,
            POLICY_VIOLATION,
            MESSAGE_TOO_BIG,
            INTERNAL_ERROR,
            TRY_AGAIN_LATER,
        ];
        assert_eq!(
            codes,
            [1000, 1001, 1002, 1003, 1005, 1006, 1008, 1009, 1011, 1013]
        );
    }
}
