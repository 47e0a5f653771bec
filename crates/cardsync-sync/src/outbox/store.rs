//! Where the outbox and the confirmed state live between runs.
//!
//! The session itself never does I/O: it asks its driver to persist (see `PersistOp`) and
//! waits for the driver to confirm before it sends anything, so a batch is durable before the
//! server can ack it. Drivers carry the ops out on a store: the native client on SQLite or a
//! file, the browser on IndexedDB, tests and simulations on [`MemoryStore`]. The trait is
//! synchronous because native stores are; the browser driver applies the same ops
//! asynchronously and confirms when its IndexedDB transaction completes.

use serde::{Deserialize, Serialize};

use super::Batch;
use crate::protocol::BatchId;

/// One change to persisted state, in the order the session issued it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum PersistOp {
    /// Append a new batch.
    PutBatch(Batch),
    /// Replace the last batch (it absorbed a newer transaction while offline).
    ReplaceLast(Batch),
    /// Remove acknowledged or rejected batches.
    RemoveBatches(Vec<BatchId>),
    /// Replace the whole outbox (after a rollback re-encoded the survivors).
    ReplaceAll(Vec<Batch>),
    /// Add an update to the confirmed state (acked batches, updates from the server).
    AppendConfirmed(Vec<u8>),
    /// Replace the confirmed state by one snapshot (compaction).
    CompactConfirmed(Vec<u8>),
    /// Remember client ids this replica stopped writing under: a rollback replays the
    /// survivors under a fresh id, and the server refuses anything later from the old one
    /// (`depends_on_rejected`). A restart must never draw one of them again, even from an RNG
    /// seeded as before, when nothing else in the store names it.
    RetireClients(Vec<u64>),
}

/// What an [`OutboxStore`] holds: a client's persisted sync state, as the session restores
/// it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Persisted {
    /// Updates making up the confirmed state, oldest first.
    pub confirmed: Vec<Vec<u8>>,
    /// Unacknowledged batches, oldest first.
    pub outbox: Vec<Batch>,
    /// Retired client ids ([`PersistOp::RetireClients`]), in no particular order.
    #[serde(default)]
    pub retired: Vec<u64>,
}

/// A durable home for the outbox and the confirmed state.
pub trait OutboxStore {
    /// The store's own error type.
    type Error: std::error::Error;
    /// Reads everything back (at start).
    fn load(&mut self) -> Result<Persisted, Self::Error>;
    /// Makes one change durable.
    fn persist(&mut self, op: &PersistOp) -> Result<(), Self::Error>;
}

/// An in-memory store: for tests, simulations, and peers that need no durability.
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    state: Persisted,
}

impl MemoryStore {
    /// What the store holds now.
    pub fn state(&self) -> &Persisted {
        &self.state
    }
}

impl OutboxStore for MemoryStore {
    type Error = std::convert::Infallible;

    fn load(&mut self) -> Result<Persisted, Self::Error> {
        Ok(self.state.clone())
    }

    fn persist(&mut self, op: &PersistOp) -> Result<(), Self::Error> {
        apply(&mut self.state, op);
        Ok(())
    }
}

/// Applies one op to an in-memory picture of the persisted state (shared by stores that keep
/// one, so they all agree on what each op means).
pub fn apply(state: &mut Persisted, op: &PersistOp) {
    match op {
        PersistOp::PutBatch(batch) => state.outbox.push(batch.clone()),
        PersistOp::ReplaceLast(batch) => match state.outbox.last_mut() {
            Some(last) => *last = batch.clone(),
            None => state.outbox.push(batch.clone()),
        },
        PersistOp::RemoveBatches(ids) => state.outbox.retain(|b| !ids.contains(&b.id)),
        PersistOp::ReplaceAll(batches) => state.outbox = batches.clone(),
        PersistOp::AppendConfirmed(update) => state.confirmed.push(update.clone()),
        PersistOp::CompactConfirmed(snapshot) => state.confirmed = vec![snapshot.clone()],
        PersistOp::RetireClients(ids) => {
            for id in ids {
                if !state.retired.contains(id) {
                    state.retired.push(*id);
                }
            }
        }
    }
}
