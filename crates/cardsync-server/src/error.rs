//! What can go wrong at start, while serving, and when loading one document.
//!
//! Start errors are the ones an operator must act on (a corrupt database, a port in use, a
//! bad schema), so each names what it is about. Errors of one document never stop the
//! server: they close that room's connections with code
//! [`INTERNAL_ERROR`](cardsync_sync::protocol::close_code::INTERNAL_ERROR) and are logged.

use std::net::SocketAddr;

use cardsync_core::SchemaError;
use cardsync_sync::room::RoomError;
use thiserror::Error;

use crate::store::StoreError;

/// The server could not start.
#[derive(Debug, Error)]
pub enum StartError {
    /// The schema is invalid.
    #[error("invalid schema: {0}")]
    Schema(#[from] SchemaError),
    /// The data directory cannot be created.
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The store refused to open, or failed its checks.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The listening address is unavailable.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A blocking start-up task panicked.
    #[error("start-up task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// The server stopped abnormally, or could not flush at shutdown.
#[derive(Debug, Error)]
pub enum ServerError {
    /// The final flush of the store failed.
    #[error("flushing the store at shutdown failed: {0}")]
    Flush(#[source] StoreError),
    /// A task of the server panicked.
    #[error("server task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// A document could not be loaded into a room.
#[derive(Debug, Error)]
pub enum LoadError {
    /// The store could not read it, or found it damaged.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The stored updates do not make a valid document.
    #[error(transparent)]
    Room(#[from] RoomError),
    /// The loading task panicked.
    #[error("loading task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}
