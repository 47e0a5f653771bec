//! The server's configuration, as one serde value with defaults.
//!
//! It comes from three places, each overriding the one before: a TOML file, environment
//! variables, then command-line flags (`cli.rs` does the layering). Unknown keys are refused,
//! so a misspelt knob fails at start instead of silently keeping its default. The secret is
//! deliberately not a field here: it is read from `CARDSYNC_SECRET` or a file, never from a
//! flag (flags are visible to every user in `ps`), nor from the config file (which tends to
//! be committed).
//!
//! ```toml
//! listen = "127.0.0.1:4455"
//! data_dir = "cardsync-data"     # the SQLite store, unless `store` names another
//! # store = "postgres://cardsync@db.internal:5432/cardsync"   # or CARDSYNC_STORE, --store
//! schema = "schema.json"
//! secret_file = "secret"
//!
//! [limits]
//! max_rooms = 10000
//! max_bytes_in_flight = 33554432   # frames read and updates not yet durable, process-wide
//! max_connections = 10000
//! max_rooms_per_connection = 1000   # rooms joined on one multiplexed socket (`/ws`)
//! handshake_timeout_ms = 10000   # the whole HTTP upgrade request, or the socket is closed
//! idle_timeout_ms = 60000        # a WebSocket silent this long (pinged halfway) is closed,
//!                                # and its presence removed for everyone
//!
//! [storage]
//! synchronous = "full"
//! lease_ms = 10000       # a node's lease of each document it serves
//! head_check_ms = 1000   # how often a room looks for other nodes' entries it missed
//!
//! [room]                 # cardsync_sync's RoomConfig
//! max_update_bytes = 4194304   # frames may be 64 bytes more (framing)
//! batch_rate = { burst = 100, refill_ms = 20 }
//! max_awareness_bytes = 8192               # larger presence updates are dropped and counted
//! awareness_rate = { burst = 30, refill_ms = 50 }   # presence updates per peer; past it, dropped
//!
//! [audit]                # the audit trail and the change feed (docs/design.md §10)
//! retention_days = 90    # records older than this are pruned (0: kept forever)
//! feed_buffer = 1024     # committed batches a change-feed reader may lag behind
//!
//! [[validators]]         # example validators per document pattern (validators.rs)
//! docs = "team-*"
//! wip_limit = { column = "Doing", limit = 3 }
//! ```

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use cardsync_sync::room::{Role, RoomConfig};
use serde::{Deserialize, Serialize};

use crate::store::Synchronous;
use crate::validators::ValidatorEntry;

/// The name of the SQLite file inside the data directory.
pub const DB_FILE: &str = "cardsync.db";

/// Everything the server reads at start. See the module docs of `crates/cardsync-server/src/config.rs`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Where to listen. Loopback by default: exposing a sync server is a decision to take on
    /// purpose (behind a TLS-terminating proxy), not an accident of defaults.
    pub listen: SocketAddr,
    /// Where the SQLite file lives (created if missing), when `store` is not set.
    pub data_dir: PathBuf,
    /// Where documents are stored: unset (or `sqlite`) for the SQLite file in `data_dir`, or
    /// a PostgreSQL URL, `postgres://user:password@host:port/database` (docs/design.md §12).
    /// Anything else is refused at start. Prefer `CARDSYNC_STORE` to the file or a flag when
    /// the URL holds a password.
    pub store: Option<String>,
    /// The document schema (JSON, the same value the clients use). Required to serve.
    pub schema: Option<PathBuf>,
    /// A file holding the token secret, as an alternative to `CARDSYNC_SECRET`.
    pub secret_file: Option<PathBuf>,
    /// The role of a connection that brings no token at all (neither a hello nor `?token=`):
    /// none by default, so every document needs a token. `viewer` lets anyone with the URL
    /// read. Overrides `room.hello_less_role`, whose library default (viewer) suits a room
    /// without a network in front of it, not a server.
    pub anonymous_role: Option<Role>,
    /// Process-wide limits.
    pub limits: Limits,
    /// The store.
    pub storage: StorageConfig,
    /// The audit trail and the change feed.
    pub audit: AuditConfig,
    /// Per-room policy and limits (message size, batch rate, permissions).
    pub room: RoomConfig,
    /// Serve the files of this directory at `/` (the demo board, or an app's build), so
    /// one process serves the page and its rooms. None by default.
    pub static_dir: Option<PathBuf>,
    /// The example validators to run per document pattern (`[[validators]]`, see
    /// [`ValidatorEntry`]); none by default.
    pub validators: Vec<ValidatorEntry>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 4455)),
            data_dir: PathBuf::from("cardsync-data"),
            store: None,
            schema: None,
            secret_file: None,
            anonymous_role: None,
            limits: Limits::default(),
            storage: StorageConfig::default(),
            audit: AuditConfig::default(),
            room: RoomConfig::default(),
            static_dir: None,
            validators: Vec::new(),
        }
    }
}

impl ServerConfig {
    /// The room configuration actually used: `room` with `anonymous_role` applied.
    pub fn effective_room(&self) -> RoomConfig {
        RoomConfig {
            hello_less_role: self.anonymous_role,
            ..self.room.clone()
        }
    }

    /// The largest WebSocket message the socket layer reads: a little above
    /// the room's frame limit (`room.max_update_bytes` plus framing), so that an oversize frame normally reaches the room, which
    /// refuses it with a clean close
    /// ([`MESSAGE_TOO_BIG`](cardsync_sync::protocol::close_code::MESSAGE_TOO_BIG)), and only
    /// absurd ones are cut off by the socket layer before they are buffered whole.
    pub fn ws_message_limit(&self) -> usize {
        self.room.max_frame_bytes().saturating_add(64 << 10)
    }
}

/// Process-wide limits. Past one, the new connection gets a close with code
/// [`TRY_AGAIN_LATER`](cardsync_sync::protocol::close_code::TRY_AGAIN_LATER) and a reason;
/// everyone already connected carries on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Documents loaded at once.
    pub max_rooms: usize,
    /// WebSocket connections at once (a multiplexed socket on `/ws` counts once).
    pub max_connections: usize,
    /// Rooms one multiplexed socket (`/ws`) may have joined at once; a join past it gets the
    /// room error `too_many_rooms`, and the socket's other rooms carry on.
    pub max_rooms_per_connection: usize,
    /// A room with no connection and nothing left to persist is unloaded after this long.
    pub idle_room_ms: u64,
    /// Frames queued for one connection. A connection that falls this far behind (a client
    /// that stopped reading) is dropped, so that it cannot hold the room's memory hostage.
    /// A room stops reading new frames while half this many of its persists are unconfirmed,
    /// so the acks one confirmation releases fit the queue of a peer that keeps reading.
    pub send_queue: usize,
    /// Frames queued from all connections of one room before readers wait (backpressure).
    pub room_queue: usize,
    /// Bytes in flight in the whole process: frames read and not yet handled by their room,
    /// and the updates they became until they are durable. Past it, connections wait before
    /// reading their next frame (backpressure), however many rooms and connections there are.
    /// Keep it at least the frame limit (`room.max_update_bytes` plus 64 bytes), or a
    /// maximal frame waits for the whole budget.
    ///
    /// Worst case (docs/design.md §10): each connection holds about 300 KiB outside the
    /// budget (16 KiB of unsettled reads, the socket layer's buffers), each runtime worker
    /// up to twice `room.max_update_bytes` while it judges a frame, and the budget the rest
    /// of what is read or waits to persist. So peak memory is about `base + this +
    /// connections × 300 KiB + workers × 2 × max_update_bytes`, plus the loaded documents
    /// and frames queued to slow readers (`send_queue`), which the budget does not cover.
    pub max_bytes_in_flight: usize,
    /// A connection must send the whole head of its HTTP request (the WebSocket upgrade)
    /// within this long, or it is closed: a client trickling its headers (slow loris) holds
    /// no socket for longer.
    pub handshake_timeout_ms: u64,
    /// A WebSocket from which nothing at all arrives for this long is closed
    /// ([`GOING_AWAY`](cardsync_sync::protocol::close_code::GOING_AWAY)).
    /// Halfway through, the server pings it; a live client's WebSocket layer answers the
    /// ping by itself, so only dead or stalled peers are cut, however quiet their user.
    pub idle_timeout_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_rooms: 10_000,
            max_connections: 10_000,
            max_rooms_per_connection: 1_000,
            idle_room_ms: 30_000,
            send_queue: 4096,
            room_queue: 4096,
            max_bytes_in_flight: 32 << 20,
            handshake_timeout_ms: 10_000,
            idle_timeout_ms: 60_000,
        }
    }
}

/// Storage settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    /// SQLite's `synchronous` (see `store/sqlite.rs` for the trade-off): `full` (default)
    /// or `normal`.
    pub synchronous: Synchronous,
    /// A room asks for a compaction of its document once its log has this many entries.
    pub compact_after: usize,
    /// Check every stored update at start (digest and the core's screen). Linear in the size of
    /// the store; turning it off moves the checks to each document's first load.
    pub verify_on_start: bool,
    /// How long a node's lease of a document it serves lasts (renewed every third of it, off
    /// the ack path). A node that cannot renew for this long (a pause, a lost database) is
    /// fenced: its appends are refused and it gives the room up (docs/design.md §12).
    pub lease_ms: u64,
    /// How often a room checks the store for entries other nodes appended, in case a
    /// wake-up from the bus was missed.
    pub head_check_ms: u64,
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            synchronous: Synchronous::Full,
            compact_after: 1000,
            verify_on_start: true,
            lease_ms: 10_000,
            head_check_ms: 1_000,
        }
    }
}

/// The audit trail (`store/audit.rs`) and the change feed (`http_feed.rs`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditConfig {
    /// Record every judged batch (default `true`). Off, nothing is recorded: history is
    /// empty, and the change feed still streams accepted batches, without author or summary.
    pub enabled: bool,
    /// Records older than this many days are deleted, at start and every hour after
    /// (`0`: kept forever).
    pub retention_days: u32,
    /// How many committed batches the change feed keeps for its readers: a reader further
    /// behind than this is cut off with an error event naming where to resume (it never
    /// slows a commit or an ack).
    pub feed_buffer: usize,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            retention_days: 90,
            feed_buffer: 1024,
        }
    }
}

impl AuditConfig {
    /// How long records are kept, `None` for ever.
    pub fn retention(&self) -> Option<std::time::Duration> {
        (self.retention_days > 0)
            .then(|| std::time::Duration::from_secs(u64::from(self.retention_days) * 24 * 60 * 60))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_section_with_defaults() {
        let config: ServerConfig =
            toml::from_str("[audit]\nretention_days = 7\nfeed_buffer = 16\n").unwrap();
        assert_eq!(
            config.audit.retention(),
            Some(std::time::Duration::from_secs(7 * 86_400))
        );
        assert_eq!(config.audit.feed_buffer, 16);
        assert!(config.audit.enabled);
        let forever: ServerConfig = toml::from_str("[audit]\nretention_days = 0\n").unwrap();
        assert_eq!(forever.audit.retention(), None);
        assert!(toml::from_str::<ServerConfig>("[audit]\nretention = 3\n").is_err());
    }

    #[test]
    fn toml_with_defaults_and_strictness() {
        let config: ServerConfig = toml::from_str(
            "listen = \"127.0.0.1:9000\"\n[limits]\nmax_rooms = 3\n[room]\nmax_update_bytes = 1000\n",
        )
        .unwrap();
        assert_eq!(config.listen.port(), 9000);
        assert_eq!(config.limits.max_rooms, 3);
        assert_eq!(
            config.limits.max_connections,
            Limits::default().max_connections
        );
        assert_eq!(config.room.max_update_bytes, 1000);
        assert_eq!(config.effective_room().hello_less_role, None);
        assert!(toml::from_str::<ServerConfig>("lisen = \"127.0.0.1:1\"").is_err());
        assert!(toml::from_str::<ServerConfig>("[limits]\nmax_room = 1").is_err());
        assert!(ServerConfig::default().listen.ip().is_loopback());
        let config: ServerConfig = toml::from_str(
            "[[validators]]\ndocs = \"demo\"\nwip_limit = { column = \"Doing\", limit = 3 }\n",
        )
        .unwrap();
        assert_eq!(
            config.validators[0].wip_limit.as_ref().map(|w| w.limit),
            Some(3)
        );
        let config: ServerConfig = toml::from_str("store = \"postgres://u@h/db\"").unwrap();
        assert_eq!(config.store.as_deref(), Some("postgres://u@h/db"));
    }
}
