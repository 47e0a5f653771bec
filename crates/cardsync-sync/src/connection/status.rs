//! What the connection reports about itself: its state, transitions, and a snapshot.
//!
//! Two channels, for two kinds of reader. [`StateChanged`] events are edges, for logs and
//! for code that reacts to going online (flush the outbox). [`ConnectionStatus`] is a level,
//! for a UI that redraws a status badge: it also carries values that change without a state
//! change (RTT, last pong), which would flood an event queue at every heartbeat.
//!
//! The session layer owns what this machine cannot know (pending count, oldest pending age,
//! last ack, last rejection). It composes rather than extends: its own snapshot holds a
//! `ConnectionStatus` field next to its fields, so neither struct needs to know the other's.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::action::{Failure, SocketId};
use super::rtt::RttEstimate;
use crate::time::Instant;

/// Where the connection is in its life cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum State {
    /// Not trying: the user has not started (or has stopped), or the network is down.
    /// [`ConnectionStatus::wanted`] and [`ConnectionStatus::network_online`] say which.
    Offline,
    /// A socket has been requested and has not opened yet.
    Connecting,
    /// The socket is open and the initial sync is running.
    Syncing,
    /// Synced; live updates flow and heartbeats run.
    Online,
    /// Waiting after a failure before the next attempt.
    Backoff {
        /// When the next attempt starts.
        retry_at: Instant,
    },
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            State::Offline => f.write_str("offline"),
            State::Connecting => f.write_str("connecting"),
            State::Syncing => f.write_str("syncing"),
            State::Online => f.write_str("online"),
            State::Backoff { retry_at } => write!(f, "backing off until {retry_at}"),
        }
    }
}

/// Why a transition happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum Cause {
    /// `handle_start`.
    Started,
    /// `handle_stop`.
    Stopped,
    /// `handle_network(_, false)`.
    NetworkOffline,
    /// `handle_network(_, true)`.
    NetworkOnline,
    /// `handle_socket_opened`.
    SocketOpened,
    /// `handle_synced`.
    Synced,
    /// The backoff delay elapsed.
    RetryDue,
    /// The connection failed. A struct variant, so the failure's own `kind` tag nests
    /// (`{ kind: "failed", failure: { kind: "socket_closed", code } }`): as a newtype variant,
    /// both tags landed in one object and JavaScript saw only the failure's `kind`.
    Failed {
        /// What failed.
        failure: Failure,
    },
}

/// A state transition, returned by [`Connection::poll_event`](super::Connection::poll_event).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateChanged {
    /// When the transition happened.
    pub at: Instant,
    /// The state left.
    pub from: State,
    /// The state entered.
    pub to: State,
    /// What caused it.
    pub cause: Cause,
}

/// A snapshot of the connection, from [`Connection::status`](super::Connection::status).
///
/// `#[non_exhaustive]` so fields can be added without breaking drivers in other crates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ConnectionStatus {
    /// The current state.
    pub state: State,
    /// Whether the user wants to sync (`handle_start` without a later `handle_stop`).
    pub wanted: bool,
    /// The last network state reported by the driver (assumed up until told otherwise).
    pub network_online: bool,
    /// Whether the page is hidden (slower heartbeat).
    pub hidden: bool,
    /// When the next attempt starts, in `Backoff`; `None` otherwise. Duplicates the
    /// `Backoff` payload so a UI can read it without matching on the state.
    pub next_retry_at: Option<Instant>,
    /// Failures since the connection was last online (or started). The current attempt, if
    /// any, is attempt number `consecutive_failures + 1`.
    pub consecutive_failures: u32,
    /// The most recent failure, kept after recovery so a UI can say what went wrong last.
    pub last_failure: Option<Failure>,
    /// The socket in use, in `Connecting`, `Syncing` and `Online`.
    pub socket: Option<SocketId>,
    /// When the connection last became `Online`, while it still is.
    pub online_since: Option<Instant>,
    /// RTT of the current connection; reset on reconnect because a reconnect often means a
    /// different network path (Wi-Fi to cellular), where the old estimate would mislead.
    pub rtt: Option<RttEstimate>,
    /// When the last valid pong arrived (kept across reconnects).
    pub last_pong_at: Option<Instant>,
    /// When any inbound message last arrived (kept across reconnects).
    pub last_received_at: Option<Instant>,
}
