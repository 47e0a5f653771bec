//! What a store can answer instead of doing what it was asked, for both stores.
//!
//! Two kinds live here. **Refusals of the contract** (a moved head, a stale lease, a compacted
//! range) are normal answers in a multi-node deployment: the caller reads, retries or reloads.
//! **Failures** (damage, a database that is not ours or is newer, an unreachable server, a
//! statement that failed) stop a room or the start. Each variant says which, carries what a
//! caller needs to act, and has a stable [`StoreError::code`]. The backend's own error is
//! kept as the source where there is one, so nothing of its words is lost.

use thiserror::Error;

use super::SeqNo;

/// A store refused to open, read or write: a refusal of the contract (a moved head, a stale
/// lease, a compacted range), which the caller answers by reading, retrying or reloading, or a
/// failure (damage, a database that is not ours or is newer, an unreachable server).
#[derive(Debug, Error)]
pub enum StoreError {
    /// The file exists but is not a SQLite database at all (wrong file, or its header is
    /// destroyed).
    #[error("{path} is not a database (damaged header or wrong file): {source}")]
    NotADatabase {
        /// The file.
        path: String,
        /// SQLite's words.
        #[source]
        source: rusqlite::Error,
    },
    /// The database's own integrity check failed (SQLite's `PRAGMA quick_check`): pages are
    /// damaged or missing (a truncated file).
    #[error("the database is corrupt (PRAGMA quick_check): {details}")]
    Corrupt {
        /// The first problems the database reported.
        details: String,
    },
    /// The database is reachable, but what it holds is not a cardsync store.
    #[error("unsupported store format: {0}")]
    Format(String),
    /// The store was written by a newer cardsync, with a schema this server does not know.
    #[error("the store has schema version {found}; this server supports up to {supported}")]
    NewerSchema {
        /// The version the store records.
        found: i64,
        /// The newest this code reads and writes.
        supported: i64,
    },
    /// A stored update does not match its digest or fails the core's screen.
    #[error("stored update of document {doc:?} ({location}) is damaged: {reason}")]
    CorruptUpdate {
        /// The document.
        doc: String,
        /// Which row: `snapshot` or `log #<sequence number>`.
        location: String,
        /// What is wrong.
        reason: String,
    },
    /// A stored audit record does not decode (its row was damaged or written by hand).
    #[error("audit record {id} of document {doc:?} is damaged: {reason}")]
    CorruptAudit {
        /// The document.
        doc: String,
        /// The record's id.
        id: u64,
        /// What is wrong.
        reason: String,
    },
    /// SQLite could not carry out a request (I/O error, disk full, locked file).
    #[error("SQLite error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL could not carry out a request (a failed statement, a lost connection).
    #[error("PostgreSQL error: {0}")]
    Postgres(#[from] postgres::Error),
    /// The store's address is not one this server can use.
    #[error("invalid store URL: {reason}")]
    BadUrl {
        /// What is wrong with it (never the password).
        reason: String,
    },
    /// The database server could not be reached or refused the connection.
    #[error("cannot connect to the database at {target}: {source}")]
    Unreachable {
        /// Where it was looked for (host, port, database; never the password).
        target: String,
        /// Why.
        #[source]
        source: postgres::Error,
    },
    /// The data directory could not be created or read.
    #[error("cannot use {path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The server's store writer has stopped (shutdown), so nothing more can be written.
    #[error("the store writer has stopped")]
    Stopped,
    /// An earlier write of the same room instance failed; later ones are refused so that
    /// nothing lands after a gap.
    #[error("an earlier write of this room failed")]
    EarlierWriteFailed,
    /// A compaction could not merge what it read.
    #[error("cannot compact document {doc:?}: {source}")]
    Merge {
        /// The document.
        doc: String,
        /// Why.
        #[source]
        source: cardsync_core::DecodeError,
    },
    /// Compare-and-append refused: the head is no longer the one the batch was validated
    /// against. Read the entries after `expected`, validate again, retry.
    #[error("document {doc:?} moved on: expected head {expected}, the head is {head}")]
    HeadMoved {
        /// The document.
        doc: String,
        /// The head the caller validated against.
        expected: SeqNo,
        /// The head now.
        head: SeqNo,
    },
    /// The lease the caller holds was superseded (its holder acquired again, or an operator
    /// forced a takeover) or expired: the write is refused (fencing). Stop serving the document, or acquire again.
    #[error(
        "lease of document {doc:?} with epoch {epoch} is no longer valid (current epoch {current}, expired: {expired})"
    )]
    Fenced {
        /// The document.
        doc: String,
        /// The epoch the caller holds.
        epoch: u64,
        /// The epoch the store holds (0: no lease was ever taken).
        current: u64,
        /// The epoch is current but its time ran out.
        expired: bool,
    },
    /// Entries after `since` were folded into the snapshot and deleted: load the document
    /// instead of catching up entry by entry.
    #[error("document {doc:?}: entries after {since} were compacted (rows up to {floor} are gone)")]
    Compacted {
        /// The document.
        doc: String,
        /// Where the caller wanted to read from.
        since: SeqNo,
        /// Every row up to this sequence number is deleted.
        floor: SeqNo,
    },
    /// A sequence number beyond the head: the caller holds (or asks for) entries the store
    /// does not have.
    #[error("document {doc:?}: sequence number {seq} is beyond the head {head}")]
    AheadOfHead {
        /// The document.
        doc: String,
        /// The number asked for.
        seq: SeqNo,
        /// The head.
        head: SeqNo,
    },
}

impl StoreError {
    /// Whether the store could not be reached (the database is down or restarting, the
    /// connection dropped): worth trying again, unlike a refusal or damage.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Unreachable { .. } => true,
            // Closed, a connection exception (08…), an operator's shutdown (57…), or I/O.
            StoreError::Postgres(e) => {
                e.is_closed()
                    || e.code().is_some_and(|c| {
                        let c = c.code();
                        c.starts_with("08") || c.starts_with("57")
                    })
                    || std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>())
            }
            _ => false,
        }
    }

    /// A stable identifier of the kind of error, for logs, metrics and callers.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::NotADatabase { .. } => "not_a_database",
            StoreError::Corrupt { .. } => "database_corrupt",
            StoreError::Format(_) => "unsupported_format",
            StoreError::NewerSchema { .. } => "newer_schema",
            StoreError::CorruptUpdate { .. } => "corrupt_update",
            StoreError::CorruptAudit { .. } => "corrupt_audit",
            StoreError::Sqlite(_) => "sqlite_error",
            StoreError::Postgres(_) => "postgres_error",
            StoreError::BadUrl { .. } => "bad_store_url",
            StoreError::Unreachable { .. } => "store_unreachable",
            StoreError::Io { .. } => "io_error",
            StoreError::Stopped => "store_stopped",
            StoreError::EarlierWriteFailed => "earlier_write_failed",
            StoreError::Merge { .. } => "merge_failed",
            StoreError::HeadMoved { .. } => "head_moved",
            StoreError::Fenced { .. } => "fenced",
            StoreError::Compacted { .. } => "compacted",
            StoreError::AheadOfHead { .. } => "ahead_of_head",
        }
    }
}
