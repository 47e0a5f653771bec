//! What the connection asks its driver to do, and the vocabulary for why.
//!
//! Every socket-related action and input carries a [`SocketId`]. Socket events are
//! asynchronous: the close event of a socket the machine already gave up on can arrive after
//! it has opened the next one, and without an id that stale close would be taken for a
//! failure of the new socket, starting a spurious backoff.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Names one connection attempt. Ids increase by one per `OpenSocket`, starting at 1, so
/// the id of the current socket is also the number of attempts made so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SocketId(pub u64);

impl fmt::Display for SocketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "socket#{}", self.0)
    }
}

/// An instruction for the driver, returned by [`Connection::poll_action`](super::Connection::poll_action).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum Action {
    /// Open a new socket and report its fate with this id (`handle_socket_opened`,
    /// `handle_socket_error`, `handle_socket_closed`).
    OpenSocket {
        /// The id to pass back with every event of this socket.
        socket: SocketId,
    },
    /// Close this socket. The machine has already left it behind; events that still arrive
    /// from it are refused as stale.
    CloseSocket {
        /// The socket to close.
        socket: SocketId,
        /// Why, for logs and for choosing a close code.
        reason: CloseCause,
    },
    /// Send a ping frame carrying `nonce`; the peer echoes it in a pong.
    SendPing {
        /// The socket to send on.
        socket: SocketId,
        /// Echoed by the pong, to be passed to `handle_pong`.
        nonce: u64,
    },
}

/// Why a connection attempt or an established connection failed. Each failure counts
/// toward the backoff.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum Failure {
    /// The socket reported an error.
    SocketError,
    /// The peer or the network closed the socket
    /// ([`ABNORMAL`](crate::protocol::close_code::ABNORMAL) when no close frame arrived).
    SocketClosed {
        /// The WebSocket close code reported by the driver.
        code: u16,
    },
    /// `socket_opened` did not arrive within `connect_timeout`.
    ConnectTimeout,
    /// The initial sync was silent for `sync_timeout`.
    SyncTimeout,
    /// Too many heartbeats went unanswered.
    HeartbeatTimeout,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::SocketError => f.write_str("socket error"),
            Failure::SocketClosed { code } => write!(f, "socket closed ({code})"),
            Failure::ConnectTimeout => f.write_str("connect timeout"),
            Failure::SyncTimeout => f.write_str("sync timeout"),
            Failure::HeartbeatTimeout => f.write_str("heartbeat timeout"),
        }
    }
}

/// Why the connection machine closes its own socket: the [`Cause`](super::Cause)s of a
/// transition that leave a socket behind.
///
/// Not the room's [`PeerCloseReason`](crate::room::PeerCloseReason), which is the server
/// closing a peer and maps to a close code; this one is the client's own decision, for logs
/// and for the reason text of the driver's close.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum CloseCause {
    /// The user no longer wants to sync (`handle_stop`).
    Stopped,
    /// The browser reported the network down (`handle_network(_, false)`).
    NetworkOffline,
    /// The connection failed and will be retried after a backoff. A struct variant, so the
    /// failure's own `kind` tag nests (`{ kind: "failed", failure: { kind: ... } }`) instead of
    /// colliding with this enum's in one flattened object.
    Failed {
        /// What failed.
        failure: Failure,
    },
}
