//! Where documents live between runs: an append-only update log per document, folded into a
//! snapshot now and then, behind the [`Store`] trait.
//!
//! # Why a log
//! Every batch a room accepts becomes one [`RoomAction::Persist`](cardsync_sync::room::RoomAction)
//! of the v1 update it actually changed. Appending that update is the cheapest durable write
//! there is (no read, no rewrite of the document), and replaying the log in order rebuilds the
//! document exactly, because yrs updates commute and are idempotent. The log only grows, so a
//! compaction folds a document's snapshot and log into a new snapshot in the background
//! ([`Store::compact`]), off the path of any ack.
//!
//! # Why this trait is synchronous
//! SQLite is a blocking library, and the server already runs every store call on threads of
//! its own (the writer and the compactor, see `persist.rs`) and `spawn_blocking` for loads, so
//! an `async` trait would buy nothing here and would force an executor on stores. A networked
//! store (PostgreSQL) fits the same shape with a blocking client. What a store must promise is
//! in each method's docs; rooms never see the store, only the persist pipeline does.
//!
//! # What is checked
//! Every stored update carries a SHA-256 digest of its bytes, checked whenever it is read, and
//! goes through `cardsync_core`'s [screen](cardsync_core::untrusted) before anyone decodes
//! it. A damaged file therefore fails with a [`StoreError`] that names the document and row,
//! at start ([`Store::verify`]) or at load, and never loads as a silently empty or shorter
//! document.

mod doc_id;
pub mod sqlite;
mod verify;

pub use doc_id::{DocId, DocIdError};
pub use sqlite::{SqliteStore, Synchronous};

use thiserror::Error;

/// One update to append to a document's log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Append {
    /// The document.
    pub doc: DocId,
    /// A v1 update the room validated and applied.
    pub update: Vec<u8>,
}

/// What a store holds for one document.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoredDoc {
    /// The snapshot (if any) followed by the log, oldest first: what `Room::new` replays.
    pub updates: Vec<Vec<u8>>,
    /// How many of `updates` are log entries (not the snapshot): the room schedules a
    /// compaction when this grows past the configured threshold.
    pub log_len: usize,
}

/// What a compaction did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Compaction {
    /// Log entries folded into the snapshot (0: nothing to do).
    pub folded: usize,
    /// Size of the new snapshot in bytes.
    pub snapshot_bytes: usize,
}

/// What [`Store::verify`] looked at.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Documents with a snapshot or a log.
    pub documents: usize,
    /// Stored updates checked (snapshots and log entries).
    pub updates: usize,
    /// Their total size in bytes.
    pub bytes: u64,
}

/// A durable home for documents. See the [module docs](self).
pub trait Store: Send + Sync + 'static {
    /// Checks the whole store: the database's own integrity, then every stored update's
    /// digest and structure. Run once at start, so that damage shows up as an error then
    /// rather than as a document that fails (or worse, loads short) hours later.
    fn verify(&self) -> Result<VerifyReport, StoreError>;

    /// Reads a document: its snapshot, then its log, oldest first. A document never written
    /// is empty. Every update returned has passed its digest check and the core's screen.
    fn load(&self, doc: &DocId) -> Result<StoredDoc, StoreError>;

    /// Appends updates, possibly of several documents, in order, atomically and durably:
    /// when this returns `Ok`, every one of them survives a crash (a room acks on it). On
    /// `Err`, none of them may be visible after a restart.
    fn append(&self, appends: &[Append]) -> Result<(), StoreError>;

    /// Folds a document's snapshot and log into one new snapshot. Safe to run while appends
    /// to the same document continue: entries appended meanwhile stay in the log.
    fn compact(&self, doc: &DocId) -> Result<Compaction, StoreError>;

    /// Makes everything written so far durable in the store's main file and releases what
    /// can be released (SQLite: a WAL checkpoint). Called at graceful shutdown.
    fn flush(&self) -> Result<(), StoreError>;
}

/// A store refused to open, read or write.
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
    /// SQLite's own integrity check failed: pages are damaged or missing (a truncated file).
    #[error("the database is corrupt (PRAGMA quick_check): {details}")]
    Corrupt {
        /// The first problems SQLite reported.
        details: String,
    },
    /// The database is a SQLite file, but not one of ours, or of a newer format.
    #[error("unsupported store format: {0}")]
    Format(String),
    /// A stored update does not match its digest or fails the core's screen.
    #[error("stored update of document {doc:?} ({location}) is damaged: {reason}")]
    CorruptUpdate {
        /// The document.
        doc: String,
        /// Which row: `snapshot` or `log #<id>`.
        location: String,
        /// What is wrong.
        reason: String,
    },
    /// The store could not carry out a request (I/O error, disk full, locked file).
    #[error("storage error: {0}")]
    Sqlite(#[from] rusqlite::Error),
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
}
