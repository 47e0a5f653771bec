//! The connection state machine of a sync client (docs/design.md §6), sans-IO.
//!
//! [`Connection`] decides *when* to open, drop and retry a WebSocket and *whether* it is
//! still alive; the driver does the I/O. It never reads a clock ([`Instant`] is handed in),
//! never draws randomness of its own ([`Rng`], normally a seeded [`SplitMix64`]), and never
//! touches a socket (it asks for one with [`Action::OpenSocket`]). That is what lets the
//! tokio client, the browser client and a single-threaded simulation share one
//! implementation, and lets a test replay a flaky week of network in microseconds.
//!
//! ```text
//!         start, network up              socket_opened             synced
//! Offline ─────────────────▶ Connecting ─────────────▶ Syncing ─────────▶ Online
//!                               ▲     │                   │                 │
//!                    retry_at   │     │ error, close,     │ error, close,   │ error, close,
//!                    passed     │     │ connect timeout   │ sync timeout    │ heartbeat death
//!                               │     ▼                   ▼                 ▼
//!                             Backoff { retry_at } ◀──────┴─────────────────┘
//!
//! stop, network down: every state ──▶ Offline (socket closed, retry cancelled)
//! ```
//!
//! * **Backoff** delays grow 2 s, 4 s, 8 s, 8 s… with ±50 % jitter by default (the formula
//!   and why it is symmetric are in `backoff.rs`); the count resets once `Online`.
//! * **Heartbeat**: while online, a ping every 10 s (60 s when the page is hidden); after two
//!   ticks with no inbound traffic at all the socket is declared dead.
//! * **RTT** is smoothed from pongs as TCP does (RFC 6298) and shown in
//!   [`ConnectionStatus`], which the session layer embeds in its own, richer snapshot.
//! * **Refused inputs** (a stale socket's close, a duplicate pong) never panic: the
//!   `handle_*` for a socket event returns a [`ConnectionError`] and changes nothing.
//!
//! # Driving it
//!
//! The drain rule of the crate applies: after every `handle_*`, and after `handle_timeout`
//! once `poll_timeout()` has passed, drain `poll_action` and `poll_event` until `None`.
//!
//! ```
//! use std::time::Duration;
//! use cardsync_sync::protocol::close_code;
//! use cardsync_sync::connection::{
//!     Action, Connection, ConnectionConfig, Instant, SplitMix64, State, StateChanged,
//! };
//!
//! /// The drain rule: carry out every action, record every event.
//! fn drain(conn: &mut Connection, wire: &mut Vec<Action>, log: &mut Vec<StateChanged>) {
//!     while let Some(action) = conn.poll_action() {
//!         wire.push(action); // A real driver opens, closes or writes to a socket here.
//!     }
//!     while let Some(event) = conn.poll_event() {
//!         log.push(event); // ...and updates its UI here.
//!     }
//! }
//!
//! let mut conn = Connection::new(ConnectionConfig::default(), SplitMix64::new(7))?;
//! let (mut wire, mut log) = (Vec::new(), Vec::new());
//! let mut now = Instant::ZERO;
//!
//! conn.handle_start(now);
//! drain(&mut conn, &mut wire, &mut log);
//! let Some(Action::OpenSocket { socket }) = wire.pop() else { panic!("expected a socket") };
//!
//! now = now + Duration::from_millis(80);
//! conn.handle_socket_opened(now, socket)?;
//! drain(&mut conn, &mut wire, &mut log);
//! conn.handle_synced(now, socket)?; // Reported by the session once the initial sync is done.
//! drain(&mut conn, &mut wire, &mut log);
//! assert_eq!(conn.state(), State::Online);
//!
//! // Nothing happens until the heartbeat is due; the driver sleeps until then.
//! now = conn.poll_timeout().expect("heartbeat scheduled");
//! conn.handle_timeout(now);
//! drain(&mut conn, &mut wire, &mut log);
//! let Some(Action::SendPing { nonce, .. }) = wire.pop() else { panic!("expected a ping") };
//! conn.handle_pong(now + Duration::from_millis(30), nonce)?;
//! drain(&mut conn, &mut wire, &mut log);
//! assert_eq!(conn.status().rtt.map(|r| r.srtt), Some(Duration::from_millis(30)));
//!
//! // The server goes away: back off, then retry with a new socket when the timer fires.
//! conn.handle_socket_closed(now, socket, close_code::ABNORMAL)?;
//! drain(&mut conn, &mut wire, &mut log);
//! let State::Backoff { retry_at } = conn.state() else { panic!("expected backoff") };
//! assert_eq!(conn.poll_timeout(), Some(retry_at));
//! conn.handle_timeout(retry_at);
//! drain(&mut conn, &mut wire, &mut log);
//! assert!(matches!(wire.pop(), Some(Action::OpenSocket { socket: s }) if s != socket));
//!
//! // A late event from the old socket is refused, not mistaken for the new one.
//! assert!(conn.handle_socket_error(retry_at, socket).is_err());
//! assert_eq!(conn.state(), State::Connecting);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod action;
mod backoff;
mod config;
mod error;
mod heartbeat;
mod machine;
mod rng;
mod rtt;
mod status;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

pub use action::{Action, CloseCause, Failure, SocketId};
pub use config::{ConnectionConfig, ConnectionConfigError};
pub use error::{ConnectionError, InputKind};
pub use machine::Connection;
pub use rng::{Rng, SplitMix64};
pub use rtt::RttEstimate;
pub use status::{Cause, ConnectionStatus, State, StateChanged};
// Time is the crate's (`crate::time`), not the connection's; re-exported where it lived first.
pub use crate::time::Instant;
