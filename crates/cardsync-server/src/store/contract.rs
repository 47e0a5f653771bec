//! The store contract: the [`Store`] trait and the values it speaks in.
//!
//! It lives apart from the stores so that both implementations, the persist pipeline and the
//! conformance suite (`tests/store_conformance.rs`) depend on one small file, and neither store
//! depends on the other. The [module docs](super) say why the contract has sequence numbers,
//! leases and a compaction tail; each method here says what a store must promise.

use std::time::Duration;

use super::{Audit, AuditQuery, AuditRecord, DocId, SeqNo, StoreError};

/// One update to append to a document's log (the single-node batch path, [`Store::append`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Append {
    /// The document.
    pub doc: DocId,
    /// A v1 update the room validated and applied.
    pub update: Vec<u8>,
}

/// One compare-and-append of the batched multi-node path ([`Store::append_if_heads`]).
#[derive(Clone, Debug, PartialEq)]
pub struct HeadAppend {
    /// The lease it is written under (its `doc` is the document appended to).
    pub lease: Lease,
    /// The head the update was validated against: it becomes entry `expected + 1`.
    pub expected: SeqNo,
    /// A v1 update the room validated and applied.
    pub update: Vec<u8>,
    /// The batch's audit record, written in the same transaction as the entry and numbered
    /// with its sequence number, only if the append lands (`audit.rs`).
    pub audit: Option<Box<Audit>>,
}

/// One entry of a document's log, as [`Store::read_since`] returns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Its sequence number.
    pub seq: SeqNo,
    /// The v1 update, digest-checked and screened.
    pub update: Vec<u8>,
}

/// What a store holds for one document.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoredDoc {
    /// The snapshot (if any) followed by the log entries it does not cover, oldest first: what
    /// `Room::new` replays.
    pub updates: Vec<Vec<u8>>,
    /// How many of `updates` are log entries (not the snapshot): the room schedules a
    /// compaction when this grows past the configured threshold.
    pub log_len: usize,
    /// The sequence number of the last entry included: the `n` a node validates against.
    pub head: SeqNo,
}

/// A document's lease, as its holder knows it. Appends and compactions of the multi-node
/// path carry it, and the store refuses it once another acquisition bumped the epoch or it
/// expired ([`StoreError::Fenced`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    /// The document.
    pub doc: DocId,
    /// Who holds it: a node's id, unique per process.
    pub holder: String,
    /// Increases by one at every acquisition of the document's lease, by anyone.
    pub epoch: u64,
}

/// What a compaction did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Compaction {
    /// Log entries folded into the snapshot (0: nothing to do).
    pub folded: usize,
    /// Size of the new snapshot in bytes.
    pub snapshot_bytes: usize,
    /// The sequence number the snapshot now covers (every entry up to it).
    pub upto: SeqNo,
    /// Rows deleted (those folded, minus the tail kept).
    pub deleted: usize,
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

/// A durable home for documents. See the [module docs](super).
pub trait Store: Send + Sync + 'static {
    /// Checks the whole store: the database's own integrity where it has a check, then every
    /// stored update's digest and structure. Run once at start, so that damage shows up as an
    /// error then rather than as a document that fails (or worse, loads short) hours later.
    fn verify(&self) -> Result<VerifyReport, StoreError>;

    /// Reads a document in one consistent read: its snapshot, then the log entries after it,
    /// oldest first, and the head they end at. A document never written is empty, at head 0.
    /// Every update returned has passed its digest check and the core's screen.
    fn load(&self, doc: &DocId) -> Result<StoredDoc, StoreError>;

    /// The single-node path: appends updates, possibly of several documents, in order,
    /// atomically and durably, each as its document's next sequence number. When this returns
    /// `Ok`, every one of them survives a crash (a room acks on it). On `Err`, none of them may
    /// be visible after a restart. It takes no lease: it is for a node that is the only writer.
    fn append(&self, appends: &[Append]) -> Result<(), StoreError>;

    /// The multi-node path: appends `update` as entry `expected + 1` of `lease.doc`, only if
    /// the head is still `expected` and `lease` is still current, in one transaction. Returns
    /// the new head. A moved head is [`StoreError::HeadMoved`] (carrying the current head); a
    /// stale or expired lease is [`StoreError::Fenced`]; either way nothing was written.
    /// Durable on `Ok`, like [`Store::append`].
    fn append_if_head(
        &self,
        lease: &Lease,
        expected: SeqNo,
        update: &[u8],
    ) -> Result<SeqNo, StoreError>;

    /// The multi-node path, batched for group commit: judges each of `appends` in order as
    /// [`Store::append_if_head`] would, all in **one** transaction, so that many rooms'
    /// appends share one commit (one fsync on SQLite, one round of WAL flush on PostgreSQL).
    /// A refused item ([`StoreError::HeadMoved`], [`StoreError::Fenced`]) writes nothing and
    /// does not stop the others; a later item of the same document is then refused too (as
    /// `HeadMoved`), because it was validated on top of the refused one. The outer `Err` is a
    /// failure of the whole transaction: nothing of it is visible after a restart. Durable on
    /// `Ok`. A shared store also announces each document's new head to the other nodes from
    /// inside the same transaction, so the announcement is delivered only after `COMMIT`
    /// (PostgreSQL: `pg_notify`, see `bus.rs` of the server).
    fn append_if_heads(
        &self,
        appends: &[HeadAppend],
    ) -> Result<Vec<Result<SeqNo, StoreError>>, StoreError>;

    /// The entries of `doc` after `since`, oldest first, each with its sequence number, in one
    /// consistent read, digest-checked and screened like [`Store::load`]. Empty when `since` is
    /// the head. [`StoreError::Compacted`] when entries after `since` were deleted by a
    /// compaction (load the snapshot instead); [`StoreError::AheadOfHead`] when `since` is
    /// beyond the head (the caller holds entries the store does not).
    fn read_since(&self, doc: &DocId, since: SeqNo) -> Result<Vec<Entry>, StoreError>;

    /// Takes `holder`'s lease of `doc` for `ttl`, with an epoch one above the last one ever
    /// handed out for `doc`. Leases are per document *and* holder: several nodes serve one
    /// document at once, each under its own lease, and the compare-and-append orders their
    /// writes; the lease fences one node (a node that paused past its lease, or that an
    /// operator took the document from, cannot write afterwards). With `force` set (an
    /// operator's takeover) every other holder's lease of `doc` ends at once.
    fn acquire_lease(
        &self,
        doc: &DocId,
        holder: &str,
        ttl: Duration,
        force: bool,
    ) -> Result<Lease, StoreError>;

    /// Extends `lease` to `ttl` from now, if its epoch is still current and it has not
    /// expired ([`StoreError::Fenced`] otherwise). An expired lease is never renewed: its
    /// holder may have missed entries and served stale state meanwhile, so it starts again
    /// (reloads the document under a new lease).
    fn renew_lease(&self, lease: &Lease, ttl: Duration) -> Result<(), StoreError>;

    /// Gives `lease` up at once, so another node need not wait for its expiry. Releasing a
    /// lease already superseded is not an error (there is nothing left to give up). The epoch
    /// is kept: the next acquisition continues from it.
    fn release_lease(&self, lease: &Lease) -> Result<(), StoreError>;

    /// The single-node compaction: folds a document's snapshot and whole log into one new
    /// snapshot and deletes the folded rows. Safe to run while appends to the same document
    /// continue: entries appended meanwhile stay in the log.
    fn compact(&self, doc: &DocId) -> Result<Compaction, StoreError>;

    /// The lease holder's compaction: writes a snapshot covering every entry up to `upto`
    /// and deletes the rows up to `upto - tail`, in one transaction that checks `lease`
    /// ([`StoreError::Fenced`]). Readers at `upto - tail` or later can still catch up with
    /// [`Store::read_since`]. Appends may continue meanwhile. `upto` beyond the head is
    /// [`StoreError::AheadOfHead`]; `upto` at or below what the snapshot already covers does
    /// nothing.
    fn compact_leased(
        &self,
        lease: &Lease,
        upto: SeqNo,
        tail: u64,
    ) -> Result<Compaction, StoreError>;

    /// Writes audit records that have no log entry (rejections), each under its document,
    /// in one transaction, durable on `Ok`. (An accepted batch's record rides on its append:
    /// [`HeadAppend::audit`].)
    fn append_audit(&self, records: &[(DocId, Audit)]) -> Result<(), StoreError>;

    /// Reads `doc`'s audit trail as `query` asks: oldest first (by id), only records whose
    /// summary names `query.card` when set, with `since_ms <= at_ms < until_ms`, after the
    /// cursor `query.after`, at most `query.limit` (capped at
    /// [`MAX_AUDIT_PAGE`](super::MAX_AUDIT_PAGE)).
    fn read_audit(&self, doc: &DocId, query: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError>;

    /// The audit records of `doc`'s accepted batches whose sequence numbers are above
    /// `after`, by sequence number, at most `limit` (the change feed reads them beside the
    /// log).
    fn read_accepted(
        &self,
        doc: &DocId,
        after: SeqNo,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, StoreError>;

    /// Deletes every audit record judged before `before_ms` (ms since the Unix epoch), of
    /// every document: the retention of the trail. Returns how many went.
    fn prune_audit(&self, before_ms: u64) -> Result<u64, StoreError>;

    /// Whether other nodes may append to this store's logs (PostgreSQL: yes; SQLite: one
    /// node is the only writer). Rooms on a shared store check their heads periodically.
    fn is_shared(&self) -> bool;

    /// The bus on which this store's nodes hear of each other's appends
    /// ([`NoBus`](super::NoBus) when the store is not shared).
    fn bus(&self) -> Box<dyn super::Bus>;

    /// Makes everything written so far durable in the store's main file and releases what
    /// can be released (SQLite: a WAL checkpoint; PostgreSQL: nothing, a commit is durable).
    /// Called at graceful shutdown.
    fn flush(&self) -> Result<(), StoreError>;
}
