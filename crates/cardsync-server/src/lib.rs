//! # cardsync-server
//!
//! The cardsync sync server: a native driver for [`cardsync_sync::room::Room`]. It owns the
//! I/O the sans-IO room leaves out (WebSockets, a clock, SQLite) and none of the protocol:
//! validation, acks, rejections and roles are the room's.
//!
//! - **One room per document**, at `ws://host:port/rooms/{doc}`, loaded on its first
//!   connection and unloaded when idle ([`rooms`](crate) registry, `room_task.rs`).
//! - **Persist before ack**: every update a room accepts is appended to the document's log
//!   in SQLite (WAL, `synchronous = FULL` by default, see [`store::SqliteStore`]) by a writer
//!   thread with group commit, and only then does the room ack it. `--store postgres://…`
//!   keeps documents in PostgreSQL instead ([`store::PostgresStore`]).
//! - **Auth**: per-document HMAC-signed tokens with a role and an expiry ([`auth`]), checked
//!   in the hello (or taken from `?token=` for stock `y-websocket` clients).
//! - **Limits**: message size and batch rate per connection (the room's), rooms and
//!   connections per process ([`config::Limits`]); past one, a close with a code and reason.
//! - **HTTP API**: `GET /docs/{doc}`, `GET /docs/{doc}/cards/{card}` and
//!   `POST /docs/{doc}/ops` for backends, with the same tokens (`Authorization: Bearer`); a
//!   posted batch enters the room as an in-process peer and is judged like a client's
//!   (`docs/openapi.json`, docs/design.md §10).
//! - **Audit trail, change feed, restore**: every judged batch leaves an audit record in the
//!   store (who from the token, when, the sequence number, what it touched, the verdict;
//!   [`store::AuditRecord`]), read at `GET /docs/{doc}/history`; accepted batches stream as
//!   Server-Sent Events at `GET /docs/{doc}/changes?since=SEQ`; `POST /docs/{doc}/restore`
//!   puts a card or the document back to a past sequence number as a new batch.
//! - **Observability**: `tracing` logs, `GET /metrics` in the Prometheus text format and
//!   `GET /metrics.json` ([`metrics::Snapshot`]).
//!
//! ```no_run
//! use cardsync_core::Schema;
//! use cardsync_server::{Server, auth::Secret, config::ServerConfig};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = ServerConfig { data_dir: "data".into(), ..ServerConfig::default() };
//! let server = Server::start(config, Schema::new(1), Secret::new(vec![7; 32])?).await?;
//! println!("listening on {}", server.local_addr());
//! let stop = server.shutdown_handle();
//! tokio::spawn(async move {
//!     let _ = tokio::signal::ctrl_c().await;
//!     stop.shutdown();
//! });
//! server.wait().await?; // rooms drained, storage flushed
//! # Ok(()) }
//! ```

mod accept;
pub mod auth;
mod budget;
mod changes;
pub mod cli;
pub mod config;
mod conn;
mod error;
mod histogram;
mod http;
mod http_api;
mod http_auth;
mod http_error;
mod http_feed;
mod http_history;
mod http_peer;
mod http_restore;
pub mod logging;
mod meter;
pub mod metrics;
mod metrics_text;
pub mod migrate;
mod mux;
mod persist;
mod restore_ops;
mod room_task;
mod rooms;
mod server;
pub mod store;
mod traffic;
pub mod validators;

pub use error::{LoadError, ServerError, StartError};
pub use server::{Server, ShutdownHandle};
