//! Where documents live between runs: a log of accepted updates per document, each entry
//! numbered by a per-document sequence number, folded into a snapshot now and then, behind
//! the [`Store`] trait. Two stores implement it: [`SqliteStore`] (embedded, the default) and
//! [`PostgresStore`] (the shared store of several nodes, docs/design.md §12).
//!
//! # Why a log
//! Every batch a room accepts becomes one [`RoomAction::Persist`](cardsync_sync::room::RoomAction)
//! of the v1 update it actually changed. Appending that update is the cheapest durable write
//! there is (no read, no rewrite of the document), and replaying the log in order rebuilds the
//! document exactly, because yrs updates commute and are idempotent. The log only grows, so a
//! compaction folds a document's snapshot and log into a new snapshot in the background
//! ([`Store::compact`]), off the path of any ack.
//!
//! # Why sequence numbers: the store is the sequencer
//! When several nodes serve one document, each must validate a batch against the same total
//! order of what was accepted before it. The store gives that order: every entry of a
//! document's log has a **sequence number** (1, 2, 3, … with no gaps; the **head** is the
//! highest), and [`Store::append_if_head`] appends a batch as `n + 1` only if the head is still
//! the `n` the node validated against, in one transaction. A node that lost the race gets
//! [`StoreError::HeadMoved`] with the current head, reads the entries it missed with
//! [`Store::read_since`], validates again and retries (or rejects). A single node is trivially
//! the only writer and keeps using the batch path, [`Store::append`], which numbers what it
//! appends the same way.
//!
//! # Why leases with an epoch: fencing
//! A node that serves a document holds its **lease** ([`Store::acquire_lease`]); each
//! acquisition increases the document's **epoch**. Appends and compactions of the multi-node
//! path carry the epoch they hold, and the store refuses a stale or expired one
//! ([`StoreError::Fenced`]) inside the same transaction that would have written. A node that
//! lost its lease (a long pause, a partition) therefore cannot write afterwards, whatever it
//! believes. Expiry is judged by the store's clock (the database's, for PostgreSQL), so the
//! nodes' clocks do not matter.
//!
//! # Why compaction keeps a tail
//! [`Store::compact_leased`] writes a snapshot up to a sequence number and deletes older rows,
//! but keeps the last `tail` of them: a node a little behind catches up with
//! [`Store::read_since`] instead of reloading the whole document. One further behind gets
//! [`StoreError::Compacted`] and loads the snapshot ([`Store::load`]).
//!
//! # Why this trait is synchronous
//! SQLite is a blocking library, and the server already runs every store call on threads of
//! its own (the writer and the compactor, see `persist.rs`) and `spawn_blocking` for loads, so
//! an `async` trait would buy nothing here and would force an executor on stores. PostgreSQL
//! fits the same shape with the blocking `postgres` client. A store method must therefore never
//! be called on an async worker thread (the `postgres` client runs a small runtime of its own
//! and refuses to nest). What a store must promise is in each method's docs; rooms never see the
//! store, only the persist pipeline does.
//!
//! # What is checked
//! Every stored update carries a SHA-256 digest of its bytes, checked whenever it is read, and
//! goes through `cardsync_core`'s [screen](cardsync_core::untrusted) before anyone decodes
//! it. A damaged row therefore fails with a [`StoreError`] that names the document and row,
//! at start ([`Store::verify`]) or at load, and never loads as a silently empty or shorter
//! document.

mod audit;
pub mod bus;
mod contract;
mod doc_id;
mod error;
mod fold;
mod judged;
pub mod postgres;
mod read;
mod seq;
pub mod sqlite;
mod verify;

pub use audit::{
    Audit, AuditAuthor, AuditQuery, AuditRecord, AuditVerdict, MAX_AUDIT_PAGE, now_ms,
};
pub use bus::{Bus, NoBus, WakeUp};
pub use contract::{Append, Compaction, Entry, HeadAppend, Lease, Store, StoredDoc, VerifyReport};
pub use doc_id::{DocId, DocIdError};
pub use error::StoreError;
pub use postgres::PostgresStore;
pub use seq::SeqNo;
pub use sqlite::{SqliteStore, Synchronous};
